"""Dutch text handling: tokens and sentences from spaCy's `nl` language class, and
ConText-style qualifiers (negation, hypothetical, other person) for codebook phrases.

We use spaCy's rule-based Dutch tokenizer (no statistical pipeline exists offline)
and its `sentencizer`. The qualifier rules follow the ConText algorithm that
`clinlp` implements (trigger phrases with a direction and a bounded scope,
stopped at clause boundaries), with triggers written for parents' reports rather
than clinical notes: clinlp's rule set targets medical phrasing ("patient ontkent")
and pins pandas/numpy versions that conflict with this project's.
"""

from __future__ import annotations

import itertools
import re
import sys
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.language import Language

_WS = re.compile(r"\s+")


def _import_spacy() -> object:
    """spaCy without torch: thinc imports torch eagerly when it is installed (~1 s and ~200 MB per
    process), and a blank Dutch pipeline never uses it. Where torch is already loaded, nothing changes."""
    if "spacy" in sys.modules or "torch" in sys.modules:
        import spacy

        return spacy
    sys.modules["torch"] = None  # type: ignore[assignment]  # makes `import torch` fail inside thinc only
    try:
        import spacy
    finally:
        del sys.modules["torch"]
    return spacy


@lru_cache(maxsize=1)
def nlp() -> Language:
    """A blank Dutch pipeline with a sentencizer: tokenizer rules, stop words, no weights."""
    pipe = _import_spacy().blank("nl")  # type: ignore[attr-defined]
    pipe.add_pipe("sentencizer")
    pipe.max_length = 5_000_000
    return pipe


def normalize(text: str) -> str:
    """Lower-case, NFKC, collapsed whitespace: what the vectorisers see."""
    return _WS.sub(" ", unicodedata.normalize("NFKC", text)).strip().lower()


def tokenize(text: str) -> list[str]:
    """Word tokens for TF-IDF: spaCy's Dutch tokenizer, lower-cased, punctuation dropped.

    A module-level function (not a lambda) so a fitted vectoriser can be saved with skops.
    """
    return [t.lower_ for t in nlp().tokenizer(text) if not (t.is_punct or t.is_space)]


@dataclass(frozen=True)
class Sentence:
    text: str
    start: int
    end: int
    tokens: tuple[str, ...] = ()  # word tokens as `tokenize` gives them, from the same spaCy pass


_BULLET = re.compile(r"\n\s*(?:[-*•]|\d+[.)])\s+|\n{2,}")


def sentences(text: str, *, max_chars: int = 600) -> list[Sentence]:
    """Sentences with character offsets into ``text`` (the unmodified input).

    Line breaks that start a list item or a paragraph also end a sentence, since
    reports often use lists without full stops; very long sentences are cut so
    evidence stays quotable.
    """
    if not text or not text.strip():
        return []
    out: list[Sentence] = []
    bounds = [0] + [m.start() + 1 for m in _BULLET.finditer(text)] + [len(text)]
    for a, b in itertools.pairwise(bounds):
        block = text[a:b]
        if not block.strip():
            continue
        lexemes, sents = _sentence_tokens(block)
        for first, stop in sents:
            s, e = a + lexemes[first][2], a + lexemes[stop - 1][2] + lexemes[stop - 1][3]
            if e - s <= max_chars:
                words = tuple(lexemes[i][0] for i in range(first, stop) if not lexemes[i][1])
                _append(out, text, s, e, words)
                continue
            while e - s > max_chars:
                cut = text.rfind(" ", s, s + max_chars)
                cut = cut if cut > s else s + max_chars
                _append(out, text, s, cut, None)
                s = cut
            _append(out, text, s, e, None)
    return out


# orth hash -> (lower-cased form, punctuation or space?, is a sentence-final character?, length)
_LEXEMES: dict[int, tuple[str, bool, bool, int]] = {}


def _sentence_tokens(block: str) -> tuple[list[tuple[str, bool, int, int]], list[tuple[int, int]]]:
    """spaCy's Dutch tokens of ``block`` as (lower, skip, offset, length), and sentences as token
    ranges by the rule of spaCy's ``Sentencizer``.

    The rule is the sentencizer's own (a sentence ends after one of its punctuation characters, at
    the next token that is not punctuation), run over token arrays: creating a spaCy ``Token`` per
    token cost more than tokenising. tests/test_text.py checks the result equals the sentencizer's.
    """
    pipe = nlp()  # first: it imports spaCy the torch-free way
    from spacy.attrs import IDX, IS_PUNCT, IS_SPACE, ORTH

    doc = pipe.tokenizer(block)
    if not len(doc):
        return [], []
    punct_chars = pipe.get_pipe("sentencizer").punct_chars
    strings = doc.vocab.strings
    if len(_LEXEMES) > 500_000:  # a stream of reports keeps bringing new words; keep this bounded
        _LEXEMES.clear()
    tokens: list[tuple[str, bool, int, int]] = []
    sents: list[tuple[int, int]] = []
    start, seen_period = 0, False
    for i, (orth, is_punct, is_space, idx) in enumerate(doc.to_array([ORTH, IS_PUNCT, IS_SPACE, IDX]).tolist()):
        lex = _LEXEMES.get(orth)
        if lex is None:
            form = strings[orth]
            lex = _LEXEMES[orth] = (form.lower(), bool(is_punct or is_space), form in punct_chars, len(form))
        lower, skip, final, length = lex
        tokens.append((lower, skip, idx, length))
        if seen_period and not is_punct and not final:
            sents.append((start, i))
            start, seen_period = i, False
        elif final:
            seen_period = True
    sents.append((start, len(tokens)))
    return tokens, sents


def _append(out: list[Sentence], text: str, s: int, e: int, words: tuple[str, ...] | None) -> None:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    if e > s:
        piece = text[s:e]
        out.append(Sentence(piece, s, e, words if words is not None else tuple(tokenize(piece))))


# ---------------------------------------------------------------- qualifiers

NEGATION_BEFORE = (
    r"geen|niet|nooit|zonder|nergens|niemand|noch|"
    r"gelukkig (?:geen|niet)|is er (?:nog )?geen|was er (?:nog )?geen|"
    r"uitgesloten dat|ontkent|ontkennen"
)
NEGATION_AFTER = r"(?:is|werd|bleek|was) (?:uitgesloten|niet aan de orde|niet nodig|van de baan)|(?:niet|nooit) gebeurd"
HYPOTHETICAL = (
    r"als|indien|stel dat|mocht|zou|zouden|zal|zullen|misschien|mogelijk|eventueel|"
    r"bang dat|angst dat|vrees dat|vrezen dat|voorkomen dat|straks|ooit|"
    r"wat als|dreigen te|in het ergste geval"
)
OTHER_PERSON = (
    r"buurvrouw|buurman|buren|vriendin|vriend|kennis|collega|zus van|broer van|"
    r"een ander gezin|andere ouders|andere kinderen|een klasgenoot|in de krant|op het nieuws|"
    r"veel ouders|veel kinderen|andere gezinnen|in het algemeen|landelijk"
)
# A clause ends at these: the scope of a trigger does not cross them.
TERMINATORS = re.compile(r"[.;:!?\n]|\b(?:maar|echter|toch|behalve|alleen|omdat|want)\b", re.IGNORECASE)

# Generic or habitual statements: what typically happens to families, not what happened in the case
# described (advocacy, news and policy text: "scholen doen dan vaak een melding", "veel ouders krijgen
# te maken met...", "het komt voor dat...", "ouders die ons bellen..."). The codebook tags only the
# case at hand. A habitual adverb alone ("hij werd vaak gepest") is not generic: it needs a generic
# subject or a statement about cases in general.
_GENERIC_NOUNS = (
    r"ouders|kinderen|gezinnen|scholen|leerlingen|jongeren|families|moeders|vaders|thuiszitters|"
    r"instanties|gemeenten|gemeentes|hulpverleners|professionals|jeugdzorgaanbieders|besturen|leraren|docenten"
)
GENERIC = (
    r"het komt (?:\w+ )?voor dat|komt het (?:\w+ )?voor dat|"
    r"in (?:veel|vele|de meeste|sommige|zulke|dergelijke) gevallen|"
    r"in de regel|over het algemeen|in het algemeen|doorgaans|veelal|jaarlijks|landelijk|"
    r"volgens (?:de )?(?:cijfers|onderzoek)|uit (?:cijfers|onderzoek) blijkt|gemiddeld|"
    r"(?:iedere|elke) (?:ouder|school|leerling)|(?:ieder|elk) kind|wie (?:een|zijn|haar) kind|"
    r"(?:veel|vele|sommige|de meeste|andere|steeds meer|duizenden|honderden|tientallen|zoveel) "
    rf"(?:\w+ )?(?:{_GENERIC_NOUNS})|"
    rf"(?:{_GENERIC_NOUNS}) die\b|"
    rf"^\W*(?:de |alle )?(?:{_GENERIC_NOUNS})\b.*\b(?:vaak|meestal|regelmatig|geregeld|soms|nogal eens|steeds)\b"
)

_NEG_BEFORE = re.compile(rf"\b(?:{NEGATION_BEFORE})\b", re.IGNORECASE)
_NEG_AFTER = re.compile(rf"^\W*(?:{NEGATION_AFTER})\b", re.IGNORECASE)
_HYPO = re.compile(rf"\b(?:{HYPOTHETICAL})\b", re.IGNORECASE)
_OTHER = re.compile(rf"\b(?:{OTHER_PERSON})\b", re.IGNORECASE)
_GENERIC = re.compile(rf"(?:\b|^)(?:{GENERIC})", re.IGNORECASE)

# The qualifier sets a model can be trained with. A model stores its set (models saved before the
# generic qualifier existed have the first four), so its features never change under it.
QUALIFIERS_V1 = ("affirmed", "negated", "hypothetical", "other")
QUALIFIERS = (*QUALIFIERS_V1, "generic")


def qualify(text: str, start: int, end: int, *, window: int = 60, generic: bool = True) -> str:
    """ConText qualifier of the span ``text[start:end]``: the first of negated,
    hypothetical, generic (when ``generic``), other, else affirmed.

    Only triggers in the same clause count: up to ``window`` characters before the
    span (cut at the last terminator) for preceding triggers, and the text right
    after the span for following ones. A generic statement is recognised anywhere in
    the span's clause.
    """
    left = text[max(0, start - window) : start]
    cuts = list(TERMINATORS.finditer(left))
    if cuts:
        left = left[cuts[-1].end() :]
    right = text[end : end + window]
    m = TERMINATORS.search(right)
    if m:
        right = right[: m.start()]
    if _NEG_BEFORE.search(left) or _NEG_AFTER.search(right):
        return "negated"
    if _HYPO.search(left):
        return "hypothetical"
    # one search over the whole clause also finds every trigger in ``left`` alone
    if generic and _GENERIC.search(left + text[start:end] + right):
        return "generic"
    if _OTHER.search(left):
        return "other"
    return "affirmed"
