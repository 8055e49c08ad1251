"""Sentence spans with exact character offsets: lines, bullets and table rows are units of their own."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

Span = tuple[int, int]

# A sentence ends at . ! ? (plus closing quotes/brackets) followed by space and an upper-case letter
# (any script: "Šutanovac", "Đukanović") or digit, maybe after a quote or bracket (checked in the loop,
# as ``re`` has no upper-case class). Abbreviations and initials are rejoined below.
_BOUNDARY = re.compile(r"""[.!?]+["'”’)\]]*\s+(?=["'“‘(\[]?\w)""")
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


def _line_spans(text: str) -> Iterator[Span]:
    start = 0
    for match in re.finditer(r"\n", text):
        yield start, match.start()
        start = match.end()
    yield start, len(text)


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
    for line_start, line_end in _line_spans(text):
        start, end = _strip(text, line_start, line_end)
        if end - start < _MIN_CHARS:
            continue
        piece_start = start
        for match in _BOUNDARY.finditer(text, start, end):
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
