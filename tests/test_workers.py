"""ui.workers: answers from worker processes equal the server process's own, under concurrency and a killed worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from test_load import QUESTIONS
from test_ui_server import ROOT

from index.embedding import MiniLMEmbedder
from index.errors import InvalidQuestionError
from index.settings import Settings
from qa.types import Answer
from ui.backend import ChatBackend

READY_TIMEOUT = 180.0


def _same(answer: Answer) -> tuple[object, ...]:
    return answer.text, answer.refused, tuple((c.n, c.source, c.quote, c.start, c.end) for c in answer.citations)


def _wait_ready(backend: ChatBackend, n: int) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while backend.pool is not None and backend.pool.ready < n:
        assert time.monotonic() < deadline, f"only {backend.pool.ready} of {n} answer workers ready"
        time.sleep(0.2)


def test_a_worker_starts_before_numpy_so_it_can_limit_its_blas_threads() -> None:
    """What a spawned worker imports before its code runs (the parent's main module, the worker module) must not
    load NumPy, or its one-thread BLAS setting comes too late (ui.workers._worker_main)."""
    probe = "import sys, qa.cli, ui.workers; print('numpy' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "False", result.stderr


def test_workers_answer_as_the_server_process_does(settings: Settings, embedder: MiniLMEmbedder) -> None:
    backend = ChatBackend.start(settings, embedder)
    try:
        own = {q: _same(backend.answer(q)) for q in QUESTIONS}  # no workers yet: answered in this process
        assert sum(1 for a in own.values() if not a[1] and a[2]) >= 8
        backend.start_workers(2)
        assert backend.pool is not None
        _wait_ready(backend, 2)
        pids = {w.process.pid for w in backend.pool._workers.values()}
        assert len(pids) == 2 and os.getpid() not in pids

        def ask(i: int) -> tuple[str, tuple[object, ...]]:
            question = QUESTIONS[i % len(QUESTIONS)]
            return question, _same(backend.answer(question))

        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(ask, range(4 * len(QUESTIONS))))
        assert all(answer == own[question] for question, answer in results)
        with pytest.raises(InvalidQuestionError, match="not valid text"):  # raised in a worker, raised here
            backend.answer("\ud800 What did Croatia say?")

        victim = next(iter(backend.pool._workers.values()))
        os.kill(victim.process.pid, signal.SIGKILL)
        victim.process.join(timeout=30)
        after = [_same(backend.answer(q)) for q in QUESTIONS]  # one lands on the dead worker: answered here
        assert after == [own[q] for q in QUESTIONS]
        _wait_ready(backend, 2)  # started again
        assert victim.process.pid not in {w.process.pid for w in backend.pool._workers.values()}
    finally:
        backend.close()
    assert backend.pool is not None and backend.pool.ready == 0
