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

from index.embedding import MiniLMEmbedder, bundled_model_path, llama_index_embedding
from index.minilm import NumpyMiniLM, erf

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
