"""Pipe tables: found with exact offsets (index.tables), quoted whole (qa.answering); the chat draws them
(tests/test_ui_server.py, tests/test_browser.py)."""

from __future__ import annotations

import pytest
from conftest import CORPUS

from index.builder import CorpusIndex
from index.tables import MAX_TABLE_CHARS, find_tables, table_at, widen_to_table
from qa.answering import extend_over_list
from qa.service import build_answerer

KAYO = "000_0c62668bd953e794.txt"


def _rows(text: str, table_index: int = 0) -> list[list[str]]:
    table = find_tables(text)[table_index]
    return [[text[a:b] for a, b in row.cells] for row in table.rows if row.kind != "delimiter"]


def test_the_seed_corpus_tables_are_found_with_every_row() -> None:
    found = {p.name: find_tables(p.read_text(encoding="utf-8")) for p in sorted(CORPUS.glob("*.txt"))}
    assert {name: len(tables) for name, tables in found.items() if tables} == {
        KAYO: 1,
        "001_6b5fe14106b636da.txt": 3,
        "004_299ba8388898a818.txt": 3,
    }
    text = (CORPUS / KAYO).read_text(encoding="utf-8")
    assert _rows(text) == [
        ["Objective", "Description"],
        ["R&D Investment", "Increase investment in research and development for advanced weaponry."],
        ["Production Capacity", "Expand production lines to meet both domestic and export demands."],
        ["Training Programs", "Implement training programs for skilled labor in the defense sector."],
    ]
    # Rows without a leading pipe ("Country | Recent Initiative | Date |") are rows all the same.
    other = (CORPUS / "004_299ba8388898a818.txt").read_text(encoding="utf-8")
    assert _rows(other, 1)[0] == ["Country", "Recent Initiative", "Date"]
    assert _rows(other, 1)[-1] == ["North Macedonia", "Security Roundtable Discussion", "September 2023"]
    for name, tables in found.items():
        text = (CORPUS / name).read_text(encoding="utf-8")
        for table in tables:  # offsets are exact: the table is whole lines, header to last row
            assert table.start == 0 or text[table.start - 1] == "\n"
            assert table.end == len(text) or text[table.end] == "\n"
            assert text[table.start : table.end].count("\n") == len(table.rows) - 1


@pytest.mark.parametrize(
    "text",
    [
        "Prices | rose\nand fell | again\n",  # pipes in prose, no delimiter row
        "a | b\n---|---|---\n",  # a delimiter row that does not match the header
        "---|---\n---|---\n",  # two delimiter rows
        r"Escaped \| pipe" + "\n---\n",
    ],
)
def test_text_that_is_not_a_table_is_left_alone(text: str) -> None:
    assert find_tables(text) == []


def test_table_at_finds_the_table_holding_an_offset() -> None:
    text = "Intro:\n| a | b |\n|:--|--:|\n| 1 | x \\| y |\n| 2 | z |\nAfter.\n"
    table = table_at(text, text.index("2 |"))
    assert table is not None and text[table.start : table.end] == text[7 : text.index("\nAfter")]
    assert [text[a:b] for a, b in table.rows[2].cells] == ["1", "x \\| y"]  # an escaped pipe stays in its cell
    assert table_at(text, text.index("Intro")) is None and table_at(text, text.index("After")) is None


def test_a_quoted_row_or_introduction_takes_the_whole_table() -> None:
    text = (CORPUS / KAYO).read_text(encoding="utf-8")
    table = find_tables(text)[0]
    row = text.index("| Production Capacity")
    assert widen_to_table(text, row, text.index("\n", row)) == (table.start, table.end)
    intro = text.index("In light of recent assessments")
    colon = text.index("which include:") + len("which include:")
    end = extend_over_list(text, intro, colon)
    assert end == table.end and text[intro:end].endswith("skilled labor in the defense sector. |")  # not cut at 400
    assert end - intro > 400
    # Longer than MAX_TABLE_CHARS: the row alone, and the introduction as far as the list limit goes.
    long = "Intro:\n" + "a | b |\n---|---|\n" + "".join(f"row {i} | {'x' * 60} |\n" for i in range(60))
    assert find_tables(long)[0].end - find_tables(long)[0].start > MAX_TABLE_CHARS
    row = long.index("row 7")
    assert widen_to_table(long, row, row + 10) == (row, row + 10)
    assert extend_over_list(long, 0, len("Intro:")) <= 400


def test_an_answer_that_quotes_the_kayo_objectives_quotes_every_row(seed_index: CorpusIndex) -> None:
    answerer = build_answerer(seed_index.settings, index=seed_index)
    for question in (
        "What objectives did the Ministry of Defense outline for KAYO?",
        "What are the training programs for KAYO?",
    ):
        answer = answerer.answer(question)
        cited = [c for c in answer.citations if c.source == KAYO]
        assert cited, (question, answer.text)
        quote = cited[0].quote
        assert "| Objective | Description |" in quote and "| Training Programs |" in quote, quote
        document = seed_index.document_text(KAYO)
        assert document is not None and document[cited[0].start : cited[0].end] == quote
        assert quote in cited[0].passage
