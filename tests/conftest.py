"""Shared fixtures: real parts everywhere — the bundled model, a real Chroma in tmp_path, the real corpus."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from index.builder import CorpusIndex
from index.embedding import MiniLMEmbedder
from index.runtime import prepare_offline_runtime
from index.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")  # Debian's (scripts/install-browser.sh), driven by Playwright
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
CORPUS = ROOT / "corpus"
EVAL_DATA = ROOT / "eval_data"

prepare_offline_runtime()


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the user's QA_* configuration."""
    import os

    for key in list(os.environ):
        if key.startswith("QA_"):
            monkeypatch.delenv(key)


@pytest.fixture(scope="session")
def embedder() -> MiniLMEmbedder:
    """The real bundled model, loaded once per session."""
    model = MiniLMEmbedder()
    model.warm_up()
    return model


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of the seed corpus."""
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS, target)
    return target


@pytest.fixture
def settings(tmp_path: Path, corpus_copy: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", corpus_dir=corpus_copy)


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory: pytest.TempPathFactory, embedder: MiniLMEmbedder) -> Iterator[CorpusIndex]:
    """The seed corpus indexed once per session (read-only for tests)."""
    root = tmp_path_factory.mktemp("seed")
    corpus = root / "corpus"
    shutil.copytree(CORPUS, corpus)
    index = CorpusIndex(Settings(data_dir=root / "data", corpus_dir=corpus), embedder=embedder)
    index.sync()
    yield index


NEWS_QA = ROOT / "training" / "news_qa"  # the team's news questions, each writer's over its own four articles
UNSEEN_WRITER = "w7"  # a validation writer: no weight was trained, and no rule chosen, on its articles or questions


def unseen_writer_questions() -> list[dict[str, Any]]:
    """Writer w7's 120 news questions, as ``training/news_qa/questions.jsonl`` holds them."""
    lines = (NEWS_QA / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    return [row for line in lines if line.strip() and (row := json.loads(line))["writer"] == UNSEEN_WRITER]


def evidence_first(answerer: Any, rows: list[dict[str, Any]]) -> int:
    """How many of the news questions ``rows`` ``answerer`` answers with their evidence in its first quote."""
    from training.encoder_data import holds_evidence

    found = 0
    for row in rows:
        answer = answerer.answer(row["question"])
        quoted = answer.citations[0].quote if answer.citations and not answer.refused else None
        found += quoted is not None and holds_evidence(quoted, row["evidence"])
    return found


@pytest.fixture(scope="session")
def unseen_writer_index(tmp_path_factory: pytest.TempPathFactory, embedder: MiniLMEmbedder) -> CorpusIndex:
    """Writer w7's four news articles indexed once per session (read-only for tests)."""
    root = tmp_path_factory.mktemp("news")
    corpus = root / "corpus"
    corpus.mkdir()
    for article in (NEWS_QA / "articles").glob(f"{UNSEEN_WRITER}_*.txt"):
        shutil.copy(article, corpus / article.name)
    index = CorpusIndex(Settings(data_dir=root / "data", corpus_dir=corpus), embedder=embedder)
    index.sync()
    return index


@pytest.fixture
def cli(
    settings: Settings, embedder: MiniLMEmbedder, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Any:
    """``qa`` through ``qa.cli.main`` on ``settings`` with the session's model (see tests/test_index.py)."""
    from test_index import make_cli

    return make_cli(settings, embedder, monkeypatch, capsys)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Chromium for the browser tests; missing, it fails under CI and skips loudly elsewhere."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: run `bash scripts/install-browser.sh` (apt-get install chromium)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        print(f"\n*** SKIPPING BROWSER TESTS: {message} ***", file=sys.stderr)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()
