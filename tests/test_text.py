import pytest
from hypothesis import given, settings
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


def _spacy_sentence_ranges(block: str) -> list[tuple[int, int]]:
    from meldtekst.text import nlp

    return [(s.start, s.end) for s in nlp()(block).sents]


def test_sentence_rule_equals_spacy_sentencizer_on_the_corpus(corpus_rows):
    from meldtekst.text import _sentence_tokens

    for row in corpus_rows[:300]:
        text = row["tekst"]
        assert _sentence_tokens(text)[1] == (_spacy_sentence_ranges(text) if text else [])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([*"ab .!?;…\n\"')(-:1", "Dr.", "e.g.", "...", "?!", "😀"]), max_size=40).map("".join))
def test_sentence_rule_equals_spacy_sentencizer_property(text):
    from meldtekst.text import _sentence_tokens

    tokens, ranges = _sentence_tokens(text)
    assert ranges == (_spacy_sentence_ranges(text) if tokens else [])


GENERIC_CASES = [
    ("Scholen doen dan vaak een melding bij Veilig Thuis.", "melding"),
    ("Veel ouders krijgen te maken met een melding bij Veilig Thuis.", "melding"),
    ("Het komt voor dat een school dreigt met een melding.", "melding"),
    ("Ouders die ons bellen, vertellen over een schorsing.", "schorsing"),
    ("In veel gevallen volgt dan een ondertoezichtstelling.", "ondertoezichtstelling"),
    ("Doorgaans wordt de leerplichtambtenaar ingeschakeld.", "leerplichtambtenaar"),
    ("Duizenden kinderen zitten thuis zonder passend onderwijs.", "thuis"),
    ("Gemeenten schuiven de zorgplicht meestal door naar het samenwerkingsverband.", "zorgplicht"),
]
CASE_AT_HAND = [
    ("De school heeft een melding bij Veilig Thuis gedaan.", "melding"),
    ("Hij werd vaak gepest en toen kwam er een melding.", "melding"),
    ("Onze zoon is vaak geschorst dit jaar.", "geschorst"),
    ("Meestal zit ze thuis op maandag.", "thuis"),
]


@pytest.mark.parametrize(("text", "phrase"), GENERIC_CASES)
def test_generic_statements(text, phrase):
    assert _q(text, phrase) == "generic"
    i = text.index(phrase)
    assert qualify(text, i, i + len(phrase), generic=False) != "generic"  # models of the old qualifier set


@pytest.mark.parametrize(("text", "phrase"), CASE_AT_HAND)
def test_the_case_at_hand_is_not_generic(text, phrase):
    assert _q(text, phrase) == "affirmed"


def test_generic_qualifier_is_a_feature_and_old_models_keep_four():
    from meldtekst.features import CodebookFeatures
    from meldtekst.text import QUALIFIERS_V1

    assert "generic" in CodebookFeatures().qualifiers
    assert CodebookFeatures(qualifiers=QUALIFIERS_V1).qualifiers == list(QUALIFIERS_V1)
