"""Turning a follow-up into a standalone question without a language model."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_FOLLOW_UP_START = re.compile(r"^\s*(and|but|also|so|then|what about|how about|what else|why|how come)\b", re.I)
_PRONOUNS = re.compile(r"\b(it|its|they|them|their|theirs|this|that|these|those|he|she|his|her|there|the same)\b", re.I)


@dataclass(frozen=True, slots=True)
class StandaloneQuestion:
    """The question to retrieve with: ``text`` for display and dense search, ``context`` for carried-over terms."""

    text: str
    question: str
    context: str = ""

    @property
    def is_follow_up(self) -> bool:
        return bool(self.context)


def looks_like_follow_up(question: str) -> bool:
    """Short questions, questions that open with a connective or lean on a pronoun need the conversation."""
    words = re.findall(r"\w+", question)
    return bool(_FOLLOW_UP_START.search(question) or _PRONOUNS.search(question) or len(words) <= 4)


def refers_back(question: str) -> bool:
    """The question leans on a pronoun for its subject ("what does it make?", "who was there?")."""
    return bool(_PRONOUNS.search(question))


MAX_CONTEXT_TURNS = 3  # a chain of follow-ups ("what is KAYO?" → "what does it make?" → "who owns it?") reaches back


def condense(question: str, history: Sequence[str]) -> StandaloneQuestion:
    """Combine a follow-up with the most recent earlier turn it depends on (and, where that turn leans on a pronoun
    itself, the one before it: "who owns it?" after "what does it make?" after "what is KAYO?"); other questions
    stand alone."""
    question = question.strip()
    turns = [t.strip() for t in history if t and t.strip()]
    if not turns or not looks_like_follow_up(question):
        return StandaloneQuestion(question, question)
    chain = [turns[-1]]
    while len(chain) < min(MAX_CONTEXT_TURNS, len(turns)) and refers_back(chain[0]):
        chain.insert(0, turns[-len(chain) - 1])
    context = " ".join(chain)
    core = _FOLLOW_UP_START.sub("", question).strip(" ,") or question
    return StandaloneQuestion(f"{core} (following: {context})", question, context)


# Words by which a question points at the articles themselves ("according to the articles", "what does the piece
# say about …", "in the documents"): not what it asks about, so not searched for ("article" would pick the
# sentence "This article delves into …"). A word such as "article" elsewhere ("Article 5") is kept.
_CORPUS = r"(?:articles?|documents?|docs?|texts?|pieces?|stories|story)"
_WHICH = r"(?:(?:first|second|third|fourth|fifth|last|other|two|three|four|five|same|latest)\s+)?"
_ABOUT_THE_CORPUS = re.compile(
    rf"\b(?:according to|as per|based on|(?:in|from|within|by)(?:\s+(?:any|each|one|all) of)?)\s+"
    rf"(?:the|these|this|those|your|all|both)\s+{_WHICH}{_CORPUS}\b"
    rf"|\b(?:do|does|did)\s+(?:the|these|this|those|any)\s+{_WHICH}{_CORPUS}\s+"
    r"(?:say|mention|tell|report|state|claim|suggest|explain|describe|give)\b"
    rf"|\b(?:the|these|this|those)\s+{_CORPUS}\s+(?:says?|mentions?|tells?|reports?|states?|claims?|suggests?)\b",
    re.I,
)


# A question for the outlet that carried a story: an outlet ("wire service", "news agency", "defence news outlet") and
# what it did with the story ("broke", "carried", "is credited for"): "Which wire service broke the news of the pact?".
_OUTLET = (
    r"(?:news\s*wires?|wires?(?:\s+services?)?|(?:news|press)\s+(?:agenc(?:y|ies)|services?|sites?)"
    r"|(?:news\s+|media\s+)?outlets?|publications?|newspapers?)"
)
_REPORTED = (
    r"(?:broke|break|breaking|reported|reports?|reporting|carried|carry|carries|published|publish\w*|credited|ran"
    r"|mentioned|cited|sourced?)"
)
_ASKS_FOR_OUTLET = re.compile(rf"\b(?:which|what)\s+(?:[\w-]+\s+){{0,2}}?{_OUTLET}\b(?=.*\b{_REPORTED}\b)", re.I)
# The words of that ask, which name no topic of the articles: the outlet, the reporting, the story.
_OUTLET_ASK_WORDS = re.compile(
    rf"\b(?:{_OUTLET}|{_REPORTED}|originally|first|stor(?:y|ies)|news|pieces?|credit)\b", re.I
)


def asks_for_outlet(question: str) -> bool:
    """``question`` asks which outlet reported a story ("Which news wire originally carried the story about the
    pact?"): answered by the articles' own attribution ("reported by …", a list of sources), not by their topic."""
    return _ASKS_FOR_OUTLET.search(question) is not None


_ASKS_FOR_HEADING = re.compile(r"\b(?:headlines?|headings?|titles?|titled|section)\b", re.I)


def asks_for_heading(question: str) -> bool:
    """``question`` asks for a headline, a title or a section ("What is the KAYO article's headline?"), the one kind
    of question a heading answers."""
    return _ASKS_FOR_HEADING.search(question) is not None


def without_corpus_references(question: str) -> str:
    """``question`` less the words that refer to the articles themselves ("What are hybrid threats according to the
    articles" → "What are hybrid threats"; "Which wire service broke the story of the pact?" → "Which the of the
    pact?")."""
    if asks_for_outlet(question):
        question = _OUTLET_ASK_WORDS.sub(" ", question)
    return _ABOUT_THE_CORPUS.sub(" ", question)


LONG_QUESTION_WORDS = 25  # a question this long usually wraps its one real ask in context
_CLAUSE = re.compile(r"(?<=[.;:!?])\s+|,\s+(?=(?:so|but|and|or|then|because|since|now)\b)|\s+-+\s+", re.I)
_ASKS = re.compile(
    r"\b(who|whom|whose|what|which|when|where|why|how|whether|is|are|was|were|does|do|did|can|could|will|would|"
    r"should|tell me|explain|describe|list|name)\b",
    re.I,
)


def the_ask(question: str) -> str:
    """The part of a long question that asks something: its last clause holding a question word ("…, so could
    you tell me which country they buy from?"), with the clause after it when that is short. Short questions
    are returned whole."""
    words = question.split()
    if len(words) <= LONG_QUESTION_WORDS:
        return question
    clauses = [c for c in _CLAUSE.split(question) if c and c.strip()]
    asking = [i for i, c in enumerate(clauses) if _ASKS.search(c) and len(c.split()) >= 3]
    if not asking:
        return " ".join(words[-LONG_QUESTION_WORDS:])
    i = asking[-1]
    ask = clauses[i].strip()
    if len(ask.split()) < 6 and i > 0:  # "what do they mention?": the clause before says about what
        ask = clauses[i - 1].strip() + " " + ask
    return ask


_POLITE = r"^\W*(?:(?:please|pls|can you|could you|would you|now|ok|okay)[\s,]+)*"  # "please", "can you", …
_OVERVIEW = re.compile(
    rf"{_POLITE}"
    r"(?:summari[sz]e|sum up|recap|give (?:me |us )?(?:an? |the )?(?:overview|summary|gist|rundown|recap)|overview|"
    r"summary|tl;?dr|gist|what(?:'s| is| are) (?:the |these |this |all |those )*(?:articles?|documents?|docs?|texts?|"
    r"stories|story|files?|pieces?|corpus)(?: all)? (?:about|on)|what do (?:the |these |all |those )*(?:articles?|"
    r"documents?|docs|texts|stories|files|pieces) (?:say|cover|talk about|discuss)|(?:the )?(?:main|key) points)\b"
    r"(?P<rest>.*)$",
    re.I,
)
_NOT_A_TOPIC = re.compile(
    r"\b(?:of|on|about|the|a|an|all|each|every|these|those|this|that|me|us|for|in|please|pls|briefly|quickly|short|"
    r"articles?|documents?|docs?|texts?|stories|story|files?|pieces?|corpus|folder|collection|everything|say|says|"
    r"said|them|it|they|so far|one|ones|you|have|has|here|there|is|are)\b|[^\w\s'’-]",
    re.I,
)


_ARTICLE = r"(?:articles?|pieces?|stories|story|documents?|docs?|texts?|reports?)"
# "What is the Kosovo piece about?": the topic between the article and "about".
_ABOUT = re.compile(
    rf"^\W*what(?:'s|s| is| are) (?:the |this |that )(?P<rest>[\w'’ -]{{1,40}}?) {_ARTICLE} (?:about|on)\W*$", re.I
)
# "What's the gist?", "the key takeaways of the KAYO story": only of the articles ("the main idea behind joint
# procurement" asks about the idea).
_GIST = re.compile(
    r"^\W*(?:(?:please|pls|can you|could you|give me|tell me|what(?:'s|s| is| are))\s+)*the "
    r"(?:gist|upshot|main points?|main ideas?|key points|key takeaways|takeaways|bottom line)"
    rf"(?: of (?P<rest>[\w'’ -]{{0,40}}{_ARTICLE}))?\W*$",
    re.I,
)


_DOCUMENTS = r"(?:articles|documents|docs|files|stories|texts|pieces)"
# "Which articles are there?", "list the documents", "how many articles do you have": the collection itself, told as
# its overview. Not "which articles mention Serbia?", a question about what they say, nor "list the sources", which
# may ask for the outlets the articles cite.
_LIST_DOCUMENTS = re.compile(
    rf"{_POLITE}(?:(?:list|show|name)(?: me)?(?: all| the| your| my| of)* {_DOCUMENTS}(?: (?:you have|there are))?"
    rf"|(?:which|what|how many) (?:{_DOCUMENTS}|sources) (?:are there|do (?:you|we|i) have|have (?:you|we) got|"
    r"are (?:in here|here|loaded|indexed|available)|can you (?:see|read)))\W*$",
    re.I,
)
# "What's the headline of the KAYO article?", "What is the Kosovo piece called?", "show me the headlines".
_HEADLINE = re.compile(
    rf"{_POLITE}(?:(?:tell|give|show) me )?(?:what(?:'s|s| is| are| was| were) )?(?:the )?(?:headlines?|titles?) of "
    rf"(?:the |this |that |these |all |each )*(?P<rest>[\w'’ -]{{0,40}}?) ?{_ARTICLE}\W*$"
    rf"|^\W*what(?:'s|s| is| are| was) (?:the )?(?P<rest2>[\w'’ -]{{0,40}}?) ?{_ARTICLE}(?:'s|’s)? "
    r"(?:headlines?|titles?)\W*$"
    rf"|^\W*what(?:'s|s| is| are| was) (?:the )?(?P<rest3>[\w'’ -]{{0,40}}?) ?{_ARTICLE} (?:called|titled)\W*$"
    rf"|{_POLITE}(?:(?:tell|give|show) me |what are )?(?:all )?the headlines\W*$",
    re.I,
)


# "Did Serbia oppose the pact?", "and is kayo state owned": a question answered yes or no.
_YES_NO = re.compile(
    r"^\W*(?:(?:and|so|but|then|ok|okay|also)\W+)?(?:did|does|do|is|are|was|were|has|have|had|can|could|will|would|"
    r"should|may|might|must)\b(?!\s+(?:you|u)\s+(?:know|tell|explain|say|summari[sz]e|list|name|show|give)\b)",
    re.I,
)


def asks_yes_no(question: str) -> bool:
    """``question`` is answered yes or no ("Did Serbia oppose the pact?"), not a request put as one ("can you tell
    me what Croatia said")."""
    return _YES_NO.match(question) is not None


# "summarize the KAYO article", "what is the Kosovo piece about?", "the main points of this story": one article (a
# singular noun), not "the articles about KAYO".
_ONE_ARTICLE = re.compile(r"\b(?:article|piece|story|document|doc|text|report)\b", re.I)


def asks_for_one_article(question: str) -> bool:
    """A request to summarize names one article ("summarize the KAYO article"), not several."""
    return _ONE_ARTICLE.search(question) is not None


def overview_topic(question: str) -> str | None:
    """For a request to summarize ("summarize the articles", "what are the documents about?", "give me an overview
    of the KAYO article", "what's the gist of the Kosovo piece?", "what is the NATO article about?") or to list the
    articles ("which articles are there?"), the topic it narrows to ("" for all the documents); None for any other
    question."""
    asked = question.strip()
    if _LIST_DOCUMENTS.match(asked):
        return ""
    m = _OVERVIEW.match(asked) or _ABOUT.match(asked) or _GIST.match(asked)
    if not m:
        return None
    return " ".join(_NOT_A_TOPIC.sub(" ", m.group("rest") or "").split())


# "Which articles mention Serbia?", "how many articles talk about KAYO", "does any article mention Greece": the articles
# that name something, each quoted where it does. The thing is a few words with no question word of its own ("Which
# articles mention NATO and what does each say…?" asks more than that).
_MENTIONING = re.compile(
    r"^\W*(?:(?:which|what|how many) (?:of the )?|(?:does|do) (?:any|either|one) (?:of the )?|(?P<there>(?:are|is) "
    rf"there (?:any |an )?)){_ARTICLE} (?:that )?"
    r"(?:mentions?|mentioning|discuss(?:es)?|talks? about|covers?|refers? to|names?|says? anything about|"
    r"deals? with|brings? up|(?(there)about|(?!)))\s+(?P<x>[\w'’. -]{1,60}?)\W*$",
    re.I,
)
# A question word asks more; "or" asks for either, where every word of the thing is looked for ("NATO and the EU":
# both).
_ASKS_MORE = re.compile(r"\b(?:what|which|how|why|who|when|where|whether|or)\b", re.I)


def mentioned_topic(question: str) -> str | None:
    """For a question for the articles that name something ("Which articles mention Serbia?"), the thing named; None for
    any other question."""
    m = _MENTIONING.match(question.strip())
    if not m:
        return None
    thing = " ".join(m.group("x").split())
    if len(thing.split()) > 6 or _ASKS_MORE.search(thing):
        return None
    return thing


def headline_topic(question: str) -> str | None:
    """For a question for the articles' headlines ("What's the headline of the KAYO article?", "what is the Kosovo
    piece called", "show me the headlines"), the topic it narrows to ("" for all the documents); None for any other
    question."""
    m = _HEADLINE.match(question.strip())
    if not m:
        return None
    rest = m.group("rest") or m.group("rest2") or m.group("rest3") or ""
    return " ".join(_NOT_A_TOPIC.sub(" ", rest).split())


@dataclass(frozen=True, slots=True)
class Comparison:
    """A question comparing two parties ("how did Croatia and Serbia differ on the pact?"): each side is asked
    about on its own."""

    first: str
    second: str
    topic: str = ""

    def asks(self) -> tuple[str, str]:
        """The question put for each side: what it said about the topic."""
        about = f" about {self.topic}" if self.topic else ""
        return f"What did {self.first} say{about}?", f"What did {self.second} say{about}?"


_PARTY = r"(?:(?:the\s+)?[\w’'.-]+?(?:\s+[\w’'.-]+?){0,3}?)"
_COMPARISON = (
    # "how did Croatia and Serbia differ (on the pact)?", "how do X and Y compare on Z"
    re.compile(
        rf"^\W*how\s+(?:did|do|does|have|has)\s+(?P<a>{_PARTY})\s+and\s+(?P<b>{_PARTY})\s+"
        r"(?:differ|compare|disagree|diverge)(?:\s+(?:on|about|over|in|regarding)\s+(?P<topic>.+?))?\W*$",
        re.I,
    ),
    # "compare what Croatia and Serbia said about the pact", "compare Croatia and Serbia on the pact"
    re.compile(
        rf"^\W*compare\s+(?:what\s+|how\s+)?(?P<a>{_PARTY})\s+and\s+(?P<b>{_PARTY})"
        r"(?:\s+(?:said|say|think|thought|reacted|react|saw|see))?(?:\s+(?:on|about|over|to|regarding)\s+(?P<topic>.+?))?"
        r"\W*$",
        re.I,
    ),
    # "what's the difference between Croatia's and Serbia's positions (on the pact)?"
    re.compile(
        rf"^\W*(?:what(?:'s|s| is| was| are)\s+)?(?:the\s+)?differences?\s+between\s+"
        rf"(?P<a>{_PARTY}?)(?:’s|'s)?\s+and\s+(?P<b>{_PARTY}?)(?:’s|'s)?(?:\s+(?:positions?|views?|stances?|reactions?|responses?))?"
        r"(?:\s+(?:on|about|over|to|regarding)\s+(?P<topic>.+?))?\W*$",
        re.I,
    ),
)


def comparison(question: str) -> Comparison | None:
    """The two parties (and the topic) of a question comparing them; None for any other question."""
    for pattern in _COMPARISON:
        m = pattern.match(question.strip())
        if m:
            first, second, topic = m.group("a"), m.group("b"), (m.group("topic") or "").strip()
            first = _PARTY_LEAD.sub("", first)
            split = _PARTY_TOPIC.search(second)  # "the reactions of Serbia and the Pentagon to the pact"
            if split and not topic:
                second, topic = second[: split.start()], second[split.end() :]
            second = _PARTY_TAIL.sub("", _PARTY_LEAD.sub("", second))
            first = _PARTY_TAIL.sub("", first)
            if first and second:
                return Comparison(first.strip(), second.strip(), topic)
    return None


_PARTY_LEAD = re.compile(
    r"^(?:the\s+)?(?:(?:reactions?|responses?|positions?|views?|stances?|attitudes?|statements?)\s+of\s+)?(?:the\s+)?",
    re.I,
)
_PARTY_TOPIC = re.compile(r"\s+(?:to|on|about|over|regarding)\s+", re.I)
_PARTY_TAIL = re.compile(r"(?:’s|'s)?(?:\s+(?:articles?|pieces?|stories|story|reports?|government|side))?$", re.I)
