"""Training groups for the answer-sentence cross-encoder (``training.train_cross``).

A group is one question with the sentences that answer it (``pos``) and sentences that do not (``neg``): the
other sentences of its paragraph, the sentences of other paragraphs of the same article that share most of its
words, and, for half the answerable questions, the answering sentence with the answer cut out (a near-miss: every
word of the question is still there, the answer is not). A question SQuAD 2.0 marks unanswerable is a group of
negatives only: the sentences of its paragraph, which share its words and do not answer it.

Sources are SQuAD-format JSON files (``data[].title``, ``paragraphs[].context``, ``qas[]`` with ``answers`` and
``is_impossible``): the training copies of dev_data/squad_train/PROVENANCE.md and docs/TUNING.md (thirteenth
session), never an evaluation set. Sentences are split by the project's own splitter (``index.sentences``), as
answering splits them.
Split by article: every question of an article is in one split (``split_of``).
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from index.keywords import terms
from index.sentences import split_sentences

NEGATIVES_IN_PARAGRAPH = 6
NEGATIVES_IN_ARTICLE = 4
ABLATE = 0.5  # the share of answerable questions that also get their sentence, answer cut out, as a negative


@dataclass
class Group:
    question: str
    article: str
    pos: list[str] = field(default_factory=list)
    neg: list[str] = field(default_factory=list)
    source: str = ""


def words(text: str) -> set[str]:
    """The text's content words, stemmed, as the index's keyword search reads them."""
    return set(terms(text))


def split_of(article: str, held_out: frozenset[str]) -> str:
    """``test`` for the held-out articles, else ``valid`` for about one article in twelve (by a hash), else
    ``train``."""
    if article in held_out:
        return "test"
    return "valid" if int(hashlib.sha256(article.encode()).hexdigest(), 16) % 12 == 0 else "train"


@dataclass(frozen=True)
class _Paragraph:
    """A paragraph's text, its sentences (spans of 20 characters or more, and their texts) and their terms."""

    text: str
    spans: list[tuple[int, int]]
    sentences: list[str]
    terms: list[set[str]]

    @classmethod
    def of(cls, text: str) -> _Paragraph:
        spans = [span for span in split_sentences(text) if span[1] - span[0] >= 20]
        sentences = [text[s:e] for s, e in spans]
        return cls(text, spans, sentences, [words(t) for t in sentences])

    def containing(self, start: int, end: int) -> list[int]:
        """The sentences that overlap ``text[start:end]``."""
        return [i for i, (s, e) in enumerate(self.spans) if s < end and start < e]


def _article_negatives(asked: set[str], paragraphs: list[_Paragraph], own: int, k: int) -> list[str]:
    """The ``k`` sentences of the article's other paragraphs that share most of the ``asked`` terms (at least one)."""
    pool = [
        (len(asked & terms), sentence)
        for p, paragraph in enumerate(paragraphs)
        if p != own
        for sentence, terms in zip(paragraph.sentences, paragraph.terms, strict=True)
    ]
    pool.sort(key=lambda x: -x[0])
    return [t for overlap, t in pool[:k] if overlap > 0]


def squad_articles(path: Path) -> list[dict]:
    """The articles of a SQuAD-format file; of a copy cut short (some public copies end mid-article), the complete
    articles before the cut."""
    text = path.read_text(encoding="utf-8")
    try:
        return list(json.loads(text)["data"])
    except json.JSONDecodeError:
        pass
    decoder = json.JSONDecoder()
    articles: list[dict] = []
    at = text.index("[", text.index('"data"')) + 1
    while True:
        while at < len(text) and text[at] in " \t\r\n,":
            at += 1
        try:
            article, at = decoder.raw_decode(text, at)
        except json.JSONDecodeError:
            return articles
        articles.append(article)


def squad_groups(path: Path, rng: random.Random, source: str) -> Iterator[Group]:
    for article in squad_articles(path):
        title = article.get("title", "")
        paragraphs = [_Paragraph.of(p["context"]) for p in article["paragraphs"]]
        for p_index, (raw, paragraph) in enumerate(zip(article["paragraphs"], paragraphs, strict=True)):
            if not paragraph.spans:
                continue
            text = paragraph.text
            for qa in raw["qas"]:
                question = qa["question"].strip()
                group = Group(question, title or text[:40], source=source)
                answers = [] if qa.get("is_impossible") else qa.get("answers", [])
                # (start, end) of each answer, and the sentences each overlaps
                found = [(int(a["answer_start"]), int(a["answer_start"]) + len(a["text"])) for a in answers]
                overlapping = [paragraph.containing(start, end) for start, end in found]
                hit = {i for sentences in overlapping for i in sentences}
                if answers and not hit:
                    continue
                if hit:
                    group.pos = [paragraph.sentences[i] for i in sorted(hit)]
                    if rng.random() < ABLATE:
                        (start, end), (s, e) = found[0], paragraph.spans[overlapping[0][0]]
                        cut = text[s:start] + text[end:e]
                        if len(cut.split()) >= 4:
                            group.neg.append(" ".join(cut.split()))
                asked = words(question)
                others = sorted(
                    (i for i in range(len(paragraph.spans)) if i not in hit),
                    key=lambda i: -len(asked & paragraph.terms[i]),
                )
                group.neg += [paragraph.sentences[i] for i in others[:NEGATIVES_IN_PARAGRAPH]]
                group.neg += _article_negatives(asked, paragraphs, p_index, NEGATIVES_IN_ARTICLE)
                if group.neg or group.pos:
                    yield group


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--squad", nargs="+", type=Path, required=True, help="SQuAD-format training files")
    parser.add_argument("--out", type=Path, required=True, help="folder for train/valid/test .jsonl")
    parser.add_argument(
        "--held-out", nargs="*", default=["Frédéric_Chopin", "Spectre_(2015_film)", "To_Kill_a_Mockingbird"]
    )
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    held = frozenset(args.held_out)
    seen: set[str] = set()
    args.out.mkdir(parents=True, exist_ok=True)
    files = {name: (args.out / f"{name}.jsonl").open("w", encoding="utf-8") for name in ("train", "valid", "test")}
    counts: dict[str, int] = {}
    for path in args.squad:
        for group in squad_groups(path, rng, path.stem):
            key = group.question.lower() + "\n" + (group.pos[0] if group.pos else "")
            if key in seen:
                continue
            seen.add(key)
            split = split_of(group.article, held)
            files[split].write(json.dumps(asdict(group), ensure_ascii=False) + "\n")
            label = f"{split} {'answerable' if group.pos else 'unanswerable'}"
            counts[label] = counts.get(label, 0) + 1
    for f in files.values():
        f.close()
    print(json.dumps(counts, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
