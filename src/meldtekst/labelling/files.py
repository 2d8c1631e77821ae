"""Whole JSON documents of the labelling loop (Label Studio tasks and exports): read with one-line
errors, written atomically through `meldtekst.io.write_text_atomic`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from meldtekst.errors import InputError
from meldtekst.io import write_text_atomic


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
    except RecursionError:
        raise InputError(f"JSON nested too deeply to read; expected a {what}", path=path) from None
    except ValueError as exc:  # e.g. a number of more than 4300 digits (Python's int limit)
        detail = str(exc).split(":")[0] or type(exc).__name__
        raise InputError(f"not valid JSON ({detail}); expected a {what}", path=path) from None
