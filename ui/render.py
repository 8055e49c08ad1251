"""HTML for the chat UI, built from escaped pieces: text from documents and answers is never markup.

Every string that came from a document, a question or an answer passes through ``html.escape``; the only
tags are the ones written here.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from index.builder import IndexStatus
from index.catalog import DocumentRecord
from index.tables import Row, Table, find_tables, table_at
from qa.answering import CLOSEST_AFTER_NOTE, CLOSEST_TEXT
from qa.types import Answer, Citation

if TYPE_CHECKING:
    from ui.backend import LiveStatus

MARKER = re.compile(r"\[(\d{1,3})\]")
ARTICLE_WINDOW = 60_000  # characters of a very long article shown around the quote
CARD_TITLE_CHARS = 90  # a longer title (often an article's first sentence) is shortened on source cards
Mark = tuple[int, int]


def text(value: str) -> str:
    """Escaped text (quotes too, so it is safe inside attributes)."""
    return escape(value, quote=True)


def source_id(n: int, key: int | None = None) -> str:
    """The element id of source card ``n`` of the answer ``key`` (its place in the conversation)."""
    return f"qa-source-{n}" if key is None else f"qa-source-{key}-{n}"


def cite_link(n: int, key: int | None = None, *, marker: bool = True) -> str:
    """``[n]`` as a link to its source card (a superscript ``marker`` in the text, or plain in the source list).

    The chat's sanitiser keeps ``href`` and ``class`` but strips ``data-*``, so the target travels in the link
    itself; ``ui/static/app.js`` scrolls to it and flashes it, and a link is reachable with the keyboard.
    """
    link = f'<a class="cite-link" href="#{source_id(n, key)}" title="Show source {n}">[{n}]</a>'
    return f'<sup class="cite">{link}</sup>' if marker else link


def link_markers(escaped: str, known: Sequence[int], key: int | None = None) -> str:
    """Turn ``[n]`` in already-escaped text into a link to its source for each known citation number."""

    def repl(match: re.Match[str]) -> str:
        n = int(match.group(1))
        if n not in known:
            return match.group(0)
        return cite_link(n, key)

    return MARKER.sub(repl, escaped)


def streaming_html(partial: str, status: str | None = None) -> str:
    """The answer while it forms, under a one-line ``status`` when there is one (the model asked again)."""
    line = f'<div class="qa-stream-status" role="status">{text(status)}</div>' if status else ""
    return f'<div class="qa-answer qa-streaming">{line}{text(partial)}<span class="qa-caret">▍</span></div>'


def answer_html(answer: Answer, key: int | None = None) -> str:
    """The finished answer for the conversation: linked markers, unsupported sentences, tables as tables, and
    a short source list; ``key`` (the answer's place in the conversation) names its source cards."""
    if answer.refused:
        # The closest sentences, when there are any, are cited like an answer's, so their markers link too. Built
        # from the quoted sentences where the answer has them: a "[2]" inside a quote is the article's text.
        closest = [c.n for c in answer.closest]
        if answer.closest and answer.sentences:
            quotes = (
                f"“{rich_html(s.text, 0, len(s.text))}”"
                + "".join(f" {cite_link(n, key)}" for n in s.citations if n in closest)
                for s in answer.sentences
            )
            # What the answer says before the quotes: CLOSEST_TEXT, or the reason it knows first ("The articles never
            # mention Erdogan. The closest they come:").
            at = answer.text.find(CLOSEST_AFTER_NOTE)
            opening = answer.text[: at + len(CLOSEST_AFTER_NOTE)] if at >= 0 else CLOSEST_TEXT
            body = " ".join([text(opening), *quotes])
        else:
            body = link_markers(text(answer.text), closest, key)
        footer = _source_list(answer.closest, key, "The closest passages")
        return (
            '<div class="qa-answer qa-refusal" role="note"><span class="qa-refusal-label">No answer in the '
            f"documents</span> {body}{footer}</div>"
        )
    numbers = [c.n for c in answer.citations]
    if answer.sentences:
        # A sentence's text is quoted from a document (or written by a model, its markers taken out), so a "[1]"
        # in it is text: the only markers are the ones built here from the sentence's citations.
        parts = []
        for sentence in answer.sentences:
            body = rich_html(sentence.text, 0, len(sentence.text))
            body += "".join(f" {cite_link(n, key)}" for n in sentence.citations if n in numbers)
            if not sentence.supported:
                body = (
                    '<span class="qa-unsupported" title="The cited passages do not support this sentence">'
                    f'{body} <span class="qa-unsupported-label">⚠ not supported by the sources</span></span>'
                )
            parts.append(body)
        body_html = " ".join(parts)
    else:
        body_html = link_markers(text(answer.text), numbers, key)
    footer = _source_list(answer.citations, key)
    notice = f'<div class="qa-notice-inline">{text(answer.notice)}</div>' if answer.notice else ""
    return f'<div class="qa-answer">{notice}<div class="qa-answer-text">{body_html}</div>{footer}</div>'


def _source_list(citations: Sequence[Citation], key: int | None, label: str | None = None) -> str:
    """One line per cited article under the answer: its markers (links), title, file and date."""
    if not citations:
        return ""
    by_source: dict[str, list[Citation]] = {}
    for c in citations:
        by_source.setdefault(c.source, []).append(c)
    items = "".join(
        f'<li><span class="cite-n">{"".join(cite_link(c.n, key, marker=False) for c in cited)}</span> '
        f"{text(cited[0].title)} "
        f'<span class="qa-meta">— {_file_and_date(source, cited[0].date)}</span></li>'
        for source, cited in by_source.items()
    )
    caption = f'<li class="qa-meta">{text(label)}:</li>' if label else ""
    return f'<ol class="qa-answer-sources">{caption}{items}</ol>'


def _file_and_date(source: str, date: str | None) -> str:
    return text(source) + (f" · {text(date)}" if date else "")


def error_html(message: str) -> str:
    """A problem the user can fix, shown in the conversation."""
    return f'<div class="qa-answer qa-error" role="alert">{text(message)}</div>'


def question_html(question: str) -> str:
    return f'<div class="qa-question">{text(question)}</div>'


def marked(document: str, start: int, end: int, mark: Mark | None) -> str:
    """``document[start:end]`` escaped, with the part inside ``mark`` (document offsets) in ``<mark>``."""
    if mark is None or mark[1] <= start or mark[0] >= end or mark[0] >= mark[1]:
        return text(document[start:end])
    lo, hi = max(start, mark[0]), min(end, mark[1])
    return f"{text(document[start:lo])}<mark>{text(document[lo:hi])}</mark>{text(document[hi:end])}"


def highlighted(document: str, start: int, end: int) -> str:
    """``document`` escaped, with ``document[start:end]`` inside ``<mark>`` (tables drawn as tables)."""
    if not 0 <= start <= end <= len(document):
        return rich_html(document, 0, len(document))
    return rich_html(document, 0, len(document), (start, end))


def _tables_in(document: str, start: int, end: int) -> list[Table]:
    """The tables that overlap ``document[start:end]``, one that began before ``start`` included."""
    tables = find_tables(document, start, end)
    first = table_at(document, start)
    if first is not None and (not tables or tables[0].start != first.start):
        tables.insert(0, first)
    return tables


def rich_html(document: str, start: int, end: int, mark: Mark | None = None, tables: list[Table] | None = None) -> str:
    """``document[start:end]`` as escaped text in which pipe tables are drawn as ``<table>`` (cell text escaped,
    every row that overlaps the range, the header always); ``mark`` highlights a span, cell by cell in a table."""
    tables = _tables_in(document, start, end) if tables is None else tables
    out: list[str] = []
    cursor = start
    for table in tables:
        rows = [r for r in table.body if r.end > start and r.start < end]
        if table.end <= start or table.start >= end or not (rows or table.start >= start):
            continue
        if table.start > cursor:
            out.append(marked(document, cursor, table.start, mark))
        out.append(_table_html(document, table, rows, mark))
        cursor = max(cursor, table.end)
        if document[cursor : cursor + 1] == "\n" and cursor < end:
            cursor += 1  # the table is a block: the line break after it would be an empty line
    if cursor < end:
        out.append(marked(document, cursor, end, mark))
    return "".join(out)


def _table_html(document: str, table: Table, rows: Sequence[Row], mark: Mark | None) -> str:
    columns = max(len(r.cells) for r in (*table.header, *rows))

    def cells(row: Row, tag: str) -> str:
        shown = [marked(document, a, b, mark) for a, b in row.cells]
        shown += [""] * (columns - len(shown))
        return "".join(f"<{tag}>{cell}</{tag}>" for cell in shown)

    def hit(row: Row) -> str:
        return ' class="qa-marked"' if mark is not None and mark[0] < row.end and mark[1] > row.start else ""

    head = "".join(f"<tr{hit(r)}>{cells(r, 'th')}</tr>" for r in table.header)
    body = "".join(f"<tr{hit(r)}>{cells(r, 'td')}</tr>" for r in rows)
    return (
        f'<div class="qa-table-wrap"><table class="qa-table"><thead>{head}</thead><tbody>{body}</tbody></table></div>'
    )


def find_quote(haystack: str, quote: str, near: int) -> int | None:
    """Offset of ``quote`` in ``haystack``: at ``near`` when it is there, else the closest occurrence."""
    if not quote:
        return None
    if haystack[near : near + len(quote)] == quote:
        return near
    hits = [m.start() for m in re.finditer(re.escape(quote), haystack)]
    return min(hits, key=lambda i: abs(i - near)) if hits else None


def passage_html(citation: Citation, document: str | None = None) -> str:
    """The citation's passage with its quoted sentence highlighted; with the ``document`` it came from (still
    the same text there), a table the passage cuts into is drawn with its header."""
    at = find_quote(citation.passage, citation.quote, citation.start - citation.passage_start)
    mark = None if at is None else (at, at + len(citation.quote))
    lo, hi = citation.passage_start, citation.passage_start + len(citation.passage)
    if document is not None and document[lo:hi] == citation.passage:
        shifted = None if mark is None else (lo + mark[0], lo + mark[1])
        return rich_html(document, lo, hi, shifted)
    return rich_html(citation.passage, 0, len(citation.passage), mark)


def article_html(document: str | None, citation: Citation) -> str:
    """The whole article with the quote highlighted (a window around it when the article is very long)."""
    if not document:
        return '<p class="qa-meta">The article is no longer in the index.</p>'
    at = find_quote(document, citation.quote, citation.start)
    if at is None:
        return rich_html(document, 0, min(len(document), ARTICLE_WINDOW))
    lo, hi = 0, len(document)
    if len(document) > ARTICLE_WINDOW:
        lo = max(0, at - ARTICLE_WINDOW // 2)
        hi = min(len(document), lo + ARTICLE_WINDOW)
    body = rich_html(document, lo, hi, (at, at + len(citation.quote)))
    before = '<span class="qa-meta">[…]</span>\n' if lo else ""
    after = '\n<span class="qa-meta">[…]</span>' if hi < len(document) else ""
    return before + body + after


def card_title(title: str) -> str:
    """A title short enough for a source card's header (cut at a word, with an ellipsis)."""
    if len(title) <= CARD_TITLE_CHARS:
        return title
    cut = title.rfind(" ", 0, CARD_TITLE_CHARS - 1)
    return title[: cut if cut > CARD_TITLE_CHARS // 2 else CARD_TITLE_CHARS - 1].rstrip(" ,;:…") + "…"


def sources_html(
    answer: Answer | None,
    document_text: Callable[[str], str | None],
    key: int | None = None,
    question: str | None = None,
) -> str:
    """The sources panel: per citation its title, file, date and passage, and the whole article on request.

    ``key`` is the answer's place in the conversation (it names the cards its ``[n]`` links point at) and
    ``question`` what it answered (shown above the cards: earlier answers' sources can be shown again). A
    refusal shows the closest passages it quotes, when it has any. An article's title is shown on its first
    card only.
    """
    if answer is None:
        return '<div class="qa-sources qa-empty">Sources of the answer appear here.</div>'
    cited = answer.closest if answer.refused else answer.citations
    for_id = f' id="qa-sources-for-{key}"' if key is not None else ""
    heading = f'<p class="qa-sources-for">Sources of the answer to “{text(question)}”</p>' if question else ""
    if not cited:
        return (
            f'<div class="qa-sources"{for_id}>{heading}'
            '<p class="qa-empty">No sources: the indexed articles do not answer this.</p></div>'
        )
    cards = [heading]
    if answer.refused:
        cards.append('<p class="qa-meta">The closest passages: they do not answer the question directly.</p>')
    texts: dict[str, str | None] = {}
    first_card: dict[str, int] = {}
    for c in cited:
        if c.source not in texts:
            texts[c.source] = document_text(c.source)
        meta = _file_and_date(c.source, c.date)
        if c.source in first_card:  # the title once per article: a long first-sentence title would repeat
            title = f'<span class="qa-source-same">Same article as [{first_card[c.source]}]</span>'
        else:
            first_card[c.source] = c.n
            title = f'<span class="qa-source-title" title="{text(c.title)}">{text(card_title(c.title))}</span>'
        cards.append(
            f'<section class="qa-source" id="{source_id(c.n, key)}" data-n="{c.n}" tabindex="-1" '
            f'aria-label="Source {c.n}">'
            f'<header><span class="cite-n">[{c.n}]</span> {title}<div class="qa-meta">{meta}</div></header>'
            f'<blockquote class="qa-passage">{passage_html(c, texts[c.source])}</blockquote>'
            f'<details class="qa-article"><summary>Open the whole article</summary>'
            f'<div class="qa-article-text" tabindex="0">{article_html(texts[c.source], c)}</div></details>'
            "</section>"
        )
    return f'<div class="qa-sources"{for_id}>{"".join(cards)}</div>'


def delete_question_html(doc_id: str, trash: Path) -> str:
    """What a delete will do, asked before it is done (the Documents tab's confirmation)."""
    return (
        f'<p class="qa-confirm-text" role="alert">Delete <b>{text(doc_id)}</b>? Its passages leave the answers at '
        f"once. The file is moved to the trash (<code>{text(str(trash))}</code>), from where it can be restored "
        "below.</p>"
    )


def notice_html(message: str | None, kind: str = "info") -> str:
    """A one-line notice (an unreachable model, an empty question); empty when there is nothing to say."""
    if not message:
        return ""
    return f'<div class="qa-notice qa-notice-{text(kind)}" role="status">{text(message)}</div>'


def _names(doc_ids: Sequence[str], shown: int = 3) -> str:
    """``a.txt, b.txt, c.txt and 12 more``, escaped."""
    head = ", ".join(text(d) for d in doc_ids[:shown])
    return head + (f" and {len(doc_ids) - shown:,} more" if len(doc_ids) > shown else "")


def live_html(live: LiveStatus) -> str:
    """The chat's status line: an index change in progress, or what the last one made answerable (or removed)."""
    if live.activity:
        return f'<div class="qa-live qa-live-busy" role="status">⟳ {text(live.activity)}</div>'
    lines: list[str] = []
    news = live.news
    if news is not None:
        at = time.strftime("%H:%M:%S", time.localtime(news.at))
        if news.error:
            lines.append(
                f'<div class="qa-live qa-live-error" role="alert">{at} — the latest changes to the corpus folder '
                f"could not be indexed: {text(news.error)} It is tried again shortly.</div>"
            )
        else:
            parts = []
            if news.added:
                parts.append(f"answerable now: {_names(news.added)}")
            if news.updated:
                parts.append(f"updated: {_names(news.updated)}")
            if news.removed:
                parts.append(f"removed, no longer cited: {_names(news.removed)}")
            parts += [f"not indexed: {text(s.doc_id)} ({text(s.reason)})" for s in news.skipped[:3]]
            if parts:
                lines.append(f'<div class="qa-live qa-live-ok" role="status">✓ {at} — {"; ".join(parts)}</div>')
    if live.watch_error and not live.watching:
        lines.append(
            '<div class="qa-live qa-live-warning" role="alert">The corpus folder is not being watched '
            f"({text(live.watch_error)}): new files are indexed by Rebuild or <code>qa index</code>.</div>"
        )
    return "".join(lines)


def status_html(status: IndexStatus, activity: str | None = None, error: str | None = None) -> str:
    """The index's figures; while it changes, what is happening (and, for a rebuild, the figures it had)."""
    built = status.last_built or "never"
    figures = (
        f"<b>{status.documents}</b> documents · <b>{status.chunks}</b> chunks · "
        f"model {text(status.model)} · last built {text(built)}"
    )
    busy = f'<div class="qa-status-busy" role="status">{text(activity)}</div>' if activity else ""
    failed = (
        f'<div class="qa-status-error" role="alert">The index could not be brought up to date: {text(error)}</div>'
        if error
        else ""
    )
    return f'<div class="qa-status">{busy}{failed}{figures}</div>'


def documents_html(documents: Mapping[str, DocumentRecord], total: int | None = None) -> str:
    """The indexed documents as a table: title, file, date, chunks (of ``total``, when only some are listed)."""
    if not documents:
        return '<p class="qa-empty">No documents are indexed yet: upload some below.</p>'
    more = ""
    if total is not None and total > len(documents):
        more = (
            f'<p class="qa-meta">The {len(documents):,} most recently indexed of {total:,} documents are listed; '
            "to delete another, type its file name in the box.</p>"
        )
    rows = "".join(
        f"<tr><td>{text(d.title)}</td><td><code>{text(d.doc_id)}</code></td><td>{text(d.date or '—')}</td>"
        f'<td class="num">{d.n_chunks}</td></tr>'
        for d in sorted(documents.values(), key=lambda d: d.doc_id)
    )
    return (
        f'{more}<table class="qa-documents"><thead><tr><th>Title</th><th>File</th><th>Date</th>'
        '<th class="num">Chunks</th>'
        f"</tr></thead><tbody>{rows}</tbody></table>"
    )


def messages_html(messages: Sequence[str], kind: str = "info") -> str:
    """Several one-line notices (e.g. one per refused upload)."""
    return "".join(notice_html(m, kind) for m in messages)
