"""The chat UI in Debian's Chromium (driven by Playwright) against the real ``qa serve`` process."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_ui_server import EXAMPLE_SOURCE, Server, start_server, stop_server

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ANSWER_TIMEOUT_MS = 90_000

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: run `bash scripts/install-browser.sh` (apt-get install chromium)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        print(f"\n*** SKIPPING BROWSER TESTS: {message} ***", file=sys.stderr)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("ui-browser"))
    yield running
    stop_server(running)


@pytest.fixture
def page(browser: Any, server: Server) -> Iterator[Any]:
    """A fresh page on the chat; every request it makes must stay on this machine."""
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    page = context.new_page()
    remote: list[str] = []
    page.on(
        "request",
        lambda r: None if r.url.startswith(("http://127.0.0.1", "data:", "blob:")) else remote.append(r.url),
    )
    page.goto(server.url)
    page.locator("#qa-question textarea").wait_for()
    yield page
    context.close()
    assert remote == [], f"the page made requests off this machine: {remote}"


def ask(page: Any, question: str) -> Any:
    """Type a question, send it, and wait for the finished answer; returns the last assistant message."""
    before = page.locator("#qa-chat .qa-answer:not(.qa-streaming)").count()
    page.locator("#qa-question textarea").fill(question)
    page.locator("#qa-ask").click()
    answer = page.locator("#qa-chat .qa-answer:not(.qa-streaming)").nth(before)
    answer.wait_for(timeout=ANSWER_TIMEOUT_MS)
    return answer


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def upload(page: Any, path: Path, stored_as: str) -> None:
    page.get_by_role("tab", name="Documents").click()
    page.locator("#qa-upload input[type=file]").set_input_files(str(path))
    page.locator("#qa-documents-message .qa-notice").first.wait_for(timeout=ANSWER_TIMEOUT_MS)
    message = page.locator("#qa-documents-message").inner_text()
    assert f"Added {stored_as}" in message, message
    page.get_by_role("tab", name="Chat").click()


def test_example_question_gets_a_cited_answer_and_opens_the_source_at_the_quote(page: Any) -> None:
    page.locator("#qa-examples").get_by_text("What did Croatia say about military blocs?").click()
    # The example fills the box through a round trip to the server: wait for it rather than race it.
    page.wait_for_function(
        "() => document.querySelector('#qa-question textarea')?.value.includes('Croatia')", timeout=ANSWER_TIMEOUT_MS
    )
    page.locator("#qa-ask").click()
    answer = page.locator("#qa-chat .qa-answer:not(.qa-streaming)").first
    answer.wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert "[1]" in answer.inner_text()
    first = page.locator("#qa-source-1")
    first.wait_for()
    assert EXAMPLE_SOURCE in first.inner_text()
    quote = first.locator(".qa-passage mark").inner_text().strip()
    assert len(quote) > 20 and quote in answer.inner_text()
    shot(page, "chat-answer.png")

    first.locator("details.qa-article summary").click()
    article = first.locator(".qa-article-text")
    article.wait_for()
    mark = article.locator("mark")
    assert mark.inner_text().strip() == quote
    assert len(article.inner_text()) > len(first.locator(".qa-passage").inner_text())  # the whole article
    # scrolled to the highlight: the mark lies inside the article box's visible area
    inside = page.evaluate(
        """() => { const box = document.querySelector('#qa-source-1 .qa-article-text');
                   const m = box.querySelector('mark').getBoundingClientRect();
                   const b = box.getBoundingClientRect();
                   return m.top >= b.top - 1 && m.top < b.bottom; }"""
    )
    assert inside
    shot(page, "chat-source-opened.png")


def test_follow_up_and_new_conversation(page: Any) -> None:
    ask(page, "Which firm did Albania authorize to produce weapons and ammunition?")
    assert "KAYO" in page.locator("#qa-chat .qa-answer").last.inner_text()
    answers = page.locator("#qa-chat .qa-answer").count()
    page.locator("#qa-question textarea").fill("   ")
    page.locator("#qa-ask").click()  # an empty question is not sent; a gentle prompt appears
    page.locator("#qa-notice .qa-notice").wait_for()
    assert "The question is empty" in page.locator("#qa-notice").inner_text()
    assert page.locator("#qa-chat .qa-answer").count() == answers
    page.locator("#qa-new").click()
    page.wait_for_function("() => document.querySelectorAll('#qa-chat .qa-answer').length === 0")
    page.wait_for_function(
        "() => document.querySelector('#qa-sources').innerText.includes('Sources of the answer appear here')",
        timeout=ANSWER_TIMEOUT_MS,
    )


def test_uploaded_article_is_indexed_and_cited(page: Any, tmp_path: Path) -> None:
    article = tmp_path / "zrnovo goat mayor.txt"
    article.write_text(
        "Zrnovo Elects a Goat\n"
        "On 3 March 2031 the village of Zrnovo on the island of Korcula elected a goat named Bruno Kozlić "
        "as its honorary mayor. Bruno Kozlić won 212 votes after promising to keep the vineyard paths "
        "free of weeds.\n",
        encoding="utf-8",
    )
    upload(page, article, "zrnovo_goat_mayor.txt")
    page.get_by_role("tab", name="Documents").click()
    assert "zrnovo_goat_mayor.txt" in page.locator("#qa-documents").inner_text()
    # The server checks each file's type (so one wrong file in a batch stops no other); the picker still offers
    # only the accepted ones.
    picker = page.locator("#qa-upload input[type=file]").first
    assert picker.get_attribute("accept") == ".txt,.md,.html,.htm,.pdf,.docx"
    page.get_by_role("tab", name="Chat").click()
    answer = ask(page, "Which goat was elected honorary mayor of Zrnovo?")
    assert "Bruno" in answer.inner_text() and "[1]" in answer.inner_text()
    assert "zrnovo_goat_mayor.txt" in page.locator("#qa-sources").inner_text()
    shot(page, "chat-uploaded-article.png")


def test_markup_inside_an_article_is_shown_as_text_and_never_runs(page: Any, tmp_path: Path) -> None:
    title_before = page.title()
    article = tmp_path / "pwn.md"
    payload = "<script>window.__pwned = 1; document.title = 'pwned';</script>"
    article.write_text(
        f"Harbour report {payload}\n"
        'The harbour master of Vis announced that the Quokka Ferry <img src=x onerror="window.__pwned=2"> '
        f"will sail to Bisevo every Thursday starting in 2032. {payload}\n",
        encoding="utf-8",
    )
    upload(page, article, "pwn.md")
    page.get_by_role("tab", name="Documents").click()
    assert payload in page.locator("#qa-documents").inner_text()  # the title shows the tag as text
    page.get_by_role("tab", name="Chat").click()
    answer = ask(page, "When will the Quokka Ferry sail to Bisevo?")
    assert "Quokka Ferry" in answer.inner_text()
    source = page.locator("#qa-sources .qa-source").first
    source.locator("details.qa-article summary").click()
    shown = source.inner_text()
    assert "<script>" in shown and 'onerror="window.__pwned=2"' in shown
    assert page.locator("#qa-sources script, #qa-chat script, #qa-sources img").count() == 0
    assert page.evaluate("() => window.__pwned") is None
    assert page.title() == title_before != "pwned"
    shot(page, "chat-markup-as-text.png")
