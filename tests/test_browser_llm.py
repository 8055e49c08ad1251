"""The chat in Chromium with the bundled model behind llama.cpp's server: the answer streams into the page as the
model writes it, and what is shown at the end keeps the guarantees (cited quotes, or the extractive answer)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_browser import ANSWER_TIMEOUT_MS, shot
from test_local_llm import TIMEOUT, require_local_llm
from test_ui_server import Server, launch_server, stop_server

from qa.generative import RETRYING
from qa.local_llm import MODEL_ALIAS, LocalLLMServer

pytestmark = [pytest.mark.browser, pytest.mark.llm, pytest.mark.server]

QUESTION = "Which firm did Albania authorize to produce weapons and ammunition?"
# Every text the streaming answer shows, recorded in the page as it changes.
RECORD_STREAM = """() => {
  window.__partials = [];
  new MutationObserver(() => {
    const el = document.querySelector('#qa-chat .qa-streaming');
    if (el && window.__partials[window.__partials.length - 1] !== el.innerText) window.__partials.push(el.innerText);
  }).observe(document.querySelector('#qa-chat'), {subtree: true, childList: true, characterData: true});
}"""


@pytest.fixture(scope="module")
def llm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalLLMServer]:
    require_local_llm()
    with LocalLLMServer(log=tmp_path_factory.mktemp("llm-browser") / "llama-server.log") as server:
        yield server


@pytest.fixture(scope="module")
def chat_server(tmp_path_factory: pytest.TempPathFactory, llm: LocalLLMServer) -> Iterator[Server]:
    import shutil

    tmp = tmp_path_factory.mktemp("ui-llm")
    corpus = tmp / "corpus"
    shutil.copytree(Path(__file__).resolve().parent.parent / "corpus", corpus)
    env = {"QA_LLM_BASE_URL": llm.base_url, "QA_LLM_MODEL": MODEL_ALIAS, "QA_LLM_TIMEOUT": str(TIMEOUT)}
    running = launch_server(tmp, tmp / "data", corpus, "serve-llm", **env)
    yield running
    stop_server(running)


def test_generated_answer_streams_into_the_browser(browser: Any, chat_server: Server) -> None:
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    page = context.new_page()
    page.goto(chat_server.url)
    page.locator("#qa-question textarea").wait_for()
    # The recorder observes the chat, which Gradio may attach after the textbox: wait for it too.
    page.locator("#qa-chat").wait_for(state="attached")
    page.evaluate(RECORD_STREAM)
    page.locator("#qa-question textarea").fill(QUESTION)
    page.locator("#qa-ask").click()
    answer = page.locator("#qa-chat .qa-answer:not(.qa-streaming)").first
    answer.wait_for(timeout=max(ANSWER_TIMEOUT_MS, int(6 * TIMEOUT * 1000)))
    partials: list[str] = [p.strip("▍ \n") for p in page.evaluate("() => window.__partials")]
    shown = answer.inner_text()
    first_card = page.locator("#qa-sources .qa-source").first
    first_card.wait_for(timeout=ANSWER_TIMEOUT_MS)
    quote = " ".join(first_card.locator(".qa-passage mark").all_inner_texts()).strip()  # a table: a mark per cell
    shot(page, "chat-local-llm.png")
    context.close()

    growing = [p for p in dict.fromkeys(partials) if p]
    # The extractive answer arrives in at most three pieces (one per sentence); the model's text in many.
    assert len(growing) >= 5, f"the answer did not stream into the page: {growing}"
    # When nothing of the model's first reply is supported it is asked again: the text starts over under a status.
    retried = [p for p in growing if p.startswith(RETRYING)]
    first = growing[: len(growing) - len(retried)]
    assert growing == first + retried, "once the status shows, it stays until the answer is done"
    for attempt in (first, retried):
        assert all(a in b for a, b in itertools.pairwise(attempt)), "each partial text extends the last"
    # Then the verified answer replaces it: cited sentences (the model's, or the extractive ones with a note).
    assert "[1]" in shown and len(quote) > 20
