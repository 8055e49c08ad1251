"""A real ``chroma run`` server on 127.0.0.1 for tests and the benchmark: started, awaited, stopped."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

CHROMA_BIN = Path(sys.executable).parent / "chroma"


def free_port() -> int:
    """A TCP port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ChromaServer:
    """``chroma run --path DIR --host 127.0.0.1 --port PORT`` as a subprocess; use as a context manager."""

    def __init__(self, path: Path, port: int | None = None, startup_timeout: float = 60.0) -> None:
        if startup_timeout <= 0:
            raise ValueError(f"startup_timeout must be > 0, got {startup_timeout}")
        self.path = path
        self.port = port or free_port()
        self.startup_timeout = startup_timeout
        self.log_path = path.parent / f"chroma-{self.port}.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self) -> ChromaServer:
        """Start the server and wait until its heartbeat answers.

        Raises:
            RuntimeError: the binary is missing, the process exits, or no heartbeat within the timeout.
        """
        if not CHROMA_BIN.exists():
            raise RuntimeError(f"{CHROMA_BIN} not found; install chromadb in the venv")
        self.path.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
        command = [str(CHROMA_BIN), "run", "--path", str(self.path)]
        command += ["--host", "127.0.0.1", "--port", str(self.port)]
        with open(self.log_path, "wb") as log:
            self._process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
            )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"chroma run exited with {self._process.returncode}: {self._log_tail()}")
            if self.alive():
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"chroma run gave no heartbeat on {self.url} within {self.startup_timeout:.0f} s")

    def alive(self) -> bool:
        """Whether the heartbeat endpoint answers 200."""
        try:
            with urllib.request.urlopen(f"{self.url}/api/v2/heartbeat", timeout=1) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def stop(self) -> None:
        """Terminate the server (SIGTERM, then SIGKILL after 10 s) and reap it."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def _log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-2000:]
        except OSError:
            return "(no log)"

    def __enter__(self) -> ChromaServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
