"""Language detection: is a text English, so that the tagger (which reads English only) may tag it?

Built on py3langid (its model ships inside the package), with a decision rule that refuses only
when sure: English travel text is short, lowercase, misspelled and full of foreign place names,
and refusing an English line costs more than tagging a foreign one. No torch here.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier  # type: ignore[import-untyped]

ENGLISH = "en"
UNDETERMINED = "und"
# Labels counted as English: py3langid's Nigerian Pidgin (pcm) is English-lexified and takes
# plain English travel lines ("arrive Shanghai on October 3rd": pcm 0.91, en 0.09).
ENGLISH_LABELS = frozenset({"en", "pcm"})

# ----- decision thresholds -----
# Chosen by hand on the English lines of data/dev.txt and data/test.txt (837), those of
# tests/model/test_language.py plus 40 bare place names, and data/non_english.tsv (320
# lines, 16 languages); `python -m training.language_report` measures them. The conversation
# sets (data/conv_*.txt, 1,140 English turns) were not looked at: they are the held-out check
# (none refused). Each refusal of a
# Latin-script text needs all four of:
#
# enough foreign words: Latin-script words that are not English words, not name particles and
# not names (capitalized inside a sentence, short ALL-CAPS codes, a list of capitalized words).
# At 2, 11 English lines were refused ("san juan puerto rico", "guadalajara"); at 4, 33 more
# foreign lines were let through than at 3.
MIN_FOREIGN_WORDS = 3
# ... and letters in them (also the least non-Latin letters, see WIDE_LETTER_WEIGHT).
MIN_FOREIGN_LETTERS = 10
# English words under this share of the words that count ("quiero ir a Madrid... said my friend
# lol" is 4 English of 7 and passes; "ile to kosztuje bilet do Berlina", 1 of 5, does not).
ENGLISH_WORD_SHARE = 0.25
# The identifier's probability of English at most this (normalized probabilities; py3langid 0.4
# divides scores by sqrt(bytes), so short texts get flat distributions). English lines that get
# this far score 0.098 or more ("madrid barcelona train 14 feb"); most foreign ones under 0.04.
# 0.1 would refuse 3 more foreign lines with no margin left.
MAX_ENGLISH_PROBABILITY = 0.05
# ... and its best other language at least this: a flat guess over look-alike languages
# ("xe khach ha noi sapa": 'an', 0.09) is no evidence.
MIN_CONFIDENCE = 0.1
# A text whose letters are mostly in a non-Latin script (Cyrillic, CJK, Arabic, Devanagari...)
# is not English, whatever the identifier says, unless its English words say otherwise
# ("fly to 東京 tomorrow").
NON_LATIN_SHARE = 0.5
# A Chinese character, kana or hangul syllable counts as this many letters: it carries about a
# syllable, where a Latin letter carries a sound.
WIDE_LETTER_WEIGHT = 2

# Words that are English and, as typed, not a common word of the languages users write instead:
# "a", "in", "me", "no", "on", "is", "am", "was", "do", "we", "will", "by", "week", "also"... are
# left out (German, Dutch, Polish, Swedish, French, Spanish, Portuguese use them).
_ENGLISH_WORDS = """
    the to from and for of at with without about into onto out up off over after before between
    around near than then just only here there it it's its be been being were are have has had
    does don't doesn't can't won't isn't i'm i'd i'll i've you you're your yours we're our ours
    my he she they them him her his what what's when where which who why how any some this that
    these those next other another each every much many more most please pls plz not but if
    said say says tell told thanks thank thx ty yes yeah yep yup nope nah sure okay hi hello hey
    sorry cheers great good want wanna need needs needed would could can should get got gonna
    gotta lemme gimme book booking go going goes went leave leaving leaves arrive arriving arrival
    arrivals depart departing departure departures return returning fly flying flies flight
    flights travel traveling travelling take taking make find show looking look like know help
    change cancel check stay ticket tickets seat seats window aisle airport airline airlines
    nonstop layover trip round way one two three people ppl adults kids children family friend
    friends mom dad wife husband brother sister daughter time price fare cheap cheaper cheapest
    earliest latest first last early late morning afternoon evening night tonight tonite today
    tomorrow tmrw tmr tmw yesterday day days weeks month hours noon midnight home back work
    meeting wedding rental rentals downtown city lol idk asap that's there's it'll let's heading
    headed breakfast lunch dinner included served transportation shuttle luggage baggage bags
    monday tuesday wednesday thursday friday saturday sunday tue tues wed thu thur thurs fri sat
    sun january february march may june july october
"""
ENGLISH_WORDS = frozenset(_ENGLISH_WORDS.split())
# Lowercase words inside place names ("rio de janeiro", "san juan", "ciudad de mexico",
# "frankfurt am main"): evidence of no language.
_NAME_PARTICLES = """
    de del della di da das dos do du des la las los le les el al y san santa santo são sao saint
    sainte st ste rio río puerto porto ciudad nueva nuevo nova novo am an der sur
"""
NAME_PARTICLES = frozenset(_NAME_PARTICLES.split())
_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")
_SENTENCE_END = frozenset(".!?…\n")
_CODE_LETTERS = 4  # "JFK", "NYC", "LAX", "YYZ", "BKK"; all caps and no longer than this
_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class LanguageGuess:
    """What :func:`detect` found.

    ``language`` and ``confidence`` are the identifier's best guess (an ISO 639 code, "und" when
    the text has no letters) and its probability, except for a text that English words decide:
    that one is "en" with the share of its words that are English, and the identifier is not
    run (most traffic is English; the identifier is most of the cost). ``is_english`` is the
    decision, which gives
    short and name-only texts the benefit of the doubt (``"Denver."`` reads as Swedish, 0.02, and
    is English). ``reason`` says why, in a sentence a response can carry.
    """

    language: str
    confidence: float
    is_english: bool
    reason: str


def detect(text: str) -> LanguageGuess:
    """Guess the language of ``text`` and decide whether it is English enough to tag.

    Thread-safe; the identifier loads once, on the first call.

    Args:
        text: any text, as a user typed it.

    Returns:
        The guess; ``is_english`` is False only when the text is confidently something else.

    Raises:
        TypeError: ``text`` is not a str.
    """
    if not isinstance(text, str):
        raise TypeError(f"expected text as str, got {type(text).__name__}")
    latin, wide, other, script = _letters(text)
    if latin + wide + other == 0:
        return LanguageGuess(UNDETERMINED, 0.0, True, "no letters to judge")
    english_words, foreign_words, foreign_letters, non_latin_words = _count_words(text)
    counted = english_words + foreign_words + non_latin_words
    if english_words and english_words >= ENGLISH_WORD_SHARE * counted:
        return LanguageGuess(ENGLISH, round(english_words / counted, 4), True, "English words")
    language, confidence, english = _identify(text)
    non_latin = wide * WIDE_LETTER_WEIGHT + other
    if non_latin > NON_LATIN_SHARE * (non_latin + latin):
        if non_latin < MIN_FOREIGN_LETTERS:
            return LanguageGuess(language, confidence, True, f"too little {script} text to judge")
        return LanguageGuess(
            language,
            confidence,
            False,
            f"text is mostly in {script} script (reads as {language!r}); "
            "the tagger reads English only",
        )
    if foreign_words < MIN_FOREIGN_WORDS or foreign_letters < MIN_FOREIGN_LETTERS:
        return LanguageGuess(language, confidence, True, "too few non-English words to judge")
    if language == ENGLISH or english > MAX_ENGLISH_PROBABILITY or confidence < MIN_CONFIDENCE:
        return LanguageGuess(language, confidence, True, "not confidently another language")
    return LanguageGuess(
        language,
        confidence,
        False,
        f"text reads as {language!r} (confidence {confidence:.2f}), not English; "
        "the tagger reads English only",
    )


@cache
def _load() -> LanguageIdentifier:
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def preload() -> None:
    """Load the identifier's model in a background thread (most of the 0.5 s it takes is LZMA
    decompression, which releases the GIL), so that a server starts without waiting for it; a
    :func:`detect` that needs it meanwhile waits for it."""
    if not _load.cache_info().currsize:
        threading.Thread(target=_identifier, name="langid-load", daemon=True).start()


def _identifier() -> LanguageIdentifier:
    # functools.cache may run _load twice when two threads race on the first call; the lock makes
    # it once, and is taken only until then (detect runs on every request). The identifier is
    # read-only afterwards (set_languages is never called).
    if _load.cache_info().currsize:
        return _load()
    with _LOCK:
        return _load()


def _identify(text: str) -> tuple[str, float, float]:
    """(best label, its probability, probability of English), pcm counted as English."""
    scores: list[tuple[str, float]] = _identifier().rank(text)  # best first
    english = sum(p for label, p in scores if label in ENGLISH_LABELS)
    label, p = next((label, p) for label, p in scores if label not in ENGLISH_LABELS)
    if english >= p:
        return ENGLISH, english, english
    return label, p, english


def _letters(text: str) -> tuple[int, int, int, str]:
    """(Latin letters, wide letters, other letters, the first non-Latin script's name)."""
    if text.isascii():  # every letter is Latin (most traffic): counted without a loop
        return sum(map(str.isalpha, text)), 0, 0, ""
    return _letters_each(text)


def _letters_each(text: str) -> tuple[int, int, int, str]:
    """:func:`_letters` one character at a time, for any text."""
    latin = wide = other = 0
    script = ""
    for c in text:
        if not c.isalpha():
            continue
        if _is_latin(c):
            latin += 1
            continue
        if _is_wide(c):
            wide += 1
        else:
            other += 1
        if not script:
            name = unicodedata.name(c, "UNKNOWN").split()[0]  # "CYRILLIC", "CJK", "HIRAGANA"
            script = name if len(name) <= _CODE_LETTERS else name.title()
    return latin, wide, other, script


def _count_words(text: str) -> tuple[int, int, int, int]:
    """(English words, foreign words, letters in those, words in a non-Latin script)."""
    if text.isupper():
        text = text.lower()  # ALL CAPS hides which words are names
    matches = list(_WORD.finditer(text))
    words = [(m.group(), m.start()) for m in matches if _is_latin(m.group()[0])]  # Latin script
    non_latin = len(matches) - len(words)
    lowered = [w.lower().replace("’", "'") for w, _ in words]
    english = sum(w in ENGLISH_WORDS for w in lowered)
    # A list of capitalized words ("Düsseldorf Köln München", "Ciudad de México") is names.
    name_list = all(w[0].isupper() or w.lower() in NAME_PARTICLES for w, _ in words)
    foreign = [
        w
        for (w, start), low in zip(words, lowered, strict=True)
        if low not in ENGLISH_WORDS
        and low not in NAME_PARTICLES
        and not name_list
        and not (w[0].isupper() and not _starts_sentence(text, start))
        and not (w.isupper() and len(w) <= _CODE_LETTERS)
    ]
    return english, len(foreign), sum(len(w) for w in foreign), non_latin


def _starts_sentence(text: str, start: int) -> bool:
    """Whether the word at ``start`` begins the text or follows a sentence end (spaces and tabs
    between them aside). Asked only of capitalized foreign-looking words: most words never are."""
    before = text[:start].rstrip(" \t")
    return (before[-1] if before else "\n") in _SENTENCE_END


def _is_latin(c: str) -> bool:
    o = ord(c)
    # Basic Latin to Latin Extended-B, IPA; Latin Extended Additional (Vietnamese)
    return o < 0x2B0 or 0x1E00 <= o <= 0x1EFF


def _is_wide(c: str) -> bool:
    o = ord(c)
    # CJK radicals to CJK ideographs (kana included), hangul syllables, CJK compatibility
    return 0x2E80 <= o <= 0x9FFF or 0xAC00 <= o <= 0xD7AF or 0xF900 <= o <= 0xFAFF
