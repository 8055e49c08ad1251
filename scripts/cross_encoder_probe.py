"""Probe: does a cross-encoder fine-tuned on SQuAD training questions choose the sentence to quote better?

The cross-encoder (``training/train_cross.py``, run in NumPy by ``training/cross_runner.py``) reads the question
and a candidate together. Two measurements on the team's own questions over the seed news articles:

1. **Choosing step** (own dev and dev2, answerable, no history): each question is asked through the real
   ``Answerer``, refusal off; of the candidates the hand-set score ranks, is the best one the evidence? The hand-set
   score, the cross-encoder alone, and the two blended over the first ``--candidates`` (each standardised over
   them, ``qa.reranker.blend``). Also: how well the cross-encoder's best logit over the first ten candidates
   separates answerable questions from near-misses (AUC), beside the hand-set best score's.
2. **Whole pipeline** (``qa eval``'s metrics): the hand-set answerer against the same one with the cross-encoder
   blended into the choice (``Answerer(reranker=…)``, which reorders the best ``--candidates`` by the blend,
   ``--weight`` its share), on own dev and dev2 (where the blend is chosen) and on the two held-out sets (report).

Run: ``python scripts/cross_encoder_probe.py WEIGHTS_DIR [--candidates 10] [--weight 0.3]`` (about five minutes on
2 cores). Measured and not taken: docs/TUNING.md, thirteenth session.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHOOSE = (ROOT / "dev_data" / "seed_own_dev.jsonl", ROOT / "dev_data" / "seed_own_dev2.jsonl")
REPORT = tuple(ROOT / "dev_data" / f"seed_own_holdout{n}.jsonl" for n in ("", "2", "3"))


def choosing_step(cross: Any, candidates: int, weight: float) -> dict[str, Any]:
    from index.settings import Settings
    from qa.answering import RefusalPolicy
    from qa.extractive import ScoredSentence
    from qa.reranker import blend
    from qa.service import build_answerer, build_index
    from training.train_cross import auc

    with tempfile.TemporaryDirectory() as work:
        settings = Settings(data_dir=Path(work), corpus_dir=ROOT / "corpus")
        index = build_index(settings)
        index.sync()
        answerer = build_answerer(settings, index)
        answerer.refusal = RefusalPolicy(min_dense=-np.inf, min_coverage=-np.inf)
        ranked: list[list[ScoredSentence]] = []
        chooser = answerer.chooser

        def recording(*args: Any, **kwargs: Any) -> list[ScoredSentence]:
            out = chooser(*args, **kwargs)
            ranked.append(out)
            return out

        answerer.chooser = recording  # type: ignore[assignment]
        top1 = {"hand-set": 0, "cross-encoder": 0, "blend": 0}
        best: dict[bool, list[float]] = {True: [], False: []}
        hand_best: dict[bool, list[float]] = {True: [], False: []}
        asked = with_evidence = 0
        for path in CHOOSE:
            for line in path.read_text(encoding="utf-8").splitlines():
                row = json.loads(line)
                if row.get("history") or row["kind"] == "off_topic":
                    continue
                ranked.clear()
                answerer.answer(row["question"])
                if not ranked or not ranked[0]:
                    continue
                found = ranked[0]
                logits = cross.score(row["question"], [s.sentence.text for s in found])
                best[row["answerable"]].append(max(logits[:10]))
                hand_best[row["answerable"]].append(found[0].score)
                if not row["answerable"]:
                    continue
                asked += 1
                quotes = [e["quote"].lower() for e in row["evidence"]]
                good = [
                    any(q in s.sentence.text.lower() or s.sentence.text.lower() in q for q in quotes) for s in found
                ]
                with_evidence += any(good)
                k = min(candidates, len(found))
                mixed = blend([s.score for s in found[:k]], logits[:k], weight) if k > 1 else [0.0]
                top1["hand-set"] += good[0]
                top1["cross-encoder"] += good[int(np.argmax(logits))]
                top1["blend"] += good[int(np.argmax(mixed))]
    return {
        "answerable asked": asked,
        "evidence among the candidates": with_evidence,
        "best candidate is the evidence": top1,
        "answerable vs near-miss AUC": {
            "cross-encoder best logit": round(auc(best[True], best[False]), 3),
            "hand-set best score": round(auc(hand_best[True], hand_best[False]), 3),
        },
    }


def whole_pipeline(cross: Any, candidates: int, weight: float) -> dict[str, Any]:
    import qa.answering
    import qa.evaluation.runner as runner
    from index.settings import Settings
    from qa.answering import Answerer, RefusalPolicy
    from qa.evaluation.dataset import load_dataset

    plain_build = runner.build_answerer
    plain_blend = qa.answering.RERANK_CANDIDATES, qa.answering.RERANK_WEIGHT
    out: dict[str, Any] = {}
    for path in (*CHOOSE, *REPORT):
        dataset = load_dataset(path)
        figures = {}
        for system in ("hand-set", "cross-encoder blend"):
            if system == "hand-set":
                runner.build_answerer = plain_build
            else:
                qa.answering.RERANK_CANDIDATES, qa.answering.RERANK_WEIGHT = candidates, weight
                runner.build_answerer = lambda settings, index: Answerer(  # type: ignore[assignment]
                    settings, index, reranker=cross, refusal=RefusalPolicy()
                )
            m = runner.evaluate(dataset, Settings(), ROOT / "corpus").ours.metrics
            figures[system] = {
                "first citation": m.first_citation,
                "false refusals": m.false_refusal_rate,
                "unanswerables refused": m.refusal_accuracy,
            }
        runner.build_answerer = plain_build
        qa.answering.RERANK_CANDIDATES, qa.answering.RERANK_WEIGHT = plain_blend
        out[path.name] = figures
    return out


def main() -> None:
    from index.runtime import prepare_offline_runtime

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("weights", type=Path, help="a folder training/train_cross.py wrote")
    parser.add_argument("--candidates", type=int, default=10)
    parser.add_argument("--weight", type=float, default=0.3)
    args = parser.parse_args()
    prepare_offline_runtime()
    from index.embedding import bundled_model_path
    from training.cross_runner import CrossEncoder

    cross = CrossEncoder(bundled_model_path(), args.weights)
    report = {
        "weights": str(args.weights),
        "candidates": args.candidates,
        "weight": args.weight,
        "choosing step (own dev + dev2)": choosing_step(cross, args.candidates, args.weight),
        "whole pipeline": whole_pipeline(cross, args.candidates, args.weight),
    }
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
