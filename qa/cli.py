"""The ``qa`` command: parses arguments, builds settings once, and turns library errors into one-line messages.

The CLI is the composition root: ``serve`` is the one place that reaches up into ``ui``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from index.errors import CorpusNotFoundError, QAError
from index.runtime import prepare_offline_runtime
from index.settings import Settings, ignored_variables

EXIT_USAGE = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qa", description="Ask questions of a folder of articles; every answer cited."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("index", help="bring the index in step with the corpus folder (incremental)")
    p.add_argument("--rebuild", action="store_true", help="drop the index and build it again")
    p.add_argument("--dry-run", action="store_true", help="list what would change, change nothing")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(handler=_cmd_index)

    p = sub.add_parser("ask", help="answer a question with citations")
    p.add_argument("question")
    p.add_argument(
        "--history",
        action="append",
        default=[],
        metavar="TURN",
        help="an earlier question (repeatable, oldest first)",
    )
    p.add_argument("-k", type=int, default=None, help="passages to retrieve (default QA_TOP_K)")
    p.add_argument("--json", action="store_true", help="print the answer as JSON")
    p.set_defaults(handler=_cmd_ask)

    from qa.evaluation.command import add_eval_parser

    add_eval_parser(sub)

    p = sub.add_parser("serve", help="start the chat UI in the browser")
    p.add_argument("--host", default=None, help="interface to bind (default QA_HOST, 127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="port (default QA_PORT, 7860)")
    p.add_argument(
        "--no-watch",
        action="store_true",
        help="do not follow the corpus folder (default QA_WATCH=true: files added, changed or removed there are "
        "indexed while serving)",
    )
    p.set_defaults(handler=_cmd_serve)

    from qa.local_llm import DEFAULT_CONTEXT, DEFAULT_PORT, DEFAULT_THREADS

    p = sub.add_parser(
        "llm", help="serve the bundled small model (SmolLM2-135M, a demonstration) through llama.cpp on /v1"
    )
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    p.add_argument("--threads", type=int, default=DEFAULT_THREADS, help=f"CPU threads (default {DEFAULT_THREADS})")
    p.add_argument(
        "--context", type=int, default=DEFAULT_CONTEXT, help=f"context size in tokens (default {DEFAULT_CONTEXT})"
    )
    p.set_defaults(handler=_cmd_llm)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``qa`` console script."""
    prepare_offline_runtime()
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "settings"
        print(
            f"qa: invalid configuration ({where.upper() and 'QA_' + where.upper()}): {first['msg']}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    for line in ignored_variables(os.environ):
        print(f"qa: {line}", file=sys.stderr)
    try:
        return int(args.handler(args, settings) or 0)
    except CorpusNotFoundError as exc:
        print(f"qa: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except QAError as exc:
        print(f"qa: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("qa: interrupted", file=sys.stderr)
        return 130


def _cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    from index.builder import CorpusIndex, Progress

    index = CorpusIndex(settings)
    bar: Any = None

    def progress(p: Progress) -> None:
        nonlocal bar
        if not sys.stderr.isatty() or args.json:
            return
        if bar is None:
            from tqdm import tqdm

            bar = tqdm(total=p.documents_total, unit="doc", desc="indexing", file=sys.stderr)
        bar.n = p.documents_done
        bar.set_postfix(chunks=p.chunks_embedded)
        bar.refresh()

    report = _sync(index, settings, args, progress)
    if bar is not None:
        bar.close()
    for skipped in report.skipped:
        print(f"warning: skipped {skipped.doc_id}: {skipped.reason}", file=sys.stderr)
    if args.json:
        print(json.dumps(report.summary()))
        return 0
    verb = "would change" if args.dry_run else "indexed"
    print(
        f"{verb}: {len(report.added)} added, {len(report.updated)} updated, {len(report.removed)} removed, "
        f"{report.unchanged} unchanged"
    )
    if args.dry_run:
        for label, ids in (("add", report.added), ("update", report.updated), ("remove", report.removed)):
            for doc_id in ids:
                print(f"  {label}: {doc_id}")
    else:
        status = index.status()
        print(
            f"index: {status.documents} documents, {status.chunks} chunks, model {status.model}, "
            f"{status.location} ({report.seconds:.1f} s, {report.embedded_chunks} chunks embedded)"
        )
    return 0


def _sync(index: Any, settings: Settings, args: argparse.Namespace, progress: Any) -> Any:
    """Run the sync here, or hand it to the ``qa serve`` that owns the data folder (a dry run reads only)."""
    from index.lease import OwnerInfo, request_sync, take_lease

    if args.dry_run:
        return index.sync(dry_run=True, rebuild=args.rebuild, progress=progress)
    index.require_corpus()  # before anything is created in the data folder

    def waiting(owner: OwnerInfo) -> None:
        print(f"qa: waiting for {owner.describe()} to finish with {settings.data_dir}", file=sys.stderr)

    found = take_lease(settings.data_dir, "index", waiting)
    if isinstance(found, OwnerInfo):
        what = "rebuild (questions wait until it is done)" if args.rebuild else "sync"
        print(f"note: {found.describe()} serves this index, so it runs the {what}", file=sys.stderr)
        return request_sync(found, _sync_request(settings, rebuild=args.rebuild), progress)
    with found:
        return index.sync(rebuild=args.rebuild, progress=progress)


def _sync_request(settings: Settings, *, rebuild: bool) -> dict[str, object]:
    """What a server checks before it runs a sync for the CLI: the same corpus, store and chunker."""
    return {
        "command": "sync",
        "rebuild": rebuild,
        "corpus_dir": str(settings.corpus_dir.resolve()),
        "collection": settings.collection,
        "chroma_url": settings.chroma_url,
        "chunker": settings.chunker_signature,
    }


def _cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from qa.service import build_answerer

    answerer = build_answerer(settings, open_index=False)
    answerer.validate(args.question)  # a question that cannot be asked is told before the index is opened
    answerer.index.open()
    answer = answerer.answer(args.question, args.history, args.k)
    if args.json:
        print(json.dumps(answer.to_json(), ensure_ascii=False))
        return 0
    if answer.notice:
        print(f"note: {answer.notice}", file=sys.stderr)
    print(answer.text)
    if answer.citations or answer.closest:  # a refusal's closest sentences are cited like an answer's
        print()
        for c in answer.citations or answer.closest:
            print(f"[{c.n}] {c.title} — {c.source}{f' ({c.date})' if c.date else ''}")
            print(f'    "{c.quote}"')
    return 0


def _cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from ui.app import serve

    if args.no_watch:
        settings = settings.model_copy(update={"watch": False})
    serve(settings, host=args.host, port=args.port)
    return 0


def _cmd_llm(args: argparse.Namespace, settings: Settings) -> int:
    from qa.local_llm import ServerOptions, serve

    try:
        options = ServerOptions(host=args.host, port=args.port, threads=args.threads, context=args.context)
    except ValueError as exc:
        print(f"qa: {exc}", file=sys.stderr)
        return EXIT_USAGE
    serve(options)
    return 0


if __name__ == "__main__":
    sys.exit(main())
