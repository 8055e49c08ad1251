"""The hook through which a second reader of the best candidate sentences is blended into the choice.

``qa.answering.Answerer(reranker=…)`` takes any object with ``score(question, sentences)``: one number per
sentence, higher for the one that answers. The answerer standardises those numbers and the hand-set scores over the
best few candidates and mixes them (``blend``). No reader ships: the two measured through this hook did not beat
the hand-set score on the development sets (docs/TUNING.md), so the hook is the way to measure the next one
(``scripts/cross_encoder_probe.py`` measures the cross-encoder of ``training/train_cross.py`` through it). The answer
encoder's second reading of the best four candidates (``qa.scorer.SecondReading``, ``Answerer._read_again``) ships
outside this hook: its weights over the features and the cosines are learned, not a blend of standardised scores.

The bundled SmolLM2-135M read as a question-likelihood scorer (Sachan et al. 2022) was an opt-in setting
(``QA_RERANKER``) until the twenty-second session. Measured again on the ten development sets, it lowered first
citation on nine and left the tenth unchanged (217 → 187 of 344 answerable questions; with a share of 0.3 instead of
0.7, 211), so it was retired.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol


class SentenceReader(Protocol):
    """Reads a question against candidate sentences: one score per sentence, higher for the one that answers."""

    def score(self, question: str, sentences: Sequence[str]) -> list[float]: ...


def blend(hand: Sequence[float], read: Sequence[float], weight: float) -> list[float]:
    """Each candidate's hand-set score and the reader's score, each standardised over the candidates, mixed:
    ``(1 - weight) * z(hand) + weight * z(read)``."""

    def z(values: Sequence[float]) -> list[float]:
        mean = sum(values) / len(values)
        sd = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values)) or 1.0
        return [(v - mean) / sd for v in values]

    zh, zr = z(hand), z(read)
    return [(1 - weight) * a + weight * b for a, b in zip(zh, zr, strict=True)]
