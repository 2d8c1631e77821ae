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
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import spacy
from spacy.language import Language

_WS = re.compile(r"\s+")


@lru_cache(maxsize=1)
def nlp() -> Language:
    """A blank Dutch pipeline with a sentencizer: tokenizer rules, stop words, no weights."""
    pipe = spacy.blank("nl")
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
        doc = nlp()(block)
        for sent in doc.sents:
            s, e = a + sent.start_char, a + sent.end_char
            if e - s <= max_chars:
                words = tuple(t.lower_ for t in sent if not (t.is_punct or t.is_space))
                _append(out, text, s, e, words)
                continue
            while e - s > max_chars:
                cut = text.rfind(" ", s, s + max_chars)
                cut = cut if cut > s else s + max_chars
                _append(out, text, s, cut, None)
                s = cut
            _append(out, text, s, e, None)
    return out


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

_NEG_BEFORE = re.compile(rf"\b(?:{NEGATION_BEFORE})\b", re.IGNORECASE)
_NEG_AFTER = re.compile(rf"^\W*(?:{NEGATION_AFTER})\b", re.IGNORECASE)
_HYPO = re.compile(rf"\b(?:{HYPOTHETICAL})\b", re.IGNORECASE)
_OTHER = re.compile(rf"\b(?:{OTHER_PERSON})\b", re.IGNORECASE)

QUALIFIERS = ("affirmed", "negated", "hypothetical", "other")


def qualify(text: str, start: int, end: int, *, window: int = 60) -> str:
    """ConText qualifier of the span ``text[start:end]``: the first of negated,
    hypothetical, other, else affirmed.

    Only triggers in the same clause count: up to ``window`` characters before the
    span (cut at the last terminator) for preceding triggers, and the text right
    after the span for following ones.
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
    if _OTHER.search(left):
        return "other"
    return "affirmed"
