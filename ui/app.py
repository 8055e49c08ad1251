"""The Gradio chat UI: streamed, cited answers and a Documents tab. qa/ answers; this only formats."""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import gradio as gr

from index.builder import Progress, SyncReport
from index.errors import InvalidQuestionError, QAError
from index.settings import Settings
from index.uploads import size_limit, trash_folder
from qa.types import Answer, Restart
from ui import render
from ui.backend import ChatBackend

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
EXAMPLES = [
    "What did Croatia say about military blocs?",
    "Which firm did Albania authorize to produce weapons and ammunition?",
    "What did Zelensky promote at the summit?",
]
LIVE_EVERY_S = 2.0  # how often an open page refreshes the status line under the chat
UPLOAD_TYPES = [".txt", ".md", ".html", ".htm", ".pdf", ".docx"]
# System fonts only: the default theme would otherwise name web fonts.
SYSTEM_FONTS = ["system-ui", "-apple-system", "Segoe UI", "Roboto", "Noto Sans", "DejaVu Sans", "sans-serif"]
MONO_FONTS = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "DejaVu Sans Mono", "monospace"]

Messages = list[dict[str, str]]
Answers = dict[int, tuple[str, Answer]]  # an answer's place in the conversation -> (its question, the answer)
MAX_KEPT_ANSWERS = 200  # per conversation: older answers' sources can no longer be shown again


def theme() -> gr.themes.Base:
    return gr.themes.Default(primary_hue="blue", neutral_hue="slate", font=SYSTEM_FONTS, font_mono=MONO_FONTS)


class ChatUI:
    """Event handlers: each turns backend results into what the components show."""

    def __init__(self, backend: ChatBackend, upload_dir: Path | None = None) -> None:
        self.backend = backend
        self.upload_dir = upload_dir.resolve() if upload_dir is not None else None

    # -- chat -------------------------------------------------------------------------------------------
    def chat(
        self, question: str, messages: Messages | None, turns: list[str] | None, answers: Answers | None = None
    ) -> Iterator[tuple[Any, ...]]:
        """Stream the answer into the conversation; outputs: messages, turns, sources, notice, question, answers.

        ``answers`` keeps each answer by its place in the conversation, so that selecting an earlier answer
        (or one of its ``[n]``) shows its sources again (``show_sources``).
        """
        messages = list(messages or [])
        turns = list(turns or [])
        answers = dict(answers or {})
        try:
            cleaned = self.backend.validate(question or "")
        except InvalidQuestionError as exc:
            yield messages, turns, gr.skip(), render.notice_html(str(exc), "warning"), gr.skip(), gr.skip()
            return
        messages.append({"role": "user", "content": render.question_html(cleaned)})
        messages.append({"role": "assistant", "content": render.streaming_html("")})
        waiting = (
            "The index is being rebuilt; the answer comes when it is done." if self.backend.gate.rebuilding else None
        )
        yield messages, turns, gr.skip(), render.notice_html(waiting), "", gr.skip()
        partial = ""
        status: str | None = None  # a line shown above the text while the model is asked a second time
        final: Answer | None = None
        try:
            for event in self.backend.stream(cleaned, turns):
                if isinstance(event, Answer):
                    final = event
                    break
                if isinstance(event, Restart):  # the model is asked again: its first text is withdrawn
                    partial, status = "", event.status
                else:
                    partial += event
                messages[-1] = {"role": "assistant", "content": render.streaming_html(partial, status)}
                yield messages, turns, gr.skip(), "", gr.skip(), gr.skip()
        except QAError as exc:
            messages[-1] = {"role": "assistant", "content": render.error_html(str(exc))}
            yield messages, turns, gr.skip(), render.notice_html(str(exc), "error"), gr.skip(), gr.skip()
            return
        except Exception as exc:  # the UI must stay usable; the log has the traceback
            log.exception("answering %r failed", cleaned)
            message = f"Something went wrong while answering ({type(exc).__name__}); please try again."
            messages[-1] = {"role": "assistant", "content": render.error_html(message)}
            yield messages, turns, gr.skip(), render.notice_html(message, "error"), gr.skip(), gr.skip()
            return
        if final is None:  # stream() always ends with an Answer; kept so a broken one cannot hang the UI
            return
        key = len(messages) - 1  # the answer's place in the conversation names its source cards
        messages[-1] = {"role": "assistant", "content": render.answer_html(final, key)}
        sources = render.sources_html(final, self.backend.document_text, key, cleaned)
        notice = render.notice_html(final.notice, "warning") if final.notice else ""
        answers[key] = (cleaned, replace(final, retrieved=()))  # what the sources panel needs, not the passages
        for dropped in sorted(answers)[:-MAX_KEPT_ANSWERS]:
            del answers[dropped]
        yield messages, [*turns, cleaned], sources, notice, "", answers

    def live(self) -> str:
        """The status line under the chat: an index change in progress, or what the last one made answerable."""
        return render.live_html(self.backend.live())

    def new_conversation(self) -> tuple[Any, ...]:
        """One reset for "New conversation" and the chat's clear button: the messages, the follow-up context
        (earlier questions), the sources panel and the answers kept for it; outputs as ``chat``'s."""
        return [], [], render.sources_html(None, self.backend.document_text), "", "", {}

    def show_sources(self, answers: Answers | None, event: gr.SelectData) -> Any:
        """The sources of the answer selected in the conversation (or of the answer to the question selected)."""
        answers = answers or {}
        index = event.index[0] if isinstance(event.index, list | tuple) else event.index
        if not isinstance(index, int):
            return gr.skip()
        key = index if index in answers else index + 1  # a question: the answer that follows it
        if key not in answers:
            return gr.skip()
        question, answer = answers[key]
        return render.sources_html(answer, self.backend.document_text, key, question)

    def ask(self, question: str, history: list[str] | None = None) -> dict[str, Any]:
        """The API endpoint: one question (earlier user turns in ``history``) -> the answer as JSON."""
        try:
            answer = self.backend.answer(question, history or [])
        except QAError as exc:
            return {"error": str(exc)}
        out = answer.to_json()
        out["sources"] = [
            f"[{c.n}] {c.title} — {c.source}{f' ({c.date})' if c.date else ''}"
            for c in (answer.closest if answer.refused else answer.citations)
        ]
        return out

    # -- documents --------------------------------------------------------------------------------------
    def overview(self) -> tuple[Any, ...]:
        """Status line, documents table and the delete choices."""
        documents = self.backend.documents()
        status = self.backend.status()
        choices = [(f"{d.doc_id} — {d.title}", d.doc_id) for d in sorted(documents.values(), key=lambda d: d.doc_id)]
        return (
            render.status_html(status, self.backend.activity, self.backend.start_up_error),
            render.documents_html(documents, status.documents),
            gr.Dropdown(choices=choices, value=None),
        )

    def upload(self, files: list[str] | None, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
        """Add uploaded files to the corpus and index them; outputs: message, status, table, choices."""
        if not files:
            return render.notice_html("Choose one or more files to add.", "info"), *self.overview(), None
        progress(0, desc="Saving the files…")
        paths = [Path(f) for f in files]
        try:
            outcome = self.backend.upload([(p, p.name) for p in paths], progress=_progress_to(progress))
        except QAError as exc:
            return render.notice_html(str(exc), "error"), *self.overview(), None
        finally:
            self._discard(paths)
        lines = [
            render.notice_html(f"Added {d.doc_id} ({d.size / 1024:.1f} KB). {_summary(outcome.report)}", "ok")
            for d in outcome.added
        ]
        lines += [render.notice_html(reason, "error") for reason in outcome.refused]
        return "".join(lines), *self.overview(), None

    def _discard(self, paths: list[Path]) -> None:
        """Delete the web server's copies of uploaded files: what was added lives in the corpus now, and what
        was refused must not stay where it could be fetched (only files inside the upload folder are touched)."""
        if self.upload_dir is None:
            return
        for path in paths:
            try:
                resolved = path.resolve()
                if not resolved.is_relative_to(self.upload_dir) or resolved == self.upload_dir:
                    continue
                resolved.unlink(missing_ok=True)
                with contextlib.suppress(OSError):  # Gradio keeps each upload in a folder of its own
                    if resolved.parent != self.upload_dir:
                        resolved.parent.rmdir()
            except OSError:
                log.warning("could not delete the uploaded copy %s", path, exc_info=True)

    def ask_to_delete(self, doc_id: str | None) -> tuple[Any, ...]:
        """The first step of a delete: say what will happen and ask; outputs: confirmation box, its text, message."""
        if not doc_id:
            return gr.Column(visible=False), "", render.notice_html("Choose the document to delete first.", "info")
        question = render.delete_question_html(doc_id, trash_folder(self.backend.settings))
        return gr.Column(visible=True), question, ""

    def delete(self, doc_id: str | None, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
        """Move a document to the trash and sync; outputs: message, status, table, choices."""
        if not doc_id:
            return render.notice_html("Choose the document to delete first.", "info"), *self.overview()
        try:
            trashed, report = self.backend.delete(doc_id, progress=_progress_to(progress))
        except QAError as exc:
            return render.notice_html(str(exc), "error"), *self.overview()
        message = (
            f"Deleted {trashed.doc_id}: moved to the trash ({trashed.path.parent}); restore it below to bring it "
            f"back. {_summary(report)}"
        )
        return render.notice_html(message, "ok"), *self.overview()

    def restore(self, entry: str | None, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
        """Put a document back from the trash and sync; outputs: message, status, table, choices."""
        if not entry:
            return render.notice_html("Choose the document to restore first.", "info"), *self.overview()
        try:
            restored, report = self.backend.restore(entry, progress=_progress_to(progress))
        except QAError as exc:
            return render.notice_html(str(exc), "error"), *self.overview()
        return render.notice_html(f"Restored {restored.doc_id}. {_summary(report)}", "ok"), *self.overview()

    def trash(self) -> tuple[Any, ...]:
        """The trash's choices (and the delete confirmation closed); outputs: trash choices, confirmation box."""
        choices = [(f"{d.doc_id} — deleted {d.deleted_at}", d.entry) for d in self.backend.trash()]
        return gr.Dropdown(choices=choices, value=None), gr.Column(visible=False)

    def rebuild(self, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
        """Drop the index and build it again from the corpus folder."""
        progress(0, desc="Dropping the index…")
        try:
            report = self.backend.sync(rebuild=True, progress=_progress_to(progress))
        except QAError as exc:
            return render.notice_html(str(exc), "error"), *self.overview()
        return render.notice_html(
            f"Rebuilt the index in {report.seconds:.1f} s. {_summary(report)}", "ok"
        ), *self.overview()


def _progress_to(progress: gr.Progress) -> Any:
    def report(p: Progress) -> None:
        progress(
            (p.documents_done, max(p.documents_total, 1)),
            desc=f"Indexing: {p.documents_done}/{p.documents_total} documents, {p.chunks_embedded} chunks",
            unit="documents",
        )

    return report


def _summary(report: SyncReport | None) -> str:
    if report is None:
        return ""
    skipped = "".join(f" Skipped {s.doc_id}: {s.reason}." for s in report.skipped)
    return (
        f"Index: {len(report.added)} added, {len(report.updated)} updated, {len(report.removed)} removed; "
        f"now {report.documents} documents, {report.chunks} chunks.{skipped}"
    )


def build_app(backend: ChatBackend, upload_dir: Path | None = None) -> gr.Blocks:
    """The Blocks app over a started backend (theme, CSS and JS are passed to ``launch``); ``upload_dir`` is
    where Gradio keeps uploads, which are deleted once handled."""
    ui = ChatUI(backend, upload_dir)
    max_mb, _ = size_limit(backend.settings)
    # Questions wait in Gradio's queue only as long as every answerer is busy: the worker processes, or (with
    # none, or a language model that streams over the network) a few threads of this process.
    answering = max(4, 2 * (backend.pool.size if backend.pool is not None else 0))
    with gr.Blocks(title="Ask the articles", analytics_enabled=False) as demo:
        gr.HTML(
            '<div class="qa-header"><h1>Ask the articles</h1>'
            "<p>Answers come only from the indexed news articles, "
            "each sentence cited; open a source to read the whole article.</p></div>"
        )
        turns = gr.State([])
        answers = gr.State({})
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"), gr.Row(equal_height=False):
                with gr.Column(scale=3):
                    chatbot = gr.Chatbot(
                        label="Conversation",
                        show_label=False,  # a floating label would cover the first line of a scrolled chat
                        elem_id="qa-chat",
                        render_markdown=False,
                        sanitize_html=True,
                        height=480,
                        feedback_options=None,
                        buttons=["copy"],
                        placeholder="Ask a question about the articles; the answer cites its sources.",
                    )
                    notice = gr.HTML("", elem_id="qa-notice")
                    live = gr.HTML(ui.live(), elem_id="qa-live")
                    with gr.Row():
                        question = gr.Textbox(
                            show_label=False,
                            placeholder="Ask a question about the articles…",
                            elem_id="qa-question",
                            scale=6,
                            max_lines=4,
                            autofocus=True,
                        )
                        ask = gr.Button("Ask", variant="primary", elem_id="qa-ask", scale=1, min_width=80)
                    with gr.Row(elem_id="qa-examples"):
                        gr.HTML('<span class="qa-examples-label">Try asking:</span>')
                        examples = [
                            gr.Button(example, size="sm", variant="secondary", elem_classes=["qa-example"])
                            for example in EXAMPLES
                        ]
                    new = gr.Button("New conversation", elem_id="qa-new", size="sm", variant="secondary")
                with gr.Column(scale=2, elem_id="qa-sources-column"):
                    gr.HTML("<h3>Sources</h3>")
                    sources = gr.HTML(render.sources_html(None, backend.document_text), elem_id="qa-sources")
            with gr.Tab("Documents", id="documents") as documents_tab:
                status = gr.HTML(elem_id="qa-status")
                documents_message = gr.HTML("", elem_id="qa-documents-message")
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        table = gr.HTML(elem_id="qa-documents")
                    with gr.Column(scale=2):
                        files = gr.File(
                            label=f"Add documents ({', '.join(UPLOAD_TYPES)}; up to {max_mb:g} MB each)",
                            file_count="multiple",
                            # No file_types: Gradio's own filter refuses a whole batch for one wrong file. Each
                            # file's type is checked by index.uploads instead, so the others still go in; the
                            # browser's file picker is told the accepted types by app.js, which also refuses a
                            # file over the size limit before it is sent (Gradio would leave an "Error" badge).
                            file_types=None,
                            type="filepath",
                            elem_id="qa-upload",
                        )
                        # Any name is accepted here (an API call needs no list first); index.uploads checks it.
                        choice = gr.Dropdown(
                            label="Document to delete", choices=[], allow_custom_value=True, elem_id="qa-delete-choice"
                        )
                        delete = gr.Button("Delete document…", variant="stop", elem_id="qa-delete")
                        with gr.Column(visible=False, elem_id="qa-delete-confirm") as confirmation:
                            confirm_text = gr.HTML("")
                            with gr.Row():
                                confirm = gr.Button("Move to the trash", variant="stop", elem_id="qa-delete-yes")
                                cancel = gr.Button("Cancel", elem_id="qa-delete-cancel")
                        trashed = gr.Dropdown(
                            label="Deleted documents (in the trash, QA_DATA_DIR/trash)",
                            choices=[],
                            allow_custom_value=True,
                            elem_id="qa-trash-choice",
                        )
                        restore = gr.Button("Restore document", elem_id="qa-restore")
                        rebuild = gr.Button("Rebuild the whole index", elem_id="qa-rebuild")

        chat_outputs = [chatbot, turns, sources, notice, question, answers]
        gr.on(
            [ask.click, question.submit],
            ui.chat,
            inputs=[question, chatbot, turns, answers],
            outputs=chat_outputs,
            api_name="chat",
            concurrency_limit=answering,
            concurrency_id="answer",
            show_progress="hidden",
        )
        for example in examples:  # an example is asked at once (the button's value is its text)
            example.click(
                ui.chat,
                inputs=[example, chatbot, turns, answers],
                outputs=chat_outputs,
                api_visibility="private",
                concurrency_limit=answering,
                concurrency_id="answer",
                show_progress="hidden",
            )
        new.click(ui.new_conversation, outputs=chat_outputs, api_name="new_conversation")
        chatbot.clear(ui.new_conversation, outputs=chat_outputs, api_visibility="private")
        chatbot.select(
            ui.show_sources,
            inputs=[answers],
            outputs=[sources],
            api_visibility="private",
            concurrency_limit=None,
            show_progress="hidden",
        )
        index_outputs = [documents_message, status, table, choice]
        files.upload(
            ui.upload,
            inputs=[files],
            outputs=[*index_outputs, files],
            api_name="upload",
            concurrency_id="index",
        )
        delete.click(
            ui.ask_to_delete,
            inputs=[choice],
            outputs=[confirmation, confirm_text, documents_message],
            api_visibility="private",
            show_progress="hidden",
        )
        choice.change(lambda: gr.Column(visible=False), outputs=[confirmation], api_visibility="private")
        cancel.click(lambda: gr.Column(visible=False), outputs=[confirmation], api_visibility="private")
        confirm.click(
            ui.delete, inputs=[choice], outputs=index_outputs, api_name="delete", concurrency_id="index"
        ).then(ui.trash, outputs=[trashed, confirmation], api_visibility="private")
        restore.click(
            ui.restore, inputs=[trashed], outputs=index_outputs, api_name="restore", concurrency_id="index"
        ).then(ui.trash, outputs=[trashed, confirmation], api_visibility="private")
        rebuild.click(ui.rebuild, outputs=index_outputs, api_name="rebuild", concurrency_id="index")
        demo.load(ui.overview, outputs=[status, table, choice], api_name="overview")
        demo.load(ui.trash, outputs=[trashed, confirmation], api_visibility="private")
        # Opening the tab shows the documents and the trash as they are now: the page may have loaded while the
        # first index was being built, or another session (or `qa index`) changed them since.
        documents_tab.select(
            ui.overview, outputs=[status, table, choice], api_visibility="private", show_progress="hidden"
        ).then(ui.trash, outputs=[trashed, confirmation], api_visibility="private", show_progress="hidden")
        # Every open page asks what the index is doing (an upload, a rebuild, files dropped into the corpus
        # folder); answered from memory, outside the queue, so it never waits behind answers.
        gr.Timer(LIVE_EVERY_S).tick(ui.live, outputs=[live], api_name="live", queue=False, show_progress="hidden")
        gr.api(ui.ask, api_name="ask", concurrency_limit=answering, concurrency_id="answer")
    return demo


def launch_options(
    settings: Settings, host: str | None, port: int | None, upload_root: Path | None = None
) -> dict[str, Any]:
    """Arguments for ``Blocks.launch``: local by default, a login when QA_AUTH is set, nothing remote; the
    ``Guard`` middleware enforces the login's rules and keeps ``upload_root`` unreachable."""
    from starlette.middleware import Middleware

    from ui.guard import Guard

    credentials: tuple[str, str] | None = None
    if settings.auth is not None:
        user, _, password = settings.auth.get_secret_value().partition(":")
        credentials = (user, password)
    options: dict[str, Any] = {
        "server_name": host or settings.host,
        "server_port": port or settings.port,
        "theme": theme(),
        "css": (STATIC / "app.css").read_text(encoding="utf-8"),
        "js": _script(settings),
        "max_file_size": int(settings.max_upload_mb * 2**20),
        "footer_links": ["api", "settings"],
        "ssr_mode": False,
        "pwa": False,
        "mcp_server": False,
        "share": False,
        "show_error": False,
        "app_kwargs": {"middleware": [Middleware(Guard, credentials=credentials, upload_root=upload_root)]},
    }
    if credentials is not None:
        options["auth"] = credentials
        options["auth_message"] = "Log in to ask the articles (QA_AUTH)."
    return options


def _script(settings: Settings) -> str:
    """``static/app.js`` with the upload rules filled in: the accepted types and the size limit, which it
    applies before a file is sent, in the words of ``index.uploads``."""
    max_mb, setting = size_limit(settings)
    values = {
        "__UPLOAD_TYPES__": ",".join(UPLOAD_TYPES),
        "__MAX_UPLOAD_BYTES__": str(int(max_mb * 2**20)),
        "__UPLOAD_LIMIT__": f"{max_mb:g} MB ({setting})",
    }
    script = (STATIC / "app.js").read_text(encoding="utf-8")
    for name, value in values.items():
        script = script.replace(name, value)
    return script


# Gradio's queue summarises every event it has recorded (up to 10,000, in a pandas DataFrame) after *each*
# event, for its /monitoring page: a cost per question that grows with the server's age (measured: 15 % of the
# server's samples under load). Recompute it every 1,000 events over the last 1,000 instead (users' values win).
GRADIO_QUEUE_DEFAULTS = {"GRADIO_ANALYTICS_MAX_EVENTS": "1000", "GRADIO_ANALYTICS_CACHE_FREQUENCY": "1000"}


def upload_folder() -> tuple[Path, Path]:
    """A private folder for this run's uploads inside Gradio's temp folder (``GRADIO_TEMP_DIR``, else
    ``TMP/gradio``), made Gradio's for this process; returns (it, the temp folder)."""
    base = Path(os.environ.get("GRADIO_TEMP_DIR") or Path(tempfile.gettempdir()) / "gradio")
    base.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="qa-uploads-", dir=base))  # 0700
    os.environ["GRADIO_TEMP_DIR"] = str(folder)  # read by Gradio when the app and its components are built
    return folder, base


def serve(settings: Settings, host: str | None = None, port: int | None = None) -> None:
    """Own the data folder, start the chat UI (the index is brought up to date in the background when it is
    missing or was interrupted) and serve until interrupted; ``qa index`` meanwhile hands its work here, and
    with ``settings.watch`` the corpus folder is followed (``ChatBackend.watch``).

    Raises:
        CorpusNotFoundError, IndexMismatchError, StoreUnavailableError: the index cannot be opened or built.
        IndexBusyError: another ``qa serve`` serves this data folder.
    """
    from index.lease import ControlServer, take_server_lease

    def waiting(owner: Any) -> None:
        log.warning("waiting for %s to finish with %s", owner.describe(), settings.data_dir)

    lease = take_server_lease(settings.data_dir, waiting)
    for key, value in GRADIO_QUEUE_DEFAULTS.items():
        os.environ.setdefault(key, value)  # read when the queue is made
    if importlib.util.find_spec("matplotlib") is None:
        # Gradio tries `import matplotlib` twice around every event; not installed, each attempt searches
        # sys.path again (measured: 10 % of the server's busy samples under load). Remember that it is absent.
        sys.modules["matplotlib"] = None  # type: ignore[assignment]
    uploads, upload_root = upload_folder()
    backend: ChatBackend | None = None
    control: ControlServer | None = None
    previous = signal.signal(signal.SIGTERM, _interrupt)  # a stopped server cleans up like an interrupted one
    try:
        backend = ChatBackend.start(settings)
        control = ControlServer(lease, backend.sync_for_cli)
        backend.start_workers()
        if settings.watch:
            backend.watch()
        demo = build_app(backend, uploads)
        demo.queue(default_concurrency_limit=1)
        demo.launch(**launch_options(settings, host, port, upload_root))
    finally:
        signal.signal(signal.SIGTERM, previous)
        if control is not None:
            control.close()
        if backend is not None:
            backend.close()
        lease.release()
        shutil.rmtree(uploads, ignore_errors=True)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt
