import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meldtekst.codebook import load_codebook

SPEC = Path(__file__).resolve().parents[2] / "shared" / "spec" / "themes.md"
SPEC_IDS = [
    "handelingsverlegenheid",
    "geen_passend_aanbod",
    "thuiszitter",
    "schorsing_verwijdering",
    "conflict_vertrouwensbreuk",
    "onveilige_situatie",
    "drang_hulpverlening",
    "dreiging_vt_melding",
    "vt_melding",
    "leerplicht_handhaving",
    "kinderbeschermingsmaatregel",
    "maatregel_onterecht",
    "hoogbegaafdheid",
    "autisme",
    "adhd",
    "leerstoornis",
    "angst_trauma",
    "lichamelijk_motorisch",
    "sector_onderwijs",
    "sector_jeugdhulp_zorg",
    "sector_vrije_tijd",
    "eerdere_melding_genegeerd",
]


def test_ids_match_spec_exactly_and_in_order():
    cb = load_codebook()
    assert list(cb.ids) == SPEC_IDS
    assert cb.version == 1


def test_ids_match_shared_spec_file_when_present():
    if not SPEC.is_file():
        pytest.skip(f"the shared spec {SPEC} is not checked out beside this repository")
    ids = re.findall(r"^\| ([a-z_]+) \|", SPEC.read_text(encoding="utf-8"), flags=re.M)
    ids = [i for i in ids if i != "id"]
    assert ids == list(load_codebook().ids)


def test_every_theme_is_complete():
    cb = load_codebook()
    for t in cb.themes:
        assert t.group in cb.groups
        assert t.name and t.definition and t.keywords and t.voorbeelden


def test_keywords_match_own_examples():
    cb = load_codebook()
    misses = [(t.id, v) for t in cb.themes for v in t.voorbeelden if not cb.keyword_patterns[t.id].search(v)]
    # examples are partly keyword-free on purpose; most must still match
    assert len(misses) <= len(cb), misses


def test_order_drops_unknown_and_sorts():
    cb = load_codebook()
    assert cb.order(["autisme", "thuiszitter", "bogus"]) == ["thuiszitter", "autisme"]


def _full_scan(text: str) -> dict:
    from meldtekst.codebook import load_codebook
    from meldtekst.text import qualify

    out = {}
    for theme, pattern in load_codebook().keyword_patterns.items():
        hits = [(m.start(), m.end(), qualify(text, m.start(), m.end())) for m in pattern.finditer(text)]
        if hits:
            out[theme] = hits
    return out


def test_anchored_keyword_matching_equals_a_full_scan(corpus_rows):
    from meldtekst.features import keyword_matches

    for row in corpus_rows:
        assert keyword_matches(row["tekst"]) == _full_scan(row["tekst"])


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "handelingsverlegen",
                "Veilig Thuis",
                "VEILIG THUIS",
                "thuiszitter",
                "OTS",
                "ots",
                "geen",
                " ",
                "\n",
                "x",
                "-",
                "İ",
                "schorsing",
                "verwijderd",
                "gedwongen",
                "ondertoezichtstelling",
                ".",
                "niet",
            ]
        ),
        max_size=30,
    ).map("".join)
)
def test_anchored_keyword_matching_equals_a_full_scan_property(text):
    from meldtekst.features import keyword_matches

    assert keyword_matches(text) == _full_scan(text)
