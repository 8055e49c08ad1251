"""Throughput of a real ``qa serve`` under many concurrent chat clients (issue 19, point 8).

Run: ``.venv/bin/python -m bench.serve_load [--checkout DIR] [--clients 30] [--questions 12] [--rounds 1]``.

Starts ``DIR/.venv/bin/qa serve`` (default: this checkout) on a free loopback port over a copy of ``corpus/``
in a temporary folder and waits until it is idle (its answer workers started). Then asks the first
``--questions`` seed questions from one client, twice (the second time gives the reference answers and the
single-client latency), and lets ``--clients`` sessions (one thread and one session each, made before the
clock starts) ask every question once each, in rotated order, through ``/ask``: ``--warm-rounds`` rounds first,
then ``--rounds`` measured ones. Prints one JSON line per round: questions per second, latency p50/p95,
errors, how many answers differ from the single-client one (text, refusal, every citation's source, quote and
offsets), and the CPU seconds the server (with its workers) and the harness used.

``--checkout`` lets the same harness measure another worktree (e.g. ``/work/main``) side by side; on the shared
2-core machine run old and new alternately (A/B/A/B) and compare the spread, not single figures.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_serve(checkout: Path, tmp: Path, extra_env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    corpus = tmp / "corpus"
    shutil.copytree(ROOT / "corpus", corpus)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update(QA_DATA_DIR=str(tmp / "data"), QA_CORPUS_DIR=str(corpus), GRADIO_TEMP_DIR=str(tmp / "gradio"))
    env.update(extra_env)
    log = open(tmp / "serve.log", "wb")  # noqa: SIM115 (kept open for the child's lifetime)
    process = subprocess.Popen(
        [str(checkout / ".venv" / "bin" / "qa"), "serve", "--port", str(port)],
        cwd=tmp,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"qa serve exited with {process.returncode}:\n{(tmp / 'serve.log').read_text()}")
        try:
            with urllib.request.urlopen(url + "config", timeout=5) as response:
                if response.status == 200:
                    return process, url
        except OSError:
            time.sleep(0.5)
    process.kill()
    raise SystemExit("qa serve did not answer within 300 s")


def _same(result: dict[str, Any]) -> tuple[object, ...]:
    citations = tuple((c["n"], c["source"], c["quote"], c["start"], c["end"]) for c in result.get("citations", ()))
    return result.get("answer"), result.get("refused"), citations


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its children (answer workers), alive ones only."""
    import psutil

    total = 0.0
    try:
        root = psutil.Process(pid)
        for process in [root, *root.children(recursive=True)]:
            times = process.cpu_times()
            total += times.user + times.system
    except psutil.Error:
        pass
    return total


def _own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


class HttpSession:
    """One client speaking Gradio's queue protocol as the browser and gradio_client do (a session of its own:
    ``POST /gradio_api/queue/join``, then the session's event stream until the answer), over one keep-alive
    connection, without gradio_client's polling threads: about 1 ms of CPU a question, so the server is what is
    measured."""

    def __init__(self, url: str) -> None:
        from urllib.parse import urlparse

        where = urlparse(url)
        self.connection = http.client.HTTPConnection(where.hostname or "127.0.0.1", where.port or 80, timeout=600)
        self.session_hash = uuid.uuid4().hex[:12]
        self.connection.request("GET", "/config")
        config = json.loads(self.connection.getresponse().read())
        self.fn_index = {d.get("api_name"): d["id"] for d in config["dependencies"]}

    def predict(self, question: str, api_name: str = "/ask") -> Any:
        body = {
            "data": [question, []],
            "fn_index": self.fn_index[api_name.strip("/")],
            "session_hash": self.session_hash,
            "event_data": None,
            "trigger_id": None,
        }
        self.connection.request(
            "POST", "/gradio_api/queue/join", json.dumps(body), {"Content-Type": "application/json"}
        )
        response = self.connection.getresponse()
        joined = response.read()
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}: {joined[:200]!r}")
        event_id = json.loads(joined)["event_id"]
        self.connection.request("GET", f"/gradio_api/queue/data?session_hash={self.session_hash}")
        stream = self.connection.getresponse().read().decode("utf-8")
        for line in stream.splitlines():
            if not line.startswith("data: "):
                continue
            message = json.loads(line[len("data: ") :])
            if message.get("msg") == "process_completed" and message.get("event_id") == event_id:
                if not message.get("success"):
                    raise RuntimeError(f"the server failed: {message.get('output')}")
                return message["output"]["data"][0]
        raise RuntimeError(f"no answer in the event stream: {stream[-300:]!r}")


def _session(url: str, client: str) -> Any:
    if client == "gradio":
        from gradio_client import Client

        return Client(url, verbose=False)
    return HttpSession(url)


class Round:
    """One round: every session asks every question once, in its own rotated order; outcomes are tallied."""

    def __init__(self, sessions: list[Any], questions: list[str], reference: dict[str, tuple[object, ...]]) -> None:
        self.sessions, self.questions, self.reference = sessions, questions, reference
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.differ = 0
        self.lock = threading.Lock()
        self.go = threading.Barrier(len(sessions) + 1)

    def session(self, i: int) -> None:
        self.go.wait()
        for j in range(len(self.questions)):
            question = self.questions[(i + j) % len(self.questions)]
            started = time.perf_counter()
            try:
                result = self.sessions[i].predict(question, api_name="/ask")
            except Exception as exc:  # counted and reported, the run goes on
                with self.lock:
                    self.errors.append(f"{type(exc).__name__}: {exc}")
                continue
            elapsed = time.perf_counter() - started
            with self.lock:
                self.latencies.append(elapsed)
                if "error" in result:
                    self.errors.append(str(result["error"]))
                elif _same(result) != self.reference[question]:
                    self.differ += 1


def _wait_until_idle(pid: int, limit_s: float = 120.0) -> float:
    """Wait until the server (and its answer workers, which start after it answers) has used under 10 % of a core
    for 2 s in a row; returns the seconds waited."""
    started = time.monotonic()
    quiet = 0
    before = _cpu_seconds(pid)
    while time.monotonic() - started < limit_s and quiet < 4:
        time.sleep(0.5)
        now = _cpu_seconds(pid)
        quiet = quiet + 1 if now - before < 0.05 else 0
        before = now
    return time.monotonic() - started


def measure(
    url: str,
    questions: list[str],
    clients: int,
    rounds: int,
    server_pid: int,
    client: str = "http",
    warm_rounds: int = 1,
) -> list[dict[str, Any]]:
    _wait_until_idle(server_pid)
    single_client = _session(url, client)
    for question in questions:  # warm: question vectors, sentence vectors and the store are cached
        single_client.predict(question, api_name="/ask")
    reference: dict[str, tuple[object, ...]] = {}
    single: list[float] = []
    for question in questions:
        started = time.perf_counter()
        result = single_client.predict(question, api_name="/ask")
        single.append(time.perf_counter() - started)
        reference[question] = _same(result)
    sessions = [_session(url, client) for _ in range(clients)]
    figures = []
    for number in range(warm_rounds + rounds):
        run = Round(sessions, questions, reference)
        with ThreadPoolExecutor(max_workers=clients) as pool:
            futures = [pool.submit(run.session, i) for i in range(clients)]
            run.go.wait()
            started = time.perf_counter()
            server_cpu, client_cpu = _cpu_seconds(server_pid), _own_cpu_seconds()
            for future in futures:
                future.result()
            wall = time.perf_counter() - started
            server_cpu, client_cpu = _cpu_seconds(server_pid) - server_cpu, _own_cpu_seconds() - client_cpu
        latencies = run.latencies
        figures.append(
            {
                "round": "warm-up" if number < warm_rounds else number - warm_rounds + 1,
                "client": client,
                "clients": clients,
                "questions": len(questions),
                "answered": len(latencies),
                "errors": len(run.errors),
                "first_error": run.errors[0] if run.errors else None,
                "differ_from_single_client": run.differ,
                "wall_s": round(wall, 2),
                "questions_per_s": round(len(latencies) / wall, 2),
                "p50_s": round(statistics.median(latencies), 3) if latencies else None,
                "p95_s": round(_percentile(latencies, 0.95), 3) if latencies else None,
                "single_client_p50_s": round(statistics.median(single), 3),
                "server_cpu_s": round(server_cpu, 1),
                "client_cpu_s": round(client_cpu, 1),
                "load_avg_1m": round(os.getloadavg()[0], 2),
            }
        )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench.serve_load")
    parser.add_argument("--checkout", type=Path, default=ROOT, help="the worktree whose .venv/bin/qa is served")
    parser.add_argument("--clients", type=int, default=30)
    parser.add_argument("--questions", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument(
        "--warm-rounds",
        type=int,
        default=1,
        help="concurrent rounds run first and reported as warm-up: every answerer (each worker process has its "
        "own caches) has then seen every question",
    )
    parser.add_argument(
        "--client",
        choices=["http", "gradio"],
        default="http",
        help="http: Gradio's queue protocol over plain keep-alive connections (light); gradio: one gradio_client "
        "per session (about 70 ms of client CPU a question: on 2 cores the harness itself becomes the limit)",
    )
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE", help="extra server settings")
    args = parser.parse_args()
    seed = [json.loads(line) for line in (ROOT / "eval_data" / "seed_dev.jsonl").read_text().splitlines()]
    questions = [q["question"] for q in seed][: args.questions]
    extra = dict(item.split("=", 1) for item in args.env)
    with tempfile.TemporaryDirectory(prefix="serve-load-") as tmp:
        process, url = start_serve(args.checkout.resolve(), Path(tmp), extra)
        try:
            for figures in measure(
                url, questions, args.clients, args.rounds, process.pid, args.client, args.warm_rounds
            ):
                print(json.dumps({"checkout": str(args.checkout), **figures}), flush=True)
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
    sys.stdout.flush()


if __name__ == "__main__":
    main()
