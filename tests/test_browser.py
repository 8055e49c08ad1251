"""The chat UI in Debian's Chromium (driven by Playwright) against the real ``qa serve`` process."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from test_ui_server import EXAMPLE_SOURCE, Server, serving

from index.tables import find_tables

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
ANSWER_TIMEOUT_MS = 90_000
MAX_FILE_MB = 1  # QA_MAX_FILE_MB of the browser tests' server: a file over it is refused in the page
ROOT = Path(__file__).resolve().parent.parent
KAYO = "000_0c62668bd953e794.txt"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serving(tmp_path_factory.mktemp("ui-browser"), {"QA_MAX_FILE_MB": str(MAX_FILE_MB)}) as running:
        yield running


@pytest.fixture
def open_page(browser: Any, server: Server) -> Iterator[Callable[..., Any]]:
    """Opens fresh pages on the chat (``viewport``, ``color_scheme``: as Playwright's context takes them); every
    request they make must stay on this machine."""
    contexts: list[Any] = []
    remote: list[str] = []

    def open_one(width: int = 1360, height: int = 900, color_scheme: str = "light") -> Any:
        context = browser.new_context(viewport={"width": width, "height": height}, color_scheme=color_scheme)
        contexts.append(context)
        page = context.new_page()
        page.on(
            "request",
            lambda r: None if r.url.startswith(("http://127.0.0.1", "data:", "blob:")) else remote.append(r.url),
        )
        page.goto(server.url)
        page.locator("#qa-question textarea").wait_for()
        return page

    yield open_one
    for context in contexts:
        context.close()
    assert remote == [], f"the page made requests off this machine: {remote}"


@pytest.fixture
def page(open_page: Callable[..., Any]) -> Any:
    """A fresh page on the chat at 1360×900."""
    return open_page()


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


def choose(page: Any, dropdown: str, name: str) -> None:
    """Pick the option holding ``name`` in a dropdown whose choices come from the server (the page's load, or
    the event before): opened again until they are there."""
    for _ in range(30):
        page.locator(f"{dropdown} input").click()
        option = page.get_by_role("option", name=name, exact=False)
        try:
            option.wait_for(timeout=2_000)
        except Exception:  # Playwright's TimeoutError: the choices have not arrived yet
            page.keyboard.press("Escape")
            continue
        option.click()
        return
    raise AssertionError(f"no option {name!r} in {dropdown}")


def cards(page: Any) -> Any:
    return page.locator("#qa-sources .qa-source")


# The element's box lies (at least partly, its top included) inside the window, and what shows at its top left
# corner is the element itself (not clipped by a scrolled column, not covered).
IN_VIEW = """(el) => { const r = el.getBoundingClientRect();
  const seen = document.elementFromPoint(r.left + 12, r.top + 12);
  return r.height > 0 && r.top >= 0 && r.top < window.innerHeight - 20
    && r.left >= 0 && r.right <= window.innerWidth && seen !== null && el.contains(seen); }"""


def test_example_question_is_asked_at_once_and_opens_the_source_at_the_quote(page: Any) -> None:
    page.locator("#qa-examples").get_by_text("What did Croatia say about military blocs?").click()
    answer = page.locator("#qa-chat .qa-answer:not(.qa-streaming)").first
    answer.wait_for(timeout=ANSWER_TIMEOUT_MS)  # no Ask needed: the example is the question
    assert "[1]" in answer.inner_text()
    assert "What did Croatia say about military blocs?" in page.locator("#qa-chat .qa-question").first.inner_text()
    first = cards(page).first
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
    inside = first.evaluate(
        """(card) => { const box = card.querySelector('.qa-article-text');
                   const m = box.querySelector('mark').getBoundingClientRect();
                   const b = box.getBoundingClientRect();
                   return m.top >= b.top - 1 && m.top < b.bottom; }"""
    )
    assert inside
    shot(page, "chat-source-opened.png")


@pytest.mark.parametrize(("width", "height"), [(1400, 700), (390, 844)], ids=["desktop-1400x700", "phone-390"])
def test_a_citation_link_brings_its_card_into_view(open_page: Callable[..., Any], width: int, height: int) -> None:
    page = open_page(width, height)
    answer = ask(page, "summarize the articles")  # five cited articles: the last card starts below the fold
    links = answer.locator(".qa-answer-text a.cite-link")
    assert links.count() >= 2, answer.inner_text()
    last = links.nth(links.count() - 1)
    n = last.inner_text().strip("[]")
    card = page.locator(last.get_attribute("href"))
    card.wait_for()
    assert card.inner_text().startswith(f"[{n}]")
    # The cards stay one under the other in the sources column (Gradio's columns wrap their children: a column
    # taller than the window once put the cards in a second column beside the first, out of sight).
    assert page.evaluate(
        "() => { const c = document.getElementById('qa-sources-column'); return c.scrollWidth <= c.clientWidth + 1; }"
    )
    # Out of view first (the page and the sources column scrolled to the top), so the click has something to do.
    page.evaluate("() => { window.scrollTo(0, 0); document.getElementById('qa-sources-column').scrollTop = 0; }")
    if card.evaluate(IN_VIEW):
        page.evaluate("() => window.scrollTo(0, document.documentElement.scrollHeight)")
    last.scroll_into_view_if_needed()
    assert not card.evaluate(IN_VIEW), "the card was in view before the click: the test would prove nothing"
    last.click()
    page.wait_for_function(IN_VIEW, arg=card.element_handle(), timeout=10_000)
    assert card.evaluate("(el) => document.activeElement === el")  # focus moves to the card
    shot(page, f"chat-citation-{width}.png")

    # The keyboard: the link is in the tab order (Shift+Tab, then Tab, comes back to it) and Enter follows it.
    page.evaluate("() => { window.scrollTo(0, 0); document.getElementById('qa-sources-column').scrollTop = 0; }")
    last.focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    assert last.evaluate("(el) => document.activeElement === el")
    if card.evaluate(IN_VIEW):
        page.evaluate("() => window.scrollTo(0, document.documentElement.scrollHeight)")
        last.focus()
    page.keyboard.press("Enter")
    page.wait_for_function(IN_VIEW, arg=card.element_handle(), timeout=10_000)
    assert card.evaluate("(el) => document.activeElement === el")


CONTRAST = (Path(__file__).parent / "contrast.js").read_text(encoding="utf-8")
CONTRAST_ROOTS = [".qa-header", "#qa-chat .message-content", "#qa-sources", "#qa-examples", "#qa-notice"]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_text_and_highlighted_quotes_meet_wcag_aa_contrast(open_page: Callable[..., Any], scheme: str) -> None:
    page = open_page(1400, 1000, scheme)
    assert page.evaluate("() => document.body.classList.contains('dark')") == (scheme == "dark")
    ask(page, "What are the training programs for KAYO?")
    ask(page, "What is the population of Croatia?")  # a refusal, with its label
    page.locator("#qa-chat .qa-answer-text").first.click()  # the first answer's sources, with their quotes
    page.locator("#qa-sources .qa-source mark").first.wait_for()
    cards(page).first.locator("details.qa-article summary").click()
    measured = page.evaluate(CONTRAST, CONTRAST_ROOTS)
    kinds = {m["tag"] for m in measured}
    assert {"mark", "td", "a"} <= kinds, kinds  # the quotes, table cells and [n] links were measured
    assert any("qa-refusal-label" in m["cls"] for m in measured)
    low = [m for m in measured if m["ratio"] < 4.5]
    assert low == [], f"{scheme}: text below 4.5:1 {low}"
    shot(page, f"chat-contrast-{scheme}.png")
    # The measurement can fail: the colours the issue reported (near-white on pale yellow) are caught.
    page.add_style_tag(
        content=".dark mark, mark { background: #fde68a !important; color: rgb(241,245,249) !important; }"
    )
    worst = min(m["ratio"] for m in page.evaluate(CONTRAST, CONTRAST_ROOTS) if m["tag"] == "mark")
    assert worst < 1.5


def _table_rows(source: str) -> list[str]:
    """The first cells of every row of the first table of a seed article, header first."""
    text = (ROOT / "corpus" / source).read_text(encoding="utf-8")
    table = find_tables(text)[0]
    return [text[slice(*row.cells[0])] for row in table.rows if row.kind != "delimiter"]


def test_a_summary_request_and_a_disagreement_are_answered_with_linked_quotes(page: Any) -> None:
    """A request to summarize: each article's opening sentence with its link and card; "where was the summit":
    the text's Kyiv, and the headline's Albania as a disagreement, both cited."""
    answer = ask(page, "summarize the articles")
    assert "What the 5 articles are about" in answer.inner_text()
    assert answer.locator(".qa-answer-text sup.cite a.cite-link").count() == 5
    assert cards(page).count() == 5
    answer = ask(page, "where was the summit held")
    text = answer.inner_text()
    assert "took place in Kyiv" in text and "The sources disagree" in text
    assert "Balkan summit in Albania" in text
    shot(page, "chat-disagreement.png")


def test_a_quoted_table_is_drawn_whole_in_the_answer_the_card_and_the_article(page: Any) -> None:
    answer = ask(page, "What objectives did the Ministry of Defense outline for KAYO?")
    expected = _table_rows(KAYO)  # Objective, R&D Investment, Production Capacity, Training Programs
    assert expected[-1] == "Training Programs"
    for where in (answer, cards(page).first.locator(".qa-passage")):
        table = where.locator("table.qa-table")
        assert table.count() == 1, where.inner_text()
        rows = table.locator("tr")
        assert [rows.nth(i).locator("th, td").first.inner_text() for i in range(rows.count())] == expected
        assert "| ---" not in where.inner_text() and "|---|" not in where.inner_text()
    # Every quoted row is highlighted in the card.
    assert cards(page).first.locator(".qa-passage tr.qa-marked").count() == len(expected)
    first = cards(page).first
    first.locator("details.qa-article summary").click()
    article = first.locator(".qa-article-text")
    assert article.locator("table.qa-table").count() == 1 and article.locator("tr").count() == len(expected)
    shot(page, "chat-table.png")


def test_an_uploaded_table_without_outer_pipes_is_drawn_with_its_cells_escaped(page: Any, tmp_path: Path) -> None:
    article = tmp_path / "ferry-fares.md"
    article.write_text(
        "Ferry fares to Vis for 2032\n"
        "The harbour office of Split published the new ferry fares to Vis, which are:\n"
        "Ticket | Fare <b>2032</b> |\n"
        "---|---|\n"
        "Adult | 9 EUR |\n"
        'Bicycle | <img src=x onerror="window.__pwned=3"> 4 EUR |\n'
        "Car & driver | 61 EUR |\n"
        "The fares apply from the first of June.\n",
        encoding="utf-8",
    )
    upload(page, article, "ferry-fares.md")
    answer = ask(page, "What are the ferry fares to Vis?")
    table = answer.locator("table.qa-table")
    assert table.count() == 1, answer.inner_text()
    cells = table.locator("th, td")
    shown = [cells.nth(i).inner_text() for i in range(cells.count())]
    assert shown == [
        "Ticket", "Fare <b>2032</b>", "Adult", "9 EUR", 'Bicycle', '<img src=x onerror="window.__pwned=3"> 4 EUR',
        "Car & driver", "61 EUR",
    ]  # fmt: skip
    assert page.locator("#qa-chat img, #qa-sources img, #qa-chat table b").count() == 0
    assert page.evaluate("() => window.__pwned") is None
    assert cards(page).first.locator(".qa-passage table.qa-table tr").count() == 4


def test_delete_asks_moves_to_the_trash_and_restore_brings_it_back(page: Any, server: Server) -> None:
    source = "002_6b05f74da55235ca.txt"  # the Zelensky article
    question = "What did Zelensky promote at the summit?"
    answer = ask(page, question)
    assert source in page.locator("#qa-sources").inner_text(), answer.inner_text()
    page.get_by_role("tab", name="Documents").click()
    choose(page, "#qa-delete-choice", source)
    page.locator("#qa-delete").click()
    confirmation = page.locator("#qa-delete-confirm")
    confirmation.wait_for(state="visible")
    assert source in confirmation.inner_text() and "trash" in confirmation.inner_text()
    page.locator("#qa-delete-cancel").click()  # cancelled: nothing happens
    confirmation.wait_for(state="hidden")
    assert (server.corpus / source).exists()
    page.locator("#qa-delete").click()
    confirmation.wait_for(state="visible")
    shot(page, "documents-delete-confirm.png")
    page.locator("#qa-delete-yes").click()
    page.wait_for_function(
        "(s) => document.querySelector('#qa-documents-message').innerText.includes('Deleted ' + s)",
        arg=source,
        timeout=ANSWER_TIMEOUT_MS,
    )
    confirmation.wait_for(state="hidden")
    assert not (server.corpus / source).exists()
    trashed = list((server.corpus.parent / "data" / "trash").rglob(source))
    assert len(trashed) == 1 and "Zelensky" in trashed[0].read_text(encoding="utf-8")
    assert source not in page.locator("#qa-documents").inner_text()

    page.get_by_role("tab", name="Chat").click()
    ask(page, question)
    assert source not in page.locator("#qa-sources").inner_text()  # gone from the answers

    page.get_by_role("tab", name="Documents").click()
    choose(page, "#qa-trash-choice", source)
    page.locator("#qa-restore").click()
    page.wait_for_function(
        "(s) => document.querySelector('#qa-documents-message').innerText.includes('Restored ' + s)",
        arg=source,
        timeout=ANSWER_TIMEOUT_MS,
    )
    assert (server.corpus / source).exists() and not list((server.corpus.parent / "data" / "trash").rglob(source))
    assert source in page.locator("#qa-documents").inner_text()
    page.get_by_role("tab", name="Chat").click()
    ask(page, question)
    assert source in page.locator("#qa-sources").inner_text()  # back in the answers


FOLLOW_UP = "Why did they do that?"  # means nothing without the question before it


def test_clear_and_new_conversation_reset_messages_sources_and_the_follow_up_context(page: Any) -> None:
    alone = ask(page, FOLLOW_UP).inner_text()
    page.locator("#qa-new").click()
    page.wait_for_function("() => document.querySelectorAll('#qa-chat .qa-answer').length === 0")
    first = "Which firm did Albania authorize to produce weapons and ammunition?"
    ask(page, first)
    followed = ask(page, FOLLOW_UP).inner_text()
    assert followed != alone and "KAYO" in followed  # the context counts, so a reset can be seen

    # The empty-question notice, then the chat's own clear (trash) button.
    page.locator("#qa-question textarea").fill("   ")
    page.locator("#qa-ask").click()
    page.locator("#qa-notice .qa-notice").wait_for()
    assert "The question is empty" in page.locator("#qa-notice").inner_text()
    for reset in ("#qa-chat button[aria-label=Clear]", "#qa-new"):
        ask(page, first)
        page.locator(reset).click()
        page.wait_for_function("() => document.querySelectorAll('#qa-chat .qa-answer').length === 0")
        page.wait_for_function(
            "() => document.querySelector('#qa-sources').innerText.includes('Sources of the answer appear here')",
            timeout=ANSWER_TIMEOUT_MS,
        )
        assert page.locator("#qa-notice").inner_text().strip() == ""
        after = ask(page, FOLLOW_UP).inner_text()
        assert after == alone, f"{reset} kept the old topic: {after!r}"
        page.locator("#qa-new").click()
        page.wait_for_function("() => document.querySelectorAll('#qa-chat .qa-answer').length === 0")


def test_an_earlier_answers_sources_come_back_when_it_is_selected(page: Any) -> None:
    ask(page, "What did Croatia say about military blocs?")
    ask(page, "Which firm did Albania authorize to produce weapons and ammunition?")
    panel = page.locator("#qa-sources")
    assert KAYO in panel.inner_text() and EXAMPLE_SOURCE not in panel.inner_text()
    first_answer = page.locator("#qa-chat .qa-answer").first
    first_answer.locator(".qa-answer-text").click()  # selecting the answer
    page.wait_for_function(
        "(s) => document.querySelector('#qa-sources').innerText.includes(s)", arg=EXAMPLE_SOURCE, timeout=10_000
    )
    assert "military blocs" in panel.locator(".qa-sources-for").inner_text()
    shot(page, "chat-earlier-sources.png")
    page.locator("#qa-chat .qa-answer").last.locator(".qa-answer-text").click()
    page.wait_for_function(
        "(s) => document.querySelector('#qa-sources').innerText.includes(s)", arg=KAYO, timeout=10_000
    )
    # An earlier answer's [1] brings back its sources and its card.
    link = first_answer.locator(".qa-answer-text a.cite-link").first
    link.click()
    card = page.locator(link.get_attribute("href"))
    card.wait_for(timeout=10_000)
    assert EXAMPLE_SOURCE in card.inner_text()
    page.wait_for_function(IN_VIEW, arg=card.element_handle(), timeout=10_000)


def test_the_conversation_label_covers_no_message(page: Any) -> None:
    for question in ("What did Croatia say about military blocs?", "Which firm did Albania authorize?"):
        ask(page, question)
    log = page.locator("#qa-chat [role=log]")
    log.evaluate("(el) => { el.scrollTop = 40; }")  # scrolled a little: the first visible line is a message's
    covering = page.evaluate(
        """() => { const log = document.querySelector('#qa-chat [role=log]').getBoundingClientRect();
                   const hits = [];
                   for (const x of [log.left + 24, log.left + log.width / 2]) {
                     const el = document.elementFromPoint(x, log.top + 12);
                     if (el && !el.closest('[role=log]') && !el.closest('button')) hits.push(el.outerHTML.slice(0, 80));
                   }
                   return hits; }"""
    )
    assert covering == []
    assert page.locator("#qa-chat label[data-testid=block-label]").count() == 0


def test_a_refused_upload_leaves_no_error_badge_and_no_stale_message(page: Any, tmp_path: Path) -> None:
    good = tmp_path / "harbour-notice.txt"
    good.write_text("Harbour notice\nThe port of Vis closes its fuel dock on Sundays from 2033.\n", encoding="utf-8")
    upload(page, good, "harbour-notice.txt")
    page.get_by_role("tab", name="Documents").click()
    message = page.locator("#qa-documents-message")
    badge = page.locator("#qa-upload .error")
    picker = page.locator("#qa-upload input[type=file]")
    # Over the size limit: refused in the page before it is sent, in the server's words (Gradio's own check
    # would leave a red "Error" badge over the drop area, and the green "Added" message in place).
    huge = tmp_path / "huge-report.txt"
    huge.write_text("The report. " * (MAX_FILE_MB * 2**20 // 12 + 100), encoding="utf-8")
    picker.set_input_files(str(huge))
    note = page.locator("#qa-upload-refused")
    note.wait_for()
    assert f"'huge-report.txt' was refused: it is 1.0 MB and the limit is {MAX_FILE_MB} MB (QA_MAX_FILE_MB)." in (
        note.inner_text()
    )
    assert not message.is_visible()  # the "Added harbour-notice.txt" of the last upload is not left showing
    page.wait_for_timeout(1000)
    assert badge.count() == 0 or not badge.is_visible()
    shot(page, "documents-refused-upload.png")
    # Wrong types go to the server, which refuses them: its message replaces the last one, no badge.
    for name, content in (("prices.csv", b"a,b\n1,2\n"), ("tool.exe", b"MZ\x90\x00")):
        refused = tmp_path / name
        refused.write_bytes(content)
        picker.set_input_files(str(refused))
        page.wait_for_function(
            "(n) => document.querySelector('#qa-documents-message').innerText.includes(n)", arg=name, timeout=60_000
        )
        assert message.is_visible() and note.count() == 0  # the page's own refusal is gone with the next upload
        assert "Added" not in message.inner_text() and "was refused" in message.inner_text()
        assert badge.count() == 0 or not badge.is_visible()


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


def test_a_file_dropped_into_the_corpus_folder_is_announced_in_the_chat_and_answered(page: Any, server: Server) -> None:
    name = "vis-lighthouse.txt"
    (server.corpus / name).write_text(
        "Vis Lighthouse Reopens\n"
        "The lighthouse on the cape of Stoncica on Vis reopened to visitors on Saturday after a two-year "
        "restoration paid for by the island's fishermen's cooperative.\n",
        encoding="utf-8",
    )
    live = page.locator("#qa-live .qa-live-ok", has_text=name)
    live.wait_for(timeout=20_000)  # the page polls the status line; the watcher indexes the file by itself
    assert "answerable now" in live.inner_text()
    answer = ask(page, "Who paid for the restoration of the Stoncica lighthouse?")
    assert "fishermen" in answer.inner_text() and "[1]" in answer.inner_text()
    assert name in page.locator("#qa-sources").inner_text()
    shot(page, "chat-watched-folder.png")
