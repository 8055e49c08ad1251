"""Hybrid retrieval: dense search in Chroma and BM25 over the catalog, fused by reciprocal rank fusion.

Retrieval is small-to-big: chunks of 128 tokens are what is searched (they fit the embedding model and keep
the scores sharp), and each hit is widened by a sentence on either side, so that an answer cut by a chunk
boundary, or stated in the sentence after the one that matches the question, is still in the passage.
The answerer then scores the sentences of all candidates, merges overlapping passages and reranks them
(``merge_passages``, ``rerank_passages``) before keeping the best ``k``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from index.builder import CorpusIndex
from index.catalog import DocumentLookup, DocumentRecord, bm25_idf
from index.keywords import STOP_WORDS, stem, terms
from index.sentences import split_sentences
from qa.cache import LruCache
from qa.condense import StandaloneQuestion, refers_back, without_corpus_references
from qa.fusion import reciprocal_rank_fusion
from qa.spelling import (
    ABBREVIATIONS,
    CASUAL,
    MIN_COMPOUND_PART,
    MIN_LENGTH,
    abbreviations,
    best_correction,
    capitals,
    known_words,
    known_words_with_prefix,
    nearest,
    respell,
    spelling_variants,
)
from qa.types import Passage

CONTEXT_TERM_WEIGHT = 0.4  # terms carried over from an earlier turn count less than the question's own
WIDEN_SENTENCES = 1  # sentences added on each side of a retrieved chunk
WIDEN_MARGIN = 600  # characters read on each side to find them (a longer sentence is not added)
QUERY_CACHE_SIZE = 512
MIN_REMAINDER_CHARS = 40  # a trimmed passage shorter than this is dropped
MAX_MERGED_CHARS = 2000  # about four chunks, 450 tokens
RERANK_PRIOR = 0.2  # weight of the fused rank when passages are reranked by their best sentence


@dataclass(frozen=True, slots=True)
class Retrieval:
    """Passages for a question, plus what sentence scoring reuses (the query vector, term statistics)."""

    passages: list[Passage]
    query_vector: np.ndarray
    query_terms: list[str]
    idf: dict[str, float]
    question: StandaloneQuestion | None = None  # as searched: misspelt words corrected
    corrections: dict[str, str] = field(default_factory=dict)  # misspelt word -> the word searched instead


class HybridRetriever:
    """Dense + keyword retrieval over one ``CorpusIndex``; both lists are fused with RRF."""

    def __init__(self, index: CorpusIndex, candidates: int = 20, rrf_k: int = 60, keyword_weight: float = 2.0) -> None:
        if candidates <= 0:
            raise ValueError(f"candidates must be > 0, got {candidates}")
        if keyword_weight < 0:
            raise ValueError(f"keyword_weight must be >= 0, got {keyword_weight}")
        self.index = index
        self.candidates = candidates
        self.rrf_k = rrf_k
        # Fusion settings measured on the evaluation sets (docs/TUNING.md): exact terms matter more than
        # meaning for this small embedding model, so the keyword ranking counts twice.
        self.keyword_weight = keyword_weight
        self._query_vectors: LruCache[str, np.ndarray] = LruCache(QUERY_CACHE_SIZE)  # asked again: no model
        self._corrections: LruCache[str, str] = LruCache(QUERY_CACHE_SIZE)  # "" where nothing is close

    def documents(self) -> Mapping[str, DocumentRecord]:
        """Document records, each read from the catalog when it is looked up: per-question work must not grow
        with the corpus (reading every record after each index change took 0.45-3 s a process at 100,000)."""
        return DocumentLookup(self.index.catalog)

    def retrieve(self, question: StandaloneQuestion, k: int | None = None) -> Retrieval:
        """Candidate passages for ``question`` in fused order, best first: ``max(candidates, k)`` of them,
        each widened by a sentence on either side (overlapping ones are merged later, after scoring)."""
        if k is not None and k <= 0:
            raise ValueError(f"k must be > 0, got {k}")
        depth = max(self.candidates, k or 0)
        corrections = self.corrections(question.question)
        if corrections:
            question = replace(
                question, text=respell(question.text, corrections), question=respell(question.question, corrections)
            )
        # "… according to the articles": the articles are not what is asked about (unless they are all it names).
        own = terms(without_corpus_references(question.question)) or terms(question.question)
        carried = [t for t in terms(question.context) if t not in own]
        if carried and refers_back(question.question):
            # "What does it make?" after "What is KAYO?": "it" is KAYO, and the earlier words are the question's own.
            own, carried = own + carried, []
        weights = {t: CONTEXT_TERM_WEIGHT for t in carried}
        vector = self.query_vector(question.text)
        dense = self.index.store.query(vector, depth)
        frequencies = self.index.catalog.document_frequencies(own + carried)
        keyword = self.index.catalog.bm25(own + carried, depth, weights, frequencies)
        fused = reciprocal_rank_fusion(
            [[cid for cid, _ in dense], [cid for cid, _ in keyword]],
            k=self.rrf_k,
            weights=[1.0, self.keyword_weight],
        )[:depth]
        chunks = self.index.chunks([cid for cid, _ in fused])
        dense_scores, keyword_scores = dict(dense), dict(keyword)
        docs = self.documents()
        passages = []
        for cid, score in fused:
            chunk = chunks.get(cid)
            if chunk is None:  # deleted between the two reads
                continue
            doc = docs.get(chunk.doc_id)
            passages.append(
                self.widen(
                    Passage(
                        chunk_id=cid,
                        source=chunk.doc_id,
                        title=doc.title if doc else chunk.doc_id,
                        date=doc.date if doc else None,
                        start=chunk.start,
                        end=chunk.end,
                        text=chunk.text,
                        score=score,
                        dense=dense_scores.get(cid),
                        keyword=keyword_scores.get(cid),
                    )
                )
            )
        n, df = frequencies
        idf = {t: bm25_idf(n, f) for t, f in df.items()}
        # A term no chunk contains is the strongest sign the corpus does not answer: give it the top idf.
        top = bm25_idf(n, 0) if n else 1.0
        for t in set(own + carried) - set(idf):
            idf[t] = top
        return Retrieval(passages, vector, own, idf, question, corrections)

    def corrections(self, text: str) -> dict[str, str]:
        """Words of ``text`` as the index spells them: chat spellings of function words ("abt"), the other spelling
        of a word the index holds only in British or American form ("defence"), a compound the index holds only as
        two words ("peacekeepers": peace keepers), an abbreviated name the index holds only in full ("US": United
        States), and misspelt words (neither indexed nor English words), each with the indexed word it most likely
        meant. (Two words for a compound the documents write as one, "cyber attacks", are left as typed:
        ``qa.extractive.Coverage`` counts the compound for both.)"""
        words = {w.lower() for w in re.findall(r"[^\W\d_]+", text)}
        casual = {w for w in words if w in CASUAL}
        candidates = {w for w in words - casual if len(w) >= MIN_LENGTH and w not in STOP_WORDS}
        # An abbreviated name ("US") or a capital standing for its country ("Washington"), with the name it stands for.
        names = {**{a: ABBREVIATIONS[a] for a in abbreviations(text)}, **capitals(text)}
        if not candidates and not casual and not names:
            return {}
        variants = {w: [v for v in spelling_variants(w) if len(v) >= MIN_LENGTH] for w in candidates}
        stems = {w: stem(w) for w in candidates | casual}
        # An abbreviation's own term ("eu"; none for "US", a stop word once lower-cased) and its name's terms.
        own = {a: terms(a.replace(".", "")) for a in names}
        named = {a: terms(name) for a, name in names.items()}
        wanted = [
            *stems.values(),
            *(stem(v) for vs in variants.values() for v in vs),
            *(t for ts in [*own.values(), *named.values()] for t in ts),
        ]
        _, df = self.index.catalog.document_frequencies(wanted)
        out = {w: CASUAL[w] for w in casual if not df.get(stems[w])}  # a word the documents use is theirs
        for a in names:
            if not any(df.get(t) for t in own[a]) and all(df.get(t) for t in named[a]):
                out[a] = names[a]
        known = known_words()
        for word in candidates:
            term = stems[word]
            if df.get(term):
                continue
            variant = next((v for v in variants[word] if df.get(stem(v))), None)
            if variant is not None:
                out[word] = variant
                continue
            if word in known or len(term) < MIN_LENGTH:
                continue
            # The indexed spelling of the stem and the English word whose stem is indexed, whichever is nearer to the
            # word as typed: a stem is cut short ("president": presid), so "presdent" is nearer "present" as a stem.
            found = nearest(word, [self._correction(term), self._word_correction(word)]) or self._split(word)
            if found:
                out[word] = found
        return out

    def _split(self, word: str) -> str | None:
        """A compound the index holds only as two words ("cyberattacks": cyber attacks): the split whose two parts
        (three letters or more, neither a stop word) are both indexed, the most common such one, or None."""
        key = f"split:{word}"
        cached = self._corrections.get(key)
        if cached is not None:
            return cached or None
        splits = [
            (word[:i], word[i:])
            for i in range(MIN_COMPOUND_PART, len(word) - MIN_COMPOUND_PART + 1)
            if word[:i] not in STOP_WORDS and word[i:] not in STOP_WORDS
        ]
        parts = {p: stem(p) for split in splits for p in split}
        _, df = self.index.catalog.document_frequencies(parts.values()) if splits else (0, {})
        scored = [(min(df.get(parts[a], 0), df.get(parts[b], 0)), a, b) for a, b in splits]
        best = max(scored, default=(0, "", ""))
        found = f"{best[1]} {best[2]}" if best[0] > 0 else ""
        self._corrections.put(key, found)
        return found or None

    def _correction(self, term: str) -> str | None:
        """The indexed spelling closest to ``term`` (a stem the index lacks), as a word of the documents."""
        cached = self._corrections.get(term)
        if cached is not None:
            return cached or None
        catalog = self.index.catalog
        near = [t for t in catalog.terms_with_prefix(term[:2]) if abs(len(t) - len(term)) <= 2]
        _, counts = catalog.document_frequencies(near) if near else (0, {})
        best = best_correction(term, [(t, counts.get(t, 0)) for t in near])
        word = ""
        if best:
            text = catalog.a_chunk_text_with(best) or ""
            word = next((w.lower() for w in re.findall(r"[^\W\d_]+", text) if stem(w.lower()) == best), "")
        self._corrections.put(term, word)
        return word or None

    def _word_correction(self, word: str) -> str | None:
        """The English word closest to a misspelt ``word`` whose stem the index holds, where no indexed stem is close
        ("recruitmnt": "recruitment", whose stem the articles use; the stems themselves are too short to be within
        reach)."""
        key = f"word:{word}"
        cached = self._corrections.get(key)
        if cached is not None:
            return cached or None
        near = [w for w in known_words_with_prefix(word[:2]) if abs(len(w) - len(word)) <= 2]
        stems = {w: stem(w) for w in near}
        _, df = self.index.catalog.document_frequencies(stems.values()) if near else (0, {})
        best = best_correction(word, [(w, df[t]) for w, t in stems.items() if df.get(t)])
        self._corrections.put(key, best or "")
        return best

    def query_vector(self, text: str) -> np.ndarray:
        """The question's vector, from a small cache for questions asked again (example questions, retries)."""
        vector = self._query_vectors.get(text)
        if vector is None:
            vector = self.index.embedder.embed_query(text)
            self._query_vectors.put(text, vector)
        return vector

    def widen(self, passage: Passage, sentences: int = WIDEN_SENTENCES) -> Passage:
        """``passage`` with ``sentences`` whole sentences added on each side (fewer at a document's edge, or
        where a neighbouring sentence is longer than the margin read)."""
        if sentences <= 0:
            return passage
        lo = max(0, passage.start - WIDEN_MARGIN)
        span = self.index.document_span(passage.source, lo, passage.end + WIDEN_MARGIN)
        if span is None:
            return passage
        window, length = span
        hi = lo + len(window)
        spans = [(lo + s, lo + e) for s, e in split_sentences(window)]
        # A sentence touching a cut edge of the window may be a fragment: it is not added.
        before = [s for s in spans if s[1] <= passage.start and (s[0] > lo or lo == 0)][-sentences:]
        after = [s for s in spans if s[0] >= passage.end and (s[1] < hi or hi == length)][:sentences]
        start = before[0][0] if before else passage.start
        end = after[-1][1] if after else passage.end
        if (start, end) == (passage.start, passage.end):
            return passage
        return replace(passage, start=start, end=end, text=window[start - lo : end - lo])


def merge_passages(passages: Sequence[Passage], max_chars: int = MAX_MERGED_CHARS) -> list[Passage]:
    """Passages of the same document that overlap or touch become one, at the rank of the better one. Up to
    ``max_chars``: beyond, the worse one keeps only what the better one lacks, so that no passage grows
    into a whole article and no text is shown twice."""
    merged: list[Passage] = []
    for passage in passages:
        current: Passage | None = passage
        position: int | None = None  # rank of the best passage absorbed so far
        cut_by: list[Passage] = []  # passages ``current`` was cut back against: it may still touch them end to end
        while current is not None:
            j = next(
                (j for j, kept in enumerate(merged) if _touch(kept, current) and not any(kept is c for c in cut_by)),
                None,
            )
            if j is None:
                break
            kept = merged[j]
            if max(kept.end, current.end) - min(kept.start, current.start) <= max_chars:
                del merged[j]
                if position is None or j < position:
                    current, position = _union(kept, current), j
                else:
                    current = _union(current, kept)
            else:
                cut_by.append(kept)
                current = _remainder(current, kept)
        if current is not None:
            merged.insert(len(merged) if position is None else position, current)
    return merged


def _touch(a: Passage, b: Passage) -> bool:
    return a.source == b.source and b.start <= a.end and b.end >= a.start


def _remainder(passage: Passage, kept: Passage) -> Passage | None:
    """The part of ``passage`` that ``kept`` does not show (the longer side), or None when that is little."""
    after = (max(passage.start, kept.end), passage.end)
    before = (passage.start, min(passage.end, kept.start))
    lo, hi = max(after, before, key=lambda span: span[1] - span[0])
    piece = passage.text[lo - passage.start : hi - passage.start]
    stripped = piece.strip()
    if len(stripped) < MIN_REMAINDER_CHARS:
        return None
    lo += len(piece) - len(piece.lstrip())
    return replace(passage, start=lo, end=lo + len(stripped), text=stripped)


def _union(kept: Passage, other: Passage) -> Passage:
    """One passage over both spans (they overlap or touch, so their texts cover the union)."""
    start, end = min(kept.start, other.start), max(kept.end, other.end)
    text = kept.text
    if other.start < kept.start:
        text = other.text[: kept.start - other.start] + text
    if other.end > kept.end:
        text = text + other.text[len(other.text) - (other.end - kept.end) :]
    return replace(kept, start=start, end=end, text=text)


def rerank_passages(passages: Sequence[Passage], best_sentence: dict[int, float], k: int) -> list[Passage]:
    """The ``k`` best passages, ordered by the score of the best sentence each holds (``best_sentence`` by
    position in ``passages``), with the fused rank as a small prior that also orders the unscored."""
    order = sorted(range(len(passages)), key=lambda i: -(best_sentence.get(i, 0.0) + RERANK_PRIOR / (1.0 + i)))
    return [passages[i] for i in order[:k]]
