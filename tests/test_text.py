from hypothesis import given
from hypothesis import strategies as st

from meldtekst.text import qualify, sentences, tokenize


def _q(text: str, phrase: str) -> str:
    i = text.index(phrase)
    return qualify(text, i, i + len(phrase))


def test_negation_hypothetical_other():
    assert _q("Er is gelukkig geen melding bij Veilig Thuis gedaan.", "melding bij Veilig Thuis") == "negated"
    assert _q("Ik ben bang dat ze ooit Veilig Thuis bellen.", "Veilig Thuis") == "hypothetical"
    assert _q("Bij mijn buurvrouw is een OTS uitgesproken.", "OTS") == "other"
    assert _q("School heeft een melding bij Veilig Thuis gedaan.", "melding bij Veilig Thuis") == "affirmed"


def test_negation_does_not_cross_clause():
    text = "Er was geen gesprek. Daarna deed school een melding bij Veilig Thuis."
    assert _q(text, "melding bij Veilig Thuis") == "affirmed"


def test_tokenize_dutch():
    assert tokenize("Hij zit thuis, sinds de herfstvakantie!") == [
        "hij",
        "zit",
        "thuis",
        "sinds",
        "de",
        "herfstvakantie",
    ]


def test_sentences_split_lists_and_map_offsets():
    text = "Wat er gebeurde:\n- 12 sept: gesprek met IB\n- 3/11 mail van directeur. Hij zit thuis!"
    ss = sentences(text)
    assert len(ss) >= 3
    for s in ss:
        assert text[s.start : s.end] == s.text


@given(st.text(max_size=300))
def test_sentence_offsets_always_point_into_input(text):
    for s in sentences(text):
        assert text[s.start : s.end] == s.text
        assert s.text.strip() == s.text
