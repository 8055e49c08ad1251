"""Training groups for the answer encoder (``training.train_encoder``): a question, the sentence(s) that answer it
(``pos``) and sentences of its article that do not (``neg``: the eight that share most of its terms, then four at
random).

Two sources, neither an evaluation set nor its documents:
- the team's news questions over the wire reports of writers w1–w16 (``training/news_qa``, PROVENANCE.md there):
  w1–w6 and w9–w14 train, w7, w8, w15 and w16 validate (each writer wrote four articles and their questions, so no
  article or writer's phrasing is in two splits); near-misses the articles do not answer are groups of negatives
  only. Writers w17–w24 (news-analysis pieces in the seed articles' style) are not in the encoder's data: trained on
  w17–w22, the encoder chose worse on the development sets over the seed articles (docs/TUNING.md, thirty-third
  session); they validate the second reading (``training.train_reading``) and the news benchmark;
- the SQuAD 2.0 training questions of ``dev_data/squad_train/answerable.jsonl`` whose answer span occurs once in its
  article (its sentence is then the answer); the three articles ``training.train_scorer`` holds out are the test
  split.

Sentences are split by the project's own splitter (``index.sentences``), as answering splits them.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from index.keywords import terms
from index.sentences import split_sentences
from training.news_sets import ENCODER_VALIDATION, NEWS, WIRE_WRITERS

ROOT = Path(__file__).resolve().parent.parent
SQUAD = ROOT / "dev_data" / "squad_train"
VALID_WRITERS = frozenset(ENCODER_VALIDATION)
ENCODER_WRITERS = frozenset(WIRE_WRITERS)
TEST_ARTICLES = frozenset({"Frédéric_Chopin.txt", "Spectre__2015_film.txt", "To_Kill_a_Mockingbird.txt"})
NEGATIVES_BY_TERMS = 8
NEGATIVES_AT_RANDOM = 4


@dataclass
class Group:
    question: str
    article: str
    source: str
    split: str
    kind: str = ""
    pos: list[str] = field(default_factory=list)
    neg: list[str] = field(default_factory=list)


def holds_evidence(text: str, evidence: Sequence[str]) -> bool:
    """A sentence holds a news question's evidence: one of the evidence sentences contains it or is contained in it
    (a writer may have copied more or less than the sentence the index splits)."""
    return any(e in text or text in e for e in evidence)


def sentences(text: str) -> list[str]:
    """The text's sentences of 20 characters or more."""
    return [text[s:e] for s, e in split_sentences(text) if e - s >= 20]


def negatives(question: str, pool: list[str], pos: list[str], rng: random.Random) -> list[str]:
    """The sentences of ``pool`` other than ``pos`` that share most of the question's terms, then a few others."""
    asked = set(terms(question))
    rest = [s for s in pool if s not in pos]
    by_terms = sorted(rest, key=lambda s: -len(asked & set(terms(s))))[:NEGATIVES_BY_TERMS]
    others = [s for s in rest if s not in by_terms]
    rng.shuffle(others)
    return by_terms + others[:NEGATIVES_AT_RANDOM]


def news_groups(folder: Path, rng: random.Random) -> list[Group]:
    """A group per question of ``folder/questions.jsonl`` by the ``ENCODER_WRITERS`` but the off-topic ones (no
    sentence of the article is a near answer to those); an answerable question whose evidence is in no sentence of its
    own is skipped."""
    split_cache: dict[str, list[str]] = {}
    groups = []
    for line in (folder / "questions.jsonl").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        if row["kind"] == "off_topic" or row["writer"] not in ENCODER_WRITERS:
            continue
        article = row["article"]
        if article not in split_cache:
            split_cache[article] = sentences((folder / "articles" / article).read_text(encoding="utf-8"))
        pool = split_cache[article]
        quotes = row["evidence"] if row["answerable"] else []
        pos = [s for s in pool if holds_evidence(s, quotes)]
        if row["answerable"] and not pos:
            continue
        split = "valid" if row["writer"] in VALID_WRITERS else "train"
        neg = negatives(row["question"], pool, pos, rng)
        groups.append(Group(row["question"], article, "news", split, row["kind"], pos, neg))
    return groups


def squad_groups(folder: Path, rng: random.Random) -> list[Group]:
    """A group per answerable question whose answer span occurs once in its article, within one sentence."""
    texts = {p.name: p.read_text(encoding="utf-8") for p in sorted((folder / "corpus").iterdir())}
    split = {name: sentences(text) for name, text in texts.items()}
    groups = []
    for line in (folder / "answerable.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        source, quote = row["evidence"][0]["source"], row["evidence"][0]["quote"]
        if texts[source].count(quote) != 1:
            continue
        pos = [s for s in split[source] if quote in s]
        if len(pos) != 1:
            continue
        part = "test" if source in TEST_ARTICLES else "train"
        neg = negatives(row["question"], split[source], pos, rng)
        groups.append(Group(row["question"], source, "squad", part, row.get("kind", ""), pos, neg))
    return groups


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for train/valid/test .jsonl")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    groups = squad_groups(SQUAD, rng) + news_groups(NEWS, rng)
    args.out.mkdir(parents=True, exist_ok=True)
    for split in ("train", "valid", "test"):
        with (args.out / f"{split}.jsonl").open("w", encoding="utf-8") as f:
            f.writelines(json.dumps(asdict(g), ensure_ascii=False) + "\n" for g in groups if g.split == split)
    counts = Counter(f"{g.split} {g.source} {'answerable' if g.pos else 'unanswerable'}" for g in groups)
    print(json.dumps(dict(sorted(counts.items())), indent=1))


if __name__ == "__main__":
    main()
