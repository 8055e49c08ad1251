"""Hybrid retrieval: dense search in Chroma and BM25 over the catalog, fused by reciprocal rank fusion."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from index.builder import CorpusIndex
from index.catalog import DocumentRecord, bm25_idf
from index.keywords import terms
from qa.condense import StandaloneQuestion
from qa.fusion import reciprocal_rank_fusion
from qa.types import Passage

CONTEXT_TERM_WEIGHT = 0.4  # terms carried over from an earlier turn count less than the question's own


@dataclass(frozen=True, slots=True)
class Retrieval:
    """Passages for a question, plus what sentence scoring reuses (the query vector, term statistics)."""

    passages: list[Passage]
    query_vector: np.ndarray
    query_terms: list[str]
    idf: dict[str, float]


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
        self._documents: dict[str, DocumentRecord] | None = None
        self._documents_version: str | None = None

    def documents(self) -> dict[str, DocumentRecord]:
        """Document records, re-read only when the index has been rebuilt since."""
        version = self.index.catalog.get_meta("last_built")
        if self._documents is None or version != self._documents_version:
            self._documents = self.index.documents()
            self._documents_version = version
        return self._documents

    def retrieve(self, question: StandaloneQuestion, k: int) -> Retrieval:
        """The ``k`` best passages for ``question``, best first."""
        if k <= 0:
            raise ValueError(f"k must be > 0, got {k}")
        own = terms(question.question)
        carried = [t for t in terms(question.context) if t not in own]
        weights = {t: CONTEXT_TERM_WEIGHT for t in carried}
        vector = self.index.embedder.embed_query(question.text)
        dense = self.index.store.query(vector, self.candidates)
        frequencies = self.index.catalog.document_frequencies(own + carried)
        keyword = self.index.catalog.bm25(own + carried, self.candidates, weights, frequencies)
        fused = reciprocal_rank_fusion(
            [[cid for cid, _ in dense], [cid for cid, _ in keyword]],
            k=self.rrf_k,
            weights=[1.0, self.keyword_weight],
        )[:k]
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
        n, df = frequencies
        idf = {t: bm25_idf(n, f) for t, f in df.items()}
        # A term no chunk contains is the strongest sign the corpus does not answer: give it the top idf.
        top = bm25_idf(n, 0) if n else 1.0
        for t in set(own + carried) - set(idf):
            idf[t] = top
        return Retrieval(passages, vector, own, idf)
