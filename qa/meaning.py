"""The answer encoder: the bundled all-MiniLM-L6-v2 fine-tuned to put a question near the sentence that answers it.

Where a question shares few words with every retrieved sentence (a paraphrase: "Which country's transmission firm
ends up as the largest shareholder?" for "Norway's grid operator Statnett will hold 40 percent"), the hand-set score
has nothing to go on and the bundled model's cosine, trained to match sentences with the same meaning, not answers
with questions, picks the evidence less often than the words do. ``qa.answering.Answerer`` then chooses the sentence
to quote by this encoder's cosine over every sentence of the retrieved passages (``MEANING_GATE``).

``make train`` (``training/train_encoder.py``) writes the weights: every tensor but the word embeddings (read from the
bundled model), float16, with a card of the data, the split and the figures (docs/ANSWER_SCORER.md). They run on the
NumPy copy of the forward pass (``index.minilm``), no torch.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from index.errors import QAError
from index.minilm import NumpyMiniLM
from qa.cache import LruCache

SHIPPED = Path(__file__).resolve().parent / "data" / "answer_encoder"
CACHE_SIZE = 4096  # sentence vectors kept: nearby questions retrieve the same passages


# One loaded model per (model, weights) folder pair, shared by every encoder of the process (an answer worker warms
# it at start, before it builds its answerer).
_MODELS: dict[tuple[Path, Path], NumpyMiniLM] = {}
_MODELS_LOCK = threading.Lock()


class AnswerEncoderError(QAError):
    """The answer encoder's weights are missing or do not fit the bundled model."""


class AnswerEncoder:
    """Normalised vectors of questions and sentences by the fine-tuned encoder; loaded on first use."""

    def __init__(self, model_dir: str | Path, weights_dir: Path = SHIPPED) -> None:
        self.model_dir = Path(model_dir)
        self.weights_dir = weights_dir
        self._lock = threading.Lock()
        self._model: NumpyMiniLM | None = None
        self._cache: LruCache[str, np.ndarray] = LruCache(CACHE_SIZE)

    def check(self) -> None:
        """Raises ``AnswerEncoderError`` now, rather than at the first question, where the weights are missing."""
        for name in ("answer_encoder.safetensors", "answer_encoder.json"):
            if not (self.weights_dir / name).is_file():
                raise AnswerEncoderError(
                    f"The answer encoder's {self.weights_dir / name} is missing; run `make train` to rebuild it, or "
                    "set QA_ANSWER_ENCODER=false to answer without it."
                )

    def _load(self) -> NumpyMiniLM:
        if self._model is not None:
            return self._model
        key = (self.model_dir.resolve(), self.weights_dir.resolve())
        with _MODELS_LOCK:
            if key not in _MODELS:
                from safetensors.numpy import load_file

                self.check()
                try:
                    card = json.loads((self.weights_dir / "answer_encoder.json").read_text(encoding="utf-8"))
                    tuned = load_file(str(self.weights_dir / "answer_encoder.safetensors"))
                    if card.get("format") != 1:
                        raise ValueError(f"format {card.get('format')!r}, this code reads 1")
                    _MODELS[key] = NumpyMiniLM(self.model_dir, tuned)
                except (OSError, ValueError) as exc:
                    raise AnswerEncoderError(
                        f"The answer encoder in {self.weights_dir} cannot be read ({exc}); run `make train` to "
                        "rebuild it, or set QA_ANSWER_ENCODER=false to answer without it."
                    ) from exc
            self._model = _MODELS[key]
        return self._model

    def warm_up(self) -> None:
        """Load the weights now (about a second), so that the first paraphrased question is as fast as the rest."""
        with self._lock:
            self._load().encode(["warm up"])

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        """One normalised row per text."""
        with self._lock:
            model = self._load()
            found = {t: v for t in texts if (v := self._cache.get(t)) is not None}
            missing = [t for t in dict.fromkeys(texts) if t not in found]
            if missing:
                for text, vector in zip(missing, model.encode(missing), strict=True):
                    found[text] = vector
                    self._cache.put(text, vector)
        return np.stack([found[t] for t in texts]) if texts else np.zeros((0, model.dim), dtype=np.float32)

    def cosines(self, question: str, sentences: Sequence[str]) -> np.ndarray:
        """The cosine of the question to each sentence."""
        if not sentences:
            return np.zeros(0, dtype=np.float32)
        rows = self.vectors([*sentences, question])
        return rows[:-1] @ rows[-1]
