"""Adding, deleting and restoring corpus files: sanitised names, allowed types, a size limit, nothing outside
the corpus, and nothing destroyed.

Uploads are written to a hidden temporary file in the corpus folder (``scan_corpus`` skips hidden files),
checked by parsing, then linked to their final name, which fails rather than overwrite an existing file. A
deleted file is moved to ``QA_DATA_DIR/trash`` (one folder per deletion, named for when it happened), from
which it can be restored to its old name while that name is free.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import secrets
import shutil
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from index.errors import DocumentRejectedError
from index.reading import SUPPORTED_SUFFIXES, CorpusFile, UnreadableDocument, read_document
from index.settings import Settings

MAX_NAME_CHARS = 100
ALLOWED_SUFFIXES = tuple(sorted(SUPPORTED_SUFFIXES))
_ALLOWED_TEXT = ", ".join(ALLOWED_SUFFIXES)
# A name part may keep letters and digits of any script, dots, hyphens and underscores; the rest become "_".
_UNSAFE = re.compile(r"[^\w.-]+")
_REPEATS = re.compile(r"([._-])[._-]+")
_WINDOWS_RESERVED = frozenset(
    {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}
)


@dataclass(frozen=True, slots=True)
class StoredDocument:
    """A file written into the corpus folder."""

    doc_id: str  # its path relative to the corpus, as the index names it
    path: Path
    size: int


def sanitise_file_name(name: str) -> str:
    """A safe, single-component file name for ``name``: no folders, no hidden files, no odd characters.

    Raises:
        DocumentRejectedError: the type is not one the index reads.
    """
    base = re.split(r"[/\\]", unicodedata.normalize("NFKC", name or ""))[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C")  # controls, bidi overrides
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    suffix = f".{suffix.lower()}" if suffix else ""
    if suffix not in SUPPORTED_SUFFIXES:
        shown = f"'{suffix}' files" if suffix else "Files without an extension"
        raise DocumentRejectedError(
            f"{_quote(name)} was refused: {shown} are not accepted; upload one of {_ALLOWED_TEXT}."
        )
    stem = _UNSAFE.sub("_", stem)
    stem = _REPEATS.sub(r"\1", stem).strip("._- ")
    stem = stem[: MAX_NAME_CHARS - len(suffix)].rstrip("._- ")
    if not stem or stem.lower() in _WINDOWS_RESERVED:
        stem = f"document-{hashlib.sha256(name.encode('utf-8', 'replace')).hexdigest()[:8]}"
    return stem + suffix


def size_limit(settings: Settings) -> tuple[float, str]:
    """The largest upload that will be indexed, in MB, and the setting that sets it: an upload larger than
    ``QA_MAX_FILE_MB`` would be skipped by the index, so it is refused up front."""
    if settings.max_file_mb < settings.max_upload_mb:
        return settings.max_file_mb, "QA_MAX_FILE_MB"
    return settings.max_upload_mb, "QA_MAX_UPLOAD_MB"


def check_size(name: str, size: int, max_mb: float, setting: str = "QA_MAX_UPLOAD_MB") -> None:
    """Refuse an empty file or one over the limit.

    Raises:
        DocumentRejectedError: empty, or larger than ``max_mb``.
    """
    if size <= 0:
        raise DocumentRejectedError(f"{_quote(name)} was refused: the file is empty.")
    limit = int(max_mb * 2**20)
    if size > limit:
        raise DocumentRejectedError(
            f"{_quote(name)} was refused: it is {size / 2**20:.1f} MB and the limit is {max_mb:g} MB ({setting})."
        )


def add_document(settings: Settings, source: Path, name: str | None = None) -> StoredDocument:
    """Copy the file at ``source`` into the corpus under a sanitised form of ``name`` (default: its own).

    The file is parsed before it is kept, so the corpus never gains a file the index cannot read.

    Raises:
        DocumentRejectedError: wrong type, empty, too large, unreadable, or the name is already taken.
    """
    original = name or source.name
    safe = sanitise_file_name(original)
    try:
        size = source.stat().st_size
    except OSError as exc:
        raise DocumentRejectedError(f"{_quote(original)} could not be read ({exc.strerror or exc}).") from exc
    check_size(original, size, *size_limit(settings))
    root = _corpus_root(settings)
    target = root / safe
    if target.parent != root:  # sanitise_file_name makes this impossible; kept as the last line of defence
        raise DocumentRejectedError(f"{_quote(original)} was refused: it would be written outside the corpus.")
    if target.exists() or target.is_symlink():
        raise DocumentRejectedError(
            f"{_quote(original)} was refused: a document named {safe!r} already exists; delete it first "
            "or rename the file."
        )
    temp = root / f".upload-{secrets.token_hex(8)}{target.suffix}"
    # Created like any file the user writes (0666 less the umask), not 0600 as mkstemp would: the corpus's
    # other files are readable by the group, so an uploaded one is too.
    handle = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o666)
    try:
        with os.fdopen(handle, "wb") as out, open(source, "rb") as src:
            shutil.copyfileobj(src, out)
        _check_readable(original, temp, safe)
        try:
            os.link(temp, target)  # atomic, and refuses to replace a file that appeared meanwhile
        except FileExistsError as exc:
            raise DocumentRejectedError(
                f"{_quote(original)} was refused: a document named {safe!r} already exists; delete it first."
            ) from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
    return StoredDocument(doc_id=safe, path=target, size=size)


TRASH_FOLDER = "trash"  # under QA_DATA_DIR: deleted corpus files wait there until restored
_TRASH_ENTRY = re.compile(r"\d{8}T\d{12}Z-[0-9a-f]{8}")  # 20261124T101502123456Z-1f2e3d4c: when, to the microsecond


@dataclass(frozen=True, slots=True)
class TrashedDocument:
    """A corpus file that was deleted: kept in the trash folder until it is restored (or the folder emptied)."""

    entry: str  # the trash entry's folder name: when it was deleted (UTC, to the microsecond), a random suffix
    doc_id: str  # where it came from: its path relative to the corpus
    path: Path  # the file in the trash
    deleted_at: str  # "2026-11-24 10:15:02 UTC"
    size: int


def trash_folder(settings: Settings) -> Path:
    """Where deleted documents go: ``QA_DATA_DIR/trash``, one folder per deletion."""
    return settings.data_dir.resolve() / TRASH_FOLDER


def delete_document(settings: Settings, doc_id: str) -> TrashedDocument:
    """Move the corpus file ``doc_id`` (a path relative to the corpus, as the index lists it) to the trash.

    Nothing is destroyed: ``restore_document`` puts it back, and ``QA_DATA_DIR/trash`` holds it meanwhile.

    Raises:
        DocumentRejectedError: the id points outside the corpus, at a hidden or unsupported file, or nowhere.
    """
    root = _corpus_root(settings)
    if any(unicodedata.category(ch) == "Cs" for ch in doc_id):  # not a name any file can have
        raise DocumentRejectedError(f"{_quote(doc_id)} is not a document of the corpus folder; nothing was deleted.")
    relative = PurePosixPath(doc_id.replace("\\", "/"))
    parts = relative.parts
    if (
        not parts
        or relative.is_absolute()
        or any(p in ("", ".", "..") or p.startswith(".") for p in parts)
        or relative.suffix.lower() not in SUPPORTED_SUFFIXES
    ):
        raise DocumentRejectedError(f"{_quote(doc_id)} is not a document of the corpus folder; nothing was deleted.")
    target = root.joinpath(*parts)
    # The folders on the way must stay inside the corpus even if one of them is a symlink.
    if not target.parent.resolve().is_relative_to(root):
        raise DocumentRejectedError(f"{_quote(doc_id)} is outside the corpus folder; nothing was deleted.")
    if not (target.is_file() or target.is_symlink()):
        raise DocumentRejectedError(f"There is no document {_quote(doc_id)} in the corpus folder to delete.")
    now = time.time_ns() // 1000
    entry = f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime(now // 10**6))}{now % 10**6:06d}Z-{secrets.token_hex(4)}"
    kept = trash_folder(settings) / entry / PurePosixPath(*parts)
    try:
        kept.parent.mkdir(parents=True)
        size = target.lstat().st_size
        _move(target, kept)
    except OSError as exc:
        shutil.rmtree(trash_folder(settings) / entry, ignore_errors=True)
        raise DocumentRejectedError(
            f"{_quote(doc_id)} could not be moved to the trash in {trash_folder(settings)} ({exc.strerror or exc}); "
            "nothing was deleted."
        ) from exc
    return TrashedDocument(entry, PurePosixPath(*parts).as_posix(), kept, _deleted_at(entry), size)


def trashed_documents(settings: Settings) -> list[TrashedDocument]:
    """The documents in the trash, most recently deleted first."""
    folder = trash_folder(settings)
    if not folder.is_dir():
        return []
    found: list[TrashedDocument] = []
    for entry in folder.iterdir():
        if not entry.is_dir() or not _TRASH_ENTRY.fullmatch(entry.name):
            continue
        files = [p for p in entry.rglob("*") if p.is_file() or p.is_symlink()]
        if len(files) != 1:  # not one of ours, or half-restored by hand: left alone
            continue
        kept = files[0]
        doc_id = kept.relative_to(entry).as_posix()
        found.append(TrashedDocument(entry.name, doc_id, kept, _deleted_at(entry.name), kept.lstat().st_size))
    return sorted(found, key=lambda d: d.entry, reverse=True)


def restore_document(settings: Settings, entry: str) -> StoredDocument:
    """Move the document of trash entry ``entry`` back to where it was in the corpus.

    Raises:
        DocumentRejectedError: no such entry, or a document of that name is in the corpus again.
    """
    if not _TRASH_ENTRY.fullmatch(entry or ""):
        raise DocumentRejectedError(f"{_quote(entry or '')} is not an entry of the trash; nothing was restored.")
    trashed = next((d for d in trashed_documents(settings) if d.entry == entry), None)
    if trashed is None:
        raise DocumentRejectedError(f"There is no entry {_quote(entry)} in the trash to restore.")
    root = _corpus_root(settings)
    target = root.joinpath(*PurePosixPath(trashed.doc_id).parts)
    if target.exists() or target.is_symlink():
        raise DocumentRejectedError(
            f"{_quote(trashed.doc_id)} was not restored: a document of that name is in the corpus again; "
            "delete or rename it first."
        )
    if not target.parent.resolve().is_relative_to(root):  # a folder on the way became a symlink meanwhile
        raise DocumentRejectedError(f"{_quote(trashed.doc_id)} would be restored outside the corpus folder.")
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        _move(trashed.path, target, replace=False)
    except FileExistsError as exc:
        raise DocumentRejectedError(
            f"{_quote(trashed.doc_id)} was not restored: a document of that name is in the corpus again; "
            "delete or rename it first."
        ) from exc
    shutil.rmtree(trash_folder(settings) / entry, ignore_errors=True)  # only the empty folders are left
    return StoredDocument(doc_id=trashed.doc_id, path=target, size=trashed.size)


def _move(source: Path, target: Path, *, replace: bool = True) -> None:
    """Move a file, across file systems too (the data folder and the corpus may be on different ones); with
    ``replace=False`` an existing ``target`` is never overwritten (FileExistsError)."""
    if not replace and not source.is_symlink():
        try:
            os.link(source, target)  # atomic, and refuses to replace a file that appeared meanwhile
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
        else:
            source.unlink()
            return
        temp = target.parent / f".restore-{secrets.token_hex(8)}{target.suffix}"
        try:
            shutil.copy2(source, temp)
            os.link(temp, target)
        finally:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()
        source.unlink()
        return
    if not replace and (target.exists() or target.is_symlink()):
        raise FileExistsError(str(target))
    try:
        os.rename(source, target)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        shutil.copy2(source, target, follow_symlinks=False)
        source.unlink()


def _deleted_at(entry: str) -> str:
    stamp = time.strptime(entry[:15], "%Y%m%dT%H%M%S")
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", stamp)


def _corpus_root(settings: Settings) -> Path:
    root = settings.corpus_dir.resolve()
    if not root.is_dir():
        raise DocumentRejectedError(f"The corpus folder {root} does not exist; create it or set QA_CORPUS_DIR.")
    return root


def _check_readable(original: str, path: Path, safe: str) -> None:
    try:
        read_document(CorpusFile(doc_id=safe, location=path, content_hash="", size=path.stat().st_size))
    except UnreadableDocument as exc:
        raise DocumentRejectedError(f"{_quote(original)} was refused: {exc}.") from exc


def _quote(name: str) -> str:
    """The user's file name, shortened and with control characters removed, for a message."""
    shown = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    return repr(shown if len(shown) <= 80 else shown[:77] + "…")
