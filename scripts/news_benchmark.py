"""The team's news questions (training/news_qa) asked as ``qa eval`` asks a development set: each writer's 120
questions over that writer's own four articles, indexed apart (a corpus of a few related articles, as the seed one).

Writers w7, w8, w15 and w16 are the validation split of the answer encoder (``training.encoder_data``): their
figures say how answering does on articles and phrasing no part of it was trained on (the meaning gate was chosen
on w7 and w8; no rule or weight on w15 and w16). Writers w17–w24 wrote news-analysis pieces in the seed articles'
style, and no part of answering was trained or chosen on them. Writers w1–w6 and w9–w14 trained the encoder, so their
figures flatter it. Prints each writer's first citation, false refusals, unanswerables refused and hit@5, then the
totals by kind of question.

Run: ``python scripts/news_benchmark.py [--writers w15 w16]`` (a few minutes for all twenty-four on 2 cores; set
``QA_ANSWER_ENCODER=false`` for the hand-set choice alone).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from training.news_sets import WRITERS, writer_set  # noqa: E402  (after the path is set)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", nargs="+", default=list(WRITERS), choices=WRITERS)
    args = parser.parse_args()
    from index.runtime import prepare_offline_runtime

    prepare_offline_runtime()
    from index.settings import Settings
    from qa.evaluation.dataset import load_dataset
    from qa.evaluation.metrics import Metrics
    from qa.evaluation.runner import evaluate

    totals: dict[str, list[float]] = {}  # kind → first citations, answerable, false refusals, refused, unanswerable

    def add(kind: str, m: Metrics) -> None:
        t = totals.setdefault(kind, [0.0] * 5)
        a, u = m.answerable, m.unanswerable
        t[0] += (m.first_citation or 0.0) * a
        t[1] += a
        t[2] += (m.false_refusal_rate or 0.0) * a
        t[3] += (m.refusal_accuracy or 0.0) * u
        t[4] += u

    with tempfile.TemporaryDirectory(prefix="qa-news-") as work:
        for writer in args.writers:
            dataset, corpus = writer_set(writer, Path(work))
            run = evaluate(load_dataset(dataset), Settings(), corpus).ours
            m = run.metrics
            print(
                f"{writer}: first citation {m.first_citation:.3f}, false refusals {m.false_refusal_rate:.3f}, "
                f"unanswerables refused {m.refusal_accuracy:.3f}, hit@5 {m.hit_at_k:.3f}",
                flush=True,
            )
            add("all", m)
            for kind, km in run.by_kind.items():
                add(kind, km)
    for kind, (fc, a, fr, ref, u) in sorted(totals.items(), key=lambda kv: kv[0] != "all"):
        parts = []
        if a:
            parts.append(f"first citation {fc / a:.3f} ({round(fc)} of {round(a)}), false refusals {fr / a:.3f}")
        if u:
            parts.append(f"unanswerables refused {ref / u:.3f} ({round(ref)} of {round(u)})")
        print(f"{kind}: " + ", ".join(parts))


if __name__ == "__main__":
    main()
