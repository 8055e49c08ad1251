"""Running a question set through the project (and optionally the plain llama-index pipeline) and scoring it.

The corpus is indexed into a throw-away data folder with the project's own pipeline; the user's index is
never touched. Answers come from the public API only (``build_answerer`` and ``Answerer.answer``).
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from index.builder import CorpusIndex
from index.embedding import Embedder
from index.errors import CorpusNotFoundError
from index.reading import CorpusFile, UnreadableDocument, read_document
from index.settings import Settings
from qa.evaluation.dataset import Dataset, Example
from qa.evaluation.metrics import (
    CitedQuote,
    DocumentTexts,
    Metrics,
    QuestionResult,
    RetrievedPassage,
    ratios,
    score,
)
from qa.service import build_answerer
from qa.types import Answer

log = logging.getLogger(__name__)

ProgressCallback = Callable[[str, int, int], None]  # (system, done, total)


@dataclass(slots=True)
class SystemRun:
    """One system's answers on the question set, and their scores."""

    name: str
    results: list[QuestionResult]
    metrics: Metrics
    documents: int
    chunks: int
    by_kind: dict[str, Metrics] = field(default_factory=dict)  # where the set labels its questions' kinds


@dataclass(slots=True)
class EvalReport:
    """Everything ``qa eval`` prints."""

    dataset: str
    dataset_path: Path
    corpus: Path
    k: int
    ours: SystemRun
    plain: SystemRun | None = None
    ratios: dict[str, float | None] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "dataset": self.dataset,
            "dataset_path": str(self.dataset_path),
            "corpus": str(self.corpus),
            "k": self.k,
            "documents": self.ours.documents,
            "chunks": self.ours.chunks,
            "metrics": self.ours.metrics.to_json(),
        }
        if self.ours.by_kind:
            out["by_kind"] = {kind: m.to_json() for kind, m in self.ours.by_kind.items()}
        if self.plain is not None:
            out["baseline"] = {
                "pipeline": "llama-index VectorStoreIndex, SentenceSplitter(), all-MiniLM-L6-v2, Chroma",
                "chunks": self.plain.chunks,
                "metrics": self.plain.metrics.to_json(),
            }
            out["ratios"] = {key: (round(v, 3) if v is not None else None) for key, v in self.ratios.items()}
        return out


def evaluate(
    dataset: Dataset,
    settings: Settings,
    corpus_dir: Path | None = None,
    k: int | None = None,
    *,
    baseline: bool = False,
    embedder: Embedder | None = None,
    progress: ProgressCallback | None = None,
) -> EvalReport:
    """Index the corpus in a temporary folder, answer every question, score, and (with ``baseline``) compare.

    ``corpus_dir`` defaults to the dataset's own documents, else ``settings.corpus_dir``.

    Raises:
        CorpusNotFoundError: the corpus folder does not exist.
        QAError: the index or the answerer failed in a way a user can fix.
    """
    corpus = corpus_dir or dataset.default_corpus or settings.corpus_dir
    if not corpus.is_dir():
        raise CorpusNotFoundError(f"Corpus folder {corpus} does not exist; name the documents with --corpus.")
    top_k = k or settings.top_k
    if top_k <= 0:
        raise ValueError(f"k must be > 0, got {top_k}")
    with tempfile.TemporaryDirectory(prefix="qa-eval-") as work:
        ours = _run_project(dataset, settings, corpus, top_k, Path(work) / "data", embedder, progress)
        plain = _run_plain(dataset, corpus, top_k, Path(work) / "plain", progress) if baseline else None
    report = EvalReport(dataset.name, dataset.path, corpus, top_k, ours, plain)
    if plain is not None:
        report.ratios = ratios(ours.metrics, plain.metrics)
    return report


def _run_project(
    dataset: Dataset,
    settings: Settings,
    corpus: Path,
    k: int,
    data_dir: Path,
    embedder: Embedder | None,
    progress: ProgressCallback | None,
) -> SystemRun:
    # Embedded Chroma in the temporary folder whatever QA_CHROMA_URL says: a server holds the user's index.
    eval_settings = settings.model_copy(update={"corpus_dir": corpus, "data_dir": data_dir, "chroma_url": None})
    index = CorpusIndex(eval_settings, embedder=embedder)
    sync = index.sync()
    for skipped in sync.skipped:
        log.warning("skipped %s: %s", skipped.doc_id, skipped.reason)
    answerer = build_answerer(eval_settings, index=index)
    results = []
    for done, example in enumerate(dataset.examples, start=1):
        started = time.perf_counter()
        answer = answerer.answer(example.question, example.history, k)
        results.append(_result(example, answer, (time.perf_counter() - started) * 1000))
        if progress:
            progress("ours", done, len(dataset.examples))
    documents = {
        doc_id: DocumentTexts(index.document_text(doc_id) or "", _file_text(corpus, doc_id))
        for doc_id in index.documents()
    }
    metrics = score(dataset.examples, results, documents, k, dataset.partial_overlap, indexing_seconds=sync.seconds)
    kinds = sorted({e.kind for e in dataset.examples if e.kind})
    by_kind = {
        kind: score(
            [e for e in dataset.examples if e.kind == kind],
            [r for r, e in zip(results, dataset.examples, strict=True) if e.kind == kind],
            documents,
            k,
            dataset.partial_overlap,
        )
        for kind in kinds
    }
    return SystemRun("ours", results, metrics, sync.documents, sync.chunks, by_kind)


def _result(example: Example, answer: Answer, latency_ms: float) -> QuestionResult:
    payload = answer.to_json()
    return QuestionResult(
        id=example.id,
        question=example.question,
        answer=answer.text,
        refused=answer.refused,
        citations=tuple(CitedQuote(c.source, c.quote, c.start, c.end) for c in answer.citations),
        retrieved=tuple(RetrievedPassage(p.source, p.text) for p in answer.retrieved),
        latency_ms=latency_ms,
        citations_json=tuple(payload["citations"]),  # type: ignore[arg-type]
        retrieved_json=tuple(payload["retrieved"]),  # type: ignore[arg-type]
        closest=tuple(CitedQuote(c.source, c.quote, c.start, c.end) for c in answer.closest),
        closest_json=tuple(payload.get("closest") or ()),  # type: ignore[arg-type]
    )


def _file_text(corpus: Path, doc_id: str) -> str:
    """The document's text read again from its file, apart from the index (empty when it cannot be read)."""
    path = corpus / doc_id
    try:
        return read_document(CorpusFile(doc_id, path, "", path.stat().st_size)).text
    except (OSError, UnreadableDocument):
        return ""


def _run_plain(dataset: Dataset, corpus: Path, k: int, work_dir: Path, progress: ProgressCallback | None) -> SystemRun:
    from index.baseline import PlainPipeline

    pipeline = PlainPipeline(corpus, work_dir)
    pipeline.build()
    results = []
    for done, example in enumerate(dataset.examples, start=1):
        started = time.perf_counter()
        # The starter pipeline has no conversation memory: it is given the question alone.
        nodes = pipeline.retrieve(example.question, k)
        latency = (time.perf_counter() - started) * 1000
        top = nodes[0] if nodes else None
        citations: tuple[CitedQuote, ...] = ()
        citations_json: tuple[dict[str, object], ...] = ()
        if top is not None:
            start = top.start if top.start is not None else -1
            end = top.end if top.end is not None else -1
            citations = (CitedQuote(top.source, top.text, start, end),)
            citations_json = (
                {"n": 1, "source": top.source, "title": top.source, "quote": top.text, "passage": top.text}
                | {"start": start, "end": end},
            )
        results.append(
            QuestionResult(
                id=example.id,
                question=example.question,
                answer="\n\n".join(n.text for n in nodes),
                refused=False,
                citations=citations,
                retrieved=tuple(RetrievedPassage(n.source, n.text) for n in nodes),
                latency_ms=latency,
                citations_json=citations_json,
                retrieved_json=tuple({"source": n.source, "text": n.text, "score": round(n.score, 6)} for n in nodes),
            )
        )
        if progress:
            progress("plain", done, len(dataset.examples))
    documents = {source: DocumentTexts(text, _file_text(corpus, source)) for source, text in pipeline.documents.items()}
    metrics = score(dataset.examples, results, documents, k, dataset.partial_overlap, indexing_seconds=pipeline.seconds)
    return SystemRun("plain", results, metrics, len(pipeline.documents), pipeline.chunks)
