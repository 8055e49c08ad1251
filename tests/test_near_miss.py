"""Near-miss questions, which share an article's words but ask for what it never says, over news articles on which
no rule was chosen and no weight trained (writer w7 of training/news_qa, asked as a user would): an age asked for, or
a year named, or an amount of money in no currency, that no quote states is refused with the closest passages, and the
questions of those kinds that the articles answer are still answered."""

from __future__ import annotations

from conftest import unseen_writer_questions

from index.builder import CorpusIndex
from qa.extractive import asked_kind, years_named
from qa.service import build_answerer
from training.encoder_data import holds_evidence


def _asking_an_age_or_naming_a_year() -> list[dict]:
    return [r for r in unseen_writer_questions() if "how old" in r["question"].lower() or years_named(r["question"])]


def test_near_misses_asking_an_age_or_naming_a_year_are_refused_and_the_answered_ones_are_not(
    unseen_writer_index: CorpusIndex,
) -> None:
    rows = _asking_an_age_or_naming_a_year()
    near = [r for r in rows if r["kind"] == "near_miss"]
    answerable = [r for r in rows if r["evidence"]]
    assert len(near) >= 8 and answerable
    answerer = build_answerer(unseen_writer_index.settings, index=unseen_writer_index)
    refused = [a for a in (answerer.answer(r["question"]) for r in near) if a.refused]
    # Measured with `python scripts/news_benchmark.py --writers w7`: 1 of these 11 refused before the age and year
    # checks, 8 with them (docs/TUNING.md, twenty-fifth session).
    assert len(refused) >= 0.6 * len(near)
    assert all(a.closest and not a.citations for a in refused)  # each shows the passages nearest the question
    for row in answerable:
        answer = answerer.answer(row["question"])
        assert not answer.refused, row["question"]
        assert holds_evidence(answer.citations[0].quote, row["evidence"])


def test_near_misses_asking_for_money_are_refused_where_no_quote_names_a_currency(
    unseen_writer_index: CorpusIndex,
) -> None:
    rows = [r for r in unseen_writer_questions() if asked_kind(r["question"]) == "money"]
    near = [r for r in rows if r["kind"] == "near_miss"]
    answerable = [r for r in rows if r["evidence"]]
    assert len(near) >= 3 and len(answerable) >= 3
    answerer = build_answerer(unseen_writer_index.settings, index=unseen_writer_index)
    refused = [a for a in (answerer.answer(r["question"]) for r in near) if a.refused]
    # Measured with `python scripts/news_benchmark.py --writers w7`: none of these 3 refused before the currency
    # check, 3 with it (docs/TUNING.md, twenty-sixth session).
    assert len(refused) >= 2
    assert all(a.closest and not a.citations for a in refused)
    answers = [answerer.answer(r["question"]) for r in answerable]
    # None is refused for want of a currency. One paraphrase ("What price will the state distributor pay per unit …?")
    # was refused by the refusal's thresholds before any quote was chosen; since MEANING_FLOOR (qa.answering) the
    # answer encoder answers it, with a quote that names a currency but not its evidence (docs/TUNING.md).
    assert not any(a.signals.get("lacks_asked_type") for a in answers)
    answered = [a for a in answers if not a.refused]
    assert len(answered) >= 3
