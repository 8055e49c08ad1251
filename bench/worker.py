"""Measurements that run in their own process (so peak memory is theirs); each prints one JSON line.

``python -m bench.worker index|serve|llamaindex`` with the QA_* environment set by ``bench.run``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import psutil

from index.runtime import prepare_offline_runtime


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _cpu_s() -> float:
    """User + system CPU seconds of this process: fairer than wall time on a shared machine."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _rss_mib() -> float:
    return psutil.Process().memory_info().rss / 2**20


def _tokens(texts: list[str]) -> tuple[int, int]:
    """(cl100k tokens, model word-piece tokens incl. [CLS]/[SEP]) of ``texts``."""
    from transformers import AutoTokenizer

    from index.chunking import count_tokens
    from index.embedding import bundled_model_path

    tok = AutoTokenizer.from_pretrained(bundled_model_path())
    wordpiece = sum(min(len(ids), 256) for ids in tok(texts, add_special_tokens=True)["input_ids"])
    return sum(count_tokens(t) for t in texts), wordpiece


def bare_encode(texts: list[str], batch_size: int, device: str = "cpu") -> tuple[float, float]:
    """(wall, CPU) seconds for SentenceTransformer.encode of ``texts`` on ``device`` (model loaded and warmed
    first)."""
    from sentence_transformers import SentenceTransformer

    from index.embedding import bundled_model_path

    model = SentenceTransformer(bundled_model_path(), device=device)
    model.encode(texts[:32], batch_size=batch_size, normalize_embeddings=True)
    started, cpu = time.perf_counter(), _cpu_s()
    model.encode(texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False)
    return time.perf_counter() - started, _cpu_s() - cpu


def stand_in_embedder(batch_size: int | None, device: Any) -> Any:
    """The bundled model for everything but the documents' vectors, which are random unit vectors seeded by each
    text (``--stand-in``): a 100,000-document index is built in minutes instead of hours on 2 shared cores, for
    the figures that do not depend on which vectors are stored (catalog, scan, BM25, Chroma's search cost,
    memory). Questions are still embedded by the model; what an answer says over such an index means nothing."""
    import numpy as np

    from index.embedding import MiniLMEmbedder

    class StandInEmbedder(MiniLMEmbedder):
        def embed_documents(self, texts: Any) -> np.ndarray:
            out = np.empty((len(texts), self.dim), dtype=np.float32)
            for i, text in enumerate(texts):
                seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
                vector = np.random.default_rng(seed).standard_normal(self.dim)
                out[i] = vector / np.linalg.norm(vector)
            return out

    return StandInEmbedder(batch_size, device=device)


def _warm_index(stand_in: bool = False) -> Any:
    """A ``CorpusIndex`` on the QA_* settings whose model, store and tokenizer are loaded: indexing throughput is
    torch's, and its load is not part of it; nor is the store's import (~0.6 s, most of a 100-document run).
    Start-up is what the cold-start figures measure; these are the pipeline's throughput."""
    from index.builder import CorpusIndex
    from index.chunking import count_tokens
    from index.embedding import MiniLMEmbedder
    from index.settings import Settings

    settings = Settings()
    if stand_in:
        embedder = stand_in_embedder(settings.embed_batch_size, settings.embed_device)
    else:
        embedder = MiniLMEmbedder(settings.embed_batch_size, device=settings.embed_device)
    embedder.warm_up(bulk=True)
    embedder.embed_documents(["warm up the model"] * 8)
    import chromadb  # noqa: F401

    count_tokens("load the tokenizer")
    return CorpusIndex(settings, embedder=embedder)


def cmd_index(args: argparse.Namespace) -> dict[str, Any]:
    """Index the corpus from scratch (model load excluded), then time the bare model on the same chunks."""
    index = _warm_index(args.stand_in)
    settings, embedder = index.settings, index.embedder
    rss_before = _rss_mib()
    runs: list[tuple[float, float]] = []
    for _ in range(args.repeat):  # a small corpus takes seconds: the median of a few rebuilds is steadier
        started, cpu = time.perf_counter(), _cpu_s()
        report = index.sync(rebuild=True)
        runs.append((time.perf_counter() - started, _cpu_s() - cpu))
    seconds, cpu_seconds = sorted(runs)[len(runs) // 2]
    peak_index = _peak_rss_mib()
    ids = sorted(index.catalog.chunk_ids())
    texts = [c.text for c in index.catalog.chunks(ids).values()]
    out: dict[str, Any] = {
        "device": embedder.device,
        "batch_size": embedder.batch_size,
        "documents": report.documents,
        "chunks": report.chunks,
        "embedded": report.embedded_chunks,
        "index_s": seconds,
        "index_cpu_s": cpu_seconds,
        "index_runs_s": [round(wall, 3) for wall, _ in runs],
        "stand_in": bool(args.stand_in),
        "rss_before_mib": rss_before,
        "peak_rss_mib": peak_index,
    }
    out["cl100k_tokens"], out["wordpiece_tokens"] = _tokens(texts)
    if not args.no_bare:
        sample = texts[: args.bare_sample] if args.bare_sample else texts
        out["bare_chunks"] = len(sample)
        bare = sorted(bare_encode(sample, embedder.batch_size, embedder.device or "cpu") for _ in range(args.repeat))
        out["bare_s"], out["bare_cpu_s"] = bare[len(bare) // 2]
    # Adding and removing one document in a resident process (the model loaded, as in `qa serve`, whose
    # uploads take this path): the pipeline's own cost, without Python start-up, imports and model load.
    from bench.corpus import extra_document

    extra = settings.corpus_dir / "zz_resident_extra.txt"
    extra.write_text(extra_document(report.documents + 1), encoding="utf-8")
    try:
        started = time.perf_counter()
        added = index.sync()
        out["resident_add_one_s"] = time.perf_counter() - started
        if len(added.added) != 1:
            raise RuntimeError(f"adding one document reported {added}")
    finally:
        extra.unlink()
    started = time.perf_counter()
    index.sync()
    out["resident_remove_one_s"] = time.perf_counter() - started
    return out


def cmd_grow(args: argparse.Namespace) -> dict[str, Any]:
    """Add ``--count`` new documents to an index already built, embedding them with the model, and time the bare
    model on the same chunks: indexing throughput at the index's size (what a 100,000-document index costs each
    new chunk: Chroma's graph, the catalog and keyword index at that size). The documents are removed again."""
    from bench.corpus import document_text, paragraphs

    index = _warm_index()
    settings, embedder = index.settings, index.embedder
    index.sync()  # anything left by an earlier, interrupted run
    started = time.perf_counter()
    index.sync()  # no change: what every run costs before it adds anything (the scan of the corpus)
    nochange_s = time.perf_counter() - started
    before = index.catalog.counts()[0]
    paras = paragraphs()
    paths = [settings.corpus_dir / f"zz_grow_{i:05d}.txt" for i in range(args.count)]
    try:
        for i, path in enumerate(paths):
            path.write_text(document_text(500_000 + i, before, paras), encoding="utf-8")
        started, cpu = time.perf_counter(), _cpu_s()
        report = index.sync()
        seconds, cpu_seconds = time.perf_counter() - started, _cpu_s() - cpu
        if len(report.added) != args.count:
            raise RuntimeError(f"adding {args.count} documents reported {report}")
        chunk_ids = sorted(c for path in paths for c in index.catalog.chunk_ids_of(path.name))
        texts = [c.text for c in index.catalog.chunks(chunk_ids).values()]
        runs = sorted(bare_encode(texts, embedder.batch_size, embedder.device or "cpu") for _ in range(args.repeat))
        bare_s, bare_cpu_s = runs[len(runs) // 2]
    finally:
        for path in paths:
            path.unlink(missing_ok=True)
        started = time.perf_counter()
        removed = index.sync()
        remove_s = time.perf_counter() - started
    return {
        "documents_before": before,
        "added": args.count,
        "chunks": len(texts),
        "grow_s": seconds,
        "grow_cpu_s": cpu_seconds,
        "bare_s": bare_s,
        "bare_cpu_s": bare_cpu_s,
        "nochange_s": nochange_s,
        "remove_all_s": remove_s,
        "removed": len(removed.removed),
        "device": embedder.device,
        "batch_size": embedder.batch_size,
    }


def _questions(path: Path) -> list[str]:
    return [q for q in path.read_text(encoding="utf-8").splitlines() if q.strip()]


def cmd_serve(args: argparse.Namespace) -> dict[str, Any]:
    """Warm ``answer()`` latency over a list of questions; peak memory of the serving process."""
    from index.settings import Settings
    from qa.service import build_answerer

    questions = _questions(Path(args.questions))
    started = time.perf_counter()
    answerer = build_answerer(Settings())
    answerer.answer(questions[0])
    first_s = time.perf_counter() - started
    for q in questions[:3]:  # warm
        answerer.answer(q)
    times: list[float] = []
    refused = 0
    for _ in range(args.rounds):
        for q in questions:
            t = time.perf_counter()
            answer = answerer.answer(q)
            times.append(time.perf_counter() - t)
            refused += int(answer.refused)
    # The index's share of answering: hybrid retrieval alone (query vector, Chroma, BM25, chunk reads).
    from qa.condense import condense

    retrieval: list[float] = []
    for q in questions:
        t = time.perf_counter()
        answerer.retriever.retrieve(condense(q, ()), answerer.settings.top_k)
        retrieval.append(time.perf_counter() - t)
    # The keyword index: its size, and BM25 alone over the same questions.
    from index.keywords import terms

    catalog = answerer.index.catalog
    keyword: list[float] = []
    for q in questions:
        t = time.perf_counter()
        catalog.bm25(terms(q), answerer.retriever.candidates)
        keyword.append(time.perf_counter() - t)
    postings, distinct = catalog.db.execute("SELECT COUNT(*), COUNT(DISTINCT term) FROM postings").fetchone()
    catalog_bytes = sum(p.stat().st_size for p in catalog.path.parent.glob(catalog.path.name + "*"))
    return {
        "keyword_p50_ms": 1000 * statistics.median(keyword),
        "keyword_p95_ms": 1000 * statistics.quantiles(keyword, n=20)[18],
        "postings": int(postings),
        "terms": int(distinct),
        "catalog_mib": catalog_bytes / 2**20,
        "retrieve_p50_ms": 1000 * statistics.median(retrieval),
        "retrieve_p95_ms": 1000 * statistics.quantiles(retrieval, n=20)[18],
        "first_answer_s": first_s,
        "n": len(times),
        "refused": refused,
        "p50_ms": 1000 * statistics.median(times),
        "p95_ms": 1000 * statistics.quantiles(times, n=20)[18],
        "mean_ms": 1000 * statistics.fmean(times),
        "rss_mib": _rss_mib(),
        "peak_rss_mib": _peak_rss_mib(),
    }


def cmd_llamaindex(args: argparse.Namespace) -> dict[str, Any]:
    """The plain llama-index pipeline (index/baseline.py): VectorStoreIndex + default SentenceSplitter + same
    model + Chroma."""
    from index.baseline import PlainPipeline, default_embed_model

    model = default_embed_model()
    model.get_text_embedding_batch(["warm up the model"] * 8)
    pipeline = PlainPipeline(Path(args.corpus), Path(args.chroma), embed_model=model)
    pipeline.build()
    peak_index = _peak_rss_mib()
    questions = _questions(Path(args.questions))
    for q in questions[:3]:
        pipeline.retrieve(q, 5)
    times: list[float] = []
    for _ in range(args.rounds):
        for q in questions:
            t = time.perf_counter()
            pipeline.retrieve(q, 5)
            times.append(time.perf_counter() - t)
    return {
        "documents": len(pipeline.documents),
        "chunks": pipeline.chunks,
        "index_s": pipeline.seconds,
        "peak_rss_mib": peak_index,
        "p50_ms": 1000 * statistics.median(times),
        "p95_ms": 1000 * statistics.quantiles(times, n=20)[18],
    }


def main() -> int:
    prepare_offline_runtime()
    parser = argparse.ArgumentParser(prog="bench.worker")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("index")
    p.add_argument("--no-bare", action="store_true")
    p.add_argument("--bare-sample", type=int, default=0, help="bare model on N chunks")
    p.add_argument("--repeat", type=int, default=1, help="time N rebuilds (and N bare runs); report the median")
    p.add_argument("--stand-in", action="store_true", help="random document vectors instead of the model's")
    p.set_defaults(run=cmd_index)
    p = sub.add_parser("grow")
    p.add_argument("--count", type=int, default=1000, help="documents to add with the model")
    p.add_argument("--repeat", type=int, default=1, help="bare-model runs (the median is reported)")
    p.set_defaults(run=cmd_grow)
    p = sub.add_parser("serve")
    p.add_argument("--questions", required=True)
    p.add_argument("--rounds", type=int, default=1)
    p.set_defaults(run=cmd_serve)
    p = sub.add_parser("llamaindex")
    p.add_argument("--corpus", required=True)
    p.add_argument("--chroma", required=True)
    p.add_argument("--questions", required=True)
    p.add_argument("--rounds", type=int, default=1)
    p.set_defaults(run=cmd_llamaindex)
    args = parser.parse_args()
    print(json.dumps(args.run(args)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
