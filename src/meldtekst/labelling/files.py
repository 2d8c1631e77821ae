"""Atomic writes for the non-table files of the labelling loop (Label Studio JSON tasks, XML config).

Tables go through `meldtekst.io.TableWriter`; these are whole documents, written to a temp
file beside the target and renamed over it, so an interrupted run never leaves half a file.
"""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import suppress
from pathlib import Path
from typing import Any

from meldtekst.errors import InputError


def write_text_atomic(path: str | Path, text: str) -> Path:
    path = Path(path)
    parent = path.parent
    if not parent.is_dir():
        raise InputError("output folder does not exist", path=parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


def write_json_atomic(path: str | Path, obj: Any) -> Path:
    return write_text_atomic(path, json.dumps(obj, ensure_ascii=False, indent=1) + "\n")


def read_json(path: str | Path, *, what: str = "JSON file") -> Any:
    """A whole JSON document, or one InputError line naming the file (and the line of a syntax error)."""
    path = Path(path)
    if not path.is_file():
        raise InputError("file does not exist", path=path)
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason}); expected a {what}", path=path) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON ({exc.msg} at line {exc.lineno}); expected a {what}", path=path) from None
