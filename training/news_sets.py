"""The team's news questions (``training/news_qa``, PROVENANCE.md there) as development sets in ``qa eval``'s
format: each writer's questions over that writer's own four articles, in a folder of their own."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

NEWS = Path(__file__).resolve().parent / "news_qa"
WIRE_WRITERS = tuple(f"w{n}" for n in range(1, 17))  # wire reports
ENCODER_VALIDATION = ("w7", "w8", "w15", "w16")  # of the wire writers, those the answer encoder validates on
STYLE_WRITERS = tuple(f"w{n}" for n in range(17, 25))  # news-analysis pieces in the seed articles' style
WRITERS = (*WIRE_WRITERS, *STYLE_WRITERS)


def writer_set(writer: str, work: Path) -> tuple[Path, Path]:
    """The writer's questions in ``qa eval``'s format, and a folder of the writer's articles."""
    corpus = work / writer / "corpus"
    corpus.mkdir(parents=True)
    for article in sorted((NEWS / "articles").glob(f"{writer}_*.txt")):
        shutil.copy(article, corpus / article.name)
    dataset = work / writer / "questions.jsonl"
    with dataset.open("w", encoding="utf-8") as out:
        for line in (NEWS / "questions.jsonl").read_text(encoding="utf-8").splitlines():
            row = json.loads(line) if line.strip() else None
            if row is None or row["writer"] != writer:
                continue
            evidence = [{"source": row["article"], "quote": q} for q in row["evidence"]] if row["answerable"] else []
            example = {
                "id": row["id"],
                "kind": row["kind"],
                "question": row["question"],
                "evidence": evidence,
                "answer_contains": row.get("answer_contains", []),
                "answerable": row["answerable"],
            }
            out.write(json.dumps(example, ensure_ascii=False) + "\n")
    return dataset, corpus
