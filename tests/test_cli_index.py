"""``qa index`` output: a progress bar only on a terminal, the ``--json`` keys, one-line warnings."""

from __future__ import annotations

import io

import pytest

from index.settings import Settings
from tests.test_index import Cli

JSON_KEYS = {"documents", "chunks", "added", "updated", "removed", "unchanged", "seconds"}


class Terminal(io.StringIO):
    """A stderr that says it is a terminal (what tqdm and the CLI check)."""

    def isatty(self) -> bool:
        return True


def test_json_summary_has_the_documented_keys(cli: Cli) -> None:
    result = cli("index", "--json")
    assert result.code == 0
    summary = result.json
    assert set(summary) >= JSON_KEYS
    assert all(isinstance(summary[key], int) for key in JSON_KEYS - {"seconds"})
    assert isinstance(summary["seconds"], float) and summary["seconds"] > 0
    assert (summary["documents"], summary["added"], summary["unchanged"]) == (5, 5, 0)
    assert result.out.count("\n") == 1, "one JSON line on stdout"
    assert result.err == "", "no progress bar and no warnings when stderr is not a terminal"


def test_progress_bar_only_on_a_terminal(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    result = cli("index")
    assert result.code == 0
    bar = terminal.getvalue()
    assert "indexing" in bar and "5/5" in bar and "chunks=" in bar
    assert "indexed: 5 added, 0 updated, 0 removed, 0 unchanged" in result.out

    quiet = Terminal()
    monkeypatch.setattr("sys.stderr", quiet)
    result = cli("index", "--rebuild", "--json")
    assert result.code == 0 and set(result.json) >= JSON_KEYS
    assert "indexing" not in quiet.getvalue(), "--json never draws a bar"


def test_plain_output_reports_counts_and_location(cli: Cli, settings: Settings) -> None:
    first = cli("index")
    assert first.code == 0
    assert "indexed: 5 added, 0 updated, 0 removed, 0 unchanged" in first.out
    assert "index: 5 documents" in first.out and str(settings.data_dir / "chroma") in first.out
    again = cli("index")
    assert "indexed: 0 added, 0 updated, 0 removed, 5 unchanged" in again.out and "0 chunks embedded" in again.out


def test_skipped_files_are_one_warning_line_each(cli: Cli, settings: Settings) -> None:
    (settings.corpus_dir / "empty.txt").write_bytes(b"")
    (settings.corpus_dir / "nul.txt").write_bytes(b"abc\x00def" * 10)
    result = cli("index")
    assert result.code == 0
    warnings = [line for line in result.err.splitlines() if line.startswith("warning:")]
    assert warnings == [
        "warning: skipped empty.txt: the file is empty",
        "warning: skipped nul.txt: it looks binary (NUL bytes), not text",
    ]
    assert "5 added" in result.out
