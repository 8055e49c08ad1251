"""Misspelt question words matched against the index's own vocabulary ("recruting" → "recruiting").

Only a word that is neither in the index nor an English word (a whole word of the bundled model's vocabulary:
"company" is a word even where no article says it, "recruting" is not) is corrected, and only to a term the
index holds that is one edit away
(two for words of seven letters or more), a swap of neighbouring letters counting as one edit; among several,
the one found in most chunks wins. The first two letters are taken as typed (they are rarely the mistake, and
they bound the search to one range of the vocabulary).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path

from index.embedding import bundled_model_path

MIN_LENGTH = 5  # shorter words are too easily "corrected" into another word


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance between ``a`` and ``b`` (insert, delete, substitute, swap neighbours),
    or ``limit + 1`` as soon as it must exceed ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = ca != cb
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                value = min(value, previous2[j - 2] + 1)
            current[j] = value
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


@lru_cache(maxsize=1)
def known_words() -> frozenset[str]:
    """The whole words of the bundled model's word-piece vocabulary (about 20,000 common English words)."""
    lines = (Path(bundled_model_path()) / "vocab.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(w for w in lines if w.isalpha())


def allowed_edits(term: str) -> int:
    return 1 if len(term) < 7 else 2


def best_correction(term: str, vocabulary: Sequence[tuple[str, int]]) -> str | None:
    """The closest term of ``vocabulary`` ((term, chunk count) pairs) within the allowed edits, or None."""
    if len(term) < MIN_LENGTH or not term.isalpha():
        return None
    limit = allowed_edits(term)
    best: tuple[int, int, str] | None = None
    for candidate, count in vocabulary:
        if candidate == term:
            return None
        distance = edit_distance(term, candidate, limit)
        if distance <= limit and (best is None or (distance, -count) < (best[0], -best[1])):
            best = (distance, count, candidate)
    return best[2] if best else None


def respell(text: str, corrections: dict[str, str]) -> str:
    """``text`` with each corrected word replaced (case-insensitively, whole words)."""
    if not corrections:
        return text
    pattern = re.compile(r"\b(" + "|".join(re.escape(w) for w in corrections) + r")\b", re.I)
    return pattern.sub(lambda m: corrections[m.group(0).lower()], text)


Lookup = Callable[[str], Sequence[tuple[str, int]]]
