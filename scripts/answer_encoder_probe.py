"""Probe: does the answer encoder of ``training/train_encoder.py`` choose the sentence to quote better?

The fine-tuned all-MiniLM-L6-v2 (run in NumPy: ``index.minilm.NumpyMiniLM`` with the tensors the training wrote)
reads the question and each candidate sentence apart, as the bundled model does, so it costs what the sentence
embedding of answering costs. Measured on the development sets (own dev, dev2–dev10), answer by answer through the
real pipeline (``qa.evaluation.runner.evaluate``):

- ``hand-set``: answering as it ships;
- ``chooser``: the choosing step reads the encoder's vectors of the question and of each candidate instead of the
  bundled model's (its cosine feature is the encoder's; retrieval, refusal and the rest unchanged);
- ``reader``: the encoder's cosine as the second reader of ``qa.reranker`` (``Answerer(reranker=…)``), blended over
  the best ``--candidates`` with share ``--weight``.

And at the choosing step (answerable questions whose evidence is a candidate): how often the hand-set score, the
bundled model's cosine and the encoder's cosine each put the evidence first.

Since the twenty-fourth session answering reads the shipped encoder where words fail (``qa.answering.MEANING_GATE``),
so ``hand-set`` is answering as it ships, that included.

Run: ``python scripts/answer_encoder_probe.py WEIGHTS_DIR [--candidates 10] [--weight 0.2]`` (about four minutes
on 2 cores). Measured and not taken: docs/TUNING.md, twenty-third session.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.meaning import AnswerEncoder as ShippedEncoder  # noqa: E402
from training.encoder_data import holds_evidence  # noqa: E402

SETS = (ROOT / "dev_data" / "seed_own_dev.jsonl", *(ROOT / "dev_data" / f"seed_own_dev{n}.jsonl" for n in range(2, 11)))


class AnswerEncoder(ShippedEncoder):
    """``qa.meaning.AnswerEncoder`` over the weights in ``weights_dir``, with a ``SentenceReader``'s ``score``."""

    def __init__(self, weights_dir: Path) -> None:
        from index.embedding import bundled_model_path

        super().__init__(bundled_model_path(), weights_dir)

    def score(self, question: str, sentences: Sequence[str]) -> list[float]:
        return [float(v) for v in self.cosines(question, sentences)]


def run(encoder: AnswerEncoder, system: str, candidates: int, weight: float) -> dict[str, Any]:
    import qa.answering
    import qa.evaluation.runner as runner
    from index.settings import Settings
    from qa.evaluation.dataset import load_dataset

    plain_build = runner.build_answerer
    plain_blend = qa.answering.RERANK_CANDIDATES, qa.answering.RERANK_WEIGHT
    steps: list[dict[str, Any]] = []

    def build(settings: Any, index: Any) -> Any:
        answerer = plain_build(settings, index)
        chooser = answerer.chooser

        def choosing(cands: Any, meaning: Any, query_vector: Any, terms: Any, w: Any, question: str, topic: Any) -> Any:
            texts = [c.text for c in cands]
            tuned = encoder.vectors([*texts, question])
            if system == "chooser":
                meaning, query_vector = tuned[:-1], tuned[-1]
            out = chooser(cands, meaning, query_vector, terms, w, question, topic)
            if system == "hand-set":
                steps.append(
                    {
                        "question": question,
                        "texts": texts,
                        "bundled": [float(v) for v in meaning @ query_vector],
                        "tuned": [float(v) for v in tuned[:-1] @ tuned[-1]],
                        "hand": out[0].sentence.text if out else "",
                    }
                )
            return out

        answerer.chooser = choosing
        if system == "reader":
            answerer.reranker = encoder
        return answerer

    totals = {"first citation": 0, "answerable": 0, "false refusals": 0, "unanswerable": 0, "refused": 0}
    top1 = {"hand-set": 0, "bundled cosine": 0, "encoder cosine": 0, "evidence a candidate": 0}
    runner.build_answerer = build  # type: ignore[assignment]
    if system == "reader":
        qa.answering.RERANK_CANDIDATES, qa.answering.RERANK_WEIGHT = candidates, weight
    try:
        for path in SETS:
            dataset = load_dataset(path)
            steps.clear()
            metrics = runner.evaluate(dataset, Settings(), ROOT / "corpus").ours.metrics
            answerable = sum(1 for e in dataset.examples if e.answerable)
            unanswerable = len(dataset.examples) - answerable
            totals["answerable"] += answerable
            totals["unanswerable"] += unanswerable
            totals["first citation"] += round((metrics.first_citation or 0.0) * answerable)
            totals["false refusals"] += round((metrics.false_refusal_rate or 0.0) * answerable)
            totals["refused"] += round((metrics.refusal_accuracy or 0.0) * unanswerable)
            evidence = {e.question: [q.quote for q in e.evidence] for e in dataset.examples if e.answerable}
            for step in steps:
                quotes = evidence.get(step["question"])
                if not quotes:
                    continue

                if any(holds_evidence(t, quotes) for t in step["texts"]):
                    top1["evidence a candidate"] += 1
                    top1["hand-set"] += holds_evidence(step["hand"], quotes)
                    top1["bundled cosine"] += holds_evidence(step["texts"][int(np.argmax(step["bundled"]))], quotes)
                    top1["encoder cosine"] += holds_evidence(step["texts"][int(np.argmax(step["tuned"]))], quotes)
    finally:
        runner.build_answerer = plain_build
        qa.answering.RERANK_CANDIDATES, qa.answering.RERANK_WEIGHT = plain_blend
    return {"pipeline": totals, **({"choosing step": top1} if system == "hand-set" else {})}


def main() -> None:
    from index.runtime import prepare_offline_runtime

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("weights", type=Path, help="a folder training/train_encoder.py wrote")
    parser.add_argument("--candidates", type=int, default=10)
    parser.add_argument("--weight", type=float, default=0.2)
    parser.add_argument("--systems", nargs="+", default=["hand-set", "chooser", "reader"])
    args = parser.parse_args()
    prepare_offline_runtime()
    encoder = AnswerEncoder(args.weights)
    report = {system: run(encoder, system, args.candidates, args.weight) for system in args.systems}
    print(json.dumps({"weights": str(args.weights), **report}, indent=1))


if __name__ == "__main__":
    main()
