"""The answer-sentence cross-encoder of ``training/train_cross.py``, run in NumPy: how likely a sentence answers a
question, read together.

The fine-tuned all-MiniLM-L6-v2 reads ``[CLS] question [SEP] sentence [SEP]``; its hidden states, mean-pooled, go
through a linear head to one logit. A weights folder holds the fine-tuned tensors (every one but the frozen word
embeddings, float16, in shards) and ``cross_encoder.json``; the rest is read from the bundled model, and the
forward pass is ``index.minilm``'s (no torch). Measured and not taken (docs/TUNING.md, thirteenth session), so no
weights ship: ``scripts/cross_encoder_probe.py`` measures a folder that ``training/train_cross.py`` wrote.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from index.minilm import NumpyMiniLM
from training.train_cross import MAX_QUESTION_TOKENS, MAX_TOKENS, Pairs


class CrossEncoderUnavailableError(RuntimeError):
    """The cross-encoder's files are missing or unreadable."""


class CrossEncoder:
    """Scores (question, sentence) pairs; loaded on first use, one forward pass at a time. Its ``score`` is
    ``qa.reranker.SentenceReader``'s, so ``qa.answering.Answerer`` can blend it in (``reranker=``)."""

    def __init__(self, model_dir: str | Path, weights_dir: Path) -> None:
        self.model_dir = Path(model_dir)
        self.weights_dir = weights_dir
        self._lock = threading.Lock()
        self._model: NumpyMiniLM | None = None

    def _load(self) -> NumpyMiniLM:
        if self._model is not None:
            return self._model
        from safetensors.numpy import load_file

        shards = sorted(self.weights_dir.glob("cross_encoder*.safetensors"))
        card_path = self.weights_dir / "cross_encoder.json"
        if not shards or not card_path.exists():
            raise CrossEncoderUnavailableError(
                f"No cross-encoder weights in {self.weights_dir}; write them with python -m training.train_cross."
            )
        tuned: dict[str, np.ndarray] = {}
        for shard in shards:
            tuned.update(load_file(str(shard)))
        card = json.loads(card_path.read_text())
        if (card["max_tokens"], card["max_question_tokens"]) != (MAX_TOKENS, MAX_QUESTION_TOKENS):
            raise CrossEncoderUnavailableError(
                f"{card_path} was written for pairs of {card['max_tokens']} tokens, this code reads {MAX_TOKENS}; "
                "retrain with python -m training.train_cross."
            )
        self._head = tuned.pop("head.weight").astype(np.float32), float(tuned.pop("head.bias").astype(np.float32)[0])
        try:
            self._pairs = Pairs(self.model_dir)
        except ValueError as exc:
            raise CrossEncoderUnavailableError(str(exc)) from exc
        try:
            self._model = NumpyMiniLM(self.model_dir, tuned)
        except ValueError as exc:
            raise CrossEncoderUnavailableError(f"{exc} Retrain with python -m training.train_cross.") from exc
        return self._model

    def score(self, question: str, sentences: Sequence[str]) -> list[float]:
        """One logit per sentence: higher, the more likely it answers ``question``."""
        if not sentences:
            return []
        with self._lock:
            model = self._load()
            encoded = [self._pairs.ids(question, sentence) for sentence in sentences]
            ids, segments = [e[0] for e in encoded], [e[1] for e in encoded]
            pooled = model.pooled(ids, segments)
        return [float(v) for v in pooled @ self._head[0] + self._head[1]]
