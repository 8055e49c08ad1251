"""``qa eval``: parses its arguments, runs the evaluation and prints the figures (a table, or JSON)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from index.errors import QAError
from index.settings import Settings
from qa.evaluation.metrics import Metrics


def add_eval_parser(sub: Any) -> None:
    """Register ``qa eval`` on the CLI's sub-parsers."""
    p = sub.add_parser(
        "eval",
        help="score retrieval, citations, answers and refusals on a labelled question set",
        description="Index the corpus into a throw-away folder, answer every question of the set and "
        "score the answers; with --baseline, compare with the plain llama-index starter pipeline.",
    )
    p.add_argument("--dataset", required=True, type=Path, help="seed .jsonl or llama-index rag_dataset.json")
    p.add_argument(
        "--corpus",
        type=Path,
        default=None,
        help="documents to index (default: source_files/ beside a rag_dataset.json, else QA_CORPUS_DIR)",
    )
    p.add_argument("--out", type=Path, default=None, metavar="RESULTS.jsonl", help="write one JSON line per question")
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    p.add_argument("-k", type=_positive, default=None, help="passages to retrieve (default QA_TOP_K, 5)")
    p.add_argument("--baseline", action="store_true", help="also run the plain llama-index pipeline and compare")
    p.set_defaults(handler=_cmd_eval)


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    if number <= 0:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


def _cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from qa.evaluation.dataset import load_dataset
    from qa.evaluation.runner import evaluate

    dataset = load_dataset(args.dataset)
    bars: dict[str, Any] = {}

    def progress(system: str, done: int, total: int) -> None:
        if args.json or not sys.stderr.isatty():
            return
        if system not in bars:
            from tqdm import tqdm

            bars[system] = tqdm(total=total, unit="q", desc=f"answering ({system})", file=sys.stderr)
        bars[system].n = done
        bars[system].refresh()
        if done == total:
            bars[system].close()

    report = evaluate(dataset, settings, args.corpus, args.k, baseline=args.baseline, progress=progress)
    if args.out is not None:
        try:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            with args.out.open("w", encoding="utf-8") as handle:
                for result in report.ours.results:
                    handle.write(json.dumps(result.to_json(), ensure_ascii=False) + "\n")
        except OSError as exc:
            raise QAError(f"Cannot write {args.out} ({exc.strerror or exc}); choose another --out path.") from exc
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False))
        return 0
    m, ours = report.ours.metrics, report.ours
    print(f"{report.dataset}: {m.questions} questions ({m.answerable} answerable, {m.unanswerable} not)")
    print(f"corpus {report.corpus}: {ours.documents} documents, {ours.chunks} chunks; k={report.k}")
    if report.plain is not None:
        print(f"plain llama-index pipeline: {report.plain.documents} documents, {report.plain.chunks} chunks")
    print()
    plain = report.plain.metrics if report.plain else None
    for line in format_table(m, plain, report.ratios):
        print(line)
    if ours.by_kind:
        print()
        for line in format_kinds(ours.by_kind):
            print(line)
    if args.out is not None:
        print(f"\nper-question results: {args.out}")
    return 0


def format_kinds(by_kind: dict[str, Metrics]) -> list[str]:
    """One line per kind of question: how many, first citation, false refusals, unanswerables refused."""

    def cell(value: float | None) -> str:
        return "-" if value is None else f"{value:.3f}"

    header = f"{'kind':<14}{'questions':>10}{'first citation':>16}{'false refusals':>16}{'refused (unans.)':>18}"
    lines = [header, "-" * len(header)]
    for kind, m in by_kind.items():
        lines.append(
            f"{kind:<14}{m.questions:>10}{cell(m.first_citation):>16}{cell(m.false_refusal_rate):>16}"
            f"{cell(m.refusal_accuracy):>18}"
        )
    return lines


_ROWS: tuple[tuple[str, str, str], ...] = (
    ("hit_at_k", "hit@{k}", "{:.3f}"),
    ("mrr", "MRR", "{:.3f}"),
    ("first_citation", "first citation hits the evidence", "{:.3f}"),
    ("answer_contains", "answer contains the expected terms", "{:.3f}"),
    ("refusal_accuracy", "refusal accuracy (unanswerable)", "{:.3f}"),
    ("false_refusal_rate", "false-refusal rate (answerable)", "{:.3f}"),
    ("citation_verbatim", "citation quotes verbatim in source", "{:.3f}"),
    ("mean_quote_chars", "mean quote length (chars)", "{:,.0f}"),
    ("latency_p50_ms", "latency p50 (ms)", "{:,.1f}"),
    ("latency_p95_ms", "latency p95 (ms)", "{:,.1f}"),
    ("indexing_seconds", "indexing time (s)", "{:,.1f}"),
)


def format_table(ours: Metrics, plain: Metrics | None, ratios: dict[str, float | None]) -> list[str]:
    """The figures as aligned text lines: ours, and the plain pipeline with ours/plain where compared."""

    def cell(value: float | None, pattern: str) -> str:
        return "-" if value is None else pattern.format(value)

    header = f"{'metric':<38}{'ours':>10}"
    if plain is not None:
        header += f"{'plain':>10}{'ours/plain':>12}"
    lines = [header, "-" * len(header)]
    for name, label, pattern in _ROWS:
        line = f"{label.format(k=ours.k):<38}{cell(getattr(ours, name), pattern):>10}"
        if plain is not None:
            ratio = ratios.get(name)
            line += f"{cell(getattr(plain, name), pattern):>10}{cell(ratio, '{:.2f}'):>12}"
        lines.append(line)
    return lines
