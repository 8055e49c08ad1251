"""``qa eval``: the scorer on hand-made results, the dataset readers, and a regression run on the seed set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from loading import load_script

from qa.cli import main
from qa.evaluation.command import format_table
from qa.evaluation.dataset import DatasetError, Evidence, Example, load_dataset
from qa.evaluation.metrics import (
    CitedQuote,
    DocumentTexts,
    QuestionResult,
    RetrievedPassage,
    contains_quote,
    percentile,
    quote_is_verbatim,
    ratios,
    score,
)

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "eval_data" / "seed_dev.jsonl"
SQUAD = ROOT / "eval_data" / "external" / "squad2_dev_subset" / "rag_dataset.json"
COVID = ROOT / "eval_data" / "external" / "covidqa_deepset_subset" / "rag_dataset.json"

# Floors for the seed set, just under what the project reached on 2026-11-23 (13 answerable questions: one
# question is 0.077). The lead raises them as answering improves. false_refusal_rate is a ceiling.
FLOORS = {
    "hit_at_k": 0.99,  # measured 1.000
    "mrr": 0.95,  # measured 0.962
    "first_citation": 0.99,  # measured 1.000 (13/13)
    "answer_contains": 0.99,  # measured 1.000 (13/13)
    "refusal_accuracy": 0.99,  # measured 1.000 (2 unanswerable questions)
    "citation_verbatim": 0.999,  # measured 1.000; anything less is a bug, not a tuning matter
    "false_refusal_rate": 0.01,  # ceiling; measured 0.000
}
# The plain llama-index pipeline on the seed set (eval_data/PROVENANCE.md): 9/13, 0.62, 7/13. Its reader embeds
# each file's absolute path with the text (llama-index's default), so its figures move a little with where the
# checkout lives (0.69-0.77 hit@5 seen): the test holds it to a band and ours above it, not to the digits.
PLAIN_REFERENCE = {"hit_at_k": 0.69, "mrr": 0.62, "first_citation": 0.54}
PLAIN_TOLERANCE = 0.12


# -- the scorer on hand-made results ------------------------------------------------------------------------
DOC1 = "The quick  brown fox jumps over the lazy dog."
DOC2 = "Lorem ipsum dolor sit amet."
DOCUMENTS = {"doc1.txt": DocumentTexts(DOC1, DOC1), "doc2.txt": DocumentTexts(DOC2, DOC2)}
EXAMPLES = [
    Example("a1", "q1", (), (Evidence("doc1.txt", "the quick brown fox"),), (("fox",), ("dog", "cat")), True),
    Example("a2", "q2", (), (Evidence("doc2.txt", "lorem ipsum dolor"),), (("ipsum",),), True),
    Example("u1", "q3", (), (), (), False),
    Example("a3", "q4", (), (Evidence("doc1.txt", "jumps over"),), (("lazy",),), True),
]


def _result(
    id: str,
    answer: str,
    refused: bool,
    retrieved: list[tuple[str, str]],
    citations: list[CitedQuote],
    latency: float,
) -> QuestionResult:
    return QuestionResult(
        id=id,
        question=id,
        answer=answer,
        refused=refused,
        citations=tuple(citations),
        retrieved=tuple(RetrievedPassage(s, t) for s, t in retrieved),
        latency_ms=latency,
    )


RESULTS = [
    # a hit at rank 2 (case and whitespace folded), a verbatim first citation that contains the evidence
    _result(
        "a1",
        "A fox and a dog.",
        False,
        [("doc2.txt", "Lorem ipsum"), ("doc1.txt", "The Quick\nbrown fox jumps")],
        [CitedQuote("doc1.txt", "The quick  brown fox jumps over", 0, 31)],
        100.0,
    ),
    # a miss: the right text from the wrong document; a quote that is not verbatim ("sat" for "sit")
    _result(
        "a2",
        "Lorem.",
        False,
        [("doc1.txt", "lorem ipsum dolor")],
        [CitedQuote("doc2.txt", "ipsum dolor sat", 6, 21)],
        200.0,
    ),
    # a correct refusal
    _result("u1", "The documents don't say.", True, [], [], 300.0),
    # a false refusal, although the first passage hits
    _result("a3", "The documents don't say.", True, [("doc1.txt", "jumps over the lazy dog")], [], 400.0),
]


def test_score_on_hand_made_results() -> None:
    m = score(EXAMPLES, RESULTS, DOCUMENTS, k=5, indexing_seconds=1.5)
    assert (m.questions, m.answerable, m.unanswerable, m.citations) == (4, 3, 1, 2)
    assert m.hit_at_k == pytest.approx(2 / 3)
    assert m.mrr == pytest.approx((1 / 2 + 0 + 1) / 3)
    assert m.first_citation == pytest.approx(1 / 3)
    assert m.answer_contains == pytest.approx(1 / 3)
    assert m.refusal_accuracy == 1.0
    assert m.false_refusal_rate == pytest.approx(1 / 3)
    assert m.citation_verbatim == 0.5
    assert m.mean_quote_chars == 23.0
    assert m.latency_p50_ms == 250.0
    assert m.latency_p95_ms == pytest.approx(385.0)
    assert m.indexing_seconds == 1.5


def test_score_respects_k() -> None:
    m = score(EXAMPLES, RESULTS, DOCUMENTS, k=1)
    assert m.hit_at_k == pytest.approx(1 / 3)  # a1's hit was at rank 2
    assert m.mrr == pytest.approx(1 / 3)


def test_score_rejects_unknown_ids_and_bad_k() -> None:
    with pytest.raises(ValueError, match="unknown example ids"):
        score(EXAMPLES[:1], RESULTS, DOCUMENTS, k=5)
    with pytest.raises(ValueError, match="k must be > 0"):
        score(EXAMPLES, RESULTS, DOCUMENTS, k=0)


def test_score_with_nothing_to_measure_gives_none() -> None:
    m = score([EXAMPLES[2]], [RESULTS[2]], DOCUMENTS, k=5)
    assert m.hit_at_k is None and m.mrr is None and m.first_citation is None and m.citation_verbatim is None
    assert m.refusal_accuracy == 1.0


def test_quote_must_match_offsets_and_the_file() -> None:
    good = CitedQuote("doc2.txt", "ipsum dolor", 6, 17)
    assert quote_is_verbatim(good, DOCUMENTS)
    off_by_one = CitedQuote("doc2.txt", "ipsum dolor", 5, 16)
    assert not quote_is_verbatim(off_by_one, DOCUMENTS)
    assert not quote_is_verbatim(CitedQuote("other.txt", "ipsum dolor", 6, 17), DOCUMENTS)
    # the index text agrees but the file does not: the index holds something the file never said
    assert not quote_is_verbatim(good, {"doc2.txt": DocumentTexts(DOC2, "Lorem IPSUM dolor sit amet.")})


def test_partial_overlap_rule() -> None:
    quote = "Ensuring compliance with treaties such as the Arms Trade Treaty (ATT)"
    cut = "... and so on. Ensuring compliance with treaties such as the Arms Trade"  # 56 of 69 chars
    assert not contains_quote(cut, quote)
    assert contains_quote(cut, quote, partial_overlap=True)
    assert not contains_quote("compliance with treaties", quote, partial_overlap=True)  # 24 chars: too short
    assert not contains_quote("Ensuring compliance with treaties such", quote, partial_overlap=True)  # < 60%


def test_percentile_and_ratios() -> None:
    assert percentile([], 50) is None
    assert percentile([5.0], 95) == 5.0
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 50) == 3.0
    assert percentile([10.0, 20.0], 95) == pytest.approx(19.5)
    ours = score(EXAMPLES, RESULTS, DOCUMENTS, k=5)
    plain = score(EXAMPLES, RESULTS, DOCUMENTS, k=1)
    r = ratios(ours, plain)
    assert r["hit_at_k"] == pytest.approx(2.0)
    assert r["citation_verbatim"] == pytest.approx(1.0)
    zero = score([EXAMPLES[1]], [RESULTS[1]], DOCUMENTS, k=5)
    assert ratios(ours, zero)["hit_at_k"] is None  # plain scored 0: no ratio


def test_table_shows_both_systems() -> None:
    ours = score(EXAMPLES, RESULTS, DOCUMENTS, k=5)
    lines = format_table(ours, ours, ratios(ours, ours))
    assert lines[0].split() == ["metric", "ours", "plain", "ours/plain"]
    hit = next(line for line in lines if line.startswith("hit@5"))
    assert hit.split()[1:] == ["0.667", "0.667", "1.00"]


# -- datasets --------------------------------------------------------------------------------------------
def test_seed_dataset() -> None:
    ds = load_dataset(SEED)
    assert ds.format == "seed" and ds.default_corpus is None and ds.partial_overlap
    assert len(ds.examples) == 15
    assert sum(not e.answerable for e in ds.examples) == 2
    follow_up = next(e for e in ds.examples if e.id == "dev-15")
    assert follow_up.history == ("What did Croatia say about the initiative?",)
    assert follow_up.expected == (("opposition", "bloc"),)
    three = next(e for e in ds.examples if e.id == "dev-03")
    assert three.expected == (("Albania",), ("Kosovo",), ("Croatia",))


def test_squad_dataset_includes_unanswerable_questions() -> None:
    ds = load_dataset(SQUAD)
    assert ds.format == "rag" and not ds.partial_overlap
    assert ds.default_corpus == SQUAD.parent / "source_files"
    assert len(ds.examples) == 288 + 32
    impossible = [e for e in ds.examples if not e.answerable]
    assert len(impossible) == 32 and all(not e.evidence and not e.expected for e in impossible)
    first = ds.examples[0]
    assert first.evidence == (Evidence("Normans.txt", "Anglo-Saxon"),)
    assert first.expected == (("Anglo-Saxon",),)


def test_covid_dataset_uses_the_reference_answer() -> None:
    ds = load_dataset(COVID)
    assert len(ds.examples) == 254 and all(e.answerable for e in ds.examples)
    first = ds.examples[0]
    assert first.evidence == (Evidence("covidqa_doc_185.txt", "people 85 years and older"),)


def test_bad_datasets_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="does not exist"):
        load_dataset(tmp_path / "missing.jsonl")
    (tmp_path / "x.json").write_text('{"items": []}')
    with pytest.raises(DatasetError, match="no 'examples' list"):
        load_dataset(tmp_path / "x.json")
    (tmp_path / "y.jsonl").write_text('{"question": "a?"}\nnot json\n')
    with pytest.raises(DatasetError, match="line 2"):
        load_dataset(tmp_path / "y.jsonl")


def test_cli_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "--dataset", str(tmp_path / "nope.jsonl")]) == 1
    assert "does not exist" in capsys.readouterr().err
    code = main(["eval", "--dataset", str(SEED), "--corpus", str(tmp_path / "no-corpus")])
    assert code == 2
    assert "no-corpus" in capsys.readouterr().err
    rag = tmp_path / "set" / "rag_dataset.json"  # no source_files/ beside it and no --corpus
    rag.parent.mkdir()
    example = {"query": "q?", "reference_answer": "a", "source_file": "a.txt"}
    rag.write_text(json.dumps({"examples": [example]}))
    assert main(["eval", "--dataset", str(rag)]) == 2
    assert "source_files" in capsys.readouterr().err


# -- regression: the real pipeline on the seed set ---------------------------------------------------------
def test_seed_regression(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """``qa eval --baseline --json --out`` on the seed set, in-process with the real model and Chroma."""
    user_data = tmp_path / "user-data"
    monkeypatch.setenv("QA_DATA_DIR", str(user_data))
    out = tmp_path / "results.jsonl"
    corpus = str(ROOT / "corpus")
    args = ["eval", "--dataset", str(SEED), "--corpus", corpus, "--json", "--baseline", "--out", str(out)]
    code = main(args)
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert not user_data.exists()  # evaluated in a throw-away folder; the user's index is never touched

    metrics = report["metrics"]
    assert metrics["questions"] == 15 and metrics["k"] == 5
    for name, floor in FLOORS.items():
        if name == "false_refusal_rate":
            assert metrics[name] <= floor, f"{name} {metrics[name]} above ceiling {floor}"
        else:
            assert metrics[name] >= floor, f"{name} {metrics[name]} below floor {floor}"
    assert metrics["indexing_seconds"] > 0 and metrics["latency_p95_ms"] >= metrics["latency_p50_ms"] > 0
    assert 0 < metrics["mean_quote_chars"] < 400  # quotes are sentences, not chunks

    plain = report["baseline"]["metrics"]
    for name, reference in PLAIN_REFERENCE.items():  # the starter pipeline is close to the published figures
        assert plain[name] == pytest.approx(reference, abs=PLAIN_TOLERANCE), name
        assert metrics[name] > plain[name], name
    assert plain["refusal_accuracy"] == 0.0  # the starter pipeline never refuses
    assert plain["mean_quote_chars"] > 5 * metrics["mean_quote_chars"]  # it cites whole chunks
    assert report["ratios"]["hit_at_k"] == pytest.approx(metrics["hit_at_k"] / plain["hit_at_k"], abs=1e-3)

    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [row["id"] for row in lines] == [f"dev-{i:02d}" for i in range(1, 16)]
    for row in lines:
        expected = {"id", "question", "answer", "refused", "citations", "retrieved", "latency_ms"}
        assert set(row) == (expected | {"closest"} if row["refused"] and "closest" in row else expected)
        for citation in row.get("closest", []):  # a refusal's closest sentences, shaped like citations
            assert set(citation) == {"n", "source", "title", "quote", "passage", "start", "end"}
        assert len(row["retrieved"]) <= 5
        for citation in row["citations"]:
            assert set(citation) == {"n", "source", "title", "quote", "passage", "start", "end"}


# -- the team's own held-out questions (dev_data/): kinds people type, never tuned on ----------------------
def test_own_question_sets_are_what_their_script_writes_and_every_quote_is_verbatim(tmp_path: Path) -> None:
    """``dev_data/questions.py`` checks each evidence quote against its article (a non-zero exit otherwise) and
    writes the own sets; the committed files must be exactly what it writes."""
    module = load_script("dev_data/questions.py", "own_questions")
    assert module.main(ROOT / "corpus", tmp_path) == 0
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == ["seed_own_dev.jsonl", "seed_own_dev2.jsonl", "seed_own_holdout.jsonl", "seed_own_holdout2.jsonl"]
    for name in written:
        assert (tmp_path / name).read_text(encoding="utf-8") == (ROOT / "dev_data" / name).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("name", "size"),
    [
        ("seed_own_holdout3.jsonl", 40),
        ("seed_own_holdout4.jsonl", 40),
        ("seed_own_holdout5.jsonl", 40),
        ("seed_own_holdout6.jsonl", 40),
        ("seed_own_holdout7.jsonl", 40),
        ("seed_own_holdout8.jsonl", 40),
        ("seed_own_holdout9.jsonl", 40),
        ("seed_own_holdout10.jsonl", 40),
        ("seed_own_holdout11.jsonl", 40),
        ("seed_own_dev3.jsonl", 50),
        ("seed_own_dev4.jsonl", 50),
        ("seed_own_dev5.jsonl", 50),
        ("seed_own_dev6.jsonl", 50),
        ("seed_own_dev7.jsonl", 50),
        ("seed_own_dev8.jsonl", 50),
        ("seed_own_dev9.jsonl", 50),
        ("seed_own_dev10.jsonl", 50),
        ("seed_own_dev11.jsonl", 40),
        ("seed_own_dev12.jsonl", 50),
    ],
)
def test_the_sets_written_as_jsonl_quote_their_articles_verbatim(name: str, size: int) -> None:
    """``seed_own_holdout3.jsonl`` to ``seed_own_holdout11.jsonl`` and ``seed_own_dev3.jsonl`` to
    ``seed_own_dev12.jsonl`` were written as JSONL by helpers that read only the articles (not through
    ``dev_data/questions.py``): each evidence quote is a span of its article, and answerable means evidence."""
    texts = {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "corpus").iterdir() if p.is_file()}
    rows = [json.loads(line) for line in (ROOT / "dev_data" / name).read_text(encoding="utf-8").splitlines()]
    assert len(rows) == len({r["id"] for r in rows}) == size
    for row in rows:
        assert row["answerable"] == bool(row["evidence"]), row["id"]
        for evidence in row["evidence"]:
            assert evidence["quote"] in texts[evidence["source"]], (row["id"], evidence["quote"])


OWN_HOLDOUT = ROOT / "dev_data" / "seed_own_holdout.jsonl"
# Just under the figures measured on 2026-12-02 (first citation 0.35, unanswerables refused 0.80 since quantity and
# time questions want a figure or a time in the answer, 0.50 before; 20 answerable and 10 unanswerable questions,
# one question moves an answerable figure by 0.05, an unanswerable one by 0.10). Far from where answering should be
# (issue 15's targets: first citation 0.80, false refusals 0.10): a floor against losing ground, not a claim of
# quality.
OWN_FLOORS = {"hit_at_k": 0.95, "first_citation": 0.30, "citation_verbatim": 0.999, "refusal_accuracy": 0.65}
OWN_FALSE_REFUSAL_CEILING = 0.35  # measured 0.30, 0.25 since the typing fixes (2026-12-02, fourth session)


def test_own_holdout_regression_by_kind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("QA_DATA_DIR", str(tmp_path / "user-data"))
    args = ["eval", "--dataset", str(OWN_HOLDOUT), "--corpus", str(ROOT / "corpus"), "--json"]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    metrics = report["metrics"]
    for name, floor in OWN_FLOORS.items():
        assert metrics[name] >= floor, f"{name} {metrics[name]} below floor {floor}"
    assert metrics["false_refusal_rate"] <= OWN_FALSE_REFUSAL_CEILING
    kinds = report["by_kind"]
    assert {"paraphrase", "typo", "near_miss", "off_topic", "long", "cross", "follow_up"} <= set(kinds)
    assert sum(m["questions"] for m in kinds.values()) == metrics["questions"] == 30
    assert kinds["off_topic"]["refusal_accuracy"] == 1.0  # nothing about the articles: always refused
