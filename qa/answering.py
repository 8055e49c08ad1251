"""Answering a question: retrieve, choose verbatim sentences, cite them — or say the documents don't say."""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Protocol

import numpy as np

from index.builder import CorpusIndex
from index.catalog import DocumentRecord
from index.errors import InvalidQuestionError
from index.keywords import terms
from index.sentences import LIST_ITEM, back_matter, line_spans, paragraph_span, split_sentences
from index.settings import Settings
from index.tables import MAX_TABLE_CHARS, table_from, widen_to_table
from qa.cache import LruCache
from qa.condense import (
    Comparison,
    StandaloneQuestion,
    asks_for_heading,
    asks_for_one_article,
    asks_for_outlet,
    asks_yes_no,
    comparison,
    condense,
    headline_topic,
    mentioned_topic,
    overview_topic,
    the_ask,
)
from qa.extractive import (
    MAX_CANDIDATES,
    W_DENSE,
    Coverage,
    ScoredSentence,
    Sentence,
    SentenceScorer,
    abbreviations,
    asked_kind,
    asked_type,
    asks_for_several,
    candidate_sentences,
    dense_scale,
    is_heading,
    lacks_asked_type,
    lexical_coverage,
    local_weights,
    names_outlet,
    places_named,
    proper_names,
    refers_back,
    restates_in_meaning,
    score_sentences,
    select_sentences,
    sentence_features,
    similar,
    stance_match,
    stance_unattributed,
    with_aliases,
    years_named,
)
from qa.meaning import AnswerEncoder
from qa.reranker import SentenceReader, blend
from qa.retrieval import HybridRetriever, Retrieval, merge_passages, rerank_passages
from qa.scorer import SecondReading
from qa.spelling import names_written, respell, same_country
from qa.types import Answer, AnswerSentence, Citation, Passage, StreamEvent

SENTENCE_CACHE_SIZE = 20_000  # ~30 MB of vectors
DOCUMENT_CACHE_SIZE = 2_000  # documents' topic vectors for the second reading (~3 MB)
HEADLINE_WITHIN = 2_000  # a headline is near the top of its document (``headline_span`` looks no further)
REFUSAL_TEXT = "The documents don't say. I found nothing in the indexed articles that answers this question."
NO_TERMS_TEXT = "Please ask a question with at least one word to search for."
CLOSEST_TEXT = "The articles don't answer this directly. The closest they come:"
UNMENTIONED_TEXT = "The articles never mention {names}."
CLOSEST_AFTER_NOTE = "The closest they come:"  # after a refusal's reason (``UNMENTIONED_TEXT``)
DISAGREEMENT_TEXT = "The sources disagree: a headline says “{quote}”."
DISAGREEMENT_COVERAGE = 0.5  # another article's headline must share this much of the question's weighted terms
OVERVIEW_TEXT = "What {articles} about, each in its opening words:"
OVERVIEW_TOPIC_TEXT = "The articles closest to “{topic}”, each in its opening words:"
MENTIONS_TEXT = "“{thing}” is named in {count}, quoted where it first is:"
NOT_MENTIONED_TEXT = "None of the passages found for “{thing}” names it."
HEADLINES_TEXT = "The headlines of {articles} (an article without one: its opening words):"
HEADLINES_TOPIC_TEXT = "The headlines of the articles closest to “{topic}” (an article without one: its opening words):"
MAX_OVERVIEW = 5  # articles quoted for a request to summarize
MAX_POINTS = 5  # sentences quoted for a request to summarize one article (its opening, then one a section)
LEAD_POINTS = 3  # an article with no sections is summarized by its first sentences, as news is written
POINTS_TEXT = "The main points of “{title}”, in its own words:"
POINTS_UNTITLED_TEXT = "The main points of the article, in its own words:"
TOPIC_PASSAGES = 3  # a request about a topic ("summarize the KAYO article") quotes the articles of this many passages
MAX_CLOSEST = 3  # closest passages shown when the articles don't answer
# A second reader of the best candidates (qa.reranker; none ships), as the probes of docs/TUNING.md blend it.
RERANK_CANDIDATES = 4  # the best sentences by the hand-set score that the reader reads
RERANK_WEIGHT = 0.7  # the reader's share of the blend (standardised scores)
# Below this coverage of the question's terms in the best passage, the answer encoder chooses the sentence to quote
# (qa.meaning). Chosen among 0.2, 0.25 and 0.3 on the team's development sets over the seed articles and on the news
# questions of writers w7 and w8 (training/news_qa), which the encoder was not trained on (docs/TUNING.md).
MEANING_GATE = 0.25
# The sentences the answer encoder reads, of the best-retrieved passages first: each costs about 5 ms on 2 cores, and
# a pool runs to 140 (docs/TUNING.md, twenty-fourth session).
MEANING_POOL = 40
# A question whose best cosine by the bundled model is under the refusal floor (off the articles' topic, by that
# reading) is still answered where the answer encoder puts a sentence of the pool this close: above the closest it
# puts any off-topic question of the training writers (0.35) and of the development sets (0.37) (docs/TUNING.md,
# twenty-eighth session).
MEANING_FLOOR = 0.40
COMPARISON_TEXT = "What the articles say of each:"
COMPARISON_SIDE_TEXT = "On {party}:"
COMPARISON_SILENT_TEXT = "On {party}, the articles don't say."


@dataclass(frozen=True, slots=True)
class RefusalPolicy:
    """Refuse when nothing retrieved is close in meaning (the bundled model's best cosine) or the question's rarest
    terms are nowhere in the answer's passage.

    Thresholds were calibrated on the development questions (docs/TUNING.md). The coverage floor is low: a paraphrase
    shares few of its answer's words (0.20 refused one answerable development question in eight, 0.10 one in
    sixteen, on nine development sets), and what is off the articles' topic ("What is the population of Croatia?") is
    refused by the cosine floor and by the kind checks after the choice. A floor on the best sentence score (0.64)
    was retired in the thirty-fifth session: where the other two let a question through, it refused 21 answerable
    questions of the development sets and the training writers' news questions and no unanswerable one.
    """

    min_dense: float = 0.35
    min_coverage: float = 0.10

    def refuse(self, signals: dict[str, float]) -> bool:
        return signals["best_dense"] < self.min_dense or signals["coverage"] < self.min_coverage


class Generator(Protocol):
    """A generative answerer (qa.generative): writes the answer from the passages, citations verified."""

    def condense(self, question: str, history: Sequence[str]) -> StandaloneQuestion | None:
        """A standalone question written by the model, or None to use the rule-based one."""
        ...

    def stream(self, standalone: StandaloneQuestion, retrieval: Retrieval, fallback: Answer) -> Iterator[StreamEvent]:
        """Text deltas (a ``Restart`` withdraws those before it), then the verified ``Answer``; on any model
        failure, ``fallback`` with a notice."""
        ...


def reordered(scored: list[ScoredSentence], order: Sequence[int]) -> list[ScoredSentence]:
    """``scored`` with its first ``len(order)`` sentences put in ``order`` (their indices), each taking the score of
    the place it moves to: the scores stay where they were, so the choice of further sentences reads them as before."""
    top = scored[: len(order)]
    return [*(replace(top[i], score=top[j].score) for j, i in enumerate(order)), *scored[len(order) :]]


def found_related_passages(answer: Answer) -> bool:
    """Whether retrieval found passages related to the question: one of the answer's passages shares a content
    word (stop words out, stemmed) with the question.

    With a language model configured, this decides whether the model is asked, not the extractive refusal: a
    paraphrased question the extractive step refuses can still be answered from its passages, and the model's
    own "the passages don't say", then the verification of its citations, decide. Dense search always returns
    passages, however unrelated; a shared word is the weakest sign that they are about the question at all.
    """
    if not answer.refused or answer.closest:  # the extractive step answered, or found closest sentences
        return True
    asked = set(terms(answer.standalone_question))
    return any(asked.intersection(terms(p.text)) for p in answer.retrieved)


class Answerer:
    """Answers questions over one index with the extractive method (and a generator when one is configured)."""

    def __init__(
        self,
        settings: Settings,
        index: CorpusIndex,
        retriever: HybridRetriever | None = None,
        refusal: RefusalPolicy | None = None,
        generator: Generator | None = None,
        reranker: SentenceReader | None = None,
        chooser: SentenceScorer | None = None,
        meaning: AnswerEncoder | None = None,
        reading: SecondReading | None = None,
    ) -> None:
        self.settings = settings
        self.meaning = meaning
        self.reading = reading
        self.chooser = chooser or SentenceScorer()
        self.index = index
        self.retriever = retriever or HybridRetriever(index)
        self.refusal = refusal or RefusalPolicy()
        self.generator = generator
        self.reranker = reranker
        self._sentence_vectors: LruCache[str, np.ndarray] = LruCache(SENTENCE_CACHE_SIZE)
        # Each document's topic vector (``_generic``), by its source and chunk ids: a changed document has new ids.
        self._documents: LruCache[tuple[str, tuple[str, ...]], np.ndarray] = LruCache(DOCUMENT_CACHE_SIZE)

    def validate(self, question: str) -> str:
        """The cleaned question.

        Raises:
            InvalidQuestionError: empty, or longer than the configured limit.
        """
        cleaned = question.replace("\x00", "").strip() if isinstance(question, str) else ""
        if not cleaned:
            raise InvalidQuestionError("The question is empty; type a question about the documents.")
        if (at := _first_surrogate(cleaned)) is not None:
            raise InvalidQuestionError(
                f"The question is not valid text: character {at + 1} is U+{ord(cleaned[at]):04X}, half of a "
                "UTF-16 pair or a byte that is not UTF-8 (check the terminal's or the client's encoding); "
                "retype the question."
            )
        if len(cleaned) > self.settings.max_question_chars:
            raise InvalidQuestionError(
                f"The question is {len(cleaned):,} characters long; the limit is "
                f"{self.settings.max_question_chars:,} (QA_MAX_QUESTION_CHARS)."
            )
        return cleaned

    def answer(self, question: str, history: Sequence[str] = (), k: int | None = None) -> Answer:
        """Answer ``question`` (with earlier user turns in ``history``, oldest first).

        Raises:
            InvalidQuestionError: the question is empty or too long.
            IndexNotBuiltError, IndexMismatchError, StoreUnavailableError: the index cannot be used.
        """
        final: Answer | None = None
        for event in self.stream(question, history, k):
            if isinstance(event, Answer):
                final = event
        assert final is not None  # stream() always ends with the Answer
        return final

    def stream(self, question: str, history: Sequence[str] = (), k: int | None = None) -> Iterator[StreamEvent]:
        """Text as it forms, then the finished ``Answer`` (same errors as ``answer``). In generative mode a
        ``Restart`` may withdraw the text so far: the model is asked again."""
        cleaned = strip_markup(self.validate(question))
        turns = [strip_markup(self._clip(h)) for h in history]
        standalone = (self.generator.condense(cleaned, turns) if self.generator and turns else None) or condense(
            cleaned, turns
        )
        if not terms(standalone.question) and not terms(standalone.context):
            yield Answer(NO_TERMS_TEXT, refused=True, standalone_question=standalone.text)
            return
        k = k or self.settings.top_k
        topic = overview_topic(cleaned)
        if topic is not None:  # "summarize the articles": each article's opening sentence, cited
            yield from _streamed(self.overview(topic, k, one=asks_for_one_article(cleaned)))
            return
        thing = mentioned_topic(cleaned)
        if thing is not None and terms(thing):  # "which articles mention Serbia?": each such article, where it does
            yield from _streamed(self.mentions(thing, k))
            return
        topic = headline_topic(cleaned)
        if topic is not None:  # "what's the headline of the KAYO article?": each article's headline, cited
            yield from _streamed(self.overview(topic, k, headlines=True))
            return
        retrieval = self.retriever.retrieve(standalone, k)
        extractive = self.extractive(standalone, retrieval, k)
        compared = comparison(standalone.question) if not standalone.is_follow_up else None
        if (
            compared is not None
            and self.generator is None
            and not (
                extractive.citations
                and not extractive.refused
                and contrasts_both(extractive.citations[0].quote, compared)
            )
            and self._both_indexed(compared)
        ):
            # "How did Croatia and Serbia differ on the pact?" with no one sentence setting them against each other:
            # each side in its own words.
            yield from _streamed(self.compare(compared, k))
            return
        if (
            self.generator is not None
            and found_related_passages(extractive)
            and not extractive.signals.get("unmentioned_name")
        ):
            # The model reads the passages the extractive step reranked, not all the candidates. It is asked even
            # when the extractive step refused: its own "the passages don't say" and the verification decide. Not
            # where the question is about a name no document holds ("Did Montenegro sign?"): whatever the model
            # writes from the passages is about the others, and the refusal says the articles never mention it.
            yield from self.generator.stream(
                standalone, replace(retrieval, passages=list(extractive.retrieved)), extractive
            )
            return
        yield from _streamed(extractive)

    def _clip(self, turn: str) -> str:
        return _SURROGATES.sub("", turn.replace("\x00", ""))[: self.settings.max_question_chars]

    # -- extractive --------------------------------------------------------------------------------------
    def extractive(self, standalone: StandaloneQuestion, retrieval: Retrieval, k: int) -> Answer:
        """Compose an answer of verbatim sentences from the retrieved passages, or refuse.

        Every sentence of the candidate passages is scored on its words first (cheap); the best
        ``MAX_CANDIDATES`` are embedded and scored in full. Overlapping passages are merged and the ``k``
        holding the best sentences are the answer's ``retrieved``.
        """
        merged = merge_passages(retrieval.passages)
        standalone, retrieval = focus_on_the_ask(standalone, retrieval)
        query_terms = retrieval.query_terms or terms(standalone.context)
        defined: dict[str, str] = {}
        for passage in retrieval.passages:  # "hepatitis B virus (HBV)": a question may use either form
            for short, long in abbreviations(passage.text).items():
                defined.setdefault(short, long)
        # The candidate documents' texts, read once for the question (for their headings, lists of sources, list
        # items' context, and quoting).
        read: dict[str, str] = {}
        pool = self._under_headlines(
            with_aliases(candidate_sentences(retrieval.passages), defined), retrieval.passages, read
        )
        outlet = asks_for_outlet(standalone.question)  # "Which wire service broke the story…?"
        if not outlet:  # a list of sources answers only which outlet carried a story
            pool = self._outside_back_matter(pool, read)
        if not pool:
            return Answer(REFUSAL_TEXT, True, retrieved=tuple(merged[:k]), standalone_question=standalone.text)
        topic = self._topic(standalone, retrieval)
        lexical = score_sentences(
            pool, None, retrieval.query_vector, query_terms, retrieval.idf, standalone.question, topic
        )
        # Only a sentence within reach of the best one once meaning is added (cosine <= 1) is worth embedding.
        reach = lexical[0].score - W_DENSE * dense_scale(max(s.lexical for s in lexical))
        candidates = [s.sentence for s in lexical[:MAX_CANDIDATES] if s.score >= reach]
        vectors = self._embed_sentences([c.text for c in candidates])
        # A list item or a table row is scored by meaning under its heading and the sentence that introduces its list
        # where that reads closer to the question; restatements are judged on the item alone.
        meaning = self._in_list_context(candidates, vectors, retrieval.query_vector, read)
        scored = score_sentences(
            candidates, meaning, retrieval.query_vector, query_terms, retrieval.idf, standalone.question, topic
        )
        embedded = {(c.source, c.start) for c in candidates}
        ranked = sorted(
            [*scored, *(s for s in lexical if (s.sentence.source, s.sentence.start) not in embedded)],
            key=lambda s: -s.score,
        )
        best: dict[int, float] = {}
        for item in ranked:  # best first: the first sentence seen in a merged passage is its best
            at = holding(merged, item.sentence.source, item.sentence.start)
            if at is not None:
                best.setdefault(at, item.score)
        passages = tuple(rerank_passages(merged, best, k))
        signals = self._signals(scored, merged, retrieval)
        # The question as searched (misspelt words as the index spells them: "presdent" is the office of president).
        asked = respell(standalone.question, retrieval.corrections)
        unmentioned = self._unmentioned(asked, query_terms)
        if unmentioned:
            # "Did Zelensky meet Erdogan?", "what about hungary": a name no article holds is what the question is
            # about (a yes or no about it, or it alone), and no sentence can say anything of it.
            signals = {**signals, "unmentioned_name": 1.0}
            note = UNMENTIONED_TEXT.format(
                names=" or ".join(n if n.lower() != n else n.capitalize() for n in unmentioned)
            )
            return self._refusal(scored, query_terms, passages, standalone, signals, read, note)
        by_meaning = self._by_meaning(standalone.question, pool, scored, signals)
        if by_meaning is not None:
            signals = {**signals, "meaning_cosine": by_meaning.dense}
        elif self.refusal.refuse(signals):
            return self._refusal(scored, query_terms, passages, standalone, signals, read)
        # Passages are ranked, and refusal decided, on corpus-wide term weights; the sentence to quote is chosen
        # on weights local to the candidates (a term every passage shares does not tell them apart).
        weights = local_weights(query_terms, pool, retrieval.idf)
        features, damp = sentence_features(
            candidates, meaning, retrieval.query_vector, query_terms, weights, standalone.question, topic
        )
        scored = self.chooser.rank(candidates, features, damp)
        scored = self._rerank(standalone, scored, (retrieval.question or standalone).text)
        if by_meaning is not None:  # chosen by the answer encoder: first, the hand-set ranking after it
            scored = [by_meaning, *(s for s in scored if s.sentence != by_meaning.sentence)]
        else:
            scored = self._read_again(standalone.question, scored, candidates, features, damp, vectors)
        if outlet:  # only a sentence that names an outlet says which carried a story
            scored = [s for s in scored if names_outlet(s.sentence.text)] or scored
        if not asks_for_heading(standalone.question):
            # A heading names what its section is about ("Challenges Facing Kosovo's Path to NATO Membership" for "Why
            # can't Kosovo join NATO yet?"); the sentences under it say it. It is no quote of an answer.
            scored = [s for s in scored if not section_title(s.sentence.text)] or scored
        chosen = select_sentences(
            scored, vectors={(c.source, c.start): v for c, v in zip(candidates, vectors, strict=True)}
        )
        texts: dict[str, str] = {}  # the cited documents, read once by _cite (the office check reads holders' names)
        citations, sentences = self._cite(chosen, query_terms, standalone.question, texts, read)
        if lacks_asked_type(asked, [c.quote for c in citations], list(texts.values())):
            # "How many …?" answered by quotes with no figure (or "When …?" with no time): they share the
            # question's words, not its answer.
            signals = {**signals, "lacks_asked_type": 1.0}
            return self._refusal(scored, query_terms, passages, standalone, signals, {**read, **texts})
        if year_unstated(asked, citations, texts):
            # "What was Kenya's geothermal capacity in 2015?" answered by this year's figure: the year asked about is
            # nowhere in the quotes or the sentences just before them.
            signals = {**signals, "year_unstated": 1.0}
            return self._refusal(scored, query_terms, passages, standalone, signals, {**read, **texts})
        if stance_unattributed(asked, [s.sentence.text for s in scored], list(texts.values())):
            # "How did Serbia react to …?" where no candidate has Serbia say anything: the articles give no reaction.
            signals = {**signals, "no_statement_by_party": 1.0}
            return self._refusal(scored, query_terms, passages, standalone, signals, {**read, **texts})
        other = self._disagreement(
            standalone.question, query_terms, retrieval.idf, citations[0], passages, {**read, **texts}
        )
        if other is not None:  # a headline states another place than the answer: both are shown
            note = DISAGREEMENT_TEXT.format(quote=other.quote)
            quoted = next((c for c in citations if c.source == other.source and c.start <= other.start < c.end), None)
            if quoted is None:
                citations.append(replace(other, n=len(citations) + 1))
                sentences.append(AnswerSentence(note, (len(citations),)))
            elif quoted.quote == other.quote:  # the headline is quoted already: that quote says they disagree
                sentences = [AnswerSentence(note, s.citations) if s.citations == (quoted.n,) else s for s in sentences]
        text = " ".join(f"{s.text} [{s.citations[0]}]" for s in sentences)
        return Answer(
            text=text,
            refused=False,
            citations=tuple(citations),
            retrieved=passages,
            sentences=tuple(sentences),
            standalone_question=standalone.text,
            signals=signals,
        )

    def _under_headlines(
        self, pool: list[Sentence], passages: Sequence[Passage], read: dict[str, str]
    ) -> list[Sentence]:
        """The sentences, each read under its document's headline (``headline_span``: the line its catalogued title
        opens, where the text has one) and its section's heading (``section_headings``), so that the words they
        state count for every sentence under them (``qa.extractive.Coverage``): "- Ensuring compliance with treaties
        such as the Arms Trade Treaty (ATT)." is about Albania's arms production under "Balancing Defense Needs and
        International Regulations in Albania’s Armament Production". Both are read from the documents' stored text,
        once a question (``read``: source → text, filled), so that a changed document is read as it now is."""
        titles = {p.source: p.title for p in passages}
        headlines: dict[str, str] = {}
        for source in dict.fromkeys(s.source for s in pool):
            text = self._text(source, read)
            span = headline_span(text[:HEADLINE_WITHIN], titles.get(source, ""))
            headlines[source] = text[span[0] : span[1]].strip() if span is not None else ""
        out = []
        for sentence in pool:
            heading = section_heading(read[sentence.source], sentence.start)
            over = " ".join(dict.fromkeys(h for h in (headlines[sentence.source], heading) if h))
            out.append(replace(sentence, headline=over) if over else sentence)
        return out

    def _text(self, source: str, read: dict[str, str]) -> str:
        """The document's stored text, read once a question: ``read`` (source → text) holds the documents read
        already, and is filled."""
        if source not in read:
            read[source] = self.index.document_text(source) or ""
        return read[source]

    def _unmentioned(self, question: str, query_terms: Sequence[str]) -> list[str]:
        """For a question answered yes or no (``asks_yes_no``), or one whose terms are all its names' (``query_terms``:
        "what about hungary"), the names it writes (``qa.spelling.names_written``) that no indexed document holds:
        not one of their words' terms, nor another name of the word's country ("American": US, United States); []
        for any other question, or where the question asks of a name the documents hold too. The catalog is asked
        only for a question of that kind."""
        names = names_written(question)
        yes_no = asks_yes_no(question)

        def asks_of(named: Sequence[str]) -> bool:
            return yes_no or set(query_terms) <= {t for name in named for t in terms(name)}

        if not names or not asks_of(names):
            return []
        forms = {name: [terms(form) for word in name.split() for form in (word, *same_country(word))] for name in names}
        _, df = self.index.catalog.document_frequencies([t for ways in forms.values() for ts in ways for t in ts])
        unmentioned = [
            name
            for name, ways in forms.items()
            if terms(name) and not any(ts and all(df.get(t) for t in ts) for ts in ways)
        ]
        return unmentioned if unmentioned and asks_of(unmentioned) else []

    def _outside_back_matter(self, pool: list[Sentence], read: dict[str, str]) -> list[Sentence]:
        """The candidates, less those in a document's list of sources ("Sources", "References"): a title listed
        there shares the question's words and answers nothing. ``read`` (source → text) is filled with the
        documents read, for quoting."""
        sources = list(dict.fromkeys(s.source for s in pool))
        listed = self.index.back_matter(sources)  # found when each document was indexed
        for source in sources:
            if source not in listed:  # indexed before they were stored, and not synced since: found here
                listed[source] = back_matter(self._text(source, read))
        return [s for s in pool if not any(a <= s.start < b for a, b in listed[s.source])]

    def _by_meaning(
        self, question: str, pool: Sequence[Sentence], scored: Sequence[ScoredSentence], signals: dict[str, float]
    ) -> ScoredSentence | None:
        """Where the question's words are scarce in the best passage (coverage under ``MEANING_GATE``: a paraphrase,
        which the hand-set score would refuse or answer by the few words it shares) and retrieval found something
        close in meaning (the best cosine at the refusal floor or above: not a question off the articles' topic), the
        sentence of the retrieved passages (the first ``MEANING_POOL``) that the answer encoder (``qa.meaning``) puts
        nearest the question, scored above every candidate; else None. Where the bundled model's best cosine is under
        the refusal floor, whatever the coverage, the encoder's nearest sentence is taken only at ``MEANING_FLOOR`` or
        closer (a paraphrase the bundled model misreads), and the refusal follows otherwise. The checks after the
        choice (the kind of answer asked for, who said it) still refuse it."""
        if self.meaning is None:
            return None
        off_topic = signals["best_dense"] < self.refusal.min_dense  # by the bundled model's reading
        if signals["coverage"] >= MEANING_GATE and not off_topic:
            return None
        read = pool[:MEANING_POOL]  # the sentences of the best-retrieved passages come first
        cosines = self.meaning.cosines(question, [s.text for s in read])
        best = int(np.argmax(cosines))
        if off_topic and cosines[best] < MEANING_FLOOR:
            return None
        return ScoredSentence(read[best], max(s.score for s in scored) + 1.0, float(cosines[best]), 0.0)

    def _read_again(
        self,
        question: str,
        scored: list[ScoredSentence],
        candidates: Sequence[Sentence],
        features: np.ndarray,
        damp: np.ndarray,
        vectors: np.ndarray,
    ) -> list[ScoredSentence]:
        """The best ``reading.candidates`` by the sentence score read again with the answer encoder's cosine and the
        bundled model's cosine to each one's document as a whole (``vectors``: the candidates' rows by that model;
        ``qa.scorer.SecondReading``, fitted on the team's development questions): the one it puts first leads, the
        others keep their order; the scores stay where they were, so the choice of further sentences works as before.
        Without the encoder or the reading, ``scored`` as it is."""
        if self.reading is None or self.meaning is None or len(scored) < 2:
            return scored
        top = scored[: self.reading.candidates]
        row = {(c.source, c.start): i for i, c in enumerate(candidates)}
        rows = [row[(s.sentence.source, s.sentence.start)] for s in top]
        sentences = [s.sentence for s in top]
        cosines = self.meaning.cosines(question, [s.text for s in sentences])
        generic = self._generic(sentences, vectors[rows])
        best = self.reading.first(sentences, features[rows], damp[rows], cosines, generic)
        return reordered(scored, [best, *(i for i in range(len(top)) if i != best)])

    def _generic(self, sentences: Sequence[Sentence], vectors: np.ndarray) -> np.ndarray:
        """How close each sentence (``vectors``: its rows by the bundled model) is to what its document is about as a
        whole: the cosine to the mean of the document's chunk vectors (``CorpusIndex.document_vector``, kept while
        the document's chunks are the same). 0 for a document the store holds no vector of."""
        out = np.zeros(len(sentences))
        chunks: dict[str, tuple[str, ...]] = {}  # candidates often share a document: its chunk ids are read once
        for i, (sentence, vector) in enumerate(zip(sentences, vectors, strict=True)):
            if sentence.source not in chunks:
                chunks[sentence.source] = tuple(self.index.chunk_ids_of(sentence.source))
            key = (sentence.source, chunks[sentence.source])
            topic = self._documents.get(key)
            if topic is None:
                topic = self.index.document_vector(key[1])
                if topic is None:
                    continue
                self._documents.put(key, topic)
            out[i] = float(vector @ topic) / max(float(np.linalg.norm(vector)), 1e-12)
        return out

    def _rerank(self, standalone: StandaloneQuestion, scored: list[ScoredSentence], asked: str) -> list[ScoredSentence]:
        """With a second reader (``qa.reranker``; none ships), the best ``RERANK_CANDIDATES`` reordered by their
        hand-set score blended with the reader's score of the question (``asked``: as searched, respelled) against
        each; the scores stay where they were, so the choice of further sentences works as before. Not for
        questions that ask for a figure, a time or a place, where the hand-set answer-type features choose better."""
        if self.reranker is None or len(scored) < 2 or asked_kind(standalone.question) is not None:
            return scored
        top = scored[:RERANK_CANDIDATES]
        read = self.reranker.score(asked, [s.sentence.text for s in top])
        mixed = blend([s.score for s in top], read, RERANK_WEIGHT)
        # "What did Croatia say…?": a sentence attributing a statement to the party keeps its place above one that
        # attributes it to someone else, whatever the reader reads (the hand-set stance feature knows who spoke).
        names = proper_names([s.sentence.text for s in top])
        stance = [stance_match(standalone.question, s.sentence.text, names) for s in top]
        return reordered(scored, sorted(range(len(top)), key=lambda i: (-stance[i], -mixed[i])))

    def _disagreement(
        self,
        question: str,
        query_terms: Sequence[str],
        idf: dict[str, float],
        first: Citation,
        passages: Sequence[Passage],
        read: dict[str, str],
    ) -> Citation | None:
        """A headline of a retrieved article that states another place than the answer's first quote for a "where"
        question ("Zelenskyy seeks support and arms at Balkan summit in Albania" against "The
        summit, which took place in Kyiv"), cited; None when the sources agree or the question asks for none. A
        headline is the line near a document's top that its catalogued title opens (``headline_span``, as
        ``_under_headlines`` reads it): a text with none is catalogued under its opening sentence, which is no
        headline. ``read`` (source → text, filled) holds the documents read already."""
        # Places only: a headline names its topic with figures and years ("2008 Sichuan earthquake", "Spectre (2015
        # film)") that are not the answer to "how many" or "when" (15 such false disagreements in 345 quantity and time
        # questions of the SQuAD training articles; none in their 194 "where" questions).
        if asked_kind(question) != "place":
            return None
        answered = places_named(first.quote)
        if not answered:
            return None
        coverage = Coverage(query_terms, idf, question)
        needed = min(DISAGREEMENT_COVERAGE, coverage(first.quote))
        docs = self.retriever.documents()
        for source in dict.fromkeys([first.source, *(p.source for p in passages)]):
            doc = docs.get(source)
            if doc is None:
                continue
            text = self._text(source, read)
            span = headline_span(text[:HEADLINE_WITHIN], doc.title)
            if span is None or (source == first.source and first.start <= span[0] < first.end):
                continue
            headline = text[span[0] : span[1]]
            stated = places_named(headline)
            if not stated or not stated.isdisjoint(answered):
                continue
            # The answer's own article's headline speaks to its topic; another article's must share the question's.
            shared = coverage(headline)
            if shared == 0 or (source != first.source and shared < needed):
                continue
            return citation(0, source, doc, text, *span)
        return None

    def _refusal(
        self,
        scored: Sequence[ScoredSentence],
        query_terms: Sequence[str],
        passages: tuple[Passage, ...],
        standalone: StandaloneQuestion,
        signals: dict[str, float],
        read: dict[str, str] | None = None,
        note: str = "",
    ) -> Answer:
        """ "The documents don't say", with the closest sentences cited when some share a word with the question
        (``read``: documents read already, by source); ``note`` says why first, where the reason is known."""
        closest = closest_sentences(scored, query_terms)
        citations, sentences = self._cite(closest, query_terms, read=read)
        if not citations:
            text = note or REFUSAL_TEXT
            return Answer(text, True, retrieved=passages, standalone_question=standalone.text, signals=signals)
        text = " ".join(
            [
                f"{note} {CLOSEST_AFTER_NOTE}" if note else CLOSEST_TEXT,
                *(f"“{s.text}” [{s.citations[0]}]" for s in sentences),
            ]
        )
        return Answer(
            text,
            True,
            retrieved=passages,
            standalone_question=standalone.text,
            signals=signals,
            closest=tuple(citations),
            sentences=tuple(sentences),
        )

    def overview(self, topic: str, k: int, headlines: bool = False, one: bool = False) -> Answer:
        """A request to summarize: the opening sentence of each article (up to ``MAX_OVERVIEW``), verbatim and cited;
        with a ``topic``, of the articles holding the best ``TOPIC_PASSAGES`` passages for it, best first; without one,
        the newest first, and how many there are. With ``headlines`` (a question for them), each article's headline
        instead (``headline_span``), where it has one. With ``one`` (the request names one article, "summarize the
        KAYO article") and a topic, the main points of the article holding the best passage (``_key_points``)."""
        docs = self.retriever.documents()
        retrieved: tuple[Passage, ...] = ()
        topical = bool(terms(topic))
        if topical:
            retrieval = self.retriever.retrieve(condense(topic, ()), k)
            retrieved = tuple(retrieval.passages[:k])
            sources = list(dict.fromkeys(p.source for p in retrieval.passages[:TOPIC_PASSAGES]))
            if one and not headlines and sources:
                return self._points(sources[0], docs[sources[0]].title, retrieved, topic)
        else:
            sources = sorted(docs, key=lambda s: (docs[s].date or "", s), reverse=True)
        leads: list[ScoredSentence] = []
        for source in sources[:MAX_OVERVIEW]:
            text = self.index.document_text(source) or ""
            span = (headline_span(text, docs[source].title) if headlines else None) or lead_span(text)
            if span is not None:
                sentence = Sentence(source, span[0], span[1], "", len(leads))
                leads.append(ScoredSentence(sentence, 0.0, 0.0, 0.0))
        citations, sentences = self._cite(leads, ())
        if not citations:
            return Answer(REFUSAL_TEXT, True, retrieved=retrieved, standalone_question=topic)
        if topical:
            heading = (HEADLINES_TOPIC_TEXT if headlines else OVERVIEW_TOPIC_TEXT).format(topic=topic)
        else:
            shown, n = len(sources[:MAX_OVERVIEW]), len(docs)
            if headlines:
                heading = HEADLINES_TEXT.format(articles=_counted(shown, n))
            else:
                heading = OVERVIEW_TEXT.format(articles=_counted(shown, n) + (" is" if n == 1 else " are"))
        return _headed(heading, citations, sentences, retrieved, topic)

    def _key_points(self, text: str) -> list[tuple[int, int]]:
        """An article's main points, in its order (``article_sections``): its opening sentence, then of each section
        the first sentence that restates no point before it (``qa.extractive.restates_in_meaning``: the articles
        restate their topic at each heading), up to ``MAX_POINTS``; an article with no
        sections, its first ``LEAD_POINTS`` sentences (the lead, as news is written)."""
        groups = article_sections(text)
        if len(groups) < 2:
            return groups[0][:LEAD_POINTS] if groups else []
        points = [groups[0][0]]
        vectors = list(self._embed_sentences([text[a:b] for a, b in points]))
        for group in groups[1:]:
            if len(points) >= MAX_POINTS:
                break
            for a, b in group:
                vector = self._embed_sentences([text[a:b]])[0]
                if not any(
                    restates_in_meaning(text[a:b], vector, text[c:d], v)
                    for v, (c, d) in zip(vectors, points, strict=True)
                ):
                    points.append((a, b))
                    vectors.append(vector)
                    break
        return points

    def _points(self, source: str, title: str, retrieved: tuple[Passage, ...], topic: str) -> Answer:
        """The main points of one article (``_key_points``), verbatim and cited, under its title."""
        text = self.index.document_text(source) or ""
        points = [
            ScoredSentence(Sentence(source, start, end, "", n), 0.0, 0.0, 0.0)
            for n, (start, end) in enumerate(self._key_points(text))
        ]
        citations, sentences = self._cite(points, ())
        if not citations:
            return Answer(REFUSAL_TEXT, True, retrieved=retrieved, standalone_question=topic)
        # An article without a headline is catalogued by its opening words, which the first point quotes anyway.
        heading = POINTS_TEXT.format(title=title) if headline_span(text, title) else POINTS_UNTITLED_TEXT
        return _headed(heading, citations, sentences, retrieved, topic)

    def mentions(self, thing: str, k: int) -> Answer:
        """A question for the articles that name ``thing`` ("Which articles mention Serbia?"): of the passages
        retrieval finds for it, best first, each article's first sentence that holds all of its terms (Serbia ~
        Serbian), verbatim and cited, up to ``MAX_OVERVIEW`` articles. Retrieval bounds the search (its candidates),
        so the reply counts the articles found, not the collection."""
        retrieval = self.retriever.retrieve(condense(thing, ()), k)
        thing = respell(thing, retrieval.corrections)  # "zelenksy" as the index spells it
        names = Coverage(terms(thing), {})  # share of the thing's words a sentence holds
        first: dict[str, ScoredSentence] = {}
        for sentence in candidate_sentences(sorted(retrieval.passages, key=lambda p: (p.source, p.start))):
            if sentence.source not in first and names(sentence.text) >= 1.0:
                first[sentence.source] = ScoredSentence(sentence, 0.0, 0.0, 0.0)
        order = list(dict.fromkeys(p.source for p in retrieval.passages if p.source in first))[:MAX_OVERVIEW]
        citations, sentences = self._cite([first[source] for source in order], ())
        retrieved = tuple(retrieval.passages[:k])
        if not citations:
            return Answer(NOT_MENTIONED_TEXT.format(thing=thing), True, retrieved=retrieved, standalone_question=thing)
        count = "one article" if len(citations) == 1 else f"{len(citations)} articles, each"
        heading = MENTIONS_TEXT.format(thing=thing, count=count)
        return _headed(heading, citations, sentences, retrieved, thing)

    def _both_indexed(self, compared: Comparison) -> bool:
        """Both parties of a comparison are named in the documents (else the question is answered as it is)."""
        _, df = self.index.catalog.document_frequencies(
            [t for party in (compared.first, compared.second) for t in terms(party)]
        )
        return all(any(df.get(t) for t in terms(party)) for party in (compared.first, compared.second))

    def compare(self, compared: Comparison, k: int) -> Answer:
        """Each side of a comparison answered on its own ("What did Croatia say about the pact?", then Serbia), its
        best quote cited under its name; a side the articles say nothing of is said to be so. Refused only when
        neither side is answered."""
        citations: list[Citation] = []
        sentences: list[AnswerSentence] = [AnswerSentence(COMPARISON_TEXT, ())]
        retrieved: dict[str, Passage] = {}  # by chunk id: a passage both sides retrieved is listed once
        answered = 0
        for party, ask in zip((compared.first, compared.second), compared.asks(), strict=True):
            standalone = condense(ask, ())
            side = self.extractive(standalone, self.retriever.retrieve(standalone, k), k)
            for passage in side.retrieved:
                retrieved.setdefault(passage.chunk_id, passage)
            first = side.citations[0] if side.citations and not side.refused else None
            if first is None:
                sentences.append(AnswerSentence(COMPARISON_SILENT_TEXT.format(party=party), ()))
                continue
            answered += 1
            named = as_written(party, first.quote)
            span = (first.source, first.start, first.end)
            same = next((c for c in citations if (c.source, c.start, c.end) == span), None)
            if same is not None:  # one quote speaks for both sides: it is shown once, under both names
                sentences[-2] = AnswerSentence(f"{sentences[-2].text[:-1]} and {named}:", ())
                continue
            same = replace(first, n=len(citations) + 1)
            citations.append(same)
            sentences.append(AnswerSentence(COMPARISON_SIDE_TEXT.format(party=named), ()))
            sentences.append(AnswerSentence(same.quote, (same.n,)))
        question = " / ".join(compared.asks())
        passages = tuple(retrieved.values())[:k]
        if not answered:
            return Answer(REFUSAL_TEXT, True, retrieved=passages, standalone_question=question)
        text = " ".join(f"{s.text} [{s.citations[0]}]" if s.citations else s.text for s in sentences)
        return Answer(
            text,
            False,
            citations=tuple(citations),
            retrieved=passages,
            sentences=tuple(sentences),
            standalone_question=question,
        )

    @staticmethod
    def _topic(standalone: StandaloneQuestion, retrieval: Retrieval) -> list[float]:
        """For a follow-up, how well each candidate passage covers the earlier turn's own terms ("And how did
        Serbia react?" after a question about Croatia and the initiative: the passage about the initiative)."""
        if not standalone.is_follow_up:
            return []
        asked = set(retrieval.query_terms)
        earlier = [t for t in dict.fromkeys(terms(standalone.context)) if t not in asked]
        if not earlier:
            return []
        coverage = Coverage(earlier, retrieval.idf)
        return [coverage(p.text) for p in retrieval.passages]

    def _in_list_context(
        self, candidates: Sequence[Sentence], vectors: np.ndarray, query_vector: np.ndarray, read: dict[str, str]
    ) -> np.ndarray:
        """``vectors``, where a candidate is a list item or a table row, and the item read under its section's heading
        and the sentence introducing its list (``section_heading``, ``list_lead_in``) is closer in meaning to the
        question than the item alone, replaced by the vector of the item so read: the row "2026 | Integration into
        NATO’s Plans | …" is a milestone of Kosovo's only under "The following table outlines key milestones that
        could mark the trajectory of Kosovo-NATO relations in the coming years:", and "- Ensuring compliance with
        treaties such as the Arms Trade Treaty (ATT)." is about Albania's arms production only under "Balancing
        Defense Needs and International Regulations in Albania’s Armament Production". ``read`` (source → text) holds
        every candidate's document (``_under_headlines`` read them)."""
        contexts: dict[int, str] = {}
        for i, candidate in enumerate(candidates):
            if not LIST_ITEM.match(candidate.text):
                continue
            text = read[candidate.source]
            heading = "" if is_heading(candidate.text) else section_heading(text, candidate.start)
            lead = list_lead_in(text, candidate.start)
            context = " ".join(dict.fromkeys(c for c in (heading, lead) if c))  # a heading over the list: once
            if context:
                contexts[i] = f"{context} {candidate.text}"
        if not contexts:
            return vectors
        out = vectors.copy()
        for i, vector in zip(contexts, self._embed_sentences(list(contexts.values())), strict=True):
            if vector @ query_vector > vectors[i] @ query_vector:  # whichever reading is closer to the question
                out[i] = vector
        return out

    def _embed_sentences(self, texts: list[str]) -> np.ndarray:
        """Sentence vectors, from a bounded cache where the same sentence was scored before (vectors of a text
        never change, and nearby questions retrieve the same passages)."""
        cached = {t: v for t in texts if (v := self._sentence_vectors.get(t)) is not None}
        missing = list(dict.fromkeys(t for t in texts if t not in cached))
        if missing:
            for t, v in zip(missing, self.index.embedder.embed_documents(missing), strict=True):
                cached[t] = v
                self._sentence_vectors.put(t, v)
        return np.stack([cached[t] for t in texts])

    def _signals(
        self, scored: Sequence[ScoredSentence], passages: Sequence[Passage], retrieval: Retrieval
    ) -> dict[str, float]:
        best = scored[0]
        at = holding(passages, best.sentence.source, best.sentence.start)
        passage_text = passages[at].text if at is not None else best.sentence.text
        return {
            "best_score": best.score,
            "best_dense": max(s.dense for s in scored),
            "best_lexical": best.lexical,
            "coverage": lexical_coverage(
                retrieval.query_terms,
                passage_text,
                retrieval.idf,
                retrieval.question.question if retrieval.question else "",
                related=True,
            )
            if retrieval.query_terms
            else 1.0,
            "top_passage_dense": max((p.dense or 0.0) for p in passages) if passages else 0.0,
        }

    def _cite(
        self,
        chosen: Sequence[ScoredSentence],
        question_terms: Sequence[str],
        question: str = "",
        texts: dict[str, str] | None = None,
        read: dict[str, str] | None = None,
    ) -> tuple[list[Citation], list[AnswerSentence]]:
        """Verbatim quotes of the chosen sentences, each widened where the answer runs on: a table row to its table,
        a list's lead-in to its list, a sentence restating the question, or one without the kind of thing
        ``question`` asks for, to the next sentence of its paragraph. ``texts`` (source → document text) is filled
        with the cited documents, for a caller that reads them too; ``read`` holds documents already read."""
        wants = asked_type(question) if question else None
        several = bool(question) and asks_for_several(question)
        citations: list[Citation] = []
        sentences: list[AnswerSentence] = []
        docs = self.retriever.documents()
        quoted: list[tuple[str, int, int]] = []  # (source, start, end) of each quote, in answer order
        texts = {} if texts is None else texts  # each cited document is read once
        for item in chosen:
            s = item.sentence
            if any(src == s.source and lo <= s.start < hi for src, lo, hi in quoted):
                continue  # already inside an earlier quote (quotes are extended by whole sentences and lines)
            if s.source not in texts:
                known = (read or {}).get(s.source)
                texts[s.source] = known if known is not None else self.index.document_text(s.source) or ""
            text = texts[s.source]
            start, end = widen_to_table(text, s.start, s.end)  # a table row: the whole table
            end = extend_over_list(text, start, end)
            if (start, end) == (s.start, s.end):
                end = extend_restatement(text, s.start, s.end, question_terms)
                start = include_antecedent(text, s, question_terms)
            if wants is not None and (start, end) == (s.start, s.end):
                end = extend_to_asked_type(text, start, end, wants)
            if several:
                end = extend_to_introduced_list(text, start, end)
            for i, (source, lo, hi) in enumerate(quoted):  # sentences next to each other: one quote, one [n]
                if source == s.source and adjacent(text, lo, hi, start, end):
                    quoted[i] = (source, min(lo, start), max(hi, end))
                    break
            else:
                quoted.append((s.source, start, end))
        for source, start, end in quoted:
            text = texts[source]
            n = len(citations) + 1
            citations.append(citation(n, source, docs.get(source), text, start, end))
            sentences.append(AnswerSentence(text[start:end], (n,)))
        return citations, sentences


def as_written(party: str, text: str) -> str:
    """``party`` as ``text`` writes it ("croatia" → "Croatia"; "serbia" → "Serbia" where ``text`` writes only
    "Serbian"), or as typed when ``text`` does not."""
    m = re.search(rf"\b{re.escape(party)}\b", text, re.I) or re.search(rf"\b{re.escape(party)}", text, re.I)
    return m.group() if m else party


def year_unstated(question: str, citations: Sequence[Citation], texts: dict[str, str]) -> bool:
    """The question names a year ("… in 2015?", "… since 1998") and none of its years is stated by a quote or by the
    sentence before one (which may set the time a quote speaks of): the quotes speak of another time. ``texts``:
    source → document text of the cited documents."""
    asked = years_named(question)
    if not asked:
        return False
    for c in citations:
        text = texts.get(c.source, "")
        before = previous_sentence(text, c.start, c.end) if text else None
        said = c.quote + (" " + text[before[0] : before[1]] if before else "")
        if asked & years_named(said):
            return False
    return True


# A sentence that sets one thing against another: "While the Pentagon … welcomed the agreement, the Serbian government
# has expressed opposition".
_CONTRAST = re.compile(
    r"\b(?:while|whereas|but|however|unlike|although|though|instead|in contrast|differ\w*|difference\w*)\b", re.I
)


def names_both(text: str, compared: Comparison) -> bool:
    """``text`` names both parties of a comparison (a demonym counts: Serbia/Serbian)."""
    return all(lexical_coverage(terms(party), text, {}) > 0 for party in (compared.first, compared.second))


def contrasts_both(text: str, compared: Comparison) -> bool:
    """``text`` names both parties of a comparison and sets one against the other (``_CONTRAST``): it answers how they
    differ on its own. A sentence that names them side by side ("Kosovo, Albania, and Croatia are solidifying their
    defense pact") says nothing of a difference."""
    return names_both(text, compared) and _CONTRAST.search(text) is not None


def citation(n: int, source: str, doc: DocumentRecord | None, text: str, start: int, end: int) -> Citation:
    """Citation ``[n]`` of ``text[start:end]`` (the document ``source``), with the passage around it."""
    passage_start, passage_end = context_window(text, start, end)
    return Citation(
        n=n,
        source=source,
        title=doc.title if doc else source,
        quote=text[start:end],
        passage=text[passage_start:passage_end],
        start=start,
        end=end,
        date=doc.date if doc else None,
        passage_start=passage_start,
    )


def _headed(
    heading: str,
    citations: Sequence[Citation],
    sentences: Sequence[AnswerSentence],
    retrieved: tuple[Passage, ...],
    asked: str,
) -> Answer:
    """An answer of quotes under a line that says what they are (an overview, the headlines, the articles naming
    something)."""
    text = " ".join([heading, *(f"{s.text} [{s.citations[0]}]" for s in sentences)])
    return Answer(
        text,
        False,
        citations=tuple(citations),
        retrieved=retrieved,
        sentences=(AnswerSentence(heading, ()), *sentences),
        standalone_question=asked,
    )


def _streamed(answer: Answer) -> Iterator[StreamEvent]:
    """An extractive answer as it is streamed: its sentences with their markers, then the answer itself."""
    for sentence in answer.sentences or (AnswerSentence(answer.text, ()),):
        marks = "".join(f"[{n}]" for n in sentence.citations)
        yield f"{sentence.text} {marks} " if marks else f"{sentence.text} "
    yield answer


_SURROGATES = re.compile("[\ud800-\udfff]")  # never text: a lone half of a UTF-16 pair, or an undecodable byte


def _first_surrogate(text: str) -> int | None:
    match = _SURROGATES.search(text)
    return match.start() if match else None


_SCRIPT_OR_STYLE = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.I | re.S)
_TAG = re.compile(r"</?[A-Za-z][^<>]*>")


def focus_on_the_ask(standalone: StandaloneQuestion, retrieval: Retrieval) -> tuple[StandaloneQuestion, Retrieval]:
    """A long question wraps its one real ask in context ("I'm writing a report on …, so what risks do they
    mention?"): retrieval searched with the whole text, but sentences are scored, and refusal decided, on the
    ask's own terms, so the context's words neither dilute the coverage nor pick the sentence. Other questions
    are returned as they are."""
    ask = the_ask(standalone.question)
    if ask == standalone.question:
        return standalone, retrieval
    asked = set(terms(respell(ask, retrieval.corrections)))
    focused = [t for t in retrieval.query_terms if t in asked]
    if not focused:
        return standalone, retrieval
    return replace(standalone, question=ask), replace(retrieval, query_terms=focused)


def closest_sentences(ranked: Sequence[ScoredSentence], question_terms: Sequence[str]) -> list[ScoredSentence]:
    """For a refusal, no dead end: up to ``MAX_CLOSEST`` of the best-scored sentences that share a content word
    with the question, each from a different passage and saying something else; none when nothing retrieved is
    related to the question at all (then the reply is a bare "The documents don't say")."""
    asked = set(question_terms)
    out: list[ScoredSentence] = []
    for item in ranked:
        s = item.sentence
        if len(out) >= MAX_CLOSEST:
            break
        if not asked.intersection(terms(s.matched)):
            continue
        if all(
            (s.source, s.passage_rank) != (o.sentence.source, o.sentence.passage_rank)
            and not similar(s.text, o.sentence.text)
            for o in out
        ):
            out.append(item)
    return out


def strip_markup(text: str) -> str:
    """A question pasted with HTML keeps its words: scripts, styles and tags are dropped before searching."""
    if "<" not in text:
        return text
    return re.sub(r"\s+", " ", _TAG.sub(" ", _SCRIPT_OR_STYLE.sub(" ", text))).strip()


def holding(passages: Sequence[Passage], source: str, offset: int) -> int | None:
    """Position of the passage of ``source`` whose span holds character ``offset``, or None."""
    return next((i for i, p in enumerate(passages) if p.source == source and p.start <= offset < p.end), None)


MAX_JOINED_CHARS = 500  # adjacent sentences are quoted as one only up to this length


def adjacent(text: str, start: int, end: int, other_start: int, other_end: int) -> bool:
    """Two spans of ``text`` overlap or follow each other in one paragraph (only spaces between), and
    together are short enough to quote as one."""
    if other_start >= end:
        gap = text[end:other_start]
    elif other_end <= start:
        gap = text[other_end:start]
    else:
        gap = ""  # they overlap
    joined = max(end, other_end) - min(start, other_start)
    return not gap.strip() and gap.count("\n") < 2 and joined <= MAX_JOINED_CHARS


RESTATEMENT_SHARE = 0.4  # a sentence this much made of the question's own terms restates it
MAX_QUOTE_CHARS = 400


def extend_restatement(text: str, start: int, end: int, question_terms: Sequence[str]) -> int:
    """End offset of a quote whose sentence mostly restates the question ("X involves coordinating purchases."),
    extended over the next sentence of the same paragraph, where the answer usually follows."""
    own = terms(text[start:end])
    if not own or sum(t in set(question_terms) for t in own) / len(own) < RESTATEMENT_SHARE:
        return end
    following = next_sentence(text, start, end)
    return following[1] if following else end


def include_antecedent(text: str, sentence: Sentence, question_terms: Sequence[str]) -> int:
    """Start offset of the quote of ``sentence``: the sentence before it in its paragraph where the sentence opens
    with a pronoun ("This strategic decision …") and matched the question by that sentence's words (the credit
    ``score_sentences`` gives it), so the quote holds what it refers to; else the sentence's own start."""
    if not sentence.previous or not refers_back(sentence.text):
        return sentence.start
    before = previous_sentence(text, sentence.start, sentence.end)
    if before is None:
        return sentence.start
    asked = set(question_terms)
    return (
        before[0] if (set(terms(text[before[0] : before[1]])) & asked) - set(terms(sentence.text)) else sentence.start
    )


def previous_sentence(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Offsets of the sentence before the quote ``text[start:end]`` in its paragraph (hard-wrapped lines, as in PDF
    text, are one paragraph), or None when there is none or the quote would grow past ``MAX_QUOTE_CHARS``."""
    para_start = paragraph_span(text, start, end)[0]
    preceding = split_sentences(text[para_start:start])
    if not preceding or end - (para_start + preceding[-1][0]) > MAX_QUOTE_CHARS:
        return None
    return para_start + preceding[-1][0], para_start + preceding[-1][1]


def next_sentence(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Offsets of the sentence after the quote ``text[start:end]`` in its paragraph (hard-wrapped lines, as in PDF
    text, are one paragraph), or None when there is none or the quote would grow past ``MAX_QUOTE_CHARS``."""
    para_end = paragraph_span(text, start, end)[1]
    following = split_sentences(text[end:para_end])
    if not following or end + following[0][1] - start > MAX_QUOTE_CHARS:
        return None
    return end + following[0][0], end + following[0][1]


def _counted(shown: int, n: int) -> str:
    """The articles an overview quotes, counted: "the 5 articles", "the newest 5 of 12 articles", "the one article"."""
    if n == 1:
        return "the one article"
    return f"the {n} articles" if shown == n else f"the newest {shown} of {n} articles"


def headline_span(text: str, title: str) -> tuple[int, int] | None:
    """Offsets of a document's headline: the line near its top that its catalogued ``title`` opens (the title may be
    shortened, "…"); None where the text does not hold it as a headline (a title from a file's metadata, or the
    opening sentence of a text with none)."""
    title = title.rstrip("…").strip()
    at = text.find(title, 0, HEADLINE_WITHIN) if len(title) >= 3 else -1
    if at < 0:
        return None
    end = text.find("\n", at)
    end = len(text) if end < 0 else end
    line = text[at:end].strip()
    # A headline may end as no heading does ("Will Albania's plan work?", "Zelensky: ‘We need arms’"): the whole line,
    # unshortened, is the title, and it is no sentence of prose (a period).
    return (at, end) if is_heading(line) or (line == title and not line.endswith(".")) else None


def lead_span(text: str) -> tuple[int, int] | None:
    """Offsets of a document's opening sentence: the first that is not its title, a date line or another heading."""
    for start, end in split_sentences(text):
        sentence = text[start:end]
        if len(sentence) >= 40 and not is_heading(sentence):
            return start, end
    return None


def article_sections(text: str) -> list[list[tuple[int, int]]]:
    """Offsets of an article's sentences of prose by section, in its order: first its opening sentence and those after
    it up to the first heading, then each section's (the sentences under a heading). Headings, list items, table rows,
    a list's lead-in ("… include:"), sentences under 40 characters and a list of sources are left out, and so are
    sections with no such sentence."""
    lead = lead_span(text)
    if lead is None:
        return []
    cited = back_matter(text)
    groups: list[list[tuple[int, int]]] = [[]]
    for start, end in line_spans(text):
        line = text[start:end]
        if end < lead[0] or not line.strip() or any(a <= start < b for a, b in cited):
            continue
        if section_title(line.strip()):
            if groups[-1]:
                groups.append([])
        elif not LIST_ITEM.match(line):
            groups[-1].extend(
                (start + a, start + b)
                for a, b in split_sentences(line)
                if start + a >= lead[0] and len(line[a:b].strip()) >= 40 and not line[a:b].rstrip().endswith(":")
            )
    return [g for g in groups if g]


def extend_to_asked_type(text: str, start: int, end: int, wants: Callable[[str], bool]) -> int:
    """End offset of a quote that lacks what the question asks for (a figure, a time, a place), extended
    over the next sentence of its paragraph when that one holds it ("Zelensky attended a summit of Southeast
    European countries. The summit, which took place in Kyiv, …" for "Where was the summit?")."""
    if wants(text[start:end]):
        return end
    following = next_sentence(text, start, end)
    return following[1] if following and wants(text[following[0] : following[1]]) else end


def _is_short_item(line: str) -> bool:
    """An unmarked list item: a short line that is not a sentence of prose."""
    stripped = line.strip()
    return len(stripped) < 60 and not stripped.endswith((".", "!", "?"))


def _is_sentence_item(line: str) -> bool:
    """An item of a list with no markers at all: a line of one short sentence ("Does the patient have recent
    travel from an affected area?")."""
    stripped = line.strip()
    return len(stripped) < 160 and len(split_sentences(stripped)) == 1


def _lines_above(text: str, start: int) -> Iterator[str]:
    """The lines above the one holding ``start``, nearest first, each read only when asked for."""
    end = text.rfind("\n", 0, start)  # the newline that ends the line above
    while end >= 0:
        begin = text.rfind("\n", 0, end) + 1
        yield text[begin:end]
        end = begin - 1


def list_lead_in(text: str, start: int) -> str:
    """The sentence introducing the list (or table) whose item (row) starts at ``start``: the last sentence of the
    nearest line above it that is not an item, a row or blank ("Key considerations include:" above "- Ensuring
    compliance with treaties …"); "" where the item is the document's first line."""
    for line in _lines_above(text, start):
        if line.strip() and not LIST_ITEM.match(line):
            spans = split_sentences(line)
            return line[spans[-1][0] : spans[-1][1]].strip() if spans else line.strip()
    return ""


def section_title(line: str) -> bool:
    """``line`` is a title or a section's heading (``qa.extractive.is_heading``), not a list item."""
    return is_heading(line) and not LIST_ITEM.match(line)


@lru_cache(maxsize=256)
def section_headings(text: str) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """Where each line that is a section's heading (``section_title``) starts, in order, and the headings
    (stripped); found once for each text (answering asks for the heading of many of a document's sentences)."""
    starts: list[int] = []
    lines: list[str] = []
    for begin, end in line_spans(text):
        line = text[begin:end]
        if line.strip() and section_title(line):
            starts.append(begin)
            lines.append(line.strip())
    return tuple(starts), tuple(lines)


def section_heading(text: str, start: int) -> str:
    """The heading of the section holding the line at ``start``: the nearest line above it that is a heading
    (``qa.extractive.is_heading``: no sentence punctuation, no table cells) and not a list item; "" where none."""
    starts, lines = section_headings(text)
    above = bisect_left(starts, text.rfind("\n", 0, start) + 1)  # the headings starting before its line
    return lines[above - 1] if above else ""


def extend_over_list(text: str, start: int, end: int, limit: int = 400) -> int:
    """End offset of a quote that introduces a list ("…include:"), extended over the list's items; a table
    that follows is taken whole (up to ``MAX_TABLE_CHARS``), never cut after the rows that fit in ``limit``."""
    if not text[start:end].rstrip().endswith(":"):
        return end
    table = table_from(text, end + 1) if text[end : end + 1] == "\n" else None
    if table is not None and table.end - start <= max(limit, MAX_TABLE_CHARS):
        return table.end
    position = end
    marked: bool | None = None  # whether the list's items carry markers (bullets, numbers): its first one tells
    while position < len(text) and text[position] == "\n":
        line_end = text.find("\n", position + 1)
        line_end = len(text) if line_end < 0 else line_end
        line = text[position + 1 : line_end]
        marked = bool(LIST_ITEM.match(line)) if marked is None else marked
        item = LIST_ITEM.match(line) or _is_short_item(line) or (not marked and _is_sentence_item(line))
        if not line.strip() or line_end - start > limit or not item:
            break
        end = position + 1 + len(line.rstrip())
        position = line_end
    return end


def extend_to_introduced_list(text: str, start: int, end: int) -> int:
    """End offset of a quote from a paragraph that closes by introducing a list ("Kosovo faces internal challenges …
    Some of the critical areas that require attention include:"), extended over the rest of the paragraph and the
    list: the items are the several things a question asked for (up to ``MAX_TABLE_CHARS`` in all)."""
    para_end = paragraph_span(text, start, end)[1]
    if end >= para_end:
        return end
    listed = extend_over_list(text, start, para_end, limit=MAX_TABLE_CHARS)  # the paragraph unchanged without a list
    return listed if listed > para_end else end


def context_window(text: str, start: int, end: int, before: int = 1, after: int = 1) -> tuple[int, int]:
    """Offsets of the sentence ``text[start:end]`` widened by neighbouring sentences of the same paragraph
    (hard-wrapped lines count as one paragraph)."""
    para_start, para_end = paragraph_span(text, start, end)
    spans = [(para_start + s, para_start + e) for s, e in split_sentences(text[para_start:para_end])]
    idx = next((i for i, (s, e) in enumerate(spans) if s <= start < e or (s >= start and e <= end)), None)
    if idx is None:
        return start, end
    lo = spans[max(0, idx - before)][0]
    hi = spans[min(len(spans) - 1, idx + after)][1]
    return min(lo, start), max(hi, end)
