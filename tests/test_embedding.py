"""The two engines of the bundled model give the same vectors, and each job runs on the one that suits it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from index.embedding import MiniLMEmbedder, bundled_model_path, llama_index_embedding, resolve_device
from index.errors import EmbeddingDeviceError
from index.minilm import NumpyMiniLM, erf
from index.settings import Settings

ROOT = Path(__file__).resolve().parent.parent

TEXTS = [
    "what did Croatia say about military blocs?",
    "",
    "a",
    "2025 | Defense Reforms Implementation",
    "Ελληνικά, 中文, émigré — naïve café 🙂",
    "The Croatian Ministry of Defense has stated that the initiative is open to other NATO and EU members "
    "interested in promoting stability in Southeast Europe, clarifying that it does not constitute a military "
    "alliance.",
    # Far past the model's 256 word pieces: both engines must cut it at the same place.
    " ".join(f"Sentence {i} about regional defence cooperation and joint exercises." for i in range(120)),
]


@pytest.fixture(scope="module")
def torch_model() -> object:
    return llama_index_embedding()


@pytest.fixture(scope="module")
def numpy_model() -> NumpyMiniLM:
    return NumpyMiniLM(bundled_model_path())


def corpus_sentences() -> list[str]:
    sentences: list[str] = []
    for path in sorted((ROOT / "corpus").glob("*")):
        if path.suffix in {".txt", ".md"}:
            sentences += [s for s in path.read_text(encoding="utf-8").split(". ") if s.strip()][:12]
    return sentences


def test_erf_matches_the_exact_function() -> None:
    import math

    x = np.linspace(-7, 7, 20001, dtype=np.float32)
    exact = np.array([math.erf(float(v)) for v in x])
    assert np.abs(erf(x) - exact).max() < 5e-7


def test_numpy_engine_gives_the_llama_index_vectors(torch_model: object, numpy_model: NumpyMiniLM) -> None:
    # Mixed lengths in one call: batches are padded and masked, and results come back in the caller's order.
    texts = TEXTS + corpus_sentences()
    ours = numpy_model.encode(texts)
    theirs = np.asarray(torch_model.get_text_embedding_batch(texts), dtype=np.float32)  # type: ignore[attr-defined]
    assert ours.shape == theirs.shape == (len(texts), 384)
    assert np.abs(ours - theirs).max() < 1e-5
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    query = np.asarray(torch_model.get_query_embedding(TEXTS[0]), dtype=np.float32)  # type: ignore[attr-defined]
    assert np.abs(numpy_model.encode([TEXTS[0]])[0] - query).max() < 1e-5


def test_each_job_runs_on_the_engine_that_suits_it(torch_model: object) -> None:
    embedder = MiniLMEmbedder(numpy_max=64)
    assert [embedder.engine(n) for n in (1, 64, 65, 255)] == ["numpy"] * 4
    assert embedder.engine(MiniLMEmbedder.TORCH_LOAD_MIN) == "torch"  # a bulk job loads torch
    vectors = embedder.embed_documents(TEXTS)
    assert embedder._model is None, "a small job must not load torch"
    embedder._model = torch_model  # as after a bulk job: from then on, mid-sized jobs use it too
    assert [embedder.engine(n) for n in (1, 64, 65)] == ["numpy", "numpy", "torch"]
    assert np.abs(embedder.embed_documents(TEXTS * 10)[: len(TEXTS)] - vectors).max() < 1e-5
    always_torch = MiniLMEmbedder(numpy_max=0)
    assert {always_torch.engine(n) for n in (1, 64, 1000)} == {"torch"}
    with pytest.raises(ValueError):
        MiniLMEmbedder(numpy_max=-1)


def test_indexing_an_article_and_asking_never_load_torch(tmp_path: Path) -> None:
    """What makes `qa ask` start in about 2 s: neither it nor a `qa index` of a few articles imports torch."""
    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "corpus", corpus)
    script = (
        "import json, sys\n"
        "from qa.cli import main\n"
        "codes = [main(['index', '--json']), main(['ask', 'what did Croatia say about military blocs?', '--json'])]\n"
        "heavy = sorted(m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules)\n"
        "print(json.dumps({'codes': codes, 'heavy': heavy}))\n"
    )
    env = {
        **os.environ,
        "QA_DATA_DIR": str(tmp_path / "data"),
        "QA_CORPUS_DIR": str(corpus),
        "HF_HUB_OFFLINE": "1",
        "ANONYMIZED_TELEMETRY": "False",
    }
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    indexed, answer, result = json.loads(lines[0]), json.loads(lines[1]), json.loads(lines[-1])
    assert indexed["embedded"] == indexed["chunks"] > 0
    assert "military alliance" in answer["citations"][0]["quote"]
    assert result == {"codes": [0, 0], "heavy": []}


# -- the device bulk embedding runs on (QA_EMBED_DEVICE) ------------------------------------------------------
def _cuda() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def test_the_device_setting_reaches_the_embedder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    from index.builder import CorpusIndex

    monkeypatch.setenv("QA_EMBED_DEVICE", "cpu")
    settings = Settings(data_dir=tmp_path / "data")
    embedder = CorpusIndex(settings).embedder
    assert isinstance(embedder, MiniLMEmbedder) and embedder.requested_device == "cpu"
    assert Settings().embed_device == "cpu" and Settings(embed_device="auto").embed_device == "auto"
    with pytest.raises(ValidationError, match="embed_device"):
        Settings(embed_device="gpu")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="device must be auto, cpu or cuda"):
        MiniLMEmbedder(device="tpu")  # type: ignore[arg-type]


def test_bulk_embedding_on_the_cpu_device_gives_the_numpy_vectors(numpy_model: NumpyMiniLM) -> None:
    embedder = MiniLMEmbedder(numpy_max=0, device="cpu")  # every job on torch, on the CPU
    assert embedder.device is None and embedder.batch_size == 64  # nothing loaded yet
    texts = TEXTS + corpus_sentences()
    vectors = embedder.embed_documents(texts)
    assert embedder.device == "cpu" and embedder.batch_size == 64
    assert np.abs(vectors - numpy_model.encode(texts)).max() < 1e-4
    assert MiniLMEmbedder(32, device="cpu").batch_size == 32  # QA_EMBED_BATCH_SIZE wins


@pytest.mark.skipif(_cuda(), reason="this machine has CUDA: auto picks it (checked by the CUDA test)")
def test_without_cuda_auto_is_the_cpu_and_cuda_is_a_clear_error(tmp_path: Path) -> None:
    assert resolve_device("auto") == "cpu" and resolve_device("cpu") == "cpu"
    embedder = MiniLMEmbedder(numpy_max=0, device="auto")
    embedder.embed_documents(TEXTS[:2])
    assert embedder.device == "cpu"
    with pytest.raises(EmbeddingDeviceError, match=r"QA_EMBED_DEVICE=cuda, but torch .* sees no CUDA device"):
        MiniLMEmbedder(numpy_max=0, device="cuda").embed_documents(TEXTS[:2])
    # `qa index` says so before it embeds anything, even a corpus small enough for the NumPy engine.
    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "corpus", corpus)
    env = {**os.environ, "QA_DATA_DIR": str(tmp_path / "data"), "QA_CORPUS_DIR": str(corpus), "QA_EMBED_DEVICE": "cuda"}
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "qa"), "index"], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 1 and done.stderr.count("\n") == 1, done.stderr
    assert "pip install 'torch==2.13.0+cu128'" in done.stderr and "QA_EMBED_DEVICE=auto or cpu" in done.stderr


def test_cuda_embeds_the_cpu_vectors_faster() -> None:
    """On a machine with an NVIDIA GPU and a CUDA build of torch (README): same vectors, and the throughput."""
    if not _cuda():
        import torch

        message = f"no CUDA device (torch {torch.__version__}): the GPU embedding path was not run"
        print(f"\n*** SKIPPING THE CUDA TEST: {message} ***", file=sys.stderr)
        pytest.skip(message)
    import time

    from bench.corpus import paragraphs

    chunks = [p[:480] for p in paragraphs()[:2000]]
    cpu = MiniLMEmbedder(numpy_max=0, device="cpu")
    gpu = MiniLMEmbedder(numpy_max=0, device="auto")
    cpu.embed_documents(chunks[:64])
    gpu.embed_documents(chunks[:64])
    assert gpu.device == "cuda" and gpu.batch_size == 256
    started = time.perf_counter()
    on_cpu = cpu.embed_documents(chunks)
    cpu_s = time.perf_counter() - started
    started = time.perf_counter()
    on_gpu = gpu.embed_documents(chunks)
    gpu_s = time.perf_counter() - started
    assert np.abs(on_gpu - on_cpu).max() < 1e-4
    print(f"\n{len(chunks)} chunks: CPU {len(chunks) / cpu_s:.0f}/s, CUDA {len(chunks) / gpu_s:.0f}/s", file=sys.stderr)
