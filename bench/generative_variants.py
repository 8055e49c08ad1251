"""Prompt, passage and decoding variants for the bundled model, tried on the questions written for the purpose.

Run: ``.venv/bin/python -m bench.generative_variants [--variants current,holding3,...] [--questions FILE]``.
Indexes ``corpus/`` into a temporary folder and starts llama.cpp's server on the bundled model; for every question
(default ``bench/data/generative_dev.jsonl``, never the evaluation sets) it retrieves and reranks as
``Answerer.stream`` does, sends each variant's messages to the server (temperature 0, not streamed) and passes the
reply through the unchanged ``LLMGenerator.verify``. Prints, per variant, the questions that got a generative
answer with at least one supported, cited sentence (the figure of ``bench.generative``). With ``--retry``, each
named variant is asked only the questions the first variant failed, as a second attempt, and the union is
reported. docs/LLM.md has the results: no variant beat the current prompt as the first attempt; ``sentences3``
is the second attempt of ``qa.generative`` (``LLMGenerator.stream``).
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from index.runtime import prepare_offline_runtime

ROOT = Path(__file__).resolve().parent.parent

# Shorter rules and a worked example of the expected format (the "example-…" variants); the security paragraph
# is the current prompt's.
EXAMPLE_RULES = """You answer questions about news articles using only the numbered passages you are given.

Answer in one to three sentences. Copy each sentence from a passage, or keep close to its words, and end it with \
the number of that passage in square brackets.
If the passages do not answer the question, reply with exactly NOT_IN_DOCUMENTS and nothing else.

Example:
<passage id="1">The bridge over the river opened in May 2010.</passage>
<passage id="2">The bridge cost 5 million euros, paid by the city.</passage>
Question: How much did the bridge cost?
Answer: The bridge cost 5 million euros, paid by the city. [2]"""
COPY_RULES = (
    "2. Answer with one to three sentences copied word for word from the passages: the sentences that answer the "
    "question.\n3. End every sentence with the number of its passage in square brackets, e.g. [1] or [2]."
)

Messages = list[tuple[str, str]]
Variant = Callable[[str, Any, Any], tuple[Messages, Sequence[Any], dict[str, Any]]]


def build_variants(index: Any) -> dict[str, Variant]:
    """Name -> function of (question, retrieval, extractive answer) giving (messages, passages given, body extras)."""

    from index.sentences import split_sentences
    from qa import generative as g

    rules = g.SYSTEM_PROMPT.split("\n\nSecurity:")
    old_rules = re.search(r"\n2\. .*?\n3\. .*?\n", g.SYSTEM_PROMPT, re.S)
    assert old_rules is not None and len(rules) == 2, "the system prompt changed: update the variants"
    copy_prompt = g.SYSTEM_PROMPT.replace(old_rules.group(0), f"\n{COPY_RULES}\n")
    example_prompt = EXAMPLE_RULES + "\n\nSecurity:" + rules[1]

    def best_sentences(retrieval: Any, n: int, following: int = 0) -> list[Any]:
        """The ``n`` sentences of the passages closest to the question (meaning and keywords, weighted as the
        support check weighs them: ``qa.generative.best_sentences``, as the second attempt of
        ``LLMGenerator.stream`` chooses them), each as a passage of its own (with the next ``following``)."""
        out = []
        for source, start, end in g.best_sentences(retrieval, index.embedder.embed_documents, n):
            p = next(p for p in retrieval.passages if p.source == source and p.start <= start < p.end)
            spans = [(p.start + s, p.start + e) for s, e in split_sentences(p.text) if re.search(r"\w", p.text[s:e])]
            j = next(k for k, (s, _) in enumerate(spans) if s == start)
            end = spans[min(len(spans) - 1, j + following)][1]
            out.append(replace(p, start=start, end=end, text=p.text[start - p.start : end - p.start]))
        return out

    def holding(retrieval: Any, n: int) -> list[Any]:
        """The passages holding the ``n`` best sentences, in the order of their best sentence."""
        given: list[Any] = []
        for x in best_sentences(retrieval, n):
            p = next(p for p in retrieval.passages if p.source == x.source and p.start <= x.start < p.end)
            if p not in given:
                given.append(p)
        return given

    def grammar(k: int, sentence_end: bool) -> str:
        numbers = " | ".join(f'"{i}"' for i in range(1, k + 1))
        if sentence_end:  # every sentence ends ". [n]"; a full stop inside a figure ("1.5") is allowed
            line = 'line ::= [^\\n<\\[.] seg* ". [" num "]"\nseg ::= [^\\n<\\[.] | "." [0-9]\n'
        else:
            line = 'line ::= [^\\n<\\[]{10,300} " [" num "]"\n'
        return f'root ::= "{g.NOT_ANSWERED}" | line ("\\n" line){{0,2}}\n{line}num ::= {numbers}\n'

    def with_prompt(system: str, select: Callable[[Any], Sequence[Any]], **extra: Any) -> Variant:
        def variant(question: str, retrieval: Any, extractive: Any) -> tuple[Messages, Sequence[Any], dict[str, Any]]:
            given = select(retrieval)
            user = g.answer_messages(question, given)[1]
            body = dict(extra)
            if "grammar" in body:
                body["grammar"] = grammar(len(given), body["grammar"] == "sentence")
            return [("system", system), user], given, body

        return variant

    stop: dict[str, Any] = {"max_tokens": 200, "stop": ["\n\n"]}
    plain = example_prompt.replace(
        '<passage id="1">The bridge over the river opened in May 2010.</passage>\n'
        '<passage id="2">The bridge cost 5 million euros, paid by the city.</passage>',
        "Passage 1: The bridge over the river opened in May 2010.\nPassage 2: The bridge cost 5 million euros, "
        "paid by the city.",
    )
    return {
        "current": with_prompt(g.SYSTEM_PROMPT, lambda r: r.passages),
        "holding3": with_prompt(g.SYSTEM_PROMPT, lambda r: holding(r, 3), **stop),
        "sentences3": with_prompt(g.SYSTEM_PROMPT, lambda r: best_sentences(r, 3), **stop),
        "sentences3+next": with_prompt(g.SYSTEM_PROMPT, lambda r: best_sentences(r, 3, 1), **stop),
        "copy": with_prompt(copy_prompt, lambda r: r.passages),
        "copy-holding3": with_prompt(copy_prompt, lambda r: holding(r, 3)),
        "example-sentences3": with_prompt(example_prompt, lambda r: best_sentences(r, 3), **stop),
        "example-grammar-lines": with_prompt(
            example_prompt, lambda r: best_sentences(r, 3), max_tokens=200, grammar="lines"
        ),
        "example-grammar-sentences": with_prompt(
            plain, lambda r: best_sentences(r, 3), max_tokens=200, grammar="sentence"
        ),
    }


def contains(text: str, wanted: Sequence[str]) -> bool:
    """Whether ``text`` names every term of ``answer_contains`` ("a|b": either)."""
    low = text.lower()
    return all(any(alt.lower() in low for alt in term.split("|")) for term in wanted)


def main() -> None:
    prepare_offline_runtime()
    import httpx

    from index.settings import Settings
    from qa.answering import found_related_passages
    from qa.condense import condense
    from qa.generative import NOT_ANSWERED, LLMGenerator, clean_reply
    from qa.local_llm import MODEL_ALIAS, LocalLLMServer, ServerOptions, free_port
    from qa.service import build_answerer, build_index

    parser = argparse.ArgumentParser(prog="bench.generative_variants")
    parser.add_argument("--variants", default="", help="comma-separated names (default: all)")
    parser.add_argument(
        "--questions",
        type=Path,
        nargs="+",
        default=[ROOT / "bench" / "data" / "generative_dev.jsonl"],
        help="JSON-lines files of questions (never the evaluation sets)",
    )
    parser.add_argument(
        "--retry",
        default="",
        help="comma-separated variants tried as a second attempt: each is asked only the questions the first "
        "of --variants failed, and the union (first, then the retry where the first failed) is reported",
    )
    parser.add_argument("--threads", type=int, default=2, help="llama.cpp threads")
    parser.add_argument("--dump", type=Path, default=None, help="write every reply and answer to this JSON file")
    args = parser.parse_args()
    questions = [json.loads(line) for f in args.questions for line in f.read_text().splitlines() if line.strip()]
    counts: dict[str, int] = {}
    rows: dict[str, list[dict[str, Any]]] = {}
    with (
        tempfile.TemporaryDirectory() as tmp,
        LocalLLMServer(ServerOptions(port=free_port(), threads=args.threads)) as llm,
    ):
        settings = Settings(
            data_dir=Path(tmp) / "data",
            corpus_dir=ROOT / "corpus",
            llm_base_url=llm.base_url,
            llm_model=MODEL_ALIAS,
            llm_timeout=300,
        )
        index = build_index(settings)
        index.sync()
        extractive = build_answerer(settings.model_copy(update={"llm_base_url": None}), index=index)
        generator = LLMGenerator(settings, index)
        variants = build_variants(index)
        names = [n for n in args.variants.split(",") if n] or list(variants)
        retries = [n for n in args.retry.split(",") if n]
        unknown = [n for n in names + retries if n not in variants]
        if unknown:
            parser.error(f"unknown variants {unknown}; known: {', '.join(variants)}")
        if retries:
            names = names[:1]

        def ask(name: str, q: dict[str, Any]) -> dict[str, Any] | None:
            """The variant's answer to ``q`` as a row (None when the model is not asked: no related passage)."""
            standalone = condense(q["question"], q.get("history", []))
            retrieval = extractive.retriever.retrieve(standalone, settings.top_k)
            fallback = extractive.extractive(standalone, retrieval, settings.top_k)
            if not found_related_passages(fallback):
                return None
            retrieval = replace(retrieval, passages=list(fallback.retrieved))
            messages, given, extra = variants[name](standalone.text, retrieval, fallback)
            body = {"model": MODEL_ALIAS, "temperature": 0.0, "max_tokens": 256, **extra}
            body["messages"] = [{"role": r, "content": c} for r, c in messages]
            response = httpx.post(f"{llm.base_url}/chat/completions", json=body, timeout=600)
            response.raise_for_status()
            reply = clean_reply(response.json()["choices"][0]["message"]["content"] or "")
            answer = fallback
            if reply and not reply.strip(".").startswith(NOT_ANSWERED):
                answer = generator.verify(reply, standalone, replace(retrieval, passages=list(given)), fallback)
            good = answer.mode == "generative" and any(s.supported for s in answer.sentences)
            return {
                "id": q["id"],
                "answerable": q.get("answerable", True),
                "good": good,
                # a right answer: it names what the question's answer_contains asks for
                "right": good and q.get("answerable", True) and contains(answer.text, q.get("answer_contains", [])),
                "reply": reply,
                "answer": answer.text if good else None,
            }

        def summary(name: str, got: list[dict[str, Any]]) -> str:
            good = [r for r in got if r["good"]]
            answerable = sum(r["answerable"] for r in good)
            right = sum(r["right"] for r in good)
            return (
                f"{name}: {len(good)}/{len(questions)} (answerable {answerable}, of them naming the answer {right};"
                f" unanswerable answered {len(good) - answerable}): {' '.join(r['id'] for r in good)}"
            )

        for name in names:
            rows[name] = [r for q in questions if (r := ask(name, q)) is not None]
            counts[name] = sum(r["good"] for r in rows[name])
            print(summary(name, rows[name]), flush=True)
        first = names[0]
        failed = {r["id"] for r in rows[first] if not r["good"]}
        for name in retries:
            rows[name] = [r for q in questions if q["id"] in failed and (r := ask(name, q)) is not None]
            union = [r for r in rows[first] if r["good"]] + rows[name]
            counts[f"{first}, then {name}"] = sum(r["good"] for r in union)
            print(summary(f"{first}, then {name} (asked {len(rows[name])})", union), flush=True)
    print("| variant | questions with a generative answer with ≥1 supported, cited sentence |\n|---|---|")
    for name, count in counts.items():
        print(f"| {name} | {count}/{len(questions)} |")
    if args.dump:
        args.dump.write_text(json.dumps(rows, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
