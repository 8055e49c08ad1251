"""Chunking: exact offsets into the document, token budgets, overlap, long sentences, deterministic ids."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest

from index.chunking import ChunkSpan, chunk_id, chunk_text, count_tokens
from index.reading import CorpusFile, read_document
from index.settings import EMBED_MODEL_NAME, Settings
from tests.conftest import CORPUS

ARTICLES = sorted(CORPUS.glob("*.txt"))


def document_text(path: Path) -> str:
    """The text exactly as the index stores it (after decoding and normalising)."""
    return read_document(CorpusFile(path.name, path, "hash", path.stat().st_size)).text


def assert_chunks_valid(text: str, chunks: list[ChunkSpan], chunk_size: int) -> None:
    assert chunks, "a document with text gives at least one chunk"
    for i, chunk in enumerate(chunks):
        assert chunk.position == i
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.text == chunk.text.strip()
        assert chunk.n_tokens == count_tokens(chunk.text)
        longest_word = max(count_tokens(word) for word in chunk.text.split())
        assert chunk.n_tokens <= chunk_size or longest_word > chunk_size, (i, chunk.n_tokens)
    for before, after in pairwise(chunks):
        assert after.start > before.start and after.end > before.end, "chunks always move forward"
        assert after.start <= before.end or not text[before.end : after.start].strip(), "no text is skipped"


@pytest.mark.parametrize("path", ARTICLES, ids=lambda p: p.name)
@pytest.mark.parametrize(("size", "overlap"), [(128, 24), (64, 0), (256, 64), (32, 8)])
def test_every_corpus_chunk_is_an_exact_slice_within_budget(path: Path, size: int, overlap: int) -> None:
    text = document_text(path)
    chunks = chunk_text(text, size, overlap)
    assert_chunks_valid(text, chunks, size)
    assert chunks[0].start == len(text) - len(text.lstrip())
    assert chunks[-1].end == len(text.rstrip())


def test_overlap_repeats_trailing_sentences_within_budget() -> None:
    sentences = [f"Sentence number {i} talks about the defence pact of the region." for i in range(40)]
    text = " ".join(sentences)
    with_overlap = chunk_text(text, 64, 24)
    without = chunk_text(text, 64, 0)
    assert_chunks_valid(text, with_overlap, 64)
    assert_chunks_valid(text, without, 64)
    for before, after in pairwise(with_overlap):
        shared = text[after.start : before.end]
        assert after.start < before.end, "consecutive chunks share trailing sentences"
        assert shared in sentences or count_tokens(shared) <= 24 + 1
    for before, after in pairwise(without):
        assert after.start > before.end, "no overlap asked: chunks are disjoint"
    assert len(with_overlap) > len(without)


def test_overlap_never_stalls_when_a_sentence_is_larger_than_the_overlap() -> None:
    long_sentence = "Word " + " ".join(["word"] * 49) + "."
    text = " ".join([long_sentence] * 6)
    chunks = chunk_text(text, 64, 60)
    assert len(chunks) == 6
    assert [c.text for c in chunks] == [long_sentence] * 6


def test_a_long_sentence_is_cut_at_word_boundaries() -> None:
    words = [f"w{i}" for i in range(1500)]
    text = " ".join(words)  # one "sentence" of ~3,000 tokens with no full stop
    chunks = chunk_text(text, 100, 20)
    assert_chunks_valid(text, chunks, 100)
    assert len(chunks) > 10
    rebuilt = " ".join(c.text for c in chunks).split()
    assert rebuilt == words, "every word appears once, in order, none cut in half"


def test_a_single_word_longer_than_the_budget_is_one_chunk() -> None:
    giant = "x" * 2000
    text = f"Before. {giant} After this."
    chunks = chunk_text(text, 32, 0)
    assert_chunks_valid(text, chunks, 32)
    assert any(c.text == giant for c in chunks)
    assert count_tokens(giant) > 32


def test_empty_text_gives_no_chunks_and_bad_overlap_is_refused() -> None:
    assert chunk_text("", 64, 8) == []
    assert chunk_text("   \n  ", 64, 8) == []
    with pytest.raises(ValueError, match="chunk_overlap"):
        chunk_text("Some text.", 64, 64)


def test_chunking_is_deterministic_and_ids_depend_on_text_settings_and_model() -> None:
    text = document_text(ARTICLES[0])
    signature = Settings().chunker_signature
    first = chunk_text(text, 128, 24)
    again = chunk_text(text, 128, 24)
    assert first == again

    def ids(doc_id: str, chunks: list[ChunkSpan], sig: str = signature, model: str = EMBED_MODEL_NAME) -> list[str]:
        return [chunk_id(doc_id, c, sig, model) for c in chunks]

    base = ids("a.txt", first)
    assert base == ids("a.txt", again)
    assert len(set(base)) == len(base), "ids are unique within a document"
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in base)
    assert set(base).isdisjoint(ids("b.txt", first)), "another document"
    other_sig = Settings(chunk_size=256).chunker_signature
    assert other_sig != signature
    assert set(base).isdisjoint(ids("a.txt", first, sig=other_sig)), "another chunker"
    assert set(base).isdisjoint(ids("a.txt", first, model="another/model")), "another model"

    edited = text.replace("KAYO", "KAYO Corp", 1)
    edited_ids = ids("a.txt", chunk_text(edited, 128, 24))
    assert edited_ids[0] != base[0], "the edited chunk gets a new id"
    appended = ids("a.txt", chunk_text(text + "\nA new closing sentence was added.", 128, 24))
    assert appended[:-2] == base[:-2], "an edit at the end keeps the ids of the chunks before it"
    assert appended != base
