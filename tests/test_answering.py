"""Cited answers over the real seed index: offsets, refusal, follow-ups, fusion and the CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import EVAL_DATA, ROOT

from index.builder import CorpusIndex
from index.errors import IndexNotBuiltError, InvalidQuestionError
from index.keywords import terms
from index.sentences import line_spans
from index.settings import Settings
from qa import answering
from qa.answering import (
    CLOSEST_TEXT,
    COMPARISON_TEXT,
    MAX_CLOSEST,
    REFUSAL_TEXT,
    Answerer,
    adjacent,
    article_sections,
    as_written,
    context_window,
    contrasts_both,
    extend_over_list,
    extend_restatement,
    extend_to_asked_type,
    extend_to_introduced_list,
    include_antecedent,
    lead_span,
    list_lead_in,
    names_both,
    previous_sentence,
    section_heading,
    section_title,
    strip_markup,
    year_unstated,
)
from qa.cache import LruCache
from qa.cli import main
from qa.condense import (
    Comparison,
    asks_for_heading,
    asks_for_one_article,
    asks_yes_no,
    comparison,
    condense,
    headline_topic,
    looks_like_follow_up,
    mentioned_topic,
    overview_topic,
)
from qa.extractive import (
    RESTATEMENT_COSINE,
    Coverage,
    Sentence,
    abbreviations,
    adds_specifics,
    answer_type_match,
    asked_kind,
    asked_thing,
    asked_type,
    asks_for_several,
    defined_term,
    definition_match,
    has_enumeration,
    lacks_asked_type,
    lexical_coverage,
    local_weights,
    name_titles,
    places_named,
    proper_names,
    score_sentences,
    stance_match,
    stance_unattributed,
    unspecified_kind,
    with_aliases,
)
from qa.fusion import reciprocal_rank_fusion
from qa.retrieval import merge_passages, rerank_passages
from qa.service import build_answerer
from qa.spelling import names_written, same_country
from qa.types import Answer, Citation, Passage

CROATIA = "003_0a3dde30e4285642.txt"
QUESTIONS = [json.loads(line) for line in (EVAL_DATA / "seed_dev.jsonl").read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def answerer(seed_index: CorpusIndex) -> Answerer:
    return build_answerer(seed_index.settings, index=seed_index)


def test_croatia_military_blocs_is_cited_to_the_ministry_statement(answerer: Answerer) -> None:
    answer = answerer.answer("what did Croatia say about military blocs?")
    assert not answer.refused
    first = answer.citations[0]
    assert first.source == CROATIA
    assert "does not constitute a military alliance" in first.quote
    assert "Croatian Ministry of Defense" in first.quote
    assert answer.text.startswith(first.quote) and "[1]" in answer.text


@pytest.mark.parametrize("item", QUESTIONS, ids=[q["id"] for q in QUESTIONS])
def test_every_citation_is_an_exact_span_of_its_document(answerer: Answerer, item: dict) -> None:
    answer = answerer.answer(item["question"], item.get("history", ()))
    texts = {doc_id: answerer.index.document_text(doc_id) for doc_id in answerer.index.documents()}
    for citation in answer.citations:
        text = texts[citation.source]
        assert text is not None
        assert text[citation.start : citation.end] == citation.quote
        assert text[citation.passage_start : citation.passage_start + len(citation.passage)] == citation.passage
        assert citation.quote in citation.passage
        assert f"[{citation.n}]" in answer.text
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    for passage in answer.retrieved:
        assert texts[passage.source][passage.start : passage.end] == passage.text


def test_unanswerable_questions_are_refused_with_the_closest_passages(answerer: Answerer) -> None:
    """No dead end: a refusal about something the articles touch on says they don't answer it directly and cites
    the closest sentences, verbatim, each from a different passage; the answer itself cites nothing."""
    texts = {doc_id: answerer.index.document_text(doc_id) or "" for doc_id in answerer.index.documents()}
    for question in ("What is the population of Croatia?", "How many tanks will KAYO build each year?"):
        answer = answerer.answer(question)
        assert answer.refused, (question, answer.text, answer.signals)
        assert answer.citations == () and answer.to_json()["citations"] == []
        assert answer.text.startswith(CLOSEST_TEXT) and 1 <= len(answer.closest) <= MAX_CLOSEST, answer.text
        asked = set(terms(question))
        for n, c in enumerate(answer.closest, 1):
            assert c.n == n and f"[{n}]" in answer.text
            assert texts[c.source][c.start : c.end] == c.quote and c.quote in answer.text  # verbatim, shown
            assert asked & set(terms(c.quote)), "a closest passage shares a word with the question"
        assert len({(c.source, c.passage_start) for c in answer.closest}) == len(answer.closest)
        shown = answer.to_json()["closest"]
        assert [c["quote"] for c in shown] == [c.quote for c in answer.closest]  # type: ignore[index]


def test_a_question_about_nothing_in_the_articles_gets_a_bare_refusal(answerer: Answerer) -> None:
    answer = answerer.answer("What is the recipe for Peruvian ceviche with passion fruit?")
    assert answer.refused and answer.text == REFUSAL_TEXT
    assert answer.closest == () and "closest" not in answer.to_json()


def test_follow_up_uses_the_conversation(answerer: Answerer) -> None:
    alone = answerer.answer("And how did Serbia react?")
    followed = answerer.answer("And how did Serbia react?", ["What did Croatia say about the initiative?"])
    assert "following: What did Croatia say about the initiative?" in followed.standalone_question
    assert not followed.refused
    # First: the conversation is about the initiative, so the reaction to it comes before another article's
    # sentence about Serbia (which scores as well on the follow-up's own words).
    assert "Serbian government has expressed opposition" in followed.citations[0].quote
    assert followed.standalone_question != alone.standalone_question


def test_table_rows_answer_questions(answerer: Answerer) -> None:
    answer = answerer.answer("What initiative did Albania hold in August 2023?")
    assert "Crisis Management Workshop" in answer.citations[0].quote


def test_a_heading_is_not_quoted_as_an_answer(answerer: Answerer) -> None:
    # A question in a section heading's words ("Key Objectives of the Trilateral Defense Cooperation Agreement") is
    # answered from the sentences under it: the heading only names what the section is about.
    for question in ("key objectives of the trilateral agreement", "Why can't Kosovo join NATO yet?"):
        answer = answerer.answer(question)
        assert not answer.refused, (question, answer.signals)
        for c in answer.citations:
            assert not any(section_title(line) for line in c.quote.splitlines()), (question, c.quote)
    assert section_title("Challenges Facing Kosovos Path to NATO Membership")
    assert not section_title("- rapid deployment within 14 days of a request")  # a list item answers
    assert not section_title("Kosovo’s status has not been recognized by several NATO member states.")
    # Only a question for a headline, a title or a section may be answered by one.
    assert asks_for_heading("What is the KAYO article's headline?") and asks_for_heading("what's the section called")
    assert not asks_for_heading("What are the key objectives of the agreement?")


def test_stream_yields_text_then_the_answer(answerer: Answerer) -> None:
    events = list(answerer.stream("Which firm did Albania authorize to produce weapons and ammunition?"))
    assert isinstance(events[-1], Answer)
    streamed = "".join(e for e in events[:-1] if isinstance(e, str))
    assert "KAYO" in streamed and "[1]" in streamed
    assert streamed.strip() == events[-1].text


@pytest.mark.parametrize("question", ["", "   ", "\x00\x00"])
def test_empty_questions_are_invalid(answerer: Answerer, question: str) -> None:
    with pytest.raises(InvalidQuestionError, match="empty"):
        answerer.answer(question)


def test_too_long_question_names_the_limit(answerer: Answerer) -> None:
    with pytest.raises(InvalidQuestionError, match="2,000"):
        answerer.answer("why " * 1000)


def test_missing_index_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(IndexNotBuiltError, match="qa index"):
        build_answerer(Settings(data_dir=tmp_path / "none", corpus_dir=tmp_path))


# -- the CLI -------------------------------------------------------------------------------------------------
def test_qa_ask_json_has_the_documented_shape(
    seed_index: CorpusIndex, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("QA_DATA_DIR", str(seed_index.settings.data_dir))
    monkeypatch.setenv("QA_CORPUS_DIR", str(seed_index.settings.corpus_dir))
    assert main(["ask", "what did Croatia say about military blocs?", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"answer", "refused", "citations", "retrieved"}
    assert set(out["citations"][0]) == {"n", "source", "title", "quote", "passage", "start", "end"}
    assert set(out["retrieved"][0]) == {"source", "text", "score"}
    assert out["citations"][0]["source"] == CROATIA


def test_qa_ask_errors_are_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("QA_DATA_DIR", str(tmp_path / "nothing"))
    assert main(["ask", "anything?"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "qa index" in err and "Traceback" not in err


# -- pure parts ----------------------------------------------------------------------------------------------
def test_reciprocal_rank_fusion_rewards_agreement_and_weights() -> None:
    fused = dict(reciprocal_rank_fusion([["a", "b", "c"], ["c", "b", "d"]], k=60))
    assert fused["b"] == pytest.approx(2 / 62)
    assert fused["a"] == pytest.approx(1 / 61) and fused["d"] == pytest.approx(1 / 63)
    assert max(fused, key=fused.__getitem__) in ("b", "c")
    weighted = reciprocal_rank_fusion([["a"], ["d"]], k=1, weights=[1.0, 2.0])
    assert [item for item, _ in weighted] == ["d", "a"]
    with pytest.raises(ValueError, match="weights"):
        reciprocal_rank_fusion([["a"]], weights=[1.0, 2.0])


def test_a_follow_up_leaning_on_a_pronoun_is_about_the_earlier_subject(answerer: Answerer) -> None:
    # "it" is KAYO, two turns back: the chain of follow-ups is followed, and KAYO's words are the question's own.
    history = ["what is kayo", "what does it make"]
    standalone = condense("who owns it", history)
    assert "kayo" in standalone.context.lower()
    answer = answerer.answer("who owns it", history)
    assert not answer.refused
    assert "KAYO" in answer.citations[0].quote and "state-owned" in answer.citations[0].quote
    made = answerer.answer("what does it make", ["what is kayo"])
    # Of the seed articles only KAYO's names it; a sentence under its headline is about KAYO whether or not it does.
    assert not made.refused and made.citations[0].source == "000_0c62668bd953e794.txt"
    # A follow-up naming its own subject is not read as the earlier one's ("and Serbia?" is about Serbia).
    serbia = answerer.answer("and serbia?", ["what did croatia say about military blocs"])
    assert "Serbian" in serbia.citations[0].quote


def test_condense_only_rewrites_follow_ups() -> None:
    assert looks_like_follow_up("And how did Serbia react?")
    assert not looks_like_follow_up("Which firm did Albania authorize to produce weapons?")
    standalone = condense("And how did Serbia react?", ["What did Croatia say?"])
    assert standalone.context == "What did Croatia say?" and standalone.text.startswith("how did Serbia react?")
    unchanged = condense("Which firm did Albania authorize to produce weapons?", ["What did Croatia say?"])
    assert unchanged.text == unchanged.question and not unchanged.is_follow_up


def test_sentence_features() -> None:
    idf = {"croatia": 1.0, "bloc": 3.0}
    assert lexical_coverage(["croatia", "bloc"], "The Croatian ministry spoke.", idf) == pytest.approx(0.25)
    assert lexical_coverage(["croatia", "bloc"], "A new bloc.", idf) == pytest.approx(0.75)
    assert answer_type_match("How many tanks?", "It will build 40 tanks.") == 1.0
    assert answer_type_match("How many tanks?", "It will build tanks.") == 0.0
    assert answer_type_match("When was it signed?", "It was signed in March 2024.") == 1.0
    # "May" the month, not "may" the verb.
    assert answer_type_match("When was it signed?", "It was signed in May.") == 1.0
    assert answer_type_match("When was it signed?", "It was signed on May 9.") == 1.0
    assert answer_type_match("When was it signed?", "KAYO's initiatives may open doors for partnerships.") == 0.0
    # A "why" question is answered by a sentence that gives a cause or a purpose.
    why = "Why did the emperor pay a small fortune in gifts?"
    assert answer_type_match(why, "He paid them in order to keep his vassals loyal.") == 1.0
    assert answer_type_match(why, "The move aims to bolster its defences.") == 1.0
    assert answer_type_match(why, "The gifts were paid in gold and silk.") == 0.0
    assert answer_type_match("albania ammo factory - why", "It was built because supplies ran short.") == 1.0
    question = "what did Croatia say about military blocs?"
    assert stance_match(question, "The Croatian Ministry of Defense has stated that it is open.") == 1.0
    assert stance_match(question, "The Serbian government has expressed opposition.") == -1.0
    assert stance_match("Which firm makes arms?", "The firm said so.") == 0.0
    # "State" the verb asks what was said; "heads of state", "the State Council", "which US state" ask no stance.
    said = "The Croatian Ministry of Defense has stated that it is open."
    assert stance_match("What did Croatia state about military blocs?", said) == 1.0
    assert stance_match("What did the Croatian ministry state?", said) == 1.0
    for noun in (
        "What did Zelensky pitch to heads of state from the region?",
        "What did the State Council establish in 2008?",
        "Which US state?",
        "What state did she grow up in?",
    ):
        assert stance_match(noun, said) == 0.0, noun
    # Typed without capitals: the party is a word the candidates write as a name (and never in lower case).
    texts = [
        "The Croatian Ministry of Defense has stated that it is open.",
        "Kosovo and Croatia signed a military pact.",
    ]
    names = proper_names(texts)
    assert "croatia" in names and "military" not in names
    lowered = "what did croatia say about military blocs"
    assert stance_match(lowered, texts[0], names) == 1.0
    assert stance_match(lowered, "The Serbian government has expressed opposition.", names) == -1.0
    assert stance_match(lowered, "The Serbian government has expressed opposition.") == 0.0  # no names: no party


def test_a_statement_by_a_named_person_counts_for_the_country_the_articles_give_him() -> None:
    # "President Zelensky" alone names no country; another candidate calls him "Ukrainian President …".
    texts = [
        "Ukrainian President Volodymyr Zelensky attended a summit in Kyiv.",
        "During his speech, President Zelensky emphasized the importance of collaboration.",
        "President Zelensky reiterated Ukraine’s commitment to joining the alliance.",
    ]
    titles = name_titles(texts)
    assert {"ukrainian", "president", "volodymyr"} <= titles["zelensky"]
    question = "What did the Ukrainian leader say about the alliance?"
    assert stance_match(question, texts[1]) == -1.0  # without the titles: someone else's statement
    assert stance_match(question, texts[1], titles=titles) == 1.0
    assert stance_match(question, texts[2]) == 1.0  # "reiterated" reports a statement; "Ukraine" names the party
    assert stance_match("What did Serbia say?", texts[1], titles=titles) == -1.0  # still not Serbia's
    # A capitalised word opening a sentence is no title: "In Kyiv" does not make "in" a title of Kyiv's.
    assert name_titles(["In Kyiv, officials said so.", "The Pentagon welcomed it."]) == {
        "kyiv": frozenset(),
        "pentagon": frozenset(),
    }
    # A title in title case names no one: "Croatia Forge Cooperation" does not make Croatia a title of the word
    # "cooperation", which would count the Serbian government's view of "the cooperation" as Croatia's statement.
    serbia = "The Serbian government has expressed opposition, viewing the cooperation as a potential risk."
    listed = "- Kosovo, Albania, Croatia Forge Cooperation for Stronger Balkan Defense, The Defense Post."
    titles = name_titles([serbia, listed])
    assert "cooperation" not in titles and "defense" not in titles
    assert stance_match("What did Croatia say about military blocs?", serbia, titles=titles) == -1.0
    # "state-run" is no question about what someone stated.
    said = "The Croatian Ministry of Defense has stated that the initiative is open to other members."
    assert stance_match("What did the Albanian government allow the state-run company to do?", said) == 0.0
    assert stance_match("What did the Albanian government state about it?", said) == -1.0  # Croatia spoke


def test_a_request_to_summarize_is_told_from_a_question() -> None:
    for request in (
        "summarize the articles",
        "Summarise the documents please",
        "what are the articles about?",
        "tl;dr",
    ):
        assert overview_topic(request) == "", request
    assert overview_topic("give me an overview of the KAYO article") == "KAYO"
    assert overview_topic("can you summarize the piece about Kosovo and NATO") == "Kosovo and NATO"
    assert overview_topic("whats the gist") == ""
    assert overview_topic("what's the gist of the kosovo piece") == "kosovo"
    assert overview_topic("What is the NATO article about?") == "NATO"
    assert overview_topic("give me the key takeaways of the KAYO story") == "KAYO"
    # A question for the collection itself is told as its overview; one about what the articles say is not.
    for request in (
        "which articles are there",
        "how many articles do you have?",
        "list the documents",
        "show me all the articles",
    ):
        assert overview_topic(request) == "", request
    for question in ("which articles mention Serbia?", "how many articles mention Serbia", "list the risks"):
        assert overview_topic(question) is None, question
    assert overview_topic("what sources do you have") == "" and overview_topic("list the sources") is None
    # A question for a headline names the articles it narrows to, or none.
    assert headline_topic("what's the headline of the kayo article") == "kayo"
    assert headline_topic("What is the KAYO article's headline?") == "KAYO"
    assert headline_topic("what is the kosovo piece called") == "kosovo"
    assert headline_topic("show me the headlines") == ""
    for question in ("What was the title of the documentary the BBC released?", "What title did Complex award her?"):
        assert headline_topic(question) is None, question
    for question in (
        "What did Croatia say about military blocs?",
        "What does the summary table show?",
        "What is KAYO?",
        "What is the main idea behind joint procurement?",  # about the idea, not the articles
        "What was the main point of Zelensky's speech?",
        "What is the pact about?",
    ):
        assert overview_topic(question) is None, question


def test_summarize_the_articles_quotes_each_articles_opening_sentence(
    answerer: Answerer, seed_index: CorpusIndex
) -> None:
    answer = answerer.answer("summarize the articles")
    assert not answer.refused
    sources = [c.source for c in answer.citations]
    assert sorted(sources) == sorted(d.name for d in (ROOT / "corpus").glob("*.txt"))  # one quote per article
    for c in answer.citations:
        text = seed_index.document_text(c.source) or ""
        assert text[c.start : c.end] == c.quote
        # The opening sentence: only the title and date lines come before it.
        assert all(len(line) < 120 and not line.rstrip().endswith(".") for line in text[: c.start].splitlines())
        assert f"{c.quote} [{c.n}]" in answer.text
    about_kayo = answerer.answer("give me an overview of the KAYO article")
    assert not about_kayo.refused and about_kayo.citations[0].source == "000_0c62668bd953e794.txt"
    assert answer.text.startswith("What the 5 articles are about")  # how many there are
    assert answering._counted(5, 12) == "the newest 5 of 12 articles" and answering._counted(1, 1) == "the one article"
    listed = answerer.answer("which articles are there")
    assert not listed.refused and sorted(c.source for c in listed.citations) == sorted(sources)


def test_an_articles_sections_are_its_prose_under_each_heading() -> None:
    text = (
        "Ministers Agree to Pool Orders\n"
        "June 4, 2026\n"
        "Three ministers agreed on Wednesday to buy their air-defence systems together. "
        "The deal is worth 1.4 billion euros in all.\n"
        "Why They Buy Together\n"
        "Key reasons for the joint purchase include:\n"
        "- Lower prices for every one of the three buyers.\n"
        "Officials said a joint order cuts the price of each battery by about fifteen percent.\n"
        "A Table With No Prose\n"
        "Year | Step |\n"
        "2027 | First deliveries |\n"
        "What Comes Next\n"
        "Deliveries are due to begin in the third quarter of 2027 and end in 2029.\n"
        "Sources\n"
        "- Baltic Defence Wire, June 4, 2026, on the ministers' agreement to pool orders.\n"
    )
    groups = [[text[a:b] for a, b in group] for group in article_sections(text)]
    assert groups == [
        [
            "Three ministers agreed on Wednesday to buy their air-defence systems together.",
            "The deal is worth 1.4 billion euros in all.",
        ],
        # Not the list's lead-in nor its item; the table's section has no prose; the list of sources is no section.
        ["Officials said a joint order cuts the price of each battery by about fifteen percent."],
        ["Deliveries are due to begin in the third quarter of 2027 and end in 2029."],
    ]
    assert article_sections("Title Only\n") == []


def test_a_request_to_summarize_one_article_quotes_its_main_points(answerer: Answerer, seed_index: CorpusIndex) -> None:
    for request in (
        "summarize the KAYO article",
        "what's the gist of the kosovo piece",
        "What is the NATO article about?",
    ):
        assert asks_for_one_article(request), request
    for request in ("summarize the articles about KAYO", "tl;dr", "what are the documents about?"):
        assert not asks_for_one_article(request), request
    kayo = "000_0c62668bd953e794.txt"
    answer = answerer.answer("summarize the KAYO article")
    assert not answer.refused
    assert {c.source for c in answer.citations} == {kayo}  # one article
    assert 3 <= len(answer.citations) <= answering.MAX_POINTS
    text = seed_index.document_text(kayo) or ""
    assert answer.text.startswith(f"The main points of “{text.splitlines()[0]}”")  # its headline
    starts = [c.start for c in answer.citations]
    assert starts == sorted(starts)  # in the article's order
    assert (answer.citations[0].start, answer.citations[0].end) == lead_span(text)  # opening with its opening sentence
    sections = article_sections(text)
    vectors = answerer._embed_sentences([c.quote for c in answer.citations])
    for i, c in enumerate(answer.citations):
        assert text[c.start : c.end] == c.quote and f"{c.quote} [{c.n}]" in answer.text
        assert not c.quote.rstrip().endswith(":") and not section_title(c.quote)  # no lead-in, no heading
        if i:  # one point a section, none restating an earlier one in other words
            assert sum(any(a == c.start for a, _ in group) for group in sections[1:]) == 1
            assert all(
                float(vectors[i] @ vectors[j]) < RESTATEMENT_COSINE
                or adds_specifics(c.quote, answer.citations[j].quote)
                for j in range(i)
            ), c.quote
    # An article with no sections (a wire story) is told by its lead: its first sentences.
    wire = (
        "Baltic States Sign Air Defence Deal\n\n"
        "RIGA, June 4 - Estonia, Latvia and Lithuania signed a joint contract on Wednesday for air defence.\n\n"
        "The contract covers ten batteries of medium-range missiles and an initial stock of interceptors.\n\n"
        "Deliveries are due to begin in the third quarter of 2027 and be completed by the end of 2029.\n\n"
        "Each of the three countries will own and operate its own batteries, officials said on Wednesday.\n"
    )
    points = [wire[a:b] for a, b in answerer._key_points(wire)]
    assert points == [line for line in wire.splitlines() if line.endswith(".")][: answering.LEAD_POINTS]
    # Several articles are still each told by their opening sentence.
    several = answerer.answer("summarize the articles about KAYO")
    assert several.text.startswith("The articles closest to")
    for c in several.citations:
        assert (c.start, c.end) == lead_span(seed_index.document_text(c.source) or "")


def test_a_question_for_the_articles_that_name_something_cites_each_where_it_does(
    answerer: Answerer, seed_index: CorpusIndex
) -> None:
    assert mentioned_topic("which articles mention serbia?") == "serbia"
    assert mentioned_topic("does any article mention Greece") == "Greece"
    assert mentioned_topic("are there any articles about russia") == "russia"
    assert mentioned_topic("which articles mention NATO and the EU") == "NATO and the EU"  # both
    assert mentioned_topic("which articles mention Serbia or Russia") is None  # either: answered as any question
    for question in (
        "Which articles mention NATO and what does each say the Balkan cooperation means for it?",  # asks more
        "Which article about KAYO came first?",
        "What did Croatia say about military blocs?",
    ):
        assert mentioned_topic(question) is None, question
    texts = {doc_id: seed_index.document_text(doc_id) or "" for doc_id in seed_index.documents()}
    for question, name in (
        ("Which articles mention Greece?", r"\bGreece\b"),
        ("which articles mention serbia", r"\bSerbia"),
    ):
        answer = answerer.answer(question)
        assert not answer.refused, answer.text
        naming = {doc_id for doc_id, text in texts.items() if re.search(name, text)}
        assert [c.source for c in answer.citations] and {c.source for c in answer.citations} == naming
        assert len(answer.citations) == len(naming)  # each article once
        for c in answer.citations:
            assert texts[c.source][c.start : c.end] == c.quote and re.search(name, c.quote), c.quote
        assert f"named in {len(naming)} articles" in answer.text
    nothing = answerer.answer("is there an article about pizza")
    assert nothing.refused and nothing.citations == ()


def test_a_question_for_headlines_quotes_each_articles_headline(answerer: Answerer, seed_index: CorpusIndex) -> None:
    answer = answerer.answer("show me the headlines")
    assert not answer.refused and answer.text.startswith("The headlines of the 5 articles")
    assert len({c.source for c in answer.citations}) == 5
    for c in answer.citations:
        text = seed_index.document_text(c.source) or ""
        assert text[c.start : c.end] == c.quote and f"{c.quote} [{c.n}]" in answer.text
        # A headline is a whole line near the top, or, for an article without one, the opening sentence.
        line = text[c.start :].split("\n", 1)[0]
        assert c.quote == line or c.quote.rstrip().endswith(".")
    kayo = answerer.answer("What's the headline of the KAYO article?")
    first = kayo.citations[0]
    assert first.source == "000_0c62668bd953e794.txt"
    text = seed_index.document_text(first.source) or ""
    assert first.quote == text.splitlines()[0] and "KAYO" in first.quote  # the article's first line


def test_a_headline_is_the_line_its_title_opens_whatever_it_ends_with() -> None:
    asked = "Will Albania's Arms Plan Work?\nTirana has authorized KAYO to make weapons and ammunition at home.\n"
    assert (
        asked[slice(*answering.headline_span(asked, "Will Albania's Arms Plan Work?"))]
        == "Will Albania's Arms Plan Work?"
    )
    plain = "Albania Authorizes KAYO\nTirana has authorized KAYO to make weapons.\n"
    assert plain[slice(*answering.headline_span(plain, "Albania Authorizes KAYO"))] == "Albania Authorizes KAYO"
    # An article with no headline is catalogued by its opening sentence: that is no headline, whole or shortened.
    lead = "Tirana has authorized KAYO to make weapons.\nThe move was announced this week.\n"
    assert answering.headline_span(lead, "Tirana has authorized KAYO to make weapons.") is None
    assert answering.headline_span(lead, "Tirana has authorized KAYO…") is None


def test_a_sentence_is_read_under_its_documents_headline(answerer: Answerer, seed_index: CorpusIndex) -> None:
    # The words a headline states count as found in every sentence under it, and only there.
    idf = {"kayo": 2.0, "export": 2.0}
    sentence = "Expand production lines to meet both domestic and export demands."
    headline = "Albania Authorizes State Firm KAYO to Produce Weapons and Ammunition"
    assert lexical_coverage(["kayo", "export"], sentence, idf) == pytest.approx(0.5)
    coverage = Coverage(["kayo", "export"], idf)
    assert coverage(sentence, headline) == pytest.approx(1.0)
    assert coverage("The summit took place in Kyiv.", headline) == pytest.approx(0.5)
    # Of the seed articles, two open with a headline; the others open with their first sentence (catalogued as the
    # title, and no headline): their sentences are read alone.
    documents = seed_index.documents()
    pool = [Sentence(source, 0, 1, "x", 0) for source in documents]
    passages = [
        Passage(f"{source}-0", source, record.title, None, 0, 1, "x", 0.0) for source, record in documents.items()
    ]
    read = {s.source: s.headline for s in answerer._under_headlines(pool, passages, {})}
    for source, record in documents.items():
        text = seed_index.document_text(source) or ""
        first = text.strip().splitlines()[0]
        if first.endswith("."):
            assert read[source] == "", source
        else:
            assert read[source] == text[slice(*answering.headline_span(text, record.title))] != "", source
    assert sum(bool(h) for h in read.values()) == 2
    # A sentence is read under its section's heading too (after the headline, where its document has one): the
    # sentences below "Albania’s Strategic Decision: KAYO’s Role in National Defense Enhancement" are about KAYO.
    under = 0
    for source in documents:
        text = seed_index.document_text(source) or ""
        for start, end in line_spans(text):
            line = text[start:end]
            heading = answering.section_heading(text, start)
            if not line.strip().endswith(".") or not heading or heading == read[source]:
                continue
            (sentence,) = answerer._under_headlines([Sentence(source, start, end, line, 0)], passages, {})
            assert sentence.headline == " ".join(h for h in (read[source], heading) if h), (source, line)
            under += 1
    assert under >= 10


def test_where_the_headline_and_the_text_disagree_the_answer_says_so_and_cites_both(
    answerer: Answerer, seed_index: CorpusIndex
) -> None:
    """The Zelensky article's headline puts the summit in Albania, its text in Kyiv."""
    assert places_named("The summit, which took place in Kyiv, brought leaders together.") == {"kyiv"}
    assert asked_kind("Where was the summit held?") == "place" and asked_kind("What did Croatia say?") is None
    for question in ("Where was the summit held?", "where did zelensky attend the summit"):
        answer = answerer.answer(question)
        assert not answer.refused
        assert "took place in Kyiv" in answer.citations[0].quote
        headline = [
            c for c in answer.citations if c.quote == "Zelenskyy seeks support and arms at Balkan summit in Albania"
        ]
        assert len(headline) == 1, question
        text = seed_index.document_text(headline[0].source) or ""
        assert text[headline[0].start : headline[0].end] == headline[0].quote
        assert f"The sources disagree: a headline says “{headline[0].quote}”. [{headline[0].n}]" in answer.text
    # Where the sources agree, or the question asks for no place, nothing is said of a disagreement.
    for question in ("What did Croatia say about military blocs?", "When did Albania authorize KAYO?"):
        assert "disagree" not in answerer.answer(question).text


VIENNA = (
    "Foreign ministers hold security talks\n\nForeign ministers of six countries held security talks on Tuesday. The "
    "talks took place in Vienna, at the invitation of the Austrian government. The ministers discussed border "
    "security, cyber defence and joint training.\n"
)
PRAGUE_BODY = (
    "Officials said the meeting would be followed by a summit of defence ministers later this year. The ministers "
    "agreed to share intelligence on smuggling routes and to hold joint exercises.\n"
)


@pytest.mark.parametrize(
    ("opening", "headline"),
    [
        # No headline: the text opens with a sentence, under which the article is catalogued. It is no headline.
        ("The security talks of the foreign ministers were held in Prague.\n", None),
        (
            "Security talks of the foreign ministers held in Prague\n\n",
            "Security talks of the foreign ministers held in Prague",
        ),
    ],
    ids=["opening-sentence", "headline"],
)
def test_only_a_headline_is_cited_as_one_that_disagrees(
    tmp_path: Path, embedder, opening: str, headline: str | None
) -> None:  # type: ignore[no-untyped-def]
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "vienna.txt").write_text(VIENNA, encoding="utf-8")
    (corpus / "prague.txt").write_text(opening + PRAGUE_BODY, encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=corpus)
    index = CorpusIndex(settings, embedder=embedder)
    index.sync()
    answer = build_answerer(settings, index).answer("Where did the foreign ministers hold the security talks?")
    assert not answer.refused and "took place in Vienna" in answer.citations[0].quote
    said = [c for c in answer.citations if c.source == "prague.txt"]
    if headline is None:  # its opening sentence may still be quoted, as any sentence is, but not as a headline
        assert "disagree" not in answer.text
        return
    assert [c.quote for c in said] == [headline]
    text = index.document_text("prague.txt") or ""
    assert text[said[0].start : said[0].end] == headline
    assert f"The sources disagree: a headline says “{headline}”. [{said[0].n}]" in answer.text


def test_the_flagship_question_typed_without_capitals_or_question_mark(answerer: Answerer) -> None:
    answer = answerer.answer("what did croatia say about military blocs")
    assert not answer.refused
    assert answer.citations[0].source == CROATIA
    assert "does not constitute a military alliance" in answer.citations[0].quote


def test_number_and_list_questions_want_a_number_and_a_list() -> None:
    # A range of measures asks for figures, a range of things for which things.
    assert asked_kind("What is the range of temperatures in July?") == "quantity"
    assert asked_kind("The areas receive what range of kWh/m2 per day?") == "quantity"
    assert asked_kind("What range of dangers could pooling spy information help them deal with?") is None
    assert not lacks_asked_type("What range of threats does it counter?", ["It counters terrorism and crime."])
    # "What was the response rate …?" asks for a figure as much as "How many …?" does.
    for question in ("What was the response rate for the study?", "What is the case fatality rate of MERS?"):
        assert answer_type_match(question, "The response rate ranged from 95% to 97%.") == 1.0
        assert answer_type_match(question, "The response rate was high in every cluster.") == 0.0
    assert answer_type_match("What is the name of the firm?", "The firm is 40 years old.") == 0.0
    question = "What are the phases of a pandemic?"
    listing = "Pandemics begin with an investigation phase, followed by recognition, initiation, and acceleration."
    assert answer_type_match(question, listing) == 1.0
    assert answer_type_match(question, "Countries can be in different phases of the pandemic at any time.") == 0.0
    assert has_enumeration("Albania, Croatia and Kosovo signed the declaration.")
    assert has_enumeration("Heart disease, diabetes, or lung disease")
    assert not has_enumeration("He said, and then he left.")
    assert not has_enumeration("After the war, the country rebuilt its army.")
    # Questions naming an entity keep asking for names, even in the plural.
    assert answer_type_match("Which countries signed it?", "It was signed by Albania and Kosovo.") == 1.0


def test_a_question_for_a_city_or_town_wants_a_place_the_question_does_not_name() -> None:
    question = "In which city will the charter meeting between the U.S. and Adriatic countries be held?"
    shares_the_words = "Kosovo plans to use an upcoming charter meeting between the U.S. and Adriatic countries."
    assert lacks_asked_type(question, [shares_the_words])
    for named in (
        "The meeting will be held in Tirana in July.",
        "Delegates will meet at the Palace of Congresses.",
        "The charter meeting is organised by a Zagreb-based foundation.",
        "As of 2011, New York City had 5,937 high-rise buildings.",
        "Delegates will meet at the Presidential Palace.",  # a name ending in "s…" is no plural region
    ):
        assert not lacks_asked_type(question, [shares_the_words, named]), named
    # The place the question names is no answer, nor a country, a continent or a region; "where" may be answered by
    # a place in common words, so it is not refused for want of a name; nor is a question for several cities (a
    # list of names answers it) or for a city's council, nor one that only mentions a city.
    assert lacks_asked_type("In which Albanian town does KAYO produce ammunition?", ["KAYO produces it in Albania."])
    for wider in ("It was signed in the Balkans.", "It was signed in Croatia.", "It was signed in Central Asia."):
        assert lacks_asked_type("In which city was it signed?", [wider]), wider
    assert not lacks_asked_type("In which city was it signed?", ["It was signed in Athens."])
    assert not lacks_asked_type("Which cities had minor damage?", ["The five largest cities had minor damage."])
    assert not lacks_asked_type("Which city council approved the plan?", ["The council approved it."])
    # "Where" for where an event is held or a body is based wants a name too, a country included; a thing's place
    # does not ("on the earphone cable").
    held = "Where will the charter meeting between the U.S. and the Adriatic countries be held?"
    assert lacks_asked_type(held, [shares_the_words])
    for named in ("The meeting will be held in Tirana.", "The meeting will be held in Albania."):
        assert not lacks_asked_type(held, [named]), named
    assert lacks_asked_type("Where is the group Sermeq Watch based?", ["Sermeq Watch said the dam was unsafe."])
    assert not lacks_asked_type("Where are the controls located?", ["The control is on the earphone cable."])
    assert not lacks_asked_type("Where were the surviving children living?", ["They were living in relief centres."])
    assert not lacks_asked_type("What did the city council decide?", ["It approved the plan."])


def test_a_quantity_or_time_question_wants_a_figure_or_a_time_in_the_answer() -> None:
    no_figure = ["The plant is expected to create jobs and stimulate local economies."]
    assert lacks_asked_type("How many jobs will the plant create?", no_figure)
    assert not lacks_asked_type("How many jobs will the plant create?", ["It will employ 1,200 people."])
    assert not lacks_asked_type("how much will it cost", ["The plant will cost two million euros."])
    assert not lacks_asked_type("What percentage of the budget goes to defence?", ["Defence takes 2% of it."])
    assert lacks_asked_type("When will the plant open?", ["The plant may open doors to exports."])  # "may": a verb
    for when in ("It opens in September.", "It opens next year.", "It opens on 4 May.", "It opens in 2027."):
        assert not lacks_asked_type("When will the plant open?", [when]), when
    for when in ("It opened last year.", "It opened in 2023.", "It opened on 4 May."):
        assert not lacks_asked_type("When did the plant open?", [when]), when
    assert not lacks_asked_type("In which year was KAYO founded?", ["KAYO was founded in 1947."])
    for year in ("The first request was made in 1407.", "It rose to fame in the late 1990s."):
        assert not lacks_asked_type("When did it start?", [year]), year
    for words in ("They ruled thirteen states.", "After eighty years of control."):
        assert not lacks_asked_type("How many states were there?", [words]), words
    assert lacks_asked_type("How many members does NATO have?", ["Several NATO members oppose it."])  # no figure
    assert not lacks_asked_type("How many times has he played Bond?", ["His fourth performance as Bond."])
    # A question opening with a "when" clause does not ask for a time.
    assert not lacks_asked_type("When demand is high, what does the pump become?", ["It becomes a generator."])
    # A word between the question word and the time asked for; a figure asked "as a percentage of" something.
    assert lacks_asked_type("On what exact date was it signed?", ["The three nations signed a declaration."])
    assert not lacks_asked_type("On what exact date was it signed?", ["It was signed on 12 June 2023."])
    # A date is no time told relative to the article's day, which still answers "when".
    assert lacks_asked_type("On what exact date was it signed?", ["The deal, signed earlier this week, holds."])
    assert lacks_asked_type("What date did it open?", ["It opened recently."])
    assert not lacks_asked_type("When was it signed?", ["The deal, signed earlier this week, holds."])
    # A time to come is not told by when something else happened: "When will …?" wants no past relative time.
    moved = ["This move, announced earlier this week, aims to bolster its capabilities."]
    assert lacks_asked_type("When will KAYO start delivering ammunition?", moved)
    assert lacks_asked_type("when will the plant open", ["It opened a branch two years ago and recently hired."])
    assert not lacks_asked_type("When will the plant open?", ["It opens next year."])
    assert not lacks_asked_type("When will the plant open?", ["Signed last year, it opens in 2027."])
    # "When and where …?" and "Where and when …?" ask for a time too.
    assert asked_kind("When and where will the charter meeting take place?") == "time"
    assert asked_kind("Where and when did the expert groups meet?") == "time"
    assert lacks_asked_type("When and where will the meeting take place?", ["An upcoming meeting is planned."])
    # "What is X's budget?", "What was its revenue …?" and "…, in euros?" ask for an amount of money, which
    # "Euro-Atlantic" is not; "the role of cost" is no amount asked for.
    for question in ("What is Kosovo's annual defence budget, in euros?", "What was the firm's revenue in 2023?"):
        assert asked_kind(question) == "money", question
        assert lacks_asked_type(question, ["It advances integration into Euro-Atlantic structures."]), question
        assert not lacks_asked_type(question, ["It came to 40 million euros."]), question
    assert asked_kind("What is the role of cost in the decision?") != "money"
    # A population is a figure, and a year alone is none ("How many years …?" may be answered by years).
    assert asked_kind("What is the population of Kosovo?") == "quantity"
    assert asked_kind("What populations are at high risk?") is None
    assert lacks_asked_type("What is the population of Kosovo?", ["Kosovo | Joint Military Exercise | June 2023 |"])
    assert not lacks_asked_type("What is the population of Kosovo?", ["In 2023 it was 1.6 million."])
    assert not lacks_asked_type("How many years did the war last?", ["It ran from 1992 to 1995."])
    assert lacks_asked_type("What is the budget as a percentage of GDP?", ["A commitment to increase spending."])
    assert not lacks_asked_type("What is the budget as a percentage of GDP?", ["It stands at 2.1% of GDP."])
    # The figure or the time the question gives is no answer to it; another one is.
    asked = "How many soldiers took part in the June 2023 exercise?"
    assert lacks_asked_type(asked, ["Kosovo | Joint Military Exercise | June 2023 |"])
    assert not lacks_asked_type(asked, ["In June 2023, 300 soldiers took part."])
    assert lacks_asked_type("When did the 2023 exercise take place?", ["The exercise of 2023 was a success."])
    assert not lacks_asked_type("When did the 2023 exercise take place?", ["The 2023 exercise was held in June."])
    assert lacks_asked_type("How much did the 2024 plan cost?", ["The 2024 plan was costly."])
    assert not lacks_asked_type("How much did the 2024 plan cost?", ["The 2024 plan cost $5 million."])
    # A word the question gives may open the time it asks for: "On May 31" answers "On what date …?".
    assert not lacks_asked_type("On what date did the helicopter crash?", ["On May 31, a rescue helicopter crashed."])
    # A duration written as a compound says how long, not how many of what the question counts.
    summit = ["Zelensky attended a two-day summit of Southeast European countries."]
    assert lacks_asked_type("How many countries attended the summit?", summit)
    assert not lacks_asked_type("How many days did the summit last?", summit)
    assert not lacks_asked_type("How long was the summit?", summit)
    assert not lacks_asked_type("How many countries attended?", ["A 5-year plan signed by 12 countries."])
    # An amount of money is a figure or a sum, not a count: "three" answers "how many", not "how much money".
    counted = ["The three nations will place joint orders at lower costs."]
    assert lacks_asked_type("How much money will joint procurement save?", counted)
    assert lacks_asked_type("How much did the new factory cost?", counted)
    for amount in ("It saves $40 million a year.", "It cost 5,000 francs.", "They spent thousands of dollars."):
        assert not lacks_asked_type("How much money will joint procurement save?", [amount]), amount
    assert not lacks_asked_type("How much older was she than Chopin?", ["She was six years older."])  # no money
    # A year alone is no amount ("2024 | Joint Military Exercises"); a value, a price or a budget is one asked for.
    milestones = ["Milestones ahead:\n2024 | Joint Military Exercises |\n2025 | Defense Reforms |"]
    assert lacks_asked_type("How much does Kosovo spend on defense each year?", milestones)
    assert not lacks_asked_type("How much did Kosovo spend in 2024?", ["In 2024 it spent 1,500 million euros."])
    assert not lacks_asked_type("How much did Kosovo spend?", ["It spent 1999 lek."])
    orders = ["The three nations plan to place joint orders, particularly from the United States."]
    assert lacks_asked_type("What is the total value of the joint weapons orders?", orders)
    assert lacks_asked_type("How much were both supplies worth?", orders)
    assert not lacks_asked_type("What was the value of Apple's cash assets?", ["Apple held $15.4 billion in cash."])

    # Other questions, and a "when" inside a long question's clause, want no particular type.
    assert not lacks_asked_type("What did Croatia say about the initiative?", no_figure)
    assert not lacks_asked_type("How exactly did the ministry describe it when it commented on it?", no_figure)
    # Any of the answer's sentences may hold it.
    assert not lacks_asked_type("How many jobs will it create?", [*no_figure, "About 300 jobs, it said."])


def test_a_question_for_which_kind_wants_a_word_that_says_which() -> None:
    bare = ["Albania has authorized the firm to engage in the production of weapons and ammunition."]
    assert asked_thing("What calibre of ammunition will the firm make?") == "ammunition"
    assert asked_thing("Which specific US weapons systems will they order?") == "systems"
    assert asked_thing("What types or calibres of ammunition will KAYO start producing first?") == "ammunition"
    assert asked_thing("What did the firm make?") is None
    # The thing's noun phrase ends where a verb in the past begins; a first word in -ed is part of it.
    assert asked_thing("What type of gears utilized separate admission and exhaust valves?") == "gears"
    assert asked_thing("What kind of guided missiles will they buy?") == "missiles"
    assert lacks_asked_type("What calibre of ammunition will the firm make?", bare)
    assert lacks_asked_type("which specific weapons will they order", bare)
    # A word that says which: before the thing, a kind or a line of it, or after it.
    for which in (
        "The firm will make 155 mm artillery ammunition.",
        "The firm will make ammunition such as mortar shells.",
        "It makes a heavy form of ammunition.",
        "Its ammunition is rated for NATO rifles.",
        "The firm's ammunition types range from pistol rounds to shells.",
    ):
        assert not lacks_asked_type("What calibre of ammunition will the firm make?", [which]), which
    # A word the question gives is no answer to it; one it does not give is.
    assert unspecified_kind("What kind of playing technique do they need?", ["They need a playing technique."])
    assert not unspecified_kind("What kind of playing technique?", ["They need a formidable playing technique."])
    # Quotes that do not name the thing are not judged: they may name a kind without it.
    assert not lacks_asked_type("What type of vehicles will they buy?", ["They will buy Leopard tanks."])


def test_a_question_for_what_a_party_said_wants_a_candidate_where_that_party_says_something() -> None:

    about = ["Zelensky's proposal comes as Ukraine faces challenges, particularly in its conflict with Russia."]
    assert stance_unattributed("What did Russia say in response to Zelensky's proposal?", about)
    assert stance_unattributed("how did serbia react to the kayo decision", ["Albania authorized KAYO to make arms."])
    said = ["While NATO welcomed the agreement, the Serbian government has expressed opposition."]
    assert not stance_unattributed("How did Serbia react to the pact?", [*about, *said])  # a demonym names it
    assert not stance_unattributed("How has Belgrade responded to the pact?", said)  # a capital speaks for it
    # A title the documents give a name: "the Ukrainian leader" is "Ukrainian President Volodymyr Zelensky".
    leader = ["President Zelensky reiterated Ukraine's commitment to joining the alliance."]
    context = ["Ukrainian President Volodymyr Zelensky recently attended a two-day summit."]
    assert not stance_unattributed("What did the Ukrainian leader say about the alliance?", leader, context)
    assert stance_unattributed("What did the Croatian leader say?", leader, context)  # he is not Croatian
    # A party named by a specific office: the office must be named too ("President Zelensky" is Ukraine's president,
    # whom a title elsewhere gives him; the Serbian government is not Serbia's president).
    assert not stance_unattributed("What did Ukraine's president say about the alliance?", leader, context)
    assert stance_unattributed("What did Serbia's president say about the pact?", said)
    assert not stance_unattributed("What did Serbia's government say about the pact?", said)
    assert not stance_unattributed(
        "What did Serbia's president say about the pact?", ["Serbian President Aleksandar Vucic rejected the pact."]
    )
    # A document says what it holds; "state-run" is no verb of saying; other questions want no speaker.
    assert not stance_unattributed("what does the declaration say about cyber attacks", about)
    assert not stance_unattributed("What did the government in Tirana allow the state-run company to do?", about)
    assert not stance_unattributed("What is Russia's role in the conflict?", about)


def test_a_party_the_articles_never_quote_is_not_answered_for(answerer: Answerer) -> None:
    nothing = answerer.answer("How did Russia respond to Zelensky's call for joint arms production?")
    assert nothing.refused and nothing.closest  # the closest passages, no dead end
    assert nothing.signals.get("no_statement_by_party") == 1.0
    said = answerer.answer("how did serbia react to the pact")
    assert not said.refused and any("Serbian government" in c.quote for c in said.citations)


def test_names_and_yes_or_no_questions_are_read_as_typed() -> None:
    assert names_written("did zelensky meet Erdogan in Kyiv") == [
        "Erdogan",
        "Kyiv",
    ]  # capitalised where no sentence starts
    assert names_written("is hungary in the pact? What about Greek officials") == [
        "hungary",
        "Greek",
    ]  # a country: any case
    assert names_written("What did the Luxembourg-based bank and the EU say?") == ["Luxembourg"]  # "EU": two letters
    assert names_written("Will Lockheed Martin supply Bosnia and Herzegovina?") == [
        "Lockheed Martin",  # words next to each other are one name
        "Bosnia",
        "Herzegovina",
    ]
    assert "United States" in same_country("American") and "greece" in same_country("greek")
    assert same_country("Erdogan") == ()
    for question in ("Did Serbia oppose the pact?", "and is kayo state owned", "Has the initiative got a name"):
        assert asks_yes_no(question), question
    for question in ("can you tell me what Croatia said", "What did Serbia say?", "do you know who runs KAYO"):
        assert not asks_yes_no(question), question


def test_a_question_about_a_name_no_article_holds_says_so(answerer: Answerer) -> None:
    for question, name in (
        ("did hungary send soldiers to the joint exercises", "Hungary"),
        ("Has Erdogan backed the idea of joint arms production?", "Erdogan"),
    ):
        answer = answerer.answer(question)
        assert answer.refused and answer.signals.get("unmentioned_name") == 1.0, question
        assert answer.text.startswith(f"The articles never mention {name}."), answer.text
        assert answer.closest and f"{answer.closest[0].quote}” [1]" in answer.text  # no dead end
        assert "answer this directly" not in answer.text  # the reason stands for the general line
    alone = answerer.answer("what about portugal")  # the name alone: nothing retrieved shares a word with it
    assert alone.refused and alone.text == "The articles never mention Portugal." and not alone.closest
    follow_up = answerer.answer("and hungary?", ["What did Croatia say about military blocs?"])
    assert follow_up.refused and follow_up.text.startswith("The articles never mention Hungary.")
    # A name the articles hold, or hold in another form, is asked about as any question.
    for question in (
        "Did Serbia oppose the pact?",
        "did washington welcome the agreement",  # the capital for its country, which the articles name
        "Did American officials welcome the agreement?",  # "United States", "U.S."
        "How much is Brussels offering?",  # not a yes or no, and more than the name
    ):
        assert "unmentioned_name" not in answerer.answer(question).signals, question
    assert not answerer.answer("Did Serbia oppose the pact?").refused


def test_a_question_for_who_holds_an_office_wants_the_office_in_the_answer() -> None:
    ministry = ["The Croatian Ministry of Defense has stated that the initiative is open to other members."]
    assert lacks_asked_type("Who is Albania's defence minister?", ministry)  # "ministry" is not the minister
    assert lacks_asked_type("what is the name of the serbian defence minister", ministry)
    assert lacks_asked_type("Who heads Croatia's Ministry of Defense?", ministry)
    assert lacks_asked_type("Which Romanian official spoke at the summit?", ["Leaders from Romania attended."])
    named = ["Defence Minister Niko Peleshi signed it.", "Its ministers signed it.", "The ministerial meeting ended."]
    for sentence in named:
        assert not lacks_asked_type("Who is Albania's defence minister?", [sentence]), sentence
    assert not lacks_asked_type("Who was the founder of the Post?", ["It was founded in 1801 by Alexander Hamilton."])
    assert not lacks_asked_type("Which US president won 80 percent?", ["Obama was the first presidential candidate."])
    assert not lacks_asked_type("Who heads the ministry?", ["It is led by Minister Ana Lukić."])
    # Questions that ask for a person without an office, or for no person, want no particular word.
    assert not lacks_asked_type("Who signed the declaration?", ministry)
    assert not lacks_asked_type("What did the minister say?", ministry)


def test_a_deputy_does_not_hold_the_office_asked_for() -> None:
    # A vice chairwoman is not the chairman, a deputy prime minister not the prime minister, unless the question asks
    # for the deputy; a sentence naming the office and its deputy names the holder.
    lan = ["Dinh Thi Lan, vice chairwoman of the provincial People's Committee, said the factory meant stable jobs."]
    assert lacks_asked_type("Who is the chairman of the provincial People's Committee?", lan)
    assert lacks_asked_type("who chairs the people's committee", lan)
    assert not lacks_asked_type("Who is the vice chairwoman of the provincial People's Committee?", lan)
    talks = ["The talks were chaired by Armenian Deputy Prime Minister Aram Harutyunyan."]
    assert lacks_asked_type("Who is Armenia's prime minister?", talks)
    assert not lacks_asked_type("Who is Armenia's deputy prime minister?", talks)
    assert lacks_asked_type("Who is the secretary of state?", ["Assistant Secretary of State Ana Ruiz spoke."])
    assert not lacks_asked_type("Who is the president?", ["President Ana Ruiz and Vice-President Ivo Kos spoke."])
    # The end of "service" is no "vice", wherever the 40 characters read before the role begin.
    board = ["Ana Ruiz is the civil service interministerial-procurement-board chairman."]
    assert not lacks_asked_type("Who is the chairman of the board?", board)
    # Nor does a deputy speak for the office: what Serbia's prime minister said is not what her deputy said.
    deputy = ["Serbian Deputy Prime Minister Ana Brnabic said the pact was a threat."]
    assert stance_unattributed("What did Serbia's prime minister say about the pact?", deputy)
    assert not stance_unattributed("What did Serbia's deputy prime minister say about the pact?", deputy)
    premier = ["Serbian Prime Minister Ana Brnabic said the pact was a threat."]
    assert not stance_unattributed("What did Serbia's prime minister say about the pact?", premier)


def test_an_office_held_for_someone_else_is_not_the_asked_office() -> None:
    zelensky = [
        "Ukrainian President Volodymyr Zelensky attended a summit.",
        "During his speech, President Zelensky stressed cooperation.",
    ]
    # The sentences qualify the president as Ukraine's and never as Kosovo's: another office.
    for question in ("who is the president of kosovo", "Who is Kosovo's president?", "Who is the Serbian president?"):
        assert lacks_asked_type(question, zelensky), question
    # Ukraine's president (a demonym or the name), or a president the question does not place, is the asked one.
    for question in ("who is the president of ukraine", "Who is the Ukrainian president?", "Who is the president?"):
        assert not lacks_asked_type(question, zelensky), question
    # A role the sentences do not place is not held against the question; nor is the holder's own name.
    assert not lacks_asked_type("Who is Albania's prime minister?", ["Edi Rama, the Prime Minister, spoke."])
    assert not lacks_asked_type("Who was mayor of New York then?", ["They elected Fiorello La Guardia as mayor."])
    assert lacks_asked_type("Who is Albania's prime minister?", ["Croatia's Prime Minister spoke."])
    assert not lacks_asked_type("Who is Albania's prime minister?", ["Albanian Prime Minister Edi Rama spoke."])
    # The role's own words in the question are not an owner ("Defence"), the owner's name is matched whole.
    assert lacks_asked_type(
        "What is the name of the Serbian defence minister?", ["Croatian Defence Minister Ana spoke."]
    )
    assert not lacks_asked_type("Who was the Vice Minister of Health?", ["Vice Minister of Health Gao Qiang said."])
    assert not lacks_asked_type(
        "Who was the first President of the United States?", ["The President of the United States."]
    )
    # After "of", a word for the office names its owner; a word for holding it ("leadership") names the holder.
    led = ["The regime was under the leadership of Hassan."]
    assert not lacks_asked_type("Who was the leader of the Islamist regime?", led)
    # A role of two words takes its owner after "of" as a one-word role does: Hanbit Energy's chief executive is not
    # Dukhan Gas Company's.
    park = ["Park Ji-hoon, chief executive of Hanbit Energy, said the contract would cover demand."]
    assert lacks_asked_type("Who is the chief executive of Dukhan Gas Company?", park)
    assert lacks_asked_type("Who is the chief executive officer of Dukhan?", park)
    assert not lacks_asked_type("Who is the chief executive of Hanbit Energy?", park)
    assert not lacks_asked_type("who is the ceo of hanbit", park)
    # A country's names that share no stem are one owner: Greek/Greece, English/British, US/American/United States.
    assert not lacks_asked_type("Who is the Greek prime minister?", ["Greece's Prime Minister Kyriakos spoke."])
    assert not lacks_asked_type("Who was the English general there?", ["They met British general Lord Howe."])
    assert not lacks_asked_type("Which US president won?", ["American President Calvin Coolidge won."])
    assert lacks_asked_type("Who is the French president?", ["The American President and the British one met."])
    # A type of owner ("which city's mayor") is not a name.
    assert not lacks_asked_type("Which city's mayor began it?", ["Chicago mayor Richard Daley began it."])
    # A name typed one edit off is the same name (as the spelling correction reads words); a name that differs in its
    # first two letters, or is short, is another one.
    groener = ["In Groener v Minister for Education the Court accepted a language requirement."]
    assert not lacks_asked_type("What did the Court accept in Groner v Minister for Education?", groener)
    assert lacks_asked_type("Who is Gambia's president?", ["Zambian President Hichilema spoke."])
    assert lacks_asked_type("Who is Iceland's prime minister?", ["Ireland's Prime Minister spoke."])


def test_a_holder_named_without_the_office_owner_is_read_where_the_document_qualifies_the_name() -> None:
    """ "President Zelensky" says nothing of whose president he is; the article's "Ukrainian President Volodymyr
    Zelensky" does. A question about Serbia's president answered with him is about another office."""
    article = (
        "Ukrainian President Volodymyr Zelensky attended a summit in Kyiv. "
        "During his speech, President Zelensky stressed cooperation in the defence sector."
    )
    quote = ["During his speech, President Zelensky stressed cooperation in the defence sector."]
    for question in ("What did Serbia's president say at the summit?", "What did the Serbian president say?"):
        assert lacks_asked_type(question, quote, [article]), question
        assert not lacks_asked_type(question, quote), question  # unread, the name is no one's in particular
    assert lacks_asked_type("who is the president of serbia", quote, [article])
    assert not lacks_asked_type("who is the president of serbia", quote)
    # The owner the document gives is the asked one; a question that names no owner is not judged.
    for question in ("What did Ukraine's president say?", "What did the president say?", "who is ukraine's president"):
        assert not lacks_asked_type(question, quote, [article]), question
    # Quotes that do not name the asked role are not judged by it: a "leader" may be quoted as "President …".
    assert not lacks_asked_type("What did the Croatian leader say?", quote, [article])
    # Another holder's name elsewhere in the article does not qualify this one.
    other = "Croatian President Zoran Milanovic was absent. " + article
    assert lacks_asked_type("What did Croatia's president say?", quote, [other])


def test_a_near_miss_question_for_an_office_holder_is_refused_with_the_closest_passages(answerer: Answerer) -> None:
    """The articles name no minister of any of the three countries: the sentences about the ministries are shown as
    the closest, not given as the answer."""
    for question in (
        "Who is Albania's defence minister?",
        "who is the croatian defense minister",
        "who is kosovo's president",
        "What did the Serbian president say at the Kyiv summit?",  # quoted: "President Zelensky …", Ukraine's
        "What did the Croatian presdent say to Zelenski at the summit?",  # the office misspelt: read as searched
    ):
        answer = answerer.answer(question)
        assert answer.refused and answer.citations == (), answer.text
        assert answer.text.startswith(CLOSEST_TEXT) and answer.closest


def test_a_near_miss_quantity_question_is_refused_with_the_closest_passages(answerer: Answerer) -> None:
    """The articles say KAYO will make weapons and ammunition, and never how many workers it has: the sentences
    sharing the question's words are shown as the closest, not given as the answer."""
    answer = answerer.answer("How many workers does KAYO employ?")
    assert answer.refused and answer.citations == (), answer.text
    assert answer.text.startswith(CLOSEST_TEXT) and answer.closest
    # A time the articles do give is still answered: the guide goes to the ministries in September.
    dated = answerer.answer("When is the finalized guide to be presented to the defense ministries?")
    assert not dated.refused and "September" in dated.text, dated.text


def test_a_near_miss_question_for_a_city_is_refused_with_the_closest_passages(answerer: Answerer) -> None:
    """The articles say Kosovo will use a charter meeting with the U.S. and never where it is held: the sentence is
    shown as the closest, not given as the answer; a city they do name is still answered."""
    answer = answerer.answer("In which city will the charter meeting between the U.S. and Adriatic countries be held?")
    assert answer.refused and answer.citations == (), answer.text
    assert answer.text.startswith(CLOSEST_TEXT) and answer.closest
    named = answerer.answer("In which city did the expert groups meet to put the plan into operation?")
    assert not named.refused and "Tirana" in named.citations[0].quote, named.text


def test_an_age_question_wants_an_age_in_the_answer() -> None:
    """ "How old is …?" is answered by an age or by when the thing began, not by another figure of the sentence."""
    named = "Skyreach chief executive Daniel Mutabazi said the company would add 60 new aircraft to its fleet."
    assert lacks_asked_type("How old is Skyreach chief executive Daniel Mutabazi?", [named])
    unaged = ["Losana Vaku, a former finance official, spoke."]
    assert lacks_asked_type("how old is the forum secretary general", unaged)
    for aged in (
        "Daniel Mutabazi, 52, said the company would grow.",
        "The 52-year-old executive said the company would grow.",
        "Mutabazi, aged 52, runs the company.",
        "He is 52 years old.",
        "KAYO was founded in 1947.",
    ):
        assert not lacks_asked_type("How old is he?", [aged]), aged


def test_a_question_for_money_wants_a_currency_in_the_answer() -> None:
    """An amount of money is stated in a currency: another figure of the sentence ("120 megawatts", "55 percent of its
    capacity") is no price. A question for a change or a share of money is answered by a percentage."""
    asked = "How much will Northwind Compute pay for the electricity?"
    assert lacks_asked_type(asked, ["Landsorka will deliver up to 120 megawatts to Northwind Compute."])
    assert lacks_asked_type("how much did the exercise cost", ["The link must run at 55 percent of its capacity."])
    # "Euro-Atlantic" names no currency beside a figure that is no price.
    assert lacks_asked_type(asked, ["The 3 countries pursue Euro-Atlantic integration with Northwind Compute."])
    for priced in (
        "Northwind will pay $41 per megawatt-hour.",
        "The price was set at 38 euros per megawatt-hour.",
        "The deal is worth NOK 2.4 billion.",
        "It will cost 300 million Norwegian crowns.",
    ):
        assert not lacks_asked_type(asked, [priced]), priced
    # A price asked without "is" or "was" is money too; a price rise is answered by a percentage.
    for price in ("What price will Moldova pay for its gas?", "At what price did the futures close?"):
        assert asked_kind(price) == "money", price
        assert lacks_asked_type(price, ["Moldova will buy 2 billion cubic metres of gas a year."]), price
        assert not lacks_asked_type(price, ["The gas will cost 410 dollars per 1,000 cubic metres."]), price
    assert asked_kind("What price rise did the regulator approve?") != "money"
    for share in (
        "By how much did insurers raise war-risk premiums?",
        "how much did egypt raise household electricity prices",
        "What is Kosovo's defence budget as a percentage of GDP?",
    ):
        assert not lacks_asked_type(share, ["Premiums and prices rose by 40 percent, about 2% of output."]), share


def test_a_question_naming_a_year_wants_the_year_in_the_answer_or_just_before_it() -> None:
    """A year the question names that neither a quote nor the sentence before it states: the quotes speak of another
    time ("What was the capacity in 2015?" answered by today's capacity)."""
    text = (
        "Kenya commissioned two geothermal plants on Monday. The additions lift installed capacity to 1,086 megawatts."
        "\n\nIn 2015 the country had far less. Capacity then stood at 600 megawatts."
    )

    def cited(quote: str) -> Citation:
        start = text.index(quote)
        return answering.citation(1, "kenya.txt", None, text, start, start + len(quote))

    today = cited("The additions lift installed capacity to 1,086 megawatts.")
    then = cited("Capacity then stood at 600 megawatts.")
    texts = {"kenya.txt": text}
    assert year_unstated("What was Kenya's installed geothermal capacity in 2015?", [today], texts)
    assert not year_unstated("What was Kenya's installed geothermal capacity in 2015?", [then], texts)  # just before
    assert not year_unstated("What was the capacity in 2015?", [today, then], texts)  # one quote of several states it
    assert not year_unstated("What is Kenya's installed geothermal capacity?", [today], texts)  # no year asked
    assert not year_unstated("What changed between 2015 and 2024?", [then], texts)  # one of the years asked


def test_abbreviations_match_their_long_form() -> None:
    text = (
        "Only hepatitis B virus (HBV) and its satellite, hepatitis D virus (HDV), lack a cell culture system. "
        "Mother-to-child transmission (MTCT) is the main route (Table 2) since 2010 (WHO) and (p < 0.05)."
    )
    assert abbreviations(text) == {
        "HBV": "hepatitis B virus",
        "HDV": "hepatitis D virus",
        "MTCT": "Mother-to-child transmission",
    }
    question_terms = ["hepat", "infect", "requir"]
    idf = dict.fromkeys(question_terms, 2.0)
    pool = with_aliases(
        [_sentence("The HBV infection demands both intracellular and cell-surface factors."), _sentence("Nothing.")],
        abbreviations(text),
    )
    assert pool[0].aliases == "hepatitis B virus" and pool[1].aliases == ""
    vector = np.zeros(384, dtype=np.float32)
    scored = score_sentences(pool, None, vector, question_terms, idf, "What is required for a Hepatitis B infection?")
    # "HBV" is hepatitis B virus: the sentence covers "hepatitis" as well as "infection".
    assert scored[0].sentence is pool[0] and scored[0].lexical == pytest.approx(2 / 3)
    # The other way round: a sentence spelling the long form matches a question using the abbreviation.
    long = with_aliases([_sentence("Mother-to-child transmission is rare with treatment.")], abbreviations(text))
    assert long[0].aliases == "MTCT"


def test_definition_questions_prefer_the_sentence_that_defines_the_term() -> None:
    assert defined_term("What are nuclear receptors (NRs)?") == ("nuclear receptors", "NRs")
    assert defined_term("What is the acronym SARS-CoV-2?") == ("SARS-CoV-2",)
    assert defined_term("What does KAYO stand for?") == ("KAYO",)
    # Questions about an attribute of X, or about X's role, are not asking for a definition.
    assert defined_term("What is the size of bovine coronavirus?") == ()
    assert defined_term("What did Croatia say about military blocs?") == ()
    assert definition_match("What is hepcidin?", "Hepcidin is a low molecular weight peptide hormone.") == 1.0
    assert definition_match("What is hepcidin?", "Hepcidin plays a role in iron metabolism.") == 0.0
    long_form = "Cases of severe acute respiratory syndrome coronavirus 2 (SARS-CoV-2) infection were exported."
    assert definition_match("What is the acronym SARS-CoV-2?", long_form) == 1.0
    assert definition_match("What is the acronym SARS-CoV-2?", "The SARS-CoV-2 virus is a betacoronavirus.") == 0.0
    assert definition_match("What is KAYO?", "KAYO, the state defence company, signed it.") == 1.0


def _sentence(text: str, previous: str = "", rank: int = 0, start: int = 0) -> Sentence:
    return Sentence("doc.md", start, start + len(text), text, rank, previous)


def test_a_sentence_opening_with_a_pronoun_is_credited_with_the_terms_before_it() -> None:
    question = "What did Iqbal's Allahabad address inspire?"
    terms_ = ["iqbal", "allahabad", "address", "inspir"]
    idf = dict.fromkeys(terms_, 2.0)
    before = "In his Allahabad address, Iqbal outlined a vision of an independent state."
    answer = _sentence("This address later inspired the Pakistan movement.", previous=before, start=80)
    plain = _sentence("The address later inspired the Pakistan movement.", previous="Something else entirely.")
    vector = np.zeros(384, dtype=np.float32)
    scored = {s.sentence.text: s for s in score_sentences([answer, plain], None, vector, terms_, idf, question)}
    assert scored[answer.text].lexical == pytest.approx(1.0)  # "This address" is Iqbal's Allahabad address
    assert scored[plain.text].lexical == pytest.approx(0.5)  # only its own words count
    assert scored[answer.text].score > scored[plain.text].score


def test_the_sentence_before_a_quote_is_read_within_its_paragraph() -> None:
    wrapped = (
        "Title\n\nIn his Allahabad address, Iqbal outlined a vision of an independent state for the Muslims of north-\n"
        "west India in the north of the subcontinent. This address later inspired the Pakistan movement.\n\nNext."
    )
    start = wrapped.index("This address")
    end = wrapped.index(".\n\nNext") + 1
    # The paragraph's hard-wrapped lines are one paragraph: the sentence before starts on the line above.
    assert previous_sentence(wrapped, start, end) == (wrapped.index("In his"), start - 1)
    # None at the start of a paragraph, or where the quote would grow past its bound.
    assert previous_sentence(wrapped, wrapped.index("In his"), start - 1) is None
    assert previous_sentence(wrapped, wrapped.index("Next"), len(wrapped)) is None
    long = "A" + "a" * 400 + " word. " + "This follows."
    assert previous_sentence(long, long.index("This"), len(long)) is None


def test_the_quote_of_a_sentence_opening_with_a_pronoun_holds_what_it_refers_to() -> None:
    before = "In his Allahabad address, Iqbal outlined a vision of an independent state."
    text = f"Title\n\n{before} This address later inspired the Pakistan movement. It was widely read.\n\nNext."
    at = text.index("This address")
    answer = _sentence("This address later inspired the Pakistan movement.", previous=before, start=at)
    asked = ["iqbal", "allahabad", "address", "inspir"]
    # Its match came from the sentence before ("Iqbal", "Allahabad"): the quote starts there.
    assert include_antecedent(text, answer, asked) == text.index(before)
    # Not when the sentence matched on its own words, opens without a pronoun, or starts its paragraph.
    assert include_antecedent(text, answer, ["address", "inspir"]) == at
    plain = _sentence("The address later inspired the Pakistan movement.", previous=before, start=at)
    assert include_antecedent(text, plain, asked) == at
    later = text.index("It was")  # the sentence before it holds none of the asked words
    widely = _sentence(
        "It was widely read.", previous="This address later inspired the Pakistan movement.", start=later
    )
    assert include_antecedent(text, widely, ["iqbal", "allahabad", "read"]) == later
    split = f"{before}\n\nThis address later inspired the movement."
    first = _sentence("This address later inspired the movement.", previous=before, start=split.index("This"))
    assert include_antecedent(split, first, asked) == first.start


def test_local_weights_discount_a_term_every_candidate_shares() -> None:
    idf = {"pertussi": 4.0, "symptom": 2.0}
    pool = [
        _sentence("Pertussis cases rose in winter."),
        _sentence("Pertussis is a cyclical disease."),
        _sentence("Symptoms of pertussis include apnea and cyanosis."),
    ]
    weights = local_weights(["pertussi", "symptom"], pool, idf)
    # Corpus-wide, "pertussis" is the rarer term; among these candidates it is in all three and tells none apart.
    assert weights["symptom"] > weights["pertussi"]
    assert local_weights(["pertussi"], [], idf) == idf


def test_quotes_and_windows_keep_offsets() -> None:
    text = "Intro line.\nKey reasons include:\n- One.\n- Two.\nLater prose that is long enough to stop the list here."
    start = text.index("Key")
    end = extend_over_list(text, start, start + len("Key reasons include:"))
    assert text[start:end] == "Key reasons include:\n- One.\n- Two."
    # Unmarked items of one sentence each (bullets lost in conversion) are the list too; prose ends it.
    text = (
        "Factors to consider may include:\nDoes the patient have recent travel from an affected area?\n"
        "Has the patient been in close contact with someone with COVID-19?\n"
        "If you are a healthcare provider, take care of yourself. Follow the infection control procedures."
    )
    end = extend_over_list(text, 0, len("Factors to consider may include:"))
    assert text[:end].endswith("someone with COVID-19?")
    para = "First one. Second one. Third one. Fourth one."
    s = para.index("Second")
    lo, hi = context_window(para, s, s + len("Second one."))
    assert para[lo:hi] == "First one. Second one. Third one."
    assert strip_markup("<b>Which</b> firm<script>x()</script>?") == "Which firm ?"


def test_window_spans_hard_wrapped_lines_but_not_paragraphs() -> None:
    # PDF text: one paragraph cut into lines of ~60 characters, then a heading and another paragraph.
    text = (
        "Coronaviruses are enveloped viruses with a positive-sense single-\n"
        "stranded RNA genome. The spike protein binds the receptor on the\n"
        "host cell surface. Neutralising antibodies target this protein and\n"
        "block entry into the cell.\n"
        "Methods\n"
        "Samples were collected in March."
    )
    start = text.index("The spike")
    end = text.index("surface.") + len("surface.")
    lo, hi = context_window(text, start, end)
    assert text[lo:hi].startswith("Coronaviruses are enveloped")
    assert text[lo:hi].endswith("block entry into the cell.")
    assert "Methods" not in text[lo:hi]


def test_a_restating_sentence_is_quoted_with_the_next_whole_sentence_of_a_hard_wrapped_paragraph() -> None:
    text = (
        "Why we adopted the low-dose chest CT protocol: low-dose chest CT is\n"
        "widely used in lung cancer screening. It is well known that many early lung cancers\n"
        "are ground-glass opacities, so we believe that low-dose screening also applies to COVID-19.\n"
        "Methods\n"
    )
    end = text.index("screening.") + len("screening.")
    question_terms = terms("What is the reason to adopt low-dose chest CT?")
    extended = extend_restatement(text, 0, end, question_terms)
    # The quote runs to the end of the next sentence (PDF text: its line is cut), not to the end of its line.
    assert text[:extended].endswith("low-dose screening also applies to COVID-19.")
    # A sentence that does not restate the question is quoted alone.
    assert extend_restatement(text, 0, end, terms("Which cancers are ground-glass opacities?")) == end


def test_a_quote_without_the_asked_place_or_figure_runs_on_to_the_next_sentence_that_has_it() -> None:
    text = (
        "Zelensky attended a two-day summit of Southeast European countries. The summit, which took place in Kyiv,"
        " brought leaders together. Bulgaria sent 40 delegates.\n\nA new paragraph in Sofia."
    )
    first = text.index("countries.") + len("countries.")
    second = text.index("together.") + len("together.")
    where = asked_type("Where was the summit held?")
    assert where is not None and where("It opened in Kyiv.") and not where("It opened in spring.")
    assert text[: extend_to_asked_type(text, 0, first, where)].endswith("took place in Kyiv, brought leaders together.")
    how_many = asked_type("how many delegates did bulgaria send")
    assert how_many is not None
    assert extend_to_asked_type(text, first + 1, second, how_many) == len(text[: text.index("delegates.") + 10])
    # A quote that holds it already, or a next sentence without it, or none in the paragraph: the quote as it was.
    assert extend_to_asked_type(text, first + 1, second, where) == second
    assert extend_to_asked_type(text, 0, first, how_many) == first
    last = text.index("delegates.") + len("delegates.")
    assert extend_to_asked_type(text, second + 1, last, where) == last
    assert asked_type("What did Croatia say?") is None


def test_a_list_item_s_lead_in_is_the_sentence_introducing_its_list() -> None:
    text = (
        "Albania decided. However, the task is hard. Key considerations include:\n"
        "- Maintaining transparency.\n- Ensuring compliance with treaties.\n\n"
        "The table lists milestones:\nyear | Milestone |\n---|---|\n2026 | Integration |"
    )
    assert list_lead_in(text, text.index("- Ensuring")) == "Key considerations include:"
    assert list_lead_in(text, text.index("- Maintaining")) == "Key considerations include:"
    assert list_lead_in(text, text.index("2026 |")) == "The table lists milestones:"  # header and rule are rows
    assert list_lead_in("- first\n- second", 0) == ""  # nothing above the list
    assert list_lead_in("- first\n- second", 8) == ""
    # The section's heading: the nearest line above that has no sentence punctuation and is not an item.
    sections = "Title Of The Piece\nSome prose.\nRegional Risks\nThe risks include:\n- Arms races.\n- Proliferation."
    assert section_heading(sections, sections.index("- Proliferation")) == "Regional Risks"
    assert section_heading(sections, sections.index("Some prose")) == "Title Of The Piece"
    assert section_heading(sections, 0) == ""


def test_a_list_item_is_read_with_its_lead_in_where_that_is_closer_to_the_question(answerer: Answerer) -> None:
    """The meaning of a table row or a bullet is scored as the item alone or under its section's heading and the
    sentence introducing its list, whichever is closer to the question; any other sentence keeps its own vector."""
    source = "004_299ba8388898a818.txt"
    text = answerer.index.document_text(source) or ""
    row = text.index("2026 | Integration")
    row_end = text.index("\n", row)
    prose = text.index("Kosovo’s status has not been recognized")
    prose_end = text.index(".", prose) + 1
    candidates = [
        Sentence(source, row, row_end, text[row:row_end], 0),
        Sentence(source, prose, prose_end, text[prose:prose_end], 0),
    ]
    vectors = answerer._embed_sentences([c.text for c in candidates])
    question = answerer.retriever.query_vector("What milestone is expected in 2026 for Kosovo and NATO?")
    meaning = answerer._in_list_context(candidates, vectors, question, {source: text})
    lead = list_lead_in(text, row)
    assert lead.startswith("The following table outlines key milestones")
    context = " ".join(dict.fromkeys(c for c in (section_heading(text, row), lead) if c))
    together = answerer._embed_sentences([f"{context} {candidates[0].text}"])[0]
    assert together @ question > vectors[0] @ question  # read under its lead-in, the row is about Kosovo and NATO
    assert np.allclose(meaning[0], together)
    assert np.allclose(meaning[1], vectors[1])
    # Where the item alone is closer, it keeps its own vector.
    alone = answerer._in_list_context(candidates[:1], vectors[:1], vectors[0], {source: text})
    assert np.allclose(alone[0], vectors[0])


def test_a_question_for_several_things_quotes_the_list_its_paragraph_introduces(answerer: Answerer) -> None:
    text = (
        "Kosovo faces internal challenges. The country must do more. Critical areas include:\n"
        "- Strengthening institutions.\n- Improving readiness.\n\nA new paragraph."
    )
    first = text.index(".") + 1
    listed = text.index("readiness.") + len("readiness.")
    assert extend_to_introduced_list(text, 0, first) == listed  # the rest of the paragraph and its list
    assert extend_to_introduced_list(text, text.index("A new"), len(text)) == len(text)  # no list after it
    plain = "Kosovo faces internal challenges. The country must do more.\n- An item."
    assert extend_to_introduced_list(plain, 0, plain.index(".") + 1) == plain.index(".") + 1  # no lead-in
    for several in (
        "What internal challenges does Kosovo need to address?",
        "albania kosovo croatia declaration what areas r covered",
        "What are the risks of Albania's arms production?",
        "What key reasons does the coverage give?",
        "what are kosovo's internal challenges",  # a possessive among the modifiers
        "Which of Kosovo’s neighbours are named?",
    ):
        assert asks_for_several(several), several
    for one in ("Who owns KAYO?", "What did the articles say?", "What does Kosovo need?", "What is KAYO?"):
        assert not asks_for_several(one), one
    # In the pipeline: the sentence that matches leads, the list that its paragraph introduces follows in the quote.
    answer = answerer.answer("What internal challenges does Kosovo need to address for its NATO bid?")
    assert not answer.refused
    items = ("- Strengthening democratic institutions", "- Improving military readiness", "- Addressing socioeconomic")
    assert all(item in answer.citations[0].quote for item in items)
    text = answerer.index.document_text(answer.citations[0].source) or ""
    assert text[answer.citations[0].start : answer.citations[0].end] == answer.citations[0].quote


def passage(source: str, start: int, end: int, text: str, rank: int) -> Passage:
    return Passage(f"{source}:{start}", source, source, None, start, end, text, 1.0 / (1 + rank))


def test_merge_joins_overlapping_and_touching_passages_of_one_document() -> None:
    doc = "One. Two. Three. Four. Five. Six."
    a = passage("d", 0, 9, doc[0:9], 0)  # "One. Two."
    b = passage("d", 5, 16, doc[5:16], 1)  # "Two. Three." overlaps a
    c = passage("d", 17, 22, doc[17:22], 2)  # "Four." is a space away from "Three.": kept apart
    d = passage("e", 0, 9, "Elsewhere", 3)  # another document never merges
    merged = merge_passages([a, b, c, d])
    assert [(p.source, p.start, p.end) for p in merged] == [("d", 0, 16), ("d", 17, 22), ("e", 0, 9)]
    assert all(p.text == doc[p.start : p.end] for p in merged if p.source == "d")
    assert merged[0].chunk_id == a.chunk_id and merged[0].score == a.score  # the better rank's identity
    # Past the cap the worse passage keeps only what the better one lacks (or nothing, when that is little).
    assert [(p.start, p.end) for p in merge_passages([a, b], max_chars=10)] == [(0, 9)]
    long_doc = "Alpha sentence. " + "Beta sentence that is long enough to be kept on its own."
    first = passage("d", 0, 15, long_doc[:15], 0)
    second = passage("d", 0, len(long_doc), long_doc, 1)
    trimmed = merge_passages([first, second], max_chars=20)
    assert [(p.start, p.end) for p in trimmed] == [(0, 15), (16, len(long_doc))]
    assert trimmed[1].text == long_doc[16:] and trimmed[1].chunk_id == second.chunk_id


def test_merge_ends_where_a_cut_back_passage_touches_the_kept_one_end_to_end() -> None:
    # Sentences glued without a space ("…Europe.The agreement…"): what is left of the worse passage starts exactly
    # where the better one ends. It used to be cut against the better one again and again, for ever.
    doc = "First sentence of the piece.Second sentence of the piece, long enough to be kept on its own."
    cut = doc.index("Second")
    better = passage("d", 0, cut, doc[:cut], 0)
    worse = passage("d", 0, len(doc), doc, 1)
    merged = merge_passages([better, worse], max_chars=40)
    assert [(p.start, p.end) for p in merged] == [(0, cut), (cut, len(doc))]
    assert merged[1].text == doc[cut:]


def test_rerank_orders_by_best_sentence_with_the_fused_rank_as_prior() -> None:
    ps = [passage("d", i * 10, i * 10 + 5, "x" * 5, i) for i in range(4)]
    assert [p.start for p in rerank_passages(ps, {2: 1.0, 0: 0.5}, 3)] == [20, 0, 10]
    assert [p.start for p in rerank_passages(ps, {}, 4)] == [0, 10, 20, 30]  # unscored: fused order


def test_adjacent_sentences_of_a_paragraph_are_one_quote() -> None:
    text = "First claim here. Second claim here.\n\nNew paragraph."
    second = text.index("Second")
    assert adjacent(text, 0, 17, second, second + 18)
    assert adjacent(text, second, second + 18, 0, 17)  # either order
    para = text.index("New")
    assert not adjacent(text, second, second + 18, para, len(text))  # a blank line between
    long_text = "A" * 300 + ". " + "B" * 300 + "."
    assert not adjacent(long_text, 0, 301, 302, 603)  # too long to quote as one


def test_retrieved_passages_are_widened_merged_and_hold_the_first_citation(answerer: Answerer) -> None:
    question = condense("What do the three countries expect from coordinating their weapons purchases?", ())
    retrieval = answerer.retriever.retrieve(question, 5)
    assert len(retrieval.passages) > 5  # candidates beyond k, for the sentence scorer to rerank
    chunks = answerer.index.chunks([p.chunk_id for p in retrieval.passages])
    widened = 0
    for p in retrieval.passages:
        chunk = chunks[p.chunk_id]
        assert p.start <= chunk.start and chunk.end <= p.end  # the chunk is inside its widened passage
        assert answerer.index.document_text(p.source)[p.start : p.end] == p.text  # type: ignore[index]
        widened += (p.start, p.end) != (chunk.start, chunk.end)
    assert widened > 0
    answer = answerer.answer(question.question)
    assert len(answer.retrieved) <= 5
    spans = [(p.source, p.start, p.end) for p in answer.retrieved]
    for i, (src, lo, hi) in enumerate(spans):
        assert not any(s == src and lo < e and b < hi for s, b, e in spans[i + 1 :])  # no overlaps left
    first = answer.citations[0]
    assert any(p.source == first.source and p.start <= first.start < p.end for p in answer.retrieved)
    # The restating sentence, the one after it and the answer are adjacent: one quote holds all three.
    assert "lower costs and faster delivery times" in first.quote


def test_lru_cache_forgets_the_least_recently_used() -> None:
    cache: LruCache[str, int] = LruCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "a" is now the most recent
    cache.put("c", 3)
    assert cache.get("b") is None and cache.get("a") == 1 and cache.get("c") == 3
    assert len(cache) == 2
    with pytest.raises(ValueError):
        LruCache(0)


# -- long questions: the one real ask --------------------------------------------------------------------
LONG_QUESTION = (
    "Since the three governments keep talking about NATO, the European Union, Serbia, Ukraine and hybrid threats in "
    "every statement and the press covers each summit in detail, I just want to know one thing: which firm did "
    "Albania authorize to produce weapons?"
)
LONG_CROATIA = (
    "My uncle served in the army in the nineties and he keeps telling me that the region will never cooperate on "
    "anything military because of old disputes, so I would like to check with the articles: what did the Croatian "
    "defence ministry say the initiative is open to?"
)


def test_the_ask_of_a_long_question_is_its_last_asking_clause() -> None:
    from qa.condense import LONG_QUESTION_WORDS, the_ask

    assert the_ask("Which firm did Albania authorize?") == "Which firm did Albania authorize?"  # short: whole
    assert len(LONG_QUESTION.split()) > LONG_QUESTION_WORDS
    assert the_ask(LONG_QUESTION) == "which firm did Albania authorize to produce weapons?"
    rambling = " ".join(["the articles say many things about the region"] * 4)  # no question word at all
    assert the_ask(rambling) == " ".join(rambling.split()[-LONG_QUESTION_WORDS:])


@pytest.mark.parametrize(("question", "expected"), [(LONG_QUESTION, "KAYO"), (LONG_CROATIA, "open to other NATO")])
def test_a_long_question_is_answered_on_its_ask(answerer: Answerer, question: str, expected: str) -> None:
    """The context's words would dilute the question's coverage (both were refused when scored on the whole text)."""
    answer = answerer.answer(question)
    assert not answer.refused, (answer.text, answer.signals)
    assert expected in answer.citations[0].quote
    assert answer.standalone_question == question  # retrieval and display keep the whole question


def test_a_comparison_is_told_from_other_questions() -> None:
    compared = comparison("how did croatia and serbia differ on the pact")
    assert compared is not None
    assert (compared.first, compared.second, compared.topic) == ("croatia", "serbia", "the pact")
    compared = comparison("How did the reactions of Serbia and the Pentagon to the pact differ?")
    assert compared is not None
    assert (compared.first, compared.second, compared.topic) == ("Serbia", "Pentagon", "the pact")
    compared = comparison("what's the difference between Croatia's and Serbia's positions on the pact?")
    assert compared is not None and (compared.first, compared.second) == ("Croatia", "Serbia")
    for question in (
        "How did Croatia and Albania sign the declaration?",
        "What did Croatia say about military blocs?",
        "Which countries besides Albania and Kosovo took part?",
    ):
        assert comparison(question) is None, question


def test_a_side_is_named_as_its_quote_writes_it() -> None:
    assert as_written("croatia", "the Croatian Ministry of Defense said Croatia would not join") == "Croatia"
    assert as_written("serbia", "the Serbian government has expressed opposition") == "Serbia"  # only the adjective
    assert as_written("kfor", "no such name here") == "kfor"  # as typed


def test_a_comparison_cites_each_side(answerer: Answerer) -> None:
    answer = answerer.answer("how did croatia and serbia differ on the pact")
    assert not answer.refused and len(answer.citations) == 2
    assert "On Croatia:" in answer.text and "On Serbia:" in answer.text
    assert "Croatia" in answer.citations[0].quote and "Serbia" in answer.citations[1].quote
    for c in answer.citations:
        assert f"{c.quote} [{c.n}]" in answer.text
    # One sentence on both sides is the answer as it is.
    both = answerer.answer("How did the reactions of Serbia and the Pentagon to the pact differ?")
    assert len(both.citations) >= 1 and "On Serbia" not in both.text
    quote = both.citations[0].quote
    assert "Pentagon" in quote and "Serbian" in quote
    # A sentence naming both side by side says nothing of how they differ: each side is answered on its own.
    compared = comparison("how did albania and croatia differ on the pact")
    assert compared is not None
    assert contrasts_both(quote, Comparison("Serbia", "Pentagon"))
    side_by_side = "Kosovo, Albania, and Croatia are solidifying their defense pact into actionable steps."
    assert names_both(side_by_side, compared) and not contrasts_both(side_by_side, compared)
    assert answerer.answer("how did albania and croatia differ on the pact").text.startswith(COMPARISON_TEXT)
    # Parties the documents never name: answered as any question (here: nothing related at all).
    assert answerer.answer("how do mitochondria and chloroplasts differ").refused


def test_a_title_in_an_articles_list_of_sources_is_never_quoted(answerer: Answerer, seed_index: CorpusIndex) -> None:
    # The Croatia article ends with "Sources" and one entry, the title of another report: it shares every word of
    # this question and answers nothing.
    answer = answerer.answer("Kosovo, Albania, Croatia forge cooperation for stronger Balkan defense, The Defense Post")
    quoted = [*answer.citations, *answer.closest]
    assert quoted
    text = seed_index.document_text(CROATIA) or ""
    listed = text.rindex("\nSources\n")
    assert all(c.source != CROATIA or c.end <= listed for c in quoted)
    assert all("Forge Cooperation for Stronger Balkan Defense, The Defense Post" not in c.quote for c in quoted)


def test_a_runner_up_that_restates_a_chosen_sentence_in_other_words_gives_way_to_the_next() -> None:
    from qa.extractive import RESTATEMENT_COSINE, ScoredSentence, select_sentences

    best, restated, other = (
        ScoredSentence(_sentence(text, start=start), score, 0.0, 0.0)
        for text, start, score in (
            ("Albania has authorized KAYO to produce weapons and ammunition.", 0, 1.0),
            ("The government granted the state firm leave to manufacture arms.", 100, 0.98),
            ("The plant is expected to create jobs in the region.", 200, 0.95),
        )
    )
    along = np.array([1.0, 0.0])
    near = np.array([RESTATEMENT_COSINE + 0.05, np.sqrt(1 - (RESTATEMENT_COSINE + 0.05) ** 2)])
    vectors = {("doc.md", 0): along, ("doc.md", 100): near, ("doc.md", 200): np.array([0.0, 1.0])}
    quoted = [s.sentence.start for s in select_sentences([best, restated, other], vectors=vectors)]
    assert quoted == [0, 200]
    # Without vectors the two share too few words to be told apart: both are quoted.
    assert [s.sentence.start for s in select_sentences([best, restated, other])] == [0, 100, 200]


def test_meaning_counts_more_where_no_candidate_shares_the_question_s_words() -> None:
    from qa.extractive import DENSE_BOOST, FEATURES, WORDS_SHARED, SentenceScorer, dense_scale, score_sentences

    assert dense_scale(1.0) == dense_scale(WORDS_SHARED) == 1.0
    assert dense_scale(0.0) == DENSE_BOOST > 1.0
    assert 1.0 < dense_scale(0.3 * WORDS_SHARED) < dense_scale(0.1 * WORDS_SHARED) < DENSE_BOOST
    # Two candidates: the first shares a little more of the question's words, the second is closer in meaning.
    sentences = [_sentence("Shares a word.", start=0), _sentence("Means the same.", start=100)]

    def first(scorer: SentenceScorer, coverage: tuple[float, float]) -> int:
        features = np.zeros((2, len(FEATURES)))
        features[:, FEATURES.index("dense")] = (0.40, 0.55)
        features[:, FEATURES.index("lexical")] = coverage
        return scorer.rank(sentences, features, np.ones(2))[0].sentence.start

    paraphrase, worded = (0.12, 0.0), (0.70, 0.58)  # the best coverage under WORDS_SHARED, then over it
    assert first(SentenceScorer(), paraphrase) == 100  # words barely tell them apart: meaning decides
    assert first(SentenceScorer(dense_boost=1.0), paraphrase) == 0  # the plain score keeps the wordier one
    assert first(SentenceScorer(), worded) == first(SentenceScorer(dense_boost=1.0), worded) == 0
    # Whether to answer is read from the plain score, on which the refusal's thresholds were calibrated.
    assert score_sentences.dense_boost == 1.0


@pytest.mark.parametrize("question", ["will kayo make weapons", "what did zelensky propose at the summit"])
def test_no_two_quotes_of_an_answer_say_the_same_in_other_words(answerer: Answerer, question: str) -> None:
    from qa.extractive import RESTATEMENT_COSINE

    answer = answerer.answer(question)
    assert not answer.refused and answer.citations
    vectors = np.asarray(answerer.index.embedder.embed_documents([c.quote for c in answer.citations]))
    cosines = vectors @ vectors.T
    for i in range(len(vectors)):
        for j in range(i):
            assert cosines[i, j] < RESTATEMENT_COSINE, (answer.citations[i].quote, answer.citations[j].quote)


def test_words_that_point_at_the_articles_themselves_are_not_searched_for(answerer: Answerer) -> None:
    from qa.condense import without_corpus_references

    assert "articles" not in without_corpus_references("What are hybrid threats according to the articles")
    assert "piece" not in without_corpus_references("what does the piece say about jobs")
    assert "article" not in without_corpus_references("what is said in the first article about kayo")
    for kept in ("What does Article 5 say?", "what is in the defence report", "who wrote the story on KAYO"):
        assert without_corpus_references(kept) == kept
    searched = answerer.retriever.retrieve(condense("which risks do they see for kosovo according to the articles", ()))
    assert "kosovo" in searched.query_terms and not any(t.startswith("articl") for t in searched.query_terms)
    # A question that names nothing but the articles still searches for them.
    assert answerer.retriever.retrieve(condense("which article is the longest", ())).query_terms


def test_a_question_for_the_outlet_that_carried_a_story_is_answered_by_an_attribution_or_refused(
    answerer: Answerer,
) -> None:
    from qa.condense import asks_for_outlet, without_corpus_references
    from qa.extractive import names_outlet

    asked = "Which wire service broke the story of the joint declaration?"
    assert asks_for_outlet(asked) and asks_for_outlet("which outlet is credited for the piece on kayo")
    # An outlet named without a story reported, or an agency that is no outlet: the question is about the topic.
    for topical in ("Which newspaper was founded in 1851?", "Which agency oversees arms exports?"):
        assert not asks_for_outlet(topical)
    # The ask's words name no topic of the articles and are not searched for; the story's are.
    searched = without_corpus_references(asked)
    assert "declaration" in searched and not {"wire", "service", "broke", "story"} & set(searched.lower().split())
    assert names_outlet("This landmark agreement, reported by anadolu Agency, underscores a commitment.")
    assert names_outlet("For updates, stay connected with The Defense Post.")
    assert not names_outlet("According to military analysts, the pathway is shaped by regional cooperation.")
    answer = answerer.answer(asked)
    assert not answer.refused and names_outlet(answer.citations[0].quote)
    # No article says which outlet carried the summit story: refused, with the closest passages.
    answer = answerer.answer("Which newspaper first reported Zelensky's proposal for joint arms production?")
    assert answer.refused and answer.closest


def test_a_close_sentence_with_a_figure_or_name_the_chosen_one_lacks_is_no_restatement() -> None:
    from qa.extractive import adds_specifics

    developed = "A remaster of the game, Twilight Princess HD, is being developed by Tantalus Media."
    assert adds_specifics("A port for the Wii U, Twilight Princess HD, will be released in March 2016.", developed)
    # The same fact, a country's name for its demonym: nothing more.
    assert not adds_specifics(
        "In a landmark move, Albania has authorized the state-owned firm KAYO to produce weapons.",
        "The Albanian government has officially granted the state-owned firm KAYO leave to manufacture weapons.",
    )


def test_lists_of_sources_are_found_once_at_indexing_and_an_older_index_gets_them_on_its_next_sync(
    settings: Settings, embedder
) -> None:  # type: ignore[no-untyped-def]
    index = CorpusIndex(settings, embedder=embedder)
    index.sync()
    stored = index.back_matter([CROATIA, "no-such-document.txt"])
    text = index.document_text(CROATIA) or ""
    assert list(stored) == [CROATIA] and [text[a:b].split("\n")[0] for a, b in stored[CROATIA]] == ["Sources"]
    answerer = build_answerer(settings, index)
    question = "Kosovo, Albania, Croatia forge cooperation for stronger Balkan defense, The Defense Post"
    listed = text.rindex("\nSources\n")

    def unlisted(answer: Answer) -> bool:
        return all(c.source != CROATIA or c.end <= listed for c in [*answer.citations, *answer.closest])

    assert unlisted(answerer.answer(question))
    # An index built before the lists were stored: answering finds them itself, the next sync stores them.
    index.catalog.db.execute("DELETE FROM back_matter")
    index.catalog.delete_meta("back_matter")
    assert index.back_matter([CROATIA]) == {}
    assert unlisted(answerer.answer(question))
    report = index.sync()
    assert report.unchanged == 5 and index.back_matter([CROATIA]) == stored
    # A removed document takes its row with it.
    (settings.corpus_dir / CROATIA).unlink()
    index.sync()
    assert index.back_matter([CROATIA]) == {}
