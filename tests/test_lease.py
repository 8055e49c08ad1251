"""index.lease: one process owns a data folder's store; ``qa index`` hands its sync to a server that owns it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from index.builder import CorpusIndex, Progress
from index.embedding import MiniLMEmbedder
from index.errors import IndexBusyError, IndexMismatchError, QAError
from index.lease import ControlServer, Lease, OwnerInfo, read_owner, request_sync, take_lease, take_server_lease
from index.settings import Settings
from ui.backend import ChatBackend

ROOT = Path(__file__).resolve().parent.parent


def test_a_free_folder_is_taken_and_released(tmp_path: Path) -> None:
    lease = take_lease(tmp_path / "data", "index")
    assert isinstance(lease, Lease)
    owner = read_owner(tmp_path / "data")
    assert owner == OwnerInfo(os.getpid(), "index")
    assert oct((tmp_path / "data" / ".owner").stat().st_mode & 0o777) == "0o600"  # it will hold a token
    lease.release()
    assert read_owner(tmp_path / "data") is None


def test_a_second_index_run_waits_for_the_first(tmp_path: Path) -> None:
    first = take_lease(tmp_path, "index")
    assert isinstance(first, Lease)
    waited: list[OwnerInfo] = []
    threading.Timer(0.6, first.release).start()
    started = time.monotonic()
    second = take_lease(tmp_path, "index", waited.append)
    assert isinstance(second, Lease) and time.monotonic() - started >= 0.5
    assert waited == [OwnerInfo(os.getpid(), "index")]
    second.release()


def test_a_server_is_found_and_a_second_server_is_refused(tmp_path: Path) -> None:
    server = take_server_lease(tmp_path)
    server.publish(4242, "secret")
    found = take_lease(tmp_path, "index")
    assert found == OwnerInfo(os.getpid(), "serve", 4242, "secret")
    with pytest.raises(IndexBusyError, match=r"already serves the index .*stop it first"):
        take_server_lease(tmp_path)
    server.release()


def test_a_killed_owner_frees_the_folder(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from index.lease import take_lease; "
            "lease = take_lease(Path(sys.argv[1]), 'index'); print('held', flush=True); time.sleep(600)",
            str(tmp_path),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        owner = read_owner(tmp_path)
        assert owner is not None and owner.pid == holder.pid and owner.role == "index"
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    assert read_owner(tmp_path) is None  # the kernel dropped the lock with the process
    lease = take_lease(tmp_path, "serve")
    assert isinstance(lease, Lease)
    lease.release()


def test_a_sync_is_handed_to_the_owner_with_progress_and_report(
    settings: Settings, embedder: MiniLMEmbedder, tmp_path: Path
) -> None:
    index = CorpusIndex(settings, embedder=embedder)
    lease = take_server_lease(settings.data_dir)
    control = ControlServer(lease, lambda request, progress: index.sync(rebuild=request["rebuild"], progress=progress))
    try:
        owner = take_lease(settings.data_dir, "index")
        assert isinstance(owner, OwnerInfo) and owner.port == control.port
        seen: list[Progress] = []
        report = request_sync(owner, {"rebuild": False}, seen.append)
        assert (report.documents, len(report.added), report.embedded_chunks) == (5, 5, report.chunks)
        assert seen and seen[-1].documents_done == 5
        assert index.store.ids() == index.catalog.chunk_ids()
        with pytest.raises(QAError, match="token does not match"):
            request_sync(OwnerInfo(owner.pid, "serve", owner.port, "wrong"), {"rebuild": False})
    finally:
        control.close()
        lease.release()


def test_a_server_refuses_a_sync_asked_with_other_settings(settings: Settings, embedder: MiniLMEmbedder) -> None:
    backend = ChatBackend.start(settings, embedder)
    request = {
        "rebuild": True,
        "corpus_dir": str(settings.corpus_dir.resolve()),
        "collection": settings.collection,
        "chroma_url": None,
        "chunker": Settings(chunk_size=256, chunk_overlap=48).chunker_signature,
    }
    with pytest.raises(IndexMismatchError, match=r"chunker=.*run it with the server's settings"):
        backend.sync_for_cli(request, lambda p: None)
    request["chunker"] = settings.chunker_signature
    assert backend.sync_for_cli(request, lambda p: None).documents == 5
