"""Recovery of the real ``qa serve``: a Chroma server that goes away and comes back, and a rebuild killed midway."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from test_ui_server import EXAMPLE, EXAMPLE_SOURCE, QA, ROOT, Server, launch_server, stop_server

from index.builder import CorpusIndex
from index.embedding import MiniLMEmbedder
from index.settings import Settings
from tests.chroma_server import ChromaServer

pytestmark = pytest.mark.server

# Prints the catalog's and Chroma's chunk ids of one data folder, read by a fresh process: an in-process
# embedded Chroma client caches per path and could show a stale view of a folder another process wrote.
STATE_SCRIPT = """
import json, sys
from index.runtime import prepare_offline_runtime
prepare_offline_runtime()
from index.builder import CorpusIndex
from index.settings import Settings
index = CorpusIndex(Settings())
index.store.open(index.embedder.name, index.embedder.dim, create=True)
print(json.dumps({"catalog": sorted(index.catalog.chunk_ids()), "chroma": sorted(index.store.ids()),
                  "documents": sorted(index.documents()), "dirty": index.catalog.get_meta("dirty")}))
"""


def _env(data: Path, corpus: Path, tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update(QA_DATA_DIR=str(data), QA_CORPUS_DIR=str(corpus), GRADIO_TEMP_DIR=str(tmp / "gradio"))
    env.update(extra)
    return env


def launch(tmp: Path, data: Path, corpus: Path, name: str, **extra_env: str) -> Server:
    """``qa serve`` on a free port over existing ``data`` and ``corpus`` folders; waits until it answers."""
    return launch_server(tmp, data, corpus, name, **extra_env)


def _client(server: Server) -> Any:
    from gradio_client import Client

    return Client(server.url, verbose=False)


def _assert_cited(result: dict[str, Any]) -> None:
    assert "error" not in result, result
    assert result["refused"] is False and "[1]" in result["answer"], result
    assert result["citations"][0]["source"] == EXAMPLE_SOURCE, result


def _corpus_copy(target: Path) -> Path:
    shutil.copytree(ROOT / "corpus", target)
    return target


# -- (a) the Chroma server goes away and comes back ----------------------------------------------------
def test_lost_chroma_server_gives_a_clear_message_and_recovers_on_restart(
    tmp_path: Path, embedder: MiniLMEmbedder
) -> None:
    if not QA.exists():
        pytest.fail(f"{QA} is missing; run `make install`")
    corpus = _corpus_copy(tmp_path / "corpus")
    data = tmp_path / "data"
    chroma_path = tmp_path / "chroma-db"
    chroma = ChromaServer(chroma_path).start()
    server: Server | None = None
    try:
        settings = Settings(data_dir=data, corpus_dir=corpus, chroma_url=chroma.url)
        index = CorpusIndex(settings, embedder=embedder)
        report = index.sync()
        index.catalog.close()
        assert report.documents == 5 and report.chunks > 0
        server = launch(tmp_path, data, corpus, "serve", QA_CHROMA_URL=chroma.url)
        client = _client(server)
        _assert_cited(client.predict(EXAMPLE, api_name="/ask"))

        chroma.stop()
        assert not chroma.alive()
        down = client.predict(EXAMPLE, api_name="/ask")
        assert set(down) == {"error"}, down
        assert chroma.url in down["error"] and "Chroma server" in down["error"], down
        assert "Traceback" not in down["error"] and "\n" not in down["error"]
        messages, _, notice, _ = client.predict(EXAMPLE, [], api_name="/chat")
        assert chroma.url in notice and "qa-error" in str(messages[-1]["content"]), (notice, messages)
        assert server.process.poll() is None, "qa serve died when Chroma went away"
        status, table, _ = client.predict(api_name="/overview")
        assert "<b>5</b> documents" in status and EXAMPLE_SOURCE in table

        chroma = ChromaServer(chroma_path, port=chroma.port).start()  # same port, same folder
        _assert_cited(client.predict(EXAMPLE, api_name="/ask"))
        messages, sources, notice, _ = client.predict(EXAMPLE, [], api_name="/chat")
        assert notice == "" and EXAMPLE_SOURCE in sources
        assert "Traceback" not in server.log.read_text()
    finally:
        if server is not None:
            stop_server(server)
        chroma.stop()


# -- (b) a full rebuild from the UI, with the server SIGKILLed in the middle --------------------------
def _state(data: Path, corpus: Path, tmp: Path) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-c", STATE_SCRIPT],
        env=_env(data, corpus, tmp, PYTHONPATH=str(ROOT)),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    state: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return state


def test_rebuild_killed_in_the_server_converges_after_restart(tmp_path: Path, embedder: MiniLMEmbedder) -> None:
    if not QA.exists():
        pytest.fail(f"{QA} is missing; run `make install`")
    corpus = _corpus_copy(tmp_path / "corpus")
    data = tmp_path / "data"
    built = subprocess.run(
        [str(QA), "index", "--json"],
        env=_env(data, corpus, tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    assert json.loads(built.stdout)["documents"] == 5

    clean = CorpusIndex(Settings(data_dir=tmp_path / "clean-data", corpus_dir=corpus), embedder=embedder)
    clean.sync(rebuild=True)
    clean_ids = clean.catalog.chunk_ids()
    assert clean_ids == clean.store.ids() and len(clean_ids) > 40  # several 20-chunk batches

    server = launch(tmp_path, data, corpus, "serve-killed", QA_TEST_KILL_AFTER="flush:1", QA_TEST_FLUSH_CHUNKS="20")
    try:
        client = _client(server)
        _assert_cited(client.predict(EXAMPLE, api_name="/ask"))
        client.submit(api_name="/rebuild")
        returncode = server.process.wait(timeout=180)
    finally:
        if server.process.poll() is None:
            stop_server(server)
    assert returncode == -signal.SIGKILL, f"qa serve was not killed inside the rebuild (rc={returncode})"

    broken = _state(data, corpus, tmp_path)
    assert broken["dirty"] is not None, "the killed rebuild left no mark of the interruption"
    assert set(broken["chroma"]) != set(broken["catalog"]) or set(broken["catalog"]) != clean_ids

    restarted = launch(tmp_path, data, corpus, "serve-restarted")
    try:
        client = _client(restarted)
        _assert_cited(client.predict(EXAMPLE, api_name="/ask"))
        status, _, _ = client.predict(api_name="/overview")
        assert "<b>5</b> documents" in status, status
    finally:
        stop_server(restarted)

    after = _state(data, corpus, tmp_path)
    assert after["dirty"] is None
    assert set(after["catalog"]) == clean_ids, "catalog ids differ from a clean rebuild"
    assert set(after["chroma"]) == clean_ids, "Chroma ids differ from a clean rebuild"
    assert len(after["documents"]) == 5
