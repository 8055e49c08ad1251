"""Warm ``answer()`` latency on the seed corpus (issue 15's target: p50 under 200 ms on 2 cores; 50 ms before).

Run: ``.venv/bin/python -m bench.answer_latency [--rounds 5]``. Indexes ``corpus/`` into a temporary folder,
loads the model, then times every seed question (with its history). The first round starts with an empty
sentence-vector cache; later rounds repeat the same questions, so they show the cache's effect and are
reported separately.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from index.runtime import prepare_offline_runtime

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    prepare_offline_runtime()
    from index.settings import Settings
    from qa.service import build_answerer, build_index

    parser = argparse.ArgumentParser(prog="bench.answer_latency")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    questions = [json.loads(line) for line in (ROOT / "eval_data" / "seed_dev.jsonl").read_text().splitlines()]
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "data", corpus_dir=ROOT / "corpus")
        index = build_index(settings)
        index.sync()
        answerer = build_answerer(settings, index=index)
        answerer.answer("warm up the model and the stores")
        if answerer.meaning is not None:  # as `qa serve` warms it at start
            answerer.meaning.warm_up()
        rounds: list[list[float]] = []
        for _ in range(args.rounds):
            times = []
            for q in questions:
                started = time.perf_counter()
                answerer.answer(q["question"], q.get("history", ()))
                times.append(1000 * (time.perf_counter() - started))
            rounds.append(times)
    first, later = rounds[0], [t for r in rounds[1:] for t in r]

    def line(name: str, times: list[float]) -> str:
        p95 = statistics.quantiles(times, n=20)[18] if len(times) > 1 else times[0]
        return f"{name}: n={len(times)} p50={statistics.median(times):.1f} ms p95={p95:.1f} ms"

    print(line("first round (new questions, empty sentence cache)", first))
    if later:
        print(line("later rounds (repeated questions)", later))


if __name__ == "__main__":
    main()
