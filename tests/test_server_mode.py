"""Server mode: QA_CHROMA_URL points index/ at a real ``chroma run`` process; everything else is unchanged."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from index.builder import CorpusIndex
from index.embedding import MiniLMEmbedder
from index.errors import StoreUnavailableError
from index.settings import Settings
from index.store import ChunkStore
from qa.service import build_answerer
from tests.chroma_server import ChromaServer, free_port

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parent.parent
CROATIA_DOC = "003_0a3dde30e4285642.txt"


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    """One real server for the module, on a free port with its own folder."""
    root = tmp_path_factory.mktemp("chroma-server")
    with ChromaServer(root / "db") as server:
        yield server


def _server_settings(tmp_path: Path, corpus: Path, server: ChromaServer) -> Settings:
    # A collection name per test keeps tests on the shared server independent.
    name = "t-" + tmp_path.name.lower().replace("_", "-")[-40:]
    return Settings(data_dir=tmp_path / "data", corpus_dir=corpus, chroma_url=server.url, collection=name)


def _server_ids(settings: Settings, embedder: MiniLMEmbedder) -> set[str]:
    """The chunk ids the server holds, read through a fresh client (not the index's own connection)."""
    store = ChunkStore(settings)
    store.open(embedder.name, embedder.dim, create=False)
    return store.ids()


def test_server_mode_indexes_incrementally_and_keeps_catalog_local(
    tmp_path: Path, corpus_copy: Path, chroma_server: ChromaServer, embedder: MiniLMEmbedder
) -> None:
    settings = _server_settings(tmp_path, corpus_copy, chroma_server)
    index = CorpusIndex(settings, embedder=embedder)

    first = index.sync()
    n_docs = len(list(corpus_copy.glob("*.txt")))
    assert len(first.added) == n_docs
    assert first.embedded_chunks == first.chunks > 0
    assert index.status().location == chroma_server.url
    # The vectors live on the server; only the SQLite catalog is under the data folder.
    assert (settings.data_dir / "catalog.sqlite3").exists()
    assert not (settings.data_dir / "chroma").exists()
    catalog_ids = index.catalog.chunk_ids()
    assert _server_ids(settings, embedder) == catalog_ids

    second = CorpusIndex(settings, embedder=embedder).sync()
    assert second.embedded_chunks == 0
    assert second.unchanged == n_docs and not (second.added or second.updated or second.removed)

    edited_doc = "001_6b5fe14106b636da.txt"
    untouched = {d: index.catalog.chunk_ids_of(d) for d in index.documents() if d != edited_doc}
    edited = corpus_copy / edited_doc
    edited.write_text(edited.read_text() + "\nA closing sentence added for the server-mode test.\n")
    third = CorpusIndex(settings, embedder=embedder).sync()
    assert third.updated == [edited_doc] and not third.added and not third.removed
    assert third.embedded_chunks == len(index.catalog.chunk_ids_of(edited_doc)) > 0
    assert {d: index.catalog.chunk_ids_of(d) for d in untouched} == untouched
    assert _server_ids(settings, embedder) == index.catalog.chunk_ids() != catalog_ids

    removed_doc = "004_299ba8388898a818.txt"
    removed_chunks = set(index.catalog.chunk_ids_of(removed_doc))
    assert removed_chunks
    (corpus_copy / removed_doc).unlink()
    fourth = CorpusIndex(settings, embedder=embedder).sync()
    assert fourth.removed == [removed_doc] and fourth.embedded_chunks == 0
    server_ids = _server_ids(settings, embedder)
    assert server_ids == index.catalog.chunk_ids()
    assert not server_ids & removed_chunks


def test_server_mode_answers_with_citation(
    tmp_path: Path, corpus_copy: Path, chroma_server: ChromaServer, embedder: MiniLMEmbedder
) -> None:
    settings = _server_settings(tmp_path, corpus_copy, chroma_server)
    CorpusIndex(settings, embedder=embedder).sync()

    answerer = build_answerer(settings, embedder=embedder)
    answer = answerer.answer("What did Croatia say about military blocs?")

    assert not answer.refused
    assert CROATIA_DOC in {c.source for c in answer.citations}
    text = (corpus_copy / CROATIA_DOC).read_text()
    for c in answer.citations:
        if c.source == CROATIA_DOC:
            assert c.quote in text


def _closed_port_url() -> str:
    return f"http://127.0.0.1:{free_port()}"


def test_down_server_raises_store_unavailable_naming_url(
    tmp_path: Path, corpus_copy: Path, embedder: MiniLMEmbedder
) -> None:
    url = _closed_port_url()
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=corpus_copy, chroma_url=url)
    with pytest.raises(StoreUnavailableError, match=url.replace(".", r"\.")):
        CorpusIndex(settings, embedder=embedder).sync()


def test_lost_server_during_reads_raises_store_unavailable(
    tmp_path: Path, corpus_copy: Path, embedder: MiniLMEmbedder
) -> None:
    with ChromaServer(tmp_path / "own-db") as server:
        settings = _server_settings(tmp_path, corpus_copy, server)
        index = CorpusIndex(settings, embedder=embedder)
        index.sync()
        answerer = build_answerer(settings, embedder=embedder)
    assert not server.alive()
    with pytest.raises(StoreUnavailableError, match=server.url.replace(".", r"\.")):
        answerer.answer("What did Croatia say about military blocs?")


def test_cli_index_with_down_server_prints_one_line(tmp_path: Path, corpus_copy: Path) -> None:
    url = _closed_port_url()
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update(QA_CHROMA_URL=url, QA_DATA_DIR=str(tmp_path / "data"), QA_CORPUS_DIR=str(corpus_copy))
    qa = shutil.which("qa", path=str(Path(sys.executable).parent)) or "qa"
    result = subprocess.run([qa, "index"], env=env, capture_output=True, text=True, timeout=120, cwd=ROOT)

    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert url in lines[0] and "Traceback" not in result.stderr
    assert result.stdout == ""
