"""The Chroma vector store (embedded or a ``chroma run`` server): the only module that imports chromadb."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from index.errors import IndexMismatchError, IndexNotBuiltError, StoreUnavailableError
from index.settings import Settings

_PAGE = 5000
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class VectorRecord:
    """One chunk as Chroma keeps it."""

    chunk_id: str
    doc_id: str
    position: int
    start: int
    end: int
    text: str


class ChunkStore:
    """Chunk vectors in one Chroma collection (cosine space).

    Written with Chroma's own client, not llama-index's ``ChromaVectorStore``: importing llama-index costs a
    fresh ``qa index`` 1.4 s, most of adding one document to a 100,000-document index. The records are ones
    llama-index reads all the same (text as the document, ``doc_id`` and offsets as flat metadata):
    ``ChromaVectorStore(chroma_collection=...)`` over this collection retrieves them as text nodes
    (tests/test_index.py)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._client: Any = None
        self._collection: Any = None
        self._opened: tuple[str, int] | None = None  # (model, dim) of the last open(), to reconnect with

    @property
    def location(self) -> str:
        return self.settings.chroma_url or str(self.settings.data_dir / "chroma")

    def expected_metadata(self, model: str, dim: int) -> dict[str, Any]:
        return {
            "hnsw:space": "cosine",
            "embed_model": model,
            "embed_dim": dim,
            "chunker": self.settings.chunker_signature,
        }

    def _connect(self) -> Any:
        if self._client is None:
            import chromadb
            from chromadb.config import Settings as ChromaSettings

            chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
            if self.settings.chroma_url:
                from urllib.parse import urlparse

                url = urlparse(self.settings.chroma_url)
                headers = {}
                if self.settings.chroma_token is not None:
                    headers["Authorization"] = f"Bearer {self.settings.chroma_token.get_secret_value()}"
                try:
                    self._client = chromadb.HttpClient(
                        host=url.hostname or "127.0.0.1",
                        port=url.port or (443 if url.scheme == "https" else 8000),
                        ssl=url.scheme == "https",
                        headers=headers,
                        settings=chroma_settings,
                    )
                    self._client.heartbeat()
                except Exception as exc:
                    self._client = None
                    raise StoreUnavailableError(
                        f"The Chroma server at {self.settings.chroma_url} cannot be reached ({type(exc).__name__}); "
                        "start it (chroma run --path DIR --port N) or unset QA_CHROMA_URL."
                    ) from exc
            else:
                path = self.settings.data_dir / "chroma"
                path.mkdir(parents=True, exist_ok=True)
                self._client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
        return self._client

    def _guard(self, call: Any, *args: Any, **kwargs: Any) -> Any:
        """Run a Chroma call, turning a lost server into a clear error."""
        try:
            return call(*args, **kwargs)
        except Exception as exc:
            if self.settings.chroma_url and _is_connection_error(exc):
                self._client = self._collection = None
                raise StoreUnavailableError(
                    f"Lost the Chroma server at {self.settings.chroma_url} ({type(exc).__name__}); "
                    "check that it is running, then try again."
                ) from exc
            raise

    def open(self, model: str, dim: int, *, create: bool) -> None:
        """Open (or with ``create``, create) the collection and check it matches this model and chunker.

        Raises:
            IndexNotBuiltError: no collection and ``create`` is false.
            IndexMismatchError: built with another model, dimension or chunker.
            StoreUnavailableError: the Chroma server is down.
        """
        if self._collection is not None:
            return
        client = self._connect()
        expected = self.expected_metadata(model, dim)
        name = self.settings.collection
        if create:
            collection = self._guard(client.get_or_create_collection, name=name, metadata=expected)
        else:
            try:
                collection = self._guard(client.get_collection, name=name)
            except StoreUnavailableError:
                raise
            except Exception as exc:
                raise IndexNotBuiltError(f"No index found at {self.location}; run `qa index` first.") from exc
        found = collection.metadata or {}
        for key in ("embed_model", "embed_dim", "chunker", "hnsw:space"):
            if found.get(key) != expected[key]:
                raise IndexMismatchError(
                    f"The index at {self.location} was built with {key}={found.get(key)!r}, but the settings "
                    f"ask for {expected[key]!r}; run `qa index --rebuild`."
                )
        self._collection = collection
        self._opened = (model, dim)

    def _use(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call ``method`` of the open collection. If the collection is gone because another process replaced it
        (a rebuild through another client of the same Chroma), open the current one and call again: a
        long-running server must not keep failing on a stale handle."""
        self._reopen()
        try:
            return self._guard(lambda: getattr(self._collection, method)(*args, **kwargs))
        except Exception as exc:
            if self._opened is None or not _is_missing_collection(exc):
                raise
            log.warning(
                "the Chroma collection %r was replaced by another process; opening it again", self.settings.collection
            )
            self._collection = None
            self._reopen()
            return self._guard(lambda: getattr(self._collection, method)(*args, **kwargs))

    def _reopen(self) -> None:
        """After a lost server (``_guard`` forgot the handles): connect again, or raise StoreUnavailableError."""
        if self._collection is None and self._opened is not None:
            self.open(*self._opened, create=False)

    def drop(self) -> None:
        """Delete the collection (``qa index --rebuild``)."""
        client = self._connect()
        self._collection = None
        try:
            self._guard(client.delete_collection, self.settings.collection)
        except StoreUnavailableError:
            raise
        except Exception:  # not there: nothing to drop
            pass

    def upsert(self, records: Sequence[VectorRecord], embeddings: np.ndarray) -> None:
        """Write chunks with their vectors; ids are deterministic, so writing twice is harmless."""
        if not records:
            return
        for i in range(0, len(records), _PAGE):
            page = records[i : i + _PAGE]
            self._use(
                "upsert",
                ids=[r.chunk_id for r in page],
                embeddings=embeddings[i : i + len(page)],
                documents=[r.text for r in page],
                metadatas=[{"doc_id": r.doc_id, "position": r.position, "start": r.start, "end": r.end} for r in page],
            )

    def delete(self, chunk_ids: Iterable[str]) -> None:
        ids = list(chunk_ids)
        for i in range(0, len(ids), _PAGE):
            page = ids[i : i + _PAGE]
            self._use("delete", ids=page)

    def ids(self) -> set[str]:
        """Every chunk id in the collection (paged)."""
        found: set[str] = set()
        offset = 0
        while True:
            page = self._use("get", include=[], limit=_PAGE, offset=offset)
            found.update(page["ids"])
            if len(page["ids"]) < _PAGE:
                return found
            offset += _PAGE

    def count(self) -> int:
        return int(self._use("count"))

    def vectors(self, chunk_ids: Sequence[str]) -> np.ndarray:
        """The stored vectors of ``chunk_ids``, in their order; a chunk the collection lacks has no row."""
        rows: dict[str, np.ndarray] = {}
        for i in range(0, len(chunk_ids), _PAGE):
            found = self._use("get", ids=list(chunk_ids[i : i + _PAGE]), include=["embeddings"])
            rows.update(zip(found["ids"], np.asarray(found["embeddings"], dtype=np.float32), strict=True))
        return np.stack([rows[c] for c in chunk_ids if c in rows]) if rows else np.zeros((0, 0), dtype=np.float32)

    def query(self, embedding: np.ndarray, n: int) -> list[tuple[str, float]]:
        """The ``n`` nearest chunks as (chunk id, similarity ``exp(-cosine distance)``, as llama-index's
        ChromaVectorStore scores them), best first.

        Asked of the collection directly for ids and distances only: going through llama-index fetches every
        hit's text and metadata and builds nodes the answerer does not use (3 ms against 1 ms a question on
        the seed corpus, in a server that runs every worker's query: ui.workers).
        """
        if n <= 0:
            return []
        found = self._use("query", query_embeddings=[embedding.tolist()], n_results=n, include=["distances"])
        return [
            (cid, math.exp(-distance)) for cid, distance in zip(found["ids"][0], found["distances"][0], strict=True)
        ]


def _is_connection_error(exc: BaseException) -> bool:
    names = {type(e).__name__ for e in _chain(exc)}
    return bool(
        names
        & {
            "ConnectError",
            "ConnectionError",
            "ConnectTimeout",
            "ReadTimeout",
            "RemoteProtocolError",
            "ConnectionRefusedError",
            "ReadError",
            "WriteError",
        }
    )


def _is_missing_collection(exc: BaseException) -> bool:
    """Chroma's "Collection [id] does not exist" (the handle outlived its collection)."""
    return any(type(e).__name__ == "NotFoundError" for e in _chain(exc))


def _chain(exc: BaseException | None) -> Iterable[BaseException]:
    while exc is not None:
        yield exc
        exc = exc.__cause__ or exc.__context__
