"""Generative mode over the seed development questions: the bundled model (llama.cpp) and the scripted server.

Run: ``.venv/bin/python -m bench.generative [--model local|scripted|both] [--threads 2] [--questions FILE]``.
Indexes ``corpus/`` into a temporary folder, then asks every question of ``eval_data/seed_dev.jsonl`` (or of
``--questions``, e.g. ``bench/data/generative_dev.jsonl``, the questions written to choose settings on) through
``Answerer.stream`` and reports: questions answered generatively with at least one supported, cited sentence;
answer sentences supported (of those the model wrote), and how many were cited by the model or attributed by
the check; the model's citations dropped as invalid; fallbacks to the extractive answer; model refusals;
citations verbatim in their document; first-token and whole-answer latency.

The scripted server (tests/fake_llm.py) copies the first sentence of passage 1 and cites it [1]: a model that
always cites correctly, which shows what the pipeline costs around a model and what a perfect citer gets.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from index.runtime import prepare_offline_runtime

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Tally:
    name: str
    questions: int = 0
    generative_with_support: int = 0
    sentences: int = 0
    supported: int = 0
    attributed: int = 0
    markers: int = 0
    markers_dropped: int = 0
    fallbacks: int = 0
    model_refusals: int = 0
    not_asked: int = 0
    retried: int = 0  # the model was asked a second time (nothing of its first reply supported)
    rescued: int = 0  # ... and the second reply gave a generative answer with a supported sentence
    citations: int = 0
    verbatim: int = 0
    first_token: list[float] = field(default_factory=list)
    whole: list[float] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)


@contextmanager
def scripted_server() -> Iterator[str]:
    from tests.fake_llm import FakeLLM, Reply

    def script(body: dict[str, Any]) -> Reply:
        user = next(m["content"] for m in body["messages"] if m["role"] == "user")
        found = re.search(r'<passage id="1"[^>]*>\n(.*?)\n</passage>', user, re.S)
        if not body.get("stream") or found is None:
            return Reply("NOT_IN_DOCUMENTS")
        import html

        from index.sentences import split_sentences

        text = html.unescape(found.group(1))
        s, e = split_sentences(text)[0]
        return Reply(f"{text[s:e]} [1]")

    with FakeLLM() as server:
        server.script = script
        yield server.base_url


@contextmanager
def local_server(threads: int) -> Iterator[str]:
    from qa.local_llm import LocalLLMServer, ServerOptions, free_port

    with LocalLLMServer(ServerOptions(port=free_port(), threads=threads)) as server:
        yield server.base_url


def run(name: str, base_url: str, model: str, data: Path, questions: list[dict[str, Any]]) -> Tally:
    from index.settings import Settings
    from qa.answering import found_related_passages
    from qa.generative import split_claims
    from qa.service import build_answerer, build_index
    from qa.types import Answer, Restart

    settings = Settings(
        data_dir=data, corpus_dir=ROOT / "corpus", llm_base_url=base_url, llm_model=model, llm_timeout=120
    )
    index = build_index(settings)
    answerer = build_answerer(settings, index=index)
    extractive = build_answerer(settings.model_copy(update={"llm_base_url": None}), index=index)
    tally = Tally(name)
    for q in questions:
        history = q.get("history", ())
        tally.questions += 1
        started = time.perf_counter()
        first: float | None = None
        parts: list[str] = []
        final: Answer | None = None
        for event in answerer.stream(q["question"], history):
            if isinstance(event, Answer):
                final = event
            elif isinstance(event, Restart):  # the model is asked again: the reply checked is the second one
                parts = []
            else:
                first = first if first is not None else time.perf_counter() - started
                parts.append(event)
        assert final is not None
        tally.whole.append(time.perf_counter() - started)
        if first is not None:
            tally.first_token.append(first)
        asked = found_related_passages(extractive.answer(q["question"], history))
        tally.not_asked += not asked
        for c in final.citations:
            tally.citations += 1
            tally.verbatim += (index.document_text(c.source) or "")[c.start : c.end] == c.quote
        good = final.mode == "generative" and not final.refused and any(s.supported for s in final.sentences)
        tally.retried += final.attempts > 1
        tally.rescued += final.attempts > 1 and good
        if final.mode == "generative" and not final.refused:
            tally.sentences += len(final.sentences)
            tally.supported += sum(s.supported for s in final.sentences)
            tally.attributed += sum(s.attributed for s in final.sentences)
            tally.generative_with_support += any(s.supported for s in final.sentences)
            markers = sum(len(c.cited) for c in split_claims("".join(parts), len(final.retrieved)))
            kept = sum(len(s.citations) for s in final.sentences if not s.attributed)
            tally.markers += markers
            tally.markers_dropped += max(0, markers - kept)
        elif final.mode == "generative":
            tally.model_refusals += 1
        elif asked:
            tally.fallbacks += 1
        tally.rows.append(
            {
                "id": q["id"],
                "mode": final.mode,
                "refused": final.refused,
                "reply": "".join(parts),
                "answer": final.text,
                "notice": final.notice,
                "attempts": final.attempts,
                "seconds": round(tally.whole[-1], 2),
            }
        )
    return tally


def table(tallies: list[Tally]) -> str:
    def share(a: int, b: int) -> str:
        return f"{a}/{b} ({a / b:.0%})" if b else "–"

    def p50(values: list[float]) -> str:
        return f"{statistics.median(values):.1f} s" if values else "–"

    def p95(values: list[float]) -> str:
        return f"{statistics.quantiles(values, n=20)[18]:.1f} s" if len(values) > 1 else p50(values)

    lines = [
        "| metric | " + " | ".join(t.name for t in tallies) + " |",
        "|---|" + "---|" * len(tallies),
    ]
    rows: list[tuple[str, list[str]]] = [
        (
            "questions with a generative answer with ≥1 supported, cited sentence",
            [share(t.generative_with_support, t.questions) for t in tallies],
        ),
        (
            "answer sentences supported (of those shown in generative answers)",
            [share(t.supported, t.sentences) for t in tallies],
        ),
        ("… of which cited by the check, not the model", [share(t.attributed, t.supported) for t in tallies]),
        ("the model's citation markers dropped as invalid", [share(t.markers_dropped, t.markers) for t in tallies]),
        (
            "model asked a second time (nothing of its first reply supported)",
            [share(t.retried, t.questions) for t in tallies],
        ),
        ("… of which answered with ≥1 supported, cited sentence", [share(t.rescued, t.retried) for t in tallies]),
        ("fallbacks to the extractive answer (model asked)", [share(t.fallbacks, t.questions) for t in tallies]),
        ("model replied the passages don't say", [share(t.model_refusals, t.questions) for t in tallies]),
        ("model not asked (no related passage)", [share(t.not_asked, t.questions) for t in tallies]),
        ("shown citations verbatim in their document", [share(t.verbatim, t.citations) for t in tallies]),
        ("first token p50 / p95", [f"{p50(t.first_token)} / {p95(t.first_token)}" for t in tallies]),
        ("whole answer p50 / p95", [f"{p50(t.whole)} / {p95(t.whole)}" for t in tallies]),
    ]
    for label, values in rows:
        lines.append(f"| {label} | " + " | ".join(values) + " |")
    return "\n".join(lines)


def main() -> None:
    prepare_offline_runtime()
    from index.settings import Settings
    from qa.local_llm import MODEL_ALIAS
    from qa.service import build_index

    parser = argparse.ArgumentParser(prog="bench.generative")
    parser.add_argument("--model", choices=["local", "scripted", "both"], default="both")
    parser.add_argument("--threads", type=int, default=2, help="llama.cpp threads for the local model")
    parser.add_argument("--dump", type=Path, default=None, help="write every reply and answer to this JSON file")
    parser.add_argument(
        "--questions",
        type=Path,
        default=ROOT / "eval_data" / "seed_dev.jsonl",
        help="JSON lines with id, question and optional history (default: the seed development questions; "
        "choose settings on bench/data/generative_dev.jsonl, never on the evaluation sets)",
    )
    args = parser.parse_args()
    questions = [json.loads(line) for line in args.questions.read_text().splitlines() if line.strip()]
    tallies: list[Tally] = []
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        build_index(Settings(data_dir=data, corpus_dir=ROOT / "corpus")).sync()
        if args.model in ("scripted", "both"):
            with scripted_server() as url:
                tallies.append(
                    run("scripted server (cites passage 1's first sentence)", url, "scripted", data, questions)
                )
        if args.model in ("local", "both"):
            with local_server(args.threads) as url:
                tallies.append(
                    run(f"SmolLM2-135M, llama.cpp, {args.threads} threads", url, MODEL_ALIAS, data, questions)
                )
    print(table(tallies))
    if args.dump:
        args.dump.write_text(json.dumps({t.name: t.rows for t in tallies}, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
