"""De-identify Dutch report text: names, places, institutions, dates, ages and contact details
become placeholders such as ``[PERSOON]`` or ``[TELEFOON]``.

`deduce` finds names, places, care institutions, dates and ages. Our own patterns add
what it misses or only half-catches in parents' reports: Dutch phone numbers in every
notation, e-mail addresses, BSNs (elfproef), postcodes, street addresses, IBANs,
invented school and club names ("obs De Klimop-Noord", "Wiekslag College"), names after
"onze zoon" / "juf", invented places after "in" / "uit" / "gemeente", forum handles.
Overlapping finds are merged so that no part of a detected span survives, and a name or
place found once is replaced everywhere else in the same text.
"""

from __future__ import annotations

import atexit
import gc
import logging
import re
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from meldtekst.errors import InputError
from meldtekst.io import TableInfo, TableWriter, read_table
from meldtekst.validate import is_blank, require_column

log = logging.getLogger(__name__)

CATEGORIES = (
    "PERSOON",
    "LOCATIE",
    "INSTELLING",
    "DATUM",
    "LEEFTIJD",
    "TELEFOON",
    "EMAIL",
    "BSN",
    "POSTCODE",
    "ADRES",
    "IBAN",
    "NUMMER",
    "URL",
)

# deduce tag -> our category
_DEDUCE_TAGS = {
    "persoon": "PERSOON",
    "patient": "PERSOON",
    "locatie": "LOCATIE",
    "instelling": "INSTELLING",
    "zorginstelling": "INSTELLING",
    "ziekenhuis": "INSTELLING",
    "datum": "DATUM",
    "leeftijd": "LEEFTIJD",
    "telefoonnummer": "TELEFOON",
    "emailadres": "EMAIL",
    "bsn": "BSN",
    "id": "NUMMER",
    "url": "URL",
}

# Priorities: structured identifiers beat named institutions beat deduce beat context guesses.
_P_STRUCT, _P_INSTITUTION, _P_DEDUCE, _P_CONTEXT, _P_REPEAT = 80, 60, 50, 40, 30


class Deidentified(NamedTuple):
    """De-identified text and how many spans of each category were replaced."""

    text: str
    counts: dict[str, int]


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    category: str
    priority: int
    source: str = "regex"


@lru_cache(maxsize=1)
def _deduce() -> Any:
    """One Deduce instance per process: building it loads large lookup tables (seconds)."""
    from deduce import Deduce

    started = time.perf_counter()
    # Unpickling its lookup tables creates millions of objects; with the cyclic garbage
    # collector running meanwhile that takes ~5x longer. Afterwards, freezing keeps those
    # objects out of every later full collection (pytest runs several at the end of a session).
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        instance = Deduce()
    finally:
        if was_enabled:
            gc.enable()
    gc.freeze()
    log.info("deduce loaded in %.1f s", time.perf_counter() - started)
    atexit.register(_release_deduce)
    return instance


def _release_deduce() -> None:
    """Free deduce's lookup tables before interpreter shutdown, which would take ~20 s to tear them down."""
    _deduce.cache_clear()
    gc.unfreeze()
    gc.collect()


# --------------------------------------------------------------------------- patterns

_UP = "A-ZÀ-ÖØ-Þ"
_LOW = "a-zß-öø-ÿ"
_CAP = rf"[{_UP}][{_LOW}]+(?:['’][{_LOW}]+)*"  # Capitalised word: Valkenmoer, D'Souza
_CAPH = rf"{_CAP}(?:-[{_UP}]?[{_LOW}]+(?:['’][{_LOW}]+)*)*"  # with hyphen parts: Klimop-Noord, Ehlers-danlos
_TUSSEN = r"(?:van der|van den|van de|van|de|der|den|ter|ten|te|in 't|op de|'t|’t)"


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Capitalised words that are not names or places (sentence starts, organisations the
# lobby needs to keep, generic school words, calendar words, countries).
_COMMON = _words(
    """
    De Het Een Van Der Den Ter Ten Te In Op Bij Uit Naar Met Voor Na Aan Om En Of Maar Dus Want Als Toen
    Nu Ik Wij We Hij Zij Ze Jij Je Jullie U Mijn Onze Ons Zijn Haar Hun Dit Dat Deze Die Er Hier Daar
    Wat Wie Veilig Thuis Raad Kinderbescherming Jeugdzorg Jeugdbescherming Leerplicht
    Leerplichtambtenaar Inspectie Gemeente Rechter Kinderrechter Rechtbank Meldpunt Balans
    Oudervereniging Samenwerkingsverband Wijkteam Jeugdteam Onderwijs Passend Primair Voortgezet
    Speciaal Zorg Jeugd Sociale Zaken Ombudsman Kamer School Basisschool College Lyceum Gymnasium
    Academie Campus Opvang Kinderopvang Vereniging Stichting Noord Zuid Oost West Midden Boys Girls Plus
    Nu Januari Februari Maart April Mei Juni Juli Augustus September Oktober November December Maandag
    Dinsdag Woensdag Donderdag Vrijdag Zaterdag Zondag Kerst Pasen Sinterklaas Corona Nederland
    Nederlands Nederlandse Europa België Duitsland Frankrijk Engeland Spanje Polen Turkije Marokko
    Suriname Syrië Oekraïne Afghanistan Eritrea Somalië Irak Iran Rusland God Allah
    Dokter Doktor Juf Meester Mevrouw Meneer Moeder Vader Mama Papa Oma Opa Zoon Dochter Kind Jongen
    Jongens Meisje Meisjes Peuter Kleuter Baby Tiener Broer Zus Leerling Leerlingen Kindcentrum
    Scholengemeenschap Praktijk Studio Stedelijk Dalton Montessori Dagblad Krant Tijdschrift Omroep
    Huisarts Advocaat Beeld Pas Niks Mooi Slim Kader Kamp Middag Kwartier
    """
)
_NOT_NAME = r"(?!(?:" + "|".join(sorted(map(re.escape, _COMMON), key=len, reverse=True)) + r")\b)"
_NAME = rf"{_NOT_NAME}{_CAPH}"
_FULL_NAME = rf"{_NAME}(?:[ \t]+(?:{_TUSSEN}[ \t]+)?{_NAME})?"

_STREET_SUFFIXES = (
    "straat",
    "laan",
    "weg",
    "plein",
    "singel",
    "gracht",
    "kade",
    "dijk",
    "pad",
    "steeg",
    "hof",
    "dreef",
    "plantsoen",
    "markt",
    "erf",
    "baan",
    "ring",
    "wal",
    "allee",
    "boulevard",
    "park",
    "veld",
    "akker",
    "haven",
    "hoek",
    "zijde",
    "oord",
    "donk",
    "kamp",
    "burcht",
    "poort",
)

_SCHOOL_WORDS = (
    r"obs|cbs|pcbs|rkbs|kbs|ikc|sbo|vso|basisschool|school|scholengemeenschap|kindcentrum|kinderopvang|"
    r"bso|kdv|peuterspeelzaal|opvang|zorgboerderij|vv|sv|svv|rkvv|rksv|hc|mhc|omroep|voetbalvereniging|voetbalclub|zwemvereniging|sportclub|"
    r"turnvereniging|judoclub|budoclub|dansschool|muziekschool|scouting|praktijk|jeugdhulpaanbieder|"
    r"gezinshuis|woongroep|leefgroep|dagbesteding|instelling|stichting|gymnasium|lyceum|college|montessorischool|"
    r"daltonschool|jenaplanschool|vrije school|speelotheek|buurthuis|kinderdagverblijf"
)
_SCHOOL_SUFFIX = r"College|Lyceum|Gymnasium|Scholengemeenschap|Academie|Campus|Kindcentrum|Basisschool"


def _elfproef(digits: str) -> bool:
    """The BSN check: 9*d1 + 8*d2 + ... + 2*d8 - 1*d9 is a multiple of 11 (and not 0)."""
    if len(digits) != 9 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:8], range(9, 1, -1), strict=True)) - int(digits[8])
    return total % 11 == 0 and total != 0


def is_valid_bsn(value: str) -> bool:
    """Whether ``value`` (digits, dots and spaces allowed) is a 9-digit number passing the elfproef."""
    return _elfproef(re.sub(r"[\s.]", "", value))


def _iban_ok(value: str) -> bool:
    compact = re.sub(r"\s", "", value).upper()
    if re.fullmatch(r"NL\d{2}[A-Z]{4}\d{10}", compact):
        return True  # a Dutch-looking account number is personal even with a typo in the check digits
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", compact) or sum(c.isdigit() for c in compact) < 8:
        return False
    moved = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


@dataclass(frozen=True)
class _Pattern:
    """A regex whose whole match (``category``) or named groups (``CATEGORY`` or ``CATEGORY_n``) are spans."""

    regex: re.Pattern[str]
    category: str | None
    priority: int
    check: Callable[[re.Match[str]], bool] | None = None
    groups: tuple[str, ...] = field(default=())


def _p(
    pattern: str, category: str | None, priority: int, check: Callable[[re.Match[str]], bool] | None = None, flags=0
) -> _Pattern:
    rx = re.compile(pattern, flags)
    return _Pattern(rx, category, priority, check, tuple(rx.groupindex))


def _street_check(m: re.Match[str]) -> bool:
    return m.group("street").lower().endswith(_STREET_SUFFIXES)


_PATTERNS: tuple[_Pattern, ...] = (
    _p(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}", "EMAIL", _P_STRUCT + 20),
    _p(
        r"\b[A-Z]{2}\d{2}(?:[ \t]?[A-Z0-9]{4}){2,7}(?:[ \t]?[A-Z0-9]{1,3})?\b",
        "IBAN",
        _P_STRUCT + 15,
        lambda m: _iban_ok(m[0]),
    ),
    _p(
        r"(?<![\w.,-])(?:\d{9}|\d{3}[ .]\d{3}[ .]\d{3}|\d{4}\.\d{2}\.\d{3})(?![\w-]|[.,]\d)",
        "BSN",
        _P_STRUCT + 10,
        lambda m: is_valid_bsn(m[0]),
    ),
    # 06-12345678, 06 1234 5678, +31 6 12345678, +31 (0)6-..., 0031..., 020-1234567, 0546 123456
    _p(
        r"(?<![\w+])(?:(?:\+|00)[ \t]?31[ \t.-]*(?:\(0\)[ \t.-]*)?|\(?0)[1-9](?:\)?[ \t.-]{0,2}\d){8}(?!\d)",
        "TELEFOON",
        _P_STRUCT + 5,
    ),
    _p(r"(?<!\d)0[89]00[ \t.-]?\d{2}[ \t.-]?\d{2}(?:\d{3})?(?!\d)", "TELEFOON", _P_STRUCT + 5),
    _p(
        rf"\b(?P<POSTCODE>[1-9]\d{{3}}[ \t]?(?!SA|SD|SS)[A-Z]{{2}}|[1-9]\d{{3}}[a-z]{{2}})\b"
        rf"(?:[ \t]+(?P<LOCATIE>{_NAME}(?:[ -]{_NAME})?|[A-Z]{{3,}}(?:[ -][A-Z]{{3,}})?)\b)?",
        None,
        _P_STRUCT,
    ),
    # Kerkstraat 12a, Van Goghstraat 5-2, Burgemeester de Withlaan 7 bis (+ ", Plaats")
    _p(
        rf"(?P<ADRES>(?:[{_UP}][\w'’.-]*[ \t]+(?:{_TUSSEN}[ \t]+)?){{0,2}}(?P<street>[{_UP}][\w'’-]+)[ \t]+\d{{1,5}}"
        rf"(?:[ \t]?[a-zA-Z](?!\w))?(?:[-/]\d{{1,4}}|[ \t](?:hs|bis)\b)?)"
        rf"(?:,[ \t]+(?:[1-9]\d{{3}}[ \t]?[A-Z]{{2}}[ \t]+)?(?P<LOCATIE>{_NAME}))?",
        None,
        _P_STRUCT - 5,
        _street_check,
    ),
    # "aan de Kastanjelaan" without a number
    _p(
        rf"\b(?:aan|in|op|naar|via|over|langs|bij) de (?P<ADRES>(?P<street>[{_UP}][\w'’-]+))",
        None,
        _P_STRUCT - 5,
        _street_check,
    ),
    # obs De Klimop-Noord, basisschool 't Kompas, vv Heerdijk Boys, zorgboerderij 't Kievitserf
    _p(
        rf"\b(?i:{_SCHOOL_WORDS})[ \t]+(?P<INSTELLING>(?:(?:[Dd]e|[Hh]et|'t|’t|Ter|Ten|De|Het)[ \t]+)?"
        rf"{_CAPH}(?:[ -](?:{_CAPH}|de|der|van))*?(?:[ -]{_CAPH})?)"
        rf"(?=$|[^\w'’-])",
        None,
        _P_INSTITUTION,
    ),
    # SO / VSO / SBO in capitals with a name after them
    _p(
        rf"\b(?:SO|VSO|SBO|OBS|CBS|IKC|BSO)[ -]+(?P<INSTELLING>(?:(?:De|Het|'t)[ \t]+)?{_CAPH}(?:[ \t]+{_CAPH})?)",
        None,
        _P_INSTITUTION,
    ),
    # Het Oosterlicht College, Kiekendief Lyceum-West, Stedelijk Lyceum Valkenmoer, Lyceum Ter Valkenmoer
    _p(
        rf"(?:(?:De|Het)[ \t]+)?(?:{_CAPH}[ -]){{1,3}}(?:{_SCHOOL_SUFFIX})(?:-{_CAPH}|[ \t]+{_NAME})?"
        rf"|\b(?:{_SCHOOL_SUFFIX})[ \t]+(?:(?:Ter|Ten|De|Het)[ \t]+)?{_NAME}(?:-{_CAPH})?",
        "INSTELLING",
        _P_INSTITUTION,
    ),
    # invented names with a compass suffix: De Vlinderhof-Zuid, Kabouterbos-Oost
    _p(
        rf"(?:\b(?:De|Het)[ \t]+|'t[ \t]+|’t[ \t]+)?(?:{_CAP}[ \t]+)*{_CAP}-(?:Noord|Zuid|Oost|West|Midden|Centrum)\b",
        "INSTELLING",
        _P_CONTEXT,
    ),
    # mid-sentence capitalised article: "bij De Speelkeet", "(De Brugwachter", "'t Kievitserf"
    _p(
        rf"(?:(?<=[{_LOW}0-9,;:] )|(?<=\())(?:De|Het)[ \t]+{_NAME}(?:[ \t]+{_NAME})*|(?<![\w])(?:'t|’t)[ \t]+{_NAME}",
        "INSTELLING",
        _P_CONTEXT,
    ),
    # names after kinship and role words: onze zoon Kacper, juf Anouk, ik ben Tomasz, moeder van Ruth
    _p(
        r"(?<![\w])(?i:zoon|zoontje|dochter|dochtertje|kind|kindje|kleinzoon|kleindochter|kleinkind|pleegzoon|"
        r"pleegdochter|pleegkind|stiefzoon|stiefdochter|broer|broertje|zus|zusje|tweelingbroer|tweelingzus|"
        r"neef|nicht|neefje|nichtje|juf|juffrouw|meester|mevrouw|mevr\.|mw\.|meneer|dhr\.|mentor|mentrix|"
        r"leerkracht|docent|docente|ib'er|intern begeleider|directeur|directrice|coach|trainer|trainster|"
        r"begeleider|begeleidster|hulpverlener|jeugdconsulent|consulent|gezinsvoogd|voogd|casemanager|"
        r"regisseur|jeugdarts|schoolarts|huisarts|kinderarts|psycholoog|psychiater|orthopedagoog|therapeut|"
        r"leerling|cliënt|cliënte|client|collega|buurman|buurvrouw|man|vrouw|partner|vriend|vriendin|ex|"
        r"(?:moeder|vader|mama|papa|mam|pap|oma|opa|tante|oom|stiefvader|stiefmoeder) van|"
        r"ik ben|ik heet|mijn naam is|heet|heten|genaamd|dit is|reactie van|groet(?:en|jes)?,?|lid)"
        rf"[ \t]+['\"‘“]?(?P<PERSOON>{_FULL_NAME})",
        None,
        _P_CONTEXT,
    ),
    # a name with an age in brackets: Sem (14), Joep (13, vmbo-kader)
    _p(rf"(?P<PERSOON>{_FULL_NAME})[ \t]?\(\d{{1,2}}(?:[ \t]?(?:jaar|jr\.?))?[),;]", None, _P_CONTEXT),
    # forum handles: Jolanda_74, Karin_B, moeder_uit_Zandhoven
    _p(r"(?<![\w@.])[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+\b", "PERSOON", _P_CONTEXT),
    # signatures: "K. Brouwer, leerkracht, Zandhoven" / "J. Tromp, Valkenmoer" at the end of a line
    _p(
        rf"(?m)(?P<PERSOON>(?:[{_UP}]\.[ \t]?)+(?:{_TUSSEN}[ \t]+)?{_CAPH}),[ \t]+"
        rf"(?:[{_LOW} -]+,[ \t]+)?(?P<LOCATIE>{_NAME})[ \t]*$",
        None,
        _P_CONTEXT,
    ),
    # invented places: in Valkenmoer, uit Heerdijk, te Valkenmoer, gemeente Heerdijk, regio Zeeduin
    _p(
        r"(?<![\w])(?:[Ii]n|[Uu]it|[Tt]e|naar|nabij|rond|omgeving|(?i:gemeente|regio|wijk|dorp|stad|woonplaats|"
        rf"stadsdeel|buurt))[ \t]+['\"‘“]?(?P<LOCATIE>{_NAME}(?:[ -](?:aan|op|bij) (?:de|den|het|Zee) {_NAME})?)",
        None,
        _P_CONTEXT,
    ),
    # news-style datelines: "HEERDIJK – Een tienjarig meisje"
    _p(
        r"(?m)^(?P<LOCATIE>[A-Z]{3,}(?:[ -][A-Z]{3,})?)[ \t]+[–—-][ \t]",
        None,
        _P_CONTEXT,
        lambda m: m[1].title() not in _COMMON,
    ),
)

_ALLCAPS_STOP = {
    "ADHD",
    "ADD",
    "ASS",
    "PDD",
    "NOS",
    "OTS",
    "SBO",
    "VSO",
    "GGZ",
    "BSO",
    "TLV",
    "OPP",
    "SWV",
    "WTF",
    "OMG",
}


def _regex_spans(text: str) -> list[Span]:
    out: list[Span] = []
    for pat in _PATTERNS:
        for m in pat.regex.finditer(text):
            if pat.check is not None and not pat.check(m):
                continue
            if pat.category is not None:
                if m.end() > m.start():
                    out.append(Span(m.start(), m.end(), pat.category, pat.priority))
                continue
            for name in pat.groups:
                category = name.split("_")[0]
                if category not in CATEGORIES or m.group(name) is None:
                    continue
                s, e = m.span(name)
                if e > s and not (category == "LOCATIE" and m.group(name) in _ALLCAPS_STOP):
                    out.append(Span(s, e, category, pat.priority))
    return out


def _deduce_spans(text: str) -> list[Span]:
    doc = _deduce().deidentify(text, disabled={"redactor", "merge_adjacent_annotations"})
    out = []
    for a in doc.annotations:
        category = _DEDUCE_TAGS.get(a.tag.split("+")[0].lower())
        if category is None:
            category = "PERSOON" if "naam" in a.tag or "persoon" in a.tag else "NUMMER"
        if category in ("PERSOON", "LOCATIE") and a.text in _COMMON:
            continue  # a capitalised common word ("Advocaat jeugdrecht.", "Pas toen ...")
        out.append(Span(a.start_char, a.end_char, category, _P_DEDUCE, "deduce"))
    return out


def _resolve(text: str, spans: Iterable[Span]) -> list[Span]:
    """Non-overlapping spans: a span whose letters and digits are all inside stronger spans is
    dropped; one that sticks out is merged with them (so no piece of it survives)."""
    ordered = sorted(spans, key=lambda s: (-s.priority, -(s.end - s.start), s.start))
    covered = bytearray(len(text))
    accepted: list[Span] = []
    for span in ordered:
        if not any(not covered[i] and text[i].isalnum() for i in range(span.start, span.end)):
            continue
        overlapping = [a for a in accepted if a.start < span.end and span.start < a.end]
        if overlapping:
            lead = max(overlapping, key=lambda a: (a.priority, a.end - a.start))
            for a in overlapping:
                accepted.remove(a)
            span = Span(
                min(span.start, *(a.start for a in overlapping)),
                max(span.end, *(a.end for a in overlapping)),
                lead.category,
                lead.priority,
                lead.source,
            )
        accepted.append(span)
        for i in range(span.start, span.end):
            covered[i] = 1
    return sorted(accepted, key=lambda s: s.start)


def _repeats(text: str, spans: list[Span]) -> list[Span]:
    """Other occurrences of words already found as a name, place or institution in this text."""
    words: dict[str, str] = {}
    for span in spans:
        if span.category not in ("PERSOON", "LOCATIE", "INSTELLING"):
            continue
        for w in re.findall(rf"[{_UP}][\w'’-]{{2,}}", text[span.start : span.end]):
            base = w.split("-")[0] if w.title() in _COMMON else w
            if base not in _COMMON and base.title() not in _COMMON and base.upper() not in _ALLCAPS_STOP:
                words.setdefault(base, span.category)
    out = []
    for w, category in words.items():
        variants = {w, w.upper()} if len(w) >= 4 else {w}
        if category != "INSTELLING":
            # informal reports write a name capitalised once and in lower case after ("Mats en
            # Jens ... voor jens"); a common word that is also a name here gets replaced too,
            # which errs on the side of privacy
            variants.add(w.lower())
        for v in variants:
            for m in re.finditer(rf"(?<![\w'’-]){re.escape(v)}(?![\w'’])", text):
                out.append(Span(m.start(), m.end(), category, _P_REPEAT, "repeat"))
    return out


def find_spans(text: str, *, use_deduce: bool = True) -> list[Span]:
    """The spans of ``text`` to replace, sorted and non-overlapping."""
    if not text:
        return []
    spans = _regex_spans(text)
    if use_deduce:
        spans += _deduce_spans(text)
    resolved = _resolve(text, spans)
    extra = _repeats(text, resolved)
    return _resolve(text, resolved + extra) if extra else resolved


def deidentify(text: str, *, use_deduce: bool = True) -> Deidentified:
    """``text`` with every detected identifier replaced by ``[CATEGORY]``, and counts per category."""
    if not isinstance(text, str) or not text.strip():
        return Deidentified(text if isinstance(text, str) else "", {})
    text = unicodedata.normalize("NFC", text)
    spans = find_spans(text, use_deduce=use_deduce)
    counts: Counter[str] = Counter()
    parts: list[str] = []
    pos = 0
    for span in spans:
        parts.append(text[pos : span.start])
        parts.append(f"[{span.category}]")
        counts[span.category] += 1
        pos = span.end
    parts.append(text[pos:])
    return Deidentified("".join(parts), dict(counts))


def deidentify_many(texts: Iterable[str], *, use_deduce: bool = True) -> list[Deidentified]:
    return [deidentify(t, use_deduce=use_deduce) for t in texts]


# --------------------------------------------------------------------------- files


@dataclass
class AnonymizeSummary:
    input: Path
    output: Path
    text_column: str = ""
    rows: int = 0
    texts: int = 0
    changed: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    @property
    def reports_per_second(self) -> float:
        return self.texts / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "input": str(self.input),
            "output": str(self.output),
            "text_column": self.text_column,
            "rows": self.rows,
            "texts": self.texts,
            "changed": self.changed,
            "replaced": {c: self.counts[c] for c in CATEGORIES if self.counts[c]},
            "seconds": round(self.seconds, 3),
            "reports_per_second": round(self.reports_per_second, 1),
        }


def anonymize_file(
    input_path: str | Path,
    output_path: str | Path,
    *,
    text_column: str = "tekst",
    sheet: str | None = None,
    chunksize: int = 2000,
) -> AnonymizeSummary:
    """Copy ``input_path`` to ``output_path`` with the text column de-identified.

    Every row and every other column comes out unchanged and in order; the output
    replaces ``output_path`` only once it is complete.
    """
    src, dst = Path(input_path), Path(output_path)
    try:
        same = src.resolve() == dst.resolve()
    except OSError:
        same = False
    if same:
        raise InputError("output must not be the input file", path=dst)
    info = TableInfo(path=src, fmt="")
    summary = AnonymizeSummary(input=src, output=dst)
    start = time.perf_counter()
    chunks = read_table(src, sheet=sheet, chunksize=chunksize, info=info)
    with TableWriter(dst) as writer:
        for n, chunk in enumerate(chunks):
            if n == 0:
                summary.text_column = require_column([str(c) for c in chunk.columns], text_column, src)
                if info.fmt == "csv" and info.delimiter:
                    writer.delimiter = info.delimiter
            col = summary.text_column
            out = chunk.copy()
            values = []
            for value in chunk[col].tolist():
                if is_blank(value) or not isinstance(value, str):
                    values.append(value)
                    continue
                result = deidentify(value)
                summary.texts += 1
                summary.changed += result.text != value
                summary.counts.update(result.counts)
                values.append(result.text)
            out[col] = values
            writer.write(out)
            summary.rows += len(chunk)
            log.info("anonymised %d rows", summary.rows)
    summary.seconds = time.perf_counter() - start
    summary.warnings.extend(info.warnings)
    return summary


__all__ = [
    "CATEGORIES",
    "AnonymizeSummary",
    "Deidentified",
    "Span",
    "anonymize_file",
    "deidentify",
    "deidentify_many",
    "find_spans",
    "is_valid_bsn",
]
