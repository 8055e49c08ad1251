"""Words related in meaning, for questions that paraphrase ("Will the arms maker bring employment?" of an article
that says "create jobs").

``qa/data/related_words.tsv.gz`` lists, for each whole English word of the bundled model's vocabulary, the words
whose single-word embeddings (all-MiniLM-L6-v2, the retrieval model) are closest to it: "employment" → jobs 0.78,
"guns" → weapons 0.81, "munitions" → ammunition 0.75. It is built from the model alone by
``scripts/build_related_words.py`` (``make related-words``): no corpus and no question set is read. Coverage
(``qa.extractive.Coverage``) credits a question term absent from a text at ``RELATED_CREDIT`` of its weight when the
text holds one of its related terms at ``RELATED_SIMILARITY`` or more.

Limits: distributional neighbours include opposites ("buy" → sell 0.76, "allowed" → prohibited 0.68), hence part
credit, never a full match; names and words outside the model's word list (about 21,000 words) have none.
"""

from __future__ import annotations

import gzip
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

from index.keywords import stem

RELATED_FILE = Path(__file__).resolve().parent / "data" / "related_words.tsv.gz"
# Chosen on the development sets (own dev, own dev2, squad_train; docs/TUNING.md): 0.65 and 0.75, credit 0.3 and 0.8
# measured beside them.
RELATED_SIMILARITY = 0.70
RELATED_CREDIT = 0.5  # a related term counts for this share of the question term's weight


@lru_cache(maxsize=1)
def _table() -> Mapping[str, tuple[tuple[str, float], ...]]:
    """Stem → (related stem, similarity) pairs, best first, merged over the words of each stem."""
    merged: dict[str, dict[str, float]] = {}
    with gzip.open(RELATED_FILE, "rt", encoding="utf-8") as f:
        for line in f:
            word, _, rest = line.rstrip("\n").partition("\t")
            own = stem(word)
            out = merged.setdefault(own, {})
            for item in rest.split():
                other, _, similarity = item.rpartition(":")
                related, value = stem(other), float(similarity)
                if related != own and value > out.get(related, 0.0):
                    out[related] = value
    return {t: tuple(sorted(pairs.items(), key=lambda p: -p[1])) for t, pairs in merged.items()}


@lru_cache(maxsize=4096)
def related_terms(term: str, min_similarity: float = RELATED_SIMILARITY) -> frozenset[str]:
    """Index terms (stems) related in meaning to ``term`` at ``min_similarity`` or more; empty for most names."""
    return frozenset(t for t, s in _table().get(term, ()) if s >= min_similarity)
