"""What stands in front of Gradio's routes: the login's rules, and no route back to uploaded files.

Gradio's own login compares ``username.strip()`` with the configured user, answers every attempt at once (50
wrong passwords in 0.1 s), and its login page embeds the whole API description before anyone has logged in.
``Guard`` is an ASGI middleware (passed to ``launch`` through ``app_kwargs``) that

- checks the credentials first, exactly (``"user "`` is not ``user``; the password in constant time), and only
  then lets Gradio's own login set its cookie;
- slows repeated failures from one client address down (each failed attempt waits longer, up to
  ``MAX_DELAY_S``) and, after ``MAX_FAILURES`` in a row, refuses every attempt from that address for
  ``LOCKOUT_S`` (doubling with each further lockout): ``LoginThrottle``;
- blanks ``window.gradio_api_info`` in the page served to a visitor who has not logged in;
- answers 404 for any ``/gradio_api/file=`` path inside the upload folder: an upload is copied into the corpus
  (or refused) and deleted at once, and nothing in this app is ever served back from there, so neither a
  deleted article nor a refused file can be fetched again, even one left by an earlier run.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import secrets
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_LOGIN_BODY = 64 * 1024
_API_INFO = re.compile(rb"window\.gradio_api_info = .*?;</script>", re.S)
_FILE_ROUTE = re.compile(r"^/gradio_api/file[=/](?P<path>.*)$", re.S)


@dataclass(slots=True)
class _Client:
    failures: int = 0  # in a row
    lockouts: int = 0
    locked_until: float = 0.0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class LoginThrottle:
    """Failed logins per client address: a growing delay, then a lockout.

    After the n-th failure in a row an attempt waits ``min(BASE_DELAY_S * 2**(n-1), MAX_DELAY_S)`` before it is
    answered; after ``MAX_FAILURES`` in a row the address is refused for ``LOCKOUT_S * 2**k`` (k earlier
    lockouts, at most ``MAX_LOCKOUT_S``), whatever it sends. One attempt per address is checked at a time, so
    sending many at once gains nothing. A success clears the address's record.
    """

    BASE_DELAY_S = 0.25
    MAX_DELAY_S = 8.0
    MAX_FAILURES = 5
    LOCKOUT_S = 60.0
    MAX_LOCKOUT_S = 900.0

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._clients: dict[str, _Client] = {}
        self._guard = threading.Lock()

    def client(self, address: str) -> _Client:
        with self._guard:
            if len(self._clients) > 10_000:  # forget clients with a clean slate first, then the oldest
                for key in [k for k, c in self._clients.items() if not c.failures and not c.lockouts][:5_000]:
                    del self._clients[key]
            return self._clients.setdefault(address, _Client())

    def locked_for(self, address: str) -> float:
        """Seconds until ``address`` may try again (0: now)."""
        return max(0.0, self.client(address).locked_until - self._clock())

    def failed(self, address: str) -> float:
        """Record a failure; returns how long to hold the answer."""
        record = self.client(address)
        record.failures += 1
        if record.failures >= self.MAX_FAILURES:
            record.locked_until = self._clock() + min(self.LOCKOUT_S * 2**record.lockouts, self.MAX_LOCKOUT_S)
            record.lockouts += 1
            record.failures = 0
        return min(self.BASE_DELAY_S * 2 ** max(0, record.failures - 1), self.MAX_DELAY_S)

    def succeeded(self, address: str) -> None:
        with self._guard:
            self._clients.pop(address, None)


class Guard:
    """The ASGI middleware described above; ``credentials`` is None when no login is configured."""

    def __init__(
        self,
        app: ASGIApp,
        credentials: tuple[str, str] | None = None,
        upload_root: Path | None = None,
        throttle: LoginThrottle | None = None,
    ) -> None:
        self.app = app
        self.credentials = credentials
        self.upload_root = upload_root.resolve() if upload_root is not None else None
        self.throttle = throttle or LoginThrottle()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, method = scope.get("path", ""), scope.get("method", "GET")
        if self.upload_root is not None and (match := _FILE_ROUTE.match(path)) and self._is_upload(match["path"]):
            await _respond(send, 404, {"detail": "Not Found"})
        elif self.credentials is not None and method == "POST" and path.rstrip("/") == "/login":
            await self._login(scope, receive, send)
        elif self.credentials is not None and method in ("GET", "HEAD") and path in ("/", ""):
            await self.app(scope, receive, _without_api_info(send))
        else:
            await self.app(scope, receive, send)

    def _is_upload(self, raw: str) -> bool:
        assert self.upload_root is not None
        try:
            target = Path(unquote(raw)).resolve()
        except (OSError, RuntimeError, ValueError):
            return True  # not a path anything here would serve
        return target.is_relative_to(self.upload_root)

    async def _login(self, scope: Scope, receive: Receive, send: Send) -> None:
        from starlette.requests import Request

        assert self.credentials is not None
        address = (scope.get("client") or ("unknown", 0))[0]
        record = self.throttle.client(address)
        async with record.lock:  # one attempt per address at a time
            wait = self.throttle.locked_for(address)
            if wait > 0:
                await _respond(send, 429, {"detail": f"Too many failed logins; try again in {math.ceil(wait)} s."})
                return
            body = await _read_body(receive)
            if body is None:
                await _respond(send, 413, {"detail": "The login request is too large."})
                return
            replay = _replay(body, receive)
            try:
                form = await Request(scope, replay).form()
                username, password = str(form.get("username", "")), str(form.get("password", ""))
            except Exception:  # not a form
                username = password = ""
            user, expected = self.credentials
            ok = secrets.compare_digest(username.encode("utf-8", "replace"), user.encode("utf-8", "replace"))
            ok &= secrets.compare_digest(password.encode("utf-8", "replace"), expected.encode("utf-8", "replace"))
            if not ok:
                await asyncio.sleep(self.throttle.failed(address))
                await _respond(send, 400, {"detail": "Incorrect credentials."})
                return
            self.throttle.succeeded(address)
        await self.app(scope, _replay(body, receive), send)


async def _read_body(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_LOGIN_BODY:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands over ``body`` once, then whatever the client sends next (its disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _respond(send: Send, status: int, payload: dict[str, Any]) -> None:
    body = json.dumps(payload).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _without_api_info(send: Send) -> Send:
    """A ``send`` that holds the page back and, when it is the login page, blanks its API description."""
    start: Message | None = None
    chunks: list[bytes] = []

    async def rewrite(message: Message) -> None:
        nonlocal start
        if message["type"] == "http.response.start":
            start = message
            return
        if message["type"] != "http.response.body" or start is None:
            await send(message)
            return
        chunks.append(message.get("body", b""))
        if message.get("more_body", False):
            return
        body = b"".join(chunks)
        if b'"auth_required":true' in body:  # the page of a visitor who has not logged in
            body = _API_INFO.sub(b"window.gradio_api_info = null;</script>", body)
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return rewrite
