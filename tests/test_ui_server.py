"""The chat UI: its HTML formatting (pure), and the real ``qa serve`` process asked through gradio_client."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from index.settings import Settings
from index.tables import MAX_TABLE_CHARS
from qa.answering import CLOSEST_AFTER_NOTE, CLOSEST_TEXT, UNMENTIONED_TEXT
from qa.types import Answer, AnswerSentence, Citation, Restart, StreamEvent
from ui import render
from ui.app import ChatUI, launch_options

ROOT = Path(__file__).resolve().parent.parent
QA = ROOT / ".venv" / "bin" / "qa"
EXAMPLE = "what did Croatia say about military blocs?"
EXAMPLE_SOURCE = "003_0a3dde30e4285642.txt"
START_TIMEOUT = 240


# -- formatting (pure) ----------------------------------------------------------------------------------
DOC = "Intro line.\nCroatia said <b>no</b> to blocs & more. Another sentence follows here.\nEnd."
QUOTE_START = DOC.index("Croatia")
QUOTE_END = DOC.index("more.") + len("more.")


def _citation(n: int = 1, title: str = "A <script>alert(1)</script> title") -> Citation:
    passage_start = DOC.index("Croatia")
    passage_end = DOC.index("here.") + len("here.")
    return Citation(
        n=n,
        source="doc<1>.txt",
        title=title,
        quote=DOC[QUOTE_START:QUOTE_END],
        passage=DOC[passage_start:passage_end],
        start=QUOTE_START,
        end=QUOTE_END,
        date="2024-02-28",
        passage_start=passage_start,
    )


def test_sources_escape_document_text_and_mark_the_quote() -> None:
    answer = Answer(text=f"{DOC[QUOTE_START:QUOTE_END]} [1]", refused=False, citations=(_citation(),))
    html = render.sources_html(answer, lambda doc_id: DOC)
    assert "<script>" not in html and "<b>no</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "doc&lt;1&gt;.txt" in html
    marked = "<mark>Croatia said &lt;b&gt;no&lt;/b&gt; to blocs &amp; more.</mark>"
    assert html.count(marked) == 2  # in the passage and in the whole article
    assert "2024-02-28" in html and 'id="qa-source-1"' in html
    assert "Intro line." in html  # the whole article is there, not just the passage


def test_answer_links_known_markers_and_escapes_the_rest() -> None:
    answer = Answer(text="x < y [1] and [7]", refused=False, citations=(_citation(),))
    html = render.answer_html(answer, key=3)
    assert "x &lt; y" in html
    # A link (the chat's sanitiser keeps href, strips data-*) to the card of this answer's source 1.
    assert '<sup class="cite"><a class="cite-link" href="#qa-source-3-1" title="Show source 1">[1]</a></sup>' in html
    assert "[7]</a>" not in html and "[7]" in html  # an unknown number is left as text
    sources = render.sources_html(answer, lambda doc_id: DOC, key=3, question="Is x < y?")
    assert 'id="qa-source-3-1"' in sources and 'id="qa-sources-for-3"' in sources
    assert "Sources of the answer to “Is x &lt; y?”" in sources


def test_a_refusal_cites_its_closest_sentences_as_sources() -> None:
    closest = (_citation(1), replace(_citation(2), quote="Another sentence follows here."))
    refusal = Answer(
        text="The articles don't answer this directly. The closest they come: “Croatia said …” [1] “Another …” [2]",
        refused=True,
        closest=closest,
    )
    html = render.answer_html(refusal, key=1)
    assert "qa-refusal" in html and html.count('class="cite-link"') == 4  # in the text and in the source list
    assert 'href="#qa-source-1-1"' in html and 'href="#qa-source-1-2"' in html
    sources = render.sources_html(refusal, lambda doc_id: DOC, key=1)
    assert 'id="qa-source-1-1"' in sources and 'id="qa-source-1-2"' in sources
    assert "they do not answer the question directly" in sources
    assert "<mark>Another sentence follows here.</mark>" in sources
    # a refusal with nothing close has no cards
    assert "No sources" in render.sources_html(Answer(text="The documents don't say.", refused=True), lambda d: DOC)


def test_a_marker_inside_a_closest_quote_is_the_articles_text() -> None:
    quote = "The mayor [2] said the pier is open."  # an article that writes its own "[2]"
    closest = (replace(_citation(1), quote=quote), replace(_citation(2), quote="Another sentence follows here."))
    refusal = Answer(
        text=f"{CLOSEST_TEXT} “{quote}” [1] “Another sentence follows here.” [2]",
        refused=True,
        closest=closest,
        sentences=(AnswerSentence(quote, (1,)), AnswerSentence("Another sentence follows here.", (2,))),
    )
    html = render.answer_html(refusal, key=4)
    assert html.count('href="#qa-source-4-2"') == 2  # the real [2]: after its quote and in the source list
    assert "The mayor [2] said" in html  # the article's own, as text
    assert html.index(CLOSEST_TEXT.split(":")[0].replace("'", "&#x27;")) < html.index("The mayor")


def test_a_refusal_shows_its_reason_before_the_closest_quotes() -> None:
    quote = "Albania, Kosovo, and Croatia have united to sign a joint declaration."
    refusal = Answer(
        text=f"{UNMENTIONED_TEXT.format(names='Montenegro')} {CLOSEST_AFTER_NOTE} “{quote}” [1]",
        refused=True,
        closest=(replace(_citation(1), quote=quote),),
        sentences=(AnswerSentence(quote, (1,)),),
    )
    html = render.answer_html(refusal, key=5)
    assert "The articles never mention Montenegro. The closest they come:" in html
    assert html.index("never mention Montenegro") < html.index("Albania, Kosovo")
    assert "answer this directly" not in html  # the reason stands for the general line


def test_an_articles_title_is_shown_once_and_shortened() -> None:
    long_title = "Kosovo, Albania, and Croatia are solidifying their defense pact into actionable steps, " * 2
    first, second = _citation(1, title=long_title), _citation(2, title=long_title)
    html = render.sources_html(Answer(text="a [1] b [2]", refused=False, citations=(first, second)), lambda d: DOC)
    assert html.count('class="qa-source-title"') == 1 and "Same article as [1]" in html
    shown = re.search(r'class="qa-source-title" title="[^"]*">([^<]*)<', html)
    assert shown is not None and len(shown.group(1)) <= render.CARD_TITLE_CHARS and shown.group(1).endswith("…")


TABLE_DOC = (
    "Tariffs & duties\nThe new duties are:\nGood | Duty <b>rate</b> |\n---|---|\nSteel | 25 % |\n"
    "Wine | 10 % & more |\nCheese | <script>x</script> |\nAfter the table.\n"
)


def test_a_table_is_drawn_as_a_table_with_every_row_and_escaped_cells() -> None:
    start = TABLE_DOC.index("Wine")
    end = TABLE_DOC.index("more |") + len("more |")
    html = render.highlighted(TABLE_DOC, start, end)
    assert html.count("<table") == 1 and html.count("<tr") == 4  # the header and every row
    assert "<th>Duty &lt;b&gt;rate&lt;/b&gt;</th>" in html and "<td>&lt;script&gt;x&lt;/script&gt;</td>" in html
    assert '<tr class="qa-marked"><td><mark>Wine</mark></td><td><mark>10 % &amp; more</mark></td></tr>' in html
    assert "---" not in html and "|" not in html  # no raw Markdown left
    assert html.startswith("Tariffs &amp; duties\nThe new duties are:\n<div") and html.endswith(
        "</div>After the table.\n"
    )
    # A passage that cuts into the table still shows it as a table, with its header.
    row = replace(
        _citation(),
        quote="Steel | 25 % |",
        passage="Steel | 25 % |",
        start=TABLE_DOC.index("Steel"),
        end=TABLE_DOC.index("Steel") + 14,
        passage_start=TABLE_DOC.index("Steel"),
    )
    passage = render.passage_html(row, TABLE_DOC)
    assert "<th>Good</th>" in passage and "<mark>Steel</mark>" in passage and passage.count("<tr") == 2
    # An answer that quotes the table draws it too.
    answer = Answer(
        text=TABLE_DOC[TABLE_DOC.index("Good") : TABLE_DOC.index("After") - 1] + " [1]",
        refused=False,
        citations=(_citation(),),
        sentences=(AnswerSentence(TABLE_DOC[TABLE_DOC.index("Good") : TABLE_DOC.index("After") - 1], (1,)),),
    )
    assert render.answer_html(answer).count("<tr") == 4


def test_a_bracketed_number_in_a_quoted_sentence_stays_text() -> None:
    quote = "The goat was elected mayor [1] and will sit on the council [2]."
    cited = replace(_citation(), quote=quote)
    answer = Answer(text=f"{quote} [1]", refused=False, citations=(cited,), sentences=(AnswerSentence(quote, (1,)),))
    html = render.answer_html(answer)
    assert html.count('<sup class="cite"') == 1  # the citation, and nothing the document wrote
    assert "mayor [1] and will sit on the council [2]. " in html and html.endswith("</ol></div>")


def test_refusal_and_unsupported_sentences_look_different() -> None:
    refusal = render.answer_html(Answer(text="The documents don't say.", refused=True))
    assert "qa-refusal" in refusal and "No answer in the documents" in refusal
    generative = Answer(
        text="Supported. Invented.",
        refused=False,
        citations=(_citation(),),
        sentences=(AnswerSentence("Supported.", (1,)), AnswerSentence("Invented.", (1,), supported=False)),
        mode="generative",
        notice="the language model was slow",
    )
    html = render.answer_html(generative)
    assert html.count("qa-unsupported-label") == 1 and "not supported by the sources" in html
    assert html.index("Invented.") > html.index('class="qa-unsupported"')
    assert "the language model was slow" in html


class _Restarting:
    """A backend whose answer starts over (generative mode asking the model again) halfway through."""

    gate = type("Gate", (), {"rebuilding": False})()

    def validate(self, question: str) -> str:
        return question

    def stream(self, question: str, history: list[str]) -> Iterator[StreamEvent]:
        yield from ["The moon is made ", "of green cheese."]
        yield Restart("Asking the model again…")
        yield from ["Croatia said ", "no."]
        yield Answer(
            "Croatia said no. [1]", False, (_citation(),), sentences=(AnswerSentence("Croatia said no.", (1,)),)
        )

    def document_text(self, source: str) -> str:
        return DOC


def test_a_restarted_answer_shows_the_status_and_drops_the_withdrawn_text() -> None:
    # What the conversation's last message shows at each step (the handler updates one list in place).
    shown = [step[0][-1]["content"] for step in ChatUI(_Restarting()).chat("What did Croatia say?", [], [])]  # type: ignore[arg-type]

    at = next(i for i, html in enumerate(shown) if "Asking the model again" in html)
    assert "green cheese" in shown[at - 1] and "green cheese" not in "".join(shown[at:])
    assert "qa-stream-status" in shown[at] and "Croatia said no." in shown[-2] and "Asking" in shown[-2]
    assert "qa-streaming" not in shown[-1] and "Asking" not in shown[-1] and "Croatia said no." in shown[-1]


def test_highlight_falls_back_when_offsets_are_stale() -> None:
    cited = _citation()
    moved = "New first paragraph.\n" + DOC
    html = render.article_html(moved, cited)  # the offsets no longer match: the quote is found by text
    assert "<mark>Croatia said &lt;b&gt;no&lt;/b&gt; to blocs &amp; more.</mark>" in html
    assert "<mark>" not in render.article_html("Entirely different text.", cited)


def test_launch_is_local_by_default_and_auth_turns_on_a_login(tmp_path: Path) -> None:
    plain = launch_options(Settings(data_dir=tmp_path), None, None)
    assert plain["server_name"] == "127.0.0.1" and plain["server_port"] == 7860 and "auth" not in plain
    assert plain["share"] is False and plain["ssr_mode"] is False
    assert "fonts.googleapis" not in plain["css"] and "http" not in plain["js"]
    secured = launch_options(Settings(data_dir=tmp_path, auth="ana:s3cr:et"), "0.0.0.0", 9000)
    assert secured["auth"] == ("ana", "s3cr:et") and secured["server_name"] == "0.0.0.0"
    assert secured["server_port"] == 9000


# -- the real server ------------------------------------------------------------------------------------
@dataclass
class Server:
    url: str
    corpus: Path
    process: subprocess.Popen[bytes]
    log: Path
    started_in: float


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(tmp: Path, extra_env: dict[str, str] | None = None) -> Server:
    """``qa serve`` on a free port over a copy of corpus/ in ``tmp``; with no index yet, it builds one."""
    corpus = tmp / "corpus"
    shutil.copytree(ROOT / "corpus", corpus)
    return launch_server(tmp, tmp / "data", corpus, "serve", **(extra_env or {}))


def launch_server(tmp: Path, data: Path, corpus: Path, name: str, **extra_env: str) -> Server:
    """``qa serve`` on a free port over ``data`` and ``corpus``, logging to ``tmp/NAME.log``; waits until it
    answers (or fails with its log)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update(QA_DATA_DIR=str(data), QA_CORPUS_DIR=str(corpus), GRADIO_TEMP_DIR=str(tmp / "gradio"))
    env.update(extra_env)
    log = tmp / f"{name}.log"
    started = time.perf_counter()
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [str(QA), "serve", "--port", str(port)], cwd=tmp, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"qa serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url + "config", timeout=5) as response:
                if response.status == 200:
                    return Server(url, corpus, process, log, time.perf_counter() - started)
        except urllib.error.HTTPError as exc:
            if exc.code == 401:  # a login is configured: it answers
                return Server(url, corpus, process, log, time.perf_counter() - started)
            time.sleep(0.5)
        except OSError:
            time.sleep(0.5)
    process.kill()
    raise AssertionError(f"qa serve did not answer within {START_TIMEOUT} s:\n{log.read_text()}")


@contextmanager
def serving(tmp: Path, extra_env: dict[str, str] | None = None) -> Iterator[Server]:
    """``start_server`` for the length of a ``with`` block, stopped however it ends."""
    if not QA.exists():
        pytest.fail(f"{QA} is missing; run `make install`")
    running = start_server(tmp, extra_env)
    try:
        yield running
    finally:
        stop_server(running)


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(timeout=20)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serving(tmp_path_factory.mktemp("ui-server")) as running:
        print(f"qa serve answered after {running.started_in:.1f} s", file=sys.stderr)
        yield running


@pytest.fixture(scope="module")
def client(server: Server) -> object:
    from gradio_client import Client

    return Client(server.url, verbose=False)


@pytest.mark.server
def test_server_builds_the_index_at_start_and_binds_to_localhost(server: Server) -> None:
    assert (server.log.parent / "data" / "catalog.sqlite3").exists()
    assert "127.0.0.1" in server.log.read_text()
    try:  # the address of the default route's interface (a UDP connect sends nothing)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("10.255.255.255", 1))
            other = probe.getsockname()[0]
    except OSError:
        other = "127.0.0.1"
    if other.startswith("127."):
        pytest.skip("this machine has no address other than loopback to check")
    with socket.socket() as sock:  # nothing listens on the other interfaces
        sock.settimeout(2)
        assert sock.connect_ex((other, int(server.url.rsplit(":", 1)[1].strip("/")))) != 0


@pytest.mark.server
def test_ask_endpoint_answers_with_a_cited_source(client: object) -> None:
    result = client.predict(EXAMPLE, api_name="/ask")  # type: ignore[attr-defined]
    assert result["refused"] is False
    assert "[1]" in result["answer"]
    first = result["citations"][0]
    assert first["n"] == 1 and first["source"] == EXAMPLE_SOURCE
    assert first["quote"] in result["answer"] and first["quote"] in first["passage"]
    assert result["sources"][0].startswith("[1] ") and EXAMPLE_SOURCE in result["sources"][0]


@pytest.mark.server
def test_chat_endpoint_streams_into_the_conversation_with_sources(client: object) -> None:
    messages, sources, notice, box = client.predict(EXAMPLE, [], api_name="/chat")  # type: ignore[attr-defined]
    assert [m["role"] for m in messages] == ["user", "assistant"]
    answer_html = (
        messages[1]["content"][0]["text"] if isinstance(messages[1]["content"], list) else messages[1]["content"]
    )
    assert (
        '<sup class="cite"><a class="cite-link" href="#qa-source-1-1" title="Show source 1">[1]</a></sup>'
        in answer_html
    )
    assert EXAMPLE_SOURCE in sources and "<mark>" in sources and "Open the whole article" in sources
    assert 'id="qa-source-1-1"' in sources  # the answer's place in the conversation names its cards
    assert notice == "" and box == ""


@pytest.mark.server
def test_empty_and_overlong_questions_get_a_clear_message(client: object) -> None:
    messages, _, notice, _ = client.predict("   ", [], api_name="/chat")  # type: ignore[attr-defined]
    assert messages == [] and "The question is empty" in notice
    _, _, notice, _ = client.predict("why " * 1000, [], api_name="/chat")  # type: ignore[attr-defined]
    assert "the limit is 2,000" in notice
    assert client.predict("", api_name="/ask") == {  # type: ignore[attr-defined]
        "error": "The question is empty; type a question about the documents."
    }


@pytest.mark.server
def test_unanswerable_question_is_a_refusal_not_an_error(client: object) -> None:
    messages, sources, notice, _ = client.predict(  # type: ignore[attr-defined]
        "What is the recipe for Peruvian ceviche with passion fruit?", [], api_name="/chat"
    )
    answer_html = str(messages[-1]["content"])
    assert "qa-refusal" in answer_html and "qa-error" not in answer_html
    assert "No sources" in sources and notice == ""


@pytest.mark.server
def test_documents_overview_and_rebuild_does_not_break_concurrent_questions(client: object) -> None:
    status, table, _ = client.predict(api_name="/overview")  # type: ignore[attr-defined]
    assert "<b>5</b> documents" in status and "all-MiniLM-L6-v2" in status and "last built" in status
    assert EXAMPLE_SOURCE in table
    rebuild = client.submit(api_name="/rebuild")  # type: ignore[attr-defined]
    answers = []
    while not rebuild.done() and len(answers) < 30:  # questions keep coming while the index is rebuilt
        answers.append(client.predict(EXAMPLE, api_name="/ask"))  # type: ignore[attr-defined]
    message, status, _, _ = rebuild.result(timeout=300)
    answers.append(client.predict(EXAMPLE, api_name="/ask"))  # type: ignore[attr-defined]
    assert "Rebuilt the index" in message and "<b>5</b> documents" in status
    for answer in answers:
        assert "error" not in answer, answer
        assert "[1]" in answer["answer"] and answer["citations"][0]["source"] == EXAMPLE_SOURCE


BAD_QUESTIONS = {
    "NUL bytes": "Which firm\x00 did Albania authorize?",
    "100,000 characters": "why " * 25_000,
    "only punctuation": "?!... ,;: ---",
    "another language": "Što je Hrvatska rekla o vojnim blokovima?",
    "markup": "<script>alert('x')</script><b>Which firm</b> did Albania authorize?",
}


@pytest.mark.server
@pytest.mark.parametrize("name", list(BAD_QUESTIONS))
def test_bad_questions_get_an_answer_or_a_clear_message(client: object, server: Server, name: str) -> None:
    result = client.predict(BAD_QUESTIONS[name], api_name="/ask")  # type: ignore[attr-defined]
    if "error" in result:
        assert result["error"].count("\n") == 0 and "Traceback" not in result["error"]
        assert "limit is 2,000" in result["error"] or "empty" in result["error"], result
    else:
        assert isinstance(result["refused"], bool) and result["answer"].strip()
        assert "<script>" not in result["answer"]
    assert "Traceback" not in server.log.read_text()


@pytest.mark.server
def test_many_abusive_uploads_at_once_are_refused_and_nothing_lands_outside(
    client: object, server: Server, tmp_path: Path
) -> None:
    from gradio_client import handle_file

    outside_before = sorted(p.name for p in server.corpus.parent.iterdir())
    batch = tmp_path / "batch"
    batch.mkdir()
    files = []
    for i in range(12):
        bad = batch / f"payload{i}.exe"
        bad.write_bytes(b"MZ\x00\x01")
        files.append(bad)
    traversal = batch / "..%2f..%2fescape.txt"
    traversal.write_text("Escapees wrote this line about the harbour.\n", encoding="utf-8")
    # Gradio itself refuses a name that starts with a dot before our handler runs (no file is kept).
    with pytest.raises(Exception, match="upstream Gradio app has raised an exception"):
        client.predict([handle_file(str(traversal))], api_name="/upload")  # type: ignore[attr-defined]
    # Each file's type is checked by the project (not by Gradio's filter, which refused whole batches): every
    # .exe is refused with a line saying which types are accepted; files over QA_MAX_UPLOAD_MB are stopped by
    # Gradio's size limit (the domain rules are in tests/test_uploads.py).
    message, *_ = client.predict([handle_file(str(f)) for f in files], api_name="/upload")  # type: ignore[attr-defined]
    assert message.count("was refused") == 12 and "&#x27;.exe&#x27; files are not accepted" in message, message
    assert ".txt" in message and "Added" not in message
    assert sorted(p.name for p in server.corpus.parent.iterdir()) == outside_before  # nothing beside the corpus
    stored = [p for p in server.corpus.rglob("*") if "escape" in p.name]
    assert all(p.resolve().is_relative_to(server.corpus.resolve()) for p in stored)
    assert not any(p.suffix == ".exe" for p in server.corpus.rglob("*"))


def test_the_readme_names_the_chats_own_labels_and_its_screenshots_exist() -> None:
    """The README's description of the chat uses the words on the page, and the screenshots it links are there."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## The chat") : readme.index("## How it works")]
    shown = "".join((ROOT / "ui" / name).read_text(encoding="utf-8") for name in ("app.py", "render.py"))
    shown += render.answer_html(Answer(text="-", refused=True))  # its label is split over two lines in render.py
    for label in (
        "Try asking",
        "New conversation",
        "Open the whole article",
        "No answer in the documents",
        "Delete document…",
        "Deleted documents",
        "Restore document",
    ):
        assert label in section and label in shown, label
    assert "QA_DATA_DIR/trash" in section and f"up to {MAX_TABLE_CHARS:,} characters" in section
    for image in re.findall(r"\((docs/[\w-]+\.png)\)", readme):
        assert (ROOT / image).is_file(), image
    assert {"docs/chat-light.png", "docs/chat-dark.png", "docs/chat-phone.png"} <= set(
        re.findall(r"\((docs/[\w-]+\.png)\)", readme)
    )
