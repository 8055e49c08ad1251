"""The learned weights of the score that chooses which sentence to quote (``qa/data/sentence_scorer.json``).

``make train`` (``training/train_scorer.py``) fits them on SQuAD 2.0 training questions asked through the real
pipeline; the file also holds what they were fitted on and their figures on held-out articles (docs/ANSWER_SCORER.md).
Only the choice among candidates reads them: whether to answer at all is decided before, on the hand-set score.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from index.errors import QAError
from qa.extractive import FEATURES, SentenceScorer

SHIPPED = Path(__file__).resolve().parent / "data" / "sentence_scorer.json"


class ScorerFileError(QAError):
    """The sentence scorer's weights file is missing or does not fit this version of the code."""


def load_scorer(path: Path = SHIPPED) -> SentenceScorer:
    """The learned ``SentenceScorer`` in ``path``.

    Raises:
        ScorerFileError: the file is missing, unreadable, or names other features than ``qa.extractive.FEATURES``.
    """
    what = f"The sentence scorer's weights {path}"
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScorerFileError(f"{what} are missing; run `make train` to rebuild them.") from None
    except (OSError, ValueError) as exc:
        raise ScorerFileError(f"{what} cannot be read ({exc}); run `make train` to rebuild them.") from exc
    features, weights = card.get("features"), card.get("weights")
    if features != list(FEATURES) or not isinstance(weights, list) or len(weights) != len(FEATURES):
        raise ScorerFileError(
            f"{what} were trained for the features {features}, this code computes "
            f"{list(FEATURES)}; run `make train` to retrain them."
        )
    if not all(isinstance(w, int | float) and math.isfinite(w) for w in weights):
        raise ScorerFileError(f"{what} hold a value that is not a number; run `make train` to rebuild them.")
    return SentenceScorer(tuple(float(w) for w in weights), name="learned", dense_boost=1.0)
