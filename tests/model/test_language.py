"""The language gate: no English line refused (however short, shouted or foreign-flavoured), clear
foreign text refused with a reason, and the same answers from many threads at once."""

import dataclasses
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import given
from hypothesis import strategies as st

from model.language import ENGLISH, UNDETERMINED, LanguageGuess, detect

# Written by hand for these tests: what English-speaking travellers type.
TRICKY_ENGLISH = [
    # short answers
    "Denver.",
    "ok thx",
    "JFK to LAX tmrw",
    "2 ppl",
    "yes",
    "nope",
    "k",
    "sure!",
    "yep, that one",
    "the 3rd",
    "tmrw am",
    "Friday",
    "anywhere warm",
    "idk",
    "whenever",
    "same as before",
    "nah",
    "no that's all",
    # foreign place names, capitalized or not
    "from São Paulo to Montréal",
    "Zürich → Genève, Saturday",
    "Kraków to Gdańsk next wknd",
    "Guadalajara",
    "guadalajara",
    "Reykjavík",
    "Saint-Étienne to Aix-en-Provence",
    "Düsseldorf Köln München",
    "Ciudad de México",
    "Las Palmas de Gran Canaria",
    "Tegucigalpa San Pedro Sula",
    "Mérida Yucatán",
    "Oaxaca de Juárez",
    "los angeles",
    "san juan puerto rico",
    "rio de janeiro",
    "ciudad de mexico",
    "santa cruz de tenerife",
    "santiago de compostela",
    "playa del carmen",
    "bois de boulogne",
    "côte d'azur",
    "des moines",
    "the Hauptbahnhof in Frankfurt am Main",
    "Is the Frauenkirche near Dresden Hauptbahnhof?",
    "Tokyo Narita or Haneda?",
    # other scripts inside English
    "fly to 東京 tomorrow",
    "to Москва on monday",
    "Москва",
    # a foreign word or quote in an English sentence
    "quiero ir a Madrid... said my friend lol",
    "my friend said ich bin müde lol, anyway flights to Berlin?",
    "gracias! can you book the 9am one?",
    "Cancún por favor lol",
    "Merci! see you in Montreal",
    "bonjour! I need a flight to Quebec City",
    "danke, that's all",
    "ciao, one ticket to Roma Termini please",
    "Sí, the one at noon",
    "arigato! Osaka next week",
    "Bom dia, flights to Porto?",
    # codes, ALL CAPS, slang, misspellings
    "SFO",
    "BOS DEN",
    "LHR-CDG 12/03",
    "lax jfk mon",
    "I WANT TO FLY TO PARIS",
    "NEED 2 TIX TO VEGAS ASAP!!!",
    "SHOW ME FLIGHTS",
    "pls hlp",
    "wanna go 2 miami",
    "flihgt to chcago tomorow",
    "i ned a tiket frm boston",
    "cheepest flite to orlanda",
    "u got anything to nola?",
    "lemme get a seat to philly",
    # emoji, line breaks, no letters
    "✈️ to NYC 🗽 next fri 🙏",
    "🙂",
    "👍👍",
    "Hawaii 🌺🌴",
    "London\nthen Paris",
    "from boston\nto denver\nmonday",
    "",
    "  ",
    "12/25",
    "14:30",
]

CLEAR_NON_ENGLISH = [
    "quiero un vuelo de Madrid a Barcelona para mañana por la mañana",
    "QUIERO UN VUELO DE MADRID A BARCELONA PARA MAÑANA",
    "je voudrais réserver un billet de train pour Lyon demain",
    "ich möchte morgen früh nach Berlin fliegen",
    "vorrei prenotare un volo per Milano la prossima settimana",
    "queria reservar um voo para o Rio na sexta-feira",
    "ik wil morgen met de trein naar Utrecht",
    "jag vill boka en resa till Göteborg på fredag",
    "chciałbym kupić bilet do Warszawy na jutro",
    "yarın İstanbul'a uçmak istiyorum",
    "saya mau pesan tiket pesawat ke Bali besok",
    "tôi muốn đặt vé máy bay đi Đà Nẵng ngày mai",
    "haluan varata lennon Helsingistä Ouluun huomenna",
    "szeretnék repülőjegyet foglalni Budapestre holnapra",
    "я хочу купить билет на самолёт в Санкт-Петербург",
    "我想订一张明天去上海的机票",
    "明日の朝、東京から大阪までの新幹線を予約したいです",
    "내일 서울에서 부산으로 가는 기차표를 예약하고 싶어요",
    "أريد حجز رحلة إلى دبي غدا",
    "मुझे कल दिल्ली से मुंबई की फ्लाइट चाहिए",
    "Θέλω ένα εισιτήριο για την Αθήνα αύριο",
    "אני רוצה לטוס לתל אביב מחר",
    "ฉันต้องการจองตั๋วเครื่องบินไปเชียงใหม่",
]


@pytest.mark.parametrize("text", TRICKY_ENGLISH)
def test_tricky_english_is_never_refused(text: str) -> None:
    assert detect(text).is_english, detect(text)


@pytest.mark.parametrize("text", CLEAR_NON_ENGLISH)
def test_clear_non_english_is_refused(text: str) -> None:
    guess = detect(text)
    assert not guess.is_english, guess
    assert guess.language != ENGLISH
    assert guess.reason.endswith("the tagger reads English only")


def test_refusal_names_the_language_and_its_confidence() -> None:
    guess = detect("quiero un vuelo de Madrid a Barcelona para mañana por la mañana")
    assert guess.language == "es"
    assert guess.reason == (
        f"text reads as 'es' (confidence {guess.confidence:.2f}), not English; "
        "the tagger reads English only"
    )


@pytest.mark.parametrize(
    ("text", "script"),
    [
        ("я хочу купить билет на самолёт в Санкт-Петербург", "Cyrillic"),
        ("我想订一张明天去上海的机票", "CJK"),
        ("أريد حجز رحلة إلى دبي غدا", "Arabic"),
        ("मुझे कल दिल्ली से मुंबई की फ्लाइट चाहिए", "Devanagari"),
    ],
)
def test_non_latin_text_is_refused_naming_its_script(text: str, script: str) -> None:
    guess = detect(text)
    assert not guess.is_english
    assert guess.reason.startswith(f"text is mostly in {script} script (reads as ")


def test_two_foreign_words_are_too_few_to_refuse() -> None:
    # The price of never refusing "rio de janeiro": short foreign replies are let through.
    guess = detect("grazie mille!")
    assert (guess.language, guess.is_english) == ("it", True)
    assert guess.reason == "too few non-English words to judge"


def test_text_without_letters_is_undetermined() -> None:
    for text in ["", "   ", "12/25", "👍👍", "#42"]:
        assert detect(text) == LanguageGuess(UNDETERMINED, 0.0, True, "no letters to judge")


def test_nigerian_pidgin_counts_as_english() -> None:
    # py3langid alone says pcm 0.91 for this line.
    assert detect("arrive Shanghai on October 3rd").language == ENGLISH


def test_guess_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        detect("hello").is_english = False  # type: ignore[misc]


def test_non_str_input_is_a_type_error_naming_the_type() -> None:
    with pytest.raises(TypeError, match="^expected text as str, got bytes$"):
        detect(b"hola")  # type: ignore[arg-type]


def test_threads_get_the_answers_of_one_thread() -> None:
    texts = (TRICKY_ENGLISH + CLEAR_NON_ENGLISH) * 4
    serial = [detect(t) for t in texts]
    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(detect, texts)) == serial


@given(st.text(max_size=200))
def test_any_text_gets_a_probability_and_a_reason(text: str) -> None:
    guess = detect(text)
    assert 0.0 <= guess.confidence <= 1.0
    assert guess.reason
    assert guess == detect(text)


def test_threads_racing_on_the_first_call_load_one_identifier() -> None:
    from model import language

    language._load.cache_clear()
    with ThreadPoolExecutor(max_workers=8) as pool:
        identifiers = list(pool.map(lambda _: language._identifier(), range(8)))
    assert len({id(i) for i in identifiers}) == 1
    assert language._load.cache_info().misses == 1


def test_the_report_reads_english_sets_through_the_data_formats(tmp_path) -> None:
    from training.language_report import read_english

    path = tmp_path / "set.txt"
    path.write_text("# a comment\nfly to [dst Denver]\\nthen [date Friday]\n\n", encoding="utf-8")
    assert read_english(path) == ["fly to Denver\nthen Friday"]


def _sentence_starts_one_by_one(text: str) -> list[tuple[str, bool]]:
    """language._count_words's Latin words and whether each starts a sentence, as first
    written: the last non-space character carried from word to word (the oracle)."""
    from model.language import _SENTENCE_END, _WORD, _is_latin

    words, last, end = [], "\n", 0
    for match in _WORD.finditer(text):
        word = match.group()
        gap = text[end : match.start()].rstrip(" \t")
        last, end = (gap[-1] if gap else last), match.end()
        if _is_latin(word[0]):
            words.append((word, last in _SENTENCE_END))
        last = word[-1]
    return words


_TEXTS = st.text(alphabet=st.sampled_from(list("aZé7 .,!?\t\n¿¡'’-") + ["東", "Я", "ß", "…"]))


@given(_TEXTS)
def test_letter_and_sentence_counts_are_those_of_the_plain_loops(text: str) -> None:
    from model.language import _WORD, _is_latin, _letters, _letters_each, _starts_sentence

    assert _letters(text) == _letters_each(text)
    ascii_text = text.encode("ascii", "ignore").decode()
    assert _letters(ascii_text) == _letters_each(ascii_text)  # the shortcut for ASCII text
    words = [(m.group(), m.start()) for m in _WORD.finditer(text) if _is_latin(m.group()[0])]
    assert [(w, _starts_sentence(text, start)) for w, start in words] == (
        _sentence_starts_one_by_one(text)
    )
