"""Watching the corpus folder while ``qa serve`` runs: what changed there becomes one incremental sync.

The operating system's change notifications (inotify on Linux, FSEvents, ReadDirectoryChangesW) come through
``watchfiles``, a maintained library with a Rust core: nothing here polls the folder. Its notifier collects every
change from the moment it starts, also while a sync runs, and hands them over once no new change has come for
``quiet_ms`` (or ``max_wait_ms`` after the first one, if changes keep coming). So a burst (a thousand files copied
in) is one batch, changes made while a sync runs are the next batch, and nothing is lost in between.

A batch carries the names that changed, but what the sync does is decided by the ordinary incremental sync of
the whole folder (content hashes against the catalog, ``index.builder``): the same code, crash safety and result
as ``qa index``, whatever the notifications said (a folder renamed is one event for many documents; on some
filesystems events are coalesced or lost).

Editors' and downloaders' temporary files never trigger a sync (``is_temporary``): hidden files and folders
(``.file.swp``, ``.#file``, ``.~lock.file#``), backups ending in ``~``, Office's ``~$file.docx``, ``#file#``,
and ``.part``/``.crdownload``/``.tmp``/``.swp`` names. The scan never indexes them either (``index.reading``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from index.reading import SUPPORTED_SUFFIXES, is_temporary

log = logging.getLogger(__name__)

QUIET_MS = 400  # no new change for this long: the batch is complete (an editor's save, a copy of many files)
MAX_WAIT_MS = 5000  # changes that keep coming are synced at least this often
RETRY_S = 2.0  # after the notifier fails (the folder was removed, a watch limit was hit), start it again


@dataclass(frozen=True, slots=True)
class ChangeBatch:
    """Paths (relative to the corpus folder, ``/``-separated) that changed; empty for the catch-up batch that
    follows each start of the notifier (changes made while nothing was watching)."""

    added: tuple[str, ...] = ()
    modified: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()
    catch_up: bool = False

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(sorted({*self.added, *self.modified, *self.deleted}))

    def describe(self) -> str:
        """A few words for the status line: "3 changed files" or "new-article.txt"."""
        if self.catch_up and not self.paths:
            return "changes made while the folder was not watched"
        paths = self.paths
        return paths[0] if len(paths) == 1 else f"{len(paths):,} changed files"


@dataclass(slots=True)
class WatchState:
    """What the watcher is doing, for the UI."""

    watching: bool = False
    error: str | None = None
    batches: int = 0


def relevant(path: Path, root: Path, deleted: bool, had_documents: Callable[[str], bool]) -> bool:
    """Whether a change to ``path`` can change the index: a supported document, or a folder that holds some (or,
    when deleted, held indexed documents: ``had_documents(relative folder)``)."""
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        return False
    if not parts or any(part.startswith(".") for part in parts) or is_temporary(parts[-1]):
        return False
    if path.suffix.lower() in SUPPORTED_SUFFIXES:
        return True
    if deleted:  # a folder removed or moved away, if it held indexed documents
        return had_documents("/".join(parts))
    return path.is_dir()  # a folder created or moved in (its files come as one event on some systems)


class CorpusWatcher:
    """Calls ``on_change(batch)`` on its own thread for each batch of relevant changes under ``corpus_dir``.

    ``had_documents(folder)`` says whether a removed folder held indexed documents. ``on_change`` runs one batch
    at a time; changes arriving meanwhile make the next batch.
    """

    def __init__(
        self,
        corpus_dir: Path,
        on_change: Callable[[ChangeBatch], None],
        had_documents: Callable[[str], bool] = lambda folder: True,
        *,
        quiet_ms: int = QUIET_MS,
        max_wait_ms: int = MAX_WAIT_MS,
    ) -> None:
        if quiet_ms <= 0 or max_wait_ms < quiet_ms:
            raise ValueError(f"need 0 < quiet_ms <= max_wait_ms, got {quiet_ms} and {max_wait_ms}")
        self.corpus_dir = corpus_dir
        self.state = WatchState()
        self._on_change = on_change
        self._had_documents = had_documents
        self._quiet_ms = quiet_ms
        self._max_wait_ms = max_wait_ms
        self._stop = threading.Event()
        self._live = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, wait_s: float = 10.0) -> bool:
        """Start watching; returns once the notifier is live (True), or after ``wait_s`` (False: it keeps
        trying in the background, and ``state.error`` says why it could not start)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="qa-corpus-watcher", daemon=True)
            self._thread.start()
        return self._live.wait(wait_s)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        import watchfiles

        root = self.corpus_dir.resolve()
        while not self._stop.is_set():
            try:
                changes_seen = watchfiles.watch(
                    root,
                    watch_filter=None,  # filtered below, where a deletion can be checked against the catalog
                    debounce=self._max_wait_ms,
                    step=self._quiet_ms,
                    stop_event=self._stop,
                    rust_timeout=1000,
                    yield_on_timeout=True,  # the first yield tells that the notifier is live
                    raise_interrupt=False,
                    ignore_permission_denied=True,
                )
                first = True
                for changes in changes_seen:
                    if first:  # live now: catch up with whatever changed while nothing watched
                        first = False
                        self.state.watching, self.state.error = True, None
                        self._live.set()
                        self._deliver(ChangeBatch(catch_up=True), changes, root)
                    elif changes:
                        self._deliver(ChangeBatch(), changes, root)
            except Exception as exc:  # the folder removed, a watch limit hit: say so, and try again
                self.state.watching = False
                self.state.error = f"{type(exc).__name__}: {exc}"
                log.warning("watching %s failed (%s); trying again in %.0f s", root, self.state.error, RETRY_S)
                self._stop.wait(RETRY_S)
        self.state.watching = False

    def _deliver(self, base: ChangeBatch, changes: Iterable[tuple[object, str]], root: Path) -> None:
        from watchfiles import Change

        added: set[str] = set()
        modified: set[str] = set()
        deleted: set[str] = set()
        for change, raw in changes:
            path = Path(raw)
            is_deleted = change == Change.deleted
            if not relevant(path, root, is_deleted, self._had_documents):
                continue
            name = path.relative_to(root).as_posix()
            (deleted if is_deleted else added if change == Change.added else modified).add(name)
        if not (added or modified or deleted or base.catch_up):
            return
        batch = ChangeBatch(tuple(sorted(added)), tuple(sorted(modified)), tuple(sorted(deleted)), base.catch_up)
        self.state.batches += 1
        log.info("corpus changes: %s", batch.describe())
        try:
            self._on_change(batch)
        except Exception:  # the handler reports its own failures; the watcher goes on
            log.exception("handling corpus changes (%s) failed", batch.describe())
