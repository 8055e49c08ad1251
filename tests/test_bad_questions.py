"""Bad questions, through the Answerer over the seed index and through ``qa ask``: a clear answer or a clear
message every time, never a traceback."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest

import index.builder
from index.builder import CorpusIndex
from index.embedding import MiniLMEmbedder
from index.errors import InvalidQuestionError
from qa.answering import CLOSEST_TEXT, NO_TERMS_TEXT, REFUSAL_TEXT, Answerer
from qa.cli import main
from qa.service import build_answerer
from qa.types import Answer

Ask = Callable[..., tuple[int, str, str]]

LONG = "Who signed the defence declaration? " * 2800  # about 100,000 characters

INVALID = {
    "empty": ("", "empty"),
    "whitespace": ("   \n\t  \r\n ", "empty"),
    "only NUL bytes": ("\x00\x00\x00", "empty"),
    "100,000 characters": (LONG[:100_000], "100,000 characters"),
    "a lone UTF-16 surrogate": ("\ud800 What did Croatia say about military blocs?", r"U\+D800"),
    "a byte that is not UTF-8 (as argv decodes it)": ("Caf\udce9 near the ministry?", r"character 4 is U\+DCE9"),
}

ANSWERABLE = {
    "plain": "Which countries signed the joint defence declaration?",
    "NUL bytes inside": "Which countries signed the joint\x00 defence declaration?\x00",
    "trailing whitespace and newlines": "\n\n   Which countries signed the joint defence declaration?   \n",
}

# Noise words count as query terms, so these may be refused (see docs/RELIABILITY.md); either way the
# reply must be a clean answer or the refusal message.
NOISY = {
    "markup": "<script>alert('x')</script><b>Which countries</b> signed the <i>joint defence</i> declaration",
    "sql-ish": "'; DROP TABLE chunks; -- which countries signed the joint defence declaration?",
}

ODD = {
    "only punctuation": "?!... ,;: --- ??? !!!",
    "only markup": "<div><br/></div>",
    "emoji": "🤔🤔🤔 ❓",
    "Serbian": "Ко је потписао декларацију о одбрани?",
    "Chinese": "谁签署了国防宣言？",
    "Croatian": "Tko je potpisao zajedničku deklaraciju o obrani?",
    "gibberish": "zxqv plorkt wuggle frimble snarf",
}


@pytest.fixture(scope="module")
def answerer(seed_index: CorpusIndex) -> Answerer:
    return build_answerer(seed_index.settings, index=seed_index)


def assert_well_formed(answer: Answer, seed_index: CorpusIndex) -> None:
    """A refusal with its message, or an answer whose every citation is an exact quote of its document."""
    assert isinstance(answer, Answer) and answer.text.strip()
    assert "Traceback" not in answer.text and "\x00" not in answer.text
    if answer.refused:
        assert not answer.citations
        if answer.closest:  # no dead end: the closest sentences, each an exact quote of its document
            assert answer.text.startswith(CLOSEST_TEXT)
            for c in answer.closest:
                assert (seed_index.document_text(c.source) or "")[c.start : c.end] == c.quote
        else:
            assert answer.text in (REFUSAL_TEXT, NO_TERMS_TEXT)
        return
    assert answer.citations
    for citation in answer.citations:
        text = seed_index.document_text(citation.source)
        assert text is not None and text[citation.start : citation.end] == citation.quote
        assert f"[{citation.n}]" in answer.text


@pytest.mark.parametrize("name", list(INVALID))
def test_invalid_questions_raise_a_clear_error(answerer: Answerer, name: str) -> None:
    question, message = INVALID[name]
    with pytest.raises(InvalidQuestionError, match=message) as raised:
        answerer.answer(question)
    assert str(raised.value).endswith(".") and "\n" not in str(raised.value)
    with pytest.raises(InvalidQuestionError):
        list(answerer.stream(question))


def test_a_question_at_the_limit_is_answered(answerer: Answerer, seed_index: CorpusIndex) -> None:
    question = LONG[: answerer.settings.max_question_chars]
    assert_well_formed(answerer.answer(question), seed_index)


@pytest.mark.parametrize("name", list(ANSWERABLE))
def test_noisy_but_real_questions_are_answered_with_citations(
    answerer: Answerer, seed_index: CorpusIndex, name: str
) -> None:
    answer = answerer.answer(ANSWERABLE[name])
    assert_well_formed(answer, seed_index)
    assert not answer.refused, answer.signals
    assert any("Croatia" in c.quote or "Kosovo" in c.quote for c in answer.citations)


@pytest.mark.parametrize("name", list(NOISY))
def test_questions_with_markup_or_code_are_handled(answerer: Answerer, seed_index: CorpusIndex, name: str) -> None:
    answer = answerer.answer(NOISY[name])
    assert_well_formed(answer, seed_index)
    assert "<script>" not in answer.text and "DROP TABLE" not in answer.text


@pytest.mark.parametrize("name", list(ODD))
def test_odd_questions_get_a_clear_answer_or_refusal(answerer: Answerer, seed_index: CorpusIndex, name: str) -> None:
    answer = answerer.answer(ODD[name])
    assert_well_formed(answer, seed_index)
    if name in ("only punctuation", "emoji", "only markup"):
        assert answer.refused and answer.text in (NO_TERMS_TEXT, REFUSAL_TEXT)
    if name == "gibberish":
        assert answer.refused and answer.text == REFUSAL_TEXT


def test_bad_history_turns_do_not_break_answering(answerer: Answerer, seed_index: CorpusIndex) -> None:
    history = ["", "\x00", LONG, "<script>x</script>", "谁"]
    assert_well_formed(answerer.answer("Which countries signed the defence declaration?", history), seed_index)


# -- through the CLI ----------------------------------------------------------------------------------------


@pytest.fixture
def ask(
    seed_index: CorpusIndex,
    embedder: MiniLMEmbedder,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Ask:
    monkeypatch.setattr(index.builder, "MiniLMEmbedder", lambda *args, **kwargs: embedder)
    monkeypatch.setenv("QA_DATA_DIR", str(seed_index.settings.data_dir))
    monkeypatch.setenv("QA_CORPUS_DIR", str(seed_index.settings.corpus_dir))

    def run(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(["ask", *argv])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


@pytest.mark.parametrize("name", list(INVALID))
def test_cli_invalid_questions_exit_non_zero_with_one_line(ask: Ask, name: str) -> None:
    code, out, err = ask(INVALID[name][0])
    assert code == 1
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("qa: ") and re.search(INVALID[name][1], err)
    assert "Traceback" not in err


@pytest.mark.parametrize("name", list(ODD))
def test_cli_odd_questions_print_an_answer_or_a_refusal(ask: Ask, name: str) -> None:
    code, out, err = ask(ODD[name], "--json")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["answer"] and isinstance(payload["refused"], bool)
    assert "Traceback" not in err


def test_cli_nul_question_is_answered_and_markup_is_not_echoed(ask: Ask) -> None:
    code, out, err = ask(ANSWERABLE["NUL bytes inside"])
    assert code == 0, err
    assert "[1]" in out and "\x00" not in out
    code, out, err = ask(NOISY["markup"])
    assert code == 0, err
    assert out.strip() and "<script>" not in out and "Traceback" not in err
