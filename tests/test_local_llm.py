"""Generative mode against a real model: the bundled SmolLM2-135M behind llama.cpp's OpenAI-compatible server,
started as a child process on a free loopback port (the local-llm extra, installed by `make llm-deps`).

What a small model writes cannot be scripted, so these tests check what must hold whatever it writes: every
shown citation is a verbatim sentence of a passage it was given, a sentence without one is marked unsupported,
a reply with no usable sentence gives the extractive answer with a note, and so does a server killed mid-answer.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_ui_server import QA

from index.builder import CorpusIndex
from index.settings import Settings
from qa.answering import found_related_passages
from qa.generative import NOTHING_SUPPORTED, SHOWING_EXTRACTIVE, Claim, LLMGenerator, Support
from qa.local_llm import MODEL_ALIAS, LocalLLMServer, server_available
from qa.service import build_answerer
from qa.types import Answer, Passage, Restart

pytestmark = [pytest.mark.llm, pytest.mark.server]

# Seed development questions, one the articles answer and one they don't (all of them: `python -m bench.generative`).
SEED_QUESTIONS = [
    "Which firm did Albania authorize to produce weapons and ammunition?",
    "How many tanks will KAYO build each year?",
]
TIMEOUT = 120.0  # seconds per wait: the machine's cores are shared, and a first answer reads the whole prompt


def require_local_llm() -> None:
    """Skip loudly when the extra is missing locally; under CI it must be there (`make test` installs it)."""
    if server_available():
        return
    message = "the local-llm extra (llama.cpp's server, the bundled model) is not installed: run `make llm-deps`"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    print(f"\n*** SKIPPING REAL-MODEL TESTS: {message} ***", file=sys.stderr)
    pytest.skip(message)


@pytest.fixture(scope="module")
def llm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalLLMServer]:
    require_local_llm()
    server = LocalLLMServer(log=tmp_path_factory.mktemp("llm") / "llama-server.log")
    server.start()
    yield server
    server.stop()


def llm_settings(index: CorpusIndex, base_url: str) -> Settings:
    return index.settings.model_copy(
        update={"llm_base_url": base_url, "llm_model": MODEL_ALIAS, "llm_timeout": TIMEOUT}
    )


def ask_json(index: CorpusIndex, base_url: str, question: str) -> dict[str, Any]:
    """``qa ask --json`` in its own process, configured through the environment as a user would."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update(
        QA_DATA_DIR=str(index.settings.data_dir),
        QA_CORPUS_DIR=str(index.settings.corpus_dir),
        QA_LLM_BASE_URL=base_url,
        QA_LLM_MODEL=MODEL_ALIAS,
        QA_LLM_TIMEOUT=str(TIMEOUT),
    )
    done = subprocess.run(
        [str(QA), "ask", question, "--json"], env=env, capture_output=True, text=True, timeout=6 * TIMEOUT
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    payload: dict[str, Any] = json.loads(done.stdout)
    return payload


def check_guarantees(index: CorpusIndex, payload: dict[str, Any], extractive: Answer) -> None:
    """What holds whatever the model wrote."""
    citations = payload["citations"]
    given = payload["retrieved"]  # in generative mode: the passages the model was given
    assert [c["n"] for c in citations] == list(range(1, len(citations) + 1))
    for c in citations:
        text = index.document_text(c["source"])
        assert text is not None and text[c["start"] : c["end"]] == c["quote"]  # verbatim, at its offsets
        assert c["quote"] in c["passage"]
        assert any(p["source"] == c["source"] and c["quote"] in p["text"] for p in given), c["quote"]
    if payload.get("mode") == "generative":
        if payload["refused"]:  # the model said the passages don't answer
            assert citations == []
            return
        sentences = payload["sentences"]
        assert sentences and any(s["supported"] for s in sentences)  # otherwise it falls back
        for s in sentences:
            assert s["supported"] == bool(s["citations"])
            assert not s["attributed"] or s["supported"]
        used = sorted({n for s in sentences for n in s["citations"]})
        assert used == [c["n"] for c in citations]
        unsupported = sum(not s["supported"] for s in sentences)
        if unsupported:
            assert f"{unsupported} of {len(sentences)} sentences" in payload["notice"]
        return
    # The extractive answer: the model's reply had no usable sentence (or it failed), and a note says so.
    assert payload["answer"] == extractive.text and payload["refused"] == extractive.refused
    assert payload["notice"].endswith(SHOWING_EXTRACTIVE)


def test_seed_questions_through_qa_ask_json_keep_every_guarantee(seed_index: CorpusIndex, llm: LocalLLMServer) -> None:
    extractive_answerer = build_answerer(seed_index.settings, index=seed_index)
    for question in SEED_QUESTIONS:
        extractive = extractive_answerer.answer(question)
        assert found_related_passages(extractive), f"the model should be asked about {question!r}"
        payload = ask_json(seed_index, llm.base_url, question)
        check_guarantees(seed_index, payload, extractive)
        print(f"\n{question}\n  -> {payload.get('mode', 'extractive')}: {payload['answer']}", file=sys.stderr)


class Rejecting(LLMGenerator):
    """The real model, with a verification that finds no sentence of its reply supported."""

    def supports(self, claim: Claim, support: Support, passage: Passage) -> bool:
        return False


def test_reply_with_no_usable_sentence_gives_the_extractive_answer(
    seed_index: CorpusIndex, llm: LocalLLMServer
) -> None:
    question = SEED_QUESTIONS[0]
    settings = llm_settings(seed_index, llm.base_url)
    answerer = build_answerer(settings, index=seed_index)
    answerer.generator = Rejecting(settings, seed_index)
    extractive = build_answerer(seed_index.settings, index=seed_index).answer(question)

    events = list(answerer.stream(question))
    answer = events[-1]

    assert isinstance(answer, Answer)
    restarts = [i for i, e in enumerate(events) if isinstance(e, Restart)]
    assert len(restarts) == 1 and answer.attempts == 2, "nothing of the first reply is supported: it is asked again"
    for attempt in (events[: restarts[0]], events[restarts[0] + 1 : -1]):
        assert "".join(e for e in attempt if isinstance(e, str)).strip(), "the model's text should have streamed"
    assert answer.mode == "extractive" and answer.text == extractive.text
    assert answer.citations == extractive.citations
    assert answer.notice == f"{NOTHING_SUPPORTED}, also when asked again{SHOWING_EXTRACTIVE}"


def test_server_killed_mid_answer_gives_the_extractive_answer_with_a_note(
    seed_index: CorpusIndex, tmp_path: Path
) -> None:
    require_local_llm()
    question = "What do experts say military alliances do for Kosovo?"
    extractive = build_answerer(seed_index.settings, index=seed_index).answer(question)
    with LocalLLMServer(log=tmp_path / "killed.log") as doomed:
        answerer = build_answerer(llm_settings(seed_index, doomed.base_url), index=seed_index)
        stream = answerer.stream(question)
        deltas: list[str] = []
        for event in stream:
            assert isinstance(event, str), "the answer ended before the server could be killed"
            deltas.append(event)
            if "".join(deltas).strip():
                doomed.kill()
                break
        rest = list(stream)

    answer = rest[-1]
    assert isinstance(answer, Answer)
    assert answer.mode == "extractive" and answer.text == extractive.text and not answer.refused
    assert answer.notice and answer.notice.startswith("The language model") and "\n" not in answer.notice
    assert answer.notice.endswith(SHOWING_EXTRACTIVE) and answer.citations == extractive.citations
