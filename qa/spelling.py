"""Question words as people type them, matched against the index's own vocabulary.

- **Misspellings** ("recruting" → "recruiting").

Only a word that is neither in the index nor an English word (a whole word of the bundled model's vocabulary:
"company" is a word even where no article says it, "recruting" is not) is corrected, and only to a term the
index holds that is one edit away
(two for words of seven letters or more), a swap of neighbouring letters counting as one edit; among several,
the one found in most chunks wins. The first two letters are taken as typed (they are rarely the mistake, and
they bound the search to one range of the vocabulary). Where no indexed term is that close, an English word within
the same edits whose stem the index holds is taken ("recruitmnt" → "recruitment", whose stem "recruit" the articles
use as "recruiting").
- **British and American spellings** ("defence" → "defense", "programme" → "program", "recognise" →
  "recognize", and back): a word the index lacks whose other spelling it holds is read as that spelling.
- **Abbreviations of a few names** ("US", "U.S.", "UK", "EU", "UN"): read as the name ("United States") where the
  documents write only the name; matched as capitals, since "us" is also a pronoun.
- **Chat spellings of function words** ("wat", "abt", "dont"): read as the words they stand for, so that they are
  not searched for as content words no article holds (which made "wat did croatia say abt …" look unanswered).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path

from index.embedding import bundled_model_path

MIN_LENGTH = 5  # shorter words are too easily "corrected" into another word

# Informal spellings of function words and of a few standard abbreviations, as typed in a chat; read so only where
# the documents do not use the word themselves. The function words among them are stop words once read.
CASUAL = {
    "wat": "what",
    "wot": "what",
    "wut": "what",
    "whats": "what is",
    "wich": "which",
    "whch": "which",
    "hows": "how is",
    "wheres": "where is",
    "whos": "who is",
    "abt": "about",
    "ur": "your",
    "pls": "please",
    "plz": "please",
    "cuz": "because",
    "coz": "because",
    "bc": "because",
    "thx": "thanks",
    "tho": "though",
    "dont": "do not",
    "doesnt": "does not",
    "didnt": "did not",
    "isnt": "is not",
    "arent": "are not",
    "wasnt": "was not",
    "werent": "were not",
    "havent": "have not",
    "hasnt": "has not",
    "wouldnt": "would not",
    "couldnt": "could not",
    "shouldnt": "should not",
    "gonna": "going to",
    "wanna": "want to",
    "govt": "government",
    "dept": "department",
}

# Names news articles write either in full or abbreviated; an abbreviation in a question is read as the name where the
# documents do not use the abbreviation (it was a stop word, "us", or a term no article holds).
ABBREVIATIONS = {
    "US": "United States",
    "U.S.": "United States",
    "USA": "United States",
    "U.S.A.": "United States",
    "UK": "United Kingdom",
    "U.K.": "United Kingdom",
    "EU": "European Union",
    "UN": "United Nations",
    "U.N.": "United Nations",
}
# Names of a country that share no stem with it ("Greek"/"Greece", "British"/"United Kingdom"), lower-cased, each
# with one key per country; the regular ones ("Croatian"/"Croatia", "Ukrainian"/"Ukraine") are matched by stem.
_COUNTRY_KEYS = {
    "us": ("us", "usa", "america", "american", "americans"),
    "uk": ("uk", "britain", "british", "english", "england", "scottish", "scotland", "welsh", "wales", "briton"),
    "greece": ("greece", "greek", "greeks", "hellenic"),
    "spain": ("spain", "spanish", "spaniard", "spaniards"),
    "serbia": ("serbia", "serb", "serbs", "serbian", "serbians"),
    "croatia": ("croatia", "croat", "croats", "croatian", "croatians"),
    "turkey": ("turkey", "turkish", "turk", "turks", "türkiye"),
    "poland": ("poland", "polish", "pole", "poles"),
    "denmark": ("denmark", "danish", "dane", "danes"),
    "sweden": ("sweden", "swedish", "swede", "swedes"),
    "finland": ("finland", "finnish", "finn", "finns"),
    "norway": ("norway", "norwegian", "norwegians"),
    "ireland": ("ireland", "irish"),
    "france": ("france", "french"),
    "netherlands": ("netherlands", "dutch", "holland"),
    "switzerland": ("switzerland", "swiss"),
    "cyprus": ("cyprus", "cypriot", "cypriots"),
    "czechia": ("czechia", "czech", "czechs"),
    "china": ("china", "chinese"),
    "japan": ("japan", "japanese"),
    "iraq": ("iraq", "iraqi", "iraqis"),
    "thailand": ("thailand", "thai"),
    "philippines": ("philippines", "filipino", "filipinos", "philippine"),
    "kosovo": ("kosovo", "kosovar", "kosovars", "kosovan"),
}
_COUNTRY_OF_NAME = {name: key for key, names in _COUNTRY_KEYS.items() for name in names}
_COUNTRY_PHRASE = re.compile(
    r"\b(?:the\s+)?(United\s+States(?:\s+of\s+America)?|United\s+Kingdom|Great\s+Britain)\b", re.I
)


def country_key(word: str) -> str | None:
    """One key for the names of a country that share no stem ("Greek", "Greece": greece; "US", "American": us), or
    None for other words (``country_names`` first rewrites "United States" and "United Kingdom" as one word)."""
    return _COUNTRY_OF_NAME.get(word.lower())


def country_names(text: str) -> str:
    """``text`` with the two-word country names written as one word ("United States": USA), for ``country_key``."""
    return _COUNTRY_PHRASE.sub(lambda m: "USA" if m.group(1).lower().startswith("united s") else "UK", text)


# Capitals that news writes for their governments ("Washington welcomed the pact", "Pristina plans…"): read as the
# country where the documents do not name the city. One name per country; left out where the name is a common word
# ("Male", "Victoria"), holds the country's own name ("Mexico City", "Luxembourg") or stands for several bodies
# ("Brussels": the EU, NATO, Belgium).
CAPITALS = {
    "Washington": "United States",
    "Ottawa": "Canada",
    "London": "United Kingdom",
    "Dublin": "Ireland",
    "Paris": "France",
    "Berlin": "Germany",
    "Madrid": "Spain",
    "Lisbon": "Portugal",
    "Rome": "Italy",
    "Vienna": "Austria",
    "Bern": "Switzerland",
    "Amsterdam": "Netherlands",
    "Copenhagen": "Denmark",
    "Oslo": "Norway",
    "Stockholm": "Sweden",
    "Helsinki": "Finland",
    "Reykjavik": "Iceland",
    "Tallinn": "Estonia",
    "Riga": "Latvia",
    "Vilnius": "Lithuania",
    "Warsaw": "Poland",
    "Prague": "Czech Republic",
    "Bratislava": "Slovakia",
    "Budapest": "Hungary",
    "Ljubljana": "Slovenia",
    "Zagreb": "Croatia",
    "Sarajevo": "Bosnia",
    "Belgrade": "Serbia",
    "Podgorica": "Montenegro",
    "Pristina": "Kosovo",
    "Prishtina": "Kosovo",
    "Skopje": "North Macedonia",
    "Tirana": "Albania",
    "Athens": "Greece",
    "Sofia": "Bulgaria",
    "Bucharest": "Romania",
    "Chisinau": "Moldova",
    "Kyiv": "Ukraine",
    "Kiev": "Ukraine",
    "Minsk": "Belarus",
    "Moscow": "Russia",
    "Ankara": "Turkey",
    "Nicosia": "Cyprus",
    "Valletta": "Malta",
    "Tbilisi": "Georgia",
    "Yerevan": "Armenia",
    "Baku": "Azerbaijan",
    "Tehran": "Iran",
    "Baghdad": "Iraq",
    "Damascus": "Syria",
    "Beirut": "Lebanon",
    "Amman": "Jordan",
    "Riyadh": "Saudi Arabia",
    "Cairo": "Egypt",
    "Tripoli": "Libya",
    "Tunis": "Tunisia",
    "Algiers": "Algeria",
    "Rabat": "Morocco",
    "Khartoum": "Sudan",
    "Addis Ababa": "Ethiopia",
    "Nairobi": "Kenya",
    "Abuja": "Nigeria",
    "Pretoria": "South Africa",
    "Kabul": "Afghanistan",
    "Islamabad": "Pakistan",
    "New Delhi": "India",
    "Delhi": "India",
    "Beijing": "China",
    "Taipei": "Taiwan",
    "Tokyo": "Japan",
    "Seoul": "South Korea",
    "Pyongyang": "North Korea",
    "Hanoi": "Vietnam",
    "Bangkok": "Thailand",
    "Jakarta": "Indonesia",
    "Manila": "Philippines",
    "Canberra": "Australia",
    "Wellington": "New Zealand",
    "Brasilia": "Brazil",
    "Buenos Aires": "Argentina",
    "Caracas": "Venezuela",
    "Bogota": "Colombia",
    "Havana": "Cuba",
    "Astana": "Kazakhstan",
    "Tashkent": "Uzbekistan",
}
_CAPITAL = re.compile(r"\b(" + "|".join(re.escape(k) for k in sorted(CAPITALS, key=len, reverse=True)) + r")\b", re.I)
_COUNTRY_OF_CAPITAL = {capital.lower(): country for capital, country in CAPITALS.items()}
_ABBREVIATION = re.compile(
    r"(?<![\w.])(" + "|".join(re.escape(k) for k in sorted(ABBREVIATIONS, key=len, reverse=True)) + r")(?!\w)"
)


def abbreviations(text: str) -> list[str]:
    """The abbreviated names of ``ABBREVIATIONS`` that ``text`` writes (in capitals, as written), in order."""
    return list(dict.fromkeys(m.group(1) for m in _ABBREVIATION.finditer(text)))


def capitals(text: str) -> dict[str, str]:
    """The capitals of ``CAPITALS`` that ``text`` writes (in any case, as written), each with its country."""
    return {m.group(1): _COUNTRY_OF_CAPITAL[m.group(1).lower()] for m in _CAPITAL.finditer(text)}


# Country and capital names written as one word, lower-cased ("hungary", "budapest", "greek"): names in any case.
_PLACE_WORDS = frozenset([w.lower() for w in [*CAPITALS, *CAPITALS.values()] if " " not in w] + list(_COUNTRY_OF_NAME))
_WORD_OF_A_NAME = re.compile(r"[^\W\d_]+")
_SENTENCE_START = re.compile(r"(?:^|[.!?:;]\s+|[\"“(]\s*)$")


def names_written(text: str) -> list[str]:
    """The names of ``text``, as written: words capitalised where a sentence does not start ("Did Erdogan attend?",
    "the Luxembourg-based bank"), or a country or capital in any case ("is hungary in the pact"); such words next to
    each other are one name ("Lockheed Martin"). Each once, in order. A word of one or two letters ("I", "EU"…) is
    left out."""
    out: dict[str, None] = {}
    name: list[str] = []
    last_end = -1
    for m in _WORD_OF_A_NAME.finditer(text):
        word = m.group(0)
        if len(word) > 2 and (
            word.lower() in _PLACE_WORDS or (word[0].isupper() and not _SENTENCE_START.search(text[: m.start()]))
        ):
            if name and not text[last_end : m.start()].isspace():
                out.setdefault(" ".join(name), None)
                name = []
            name.append(word)
            last_end = m.end()
        elif name:
            out.setdefault(" ".join(name), None)
            name = []
    if name:
        out.setdefault(" ".join(name), None)
    return list(out)


_COUNTRY_IN_FULL = {"us": "United States", "uk": "United Kingdom"}


def same_country(word: str) -> tuple[str, ...]:
    """The other names of ``word``'s country that share no stem with it ("american": us, usa, america…, United
    States; "greek": greece, greeks…), or () for a word that is no such name."""
    key = country_key(word)
    if key is None:
        return ()
    return (*_COUNTRY_KEYS[key], *([_COUNTRY_IN_FULL[key]] if key in _COUNTRY_IN_FULL else []))


# British spellings and their American forms (and back), as (pattern, replacement) on a lower-case word: "defence",
# "licence"; "recognise", "organisation", "analyse"; "labour", "neighbouring"; "centre"; "programme";
# "travelled"; "catalogue".
_SPELLING_VARIANTS = (
    (re.compile(r"ence(s)?$"), r"ense\1"),
    (re.compile(r"ense(s)?$"), r"ence\1"),
    (re.compile(r"is(e|ed|es|ing|ation|ations|er|ers)$"), r"iz\1"),
    (re.compile(r"iz(e|ed|es|ing|ation|ations|er|ers)$"), r"is\1"),
    (re.compile(r"ys(e|ed|es|ing)$"), r"yz\1"),
    (re.compile(r"yz(e|ed|es|ing)$"), r"ys\1"),
    (re.compile(r"our(s|ed|ing|ite|ites|able|hood|hoods|er|ers)?$"), r"or\1"),
    (re.compile(r"(?<=[^aeiou])or(s|ed|ing|ite|ites|able|hood|hoods)?$"), r"our\1"),
    (re.compile(r"tre(s|d)?$"), r"ter\1"),
    (re.compile(r"ter(s|ed)?$"), r"tre\1"),
    (re.compile(r"mme(s|d)?$"), r"m\1"),
    (re.compile(r"(?<=gra)m(s|ed)?$"), r"mme\1"),
    (re.compile(r"(?<=[aeiou])ll(ed|ing|er|ers)$"), r"l\1"),
    (re.compile(r"(?<=[aeiou])l(ed|ing|er|ers)$"), r"ll\1"),
    (re.compile(r"ogue(s)?$"), r"og\1"),
    (re.compile(r"og(s)?$"), r"ogue\1"),
)


def spelling_variants(word: str) -> list[str]:
    """The other spellings of a lower-case ``word`` (British and American): "defence" → ["defense"]; none for most
    words."""
    out = []
    for pattern, replacement in _SPELLING_VARIANTS:
        other = pattern.sub(replacement, word, count=1)
        if other != word and other not in out:
            out.append(other)
    return out


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance between ``a`` and ``b`` (insert, delete, substitute, swap neighbours),
    or ``limit + 1`` as soon as it must exceed ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = ca != cb
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                value = min(value, previous2[j - 2] + 1)
            current[j] = value
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


@lru_cache(maxsize=1)
def known_words() -> frozenset[str]:
    """The whole words of the bundled model's word-piece vocabulary (about 20,000 common English words)."""
    lines = (Path(bundled_model_path()) / "vocab.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(w for w in lines if w.isalpha())


@lru_cache(maxsize=1024)
def known_words_with_prefix(prefix: str) -> tuple[str, ...]:
    """The ``known_words`` that start with ``prefix``."""
    return tuple(sorted(w for w in known_words() if w.startswith(prefix)))


def allowed_edits(term: str) -> int:
    return 1 if len(term) < 7 else 2


def best_correction(term: str, vocabulary: Sequence[tuple[str, int]]) -> str | None:
    """The closest term of ``vocabulary`` ((term, chunk count) pairs) within the allowed edits, or None."""
    if len(term) < MIN_LENGTH or not term.isalpha():
        return None
    limit = allowed_edits(term)
    best: tuple[int, int, str] | None = None
    for candidate, count in vocabulary:
        if candidate == term:
            return None
        distance = edit_distance(term, candidate, limit)
        if distance <= limit and (best is None or (distance, -count) < (best[0], -best[1])):
            best = (distance, count, candidate)
    return best[2] if best else None


def nearest(typed: str, candidates: Sequence[str | None]) -> str | None:
    """Of the corrections proposed for ``typed`` (None: none), the one fewest edits from it; the first on a tie."""
    found = [c for c in candidates if c]
    return min(found, key=lambda c: edit_distance(typed, c, len(typed) + len(c))) if found else None


# Two words a compound may be written as ("cyber attacks", "cyber-attacks" for "cyberattacks"): parts of three
# letters or more, between them only a space or a hyphen.
COMPOUND_PAIR = re.compile(r"([^\W\d_]{3,})(\s|-)(?=([^\W\d_]{3,}))")
MIN_COMPOUND_PART = 3


def respell(text: str, corrections: dict[str, str]) -> str:
    """``text`` with each corrected word (or pair of words written for one compound) replaced, whole words; a pair is
    replaced before its words. A lower-case key matches in any case; a key with capitals ("US") only as written."""
    if not corrections:
        return text
    keys = sorted(corrections, key=len, reverse=True)
    alternatives = [re.escape(k) if k != k.lower() else f"(?i:{re.escape(k)})" for k in keys]
    pattern = re.compile(r"(?<!\w)(" + "|".join(alternatives) + r")(?!\w)")
    return pattern.sub(lambda m: corrections.get(m.group(0)) or corrections[m.group(0).lower()], text)


Lookup = Callable[[str], Sequence[tuple[str, int]]]
