"""The corpus index: incremental, crash-safe synchronisation of ``corpus/`` into Chroma and the catalog.

Order of writes for each changed document, chosen so that a kill at any point converges on the next run:
1. its chunk vectors are upserted into Chroma (ids are deterministic, so a repeat is harmless);
2. the catalog replaces the document, its chunks and postings in one SQLite transaction;
3. the document's old chunks that are no longer used are deleted from Chroma.
A ``dirty`` mark is set in the catalog for the length of a run; a run that finds it set first reconciles
Chroma with the catalog (deleting vectors the catalog does not know, re-embedding documents whose vectors
are missing).
"""

from __future__ import annotations

import fcntl
import gc
import logging
import os
import signal
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from index.catalog import Catalog, ChunkRecord, DocumentRecord, NewChunk, NewDocument
from index.chunking import ChunkSpan, chunk_id, chunk_text
from index.embedding import Embedder, MiniLMEmbedder, resolve_device
from index.errors import CorpusNotFoundError, IndexMismatchError, IndexNotBuiltError
from index.reading import (
    CorpusFile,
    FileStamp,
    Skipped,
    SourceDocument,
    UnreadableDocument,
    read_document,
    scan_corpus,
)
from index.settings import Settings
from index.store import ChunkStore, VectorRecord

log = logging.getLogger(__name__)

ProgressCallback = Callable[["Progress"], None]
KillHook = Callable[[str], None]
_FLUSH_CHUNKS = 256  # a bulk job's first batch is this big, which makes the embedder load torch (TORCH_LOAD_MIN)


def _test_hooks() -> tuple[KillHook, int]:
    """Test-only crash points, read once per sync (tests/test_crash.py); unset, they do nothing.

    ``QA_TEST_KILL_AFTER="stage:n"`` SIGKILLs this process the n-th time ``stage`` is reached: ``flush`` = a
    batch upserted into Chroma, before its catalog commits; ``catalog`` = a batch's documents committed, before
    their stale chunks leave Chroma; ``remove`` = the removed documents dropped from the catalog, before their
    vectors are deleted; ``drop`` = ``--rebuild`` dropped the collection, before it clears the catalog.
    ``QA_TEST_PAUSE_AFTER="stage:seconds"`` sleeps that long each time ``stage`` is reached, so that a test can
    act while an index change is half done (tests/test_hardening.py).
    ``QA_TEST_FLUSH_CHUNKS=n`` makes batches smaller so a small corpus has several.
    """
    flush_chunks = int(os.environ.get("QA_TEST_FLUSH_CHUNKS") or _FLUSH_CHUNKS)
    stage, _, n = os.environ.get("QA_TEST_KILL_AFTER", "").partition(":")
    pause_stage, _, pause = os.environ.get("QA_TEST_PAUSE_AFTER", "").partition(":")
    seen = {stage: 0}

    def reached(name: str) -> None:
        if name == stage:
            seen[stage] += 1
            if seen[stage] == int(n or 1):
                os.kill(os.getpid(), signal.SIGKILL)
        if name == pause_stage:
            time.sleep(float(pause or 1))

    return reached, flush_chunks


@dataclass(frozen=True, slots=True)
class Progress:
    """How far a sync has come."""

    documents_done: int
    documents_total: int
    chunks_embedded: int


@dataclass(slots=True)
class SyncReport:
    """What ``qa index`` found and did."""

    documents: int = 0
    chunks: int = 0
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    embedded_chunks: int = 0
    reconciled: bool = False
    dry_run: bool = False
    seconds: float = 0.0

    def summary(self) -> dict[str, object]:
        """The ``--json`` object."""
        return {
            "documents": self.documents,
            "chunks": self.chunks,
            "added": len(self.added),
            "updated": len(self.updated),
            "removed": len(self.removed),
            "unchanged": self.unchanged,
            "seconds": round(self.seconds, 3),
            "embedded": self.embedded_chunks,
            "skipped": [asdict(s) for s in self.skipped],
            "dry_run": self.dry_run,
        }


@dataclass(frozen=True, slots=True)
class IndexStatus:
    """A one-line picture of the index for the CLI and the UI."""

    documents: int
    chunks: int
    model: str
    chunker: str
    last_built: str | None
    location: str


class CorpusIndex:
    """The catalog, the vector store and the embedder of one data folder, wired from settings."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.catalog = Catalog(settings.data_dir / "catalog.sqlite3")
        self.store = ChunkStore(settings)
        self.embedder: Embedder = embedder or MiniLMEmbedder(
            settings.embed_batch_size, numpy_max=settings.numpy_embed_max, device=settings.embed_device
        )

    # -- reading ----------------------------------------------------------------------------------------
    def open(self) -> None:
        """Open an existing index for reading.

        Raises:
            IndexNotBuiltError: nothing has been indexed yet.
            IndexMismatchError: built with another model or chunker.
        """
        if not self.catalog.exists() or self.catalog.get_meta("chunker") is None:
            raise IndexNotBuiltError(f"No index in {self.settings.data_dir}; run `qa index` first.")
        self._check_meta()
        self.store.open(self.embedder.name, self.embedder.dim, create=False)

    @property
    def interrupted(self) -> bool:
        """Whether a sync was cut short (killed, power lost); the next ``sync()`` reconciles the index."""
        return self.catalog.exists() and self.catalog.get_meta("dirty") is not None

    def status(self) -> IndexStatus:
        documents, chunks = self.catalog.counts() if self.catalog.exists() else (0, 0)
        return IndexStatus(
            documents=documents,
            chunks=chunks,
            model=self.embedder.name,
            chunker=self.settings.chunker_signature,
            last_built=self.catalog.get_meta("last_built") if self.catalog.exists() else None,
            location=self.store.location,
        )

    def documents(self) -> dict[str, DocumentRecord]:
        return self.catalog.documents()

    def document_text(self, doc_id: str) -> str | None:
        return self.catalog.document_text(doc_id)

    def document_span(self, doc_id: str, start: int, end: int) -> tuple[str, int] | None:
        return self.catalog.document_span(doc_id, start, end)

    def back_matter(self, doc_ids: list[str]) -> dict[str, list[tuple[int, int]]]:
        """Each document's lists of sources (spans), as stored when it was indexed; absent for one indexed before."""
        return self.catalog.back_matter(doc_ids)

    def chunks(self, chunk_ids: list[str]) -> dict[str, ChunkRecord]:
        return self.catalog.chunks(chunk_ids)

    def chunk_ids_of(self, doc_id: str) -> list[str]:
        """The document's chunk ids in order; they change whenever its text does (``index.chunking.chunk_id``)."""
        return self.catalog.chunk_ids_of(doc_id)

    def document_vector(self, chunk_ids: Sequence[str]) -> np.ndarray | None:
        """What a document is about as a whole: the mean of its chunks' stored vectors (``chunk_ids``: its
        ``chunk_ids_of``), normalised; None where the store holds none of them."""
        vectors = self.store.vectors(chunk_ids)
        if not len(vectors):
            return None
        vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        mean = vectors.mean(axis=0)
        return mean / max(float(np.linalg.norm(mean)), 1e-12)

    def _check_meta(self) -> None:
        expected = self._meta()
        for key, value in expected.items():
            found = self.catalog.get_meta(key)
            if found is not None and found != value:
                raise IndexMismatchError(
                    f"The index in {self.settings.data_dir} was built with {key}={found!r}, but the settings ask "
                    f"for {value!r}; run `qa index --rebuild`."
                )

    def _meta(self) -> dict[str, str]:
        return {
            "embed_model": self.embedder.name,
            "embed_dim": str(self.embedder.dim),
            "chunker": self.settings.chunker_signature,
        }

    # -- writing ----------------------------------------------------------------------------------------
    def require_corpus(self) -> Path:
        """The corpus folder.

        Raises:
            CorpusNotFoundError: it does not exist.
        """
        corpus = self.settings.corpus_dir
        if not corpus.is_dir():
            raise CorpusNotFoundError(f"Corpus folder {corpus} does not exist; create it or set QA_CORPUS_DIR.")
        return corpus

    @contextmanager
    def _lock(self) -> Iterator[None]:
        """One writer per data folder, across processes."""
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.settings.data_dir / ".lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def sync(
        self, *, rebuild: bool = False, dry_run: bool = False, progress: ProgressCallback | None = None
    ) -> SyncReport:
        """Bring the index in step with the corpus folder, embedding only what changed.

        Raises:
            CorpusNotFoundError: the corpus folder does not exist.
            IndexMismatchError: the index was built with other settings (and ``rebuild`` is false).
            EmbeddingDeviceError: ``QA_EMBED_DEVICE=cuda`` and torch sees no CUDA device.
        """
        started = time.perf_counter()
        corpus = self.require_corpus()
        if self.settings.embed_device == "cuda" and not dry_run:
            # Asked for explicitly: say now if it is not there, not on the first bulk batch (a small job runs
            # on the NumPy engine and would quietly use the CPU).
            resolve_device("cuda")
        report = SyncReport(dry_run=dry_run)
        kill, flush_chunks = _test_hooks()
        with self._lock():
            # Files whose stamp matches the catalog's are not read again: an unchanged corpus costs a stat a file.
            with _collector_paused():
                known = self.catalog.known_files() if self.catalog.exists() else {}
                files, report.skipped = scan_corpus(corpus, int(self.settings.max_file_mb * 2**20), known)
            if rebuild and not dry_run:
                self.catalog.set_meta(dirty="1")  # a kill between the drop and the clear must reconcile
                self.store.drop()
                kill("drop")
                self.catalog.clear()
            elif not rebuild:
                self._check_meta()
            if not dry_run and self.catalog.get_meta("dirty") is not None:
                self._reconcile()
                report.reconciled = True
            with _collector_paused():
                indexed = {} if (rebuild and dry_run) else self.catalog.hashes()
                current = {f.doc_id for f in files}
                to_read = [f for f in files if indexed.get(f.doc_id) != f.content_hash]
                report.removed = sorted(set(indexed) - current)
                report.unchanged = len(files) - len(to_read)
                # Files read again and found unchanged (touched; or hashed before the catalog kept stamps): their
                # new stamps spare the next scan from reading them.
                restamped = {
                    f.doc_id: f.stamp
                    for f in files
                    if f.hashed and f.stamp is not None and indexed.get(f.doc_id) == f.content_hash
                }
            if restamped and not dry_run and not rebuild:
                self.catalog.set_stamps(restamped)
            if dry_run:
                report.added = [f.doc_id for f in to_read if f.doc_id not in indexed]
                report.updated = [f.doc_id for f in to_read if f.doc_id in indexed]
            elif to_read or report.removed or report.reconciled or not self.catalog.get_meta("last_built"):
                # A reconciled index is clean only once the dirty mark goes, also when nothing else changed (a
                # run killed after its last batch's commit): left, every later run would reconcile again.
                self.store.open(self.embedder.name, self.embedder.dim, create=True)
                self.catalog.set_meta(dirty="1", **self._meta())
                if report.removed:
                    # One transaction and paged deletes: a thousand files removed at once took a commit and a
                    # Chroma call each (10 ms a document at 100,000 documents).
                    old_ids = self.catalog.remove_documents(report.removed)
                    kill("remove")
                    self.store.delete(old_ids)
                self._write(to_read, indexed, report, progress, kill, flush_chunks)
                self.catalog.set_meta(last_built=_now())
                self.catalog.delete_meta("dirty")
            if not dry_run:
                self.catalog.fill_back_matter()  # documents indexed before their lists of sources were stored
            report.documents, report.chunks = self.catalog.counts()
        report.seconds = time.perf_counter() - started
        return report

    def _write(
        self,
        files: list[CorpusFile],
        indexed: dict[str, str],
        report: SyncReport,
        progress: ProgressCallback | None,
        kill: KillHook = lambda stage: None,
        flush_chunks: int = _FLUSH_CHUNKS,
    ) -> None:
        pending: list[tuple[SourceDocument, FileStamp | None, list[ChunkSpan], list[str]]] = []
        pending_chunks = 0
        done = 0

        def flush() -> None:
            nonlocal pending_chunks, done
            if not pending:
                return
            records = [
                VectorRecord(cid, doc.doc_id, c.position, c.start, c.end, c.text)
                for doc, _, chunks, ids in pending
                for c, cid in zip(chunks, ids, strict=True)
            ]
            vectors = self.embedder.embed_documents([r.text for r in records])
            self.store.upsert(records, vectors)
            kill("flush")
            indexed_at = _now()
            replaced = self.catalog.replace_documents(
                [
                    NewDocument(
                        doc,
                        tuple(NewChunk(cid, c.position, c.start, c.end) for c, cid in zip(chunks, ids, strict=True)),
                        indexed_at,
                        stamp,
                    )
                    for doc, stamp, chunks, ids in pending
                ]
            )
            kill("catalog")
            # An updated document's chunks that its new text no longer has (ids are deterministic: the rest were
            # overwritten by the upsert).
            self.store.delete({c for old in replaced.values() for c in old} - {r.chunk_id for r in records})
            for doc, _, _, _ in pending:
                (report.updated if doc.doc_id in indexed else report.added).append(doc.doc_id)
            report.embedded_chunks += len(records)
            done += len(pending)
            pending.clear()
            pending_chunks = 0
            if progress:
                progress(Progress(done + len(report.removed), len(files) + len(report.removed), report.embedded_chunks))

        for file in files:
            try:
                doc = read_document(file)
            except (UnreadableDocument, OSError) as exc:
                report.skipped.append(Skipped(file.doc_id, str(exc)))
                log.warning("skipped %s: %s", file.doc_id, exc)
                if file.doc_id in indexed:  # it was indexed before: its old content must not linger
                    self.store.delete(self.catalog.remove_document(file.doc_id))
                    report.removed.append(file.doc_id)
                done += 1
                continue
            chunks = chunk_text(doc.text, self.settings.chunk_size, self.settings.chunk_overlap)
            ids = [chunk_id(doc.doc_id, c, self.settings.chunker_signature, self.embedder.name) for c in chunks]
            pending.append((doc, file.stamp, chunks, ids))
            pending_chunks += len(chunks)
            if pending_chunks >= flush_chunks:
                flush()
        flush()

    def _reconcile(self) -> None:
        """After an interrupted run: make Chroma hold exactly the catalog's chunks."""
        self.store.open(self.embedder.name, self.embedder.dim, create=True)
        expected = self.catalog.chunk_ids()
        present = self.store.ids()
        extra = present - expected
        if extra:
            log.info("removing %d vectors left by an interrupted run", len(extra))
            self.store.delete(extra)
        missing = expected - present
        if missing:
            docs = {r.doc_id for r in self.catalog.chunks(sorted(missing)).values()}
            log.info("re-embedding %d documents whose vectors are missing", len(docs))
            self.store.delete(self.catalog.remove_documents(sorted(docs)))


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector off while a scan builds its 100,000s of tuples, strings and dict entries (none of
    them in a cycle): each of its full passes walks every object alive, so at 100,000 documents it cost a
    no-change ``qa index`` 0.4 of 1.5 s. Put back as it was, also on an exception."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
