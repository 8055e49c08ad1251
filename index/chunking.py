"""Sentence-aware, token-counted chunking that keeps exact character offsets into the document."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from index.sentences import Span, split_sentences

TokenCounter = Callable[[str], int]


@dataclass(frozen=True, slots=True)
class ChunkSpan:
    """One chunk of a document: ``document_text[start:end] == text``."""

    position: int
    start: int
    end: int
    text: str
    n_tokens: int


@lru_cache(maxsize=1)
def _encoding() -> Any:  # tiktoken.Encoding
    import tiktoken

    return tiktoken.get_encoding("cl100k_base")


def count_tokens(text: str) -> int:
    """Number of cl100k_base tokens in ``text`` (tiktoken data must be local: see index.runtime)."""
    return len(_encoding().encode(text, disallowed_special=()))


def _split_long(text: str, span: Span, limit: int, count: TokenCounter) -> list[Span]:
    """Cut a sentence longer than ``limit`` tokens at word boundaries."""
    start, end = span
    pieces: list[Span] = []
    words = [(m.start(), m.end()) for m in re.finditer(r"\S+", text[start:end])]
    piece_start = 0
    while piece_start < len(words):
        lo, hi = piece_start + 1, len(words)
        # Largest prefix of words that fits, by binary search on token counts.
        while lo < hi:
            mid = (lo + hi + 1) // 2
            chunk = text[start + words[piece_start][0] : start + words[mid - 1][1]]
            if count(chunk) <= limit:
                lo = mid
            else:
                hi = mid - 1
        pieces.append((start + words[piece_start][0], start + words[lo - 1][1]))
        piece_start = lo
    return pieces


def chunk_text(text: str, chunk_size: int, chunk_overlap: int, count: TokenCounter = count_tokens) -> list[ChunkSpan]:
    """Pack whole sentences into chunks of at most ``chunk_size`` tokens, overlapping by whole sentences.

    Args:
        text: the document text.
        chunk_size: token budget of a chunk; a longer sentence is cut at word boundaries.
        chunk_overlap: tokens of trailing sentences repeated at the start of the next chunk.
        count: token counter (cl100k_base by default).

    Returns:
        Chunks in document order, each with its exact offsets.
    """
    if chunk_overlap >= chunk_size:
        raise ValueError(f"chunk_overlap ({chunk_overlap}) must be smaller than chunk_size ({chunk_size})")
    units: list[tuple[Span, int]] = []
    for span in split_sentences(text):
        n = count(text[span[0] : span[1]])
        if n <= chunk_size:
            units.append((span, n))
        else:
            units.extend(
                (piece, count(text[piece[0] : piece[1]])) for piece in _split_long(text, span, chunk_size, count)
            )

    chunks: list[ChunkSpan] = []
    i = 0
    while i < len(units):
        j, total = i, 0
        while j < len(units) and (j == i or total + units[j][1] + 1 <= chunk_size):
            total += units[j][1] + (1 if j > i else 0)
            j += 1
        start, end = units[i][0][0], units[j - 1][0][1]
        chunks.append(ChunkSpan(len(chunks), start, end, text[start:end], count(text[start:end])))
        if j >= len(units):
            break
        # Step back over trailing sentences that fit in the overlap, but always move forward, and leave
        # room for the next new sentence (else the next chunk would hold only what this one already has).
        back, overlap = j, 0
        while (
            back - 1 > i
            and overlap + units[back - 1][1] <= chunk_overlap
            and overlap + units[back - 1][1] + units[j][1] + (j - back + 1) <= chunk_size
        ):
            overlap += units[back - 1][1]
            back -= 1
        i = back
    return chunks


def chunk_id(doc_id: str, chunk: ChunkSpan, chunker_signature: str, model: str) -> str:
    """Deterministic id: the same document, text, position, chunker and model always give the same id."""
    key = "\x1f".join((doc_id, chunk.text, str(chunk.start), chunker_signature, model))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def sentence_spans_within(text: str, start: int, end: int) -> Sequence[Span]:
    """Sentence spans of ``text[start:end]``, with offsets into ``text``."""
    return [(s + start, e + start) for s, e in split_sentences(text[start:end])]
