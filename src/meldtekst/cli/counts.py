"""`meldtekst counts`: per theme the tagged count, the estimated true count and its 95 % interval."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from meldtekst.cli._app import app, echo_warnings
from meldtekst.io import check_readable
from meldtekst.reporting.counts import PERIODS


def _line(name: str, tagged: object, estimate: float | None, low: float | None, high: float | None) -> str:
    if estimate is None or low is None or high is None:
        return f"{name:<34} {tagged!s:>7} {'–':>9}   (no estimate)"
    return f"{name:<34} {tagged!s:>7} {estimate:>9.1f}   [{low:.1f}, {high:.1f}]"


@app.command("counts", epilog="Example: meldtekst counts getagd.csv --verified TE_CONTROLEREN.xlsx --by kwartaal")
def counts_cli(
    tagged: Path = typer.Argument(..., metavar="TAGGED", help="A file written by `meldtekst tag`."),
    verified: Path = typer.Option(
        None,
        "--verified",
        metavar="FILE",
        help="The checked sample from `verify-sample` (the filled-in .xlsx, `labelstudio import` output, "
        "or any JSONL/CSV with 'id' and 'labels'): estimates by prediction-powered inference.",
    ),
    by: str = typer.Option(None, "--by", metavar="PERIOD", help=f"Also per {' | '.join(PERIODS)}."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (counts, not shares; every theme)."),
    sheet: str = typer.Option(None, "--sheet", metavar="NAME", help="Excel sheet of TAGGED to read."),
) -> None:
    """Print per theme the reports tagged, the estimated number that really have the theme, and a 95 %
    interval. With --verified the estimate corrects the model's errors with the checked sample (PPI++);
    without it, it is the tagged count with a Wilson interval that covers sampling only.
    """
    from meldtekst.codebook import load_codebook
    from meldtekst.labelling.verification import read_verified
    from meldtekst.reporting.data import load_tagged
    from meldtekst.reporting.estimates import count_estimates, grouped_estimates, groups_for

    check_readable(tagged)
    if verified is not None:
        check_readable(verified)
    data = load_tagged(tagged, sheet=sheet)
    sample = read_verified(verified, data) if verified is not None else None
    groups, order = groups_for(data, by) if by else ([], [])
    overall = count_estimates(data, sample)
    parts = grouped_estimates(data, sample, groups, order) if by else []
    echo_warnings(sample.warnings if sample is not None else [])
    if as_json:
        doc = overall.as_dict()
        if by:
            doc["by"] = by
            doc["periods"] = [{"period": p.label, **p.as_dict(), "note": p.note} for p in parts]
        typer.echo(json.dumps(doc, ensure_ascii=False))
        return
    cb = load_codebook()
    head = f"{overall.reports} reports"
    if sample is not None:
        head += f", {overall.verified} verified" + (f" (sample seed {sample.seed})" if sample.seed is not None else "")
    out = [head, f"method: {overall.method}", ""]
    for part in [overall, *parts]:
        if part.label:
            out += ["", f"{by} {part.label}: {part.reports} reports, {part.verified} verified"]
            if part.note:
                out.append(f"  {part.note}")
        out.append(f"{'theme':<34} {'tagged':>7} {'estimate':>9}   95% interval")
        out += [_line(cb[t.id].name, t.tagged, t.estimate, t.low, t.high) for t in part.themes]
    typer.echo("\n".join(out))
