"""The two engines of the embedding model side by side: ``python -m bench.engines [--rounds 3]``.

Start-up (a fresh process importing and loading each), a question, 15 sentences of an article (what an answer
embeds), 256 chunks (a bulk-indexing batch), and the largest difference between their vectors. Times are the
best of ``--rounds``.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from index.runtime import prepare_offline_runtime

ROOT = Path(__file__).resolve().parent.parent

_LOAD = {
    "numpy": "from index.embedding import bundled_model_path\nfrom index.minilm import NumpyMiniLM\n"
    "NumpyMiniLM(bundled_model_path()).encode(['warm'])",
    "torch": "from index.embedding import llama_index_embedding\nllama_index_embedding().get_query_embedding('warm')",
}


def _startup(engine: str) -> float:
    """Seconds for a fresh Python to import and load ``engine`` and embed one text."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", _LOAD[engine]], cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - started


def _best(rounds: int, call: Callable[[], object]) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    prepare_offline_runtime()
    import numpy as np

    from bench.corpus import paragraphs
    from index.embedding import MiniLMEmbedder

    parser = argparse.ArgumentParser(prog="bench.engines")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="cpu", help="where torch runs")
    args = parser.parse_args()
    article = max(sorted((ROOT / "corpus").glob("*.txt")), key=lambda p: p.stat().st_size)
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", article.read_text(encoding="utf-8")) if len(s) > 40][:15]
    paras = paragraphs()
    chunks = [paras[(i * 37) % len(paras)][:600] for i in range(256)]
    question = "What did Croatia say about military blocs?"

    numpy_engine = MiniLMEmbedder(numpy_max=10_000)  # everything on NumPy
    torch_engine = MiniLMEmbedder(numpy_max=0, device=args.device)  # everything on torch
    numpy_engine.warm_up()
    torch_engine.warm_up()
    rows = [("start-up, fresh process (s)", _startup("numpy"), _startup("torch"), "{:.2f}")]
    for name, texts, scale in (
        ("a question (ms)", None, 1000),
        ("15 article sentences (ms)", sentences, 1000),
        ("256 chunks (s)", chunks, 1),
    ):
        if texts is None:
            a = _best(args.rounds, lambda: numpy_engine.embed_query(question))
            b = _best(args.rounds, lambda: torch_engine.embed_query(question))
        else:
            a = _best(args.rounds, lambda t=texts: numpy_engine.embed_documents(t))  # type: ignore[misc]
            b = _best(args.rounds, lambda t=texts: torch_engine.embed_documents(t))  # type: ignore[misc]
        rows.append((name, a * scale, b * scale, "{:.1f}" if scale == 1000 else "{:.2f}"))
    every = [question, *sentences, *chunks]
    diff = float(np.abs(numpy_engine.embed_documents(every) - torch_engine.embed_documents(every)).max())
    print(f"{'':32} {'numpy':>9} {'torch':>9}  (torch on {torch_engine.device}, batches of {torch_engine.batch_size})")
    for name, a, b, fmt in rows:
        print(f"{name:32} {fmt.format(a):>9} {fmt.format(b):>9}")
    print(f"largest difference between their vectors, {len(every)} texts: {diff:.1e}")


if __name__ == "__main__":
    main()
