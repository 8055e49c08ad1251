"""Learn the weights of the score that chooses which retrieved sentence to quote (``qa.extractive.SentenceScorer``).

Data: SQuAD 2.0 *training* questions over their own articles (``dev_data/squad_train/answerable.jsonl`` and
``corpus/``; provenance and licence in that folder's PROVENANCE.md), never an evaluation set. The articles are
indexed with the project's own ``CorpusIndex`` and each question is asked through the real ``Answerer``; at the
step that chooses the sentence to quote, the candidates' features (``qa.extractive.FEATURES``) are recorded, and
a candidate is right when it holds SQuAD's answer span (``qa.evaluation.metrics.hits``, as ``qa eval`` counts a
first citation).

Model: the same linear score as the hand-set one, ``damp · (w · features)``, fitted as a conditional logit (a
softmax over each question's candidates, the right one(s) against the rest) with ``w = τ·w_hand + δ``: ``τ`` free,
``δ`` pulled towards 0 by an L2 penalty. A feature the data never exercises (the follow-up topic: SQuAD has no
conversations) keeps its hand-set weight; the shipped weights are ``w / τ``, on the hand-set scale, so the ratio
that admits further sentences (``RELATIVE_CUTOFF``) reads the same. The penalty is chosen by leave-one-article-out
cross-validation over the training articles; three articles are held out of everything and report.

Run: ``make train`` (``python -m training.train_scorer``; about ten minutes on 2 cores, most of it answering)
writes ``qa/data/sentence_scorer.json`` with the weights and the figures of the held-out articles.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

from qa.extractive import FEATURES, HAND_SET_WEIGHTS, ScoredSentence, Sentence, SentenceScorer

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "dev_data" / "squad_train"
OUTPUT = ROOT / "qa" / "data" / "sentence_scorer.json"
# The team's own development questions over the seed news articles: not trained on, reported beside the held-out
# articles (the learned weights are answering's default only if they choose at least as well on both).
NEWS = (ROOT / "dev_data" / "seed_own_dev.jsonl", ROOT / "dev_data" / "seed_own_dev2.jsonl")
NEWS_CORPUS = ROOT / "corpus"
HELD_OUT = ("Frédéric_Chopin.txt", "Spectre__2015_film.txt", "To_Kill_a_Mockingbird.txt")
PENALTIES = (0.01, 0.1, 1.0, 10.0, 100.0)
SEED = 15


@dataclass(frozen=True)
class Group:
    """One question's candidates at the choosing step: features, damping, which hold the answer, its article."""

    features: np.ndarray
    damp: np.ndarray
    right: np.ndarray
    article: str


@dataclass(frozen=True)
class RecordingScorer(SentenceScorer):
    """The hand-set chooser, keeping what it read of each question's candidates (features, damping, sentences)."""

    recorded: list[tuple[np.ndarray, np.ndarray, list[Sentence]]] = field(default_factory=list)

    def rank(self, sentences: Sequence[Sentence], features: np.ndarray, damp: np.ndarray) -> list[ScoredSentence]:
        self.recorded.append((features, damp, list(sentences)))
        return super().rank(sentences, features, damp)


def collect(
    dataset: Path,
    corpus: Path,
    per_article: int,
    held_out_per_article: int,
    work: Path,
    held_out: Sequence[str] = HELD_OUT,
    progress: bool = True,
) -> list[Group]:
    """Ask a sample of the dataset's questions (``per_article`` of each training article, ``held_out_per_article``
    of each held-out one, drawn with a fixed seed) through the real pipeline and record the choosing step."""
    from index.builder import CorpusIndex
    from index.settings import Settings
    from qa.evaluation.dataset import load_dataset
    from qa.evaluation.metrics import hits
    from qa.service import build_answerer

    examples = load_dataset(dataset).examples
    by_article: dict[str, list] = {}
    for example in examples:
        if example.answerable and example.evidence:
            by_article.setdefault(example.evidence[0].source, []).append(example)
    rng = random.Random(SEED)
    chosen = []
    for article in sorted(by_article):
        take = held_out_per_article if article in held_out else per_article
        pool = by_article[article]
        chosen += rng.sample(pool, min(take, len(pool)))
    # The candidates and their features do not depend on the chooser's weights: record with the hand-set ones.
    settings = Settings(corpus_dir=corpus, data_dir=work, chroma_url=None, sentence_scorer="hand-set")
    index = CorpusIndex(settings)
    index.sync()
    answerer = build_answerer(settings, index=index)
    answerer.chooser = recorder = RecordingScorer()
    recorded = recorder.recorded
    groups = []
    for done, example in enumerate(chosen, start=1):
        recorded.clear()
        answerer.answer(example.question, example.history, settings.top_k)
        if recorded:
            features, damp, sentences = recorded[-1]
            right = np.array([hits(s.source, s.text, example.evidence) for s in sentences])
            groups.append(Group(features, damp, right, example.evidence[0].source))
        if progress and done % 100 == 0:
            print(f"  asked {done}/{len(chosen)}", file=sys.stderr)
    return groups


def save_groups(path: Path, groups: Sequence[Group]) -> None:
    arrays: dict[str, np.ndarray] = {"articles": np.array([g.article for g in groups])}
    for i, g in enumerate(groups):
        arrays[f"f{i}"], arrays[f"d{i}"], arrays[f"r{i}"] = g.features, g.damp, g.right
    np.savez_compressed(path, allow_pickle=False, **arrays)


def load_groups(path: Path) -> list[Group]:
    with np.load(path) as data:
        articles = data["articles"]
        return [Group(data[f"f{i}"], data[f"d{i}"], data[f"r{i}"], str(a)) for i, a in enumerate(articles)]


def _loss(params: np.ndarray, groups: Sequence[Group], base: np.ndarray, penalty: float) -> tuple[float, np.ndarray]:
    tau, delta = params[0], params[1:]
    w = tau * base + delta
    total, grad_w = 0.0, np.zeros_like(w)
    for g in groups:
        x = g.features * g.damp[:, None]
        z = x @ w
        z = z - z.max()
        p = np.exp(z) / np.exp(z).sum()
        right = p[g.right].sum()
        total -= np.log(right)
        # d(-log Σ_right p)/dz = p - p·[right]/Σ_right p
        q = np.where(g.right, p / right, 0.0)
        grad_w += x.T @ (p - q)
    total = total / len(groups) + penalty * float(delta @ delta) / len(groups)
    grad_w /= len(groups)
    grad = np.concatenate([[grad_w @ base], grad_w + 2 * penalty * delta / len(groups)])
    return total, grad


def fit(groups: Sequence[Group], base: np.ndarray, penalty: float) -> np.ndarray:
    """Weights on the hand-set scale (``w / τ``) fitted on ``groups`` (each with at least one right candidate and
    one wrong: the others say nothing about the choice)."""
    usable = [g for g in groups if g.right.any() and not g.right.all()]
    start = np.concatenate([[1.0], np.zeros_like(base)])
    result = minimize(_loss, start, args=(usable, base, penalty), jac=True, method="L-BFGS-B")
    tau, delta = result.x[0], result.x[1:]
    if tau <= 0:
        raise RuntimeError("the fitted scale is not positive: the training questions do not determine the weights")
    return (tau * base + delta) / tau


def firsts(groups: Sequence[Group], weights: np.ndarray) -> list[bool]:
    """For each group holding a right candidate: whether its best-scored candidate is right."""
    return [bool(g.right[int(np.argmax((g.features @ weights) * g.damp))]) for g in groups if g.right.any()]


def top1(groups: Sequence[Group], weights: np.ndarray) -> float:
    """Share of the groups holding a right candidate whose best-scored candidate is right."""
    found = firsts(groups, weights)
    return sum(found) / len(found) if found else float("nan")


def choose_penalty(groups: Sequence[Group], base: np.ndarray) -> tuple[float, dict[float, float]]:
    """The penalty with the best leave-one-article-out top-1 over the training articles."""
    articles = sorted({g.article for g in groups})
    scores = {}
    for penalty in PENALTIES:
        found: list[bool] = []
        for article in articles:
            weights = fit([g for g in groups if g.article != article], base, penalty)
            found += firsts([g for g in groups if g.article == article], weights)
        scores[penalty] = sum(found) / len(found)
    return max(PENALTIES, key=lambda p: (scores[p], p)), scores


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="train_scorer", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", type=Path, default=DATA / "answerable.jsonl")
    parser.add_argument("--corpus", type=Path, default=DATA / "corpus")
    parser.add_argument("--per-article", type=int, default=250, help="training questions asked per article")
    parser.add_argument("--held-out-per-article", type=int, default=200)
    parser.add_argument("--held-out", default=",".join(HELD_OUT), help="file names of articles held out, a,b,c")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--groups", type=Path, help="an .npz of recorded questions: read if it exists, else written")
    parser.add_argument("--news", type=Path, nargs="*", default=list(NEWS), help="development sets over --news-corpus")
    parser.add_argument("--news-corpus", type=Path, default=NEWS_CORPUS)
    args = parser.parse_args(argv)
    held_out = tuple(a for a in args.held_out.split(",") if a)
    from index.runtime import prepare_offline_runtime

    prepare_offline_runtime()
    if args.groups and args.groups.exists():
        groups = load_groups(args.groups)
    else:
        with tempfile.TemporaryDirectory(prefix="qa-train-") as work:
            groups = collect(
                args.dataset, args.corpus, args.per_article, args.held_out_per_article, Path(work), held_out
            )
        if args.groups:
            save_groups(args.groups, groups)
    news: dict[str, list[Group]] = {}
    for dataset in args.news:
        with tempfile.TemporaryDirectory(prefix="qa-train-") as work:
            news[dataset.stem] = collect(dataset, args.news_corpus, 10_000, 0, Path(work), held_out=(), progress=False)
    base = np.array(HAND_SET_WEIGHTS, dtype=float)
    train = [g for g in groups if g.article not in held_out]
    held = [g for g in groups if g.article in held_out]
    penalty, cv = choose_penalty(train, base)
    weights = fit(train, base, penalty)
    card = {
        "features": list(FEATURES),
        "weights": [round(float(w), 4) for w in weights],
        "hand_set": [float(w) for w in base],
        "penalty": penalty,
        "cross_validation_top1": {str(p): round(v, 4) for p, v in cv.items()},
        "training": {
            "data": str(args.dataset.relative_to(ROOT)) if args.dataset.is_relative_to(ROOT) else str(args.dataset),
            "held_out_articles": list(held_out),
            "questions_recorded": {"train": len(train), "held_out": len(held)},
            "answer_among_candidates": {
                "train": sum(bool(g.right.any()) for g in train),
                "held_out": sum(bool(g.right.any()) for g in held),
            },
        },
        "held_out_top1": {"hand_set": round(top1(held, base), 4), "learned": round(top1(held, weights), 4)},
        "news_development_top1": {
            name: {
                "questions": sum(bool(g.right.any()) for g in kept),
                "hand_set": round(top1(kept, base), 4),
                "learned": round(top1(kept, weights), 4),
            }
            for name, kept in news.items()
        },
        "train_top1": {"hand_set": round(top1(train, base), 4), "learned": round(top1(train, weights), 4)},
    }
    save_card(args.output, card)
    return card


def save_card(path: Path, card: dict) -> None:
    """Write a model card (weights and figures) as answering reads it, and print it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(card, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
