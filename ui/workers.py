"""Answering in worker processes, so that concurrent questions use every core.

An extractive answer is mostly pure-Python scoring: in one process the GIL lets one thread run it at a time,
so a server that answers in its own process answers one question at a time however many threads it gives the
queue (measured: docs/RELIABILITY.md). Each worker process holds its own answerer (model, catalog connection,
caches) over the same data folder. The vector store stays in the server process, because embedded Chroma is
not safe for several processes (``index.lease``): a worker asks the server for a question's nearest chunks (and
for the chunk vectors of the documents its second reading reads) over its pipe. The caller holds the index gate's
read side while a worker answers, so no rebuild runs under it, and the catalog is WAL-mode SQLite, so a worker reads
what the server last committed. Answers are the same as the server's own: same code, same data, and the caches only
skip recomputing vectors.

Workers start in the background; until one is ready (or when one dies), questions are answered in the server
process as before. A generative answer streams from a language model server and mostly waits on the network,
so it stays in the server process (``ChatBackend`` does not use the pool then).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from index.errors import IndexNotBuiltError
from index.settings import Settings
from qa.types import StreamEvent

if TYPE_CHECKING:  # NumPy is not imported here: a worker limits its BLAS threads before it loads NumPy
    import numpy as np

    from index.store import ChunkStore

log = logging.getLogger(__name__)

Events = list[StreamEvent]
WARM_UP_QUESTION = "warm up the index"
RESTART_PAUSE_S = 2.0  # a worker that died is started again after this long (never in a tight loop)


class _RemoteStore:
    """The vector store as a worker sees it: ``query`` and ``vectors`` are run by the server process, over the pipe."""

    def __init__(self, conn: Connection, location: str) -> None:
        self._conn = conn
        self.location = location

    def open(self, model: str, dim: int, *, create: bool) -> None:
        """The server opened the store (and checked it matches the model and chunker)."""

    def query(self, embedding: np.ndarray, n: int) -> list[tuple[str, float]]:
        result: list[tuple[str, float]] = self._ask("query", embedding, n)
        return result

    def vectors(self, chunk_ids: Sequence[str]) -> np.ndarray:
        """The stored vectors of ``chunk_ids`` (a document's, for the second reading's topic cosine)."""
        result: np.ndarray = self._ask("vectors", list(chunk_ids))
        return result

    def _ask(self, *request: Any) -> Any:
        self._conn.send(request)
        kind, value = self._conn.recv()
        if kind == "error":
            raise value
        return value


BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _worker_main(conn: Connection, settings: Settings) -> None:
    """A worker process: answer each question it is sent, until the server closes the pipe."""
    # The workers are the parallelism: each runs NumPy's BLAS on one thread (users' values win). With a thread
    # per core in every worker, OpenBLAS threads spin against each other: measured, a round of 360 questions
    # with cold caches took 24 s with stalls of 10 s, against 11 s and 1.3 s with one thread each.
    if "numpy" in sys.modules:  # imported while the worker started: too late to limit its threads
        log.warning("NumPy was loaded before the answer worker could limit its threads")
    for variable in BLAS_THREAD_VARIABLES:
        os.environ.setdefault(variable, "1")
    from index.runtime import prepare_offline_runtime

    prepare_offline_runtime()
    from qa.service import build_answerer, build_index

    index = build_index(settings)
    index.store = _RemoteStore(conn, index.store.location)  # type: ignore[assignment]
    warm = getattr(index.embedder, "warm_up", None)
    if callable(warm):
        warm()
    if settings.answer_encoder:  # loaded once per process: the answerer built at the first question shares it
        from index.embedding import bundled_model_path
        from qa.meaning import AnswerEncoder, AnswerEncoderError

        with contextlib.suppress(AnswerEncoderError):  # missing weights: the answerer says so at the first question
            AnswerEncoder(bundled_model_path()).warm_up()
    answerer = None
    conn.send(("ready", None))
    while True:
        try:
            question, history = conn.recv()
        except (EOFError, OSError):  # the server is gone (stopped or killed): so is its worker
            return
        try:
            if answerer is None:
                answerer = build_answerer(settings, index=index)
            events: Events = list(answerer.stream(question, history))
            conn.send(("done", events))
        except Exception as exc:  # sent back and raised in the server, as if it had answered itself
            try:
                conn.send(("failed", exc))
            except Exception:  # an exception that does not pickle: its type and message do
                conn.send(("failed", RuntimeError(f"{type(exc).__name__}: {exc}")))


class _Worker:
    def __init__(self, number: int, process: Any, conn: Connection) -> None:
        self.number = number
        self.process = process
        self.conn = conn


class WorkerGone(Exception):
    """A worker process died while it was answering."""


class AnswerPool:
    """``size`` worker processes answering extractive questions over the data folder of ``settings``.

    ``store`` is the server's open vector store (workers' queries run on it); ``reading`` enters the index
    gate's read side (held while a starting worker answers its warm-up question).
    """

    def __init__(
        self,
        settings: Settings,
        store: ChunkStore,
        reading: Callable[[], AbstractContextManager[None]],
        size: int,
    ) -> None:
        if size <= 0:
            raise ValueError(f"size must be > 0, got {size}")
        self.settings = settings
        self.size = size
        self._store = store
        self._reading = reading
        self._context = multiprocessing.get_context("spawn")  # fork is unsafe in a process with threads
        self._free: queue.Queue[_Worker] = queue.Queue()
        self._workers: dict[int, _Worker] = {}
        self._lock = threading.Lock()
        self._closed = False

    @property
    def ready(self) -> int:
        """Workers that have started and answered their warm-up question."""
        with self._lock:
            return len(self._workers)

    def start(self) -> None:
        """Start the workers in the background; questions are answered in the server process until one is ready."""
        for number in range(self.size):
            threading.Thread(target=self._launch, args=(number,), name=f"qa-answer-start-{number}", daemon=True).start()

    def stream(self, question: str, history: Sequence[str]) -> Events | None:
        """A worker's answer events (text, then the ``Answer``), or None when no worker can take it: answer in
        this process then. Exceptions raised while answering (an invalid question, a lost store) are raised here.
        """
        while True:
            if self.ready == 0:
                return None
            try:
                worker = self._free.get(timeout=1.0)
                break
            except queue.Empty:  # all busy, or all gone meanwhile: look again
                continue
        try:
            events = self._ask(worker, question, list(history))
        except WorkerGone:
            self._lost(worker)
            return None
        except BaseException:
            self._free.put(worker)
            raise
        self._free.put(worker)
        return events

    def close(self) -> None:
        """Stop the workers (they also stop on their own when this process ends: their pipe closes)."""
        with self._lock:
            self._closed = True
            workers, self._workers = list(self._workers.values()), {}
        for worker in workers:
            with contextlib.suppress(OSError):
                worker.conn.close()
            worker.process.join(timeout=5)
            if worker.process.is_alive():
                worker.process.terminate()

    # -- inside ----------------------------------------------------------------------------------------
    def _launch(self, number: int) -> None:
        parent, child = self._context.Pipe()
        process = self._context.Process(
            target=_worker_main, args=(child, self.settings), name=f"qa-answer-{number}", daemon=True
        )
        try:
            process.start()
        except Exception:
            log.exception("could not start answer worker %d; questions are answered in the server process", number)
            return
        child.close()
        worker = _Worker(number, process, parent)
        try:
            kind, _ = parent.recv()
            if kind != "ready":
                raise WorkerGone(kind)
            with self._reading():
                self._ask(worker, WARM_UP_QUESTION, [])
        except IndexNotBuiltError:
            pass  # nothing indexed yet: it is ready all the same, and the first question says what is wrong
        except (WorkerGone, EOFError, OSError):
            log.warning("answer worker %d stopped while starting; questions are answered in the server process", number)
            process.join(timeout=5)
            return
        except Exception:  # an empty corpus or the like: the first real question will say what is wrong
            log.debug("answer worker %d: warm-up question failed", number, exc_info=True)
        with self._lock:
            if self._closed:
                parent.close()
                return
            self._workers[number] = worker
        self._free.put(worker)
        log.info("answer worker %d (pid %s) is ready", number, process.pid)

    def _ask(self, worker: _Worker, question: str, history: list[str]) -> Events:
        """Send a question to ``worker`` and run its vector queries until it answers."""
        try:
            worker.conn.send((question, history))
            while True:
                kind, *payload = worker.conn.recv()
                if kind in ("query", "vectors"):
                    try:
                        found = self._store.query(*payload) if kind == "query" else self._store.vectors(*payload)
                        worker.conn.send(("ok", found))
                    except Exception as exc:  # e.g. a lost Chroma server: the worker raises it, and so do we
                        worker.conn.send(("error", exc))
                elif kind == "done":
                    events: Events = payload[0]
                    return events
                elif kind == "failed":
                    raise payload[0]
                else:
                    raise WorkerGone(f"unexpected message {kind!r}")
        except (EOFError, OSError, BrokenPipeError) as exc:
            raise WorkerGone(str(exc)) from exc

    def _lost(self, worker: _Worker) -> None:
        log.warning("answer worker %d (pid %s) stopped; starting it again", worker.number, worker.process.pid)
        with self._lock:
            self._workers.pop(worker.number, None)
            closed = self._closed
        with contextlib.suppress(OSError):
            worker.conn.close()
        worker.process.join(timeout=1)
        if not closed:

            def restart() -> None:
                time.sleep(RESTART_PAUSE_S)
                if not self._closed:
                    self._launch(worker.number)

            threading.Thread(target=restart, name=f"qa-answer-restart-{worker.number}", daemon=True).start()


def default_size() -> int:
    """One worker per core the process may use, at most 4 (more buys nothing on a small corpus); none on a
    single core, where a worker would only add its start-up and the pipe."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return 0 if cores < 2 else min(4, cores)
