"""The plain llama-index starter pipeline, the yardstick ``qa eval --baseline`` compares the project with.

SimpleDirectoryReader → VectorStoreIndex with the default SentenceSplitter (1,024 tokens, 200 overlap) → a
throw-away Chroma collection (cosine space) → a top-k retriever: what a user writes from the llama-index
starter tutorial, with the same bundled all-MiniLM-L6-v2 model. It lives in ``index/`` because only
``index/`` imports chromadb.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index.embedding import llama_index_embedding
from index.errors import CorpusNotFoundError


@dataclass(frozen=True, slots=True)
class BaselineNode:
    """A retrieved node: ``source`` is its file's path relative to the corpus folder."""

    source: str
    text: str
    score: float
    start: int | None  # offsets into the document text the reader produced
    end: int | None


class PlainPipeline:
    """The starter pipeline over one corpus folder; its Chroma data goes in ``work_dir`` (caller deletes)."""

    def __init__(self, corpus_dir: Path, work_dir: Path, embed_model: Any = None) -> None:
        self.corpus_dir = corpus_dir
        self.work_dir = work_dir
        self._embed_model = embed_model
        self._index: Any = None
        self.documents: dict[str, str] = {}  # source -> the text the reader produced
        self.chunks = 0
        self.seconds = 0.0

    def build(self) -> None:
        """Read and index the corpus (the time is in ``seconds``).

        Raises:
            CorpusNotFoundError: the corpus folder does not exist.
        """
        import chromadb
        from chromadb.config import Settings as ChromaSettings
        from llama_index.core import SimpleDirectoryReader, StorageContext, VectorStoreIndex
        from llama_index.core.node_parser import SentenceSplitter
        from llama_index.vector_stores.chroma import ChromaVectorStore

        if not self.corpus_dir.is_dir():
            raise CorpusNotFoundError(f"Corpus folder {self.corpus_dir} does not exist; pass an existing --corpus.")
        started = time.perf_counter()
        embed_model = self._embed_model or default_embed_model()
        documents = SimpleDirectoryReader(str(self.corpus_dir), recursive=True).load_data()
        root = self.corpus_dir.resolve()
        for doc in documents:
            source = self._source(doc.metadata, root)
            doc.metadata["qa_source"] = source
            doc.excluded_embed_metadata_keys.append("qa_source")
            doc.excluded_llm_metadata_keys.append("qa_source")
            self.documents[source] = doc.text
        client = chromadb.PersistentClient(
            path=str(self.work_dir / "chroma"), settings=ChromaSettings(anonymized_telemetry=False)
        )
        collection = client.get_or_create_collection("plain", metadata={"hnsw:space": "cosine"})
        storage = StorageContext.from_defaults(vector_store=ChromaVectorStore(chroma_collection=collection))
        self._index = VectorStoreIndex.from_documents(
            documents, storage_context=storage, embed_model=embed_model, transformations=[SentenceSplitter()]
        )
        self.chunks = collection.count()
        self.seconds = time.perf_counter() - started

    def retrieve(self, question: str, k: int) -> list[BaselineNode]:
        """The top ``k`` nodes for the question, best first."""
        if self._index is None:
            self.build()
        nodes = self._index.as_retriever(similarity_top_k=k).retrieve(question)
        return [
            BaselineNode(
                source=str(n.node.metadata.get("qa_source", "")),
                text=n.node.get_content(),
                score=float(n.score or 0.0),
                start=n.node.start_char_idx,
                end=n.node.end_char_idx,
            )
            for n in nodes
        ]

    @staticmethod
    def _source(metadata: dict[str, Any], root: Path) -> str:
        path = Path(str(metadata.get("file_path", ""))).resolve()
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            return str(metadata.get("file_name") or path.name)


def default_embed_model() -> Any:
    """llama-index's HuggingFaceEmbedding on the bundled all-MiniLM-L6-v2 files (no download)."""
    return llama_index_embedding()
