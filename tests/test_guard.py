"""ui.guard: the login throttle (with a fake clock) and the middleware's rules, through a real ASGI app."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from ui.guard import Guard, LoginThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_failures_wait_longer_then_lock_the_address_out_for_a_while() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock)
    delays = [throttle.failed("10.0.0.1") for _ in range(LoginThrottle.MAX_FAILURES - 1)]
    assert delays == sorted(delays) and delays[0] == LoginThrottle.BASE_DELAY_S and delays[-1] > delays[0]
    assert throttle.locked_for("10.0.0.1") == 0
    throttle.failed("10.0.0.1")  # the MAX_FAILURES-th in a row
    assert throttle.locked_for("10.0.0.1") == LoginThrottle.LOCKOUT_S
    assert throttle.locked_for("10.0.0.2") == 0  # another address is not punished
    clock.now += LoginThrottle.LOCKOUT_S + 1
    assert throttle.locked_for("10.0.0.1") == 0
    for _ in range(LoginThrottle.MAX_FAILURES):  # the next lockout lasts twice as long
        throttle.failed("10.0.0.1")
    assert throttle.locked_for("10.0.0.1") == 2 * LoginThrottle.LOCKOUT_S
    clock.now += 2 * LoginThrottle.LOCKOUT_S + 1
    throttle.succeeded("10.0.0.1")  # a success forgets the address
    assert throttle.failed("10.0.0.1") == LoginThrottle.BASE_DELAY_S


def _call(guard: Guard, method: str, path: str, body: bytes = b"", client: str = "127.0.0.1") -> tuple[int, bytes]:
    """One request through the middleware; returns (status, body)."""
    sent: list[dict[str, Any]] = []
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "headers": [(b"content-type", b"application/x-www-form-urlencoded")],
        "client": (client, 50000),
        "query_string": b"",
    }
    asyncio.run(guard(scope, receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


async def _app(scope: Any, receive: Any, send: Any) -> None:
    """Stands in for Gradio: says what it was given."""
    message = await receive()
    page = b'<script>window.gradio_config = {"auth_required":true};</script>'
    page += b'<script>window.gradio_api_info = {"named_endpoints": {"/ask": {}}};</script>'
    body = page if scope["path"] == "/" else b"reached the app: " + message.get("body", b"")
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1")]})
    await send({"type": "http.response.body", "body": body})


def test_logins_are_exact_and_only_good_ones_reach_the_app(tmp_path: Path) -> None:
    clock = Clock()
    throttle = LoginThrottle(clock)
    throttle.BASE_DELAY_S = 0.0  # the delays are timed in the server test; here only the decisions
    guard = Guard(_app, credentials=("ana", "s3cr:et"), upload_root=tmp_path, throttle=throttle)
    assert _call(guard, "POST", "/login", b"username=ana+&password=s3cr%3Aet") == (
        400,
        b'{"detail": "Incorrect credentials."}',
    )
    assert _call(guard, "POST", "/login", b"username=ana&password=wrong")[0] == 400
    assert _call(guard, "POST", "/login/", b"username=ana&password=s3cr%3Aet") == (
        200,
        b"reached the app: username=ana&password=s3cr%3Aet",
    )
    for _ in range(LoginThrottle.MAX_FAILURES):
        _call(guard, "POST", "/login", b"username=ana&password=guess", client="10.1.1.1")
    status, body = _call(guard, "POST", "/login", b"username=ana&password=s3cr%3Aet", client="10.1.1.1")
    assert status == 429 and b"try again in 60 s" in body


def test_the_login_page_carries_no_api_description_and_uploads_are_not_served(tmp_path: Path) -> None:
    guard = Guard(_app, credentials=("ana", "pw"), upload_root=tmp_path)
    status, page = _call(guard, "GET", "/")
    assert status == 200 and b"window.gradio_api_info = null;</script>" in page and b"named_endpoints" not in page
    (tmp_path / "run" / "abc").mkdir(parents=True)
    (tmp_path / "run" / "abc" / "x.txt").write_text("uploaded")
    assert _call(guard, "GET", f"/gradio_api/file={tmp_path}/run/abc/x.txt")[0] == 404
    assert _call(guard, "GET", f"/gradio_api/file={tmp_path}/run/abc/../abc/x.txt")[0] == 404
    assert _call(guard, "GET", f"/gradio_api/file={tmp_path}/gone.txt")[0] == 404
    assert _call(guard, "GET", "/gradio_api/file=/etc/hostname")[1].startswith(b"reached the app")  # Gradio decides
    open_guard = Guard(_app, credentials=None, upload_root=tmp_path)  # no login: the page is left alone
    assert b"named_endpoints" in _call(open_guard, "GET", "/")[1]
