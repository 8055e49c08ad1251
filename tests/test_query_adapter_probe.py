"""The query-adapter probe (scripts/query_adapter_probe.py, docs/TUNING.md ninth session) on a tiny slice, so that the
measurement it reports can be re-run: answers are mapped to their sentences, and training fits the training set."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

from loading import load_script

ROOT = Path(__file__).resolve().parent.parent


def _probe() -> ModuleType:
    return load_script("scripts/query_adapter_probe.py", "query_adapter_probe")


def _squad(articles: dict[str, list[tuple[str, list[tuple[str, str]]]]]) -> dict:
    """SQuAD's format: each paragraph's questions with the answer's text and start."""
    data = []
    for title, paragraphs in articles.items():
        data.append(
            {
                "title": title,
                "paragraphs": [
                    {
                        "context": context,
                        "qas": [
                            {"question": q, "answers": [{"text": a, "answer_start": context.index(a)}]} for q, a in qas
                        ]
                        + [{"question": "What is unanswerable here?", "answers": [], "is_impossible": True}],
                    }
                    for context, qas in paragraphs
                ],
            }
        )
    return {"version": "v2.0", "data": data}


SLICE = {
    "Rivers": [
        (
            "The Danube flows through ten countries. It rises in the Black Forest. Vienna lies on its banks.",
            [("How many countries does the Danube cross?", "ten"), ("Where does the Danube rise?", "Black Forest")],
        ),
        (
            "The Rhine ends in the North Sea. Barges carry coal on it. Basel is a port on the Rhine.",
            [("Where does the Rhine end?", "North Sea"), ("What do barges carry on the Rhine?", "coal")],
        ),
    ],
    "Mountains": [
        (
            "Mont Blanc is the highest peak of the Alps. It was first climbed in 1786.",
            [("When was Mont Blanc first climbed?", "1786")],
        ),
    ],
}


def test_answers_are_mapped_to_the_sentence_that_holds_them() -> None:
    sentences, s_article, s_paragraph, questions, q_article, q_paragraph, q_answer = _probe().examples(_squad(SLICE))
    assert len(questions) == 5  # the unanswerable ones are left out
    for question, answer, article, paragraph in zip(questions, q_answer, q_article, q_paragraph, strict=True):
        expected = {"How many countries does the Danube cross?": "ten", "Where does the Rhine end?": "North Sea"}
        if question in expected:
            assert expected[question] in sentences[answer]
        assert s_article[answer] == article and s_paragraph[answer] == paragraph


def test_the_probe_trains_on_some_articles_and_measures_on_the_others(tmp_path: Path) -> None:
    path = tmp_path / "train.json"
    path.write_text(json.dumps(_squad(SLICE)))
    results = _probe().main([str(path), "--held", "1", "--epochs", "40", "--l2", "0"])
    assert set(results) == {"train", "held-out"}
    for measures in results.values():
        assert all(0.0 <= v <= 1.0 for v in measures.values())
    # Fitting four training questions without a penalty ranks their answers at least as well as the bare model.
    assert results["train"]["adapted MRR"] >= results["train"]["base MRR"]
    assert results["train"]["adapted top-1 in article"] == 1.0
