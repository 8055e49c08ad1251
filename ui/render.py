"""HTML for the chat UI, built from escaped pieces: text from documents and answers is never markup.

Every string that came from a document, a question or an answer passes through ``html.escape``; the only
tags are the ones written here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from html import escape

from index.builder import IndexStatus
from index.catalog import DocumentRecord
from qa.types import Answer, Citation

MARKER = re.compile(r"\[(\d{1,3})\]")
ARTICLE_WINDOW = 60_000  # characters of a very long article shown around the quote


def text(value: str) -> str:
    """Escaped text (quotes too, so it is safe inside attributes)."""
    return escape(value, quote=True)


def link_markers(escaped: str, known: Sequence[int]) -> str:
    """Turn ``[n]`` in already-escaped text into a styled marker for each known citation number."""

    def repl(match: re.Match[str]) -> str:
        n = int(match.group(1))
        if n not in known:
            return match.group(0)
        return f'<sup class="cite" data-n="{n}">[{n}]</sup>'

    return MARKER.sub(repl, escaped)


def streaming_html(partial: str) -> str:
    """The answer while it forms."""
    return f'<div class="qa-answer qa-streaming">{text(partial)}<span class="qa-caret">▍</span></div>'


def answer_html(answer: Answer) -> str:
    """The finished answer for the conversation: markers, unsupported sentences and a short source list."""
    numbers = [c.n for c in answer.citations]
    if answer.refused:
        return (
            '<div class="qa-answer qa-refusal" role="note"><span class="qa-refusal-label">No answer in the '
            f"documents</span> {text(answer.text)}</div>"
        )
    if answer.sentences:
        # A sentence's text is quoted from a document (or written by a model, its markers taken out), so a "[1]"
        # in it is text: the only markers are the ones built here from the sentence's citations.
        parts = []
        for sentence in answer.sentences:
            body = text(sentence.text)
            body += "".join(f' <sup class="cite" data-n="{n}">[{n}]</sup>' for n in sentence.citations if n in numbers)
            if not sentence.supported:
                body = (
                    '<span class="qa-unsupported" title="The cited passages do not support this sentence">'
                    f'{body} <span class="qa-unsupported-label">⚠ not supported by the sources</span></span>'
                )
            parts.append(body)
        body_html = " ".join(parts)
    else:
        body_html = link_markers(text(answer.text), numbers)
    footer = ""
    if answer.citations:
        by_source: dict[str, list[Citation]] = {}
        for c in answer.citations:
            by_source.setdefault(c.source, []).append(c)
        items = "".join(
            f'<li><span class="cite-n">{"".join(f"[{c.n}]" for c in cited)}</span> {text(cited[0].title)} '
            f'<span class="qa-meta">— {_file_and_date(source, cited[0].date)}</span></li>'
            for source, cited in by_source.items()
        )
        footer = f'<ol class="qa-answer-sources">{items}</ol>'
    notice = f'<div class="qa-notice-inline">{text(answer.notice)}</div>' if answer.notice else ""
    return f'<div class="qa-answer">{notice}<div class="qa-answer-text">{body_html}</div>{footer}</div>'


def _file_and_date(source: str, date: str | None) -> str:
    return text(source) + (f" · {text(date)}" if date else "")


def error_html(message: str) -> str:
    """A problem the user can fix, shown in the conversation."""
    return f'<div class="qa-answer qa-error" role="alert">{text(message)}</div>'


def question_html(question: str) -> str:
    return f'<div class="qa-question">{text(question)}</div>'


def highlighted(document: str, start: int, end: int) -> str:
    """``document`` escaped, with ``document[start:end]`` inside ``<mark>``."""
    if not 0 <= start <= end <= len(document):
        return text(document)
    return f"{text(document[:start])}<mark>{text(document[start:end])}</mark>{text(document[end:])}"


def find_quote(haystack: str, quote: str, near: int) -> int | None:
    """Offset of ``quote`` in ``haystack``: at ``near`` when it is there, else the closest occurrence."""
    if not quote:
        return None
    if haystack[near : near + len(quote)] == quote:
        return near
    hits = [m.start() for m in re.finditer(re.escape(quote), haystack)]
    return min(hits, key=lambda i: abs(i - near)) if hits else None


def passage_html(citation: Citation) -> str:
    """The citation's passage with its quoted sentence highlighted."""
    at = find_quote(citation.passage, citation.quote, citation.start - citation.passage_start)
    if at is None:
        return text(citation.passage)
    return highlighted(citation.passage, at, at + len(citation.quote))


def article_html(document: str | None, citation: Citation) -> str:
    """The whole article with the quote highlighted (a window around it when the article is very long)."""
    if not document:
        return '<p class="qa-meta">The article is no longer in the index.</p>'
    at = find_quote(document, citation.quote, citation.start)
    if at is None:
        return text(document[:ARTICLE_WINDOW])
    lo, hi = 0, len(document)
    if len(document) > ARTICLE_WINDOW:
        lo = max(0, at - ARTICLE_WINDOW // 2)
        hi = min(len(document), lo + ARTICLE_WINDOW)
    body = highlighted(document[lo:hi], at - lo, at - lo + len(citation.quote))
    before = '<span class="qa-meta">[…]</span>\n' if lo else ""
    after = '\n<span class="qa-meta">[…]</span>' if hi < len(document) else ""
    return before + body + after


def sources_html(answer: Answer | None, document_text: Callable[[str], str | None]) -> str:
    """The sources panel: per citation its title, file, date and passage, and the whole article on request."""
    if answer is None:
        return '<div class="qa-sources qa-empty">Sources of the answer appear here.</div>'
    if answer.refused or not answer.citations:
        return '<div class="qa-sources qa-empty">No sources: the indexed articles do not answer this.</div>'
    cards = []
    texts: dict[str, str | None] = {}
    for c in answer.citations:
        if c.source not in texts:
            texts[c.source] = document_text(c.source)
        meta = _file_and_date(c.source, c.date)
        cards.append(
            f'<section class="qa-source" id="qa-source-{c.n}" data-n="{c.n}">'
            f'<header><span class="cite-n">[{c.n}]</span> '
            f'<span class="qa-source-title">{text(c.title)}</span>'
            f'<div class="qa-meta">{meta}</div></header>'
            f'<blockquote class="qa-passage">{passage_html(c)}</blockquote>'
            f'<details class="qa-article"><summary>Open the whole article</summary>'
            f'<div class="qa-article-text" tabindex="0">{article_html(texts[c.source], c)}</div></details>'
            "</section>"
        )
    return f'<div class="qa-sources">{"".join(cards)}</div>'


def notice_html(message: str | None, kind: str = "info") -> str:
    """A one-line notice (an unreachable model, an empty question); empty when there is nothing to say."""
    if not message:
        return ""
    return f'<div class="qa-notice qa-notice-{text(kind)}" role="status">{text(message)}</div>'


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


def documents_html(documents: Mapping[str, DocumentRecord]) -> str:
    """The indexed documents as a table: title, file, date, chunks."""
    if not documents:
        return '<p class="qa-empty">No documents are indexed yet: upload some below.</p>'
    rows = "".join(
        f"<tr><td>{text(d.title)}</td><td><code>{text(d.doc_id)}</code></td><td>{text(d.date or '—')}</td>"
        f'<td class="num">{d.n_chunks}</td></tr>'
        for d in sorted(documents.values(), key=lambda d: d.doc_id)
    )
    return (
        '<table class="qa-documents"><thead><tr><th>Title</th><th>File</th><th>Date</th>'
        '<th class="num">Chunks</th>'
        f"</tr></thead><tbody>{rows}</tbody></table>"
    )


def messages_html(messages: Sequence[str], kind: str = "info") -> str:
    """Several one-line notices (e.g. one per refused upload)."""
    return "".join(notice_html(m, kind) for m in messages)
