"""What the chat UI does, without Gradio: answer, list, add, delete and re-index documents safely.

Questions and index changes share one ``CorpusIndex`` (one model, one Chroma handle). Index changes run one
at a time; an incremental sync leaves questions running (the catalog is WAL-mode SQLite and retrieval skips
chunks deleted between two reads), while a full rebuild, which drops the collection, waits for the questions
in flight and holds new ones until it is done. While the server runs it owns the data folder, so a
``qa index`` from the command line is handed to it and goes through the same gate (``index.lease``), and so do
the syncs that follow changes in the corpus folder while it is watched (``index.watching``).
Questions are answered by worker processes when there are cores to spare (``ui.workers``).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from index.builder import CorpusIndex, IndexStatus, Progress, ProgressCallback, SyncReport
from index.catalog import DocumentRecord
from index.embedding import Embedder
from index.errors import DocumentRejectedError, IndexMismatchError, IndexNotBuiltError, QAError
from index.reading import Skipped
from index.settings import Settings
from index.uploads import (
    StoredDocument,
    TrashedDocument,
    add_document,
    delete_document,
    restore_document,
    trashed_documents,
)
from index.watching import ChangeBatch, CorpusWatcher
from qa.answering import Answerer
from qa.condense import condense
from qa.service import build_answerer, build_index
from qa.types import Answer, StreamEvent
from ui.workers import AnswerPool, default_size

log = logging.getLogger(__name__)

SYNC_RETRY_S = 15.0  # a sync after corpus changes that failed is tried again after this long
LISTED_DOCUMENTS = 500  # the Documents tab lists at most this many (the most recently indexed)


class IndexGate:
    """Many readers (questions) or one full rebuild; a waiting rebuild holds back new readers."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writing = False
        self._writers_waiting = 0
        self.changes = threading.Lock()  # serialises every index change (sync, upload, delete, rebuild)

    @property
    def rebuilding(self) -> bool:
        return self._writing or self._writers_waiting > 0

    @contextmanager
    def reading(self) -> Iterator[None]:
        with self._cond:
            while self._writing or self._writers_waiting:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._cond:
            self._writers_waiting += 1
            try:
                while self._writing or self._readers:
                    self._cond.wait()
            finally:
                self._writers_waiting -= 1
            self._writing = True
        try:
            yield
        finally:
            with self._cond:
                self._writing = False
                self._cond.notify_all()


@dataclass(frozen=True, slots=True)
class IndexNews:
    """What the last index change that changed something did (or why the last one failed), for the chat."""

    at: float  # time.time() when it finished
    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    error: str | None = None


@dataclass(frozen=True, slots=True)
class LiveStatus:
    """The chat's status line: what an index change is doing now, the last one's news, and the watcher."""

    activity: str | None
    news: IndexNews | None
    watching: bool
    watch_error: str | None


@dataclass(frozen=True, slots=True)
class UploadOutcome:
    """Which files were added (and indexed), which refused (with the reason), and the sync that followed."""

    added: list[StoredDocument]
    refused: list[str]
    report: SyncReport | None


class ChatBackend:
    """The services the UI is handed: one index, one answerer, one gate, and answer workers when they help.

    Every change to the index goes through this object: the UI's uploads, deletes and rebuilds, the start-up
    sync, and the syncs ``qa index`` hands over while this server owns the data folder (``index.lease``).
    """

    def __init__(self, settings: Settings, index: CorpusIndex, answerer: Answerer, *, opened: bool = True) -> None:
        self.settings = settings
        self.index = index
        self.answerer = answerer
        self.gate = IndexGate()
        self.pool: AnswerPool | None = None
        self._opened = opened
        self._open_lock = threading.Lock()
        self._activity: str | None = None  # what an index change is doing, for the Documents tab
        self._before: tuple[IndexStatus, dict[str, DocumentRecord]] | None = None  # the index as a rebuild found it
        self._news: IndexNews | None = None
        self.watcher: CorpusWatcher | None = None
        self._retry: threading.Timer | None = None
        self.start_up_error: str | None = None

    @classmethod
    def start(cls, settings: Settings, embedder: Embedder | None = None) -> ChatBackend:
        """Open the index and warm up; an index that is missing, or was left half-changed by a killed process,
        is brought up to date in the background, after the caller starts serving (questions wait for it).

        Raises:
            CorpusNotFoundError, IndexMismatchError, StoreUnavailableError: the index cannot be opened or built.
        """
        index = build_index(settings, embedder)
        reason: str | None = None
        try:
            index.open()
        except IndexNotBuiltError:
            reason = f"no index in {settings.data_dir} yet: building it from {settings.corpus_dir}"
        if index.interrupted:  # an index change was killed part-way (e.g. a rebuild): finish it first
            reason = f"the last index change in {settings.data_dir} was interrupted: bringing the index up to date"
        if reason is not None:
            index.require_corpus()
        backend = cls(settings, index, build_answerer(settings, index=index, open_index=False), opened=reason is None)
        if reason is None:
            backend.warm_up()
        else:
            log.warning("%s (serving meanwhile; questions wait)", reason)
            backend._sync_in_background()
        return backend

    def start_workers(self, size: int | None = None) -> None:
        """Answer extractive questions in ``size`` worker processes (default: ``QA_ANSWER_WORKERS``, else one per
        core, at most 4); 0, or a language model configured, keeps answering in this process."""
        size = self.settings.answer_workers if size is None else size
        size = default_size() if size is None else size
        if size <= 0 or self.settings.llm_enabled or self.pool is not None:
            return
        self.pool = AnswerPool(self.settings, self.index.store, self.gate.reading, size)
        self.pool.start()

    def close(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
        if self._retry is not None:
            self._retry.cancel()
        if self.pool is not None:
            self.pool.close()

    def watch(self) -> None:
        """Follow the corpus folder: each batch of changes there (after a short quiet spell) is one incremental
        sync through the same gate as the Rebuild button and ``qa index``; the first batch catches up with what
        changed while nothing watched. Returns at once (the notifier starts on the watcher's thread)."""
        if self.watcher is None:
            self.watcher = CorpusWatcher(
                self.settings.corpus_dir, self._corpus_changed, self.index.catalog.has_documents_under
            )
            self.watcher.start(wait_s=0)

    def _corpus_changed(self, batch: ChangeBatch) -> None:
        """A batch of changes in the corpus folder: one incremental sync (questions keep being answered)."""
        with self.gate.changes:
            earlier = self._news
            try:
                report = self._tracked_sync(f"Indexing {batch.describe()}", rebuild=False)
            except Exception as exc:
                failure = str(exc) if isinstance(exc, QAError) else f"{type(exc).__name__}: {exc}"
                if not isinstance(exc, QAError):
                    log.exception("indexing the corpus changes (%s) failed", batch.describe())
                else:
                    log.error("indexing the corpus changes (%s) failed: %s", batch.describe(), failure)
                self._news = IndexNews(time.time(), error=failure)
                self._retry_later()
                return
            changed = set(batch.paths)
            if skipped := tuple(s for s in report.skipped if s.doc_id in changed):  # a new file that cannot be read
                news = self._news if self._news is not earlier else None  # this sync's own news, if it has some
                self._news = replace(news, skipped=skipped) if news else IndexNews(time.time(), skipped=skipped)
            if self.start_up_error is not None:  # the index could not be built at start; now it could
                self.start_up_error = None
                self._ensure_open()

    def _retry_later(self) -> None:
        """After a failed sync (a Chroma server down, a full disk), try again in a while even if nothing else
        changes: the changes that failed must not wait for the next one."""
        if self._retry is None or not self._retry.is_alive():
            self._retry = threading.Timer(SYNC_RETRY_S, self._corpus_changed, args=(ChangeBatch(catch_up=True),))
            self._retry.daemon = True
            self._retry.start()

    def live(self) -> LiveStatus:
        """What the chat's status line shows (read from memory: it is polled by every open page)."""
        watcher = self.watcher
        return LiveStatus(
            activity=self._activity,
            news=self._news,
            watching=watcher is not None and watcher.state.watching,
            watch_error=watcher.state.error if watcher is not None else None,
        )

    def warm_up(self) -> None:
        """Load the model and touch the vector index now, so the first question is as fast as the rest."""
        warm = getattr(self.index.embedder, "warm_up", None)
        if callable(warm):
            warm()
        try:  # retrieval only: a configured language model is not called at start-up
            if self.answerer.meaning is not None:
                self.answerer.meaning.warm_up()
            self.answerer.retriever.retrieve(condense("warm up the index", ()), 1)
        except Exception:  # an empty corpus or the like: the first real question will say what is wrong
            log.debug("warm-up retrieval failed", exc_info=True)

    def _sync_in_background(self) -> None:
        """The start-up sync, run after serving starts; questions wait for it at the gate."""
        taken = threading.Event()

        def run() -> None:
            with self.gate.changes, self.gate.exclusive():
                taken.set()
                try:
                    report = self._tracked_sync("Bringing the index up to date", rebuild=False)
                    log.warning("the index is up to date: %d documents, %d chunks", report.documents, report.chunks)
                    self._ensure_open()
                except QAError as exc:
                    self.start_up_error = str(exc)
                    log.error("could not bring the index up to date: %s", exc)
                except Exception as exc:  # logged; the UI says so and questions get the store's own error
                    self.start_up_error = f"{type(exc).__name__}: {exc}"
                    log.exception("could not bring the index up to date")
            self.warm_up()

        threading.Thread(target=run, name="qa-start-up-sync", daemon=True).start()
        taken.wait()

    def _ensure_open(self) -> None:
        if not self._opened:
            with self._open_lock:
                if not self._opened:
                    self.index.open()
                    self._opened = True

    # -- questions -------------------------------------------------------------------------------------
    def validate(self, question: str) -> str:
        """The cleaned question (raises InvalidQuestionError with the message to show)."""
        return self.answerer.validate(question)

    def stream(self, question: str, history: Sequence[str] = ()) -> Iterator[StreamEvent]:
        """Text deltas then the ``Answer``; waits while a full rebuild runs."""
        with self.gate.reading():
            self._ensure_open()
            events = self.pool.stream(question, history) if self.pool is not None else None
            if events is not None:
                yield from events
                return
            yield from self.answerer.stream(question, history)

    def answer(self, question: str, history: Sequence[str] = ()) -> Answer:
        final: Answer | None = None
        for event in self.stream(question, history):
            if isinstance(event, Answer):
                final = event
        assert final is not None  # a stream always ends with the Answer
        return final

    def document_text(self, doc_id: str) -> str | None:
        return self.index.document_text(doc_id)

    # -- documents -------------------------------------------------------------------------------------
    @property
    def activity(self) -> str | None:
        """What an index change is doing right now ("Rebuilding the index: 2 of 5 documents…"), or None."""
        return self._activity

    def status(self) -> IndexStatus:
        """The index's figures; during a rebuild, those it had before (the catalog is half-built meanwhile)."""
        before = self._before
        return before[0] if before is not None else self.index.status()

    def documents(self, limit: int = LISTED_DOCUMENTS) -> dict[str, DocumentRecord]:
        """The ``limit`` most recently indexed documents, by name (a page of 100,000 rows helps no one); during a
        rebuild, those the index had before."""
        before = self._before
        return before[1] if before is not None else self.index.catalog.recent_documents(limit)

    def upload(self, files: Sequence[tuple[Path, str]], progress: ProgressCallback | None = None) -> UploadOutcome:
        """Copy ``(path, original name)`` files into the corpus, then sync; a refused file stops no other.

        A file is reported added only once it is indexed: one the sync skips, or every new one when the sync
        fails, is taken out of the corpus again and reported refused, with the reason.
        """
        added: list[StoredDocument] = []
        refused: list[str] = []
        with self.gate.changes:
            for path, name in files:
                try:
                    added.append(add_document(self.settings, path, name))
                except DocumentRejectedError as exc:
                    refused.append(str(exc))
            if not added:
                return UploadOutcome(added, refused, None)
            try:
                report = self._tracked_sync("Indexing the upload", rebuild=False, progress=progress)
            except Exception as exc:
                failure = str(exc) if isinstance(exc, QAError) else f"{type(exc).__name__}: {exc}"
                if not isinstance(exc, QAError):
                    log.exception("the sync after an upload failed")
                indexed = self.index.catalog.hashes()
                kept = [d for d in added if d.doc_id in indexed]
                for document in added:
                    if document.doc_id not in indexed:
                        document.path.unlink(missing_ok=True)
                        refused.append(f"{document.doc_id} was not added: the index could not be updated ({failure}).")
                return UploadOutcome(kept, refused, None)
            skipped = {s.doc_id: s.reason for s in report.skipped}
            kept = []
            for document in added:
                if document.doc_id in skipped:  # not indexed (and never was: the name was new), so not kept
                    document.path.unlink(missing_ok=True)
                    refused.append(f"{document.doc_id} was not added: {skipped[document.doc_id]}.")
                else:
                    kept.append(document)
            report.skipped = [s for s in report.skipped if s.doc_id not in {d.doc_id for d in added}]
        return UploadOutcome(kept, refused, report)

    def delete(self, doc_id: str, progress: ProgressCallback | None = None) -> tuple[TrashedDocument, SyncReport]:
        """Move the file to the trash, then sync (raises DocumentRejectedError when there is no such document)."""
        with self.gate.changes:
            trashed = delete_document(self.settings, doc_id)
            return trashed, self._tracked_sync(f"Removing {doc_id}", rebuild=False, progress=progress)

    def restore(self, entry: str, progress: ProgressCallback | None = None) -> tuple[StoredDocument, SyncReport]:
        """Put a document back from the trash, then sync (raises DocumentRejectedError when it cannot be)."""
        with self.gate.changes:
            restored = restore_document(self.settings, entry)
            return restored, self._tracked_sync(f"Restoring {restored.doc_id}", rebuild=False, progress=progress)

    def trash(self) -> list[TrashedDocument]:
        """The deleted documents that can be restored, most recent first."""
        return trashed_documents(self.settings)

    def sync(self, *, rebuild: bool = False, progress: ProgressCallback | None = None) -> SyncReport:
        """Sync the index with the corpus; ``rebuild`` drops it first and holds questions meanwhile."""
        with self.gate.changes:
            if not rebuild:
                return self._tracked_sync("Bringing the index up to date", rebuild=False, progress=progress)
            with self.gate.exclusive():
                return self._tracked_sync("Rebuilding the index", rebuild=True, progress=progress)

    def sync_for_cli(self, request: dict[str, Any], progress: ProgressCallback) -> SyncReport:
        """A sync ``qa index`` handed over (``index.lease``), after checking it asks for this server's index.

        Raises:
            IndexMismatchError: the command line's settings name another corpus, collection, store or chunker.
        """
        ours = {
            "corpus_dir": str(self.settings.corpus_dir.resolve()),
            "collection": self.settings.collection,
            "chroma_url": self.settings.chroma_url,
            "chunker": self.settings.chunker_signature,
        }
        for key, value in ours.items():
            if request.get(key) != value:
                raise IndexMismatchError(
                    f"qa serve (pid {os.getpid()}) serves this index with {key}={value!r}, but `qa index` asks "
                    f"for {request.get(key)!r}; run it with the server's settings, or stop the server first."
                )
        return self.sync(rebuild=bool(request.get("rebuild")), progress=progress)

    def _tracked_sync(self, what: str, *, rebuild: bool, progress: ProgressCallback | None = None) -> SyncReport:
        """``index.sync`` with its progress shown in the Documents tab (the caller holds ``gate.changes``)."""

        def report(p: Progress) -> None:
            self._activity = f"{what}: {p.documents_done} of {p.documents_total} documents, {p.chunks_embedded} chunks"
            if progress is not None:
                progress(p)

        if rebuild or not self.index.catalog.exists():
            self._before = (self.index.status(), self.documents()) if self.index.catalog.exists() else None
        self._activity = f"{what}…"
        try:
            result = self.index.sync(rebuild=rebuild, progress=report)
        finally:
            self._activity = None
            self._before = None
        if result.added or result.updated or result.removed:
            self._news = IndexNews(time.time(), tuple(result.added), tuple(result.updated), tuple(result.removed))
        return result
