"""Questions for who holds an office ("Who is Albania's defence minister?", "who is the president of kosovo"): what
such a question asks for, and whether sentences name the holder of that office and not of someone else's.

A question whose quotes hold no form of the office (the articles name a *ministry*, not a minister), or hold it only
for another owner ("Ukrainian President …" for Kosovo's president), is a near-miss: ``qa.extractive.lacks_asked_type``
refuses it with the closest passages. So is any question naming someone's office ("What did Serbia's president
say…?") whose quotes name that office only as another owner's; a holder quoted by name alone ("President Zelensky")
is read with the qualifiers the document gives that name elsewhere. Chosen on the own development sets and
``dev_data/squad_train/`` (docs/TUNING.md, seventh to ninth sessions). A deputy's title ("vice chairwoman" for "Who
is the chairman…?") names another office (twenty-ninth session).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from index.keywords import STOP_WORDS, stem
from index.sentences import split_sentences
from qa.spelling import country_key, country_names, edit_distance

# Question words that are never a party or an owner ("What did Croatia say…": Croatia, not What).
NOT_A_PARTY = frozenset(
    ("what", "how", "why", "did", "does", "do", "and", "who", "when", "where", "which", "has", "have", "is", "was")
)


# A chief executive, asked for by either name ("Who is the CEO of…", "Who is the chief executive of…").
_CHIEF_EXECUTIVE = r"ceos?|chief executives?(?: officers?)?"
# Offices and roles a question may ask the holder of ("Who is Albania's defence minister?"), each with the forms a
# sentence naming the holder uses ("minister" but not "ministry"; "founded" for a founder; "led" for a leader).
_ROLE_FORMS = {
    "president": r"presiden\w*",
    "premier": r"premier\w*",
    "minister": r"minister\w*",
    "secretary": r"secretar\w*",
    "chancellor": r"chancellor\w*",
    "king": r"kings?|kingdom",
    "queen": r"queens?",
    "emperor": r"emperors?|empress",
    "ruler": r"rul\w*|reign\w*",
    "ambassador": r"ambassador\w*|envoys?",
    "spokesman": r"spokes\w*",
    "spokeswoman": r"spokes\w*",
    "spokesperson": r"spokes\w*",
    "chief": r"chiefs?",
    "commander": r"command\w*",
    "governor": r"govern\w*",
    "mayor": r"mayor\w*",
    "chairman": r"chair\w*",
    "chairwoman": r"chair\w*",
    "chairperson": r"chair\w*",
    "director": r"direct\w*",
    "ceo": _CHIEF_EXECUTIVE,
    "chief executive": _CHIEF_EXECUTIVE,
    "leader": r"lead\w*|led",
    "official": r"officials?",
    "head": r"head\w*|chiefs?|lead\w*|led",
    "founder": r"found\w*|established|created",
    "author": r"author\w*|wr[io]te\w*|written",
    "editor": r"edit\w*",
    "owner": r"own\w*",
    "coach": r"coach\w*",
    "captain": r"captain\w*",
    "manager": r"manag\w*",
    "general": r"generals?",
}


def _role_group(name: str) -> str:
    """A regex group named ``name`` matching any role of ``_ROLE_FORMS`` as a question writes it ("ministers")."""
    return rf"(?P<{name}>" + "|".join(sorted(_ROLE_FORMS, key=len, reverse=True)) + r")s?"


# "Who is/was the … <role>", "what is the name of the … <role>", "which … <role>", "who heads/leads …".
_ASKS_FOR_HOLDER = re.compile(
    r"^\W*(?:who\s+(?:is|was|are|were|'s)\s+(?:the\s+)?(?:[\w’'-]+\s+){0,3}?" + _role_group("role") + r"\b"
    r"|(?:what\s+is|what's|what\s+was)\s+the\s+names?\s+of\s+(?:the\s+)?(?:[\w’'-]+\s+){0,3}?"
    + _role_group("role2")
    + r"\b"
    r"|which\s+(?:[\w’'-]+\s+){0,2}?" + _role_group("role3") + r"\b"
    r"|who\s+(?P<verb>heads|leads|chairs|runs|governs|rules)\b)",
    re.I,
)
# What a sentence naming the holder of each role holds.
_HOLDS_ROLE = {role: re.compile(r"\b(?:" + forms + r")\b", re.I) for role, forms in _ROLE_FORMS.items()}
# Offices specific enough that a statement by "Serbia's president" or "Greece's prime minister" must name the office:
# a leader, head, official or chief may be whoever the articles quote ("the Ukrainian leader": "President Zelensky"),
# and the forms of a commander, chair, director or general are common words ("command", "chair", "direct").
SPECIFIC_OFFICES = frozenset(
    (
        "president",
        "premier",
        "minister",
        "secretary",
        "chancellor",
        "king",
        "queen",
        "emperor",
        "ambassador",
        "spokesman",
        "spokeswoman",
        "spokesperson",
        "governor",
        "mayor",
        "ceo",
        "chief executive",
    )
)


def titled_words(sentence: str, titles: dict[str, frozenset[str]] | None = None) -> set[str]:
    """The lower-case words of ``sentence`` and the titles ``titles`` gives the names among them ("zelensky":
    ukrainian, president), for the checks that read who a sentence names."""
    words = set(re.findall(r"\w+", sentence.lower()))
    for word in list(words):
        words |= (titles or {}).get(word, frozenset())
    return words


def names_office(
    office: str, sentence: str, titles: dict[str, frozenset[str]] | None = None, question: str = ""
) -> bool:
    """Whether ``sentence`` holds a form of ``office`` ("ministers", not "ministry") or names someone ``titles``
    gives it elsewhere in the documents ("Zelensky": president). A deputy's title ("Deputy Prime Minister", "vice
    president") is another office, unless ``question`` asks for the deputy."""
    pattern = _HOLDS_ROLE[office]
    asked = _question_words(question)
    if any(not _subordinate(sentence, m.start(), asked) for m in pattern.finditer(sentence)):
        return True
    words = set(re.findall(r"\w+", sentence.lower()))
    return any(
        any(pattern.search(t) for t in held) and not held.intersection(_DEPUTY) - asked
        for held in ((titles or {}).get(w, frozenset()) for w in words)
    )


# "Who heads/leads/runs …": a sentence naming the one at the top of something.
_ANY_HEAD = re.compile(
    r"\b(?:"
    + "|".join(
        _ROLE_FORMS[r]
        for r in (
            "head",
            "president",
            "minister",
            "director",
            "chairman",
            "ceo",
            "commander",
            "secretary",
            "governor",
            "mayor",
            "king",
            "queen",
            "emperor",
            "ruler",
            "premier",
            "chancellor",
        )
    )
    + r")\b",
    re.I,
)


def asked_holder(question: str) -> re.Pattern[str] | None:
    """For a question that asks who holds an office or role ("Who is Albania's defence minister?", "which Croatian
    official…", "who heads…"), what a sentence naming the holder holds: the role in one of its forms; else None."""
    m = _ASKS_FOR_HOLDER.search(question)
    if m is None:
        return None
    if m.group("verb"):
        return _ANY_HEAD
    return _HOLDS_ROLE[(m.group("role") or m.group("role2") or m.group("role3")).lower()]


# A capitalised word qualifying an office in a sentence: "Ukrainian President", "Croatia's defence minister",
# "President of Ukraine" (the role's own words and "The" are not qualifiers).
_NAME_RUN = r"(?:[A-Z][\w’'-]*\s+)*[A-Z][\w’'-]*"
_QUALIFIER_BEFORE = re.compile(rf"(?<![\w’'-])({_NAME_RUN})\s+(?:[a-z][\w-]*\s+)?$")
_QUALIFIER_AFTER = re.compile(rf"^\w*\s+of\s+(?:the\s+)?({_NAME_RUN})")
_DEPUTY = ("vice", "deputy", "assistant")  # a deputy's title ("Vice Minister of Health"): no owner of the office
_NOT_AN_OWNER = STOP_WORDS | NOT_A_PARTY | frozenset(_DEPUTY)
_ABSTRACT_ROLE = re.compile(r"(?:ship|ncy|ing|ion|ed)$", re.I)  # leadership, presidency, ruling, direction, led


def names_holder(holder: re.Pattern[str], question: str, sentences: Sequence[str], context: Sequence[str] = ()) -> bool:
    """``sentences`` name the holder of the office ``question`` asks about: the role in one of its forms, unless
    the question says whose office it is ("the president of kosovo", "Albania's prime minister", "the Albanian
    prime minister") and the sentences qualify the role only by someone else ("Ukrainian President …"), also where
    they name the holder and ``context`` (the quotes' documents) qualifies that name ("President Zelensky", with
    "Ukrainian President Volodymyr Zelensky" elsewhere in the article): another office. Owners match by stem
    (Kosovo/Kosovar) or country (Greek/Greece). A deputy ("vice chairwoman", "Deputy Prime Minister") does not hold
    the office, unless the question asks for the deputy."""
    question = country_names(question)  # "United Kingdom": UK
    owners = _owners(question, holder)
    if not owners:  # whose office is not said: any mention of the role names its holder, but not a deputy's
        asked = _question_words(question)
        return any(not _subordinate(s, m.start(), asked) for s in sentences for m in holder.finditer(s))
    mentions = _owned_mentions(holder, question, owners, sentences, context)
    return bool(mentions) and not _only_another(mentions, owners)


def held_by_another(question: str, sentences: Sequence[str], context: Sequence[str] = ()) -> bool:
    """A question about what someone's office holder said or did ("What did Serbia's president say at the
    summit?") answered by quotes that name that office only as someone else's ("President Zelensky", the
    "Ukrainian President" of the article): a near-miss. Quotes that do not name the office are not judged (a
    "leader" may be quoted as "President …")."""
    question = country_names(question)
    for m in _ROLE_IN_QUESTION.finditer(question):
        holder = _HOLDS_ROLE[m.group("role").lower()]
        owners = _owners(question, holder)
        if owners and _only_another(_owned_mentions(holder, question, owners, sentences, context), owners):
            return True
    return False


# An office named anywhere in a question ("What did Serbia's president say…").
_ROLE_IN_QUESTION = re.compile(r"\b" + _role_group("role") + r"\b", re.I)


def _owned_mentions(
    holder: re.Pattern[str], question: str, owners: set[str], sentences: Sequence[str], context: Sequence[str]
) -> list[set[str]]:
    """Each mention of the role in ``sentences`` with the names qualifying it; an unqualified one followed by a name
    ("President Zelensky") takes the qualifiers that name has in ``context`` ("Ukrainian President Volodymyr
    Zelensky")."""
    asked = _question_words(question) - owners  # "defence", "prime", "vice"
    mentions = [m for s in sentences for m in _role_mentions(holder, country_names(s), asked)]
    wanted = {name for qualifiers, name in mentions if not qualifiers and name}
    elsewhere: dict[str, set[str]] = {}
    for text in context if wanted else ():
        for start, end in split_sentences(text):
            sentence = text[start:end]
            if any(name in sentence.lower() for name in wanted):
                for qualifiers, name in _role_mentions(holder, country_names(sentence), asked):
                    if name in wanted:
                        elsewhere.setdefault(name, set()).update(qualifiers)
    return [qualifiers or elsewhere.get(name, set()) for qualifiers, name in mentions]


def _only_another(mentions: Sequence[set[str]], owners: set[str]) -> bool:
    """Some mention of the role is qualified, and none by an owner the question names (an unqualified mention
    beside "Ukrainian President …" is read as that one)."""
    return any(mentions) and not any(same_name(w, o) for q in mentions for w in q for o in owners)


# The name after a role: "President Volodymyr Zelensky" (the holder; its last word is the name looked up).
_NAME_AFTER = re.compile(r"^\s+((?:[A-Z][\w’'-]*\s+)*[A-Z][\w’'-]*)")


def _role_mentions(holder: re.Pattern[str], sentence: str, asked: set[str]) -> list[tuple[set[str], str]]:
    """Each mention of the role in ``sentence`` with the names qualifying it (lower-cased, possessives and the
    ``asked`` words dropped: "Defence" in "Croatian Defence Minister" for "the Serbian defence minister") and the
    last word of the name after it ("zelensky"; "" where none follows)."""
    out = []
    for m in holder.finditer(sentence):
        if _subordinate(sentence, m.start(), asked):
            continue  # "vice chairwoman", "Deputy Prime Minister": another office
        before = _QUALIFIER_BEFORE.search(sentence[: m.start()])
        # "the President of Ukraine" names whose office; "under the leadership of Hassan", "the presidency of X"
        # name who holds it: only a word for the holder takes its owner after "of".
        after = None if _ABSTRACT_ROLE.search(m.group()) else _QUALIFIER_AFTER.search(sentence[m.end() :])
        if before and (between := sentence[before.end(1) : m.start()].split()) and between[0].lower() in STOP_WORDS:
            before = None  # "La Guardia as mayor": the holder, not whose office
        words = {_bare(w) for q in (before, after) if q is not None for w in q.group(1).split()}
        name = _NAME_AFTER.match(sentence[m.end() :]) if after is None else None
        out.append(
            (
                {w for w in words if w not in STOP_WORDS and w not in asked and not holder.fullmatch(w)},
                _bare(name.group(1).split()[-1]) if name else "",
            )
        )
    return out


def _question_words(question: str) -> set[str]:
    """The lower-case words of ``question`` ("vice", "prime", "defence")."""
    return {w.lower() for w in re.findall(r"[\w’'-]+", question)}


# A deputy's title before the role, perhaps with one of the office's own words between ("vice chairwoman",
# "Deputy Prime Minister", "assistant secretary"): the deputy does not hold the office.
_DEPUTY_BEFORE = re.compile(rf"\b({'|'.join(_DEPUTY)})(?:\s+|-)(?:[A-Za-z][\w’'-]*\s+)?$", re.I)


def _subordinate(sentence: str, start: int, asked: set[str]) -> bool:
    """The role at ``start`` in ``sentence`` is a deputy's ("vice chairwoman" for "Who is the chairman…?"), and the
    question (its words ``asked``) does not ask for the deputy ("Who is the vice president?")."""
    # Searched in place, not in a cut copy: a cut inside "service" or "advice" would read as "vice".
    m = _DEPUTY_BEFORE.search(sentence, max(0, start - 40), start)
    return m is not None and m.group(1).lower() not in asked


def _bare(word: str) -> str:
    """``word`` lower-cased, without a possessive ending ("Albania's": albania)."""
    return re.sub(r"['’]s?$", "", word.lower())


def _owners(question: str, holder: re.Pattern[str]) -> set[str]:
    """Whose office the question asks about, in the words next to the role: a name or possessive before it ("the
    Albanian prime minister", "Albania's defence minister"), a name after "of" ("the president of Kosovo"; any
    word, and any possessive, where the question is typed in lower case)."""
    casual = question == question.lower()
    out: set[str] = set()
    for m in holder.finditer(question):
        before = _QUALIFIER_BEFORE.search(question[: m.start()])
        if before and before.start() > 0:  # not the question's own first word
            out |= set(before.group(1).split())
        possessive = re.search(r"([\w-]+)['’]s?\s+(?:[a-z][\w-]*\s+)?$", question[: m.start()])
        if possessive and (casual or possessive.group(1)[0].isupper()):  # not "which city's mayor"
            out.add(possessive.group(1))
        after = _QUALIFIER_AFTER.search(question[m.end() :])
        if after:
            out |= set(after.group(1).split())
        elif casual and (typed := re.match(r"\w*\s+of\s+(?:the\s+)?([\w-]+)", question[m.end() :])):
            out.add(typed.group(1))
    return {w for w in map(_bare, out) if w and w not in _NOT_AN_OWNER and not holder.fullmatch(w)}


@lru_cache(maxsize=65536)  # pure; the stance check asks it for each party against each word of each candidate
def same_name(a: str, b: str) -> bool:
    """Two words for one name: the same country ("Greek", "Greece"; "American", "US"), stems equal or sharing all
    but the last letter of the shorter and at least five letters (Ukraine/Ukrainian, Kosovo/Kosovar), or a name
    typed one edit off, as ``qa.spelling`` corrects words: five letters or more, the first two as written
    ("Groner" for "Groener"; not Gambia/Zambia, Iceland/Ireland)."""
    if (key := country_key(a)) is not None and key == country_key(b):
        return True
    if min(len(a), len(b)) >= 5 and a[:2] == b[:2] and edit_distance(a, b, 1) <= 1:
        return True
    a, b = stem(a), stem(b)
    common = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    return a == b or common >= max(5, min(len(a), len(b)) - 1)
