"""Probe: does answerability learned from SQuAD 2.0 training questions refuse better than the hand-set thresholds?

Each question is asked through the real ``Answerer`` with refusal by threshold switched off, and the signals the
hand-set ``RefusalPolicy`` read when this was measured are recorded (best sentence score, best cosine, the best
sentence's and its passage's coverage of the question's terms, best passage cosine), with whether the office and
answer-type check (``lacks_asked_type``) refused it afterwards. A logistic model over the signals (L2 penalty) is
fitted on SQuAD 2.0 *training* articles: answerable questions against unanswerable ones (SQuAD 2.0's unanswerables
are written to share the article's words: the near-misses issue 15 names). Its threshold is set where it refuses 5%
of the training answerables. Reported, learned against hand-set, on the articles held out of the fit and on the
team's own development sets over the seed news articles: false refusals (answerables refused) and unanswerables
refused, the type check applied after either policy, as answering applies it.

Run: ``python scripts/refusal_probe.py /path/to/train-v2.0.json [--answerable 1400] [--penalty 1.0]`` (the file of
dev_data/squad_train/PROVENANCE.md; about five minutes on 2 cores). Measured and not taken: docs/TUNING.md,
eleventh session.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SIGNALS = ("best_score", "best_dense", "best_lexical", "coverage", "top_passage_dense")
HELD_OUT = ("Frédéric_Chopin.txt", "Spectre__2015_film.txt", "To_Kill_a_Mockingbird.txt")  # as training/ holds out
OWN = (ROOT / "dev_data" / "seed_own_dev.jsonl", ROOT / "dev_data" / "seed_own_dev2.jsonl")
FALSE_REFUSALS = 0.05  # the learned threshold refuses this share of the training answerables
SEED = 15


@dataclass(frozen=True)
class Asked:
    """One question's recorded signals, whether it is answerable, its article, and whether the type check refused."""

    signals: np.ndarray
    answerable: bool
    article: str
    type_refused: bool


def _squad_build() -> ModuleType:
    """``dev_data/squad_train/build.py``, which writes SQuAD's articles as the project's documents."""
    spec = importlib.util.spec_from_file_location("squad_train_build", ROOT / "dev_data" / "squad_train" / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def squad_questions(squad: dict, corpus: Path) -> list[tuple[str, bool, str]]:
    """Write each article into ``corpus`` as ``dev_data/squad_train/build.py`` does; return its questions as
    (question, answerable, article file name)."""
    build = _squad_build()
    rows = build.rows_of(squad)
    build.write_corpus(rows, corpus)
    return [(r["question"], bool(r["answers"]), build.file_name(r["title"])) for r in rows]


def record(questions: Sequence[tuple[str, bool, str]], corpus: Path, work: Path) -> list[Asked]:
    """Ask each question through the real pipeline, refusal by threshold off; keep what refusal reads."""
    from index.builder import CorpusIndex
    from index.settings import Settings
    from qa.answering import RefusalPolicy
    from qa.service import build_answerer

    settings = Settings(corpus_dir=corpus, data_dir=work, chroma_url=None, sentence_scorer="hand-set")
    index = CorpusIndex(settings)
    index.sync()
    answerer = build_answerer(settings, index=index)
    answerer.refusal = RefusalPolicy(min_dense=-np.inf, min_coverage=-np.inf)
    out = []
    for question, answerable, article in questions:
        signals = answerer.answer(question).signals or {}
        if all(name in signals for name in SIGNALS):  # none when nothing was retrieved: refused by any policy
            values = np.array([signals[name] for name in SIGNALS], dtype=float)
            out.append(Asked(values, answerable, article, "lacks_asked_type" in signals))
    return out


@dataclass(frozen=True)
class LearnedPolicy:
    """P(answerable | signals), a logistic model over standardised signals; refuses below ``threshold``."""

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray  # intercept first
    threshold: float = 0.5

    def probability(self, x: np.ndarray) -> np.ndarray:
        z = np.c_[np.ones(len(x)), (x - self.mean) / self.scale]
        return 1.0 / (1.0 + np.exp(-z @ self.weights))

    def refuse(self, x: np.ndarray) -> np.ndarray:
        return self.probability(x) < self.threshold


def fit(x: np.ndarray, answerable: np.ndarray, penalty: float = 1.0) -> LearnedPolicy:
    """Logistic regression by Newton's method, L2 on the weights (not the intercept); each class weighted equally."""
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = np.c_[np.ones(len(x)), (x - mean) / scale]
    y = answerable.astype(float)
    balance = np.where(y == 1, 0.5 / max(y.sum(), 1), 0.5 / max((1 - y).sum(), 1)) * len(y)
    ridge = penalty * np.diag(np.r_[0.0, np.ones(z.shape[1] - 1)])
    w = np.zeros(z.shape[1])
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-z @ w))
        gradient = z.T @ (balance * (p - y)) + ridge @ w
        hessian = (z * (balance * p * (1 - p))[:, None]).T @ z + ridge
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return LearnedPolicy(mean, scale, w)


def with_threshold(policy: LearnedPolicy, x_answerable: np.ndarray, false_refusals: float) -> LearnedPolicy:
    """The policy refusing ``false_refusals`` of these answerable questions."""
    return LearnedPolicy(
        policy.mean, policy.scale, policy.weights, float(np.quantile(policy.probability(x_answerable), false_refusals))
    )


def hand_set_refuses(x: np.ndarray) -> np.ndarray:
    from qa.answering import RefusalPolicy

    policy = RefusalPolicy()
    return np.array([policy.refuse(dict(zip(SIGNALS, row, strict=True))) for row in x])


def rates(asked: Sequence[Asked], refused: np.ndarray) -> dict[str, float | int]:
    """False refusals and unanswerables refused, the type check applied after the policy."""
    refused = refused | np.array([a.type_refused for a in asked], dtype=bool)
    answerable = np.array([a.answerable for a in asked], dtype=bool)
    return {
        "answerable": int(answerable.sum()),
        "false_refusals": round(float(refused[answerable].mean()), 3) if answerable.any() else float("nan"),
        "unanswerable": int((~answerable).sum()),
        "unanswerables_refused": round(float(refused[~answerable].mean()), 3) if (~answerable).any() else float("nan"),
    }


def compare(train: Sequence[Asked], sets: dict[str, Sequence[Asked]], penalty: float) -> dict:
    """Fit on ``train``; each set's rates under the learned and the hand-set policy."""
    x = np.stack([a.signals for a in train])
    y = np.array([a.answerable for a in train])
    policy = with_threshold(fit(x, y, penalty), x[y], FALSE_REFUSALS)
    report: dict = {
        "signals": list(SIGNALS),
        "weights": [round(float(w), 3) for w in policy.weights],
        "threshold": round(policy.threshold, 3),
    }
    for name, asked in {"train": train, **sets}.items():
        if asked:
            xs = np.stack([a.signals for a in asked])
            report[name] = {"learned": rates(asked, policy.refuse(xs)), "hand_set": rates(asked, hand_set_refuses(xs))}
    return report


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="refusal_probe", description=__doc__.split("\n\n")[0])
    parser.add_argument("squad", type=Path, help="SQuAD 2.0 training JSON (train-v2.0.json)")
    parser.add_argument("--answerable", type=int, default=1400, help="answerable questions sampled (all unanswerables)")
    parser.add_argument("--held-out", default=",".join(HELD_OUT), help="article file names held out of the fit, a,b")
    parser.add_argument("--penalty", type=float, default=1.0)
    parser.add_argument("--own", type=Path, nargs="*", default=list(OWN), help="development sets over corpus/")
    parser.add_argument("--own-corpus", type=Path, default=ROOT / "corpus")
    args = parser.parse_args(argv)
    from index.runtime import prepare_offline_runtime
    from qa.evaluation.dataset import load_dataset

    prepare_offline_runtime()
    held_out = {a for a in args.held_out.split(",") if a}
    with tempfile.TemporaryDirectory(prefix="qa-refusal-") as tmp:
        questions = squad_questions(json.loads(args.squad.read_text(encoding="utf-8")), Path(tmp) / "corpus")
        answerable = [q for q in questions if q[1]]
        picked = random.Random(SEED).sample(answerable, min(args.answerable, len(answerable)))
        asked = record(picked + [q for q in questions if not q[1]], Path(tmp) / "corpus", Path(tmp) / "data")
    sets: dict[str, Sequence[Asked]] = {"held_out": [a for a in asked if a.article in held_out]}
    for path in args.own:
        examples = load_dataset(path).examples
        with tempfile.TemporaryDirectory(prefix="qa-refusal-") as tmp:
            own = [(e.question, e.answerable, "") for e in examples if not e.history]
            sets[path.stem] = record(own, args.own_corpus, Path(tmp))
    report = compare([a for a in asked if a.article not in held_out], sets, args.penalty)
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return report


if __name__ == "__main__":
    main()
