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
