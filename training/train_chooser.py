"""Learn the sentence score answering runs (``qa/data/news_scorer.json``) from the team's news questions.

Data: the news questions of the wire writers the answer encoder trained on (``training/news_qa``: w1–w6 and w9–w14,
each writer's questions over that writer's own four articles; PROVENANCE.md there), never an evaluation or held-out
set. Each answerable question is asked through the real pipeline (``training.train_scorer.collect``) and the choosing
step's candidates are recorded with their features (``qa.extractive.FEATURES``); a candidate is right when it holds
the question's evidence.

Model: the sentence score's linear form, damped, fitted as a conditional logit (``training.train_scorer.fit``: the
hand-set weights scaled, plus a deviation pulled towards 0 by an L2 penalty), on the score as answering runs it: the
cosine's column raised where the candidates share few of the question's words (``qa.extractive.dense_scale``), so the
weights run with that raise. The second reading (``training/train_reading.py``) reads the best four candidates by this
score, so the penalty is the one under which the most of the team's development questions over the seed articles
(``dev_data/seed_own_dev*.jsonl``) have their evidence among the best four (ties: the larger penalty, nearer the
hand-set weights). The card also reports, hand-set against learned, each training writer read by the weights fitted on
the others, and the writers that train nothing here (w7, w8, w15, w16 and w17–w24, each over its own articles).

Run: ``make train`` (``python -m training.train_chooser``; about fifteen minutes on 2 cores, all of it answering) writes
the card, before the second reading is fitted on the candidates this score ranks.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from qa.extractive import FEATURES, HAND_SET_WEIGHTS, features_dense_scale
from qa.scorer import NEWS_SCORER
from training.news_sets import ENCODER_VALIDATION, STYLE_WRITERS, WIRE_WRITERS, writer_set
from training.train_reading import CANDIDATES, pooled
from training.train_scorer import Group, collect, fit, load_groups, save_card, save_groups

ROOT = Path(__file__).resolve().parent.parent
TRAINING = tuple(w for w in WIRE_WRITERS if w not in ENCODER_VALIDATION)
VALIDATION = (*ENCODER_VALIDATION, *STYLE_WRITERS)
DEVELOPMENT = tuple(sorted(ROOT / "dev_data" / f"seed_own_dev{n}.jsonl" for n in ("", *(str(i) for i in range(2, 13)))))
CORPUS = ROOT / "corpus"
PENALTIES = (1.0, 3.0, 10.0, 30.0, 100.0)
READ_AGAIN = CANDIDATES  # the candidates the second reading reads
BASE = np.array(HAND_SET_WEIGHTS, dtype=float)


def as_scored(groups: Sequence[Group], name: str) -> list[Group]:
    """The groups as the score runs on them (the cosine's column raised by ``dense_scale``), named ``name``."""
    out = []
    for g in groups:
        features = np.array(g.features, dtype=float)
        if len(features):
            features[:, FEATURES.index("dense")] *= features_dense_scale(features)
        out.append(Group(features, g.damp, g.right, name))
    return out


def recorded(dataset: Path, corpus: Path, name: str, limit: int | None, cache: Path | None) -> list[Group]:
    """The choosing steps of ``dataset``'s answerable questions over ``corpus`` (``limit`` a source article), read
    from ``cache``/``name``.npz where it was recorded before, else recorded (and written there)."""
    path = cache / f"{name}.npz" if cache else None
    if path is not None and path.exists():
        return as_scored(load_groups(path), name)
    with tempfile.TemporaryDirectory(prefix="qa-train-") as work:
        per_article = limit if limit is not None else 1_000_000
        groups = collect(dataset, corpus, per_article, per_article, Path(work), held_out=(), progress=False)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        save_groups(path, groups)
    print(f"  {name}: {len(groups)} questions recorded", file=sys.stderr)
    return as_scored(groups, name)


def writers(names: Sequence[str], limit: int | None, cache: Path | None) -> list[Group]:
    out = []
    for writer in names:
        with tempfile.TemporaryDirectory(prefix="qa-train-") as work:
            dataset, corpus = writer_set(writer, Path(work))
            out += recorded(dataset, corpus, writer, limit, cache)
    return out


def counts(groups: Sequence[Group], weights: np.ndarray) -> tuple[int, int, int]:
    """Of the groups holding a right candidate: how many, how many have a right one first by ``weights`` (ties in
    the candidates' order, as ``SentenceScorer.rank`` sorts), and how many among the best ``READ_AGAIN``."""
    found = first = among = 0
    for g in groups:
        if not g.right.any():
            continue
        order = np.argsort(-((g.features @ weights) * g.damp), kind="stable")
        found += 1
        first += bool(g.right[order[0]])
        among += bool(g.right[order[:READ_AGAIN]].any())
    return found, first, among


def figures(groups: Sequence[Group], weights: np.ndarray) -> dict[str, float | int]:
    """``counts`` as shares: the best-scored candidate right, a right one among the best four."""
    n, first, among = counts(groups, weights)
    return {
        "questions": n,
        "first": round(first / n, 4) if n else float("nan"),
        "among_best_four": round(among / n, 4) if n else float("nan"),
    }


def compared(groups: Sequence[Group], weights: np.ndarray) -> dict[str, dict[str, float | int]]:
    return {"hand_set": figures(groups, BASE), "learned": figures(groups, weights)}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="train_chooser", description=__doc__.split("\n\n")[0])
    parser.add_argument("--writers", nargs="+", default=list(TRAINING), help="news writers trained on")
    parser.add_argument("--development", type=Path, nargs="+", default=list(DEVELOPMENT))
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="the development sets' articles")
    parser.add_argument("--validation", nargs="*", default=list(VALIDATION), help="news writers that report")
    parser.add_argument("--limit", type=int, help="answerable questions asked per source article (all by default)")
    parser.add_argument(
        "--groups", type=Path, help="a folder of recorded questions: each set's read where there (whatever --limit)"
    )
    parser.add_argument("--output", type=Path, default=NEWS_SCORER)
    args = parser.parse_args(argv)
    from index.runtime import prepare_offline_runtime

    prepare_offline_runtime()
    train = writers(args.writers, args.limit, args.groups)
    development = [g for d in args.development for g in recorded(d, args.corpus, d.stem, args.limit, args.groups)]
    fitted = {penalty: fit(train, BASE, penalty) for penalty in PENALTIES}
    choice = {penalty: counts(development, w)[2] for penalty, w in fitted.items()}
    penalty = max(PENALTIES, key=lambda p: (choice[p], p))
    weights = fitted[penalty]
    # Each training writer read by the weights fitted on the others.
    left_out = []
    for writer in dict.fromkeys(g.article for g in train):
        others = fit([g for g in train if g.article != writer], BASE, penalty)
        left_out.append(figures([g for g in train if g.article == writer], others))
    validation = writers(args.validation, args.limit, args.groups)
    questions = sum(int(p["questions"]) for p in left_out)
    card = {
        "features": list(FEATURES),
        "weights": [round(float(w), 4) for w in weights],
        "hand_set": [float(w) for w in BASE],
        "penalty": penalty,
        "development_among_best_four": {str(p): v for p, v in choice.items()},
        "training": {
            "writers": list(args.writers),
            "questions_recorded": len(train),
            "answer_among_candidates": sum(bool(g.right.any()) for g in train),
        },
        "leave_one_writer_out": {
            "hand_set": figures(train, BASE),
            "learned": {"questions": questions, **pooled(left_out, ("first", "among_best_four"))}
            if len(left_out) > 1
            else {},
        },
        "development": {
            "data": [str(d.relative_to(ROOT)) if d.is_relative_to(ROOT) else str(d) for d in args.development],
            **compared(development, weights),
        },
        "validation_writers": {"writers": list(args.validation), **compared(validation, weights)},
    }
    save_card(args.output, card)
    return card


if __name__ == "__main__":
    main()
