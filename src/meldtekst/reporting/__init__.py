"""Lobby reports from a tagged file: theme counts with uncertainty, trends, co-occurrence,
charts and de-identified quotes, as one HTML page, an Excel workbook or Markdown.

`build_report` computes (numbers, never text beyond de-identified quotes);
`write_report` renders by the output's extension; `report_file` does both.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from meldtekst.errors import InputError
from meldtekst.io import atomic_path
from meldtekst.reporting.counts import PERIODS, Report, build_report, model_info, wilson
from meldtekst.reporting.data import load_tagged, parse_date

REPORT_FORMATS = {".html": "html", ".htm": "html", ".xlsx": "xlsx", ".md": "md", ".markdown": "md"}


def report_format(path: str | Path) -> str:
    """html, xlsx or md from the output's extension, or fail naming the choices."""
    suffix = Path(path).suffix.lower()
    if suffix not in REPORT_FORMATS:
        raise InputError(f"unknown report type '{suffix or '(none)'}'; use .html, .xlsx or .md", path=path)
    return REPORT_FORMATS[suffix]


def write_report(report: Report, path: str | Path) -> Path:
    """Render ``report`` by extension into a temp file beside ``path``, then move it into place."""
    path = Path(path)
    fmt = report_format(path)
    with atomic_path(path) as tmp:
        if fmt == "html":
            from meldtekst.reporting.render_html import render_html

            tmp.write_text(render_html(report), encoding="utf-8")
        elif fmt == "md":
            from meldtekst.reporting.render_md import render_md

            tmp.write_text(render_md(report), encoding="utf-8")
        else:
            from meldtekst.reporting.render_xlsx import write_xlsx

            write_xlsx(report, tmp)
    return path


def report_file(input_path: str | Path, output_path: str | Path, **kwargs: Any) -> Report:
    """Build the report of a tagged file and write it; charts only where the format shows them."""
    fmt = report_format(output_path)
    if Path(input_path).resolve() == Path(output_path).resolve():
        raise InputError("output must not be the input file", path=output_path)
    kwargs.setdefault("charts", fmt == "html")
    report = build_report(input_path, **kwargs)
    write_report(report, output_path)
    return report


__all__ = [
    "PERIODS",
    "REPORT_FORMATS",
    "Report",
    "build_report",
    "load_tagged",
    "model_info",
    "parse_date",
    "report_file",
    "report_format",
    "wilson",
    "write_report",
]
