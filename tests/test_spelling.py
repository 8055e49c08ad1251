"""Question words as people type them (misspelt, British or American, chat spellings) are read as the index spells
them, and only those."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.builder import CorpusIndex
from index.embedding import MiniLMEmbedder
from index.keywords import terms
from index.settings import Settings
from qa.answering import Answerer
from qa.condense import StandaloneQuestion
from qa.extractive import compounds, lexical_coverage
from qa.retrieval import HybridRetriever
from qa.spelling import abbreviations, best_correction, edit_distance, nearest, respell, spelling_variants


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("summit", "summit", 0),
        ("sumit", "summit", 1),  # a letter missing
        ("zelenksi", "zelenski", 1),  # two neighbours swapped count once
        ("aliance", "alliance", 1),
        ("recruting", "recruiting", 1),
        ("togther", "togeth", 3),
        ("croatia", "serbia", 5),
    ],
)
def test_edit_distance_counts_insertions_deletions_substitutions_and_swaps(a: str, b: str, distance: int) -> None:
    assert edit_distance(a, b, limit=5) == distance


def test_edit_distance_stops_at_the_limit() -> None:
    assert edit_distance("abcdefgh", "zyxwvuts", limit=2) == 3
    assert edit_distance("ab", "abcdef", limit=2) == 3


def test_nearest_takes_the_correction_fewest_edits_from_what_was_typed() -> None:
    assert nearest("presdent", ["presents", "president"]) == "president"
    assert nearest("croatain", ["croatian", "croatian"]) == "croatian"
    assert nearest("goverment", ["government", None]) == "government"
    assert nearest("recieve", ["receive", "relieve"]) == "receive"  # a tie: the first proposed
    assert nearest("zelenski", [None, None]) is None


def test_best_correction_prefers_fewer_edits_then_the_commoner_term() -> None:
    vocabulary = [("recruit", 3), ("recrute", 1), ("recess", 9)]
    assert best_correction("recrut", vocabulary) == "recruit"  # one edit each: the commoner wins
    assert best_correction("recruit", vocabulary) is None  # known words are never changed
    assert best_correction("xylophon", vocabulary) is None  # nothing close
    assert best_correction("kayo", [("kaya", 5)]) is None  # short words are left alone
    assert best_correction("2024x", [("2024", 5)]) is None  # not a word


def test_respell_replaces_whole_words_only() -> None:
    assert respell("Recruting and recrutingly", {"recruting": "recruiting"}) == "recruiting and recrutingly"
    assert respell("nothing to do", {}) == "nothing to do"


def test_respell_matches_an_abbreviation_only_in_capitals() -> None:
    corrections = {"US": "United States", "U.S.": "United States", "recruting": "recruiting"}
    assert respell("tell us what the US and the U.S. navy are recruting", corrections) == (
        "tell us what the United States and the United States navy are recruiting"
    )
    assert abbreviations("tell us: did the U.S. or the EU, or the USA, or USAID, say so? US.") == [
        "U.S.",
        "EU",
        "USA",
        "US",
    ]


def test_retrieval_searches_the_corrected_words(seed_index: CorpusIndex) -> None:
    retriever = HybridRetriever(seed_index)
    question = "how many days was the sumit"
    retrieval = retriever.retrieve(StandaloneQuestion(question, question), 5)
    assert retrieval.corrections == {"sumit": "summit"}
    assert retrieval.question is not None and retrieval.question.question == "how many days was the summit"
    assert "summit" in retrieval.query_terms
    assert any("two-day summit" in p.text for p in retrieval.passages)
    # Words of the documents are never "corrected", nor English words the articles happen not to use ("company"
    # is one edit from the articles' "comply"), nor words with nothing close in the index.
    assert retriever.corrections("what did croatia say about military blocs") == {}
    assert retriever.corrections("Which American company will supply the plant?") == {}
    assert retriever.corrections("quantum chromodynamics") == {}


@pytest.mark.parametrize(
    ("word", "other"),
    [
        ("defence", "defense"),
        ("defense", "defence"),
        ("programmes", "programs"),
        ("recognise", "recognize"),
        ("organisation", "organization"),
        ("neighbouring", "neighboring"),
        ("centre", "center"),
        ("travelled", "traveled"),
        ("analyse", "analyze"),
    ],
)
def test_spelling_variants_give_the_other_spelling(word: str, other: str) -> None:
    assert other in spelling_variants(word)
    assert word in spelling_variants(other)


def test_corrections_read_british_spellings_chat_spellings_and_suffix_typos(seed_index: CorpusIndex) -> None:
    retriever = HybridRetriever(seed_index)
    # The articles write "defense" and "programs"; a user may not.
    assert retriever.corrections("Who heads Croatia's defence ministry?") == {"defence": "defense"}
    assert retriever.corrections("which countrys dont recognise kosovo") == {"dont": "do not", "recognise": "recognize"}
    # Chat spellings of function words are read as those words, so they are not searched for as content words.
    question = "wat did croatia say abt the pact being an aliance"
    retrieval = retriever.retrieve(StandaloneQuestion(question, question), 5)
    assert {"wat": "what", "abt": "about"}.items() <= retrieval.corrections.items()
    assert "wat" not in retrieval.query_terms and "abt" not in retrieval.query_terms
    # A typo in a suffix: no indexed stem is within two edits of "recruitmnt", but the English word "recruitment" is,
    # and its stem is one the articles use.
    assert retriever.corrections("joint recruitmnt albania kosovo croatia") == {"recruitmnt": "recruitment"}
    # A stem is cut short ("president": presid), so as a stem "presdent" is nearest "present"; as a word it is
    # nearest "president", one edit from what was typed where "presents" is two.
    assert retriever.corrections("what did the croatian presdent say") == {"presdent": "president"}
    # An English word whose other spelling the index lacks too is left alone; so are the documents' own words.
    assert retriever.corrections("What is the colour of the flag?") == {}
    assert retriever.corrections("What did the defense ministry say?") == {}


def test_a_chat_spelling_the_documents_use_is_theirs(tmp_path: Path, embedder: MiniLMEmbedder) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "boxing.txt").write_text(
        "Title bout in Pristina\nThe bout lasted twelve rounds. Govt officials watched it from the front row.\n",
        encoding="utf-8",
    )
    index = CorpusIndex(Settings(data_dir=tmp_path / "data", corpus_dir=corpus), embedder=embedder)
    index.sync()
    retriever = HybridRetriever(index)
    assert retriever.corrections("how long was the bout") == {}
    assert retriever.corrections("what did govt officials do") == {}  # "govt" is a word of these documents
    assert retriever.corrections("wat happened") == {"wat": "what"}


def test_a_casually_typed_question_is_answered_like_the_plain_one(seed_index: CorpusIndex) -> None:
    answerer = Answerer(seed_index.settings, seed_index)
    plain = answerer.answer("What did Croatia say about the pact being an alliance?")
    casual = answerer.answer("wat did croatia say abt the pact being an aliance")
    assert not plain.refused and not casual.refused
    assert casual.citations[0].quote == plain.citations[0].quote
    assert "alliance" in casual.citations[0].quote


def one_article_index(tmp_path: Path, embedder: MiniLMEmbedder, text: str) -> CorpusIndex:
    """A real index in ``tmp_path`` over a corpus of one article, ``text``."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "article.txt").write_text(text, encoding="utf-8")
    index = CorpusIndex(Settings(data_dir=tmp_path / "data", corpus_dir=corpus), embedder=embedder)
    index.sync()
    return index


def test_compounds_are_read_as_the_documents_write_them(tmp_path: Path, embedder: MiniLMEmbedder) -> None:
    index = one_article_index(
        tmp_path,
        embedder,
        "Grid operators meet in Zagreb\n"
        "The operators agreed to share warnings about cyberattacks on power plants. "
        "Each country will also train its own peace keepers for missions abroad. "
        "The meeting ended with a dinner.\n",
    )
    retriever = HybridRetriever(index)
    # One word for two the documents write apart is searched as the two; the documents' own words stay.
    assert retriever.corrections("who trains the peacekeepers") == {"peacekeepers": "peace keepers"}
    assert retriever.corrections("what did the operators agree") == {}
    # Two words for one the documents write as one are searched as typed, and counted as found in that one.
    assert retriever.corrections("what about cyber attacks on plants") == {}
    assert compounds("what about cyber-attacks on power plants", terms("cyber attacks power plants")) == {
        "cyberattack": ("cyber", "attack"),
        "powerpl": ("power", "plant"),  # the stem of "powerplants"
    }
    assert compounds("the rise of it all", terms("rise")) == {}  # stop words are never parts
    warnings = "The operators agreed to share warnings about cyberattacks on power plants."
    assert lexical_coverage(terms("cyber attacks"), warnings, {}, "cyber attacks") == 1.0
    assert lexical_coverage(terms("cyber attacks"), warnings, {}) == 0.0  # without the question's words in order
    assert lexical_coverage(terms("powerplants"), warnings, {}) == 1.0  # the text's pair read as one word
    answerer = Answerer(index.settings, index)
    for question in ("what warnings will they share about cyber attacks", "who will train peacekeepers"):
        answer = answerer.answer(question)
        assert not answer.refused, question
        assert ("cyberattacks" if "cyber" in question else "peace keepers") in answer.citations[0].quote


def test_an_abbreviated_name_is_read_as_the_name_the_documents_write(tmp_path: Path, embedder: MiniLMEmbedder) -> None:
    index = one_article_index(
        tmp_path,
        embedder,
        "Joint orders planned\n"
        "The three ministries will order helicopters together, mostly from the United States. "
        "Deliveries are expected within two years, the ministers said. "
        "EU observers will attend the first tender.\n",
    )
    retriever = HybridRetriever(index)
    # "US" was a stop word ("us") and searched for nothing; the documents write the name in full.
    assert retriever.corrections("who will they buy from in the US") == {"US": "United States"}
    assert retriever.corrections("what will they buy from the U.S.") == {"U.S.": "United States"}
    assert retriever.corrections("tell us about the joint orders") == {}  # a pronoun in lower case
    assert retriever.corrections("who will the EU send") == {}  # the documents use the abbreviation itself
    assert retriever.corrections("what did the UN say") == {}  # nor the abbreviation nor the name is indexed
    answer = Answerer(index.settings, index).answer("which country will the helicopters come from? the US?")
    assert not answer.refused
    assert "United States" in answer.citations[0].quote


def test_a_capital_standing_for_its_country_is_read_as_the_country(seed_index: CorpusIndex) -> None:
    retriever = HybridRetriever(seed_index)
    # The articles name Serbia and Kosovo, never Belgrade or Pristina; they do name Kyiv (the summit's city).
    assert retriever.corrections("what does belgrade think of the deal") == {"belgrade": "Serbia"}
    assert retriever.corrections("How does Pristina intend to draw in more members?") == {"Pristina": "Kosovo"}
    assert retriever.corrections("who attended the summit in Kyiv") == {}
    assert retriever.corrections("what did Canberra say") == {}  # nor the city nor the country is indexed
    answer = Answerer(seed_index.settings, seed_index).answer("what does belgrade think of the deal")
    assert not answer.refused
    assert any("Serbia" in c.quote for c in answer.citations)


def test_related_words_come_from_the_shipped_table_and_credit_part_of_a_term() -> None:
    from qa.related import RELATED_CREDIT, related_terms

    assert stem_of("jobs") in related_terms(stem_of("employment"))
    assert stem_of("weapons") in related_terms(stem_of("guns"))
    assert related_terms("zelenski") == frozenset()  # a name: no neighbours
    text = "The factory is expected to create jobs and stimulate local economies."
    plain = lexical_coverage(terms("employment"), text, {})
    credited = lexical_coverage(terms("employment"), text, {}, related=True)
    assert plain == 0.0 and credited == pytest.approx(RELATED_CREDIT)
    assert lexical_coverage(terms("jobs"), text, {}, related=True) == 1.0  # an exact match counts in full


def stem_of(word: str) -> str:
    return terms(word)[0]


def test_the_related_words_script_writes_the_table_format(tmp_path: Path) -> None:
    import gzip

    from loading import load_script

    module = load_script("scripts/build_related_words.py", "build_related")
    out = tmp_path / "related.tsv.gz"
    assert module.main(["--limit", "300", "--out", str(out)]) == 0
    with gzip.open(out, "rt", encoding="utf-8") as f:
        lines = f.read().splitlines()
    assert lines
    for line in lines:
        word, pairs = line.split("\t")
        for pair in pairs.split():
            other, similarity = pair.rsplit(":", 1)
            assert other != word and float(similarity) >= module.MIN_SIMILARITY
