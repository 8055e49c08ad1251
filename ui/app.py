"""The Gradio chat UI: streamed, cited answers and a Documents tab. qa/ answers; this only formats."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from index.builder import Progress, SyncReport
from index.errors import InvalidQuestionError, QAError
from index.settings import Settings
from qa.types import Answer
from ui import render
from ui.backend import ChatBackend

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
EXAMPLES = [
    "What did Croatia say about military blocs?",
    "Which firm did Albania authorize to produce weapons and ammunition?",
    "What did Zelensky promote at the summit?",
]
UPLOAD_TYPES = [".txt", ".md", ".html", ".htm", ".pdf", ".docx"]
# System fonts only: the default theme would otherwise name web fonts.
SYSTEM_FONTS = ["system-ui", "-apple-system", "Segoe UI", "Roboto", "Noto Sans", "DejaVu Sans", "sans-serif"]
MONO_FONTS = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "DejaVu Sans Mono", "monospace"]

Messages = list[dict[str, str]]


def theme() -> gr.themes.Base:
    return gr.themes.Default(primary_hue="blue", neutral_hue="slate", font=SYSTEM_FONTS, font_mono=MONO_FONTS)


class ChatUI:
    """Event handlers: each turns backend results into what the components show."""

    def __init__(self, backend: ChatBackend) -> None:
        self.backend = backend

    # -- chat -------------------------------------------------------------------------------------------
    def chat(self, question: str, messages: Messages | None, turns: list[str] | None) -> Iterator[tuple[Any, ...]]:
        """Stream the answer into the conversation; outputs: messages, turns, sources, notice, question."""
        messages = list(messages or [])
        turns = list(turns or [])
        try:
            cleaned = self.backend.validate(question or "")
        except InvalidQuestionError as exc:
            yield messages, turns, gr.skip(), render.notice_html(str(exc), "warning"), gr.skip()
            return
        messages.append({"role": "user", "content": render.question_html(cleaned)})
        messages.append({"role": "assistant", "content": render.streaming_html("")})
        waiting = "Waiting for the index rebuild to finish…" if self.backend.gate.rebuilding else None
        yield messages, turns, gr.skip(), render.notice_html(waiting), ""
        partial = ""
        final: Answer | None = None
        try:
            for event in self.backend.stream(cleaned, turns):
                if isinstance(event, Answer):
                    final = event
                    break
                partial += event
                messages[-1] = {"role": "assistant", "content": render.streaming_html(partial)}
                yield messages, turns, gr.skip(), "", gr.skip()
        except QAError as exc:
            messages[-1] = {"role": "assistant", "content": render.error_html(str(exc))}
            yield messages, turns, gr.skip(), render.notice_html(str(exc), "error"), gr.skip()
            return
        except Exception as exc:  # the UI must stay usable; the log has the traceback
            log.exception("answering %r failed", cleaned)
            message = f"Something went wrong while answering ({type(exc).__name__}); please try again."
            messages[-1] = {"role": "assistant", "content": render.error_html(message)}
            yield messages, turns, gr.skip(), render.notice_html(message, "error"), gr.skip()
            return
        if final is None:  # stream() always ends with an Answer; kept so a broken one cannot hang the UI
            return
        messages[-1] = {"role": "assistant", "content": render.answer_html(final)}
        sources = render.sources_html(final, self.backend.document_text)
        notice = render.notice_html(final.notice, "warning") if final.notice else ""
        yield messages, [*turns, cleaned], sources, notice, ""

    def new_conversation(self) -> tuple[Any, ...]:
        return [], [], render.sources_html(None, self.backend.document_text), "", ""

    def ask(self, question: str, history: list[str] | None = None) -> dict[str, Any]:
        """The API endpoint: one question (earlier user turns in ``history``) -> the answer as JSON."""
        try:
            answer = self.backend.answer(question, history or [])
        except QAError as exc:
            return {"error": str(exc)}
        out = answer.to_json()
        out["sources"] = [f"[{c.n}] {c.title} — {c.source}{f' ({c.date})' if c.date else ''}" for c in answer.citations]
        return out

    # -- documents --------------------------------------------------------------------------------------
    def overview(self) -> tuple[Any, ...]:
        """Status line, documents table and the delete choices."""
        documents = self.backend.documents()
        choices = [(f"{d.doc_id} — {d.title}", d.doc_id) for d in sorted(documents.values(), key=lambda d: d.doc_id)]
        return (
            render.status_html(self.backend.status()),
            render.documents_html(documents),
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
        lines = [
            render.notice_html(f"Added {d.doc_id} ({d.size / 1024:.1f} KB). {_summary(outcome.report)}", "ok")
            for d in outcome.added
        ]
        lines += [render.notice_html(reason, "error") for reason in outcome.refused]
        return "".join(lines), *self.overview(), None

    def delete(self, doc_id: str | None, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
        """Remove a document and sync; outputs: message, status, table, choices."""
        if not doc_id:
            return render.notice_html("Choose the document to delete first.", "info"), *self.overview()
        try:
            report = self.backend.delete(doc_id, progress=_progress_to(progress))
        except QAError as exc:
            return render.notice_html(str(exc), "error"), *self.overview()
        return render.notice_html(f"Deleted {doc_id}. {_summary(report)}", "ok"), *self.overview()

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


def build_app(backend: ChatBackend) -> gr.Blocks:
    """The Blocks app over a started backend (theme, CSS and JS are passed to ``launch``)."""
    ui = ChatUI(backend)
    max_mb = backend.settings.max_upload_mb
    with gr.Blocks(title="Ask the articles", analytics_enabled=False) as demo:
        gr.HTML(
            '<div class="qa-header"><h1>Ask the articles</h1>'
            "<p>Answers come only from the indexed news articles, "
            "each sentence cited; open a source to read the whole article.</p></div>"
        )
        turns = gr.State([])
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"), gr.Row(equal_height=False):
                with gr.Column(scale=3):
                    chatbot = gr.Chatbot(
                        label="Conversation",
                        elem_id="qa-chat",
                        render_markdown=False,
                        sanitize_html=True,
                        height=480,
                        feedback_options=None,
                        buttons=["copy"],
                        placeholder="Ask a question about the articles; the answer cites its sources.",
                    )
                    notice = gr.HTML("", elem_id="qa-notice")
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
                    with gr.Row():
                        gr.Examples(EXAMPLES, inputs=[question], label="Try asking", elem_id="qa-examples")
                    new = gr.Button("New conversation", elem_id="qa-new", size="sm", variant="secondary")
                with gr.Column(scale=2):
                    gr.HTML("<h3>Sources</h3>")
                    sources = gr.HTML(render.sources_html(None, backend.document_text), elem_id="qa-sources")
            with gr.Tab("Documents", id="documents"):
                status = gr.HTML(elem_id="qa-status")
                documents_message = gr.HTML("", elem_id="qa-documents-message")
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        table = gr.HTML(elem_id="qa-documents")
                    with gr.Column(scale=2):
                        files = gr.File(
                            label=f"Add documents ({', '.join(UPLOAD_TYPES)}; up to {max_mb:g} MB each)",
                            file_count="multiple",
                            file_types=UPLOAD_TYPES,
                            type="filepath",
                            elem_id="qa-upload",
                        )
                        choice = gr.Dropdown(label="Document to delete", choices=[], elem_id="qa-delete-choice")
                        delete = gr.Button("Delete document", variant="stop", elem_id="qa-delete")
                        rebuild = gr.Button("Rebuild the whole index", elem_id="qa-rebuild")

        gr.on(
            [ask.click, question.submit],
            ui.chat,
            inputs=[question, chatbot, turns],
            outputs=[chatbot, turns, sources, notice, question],
            api_name="chat",
            concurrency_limit=4,
            concurrency_id="chat",
            show_progress="hidden",
        )
        new.click(
            ui.new_conversation,
            outputs=[chatbot, turns, sources, notice, question],
            api_name="new_conversation",
        )
        index_outputs = [documents_message, status, table, choice]
        files.upload(
            ui.upload,
            inputs=[files],
            outputs=[*index_outputs, files],
            api_name="upload",
            concurrency_id="index",
        )
        delete.click(ui.delete, inputs=[choice], outputs=index_outputs, api_name="delete", concurrency_id="index")
        rebuild.click(ui.rebuild, outputs=index_outputs, api_name="rebuild", concurrency_id="index")
        demo.load(ui.overview, outputs=[status, table, choice], api_name="overview")
        gr.api(ui.ask, api_name="ask")
    return demo


def launch_options(settings: Settings, host: str | None, port: int | None) -> dict[str, Any]:
    """Arguments for ``Blocks.launch``: local by default, a login when QA_AUTH is set, nothing remote."""
    options: dict[str, Any] = {
        "server_name": host or settings.host,
        "server_port": port or settings.port,
        "theme": theme(),
        "css": (STATIC / "app.css").read_text(encoding="utf-8"),
        "js": (STATIC / "app.js").read_text(encoding="utf-8"),
        "max_file_size": int(settings.max_upload_mb * 2**20),
        "footer_links": ["api", "settings"],
        "ssr_mode": False,
        "pwa": False,
        "mcp_server": False,
        "share": False,
        "show_error": False,
    }
    if settings.auth is not None:
        user, _, password = settings.auth.get_secret_value().partition(":")
        options["auth"] = (user, password)
        options["auth_message"] = "Log in to ask the articles (QA_AUTH)."
    return options


def serve(settings: Settings, host: str | None = None, port: int | None = None) -> None:
    """Start the chat UI (building the index first if there is none) and serve until interrupted.

    Raises:
        CorpusNotFoundError, IndexMismatchError, StoreUnavailableError: the index cannot be opened or built.
    """
    backend = ChatBackend.start(settings)
    demo = build_app(backend)
    demo.queue(default_concurrency_limit=1)
    demo.launch(**launch_options(settings, host, port))
