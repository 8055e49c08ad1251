"""The index through ``qa index`` (qa.cli.main): incremental sync, dry runs, rebuilds, mismatches, bad files.

Real parts: a real Chroma in tmp_path, the real bundled model (the session's ``embedder``, handed to the
CLI's CorpusIndex so the model is loaded once), real files on disk.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

import index.builder
from index.builder import CorpusIndex
from index.catalog import Catalog, DocumentLookup, NewChunk
from index.embedding import MiniLMEmbedder
from index.errors import IndexMismatchError
from index.settings import Settings
from qa.cli import main


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    @property
    def json(self) -> dict[str, object]:
        data = json.loads(self.out)
        assert isinstance(data, dict)
        return data


Cli = Callable[..., CliResult]


def make_cli(
    settings: Settings,
    embedder: MiniLMEmbedder,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Cli:
    """Run ``qa ARGS`` in-process with QA_DATA_DIR / QA_CORPUS_DIR from ``settings`` (extra env as kwargs)."""
    monkeypatch.setattr(index.builder, "MiniLMEmbedder", lambda *args, **kwargs: embedder)

    def run(*argv: str, **env: str) -> CliResult:
        monkeypatch.setenv("QA_DATA_DIR", str(settings.data_dir))
        monkeypatch.setenv("QA_CORPUS_DIR", str(settings.corpus_dir))
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        capsys.readouterr()
        code = main(list(argv))
        captured = capsys.readouterr()
        for key in env:
            monkeypatch.delenv(key)
        return CliResult(code, captured.out, captured.err)

    return run


def index_state(settings: Settings, embedder: MiniLMEmbedder) -> tuple[dict[str, list[str]], set[str]]:
    """(catalog chunk ids per document, every chunk id in the Chroma collection), read by a fresh index."""
    corpus_index = CorpusIndex(settings, embedder=embedder)
    corpus_index.open()
    try:
        by_doc = {doc_id: corpus_index.catalog.chunk_ids_of(doc_id) for doc_id in corpus_index.documents()}
        return by_doc, corpus_index.store.ids()
    finally:
        corpus_index.catalog.close()


def assert_consistent(settings: Settings, embedder: MiniLMEmbedder) -> dict[str, list[str]]:
    """Chroma holds exactly the catalog's chunks; every chunk's text is its document's slice."""
    by_doc, chroma_ids = index_state(settings, embedder)
    catalog_ids = {cid for ids in by_doc.values() for cid in ids}
    assert chroma_ids == catalog_ids
    assert sum(len(ids) for ids in by_doc.values()) == len(catalog_ids), "no duplicate chunk ids"
    return by_doc


def _catalog_of(path: Path, n: int) -> Catalog:
    """A catalog of ``n`` one-chunk documents, ``doc-0000.txt`` indexed first."""
    catalog = Catalog(path)
    for i in range(n):
        text = f"Document {i}\nAbout the pact number {i}.\n"
        catalog.replace_document(
            doc_id=f"doc-{i:04d}.txt",
            file_name=f"doc-{i:04d}.txt",
            title=f"Document {i}",
            date=None,
            content_hash=f"hash-{i}",
            text=text,
            chunks=[NewChunk(f"doc-{i:04d}.txt#0", 0, 0, len(text))],
            indexed_at=f"2026-12-02T00:{i // 60:02d}:{i % 60:02d}+00:00",
        )
    return catalog


def test_the_documents_tab_reads_a_page_of_recent_documents_through_an_index(tmp_path: Path) -> None:
    catalog = _catalog_of(tmp_path / "catalog.sqlite3", 30)
    recent = catalog.recent_documents(5)
    assert sorted(recent) == [f"doc-{i:04d}.txt" for i in range(25, 30)]
    assert recent["doc-0029.txt"].title == "Document 29"
    plan = " ".join(
        str(row[-1])
        for row in catalog.db.execute(
            "EXPLAIN QUERY PLAN SELECT doc_id FROM documents ORDER BY indexed_at DESC, doc_id LIMIT 5"
        )
    )
    assert "documents_recent" in plan, plan  # not a scan and sort of every document


def test_document_lookup_reads_only_what_is_asked_and_is_never_stale(tmp_path: Path) -> None:
    catalog = _catalog_of(tmp_path / "catalog.sqlite3", 3)
    docs = DocumentLookup(catalog)
    assert len(docs) == 3 and list(docs) == ["doc-0000.txt", "doc-0001.txt", "doc-0002.txt"]
    assert docs["doc-0001.txt"].title == "Document 1" and docs.get("missing.txt") is None
    with pytest.raises(KeyError):
        docs["missing.txt"]
    catalog.remove_document("doc-0001.txt")
    assert "doc-0001.txt" not in docs and len(docs) == 2  # a removal is seen at once, without a reload


def test_keyword_search_sees_chunks_written_by_another_process_since_its_last_query(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite3"
    reader = _catalog_of(path, 20)
    before = reader.bm25(["pact"], 50)
    assert len(before) == 20
    writer = Catalog(path)  # another connection, as `qa index` beside a server
    text = "Pact pact pact\nThe pact, the pact.\n"
    writer.replace_document(
        doc_id="new.txt",
        file_name="new.txt",
        title="Pact",
        date=None,
        content_hash="new",
        text=text,
        chunks=[NewChunk("new.txt#0", 0, 0, len(text))],
        indexed_at="2026-12-02T01:00:00+00:00",
    )
    after = reader.bm25(["pact"], 50)
    assert after[0][0] == "new.txt#0" and len(after) == 21
    assert after == Catalog(path).bm25(["pact"], 50)  # scored with every chunk's length, as a fresh reader does


def test_keyword_search_returns_exactly_what_scoring_every_posting_returns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """BM25 skips postings that cannot change the n best (max-score pruning): the n best and their scores must be
    those of the textbook formula over every posting, also when one rare word and several common ones meet."""
    import math
    import random

    from index.catalog import BM25_B, BM25_K1, bm25_idf
    from index.keywords import terms

    rng = random.Random(7)
    common = ["alpha", "bravo", "charlie", "delta", "echo"]
    rare = ["zulu", "yankee", "xray"]
    catalog = Catalog(tmp_path / "catalog.sqlite3")
    texts: dict[str, str] = {}
    for i in range(400):
        words = [rng.choice(common) for _ in range(rng.randint(3, 40))] + ["filler"] * rng.randint(0, 10)
        if i % 37 == 0:
            words += [rng.choice(rare)] * rng.randint(1, 3)
        text = " ".join(rng.sample(words, len(words)))
        doc_id = f"doc-{i:03d}.txt"
        texts[f"{doc_id}#0"] = text
        catalog.replace_document(
            doc_id=doc_id,
            file_name=doc_id,
            title=doc_id,
            date=None,
            content_hash=str(i),
            text=text,
            chunks=[NewChunk(f"{doc_id}#0", 0, 0, len(text))],
            indexed_at="2026-12-02T00:00:00+00:00",
        )
    counted = {cid: terms(text) for cid, text in texts.items()}
    avgdl = sum(len(t) for t in counted.values()) / len(counted)

    def textbook(query: list[str], n: int) -> list[tuple[str, float]]:
        df = {q: sum(q in t for t in counted.values()) for q in set(query)}
        scores: dict[str, float] = {}
        for cid, chunk_terms in counted.items():
            score = 0.0
            for q in set(query):
                tf = chunk_terms.count(q)
                if tf:
                    norm = tf + BM25_K1 * (1 - BM25_B + BM25_B * len(chunk_terms) / avgdl)
                    score += bm25_idf(len(counted), df[q]) * query.count(q) * tf * (BM25_K1 + 1) / norm
            if score:
                scores[cid] = score
        return sorted(scores.items(), key=lambda item: -item[1])[:n]

    pruned: list[str] = []  # terms read only for the chunks that could still make the n best
    read_some = Catalog._postings_of
    monkeypatch.setattr(
        Catalog, "_postings_of", lambda self, term, chunks: pruned.append(term) or read_some(self, term, chunks)
    )
    for query in (["zulu", "alpha", "bravo", "charlie"], ["yankee", "xray", "delta"], ["echo", "alpha"], ["zulu"]):
        for n in (1, 5, 20):
            found = catalog.bm25(query, n)
            expected = textbook(query, n)
            assert [round(s, 9) for _, s in found] == [round(s, 9) for _, s in expected], (query, n)
            # Same scores; a tie may be listed in either order, so compare the chunks above the last score.
            last = expected[-1][1]
            assert {c for c, s in found if not math.isclose(s, last)} == {
                c for c, s in expected if not math.isclose(s, last)
            }
    assert pruned, "no query took the pruned path: the comparison above checked only the full one"


def test_second_index_run_changes_nothing(cli: Cli, settings: Settings, embedder: MiniLMEmbedder) -> None:
    first = cli("index", "--json")
    assert first.code == 0, first.err
    summary = first.json
    assert summary["documents"] == 5 and summary["added"] == 5
    assert summary["embedded"] == summary["chunks"] and int(str(summary["chunks"])) > 20
    before = assert_consistent(settings, embedder)

    second = cli("index", "--json").json
    assert (second["added"], second["updated"], second["removed"], second["embedded"]) == (0, 0, 0, 0)
    assert second["unchanged"] == 5 and second["chunks"] == summary["chunks"]
    assert assert_consistent(settings, embedder) == before


def test_llama_index_reads_the_collection_as_text_nodes(cli: Cli, settings: Settings, embedder: MiniLMEmbedder) -> None:
    """The store writes with Chroma's client, not llama-index's; a llama-index pipeline over the same collection
    still retrieves our chunks, text and offsets included."""
    from llama_index.core.vector_stores.types import VectorStoreQuery
    from llama_index.vector_stores.chroma import ChromaVectorStore

    assert cli("index", "--json").code == 0
    corpus_index = CorpusIndex(settings, embedder=embedder)
    corpus_index.open()
    try:
        store = ChromaVectorStore(chroma_collection=corpus_index.store._collection)
        question = "What did Albania authorize KAYO to produce?"
        query = VectorStoreQuery(query_embedding=embedder.embed_query(question).tolist(), similarity_top_k=3)
        found = store.query(query)
        assert found.nodes and len(found.nodes) == 3
        for node in found.nodes:
            doc_id, start, end = node.metadata["doc_id"], node.metadata["start"], node.metadata["end"]
            assert node.node_id in corpus_index.catalog.chunk_ids_of(doc_id)
            text = corpus_index.catalog.document_text(doc_id)
            assert node.get_content() == text[start:end]
        assert found.similarities is not None and max(found.similarities) > 0.4
    finally:
        corpus_index.catalog.close()


def test_touching_a_file_changes_nothing(cli: Cli, settings: Settings, embedder: MiniLMEmbedder) -> None:
    cli("index", "--json")
    before = assert_consistent(settings, embedder)
    for path in settings.corpus_dir.iterdir():
        os.utime(path, (1_000_000_000, 1_000_000_000))
    summary = cli("index", "--json").json
    assert (summary["added"], summary["updated"], summary["removed"], summary["embedded"]) == (0, 0, 0, 0)
    assert assert_consistent(settings, embedder) == before


def test_an_unchanged_corpus_is_not_read_again(
    cli: Cli, settings: Settings, embedder: MiniLMEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    import index.reading
    from index.reading import scan_corpus

    monkeypatch.setattr(index.reading, "RACY_NS", 0)  # the files were written a moment ago; trust their stamps
    cli("index", "--json")
    catalog = CorpusIndex(settings, embedder=embedder).catalog
    known = catalog.known_files()
    assert set(known) == set(catalog.hashes()) and len(known) == 5
    files, _ = scan_corpus(settings.corpus_dir, 2**20, known)
    assert [f.hashed for f in files] == [False] * 5  # a stat each, no read
    assert {f.doc_id: f.content_hash for f in files} == catalog.hashes()

    # Touched: read again once, found unchanged, and its new stamp spares the next scan.
    touched = settings.corpus_dir / files[0].doc_id
    os.utime(touched, (1_000_000_000, 1_000_000_000))
    assert sum(f.hashed for f in scan_corpus(settings.corpus_dir, 2**20, catalog.known_files())[0]) == 1
    assert cli("index", "--json").json["embedded"] == 0
    assert sum(f.hashed for f in scan_corpus(settings.corpus_dir, 2**20, catalog.known_files())[0]) == 0


def test_an_edit_that_keeps_the_size_and_the_time_is_still_seen(
    cli: Cli, settings: Settings, embedder: MiniLMEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    import index.reading

    monkeypatch.setattr(index.reading, "RACY_NS", 0)
    cli("index", "--json")
    path = settings.corpus_dir / "003_0a3dde30e4285642.txt"
    before = path.stat()
    original = path.read_text(encoding="utf-8")
    assert "Kosovo" in original
    path.write_text(original.replace("Kosovo", "Kosova"), encoding="utf-8")  # same length
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # as `cp -p` or a restore would leave it
    assert path.stat().st_size == before.st_size and path.stat().st_mtime_ns == before.st_mtime_ns
    summary = cli("index", "--json").json  # the change time (which no one can set back) gives it away
    assert (summary["updated"], summary["embedded"] > 0) == (1, True), summary


def test_editors_temporary_files_are_not_indexed(cli: Cli, settings: Settings, embedder: MiniLMEmbedder) -> None:
    text = "Temporary\nAn editor's copy of an article about Croatia.\n"
    names = ["~$report.docx", "draft.txt~", "#draft.txt#", "article.txt.part", "article.txt.crdownload", "a.txt.swp"]
    for name in [*names, ".#lock.txt", ".draft.txt.swp"]:
        (settings.corpus_dir / name).write_text(text, encoding="utf-8")
    summary = cli("index", "--json").json
    assert summary["documents"] == 5 and summary["skipped"] == []
    assert set(assert_consistent(settings, embedder)) == {p.name for p in settings.corpus_dir.glob("0*.txt")}


def test_editing_one_article_re_embeds_only_it(cli: Cli, settings: Settings, embedder: MiniLMEmbedder) -> None:
    cli("index", "--json")
    before = assert_consistent(settings, embedder)
    edited = sorted(before)[1]
    path = settings.corpus_dir / edited
    original = path.read_text(encoding="utf-8")
    assert "Kosovo" in original
    # a new first line shifts every offset, so every chunk of the article gets a new id
    path.write_text("Correction appended by the desk.\n" + original.replace("Kosovo", "Kosova"), encoding="utf-8")

    summary = cli("index", "--json").json
    after = assert_consistent(settings, embedder)
    assert (summary["added"], summary["updated"], summary["removed"]) == (0, 1, 0)
    assert summary["embedded"] == len(after[edited])
    assert set(after[edited]).isdisjoint(before[edited]), "the edited article's chunks are new"
    assert {d: ids for d, ids in after.items() if d != edited} == {d: ids for d, ids in before.items() if d != edited}
    corpus_index = CorpusIndex(settings, embedder=embedder)
    text = corpus_index.document_text(edited)
    assert text is not None and "Kosova" in text and "Kosovo" not in text


def test_deleting_one_article_removes_exactly_its_chunks(
    cli: Cli, settings: Settings, embedder: MiniLMEmbedder
) -> None:
    cli("index", "--json")
    before = assert_consistent(settings, embedder)
    gone = sorted(before)[0]
    (settings.corpus_dir / gone).unlink()
    summary = cli("index", "--json").json
    after = assert_consistent(settings, embedder)
    assert (summary["added"], summary["updated"], summary["removed"], summary["embedded"]) == (0, 0, 1, 0)
    assert after == {d: ids for d, ids in before.items() if d != gone}
    assert summary["chunks"] == sum(len(ids) for ids in after.values())


def test_dry_run_lists_changes_without_making_them(cli: Cli, settings: Settings, embedder: MiniLMEmbedder) -> None:
    cli("index", "--json")
    before = assert_consistent(settings, embedder)
    names = sorted(before)
    (settings.corpus_dir / names[0]).unlink()
    (settings.corpus_dir / names[1]).write_text("Changed Title\nA changed article.\n", encoding="utf-8")
    (settings.corpus_dir / "new article.md").write_text("# New\nSomething new happened.\n", encoding="utf-8")

    listed = cli("index", "--dry-run")
    assert listed.code == 0
    assert "would change: 1 added, 1 updated, 1 removed, 3 unchanged" in listed.out
    assert f"  add: new article.md\n  update: {names[1]}\n  remove: {names[0]}" in listed.out
    summary = cli("index", "--dry-run", "--json").json
    assert summary["dry_run"] is True and summary["embedded"] == 0
    assert assert_consistent(settings, embedder) == before, "a dry run changes nothing"

    applied = cli("index", "--json").json
    assert (applied["added"], applied["updated"], applied["removed"]) == (1, 1, 1)


def test_rebuild_gives_the_same_chunk_ids(cli: Cli, settings: Settings, embedder: MiniLMEmbedder) -> None:
    cli("index", "--json")
    before = assert_consistent(settings, embedder)
    summary = cli("index", "--rebuild", "--json").json
    assert summary["added"] == 5 and summary["embedded"] == summary["chunks"]
    assert assert_consistent(settings, embedder) == before


def test_other_chunk_size_is_a_mismatch(cli: Cli, settings: Settings, embedder: MiniLMEmbedder) -> None:
    cli("index", "--json")
    other = Settings(data_dir=settings.data_dir, corpus_dir=settings.corpus_dir, chunk_size=64, chunk_overlap=8)
    with pytest.raises(IndexMismatchError, match=r"qa index --rebuild"):
        CorpusIndex(other, embedder=embedder).open()
    with pytest.raises(IndexMismatchError, match=r"qa index --rebuild"):
        CorpusIndex(other, embedder=embedder).sync()

    refused = cli("index", QA_CHUNK_SIZE="64", QA_CHUNK_OVERLAP="8")
    assert refused.code == 1
    assert refused.out == ""
    assert refused.err.count("\n") == 1 and "qa index --rebuild" in refused.err and "Traceback" not in refused.err
    asked = cli("ask", "Who signed the defence declaration?", QA_CHUNK_SIZE="64", QA_CHUNK_OVERLAP="8")
    assert asked.code == 1 and asked.err.count("\n") == 1 and "qa index --rebuild" in asked.err

    rebuilt = cli("index", "--rebuild", "--json", QA_CHUNK_SIZE="64", QA_CHUNK_OVERLAP="8").json
    assert rebuilt["added"] == 5
    by_doc = assert_consistent(other, embedder)
    assert sum(len(ids) for ids in by_doc.values()) == rebuilt["chunks"]


def test_missing_corpus_folder_is_a_one_line_error(cli: Cli, settings: Settings, tmp_path: Path) -> None:
    result = cli("index", QA_CORPUS_DIR=str(tmp_path / "nowhere"))
    assert result.code == 2
    assert result.err.count("\n") == 1 and "nowhere" in result.err and "QA_CORPUS_DIR" in result.err
    assert not (settings.data_dir / "chroma").exists()


def test_invalid_settings_are_a_one_line_error(cli: Cli) -> None:
    result = cli("index", QA_CHUNK_SIZE="not-a-number")
    assert result.code == 2 and result.err.count("\n") == 1 and "QA_CHUNK_SIZE" in result.err


def test_a_variable_that_is_no_setting_is_named_not_silently_ignored(cli: Cli) -> None:
    result = cli("index", QA_TOPK="3", QA_RERANKER="true", QA_TEST_PAUSE_AFTER="")
    assert result.code == 0
    lines = result.err.splitlines()
    assert any("QA_TOPK is not a setting" in line and "did you mean QA_TOP_K?" in line for line in lines), lines
    assert any("QA_RERANKER is ignored" in line and "retired" in line for line in lines), lines
    assert not any("QA_TEST_PAUSE_AFTER" in line for line in lines)  # the crash tests' hook
    far = cli("index", QA_SOMETHING_ELSE="1")
    assert "QA_SOMETHING_ELSE is not a setting" in far.err and "QA_CORPUS_DIR" in far.err  # the settings listed
    assert "is not a setting" not in cli("index").err


# -- bad documents ------------------------------------------------------------------------------------------

GOOD = "Albania Signs Pact\nAlbania signed a defence pact with Kosovo and Croatia on Wednesday.\n"


@pytest.fixture
def small_corpus(settings: Settings) -> Path:
    """The corpus folder emptied down to one small good article."""
    shutil.rmtree(settings.corpus_dir)
    settings.corpus_dir.mkdir()
    (settings.corpus_dir / "good.txt").write_text(GOOD, encoding="utf-8")
    return settings.corpus_dir


def skipped_of(result: CliResult) -> dict[str, str]:
    """The skipped files of a ``--json`` run, checked against the warnings printed on stderr."""
    entries = result.json["skipped"]
    assert isinstance(entries, list)
    skipped = {e["doc_id"]: e["reason"] for e in entries}
    for doc_id, reason in skipped.items():
        assert f"warning: skipped {doc_id}: {reason}" in result.err
    return skipped


def indexed_docs(settings: Settings, embedder: MiniLMEmbedder) -> set[str]:
    return set(assert_consistent(settings, embedder))


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.txt", b"", "empty"),
        ("blank.md", b"   \n\n\t\n", "empty"),
        ("binary.txt", bytes(range(256)) * 64, "binary"),
        ("wrong-utf16.txt", b"\xff\xfe" + "Tirana".encode("utf-16-le") + b"\x41", "UTF-16"),
        ("control-chars.txt", bytes([0xE9, 0x01, 0x02, 0x03, 0x04, 0x05]) * 200, "Latin-1"),
        ("broken.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n%%EOF", "PDF"),
        ("garbage.docx", b"PK\x03\x04 not really a zip", "DOCX"),
    ],
)
def test_bad_file_is_skipped_and_the_rest_indexed(
    cli: Cli,
    small_corpus: Path,
    settings: Settings,
    embedder: MiniLMEmbedder,
    name: str,
    data: bytes,
    reason: str,
) -> None:
    (small_corpus / name).write_bytes(data)
    result = cli("index", "--json")
    assert result.code == 0, result.err
    skipped = skipped_of(result)
    assert list(skipped) == [name] and reason in skipped[name]
    assert indexed_docs(settings, embedder) == {"good.txt"}


def test_a_file_indexed_before_and_now_broken_leaves_the_index(
    cli: Cli, small_corpus: Path, settings: Settings, embedder: MiniLMEmbedder
) -> None:
    (small_corpus / "later.txt").write_text("Later Article\nThis one will break.\n", encoding="utf-8")
    cli("index", "--json")
    assert indexed_docs(settings, embedder) == {"good.txt", "later.txt"}
    (small_corpus / "later.txt").write_bytes(b"\x00\x01binary now" * 50)
    result = cli("index", "--json")
    assert "binary" in skipped_of(result)["later.txt"]
    assert result.json["removed"] == 1
    assert indexed_docs(settings, embedder) == {"good.txt"}


def test_unreadable_file_is_skipped(cli: Cli, small_corpus: Path, settings: Settings, embedder: MiniLMEmbedder) -> None:
    secret = small_corpus / "secret.txt"
    secret.write_text("Secret Article\nNobody may read this.\n", encoding="utf-8")
    secret.chmod(0)
    try:
        if os.geteuid() == 0:
            # root reads through chmod 000: scan the folder as an unprivileged user in a forked child
            skipped = _scan_as_nobody(small_corpus)
            assert skipped == {"secret.txt": "cannot be read (Permission denied)"}
            result = cli("index", "--json")
            assert indexed_docs(settings, embedder) == {"good.txt", "secret.txt"}, "root can read it"
        else:
            result = cli("index", "--json")
            assert skipped_of(result) == {"secret.txt": "cannot be read (Permission denied)"}
            assert indexed_docs(settings, embedder) == {"good.txt"}
    finally:
        secret.chmod(0o644)


def _scan_as_nobody(corpus: Path) -> dict[str, str]:
    """``scan_corpus`` run as uid/gid 65534 in a forked child (the parent is root): its skipped files."""
    import tempfile

    # a copy in a folder "nobody" may enter (pytest's tmp_path is private to root)
    base = Path(tempfile.mkdtemp(prefix="qa-unreadable-"))
    try:
        base.chmod(0o755)
        shutil.copytree(corpus, base / "corpus")
        (base / "corpus" / "secret.txt").chmod(0)
        return _fork_scan(base / "corpus")
    finally:
        shutil.rmtree(base)


def _fork_scan(corpus: Path) -> dict[str, str]:
    from index.reading import scan_corpus

    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: drop privileges, scan, report, exit without running pytest's handlers
        status = 1
        try:
            os.close(read_end)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            _, skipped = scan_corpus(corpus, 2**20)
            os.write(write_end, json.dumps({s.doc_id: s.reason for s in skipped}).encode())
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        payload = pipe.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    result = json.loads(payload)
    assert isinstance(result, dict)
    return result


# -- hardening: awkward but valid documents, huge files, links, names ----------------------------------------


def test_latin1_and_utf16_files_are_decoded_and_indexed(
    cli: Cli, small_corpus: Path, settings: Settings, embedder: MiniLMEmbedder
) -> None:
    (small_corpus / "latin1.txt").write_bytes(
        "Señor Müller in Zürich\nThe café near the Piazza was closed, said Señor Müller.\n".encode("latin-1")
    )
    (small_corpus / "utf16.txt").write_bytes(
        "Đukanović u Podgorici\nĐukanović met Šutanovac in Podgorica; both praised the pact.\n".encode("utf-16")
    )
    result = cli("index", "--json")
    assert skipped_of(result) == {}
    assert indexed_docs(settings, embedder) == {"good.txt", "latin1.txt", "utf16.txt"}
    corpus_index = CorpusIndex(settings, embedder=embedder)
    latin1, utf16 = corpus_index.document_text("latin1.txt"), corpus_index.document_text("utf16.txt")
    assert latin1 is not None and "The café near the Piazza was closed, said Señor Müller." in latin1
    assert utf16 is not None and "Đukanović met Šutanovac in Podgorica" in utf16 and "\x00" not in utf16
    docs = corpus_index.documents()
    assert docs["latin1.txt"].title == "Señor Müller in Zürich" and docs["utf16.txt"].title == "Đukanović u Podgorici"
    chunks = corpus_index.chunks(corpus_index.catalog.chunk_ids_of("utf16.txt"))
    assert any("Šutanovac" in c.text for c in chunks.values())


def test_50_mb_files_are_skipped_quickly_with_a_reason(
    cli: Cli, small_corpus: Path, settings: Settings, embedder: MiniLMEmbedder
) -> None:
    size = 50 * 2**20
    with open(small_corpus / "sparse.txt", "wb") as handle:  # 50 MB of NUL bytes, written sparse
        handle.truncate(size)
    block = ("The Balkan summit continued. " * 40_000).encode()[: 2**20]
    with open(small_corpus / "huge.txt", "wb") as handle:  # 50 MB of real, repetitive text
        for _ in range(50):
            handle.write(block)
    started = time.perf_counter()
    result = cli("index", "--json")  # the default limit, 10 MB
    seconds = time.perf_counter() - started
    skipped = skipped_of(result)
    assert skipped["huge.txt"] == "50.0 MB, larger than the 10 MB limit (QA_MAX_FILE_MB)"
    assert skipped["sparse.txt"] == "50.0 MB, larger than the 10 MB limit (QA_MAX_FILE_MB)"
    assert indexed_docs(settings, embedder) == {"good.txt"}
    assert seconds < 60

    # under a 64 MB limit the 50 MB NUL file is read, hashed and refused as binary, without hanging
    (small_corpus / "huge.txt").unlink()
    started = time.perf_counter()
    result = cli("index", "--json", QA_MAX_FILE_MB="64")
    assert "binary" in skipped_of(result)["sparse.txt"]
    assert time.perf_counter() - started < 60
    assert indexed_docs(settings, embedder) == {"good.txt"}


def test_pdf_and_docx_are_indexed_beside_text(
    cli: Cli, small_corpus: Path, settings: Settings, embedder: MiniLMEmbedder
) -> None:
    from tests.test_reading import PDF_LINES, make_docx, make_pdf

    make_pdf(small_corpus / "report.pdf")
    make_docx(small_corpus / "pact.docx")
    result = cli("index", "--json")
    assert skipped_of(result) == {}
    assert indexed_docs(settings, embedder) == {"good.txt", "report.pdf", "pact.docx"}
    corpus_index = CorpusIndex(settings, embedder=embedder)
    assert PDF_LINES[1] in (corpus_index.document_text("report.pdf") or "")
    assert corpus_index.documents()["pact.docx"].title == "Croatia Joins the Pact"


def test_html_full_of_scripts_and_styles_indexes_only_its_text(
    cli: Cli, small_corpus: Path, settings: Settings, embedder: MiniLMEmbedder
) -> None:
    noise = "<script>window.dataLayer.push({'SCRIPTNOISE': %d});</script><style>.ad%d{display:none}</style>"
    body = "".join(noise % (i, i) for i in range(500))
    (small_corpus / "page.html").write_text(
        f"<html><head><title>Summit Page</title>{body}</head><body>{body}"
        f"<p>Leaders met in Tirana to discuss the defence pact.</p>{body}</body></html>",
        encoding="utf-8",
    )
    result = cli("index", "--json")
    assert skipped_of(result) == {}
    corpus_index = CorpusIndex(settings, embedder=embedder)
    text = corpus_index.document_text("page.html")
    assert text == "Leaders met in Tirana to discuss the defence pact."
    assert corpus_index.documents()["page.html"].title == "Summit Page"
    assert indexed_docs(settings, embedder) == {"good.txt", "page.html"}


def test_symlink_loops_and_links_out_of_the_corpus_are_skipped(
    cli: Cli, small_corpus: Path, settings: Settings, embedder: MiniLMEmbedder, tmp_path: Path
) -> None:
    (small_corpus / "loop-a.txt").symlink_to("loop-b.txt")
    (small_corpus / "loop-b.txt").symlink_to("loop-a.txt")
    (small_corpus / "self.txt").symlink_to("self.txt")
    (small_corpus / "dangling.txt").symlink_to("missing.txt")
    outside = tmp_path / "outside.txt"
    outside.write_text("Outside\nThis file is not in the corpus.\n", encoding="utf-8")
    (small_corpus / "escape.txt").symlink_to(outside)
    (small_corpus / "again").symlink_to(".", target_is_directory=True)  # a directory loop
    (small_corpus / "alias.txt").symlink_to("good.txt")  # a link inside the corpus is a document
    result = cli("index", "--json")
    assert result.code == 0
    skipped = skipped_of(result)
    assert {name: skipped[name] for name in ("loop-a.txt", "loop-b.txt", "self.txt", "dangling.txt")} == dict.fromkeys(
        ("loop-a.txt", "loop-b.txt", "self.txt", "dangling.txt"), "a broken or looping symlink"
    )
    assert skipped["escape.txt"] == "a symlink out of the corpus"
    assert indexed_docs(settings, embedder) == {"good.txt", "alias.txt"}


def test_odd_file_names_are_indexed_under_their_names(
    cli: Cli, small_corpus: Path, settings: Settings, embedder: MiniLMEmbedder
) -> None:
    names = {
        "Kosovo report 2024.txt": "Kosovo Report\nKosovo asked to join the pact.\n",
        "Đukanović – intervju.md": "# Intervju\nĐukanović spoke about Montenegro.\n",
        "weird..name...txt": "Weird Name\nA file whose name has dots in it.\n",
        "a b/ç..d/nested file.txt": "Nested\nA file in folders with odd names.\n",
    }
    for name, text in names.items():
        path = small_corpus / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (small_corpus / "..hidden.txt").write_text("Hidden\nDot files are ignored.\n", encoding="utf-8")
    result = cli("index", "--json")
    assert skipped_of(result) == {}
    assert indexed_docs(settings, embedder) == {"good.txt", *names}
    corpus_index = CorpusIndex(settings, embedder=embedder)
    for name, text in names.items():
        assert corpus_index.document_text(name) == text
    assert cli("index", "--json").json["unchanged"] == 5

    (small_corpus / "weird..name...txt").unlink()
    assert cli("index", "--json").json["removed"] == 1
    assert "weird..name...txt" not in indexed_docs(settings, embedder)


def test_a_named_pipe_is_skipped_without_blocking(
    cli: Cli, small_corpus: Path, settings: Settings, embedder: MiniLMEmbedder
) -> None:
    os.mkfifo(small_corpus / "pipe.txt")
    result = cli("index", "--json")
    assert skipped_of(result) == {"pipe.txt": "not a regular file"}
    assert indexed_docs(settings, embedder) == {"good.txt"}
