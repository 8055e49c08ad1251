"""Load on the real ``qa serve``: 20 concurrent gradio_client sessions, and questions during an upload."""

from __future__ import annotations

import json
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

import pytest
from test_ui_server import ROOT, Server, serving

pytestmark = pytest.mark.server

ARTIFACTS = ROOT / "test-artifacts"
SESSIONS = 20
PER_SESSION = 10
LOAD_TIMEOUT = 240.0
# Ten questions over the five seed articles (copied from eval_data/seed_dev.jsonl, dev-01..dev-10).
QUESTIONS = (
    "what did Croatia say about military blocs?",
    "Which firm did Albania authorize to produce weapons and ammunition?",
    "Which countries signed the joint declaration of cooperation on defense?",
    "Leaders from which countries attended the summit where Zelensky promoted joint arms production?",
    "Which treaty should Albania's arms production comply with?",
    "Where did the expert groups meet to put the defense plan into operation?",
    "What milestone is expected for Kosovo and NATO in 2025?",
    "Which hybrid threats did Zelensky call for cooperation against?",
    "How does the Serbian government view the cooperation between Kosovo, Albania and Croatia?",
    "Which news agency reported the joint declaration?",
)
NEW_ARTICLE = (
    "Montenegro Opens a Naval Training Centre in Bar\n"
    "The Montenegrin navy opened a new naval training centre in the port of Bar on Monday. "
    "The centre will train divers and mine clearance teams from the Adriatic region. "
    "Officials said the first course will start in the spring with forty cadets.\n"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serving(tmp_path_factory.mktemp("load-server")) as running:
        yield running


def _client(server: Server) -> Any:
    from gradio_client import Client

    return Client(server.url, verbose=False)


class KeepAsking:
    """``clients`` threads, each with its own client, asking ``QUESTIONS`` in turn until ``stop()`` (or until
    ``limit`` answers): every answer with when it was asked and when it came (``time.perf_counter``), and every
    failure, for the caller to assert on."""

    def __init__(self, make_client: Callable[[], Any], clients: int = 3, limit: int | None = None) -> None:
        self.answers: list[tuple[float, float, str, dict[str, Any]]] = []
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._limit = limit
        self._threads = [threading.Thread(target=self._ask, args=(make_client, i), daemon=True) for i in range(clients)]
        for thread in self._threads:
            thread.start()

    def _ask(self, make_client: Callable[[], Any], offset: int) -> None:
        client = make_client()
        n = offset
        while not self._stop.is_set() and (self._limit is None or len(self.answers) < self._limit):
            question = QUESTIONS[n % len(QUESTIONS)]
            n += 1
            started = time.perf_counter()
            try:
                result = client.predict(question, api_name="/ask")
            except Exception as exc:  # reported by the caller's assertions
                self.failures.append(f"{question!r}: {type(exc).__name__}: {exc}")
                continue
            self.answers.append((started, time.perf_counter(), question, result))

    def stop(self, timeout: float = 120) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=timeout)


def _same_answer(result: dict[str, Any]) -> tuple[object, ...]:
    """What must not change between users: the text, the refusal and every citation (not float scores)."""
    citations = tuple((c["n"], c["source"], c["quote"], c["start"], c["end"]) for c in result["citations"])
    return result["answer"], result["refused"], citations


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def test_twenty_concurrent_sessions_get_the_single_user_answers(server: Server) -> None:
    single_client = _client(server)
    single: dict[str, tuple[object, ...]] = {}
    single_latency: list[float] = []
    for question in QUESTIONS:
        started = time.perf_counter()
        result = single_client.predict(question, api_name="/ask")
        single_latency.append(time.perf_counter() - started)
        assert "error" not in result, (question, result)
        single[question] = _same_answer(result)
    cited = [q for q, a in single.items() if not a[1] and a[2]]
    assert len(cited) >= 8, f"only {len(cited)} of {len(QUESTIONS)} seed questions were answered with citations"

    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()

    def session(i: int) -> int:
        client = _client(server)
        done = 0
        for j in range(PER_SESSION):
            question = QUESTIONS[(i + j) % len(QUESTIONS)]
            started = time.perf_counter()
            try:
                result = client.predict(question, api_name="/ask")
            except Exception as exc:  # every failure is collected and reported below
                with lock:
                    failures.append(f"session {i}: {question!r}: {type(exc).__name__}: {exc}")
                continue
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                if "error" in result:
                    failures.append(f"session {i}: {question!r}: {result['error']}")
                elif _same_answer(result) != single[question]:
                    failures.append(f"session {i}: {question!r}: answer differs from the single-user one")
            done += 1
        return done

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=SESSIONS) as pool:
        futures = [pool.submit(session, i) for i in range(SESSIONS)]
        finished, pending = wait(futures, timeout=LOAD_TIMEOUT)
        for future in pending:
            future.cancel()
        assert not pending, f"{len(pending)} sessions still running after {LOAD_TIMEOUT:.0f} s"
        completed = sum(f.result() for f in finished)
    wall = time.perf_counter() - started

    assert not failures, "\n".join(failures[:20])
    assert completed == len(latencies) == SESSIONS * PER_SESSION
    figures = {
        "sessions": SESSIONS,
        "questions_per_session": PER_SESSION,
        "requests": completed,
        "errors": len(failures),
        "wall_s": round(wall, 2),
        "throughput_rps": round(completed / wall, 2),
        "p50_s": round(statistics.median(latencies), 3),
        "p95_s": round(_percentile(latencies, 0.95), 3),
        "max_s": round(max(latencies), 3),
        "single_user_p50_s": round(statistics.median(single_latency), 3),
        "single_user_cited": len(cited),
    }
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "load.json").write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(f"\nload: {json.dumps(figures)}", file=sys.stderr)


def test_questions_keep_being_answered_while_an_upload_syncs(server: Server, tmp_path: Path) -> None:
    from gradio_client import handle_file

    article = tmp_path / "montenegro-naval-centre.txt"
    article.write_text(NEW_ARTICLE, encoding="utf-8")
    uploader = _client(server)
    asking = KeepAsking(lambda: _client(server), limit=400)
    time.sleep(1.0)  # questions are flowing before the upload starts
    upload_started = time.perf_counter()
    job = uploader.submit([handle_file(str(article))], api_name="/upload")
    message, status, table, _, _ = job.result(timeout=180)
    upload_ended = time.perf_counter()
    time.sleep(0.5)
    asking.stop(timeout=60)
    answers, errors = asking.answers, asking.failures

    assert "Added montenegro-naval-centre.txt" in message, message
    assert "<b>6</b> documents" in status and "montenegro-naval-centre.txt" in table
    assert not errors, errors[:5]
    during = [a for a in answers if a[0] < upload_ended and a[1] > upload_started]
    assert during, "no question overlapped the upload"
    for _, _, question, result in answers:
        assert "error" not in result, (question, result)
        if question == QUESTIONS[0]:  # the example question is always answered with a citation
            assert "[1]" in result["answer"] and result["citations"], result
    cited = [a for a in answers if a[3]["citations"] and not a[3]["refused"]]
    assert len(cited) >= len(answers) * 0.7
    new = uploader.predict("Where did Montenegro open a naval training centre?", api_name="/ask")
    assert "montenegro-naval-centre.txt" in {c["source"] for c in new["citations"]}, new
    print(
        f"\nupload: {len(answers)} answers ({len(during)} during the {upload_ended - upload_started:.1f} s "
        f"upload + sync), {len(cited)} cited, 0 errors",
        file=sys.stderr,
    )
