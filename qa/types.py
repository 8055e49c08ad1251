"""Typed results of answering: what ``qa ask --json``, the evaluation and the UI all read."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True, slots=True)
class Passage:
    """A retrieved chunk: ``document_text[start:end] == text``."""

    chunk_id: str
    source: str  # document id (path relative to the corpus)
    title: str
    date: str | None
    start: int
    end: int
    text: str
    score: float  # fused retrieval score, higher is better
    dense: float | None = None  # cosine similarity, when the dense search found it
    keyword: float | None = None  # BM25 score, when the keyword search found it


@dataclass(frozen=True, slots=True)
class Citation:
    """``[n]`` in an answer: the exact quoted span of a source document."""

    n: int
    source: str
    title: str
    quote: str  # document_text[start:end]
    passage: str  # the quote with surrounding context
    start: int
    end: int
    date: str | None = None
    passage_start: int = 0  # offset of ``passage`` in the document text


@dataclass(frozen=True, slots=True)
class AnswerSentence:
    """One sentence of an answer and the citations that support it (generative mode checks them)."""

    text: str
    citations: tuple[int, ...]
    supported: bool = True
    attributed: bool = False  # generative: the model cited nothing here; the check found the supporting sentence


@dataclass(frozen=True, slots=True)
class Answer:
    """The answer to one question."""

    text: str
    refused: bool
    citations: tuple[Citation, ...] = ()
    retrieved: tuple[Passage, ...] = ()
    sentences: tuple[AnswerSentence, ...] = ()
    standalone_question: str = ""
    mode: str = "extractive"  # or "generative"
    notice: str | None = None  # e.g. "the language model was unreachable; showing the extractive answer"
    signals: dict[str, float] = field(default_factory=dict)
    closest: tuple[Citation, ...] = ()  # refused, but these sentences come closest (each cited in ``text``)
    attempts: int = 0  # generative mode: how many times the model was asked to write this answer (0: not asked)

    def to_json(self) -> dict[str, object]:
        """The ``qa ask --json`` object."""
        out: dict[str, object] = {
            "answer": self.text,
            "refused": self.refused,
            "citations": [_citation_json(c) for c in self.citations],
            "retrieved": [{"source": p.source, "text": p.text, "score": round(p.score, 6)} for p in self.retrieved],
        }
        if self.closest:
            out["closest"] = [_citation_json(c) for c in self.closest]
        if self.mode == "generative":
            out["sentences"] = [
                {"text": s.text, "citations": list(s.citations), "supported": s.supported, "attributed": s.attributed}
                for s in self.sentences
            ]
            out["mode"] = self.mode
        if self.attempts:
            out["attempts"] = self.attempts
        if self.notice:
            out["notice"] = self.notice
        return out


@dataclass(frozen=True, slots=True)
class Restart:
    """A streamed answer starts over: the text streamed so far is withdrawn, and ``status`` (one line) is shown
    until new text comes. Generative mode sends it before it asks the model a second time."""

    status: str


# What ``Answerer.stream`` yields: text as it forms (a ``Restart`` withdraws the text so far), then the ``Answer``.
StreamEvent = str | Restart | Answer


def _citation_json(citation: Citation) -> dict[str, object]:
    return {
        k: v for k, v in asdict(citation).items() if k in ("n", "source", "title", "quote", "passage", "start", "end")
    }
