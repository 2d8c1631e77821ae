"""REFI-QDA projects (.qdpx): tagged reports out to qualitative analysis software, coded
reports back in as training data.

A .qdpx file is a zip holding ``project.qde`` (XML in namespace ``urn:QDA-XML:project:1.0``)
and the report texts as UTF-8 ``.txt`` files under ``sources/``. Export writes

- the codebook as codes: theme id as name, Dutch name and definition as description, one
  colour per group, nested under one non-codable code per group;
- each report as a TextSource named by its id, with metadata columns (datum, rol) as
  variables (Date where every value is an ISO date, else Text);
- each assigned theme as a PlainTextSelection over its evidence sentence (or, with
  ``themes+explanations``, also over each explanation span; the whole report where there is
  no span), coded by a User named after the model and its version.

Import reads the text sources of any REFI-QDA project and the codings on them, and gives
one row per report (id, tekst, labels) with the union of the chosen coders' codes, so
researchers can correct or extend the model's coding in QualCoder, ATLAS.ti, MAXQDA or
NVivo and retrain on the result.

Selection positions count Unicode code points, as Python string indices do.

Exported XML is validated against ``meldtekst/data/refi-qda-project.xsd``: the standard's
Project.xsd (QDA-XML 1.0, "Project-mrt2019", MIT licence) as QualCoder embeds it, with only
its line breaks restored, since the standard's own site cannot be reached offline. An
imported project that breaks the schema is read anyway with a warning: tools in the wild
deviate from it in small ways.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import os
import re
import unicodedata
import uuid
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from meldtekst.codebook import Codebook, load_codebook
from meldtekst.errors import InputError, MeldtekstError, ModelError
from meldtekst.io import TableWriter, atomic_path, read_all, table_format
from meldtekst.tagging import parse_evidence
from meldtekst.validate import as_text, is_blank, require_column

log = logging.getLogger(__name__)

NS = "urn:QDA-XML:project:1.0"
_Q = f"{{{NS}}}"
CODE_MODES = ("themes", "themes+explanations")
DEFAULT_VARIABLES = ("datum", "rol")
# Users written by meldtekst carry this id, and their name starts with the prefix; both
# survive a round trip through most tools, so either marks a model's codings on import.
MODEL_USER_ID = "meldtekst-model"
MODEL_USER_PREFIX = "meldtekst "
GROUP_COLOURS = ("#2f6690", "#d1495b", "#edae49", "#00798c", "#66a182", "#8d6a9f", "#7b8794")
_GUID_NAMESPACE = uuid.UUID("6f1d2c1e-3b7a-5c1f-9a51-6d656c64746b")
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Limits on what a project may unpack to (a .qdpx is a zip from outside: a few hundred KB can
# expand to gigabytes, by one member that compresses ~1000:1 or by many sources naming the same one)
MAX_BYTES_ENV = "MELDTEKST_QDPX_MAX_BYTES"
DEFAULT_MAX_BYTES = 512 << 20  # all members read, every read counted
MAX_MEMBER_BYTES = 256 << 20  # one member (project.qde or one source)
MAX_RATIO = 250  # uncompressed : compressed, for members above RATIO_FLOOR (text and XML stay below ~50)
RATIO_FLOOR = 4 << 20
MAX_XML_DEPTH = 200  # a real codebook nests a few levels; recursion over 50,000 levels crashes
_READ_CHUNK = 1 << 20
_SELECTION_NAME_CHARS = 80


# ------------------------------------------------------------------------ schema


@lru_cache(maxsize=1)
def project_schema() -> Any:
    """The REFI-QDA Project.xsd shipped with meldtekst, loaded once."""
    try:
        import xmlschema
    except ImportError:
        raise MeldtekstError("REFI-QDA validation needs the xmlschema package: pip install xmlschema") from None
    source = resources.files("meldtekst").joinpath("data/refi-qda-project.xsd").read_text(encoding="utf-8")
    return xmlschema.XMLSchema(source)


def schema_errors(root: ET.Element, limit: int = 5) -> list[str]:
    """Up to ``limit`` ways in which a parsed project.qde breaks the REFI-QDA schema."""
    out = []
    for err in project_schema().iter_errors(root):
        where = f" at {err.path}" if getattr(err, "path", None) else ""
        out.append(f"{err.reason or err.message}{where}")
        if len(out) >= limit:
            break
    return out


# ---------------------------------------------------------------------- helpers


def _guid(*parts: str) -> str:
    """A stable GUID, so exporting the same file twice gives the same ids."""
    return str(uuid.uuid5(_GUID_NAMESPACE, "\x1f".join(parts)))


def _clean(value: str) -> str:
    """Text safe inside XML 1.0 (control characters dropped)."""
    return _ILLEGAL_XML.sub("", value)


def _el(parent: ET.Element | None, tag: str, text: str | None = None, **attrs: Any) -> ET.Element:
    values = {k: _clean(str(v)) for k, v in attrs.items() if v is not None}
    el = ET.Element(_Q + tag, values) if parent is None else ET.SubElement(parent, _Q + tag, values)
    if text is not None:
        el.text = _clean(text)
    return el


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(el: ET.Element, name: str) -> list[ET.Element]:
    return [c for c in el if _local(c.tag) == name]


def _child(el: ET.Element, name: str) -> ET.Element | None:
    found = _children(el, name)
    return found[0] if found else None


def _norm_guid(value: str | None) -> str | None:
    return value.strip().strip("{}").lower() if value else None


def model_label(spec: str | None) -> str:
    """``meldtekst NAME vVERSION`` for a built-in model or model directory (read from its
    meta.json, weights not loaded); a registry URI is used as it is."""
    from meldtekst.models.store import META, default_model_name, models_home, read_meta_json

    spec = str(spec) if spec is not None else default_model_name()
    if spec.startswith(("models:/", "runs:/")):
        return f"{MODEL_USER_PREFIX}{spec}"
    path = Path(spec)
    if not path.is_dir() and "/" not in spec:
        path = models_home() / spec
    meta_file = path / META
    if not meta_file.is_file():
        raise ModelError(f"model '{spec}' not found: not a model directory and not a built-in model")
    meta = read_meta_json(meta_file)
    return f"{MODEL_USER_PREFIX}{meta.get('name', path.name)} v{meta.get('version', '0')}"


# ------------------------------------------------------------------ tagged input


@dataclass
class _Selection:
    theme: str
    start: int
    end: int
    note: str


@dataclass
class _Report:
    id: str
    text: str
    themes: list[str]
    selections: list[_Selection]
    variables: dict[str, str]


def _themes_of(value: Any, cb: Codebook, path: Path, row: int) -> list[str]:
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if is_blank(value):
        return []
    if isinstance(value, str):
        value = [p.strip() for p in value.split(";") if p.strip()]
    if not isinstance(value, list):
        raise InputError("themes must be a list of theme ids", path=path, row=row, column="themes")
    unknown = [v for v in value if v not in cb]
    if unknown:
        raise InputError(f"unknown theme id '{unknown[0]}'", path=path, row=row, column="themes")
    return cb.order(value)


_UITLEG_SPAN = re.compile(r'"(.+?)" \(([+-]?\d+(?:\.\d+)?)\)(?=, "|$)')


def _explanations_of(value: Any, theme_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """Explanations as `tag --explain` writes them: a dict in JSONL, the `uitleg` text in tables."""
    if isinstance(value, str) and value.lstrip().startswith("{"):
        with contextlib.suppress(json.JSONDecodeError):
            value = json.loads(value)
    if isinstance(value, dict):
        return {str(t): [s for s in spans if isinstance(s, dict)] for t, spans in value.items() if spans is not None}
    if is_blank(value) or not isinstance(value, str):
        return {}
    ids = "|".join(sorted(map(re.escape, theme_ids), key=len, reverse=True))
    marks = list(re.finditer(rf"(?:^|; )({ids})(?:: |$|(?=; ))", value))
    out: dict[str, list[dict[str, Any]]] = {}
    for i, m in enumerate(marks):
        part = value[m.end() : marks[i + 1].start() if i + 1 < len(marks) else len(value)]
        out[m.group(1)] = [{"text": s.group(1), "weight": float(s.group(2))} for s in _UITLEG_SPAN.finditer(part)]
    return out


def _locate(text: str, snippet: str, start: Any = None, end: Any = None) -> tuple[int, int] | None:
    """Where ``snippet`` is in ``text``: the given offsets when they fit, else its first
    occurrence (whitespace-insensitive, since table cells collapse line breaks)."""
    if isinstance(start, (int, np.integer)) and isinstance(end, (int, np.integer)):
        s, e = int(start), int(end)
        if 0 <= s < e <= len(text) and text[s:e] == snippet:
            return s, e
    snippet = snippet.strip()
    if not snippet:
        return None
    i = text.find(snippet)
    if i >= 0:
        return i, i + len(snippet)
    m = re.search(r"\s+".join(map(re.escape, snippet.split())), text)
    return m.span() if m else None


def _read_tagged(
    path: Path,
    *,
    text_column: str,
    id_column: str,
    sheet: str | None,
    codes: str,
    variables: Sequence[str] | None,
) -> tuple[list[_Report], list[str], list[str]]:
    """Reports with their selections, the variable columns used, and warnings."""
    cb = load_codebook()
    df = read_all(path, sheet=sheet)
    columns = [str(c) for c in df.columns]
    tcol = require_column(columns, text_column, path, what="text")
    icol = require_column(columns, id_column, path, what="id")
    if "themes" not in columns:
        raise InputError("no 'themes' column: export a file written by `meldtekst tag`", path=path)
    expl_col = "explanations" if "explanations" in columns else "uitleg" if "uitleg" in columns else None
    if codes == "themes+explanations" and expl_col is None:
        raise InputError("no explanations to export: tag the file with `meldtekst tag --explain`", path=path)
    if variables is None:
        var_cols = [c for c in DEFAULT_VARIABLES if c in columns]
    else:
        var_cols = [require_column(columns, v, path, what="variable") for v in variables]
    reports: list[_Report] = []
    warnings: list[str] = []
    unplaced = 0
    seen: Counter[str] = Counter()
    records = df.to_dict(orient="records")
    for row, rec in enumerate(records, start=1):
        text = as_text(rec[tcol])
        themes = _themes_of(rec["themes"], cb, path, row)
        evidence = parse_evidence(rec.get("evidence"), cb.ids)
        selections: list[_Selection] = []
        for theme in themes:
            span = _locate(text, evidence.get(theme, "")) if evidence.get(theme) else None
            unplaced += span is None and bool(evidence.get(theme))
            s, e = span if span else (0, len(text))
            selections.append(_Selection(theme, s, e, "bewijszin" if span else "hele melding"))
        if codes == "themes+explanations" and expl_col is not None:
            for theme, spans in _explanations_of(rec.get(expl_col), cb.ids).items():
                if theme not in themes:
                    continue
                for sp in spans:
                    found = _locate(text, as_text(sp.get("text")), sp.get("start"), sp.get("end"))
                    if found is None:
                        unplaced += 1
                        continue
                    note = f"uitleg {float(sp.get('weight', 0.0)):+.2f}"
                    selections.append(_Selection(theme, found[0], found[1], note))
        rid = as_text(rec[icol]).strip() or f"rij {row}"
        seen[rid] += 1
        name = rid if seen[rid] == 1 else f"{rid} ({seen[rid]})"
        values = {c: as_text(rec[c]).strip() for c in var_cols if not is_blank(rec[c])}
        reports.append(_Report(name, text, themes, selections, values))
    dupes = sum(1 for c in seen.values() if c > 1)
    if dupes:
        warnings.append(f"{dupes} id(s) occur more than once: later copies are named 'ID (2)', …")
    if unplaced:
        warnings.append(f"{unplaced} evidence or explanation span(s) not found in their text: coded the whole report")
    return reports, var_cols, warnings


# ------------------------------------------------------------------ anonymizing


def _nfc_offsets(text: str) -> tuple[str, list[int] | None]:
    """NFC text (what `deidentify` works on) and a map from ``text`` offsets to it (None: same)."""
    if unicodedata.is_normalized("NFC", text):
        return text, None
    mapping = [0] * (len(text) + 1)
    parts: list[str] = []
    pos = 0
    starts = [i for i, ch in enumerate(text) if i == 0 or not unicodedata.combining(ch)] + [len(text)]
    for a, b in itertools.pairwise(starts):
        piece = unicodedata.normalize("NFC", text[a:b])
        for i in range(a, b):
            mapping[i] = pos
        parts.append(piece)
        pos += len(piece)
    mapping[len(text)] = pos
    return "".join(parts), mapping


Ranges = Callable[[int, int], tuple[int, int]]


def replace_with_offsets(text: str, edits: Sequence[tuple[int, int, str]]) -> tuple[str, Ranges]:
    """``text`` with the sorted, non-overlapping (start, end, replacement) edits applied, and
    a map of (start, end) ranges onto the new text; a range boundary inside an edited piece
    moves to that piece's edge, so a range never keeps half of one."""
    parts: list[str] = []
    moved: list[tuple[int, int, int, int]] = []
    pos = new = 0
    for start, end, replacement in edits:
        parts.append(text[pos:start])
        new += start - pos
        parts.append(replacement)
        moved.append((start, end, new, new + len(replacement)))
        new += len(replacement)
        pos = end
    parts.append(text[pos:])

    def shift(p: int, is_end: bool) -> int:
        delta = 0
        for a, b, na, nb in moved:
            if p <= a:
                break
            if p >= b:
                delta = nb - b
                continue
            return nb if is_end else na
        return p + delta

    def ranges(start: int, end: int) -> tuple[int, int]:
        return shift(start, False), shift(end, True)

    return "".join(parts), ranges


def deidentify_with_offsets(text: str) -> tuple[str, Counter[str], Ranges]:
    """`meldtekst.anonymize.deidentify` that also maps (start, end) ranges of ``text`` onto
    the de-identified text, so selections stay on the words they were made for (a range
    inside a replaced name becomes the placeholder)."""
    from meldtekst.anonymize import find_spans

    nfc, to_nfc = _nfc_offsets(text)
    spans = find_spans(nfc) if nfc.strip() else []
    new, ranges = replace_with_offsets(nfc, [(s.start, s.end, f"[{s.category}]") for s in spans])
    counts = Counter(s.category for s in spans)
    if to_nfc is None:
        return new, counts, ranges
    return new, counts, lambda start, end: ranges(to_nfc[start], to_nfc[end])


def unix_newlines(text: str) -> tuple[str, Ranges]:
    """Line breaks as LF only, with the range map: tools that read sources in text mode turn
    CRLF into LF, which would shift every selection after a line break."""
    edits = [(m.start(), m.end(), "\n") for m in re.finditer(r"\r\n?", text)]
    return replace_with_offsets(text, edits) if edits else (text, lambda start, end: (start, end))


# ------------------------------------------------------------------------ export


@dataclass
class ExportSummary:
    input: Path
    output: Path
    user: str
    reports: int = 0
    selections: int = 0
    codes: int = 0
    variables: list[str] = field(default_factory=list)
    anonymized: bool = False
    replaced: Counter[str] = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "input": str(self.input),
            "output": str(self.output),
            "user": self.user,
            "reports": self.reports,
            "selections": self.selections,
            "codes": self.codes,
            "variables": self.variables,
            "anonymized": self.anonymized,
            "replaced": dict(self.replaced.most_common()),
        }


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _variable_type(values: list[str]) -> str:
    def is_date(v: str) -> bool:
        if not _ISO_DATE.match(v):
            return False
        try:
            date.fromisoformat(v)
        except ValueError:
            return False
        return True

    return "Date" if values and all(is_date(v) for v in values) else "Text"


def build_project(
    reports: Sequence[_Report], *, name: str, user: str, variables: Sequence[str], description: str
) -> tuple[ET.Element, dict[str, str]]:
    """The project.qde tree and the source files (zip path -> text)."""
    cb = load_codebook()
    now = _now()
    user_guid = _guid("user", user)
    root = _el(None, "Project", name=name, origin="meldtekst", creatingUserGUID=user_guid, creationDateTime=now)
    users = _el(root, "Users")
    _el(users, "User", guid=user_guid, name=user, id=MODEL_USER_ID)
    codes = _el(_el(root, "CodeBook"), "Codes")
    for gi, (group, group_name) in enumerate(cb.groups.items()):
        colour = GROUP_COLOURS[gi % len(GROUP_COLOURS)]
        g = _el(codes, "Code", guid=_guid("group", group), name=group_name, isCodable="false", color=colour)
        _el(g, "Description", f"Groep '{group}' van het meldtekst-codeboek v{cb.version}")
        for theme in cb.themes:
            if theme.group == group:
                c = _el(g, "Code", guid=_guid("code", theme.id), name=theme.id, isCodable="true", color=colour)
                _el(c, "Description", f"{theme.name}: {theme.definition}")
    var_guids: dict[str, str] = {}
    var_kinds: dict[str, str] = {}
    if variables:
        var_el = _el(root, "Variables")
        for v in variables:
            kind = _variable_type([r.variables[v] for r in reports if v in r.variables])
            var_guids[v], var_kinds[v] = _guid("variable", v), kind
            el = _el(var_el, "Variable", guid=var_guids[v], name=v, typeOfVariable=kind)
            _el(el, "Description", f"kolom '{v}' van de getagde meldingen")
    sources = _el(root, "Sources") if reports else None  # the schema wants >= 1 source in <Sources>
    files: dict[str, str] = {}
    for i, report in enumerate(reports):
        sguid = _guid("source", str(i), report.id)
        files[f"sources/{sguid}.txt"] = report.text
        ts = _el(
            sources,
            "TextSource",
            guid=sguid,
            name=report.id,
            plainTextPath=f"internal://{sguid}.txt",
            creatingUser=user_guid,
            creationDateTime=now,
        )
        for sel in report.selections:
            pguid = _guid("selection", sguid, sel.theme, str(sel.start), str(sel.end), sel.note)
            snippet = " ".join(report.text[sel.start : sel.end].split())
            if len(snippet) > _SELECTION_NAME_CHARS:
                snippet = snippet[: _SELECTION_NAME_CHARS - 1] + "…"
            ps = _el(
                ts,
                "PlainTextSelection",
                guid=pguid,
                name=snippet,
                startPosition=sel.start,
                endPosition=sel.end,
                creatingUser=user_guid,
                creationDateTime=now,
            )
            _el(ps, "Description", f"{sel.theme}: {sel.note} ({user})")
            coding = _el(ps, "Coding", guid=_guid("coding", pguid), creatingUser=user_guid, creationDateTime=now)
            _el(coding, "CodeRef", targetGUID=_guid("code", sel.theme))
        for v in variables:
            if v not in report.variables:
                continue
            vv = _el(ts, "VariableValue")
            _el(vv, "VariableRef", targetGUID=var_guids[v])
            _el(vv, "DateValue" if var_kinds[v] == "Date" else "TextValue", report.variables[v])
    _el(root, "Description", description)
    return root, files


def export_qdpx(
    tagged: str | Path,
    output: str | Path,
    *,
    codes: str = "themes",
    anonymize: bool = False,
    model: str | None = None,
    text_column: str = "tekst",
    id_column: str = "id",
    variables: Sequence[str] | None = None,
    sheet: str | None = None,
) -> ExportSummary:
    """Write the reports of a tagged file (from `meldtekst tag`) as a REFI-QDA project.

    The project is validated against the REFI-QDA schema before it is written, and
    replaces ``output`` only once it is complete.
    """
    src, dst = Path(tagged), Path(output)
    if codes not in CODE_MODES:
        raise InputError(f"--codes must be one of {', '.join(CODE_MODES)}, not '{codes}'")
    if dst.suffix.lower() != ".qdpx":
        raise InputError("a REFI-QDA project file must end in .qdpx", path=dst)
    if not dst.parent.is_dir():
        raise InputError("output folder does not exist", path=dst.parent)
    table_format(src)
    user = model_label(model)
    reports, var_cols, warnings = _read_tagged(
        src, text_column=text_column, id_column=id_column, sheet=sheet, codes=codes, variables=variables
    )
    summary = ExportSummary(input=src, output=dst, user=user, variables=var_cols, anonymized=anonymize)
    summary.warnings.extend(warnings)
    for report in reports:
        if anonymize:
            text, counts, ranges = deidentify_with_offsets(report.text)
            _move(report, text, ranges)
            summary.replaced.update(counts)
        _move(report, *unix_newlines(report.text))
    if anonymize:
        described = ", ".join(f"{c} {n}" for c, n in summary.replaced.most_common()) or "niets gevonden"
        about = f"Teksten gede-identificeerd met meldtekst.anonymize (vervangen: {described})."
    else:
        about = "Teksten zoals aangeleverd, NIET gede-identificeerd."
    if var_cols:
        about += f" Variabelen ongewijzigd overgenomen: {', '.join(var_cols)}."
    description = (
        f"Meldingen uit {src.name}, getagd door {user} ({codes}); elke toegekende code is een selectie "
        f"van die gebruiker. {about}"
    )
    root, files = build_project(reports, name=dst.stem, user=user, variables=var_cols, description=description)
    problems = schema_errors(root, limit=1)
    if problems:  # a bug in this module, not a user mistake: say what broke
        raise MeldtekstError(f"internal error: the project does not follow the REFI-QDA schema ({problems[0]})")
    _write_zip(dst, root, files)
    summary.reports = len(reports)
    summary.selections = sum(len(r.selections) for r in reports)
    summary.codes = len(load_codebook())
    return summary


def _move(report: _Report, text: str, ranges: Ranges) -> None:
    for sel in report.selections:
        sel.start, sel.end = ranges(sel.start, sel.end)
    report.text = text


def _write_zip(dst: Path, root: ET.Element, files: dict[str, str]) -> None:
    ET.register_namespace("", NS)
    ET.indent(root, space=" ")
    xml = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    with atomic_path(dst) as tmp, zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("project.qde", xml)
        for name, text in files.items():
            zf.writestr(name, text.encode("utf-8"))


# ------------------------------------------------------------------------ import


@dataclass
class QdaCoding:
    """One code applied to a source (by a selection in it, or to the source as a whole)."""

    code: str | None  # code GUID
    user: str | None  # user GUID
    start: int | None = None
    end: int | None = None


@dataclass
class QdaSource:
    name: str
    text: str
    codings: list[QdaCoding] = field(default_factory=list)


@dataclass
class QdaProject:
    """What import needs from a project: users, codes, and text sources with their codings."""

    users: dict[str, str]  # GUID -> name
    model_users: set[str]  # GUIDs of users that are meldtekst models
    codes: dict[str, str]  # GUID -> name
    sources: list[QdaSource]
    warnings: list[str] = field(default_factory=list)


@dataclass
class UnpackLimits:
    """How much a project may unpack to; ``total`` counts every member read (a source file named
    by many sources counts each time, since each becomes a row of text)."""

    total: int = DEFAULT_MAX_BYTES
    member: int = MAX_MEMBER_BYTES
    ratio: int = MAX_RATIO

    @classmethod
    def from_env(cls) -> UnpackLimits:
        """The defaults, with ``total`` from $MELDTEKST_QDPX_MAX_BYTES where set (a member never more)."""
        raw = os.environ.get(MAX_BYTES_ENV, "").strip()
        if not raw:
            return cls()
        try:
            total = int(raw)
        except ValueError:
            total = 0
        if total <= 0:
            raise MeldtekstError(f"${MAX_BYTES_ENV} must be a number of bytes > 0, not '{raw[:40]}'")
        return cls(total=total, member=min(MAX_MEMBER_BYTES, total))


def _mb(n: int) -> str:
    return f"{n / (1 << 20):.0f} MB" if n >= 1 << 20 else f"{n} bytes"


class _Unpacker:
    """Reads members in chunks, counting the bytes that really come out (a zip header can lie
    about a member's size), and stops at the first limit with one line."""

    def __init__(self, zf: zipfile.ZipFile, path: Path, limits: UnpackLimits) -> None:
        self.zf = zf
        self.path = path
        self.limits = limits
        self.used = 0

    def _too_much(self, name: str, what: str) -> InputError:
        return InputError(
            f"'{name}' in the project {what}; not read (a damaged or malicious project?). "
            f"To read larger projects set ${MAX_BYTES_ENV} (bytes)",
            path=self.path,
        )

    def read(self, name: str) -> bytes:
        lim = self.limits
        info = self.zf.getinfo(name)
        if info.file_size > lim.member:
            raise self._too_much(name, f"is larger than {_mb(lim.member)} ({info.file_size} bytes)")
        buf = bytearray()
        try:
            with self.zf.open(info) as fh:
                while chunk := fh.read(_READ_CHUNK):
                    buf += chunk
                    if len(buf) > lim.member:
                        raise self._too_much(name, f"unpacks to more than {_mb(lim.member)}")
                    if self.used + len(buf) > lim.total:
                        raise self._too_much(name, f"takes the project past {_mb(lim.total)} unpacked")
                    if len(buf) > RATIO_FLOOR and len(buf) > lim.ratio * max(info.compress_size, 1):
                        raise self._too_much(name, f"unpacks to more than {lim.ratio} times its packed size")
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, OSError) as exc:
            detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise InputError(f"'{name}' in the project cannot be unpacked ({detail})", path=self.path) from None
        self.used += len(buf)
        return bytes(buf)


def _depth(root: ET.Element) -> int:
    """How deep elements nest (without recursion, which is what this guards against)."""
    deepest = 0
    stack = [(root, 1)]
    while stack:
        el, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > MAX_XML_DEPTH:
            break
        stack.extend((child, depth + 1) for child in el)
    return deepest


def read_qdpx(project: str | Path, *, limits: UnpackLimits | None = None) -> QdaProject:
    """Parse a .qdpx project: its users, codes and the text sources with their codings.

    ``limits`` (default: `UnpackLimits.from_env`) bound what the archive may unpack to.
    """
    path = Path(project)
    limits = limits or UnpackLimits.from_env()
    if not path.is_file():
        raise InputError("file does not exist" if not path.exists() else "is not a file", path=path)
    if not zipfile.is_zipfile(path):
        raise InputError("not a REFI-QDA project (a .qdpx file is a zip archive; this file is not one)", path=path)
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"not a readable zip archive ({exc})", path=path) from None
    with zf:
        names = zf.namelist()
        qde = [n for n in names if n.lower().endswith(".qde") and "/" not in n.strip("/")]
        if not qde:
            raise InputError("not a REFI-QDA project: the archive has no project.qde", path=path)
        unpack = _Unpacker(zf, path, limits)
        try:
            root = ET.fromstring(unpack.read(qde[0]))
        except ET.ParseError as exc:
            raise InputError(f"{qde[0]} is not valid XML ({exc})", path=path) from None
        if _local(root.tag) != "Project":
            raise InputError(f"{qde[0]} is not a REFI-QDA project (root element <{_local(root.tag)}>)", path=path)
        if _depth(root) > MAX_XML_DEPTH:
            raise InputError(
                f"{qde[0]} nests elements more than {MAX_XML_DEPTH} levels deep (codes within codes?); "
                "not a project meldtekst can read",
                path=path,
            )
        warnings = []
        if root.tag != _Q + "Project":
            warnings.append(f"{qde[0]} lacks the REFI-QDA namespace {NS}; read anyway")
        else:
            try:
                problems = schema_errors(root, limit=1)
            except RecursionError:
                problems = ["too deeply nested to check"]
            if problems:
                warnings.append(f"{qde[0]} does not follow the REFI-QDA schema ({problems[0]}); read anyway")
        by_lower = {n.lower(): n for n in names}
        return _parse_project(root, unpack, by_lower, path, warnings)


def _parse_project(
    root: ET.Element, unpack: _Unpacker, by_lower: dict[str, str], path: Path, warnings: list[str]
) -> QdaProject:
    users: dict[str, str] = {}
    model_users: set[str] = set()
    users_el = _child(root, "Users")
    for u in _children(users_el, "User") if users_el is not None else []:
        guid = _norm_guid(u.get("guid"))
        if guid is None:
            continue
        users[guid] = u.get("name") or u.get("id") or guid
        if u.get("id") == MODEL_USER_ID or users[guid].startswith(MODEL_USER_PREFIX):
            model_users.add(guid)
    codes: dict[str, str] = {}
    codebook = _child(root, "CodeBook")
    codes_el = _child(codebook, "Codes") if codebook is not None else None
    stack = [codes_el] if codes_el is not None else []
    while stack:  # codes nest in codes; a loop, not recursion, whatever the depth
        for c in reversed(_children(stack.pop(), "Code")):
            guid = _norm_guid(c.get("guid"))
            if guid:
                codes[guid] = (c.get("name") or "").strip()
            stack.append(c)
    sources: list[QdaSource] = []
    skipped = 0
    sources_el = _child(root, "Sources")
    for el in list(sources_el) if sources_el is not None else []:
        if _local(el.tag) != "TextSource":
            skipped += 1
            continue
        name = el.get("name") or el.get("guid") or f"bron {len(sources) + 1}"
        source = QdaSource(name=name, text=_source_text(el, unpack, by_lower, path, name))
        for sel in _children(el, "PlainTextSelection"):
            start, end = _int(sel.get("startPosition")), _int(sel.get("endPosition"))
            for coding in _children(sel, "Coding"):
                user = _norm_guid(coding.get("creatingUser") or sel.get("creatingUser"))
                source.codings.append(QdaCoding(_code_ref(coding), user, start, end))
        for coding in _children(el, "Coding"):
            user = _norm_guid(coding.get("creatingUser") or el.get("creatingUser"))
            source.codings.append(QdaCoding(_code_ref(coding), user))
        sources.append(source)
    if skipped:
        warnings.append(f"{skipped} non-text source(s) (PDF, picture, audio, video) skipped")
    return QdaProject(users=users, model_users=model_users, codes=codes, sources=sources, warnings=warnings)


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _code_ref(coding: ET.Element) -> str | None:
    ref = _child(coding, "CodeRef")
    return _norm_guid(ref.get("targetGUID")) if ref is not None else None


def _source_text(el: ET.Element, unpack: _Unpacker, by_lower: dict[str, str], path: Path, name: str) -> str:
    content = _child(el, "PlainTextContent")
    if content is not None:
        return content.text or ""
    ref = el.get("plainTextPath")
    if not ref:
        raise InputError(f"source '{name}' has no plain text (no plainTextPath or PlainTextContent)", path=path)
    if not ref.startswith("internal://"):
        raise InputError(
            f"source '{name}' keeps its text outside the project ({ref}); export with internal sources", path=path
        )
    file = ref[len("internal://") :].lstrip("/")
    member = by_lower.get(f"sources/{file}".lower()) or by_lower.get(file.lower())
    if member is None:
        raise InputError(f"source '{name}': {ref} is missing from the archive", path=path)
    data = unpack.read(member)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise InputError(f"source '{name}': {member} is not readable UTF-16 text", path=path) from None
    # one character per byte, so selection positions still fit; bytes cp1252 lacks become U+FFFD
    return data.decode("cp1252", errors="replace")


@dataclass
class ImportSummary:
    input: Path
    output: Path
    coder: str
    reports: int = 0
    labelled: int = 0
    coders: list[str] = field(default_factory=list)
    label_counts: Counter[str] = field(default_factory=Counter)
    ignored_codes: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "input": str(self.input),
            "output": str(self.output),
            "coder": self.coder,
            "coders": self.coders,
            "reports": self.reports,
            "labelled": self.labelled,
            "label_counts": dict(self.label_counts.most_common()),
            "ignored_codes": self.ignored_codes,
        }


def _coder_filter(project: QdaProject, coder: str, path: Path) -> tuple[Callable[[str | None], bool], list[str]]:
    """Which codings count, and the names of the users they come from."""
    present = {c.user for s in project.sources for c in s.codings}
    if coder == "all":
        return (lambda _u: True), sorted({project.users.get(u or "", "(zonder gebruiker)") for u in present})
    if coder == "humans":
        humans = {u for u in present if u not in project.model_users}
        return (lambda u: u not in project.model_users), sorted(
            {project.users.get(u or "", "(zonder gebruiker)") for u in humans}
        )
    wanted = {g for g, n in project.users.items() if n.casefold() == coder.casefold()}
    if not wanted:
        known = ", ".join(repr(n) for n in sorted(set(project.users.values()))) or "(none)"
        raise InputError(f"no user '{coder}' in the project; users are: {known}", path=path)
    return (lambda u: u in wanted), [coder]


def project_labels(
    project: QdaProject, *, coder: str = "humans", ignore_unknown: bool = False, path: Path | None = None
) -> tuple[list[dict[str, Any]], ImportSummary]:
    """Rows ``{id, tekst, labels}`` (one per text source) and what was counted."""
    cb = load_codebook()
    path = path or Path("project.qdpx")
    keep, coders = _coder_filter(project, coder, path)
    by_name = {t.casefold(): t for t in cb.ids}
    summary = ImportSummary(input=path, output=Path(), coder=coder, coders=coders)
    unknown: Counter[str] = Counter()
    rows = []
    for source in project.sources:
        labels = set()
        for coding in source.codings:
            if not keep(coding.user):
                continue
            name = project.codes.get(coding.code or "")
            theme = by_name.get(name.casefold()) if name is not None else None
            if theme is None:
                unknown[name if name is not None else f"(unknown code {coding.code})"] += 1
                continue
            labels.add(theme)
        rows.append({"id": source.name, "tekst": source.text, "labels": cb.order(labels)})
    if unknown and not ignore_unknown:
        listed = ", ".join(f"'{n}' ({c} coding{'s' if c > 1 else ''})" for n, c in unknown.most_common())
        raise InputError(
            f"code(s) that are not theme ids: {listed}; rename them to theme ids or use --ignore-unknown", path=path
        )
    summary.ignored_codes = dict(unknown.most_common())
    summary.warnings.extend(project.warnings)
    summary.reports = len(rows)
    summary.labelled = sum(1 for r in rows if r["labels"])
    summary.label_counts = Counter(t for r in rows for t in r["labels"])
    names = Counter(r["id"] for r in rows)
    dupes = [n for n, c in names.items() if c > 1]
    if dupes:
        summary.warnings.append(f"{len(dupes)} source name(s) occur more than once, e.g. '{dupes[0]}': rows kept")
    if unknown:
        summary.warnings.append(
            "ignored codes that are not theme ids: " + ", ".join(f"'{n}' ({c})" for n, c in unknown.most_common())
        )
    if rows and not coders:
        hint = " (the model's codings are left out; use --coder all to include them)" if coder == "humans" else ""
        summary.warnings.append(f"no codings by {coder}{hint}: every report gets no labels")
    return rows, summary


def import_qdpx(
    project: str | Path,
    output: str | Path,
    *,
    coder: str = "humans",
    ignore_unknown: bool = False,
    limits: UnpackLimits | None = None,
) -> ImportSummary:
    """Read a REFI-QDA project back into labelled training data (id, tekst, labels)."""
    src, dst = Path(project), Path(output)
    fmt = table_format(dst)
    parsed = read_qdpx(src, limits=limits)
    rows, summary = project_labels(parsed, coder=coder, ignore_unknown=ignore_unknown, path=src)
    summary.output = dst
    frame = pd.DataFrame(rows, columns=["id", "tekst", "labels"])
    if fmt != "jsonl":
        frame["labels"] = [";".join(ls) for ls in frame["labels"]]
    with TableWriter(dst) as writer:
        writer.write(frame)
    return summary


__all__ = [
    "CODE_MODES",
    "ExportSummary",
    "ImportSummary",
    "QdaProject",
    "UnpackLimits",
    "build_project",
    "deidentify_with_offsets",
    "export_qdpx",
    "import_qdpx",
    "model_label",
    "project_labels",
    "project_schema",
    "read_qdpx",
    "schema_errors",
]
