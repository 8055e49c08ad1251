"""Reading the corpus: files become typed ``SourceDocument``s, or ``Skipped`` entries that say why."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import stat
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import NamedTuple

log = logging.getLogger(__name__)

TEXT_SUFFIXES = frozenset({".txt", ".md"})
SUPPORTED_SUFFIXES = frozenset({".txt", ".md", ".html", ".htm", ".pdf", ".docx"})
_ASCII = bytes(range(0x80))
_SPACE_AND_CONTROLS = bytes(range(0x21))
MAX_HIGH_BYTE_SHARE = 0.5  # of a non-UTF-8 text's visible bytes: Western prose has a few percent, dense French ~35 %
# Names editors and downloaders give files while they write them (hidden names are left out anyway).
TEMPORARY_SUFFIXES = (".part", ".crdownload", ".download", ".partial", ".tmp", ".temp", ".swp", ".swx", ".bak")


RACY_NS = 2 * 10**9  # a file changed this close to its stamp could change again without changing the stamp


class FileStamp(NamedTuple):
    """What ``stat`` said of a file when it was hashed. A file whose size, modification and change times and inode
    still match was not changed since (git trusts its index the same way), unless it was changed within
    ``RACY_NS`` of the stamp being taken: timestamps are coarse (a clock tick; 2 s on FAT), so a second write in
    the same tick could leave them as they were. Such a file is hashed again.

    A named tuple, as ``CorpusFile``: a scan of 100,000 unchanged files makes 100,000 of each, and a frozen
    dataclass costs several times a tuple to build (0.4 s of a 1.5 s no-change ``qa index`` at that size)."""

    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int
    taken_ns: int  # the wall clock when the stat was taken, before the file was read

    @classmethod
    def of(cls, info: os.stat_result) -> FileStamp:
        return cls(info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, time.time_ns())

    def matches(self, info: os.stat_result) -> bool:
        return (
            info.st_size == self.size
            and info.st_mtime_ns == self.mtime_ns
            and info.st_ctime_ns == self.ctime_ns
            and info.st_ino == self.inode
            and max(self.mtime_ns, self.ctime_ns) < self.taken_ns - RACY_NS
        )


class CorpusFile(NamedTuple):
    """A file found in the corpus, with the hash of its bytes (read before any parsing).

    ``stamp`` is what ``stat`` said when it was hashed; ``hashed`` is False when the hash was taken from the
    catalog because the stamp still matched.
    """

    doc_id: str
    location: str | os.PathLike[str]  # kept as given: a Path for each of 100,000 files would cost seconds a scan
    content_hash: str
    size: int
    stamp: FileStamp | None = None
    hashed: bool = True

    @property
    def path(self) -> Path:
        return Path(self.location)


@dataclass(frozen=True, slots=True)
class SourceDocument:
    """A parsed document: ``text`` is what chunks and citations index into."""

    doc_id: str
    file_name: str
    title: str
    date: str | None
    content_hash: str
    text: str


@dataclass(frozen=True, slots=True)
class Skipped:
    """A file left out of the index, and why."""

    doc_id: str
    reason: str


class UnreadableDocument(Exception):
    """Raised by a reader when a file cannot be turned into text; the message is the reason."""


def scan_corpus(
    corpus_dir: Path, max_bytes: int, known: Mapping[str, tuple[str, FileStamp]] | None = None
) -> tuple[list[CorpusFile], list[Skipped]]:
    """The supported files under ``corpus_dir`` (recursive, hidden and temporary ones excluded) with their hashes.

    ``known`` maps a document to the hash and stamp it was indexed with: a file whose stamp still matches is not
    read again (its ``hashed`` is False), so a scan of an unchanged corpus costs a ``stat`` per file.
    """
    files: list[CorpusFile] = []
    skipped: list[Skipped] = []
    root = corpus_dir.resolve()
    known = known or {}
    for doc_id, path, info in _walk(root, skipped):
        if not stat.S_ISREG(info.st_mode):  # a FIFO or device would block or never end
            skipped.append(Skipped(doc_id, "not a regular file"))
            continue
        size = info.st_size
        if size > max_bytes:
            reason = f"{size / 2**20:.1f} MB, larger than the {max_bytes / 2**20:g} MB limit (QA_MAX_FILE_MB)"
            skipped.append(Skipped(doc_id, reason))
            continue
        seen = known.get(doc_id)
        if seen is not None and seen[1].matches(info):
            files.append(CorpusFile(doc_id, path, seen[0], size, seen[1], hashed=False))
            continue
        stamp = FileStamp.of(info)
        try:
            with open(path, "rb") as handle:
                digest = hashlib.file_digest(handle, "sha256").hexdigest()
        except OSError as exc:
            skipped.append(Skipped(doc_id, f"cannot be read ({exc.strerror or exc})"))
            continue
        files.append(CorpusFile(doc_id, path, digest, size, stamp))
    files.sort(key=lambda f: f.doc_id)
    skipped.sort(key=lambda s: s.doc_id)
    return files, skipped


def is_temporary(name: str) -> bool:
    """Whether a file name is one an editor or a download gives a file it is still writing, or a backup: ``x~``,
    ``~$x.docx`` (Office), ``#x#`` (Emacs), ``x.part``, ``x.crdownload``, ``x.tmp``, ``x.swp``, ``x.bak``."""
    lower = name.lower()
    return (
        lower.endswith("~")
        or lower.startswith("~$")
        or (lower.startswith("#") and lower.endswith("#"))
        or lower.endswith(TEMPORARY_SUFFIXES)
    )


def _walk(root: Path, skipped: list[Skipped]) -> Iterator[tuple[str, str, os.stat_result]]:
    """``(doc_id, path, stat)`` of each supported file under ``root``, in no particular order; symlinks inside the
    corpus are followed to files (never to folders), the rest are reported in ``skipped``. Strings, not ``Path``s:
    a 100,000-file corpus is walked in well under a second of CPU."""
    base = str(root)
    pending = [""]
    while pending:
        folder = pending.pop()
        try:
            with os.scandir(os.path.join(base, folder) if folder else base) as found:
                entries = list(found)  # in the order the folder lists them; the caller sorts
        except OSError as exc:
            log.warning("cannot list %s: %s", folder or base, exc.strerror or exc)
            continue
        subfolders = []
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue
            doc_id = f"{folder}/{name}" if folder else name
            try:
                if entry.is_dir(follow_symlinks=False):
                    subfolders.append(doc_id)
                    continue
            except OSError:
                pass
            dot = name.rfind(".")
            if dot <= 0 or name[dot:].lower() not in SUPPORTED_SUFFIXES or (name[0] in "~#" and is_temporary(name)):
                continue  # unsupported, or temporary (past the suffix check, only "~$x.docx" can be)
            try:
                if entry.is_symlink():
                    target = Path(entry.path).resolve(strict=True)
                    if not target.is_file() or not target.is_relative_to(root):
                        skipped.append(Skipped(doc_id, "a symlink out of the corpus"))
                        continue
                    info = os.stat(entry.path)
                else:
                    info = entry.stat(follow_symlinks=False)
            except (OSError, RuntimeError) as exc:
                if entry.is_symlink():
                    skipped.append(Skipped(doc_id, "a broken or looping symlink"))
                else:
                    skipped.append(Skipped(doc_id, f"cannot be read ({getattr(exc, 'strerror', None) or exc})"))
                continue
            yield doc_id, entry.path, info
        pending.extend(sorted(subfolders, reverse=True))


def read_document(file: CorpusFile) -> SourceDocument:
    """Parse one corpus file.

    Raises:
        UnreadableDocument: the file is empty, binary, wrongly encoded or fails to parse.
    """
    suffix = file.path.suffix.lower()
    title: str | None = None
    if suffix in TEXT_SUFFIXES:
        text = decode_text(file.path.read_bytes())
    elif suffix in (".html", ".htm"):
        text, title = _read_html(file.path.read_bytes())
    elif suffix == ".pdf":
        text = _read_with_llama_index(file.path, "pdf")
    elif suffix == ".docx":
        text = _read_with_llama_index(file.path, "docx")
    else:
        raise UnreadableDocument(f"unsupported type {suffix!r}")
    text = normalise_text(text)
    if not text.strip():
        raise UnreadableDocument("it contains no text")
    return SourceDocument(
        doc_id=file.doc_id,
        file_name=file.path.name,
        title=title or first_line_title(text) or file.path.stem,
        date=find_date(text),
        content_hash=file.content_hash,
        text=text,
    )


def decode_text(data: bytes) -> str:
    """Decode a text file: UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252/Latin-1.

    Raises:
        UnreadableDocument: empty, binary, or not decodable as text.
    """
    if not data.strip():
        raise UnreadableDocument("the file is empty")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise UnreadableDocument(f"invalid UTF-16 ({exc.reason})") from exc
    if b"\x00" in data[:8192]:
        raise UnreadableDocument("it looks binary (NUL bytes), not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    for encoding in ("cp1252", "latin-1"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\n\r\f")
        if controls > len(text) // 1000:
            continue
        # Western text in an 8-bit encoding is mostly ASCII with a few accented letters; bytes that are mostly
        # above 0x7F decode to *something* in Latin-1 too, but that is noise, not text.
        visible = len(data.translate(None, _SPACE_AND_CONTROLS))
        if visible and len(data.translate(None, _ASCII)) > MAX_HIGH_BYTE_SHARE * visible:
            raise UnreadableDocument(
                "it is not valid UTF-8, and mostly bytes above 0x7F: not text in a Western 8-bit encoding either"
            )
        return text
    raise UnreadableDocument("it is not valid UTF-8 and does not look like Latin-1 text")


def normalise_text(text: str) -> str:
    """Unify line endings and drop NUL and other control characters, keeping the text otherwise verbatim."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return re.sub(r"[\x00-\x08\x0b\x0e-\x1f\x7f]", "", text)


def _read_html(data: bytes) -> tuple[str, str | None]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(data, "html.parser")
    title = soup.title.get_text(" ", strip=True) if soup.title else None
    for tag in soup(["script", "style", "noscript", "template", "iframe", "svg", "head"]):
        tag.decompose()
    blocks = [line.strip() for line in soup.get_text("\n").splitlines()]
    text = "\n".join(line for line in blocks if line)
    return text, title or None


def _read_with_llama_index(path: Path, kind: str) -> str:
    from llama_index.readers.file import DocxReader, PDFReader

    reader = PDFReader(return_full_document=True) if kind == "pdf" else DocxReader()
    try:
        documents = reader.load_data(path)
    except Exception as exc:  # parsers raise anything on a broken file
        cause: BaseException = exc
        last_attempt = getattr(exc, "last_attempt", None)  # PDFReader retries: tenacity wraps the real error
        if last_attempt is not None and last_attempt.exception() is not None:
            cause = last_attempt.exception()
        raise UnreadableDocument(f"the {kind.upper()} could not be parsed ({type(cause).__name__}: {cause})") from exc
    return "\n\n".join(doc.text for doc in documents)


def first_line_title(text: str) -> str | None:
    """The first non-empty line that is not just a date, without Markdown heading marks, shortened."""
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if not line or (len(line) < 40 and find_date(line)):
            continue
        if len(line) <= 120:
            return line
        cut = line.rfind(" ", 0, 117)
        return line[: cut if cut > 60 else 117].rstrip(" ,;:") + "…"
    return None


_MONTHS = {
    name: i
    for i, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DATE_PATTERNS = [
    re.compile(
        r"\b(?:mon|tues|wednes|thurs|fri|satur|sun)day,?\s+" + _MONTH + r"\s+(?P<day>\d{1,2}),?\s+(?P<year>\d{4})\b",
        re.I,
    ),
    re.compile(r"\b" + _MONTH + r"\s+(?P<day>\d{1,2}),\s+(?P<year>\d{4})\b", re.I),
    re.compile(r"\b(?P<day>\d{1,2})\s+" + _MONTH + r",?\s+(?P<year>\d{4})\b", re.I),
    re.compile(r"\b(?P<year>(?:19|20)\d{2})-(?P<month_num>\d{2})-(?P<day>\d{2})\b"),
]


def find_date(text: str, head_chars: int = 3000) -> str | None:
    """The first publication-style date stated near the top of the text, as ISO ``YYYY-MM-DD``."""
    head = text[:head_chars]
    best: tuple[int, str] | None = None
    for pattern in _DATE_PATTERNS:
        for match in pattern.finditer(head):
            groups = match.groupdict()
            month = int(groups["month_num"]) if groups.get("month_num") else _MONTHS[groups["month"].lower()]
            try:
                found = date(int(groups["year"]), month, int(groups["day"])).isoformat()
            except ValueError:
                continue
            if best is None or match.start() < best[0]:
                best = (match.start(), found)
            break
    return best[1] if best else None
