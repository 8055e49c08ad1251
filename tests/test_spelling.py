"""Misspelt question words are matched against the index's own vocabulary, and only those."""

from __future__ import annotations

import pytest

from index.builder import CorpusIndex
from qa.condense import StandaloneQuestion
from qa.retrieval import HybridRetriever
from qa.spelling import best_correction, edit_distance, respell


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("summit", "summit", 0),
        ("sumit", "summit", 1),  # a letter missing
        ("zelenksi", "zelenski", 1),  # two neighbours swapped count once
        ("aliance", "alliance", 1),
        ("recruting", "recruiting", 1),
        ("togther", "togeth", 3),
        ("croatia", "serbia", 5),
    ],
)
def test_edit_distance_counts_insertions_deletions_substitutions_and_swaps(a: str, b: str, distance: int) -> None:
    assert edit_distance(a, b, limit=5) == distance


def test_edit_distance_stops_at_the_limit() -> None:
    assert edit_distance("abcdefgh", "zyxwvuts", limit=2) == 3
    assert edit_distance("ab", "abcdef", limit=2) == 3


def test_best_correction_prefers_fewer_edits_then_the_commoner_term() -> None:
    vocabulary = [("recruit", 3), ("recrute", 1), ("recess", 9)]
    assert best_correction("recrut", vocabulary) == "recruit"  # one edit each: the commoner wins
    assert best_correction("recruit", vocabulary) is None  # known words are never changed
    assert best_correction("xylophon", vocabulary) is None  # nothing close
    assert best_correction("kayo", [("kaya", 5)]) is None  # short words are left alone
    assert best_correction("2024x", [("2024", 5)]) is None  # not a word


def test_respell_replaces_whole_words_only() -> None:
    assert respell("Recruting and recrutingly", {"recruting": "recruiting"}) == "recruiting and recrutingly"
    assert respell("nothing to do", {}) == "nothing to do"


def test_retrieval_searches_the_corrected_words(seed_index: CorpusIndex) -> None:
    retriever = HybridRetriever(seed_index)
    question = "how many days was the sumit"
    retrieval = retriever.retrieve(StandaloneQuestion(question, question), 5)
    assert retrieval.corrections == {"sumit": "summit"}
    assert retrieval.question is not None and retrieval.question.question == "how many days was the summit"
    assert "summit" in retrieval.query_terms
    assert any("two-day summit" in p.text for p in retrieval.passages)
    # Words of the documents are never "corrected", nor English words the articles happen not to use ("company"
    # is one edit from the articles' "comply"), nor words with nothing close in the index.
    assert retriever.corrections("what did croatia say about military blocs") == {}
    assert retriever.corrections("Which American company will supply the plant?") == {}
    assert retriever.corrections("quantum chromodynamics") == {}
