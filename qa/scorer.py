"""Learned weights of the choice of the sentence to quote.

- ``qa/data/news_scorer.json``: the sentence score's weights, which ``make train`` (``training/train_chooser.py``)
  fits on the team's news questions asked through the real pipeline (answering's default,
  ``QA_SENTENCE_SCORER=news``);
- ``qa/data/sentence_scorer.json``: the same weights fitted on SQuAD 2.0 training questions
  (``training/train_scorer.py``; opt-in: ``QA_SENTENCE_SCORER=learned``);
- ``qa/data/second_reading.json``: the second reading of the best candidates, which weighs the same features and the
  answer encoder's cosine (``training/train_reading.py``, on the team's development questions; on with the answer
  encoder).

Each file also holds what it was fitted on and its figures on questions held out of the fit (docs/ANSWER_SCORER.md).
Only the choice among candidates reads them: whether to answer at all is decided before, on the hand-set score.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.errors import QAError
from qa.extractive import FEATURES, Sentence, SentenceScorer

NEWS_SCORER = Path(__file__).resolve().parent / "data" / "news_scorer.json"
SHIPPED = Path(__file__).resolve().parent / "data" / "sentence_scorer.json"
SECOND_READING = Path(__file__).resolve().parent / "data" / "second_reading.json"
# What the second reading weighs: the sentence score's features, the answer encoder's cosine to the question, and how
# close the sentence is to what its whole document is about (the bundled model's cosine to the mean of the document's
# chunk vectors: "Albania, Kosovo and Croatia are solidifying their defense pact…" restates its article's topic, the
# sentence that answers is more particular; docs/ANSWER_SCORER.md).
READING_FEATURES = (*FEATURES, "meaning", "generic")


class ScorerFileError(QAError):
    """The sentence scorer's weights file is missing or does not fit this version of the code."""


def _weights(path: Path, features: Sequence[str], what: str) -> tuple[tuple[float, ...], dict[str, Any]]:
    """The weights of the card in ``path`` (one per name in ``features``) and the card.

    Raises:
        ScorerFileError: the file is missing, unreadable, or names other features than ``features``.
    """
    what = f"{what} {path}"
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScorerFileError(f"{what} are missing; run `make train` to rebuild them.") from None
    except (OSError, ValueError) as exc:
        raise ScorerFileError(f"{what} cannot be read ({exc}); run `make train` to rebuild them.") from exc
    named, weights = card.get("features"), card.get("weights")
    if named != list(features) or not isinstance(weights, list) or len(weights) != len(features):
        raise ScorerFileError(
            f"{what} were trained for the features {named}, this code computes "
            f"{list(features)}; run `make train` to retrain them."
        )
    if not all(isinstance(w, int | float) and math.isfinite(w) for w in weights):
        raise ScorerFileError(f"{what} hold a value that is not a number; run `make train` to rebuild them.")
    return tuple(float(w) for w in weights), card


def load_scorer(path: Path = SHIPPED) -> SentenceScorer:
    """The learned ``SentenceScorer`` in ``path``.

    Raises:
        ScorerFileError: the file is missing, unreadable, or names other features than ``qa.extractive.FEATURES``.
    """
    weights, _ = _weights(path, FEATURES, "The sentence scorer's weights")
    return SentenceScorer(weights, name="learned", dense_boost=1.0)


def load_news_scorer(path: Path = NEWS_SCORER) -> SentenceScorer:
    """The sentence score learned from the team's news questions in ``path``. Fitted on the score as answering runs
    it (the cosine's weight raised where the candidates share few of the question's words), it runs so.

    Raises:
        ScorerFileError: the file is missing, unreadable, or names other features than ``qa.extractive.FEATURES``.
    """
    weights, _ = _weights(path, FEATURES, "The news-fitted sentence score's weights")
    return SentenceScorer(weights, name="news")


def load_chooser(kind: str) -> SentenceScorer:
    """The sentence score ``QA_SENTENCE_SCORER`` names: ``news`` (the default), ``learned`` (SQuAD) or ``hand-set``.

    Raises:
        ScorerFileError: the learned weights' file is missing or does not fit this version of the code.
    """
    if kind == "news":
        return load_news_scorer()
    if kind == "learned":
        return load_scorer()
    return SentenceScorer()


def reading_features(features: np.ndarray, cosines: np.ndarray, generic: np.ndarray) -> np.ndarray:
    """The rows the second reading weighs (``READING_FEATURES``): the sentence score's features, then the cosines to
    the question, then to the sentences' documents."""
    return np.hstack([features, np.asarray(cosines, dtype=float)[:, None], np.asarray(generic, dtype=float)[:, None]])


@dataclass(frozen=True)
class SecondReading:
    """Which of the best ``candidates`` sentences (by the sentence score, best first) to quote first: the one whose
    features, answer-encoder cosine and closeness to its document's topic (``READING_FEATURES``) score highest under
    ``weights``, damped as the sentence score is. Fitted on the team's development questions
    (``training/train_reading.py``)."""

    weights: tuple[float, ...]
    candidates: int

    def first(
        self,
        sentences: Sequence[Sentence],
        features: np.ndarray,
        damp: np.ndarray,
        cosines: np.ndarray,
        generic: np.ndarray,
    ) -> int:
        """The index of the sentence to quote first among ``sentences`` (best first by the sentence score), given
        their ``features`` rows, damping, cosines to the question and to their documents' topics."""
        read = reading_features(features, cosines, generic) * damp[:, None]
        return int(np.argmax(read @ np.asarray(self.weights)))


def load_second_reading(path: Path = SECOND_READING) -> SecondReading:
    """The ``SecondReading`` in ``path``.

    Raises:
        ScorerFileError: the file is missing, unreadable, names other features than ``READING_FEATURES``, or reads
            fewer than two candidates.
    """
    weights, card = _weights(path, READING_FEATURES, "The second reading's weights")
    candidates = card.get("candidates")
    if not isinstance(candidates, int) or candidates < 2:
        raise ScorerFileError(
            f"The second reading's weights {path} read {candidates!r} candidates, not two or more; "
            "run `make train` to rebuild them."
        )
    return SecondReading(weights, candidates)
