"""Labelled question sets: the seed JSONL and llama-index's ``LabelledRagDataset`` JSON, in one shape."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from index.errors import QAError

DatasetFormat = Literal["seed", "rag"]
UNANSWERABLE_FILE = "unanswerable_questions.json"  # SQuAD 2.0's impossible questions, beside rag_dataset.json


class DatasetError(QAError):
    """The question set is missing or not in a format ``qa eval`` reads."""


@dataclass(frozen=True, slots=True)
class Evidence:
    """A span that answers the question: ``quote`` is found in the document ``source``."""

    source: str
    quote: str


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled question.

    ``expected`` lists groups of alternatives: the answer must contain one string of every group
    (the seed set's ``"a|b"``); the external sets have one group, their gold answers.
    """

    id: str
    question: str
    history: tuple[str, ...]
    evidence: tuple[Evidence, ...]
    expected: tuple[tuple[str, ...], ...]
    answerable: bool
    kind: str = ""  # the kind of question, where a set labels it (paraphrase, typo, near_miss, …)


@dataclass(frozen=True, slots=True)
class Dataset:
    """A question set and where it came from."""

    path: Path
    format: DatasetFormat
    examples: tuple[Example, ...]
    default_corpus: Path | None  # None: the settings' corpus folder
    # The seed set's hit rule lets a long overlap count where a chunk boundary cuts the quote; the external
    # sets' gold spans must be contained whole.
    partial_overlap: bool

    @property
    def name(self) -> str:
        return self.path.parent.name if self.format == "rag" else self.path.stem


def load_dataset(path: Path) -> Dataset:
    """Read a question set, detecting its format from the content.

    Raises:
        DatasetError: the file is missing, unreadable, or neither format.
    """
    if not path.is_file():
        raise DatasetError(f"Dataset {path} does not exist; pass a seed .jsonl or a rag_dataset.json file.")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"Dataset {path} cannot be read ({exc}); pass a UTF-8 JSON or JSONL file.") from exc
    try:
        whole = json.loads(text)
    except json.JSONDecodeError:
        whole = None
    if isinstance(whole, dict) and isinstance(whole.get("examples"), list):
        return _rag_dataset(path, whole["examples"])
    if isinstance(whole, dict) and ("question" in whole):  # a one-line JSONL file
        return _seed_dataset(path, [whole])
    if whole is not None:
        raise DatasetError(
            f"Dataset {path} is JSON but has no 'examples' list; expected a llama-index rag_dataset.json."
        )
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"Dataset {path}, line {number}, is not JSON ({exc.msg}); fix or remove it.") from exc
        if not isinstance(row, dict):
            raise DatasetError(f"Dataset {path}, line {number}, is not a JSON object; expected one question a line.")
        rows.append(row)
    return _seed_dataset(path, rows)


def _seed_dataset(path: Path, rows: list[dict[str, Any]]) -> Dataset:
    examples = []
    for number, row in enumerate(rows, start=1):
        question = row.get("question")
        if not isinstance(question, str) or not question.strip():
            raise DatasetError(f"Dataset {path}, question {number}, has no 'question' text; add one.")
        evidence = tuple(
            Evidence(str(e["source"]), str(e["quote"]))
            for e in row.get("evidence") or ()
            if isinstance(e, dict) and e.get("source") and e.get("quote")
        )
        expected = tuple(
            tuple(alt.strip() for alt in str(term).split("|") if alt.strip())
            for term in row.get("answer_contains") or ()
        )
        examples.append(
            Example(
                id=str(row.get("id") or f"q{number:03d}"),
                question=question,
                history=tuple(str(h) for h in row.get("history") or ()),
                evidence=evidence,
                expected=tuple(group for group in expected if group),
                answerable=bool(row.get("answerable", True)),
                kind=str(row.get("kind") or ""),
            )
        )
    if not examples:
        raise DatasetError(f"Dataset {path} holds no questions; add one JSON object a line.")
    return Dataset(path, "seed", tuple(examples), default_corpus=None, partial_overlap=True)


def _rag_dataset(path: Path, rows: list[Any]) -> Dataset:
    examples = [_rag_example(path, row, number) for number, row in enumerate(rows, start=1)]
    extra = path.parent / UNANSWERABLE_FILE
    if extra.is_file():
        try:
            impossible = json.loads(extra.read_text(encoding="utf-8")).get("examples") or []
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError) as exc:
            raise DatasetError(f"{extra} is not a JSON object with 'examples'; fix or remove it.") from exc
        examples += [
            _rag_example(extra, row, number)
            for number, row in enumerate(impossible, start=1)
            if isinstance(row, dict) and _truthy(row.get("is_impossible"))
        ]
    if not examples:
        raise DatasetError(f"Dataset {path} holds no examples; nothing to evaluate.")
    corpus = path.parent / "source_files"  # where the LabelledRagDataset layout keeps its documents
    return Dataset(path, "rag", tuple(examples), default_corpus=corpus, partial_overlap=False)


def _rag_example(path: Path, row: Any, number: int) -> Example:
    if not isinstance(row, dict) or not isinstance(row.get("query"), str) or not row["query"].strip():
        raise DatasetError(f"Dataset {path}, example {number}, has no 'query' text; fix the file.")
    answerable = not _truthy(row.get("is_impossible"))
    golds: list[str] = []
    if answerable:
        candidates = row.get("all_gold_answers") or [row.get("reference_answer")]
        golds = list(dict.fromkeys(str(g).strip() for g in candidates if g and str(g).strip()))
    source = str(row.get("source_file") or "")
    return Example(
        id=str(row.get("id") or f"{path.stem}-{number:04d}"),
        question=row["query"],
        history=(),
        evidence=tuple(Evidence(source, g) for g in golds) if source else (),
        expected=(tuple(golds),) if golds else (),
        answerable=answerable,
    )


def _truthy(value: object) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")
