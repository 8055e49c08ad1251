"""Probe: does a learned linear query adapter make the bundled model rank answer sentences better?

A question vector q becomes normalise(q + q·A), A a 384×384 matrix learned (from zero, with an L2 penalty) so that
each training question's answer sentence outranks the other sentences of its article (softmax cross-entropy over
the article's sentences). Sentence vectors stay as the index computes them, so an adapter would cost one small
matrix product per question. Trained on SQuAD 2.0 *training* articles, measured on articles held out of training:
the share of questions whose answer sentence is the top one among its article's sentences and among its
paragraph's, and the mean reciprocal rank, with and without the adapter.

Run: ``python scripts/query_adapter_probe.py /path/to/train-v2.0.json [--held 1,5,8] [--l2 0.03] [--epochs 5]``
(the file of dev_data/squad_train/PROVENANCE.md; a few minutes on 2 cores, most of it embedding). Measured and not
taken: docs/TUNING.md, ninth session.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from index.runtime import prepare_offline_runtime


def examples(squad: dict) -> tuple[list[str], list[int], list[int], list[str], list[int], list[int], list[int]]:
    """Sentences (with article and paragraph numbers) and answerable questions (with article, paragraph and the
    number of the sentence holding the answer's start)."""
    from index.sentences import split_sentences

    sentences: list[str] = []
    s_article: list[int] = []
    s_paragraph: list[int] = []
    questions: list[str] = []
    q_article: list[int] = []
    q_paragraph: list[int] = []
    q_answer: list[int] = []
    paragraph_no = 0
    for a, article in enumerate(squad["data"]):
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            spans = split_sentences(context)
            first = len(sentences)
            for start, end in spans:
                sentences.append(context[start:end])
                s_article.append(a)
                s_paragraph.append(paragraph_no)
            for qa in paragraph["qas"]:
                if qa.get("is_impossible") or not qa["answers"]:
                    continue
                at = qa["answers"][0]["answer_start"]
                hit = next((first + j for j, (start, end) in enumerate(spans) if start <= at <= end), None)
                if hit is not None:
                    questions.append(qa["question"])
                    q_article.append(a)
                    q_paragraph.append(paragraph_no)
                    q_answer.append(hit)
            paragraph_no += 1
    return sentences, s_article, s_paragraph, questions, q_article, q_paragraph, q_answer


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    """Trains the adapter and returns (and prints) the measures: ``{"train"|"held-out": {"base "|"adapted " +
    measure: value}}``."""
    parser = argparse.ArgumentParser(prog="query_adapter_probe")
    parser.add_argument("squad_json", type=Path)
    parser.add_argument("--held", default="1,5,8", help="article numbers held out of training")
    parser.add_argument("--l2", type=float, default=0.03)
    parser.add_argument("--temperature", type=float, default=0.05)
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args(argv)
    prepare_offline_runtime()
    import torch

    from index.embedding import MiniLMEmbedder

    sentences, s_article, s_paragraph, questions, q_article, q_paragraph, q_answer = examples(
        json.loads(args.squad_json.read_text())
    )
    embedder = MiniLMEmbedder()
    S = torch.tensor(embedder.embed_documents(sentences))
    Q = torch.tensor(embedder.embed_documents(questions))
    held = {int(x) for x in args.held.split(",")}
    train = [i for i in range(len(questions)) if q_article[i] not in held]
    test = [i for i in range(len(questions)) if q_article[i] in held]
    by_article = {a: [j for j, x in enumerate(s_article) if x == a] for a in set(s_article)}
    by_paragraph = {p: [j for j, x in enumerate(s_paragraph) if x == p] for p in set(s_paragraph)}

    def adapted(A: torch.Tensor | None, rows: list[int]) -> torch.Tensor:
        q = Q[rows] if A is None else Q[rows] + Q[rows] @ A
        return q / q.norm(dim=1, keepdim=True)

    def measure(A: torch.Tensor | None, rows: list[int]) -> dict[str, float]:
        top_article = top_paragraph = mrr = 0.0
        with torch.no_grad():
            for q, i in zip(adapted(A, rows), rows, strict=True):
                candidates = by_article[q_article[i]]
                scores = S[candidates] @ q
                rank = int((scores > scores[candidates.index(q_answer[i])]).sum())
                top_article += rank == 0
                mrr += 1 / (1 + rank)
                own = by_paragraph[q_paragraph[i]]
                top_paragraph += own[int((S[own] @ q).argmax())] == q_answer[i]
        n = max(1, len(rows))
        return {"top-1 in article": top_article / n, "MRR": mrr / n, "top-1 in paragraph": top_paragraph / n}

    torch.manual_seed(0)
    A = torch.zeros(S.shape[1], S.shape[1], requires_grad=True)
    optimiser = torch.optim.Adam([A], lr=1e-3)
    for epoch in range(args.epochs):
        order = np.random.RandomState(epoch).permutation(train)
        for b in range(0, len(order), 64):
            rows = [int(i) for i in order[b : b + 64]]
            loss = torch.zeros(())
            for q, i in zip(adapted(A, rows), rows, strict=True):
                candidates = by_article[q_article[i]]
                logits = (S[candidates] @ q) / args.temperature
                target = torch.tensor([candidates.index(q_answer[i])])
                loss = loss + torch.nn.functional.cross_entropy(logits[None], target)
            loss = loss / len(rows) + args.l2 * (A**2).sum()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    results: dict[str, dict[str, float]] = {}
    for name, rows in (("train", train), ("held-out", test)):
        results[name] = {
            f"{kind} {k}": v for kind, a in (("base", None), ("adapted", A)) for k, v in measure(a, rows).items()
        }
        print(f"{name} articles ({len(rows)} questions):", ", ".join(f"{k} {v:.3f}" for k, v in results[name].items()))
    return results


if __name__ == "__main__":
    main()
