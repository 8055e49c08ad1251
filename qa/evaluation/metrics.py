"""Scoring, as pure functions over typed results: retrieval, citations, answers, refusals, latency.

Hit rule (eval_data/PROVENANCE.md): a passage or citation hits an evidence span when it comes from the
evidence's source and contains the quote after folding whitespace and case. Where a chunk boundary cuts the
quote (seed set only), an overlap counts when the longest common substring of the folded texts covers at
least ``MIN_OVERLAP_SHARE`` of the quote and at least ``MIN_OVERLAP_CHARS`` characters.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from difflib import SequenceMatcher

from qa.evaluation.dataset import Evidence, Example

MIN_OVERLAP_SHARE = 0.6
MIN_OVERLAP_CHARS = 30


@dataclass(frozen=True, slots=True)
class RetrievedPassage:
    """A retrieved passage, as scoring sees it."""

    source: str
    text: str


@dataclass(frozen=True, slots=True)
class CitedQuote:
    """A citation, as scoring sees it: the quote and where it claims to come from."""

    source: str
    quote: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class QuestionResult:
    """What a system returned for one example.

    ``citations_json`` and ``retrieved_json`` are the lists ``Answer.to_json()`` gives, written to ``--out``.
    """

    id: str
    question: str
    answer: str
    refused: bool
    citations: tuple[CitedQuote, ...]
    retrieved: tuple[RetrievedPassage, ...]
    latency_ms: float
    citations_json: tuple[dict[str, object], ...] = ()
    retrieved_json: tuple[dict[str, object], ...] = ()
    closest: tuple[CitedQuote, ...] = ()  # a refusal's closest sentences: checked verbatim like citations
    closest_json: tuple[dict[str, object], ...] = ()

    def to_json(self) -> dict[str, object]:
        """One line of ``--out``."""
        return {
            "id": self.id,
            "question": self.question,
            "answer": self.answer,
            "refused": self.refused,
            "citations": list(self.citations_json),
            "retrieved": list(self.retrieved_json),
            **({"closest": list(self.closest_json)} if self.closest_json else {}),
            "latency_ms": round(self.latency_ms, 1),
        }


@dataclass(frozen=True, slots=True)
class DocumentTexts:
    """A document as the index holds it (offsets point into ``indexed``) and as its file reads."""

    indexed: str
    file: str


@dataclass(frozen=True, slots=True)
class Metrics:
    """Figures for one system on one question set; ``None`` where nothing was there to measure."""

    questions: int
    answerable: int
    unanswerable: int
    k: int
    hit_at_k: float | None  # answerable questions with evidence: a hit among the first k passages
    mrr: float | None  # mean of 1/rank of the first hitting passage (0 when none in the first k)
    first_citation: float | None  # answerable questions with evidence whose first citation hits
    answer_contains: float | None  # answerable questions with expected terms: the answer holds them all
    refusal_accuracy: float | None  # unanswerable questions that were refused
    false_refusal_rate: float | None  # answerable questions that were refused
    citations: int
    citation_verbatim: float | None  # citations whose quote is document_text[start:end] and in the file
    mean_quote_chars: float | None
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    indexing_seconds: float | None = None

    def to_json(self) -> dict[str, object]:
        return {key: (round(v, 4) if isinstance(v, float) else v) for key, v in asdict(self).items()}


RATIO_FIELDS = (
    "hit_at_k",
    "mrr",
    "first_citation",
    "answer_contains",
    "citation_verbatim",
    "mean_quote_chars",
)


def fold(text: str) -> str:
    """Lower case, runs of whitespace as one space."""
    return " ".join(text.lower().split())


def same_source(found: str, wanted: str) -> bool:
    """``found`` (a document id, a path relative to the corpus) names the file ``wanted``."""
    return found == wanted or found.endswith("/" + wanted)


def contains_quote(text: str, quote: str, partial_overlap: bool = False) -> bool:
    """``text`` contains ``quote`` after folding (or, with ``partial_overlap``, a long enough part of it)."""
    haystack, needle = fold(text), fold(quote)
    if not needle:
        return False
    if needle in haystack:
        return True
    if not partial_overlap or len(needle) < MIN_OVERLAP_CHARS:
        return False
    match = SequenceMatcher(None, haystack, needle, autojunk=False).find_longest_match(0, len(haystack), 0, len(needle))
    return match.size >= MIN_OVERLAP_CHARS and match.size >= MIN_OVERLAP_SHARE * len(needle)


def hits(source: str, text: str, evidence: Sequence[Evidence], partial_overlap: bool = False) -> bool:
    """A passage or citation from ``source`` with ``text`` hits any of the evidence spans."""
    return any(same_source(source, e.source) and contains_quote(text, e.quote, partial_overlap) for e in evidence)


def first_hit_rank(
    passages: Sequence[RetrievedPassage], evidence: Sequence[Evidence], k: int, partial_overlap: bool = False
) -> int | None:
    """1-based rank of the first of the top ``k`` passages that hits, or None."""
    for rank, passage in enumerate(passages[:k], start=1):
        if hits(passage.source, passage.text, evidence, partial_overlap):
            return rank
    return None


def answer_contains(answer: str, expected: Sequence[Sequence[str]]) -> bool:
    """The answer holds one alternative of every group (folded comparison)."""
    folded = fold(answer)
    return all(any(fold(alt) in folded for alt in group) for group in expected)


def quote_is_verbatim(citation: CitedQuote, documents: Mapping[str, DocumentTexts]) -> bool:
    """The quote is exactly ``document_text[start:end]`` and appears in the source file's text."""
    doc = documents.get(citation.source)
    if doc is None or not citation.quote:
        return False
    return doc.indexed[citation.start : citation.end] == citation.quote and citation.quote in doc.file


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100) with linear interpolation between ranks (numpy's default)."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _share(flags: Sequence[bool]) -> float | None:
    return sum(flags) / len(flags) if flags else None


def score(
    examples: Sequence[Example],
    results: Sequence[QuestionResult],
    documents: Mapping[str, DocumentTexts],
    k: int,
    partial_overlap: bool = False,
    indexing_seconds: float | None = None,
) -> Metrics:
    """Score ``results`` (matched to ``examples`` by id) against the labels.

    Raises:
        ValueError: a result has no example with its id, or ``k`` is not positive.
    """
    if k <= 0:
        raise ValueError(f"k must be > 0, got {k}")
    by_id = {e.id: e for e in examples}
    unknown = [r.id for r in results if r.id not in by_id]
    if unknown:
        raise ValueError(f"results for unknown example ids: {unknown[:5]}")
    hit_flags: list[bool] = []
    reciprocal: list[float] = []
    first_citation: list[bool] = []
    contains: list[bool] = []
    refusals: list[bool] = []
    false_refusals: list[bool] = []
    verbatim: list[bool] = []
    quote_lengths: list[int] = []
    for result in results:
        example = by_id[result.id]
        for citation in result.citations:
            verbatim.append(quote_is_verbatim(citation, documents))
            quote_lengths.append(len(citation.quote))
        verbatim += [quote_is_verbatim(c, documents) for c in result.closest]
        if not example.answerable:
            refusals.append(result.refused)
            continue
        false_refusals.append(result.refused)
        if example.expected:
            contains.append(not result.refused and answer_contains(result.answer, example.expected))
        if example.evidence:
            rank = first_hit_rank(result.retrieved, example.evidence, k, partial_overlap)
            hit_flags.append(rank is not None)
            reciprocal.append(1.0 / rank if rank else 0.0)
            first = result.citations[0] if result.citations else None
            first_citation.append(
                first is not None and hits(first.source, first.quote, example.evidence, partial_overlap)
            )
    latencies = [r.latency_ms for r in results]
    return Metrics(
        questions=len(results),
        answerable=len(false_refusals),
        unanswerable=len(refusals),
        k=k,
        hit_at_k=_share(hit_flags),
        mrr=sum(reciprocal) / len(reciprocal) if reciprocal else None,
        first_citation=_share(first_citation),
        answer_contains=_share(contains),
        refusal_accuracy=_share(refusals),
        false_refusal_rate=_share(false_refusals),
        citations=len(verbatim),
        citation_verbatim=_share(verbatim),
        mean_quote_chars=sum(quote_lengths) / len(quote_lengths) if quote_lengths else None,
        latency_p50_ms=percentile(latencies, 50),
        latency_p95_ms=percentile(latencies, 95),
        indexing_seconds=indexing_seconds,
    )


def ratios(ours: Metrics, plain: Metrics) -> dict[str, float | None]:
    """ours / plain for the quality figures (None where either is missing or plain is zero)."""
    out: dict[str, float | None] = {}
    for name in RATIO_FIELDS:
        a, b = getattr(ours, name), getattr(plain, name)
        out[name] = a / b if a is not None and b else None
    return out
