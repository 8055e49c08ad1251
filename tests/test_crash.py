"""Crash safety: ``qa index`` killed with SIGKILL part-way, then run again, ends exactly like a clean rebuild.

Each case runs the real CLI in a subprocess that kills itself at a chosen point (``QA_TEST_KILL_AFTER``, see
``index.builder._test_hooks``; small batches through ``QA_TEST_FLUSH_CHUNKS``) or is killed from outside at
a random moment. The next run (in-process, real model) must report that it reconciled, and the Chroma ids
and the catalog ids must both equal those of a clean ``--rebuild`` of the same corpus in another data folder.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest

from index.builder import CorpusIndex
from index.embedding import MiniLMEmbedder
from index.settings import Settings
from tests.conftest import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

FLUSH = "10"  # chunks per batch: the seed corpus (about 60 chunks) gives four (a batch commits to the catalog at once)


def index_command(settings: Settings, *args: str, **env: str) -> subprocess.Popen[str]:
    """``python -m qa.cli index --json ARGS`` on ``settings``' folders, with test hooks in ``env``."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    full_env.update(
        QA_DATA_DIR=str(settings.data_dir),
        QA_CORPUS_DIR=str(settings.corpus_dir),
        QA_TEST_FLUSH_CHUNKS=FLUSH,
        PYTHONPATH=str(ROOT),
        **env,
    )
    return subprocess.Popen(
        [sys.executable, "-m", "qa.cli", "index", "--json", *args],
        cwd=ROOT,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_killed(settings: Settings, kill_after: str, *args: str) -> None:
    """Run ``qa index`` that SIGKILLs itself at ``kill_after``; check that it really died there."""
    process = index_command(settings, *args, QA_TEST_KILL_AFTER=kill_after)
    out, err = process.communicate(timeout=600)
    assert process.returncode == -signal.SIGKILL, f"expected a kill at {kill_after}: rc={process.returncode} {err}"
    assert out == "", "killed before printing its summary"


def state(settings: Settings, embedder: MiniLMEmbedder) -> tuple[set[str], set[str], int]:
    """(catalog chunk ids, Chroma chunk ids, catalog chunk rows) of the index in ``settings.data_dir``."""
    corpus_index = CorpusIndex(settings, embedder=embedder)
    corpus_index.store.open(embedder.name, embedder.dim, create=True)
    try:
        _, rows = corpus_index.catalog.counts()
        return corpus_index.catalog.chunk_ids(), corpus_index.store.ids(), rows
    finally:
        corpus_index.catalog.close()


def clean_rebuild_ids(corpus: Path, tmp_path: Path, embedder: MiniLMEmbedder) -> set[str]:
    clean = Settings(data_dir=tmp_path / "clean-data", corpus_dir=corpus)
    CorpusIndex(clean, embedder=embedder).sync(rebuild=True)
    catalog_ids, chroma_ids, rows = state(clean, embedder)
    assert catalog_ids == chroma_ids and rows == len(catalog_ids) and catalog_ids
    return catalog_ids


def resume_and_check(
    settings: Settings, embedder: MiniLMEmbedder, expected: set[str], interrupted: bool = True
) -> None:
    """Run the index again (it must reconcile when the kill ``interrupted`` a run) and compare with the clean
    rebuild."""
    report = CorpusIndex(settings, embedder=embedder).sync()
    assert report.reconciled == interrupted, f"reconciled={report.reconciled}, expected {interrupted} (dirty mark)"
    catalog_ids, chroma_ids, rows = state(settings, embedder)
    assert rows == len(catalog_ids), "no duplicate chunks in the catalog"
    assert catalog_ids == expected, (
        f"catalog: {len(catalog_ids - expected)} extra, {len(expected - catalog_ids)} missing"
    )
    assert chroma_ids == expected, f"chroma: {len(chroma_ids - expected)} extra, {len(expected - chroma_ids)} missing"
    again = CorpusIndex(settings, embedder=embedder).sync()
    assert not again.reconciled and again.embedded_chunks == 0 and not (again.added or again.updated or again.removed)


@pytest.mark.parametrize("kill_after", ["flush:1", "catalog:3"])
def test_killed_first_build_converges(
    settings: Settings, embedder: MiniLMEmbedder, tmp_path: Path, kill_after: str
) -> None:
    expected = clean_rebuild_ids(settings.corpus_dir, tmp_path, embedder)
    run_killed(settings, kill_after)
    catalog_ids, chroma_ids, _ = state(settings, embedder)
    assert chroma_ids and catalog_ids != expected, "the kill left a half-built index"
    if kill_after.startswith("flush"):
        assert chroma_ids - catalog_ids, "vectors upserted but not yet in the catalog"
    resume_and_check(settings, embedder, expected)


def edit_corpus(corpus: Path) -> None:
    """Update two articles, delete one, add one."""
    names = sorted(p.name for p in corpus.iterdir())
    for name in names[1:3]:
        path = corpus / name
        path.write_text("Editor's note: updated.\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    (corpus / names[3]).unlink()
    (corpus / "new.md").write_text(
        "# Serbia Responds\nSerbia criticised the declaration on Thursday.\n", encoding="utf-8"
    )


@pytest.mark.parametrize("kill_after", ["remove:1", "catalog:2"])
def test_killed_incremental_update_converges(
    settings: Settings, embedder: MiniLMEmbedder, tmp_path: Path, kill_after: str
) -> None:
    CorpusIndex(settings, embedder=embedder).sync()
    before, _, _ = state(settings, embedder)
    edit_corpus(settings.corpus_dir)
    expected = clean_rebuild_ids(settings.corpus_dir, tmp_path, embedder)
    assert expected != before
    run_killed(settings, kill_after)
    catalog_ids, chroma_ids, _ = state(settings, embedder)
    if kill_after.startswith(("catalog", "remove")):
        assert chroma_ids - catalog_ids, "old vectors of an updated or removed article were not yet deleted"
    resume_and_check(settings, embedder, expected)


def test_killed_twice_then_rebuild_killed_converges(
    settings: Settings, embedder: MiniLMEmbedder, tmp_path: Path
) -> None:
    expected = clean_rebuild_ids(settings.corpus_dir, tmp_path, embedder)
    run_killed(settings, "flush:2")
    run_killed(settings, "catalog:2")  # killed again, after reconciling the first kill
    run_killed(settings, "flush:1", "--rebuild")  # a rebuild killed after dropping everything
    resume_and_check(settings, embedder, expected)


def test_rebuild_killed_between_drop_and_clear_converges(
    settings: Settings, embedder: MiniLMEmbedder, tmp_path: Path
) -> None:
    CorpusIndex(settings, embedder=embedder).sync()
    expected = clean_rebuild_ids(settings.corpus_dir, tmp_path, embedder)
    run_killed(settings, "drop:1", "--rebuild")
    catalog_ids, chroma_ids, _ = state(settings, embedder)
    assert catalog_ids == expected and not chroma_ids, "vectors dropped, catalog not yet cleared"
    resume_and_check(settings, embedder, expected)


def test_killed_at_a_random_moment_converges(settings: Settings, embedder: MiniLMEmbedder, tmp_path: Path) -> None:
    corpus = settings.corpus_dir
    for path in sorted(corpus.iterdir()):  # three times the seed corpus, under different names
        for copy in ("copy-a", "copy-b"):
            shutil.copy(path, corpus / f"{copy}-{path.name}")
    expected = clean_rebuild_ids(corpus, tmp_path, embedder)
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    catalog = settings.data_dir / "catalog.sqlite3"
    for _attempt in range(2):  # a second kill lands on a run that first has to reconcile the first one
        baseline = _documents_in(catalog)
        process = index_command(settings)
        started = time.monotonic()
        while _documents_in(catalog) <= max(baseline, 0) and process.poll() is None:
            assert time.monotonic() - started < 300, "indexing never started"
            time.sleep(0.05)
        delay = rng.uniform(0.0, 2.0)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=60)
        assert process.returncode == -signal.SIGKILL, f"seed {seed}: finished before the kill after {delay:.2f} s"
    # The last kill may land after the run's work was done (its dirty mark cleared) while the process was
    # still exiting: then there is nothing to reconcile, and the index must already be the clean one.
    resume_and_check(settings, embedder, expected, interrupted=_dirty(catalog))


def _dirty(catalog: Path) -> bool:
    """The catalog still carries a run's dirty mark (that run was interrupted)."""
    with closing(sqlite3.connect(f"file:{catalog}?mode=ro", uri=True, timeout=5)) as db:
        return db.execute("SELECT 1 FROM meta WHERE key = 'dirty'").fetchone() is not None


def _documents_in(catalog: Path) -> int:
    if not catalog.exists():
        return -1
    try:
        with closing(sqlite3.connect(f"file:{catalog}?mode=ro", uri=True, timeout=1)) as db:
            return int(db.execute("SELECT COUNT(*) FROM documents").fetchone()[0])
    except sqlite3.Error:
        return -1
