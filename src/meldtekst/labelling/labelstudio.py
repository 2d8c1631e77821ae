"""Label Studio round trip: the labelling interface for the codebook, and its JSON export back to training data.

Label Studio runs as its own server (its pins differ from ours), so this module only writes
and reads its file formats: the XML config and the JSON export (``Export -> JSON``).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from meldtekst.codebook import Codebook, load_codebook
from meldtekst.errors import InputError
from meldtekst.io import write_table

CONTROL = "themes"
TEXT_FIELD = "tekst"
POLICIES = ("majority", "all", "first")
# task fields Label Studio or meldtekst add that are not report columns
_NOT_COLUMNS = {"labels", "annotator", "labelstudio_task", "annotated_at"}


def short_definition(definition: str, limit: int = 220) -> str:
    """The first sentence of a definition (cut at ``limit``): enough for a hover hint."""
    first = definition.split(". ")[0].rstrip(".") + "."
    return first if len(first) <= limit else first[: limit - 1].rstrip() + "…"


def label_config(codebook: Codebook | None = None, *, text_field: str = TEXT_FIELD) -> str:
    """The labelling interface: the report, then one multi-select ``themes`` control over every
    theme id, grouped as in the codebook, each with its short definition as hover hint."""
    cb = codebook or load_codebook()
    view = ET.Element("View")
    ET.SubElement(view, "Header", value="Melding $id", size="4")
    ET.SubElement(view, "Text", name=text_field, value=f"${text_field}", granularity="word")
    ET.SubElement(view, "Header", value="Thema's (meerdere mogelijk; wijs een thema aan voor de definitie)", size="5")
    choices = ET.SubElement(
        view, "Choices", name=CONTROL, toName=text_field, choice="multiple", showInline="true", required="false"
    )
    for group, title in cb.groups.items():
        ids = cb.in_group(group)
        if not ids:
            continue
        box = ET.SubElement(choices, "View", style="margin-top: 8px")
        ET.SubElement(box, "Header", value=title, size="6")
        for theme_id in ids:
            ET.SubElement(box, "Choice", value=theme_id, hint=short_definition(cb[theme_id].definition))
    ET.indent(view, space="  ")
    return ET.tostring(view, encoding="unicode") + "\n"


@dataclass
class ImportSummary:
    """What an import did, as counts and ids (never text), for the CLI to print."""

    tasks: int = 0
    rows: int = 0
    annotations_used: int = 0
    cancelled: int = 0
    unannotated: list[str] = field(default_factory=list)
    ties: list[tuple[str, str]] = field(default_factory=list)  # (report id, theme)
    annotators: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "tasks": self.tasks,
            "rows_written": self.rows,
            "annotations_used": self.annotations_used,
            "cancelled_or_skipped": self.cancelled,
            "unannotated_tasks": self.unannotated,
            "ties": [{"id": i, "theme": t} for i, t in self.ties],
            "annotations_per_annotator": dict(self.annotators),
        }


def _annotator(ann: dict[str, Any]) -> str:
    who = ann.get("completed_by")
    if isinstance(who, dict):
        return str(who.get("email") or who.get("username") or who.get("id"))
    if ann.get("created_username"):
        return str(ann["created_username"]).split(",")[0].strip() or str(who)
    return str(who) if who is not None else "unknown"


def _themes_of(ann: dict[str, Any], path: Path, task_ref: str, codebook: Codebook, controls: Counter[str]) -> list[str]:
    result = ann.get("result") or []
    if not isinstance(result, list):
        raise InputError(f"task {task_ref}: annotation 'result' is not a list", path=path)
    chosen: list[str] = []
    for item in result:
        if not isinstance(item, dict):
            raise InputError(f"task {task_ref}: annotation result item is not an object", path=path)
        controls[str(item.get("from_name"))] += 1
        if item.get("from_name") != CONTROL:
            continue
        value = item.get("value") or {}
        if not isinstance(value, dict):
            raise InputError(f"task {task_ref}: '{CONTROL}' result 'value' is not an object", path=path)
        values = value.get("choices")
        if not isinstance(values, list):
            raise InputError(f"task {task_ref}: '{CONTROL}' result has no 'choices' list", path=path)
        odd = [v for v in values if not isinstance(v, str)]
        if odd:
            kind = type(odd[0]).__name__
            raise InputError(f"task {task_ref}: a choice is a {kind}, not a theme id (text)", path=path)
        unknown = [v for v in values if v not in codebook]
        if unknown:
            raise InputError(
                f"task {task_ref}: unknown theme id(s) {', '.join(map(str, unknown))} (not in codebook "
                f"v{codebook.version}; make the project with `meldtekst labelstudio config`)",
                path=path,
            )
        chosen.extend(values)
    return codebook.order(chosen)


_MAX_DATA_DEPTH = 50  # task data are report fields: a few levels; writers recurse through them


def _depth(value: Any) -> int:
    """How deep lists and objects nest in ``value``, counted without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, depth)
            if depth > _MAX_DATA_DEPTH:
                break
            stack.extend((v, depth + 1) for v in item)
    return deepest


def _tasks(path: Path) -> list[dict[str, Any]]:
    from meldtekst.labelling.files import read_json

    doc = read_json(path, what="Label Studio JSON export")
    if not isinstance(doc, list):
        raise InputError("not a Label Studio JSON export (expected a list of tasks)", path=path)
    for n, task in enumerate(doc, start=1):
        if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
            raise InputError(
                f"task {n} has no 'data' object; export with the 'JSON' format, not JSON-MIN/CSV", path=path
            )
        if _depth(task["data"]) > _MAX_DATA_DEPTH:
            raise InputError(f"task {n}: 'data' nests lists or objects more than {_MAX_DATA_DEPTH} deep", path=path)
        if "annotations" in task and not isinstance(task["annotations"], list):
            raise InputError(f"task {n}: 'annotations' is not a list", path=path)
    return doc


def read_export(
    path: str | Path, *, policy: str = "majority", text_field: str = TEXT_FIELD, codebook: Codebook | None = None
) -> tuple[pd.DataFrame, ImportSummary]:
    """Training rows (spec schema: id, tekst, labels + the task's other data fields) from an export.

    Cancelled or skipped annotations are dropped and counted; tasks without an annotation are
    listed, not invented. ``majority`` keeps themes chosen by more than half of a task's
    annotators (a theme chosen by exactly half is a tie: left out and listed), ``first`` keeps
    the earliest annotation, ``all`` writes one row per annotation with an ``annotator`` column.
    Rows are ordered by annotation time, so where ids repeat the last row is the newest label.
    """
    if policy not in POLICIES:
        raise InputError(f"unknown annotator policy '{policy}' (use {', '.join(POLICIES)})")
    path = Path(path)
    cb = codebook or load_codebook()
    summary = ImportSummary()
    controls: Counter[str] = Counter()
    rows: list[dict[str, Any]] = []
    for n, task in enumerate(_tasks(path), start=1):
        summary.tasks += 1
        data = task["data"]
        rid = str(data.get("id") if data.get("id") not in (None, "") else f"ls-{task.get('id', n)}")
        ref = f"{n} (id {rid})"
        if not isinstance(data.get(text_field), str) or not data[text_field].strip():
            raise InputError(f"task {ref}: no text in data field '{text_field}'", path=path)
        done = []
        for ann in task.get("annotations") or []:
            if not isinstance(ann, dict):
                raise InputError(f"task {ref}: annotation is not an object", path=path)
            if ann.get("was_cancelled"):
                summary.cancelled += 1
                continue
            done.append((str(ann.get("created_at") or ""), _annotator(ann), _themes_of(ann, path, ref, cb, controls)))
        if not done:
            summary.unannotated.append(rid)
            continue
        done.sort(key=lambda d: d[0])
        base = {k: v for k, v in data.items() if k not in _NOT_COLUMNS and k not in ("id", text_field)}
        base = {"id": rid, "tekst": data[text_field], **base, "labelstudio_task": task.get("id")}
        if policy == "all":
            for when, who, labels in done:
                rows.append({**base, "labels": labels, "annotator": who, "annotated_at": when})
                summary.annotators[who] += 1
            summary.annotations_used += len(done)
            continue
        if policy == "first":
            done = done[:1]
        votes = Counter(t for _, _, labels in done for t in labels)
        labels = cb.order(t for t, c in votes.items() if 2 * c > len(done))
        summary.ties.extend((rid, t) for t in cb.order(t for t, c in votes.items() if 2 * c == len(done)))
        summary.annotations_used += len(done)
        summary.annotators.update(who for _, who, _ in done)
        rows.append({**base, "labels": labels, "annotated_at": done[-1][0]})
    if controls and CONTROL not in controls:
        raise InputError(
            f"no '{CONTROL}' control in the annotations (found {', '.join(sorted(controls))}); "
            "make the project with `meldtekst labelstudio config`",
            path=path,
        )
    rows.sort(key=lambda r: r["annotated_at"])
    summary.rows = len(rows)
    return pd.DataFrame(rows), summary


def import_export(
    path: str | Path, output: str | Path, *, policy: str = "majority", text_field: str = TEXT_FIELD
) -> ImportSummary:
    """Read an export and write the training rows (JSONL keeps label lists; CSV/XLSX join them with ';')."""
    frame, summary = read_export(path, policy=policy, text_field=text_field)
    if frame.empty:
        raise InputError("no annotated tasks in the export; nothing to write", path=path)
    out = Path(output)
    if out.suffix.lower() not in (".jsonl", ".ndjson", ".parquet"):
        frame["labels"] = frame["labels"].map(";".join)
    write_table(frame, out)
    return summary
