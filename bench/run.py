"""The scale and speed benchmark: ``python -m bench.run [--sizes 100,1000,10000] [--modes embedded,server]``.

Every figure comes from a fresh subprocess (``bench.worker`` or the ``qa`` command), so memory and cold-start
times are those of a real process. Results are merged into ``bench/work/results.json`` (keyed by mode and
size, so a quick run and a later 10,000-document run add up) and rendered to ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.corpus import build_corpus, extra_document
from bench.machine import describe
from bench.report import large_section, render

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "work"
RESULTS_JSON = WORK / "results.json"
RESULTS_MD = ROOT / "bench" / "RESULTS.md"
DEFAULT_SIZES, DEFAULT_MODES = "100,1000,10000", "embedded,server"
BIN = Path(sys.executable).parent
QA = str(BIN / "qa")
ASK = "What did the 1973 oil embargo do to the price of oil?"
CHUNKING: tuple[int, int] = (0, 0)  # (chunk size, overlap) from the settings, read once in main()


def log(message: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {message}", flush=True)


def questions_file() -> Path:
    """30 real questions about the corpora's source texts (15 SQuAD, 15 COVID-QA)."""
    path = WORK / "questions.txt"
    found: list[str] = []
    for name in ("squad2_dev_subset", "covidqa_deepset_subset"):
        data = json.loads((ROOT / "eval_data" / "external" / name / "rag_dataset.json").read_text())
        found += [e["query"].replace("\n", " ").strip() for e in data["examples"][:15]]
    path.write_text("\n".join(found) + "\n")
    return path


def environment(data_dir: Path, corpus: Path, chroma_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update(QA_DATA_DIR=str(data_dir), QA_CORPUS_DIR=str(corpus), QA_COLLECTION="bench")
    # Pinned at start-up, so a change to the defaults during a long run cannot mix two chunkers.
    env.update(QA_CHUNK_SIZE=str(CHUNKING[0]), QA_CHUNK_OVERLAP=str(CHUNKING[1]))
    if chroma_url:
        env["QA_CHROMA_URL"] = chroma_url
    env.setdefault("PYTHONPATH", str(ROOT))
    return env


def run(cmd: list[str], env: dict[str, str], timeout: float = 3600) -> tuple[float, str]:
    """Run ``cmd``; (wall seconds, stdout). Raises on a non-zero exit with its stderr."""
    started = time.perf_counter()
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {result.returncode}: {result.stderr[-2000:]}")
    return wall, result.stdout


def worker(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    _, out = run([sys.executable, "-m", "bench.worker", *args], env)
    return dict(json.loads(out.strip().splitlines()[-1]))


def qa_index(env: dict[str, str]) -> tuple[float, dict[str, Any]]:
    wall, out = run([QA, "index", "--json"], env)
    return wall, dict(json.loads(out.strip().splitlines()[-1]))


def _median_run(runs: list[dict[str, float]]) -> dict[str, Any]:
    """The run with the median wall time, and every run's wall time."""
    chosen = sorted(runs, key=lambda r: r["wall_s"])[len(runs) // 2]
    return {**chosen, "runs_wall_s": [r["wall_s"] for r in runs]}


def measure(
    mode: str,
    n: int,
    opts: argparse.Namespace,
    questions: Path,
    server_rss: list[float],
    save: Callable[[dict[str, Any]], None] = lambda result: None,
) -> dict[str, Any]:
    """All figures for one corpus size in one mode; ``save(result so far)`` after each step (a run that is
    stopped half-way keeps what it measured)."""
    corpus = build_corpus(n, WORK / f"corpus-{n}")
    base = WORK / f"{mode}-{n}"
    if base.exists():
        shutil.rmtree(base)
    base.mkdir(parents=True)
    server = None
    when = datetime.now(UTC).isoformat(timespec="seconds")
    result: dict[str, Any] = {"mode": mode, "size": n, "when": when, "load_start": os.getloadavg()[0]}
    result["chunking"] = list(CHUNKING)
    try:
        if mode == "server":
            from tests.chroma_server import ChromaServer

            server = ChromaServer(base / "chroma-db").start()
        env = environment(base / "data", corpus, server.url if server else None)

        log(f"{mode} {n}: indexing")
        index_args = ["index", "--repeat", "3" if n <= 100 else "1"]
        if mode == "server" or n > opts.bare_max:
            index_args.append("--no-bare")
        elif opts.bare_sample and n > opts.bare_sample:
            index_args += ["--bare-sample", str(opts.bare_sample)]
        if getattr(opts, "stand_in", False):
            index_args.append("--stand-in")
        result["index"] = worker(index_args, env)
        result["load_after_index"] = os.getloadavg()[0]
        save(result)

        log(f"{mode} {n}: no-change qa index")
        walls, internal = [], []
        for _ in range(3):
            wall, summary = qa_index(env)
            if summary["embedded"] != 0:
                raise RuntimeError(f"a no-change run embedded {summary['embedded']} chunks")
            walls.append(wall)
            internal.append(summary["seconds"])
        result["nochange"] = {"wall_s": statistics.median(walls), "sync_s": statistics.median(internal)}
        save(result)

        log(f"{mode} {n}: add one document, then remove it (3 times)")
        extra = corpus / "zz_extra.txt"
        adds: list[dict[str, float]] = []
        removes: list[dict[str, float]] = []
        for _ in range(3):
            extra.write_text(extra_document(n), encoding="utf-8")
            try:
                wall, summary = qa_index(env)
                if summary["added"] != 1:
                    raise RuntimeError(f"adding one document reported {summary}")
                adds.append({"wall_s": wall, "sync_s": summary["seconds"], "embedded": summary["embedded"]})
            finally:
                extra.unlink()
            wall, summary = qa_index(env)
            removes.append({"wall_s": wall, "sync_s": summary["seconds"]})
        result["add_one"] = _median_run(adds)
        result["remove_one"] = _median_run(removes)
        save(result)

        log(f"{mode} {n}: answer() latency")
        result["serve"] = worker(["serve", "--questions", str(questions), "--rounds", str(opts.rounds)], env)
        save(result)

        log(f"{mode} {n}: cold qa ask")
        colds = [run([QA, "ask", ASK], env)[0] for _ in range(3)]
        result["cold_ask_s"] = statistics.median(colds)
        result["cold_ask_runs_s"] = colds
        save(result)
        if server is not None:
            import psutil

            result["server_rss_mib"] = psutil.Process(server.pid).memory_info().rss / 2**20
            server_rss.append(result["server_rss_mib"])

        if mode == "embedded" and n <= opts.baseline_max:
            log(f"{mode} {n}: plain llama-index pipeline")
            baseline = ["llamaindex", "--corpus", str(corpus), "--chroma", str(base / "baseline-chroma")]
            baseline += ["--questions", str(questions), "--rounds", str(opts.rounds)]
            result["llamaindex"] = worker(baseline, env)
    finally:
        if server is not None:
            server.stop()
    return result


def write_results(stored: dict[str, Any], target: Path = RESULTS_MD) -> None:
    """``target`` (RESULTS.md) from ``stored``, keeping the section ``make bench-large`` wrote in RESULTS.md."""
    target.write_text(render(stored, large_section(RESULTS_MD.read_text() if RESULTS_MD.exists() else "")))


def committed_rows(results_md: str) -> set[str]:
    """The rows ("embedded-10000") of the indexing table in a rendered RESULTS.md."""
    section = results_md.split("## Indexing", 1)[-1].split("\n## ", 1)[0] if "## Indexing" in results_md else ""
    return {f"{m.group(1)}-{m.group(2)}" for m in re.finditer(r"^\| (embedded|server) \| (\d+) \|", section, re.M)}


def render_target(stored: dict[str, Any], *, say: bool = True) -> Path:
    """Where ``stored`` is rendered: the committed RESULTS.md when it holds every row that file has, else
    bench/work/RESULTS.md, so that results from a fresh work folder (a partial run, ``--render`` after one) never
    replace the committed table with fewer rows. ``say``: log which rows are missing (once a run, at its end)."""
    have = set(stored.get("results", {}))
    committed = committed_rows(RESULTS_MD.read_text()) if RESULTS_MD.exists() else set()
    if committed <= have:
        return RESULTS_MD
    if say:
        log(
            f"bench/RESULTS.md has rows these results lack ({', '.join(sorted(committed - have))}): writing "
            "bench/work/RESULTS.md instead (copy it over bench/RESULTS.md to replace the committed table)"
        )
    return WORK / "RESULTS.md"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help="comma-separated corpus sizes")
    parser.add_argument("--modes", default=DEFAULT_MODES, help="embedded and/or server")
    parser.add_argument("--server-max", type=int, default=1000, help="largest size measured in server mode")
    parser.add_argument("--baseline-max", type=int, default=1000, help="largest llama-index baseline size")
    parser.add_argument("--bare-max", type=int, default=10000, help="largest size for the bare-model timing")
    parser.add_argument("--bare-sample", type=int, default=1000, help="bare-model timing on at most N chunks")
    parser.add_argument("--rounds", type=int, default=1, help="rounds over the 30 questions for latency")
    parser.add_argument("--render", action="store_true", help="only re-render RESULTS.md from results.json")
    opts = parser.parse_args(argv)
    if opts.render:
        if not RESULTS_JSON.exists():
            parser.error(f"{RESULTS_JSON.relative_to(ROOT)} does not exist: run `make bench` first")
        stored = json.loads(RESULTS_JSON.read_text())
        target = render_target(stored)
        write_results(stored, target)
        log(f"wrote {target.relative_to(ROOT)}")
        return 0
    sizes = [int(s) for s in opts.sizes.split(",") if s.strip()]
    modes = [m.strip() for m in opts.modes.split(",") if m.strip()]
    if bad := [m for m in modes if m not in ("embedded", "server")]:
        parser.error(f"--modes takes embedded and/or server, got {bad}")

    from index.runtime import prepare_offline_runtime

    prepare_offline_runtime()
    from index.settings import Settings

    global CHUNKING
    defaults = Settings()
    CHUNKING = (defaults.chunk_size, defaults.chunk_overlap)
    WORK.mkdir(parents=True, exist_ok=True)
    stored: dict[str, Any] = json.loads(RESULTS_JSON.read_text()) if RESULTS_JSON.exists() else {}
    stored["machine"] = describe()
    env = environment(WORK / "help", ROOT / "corpus", None)
    stored["help_s"] = min(run([QA, "--help"], env)[0] for _ in range(3))
    questions = questions_file()
    started = time.perf_counter()
    server_rss: list[float] = []
    for n in sizes:
        for mode in modes:
            if mode == "server" and n > opts.server_max:
                log(f"server {n}: skipped (--server-max {opts.server_max})")
                continue
            stored.setdefault("results", {})[f"{mode}-{n}"] = measure(mode, n, opts, questions, server_rss)
            RESULTS_JSON.write_text(json.dumps(stored, indent=1))
            write_results(stored, render_target(stored, say=False))  # saved as it goes; where, said at the end
            log(f"{mode} {n}: done ({time.perf_counter() - started:.0f} s so far)")
    RESULTS_JSON.write_text(json.dumps(stored, indent=1))
    target = render_target(stored)
    write_results(stored, target)
    log(f"wrote {target.relative_to(ROOT)} in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
