"""Pipe tables in plain text ("| a | b |" lines under a "|---|---|" row), found with exact character offsets.

Articles written as Markdown, or exported from it, carry tables as text. The answerer quotes a table whole
and the chat renders it as a table, so both need to know where one starts and ends. The outer pipes are
optional (the seed corpus has rows like ``Country | Date |``), as in GitHub-flavoured Markdown; a table
needs its delimiter row (``---|:--:|``), which keeps a stray "|" in prose from starting one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Span = tuple[int, int]
RowKind = Literal["header", "delimiter", "body"]

_UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")
_DELIMITER_CELL = re.compile(r"\s*:?-+:?\s*")
MAX_ROWS = 10_000  # a "table" longer than this is not one a reader wants quoted or drawn


@dataclass(frozen=True, slots=True)
class Row:
    """One line of a table: its span (without the newline) and the span of each cell's text (trimmed)."""

    start: int
    end: int
    cells: tuple[Span, ...]
    kind: RowKind


@dataclass(frozen=True, slots=True)
class Table:
    """A pipe table: ``text[start:end]`` runs from the header line's start to the last row's end."""

    start: int
    end: int
    rows: tuple[Row, ...]

    @property
    def header(self) -> tuple[Row, ...]:
        return tuple(r for r in self.rows if r.kind == "header")

    @property
    def body(self) -> tuple[Row, ...]:
        return tuple(r for r in self.rows if r.kind == "body")


def _line_end(text: str, start: int) -> int:
    end = text.find("\n", start)
    return len(text) if end < 0 else end


def _cells(text: str, start: int, end: int) -> tuple[Span, ...] | None:
    """The trimmed cell spans of the line ``text[start:end]``, or None when it is not a table row."""
    line = text[start:end]
    if "|" not in line or not line.strip():
        return None
    bounds = [start, *(start + m.start() for m in _UNESCAPED_PIPE.finditer(line)), end]
    if len(bounds) == 2:  # only escaped pipes
        return None
    spans: list[Span] = []
    for i in range(len(bounds) - 1):
        lo = bounds[i] + (1 if i else 0)
        hi = bounds[i + 1]
        while lo < hi and text[lo].isspace():
            lo += 1
        while hi > lo and text[hi - 1].isspace():
            hi -= 1
        spans.append((lo, hi))
    # Outer pipes are optional: an empty first or last cell is the space before or after one.
    if spans and spans[0][0] == spans[0][1] and not line[: spans[0][0] - start].replace("|", "").strip():
        spans.pop(0)
    if spans and spans[-1][0] == spans[-1][1] and not text[spans[-1][1] : end].replace("|", "").strip():
        spans.pop()
    return tuple(spans) if spans else None


def _is_delimiter(text: str, cells: tuple[Span, ...], start: int, end: int) -> bool:
    """``|---|:--:|``: every cell is dashes with optional colons (checked on the raw line, cells may be empty)."""
    parts = [p for p in text[start:end].strip().strip("|").split("|")]
    return bool(parts) and all(_DELIMITER_CELL.fullmatch(p) for p in parts) and len(cells) == len(parts)


def table_from(text: str, start: int) -> Table | None:
    """The table whose header line starts at ``start`` (a line start), or None when none starts there."""
    header_end = _line_end(text, start)
    header = _cells(text, start, header_end)
    if header is None or header_end >= len(text):
        return None
    delimiter_start = header_end + 1
    delimiter_end = _line_end(text, delimiter_start)
    delimiter = _cells(text, delimiter_start, delimiter_end)
    if delimiter is None or not _is_delimiter(text, delimiter, delimiter_start, delimiter_end):
        return None
    if len(delimiter) != len(header):  # as in GitHub-flavoured Markdown: one delimiter per header cell
        return None
    if _is_delimiter(text, header, start, header_end):
        return None  # two delimiter rows: not a header
    rows = [Row(start, header_end, header, "header"), Row(delimiter_start, delimiter_end, delimiter, "delimiter")]
    position = delimiter_end
    while position < len(text) and len(rows) < MAX_ROWS:
        line_start = position + 1
        line_end = _line_end(text, line_start)
        cells = _cells(text, line_start, line_end)
        if cells is None:
            break
        rows.append(Row(line_start, line_end, cells, "body"))
        position = line_end
    return Table(start, rows[-1].end, tuple(rows))


def find_tables(text: str, start: int = 0, end: int | None = None) -> list[Table]:
    """Every table whose header line starts in ``text[start:end]`` (offsets into ``text``), in order."""
    end = len(text) if end is None else end
    if "|" not in text[start:end]:
        return []
    tables: list[Table] = []
    line_start = text.rfind("\n", 0, start) + 1  # from the start of the line holding ``start``
    while line_start < end:
        line_end = _line_end(text, line_start)
        if "|" in text[line_start:line_end] and (table := table_from(text, line_start)) is not None:
            tables.append(table)
            line_start = table.end + 1
            continue
        line_start = line_end + 1
    return tables


def table_at(text: str, offset: int) -> Table | None:
    """The table holding character ``offset`` of ``text``, or None (cheap when its line has no pipe)."""
    if not 0 <= offset < len(text):
        return None
    line_start = text.rfind("\n", 0, offset) + 1
    if "|" not in text[line_start : _line_end(text, line_start)]:
        return None
    # Walk up over the lines that could be rows of the same table; its header is one of them.
    first = line_start
    for _ in range(MAX_ROWS):
        if first == 0:
            break
        previous = text.rfind("\n", 0, first - 1) + 1
        if _cells(text, previous, first - 1) is None:
            break
        first = previous
    for table in find_tables(text, first, line_start + 1):
        if table.start <= offset <= table.end:
            return table
    return None


MAX_TABLE_CHARS = 2_000  # a table is quoted whole up to this length; a longer one only as far as the quote goes


def widen_to_table(text: str, start: int, end: int, limit: int = MAX_TABLE_CHARS) -> tuple[int, int]:
    """Offsets of a quote that starts inside a table (a row, read as a sentence of its own) widened to the whole
    table, header to last row: a row read without its header and neighbours loses what its cells mean."""
    table = table_at(text, start)
    if table is None or table.end - table.start > limit:
        return start, end
    return min(start, table.start), max(end, table.end)
