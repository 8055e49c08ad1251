"""Development questions from SQuAD 2.0 *training* articles, for choosing rules on encyclopaedic text.

The evaluation's SQuAD subset (``eval_data/external/squad2_dev_subset``) is drawn from SQuAD's dev articles and
only reports; a rule that could change SQuAD-like answers is chosen here instead, on training articles the
evaluation never sees (PROVENANCE.md). Writes ``corpus/`` (one file per article), ``questions.jsonl`` (300 random
questions: 240 answerable, 60 unanswerable), ``typed.jsonl`` (300 answerable quantity and time questions and all
45 unanswerable ones), ``where.jsonl`` (the 194 answerable "where" questions) and ``holders.jsonl`` (the 39 questions
asking who holds an office, as ``qa.offices.asked_holder`` tells them) and ``answerable.jsonl`` (every answerable
question: the learned sentence scorer's training data, ``training/``), in the seed JSONL format
``qa eval`` reads:

    python dev_data/squad_train/build.py PATH/TO/train-v2.0.json
    qa eval --dataset dev_data/squad_train/questions.jsonl --corpus dev_data/squad_train/corpus
"""

from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path

from qa.offices import asked_holder  # the project's own pattern (installed in the project's environment)

HERE = Path(__file__).resolve().parent
# The kinds of question the quantity/time check applies to (as qa.extractive asks them), for the typed set.
QUANTITY = re.compile(
    r"\b(how (many|much|long|old|far|often|frequently|large|big|high|fast)"
    r"|what(?:'s|\s+is|\s+was|\s+are|\s+were)?(?:\s+the)?\s+(?:[\w-]+\s+){0,2}?"
    r"(percentage|proportion|number|share|rate|amount|range|concentration|dose|size|ratio|incidence|prevalence"
    r"|frequency|duration|cost|temperature)s?)\b",
    re.I,
)
TIME = re.compile(r"^\W*when\b|\b(what|which|in which|in what) (year|date|month|day|decade|century)\b", re.I)
PLACE = re.compile(r"^\W*where\b|\bwhere (?:was|is|were|are|did|does|do|will)\b", re.I)


def rows_of(squad: dict) -> list[dict]:
    out = []
    for article in squad["data"]:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                answers = [] if qa.get("is_impossible") else qa["answers"]
                out.append(
                    {
                        "id": qa["id"],
                        "title": article["title"],
                        "context": paragraph["context"],
                        "question": qa["question"],
                        "answers": answers,
                    }
                )
    return out


def file_name(title: str) -> str:
    return re.sub(r"\W+", "_", title).strip("_") + ".txt"


def seed_row(row: dict, kind: str) -> dict:
    return {
        "id": row["id"],
        "kind": kind if row["answers"] else f"unanswerable_{kind}",
        "question": row["question"],
        "evidence": [{"source": file_name(row["title"]), "quote": a["text"]} for a in row["answers"]],
        "answer_contains": [],
        "answerable": bool(row["answers"]),
    }


def kind_of(question: str) -> str:
    return "quantity" if QUANTITY.search(question) else "time" if TIME.search(question) else "other"


def write_corpus(rows: list[dict], corpus: Path) -> None:
    """One document per article (``file_name`` of its title): the title, then its paragraphs, each once."""
    paragraphs: dict[str, list[str]] = {}
    for row in rows:
        seen = paragraphs.setdefault(row["title"], [])
        if row["context"] not in seen:
            seen.append(row["context"])
    corpus.mkdir(parents=True, exist_ok=True)
    for title, texts in paragraphs.items():
        (corpus / file_name(title)).write_text(title.replace("_", " ") + "\n\n" + "\n\n".join(texts) + "\n")


def main(source: Path) -> None:
    rows = rows_of(json.loads(source.read_text(encoding="utf-8")))
    write_corpus(rows, HERE / "corpus")
    rng = random.Random(15)
    answerable = [r for r in rows if r["answers"]]
    unanswerable = [r for r in rows if not r["answers"]]
    picked = rng.sample(answerable, 240) + rng.sample(unanswerable, 60)
    write(HERE / "questions.jsonl", [seed_row(r, kind_of(r["question"])) for r in picked])
    typed = [r for r in rows if kind_of(r["question"]) != "other"]
    rng = random.Random(16)
    picked = rng.sample([r for r in typed if r["answers"]], 300) + [r for r in typed if not r["answers"]]
    write(HERE / "typed.jsonl", [seed_row(r, kind_of(r["question"])) for r in picked])
    where = [r for r in rows if PLACE.search(r["question"]) and r["answers"]]
    write(HERE / "where.jsonl", [seed_row(r, "place") for r in where])
    holders = [r for r in rows if asked_holder(r["question"])]
    write(HERE / "holders.jsonl", [seed_row(r, "holder") for r in holders])
    # Every answerable question: the training data of the learned sentence scorer (training/, split by article).
    write(HERE / "answerable.jsonl", [seed_row(r, kind_of(r["question"])) for r in answerable])


def write(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(f"{path.name}: {len(rows)} questions, {sum(r['answerable'] for r in rows)} answerable")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
