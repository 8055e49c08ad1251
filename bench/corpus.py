"""Synthetic corpora of short, distinct documents built from the external datasets' source texts."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted((ROOT / "eval_data" / "external").glob("*/source_files"))
MAX_CHARS = 480  # about 100 cl100k tokens with the id line: one chunk at the default QA_CHUNK_SIZE of 128
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def paragraphs() -> list[str]:
    """Every paragraph of 120+ characters in the datasets' source files, in a stable order."""
    found: list[str] = []
    for folder in SOURCES:
        for path in sorted(folder.glob("*.txt")):
            for block in re.split(r"\n\s*\n|\n", path.read_text(encoding="utf-8", errors="replace")):
                block = " ".join(block.split())
                if len(block) >= 120:
                    found.append(block)
    if not found:
        raise RuntimeError(f"no source paragraphs under {ROOT / 'eval_data' / 'external'}")
    return found


def _clip(text: str, limit: int) -> str:
    """``text`` cut at the last sentence end (else word) before ``limit`` characters."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    cut = max(head.rfind(". "), head.rfind("? "), head.rfind("! "))
    if cut > limit // 3:
        return head[: cut + 1]
    return head.rsplit(" ", 1)[0] + "."


def document_text(i: int, n: int, paras: list[str]) -> str:
    """Document ``i`` of an ``n``-document corpus: an id line, one paragraph, one sentence of another."""
    p = len(paras)
    a = paras[i % p]
    b = paras[(i * 7919 + i // p * 31 + 17) % p]
    tail = _SENTENCE_END.split(b)[-1]
    body = _clip(a, MAX_CHARS - min(len(tail), 160) - 1)
    return f"Bench document {i:05d} of {n}.\n{body} {_clip(tail, 160)}\n"


def build_corpus(n: int, dest: Path) -> Path:
    """Write ``n`` documents to ``dest`` (reused when already complete); returns ``dest``."""
    if n <= 0:
        raise ValueError(f"n must be > 0, got {n}")
    stamp = dest / ".complete"
    if stamp.exists() and stamp.read_text() == str(n):
        return dest
    dest.mkdir(parents=True, exist_ok=True)
    for old in dest.glob("*.txt"):
        old.unlink()
    paras = paragraphs()
    for i in range(n):
        text = document_text(i, n, paras)
        (dest / f"doc_{i:05d}.txt").write_text(text, encoding="utf-8")
    stamp.write_text(str(n))
    return dest


def extra_document(n: int) -> str:
    """A document not in the ``n`` corpus, for the add-one-document timing."""
    return document_text(n + 123_457, n, paragraphs())
