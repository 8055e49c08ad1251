"""Watching the corpus folder: the watcher on a real folder (real inotify through watchfiles), the chat backend
over a real index, and a real ``qa serve`` asked through gradio_client while files come and go."""

from __future__ import annotations

import queue
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_load import NEW_ARTICLE, QUESTIONS, KeepAsking
from test_ui_server import Server, serving

from index.embedding import MiniLMEmbedder
from index.settings import Settings
from index.watching import ChangeBatch, CorpusWatcher, relevant
from ui.backend import ChatBackend
from ui.render import live_html

NEW_NAME = "montenegro-naval-centre.txt"
NEW_QUESTION = "Where did Montenegro open a naval training centre?"
ANSWERABLE_WITHIN_S = 10.0  # the promise: a file written into the folder is answerable within 10 s
TEMPORARY_NAMES = (
    ".article.txt.swp",  # vim
    ".#article.txt",  # emacs lock
    "#article.txt#",  # emacs autosave
    "article.txt~",  # backup
    "~$report.docx",  # Office lock file
    "article.txt.part",  # download in progress
    "article.txt.crdownload",
    "notes.tmp",
    "4913",  # vim's probe that it may write in the folder
)


class Batches:
    """What a watcher delivered, in order; ``hold_s`` makes each delivery as slow as a sync."""

    def __init__(self, hold_s: float = 0.0) -> None:
        self.hold_s = hold_s
        self.items: queue.Queue[ChangeBatch] = queue.Queue()

    def __call__(self, batch: ChangeBatch) -> None:
        self.items.put(batch)
        time.sleep(self.hold_s)

    def next(self, timeout: float) -> ChangeBatch | None:
        try:
            return self.items.get(timeout=timeout)
        except queue.Empty:
            return None

    def drain(self, quiet_s: float) -> list[ChangeBatch]:
        """Every batch until none has come for ``quiet_s``."""
        found = []
        while (batch := self.next(quiet_s)) is not None:
            found.append(batch)
        return found


@pytest.fixture
def watched(tmp_path: Path) -> Iterator[tuple[Path, Batches, CorpusWatcher]]:
    folder = tmp_path / "corpus"
    folder.mkdir()
    batches = Batches()
    watcher = CorpusWatcher(folder, batches, had_documents=lambda name: name == "old-folder")
    assert watcher.start(wait_s=30), watcher.state.error
    first = batches.next(10)
    assert first is not None and first.catch_up and not first.paths  # catches up with what changed while unwatched
    yield folder, batches, watcher
    watcher.stop()


def test_what_can_change_the_index(tmp_path: Path) -> None:
    root = tmp_path
    (root / "folder").mkdir()
    assert relevant(root / "a.txt", root, False, lambda f: False)
    assert relevant(root / "sub" / "b.PDF", root, True, lambda f: False)
    assert relevant(root / "folder", root, False, lambda f: False)  # a folder moved in
    assert relevant(root / "old", root, True, lambda f: f == "old")  # a folder that held documents, moved away
    assert not relevant(root / "old", root, True, lambda f: False)  # a file of another kind, removed
    assert not relevant(root / "picture.jpg", root, False, lambda f: True)
    assert not relevant(root / ".hidden" / "a.txt", root, False, lambda f: True)
    for name in TEMPORARY_NAMES:
        assert not relevant(root / name, root, False, lambda f: True), name
        assert not relevant(root / name, root, True, lambda f: False), name
    assert not relevant(tmp_path.parent / "elsewhere.txt", root, False, lambda f: True)


def test_a_saved_file_is_one_batch_and_editors_temporary_files_none(
    watched: tuple[Path, Batches, CorpusWatcher],
) -> None:
    folder, batches, _ = watched
    for name in TEMPORARY_NAMES:  # an editor at work: swap files, locks, backups, a download in progress
        (folder / name).write_text("draft\n", encoding="utf-8")
    (folder / "4913").unlink()
    assert batches.next(2.0) is None, "temporary files must not trigger a sync"

    # An editor's save: write a temporary file, then rename it over the name.
    (folder / ".article.txt.tmp1234").write_text("Saved\nThe text.\n", encoding="utf-8")
    (folder / ".article.txt.tmp1234").rename(folder / "article.txt")
    batch = batches.next(10)
    assert batch is not None and batch.paths == ("article.txt",), batch
    assert batches.next(1.5) is None

    (folder / "article.txt").unlink()
    batch = batches.next(10)
    assert batch is not None and batch.deleted == ("article.txt",)


def test_a_removed_folder_that_held_documents_is_a_change(watched: tuple[Path, Batches, CorpusWatcher]) -> None:
    folder, batches, _ = watched
    for name in ("old-folder", "empty-folder"):
        (folder / name).mkdir()
    assert [b.paths for b in batches.drain(1.5)] == [("empty-folder", "old-folder")]  # folders moved in
    (folder / "empty-folder").rmdir()
    assert batches.next(1.5) is None  # held no documents: nothing to sync
    (folder / "old-folder").rename(folder.parent / "moved-away")
    batch = batches.next(10)
    assert batch is not None and batch.deleted == ("old-folder",)


def test_a_burst_of_a_thousand_files_is_one_batch_not_a_thousand_syncs(tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    batches = Batches(hold_s=1.0)  # each delivery takes as long as a sync: changes meanwhile wait for the next
    watcher = CorpusWatcher(folder, batches)
    assert watcher.start(wait_s=30)
    try:
        assert batches.next(10) is not None  # the catch-up
        names = {f"article-{i:04d}.txt" for i in range(1000)}
        for name in sorted(names):
            (folder / name).write_text(f"Article {name}\nSome text about {name}.\n", encoding="utf-8")
        found = batches.drain(3.0)
    finally:
        watcher.stop()
    assert set().union(*(set(b.paths) for b in found)) == names
    # One batch; two when the copy stalls for longer than the quiet spell on a busy machine.
    print(f"\n1,000 files: {len(found)} batch(es) of {[len(b.paths) for b in found]}", file=sys.stderr)
    assert len(found) <= 2, [len(b.paths) for b in found]


# -- the chat backend over a real index ---------------------------------------------------------------------
def _cites(answer: Any, source: str) -> bool:
    return not answer.refused and source in {c.source for c in answer.citations}


def test_the_backend_indexes_a_dropped_file_and_forgets_a_removed_one(
    settings: Settings, embedder: MiniLMEmbedder
) -> None:
    backend = ChatBackend.start(settings, embedder)
    try:
        backend.watch()
        deadline = time.monotonic() + 30
        while not backend.live().watching and time.monotonic() < deadline:
            time.sleep(0.1)
        assert backend.live().watching, backend.live()
        assert not _cites(backend.answer(NEW_QUESTION), NEW_NAME)

        (settings.corpus_dir / NEW_NAME).write_text(NEW_ARTICLE, encoding="utf-8")
        written = time.monotonic()
        while not _cites(backend.answer(NEW_QUESTION), NEW_NAME):
            assert time.monotonic() - written < ANSWERABLE_WITHIN_S, backend.live()
            time.sleep(0.2)
        news = backend.live().news
        assert news is not None and news.added == (NEW_NAME,)
        assert f"answerable now: {NEW_NAME}" in live_html(backend.live())

        (settings.corpus_dir / NEW_NAME).unlink()
        removed = time.monotonic()
        while _cites(backend.answer(NEW_QUESTION), NEW_NAME):
            assert time.monotonic() - removed < ANSWERABLE_WITHIN_S, backend.live()
            time.sleep(0.2)
        news = backend.live().news
        assert news is not None and news.removed == (NEW_NAME,)
        assert "removed, no longer cited" in live_html(backend.live())

        (settings.corpus_dir / "broken.txt").write_bytes(b"\x00\x01\x02 binary")
        deadline = time.monotonic() + ANSWERABLE_WITHIN_S
        while not ((news := backend.live().news) and news.skipped) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert news is not None and [s.doc_id for s in news.skipped] == ["broken.txt"]
        assert "not indexed: broken.txt (it looks binary" in live_html(backend.live())
    finally:
        backend.close()


# -- a real qa serve -------------------------------------------------------------------------------------------
def _client(server: Server) -> Any:
    from gradio_client import Client

    return Client(server.url, verbose=False)


def _source_cited(result: dict[str, Any], source: str) -> bool:
    return "error" not in result and not result["refused"] and source in {c["source"] for c in result["citations"]}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serving(tmp_path_factory.mktemp("watch-server")) as running:
        yield running


@pytest.mark.server
def test_a_file_written_into_the_served_corpus_is_answerable_within_ten_seconds(server: Server) -> None:
    probe = _client(server)
    assert not _source_cited(probe.predict(NEW_QUESTION, api_name="/ask"), NEW_NAME)
    asking = KeepAsking(lambda: _client(server))
    try:
        time.sleep(1.0)  # questions are flowing before the file arrives
        (server.corpus / NEW_NAME).write_text(NEW_ARTICLE, encoding="utf-8")  # no upload, no qa index, no click
        written = time.monotonic()
        while not _source_cited(probe.predict(NEW_QUESTION, api_name="/ask"), NEW_NAME):
            assert time.monotonic() - written < ANSWERABLE_WITHIN_S, probe.predict(api_name="/live")
            time.sleep(0.2)
        answerable_s = time.monotonic() - written
        assert f"answerable now: {NEW_NAME}" in probe.predict(api_name="/live")

        (server.corpus / NEW_NAME).unlink()
        removed = time.monotonic()
        while _source_cited(probe.predict(NEW_QUESTION, api_name="/ask"), NEW_NAME):
            assert time.monotonic() - removed < ANSWERABLE_WITHIN_S, probe.predict(api_name="/live")
            time.sleep(0.2)
        forgotten_s = time.monotonic() - removed
        assert f"removed, no longer cited: {NEW_NAME}" in probe.predict(api_name="/live")
        time.sleep(0.5)
    finally:
        asking.stop()

    answers, failures = asking.answers, asking.failures
    assert not failures, failures[:5]
    errors = [(q, a) for _, _, q, a in answers if "error" in a]
    assert not errors, errors[:3]
    assert len(answers) >= 10, "questions must have been asked while the file came and went"
    assert all(_source_cited(a, "003_0a3dde30e4285642.txt") for _, _, q, a in answers if q == QUESTIONS[0])
    assert "Traceback" not in server.log.read_text()
    print(
        f"\nwatch: answerable {answerable_s:.1f} s after the write, not cited {forgotten_s:.1f} s after the removal; "
        f"{len(answers)} questions answered meanwhile, 0 errors",
        file=sys.stderr,
    )


BURST = 100  # small articles copied in at once (fewer than 256: the server embeds them without loading torch)
BURST_QUESTION = "Which harbour did the patrol boat Kestrelwing visit?"


@pytest.mark.server
def test_a_burst_is_one_sync_and_editors_temporary_files_stay_out_of_the_served_index(server: Server) -> None:
    client = _client(server)
    names = [f"burst-{i:03d}.txt" for i in range(BURST)]
    for i, name in enumerate(names):
        extra = " The patrol boat Kestrelwing visited the harbour of Bar." if i == 0 else ""
        (server.corpus / name).write_text(
            f"Convoy report {i:03d}\nLogistics convoy {i:03d} crossed the Drina valley on schedule.{extra}\n",
            encoding="utf-8",
        )
    for name in TEMPORARY_NAMES:  # an editor's swap files, locks and backups, a download in progress
        (server.corpus / name).write_text(
            "Draft\nThe patrol boat Kestrelwing visited the harbour of Kotor.\n", encoding="utf-8"
        )
    seen: set[str] = set()  # every status line shown while the burst is indexed
    deadline = time.monotonic() + 120
    while "answerable now: burst-000.txt" not in (live := client.predict(api_name="/live")):
        seen.add(live)
        assert time.monotonic() < deadline, sorted(seen)
        time.sleep(0.1)
    # One sync of the whole burst: the last index change added all of it (a second sync would have its own
    # news), and every "Indexing" line seen named all of it.
    assert f"answerable now: burst-000.txt, burst-001.txt, burst-002.txt and {BURST - 3} more" in live, live
    indexing = {line for line in seen if "Indexing" in line}
    assert all(f"Indexing {BURST} changed files" in line for line in indexing), indexing

    result = client.predict(BURST_QUESTION, api_name="/ask")
    assert _source_cited(result, "burst-000.txt"), result
    assert {c["source"] for c in result["citations"]} <= set(names), result  # not a swap file or a backup
    _, table, _ = client.predict(api_name="/overview")
    assert "burst-099.txt" in table and not [name for name in TEMPORARY_NAMES if name in table], table


@pytest.mark.server
def test_no_watch_leaves_the_folder_to_qa_index(tmp_path: Path) -> None:
    with serving(tmp_path, {"QA_WATCH": "false"}) as running:
        client = _client(running)
        assert not _source_cited(client.predict(NEW_QUESTION, api_name="/ask"), NEW_NAME)
        (running.corpus / NEW_NAME).write_text(NEW_ARTICLE, encoding="utf-8")
        time.sleep(4.0)  # several times what a watched folder takes (test above)
        assert not _source_cited(client.predict(NEW_QUESTION, api_name="/ask"), NEW_NAME)
        assert NEW_NAME not in client.predict(api_name="/live")  # (it tells of the start-up build, not of this)


def test_no_watch_flag_turns_the_watcher_off(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import ui.app
    from qa.cli import main

    served: list[Settings] = []
    monkeypatch.setattr(ui.app, "serve", lambda settings, **_: served.append(settings))
    monkeypatch.setenv("QA_DATA_DIR", str(tmp_path))
    assert main(["serve"]) == 0 and main(["serve", "--no-watch"]) == 0
    assert [s.watch for s in served] == [True, False]
