"""Build ``qa/data/related_words.tsv.gz``: for each whole English word of the bundled model's vocabulary, the
words whose meaning is closest to it, as the bundled all-MiniLM-L6-v2 embeds each word alone ("employment":
jobs 0.78, workforce 0.73; "munitions": ammunition 0.75).

Run with ``make related-words`` (about a minute on two cores); deterministic: the same model gives the same
file. Nothing but the bundled model is read: no corpus, no question set. Answering reads the file to credit a
question word absent from a sentence when the sentence holds a closely related one (``qa.related``).
"""

from __future__ import annotations

import argparse
import gzip
import sys
import time
from pathlib import Path

import numpy as np

from index.embedding import bundled_model_path
from index.keywords import STOP_WORDS, stem
from index.minilm import NumpyMiniLM
from qa.spelling import known_words

OUT = Path(__file__).resolve().parent.parent / "qa" / "data" / "related_words.tsv.gz"
MIN_SIMILARITY = 0.60  # pairs stored; answering applies its own, higher bar (qa.related.RELATED_SIMILARITY)
MAX_NEIGHBOURS = 8
MIN_LENGTH = 3


def words() -> list[str]:
    return sorted(w for w in known_words() if len(w) >= MIN_LENGTH and w not in STOP_WORDS)


def embed(vocabulary: list[str], batch: int = 256) -> np.ndarray:
    model = NumpyMiniLM(bundled_model_path())
    out = [model.encode(vocabulary[i : i + batch]) for i in range(0, len(vocabulary), batch)]
    return np.concatenate(out).astype(np.float32)


def neighbours(vocabulary: list[str], vectors: np.ndarray, block: int = 2048) -> list[list[tuple[str, float]]]:
    stems = [stem(w) for w in vocabulary]
    out: list[list[tuple[str, float]]] = []
    for lo in range(0, len(vocabulary), block):
        sims = vectors[lo : lo + block] @ vectors.T
        for row, i in enumerate(range(lo, min(lo + block, len(vocabulary)))):
            s = sims[row]
            top = np.argpartition(-s, MAX_NEIGHBOURS * 3)[: MAX_NEIGHBOURS * 3]
            top = top[np.argsort(-s[top])]
            kept = [
                (vocabulary[j], round(float(s[j]), 3))
                for j in top
                if j != i and s[j] >= MIN_SIMILARITY and stems[j] != stems[i]
            ][:MAX_NEIGHBOURS]
            out.append(kept)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--limit", type=int, default=0, help="only the first N words (a quick check)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    vocabulary = words()
    if args.limit:
        vocabulary = vocabulary[: args.limit]
    vectors = embed(vocabulary)
    related = neighbours(vocabulary, vectors)
    lines = [
        w + "\t" + " ".join(f"{n}:{s:.3f}" for n, s in kept)
        for w, kept in zip(vocabulary, related, strict=True)
        if kept
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with gzip.GzipFile(args.out, "wb", mtime=0) as f:  # mtime 0: the same words give the same bytes
        f.write(("\n".join(lines) + "\n").encode("utf-8"))
    print(
        f"{args.out}: {len(lines)} of {len(vocabulary)} words have related words "
        f"(>= {MIN_SIMILARITY}), {time.perf_counter() - started:.0f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
