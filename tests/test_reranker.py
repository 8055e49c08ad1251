"""The hook through which a second reader of the best candidates is blended into the choice (``qa.reranker``)."""

from __future__ import annotations

import pytest

from index.builder import CorpusIndex
from qa.answering import Answerer, RefusalPolicy
from qa.extractive import ScoredSentence, Sentence
from qa.reranker import blend


def test_blend_standardises_both_scores() -> None:
    assert blend([1.0, 0.0], [0.0, 10.0], 0.5) == pytest.approx([0.0, 0.0])
    assert blend([1.0, 0.0], [0.0, 10.0], 0.7)[1] > blend([1.0, 0.0], [0.0, 10.0], 0.7)[0]
    assert blend([2.0, 2.0], [1.0, 3.0], 1.0) == pytest.approx([-1.0, 1.0])  # equal values: no division by zero


class Backwards:
    """A stand-in model that prefers the hand-set score's last candidate, and records what it was asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def score(self, question: str, sentences: list[str]) -> list[float]:
        self.asked.append(question)
        return [float(i) for i in range(len(sentences))]


def _scored(texts: list[str]) -> list[ScoredSentence]:
    return [
        ScoredSentence(Sentence("a.txt", 10 * i, 10 * i + len(t), t, 0), 1.0 - 0.1 * i, 0.5, 0.5)
        for i, t in enumerate(texts)
    ]


def test_the_reranker_reorders_the_best_candidates_but_not_their_scores(seed_index: CorpusIndex) -> None:
    model = Backwards()
    answerer = Answerer(seed_index.settings, seed_index, reranker=model)
    assert answerer.refusal == RefusalPolicy()  # one policy, with a reader or without
    from qa.condense import condense

    scored = _scored(["first sentence", "second sentence", "third sentence", "fourth sentence", "fifth sentence"])
    asked = condense("Will the arms maker bring employment?", ())
    out = answerer._rerank(asked, scored, asked.text)
    assert [s.sentence.text for s in out[:4]] == [
        "fourth sentence",
        "third sentence",
        "second sentence",
        "first sentence",
    ]
    assert [s.score for s in out] == [s.score for s in scored]  # the scores stay where they were
    assert out[4] == scored[4] and model.asked == [asked.text]
    # A question asking for a figure, a time or a place is left to the hand-set answer-type features.
    for question in ("How many jobs will it create?", "When was the pact signed?", "Where was the summit held?"):
        standalone = condense(question, ())
        assert answerer._rerank(standalone, scored, question) == scored
    assert len(model.asked) == 1
    # Who spoke outranks what the model reads: Croatia's own statement stays above another party's.
    croatia = "The Croatian Ministry of Defense has stated that it does not constitute a military alliance."
    serbia = "The Serbian government has expressed opposition, viewing it as a new military bloc."
    standalone = condense("what did croatia say about military blocs", ())
    out = answerer._rerank(standalone, _scored([croatia, serbia]), standalone.text)
    assert out[0].sentence.text == croatia
