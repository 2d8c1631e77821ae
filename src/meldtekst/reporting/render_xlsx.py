"""The report's tables in Excel: one sheet each, numbers as numbers (shares as percentages),
suppressed counts as the text "< 5" (or "×" where hidden to protect another cell), aligned
right like the numbers around them, and a sheet that explains every other sheet."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from meldtekst.reporting.counts import SECONDARY, Report, Table, count_notes, suppression_notes

if TYPE_CHECKING:
    from meldtekst.reporting.quotes import Quote

_MARK_COLOUR = "9C5700"

_SHEETS = {
    "overzicht": "Overzicht",
    "themas": "Themas",
    "groepen": "Groepen",
    "trend": "Verloop",
    "sector": "Sector",
    "rol": "Rol",
    "combinaties": "Combinaties",
    "samen": "Samen",
    "model": "Model",
    "citaten": "Citaten",
}


def _value(value: Any) -> Any:
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _write_sheet(wb: Any, name: str, table: Table, overrides: dict[tuple[int, str], Any] | None = None) -> None:
    """One sheet from ``table``; ``overrides`` replaces the value of (row, column) cells (rich text)."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Alignment, Font

    ws = wb.create_sheet(name[:31])
    frame = table.frame
    widths = [min(60, max(10, len(str(c)) + 2)) for c in frame.columns]
    for values in frame.itertuples(index=False, name=None):
        for i, v in enumerate(values):
            widths[i] = min(60, max(widths[i], len(str(_value(v))) + 2 if isinstance(_value(v), str) else 10))
    for i, w in enumerate(widths):
        ws.column_dimensions[_letter(i)].width = w
    ws.freeze_panes = "B2"
    header = []
    for c in frame.columns:
        hc = WriteOnlyCell(ws, value=str(c))
        hc.font = Font(bold=True)
        header.append(hc)
    ws.append(header)
    for r, values in enumerate(frame.itertuples(index=False, name=None)):
        row = []
        for column, raw in zip(frame.columns, values, strict=True):
            v = _value(raw)
            if overrides and (r, column) in overrides:
                row.append(WriteOnlyCell(ws, value=overrides[(r, column)]))
                continue
            c = WriteOnlyCell(ws, value=ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v)
            if isinstance(v, str):
                c.data_type = "s"  # text stays text: never a formula
                if v == SECONDARY or v.startswith("< "):
                    c.alignment = Alignment(horizontal="right")  # a hidden count lines up with the numbers
            elif isinstance(v, float):
                c.number_format = "0.0%" if column in table.percent else "0.00"
            row.append(c)
        ws.append(row)
    if frame.empty and table.empty:
        ws.append([ILLEGAL_CHARACTERS_RE.sub("", table.empty)])


def quote_rich_text(quote: Quote) -> Any:
    """The quote as an Excel rich-text value, its highlights bold and dark orange (a cell has no
    background per character); plain text when nothing is highlighted."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.cell.rich_text import CellRichText, TextBlock
    from openpyxl.cell.text import InlineFont

    parts = [(ILLEGAL_CHARACTERS_RE.sub("", piece), marked) for piece, marked in quote.segments()]
    if not any(marked for _, marked in parts):
        return "".join(piece for piece, _ in parts)
    font = InlineFont(b=True, color=_MARK_COLOUR)
    return CellRichText([TextBlock(font, piece) if marked else piece for piece, marked in parts if piece])


def _quote_cells(report: Report) -> dict[tuple[int, str], Any]:
    """Rich text for the "Citaat" column, in the row order of the citaten table."""
    quotes = [q for qs in report.quotes.values() for q in qs]
    return {(r, "Citaat"): quote_rich_text(q) for r, q in enumerate(quotes) if q.spans}


def _letter(i: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(i + 1)


def write_xlsx(report: Report, path: Path) -> None:
    """Write the workbook to ``path`` (the caller makes it atomic)."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    for key, name in _SHEETS.items():
        table = report.tables.get(key)
        if table is not None:
            _write_sheet(wb, name, table, _quote_cells(report) if key == "citaten" else None)
    import pandas as pd

    notes = [
        {"Blad": _SHEETS[key], "Inhoud": table.title, "Toelichting": table.note}
        for key, table in report.tables.items()
        if key in _SHEETS
    ]
    notes.append({"Blad": "(alle)", "Inhoud": "Kleine aantallen", "Toelichting": " ".join(suppression_notes(report))})
    notes += [
        {"Blad": "Themas", "Inhoud": "Herkomst van de aantallen", "Toelichting": line} for line in count_notes(report)
    ]
    _write_sheet(wb, "Uitleg", Table("uitleg", "Uitleg", pd.DataFrame(notes)))
    wb.save(path)
