"""What the chat UI does, without Gradio: answer, list, add, delete and re-index documents safely.

Questions and index changes share one ``CorpusIndex`` (one model, one Chroma handle). Index changes run one
at a time; an incremental sync leaves questions running (the catalog is WAL-mode SQLite and retrieval skips
chunks deleted between two reads), while a full rebuild, which drops the collection, waits for the questions
in flight and holds new ones until it is done.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from index.builder import CorpusIndex, IndexStatus, ProgressCallback, SyncReport
from index.catalog import DocumentRecord
from index.embedding import Embedder
from index.errors import DocumentRejectedError, IndexNotBuiltError
from index.settings import Settings
from index.uploads import StoredDocument, add_document, delete_document
from qa.answering import Answerer
from qa.condense import condense
from qa.service import build_answerer, build_index
from qa.types import Answer

log = logging.getLogger(__name__)


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
class UploadOutcome:
    """Which files were added, which refused (with the reason), and the sync that followed."""

    added: list[StoredDocument]
    refused: list[str]
    report: SyncReport | None


class ChatBackend:
    """The services the UI is handed: one index, one answerer, one gate."""

    def __init__(self, settings: Settings, index: CorpusIndex, answerer: Answerer) -> None:
        self.settings = settings
        self.index = index
        self.answerer = answerer
        self.gate = IndexGate()

    @classmethod
    def start(cls, settings: Settings, embedder: Embedder | None = None) -> ChatBackend:
        """Open the index (building it first when there is none), load the model and warm it up.

        Raises:
            CorpusNotFoundError, IndexMismatchError, StoreUnavailableError.
        """
        index = build_index(settings, embedder)
        try:
            index.open()
        except IndexNotBuiltError:
            log.warning("no index in %s yet: building it from %s", settings.data_dir, settings.corpus_dir)
            report = index.sync()
            log.warning("indexed %d documents, %d chunks", report.documents, report.chunks)
        if index.interrupted:  # an index change was killed part-way (e.g. a rebuild): finish it first
            log.warning("the last index change in %s was interrupted: bringing the index up to date", settings.data_dir)
            index.sync()
        backend = cls(settings, index, build_answerer(settings, index=index))
        backend.warm_up()
        return backend

    def warm_up(self) -> None:
        """Load the model and touch the vector index now, so the first question is as fast as the rest."""
        warm = getattr(self.index.embedder, "warm_up", None)
        if callable(warm):
            warm()
        try:  # retrieval only: a configured language model is not called at start-up
            self.answerer.retriever.retrieve(condense("warm up the index", ()), 1)
        except Exception:  # an empty corpus or the like: the first real question will say what is wrong
            log.debug("warm-up retrieval failed", exc_info=True)

    # -- questions -------------------------------------------------------------------------------------
    def validate(self, question: str) -> str:
        """The cleaned question (raises InvalidQuestionError with the message to show)."""
        return self.answerer.validate(question)

    def stream(self, question: str, history: Sequence[str] = ()) -> Iterator[str | Answer]:
        """Text deltas then the ``Answer``; waits while a full rebuild runs."""
        with self.gate.reading():
            yield from self.answerer.stream(question, history)

    def answer(self, question: str, history: Sequence[str] = ()) -> Answer:
        with self.gate.reading():
            return self.answerer.answer(question, history)

    def document_text(self, doc_id: str) -> str | None:
        return self.index.document_text(doc_id)

    # -- documents -------------------------------------------------------------------------------------
    def status(self) -> IndexStatus:
        return self.index.status()

    def documents(self) -> dict[str, DocumentRecord]:
        return self.index.documents()

    def upload(self, files: Sequence[tuple[Path, str]], progress: ProgressCallback | None = None) -> UploadOutcome:
        """Copy ``(path, original name)`` files into the corpus, then sync; a refused file stops no other."""
        added: list[StoredDocument] = []
        refused: list[str] = []
        with self.gate.changes:
            for path, name in files:
                try:
                    added.append(add_document(self.settings, path, name))
                except DocumentRejectedError as exc:
                    refused.append(str(exc))
            report = self.index.sync(progress=progress) if added else None
        return UploadOutcome(added, refused, report)

    def delete(self, doc_id: str, progress: ProgressCallback | None = None) -> SyncReport:
        """Remove the file, then sync (raises DocumentRejectedError when there is no such document)."""
        with self.gate.changes:
            delete_document(self.settings, doc_id)
            return self.index.sync(progress=progress)

    def sync(self, *, rebuild: bool = False, progress: ProgressCallback | None = None) -> SyncReport:
        """Sync the index with the corpus; ``rebuild`` drops it first and holds questions meanwhile."""
        with self.gate.changes:
            if not rebuild:
                return self.index.sync(progress=progress)
            with self.gate.exclusive():
                return self.index.sync(rebuild=True, progress=progress)
