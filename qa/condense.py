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


def condense(question: str, history: Sequence[str]) -> StandaloneQuestion:
    """Combine a follow-up with the most recent earlier turn it depends on; other questions stand alone."""
    question = question.strip()
    turns = [t.strip() for t in history if t and t.strip()]
    if not turns or not looks_like_follow_up(question):
        return StandaloneQuestion(question, question)
    context = turns[-1]
    core = _FOLLOW_UP_START.sub("", question).strip(" ,") or question
    return StandaloneQuestion(f"{core} (following: {context})", question, context)


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


_OVERVIEW = re.compile(
    r"^\W*(?:(?:please|pls|can you|could you|would you|now|ok|okay)[\s,]+)*"
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


def overview_topic(question: str) -> str | None:
    """For a request to summarize ("summarize the articles", "what are the documents about?", "give me an overview
    of the KAYO article"), the topic it narrows to ("" for all the documents); None for any other question."""
    m = _OVERVIEW.match(question.strip())
    if not m:
        return None
    return " ".join(_NOT_A_TOPIC.sub(" ", m.group("rest")).split())
