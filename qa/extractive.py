"""Extractive answering: choose the retrieved sentences that answer the question, verbatim and cited."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from index.keywords import terms
from index.sentences import split_sentences
from qa.types import Passage

# Weights of the sentence score, fitted on the development questions (see docs/TUNING.md).
W_DENSE = 0.55
W_LEXICAL = 0.35
W_PASSAGE = 0.10
MAX_SENTENCES = 3
RELATIVE_CUTOFF = 0.85  # further sentences must score at least this share of the best one
MAX_CANDIDATES = 40


@dataclass(frozen=True, slots=True)
class Sentence:
    """A candidate sentence: ``document_text[start:end] == text``."""

    source: str
    start: int
    end: int
    text: str
    passage_rank: int


@dataclass(frozen=True, slots=True)
class ScoredSentence:
    sentence: Sentence
    score: float
    dense: float
    lexical: float


def candidate_sentences(passages: Sequence[Passage]) -> list[Sentence]:
    """Sentences of the passages, each once (overlapping chunks repeat sentences), in passage order."""
    seen: set[tuple[str, int]] = set()
    out: list[Sentence] = []
    for rank, passage in enumerate(passages):
        for s, e in split_sentences(passage.text):
            key = (passage.source, passage.start + s)
            if key in seen or not re.search(r"\w", passage.text[s:e]):
                continue
            seen.add(key)
            out.append(Sentence(passage.source, passage.start + s, passage.start + e, passage.text[s:e], rank))
    return out


def lexical_coverage(question_terms: Sequence[str], text: str, idf: dict[str, float]) -> float:
    """Share of the question's idf mass whose terms occur in ``text`` (0..1)."""
    wanted = set(question_terms)
    if not wanted:
        return 0.0
    present = set(terms(text))
    total = sum(idf.get(t, 1.0) for t in wanted)
    return sum(idf.get(t, 1.0) for t in wanted & present) / total if total else 0.0


def score_sentences(
    sentences: Sequence[Sentence],
    sentence_vectors: np.ndarray,
    query_vector: np.ndarray,
    question_terms: Sequence[str],
    idf: dict[str, float],
) -> list[ScoredSentence]:
    """Score candidates by meaning (cosine), idf-weighted keyword coverage and their passage's rank."""
    dense = sentence_vectors @ query_vector if len(sentences) else np.zeros(0)
    scored = []
    for i, sentence in enumerate(sentences):
        lexical = lexical_coverage(question_terms, sentence.text, idf)
        prior = 1.0 / (1.0 + sentence.passage_rank)
        # Headings and fragments say little on their own: damp very short sentences a little.
        brevity = min(1.0, 0.6 + len(sentence.text) / 150)
        score = (W_DENSE * float(dense[i]) + W_LEXICAL * lexical + W_PASSAGE * prior) * brevity
        scored.append(ScoredSentence(sentence, score, float(dense[i]), lexical))
    return sorted(scored, key=lambda s: -s.score)


def _similar(a: str, b: str) -> bool:
    ta, tb = set(terms(a)), set(terms(b))
    if not ta or not tb:
        return a.strip().lower() == b.strip().lower()
    return len(ta & tb) / min(len(ta), len(tb)) >= 0.7


def select_sentences(scored: Sequence[ScoredSentence], max_sentences: int = MAX_SENTENCES) -> list[ScoredSentence]:
    """The best sentence, plus close runners-up that add something, in reading order within each source."""
    if not scored:
        return []
    best = scored[0]
    chosen = [best]
    for candidate in scored[1:]:
        if len(chosen) >= max_sentences or candidate.score < RELATIVE_CUTOFF * best.score:
            break
        if any(_similar(candidate.sentence.text, c.sentence.text) for c in chosen):
            continue
        chosen.append(candidate)
    # The best sentence leads; the others follow it grouped by source, in document order.
    first_source = best.sentence.source
    rest = sorted(chosen[1:], key=lambda s: (s.sentence.source != first_source, s.sentence.source, s.sentence.start))
    return [best, *rest]
