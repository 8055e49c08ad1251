"""The catalog: a SQLite file beside Chroma holding documents, chunk offsets and the BM25 keyword index.

Every change to one document is one transaction, so after a crash the catalog is always a consistent
record of what is indexed; Chroma is reconciled against it (see ``index.builder``).
"""

from __future__ import annotations

import json
import math
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.keywords import terms
from index.reading import FileStamp, SourceDocument
from index.sentences import Span, back_matter

SCHEMA_VERSION = "1"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY, file_name TEXT NOT NULL, title TEXT NOT NULL, date TEXT,
    content_hash TEXT NOT NULL, text TEXT NOT NULL, n_chunks INTEGER NOT NULL, indexed_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY, chunk_id TEXT NOT NULL UNIQUE, doc_id TEXT NOT NULL,
    position INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL, n_terms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks (doc_id);
CREATE TABLE IF NOT EXISTS postings (
    term TEXT NOT NULL, chunk INTEGER NOT NULL, tf INTEGER NOT NULL, PRIMARY KEY (term, chunk)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS postings_chunk ON postings (chunk);
CREATE INDEX IF NOT EXISTS documents_recent ON documents (indexed_at);
-- Each document's lists of sources ("References": index.sentences.back_matter), found once when it is written;
-- a document without a row was indexed before they were stored (``fill_back_matter`` adds them).
CREATE TABLE IF NOT EXISTS back_matter (doc_id TEXT PRIMARY KEY, spans TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS stamps (
    doc_id TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, ctime_ns INTEGER NOT NULL,
    inode INTEGER NOT NULL, taken_ns INTEGER NOT NULL
) WITHOUT ROWID;
"""

# A chunk's text is cut from its document's stored text, so the two can never disagree.
_CHUNK_SELECT = (
    'SELECT c.chunk_id, c.doc_id, c.position, c.start, c."end", substr(d.text, c.start + 1, c."end" - c.start) '
    "FROM chunks c JOIN documents d ON d.doc_id = c.doc_id"
)

BM25_K1 = 1.2
BM25_B = 0.75


@dataclass(frozen=True, slots=True)
class DocumentRecord:
    """An indexed document, without its text."""

    doc_id: str
    file_name: str
    title: str
    date: str | None
    content_hash: str
    n_chunks: int
    indexed_at: str


@dataclass(frozen=True, slots=True)
class ChunkRecord:
    """An indexed chunk: ``text == document_text[start:end]``."""

    chunk_id: str
    doc_id: str
    position: int
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class NewChunk:
    """A chunk to write: id, position and offsets (its text is taken from the document)."""

    chunk_id: str
    position: int
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class NewDocument:
    """A parsed document to write, with its chunks and the stamp of the file it was read from."""

    document: SourceDocument
    chunks: tuple[NewChunk, ...]
    indexed_at: str
    stamp: FileStamp | None = None


class DocumentLookup(Mapping[str, DocumentRecord]):
    """The catalog's documents as a read-only mapping that reads a record when it is asked for (by key, so the
    cost does not grow with the corpus, and never stale)."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    def __getitem__(self, doc_id: str) -> DocumentRecord:
        found = self._catalog.documents_by_id([doc_id])
        if doc_id not in found:
            raise KeyError(doc_id)
        return found[doc_id]

    def __iter__(self) -> Iterator[str]:
        return (row[0] for row in self._catalog.db.execute("SELECT doc_id FROM documents ORDER BY doc_id"))

    def __len__(self) -> int:
        return self._catalog.counts()[0]


class Catalog:
    """SQLite catalog at ``path``; one connection per thread, WAL so readers never wait for a rebuild."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._stats: tuple[int, int, float] | None = None  # (data_version, n, avgdl)
        self._lengths: tuple[int, np.ndarray] | None = None  # (data_version, each chunk's terms by row id)

    @property
    def db(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(_SCHEMA)
            self._local.conn = conn
        return conn

    def exists(self) -> bool:
        return self.path.exists()

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # -- meta -------------------------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, **values: str) -> None:
        with _transaction(self.db) as db:
            db.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", list(values.items()))

    def delete_meta(self, key: str) -> None:
        self.db.execute("DELETE FROM meta WHERE key = ?", (key,))

    # -- documents --------------------------------------------------------------------------------------
    def documents(self) -> dict[str, DocumentRecord]:
        rows = self.db.execute(
            "SELECT doc_id, file_name, title, date, content_hash, n_chunks, indexed_at FROM documents ORDER BY doc_id"
        )
        return {row[0]: DocumentRecord(*row) for row in rows}

    def recent_documents(self, limit: int) -> dict[str, DocumentRecord]:
        """The ``limit`` most recently indexed documents, by name (what a page of a large corpus lists)."""
        rows = self.db.execute(
            "SELECT doc_id, file_name, title, date, content_hash, n_chunks, indexed_at FROM documents "
            "ORDER BY indexed_at DESC, doc_id LIMIT ?",
            (limit,),
        ).fetchall()
        return {row[0]: DocumentRecord(*row) for row in sorted(rows)}

    def hashes(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT doc_id, content_hash FROM documents"))

    def known_files(self) -> dict[str, tuple[str, FileStamp]]:
        """Each document's content hash with the stamp of the file it was read from (those that have one)."""
        rows = self.db.execute(
            "SELECT d.doc_id, d.content_hash, s.size, s.mtime_ns, s.ctime_ns, s.inode, s.taken_ns "
            "FROM documents d JOIN stamps s ON s.doc_id = d.doc_id"
        )
        make = FileStamp._make
        return {row[0]: (row[1], make(row[2:])) for row in rows}

    def set_stamps(self, stamps: dict[str, FileStamp]) -> None:
        """Record the stamps of files hashed again and found unchanged (touched, or new to the stamp table)."""
        with _transaction(self.db) as db:
            db.executemany(
                "INSERT OR REPLACE INTO stamps SELECT ?, ?, ?, ?, ?, ? WHERE EXISTS "
                "(SELECT 1 FROM documents WHERE doc_id = ?)",
                [(d, s.size, s.mtime_ns, s.ctime_ns, s.inode, s.taken_ns, d) for d, s in stamps.items()],
            )

    def documents_by_id(self, doc_ids: Iterable[str]) -> dict[str, DocumentRecord]:
        """The records of these documents (those indexed), read by key: the cost does not grow with the corpus."""
        rows = self._where_in(
            "SELECT doc_id, file_name, title, date, content_hash, n_chunks, indexed_at FROM documents WHERE doc_id",
            list(dict.fromkeys(doc_ids)),
        )
        return {row[0]: DocumentRecord(*row) for row in rows}

    def has_documents_under(self, folder: str) -> bool:
        """Whether a document is indexed inside ``folder`` (a corpus-relative path), or under that very name."""
        folder = folder.rstrip("/")
        row = self.db.execute(
            "SELECT 1 FROM documents WHERE doc_id = ? OR (doc_id >= ? AND doc_id < ?) LIMIT 1",
            (folder, folder + "/", folder + "0"),  # "0" is the character after "/"
        ).fetchone()
        return row is not None

    def document_text(self, doc_id: str) -> str | None:
        row = self.db.execute("SELECT text FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        return row[0] if row else None

    def document_span(self, doc_id: str, start: int, end: int) -> tuple[str, int] | None:
        """``(document_text[start:end], len(document_text))`` without reading the whole text, or None."""
        start = max(0, start)
        row = self.db.execute(
            "SELECT substr(text, ?, ?), length(text) FROM documents WHERE doc_id = ?",
            (start + 1, max(0, end - start), doc_id),
        ).fetchone()
        return (row[0], int(row[1])) if row else None

    def counts(self) -> tuple[int, int]:
        """(documents, chunks)."""
        docs = self.db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
        chunks = self.db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
        return int(docs), int(chunks)

    def chunk_ids(self) -> set[str]:
        return {row[0] for row in self.db.execute("SELECT chunk_id FROM chunks")}

    def chunk_ids_of(self, doc_id: str) -> list[str]:
        return [
            r[0] for r in self.db.execute("SELECT chunk_id FROM chunks WHERE doc_id = ? ORDER BY position", (doc_id,))
        ]

    def replace_document(
        self,
        *,
        doc_id: str,
        file_name: str,
        title: str,
        date: str | None,
        content_hash: str,
        text: str,
        chunks: Sequence[NewChunk],
        indexed_at: str,
        stamp: FileStamp | None = None,
    ) -> list[str]:
        """Write a document, its chunks and their postings (and the stamp of the file it was read from) in one
        transaction; returns the replaced chunk ids."""
        document = SourceDocument(doc_id, file_name, title, date, content_hash, text)
        return self.replace_documents([NewDocument(document, tuple(chunks), indexed_at, stamp)])[doc_id]

    def replace_documents(self, documents: Sequence[NewDocument]) -> dict[str, list[str]]:
        """Write documents as ``replace_document`` does, all in one transaction: a commit per document cost a
        batch of 250 new documents 0.25 s, more than the rest of their catalog writes. Returns each document's
        replaced chunk ids."""
        replaced: dict[str, list[str]] = {}
        with _transaction(self.db) as db:
            for new in documents:
                replaced[new.document.doc_id] = self._write_document(db, new)
        return replaced

    def _write_document(self, db: sqlite3.Connection, new: NewDocument) -> list[str]:
        doc, text, stamp = new.document, new.document.text, new.stamp
        old = self._delete_document(db, doc.doc_id)
        db.execute(
            "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (doc.doc_id, doc.file_name, doc.title, doc.date, doc.content_hash, text, len(new.chunks), new.indexed_at),
        )
        db.execute("INSERT INTO back_matter VALUES (?, ?)", (doc.doc_id, json.dumps(back_matter(text))))
        if stamp is not None:
            db.execute(
                "INSERT INTO stamps VALUES (?, ?, ?, ?, ?, ?)",
                (doc.doc_id, stamp.size, stamp.mtime_ns, stamp.ctime_ns, stamp.inode, stamp.taken_ns),
            )
        for chunk in new.chunks:
            chunk_terms = Counter(terms(text[chunk.start : chunk.end]))
            cur = db.execute(
                'INSERT INTO chunks (chunk_id, doc_id, position, start, "end", n_terms) VALUES (?, ?, ?, ?, ?, ?)',
                (chunk.chunk_id, doc.doc_id, chunk.position, chunk.start, chunk.end, sum(chunk_terms.values())),
            )
            rowid = cur.lastrowid
            db.executemany(
                "INSERT INTO postings (term, chunk, tf) VALUES (?, ?, ?)",
                [(term, rowid, tf) for term, tf in chunk_terms.items()],
            )
        return old

    def remove_document(self, doc_id: str) -> list[str]:
        """Delete a document, its chunks and postings in one transaction; returns its chunk ids."""
        return self.remove_documents([doc_id])

    def remove_documents(self, doc_ids: Iterable[str]) -> list[str]:
        """Delete documents, their chunks and postings in one transaction; returns their chunk ids."""
        with _transaction(self.db) as db:
            return [chunk for doc_id in doc_ids for chunk in self._delete_document(db, doc_id)]

    def _delete_document(self, db: sqlite3.Connection, doc_id: str) -> list[str]:
        rows = db.execute("SELECT id, chunk_id FROM chunks WHERE doc_id = ?", (doc_id,)).fetchall()
        if rows:
            db.executemany("DELETE FROM postings WHERE chunk = ?", [(r[0],) for r in rows])
            db.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))
        db.execute("DELETE FROM documents WHERE doc_id = ?", (doc_id,))
        db.execute("DELETE FROM stamps WHERE doc_id = ?", (doc_id,))
        db.execute("DELETE FROM back_matter WHERE doc_id = ?", (doc_id,))
        return [r[1] for r in rows]

    def back_matter(self, doc_ids: Sequence[str]) -> dict[str, list[Span]]:
        """The spans of each document's lists of sources, as found when it was written; a document indexed before
        they were stored (or not indexed) is absent."""
        rows = self._where_in("SELECT doc_id, spans FROM back_matter WHERE doc_id", list(dict.fromkeys(doc_ids)))
        return {doc_id: [(int(a), int(b)) for a, b in json.loads(spans)] for doc_id, spans in rows}

    def fill_back_matter(self) -> int:
        """Find the lists of sources of the documents indexed before they were stored (one transaction, once per
        catalog: the ``back_matter`` meta key marks it done); returns how many documents were read."""
        if self.get_meta("back_matter") is not None:
            return 0
        missing = "SELECT doc_id FROM documents WHERE doc_id NOT IN (SELECT doc_id FROM back_matter)"
        ids = [row[0] for row in self.db.execute(missing)]
        with _transaction(self.db) as db:
            for doc_id in ids:
                row = db.execute("SELECT text FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
                if row is not None:
                    db.execute(
                        "INSERT OR REPLACE INTO back_matter VALUES (?, ?)", (doc_id, json.dumps(back_matter(row[0])))
                    )
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('back_matter', '1')")
        return len(ids)

    def clear(self) -> None:
        with _transaction(self.db) as db:
            for table in ("postings", "chunks", "documents", "stamps", "back_matter", "meta"):
                db.execute(f"DELETE FROM {table}")

    # -- reading chunks ---------------------------------------------------------------------------------
    def chunks(self, chunk_ids: Sequence[str]) -> dict[str, ChunkRecord]:
        """Chunks by id, with their text cut from the stored document text."""
        rows = self._where_in(f"{_CHUNK_SELECT} WHERE c.chunk_id", list(dict.fromkeys(chunk_ids)))
        return {row[0]: ChunkRecord(*row) for row in rows}

    # -- keyword search ---------------------------------------------------------------------------------
    def _change_key(self) -> int:
        """A number that changes whenever the catalog does (a commit by any connection)."""
        version = self.db.execute("PRAGMA data_version").fetchone()[0]
        return int(version) * 1_000_003 + self.db.total_changes

    def _collection_stats(self) -> tuple[int, float]:
        key = self._change_key()
        if self._stats is None or self._stats[0] != key:
            n, avgdl = self.db.execute("SELECT COUNT(*), AVG(n_terms) FROM chunks").fetchone()
            self._stats = (key, int(n), float(avgdl or 1.0))
        return self._stats[1], self._stats[2]

    def _chunk_lengths(self, reload: bool = False) -> np.ndarray:
        """Each chunk's length in terms, indexed by its row id (0: no such chunk), read again after any change:
        BM25 then scores a posting without a lookup into the chunks table (at 100,000 documents that lookup, one
        per posting, was most of a query's keyword search)."""
        key = self._change_key()
        cached = self._lengths
        if reload or cached is None or cached[0] != key:
            rows = np.asarray(self.db.execute("SELECT id, n_terms FROM chunks").fetchall(), dtype=np.int64)
            lengths = np.zeros(int(rows[:, 0].max()) + 1 if len(rows) else 0, dtype=np.float64)
            if len(rows):
                lengths[rows[:, 0]] = rows[:, 1]
            self._lengths = cached = (key, lengths)
        return cached[1]

    def document_frequencies(self, query_terms: Iterable[str]) -> tuple[int, dict[str, int]]:
        """(number of chunks, chunks containing each term)."""
        unique = sorted(set(query_terms))
        n, _ = self._collection_stats()
        if not unique:
            return n, {}
        rows = self.db.execute(
            f"SELECT term, COUNT(*) FROM postings WHERE term IN ({','.join('?' * len(unique))}) GROUP BY term",
            unique,
        )
        return n, dict(rows)

    def terms_with_prefix(self, prefix: str, limit: int = 5000) -> list[str]:
        """Distinct indexed terms starting with ``prefix``, in order (one index seek per term, so a range of
        common terms costs what its distinct terms cost, not its postings)."""
        out: list[str] = []
        upper = prefix + "\uffff"
        current = prefix
        query = "SELECT term FROM postings WHERE term >= ? AND term < ? ORDER BY term LIMIT 1"
        while len(out) < limit:
            row = self.db.execute(query, (current, upper)).fetchone()
            if row is None:
                break
            out.append(row[0])
            current = row[0] + "\x00"
        return out

    def a_chunk_text_with(self, term: str) -> str | None:
        """The text of one chunk holding ``term`` (to find how the term is spelt in the documents)."""
        row = self.db.execute("SELECT chunk FROM postings WHERE term = ? LIMIT 1", (term,)).fetchone()
        if row is None:
            return None
        chunk = self.db.execute("SELECT chunk_id FROM chunks WHERE id = ?", (row[0],)).fetchone()
        found = self.chunks([chunk[0]]) if chunk else {}
        return next((c.text for c in found.values()), None)

    def bm25(
        self,
        query_terms: Sequence[str],
        n: int,
        weights: dict[str, float] | None = None,
        frequencies: tuple[int, dict[str, int]] | None = None,
    ) -> list[tuple[str, float]]:
        """Okapi BM25 over chunks: the ``n`` best (chunk id, score), best first.

        ``weights`` scales a term's contribution (e.g. terms carried over from earlier turns count less);
        ``frequencies`` is ``document_frequencies(query_terms)`` when the caller already has it.
        """
        total, df = frequencies if frequencies is not None else self.document_frequencies(query_terms)
        if not df or n <= 0:
            return []
        _, avgdl = self._collection_stats()
        lengths = self._chunk_lengths()
        counts = Counter(query_terms)
        # Terms in order of the most they can add to a chunk's score (weight × (k1 + 1), as tf grows): rare ones
        # first. Once the n-th best score so far is above what the terms left could add together, a chunk none
        # of the terms so far matched cannot reach the n best, nor can a chunk whose score plus that is below it:
        # the terms left are read only for the chunks that still can ("max-score" pruning; the n best and their
        # scores are exactly those of scoring every posting). At 100,000 documents a common word's postings (tens
        # of thousands) were most of a question's keyword search.
        plan = sorted(
            (
                (bm25_idf(total, freq) * counts[term] * (weights or {}).get(term, 1.0), term)
                for term, freq in df.items()
            ),
            reverse=True,
        )
        left = total_bound = sum(weight for weight, _ in plan) * (BM25_K1 + 1)
        prunable = all(weight >= 0 for weight, _ in plan)  # scores that only grow
        scores = np.zeros(len(lengths), dtype=np.float64)
        open_to_all = True
        candidates = np.zeros(0, dtype=np.int64)
        for weight, term in plan:
            left -= weight * (BM25_K1 + 1)
            if open_to_all:
                arr = self._postings(term)
            elif len(candidates) * 8 >= df[term]:  # most of its postings are wanted: one read, then filtered
                arr = self._postings(term)
                arr = arr[np.isin(arr[:, 0], candidates)]
            else:
                arr = self._postings_of(term, candidates)
            if not len(arr):
                continue
            if arr[:, 0].max() >= len(lengths) or not lengths[arr[:, 0]].all():  # chunks written since the read
                lengths = self._chunk_lengths(reload=True)
                arr = arr[arr[:, 0] < len(lengths)]
                arr = arr[lengths[arr[:, 0]] > 0]
                scores = np.concatenate([scores, np.zeros(max(0, len(lengths) - len(scores)))])
            tf, dl = arr[:, 1].astype(np.float64), lengths[arr[:, 0]]
            # A term's postings name each chunk once, so a fancy-indexed add is safe.
            scores[arr[:, 0]] += weight * tf * (BM25_K1 + 1) / (tf + BM25_K1 * (1 - BM25_B + BM25_B * dl / avgdl))
            if not prunable or (open_to_all and (total_bound - left) <= left):
                # No pruning with a negative weight; and the n-th best so far is at most what the terms read so far
                # can add: not yet above ``left``.
                continue
            hit = np.flatnonzero(scores)
            if len(hit) >= n:
                nth = np.partition(scores[hit], len(hit) - n)[len(hit) - n]
                if nth > left:
                    open_to_all = False
                    candidates = hit[scores[hit] + left >= nth]
        hit = np.flatnonzero(scores)
        if not len(hit):
            return []
        top = hit[np.argsort(-scores[hit], kind="stable")[:n]]  # ties: the older chunk first
        best = [(int(rowid), float(scores[rowid])) for rowid in top]
        ids = dict(
            self.db.execute(
                f"SELECT id, chunk_id FROM chunks WHERE id IN ({','.join('?' * len(best))})",
                [b[0] for b in best],
            ).fetchall()
        )
        return [(ids[rowid], score) for rowid, score in best if rowid in ids]

    def _postings(self, term: str) -> np.ndarray:
        """``term``'s postings as rows of (chunk, tf). SQLite joins them into one string that NumPy parses: half
        the time of a Python tuple a posting, for a common word's tens of thousands."""
        (joined,) = self.db.execute(
            "SELECT group_concat(chunk || ',' || tf) FROM postings WHERE term = ?", (term,)
        ).fetchone()
        if not joined:
            return np.zeros((0, 2), dtype=np.int64)
        return np.fromstring(joined, dtype=np.int64, sep=",").reshape(-1, 2)

    def _postings_of(self, term: str, chunks: np.ndarray) -> np.ndarray:
        """``term``'s postings in ``chunks`` only, as rows of (chunk, tf) (an index seek each, in pages of bound
        variables)."""
        rows = self._where_in("SELECT chunk, tf FROM postings WHERE term = ? AND chunk", chunks.tolist(), (term,))
        return np.asarray(list(rows), dtype=np.int64).reshape(-1, 2)

    def _where_in(self, select: str, keys: Sequence[object], before: Sequence[object] = ()) -> Iterator[tuple]:
        """The rows of ``select`` ending ``… IN (keys)``, queried in pages of 500 keys (SQLite bounds the
        variables of one statement); ``before`` binds the statement's own ``?`` ahead of the keys."""
        for i in range(0, len(keys), 500):
            page = keys[i : i + 500]
            yield from self.db.execute(f"{select} IN ({','.join('?' * len(page))})", [*before, *page])


def bm25_idf(total: int, freq: int) -> float:
    """BM25's idf of a term found in ``freq`` of ``total`` chunks (never negative)."""
    return math.log(1.0 + (total - freq + 0.5) / (freq + 0.5))


class _transaction:
    """BEGIN IMMEDIATE … COMMIT, rolled back on any exception."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type: object, *_: object) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")
