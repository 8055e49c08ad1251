"""Learn the second reading of the best candidates (``qa.scorer.SecondReading``): which of the ``--candidates`` best
sentences by the sentence score to quote first, from the score's features, the answer encoder's cosine to the question
and the bundled model's cosine to the sentence's document as a whole (``generic``).

Data: the team's development questions over the seed articles (``dev_data/seed_own_dev*.jsonl`` over ``corpus/``;
written for development, never an evaluation or held-out set). Each answerable question is asked through the real
``Answerer`` with the answer encoder; where the encoder has not chosen the sentence already (``Answerer._by_meaning``),
the candidates the second reading would read are recorded with their features and cosines. The question is asked
again with each candidate put first, and a candidate is right when that answer's first citation holds the question's
evidence (``qa.evaluation.metrics.hits``, as ``qa eval`` counts a first citation).

Model: the sentence score's linear form over the features and the two cosines, damped, fitted as a conditional logit
(``training.train_scorer.fit``: the hand-set weights scaled, plus a deviation pulled towards 0 by an L2 penalty; the
cosines start at 0). The penalty is chosen by leaving one development set out at a time (each set was written blind,
by its own writer); those held-out figures are the card's ``leave_one_set_out``. The news questions of writers w7,
w8, w15 and w16 (wire reports: the answer encoder's validation split, so it never trained on them) and w17–w24
(news-analysis pieces in the seed articles' style, in no training data), each over its own articles
(``training/news_qa``), report, never choose.

Run: ``make train`` (``python -m training.train_reading``; about three minutes on 2 cores, most of it answering)
writes ``qa/data/second_reading.json`` with the weights and the figures.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qa.extractive import HAND_SET_WEIGHTS, Sentence
from qa.scorer import READING_FEATURES, SECOND_READING, SecondReading, reading_features
from training.news_sets import ENCODER_VALIDATION, STYLE_WRITERS, writer_set
from training.train_scorer import Group, choose_penalty, fit, save_card, top1

ROOT = Path(__file__).resolve().parent.parent
# The eleven development sets the shipped card was fitted on (``training.data`` in qa/data/second_reading.json), so
# that ``make train`` reproduces it; ``seed_own_dev12.jsonl`` (thirty-seventh session) came later and is not among them.
DEVELOPMENT = tuple(sorted(ROOT / "dev_data" / f"seed_own_dev{n}.jsonl" for n in ("", *(str(i) for i in range(2, 12)))))
CORPUS = ROOT / "corpus"
VALIDATION = (*ENCODER_VALIDATION, *STYLE_WRITERS)
CANDIDATES = 4
BASE = np.array([*HAND_SET_WEIGHTS, 0.0, 0.0])  # the hand-set weights, and none yet for the two cosines


@dataclass(frozen=True)
class RecordingReading(SecondReading):
    """A second reading that keeps what it was given (features with the two cosines as the last columns, damping, the
    sentences) and puts first the candidate ``chosen`` names (the sentence score's first unless told)."""

    recorded: list[tuple[np.ndarray, np.ndarray, list[Sentence]]] = field(default_factory=list)
    chosen: list[int] = field(default_factory=lambda: [0])

    def first(
        self,
        sentences: Sequence[Sentence],
        features: np.ndarray,
        damp: np.ndarray,
        cosines: np.ndarray,
        generic: np.ndarray,
    ) -> int:
        self.recorded.append((reading_features(features, cosines, generic), damp, list(sentences)))
        return min(self.chosen[0], len(sentences) - 1)


def collect(
    datasets: Sequence[Path], corpus: Path, work: Path, candidates: int, limit: int | None = None
) -> list[Group]:
    """Ask the answerable questions of ``datasets`` (the first ``limit`` of each) over ``corpus`` and record what the
    second reading reads; each group's ``article`` is its dataset's name. A candidate is right when the answer that
    quotes it first has the evidence in its first citation, as ``qa eval`` counts one: the question is asked again
    with each candidate put first, since a first quote takes in the sentences it is joined to (the one after it, the
    list it introduces), and the candidate next to the evidence may quote it as well as the evidence itself."""
    from index.builder import CorpusIndex
    from index.embedding import bundled_model_path
    from index.settings import Settings
    from qa.answering import Answerer
    from qa.evaluation.dataset import load_dataset
    from qa.evaluation.metrics import hits
    from qa.meaning import AnswerEncoder

    # Recorded over the best candidates by the hand-set score, as the shipped card was: refitted over the best four by
    # the news-fitted score answering runs (training/train_chooser.py), the reading chose worse through the pipeline
    # (docs/TUNING.md, fortieth session). Its features are the candidates' own, whichever score ranked them.
    settings = Settings(corpus_dir=corpus, data_dir=work, chroma_url=None, sentence_scorer="hand-set")
    index = CorpusIndex(settings)
    index.sync()
    index.open()
    recorder = RecordingReading(weights=tuple(BASE), candidates=candidates)
    answerer = Answerer(settings, index, meaning=AnswerEncoder(bundled_model_path()), reading=recorder)
    groups = []
    for dataset in datasets:
        data = load_dataset(dataset)
        examples = [e for e in data.examples if e.answerable and e.evidence][:limit]
        for example in examples:
            right: list[bool] = []
            read: tuple[np.ndarray, np.ndarray, list[Sentence]] | None = None
            for chosen in range(candidates):
                recorder.recorded.clear()
                recorder.chosen[0] = chosen
                answer = answerer.answer(example.question, example.history, settings.top_k)
                if not recorder.recorded or chosen >= len(recorder.recorded[-1][2]):
                    break  # answered by meaning, or fewer candidates than asked for
                read = read or recorder.recorded[-1]
                first = answer.citations[0] if answer.citations and not answer.refused else None
                right.append(
                    first is not None and hits(first.source, first.quote, example.evidence, data.partial_overlap)
                )
            recorder.chosen[0] = 0
            if read is not None:
                features, damp, _ = read
                groups.append(Group(features[: len(right)], damp[: len(right)], np.array(right), dataset.stem))
    return groups


def validation_groups(writers: Sequence[str], candidates: int) -> dict[str, list[Group]]:
    """Each writer's groups over that writer's own articles."""
    out = {}
    for writer in writers:
        with tempfile.TemporaryDirectory(prefix="qa-train-") as work:
            dataset, corpus = writer_set(writer, Path(work))
            out[writer] = collect([dataset], corpus, Path(work) / "index", candidates)
    return out


def figures(groups: Sequence[Group], weights: np.ndarray) -> dict[str, float | int]:
    """How many groups hold a right candidate, and the share whose first is right: the sentence score's order
    (its first candidate) against the reading's."""
    found = [g for g in groups if g.right.any()]
    return {
        "questions": len(found),
        "sentence_score": round(sum(bool(g.right[0]) for g in found) / len(found), 4) if found else float("nan"),
        "second_reading": round(top1(found, weights), 4),
    }


def leave_one_set_out(groups: Sequence[Group], penalty: float) -> dict[str, dict[str, float | int]]:
    """Each set's figures under the weights fitted on the other sets."""
    out = {}
    for name in sorted({g.article for g in groups}):
        weights = fit([g for g in groups if g.article != name], BASE, penalty)
        out[name] = figures([g for g in groups if g.article == name], weights)
    return out


def pooled(parts: Sequence[dict[str, float | int]], keys: Sequence[str]) -> dict[str, float]:
    """The parts' shares ``keys`` together, each part weighed by its questions."""
    n = sum(int(p["questions"]) for p in parts)
    return {
        key: round(sum(float(p[key]) * int(p["questions"]) for p in parts) / n, 4) if n else float("nan")
        for key in keys
    }


def totals(by_set: dict[str, dict[str, float | int]]) -> dict[str, float]:
    """The sets' shares together, each weighed by its questions."""
    return pooled(list(by_set.values()), ("sentence_score", "second_reading"))


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="train_reading", description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", type=Path, nargs="+", default=list(DEVELOPMENT))
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--candidates", type=int, default=CANDIDATES, help="the best sentences read again")
    parser.add_argument("--validation", nargs="*", default=list(VALIDATION), help="news writers that report")
    parser.add_argument("--limit", type=int, help="answerable questions asked per set (all by default)")
    parser.add_argument("--output", type=Path, default=SECOND_READING)
    args = parser.parse_args(argv)
    from index.runtime import prepare_offline_runtime

    prepare_offline_runtime()
    with tempfile.TemporaryDirectory(prefix="qa-train-") as work:
        groups = collect(args.datasets, args.corpus, Path(work), args.candidates, args.limit)
    print(f"recorded {len(groups)} questions of {len(args.datasets)} sets", file=sys.stderr)
    penalty, cv = choose_penalty(groups, BASE)
    weights = fit(groups, BASE, penalty)
    held = leave_one_set_out(groups, penalty)
    by_writer = {w: figures(gs, weights) for w, gs in validation_groups(args.validation, args.candidates).items()}

    card = {
        "features": list(READING_FEATURES),
        "weights": [round(float(w), 4) for w in weights],
        "candidates": args.candidates,
        "hand_set": [float(w) for w in BASE],
        "penalty": penalty,
        "cross_validation_top1": {str(p): round(v, 4) for p, v in cv.items()},
        "training": {
            "data": [str(d.relative_to(ROOT)) if d.is_relative_to(ROOT) else str(d) for d in args.datasets],
            "questions_recorded": len(groups),
            "answer_among_candidates": sum(bool(g.right.any()) for g in groups),
        },
        "leave_one_set_out": {"by_set": held, **totals(held)},
        "validation_writers": {"by_writer": by_writer, **totals(by_writer)},
    }
    save_card(args.output, card)
    return card


if __name__ == "__main__":
    main()
