"""Sentence spans with exact character offsets: lines, bullets and table rows are units of their own."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from index.keywords import STOP_WORDS

Span = tuple[int, int]

# A sentence ends at . ! ? (plus closing quotes/brackets) followed by space and an upper-case letter
# (any script: "Šutanovac", "Đukanović") or digit, maybe after a quote or bracket (checked in the loop,
# as ``re`` has no upper-case class). Abbreviations and initials are rejoined below.
_BOUNDARY = re.compile(r"""[.!?]+["'”’)\]]*\s+(?=["'“‘(\[]?\w)""")
# The same after a footnote number that text extracted from a paper keeps next to the stop ("…in the United
# States.7 In scenarios…", "…can occur.8,9 Disease…"): after a word, never after a figure ("rose 2.5 Million").
_FOOTNOTED = re.compile(r"""(?:(?<=[^\W\d_][)\]])|(?<=[^\W\d_]))[.!?]\d{1,3}(?:[,–-]\d{1,3})*\s+(?=["'“‘(\[]?\w)""")
# Sentences glued without a space, as scraped news text has them ("…in Southeast Europe.The agreement…"): a
# lower-case word of two letters or more, the stop, then a capitalised word. Initials, dotted acronyms ("U.S.Army"),
# decimals and domain names ("kayo.al") do not match; abbreviations ("Mr.Smith") are rejoined as above.
_GLUED = re.compile(r"""(?<=[^\W\d_]{2})(?<![A-Z])[.!?]+["'”’)\]]*(?=[A-Z][a-z])""")
_OPENERS = "\"'“‘(["
_ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof st sr jr vs etc e.g i.e no nos fig figs al approx dept gen col lt sgt capt
    gov sen rep inc ltd co corp jan feb mar apr jun jul aug sep sept oct nov dec u.s u.k u.n e.u p.m a.m
    ph.d cf ca op vol pp ed eds""".split()  # noqa: SIM905 - a word list reads best as text
)
_MIN_CHARS = 2


def _ends_with_abbreviation(text: str) -> bool:
    match = re.search(r"(\S+)\.$", text)
    if not match:
        return False
    word = match.group(1).lower().lstrip("(\"'“")
    if word in _ABBREVIATIONS:
        return True
    # Initials ("J.") and dotted acronyms ("U.S.") do not end sentences.
    return (len(word) == 1 and word.isalpha()) or bool(re.fullmatch(r"(?:[a-z]\.)+[a-z]", word))


def line_spans(text: str) -> Iterator[Span]:
    """Offsets of each line of ``text`` (split at "\\n", without it)."""
    start = 0
    for match in re.finditer(r"\n", text):
        yield start, match.start()
        start = match.end()
    yield start, len(text)


# A list item or a table row (match at the start of a line).
LIST_ITEM = re.compile(r"\s*(?:[-*•·▪–]|\d{1,2}[.)]|[a-z][.)])\s+\S|.*\|")
_ENDS_SENTENCE = re.compile(r"[.!?:;][\"')\]”’]*$")
_CAPTION = re.compile(r"(?:Fig(?:ure)?|Table|Top)\b")
_WORD = re.compile(r"[^\W\d_][\w’'-]*")
WRAP_MIN_CHARS = 60  # hard-wrapped lines (text extracted from PDFs) are this long or longer
WRAP_MIN_CHARS_LOWER = 15  # ... or this long when the next line goes on in lower case


def title_case(text: str) -> bool:
    """Written in title case (a headline, the title of a listed report): three capitalised words or more, and no
    word in lower case but stop words ("Croatia Forge Cooperation for Stronger Balkan Defense"). Stricter than the
    heading test of ``soft_wrapped``, which half the words capitalised passes ("President Volodymyr Zelensky said")."""
    words = _WORD.findall(text)
    capitalised = sum(w[0].isupper() for w in words)
    return capitalised >= 3 and all(w[0].isupper() or w.lower() in STOP_WORDS for w in words)


def soft_wrapped(line: str, following: str) -> bool:
    """``following`` continues the sentence of ``line``: the line was wrapped, not ended (text from PDFs).

    Lists, table rows, headings (mostly capitalised) and lines that end a sentence are never joined; a line
    goes on into the next when that starts in lower case, or when it is as long as wrapped lines are and
    ends in a word or a comma.
    """
    line, following = line.strip(), following.strip()
    if not line or not following or _ENDS_SENTENCE.search(line) or LIST_ITEM.match(line) or LIST_ITEM.match(following):
        return False
    if "http" in line or "http" in following or _CAPTION.match(following):
        return False
    words = _WORD.findall(line)
    if sum(w[0].isupper() for w in words) >= 0.5 * len(words):
        return False  # a heading or a title
    if following[0].islower():
        return len(line) >= WRAP_MIN_CHARS_LOWER
    return len(line) >= WRAP_MIN_CHARS and bool(re.search(r"[a-z,-]$", line))


def _logical_lines(text: str) -> Iterator[Span]:
    """Lines, with hard-wrapped ones joined back into the line they were cut from."""
    pending: Span | None = None
    for start, end in line_spans(text):
        if pending is not None and soft_wrapped(text[pending[0] : pending[1]], text[start:end]):
            pending = (pending[0], end)
            continue
        if pending is not None:
            yield pending
        pending = (start, end)
    if pending is not None:
        yield pending


def paragraph_span(text: str, start: int, end: int, reach: int = 4000) -> Span:
    """The paragraph holding ``text[start:end]``: its line, with hard-wrapped lines joined back (PDF text), as
    far as ``reach`` characters either side (a document is never read whole for one quote)."""
    lo = text.rfind("\n", 0, max(0, start - reach)) + 1
    hi = text.find("\n", min(len(text), end + reach))
    hi = len(text) if hi < 0 else hi
    para_start, para_end = start, end
    for line_start, line_end in _logical_lines(text[lo:hi]):
        if lo + line_end >= start and lo + line_start <= end:  # overlaps (or touches) the span
            para_start, para_end = min(para_start, lo + line_start), max(para_end, lo + line_end)
    return para_start, para_end


def _strip(text: str, start: int, end: int) -> Span:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def split_sentences(text: str) -> list[Span]:
    """Split ``text`` into sentence spans; ``text[start:end]`` is each sentence, stripped of whitespace."""
    return list(_split_cached(text))


@lru_cache(maxsize=8192)
def _split_cached(text: str) -> tuple[Span, ...]:
    # Answering splits the same retrieved passages again and again; the spans of a text never change.
    return tuple(_split(text))


def _split(text: str) -> list[Span]:
    spans: list[Span] = []
    for line_start, line_end in _logical_lines(text):
        start, end = _strip(text, line_start, line_end)
        if end - start < _MIN_CHARS:
            continue
        piece_start = start
        boundaries = [
            *_BOUNDARY.finditer(text, start, end),
            *_GLUED.finditer(text, start, end),
            *_FOOTNOTED.finditer(text, start, end),
        ]
        for match in sorted(boundaries, key=lambda m: m.start()):
            candidate_end = match.start() + len(match.group().rstrip())
            following = text[match.end() : match.end() + 2].lstrip(_OPENERS)[:1]
            if not (following.isupper() or following.isdigit()):
                continue
            if _ends_with_abbreviation(text[piece_start : match.start() + 1]):
                continue
            s, e = _strip(text, piece_start, candidate_end)
            if e - s >= _MIN_CHARS:
                spans.append((s, e))
            piece_start = match.end()
        s, e = _strip(text, piece_start, end)
        if e - s >= _MIN_CHARS:
            spans.append((s, e))
    return spans


# The heading of a document's list of sources ("Sources", "References", "REFERENCES:", "Further reading").
_BACK_MATTER_HEADING = re.compile(
    r"(?:sources?|references?|bibliography|works cited|further reading|external links|citations)\s*:?", re.I
)
# A line of such a list: an item or a bare item number, or a line citing a work (a year, a URL, "et al.", a DOI,
# "Retrieved from", "Accessed", a journal's volume:pages).
_CITING = re.compile(
    r"""^\s*\d{1,3}[.)]?\s*$|https?://|www\.|\bdoi\b|\bet al\b|\b(?:19|20)\d\d\b|\bretrieved\b|\baccessed\b
    |\d+\s*[(:]\s*\d""",
    re.I | re.X,
)
MAX_ENTRY_CHARS = 500  # a longer line is a paragraph of text, whatever it cites (entries seen here: 279 at most)


def back_matter(text: str) -> list[Span]:
    """Spans of ``text`` that list the works a document cites: from a heading such as "Sources" or "References"
    to the last line of the list after it (items, numbered entries, lines citing a work), stopping at the first
    line of ordinary text. What such a list says is a title, not an answer."""
    return list(_back_matter_cached(text))


@lru_cache(maxsize=256)
def _back_matter_cached(text: str) -> tuple[Span, ...]:
    spans: list[Span] = []
    open_at: int | None = None
    last = 0
    for start, end in line_spans(text):
        line = text[start:end].strip()
        if open_at is None:
            if _BACK_MATTER_HEADING.fullmatch(line):
                open_at, last = start, end
            continue
        if not line or (len(line) <= MAX_ENTRY_CHARS and (LIST_ITEM.match(line) or _CITING.search(line))):
            last = end if line else last
            continue
        spans.append((open_at, last))
        open_at = start if _BACK_MATTER_HEADING.fullmatch(line) else None
        last = end
    if open_at is not None:
        spans.append((open_at, last))
    return tuple(spans)
