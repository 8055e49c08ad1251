"""Wiring in one place: the real index, embedder and answerer, built from settings."""

from __future__ import annotations

from index.builder import CorpusIndex
from index.embedding import Embedder
from index.settings import Settings
from qa.answering import Answerer
from qa.meaning import AnswerEncoder
from qa.scorer import load_chooser, load_second_reading


def build_index(settings: Settings, embedder: Embedder | None = None) -> CorpusIndex:
    """The corpus index for these settings (nothing is loaded until it is used)."""
    return CorpusIndex(settings, embedder=embedder)


def build_answerer(
    settings: Settings, index: CorpusIndex | None = None, embedder: Embedder | None = None, *, open_index: bool = True
) -> Answerer:
    """An answerer over an existing index; opens it, so a missing or mismatched index fails here (with
    ``open_index=False``, the caller opens it later: a server that builds the index after it starts serving).

    Raises:
        IndexNotBuiltError, IndexMismatchError, StoreUnavailableError; ScorerFileError (the learned weights, or the
        second reading's); AnswerEncoderError (the answer encoder's weights are missing).
    """
    index = index or build_index(settings, embedder)
    if open_index:
        index.open()
    generator = None
    if settings.llm_enabled:
        from qa.generative import LLMGenerator

        generator = LLMGenerator(settings, index)
    chooser = load_chooser(settings.sentence_scorer)
    meaning = reading = None
    if settings.answer_encoder:
        from index.embedding import bundled_model_path

        meaning = AnswerEncoder(bundled_model_path())
        meaning.check()
        reading = load_second_reading()
    return Answerer(settings, index, generator=generator, chooser=chooser, meaning=meaning, reading=reading)
