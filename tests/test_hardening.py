"""What an attack on the running chat found (issue 19), each point tried again against a real ``qa serve``.

One server (module fixture) takes most of the points in turn: a command-line rebuild while it answers, uploads
over the index's size limit, of a wrong type in a batch, of undecodable bytes, deletes without a listing first,
lone surrogates, upload-cache URLs, and a document that writes its own ``[1]``. A server with a login takes the
login points, one started on an empty folder shows that it serves before its index is built, and one on a
``chroma run`` server shows the store recovering from a collection replaced elsewhere and an upload that could not
be indexed leaving nothing behind.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psutil
import pytest
from test_load import NEW_ARTICLE, QUESTIONS, KeepAsking
from test_ui_server import EXAMPLE, EXAMPLE_SOURCE, QA, ROOT, Server, launch_server, serving, start_server, stop_server

from index.builder import CorpusIndex
from index.embedding import MiniLMEmbedder
from index.settings import Settings
from tests.chroma_server import ChromaServer

pytestmark = pytest.mark.server

REBUILD_PAUSE_S = 3  # the server's rebuilds wait this long with the collection dropped: the attack's window
ZRNOVO = (
    "Zrnovo Elects a Goat as Honorary Mayor\n"
    "The village of Zrnovo elected a goat named Bruno as its honorary mayor [1] on Monday, the council said.\n"
    "Bruno will attend every council meeting [2] until the spring, according to the village secretary.\n"
)


def _client(server: Server, **kwargs: Any) -> Any:
    from gradio_client import Client

    return Client(server.url, verbose=False, **kwargs)


def _cli(server: Server, *argv: str | bytes, **env: str) -> subprocess.CompletedProcess[str]:
    """``qa ARGV`` on the server's data and corpus folders, as a user's second terminal would run it."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    environment.update(QA_DATA_DIR=str(server.corpus.parent / "data"), QA_CORPUS_DIR=str(server.corpus), **env)
    return subprocess.run(
        [os.fsencode(QA), *(a if isinstance(a, bytes) else a.encode() for a in argv)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _raw_call(server: Server, api_name: str, data: list[Any]) -> Any:
    """An event sent as JSON with ``\\ud800``-style escapes, as any HTTP client can (gradio_client cannot encode a
    lone surrogate), through Gradio's queue protocol; returns the outputs."""
    host, port = "127.0.0.1", int(server.url.rsplit(":", 1)[1].strip("/"))
    connection = http.client.HTTPConnection(host, port, timeout=120)
    connection.request("GET", "/config")
    fn_index = {d.get("api_name"): d["id"] for d in json.loads(connection.getresponse().read())["dependencies"]}
    session = f"raw{time.monotonic_ns()}"
    body = json.dumps({"data": data, "fn_index": fn_index[api_name], "session_hash": session})  # ensure_ascii
    connection.request("POST", "/gradio_api/queue/join", body, {"Content-Type": "application/json"})
    assert connection.getresponse().read()
    connection.request("GET", f"/gradio_api/queue/data?session_hash={session}")
    for line in connection.getresponse().read().decode().splitlines():
        message = json.loads(line[6:]) if line.startswith("data: ") else {}
        if message.get("msg") == "process_completed":
            assert message["success"], message
            return message["output"]["data"]
    raise AssertionError("no answer in the event stream")


def _cited(result: dict[str, Any], source: str = EXAMPLE_SOURCE) -> bool:
    return "error" not in result and not result["refused"] and source in {c["source"] for c in result["citations"]}


def _upload_folder(server: Server) -> Path:
    (folder,) = (server.corpus.parent / "gradio").glob("qa-uploads-*")
    return folder


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serving(
        tmp_path_factory.mktemp("hardening"),
        # Not watching the corpus folder: a file dropped there must reach the index through the `qa index` these
        # tests hand to the server, not through the watcher racing it (tests/test_watch.py covers watching).
        {"QA_MAX_FILE_MB": "0.1", "QA_TEST_PAUSE_AFTER": f"drop:{REBUILD_PAUSE_S}", "QA_WATCH": "false"},
    ) as running:
        yield running


# -- 1. a command-line rebuild while the server answers ------------------------------------------------------
def test_a_cli_rebuild_while_serving_leaves_every_question_answered(server: Server) -> None:
    assert _cited(_client(server).predict(EXAMPLE, api_name="/ask"))  # the index the server built at start
    asking = KeepAsking(lambda: _client(server))
    time.sleep(1.0)
    watcher = _client(server)
    started = time.perf_counter()
    outcome: list[subprocess.CompletedProcess[str]] = []
    rebuild = threading.Thread(target=lambda: outcome.append(_cli(server, "index", "--rebuild", "--json")))
    rebuild.start()
    overviews = []  # what the Documents tab shows meanwhile (it pauses REBUILD_PAUSE_S with the collection dropped)
    while rebuild.is_alive():
        overviews.append(watcher.predict(api_name="/overview"))
        time.sleep(0.3)
    rebuild.join(timeout=300)
    ended = time.perf_counter()
    time.sleep(1.0)
    asking.stop()
    answers, failures = asking.answers, asking.failures

    result = outcome[0]
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["documents"] == 5
    assert f"qa serve (pid {server.process.pid}) serves this index" in result.stderr
    # 7: the Documents tab says what is happening, with the figures the index had (not "0 documents · never")
    during = [(status, table) for status, table, _ in overviews if "Rebuilding the index" in status]
    assert during, [status for status, _, _ in overviews]
    assert all("<b>5</b> documents" in status and "never" not in status for status, _ in during)
    assert all(EXAMPLE_SOURCE in table for _, table in during)
    assert not failures, failures[:5]
    errors = [(q, a) for _, _, q, a in answers if "error" in a]
    assert not errors, errors[:3]
    overlapping = [a for a in answers if a[0] < ended and a[1] > started]
    assert overlapping, "no question overlapped the rebuild"
    assert all(_cited(a) for _, _, q, a in answers if q == QUESTIONS[0])
    assert "NotFoundError" not in server.log.read_text() and "Traceback" not in server.log.read_text()
    print(
        f"\ncli rebuild: {len(answers)} answers, {len(overlapping)} overlapping the {ended - started:.1f} s "
        "rebuild, 0 errors",
        file=sys.stderr,
    )


def test_after_a_cli_rebuild_uploads_and_cli_syncs_are_indexed(server: Server, tmp_path: Path) -> None:
    from gradio_client import handle_file

    article = tmp_path / "montenegro-naval-centre.txt"
    article.write_text(NEW_ARTICLE, encoding="utf-8")
    message, *_ = _client(server).predict([handle_file(str(article))], api_name="/upload")
    assert "Added montenegro-naval-centre.txt" in message, message
    asked = _client(server).predict("Where did Montenegro open a naval training centre?", api_name="/ask")
    assert _cited(asked, "montenegro-naval-centre.txt"), asked

    (server.corpus / "zrnovo-goat.txt").write_text(ZRNOVO, encoding="utf-8")  # dropped into the folder
    result = _cli(server, "index", "--json")  # an incremental sync, handed to the server as well
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["added"], summary["documents"]) == (1, 7), summary
    asked = _client(server).predict("Who did Zrnovo elect as honorary mayor?", api_name="/ask")
    assert _cited(asked, "zrnovo-goat.txt"), asked


def test_a_second_server_on_the_same_data_folder_is_refused(server: Server) -> None:
    result = _cli(server, "serve", "--port", "1")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "already serves the index" in result.stderr
    assert f"pid {server.process.pid}" in result.stderr and "Traceback" not in result.stderr


# -- 6. a document that writes its own citation marker ---------------------------------------------------------
def test_a_literal_marker_in_an_article_is_shown_as_text(server: Server) -> None:
    messages, sources, _, _ = _client(server).predict("Who did Zrnovo elect as honorary mayor?", [], api_name="/chat")
    html = str(messages[-1]["content"])
    assert "zrnovo-goat.txt" in sources
    assert "honorary mayor [1] on Monday" in html, html  # the article's "[1]", as text
    markers = html.count('<sup class="cite"')
    assert markers == html.count("</sup>") and markers >= 1
    assert "[1]</a></sup> on Monday" not in html


# -- 2, 7. uploads: over the index's limit, a batch with a wrong type, undecodable bytes, modes -----------------
def test_an_upload_the_index_would_skip_is_refused_not_added(server: Server, tmp_path: Path) -> None:
    from gradio_client import handle_file

    big = tmp_path / "long-report.txt"  # QA_MAX_FILE_MB is 0.1 here, QA_MAX_UPLOAD_MB the default 20
    big.write_text("Montenegro's navy trained divers in Bar. " * 5000, encoding="utf-8")
    message, status, table, _, _ = _client(server).predict([handle_file(str(big))], api_name="/upload")
    assert "Added" not in message and "long-report.txt" in message and "QA_MAX_FILE_MB" in message, message
    assert "0.1 MB" in message
    assert not (server.corpus / "long-report.txt").exists() and "long-report.txt" not in table
    assert "<b>7</b> documents" in status


def test_a_batch_with_one_refused_file_adds_the_others(server: Server, tmp_path: Path) -> None:
    from gradio_client import handle_file

    good = tmp_path / "harbour-news.txt"
    good.write_text("Harbour News\nThe port of Kotor opened a new ferry pier on Friday.\n", encoding="utf-8")
    bad = tmp_path / "tool.exe"
    bad.write_bytes(b"MZ\x90\x00")
    noise = tmp_path / "noise.txt"
    noise.write_bytes(bytes(range(0x80, 0x100)) * 48)  # 6 KB that Latin-1 would "decode" into 100 chunks
    message, status, table, _, _ = _client(server).predict(
        [handle_file(str(good)), handle_file(str(bad)), handle_file(str(noise))], api_name="/upload"
    )
    assert "Added harbour-news.txt" in message, message
    assert "&#x27;.exe&#x27; files are not accepted" in message and "above 0x7F" in message, message
    assert "harbour-news.txt" in table and "<b>8</b> documents" in status
    assert not (server.corpus / "tool.exe").exists() and not (server.corpus / "noise.txt").exists()
    umask = os.umask(0)
    os.umask(umask)
    modes = {p.name: p.stat().st_mode & 0o777 for p in server.corpus.iterdir()}
    assert modes["harbour-news.txt"] == 0o666 & ~umask == modes[EXAMPLE_SOURCE]  # like the corpus's own files


def test_delete_through_the_api_needs_no_listing_first(server: Server) -> None:
    fresh = _client(server)  # /overview never called in this session
    message, _, table, _ = fresh.predict("harbour-news.txt", api_name="/delete")
    assert "Deleted harbour-news.txt" in message and "harbour-news.txt" not in table, message
    assert not (server.corpus / "harbour-news.txt").exists()
    message, *_ = fresh.predict("../data/catalog.sqlite3", api_name="/delete")
    assert "nothing was deleted" in message and (server.corpus.parent / "data" / "catalog.sqlite3").exists()


# -- 4. nothing uploaded can be fetched back -----------------------------------------------------------------
def test_uploaded_files_cannot_be_fetched_back(server: Server, tmp_path: Path) -> None:
    folder = _upload_folder(server)
    # Every upload above was deleted once handled (Gradio leaves an empty temporary file per upload: no content).
    assert [p for p in folder.rglob("*") if p.is_file() and p.stat().st_size] == []
    host, port = "127.0.0.1", int(server.url.rsplit(":", 1)[1].strip("/"))
    connection = http.client.HTTPConnection(host, port, timeout=60)
    boundary = "qa-test-boundary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="zrnovo-copy.txt"\r\n'
        f"Content-Type: text/plain\r\n\r\n{ZRNOVO}\r\n--{boundary}--\r\n"
    ).encode()
    connection.request(
        "POST", "/gradio_api/upload", body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    )
    (cached,) = json.loads(connection.getresponse().read())  # in the cache, never handed to the app
    assert Path(cached).is_relative_to(folder) and Path(cached).exists()
    for path in (cached, urllib.parse.quote(cached), str(server.corpus / "zrnovo-goat.txt")):
        connection.request("GET", f"/gradio_api/file={path}")
        response = connection.getresponse()
        served = response.read()
        assert response.status in (403, 404) and b"Bruno" not in served, (path, response.status)
    connection.request("GET", f"/gradio_api/file={cached}")
    assert connection.getresponse().status == 404
    message, *_ = _client(server).predict("zrnovo-goat.txt", api_name="/delete")
    assert "Deleted zrnovo-goat.txt" in message


# -- 3. questions that are not text --------------------------------------------------------------------------
def test_lone_surrogates_and_invalid_utf8_get_a_clear_message(server: Server) -> None:
    (result,) = _raw_call(server, "ask", ["\ud800 " + EXAMPLE, []])
    assert set(result) == {"error"} and "not valid text" in result["error"] and "U+D800" in result["error"]
    messages, _, _, notice, _, _ = _raw_call(server, "chat", ["\udce9" + EXAMPLE, [], [], None])
    assert messages == [] and "not valid text" in notice
    (history_only,) = _raw_call(server, "ask", [EXAMPLE, ["\ud800 and Serbia?"]])  # a bad earlier turn is ignored
    assert _cited(history_only), history_only
    asked = _cli(server, "ask", b"Caf\xe9 near the ministry: what did Croatia say about military blocs?")
    assert asked.returncode == 1 and asked.stdout == ""
    assert asked.stderr.count("\n") == 1 and "not valid text" in asked.stderr and "U+DCE9" in asked.stderr
    log = server.log.read_text()
    assert "TypeError" not in log and "Traceback" not in log


# -- 5. the login --------------------------------------------------------------------------------------------
def _post_login(url: str, username: str, password: str) -> tuple[int, str, str]:
    data = urllib.parse.urlencode({"username": username, "password": password}).encode()
    try:
        with urllib.request.urlopen(urllib.request.Request(url + "login", data=data), timeout=120) as response:
            return response.status, response.read().decode(), response.headers.get("set-cookie", "")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(), ""


def _get(url: str, cookie: str = "") -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_logins_are_exact_slow_down_and_lock_out(tmp_path: Path) -> None:
    server = start_server(tmp_path, {"QA_AUTH": "ana:s3cr:et"})
    try:
        status, page = _get(server.url)
        assert status == 200 and '"auth_required":true' in page
        assert "window.gradio_api_info = null;" in page and "named_endpoints" not in page  # nothing before login
        assert _get(server.url + "gradio_api/info")[0] == 401
        assert _post_login(server.url, "ana ", "s3cr:et")[0] == 400  # a trailing space is another user
        assert _post_login(server.url, " ana", "s3cr:et")[0] == 400
        status, _, cookie = _post_login(server.url, "ana", "s3cr:et")
        assert status == 200 and "access-token" in cookie
        assert "named_endpoints" in _get(server.url, cookie.split(";")[0])[1]  # logged in: the API is described
        assert _cited(_client(server, auth=("ana", "s3cr:et")).predict(EXAMPLE, api_name="/ask"))

        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=12) as pool:  # 12 guesses at once
            guesses = list(pool.map(lambda i: _post_login(server.url, "ana", f"guess{i}"), range(12)))
        elapsed = time.monotonic() - started
        statuses = sorted(status for status, _, _ in guesses)
        assert statuses.count(400) == 5 and statuses.count(429) == 7, statuses  # 5 tries, then locked out
        assert elapsed >= 3.0, f"12 wrong passwords answered in {elapsed:.1f} s: no slowing down"
        status, body, _ = _post_login(server.url, "ana", "s3cr:et")  # even the right one, for a while
        assert status == 429 and "Too many failed logins; try again in" in body
        print(f"\nlogin: 12 parallel guesses took {elapsed:.1f} s, then locked out: {body}", file=sys.stderr)
    finally:
        stop_server(server)


# -- 7. after a crash, or with no index yet, the server serves first and builds in the background ----------
def test_the_server_serves_while_it_builds_its_index_and_its_workers_die_with_it(tmp_path: Path) -> None:
    env = {"QA_TEST_PAUSE_AFTER": "flush:3", "QA_TEST_FLUSH_CHUNKS": "20", "QA_ANSWER_WORKERS": "2"}
    server = start_server(tmp_path, env)
    try:
        client = _client(server)
        status, _, _ = client.predict(api_name="/overview")
        assert "Bringing the index up to date" in status, status  # answering HTTP before the index is built
        assert _cited(client.predict(EXAMPLE, api_name="/ask"))  # it waited for the build
        status, _, _ = client.predict(api_name="/overview")
        assert "<b>5</b> documents" in status and "qa-status-busy" not in status
        log = server.log.read_text()
        assert log.index("Running on local URL") < log.index("the index is up to date")
        deadline = time.monotonic() + 120
        while len(psutil.Process(server.process.pid).children()) < 2 and time.monotonic() < deadline:
            time.sleep(0.5)
        children = psutil.Process(server.process.pid).children(recursive=True)
    finally:
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(timeout=30)
    _, alive = psutil.wait_procs(children, timeout=30)
    assert children and not alive, f"answer workers outlived a killed server: {alive}"


# -- 1, 2 with a `chroma run` server --------------------------------------------------------------------------
def test_with_a_chroma_server_a_replaced_collection_and_a_failed_upload(
    tmp_path: Path, embedder: MiniLMEmbedder
) -> None:
    from gradio_client import handle_file

    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "corpus", corpus)
    chroma_path = tmp_path / "chroma-db"
    chroma = ChromaServer(chroma_path).start()
    server: Server | None = None
    try:
        server = launch_server(tmp_path, tmp_path / "data", corpus, "serve", QA_CHROMA_URL=chroma.url)
        client = _client(server)
        assert _cited(client.predict(EXAMPLE, api_name="/ask"))
        # A process that bypasses the server (another data folder, the same collection) drops and rebuilds it.
        elsewhere = CorpusIndex(
            Settings(data_dir=tmp_path / "elsewhere", corpus_dir=corpus, chroma_url=chroma.url), embedder=embedder
        )
        elsewhere.sync(rebuild=True)
        assert _cited(client.predict(EXAMPLE, api_name="/ask"))  # the server opened the new collection
        assert "replaced by another process" in server.log.read_text()
        result = _cli(server, "index", "--rebuild", "--json", QA_CHROMA_URL=chroma.url)  # handed over, as embedded
        assert result.returncode == 0 and "serves this index" in result.stderr, result.stderr
        assert _cited(client.predict(EXAMPLE, api_name="/ask"))

        chroma.stop()
        article = tmp_path / "montenegro-naval-centre.txt"
        article.write_text(NEW_ARTICLE, encoding="utf-8")
        message, *_ = client.predict([handle_file(str(article))], api_name="/upload")
        assert "Added" not in message and "could not be updated" in message, message
        assert not (corpus / "montenegro-naval-centre.txt").exists()  # not left behind unindexed
        chroma = ChromaServer(chroma_path, port=chroma.port).start()
        message, *_ = client.predict([handle_file(str(article))], api_name="/upload")
        assert "Added montenegro-naval-centre.txt" in message, message
        asked = client.predict("Where did Montenegro open a naval training centre?", api_name="/ask")
        assert _cited(asked, "montenegro-naval-centre.txt"), asked
    finally:
        if server is not None:
            stop_server(server)
        chroma.stop()
