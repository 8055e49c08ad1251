"""Which process works on a data folder's index, and how another one hands it its work.

The embedded Chroma store is not safe for several processes at once: writes made by one process do not reach
another's in-memory vector index, a rebuild elsewhere leaves a running process holding a collection that no
longer exists, and two writers can overwrite each other's files. So a data folder has one owner at a time,
marked by an exclusive lock on ``DATA/.owner``: ``qa serve`` for as long as it runs, or ``qa index`` for one
run. A ``qa index`` that finds a server owning the folder leaves the store alone and hands the sync to the
server over a loopback connection (its port and a random token are in the owner file, which only its user can
read); the server runs it as its own Rebuild button would, so questions wait while a rebuild runs and nothing
ever sees a dropped collection. The lock is the kernel's: a killed owner releases it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import secrets
import socket
import socketserver
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from index.builder import Progress, ProgressCallback, SyncReport
from index.errors import IndexBusyError, QAError
from index.reading import Skipped

log = logging.getLogger(__name__)

Role = Literal["serve", "index"]
OWNER_FILE = ".owner"
_MAX_LINE = 1 << 20  # a request or a report line; a report lists every document


@dataclass(frozen=True, slots=True)
class OwnerInfo:
    """The process that owns a data folder, and where a server takes requests (``port`` and ``token``)."""

    pid: int
    role: Role
    port: int | None = None
    token: str | None = None

    def describe(self) -> str:
        return f"qa {self.role} (pid {self.pid})"


class Lease:
    """The exclusive right to use a data folder's store, held until ``release()`` or the process ends."""

    def __init__(self, path: Path, fd: int, role: Role) -> None:
        self.path = path
        self._fd: int | None = fd
        self.info = OwnerInfo(os.getpid(), role)
        self._write()

    def publish(self, port: int, token: str) -> None:
        """Tell other processes where this server takes requests."""
        self.info = OwnerInfo(self.info.pid, self.info.role, port, token)
        self._write()

    def _write(self) -> None:
        if self._fd is None:
            return
        data = json.dumps(asdict(self.info)).encode()
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, data, 0)

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def __enter__(self) -> Lease:
        return self

    def __exit__(self, *_: object) -> None:
        self.release()


def _open_owner_file(data_dir: Path) -> tuple[Path, int]:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / OWNER_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.fchmod(fd, 0o600)  # holds a token: its user only
    return path, fd


def read_owner(data_dir: Path) -> OwnerInfo | None:
    """The current owner of ``data_dir``, or None when no live process holds it (pid 0: one that holds it but
    has not written who it is yet)."""
    path = data_dir / OWNER_FILE
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            pass  # held: the content is the owner's
        else:
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None  # nobody holds it: whatever the file says is stale
        data = os.pread(fd, 4096, 0)
    finally:
        os.close(fd)
    try:
        raw = json.loads(data)
        return OwnerInfo(int(raw["pid"]), raw["role"], raw.get("port"), raw.get("token"))
    except (ValueError, KeyError, TypeError):
        return OwnerInfo(0, "serve")


def take_lease(data_dir: Path, role: Role, on_wait: Callable[[OwnerInfo], None] | None = None) -> Lease | OwnerInfo:
    """Take ``data_dir`` for this process, or find the server that owns it.

    Returns a ``Lease`` once the folder is this process's (waiting, after one call to ``on_wait``, while a
    ``qa index`` run holds it), or the ``OwnerInfo`` of a ``qa serve`` that owns it: hand it the work.
    ``on_wait`` is called with the owner being waited for.
    """
    path, fd = _open_owner_file(data_dir)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return Lease(path, fd, role)
            except BlockingIOError:
                pass
            owner = read_owner(data_dir)
            if owner is None:
                continue  # released meanwhile: try again
            if owner.role == "serve":
                if owner.port is not None:
                    os.close(fd)
                    return owner
                time.sleep(0.05)  # a server taking the folder: its port follows in a moment
                continue
            if on_wait is not None:  # a `qa index` run: wait until it is done (and look again: a server may
                on_wait(owner)  # take the folder next)
                on_wait = None
            time.sleep(0.2)
    except BaseException:
        with contextlib.suppress(OSError):
            os.close(fd)
        raise


def take_server_lease(data_dir: Path, on_wait: Callable[[OwnerInfo], None] | None = None) -> Lease:
    """The lease ``qa serve`` holds while it runs.

    Raises:
        IndexBusyError: another ``qa serve`` already serves this data folder.
    """
    found = take_lease(data_dir, "serve", on_wait)
    if isinstance(found, OwnerInfo):
        raise IndexBusyError(
            f"Another {found.describe()} already serves the index in {data_dir} (control port {found.port}); "
            "stop it first, or set QA_DATA_DIR to another folder."
        )
    return found


# -- the server's side --------------------------------------------------------------------------------------
SyncHandler = Callable[[dict[str, Any], ProgressCallback], SyncReport]


class ControlServer:
    """Takes sync requests from ``qa index`` on 127.0.0.1 (one JSON line in; progress lines and a report out)."""

    def __init__(self, lease: Lease, handler: SyncHandler) -> None:
        self.token = secrets.token_hex(16)
        control = self

        class _Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                control._serve_one(self.rfile, self.wfile)

        class _Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._handler = handler
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, name="qa-control", daemon=True)
        self._thread.start()
        lease.publish(self.port, self.token)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _serve_one(self, rfile: Any, wfile: Any) -> None:
        def send(message: dict[str, Any]) -> None:
            with contextlib.suppress(OSError):  # the client may have gone: the sync still finishes
                wfile.write(json.dumps(message).encode() + b"\n")
                wfile.flush()

        try:
            request = json.loads(rfile.readline(_MAX_LINE))
        except ValueError:
            send({"error": "The request was not valid JSON."})
            return
        if not isinstance(request, dict) or not secrets.compare_digest(str(request.get("token", "")), self.token):
            send({"error": "The request's token does not match this server's."})
            return

        def progress(p: Progress) -> None:
            send({"progress": asdict(p)})

        try:
            report = self._handler(request, progress)
        except QAError as exc:
            send({"error": str(exc)})
            return
        except Exception as exc:  # the server logs it; the client gets one line
            log.exception("a sync handed over by qa index failed")
            send({"error": f"The server's sync failed ({type(exc).__name__}: {exc}); see its log."})
            return
        send({"report": asdict(report)})


# -- the client's side --------------------------------------------------------------------------------------
def request_sync(owner: OwnerInfo, request: dict[str, Any], progress: ProgressCallback | None = None) -> SyncReport:
    """Ask the server that owns a data folder to run a sync; returns its report.

    Raises:
        QAError: the server refused the request, its sync failed, or it went away before finishing.
    """
    if owner.port is None or owner.token is None:
        raise QAError(f"{owner.describe()} owns the index but takes no requests; wait for it to finish.")
    try:
        connection = socket.create_connection(("127.0.0.1", owner.port), timeout=30)
    except OSError as exc:
        raise QAError(
            f"{owner.describe()} owns the index but does not answer on port {owner.port} ({exc.strerror or exc}); "
            "try again, or stop it."
        ) from exc
    with connection, connection.makefile("rwb") as stream:
        connection.settimeout(None)  # a rebuild takes as long as it takes
        stream.write(json.dumps({**request, "token": owner.token}).encode() + b"\n")
        stream.flush()
        for line in iter(lambda: stream.readline(_MAX_LINE), b""):
            message = json.loads(line)
            if "progress" in message:
                if progress is not None:
                    progress(Progress(**message["progress"]))
            elif "error" in message:
                raise QAError(message["error"])
            elif "report" in message:
                raw = message["report"]
                raw["skipped"] = [Skipped(**s) for s in raw.get("skipped", [])]
                return SyncReport(**raw)
    raise QAError(f"{owner.describe()} stopped before the sync finished; run `qa index` again.")
