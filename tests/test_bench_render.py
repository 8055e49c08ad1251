"""Where ``python -m bench.run`` renders its results: never over the committed table with fewer rows."""

from __future__ import annotations

from pathlib import Path

import pytest

import bench.run as run

COMMITTED = """# Benchmark results

## Indexing

| mode | docs | chunks |
|---|---:|---:|
| embedded | 100 | 108 |
| server | 100 | 108 |
| embedded | 10000 | 10448 |

## Incremental `qa index`, answering, memory

| mode | docs | no-change wall s |
|---|---:|---:|
| embedded | 1000 | 0.22 |
"""


@pytest.fixture
def paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A committed RESULTS.md and an empty work folder in ``tmp_path``; rendering writes a marker line."""
    committed, work = tmp_path / "RESULTS.md", tmp_path / "work"
    committed.write_text(COMMITTED)
    work.mkdir()
    monkeypatch.setattr(run, "ROOT", tmp_path)
    monkeypatch.setattr(run, "RESULTS_MD", committed)
    monkeypatch.setattr(run, "WORK", work)
    monkeypatch.setattr(run, "RESULTS_JSON", work / "results.json")
    monkeypatch.setattr(run, "render", lambda stored, large="": f"rendered {sorted(stored['results'])}\n")
    return committed, work


def test_the_committed_rows_are_read_from_the_indexing_table_only() -> None:
    assert run.committed_rows(COMMITTED) == {"embedded-100", "server-100", "embedded-10000"}
    assert run.committed_rows("# nothing rendered yet\n") == set()


def test_results_lacking_a_committed_row_go_to_the_work_folder(
    paths: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    committed, work = paths
    partial = {"results": {"embedded-10000": {}}}
    assert run.render_target(partial, say=False) == work / "RESULTS.md"
    assert capsys.readouterr().out == ""  # a run saving as it goes says where only at its end
    assert run.render_target(partial) == work / "RESULTS.md"
    assert "embedded-100, server-100" in capsys.readouterr().out
    complete = {"results": {"embedded-100": {}, "server-100": {}, "embedded-10000": {}, "server-10000": {}}}
    assert run.render_target(complete) == committed


def test_render_after_a_partial_run_leaves_the_committed_table_alone(
    paths: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    committed, work = paths
    with pytest.raises(SystemExit) as exc:  # a fresh work folder: nothing to render
        run.main(["--render"])
    assert exc.value.code == 2 and "make bench" in capsys.readouterr().err
    (work / "results.json").write_text('{"results": {"embedded-10000": {}}}')
    assert run.main(["--render"]) == 0
    assert committed.read_text() == COMMITTED
    assert (work / "RESULTS.md").read_text() == "rendered ['embedded-10000']\n"
    assert "embedded-100, server-100" in capsys.readouterr().out
