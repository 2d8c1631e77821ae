"""The report's tables in Markdown, for pasting into a note, a wiki or a pull request."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from meldtekst.reporting.counts import (
    HIGHLIGHT_NOTE,
    PERIOD_TITLES,
    SECONDARY,
    Report,
    Table,
    count_notes,
    nl_date,
    suppression_notes,
)
from meldtekst.reporting.format import cell, number

if TYPE_CHECKING:
    from meldtekst.reporting.quotes import Quote

_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")  # only what could start an HTML tag; "< 5" stays readable


def _escape(text: str) -> str:
    text = text.replace("\\", "\\\\").replace("|", "\\|")
    return " ".join(_TAG_START.sub("&lt;", text).split())


def quote_md(quote: Quote) -> str:
    """The quote on one line with its highlights in ``**bold**``; each piece is escaped on its
    own, ``*`` and ``_`` too, so the quote's own characters can never open or close emphasis."""
    out = []
    for piece, marked in quote.segments():
        text = _TAG_START.sub("&lt;", piece.replace("\\", "\\\\").replace("|", "\\|"))
        text = text.replace("*", "\\*").replace("_", "\\_").replace("\n", " ")
        core = text.strip()
        if marked and core:  # emphasis must start and end at a non-space to count as emphasis
            text = f"{text[: len(text) - len(text.lstrip())]}**{core}**{text[len(text.rstrip()) :]}"
        out.append(text)
    return "".join(out)


def _text(value: object) -> bool:
    """Text that is not a hidden count ("< 5", "×"): such a column aligns left."""
    return isinstance(value, str) and value != SECONDARY and not value.startswith("< ")


def table_md(table: Table) -> str:
    frame = table.frame
    if frame.empty:
        return f"_{_escape(table.empty or 'Deze tabel is leeg.')}_"
    right = [not all(_text(v) for v in frame[c].tolist()) for c in frame.columns]
    lines = [
        "| " + " | ".join(_escape(str(c)) for c in frame.columns) + " |",
        "|" + "|".join("---:" if r else "---" for r in right) + "|",
    ]
    for values in frame.itertuples(index=False, name=None):
        cells = [_escape(cell(v, c, table.percent)) for c, v in zip(frame.columns, values, strict=True)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def render_md(report: Report) -> str:
    """The whole report as one Markdown string."""
    k = report.min_count
    m = report.model
    out = [
        "# Meldingen over dwang en drang",
        "",
        f"- Periode: {report.period_text}",
        f"- Meldingen: {number(report.n_reports)} (met minstens één thema: {number(report.n_with_theme)}; "
        f"zonder datum: {number(report.n_undated)}"
        + (
            f"; buiten de periode, niet meegeteld: {number(report.n_outside)}"
            if report.date_from or report.date_to
            else ""
        )
        + ")",
        f"- Bron: {_escape(report.source)}",
        f"- Aantallen onder {k} staan er als '< {k}' (altijd 1 tot en met {k - 1}), zonder aandeel en interval"
        + (f"; '{SECONDARY}' is verborgen om zo'n klein aantal te beschermen." if report.secondary_used else "."),
        "- "
        + (
            f"Met de hand gecontroleerd: {report.estimates.verified} meldingen; de geschatte aantallen hebben een "
            "95%-interval dat ook de fouten van het model dekt."
            if report.estimates is not None
            else "Niet met de hand gecontroleerd: alle aantallen zijn die van het model."
        ),
        "",
    ]
    headings = {
        "themas": "Thema's",
        "groepen": "Groepen van thema's",
        "trend": f"Verloop {PERIOD_TITLES[report.by]}",
        "sector": "Per sector",
        "rol": "Per rol van de melder",
        "combinaties": "Meest voorkomende combinaties van thema's",
        "samen": "Thema's die samen voorkomen",
    }
    for key, heading in headings.items():
        table = report.tables.get(key)
        if table is None:
            continue
        out += [f"## {heading}", "", table_md(table), ""]
        if table.note:
            out += [f"_{_escape(table.note)}_", ""]
    if report.quotes:
        out += ["## Citaten (geanonimiseerd)", ""]
        if report.highlighted_by:
            out += [_escape(HIGHLIGHT_NOTE.format(model=report.highlighted_by).replace("Gemarkeerd:", "Vet:")), ""]
        for theme, quotes in report.quotes.items():
            out += [f"### {report.theme_names[theme]}", ""]
            out += [f"> {quote_md(q)}\n" for q in quotes]
    out += ["## Methode en betrouwbaarheid", ""]
    for line in count_notes(report):
        out += [_escape(line), ""]
    if m.available:
        line = f"Thema's toegekend door model {m.name} (versie {m.version}); F1 per thema gemeten op een testset"
        line += f" van {m.test_rows} meldingen." if m.test_rows else "."
        if m.micro_f1 is not None:
            line += f" Micro-F1 {number(m.micro_f1)}, macro-F1 {number(m.macro_f1)}."
        if m.note:
            line += f" Let op: {m.note}."
        out += [line, ""]
        if "model" in report.tables and m.per_theme:
            out += [table_md(report.tables["model"]), ""]
    else:
        out += [
            f"Geen meetgegevens van het model beschikbaar ({m.note}): de betrouwbaarheid per thema is onbekend.",
            "",
        ]
    out += [
        "Aandeel = meldingen met het thema / alle meldingen in de periode. Een melding kan meerdere thema's "
        "hebben. Een schooljaar loopt van 1 augustus tot en met 31 juli. "
        + " ".join(suppression_notes(report))
        + f" Rollen met minder dan {k} meldingen zijn samengevoegd.",
        "",
        f"_Gemaakt met meldtekst op {nl_date(report.generated)}._",
        "",
    ]
    return "\n".join(out)
