"""Extractive answering: choose the retrieved sentences that answer the question, verbatim and cited."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from index.keywords import STOP_WORDS, stem, terms
from index.sentences import split_sentences, title_case
from qa.condense import asks_for_outlet
from qa.offices import (
    NOT_A_PARTY,
    SPECIFIC_OFFICES,
    asked_holder,
    held_by_another,
    names_holder,
    names_office,
    same_name,
    titled_words,
)
from qa.related import RELATED_CREDIT, related_terms
from qa.spelling import CAPITALS, COMPOUND_PAIR, capitals, country_key
from qa.types import Passage

# Weights of the sentence score, fitted on the development questions (see docs/TUNING.md).
W_DENSE = 0.40
W_LEXICAL = 0.70
W_PASSAGE = 0.20
W_NOVELTY = 0.20
W_TYPE = 0.10
W_LEAD_IN = 0.20
W_STANCE = 0.15
W_TOPIC = 0.20  # a follow-up's sentence from a passage on the conversation's topic (as much as the rank prior)
W_DEFINITION = 0.20  # a "What is X?" question's sentence that defines X ("X is a …", "long form (X)")
ANAPHORA_CONTEXT = 1.0  # a sentence opening with "It/This/They…" is credited with the terms of the one before
LOCAL_IDF = 0.8  # choosing the sentence: geometric mix of corpus idf (0) and idf within the candidates (1)
HEADING_DAMP = 0.85
MAX_SENTENCES = 3
RELATIVE_CUTOFF = 0.85  # further sentences must score at least this share of the best one
RESTATEMENT_COSINE = 0.8  # a further sentence this close in meaning to one already chosen restates it
MAX_CANDIDATES = 15  # sentences embedded per question (the best on their words): the main cost of answering
# Where no candidate shares much of the question's words (a paraphrase), words cannot tell the candidates apart and
# meaning must: the cosine's weight rises linearly from W_DENSE, where the best candidate's coverage is WORDS_SHARED,
# to DENSE_BOOST times it at none (chosen on own dev and dev2, checked on squad_train: docs/TUNING.md).
WORDS_SHARED = 0.5
DENSE_BOOST = 2.0


@dataclass(frozen=True, slots=True)
class Sentence:
    """A candidate sentence: ``document_text[start:end] == text``; ``previous`` is the sentence before it."""

    source: str
    start: int
    end: int
    text: str
    passage_rank: int
    previous: str = ""
    aliases: str = ""  # the other form of each abbreviation the sentence uses ("HBV": "hepatitis B virus")
    # What it is read under: its document's headline (where the text opens with one) and its section's heading.
    headline: str = ""

    @property
    def matched(self) -> str:
        """The text the question's terms are matched against: the sentence and its abbreviations' other forms."""
        return f"{self.text} {self.aliases}" if self.aliases else self.text


@dataclass(frozen=True, slots=True)
class ScoredSentence:
    sentence: Sentence
    score: float
    dense: float
    lexical: float


def candidate_sentences(passages: Sequence[Passage]) -> list[Sentence]:
    """Sentences of the passages, each once (overlapping chunks repeat sentences), in passage order."""
    seen: set[tuple[str, int]] = set()
    out: list[Sentence] = []
    for rank, passage in enumerate(passages):
        previous = ""
        for s, e in split_sentences(passage.text):
            key = (passage.source, passage.start + s)
            text = passage.text[s:e]
            if key not in seen and re.search(r"\w", text):
                seen.add(key)
                out.append(Sentence(passage.source, passage.start + s, passage.start + e, text, rank, previous))
            previous = text
    return out


_ABBREVIATION = re.compile(r"\(([A-Za-z][A-Za-z0-9-]{0,10}[A-Z][A-Za-z0-9-]{0,10}s?)\)")


def _long_form(abbreviation: str, before: str) -> str | None:
    """The words of ``before`` that ``abbreviation`` shortens (Schwartz & Hearst 2003): its letters appear in
    order, the first at the start of a word; the shortest such ending of ``before``."""
    short = [c.lower() for c in abbreviation.rstrip("s") if c.isalnum()]
    text = before.rstrip()
    i = len(text) - 1
    for n, c in enumerate(reversed(short)):
        first = n == len(short) - 1
        while i >= 0 and (text[i].lower() != c or (first and i > 0 and text[i - 1].isalnum())):
            i -= 1
        if i < 0:
            return None
        i -= 1
    long = text[i + 1 :].strip()
    return long if " " in long or "-" in long else None


def abbreviations(text: str) -> dict[str, str]:
    """Abbreviations defined in ``text`` ("hepatitis B virus (HBV)"): abbreviation to long form."""
    found: dict[str, str] = {}
    for m in _ABBREVIATION.finditer(text):
        short = m.group(1)
        letters = sum(c.isalnum() for c in short)
        line_start = text.rfind("\n", 0, m.start()) + 1
        words = text[line_start : m.start()].split()[-min(letters + 5, 2 * letters) :]
        long = _long_form(short, " ".join(words))
        if long and len(long) > len(short) + 2:
            found.setdefault(short, long)
    return found


def with_aliases(sentences: Sequence[Sentence], defined: dict[str, str]) -> list[Sentence]:
    """``sentences`` with the other form of each abbreviation they use, for matching the question's words."""
    if not defined:
        return list(sentences)
    lowered = {short: long.lower() for short, long in defined.items()}
    out = []
    for s in sentences:
        words = set(re.findall(r"[\w-]+", s.text))
        low = s.text.lower()
        extra = [
            defined[short] if short in words else short
            for short, long in lowered.items()
            if short in words or long in low
        ]
        out.append(replace(s, aliases=" ".join(extra)) if extra else s)
    return out


@lru_cache(maxsize=32768)
def term_set(text: str) -> frozenset[str]:
    """The distinct terms of ``text`` (cached: the same sentences are scored for many questions)."""
    return frozenset(terms(text))


@dataclass(frozen=True, slots=True)
class _TermIndex:
    present: frozenset[str]
    shortest_with_prefix: dict[str, int]  # prefix (5+ letters) -> length of the shortest term that has it


@lru_cache(maxsize=32768)
def _term_index(text: str) -> _TermIndex:
    """The terms of ``text``, with each pair of words that may be one compound also as that compound ("cyber
    attacks" also holds cyberattack), so a question that writes it as one word finds it."""
    joined = {
        stem((m.group(1) + m.group(3)).lower())
        for m in COMPOUND_PAIR.finditer(text)
        if m.group(1).lower() not in STOP_WORDS and m.group(3).lower() not in STOP_WORDS
    }
    return _index_terms(term_set(text) | joined)


def _index_terms(present: frozenset[str]) -> _TermIndex:
    prefixes: dict[str, int] = {}
    for p in present:
        if len(p) >= 5 and not p.isdigit():
            for cut in range(5, len(p) + 1):
                key = p[:cut]
                if len(p) < prefixes.get(key, 1 << 30):
                    prefixes[key] = len(p)
    return _TermIndex(present, prefixes)


def _matches(term: str, index: _TermIndex) -> bool:
    """Exact stem match, or a shared stem of 5+ letters ("croatia"/"croatian", "serbia"/"serbian"): one term
    starts with the other and they differ by at most two letters."""
    if term in index.present:
        return True
    if len(term) < 5 or term.isdigit():
        return False
    if index.shortest_with_prefix.get(term, 1 << 30) - len(term) <= 2:  # a present term extends it
        return True
    return any(term[:cut] in index.present for cut in range(max(5, len(term) - 2), len(term)))


def term_weight(term: str, idf: dict[str, float]) -> float:
    """A term's weight in coverage: its idf, doubled for numbers (a year or figure in a question is a must)."""
    weight = idf.get(term, 1.0)
    return weight * 2.0 if any(ch.isdigit() for ch in term) else weight


def compounds(question: str, question_terms: Sequence[str]) -> dict[str, tuple[str, str]]:
    """Pairs of the question's words that may be one compound, as that compound's term with the pair's two terms
    ("cyber attacks": cyberattack -> (cyber, attack)); only pairs whose terms are both among ``question_terms``."""
    asked = set(question_terms)
    out = {}
    for m in COMPOUND_PAIR.finditer(question):
        a, b = m.group(1).lower(), m.group(3).lower()
        parts = (stem(a), stem(b))
        if a not in STOP_WORDS and b not in STOP_WORDS and parts[0] in asked and parts[1] in asked:
            out[stem(a + b)] = parts
    return out


class Coverage:
    """Share of a question's (idf-weighted) terms that occur in a text (0..1); weights computed once.

    With the ``question`` text, two of its words that a text writes as one compound count as found there
    ("cyber attacks" in a text that says "cyberattacks"); the other way round is in the text's own terms
    (``_term_index``). With ``related``, a term the text lacks counts for ``RELATED_CREDIT`` of its weight where
    the text holds a word related in meaning (``qa.related``: "employment" in a text that says "jobs")."""

    def __init__(
        self, question_terms: Sequence[str], idf: dict[str, float], question: str = "", related: bool = False
    ) -> None:
        self.weights = {t: term_weight(t, idf) for t in set(question_terms)}
        self.total = sum(self.weights.values())
        self.compounds = compounds(question, question_terms) if question else {}
        self.related = {t: related_terms(t) for t in self.weights} if related and RELATED_CREDIT else {}

    def __call__(self, text: str, headline: str = "") -> float:
        """The share of the question's weighted terms in ``text``; a term of ``headline`` (the text's document's) counts
        as found: a news sentence is read under its headline ("will kayo make weapons for export or only for
        albania" is answered by "Expand production lines to meet both domestic and export demands." under "Albania
        Authorizes State Firm KAYO to Produce Weapons and Ammunition"), and under its section's heading."""
        if not self.total:
            return 0.0
        index = _term_index(text)
        found = {t for t in self.weights if _matches(t, index)}
        for joined, parts in self.compounds.items():
            if joined in index.present:
                found.update(parts)
        if headline:
            above = _term_index(headline)
            found.update(t for t in self.weights if t not in found and _matches(t, above))
        near = sum(
            self.weights[t]
            for t, others in self.related.items()
            if t not in found and not others.isdisjoint(index.present)
        )
        return (sum(self.weights[t] for t in found) + RELATED_CREDIT * near) / self.total


def lexical_coverage(
    question_terms: Sequence[str], text: str, idf: dict[str, float], question: str = "", related: bool = False
) -> float:
    """Share of the question's (idf-weighted) terms that occur in ``text`` (0..1)."""
    return Coverage(question_terms, idf, question, related)(text)


_WH_ENTITY = re.compile(
    r"\b(who|whom|whose|where|which|what (?:\w+ ){0,2}(?:country|countries|city|cities|firm|company|"
    r"companies|agency|organi[sz]ation|treaty|name|group|nation|nations|state|states|person|people|"
    r"place|party|leader|leaders))\b",
    re.I,
)
# "What range of temperatures …?" asks for figures; "what range of dangers …?" for which dangers: a range of a plural
# noun that is no measure is a range of things.
_MEASURES = r"temperatures|values|frequencies|sizes|ages|prices|speeds|depths|heights|weights|lengths|doses|wavelengths"
_WH_NUMBER = re.compile(
    r"\b(how (many|much|long|old|far|often|frequently|large|big|high|fast)"
    r"|what(?:'s|\s+is|\s+was|\s+are|\s+were)?(?:\s+the)?\s+(?:[\w-]+\s+){0,2}?"
    rf"(percentage|proportion|number|share|rate|amount|range(?!\s+of\s+(?!(?:{_MEASURES})\b)[a-z]+s\b)"
    r"|concentration|dose|size|ratio|incidence|prevalence"
    r"|frequency|duration|cost|temperature)s?"
    # "… as a percentage of GDP?", "… as a share of the budget?": the answer is a figure.
    r"|as an? (?:percentage|proportion|share|fraction) of"
    # "What is the population of Kosovo?" ("What populations are at risk?" asks which groups).
    r"|what(?:'s|\s+is|\s+was)\s+the\s+(?:[\w-]+\s+)?population\s+of)\b",
    re.I,
)
_WH_TIME = re.compile(
    r"\b(when|what (?:[a-z]+ )?(year|date|month|day|time|period|decade|century)|in which (?:[a-z]+ )?year)\b", re.I
)
_NUMBER = re.compile(r"\d")
# "What are the phases of …?", "What symptoms were reported?": the answer is likely a list.
_WH_LIST = re.compile(
    r"^\W*(?:what|which)\b(?:\s+[\w-]+){0,4}?\s+(?:are|were|include|included)\b"
    r"|^\W*(?:what|which)\s+(?:\w+\s+)?\w+s\s+(?:are|were|have|do|did|can)\b",
    re.I,
)
# "What internal challenges does Kosovo need to address?", "what areas r covered", "What are the risks …?": a question
# for several things of a kind (a plural noun after "what" / "which", an auxiliary or a preposition after it; its
# modifiers may be possessives: "what are kosovo's internal challenges"). Wider
# than ``_WH_LIST``, which the answer-type feature reads (the two merged changed answers: docs/TUNING.md), and read
# only for what a quote takes in (``qa.answering.extend_to_introduced_list``).
_NOT_A_MODIFIER = r"(?!(?:do|does|did|is|are|was|were|will|would|can|could|should|has|have|had|the|a|an)\b)"
_ASKS_FOR_SEVERAL = re.compile(
    rf"\b(?:what|which)\s+(?:{_NOT_A_MODIFIER}[\w-]+(?:['’]s)?\s+){{0,2}}?[a-z][\w-]*[^s\W]s\s+"
    r"(?:do|does|did|are|were|is|was|have|has|can|could|will|would|should|r|to|of|for|in|on)\b"
    rf"|\bwhat\s+are\s+(?:the\s+)?(?:{_NOT_A_MODIFIER}[\w-]+(?:['’]s)?\s+){{0,2}}?[a-z][\w-]*[^s\W]s\b",
    re.I,
)


def asks_for_several(question: str) -> bool:
    """The question asks for several things of a kind ("What internal challenges does Kosovo need to address?")."""
    return _ASKS_FOR_SEVERAL.search(question) is not None


# "Why …?", "How come …?", "For what reason …?": the answer gives a cause or a purpose.
_WH_REASON = re.compile(r"\b(why|how come|for what (?:reason|purpose)|what (?:is|was|are|were) the reasons?)\b", re.I)
# Words that give a cause or a purpose (the usual discourse markers of reason and purpose).
_REASON = re.compile(
    r"\b(because|due to|owing to|thanks to|on account of|as a result|result(?:s|ed)? (?:of|from|in)|in order to|"
    r"so as to|so that|aim(?:s|ed|ing)? (?:to|at)|seek(?:s|ing)? to|sought to|intend(?:s|ed)? to|in an effort to|"
    r"in a bid to|purpose|reasons?|goal|motivat\w+|driven by|in response to|for fear|stem(?:s|med)? from|"
    r"caus(?:e|es|ed) by|led to|leads? to)\b",
    re.I,
)
# A month's name; "may" only beside a day or after a preposition ("KAYO's initiatives may open doors" tells no time).
_MONTH = (
    r"january|february|march|april|june|july|august|september|october|november|december|"
    r"(?:in|of|on|since|until|by) may|may \d{1,2}|\d{1,2} may"
)
# A year, a month, a century or a decade.
_YEAR_OR_DATE = re.compile(rf"\b(1[5-9]\d\d|20\d\d|{_MONTH}|century|decade)s?\b", re.I)
_TOKEN = re.compile(r"[\w’'-]+")  # a word, with its apostrophes and hyphens ("Kosovo’s", "state-owned")
_WORD = re.compile(r"\w+")  # a word or a number, as the kind checks compare them ("June", "2023", "69" of "69,197")
_PROPER = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w’'-]+")


_CONJUNCTION = re.compile(r"\s(?:and|or)\s", re.I)


def has_enumeration(sentence: str, max_words: int = 7) -> bool:
    """The sentence lists things: "A, B, and C" or "A, B or C", each item after the first of at most
    ``max_words`` words."""
    parts = sentence.split(",")
    for i in range(1, len(parts)):
        item = parts[i]
        conjunction = _CONJUNCTION.search(item)
        if conjunction and 0 < len(item[: conjunction.start()].split()) <= max_words:
            return True  # "…, B and C"
        following = parts[i + 1].lstrip().lower() if i + 1 < len(parts) else ""
        if following.startswith(("and ", "or ")) and 0 < len(item.split()) <= max_words:
            return True  # "…, B, and C"
    return False


# "When did/will/is …?" asks for a time; "When water is released, what …?" opens with a clause and does not.
_ASKS_FOR_TIME = re.compile(
    # "When and where will …?", "Where and when did …?" ask for a time too.
    r"^\W*(?:where\s+and\s+)?when\s+(?:and\s+where\s+)?"
    r"(?:did|does|do|is|was|were|are|will|would|has|have|had|can|could|should|shall|might|must)\b"
    r"|\b(what|which|in which|in what) (?:[a-z]+ )?(year|date|month|day|decade|century)\b",
    re.I,
)
# A quantity: a figure, or a number written as a word ("thirteen", "eighty", "a dozen", "twice", "his fourth").
_QUANTITY = re.compile(
    r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|"
    r"seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundreds?|thousands?|"
    r"millions?|billions?|trillions?|dozens?|half|quarter|double|twice|triple|single|first|second|third|fourth|fifth|"
    r"sixth|seventh|eighth|ninth|tenth|\w+teenth|\w+ieth)\b",
    re.I,
)
# A time told only relative to the article's own day ("last year", "earlier this week", "recently": all an article may
# say for "when", and no answer to a question for a date: "On what exact date did …?").
_RELATIVE = (
    r"yesterday|today|tomorrow|(?:last|next|this|coming|previous|following) "
    r"(?:week|month|year|spring|summer|autumn|fall|winter)|recently|ago|soon"
)
_RELATIVE_TIME = re.compile(rf"(?:{_RELATIVE})$", re.I)
# A time a "when" question can be answered with: a year of three or four figures ("1407", "the 1990s"), a day of a
# month ("the 5th"), a month (``_MONTH``), a century or decade, a weekday, a relative time.
_TIME = re.compile(
    rf"\b\d{{3,4}}s?\b|\b\d{{1,2}}(?:st|nd|rd|th)\b|\b(?:{_MONTH}|century|centuries|decades?|{_RELATIVE}|"
    r"(?:mon|tues|wednes|thurs|fri|satur|sun)day)\b",
    re.I,
)
_ASKS_FOR_DATE = re.compile(r"\b(?:what|which)\s+(?:exact\s+|specific\s+|precise\s+)?(?:date|day)\b", re.I)
# "When will …?" asks for a time to come: a past one told relative to the article's day ("earlier this week", "last
# year", "recently", "two months ago") is when something else happened.
_ASKS_FOR_FUTURE = re.compile(r"^\W*(?:where\s+and\s+)?when\s+(?:and\s+where\s+)?(?:will|shall)\b", re.I)
_PAST_RELATIVE = re.compile(r"yesterday|(?:last|previous) \w+|recently|ago", re.I)
_EARLIER = re.compile(r"\bearlier\s+$", re.I)


_ASKS_FOR_PLACE = re.compile(
    r"^\W*where\b|\bwhere (?:was|is|were|are|did|does|do|will|would|has|have)\b"
    r"|\b(?:in|at) (?:which|what) (?:city|country|town|place|capital|venue|location)\b"
    r"|\b(?:which|what) (?:city|town|venue|location)\b",
    re.I,
)
# A place: a preposition of place before a name ("took place in Kyiv", "at the Royal Albert Hall"); group 1 the name.
_PLACE = re.compile(r"\b(?:[Ii]n|[Aa]t|[Nn]ear|[Oo]utside|[Ii]nside|[Tt]hroughout)\s+(?:the\s+)?([A-Z][\w’'-]+)")
# "In which city …?", "which Albanian town …": a place only a name answers, unlike "where", which "in relief centres"
# or "at a licensed site offshore" answer as well as "in Kyiv". One city: "which cities" may be answered by a list of
# names as the subject ("Chengdu and Mianyang had…"). A name is written after a preposition of place ("based in
# Toulouse", "from the port of Ranai"), before "-based" ("a Lagos-based company") or before "City".
_ASKS_FOR_NAMED_PLACE = re.compile(
    r"\b(?:which|what)\s+(?:[\w’'-]+\s+)?(?:city|town|village|municipality)\b(?![-’'])"
    # Not someone or a body the place has ("Which city's mayor…?", "Which city council voted…?"): a name answers that.
    r"(?!\s+(?:council|hall|officials?|authorit(?:y|ies)|government|administration|mayor|police|assembly)\b)",
    re.I,
)
# "Where will the meeting be held?", "where is the firm headquartered": where an event happens or a body sits, which
# a name answers too ("in Tirana", "in Albania"); a thing's place ("Where are the controls located?") may be a common
# noun ("on the earphone cable").
_ASKS_WHERE_HELD = re.compile(
    r"\bwhere\b[^?]*?\b(?:held|based|headquartered|signed|hosted|stationed|(?:take|takes|took|taking)\s+place|meet|met|"
    r"convene[sd]?|gather(?:ed)?)\b",
    re.I,
)
_PLACE_PREPOSITION = (
    r"in|at|near|outside|inside|throughout|on|to|from|into|across|between|off|along|via|within|around|towards?|beside"
)
_NAMED_PLACE = re.compile(
    rf"\b(?i:{_PLACE_PREPOSITION})\s+(?:the\s+)?([A-Z][\w’'-]+)|\b([A-Z][\w’'-]+)-based\b|\b([A-Z][\w’'-]+)\s+City\b"
)
# A country ("in Albania", "in the United States"), a continent ("in Central Asia") or a region named in the plural
# ("in the Balkans") is no city.
_COUNTRY = re.compile(
    r"(?:(?:Central|Eastern|Western|Northern|Southern|South|North|East|West)\s+)?(?:Europe|Asia|Africa|Oceania)\b|(?:"
    + "|".join(sorted({re.escape(c) for c in CAPITALS.values()}, key=len, reverse=True))
    + r")\b"
)
_REGION = re.compile(r"the\s+[A-Z][\w’'-]*s\b", re.I)
# "How much money …?", "How much did the funeral cost?": an amount of money, which is written in figures or with a
# currency or a scale ("$100 million", "5,000 francs", "thousands of dollars"), never as a bare count ("the three
# nations", which would answer "how many"). Asked directly: "considering how much he charged" is no such question.
_ASKS_FOR_MONEY = re.compile(
    r"\bhow much (?:more |less )?money\b"
    r"|\bhow much (?:more |less )?(?:did|does|do|will|would|is|was|were|are|has|have|had|can|could)\b[^?]*?"
    r"\b(?:cost|costs|spend|spent|save|saved|pay|paid|invest|invested|worth|earn|earned|raise|raised|gross|grossed|"
    r"fund|funded|charge|charged)\b"
    # "What is the total value of the orders?", "How much was the Time Warner Center worth?"
    r"|\b(?:what|how much)\s+(?:is|was|are|were|will be|would be)\s+(?:the\s+)?(?:\w+\s+)?"
    r"(?:value|price|worth|budget|cost)s?\s+of\b|\bhow much\b[^?]*\b(?:value|price|worth|budget)\b"
    # "What is Kosovo's annual defence budget?", "What was Apple's revenue for Q3 2007?": a budget, a price, a revenue.
    r"|\bwhat(?:'s|’s|\s+is|\s+was|\s+are|\s+were|\s+will\s+be|\s+would\s+be)\s+(?:the\s+)?"
    r"(?:(?!(?:of|in|for|on|to|with|about|between|and|or)\b)[\w-]+(?:'s|’s)?\s+){0,3}?"
    r"(?:budget|price|cost|revenue|salary|turnover)s?\b(?!-)"
    # "What price will Moldova pay …?", "At what price did …?": a price asked without "is" or "was" (not "What price
    # rise …?", which a percentage answers).
    r"|\bwhat\s+price\b(?!\s+(?:rises?|increases?|hikes?|cuts?|changes?|drops?|falls?|growth)\b)"
    # "…, in euros?": the answer is an amount in that currency.
    r"|\bin\s+(?:euros|dollars|pounds|(?:us|u\.s\.)\s+dollars|francs|yen|yuan|rubles|roubles|lek)\s*\??\s*$",
    re.I,
)
_YEAR_DIGITS = r"(?:1[5-9]|20)\d\d"  # a year, 1500-2099
# A currency's sign or name, not the first part of a compound ("Euro-Atlantic" is no amount).
_CURRENCY_SIGN = r"[$€£¥₹]"
_CURRENCY_NAME = (
    r"\b(?:dollars?|euros?|pounds?|sterling|cents?|francs?|yuan|renminbi|yen|rubles?|roubles?|lek|crowns?|"
    r"kron(?:or|er|ur|a)|rupees?|riyals?|rials?|dirhams?|rand|naira|pesos?|reais|shillings?|forints?|lei|leva|zlotys?|"
    r"dinars?|cedis?|kwacha|tenge|lari|ringgit|baht|taka|kina|soles|rupiah)\b(?!-)"
)
# An amount: a figure that is not a year on its own ("2024 | Joint Military Exercises" is no amount), a currency, a
# scale.
_MONEY = re.compile(
    rf"(?<![\d.,])(?!{_YEAR_DIGITS}(?![\d,.]\d))\d|{_CURRENCY_SIGN}|{_CURRENCY_NAME}"
    r"|\b(?:hundreds?|thousands?|millions?|billions?|trillions?)\b(?!-)",
    re.I,
)
# What a sentence must hold for each kind of question that asks for one.
_HOLDS_KIND = {"quantity": _QUANTITY, "money": _MONEY, "time": _TIME, "place": _PLACE}
# A currency: a sign, a currency's name or its code ("$12 million", "€300", "900 million euros", "NOK 2.4 billion").
_CURRENCY = re.compile(
    rf"{_CURRENCY_SIGN}|{_CURRENCY_NAME}"
    r"|(?-i:\b(?:USD|EUR|GBP|JPY|CNY|CHF|CAD|AUD|NZD|NOK|SEK|DKK|ISK|PLN|CZK|HUF|RON|BGN|INR|ZAR|NGN|KES|BRL|MXN|SGD|"
    r"HKD|KRW|TRY|RUB|UAH)\b)",
    re.I,
)
# A question for money that a percentage answers: a change ("By how much did prices rise?", "How much did Egypt raise
# household electricity prices?") or a share ("What is the defence budget as a percentage of GDP?").
_MONEY_AS_SHARE = re.compile(
    r"\bby how much\b|\b(?:percent|percentage|share|proportion|rate)\b"
    r"|\bhow much (?:did|does|do|will|would|has|have|had|is|was)\b[^?]*"
    r"\b(?:raise|raised|rise|rose|increase|increased|cut|reduce|reduced|climb|climbed|fall|fell|drop|dropped|grow|grew)\b",
    re.I,
)


def asked_kind(question: str) -> str | None:
    """ "quantity" ("how many", "how much", "what percentage"), "money" ("how much money", "how much did it cost"),
    "time" ("when did", "in which year") or "place" ("where", "in which city") for a question that asks for one, else
    None."""
    if _ASKS_FOR_MONEY.search(question):
        return "money"
    if _WH_NUMBER.search(question):
        return "quantity"
    if _ASKS_FOR_TIME.search(question):
        return "time"
    if _ASKS_FOR_PLACE.search(question):
        return "place"
    return None


def asked_type(question: str) -> Callable[[str], bool] | None:
    """What a sentence must hold to answer ``question`` (its ``asked_kind``), as a test of the sentence; None for
    questions that ask for no particular kind of thing."""
    kind = asked_kind(question)
    if kind is None:
        return None
    return lambda sentence: holds_kind(kind, sentence, question)


# "How many N": a duration ("a two-day summit") counts only where N is itself a unit of time ("how many days").
_HOW_MANY = re.compile(r"\bhow many (\w+)", re.I)
_TIME_UNITS = "second|minute|hour|day|night|week|month|year|decade"
_TIME_UNIT = re.compile(rf"(?:{_TIME_UNITS}|centur)", re.I)  # the counted noun, by its start ("days", "centuries")
_DURATION = re.compile(rf"[\w.,]+-(?:(?:{_TIME_UNITS})s?|century|centuries)\b", re.I)  # "two-day", "5-years"


_YEAR = re.compile(_YEAR_DIGITS)  # a year alone: no count
_YEARS_ASKED = re.compile(r"\bhow (?:long|old)\b|\byears?\b|\bwhen\b", re.I)  # where a year may answer


def holds_kind(kind: str, sentence: str, question: str = "") -> bool:
    """``sentence`` holds a ``kind`` of thing (``_HOLDS_KIND``: a figure, an amount, a time, a place) other than one
    ``question`` gives itself: for "How many soldiers took part in the June 2023 exercise?", "Joint Military
    Exercise | June 2023" holds no quantity but the date it was asked about. Nor is a year alone a quantity, unless the
    question asks how long, how old, about years or when ("What is the population of Kosovo?": "June 2023" is no
    answer)."""
    given = {w.lower() for w in _WORD.findall(question)}
    words = [(w.start(), w.end(), w.group().lower()) for w in _WORD.finditer(sentence)]
    counted = _HOW_MANY.search(question) if kind == "quantity" else None
    durations_count = counted is None or _TIME_UNIT.match(counted.group(1)) is not None
    wants_date = kind == "time" and _ASKS_FOR_DATE.search(question) is not None
    wants_future = kind == "time" and _ASKS_FOR_FUTURE.search(question) is not None
    years_count = kind == "quantity" and _YEARS_ASKED.search(question) is not None
    for m in _HOLDS_KIND[kind].finditer(sentence):
        if not durations_count and _DURATION.match(sentence, m.start()):
            continue  # "a two-day summit" says how long, not how many countries came
        if wants_date and _RELATIVE_TIME.match(m.group()):
            continue  # "earlier this week" is no date
        if wants_future and (
            _PAST_RELATIVE.fullmatch(m.group()) or _EARLIER.search(sentence, max(0, m.start() - 12), m.start())
        ):
            continue  # "announced earlier this week" is not when it will happen
        # The whole words the match is in ("On May" of "On May 31": "may" is not given by "On what date …?").
        spanned = [w for a, b, w in words if a < m.end() and b > m.start()]
        if kind == "quantity" and not years_count and spanned and all(_YEAR.fullmatch(w) for w in spanned):
            continue  # "June 2023" says when, not how many (unless the question asks how long, how old, when)
        if not spanned or any(w not in given for w in spanned):
            return True
    return False


def names_place(sentence: str, question: str, cities: bool = True) -> bool:
    """``sentence`` names a place (``_NAMED_PLACE``) that ``question`` does not, nor another form of one it does ("in
    Albania" for "which Albanian town", ``same_name``): "in Tirana" answers "In which city did the experts meet?",
    "between the U.S. and Adriatic countries" does not answer "In which city will the meeting between the U.S. and
    Adriatic countries be held?". With ``cities``, a country, a continent or a region is no such place."""
    given = {w.lower() for w in _WORD.findall(question)}
    for m in _NAMED_PLACE.finditer(sentence):
        at = next(i for i in range(1, 4) if m.group(i))
        place = m.group(at).lower().strip("’'-")
        region = at == 1 and _REGION.search(m.group()) is not None
        if cities and (country_key(place) or _COUNTRY.match(sentence, m.start(at)) or region):
            continue  # "in Albania", "in the Balkans": no city
        if place not in given and not any(same_name(place, word) for word in given):
            return True
    return False


def places_named(text: str) -> frozenset[str]:
    """The places a text names after "in", "at", "near" … ("took place in Kyiv": "kyiv"), lowercased."""
    return frozenset(m.group(1).lower() for m in _PLACE.finditer(text))


# The verbs of a question asking what a party says or how it reacted, in the forms that follow "what did X …" /
# "how does X …"; ``_ASKS_STANCE`` adds the other forms and the nouns. Not the first word of a compound ("the
# state-run company", "a see-saw"). "State" is the verb only at the end of the question or before what is stated
# ("…state about", "…state that"), and not after a word that makes it the noun: "heads of state from …", "the State
# Council", "which US state?".
_STATE_VERB = (
    r"(?<!\bof\s)(?<!\bthe\s)(?<!\ba\s)(?<!\bus\s)(?<!\bother\s)(?<!\bwhich\s)(?<!\bwhat\s)"
    r"state(?=\s+(?:that|about|on|regarding|concerning|in|when|after|before)\b|\s*[?.!,]|\s*$)"
)
_SAYING = rf"say|said|{_STATE_VERB}|think|react|reacted|respond|responded|view|feel|announce|claim|argue|comment|reply"
# "What did Russia say …?", "How did Serbia react to …?", "what does croatia think of …": the party whose words or
# reaction are asked for (group "party"), the subject of the verb of saying.
_ASKS_PARTY_STANCE = re.compile(
    rf"\b(?:what|how)\s+(?:did|does|do|has|have|had|will|would|could)\s+(?P<party>[\w’'. -]{{2,60}}?)\s+"
    rf"(?:{_SAYING})\b(?![-‐‑])",
    re.I,
)
# A text says its content: "what does the declaration say about …" asks what it holds, not for a speaker.
_NOT_A_SPEAKER = re.compile(
    r"\b(?:declarations?|articles?|reports?|agreements?|pacts?|treat(?:y|ies)|documents?|statements?|texts?|plans?|"
    r"initiatives?|strateg(?:y|ies)|pieces?|stor(?:y|ies)|stud(?:y|ies)|papers?|sources?|deal|charter|law|"
    r"it|they|he|she|you|we|i|people|experts?|analysts?|officials?)\b",
    re.I,
)


def stance_unattributed(question: str, sentences: Sequence[str], context: Sequence[str] = ()) -> bool:
    """The question asks what a party said or how it reacted ("How did Serbia react to Albania's decision?") and
    none of ``sentences`` (answering passes all its candidates) attributes a statement or a reaction (a reporting
    word) to that party, by name, demonym or a title ``context`` gives a name there ("the Ukrainian leader":
    "Ukrainian President Volodymyr Zelensky"): the passages are about the matter, not the party's view of it. A party
    named by its office ("Serbia's president", "Greece's prime minister") needs the office named too (``qa.offices``:
    "President Zelensky" names Ukraine's president; "the Serbian government" is not Serbia's president). Not for a
    document, which "says" what it holds ("what does the declaration say about …"), nor a pronoun or a group left
    unnamed."""
    m = _ASKS_PARTY_STANCE.search(question)
    if m is None or _NOT_A_SPEAKER.search(m.group("party")):
        return False
    party = [w for w in _TOKEN.findall(m.group("party").lower()) if w not in STOP_WORDS]
    party = [re.sub(r"['’]s$", "", w) for w in party]
    party += [country.lower() for country in capitals(m.group("party")).values()]  # "Belgrade" speaks for Serbia
    # "Serbia's president": a statement by Serbia's government is not his; the office must be named too.
    offices = [w for w in party if w in SPECIFIC_OFFICES]
    party = [w for w in party if w not in SPECIFIC_OFFICES] or party
    if not party:
        return False
    titles = name_titles([*sentences, *context])
    return not any(
        _STANCE_CUE.search(s)
        and names_party(party, s, titles)
        and all(names_office(o, s, titles, question) for o in offices)
        for s in sentences
    )


def names_party(parties: Iterable[str], sentence: str, titles: dict[str, frozenset[str]] | None = None) -> bool:
    """Whether ``sentence`` names one of ``parties`` (lower-case words): by stem (Croatia/Croatian), as a country's
    other name (``same_name``), or through a title ``titles`` gives a name it writes ("Zelensky" is Ukrainian)."""
    words = titled_words(sentence, titles)
    index = _index_terms(frozenset(stem(w) for w in words))
    return any(_matches(stem(p), index) or any(same_name(p, w) for w in words) for p in parties)


# "What type of ammunition …?", "which specific weapons systems …": the question asks which kind of a thing (group
# "thing": the words after "of", or after "specific", up to the first stop word; its last word is the thing).
_KIND_NOUN = (
    r"types?|kinds?|sorts?|calib(?:re|er)s?|models?|brands?|makes?|variet(?:y|ies)|forms?|class(?:es)?|"
    r"categor(?:y|ies)|genres?|styles?"
)
_ASKS_WHICH_KIND = re.compile(
    # "What types or calibres of ammunition …?": two kind nouns for one thing.
    rf"\b(?:what|which)\s+(?:(?:exact|specific|particular)\s+)?(?:{_KIND_NOUN})(?:\s+(?:or|and)\s+(?:{_KIND_NOUN}))?"
    rf"\s+of\s+(?P<thing>[\w’'-]+(?:\s+[\w’'-]+)*)"
    rf"|\bwhich\s+(?:exact|specific|particular)\s+(?P<named>[\w’'-]+(?:\s+[\w’'-]+)*)",
    re.I,
)
_IS_KIND_NOUN = re.compile(rf"(?:{_KIND_NOUN}|lines?|ranges?|series|collections?)$", re.I)  # "a … line of clothing"
# After the thing, words that go on to say which: "systems such as …", "their architectural style is neo-Gothic".
_SAYS_WHICH_AFTER = re.compile(
    rf"\s*(?:such as|like|including|namely|e\.g\.|for example|called|named|known as|[:(]|(?:is|are|was|were)\s+\w|"
    rf"(?:{_KIND_NOUN})\b)",
    re.I,
)


_PAST_VERB = re.compile(r"[a-z]{2,}ed")


def asked_thing(question: str) -> str | None:
    """The thing whose kind the question asks for ("ammunition" of "What type of ammunition will KAYO export?",
    "systems" of "which specific US weapons systems …"), or None."""
    m = _ASKS_WHICH_KIND.search(question)
    if m is None:
        return None
    words = (m.group("thing") or m.group("named")).split()
    phrase: list[str] = []
    for word in words[:4]:
        # The noun phrase ends at a stop word, or at a verb in the past after its first word: "What type of gears
        # utilized separate … valves?" asks about gears ("guided missiles": a first word in -ed is its own).
        if word.lower() in STOP_WORDS or (phrase and _PAST_VERB.fullmatch(word.rstrip(",;:?!."))):
            break
        phrase.append(word)
    return phrase[-1].lower() if phrase else None


def unspecified_kind(question: str, sentences: Sequence[str]) -> bool:
    """The question asks which kind of a thing and ``sentences`` name the thing only bare, never with a word that
    says which: "weapons and ammunition" for "What calibre of ammunition …?", where "155 mm ammunition", "ammunition
    such as shells", "a form of ammunition" or "the ammunition is …" would. False where they do not name the thing
    at all (they may name a kind without it: "tanks" for "what type of vehicles")."""
    thing = asked_thing(question)
    if thing is None:
        return False
    target, asked = stem(thing), set(terms(question))
    named = False
    for sentence in sentences:
        tokens = list(_TOKEN.finditer(sentence))
        for i, token in enumerate(tokens):
            if stem(token.group().lower()) != target:
                continue
            named = True
            before = [t.group().lower() for t in tokens[max(0, i - 3) : i]]
            modifiers: list[str] = []
            for word in reversed(before):  # the words of its noun phrase: up to the nearest stop word
                if word in STOP_WORDS:
                    break
                modifiers.append(word)
            if any(stem(w) not in asked for w in modifiers):
                return False  # "formidable playing technique", "lithium-ion batteries"
            if len(before) >= 2 and before[-1] == "of" and _IS_KIND_NOUN.match(before[-2]):
                return False  # "a mayor-council form of government", "an activewear line of clothing"
            if _SAYS_WHICH_AFTER.match(sentence, token.end()):
                return False
    return named


# An age asked for, and where a text states one: "52-year-old", "aged 52", "52 years old", "Mutabazi, 52, said", "(52)",
# or when something began (a birth or a founding; a year, which ``years_named`` reads).
_ASKS_FOR_AGE = re.compile(r"\bhow old\b", re.I)
_AGE = re.compile(
    r"\b\d{1,3}-years?-old\b|\baged?\s+\d{1,3}\b|\b\d{1,3}\s+years?\s+old\b|,\s*\d{1,3},|\(\d{1,3}\)"
    r"|\b(?:born|founded|established|formed|created)\b",
    re.I,
)
# A year a question names ("What was the capacity in 2015?").
_NAMED_YEAR = re.compile(rf"\b{_YEAR_DIGITS}\b")


def years_named(text: str) -> frozenset[str]:
    """The years (1500-2099, in digits) ``text`` names."""
    return frozenset(_NAMED_YEAR.findall(text))


def lacks_asked_type(question: str, sentences: Sequence[str], context: Sequence[str] = ()) -> bool:
    """The question asks for a quantity ("how many", "how much", "what percentage"), an amount of money ("how much
    money": a figure, a currency or a scale) or a time ("when", "in which year") and none of ``sentences`` holds one
    (a figure or a number word; a year, a month or a date): they share
    the question's words but not its answer, the near-miss a user must not be given as the answer. A place is looser:
    "where" is answered by "in relief centres" as well as by "in Kyiv", so only a question for a city, a town or a
    village is refused, where no quote names a place (``names_place``) the question does not, and a "where" for
    where an event is held or a body is based, where no quote names one (a country will do).
    Likewise an office: asked who holds it and not named, or named only as someone else's (``qa.offices``, which
    reads the holder's name in ``context``, the quotes' documents). And a kind ("What calibre of ammunition …?") the
    quotes do not say (``unspecified_kind``). And an age ("How old is …?") where the quotes give none, nor when the
    thing began: "60 new aircraft" in a sentence naming the person asked about is no age. And an amount of money
    ("How much will the refinery cost?") where no quote names a currency, unless the question asks for a change or a
    share, which a percentage answers."""
    if _ASKS_FOR_AGE.search(question):  # "How old is …?": a figure of something else is no age
        return not any(_AGE.search(s) or years_named(s) for s in sentences)
    kind = asked_kind(question)
    if kind in ("quantity", "money", "time"):
        if not any(holds_kind(kind, s, question) for s in sentences):
            return True
        if kind == "money" and not _MONEY_AS_SHARE.search(question):
            # An amount of money is stated in a currency: "60 new aircraft" or "55 percent of its capacity" is no price.
            return not any(_CURRENCY.search(s) for s in sentences)
        return False
    if asks_for_outlet(question):
        return not any(names_outlet(s) for s in sentences)
    if _ASKS_FOR_NAMED_PLACE.search(question):
        return not any(names_place(s, question) for s in sentences)
    if _ASKS_WHERE_HELD.search(question):
        return not any(names_place(s, question, cities=False) for s in sentences)
    if unspecified_kind(question, sentences):
        return True
    holder = asked_holder(question)
    if holder is not None:
        return not names_holder(holder, question, sentences, context)
    return held_by_another(question, sentences, context)


# Where an article names the outlet a story came from: "reported by anadolu Agency", "according to Reuters", "stay
# connected with The Defense Post", a list of sources' "…, The Defense Post.".
_ATTRIBUTION = re.compile(
    r"\b(?:reported|published|broadcast|carried)\s+by\s+\S"
    r"|\b(?:[Aa]ccording to|[Cc]ourtesy of|via|stay (?:connected|tuned) (?:with|to))\s+(?:[Tt]he\s+)?[A-Z]"
    r"|\b[A-Z][\w-]*\s+(?:Post|Times|Herald|Tribune|Journal|Gazette|Agency|Press|News|Telegraph|Guardian|Observer|Wire)\b"
    r"|\b(?:Reuters|Associated Press|AFP|Agence France-Presse|Bloomberg|BBC|CNN|Al Jazeera)\b"
)


def names_outlet(sentence: str) -> bool:
    """``sentence`` names the outlet a story came from (``_ATTRIBUTION``)."""
    return _ATTRIBUTION.search(sentence) is not None


def answer_type_match(question: str, sentence: str) -> float:
    """1.0 when the sentence holds the kind of thing the question asks for (the outlet a story came from, a number,
    a time, names, a list of things, a cause or a purpose), else 0."""
    if asks_for_outlet(question):
        return 1.0 if names_outlet(sentence) else 0.0
    if _WH_REASON.search(question):
        return 1.0 if _REASON.search(sentence) else 0.0
    if _WH_NUMBER.search(question):
        return 1.0 if _NUMBER.search(sentence) else 0.0
    if _WH_TIME.search(question):
        return 1.0 if _YEAR_OR_DATE.search(sentence) else 0.0
    if _WH_ENTITY.search(question):
        asked = {w.lower() for w in re.findall(r"\w+", question)}
        names = {m.group().lower() for m in _PROPER.finditer(sentence)} - asked
        return min(1.0, len(names) / 2)
    if _WH_LIST.search(question):
        return 1.0 if has_enumeration(sentence) else 0.0
    return 0.0


# The verbs and nouns of a question asking what someone said or thinks (``_SAYING`` and the rest).
_ASKS_STANCE = re.compile(
    rf"\b({_SAYING}|says|stated|thinks|views|see|describe|position|stance|opinion)\b(?![-‐‑])",
    re.I,
)
_STANCE_CUE = re.compile(
    r"\b(said|says|stated|states|announced|clarif\w*|declared|according to|told|noted|emphasi[sz]ed|stressed|"
    r"warned|argued|claimed|expressed|opposed|opposition|welcomed|critici[sz]ed|condemned|view(?:s|ed|ing)?|"
    r"insisted|believes?|considers?|rejected|denied|described|"
    # The other usual reporting verbs ("reiterated", "called on", "pointed out", …).
    r"reiterated|reaffirmed|affirmed|acknowledged|admitted|added|asserted|called (?:on|for)|confirmed|explained|"
    r"highlighted|indicated|pledged|promised|proposed|remarked|replied|responded|revealed|suggested|underlined|"
    r"underscored|urged|praised|objected|maintained|pointed out|mentioned|observed|vowed|commented)\b",
    re.I,
)


def proper_names(texts: Sequence[str]) -> frozenset[str]:
    """Words of ``texts`` written with a capital inside a sentence and never in lower case, lowercased: the names a
    question typed without capitals ("what did croatia say") can be matched against ("Military" in a title-case
    heading is not one: the word is written in lower case elsewhere)."""
    capitalised = {m.group().lower() for text in texts for m in _PROPER.finditer(text)}
    lower = {w for text in texts for w in re.findall(r"\b[a-z][\w’'-]*", text)}
    return frozenset(capitalised - lower)


@lru_cache(maxsize=64)
def _names_index(names: frozenset[str]) -> _TermIndex:
    """``names`` as stems, indexed for ``_matches`` (once per question's candidates, not once per sentence)."""
    return _index_terms(frozenset(stem(n) for n in names))


# A run of capitalised words ending in a name: "Ukrainian President Volodymyr Zelensky", "Croatian Defense Minister".
_TITLED_NAME = re.compile(r"\b(?:[A-Z][\w’'-]+\s+){1,4}[A-Z][\w’'-]+")


def name_titles(texts: Sequence[str]) -> dict[str, frozenset[str]]:
    """For each name that ends a run of capitalised words in ``texts``, the words before it in any such run,
    lowercased ("zelensky": ukrainian, president, volodymyr): what a sentence naming only "President Zelensky"
    says of him elsewhere. A capitalised stop word opening a sentence ("In Kyiv", "The Pentagon") is no title, and a
    text written in title case (a headline, a listed report's title: "Croatia Forge Cooperation for Stronger Balkan
    Defense") gives none: its capitals mark the style, not names."""
    out: dict[str, set[str]] = {}
    for text in texts:
        for name, words in _titles_in(text):
            out.setdefault(name, set()).update(words)
    return {name: frozenset(words) for name, words in out.items()}


@lru_cache(maxsize=1024)  # pure; the stance check reads the cited documents whole for each question
def _titles_in(text: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``name_titles`` of one text, as (name, words before it) for each run of capitalised words."""
    if title_case(text):
        return ()
    out = []
    for m in _TITLED_NAME.finditer(text):
        words = [re.sub(r"['’]s$", "", w).lower() for w in m.group().split()]
        if words[-1] not in STOP_WORDS:
            out.append((words[-1], tuple(w for w in words[:-1] if w not in STOP_WORDS)))
    return tuple(out)


def stance_match(
    question: str, sentence: str, names: frozenset[str] = frozenset(), titles: dict[str, frozenset[str]] | None = None
) -> float:
    """For questions about what someone said or how they reacted: 1.0 when the sentence attributes a
    statement or reaction to that party (a demonym counts: Croatia/Croatian), -1.0 when it attributes one
    without naming the party (most likely someone else's), else 0.

    The party is a capitalised word of the question, or, for a question typed without capitals, a word of it
    that ``names`` (the candidates' own proper names) holds. A name the sentence gives carries the titles
    ``titles`` (``name_titles`` of the candidates) gives it elsewhere: "President Zelensky emphasized …" names
    the Ukrainian leader where another candidate says "Ukrainian President Volodymyr Zelensky"."""
    if not _ASKS_STANCE.search(question) or not _STANCE_CUE.search(sentence):
        return 0.0
    parties = {w.lower() for w in re.findall(r"\b[A-Z][\w’'-]+", question)}
    if names:
        named = _names_index(names)
        parties |= {w for w in _TOKEN.findall(question.lower()) if _matches(stem(w), named)}
    parties -= NOT_A_PARTY
    if not parties:
        return 0.0
    return 1.0 if names_party(parties, sentence, titles) else -1.0


def is_heading(text: str) -> bool:
    """A line with no sentence punctuation and no table cells: a title or heading, context rather than answer."""
    return "|" not in text and not re.search(r"[.!?:;,”\"')]$", text.strip()) and len(text) < 120


_DEFINITION_QUESTION = re.compile(
    r"^\s*(?:what|who)\s+(?:is|are|was|were)\s+(?:the\s+(?:acronym|abbreviation|term)\s+|an?\s+|the\s+)?"
    r"(?P<x>[^?]{1,60}?)\s*\??\s*$|^\s*what\s+(?:does|do)\s+(?:the\s+(?:acronym|abbreviation|term)\s+)?"
    r"(?P<y>[^?]{1,60}?)\s+(?:stand\s+for|mean)\s*\??\s*$",
    re.I,
)
_NOT_A_TERM = re.compile(r"\b(of|in|for|with|by|to|on|from|between|that|which|when|how|why|most|main|first)\b", re.I)


@lru_cache(maxsize=4096)
def defined_term(question: str) -> tuple[str, ...]:
    """The term a "What is X?" question asks to define ("What are nuclear receptors (NRs)?": "nuclear receptors",
    "NRs"), or () for other questions ("What is the size of X?" asks about X, not for a definition)."""
    m = _DEFINITION_QUESTION.match(question)
    if not m:
        return ()
    term = (m.group("x") or m.group("y") or "").strip()
    if not term or _NOT_A_TERM.search(term) or len(term.split()) > 5:
        return ()
    names = [re.sub(r"\s*\([^)]*\)", "", term).strip(), *re.findall(r"\(([^)]{1,20})\)", term)]
    return tuple(n for n in names if n)


def definition_match(question: str, sentence: str) -> float:
    """1.0 when the sentence defines the term a "What is X?" question asks about: "X is a …", "X, a …",
    "X refers to …", or a long form with X in brackets ("severe acute respiratory syndrome coronavirus 2
    (SARS-CoV-2)"); else 0."""
    for name in defined_term(question):
        x = re.escape(name)
        if re.search(
            rf"\b{x}\b\s*(?:\([^)]*\)\s*)?(?:,\s*(?:a|an|the|which is)\s|(?:is|are|was|were)\s+(?:a|an|the|one|any)\s"
            rf"|(?:refers?\s+to|means|stands\s+for|is\s+defined\s+as)\s)",
            sentence,
            re.I,
        ):
            return 1.0
        if re.search(rf"\w\s*\({x}[),;]", sentence) or re.search(rf"\b{x}\s*\((?!\d)[^)]{{8,}}\)", sentence):
            return 1.0
    return 0.0


_ANAPHOR = re.compile(
    r"^\W*(it|its|this|these|that|those|they|their|them|he|she|his|her|such|the latter|the former|both)\b", re.I
)


def refers_back(sentence: str) -> bool:
    """The sentence opens with a pronoun or "this/these/such …": it is about what the sentence before it named."""
    return _ANAPHOR.match(sentence) is not None


def local_weights(
    question_terms: Sequence[str], sentences: Sequence[Sentence], idf: dict[str, float]
) -> dict[str, float]:
    """Term weights for one question's candidates: a term found in most of them (the topic of every passage
    retrieved) tells them apart less than its corpus-wide idf says; mixed geometrically by ``LOCAL_IDF``."""
    if not LOCAL_IDF or not sentences:
        return idf
    n = len(sentences)
    out = dict(idf)
    for t in set(question_terms):
        df = sum(1 for s in sentences if _matches(t, _term_index(s.matched)))
        local = max(0.05, math.log((n + 1) / (df + 0.5)))
        out[t] = idf.get(t, 1.0) ** (1 - LOCAL_IDF) * local**LOCAL_IDF
    return out


FEATURES = ("dense", "lexical", "passage", "novelty", "type", "lead_in", "stance", "definition", "topic")
HAND_SET_WEIGHTS = (W_DENSE, W_LEXICAL, W_PASSAGE, W_NOVELTY, W_TYPE, W_LEAD_IN, W_STANCE, W_DEFINITION, W_TOPIC)


def sentence_features(
    sentences: Sequence[Sentence],
    sentence_vectors: np.ndarray | None,
    query_vector: np.ndarray,
    question_terms: Sequence[str],
    idf: dict[str, float],
    question: str = "",
    topic: Sequence[float] = (),
) -> tuple[np.ndarray, np.ndarray]:
    """What the sentence score reads of each candidate: an ``(n, len(FEATURES))`` matrix, and each sentence's
    damping (headings and fragments say little on their own), which multiplies the weighted sum.

    Without ``sentence_vectors`` the cosine counts as 0: a cheap first pass that picks what to embed.
    ``topic[r]``, for a follow-up question, is how well passage ``r`` covers the earlier turn's terms.
    """
    n = len(sentences)
    features = np.zeros((n, len(FEATURES)))
    damp = np.ones(n)
    if sentence_vectors is not None and n:
        features[:, 0] = sentence_vectors @ query_vector
    asked = set(question_terms)
    coverage = Coverage(question_terms, idf, question, related=True)
    stance = bool(question) and _ASKS_STANCE.search(question) is not None
    names = proper_names([s.text for s in sentences]) if stance else frozenset()
    titles = name_titles([s.text for s in sentences]) if stance else {}
    for i, sentence in enumerate(sentences):
        lexical = coverage(sentence.matched, sentence.headline)
        # Coverage by the sentence together with the one before it (0 for a paragraph's first sentence).
        before = sentence.previous + " " + sentence.matched
        in_context = coverage(before, sentence.headline) if sentence.previous else 0.0
        if ANAPHORA_CONTEXT and sentence.previous and refers_back(sentence.text):
            # "This address later inspired …": the sentence is about what the one before it named.
            lexical += ANAPHORA_CONTEXT * max(0.0, in_context - lexical)
        own = term_set(sentence.text)
        features[i, 1:] = (
            lexical,
            1.0 / (1.0 + sentence.passage_rank),
            # A sentence that only restates the question does not answer it: reward what it adds.
            len(own - asked) / len(own) if own else 0.0,
            answer_type_match(question, sentence.text) if question else 0.0,
            # An answer often follows the sentence that restates the question ("X involves Y. It is expected to…").
            max(0.0, in_context - lexical) if sentence.previous else 0.0,
            stance_match(question, sentence.text, names, titles) if question else 0.0,
            definition_match(question, sentence.text) if question else 0.0,
            topic[sentence.passage_rank] if sentence.passage_rank < len(topic) else 0.0,
        )
        damp[i] = min(1.0, 0.6 + len(sentence.text) / 150) * (HEADING_DAMP if is_heading(sentence.text) else 1.0)
    return features, damp


def dense_scale(best_lexical: float, boost: float = DENSE_BOOST) -> float:
    """The factor on the cosine's weight for a question whose best candidate covers ``best_lexical`` of its
    weighted terms: 1 at ``WORDS_SHARED`` or more, rising linearly to ``boost`` at 0."""
    if best_lexical >= WORDS_SHARED:
        return 1.0
    return 1.0 + (boost - 1.0) * (1.0 - max(best_lexical, 0.0) / WORDS_SHARED)


def features_dense_scale(features: np.ndarray, boost: float = DENSE_BOOST) -> float:
    """``dense_scale`` for one question's candidates (``sentence_features`` rows, at least one): read from the best
    coverage among them. The score raises its cosine weight by it; training fits on the cosine column raised by it."""
    return dense_scale(float(features[:, FEATURES.index("lexical")].max()), boost)


@dataclass(frozen=True)
class SentenceScorer:
    """The sentence score: ``weights`` (one per name in ``FEATURES``) over ``sentence_features``, damped, the
    cosine's weight raised where the candidates share few of the question's words (``dense_scale``). The hand-set
    weights are the default here (answering's first passes read them: what to embed, whether to answer); the
    candidates are ranked with those ``QA_SENTENCE_SCORER`` names (``qa.scorer.load_chooser``): by default the ones
    learned from the team's news questions, fitted with the raise, or those learned from SQuAD, fitted without it
    and run with ``dense_boost`` 1."""

    weights: tuple[float, ...] = HAND_SET_WEIGHTS
    name: str = "hand-set"
    dense_boost: float = DENSE_BOOST

    def __call__(
        self,
        sentences: Sequence[Sentence],
        sentence_vectors: np.ndarray | None,
        query_vector: np.ndarray,
        question_terms: Sequence[str],
        idf: dict[str, float],
        question: str = "",
        topic: Sequence[float] = (),
    ) -> list[ScoredSentence]:
        """Score candidates by meaning (cosine), idf-weighted keyword coverage, answer type and passage rank (the
        arguments of ``sentence_features``). Best first."""
        features, damp = sentence_features(
            sentences, sentence_vectors, query_vector, question_terms, idf, question, topic
        )
        return self.rank(sentences, features, damp)

    def rank(self, sentences: Sequence[Sentence], features: np.ndarray, damp: np.ndarray) -> list[ScoredSentence]:
        """The sentences scored from their features, best first."""
        weights = np.array(self.weights, dtype=float)
        if len(features):
            weights[0] *= features_dense_scale(features, self.dense_boost)
        scores = (features @ weights) * damp
        scored = [
            ScoredSentence(sentence, float(scores[i]), float(features[i, 0]), float(features[i, 1]))
            for i, sentence in enumerate(sentences)
        ]
        return sorted(scored, key=lambda s: -s.score)


# The hand-set score, as answering's first passes (what to embed, whether to refuse) and the tests call it. The
# refusal's thresholds were calibrated on the plain score: the cosine's raise is the chooser's alone.
score_sentences = SentenceScorer(dense_boost=1.0)


def similar(a: str, b: str) -> bool:
    """Two sentences that say nearly the same (most terms of the shorter are in the longer): quote one."""
    ta, tb = set(terms(a)), set(terms(b))
    if not ta or not tb:
        return a.strip().lower() == b.strip().lower()
    return len(ta & tb) / min(len(ta), len(tb)) >= 0.7


def specifics(text: str) -> set[str]:
    """The figures and the names (capitalised inside the sentence) of ``text``, lowercased."""
    return {w.lower() for w in re.findall(r"\d[\d.,:%]*", text)} | {m.group().lower() for m in _PROPER.finditer(text)}


def adds_specifics(text: str, than: str) -> bool:
    """``text`` holds a figure or a name that ``than`` does not (a country's name and its demonym are one):
    however close in meaning, it tells something more ("…will be released in March 2016")."""
    known = specifics(than)
    return any(w not in known and not any(same_name(w, k) for k in known) for w in specifics(text))


def restates_in_meaning(text: str, vector: np.ndarray, other: str, other_vector: np.ndarray) -> bool:
    """``text`` says again what ``other`` says: their vectors at a cosine of ``RESTATEMENT_COSINE`` or more, and no
    figure or name of its own (``adds_specifics``)."""
    return float(vector @ other_vector) >= RESTATEMENT_COSINE and not adds_specifics(text, other)


def select_sentences(
    scored: Sequence[ScoredSentence],
    max_sentences: int = MAX_SENTENCES,
    vectors: Mapping[tuple[str, int], np.ndarray] | None = None,
) -> list[ScoredSentence]:
    """The best sentence, plus close runners-up that add something, in reading order within each source.

    A runner-up that says nearly what a chosen sentence says is skipped for the next one: most of its terms, or,
    given the sentences' ``vectors`` by (source, start), a cosine of ``RESTATEMENT_COSINE`` or more and no figure or
    name the chosen one lacks ("Albania has authorized KAYO to produce weapons" three times over, in other words)."""
    if not scored:
        return []
    best = scored[0]
    chosen = [best]

    def restates(a: ScoredSentence, b: ScoredSentence) -> bool:
        if similar(a.sentence.text, b.sentence.text):
            return True
        va = vectors.get((a.sentence.source, a.sentence.start)) if vectors else None
        vb = vectors.get((b.sentence.source, b.sentence.start)) if vectors else None
        return va is not None and vb is not None and restates_in_meaning(a.sentence.text, va, b.sentence.text, vb)

    for candidate in scored[1:]:
        if len(chosen) >= max_sentences or candidate.score < RELATIVE_CUTOFF * best.score:
            break
        if any(restates(candidate, c) for c in chosen):
            continue
        chosen.append(candidate)
    # The best sentence leads; the others follow it grouped by source, in document order.
    first_source = best.sentence.source
    rest = sorted(chosen[1:], key=lambda s: (s.sentence.source != first_source, s.sentence.source, s.sentence.start))
    return [best, *rest]
