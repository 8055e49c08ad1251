"""A small OpenAI-compatible chat server for tests: a real HTTP server on 127.0.0.1 answering from a script.

``POST /v1/chat/completions`` answers streamed (SSE ``data: {...}`` chunks, then ``data: [DONE]``) or not,
as the request asks. The script is a function of the request body returning a ``Reply``; every request is
recorded (body and headers) so tests can check what the client sent.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Reply:
    """What the server does with one request."""

    text: str = ""
    status: int = 200
    delay: float = 0.0  # seconds to wait before answering
    raw: bytes | None = None  # sent as the body (or the one SSE event) instead of a well-formed completion
    chunk_words: int = 2  # words per streamed chunk
    chunk_delay: float = 0.001  # seconds between streamed chunks


@dataclass
class Recorded:
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    received: float = field(default_factory=time.monotonic)  # when the request arrived (time.monotonic)

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages", []))


Script = Callable[[dict[str, Any]], Reply]


class FakeLLM:
    """Start with ``with FakeLLM() as llm:``; set ``llm.script``; read ``llm.requests``; ``llm.base_url``."""

    def __init__(self) -> None:
        self.script: Script = lambda body: Reply("")
        self.requests: list[Recorded] = []
        self._stop = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._server.block_on_close = False  # a handler still sleeping must not hold up the test session
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-llm", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def __enter__(self) -> FakeLLM:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def reset(self, script: Script) -> None:
        self.script = script
        self.requests.clear()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet test output
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._send(404, b'{"error": {"message": "not found"}}')
                    return
                fake.requests.append(Recorded(body, {k.lower(): v for k, v in self.headers.items()}))
                reply = fake.script(body)
                if reply.delay and fake._stop.wait(reply.delay):
                    return
                if reply.status != 200:
                    self._send(reply.status, reply.raw or b'{"error": {"message": "scripted failure"}}')
                elif body.get("stream"):
                    self._stream(body, reply)
                else:
                    self._send(200, reply.raw if reply.raw is not None else _completion(body, reply.text))

            def _send(self, status: int, payload: bytes, content_type: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _stream(self, body: dict[str, Any], reply: Reply) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True
                if reply.raw is not None:
                    self.wfile.write(b"data: " + reply.raw + b"\n\n")
                else:
                    for piece in _pieces(reply.text, reply.chunk_words):
                        self.wfile.write(b"data: " + json.dumps(_chunk(body, piece)).encode() + b"\n\n")
                        self.wfile.flush()
                        time.sleep(reply.chunk_delay)
                    self.wfile.write(b"data: " + json.dumps(_chunk(body, None, "stop")).encode() + b"\n\n")
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

        return Handler


def _pieces(text: str, words: int) -> list[str]:
    tokens = text.split(" ")
    return [
        " ".join(tokens[i : i + words]) + (" " if i + words < len(tokens) else "") for i in range(0, len(tokens), words)
    ]


def _completion(body: dict[str, Any], text: str) -> bytes:
    return json.dumps(
        {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "fake"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
    ).encode()


def _chunk(body: dict[str, Any], piece: str | None, finish: str | None = None) -> dict[str, Any]:
    delta = {"role": "assistant", "content": piece} if piece is not None else {}
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": body.get("model", "fake"),
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
