"""Sentence splitting: exact offsets, line units (bullets, table rows, headings), abbreviations, unicode."""

from __future__ import annotations

import pytest

from index.sentences import back_matter, soft_wrapped, split_sentences
from tests.conftest import CORPUS


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


def assert_exact_spans(text: str) -> None:
    """Spans are in order, do not overlap, are stripped, and never lose a word of two or more characters."""
    spans = split_sentences(text)
    previous_end = 0
    for start, end in spans:
        assert previous_end <= start < end <= len(text)
        piece = text[start:end]
        assert piece == piece.strip() and len(piece) >= 2
        previous_end = end
    covered: set[int] = set()
    for start, end in spans:
        covered.update(range(start, end))
    lost = "".join(ch if i not in covered else " " for i, ch in enumerate(text)).split()
    assert all(len(word) < 2 for word in lost), lost


def test_plain_sentences_have_exact_offsets() -> None:
    text = "  The summit opened today. Leaders arrived from five countries!  Was it a success? Nobody knows.  "
    assert sentences(text) == [
        "The summit opened today.",
        "Leaders arrived from five countries!",
        "Was it a success?",
        "Nobody knows.",
    ]
    spans = split_sentences(text)
    assert spans[0] == (2, 2 + len("The summit opened today."))
    assert_exact_spans(text)


def test_abbreviations_and_initials_do_not_end_a_sentence() -> None:
    text = (
        "Dr. Smith met the U.S. Army in Washington. Mr. J. R. Brown of the U.K. Ministry agreed. "
        "Prices rose approx. 5 per cent, e.g. 4.5 in Jan. 2024. It ended at 3 p.m. Then they left."
    )
    assert sentences(text) == [
        "Dr. Smith met the U.S. Army in Washington.",
        "Mr. J. R. Brown of the U.K. Ministry agreed.",
        "Prices rose approx. 5 per cent, e.g. 4.5 in Jan. 2024.",
        "It ended at 3 p.m. Then they left.",  # "p.m." before a capital is ambiguous: kept together
    ]
    assert_exact_spans(text)


def test_decimals_and_lowercase_continuations_do_not_split() -> None:
    text = "Spending grew 2.5 per cent. this year, officials said. The budget is 1.2 billion."
    assert sentences(text) == [
        "Spending grew 2.5 per cent. this year, officials said.",
        "The budget is 1.2 billion.",
    ]


def test_sentences_glued_without_a_space_are_split() -> None:
    # Scraped news text: "…in Southeast Europe.The agreement…" (two of the seed articles have such joins).
    text = (
        "It reflects a vision for Southeast Europe.The agreement signals a cooperative approach.As tensions "
        "persist, the U.S.Army and Mr.Smith visited kayo.al, e.g.The plant. Growth was 3.5 per cent.This is ALL.Done"
    )
    assert sentences(text) == [
        "It reflects a vision for Southeast Europe.",
        "The agreement signals a cooperative approach.",
        "As tensions persist, the U.S.Army and Mr.Smith visited kayo.al, e.g.The plant.",
        "Growth was 3.5 per cent.",
        "This is ALL.Done",
    ]
    assert_exact_spans(text)


def test_quotes_and_brackets_stay_with_their_sentence() -> None:
    text = 'He said: "We are ready." (The talks resumed.) "Who knows?" she asked.'
    assert sentences(text) == ['He said: "We are ready."', "(The talks resumed.)", '"Who knows?" she asked.']


def test_lines_bullets_headings_and_table_rows_are_units() -> None:
    text = (
        "# Defence Pact Signed\n"
        "\n"
        "Key Takeaways\n"
        "- Coordinated weapons procurement to reduce costs\n"
        "* Joint training. Shared bases\n"
        "| Objective | Description |\n"
        "|-----------|-------------|\n"
        "R&D Investment | Increase investment in research\n"
        "x\n"
        "Last line without a full stop"
    )
    assert sentences(text) == [
        "# Defence Pact Signed",
        "Key Takeaways",
        "- Coordinated weapons procurement to reduce costs",
        "* Joint training.",
        "Shared bases",
        "| Objective | Description |",
        "|-----------|-------------|",
        "R&D Investment | Increase investment in research",
        "Last line without a full stop",
    ]
    assert_exact_spans(text)


def test_hard_wrapped_lines_are_joined_back_into_their_sentence() -> None:
    # Text extracted from a PDF: prose cut into lines of ~70 characters, a heading and a list left alone.
    text = (
        "Computed tomography (CT) can play a role in both diagnosing and categorizing\n"
        "COVID-19 on the basis of case definitions issued by the WHO. The equipment is\n"
        "wiped with 2000mg/L chlorine-containing disinfectant.\n"
        "Noncontaminated CT Disinfection Procedures After Suspected Case Examination\n"
        "Factors to consider may include:\n"
        "- recent travel from an affected area\n"
        "Figure 1. Regression plot of locations with the interval bounds smoothed for\n"
        "Table 2 lists them."
    )
    assert sentences(text) == [
        "Computed tomography (CT) can play a role in both diagnosing and categorizing\n"
        "COVID-19 on the basis of case definitions issued by the WHO.",
        "The equipment is\nwiped with 2000mg/L chlorine-containing disinfectant.",
        "Noncontaminated CT Disinfection Procedures After Suspected Case Examination",
        "Factors to consider may include:",
        "- recent travel from an affected area",
        "Figure 1.",
        "Regression plot of locations with the interval bounds smoothed for",
        "Table 2 lists them.",
    ]
    assert_exact_spans(text)


def test_soft_wrap_rules() -> None:
    assert soft_wrapped("the virus spreads", "mainly between people")  # a lower-case continuation
    assert not soft_wrapped("Insights and Conclusions", "the signing of the declaration")  # a heading
    assert not soft_wrapped("Short line without a stop", "Another line")  # short: a heading or an item
    assert not soft_wrapped("A line that ends its sentence well before the end of the line.", "next one")
    assert not soft_wrapped("See the full report of the centre for disease control at", "https://example.org")
    assert not soft_wrapped("Cases among close contacts of a known case and others too,", "- a bullet")


def test_unicode_text_keeps_exact_offsets() -> None:
    text = "Prime Minister Edi Rama spoke in Tiranë. “We stand together,” he said. Šutanovac agreed. Đukanović did too."
    assert sentences(text) == [
        "Prime Minister Edi Rama spoke in Tiranë.",
        "“We stand together,” he said.",
        "Šutanovac agreed.",
        "Đukanović did too.",
    ]
    assert_exact_spans(text)


def test_windows_line_endings_and_tabs() -> None:
    text = "First line.\r\n\tSecond line here.\r\nThird."
    assert sentences(text) == ["First line.", "Second line here.", "Third."]
    assert_exact_spans(text)


@pytest.mark.parametrize("text", ["", "   ", "\n\n\n", ".", "a\nb\n"])
def test_nothing_to_split(text: str) -> None:
    assert split_sentences(text) == []


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.txt")), ids=lambda p: p.name)
def test_corpus_articles_split_exactly(path: object) -> None:
    from pathlib import Path

    assert isinstance(path, Path)
    text = path.read_text(encoding="utf-8")
    assert len(split_sentences(text)) > 10
    assert_exact_spans(text)


def test_a_documents_list_of_sources_is_back_matter_up_to_its_last_entry() -> None:
    text = (
        "Croatia signed the declaration.\n"
        "Sources\n"
        "- Kosovo, Albania, Croatia Forge Cooperation, The Defense Post.\n"
        "\n"
        "References\n"
        "1.\n"
        "Swerdlow  DL, Finelli  L. 2009 H1N1 influenza pandemic. Clin Infect Dis. 2011;52(suppl 1):S1-S3.\n"
        "Retrieved from https://example.org/report.pdf\n"
        "Comment\n"
        "The message, that we need to prepare, is vital."
    )
    spans = back_matter(text)
    listed = [text[s:e] for s, e in spans]
    assert listed[0].startswith("Sources\n") and listed[0].endswith("The Defense Post.")
    assert listed[1].startswith("References\n") and listed[1].endswith("report.pdf")
    assert len(listed) == 2  # the text before the list and after its last entry is not back matter
    assert "Croatia signed" not in "".join(listed) and "is vital" not in "".join(listed)


def test_a_heading_word_inside_a_sentence_or_before_prose_lists_nothing() -> None:
    assert back_matter("Our sources say the summit was in Kyiv.\nThe deal was signed.") == []
    text = "References\nThe ministry did not say which rifles KAYO will make."
    assert [text[s:e] for s, e in back_matter(text)] == ["References"]
    # A paragraph that mentions a year is text, not an entry: "Sources" may head a section of prose.
    prose = "In 2024 the ministry said it would buy rifles, and officials confirmed the plan. " * 8
    text = "Sources\n" + prose.strip()
    assert [text[s:e] for s, e in back_matter(text)] == ["Sources"]


def test_a_footnote_number_after_the_stop_still_ends_the_sentence() -> None:
    # Text extracted from papers keeps superscript footnote numbers beside the stop.
    text = "A pandemic in the United States.7 In scenarios that used attack rates, it rose. It spreads.8,9 Models vary."
    assert sentences(text) == [
        "A pandemic in the United States.7",
        "In scenarios that used attack rates, it rose.",
        "It spreads.8,9",
        "Models vary.",
    ]
    assert_exact_spans(text)
    # A figure is no footnote; an abbreviation before a number still does not end a sentence.
    assert sentences("It rose 2.5 Million times in Fig.3 Shows.") == ["It rose 2.5 Million times in Fig.3 Shows."]
