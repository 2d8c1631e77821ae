"""De-identify Dutch report text: names, places, institutions, dates, ages and contact details
become placeholders such as ``[PERSOON]`` or ``[TELEFOON]``.

`deduce` finds names, places, care institutions, dates and ages. Our own patterns add
what it misses or only half-catches in parents' reports: Dutch phone numbers in every
notation, e-mail addresses, BSNs (elfproef), postcodes (also "3581 cd"), street addresses,
IBANs, case and dossier numbers ("VT-2022-88812", "kenmerk 24/0871"), ages ("8-jarige",
"twaalf jaar", "hij is 9", "een meisje van elf"; not "groep 8"), dates without a year,
invented school and club names ("obs De Klimop-Noord", "Wiekslag College"), names after
"onze zoon" / "juf", invented places after "in" / "uit" / "gemeente", forum handles.
deduce's own first-name, surname and place tables find names written in lower case
("mijn zoon jens", "juf anouk", WhatsApp-style "mats en jens") and foreign full names
without a cue word ("Oleksandr Kovalenko belde"). Overlapping finds are merged so that no
part of a detected span survives, and a name or place found once is replaced everywhere
else in the same text, in upper or lower case.
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

# Latin-1 plus Latin Extended-A (ā-ž: Kazlauskienė, Yılmaz, Wiśniewska), where case alternates per letter
_UP = "A-ZÀ-ÖØ-ÞĀ-ž"
_LOW = "a-zß-öø-ÿĀ-ž"
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
    Tip Tips Casus Betreft Notitie Update Verslag Onderwerp Aanmelding Intake Overdracht Melding Uitnodiging
    Factuur Beschikking Zaak Kenmerk Datum Bijlage Reactie Herkenbaar Vraag Antwoord Groet Groetjes Hoi Hallo
    Beste Geachte Gisteren Vandaag Morgen Sinds Helaas Volgens Daarna Ondanks Eerst Omdat Niemand Iedereen
    Zelfs Waarom Ook Vanaf Afgelopen Overigens Inmiddels Tijdens Binnenkort Vorige Herken Gesprek Contact
    Cliënt Client Jeugdige Aanwezig Besproken Actie Adres Postadres Telefoon Moeder Ouders Kinderen Gezin
    Aanvraag Uitspraak Zorgmelding Huisbezoek Terugbellen Onderwerp Correspondentieadres Rekeningnummer
    Woonadres Bezoekadres Huisadres Factuuradres Afleveradres Straat Woonplaats
    Inspectie Kinderombudsman Jeugdwet Leerplichtwet Onderwijs Gezondheidszorg Wijkagent Politie Zorgkantoor
    """
)


def _alternation(words: Iterable[str]) -> str:
    """A regex alternation grouped by first letter: Python's re tries every branch at every position, so a
    flat list of hundreds of words in a lookahead is slow; grouped, a position fails on its first letter."""
    groups: dict[str, list[str]] = {}
    for w in words:
        groups.setdefault(w[0], []).append(w[1:])
    parts = []
    for first, rests in sorted(groups.items()):
        tails = "|".join(re.escape(r) for r in sorted(rests, key=len, reverse=True))
        parts.append(f"{re.escape(first)}(?:{tails})")
    return "(?:" + "|".join(parts) + ")"


_NOT_NAME = rf"(?!{_alternation(_COMMON)}\b)"
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

_SCHOOL_WORDS = _alternation(
    [
        *_words(
            "obs cbs pcbs rkbs kbs ikc sbo vso basisschool school scholengemeenschap kindcentrum kinderopvang bso "
            "kdv peuterspeelzaal opvang zorgboerderij vv sv svv rkvv rksv hc mhc omroep voetbalvereniging "
            "voetbalclub zwemvereniging sportclub turnvereniging judoclub budoclub dansschool muziekschool scouting "
            "praktijk jeugdhulpaanbieder gezinshuis woongroep leefgroep dagbesteding instelling stichting gymnasium "
            "lyceum college montessorischool daltonschool jenaplanschool speelotheek buurthuis kinderdagverblijf "
            "jeugdzorg jeugdhulp jeugdteam wijkteam zorggroep kinderpraktijk jeugdpraktijk behandelcentrum "
            "kinderdagcentrum"
        ),
        "vrije school",
    ]
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


# --- ages: "8-jarige", "twaalf jaar", "hij is 9", "een meisje van elf"; never "groep 8" or "al twee jaar thuis"
_SPELLED = _alternation(
    _words(
        "twee drie vier vijf zes zeven acht negen tien elf twaalf dertien veertien vijftien zestien zeventien achttien "
        "negentien twintig"
    )
)
_AGE_BARE = rf"(?:1\d|2[0-5]|[1-9]|{_SPELLED})(?![\w,.]\d|\w)"  # a bare number that can be a child's age
_AGE_JAAR = rf"(?:\d{{1,2}}|{_SPELLED})(?:,5)?[ \t]+(?:jaar|jr\.?)(?:[ \t]+oud)?(?![\w])"
# what may follow a bare age ("hij is 9, ...", "ze zijn 8 en"), as opposed to "is 9 tot 11", "zijn 3 dagen"
_AGE_END = (
    r"(?=[ \t]*(?:[.,;:!?)\n]|$)|[ \t]+(?:en|of|maar|toen|dus|want|nu|geworden|geweest|"
    r"wordt|werd|is|was|heeft|had|zit|zat|niet|ook|al|pas|inmiddels|in)\b)"
)
_BE = r"(?:is|ben|bent|was|waren|zijn|wordt|werd|word|worden|werden)"
_ADV = r"(?:(?:nu|inmiddels|toen|net|pas|bijna|al|ongeveer|zo'n|ruim|intussen)[ \t]+)?"
_CHILD_WORDS = _words(
    "zoon zoontje zonen dochter dochtertje dochters kind kindje kinderen jongen jongetje jongens meisje meisjes "
    "meid meiden knul jochie ventje puber tiener leerling broer broertje zus zusje tweeling kleuter peuter baby "
    "pleegkind pleegzoon pleegdochter kleinzoon kleindochter kleinkind stiefzoon stiefdochter jeugdige cliënt cliënte "
    "client"
)
# "het cijfer was 7", "dat is 9": a bare number after these is no age
_NOT_AGE_SUBJECTS = _words(
    "cijfer cijfers score gemiddelde het dat dit er wat uitslag stand resultaat nummer groep klas niveau prijs "
    "aantal totaal iq rapport punt punten temperatuur tijd wachttijd wachtlijst klok getal uur antwoord"
)


def _word_before(m: re.Match[str]) -> str:
    """The word just before a match ("" if none): a cheap look back that a regex would try at every position."""
    found = re.search(r"([^\W\d_]+)[^\w]*$", m.string[max(0, m.start() - 40) : m.start()])
    return found[1] if found else ""


def _child_before(m: re.Match[str]) -> bool:
    """Whether a child word comes just before the match, or before a name there: "zoon van 8", "zoon Ahmed van 12"."""
    words = re.findall(r"[^\W\d_]+", m.string[max(0, m.start() - 60) : m.start()])[-2:]
    return bool(words) and (
        words[-1].lower() in _CHILD_WORDS
        or (len(words) == 2 and words[-1][0].isupper() and words[0].lower() in _CHILD_WORDS)
    )


_NOT_BEFORE_AGE = _words(
    "artikel lid groep bijlage stap punt fase versie pagina blz nr nummer niveau klas leerjaar week dag "
    "periode hoofdstuk paragraaf item vraag score cijfer"
)

# --- case, dossier and reference numbers: VT-2022-88812, C/16/512345, U24.00871, "kenmerk 24/0871"
_NUMBER_CUE = (
    r"(?:zaak|dossier|registratie|referentie|klant|cliënt|client|leerling|factuur|klacht|meldings?|polis|"
    r"relatie|beschikkings|rol|parket|aanvraag|ticket|volg|verzekerden|kenmerk)nummer|dossier|kenmerk|"
    r"referentie|factuur|registratie|ref\.|zaak|melding|klacht"
)


def _code_check(m: re.Match[str]) -> bool:
    """A code with letters, digits and separators is a case number when it has 4+ digits and short letter parts."""
    code = m.group("NUMMER") if "NUMMER" in m.re.groupindex else m[0]
    digits = sum(c.isdigit() for c in code)
    alpha = re.findall(r"[^\W\d_]+", code)
    return (
        digits >= 4
        and all(len(a) <= 6 for a in alpha)
        and not any(a.lower() in ("u", "uur", "h", "km", "kg", "cm", "mm", "ml", "mg", "x") for a in alpha)
        and not re.fullmatch(r"(?:19|20)\d\d", code)
    )


def _cued_number_check(m: re.Match[str]) -> bool:
    code = m.group("NUMMER")
    return sum(c.isdigit() for c in code) >= 4 and not re.fullmatch(r"(?:19|20)\d\d", code.strip())


# two-letter words and units that follow a number: "in 2019 is", "2023 en", "1200 km" are no postcodes
_NOT_POSTCODE_LETTERS = _words(
    "en is in op om of te ze we al nu na af er ik je de zo ja ga ok dr mn zn ff ie km kg cm mm ml mg uw "
    "bv ca as ai hé he hoe"
)

_MONTH_FULL = _alternation(
    _words("januari februari maart april mei juni juli augustus september oktober november december")
)
_MONTH = _alternation(
    _words(
        "januari februari maart april mei juni juli augustus september oktober november december "
        "jan feb febr mrt apr jun jul aug sep sept okt nov dec"
    )
)
_WEEKDAY = _alternation(_words("maandag dinsdag woensdag donderdag vrijdag zaterdag zondag"))
_GENERIC_SCHOOLS = _words(
    "basisschool montessorischool daltonschool jenaplanschool hogeschool praktijkschool mytylschool tyltylschool "
    "zomerschool brugklasschool vakschool kostschool muziekschool dansschool rijschool middelbareschool "
    "droomschool buitenschool thuisschool zwemschool taalschool vrijeschool cluster4school kleuterschool "
    "schakelschool nieuwkomersschool"
)


# kinship and role words after which a name follows: onze zoon Kacper, juf Anouk, moeder van Ruth
_PERSON_CUE = _alternation(
    [
        *_words(
            "zoon zoontje dochter dochtertje kind kindje kleinzoon kleindochter kleinkind pleegzoon pleegdochter "
            "pleegkind stiefzoon stiefdochter broer broertje zus zusje tweelingbroer tweelingzus neef nicht neefje "
            "nichtje juf juffrouw meester mevrouw mevr. mw. meneer dhr. heer mentor mentrix leerkracht docent "
            "docente ib'er directeur directrice coach trainer trainster begeleider begeleidster hulpverlener "
            "jeugdconsulent consulent gezinsvoogd voogd casemanager regisseur jeugdarts schoolarts huisarts "
            "kinderarts psycholoog psychiater orthopedagoog therapeut leerling cliënt cliënte client collega buurman "
            "buurvrouw man vrouw partner vriend vriendin ex heet heten genaamd lid groet groeten groetjes groet, "
            "groeten, groetjes,"
        ),
        "intern begeleider",
        "ik ben",
        "ik heet",
        "mijn naam is",
        "dit is",
        "reactie van",
        "moeder van",
        "vader van",
        "mama van",
        "papa van",
        "mam van",
        "pap van",
        "oma van",
        "opa van",
        "tante van",
        "oom van",
        "stiefvader van",
        "stiefmoeder van",
    ]
)

_PATTERNS: tuple[_Pattern, ...] = (
    _p(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}", "EMAIL", _P_STRUCT + 20),
    _p(
        r"\b[A-Z]{2}\d{2}(?:[ \t]?[A-Z0-9]{4}){2,7}(?:[ \t]?[A-Z0-9]{1,3})?\b",
        "IBAN",
        _P_STRUCT + 15,
        lambda m: _iban_ok(m[0]),
        re.IGNORECASE,  # "nl47knab..." typed on a phone
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
        rf"(?P<ADRES>(?:{_NOT_NAME}[{_UP}][\w'’.-]*[ \t]+(?:{_TUSSEN}[ \t]+)?){{0,2}}(?P<street>[{_UP}][\w'’-]+)"
        rf"[ \t]+\d{{1,5}}"
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
    # --- case, dossier and reference numbers
    _p(
        r"(?<![\w@./:-])(?P<NUMMER>(?=[\w/.-]*\d)(?=[\w/.-]*[^\W\d_])[^\W_]+(?:[-/.][^\W_]+)+)(?![\w@]|[-/.:]\w)",
        None,
        _P_STRUCT - 2,
        _code_check,
    ),
    _p(
        rf"(?i:\b(?:{_NUMBER_CUE}))\b[ \t]*(?::|\(|is|nr\.?)?[ \t]*"
        r"(?P<NUMMER>(?:[A-Z]{1,4}[ \t]){0,2}[^\W_]{0,6}[-/.]?\d[^\W_]*(?:[-/.][^\W_]+)*)(?![\w@])",
        None,
        _P_STRUCT - 2,
        _cued_number_check,
    ),
    # --- ages
    _p(
        rf"(?i)\b(?:\d{{1,2}}|{_SPELLED})[-–]?jarig(?:e|en)?\b"
        r"(?![ \t]+(?:opleiding|traject|periode|contract|project|programma|cursus|studie|indicatie|beschikking|"
        r"ots|ondertoezichtstelling|plaatsing|machtiging|jubileum|bestaan)\b)",
        "LEEFTIJD",
        _P_STRUCT - 3,
    ),
    _p(
        rf"(?i)\b{_BE}[ \t]+{_ADV}(?P<LEEFTIJD>(?:{_AGE_BARE}[ \t]+(?:en|of)[ \t]+)?{_AGE_JAAR}){_AGE_END}",
        None,
        _P_STRUCT - 3,
    ),
    _p(
        rf"(?i)\b{_BE}[ \t]+{_ADV}(?P<LEEFTIJD>(?:{_AGE_BARE}[ \t]+(?:en|of)[ \t]+)?{_AGE_BARE}){_AGE_END}",
        None,
        _P_STRUCT - 3,
        lambda m: _word_before(m).lower() not in _NOT_AGE_SUBJECTS,
    ),
    _p(
        rf"(?i)\b(?:is|was|wordt|werd)[ \t]+(?:hij|zij|ze|die)[ \t]+{_ADV}"
        rf"(?P<LEEFTIJD>{_AGE_JAAR}|{_AGE_BARE}){_AGE_END}",
        None,
        _P_STRUCT - 3,
    ),
    _p(
        rf"(?i)\b(?:hij|zij|ze|die|ik)[ \t]+(?P<LEEFTIJD>(?:{_AGE_JAAR}|{_AGE_BARE}))[ \t]+"
        r"(?:wordt|werd|is|was|ben|geworden)\b",
        None,
        _P_STRUCT - 3,
    ),
    _p(
        r"(?i)(?<=[^\W\d_] )van[ \t]+(?:(?:nu|pas|bijna|net|ruim)[ \t]+)?"
        rf"(?P<LEEFTIJD>(?:{_AGE_BARE}[ \t]+(?:en|of)[ \t]+)?(?:{_AGE_JAAR}|{_AGE_BARE}))"
        r"(?![ \t]*(?:uur|dagen|dag|weken|week|maanden|maand|minuten|kilo|euro|procent|%|cm|km|keer|x\b|tot\b|"
        r"[-–:./,]\d))",
        None,
        _P_STRUCT - 3,
        _child_before,
    ),
    _p(rf"(?i)\b(?P<LEEFTIJD>(?:\d{{1,2}}|{_SPELLED})[ \t]+jaar[ \t]+oud)\b", None, _P_STRUCT - 3),
    _p(
        r"(?<=[^\W\d_])[ \t]?\((?P<LEEFTIJD>(?:1\d|2[0-5]|[1-9])(?:[ \t]?(?:jaar|jr\.?))?)(?=[),;])",
        None,
        _P_STRUCT - 3,
        lambda m: _word_before(m).lower() not in _NOT_BEFORE_AGE,
    ),
    _p(
        r"(?i)\b(?:zijn|haar|z'n|hun)[ \t]+(?P<LEEFTIJD>\d{1,2}(?:e|ste|de))"
        r"(?=[ \t]*(?:[.,;:!?)]|$)|[ \t]+(?:al|was|is|werd|heeft|had|kreeg|ging|gaat|zit|zat|moest|mocht|kon|kan|"
        r"begon|begint|wilde|wil|en|of|toen|jaar|levensjaar)\b)",
        None,
        _P_STRUCT - 3,
    ),
    _p(rf"(?<=, )(?P<LEEFTIJD>{_AGE_JAAR})(?=[ \t]*(?:[,.;)]|$))", None, _P_STRUCT - 3),
    _p(
        rf"(?i)(?<=, )(?:toen|nu|inmiddels)[ \t]+(?P<LEEFTIJD>{_AGE_JAAR}|{_AGE_BARE})(?=[ \t]*[,)])",
        None,
        _P_STRUCT - 3,
    ),
    _p(
        r"(?i)\b(?:leeftijd|lft\.?)[ \t]*:?[ \t]*(?P<LEEFTIJD>\d{1,2}(?:[ \t]+(?:jaar|jr\.?))?)(?!\d)",
        None,
        _P_STRUCT - 3,
    ),
    # --- postcodes in lower case with a space ("3581 cd"), dates without a year ("3 april", "dinsdag 16 januari")
    _p(
        r"(?<![\w.,-])[1-9]\d{3}[ \t][a-z]{2}(?![\w-])",
        "POSTCODE",
        _P_STRUCT,
        lambda m: m[0][-2:] not in _NOT_POSTCODE_LETTERS and m[0][-2:] not in ("sa", "sd", "ss"),
    ),
    _p(
        rf"(?i)\b(?:(?:{_WEEKDAY})[ \t]+)?\d{{1,2}}(?:e|ste|de)?[ \t]+(?:{_MONTH})\b\.?(?:[ \t]+(?:19|20)\d\d\b)?"
        rf"|\b(?:{_WEEKDAY})[ \t]+(?=\d{{1,2}}[-/])",
        "DATUM",
        _P_DEDUCE + 5,
    ),
    _p(rf"(?i)\b{_MONTH_FULL}[ \t]+(?:19|20)\d\d\b", "DATUM", _P_DEDUCE + 5),
    # --- street and number written in lower case: "bremstraat 19"
    _p(
        rf"(?<![\w'’-])(?P<ADRES>[{_LOW}][{_LOW}'’-]{{2,}}?(?:{'|'.join(_STREET_SUFFIXES)})[ \t]+\d{{1,4}}"
        rf"(?:[ \t]?[a-z](?!\w))?(?:[-/]\d{{1,4}})?)(?![\w])",
        None,
        _P_STRUCT - 5,
    ),
    # --- institutions: "op de Regenboogschool", "Kompas Jeugdhulp", "GGZ Heuvelrand Jeugd"
    _p(
        rf"(?<=[{_LOW}0-9,;:] )(?P<INSTELLING>[{_UP}][{_LOW}]{{2,}}(?:school|college|lyceum|academie))\b",
        None,
        _P_INSTITUTION,
        lambda m: m["INSTELLING"].lower() not in _GENERIC_SCHOOLS,
    ),
    _p(
        rf"\b(?P<INSTELLING>{_NAME}(?:[ \t]+{_NAME})?[ \t]+(?:Jeugdhulp|Jeugdzorg|Jeugd|Zorg|Zorggroep|Kinderopvang|"
        r"Opvang|Kindcentrum|Jeugdhulpverlening|Welzijn|Zorgboerderij))\b",
        None,
        _P_INSTITUTION,
    ),
    # SO / VSO / SBO in capitals with a name after them
    _p(
        rf"\b(?:SO|VSO|SBO|OBS|CBS|IKC|BSO|GGZ|KDV)[ -]+"
        rf"(?P<INSTELLING>(?:(?:De|Het|'t)[ \t]+)?{_CAPH}(?:[ \t]+{_CAPH})?)",
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
        rf"(?<![\w])(?i:{_PERSON_CUE})"
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
        rf"stadsdeel|buurt))[ \t]+['\"‘“]?(?P<LOCATIE>(?:(?:Den|De|Ter|Ten)[ \t]+(?=[{_UP}]))?{_NAME}"
        rf"(?:[ -](?:aan|op|bij) (?:de|den|het|Zee) {_NAME})?)",
        None,
        _P_CONTEXT,
    ),
    # a letter's dateline: "Heerdijk, 18 september 2023", "Valkenmoer, 03-11-2023"
    _p(
        rf"(?m)^[ \t]*(?P<LOCATIE>{_NAME}(?:[ -]{_NAME})?),[ \t]+"
        rf"(?=(?:\d{{1,2}}(?:e|ste|de)?[ \t]+(?i:{_MONTH})\.?(?:[ \t]+\d{{4}})?|\d{{1,2}}[-/.]\d{{1,2}}[-/.]\d{{2,4}})"
        r"[ \t]*$)",
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


# --------------------------------------------------------------------------- lexicon rules

# Words deduce lists as first names that are ordinary Dutch (or English) words in reports: "het kader",
# "een maatje", "nota bene", "in feite", "te leen", "sinds jan" (januari), "max 2 uur", "kommer en kwel".
_NAME_WORDS = _words(
    """
    jan kader ken maatje lieve matje feite bene hok brand klaas klaasje kommer leen alien my buddy constant inga
    an enzo engel engeltje love hee vos max maan storm lente zomer winter bloem may june hope joy sky
    toon ton pier riet frank pop happy sunny lucky angel baby teddy
    hoi doei joh ok oké super top sorry hello dear love hey wow lol mama papa mam pap oma opa zus broer tante oom
    neef nicht juf meester kind will van den der ter ten het een die dat wel mag kan
    """
)
# Common words the deduce word lists lack (capitalised at a sentence start they look like names).
_DUTCH_EXTRA = _words(
    """
    goed fijn zei belde mailde zegt vindt wil mag moet kan kon mocht moest ging gaat kwam komt kreeg krijgt had
    heeft hebben werd wordt bleek blijkt stond staat zit zat liep loopt heel echt even toch nou zeg wel niet
    weer ook nog net pas dan toen daarna eerst later vorige volgende helaas gelukkig eindelijk ineens opeens
    volgens ondanks zelfs inmiddels overigens vanaf tijdens sinds omdat terwijl hoewel zodat waardoor daarom
    niemand iedereen alles niets niks iemand samen alleen gewoon lieve beste geachte groet groeten groetjes
    vriendelijke hartelijke hoogachtend namens betreft onderwerp bijlage bijlagen verslag notitie casus
    update tip tips vraag vragen herkenbaar herken schandalig belachelijk onbegrijpelijk verschrikkelijk
    hierbij graag dank bedankt alvast vanochtend vanmiddag vanavond gisteren vandaag morgen overmorgen
    """
)
_DUTCH_SUFFIXES = (
    "heid",
    "ing",
    "tie",
    "teit",
    "schap",
    "isme",
    "commissie",
    "raad",
    "blad",
    "krant",
    "ministerie",
    "dienst",
    "centrum",
    "huis",
    "school",
    "zorg",
    "wet",
    "recht",
    "lijk",
    "lijke",
    "isch",
    "ische",
    "baar",
    "loos",
)
_PARTICLES = r"(?:van der|van den|van de|van 't|van|de|der|den|ter|ten|te|el|al|ben|bin|abu|da|di|dos|du|le|la|von)"
_TITLES = _words(
    "juf juffrouw meester mevrouw mevr mw meneer mijnheer dhr heer dr drs mr ir ing prof dokter geachte beste fam "
    "lieve collega"
) | {"de heer"}
_INTERFIXES = _words("de den der van ter ten te het in op la le el di da du von al ben")
_LEADING_PREPOSITIONS = _words("te van met voor bij aan door naar en of op uit om dan dat")


class _Lexicons(NamedTuple):
    first: frozenset[str]  # lower-case one-word first names
    surnames: frozenset[str]  # lower-case one-word surnames
    places: Any  # deduce's place-name trie (title-cased tokens)
    dutch: frozenset[str]  # lower-case ordinary words
    not_name: frozenset[str]  # ordinary words, and names that are ordinary words in lower case ("kader", "jan")


@lru_cache(maxsize=1)
def _lexicons() -> _Lexicons:
    """deduce's first-name, surname and place tables, and what we count as an ordinary Dutch word."""
    structs = _deduce().lookup_structs

    def one_word(name: str) -> frozenset[str]:
        return frozenset(k.lower() for k, v in structs[name].children.items() if v.is_terminal)

    dutch = set().union(
        *(structs[n]._items for n in ("whitelist", "common_word", "stop_word")),
        (w.lower() for w in _COMMON),
        _DUTCH_EXTRA,
    )
    return _Lexicons(
        one_word("first_name"),
        one_word("surname"),
        structs["placename"],
        frozenset(dutch),
        frozenset(dutch | _NAME_WORDS),
    )


def _informal(text: str) -> bool:
    """Whether sentences mostly start in lower case (WhatsApp style), where names are written in lower case too."""
    starts = re.findall(r"(?:^|[.!?]\s+|\n)[\"'‘“(]*([^\W\d_])", text)
    return bool(starts) and sum(c.islower() for c in starts) * 2 >= len(starts)


_LOWER_NAME = rf"[{_LOW}][{_LOW}'’-]+"
_CUED_LOWER = re.compile(
    rf"(?<![\w])(?P<cue>(?i:{_PERSON_CUE}|de heer|dr\.|drs\.|mr\.|dokter))[ \t]+"
    rf"(?:(?P<particle>{_PARTICLES})[ \t]+)?(?P<name>{_LOWER_NAME})"
)
_PLACE_CUE_LOWER = re.compile(
    r"(?:(?<![\w])(?i:in|uit|te|naar|nabij|omgeving|gemeente|regio|woonplaats)|\b[1-9]\d{3}[ \t]?[a-zA-Z]{2},?)"
    rf"[ \t]+"
    rf"(?P<place>{_LOWER_NAME}(?:[ \t]+{_LOWER_NAME})?)"
)
_CAP_TOKEN = re.compile(rf"{_CAPH}")
# a school abbreviation is always followed by the school's name, also in lower case: "obs de regenboog"
_SCHOOL_LOWER = re.compile(
    rf"\b(?i:obs|cbs|pcbs|rkbs|kbs|ikc|sbo|so|vso|bso|kdv)[ \t]+(?P<article>de|het|'t|’t)[ \t]+"
    rf"(?P<name>[{_LOW}]{{3,}}(?:-[{_LOW}]+)*)(?![\w'’])"
)


def _is_name(word: str, lex: _Lexicons, *, surname: bool = True) -> bool:
    w = word.lower()
    return len(w) >= 3 and w not in lex.not_name and (w in lex.first or (surname and w in lex.surnames))


def _name_tail(text: str, end: int, lex: _Lexicons) -> int:
    """Where a lower-case name starting before ``end`` ends: "ilse roodbeen", "samira el amrani", "sanne van dijk"."""
    m = re.match(rf"[ \t]+(?:(?P<particle>{_PARTICLES})[ \t]+)?(?P<word>{_LOWER_NAME})(?![\w'’])", text[end:])
    if m is None:
        return end
    word = m["word"].lower()
    if word in lex.not_name or len(word) < 3:
        return end
    if m["particle"] or (word in lex.surnames and not word.endswith(("t", "de", "te"))):
        return end + m.end()  # not "jens verwijst", "mats belde"
    return end


def _sentence_start(text: str, pos: int) -> bool:
    before = text[max(0, pos - 40) : pos].rstrip(" \t\"'‘“(")
    return not before or before[-1] in ".!?:\n;-–—•*"


def _lexicon_spans(text: str, lex: _Lexicons) -> list[Span]:
    """Names and places the patterns cannot see without deduce's tables.

    - a lower-case first name or surname after a cue word: "mijn zoon jens", "juf anouk", "dhr. kuipers";
    - in lower-case (WhatsApp-style) text any lower-case first name: "mats en jens", "met ilse roodbeen";
    - two or three adjacent capitalised words that are no Dutch words, at least one of them a known name or
      neither known at all: "Oleksandr Kovalenko belde", "betreft Yonas Tesfaye";
    - a lower-case place after "in" / "uit" / "naar": "in zeist", "uit den haag".
    """
    out: list[Span] = []
    for m in _CUED_LOWER.finditer(text):
        # a surname only after a form of address ("dhr. kuipers", "mevrouw de vries"), not after a role ("de
        # huisarts verwijst"); after a particle only a surname ("mevrouw van leerplicht" is no name)
        title = m["cue"].lower().rstrip(".") in _TITLES
        if m["particle"] and not (title and m["name"].lower() in lex.surnames and _is_name(m["name"], lex)):
            continue
        if _is_name(m["name"], lex, surname=title):
            start = m.start("particle") if m["particle"] else m.start("name")
            out.append(Span(start, _name_tail(text, m.end("name"), lex), "PERSOON", _P_CONTEXT, "lexicon"))
    informal = _informal(text)
    if informal:
        for m in re.finditer(rf"(?<![\w'’@.-]){_LOWER_NAME}(?![\w'’@])", text):
            if _is_name(m[0], lex, surname=False) and m[0].islower():
                out.append(Span(m.start(), _name_tail(text, m.end(), lex), "PERSOON", _P_CONTEXT, "lexicon"))
    tokens = list(_CAP_TOKEN.finditer(text))
    i = 0
    while i < len(tokens) - 1:
        run = [tokens[i]]
        while (
            len(run) < 3
            and i + len(run) < len(tokens)
            and re.fullmatch(r"[ \t]+", text[run[-1].end() : tokens[i + len(run)].start()])
        ):
            run.append(tokens[i + len(run)])
        words = [t[0] for t in run]
        ok = [w not in _COMMON and w.lower() not in lex.dutch and not w.isupper() for w in words]
        after_article = re.search(
            r"(?:^|[^\w'’])(?:de|het|een|'t|’t|der|des)[ \t]+$", text[max(0, run[0].start() - 12) : run[0].start()]
        )
        # the longest leading stretch of non-common words
        n = 0
        while n < len(run) and ok[n]:
            n += 1
        if n >= 2:
            names = [w.lower() in lex.first or w.lower() in lex.surnames for w in words[:n]]
            unknown = [not names[k] and [words[k]] not in lex.places for k in range(n)]
            # two unknown words are a foreign name, unless they look like Dutch compounds or a title
            # ("het Openbaar Ministerie", "Oordeel Geschillencommissie", "de Gelderse Wachter")
            foreign = all(unknown) and not any(len(w) > 13 or w.lower().endswith(_DUTCH_SUFFIXES) for w in words[:n])
            if after_article:
                accept = False
            elif _sentence_start(text, run[0].start()):
                accept = names[0] or foreign
            else:
                accept = any(names) or foreign
            if accept:
                out.append(Span(run[0].start(), run[n - 1].end(), "PERSOON", _P_CONTEXT - 5, "lexicon"))
                i += n
                continue
        i += 1
    for m in _SCHOOL_LOWER.finditer(text):
        if m["name"].lower() not in lex.not_name:
            out.append(Span(m.start("article"), m.end("name"), "INSTELLING", _P_CONTEXT, "lexicon"))
    for m in _PLACE_CUE_LOWER.finditer(text) if informal else ():
        if not m["place"].islower():
            continue
        words = m["place"].split()
        found = lex.places.longest_matching_prefix([w.title() for w in words])
        if found and words[len(found) - 1] not in lex.not_name and len(words[len(found) - 1]) >= 3:
            end = m.start("place") + len(" ".join(words[: len(found)]))
            out.append(Span(m.start("place"), end, "LOCATIE", _P_CONTEXT, "lexicon"))
    return out


def _trim_deduce_name(text: str, start: int, end: int, lex: _Lexicons | None) -> int:
    """Where a deduce name really starts: without a leading title, preposition or sentence-initial heading.

    deduce takes "mevrouw Oosterbaan", "te Tiel", "van Ruth Tesfaye", "Casus Aisha Mohamed" as one name.
    """
    while True:
        m = re.match(r"([^\W\d_]+)\.?[ \t]+(?=[^\W\d_])", text[start:end])
        if m is None:
            return start
        rest = text[start + m.end() : end].split()
        word, nxt = m[1], rest[0]
        lower = word.lower()
        if lower in _TITLES or (lower == "de" and nxt.lower() == "heer"):
            pass
        elif lower in ("in", "uit", "naar", "te", "bij", "op") and lex is not None and rest in lex.places:
            pass  # "In Den Haag"
        elif lower in _LEADING_PREPOSITIONS and word.islower():
            if lex is None or not (nxt.lower() in lex.first or [nxt] in lex.places):
                return start
        elif lower in _INTERFIXES:
            return start  # "Den Haag", "Van Dalen"
        elif word[0].isupper() and (word in _COMMON or (lex is not None and lower in lex.dutch)):
            pass
        else:
            return start
        start += m.end()


def _deduce_spans(text: str, lex: _Lexicons | None = None) -> list[Span]:
    doc = _deduce().deidentify(text, disabled={"redactor", "merge_adjacent_annotations"})
    out = []
    for a in doc.annotations:
        category = _DEDUCE_TAGS.get(a.tag.split("+")[0].lower())
        if category is None:
            category = "PERSOON" if "naam" in a.tag or "persoon" in a.tag else "NUMMER"
        start = a.start_char
        if category in ("PERSOON", "LOCATIE"):
            if a.text in _COMMON:
                continue  # a capitalised common word ("Advocaat jeugdrecht.", "Pas toen ...")
            if category == "PERSOON":
                start = _trim_deduce_name(text, start, a.end_char, lex)
                if lex is not None and start > a.start_char and text[start : a.end_char].split() in lex.places:
                    category = "LOCATIE"
            if lex is not None and " " not in a.text and a.text.lower() in lex.dutch and _sentence_start(text, start):
                continue  # "Tip: ...", "Herkenbaar!"
        out.append(Span(start, a.end_char, category, _P_DEDUCE, "deduce"))
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


def _repeats(text: str, spans: list[Span], lex: _Lexicons | None = None) -> list[Span]:
    """Other occurrences of words already found as a name, place or institution in this text."""
    words: dict[str, str] = {}
    for span in spans:
        if span.category not in ("PERSOON", "LOCATIE", "INSTELLING"):
            continue
        for w in re.findall(r"[^\W\d_][\w'’-]{2,}", text[span.start : span.end]):
            if w.islower() and (span.category == "INSTELLING" or lex is None or w in lex.not_name):
                continue  # "de klimop": only a name in lower case when deduce's tables say so
            base = w.split("-")[0] if w.title() in _COMMON else w
            if base not in _COMMON and base.title() not in _COMMON and base.upper() not in _ALLCAPS_STOP:
                words.setdefault(base, span.category)
    out = []
    for w, category in words.items():
        variants = {w, w.upper()} if len(w) >= 4 else {w}
        if category != "INSTELLING":
            # informal reports write a name capitalised once and in lower case after ("Mats en
            # Jens ... voor jens"), or the other way round; a common word that is also a name here
            # gets replaced too, which errs on the side of privacy
            variants |= {w.lower(), w[0].upper() + w[1:]}
        for v in variants:
            for m in re.finditer(rf"(?<![\w'’-]){re.escape(v)}(?![\w'’])", text):
                out.append(Span(m.start(), m.end(), category, _P_REPEAT, "repeat"))
    return out


def find_spans(text: str, *, use_deduce: bool = True) -> list[Span]:
    """The spans of ``text`` to replace, sorted and non-overlapping."""
    if not text:
        return []
    spans = _regex_spans(text)
    lex = None
    if use_deduce:
        lex = _lexicons()
        spans += _deduce_spans(text, lex)
        spans += _lexicon_spans(text, lex)
    resolved = _resolve(text, spans)
    extra = _repeats(text, resolved, lex)
    return _resolve(text, resolved + extra) if extra else resolved


def deidentify(text: str, *, use_deduce: bool = True) -> Deidentified:
    """``text`` with every detected identifier replaced by ``[CATEGORY]``, and counts per category."""
    if not isinstance(text, str) or not text.strip():
        return Deidentified(text if isinstance(text, str) else "", {})
    text = unicodedata.normalize("NFC", text)
    return _replaced(text, find_spans(text, use_deduce=use_deduce))


def _replaced(text: str, spans: Iterable[Span]) -> Deidentified:
    """``text`` with each (sorted, non-overlapping) span replaced by its ``[CATEGORY]``."""
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


def identifiers(text: str, *, use_deduce: bool = True) -> dict[str, str]:
    """Every name, place, institution or identifier found in ``text``: surface string -> category.

    Quotes are de-identified with their whole report as context: a child's name that is
    capitalised once in the report and written in lower case in the quoted sentence is
    only recognisable from the report.
    """
    if not isinstance(text, str) or not text.strip():
        return {}
    text = unicodedata.normalize("NFC", text)
    found: dict[str, str] = {}
    for span in find_spans(text, use_deduce=use_deduce):
        surface = text[span.start : span.end].strip()
        if len(surface) >= 2:
            found.setdefault(surface, span.category)
    return found


def deidentify_in_context(fragment: str, context: str, *, use_deduce: bool = True) -> Deidentified:
    """``fragment`` (a quote taken from ``context``) de-identified with what the whole context reveals.

    Every identifier found anywhere in ``context`` is replaced in the fragment too,
    case-insensitively and as a whole word, on top of what the fragment's own pass finds;
    so is every word of a multi-word name or place ("kacper" of "Kacper Nowak").
    """
    if not isinstance(fragment, str) or not fragment.strip():
        return Deidentified(fragment if isinstance(fragment, str) else "", {})
    fragment = unicodedata.normalize("NFC", fragment)
    known = identifiers(context, use_deduce=use_deduce) if isinstance(context, str) else {}
    # each word of a full name or place on its own too: the quote may say only "kacper" of "Kacper Nowak"
    not_name = _lexicons().not_name if use_deduce else frozenset(w.lower() for w in _COMMON)
    for surface, category in list(known.items()):
        if category in ("PERSOON", "LOCATIE") and " " in surface:
            for w in re.findall(r"[^\W\d_][\w'’-]{2,}", surface):
                if w.lower() not in not_name and w.title() not in _COMMON:
                    known.setdefault(w, category)
    spans = find_spans(fragment, use_deduce=use_deduce)
    # longest first, so "Jens de Vries" wins over "Jens"
    for surface in sorted(known, key=len, reverse=True):
        if known[surface] == "LEEFTIJD" and surface.isdigit():
            continue  # "hij is 8" says nothing about the 8 in "groep 8"; the fragment's own pass finds its ages
        for m in re.finditer(rf"(?<![\w]){re.escape(surface)}(?![\w])", fragment, flags=re.IGNORECASE):
            spans.append(Span(m.start(), m.end(), known[surface], _P_STRUCT, "context"))
    return _replaced(fragment, _resolve(fragment, spans))


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
