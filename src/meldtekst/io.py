"""Read and write report tables by file extension, in chunks, atomically.

Rows travel as pandas DataFrames of at most ``chunksize`` rows. Readers keep every
value as it was in the file (CSV cells stay strings, so ids like ``007`` keep their
zeros) and every column in its order; writers add columns at the end and replace
the target only when the whole file is written.

A file that cannot be read faithfully is refused with one line naming file, row
and column (an `InputError`) rather than read with rows merged, split or shifted:
every input row must come out, in order, with its id.
"""

from __future__ import annotations

import codecs
import csv
import errno
import io
import itertools
import json
import logging
import math
import os
import re
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import numpy as np
import pandas as pd

from meldtekst.errors import InputError, MeldtekstError

log = logging.getLogger(__name__)

SUPPORTED = (".csv", ".tsv", ".txt", ".xlsx", ".jsonl", ".parquet")
DEFAULT_CHUNKSIZE = 5000
XLSX_MAX_CELL = 32_767  # Excel's limit; openpyxl would write longer texts that Excel then cuts
XLSX_MAX_ROWS = 1_048_575
_SNIFF_BYTES = 1 << 20
_SNIFF_CHARS = 1 << 20
_SNIFF_RECORDS = 200
_DELIMITERS = (";", "\t", ",")
_DELIMITER_NAMES = {"\t": "tab", ";": "';'", ",": "','"}

# Report texts can be long; the csv module's default field limit (128 KiB) would refuse them.
csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))


@dataclass
class TableInfo:
    """What a reader learned about a file; writers reuse it (e.g. keep a ';' CSV a ';' CSV)."""

    path: Path
    fmt: str
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    columns: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def table_format(path: Path) -> str:
    """Map a file name to one of csv/xlsx/jsonl/parquet, or fail with the supported list."""
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv", ".txt"):
        return "csv"
    if suffix == ".xlsx":
        return "xlsx"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    raise InputError(f"unknown file type '{suffix or '(none)'}'; use one of .csv, .xlsx, .jsonl, .parquet", path=path)


def check_readable(path: Path) -> None:
    """Fail early, in one line, for the common wrong-path mistakes."""
    if not path.exists():
        raise InputError("file does not exist", path=path)
    if path.is_dir():
        raise InputError("is a directory, not a file", path=path)
    if not os.access(path, os.R_OK):
        raise InputError("file is not readable (permission denied)", path=path)
    if path.stat().st_size == 0:
        raise InputError("file is empty", path=path)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (b.exists() and a.exists() and a.samefile(b))
    except OSError:
        return False


def check_writable_output(path: str | Path, *, inputs: Iterable[str | Path] = (), table: bool = True) -> Path:
    """Fail in one line before a long run if ``path`` cannot become its output.

    Without this check a folder given as output, a missing folder or an output that is
    the input is only found when the finished output is renamed into place, after all
    the work. ``table`` also requires a known table extension.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError("output is a folder; give a file name (e.g. inside that folder)", path=path)
    if path.exists() and not path.is_file():
        raise InputError("output exists and is not a regular file", path=path)
    if table:
        table_format(path)
    parent = path.parent
    if not parent.exists():
        raise InputError("output folder does not exist", path=parent)
    if not parent.is_dir():
        raise InputError("output folder is not a folder", path=parent)
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError("output folder is not writable", path=parent)
    for src in inputs:
        if _same_file(Path(src), path):
            raise InputError("output must not be the input file", path=path)
    return path


def _first_line(exc: BaseException) -> str:
    """A library's error message as one short line (some span several lines)."""
    lines = str(exc).strip().splitlines()
    return (lines[0][:200] if lines else "") or type(exc).__name__


# --------------------------------------------------------------------------- CSV


@dataclass(frozen=True)
class CsvDialect:
    """How to read a CSV: ``skip_lines`` is 1 after an Excel ``sep=;`` line."""

    encoding: str
    delimiter: str
    skip_lines: int = 0


def sniff_csv(path: Path) -> tuple[str, str]:
    """Guess (encoding, delimiter) the way Dutch Excel exports vary: BOM, utf-8, utf-16 or cp1252; ',' ';' or tab."""
    dialect = sniff_dialect(path)
    return dialect.encoding, dialect.delimiter


def sniff_dialect(path: Path) -> CsvDialect:
    """Encoding from the first MiB of bytes; delimiter from Excel's ``sep=`` line, else from header and rows."""
    with path.open("rb") as fh:
        raw = fh.read(_SNIFF_BYTES)
    encoding = _detect_encoding(path, raw)
    try:
        with _open_text(path, encoding) as fh:
            text = fh.read(_SNIFF_CHARS)
            complete = not fh.read(1)
    except UnicodeDecodeError as exc:
        raise _encoding_error(path, exc, None) from None
    hint = _SEP_HINT.match(text)
    if hint:  # Excel's own statement of the delimiter, on a line of its own before the header
        return CsvDialect(encoding, hint.group(1), 1)
    return CsvDialect(encoding, _sniff_delimiter(path, text, complete))


_SEP_HINT = re.compile(r"sep=([^\r\n\"])[ \t]*(?:\r\n|\n|\r|$)")


def _detect_encoding(path: Path, raw: bytes) -> str:
    if raw.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"  # Excel's "Unicode text"; the codec reads the BOM for the byte order
    if b"\x00" in raw:
        utf16 = _utf16_without_bom(raw)
        if utf16 is None:
            raise InputError("looks like a binary file, not a CSV text file", path=path)
        return utf16
    try:
        codecs.getincrementaldecoder("utf-8")().decode(raw, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    if _looks_binary(raw.decode("cp1252", errors="replace")):
        raise InputError("looks like a binary file, not a CSV text file", path=path)
    return "cp1252"


def _utf16_without_bom(raw: bytes) -> str | None:
    """UTF-16 of (mostly) Latin text has a zero in every other byte; binary data does not."""
    even, odd = raw[0::2], raw[1::2]
    if len(raw) < 4:
        return None
    if odd.count(0) >= 0.9 * len(odd) and even.count(0) <= 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) >= 0.9 * len(even) and odd.count(0) <= 0.1 * len(odd):
        return "utf-16-be"
    return None


def _looks_binary(text: str) -> bool:
    control = sum(1 for ch in text[:4096] if ord(ch) < 32 and ch not in "\r\n\t")
    return control > 0.02 * max(1, len(text[:4096]))


def _open_text(path: Path, encoding: str) -> IO[str]:
    return path.open("r", encoding=encoding, newline="")


def _encoding_error(path: Path, exc: UnicodeDecodeError, row: int | None) -> InputError:
    return InputError(f"text encoding error ({exc.reason}); save the file as UTF-8", path=path, row=row)


@dataclass
class _Candidate:
    delimiter: str
    header_width: int
    rows: int
    mismatched: int  # data rows whose field count differs from the header's
    widths: Counter[int]


def _sniff_delimiter(path: Path, text: str, complete: bool) -> str:
    """The delimiter that header and data rows agree on.

    Each candidate parses the sample with the csv module (so delimiters inside quoted
    texts do not count). The header decides first (more than one column name), the
    data rows second (fewest rows whose field count differs from the header). A
    record cut off by the end of the sample is ignored, so one very long first text
    cannot hide the delimiter.
    """
    stats: list[_Candidate] = []
    for delim in _DELIMITERS:
        try:
            reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
            records = list(itertools.islice(reader, _SNIFF_RECORDS + 1))
        except csv.Error:
            continue
        if not complete and len(records) > 1:
            records = records[:-1]
        records = [r for r in records if any(f.strip() for f in r)]
        if not records:
            continue
        width = len(records[0])
        widths = Counter(len(r) for r in records[1:])
        mismatched = sum(c for w, c in widths.items() if w != width)
        stats.append(_Candidate(delim, width, len(records) - 1, mismatched, widths))
    if not stats:
        return ","
    several = [c for c in stats if c.header_width > 1]
    if several:
        best = min(several, key=lambda c: (c.mismatched, -c.header_width))
        if best.rows and best.mismatched == best.rows:
            other = next((c for c in stats if c is not best and _one_width(c) > 1), None)
            if other is not None:
                raise InputError(
                    f"the header is separated by {_DELIMITER_NAMES[best.delimiter]} but the rows by "
                    f"{_DELIMITER_NAMES[other.delimiter]}; use one separator in the whole file",
                    path=path,
                )
        return best.delimiter
    # a single column name under every delimiter: a header that lacks names, or a one-column file
    split = next((c for c in stats if c.rows >= 2 and _one_width(c) > 1), None)
    if split is not None:
        raise InputError(
            f"the header has one column name but every row has {_one_width(split)} fields separated by "
            f"{_DELIMITER_NAMES[split.delimiter]}; add the missing column names to the header (or, for one "
            "column of texts, put each text in double quotes)",
            path=path,
        )
    fitting = [c for c in stats if not c.mismatched]
    if fitting:
        return min(fitting, key=lambda c: ",;\t".index(c.delimiter)).delimiter
    return min(stats, key=lambda c: c.mismatched).delimiter


def _one_width(c: _Candidate) -> int:
    """The field count every data row has, or 0 when they differ."""
    return next(iter(c.widths)) if len(c.widths) == 1 else 0


_DIGITS = re.compile(r"\d+")
_LETTERS = re.compile(r"[^\W\d_]+")
_LINE_END = re.compile(r"[\r\n\x1f]")
_SHAPE_ROWS = 1000  # rows whose first field teaches what an id looks like
_MAX_SHAPES = 20  # more kinds of first field than this: not an id column, no row-swallow check


def _shape(value: str) -> str | None:
    """An id's form, e.g. 'M-0476' -> 'a-9'; None for what does not look like an id."""
    if not value or len(value) > 40 or any(ch.isspace() for ch in value):
        return None
    return _LETTERS.sub("a", _DIGITS.sub("9", value))


def _swallowed_row(record: list[str], pattern: re.Pattern[str], delimiter: str, width: int) -> bool:
    """Whether a line inside a multi-line field looks like the start of the next row (an id, then the
    header's number of fields): the sign of a quote that was opened and closed rows later."""
    joined = "\x1f".join(record)  # one regex pass over the record; \x1f ends a line like a line break
    for m in pattern.finditer(joined):
        line = _LINE_END.split(joined[m.start() + 1 :], 1)[0]
        if line.count(delimiter) >= width - 1:
            return True
    return False


def _row_start_pattern(shapes: Iterable[str], delimiter: str) -> re.Pattern[str]:
    """A line break, then a token of one of the id ``shapes`` (maybe quoted) directly followed by the delimiter."""
    parts = {"a": r"[^\W\d_]+", "9": r"\d+"}
    alternatives = "|".join(sorted("".join(parts.get(ch, re.escape(ch)) for ch in shape) for shape in shapes))
    d = re.escape(delimiter)
    return re.compile(rf'[\r\n]"?(?:{alternatives})"?{d}')


class _CsvRows:
    """Streams a CSV's rows with the csv module in strict mode, so a malformed row is named, never merged.

    pandas' parser silently takes an extra first field as the index (losing every id),
    drops a stray quote, and lets an unclosed quote swallow the rows after it.
    """

    def __init__(self, path: Path, info: TableInfo, chunksize: int) -> None:
        self.path = path
        self.info = info
        self.chunksize = chunksize
        self.row = 0  # data rows read so far (blank lines not counted)
        self.end = 0  # last line of the last record read
        self.reader: Any = None

    def frames(self) -> Iterator[pd.DataFrame]:
        dialect = sniff_dialect(self.path)
        self.info.encoding, self.info.delimiter = dialect.encoding, dialect.delimiter
        try:
            with _open_text(self.path, dialect.encoding) as fh:
                self.reader = csv.reader(fh, delimiter=dialect.delimiter, strict=True)
                yield from self._frames(dialect)
        except csv.Error as exc:
            raise self._parse_error(exc) from None
        except UnicodeDecodeError as exc:
            raise _encoding_error(self.path, exc, self.row + 1) from None

    def _frames(self, dialect: CsvDialect) -> Iterator[pd.DataFrame]:
        reader, delimiter = self.reader, dialect.delimiter
        for _ in range(dialect.skip_lines):
            next(reader, None)
        header = next((r for r in reader if any(f.strip() for f in r)), None)
        if header is None:
            raise InputError("file has no header row and no data", path=self.path)
        self.end = reader.line_num
        width = len(header)
        keep = [i for i, name in enumerate(header) if name.strip()]
        unnamed = sorted(set(range(width)) - set(keep))
        names = [header[i] for i in keep]
        _check_unique(names, self.path, keep)
        self.info.columns = names
        shapes: set[str] | None = set()
        suspects: list[int] = []
        rows: list[list[str]] = []
        pattern: re.Pattern[str] | None = None
        row, end, chunksize, learn = self.row, self.end, self.chunksize, _SHAPE_ROWS
        try:  # the loop runs once a row: locals only, self.row/self.end are kept for the error messages
            for record in reader:
                start, end = end + 1, reader.line_num
                if len(record) != width:
                    if not any(f.strip() for f in record):
                        continue  # a blank line
                    self.row, self.end = row, start - 1
                    raise self._width_error(len(record), width, start, delimiter)
                row += 1
                if row <= learn and shapes is not None:
                    shape = _shape(record[0])
                    if shape is not None and shape not in shapes:
                        shapes.add(shape)
                        pattern = None
                        if len(shapes) > _MAX_SHAPES:
                            shapes = None
                if end > start and shapes:
                    if pattern is None:
                        pattern = _row_start_pattern(shapes, delimiter)
                    if _swallowed_row(record, pattern, delimiter, width):
                        suspects.append(row)
                rows.append(record)
                if len(rows) >= chunksize:
                    self.row, self.end = row, end
                    yield self._frame(rows, names, keep, unnamed)
                    rows = []
        except csv.Error:
            self.row, self.end = row, end
            raise
        self.row, self.end = row, end
        if rows or self.row == 0:
            yield self._frame(rows, names, keep, unnamed)
        if unnamed:
            self.info.warnings.append(
                f"column(s) {', '.join(str(i + 1) for i in unnamed)} have no name in the header and are empty "
                "in every row: left out"
            )
        if suspects:
            shown = ", ".join(map(str, suspects[:5])) + (f" and {len(suspects) - 5} more" if len(suspects) > 5 else "")
            self.info.warnings.append(
                f"row(s) {shown} hold a line break followed by what looks like the start of another row: "
                "a closing quote may be missing there (rows kept as read; please check them)"
            )

    def _frame(self, rows: list[list[str]], names: list[str], keep: list[int], unnamed: list[int]) -> pd.DataFrame:
        if unnamed:
            first = self.row - len(rows) + 1
            for i in unnamed:
                for j, record in enumerate(rows):
                    if record[i].strip():
                        raise InputError(
                            f"column {i + 1} has no name in the header but a value in this row; add its name to "
                            "the header (or remove the separator that ends the header)",
                            path=self.path,
                            row=first + j,
                        )
            rows = [[r[i] for i in keep] for r in rows]
        if not rows:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in names})
        return pd.DataFrame(rows, columns=names, dtype=object)

    def _width_error(self, n: int, width: int, line: int, delimiter: str) -> InputError:
        sep = _DELIMITER_NAMES.get(delimiter, repr(delimiter))
        if n > width:
            msg = (
                f"{n} fields but the header has {width} (line {line}): a {sep} too many, at the end of the row "
                f"or unquoted inside a text; put texts that contain {sep} in double quotes"
            )
        else:
            msg = (
                f"only {n} field(s) but the header has {width} (line {line}): a line break inside a text that "
                "is not in quotes, or missing separators"
            )
        return InputError(msg, path=self.path, row=self.row + 1)

    def _parse_error(self, exc: csv.Error) -> InputError:
        start = self.end + 1
        at = getattr(self.reader, "line_num", start) or start
        lines = f"line {start}" if at <= start else f"lines {start}-{at}"
        text = str(exc)
        if "unexpected end of data" in text:
            what = "a quote opened in this row is never closed, so the rest of the file would become one text"
        elif "expected after" in text:
            what = 'a quote inside a quoted text is not doubled (write "" for a " inside quotes)'
        else:
            what = f"CSV cannot be read ({_first_line(exc)})"
        return InputError(f"{what} ({lines}); check the quotes in this row", path=self.path, row=self.row + 1)


def _check_unique(names: list[str], path: Path, positions: list[int] | None = None) -> None:
    """Duplicate column names would be renamed ('tekst.1') or collide; refuse them instead.
    ``positions`` are the names' 0-based column numbers in the file (default: their index)."""
    where = positions if positions is not None else list(range(len(names)))
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in seen:
            raise InputError(
                f"this column name occurs twice in the header (columns {where[seen[name]] + 1} and {where[i] + 1}); "
                "rename one",
                path=path,
                column=name,
            )
        seen[name] = i


# ------------------------------------------------------------------------- JSONL

_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _has_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return _SURROGATE.search(value) is not None
    if isinstance(value, dict):
        return any(_has_surrogate(k) or _has_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_surrogate(v) for v in value)
    return False


def _json_line(line: str, path: Path, row: int) -> dict[str, Any]:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON ({exc.msg})", path=path, row=row) from None
    except RecursionError:
        raise InputError("JSON nested too deeply", path=path, row=row) from None
    if not isinstance(obj, dict):
        raise InputError("each line must be a JSON object {...}", path=path, row=row)
    # json.loads joins an escaped surrogate pair into one character; a half pair stays a lone surrogate,
    # which no UTF-8 file can hold (writing it would crash at the end of the run)
    if "\\u" in line and _SURROGATE_ESCAPE.search(line):
        for key, value in obj.items():
            if _has_surrogate(key) or _has_surrogate(value):
                raise InputError(
                    "holds a \\uD800-\\uDFFF escape without its other half (a lone surrogate, not a character); "
                    "repair the exporting program or remove it",
                    path=path,
                    row=row,
                    column=None if _has_surrogate(key) else key,
                )
    return obj


def _read_jsonl(path: Path, info: TableInfo, chunksize: int) -> Iterator[pd.DataFrame]:
    records: list[dict[str, Any]] = []
    columns: dict[str, None] = {}
    row = lines = 0
    scanned = False
    try:
        with path.open("r", encoding="utf-8-sig") as fh:
            for line in fh:
                lines += 1
                if not line.strip():
                    continue
                row += 1
                obj = _json_line(line, path, row)
                for key in obj:
                    columns.setdefault(key, None)
                records.append(obj)
                if len(records) >= chunksize:
                    if not scanned:  # every chunk gets the columns of the whole file
                        _scan_jsonl_keys(path, lines, row, columns)
                        scanned = True
                    yield _records_frame(records, columns, info)
                    records = []
    except UnicodeDecodeError as exc:
        raise InputError(f"text encoding error ({exc.reason}); JSONL must be UTF-8", path=path) from None
    if row == 0:
        raise InputError("file has no JSON lines", path=path)
    if records:
        yield _records_frame(records, columns, info)


def _scan_jsonl_keys(path: Path, skip_lines: int, row: int, columns: dict[str, None]) -> None:
    """Add the keys of the lines after ``skip_lines`` to ``columns`` (memory: the keys only).

    A key first seen in a later chunk would otherwise give that chunk more columns than
    the header already written, shifting every later row of a CSV output.
    """
    with path.open("r", encoding="utf-8-sig") as fh:
        for line in itertools.islice(fh, skip_lines, None):
            if not line.strip():
                continue
            row += 1
            for key in _json_line(line, path, row):
                columns.setdefault(key, None)


def _records_frame(records: list[dict[str, Any]], columns: dict[str, None], info: TableInfo) -> pd.DataFrame:
    cols = list(columns)
    info.columns = cols
    data = {c: [r.get(c) for r in records] for c in cols}
    return pd.DataFrame(data, columns=cols, dtype=object)


# -------------------------------------------------------------------- XLSX/Parquet


def _read_xlsx(path: Path, info: TableInfo, sheet: str | None) -> Iterator[pd.DataFrame]:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # InvalidFileException, zipfile.BadZipFile, damaged XML, ...
        raise InputError(f"not a readable Excel .xlsx file ({type(exc).__name__})", path=path) from exc
    current = ""
    try:
        names = wb.sheetnames
        if sheet is not None:
            if sheet not in names:
                raise InputError(f"sheet '{sheet}' not found; sheets are: {', '.join(names)}", path=path)
            chosen = sheet
        else:
            chosen = names[0]
            for name in names:
                current = name
                if _sheet_has_data(wb[name]):
                    chosen = name
                    break
            if chosen != names[0]:
                info.warnings.append(f"first sheet '{names[0]}' is empty; reading sheet '{chosen}'")
        info.sheet = current = chosen
        rows = list(wb[chosen].iter_rows(values_only=True))
    except InputError:
        raise
    except Exception as exc:  # the sheet's XML is read only now (read-only mode)
        raise InputError(
            f"not a readable Excel .xlsx file (sheet '{current}' is damaged: {type(exc).__name__})", path=path
        ) from exc
    finally:
        wb.close()
    rows = [r for r in rows if any(_filled(v) for v in r)]
    if not rows:
        raise InputError(f"sheet '{info.sheet}' is empty", path=path)
    yield _xlsx_frame(rows, info, path)


def _filled(value: Any) -> bool:
    return value is not None and str(value).strip() != ""


def _xlsx_frame(rows: list[tuple[Any, ...]], info: TableInfo, path: Path) -> pd.DataFrame:
    """The sheet as a frame: a column without a header name keeps its data under 'kolom_N' (with a
    warning), an empty one is left out (Excel's formatting leaves many); duplicate names are refused."""
    header, body = rows[0], rows[1:]
    ncols = max(len(r) for r in rows)
    named = [i < len(header) and _filled(header[i]) for i in range(ncols)]
    used = [named[i] or any(i < len(r) and _filled(r[i]) for r in body) for i in range(ncols)]
    keep = [i for i in range(ncols) if used[i]]
    names = [str(header[i]).strip() if named[i] else f"kolom_{i + 1}" for i in keep]
    nameless = [n for i, n in zip(keep, names, strict=True) if not named[i]]
    if nameless:
        info.warnings.append(f"column(s) without a name in the header kept as {', '.join(nameless)}")
    _check_unique(names, path, keep)
    info.columns = names
    data = [[r[i] if i < len(r) else None for i in keep] for r in body]
    return pd.DataFrame(data, columns=names, dtype=object)


def _sheet_has_data(ws: Any) -> bool:
    return any(any(v is not None for v in row) for row in ws.iter_rows(max_row=50, values_only=True))


def _read_parquet(path: Path, info: TableInfo, chunksize: int) -> Iterator[pd.DataFrame]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
        names = list(pf.schema_arrow.names)
    except Exception as exc:  # ArrowInvalid, OSError (thrift), NotImplemented, ...
        raise InputError(f"not a readable Parquet file ({_first_line(exc)})", path=path) from exc
    _check_unique(names, path)
    info.columns = names
    batches = pf.iter_batches(batch_size=chunksize)
    rows = 0
    while True:
        try:
            batch = next(batches, None)
            if batch is None:
                break
            df = batch.to_pandas(types_mapper=None).astype(object)
        except Exception as exc:  # a damaged page: decompression, thrift or type errors
            raise InputError(
                f"Parquet data is damaged from about this row on ({_first_line(exc)})", path=path, row=rows + 1
            ) from exc
        rows += len(df)
        yield df
    if rows == 0:
        yield pd.DataFrame({c: pd.Series(dtype=object) for c in info.columns})


# ---------------------------------------------------------------------- public


def _blank(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return isinstance(value, str) and not value.strip()


def _check_ids(chunk: pd.DataFrame, id_column: str, path: Path, offset: int) -> None:
    """A row with data but no id would come out unfindable; an entirely empty row is let through."""
    values = chunk[id_column].tolist()
    missing = [i for i, v in enumerate(values) if not (isinstance(v, str) and v.strip()) and _blank(v)]
    for i in missing:
        if not all(_blank(v) for v in chunk.iloc[i].tolist()):
            raise InputError(
                "id is missing; every report needs an id to be found back in the output",
                path=path,
                row=offset + i + 1,
                column=id_column,
            )


def read_table(
    path: str | Path,
    *,
    sheet: str | None = None,
    chunksize: int = DEFAULT_CHUNKSIZE,
    info: TableInfo | None = None,
    id_column: str | None = None,
) -> Iterator[pd.DataFrame]:
    """Yield the rows of ``path`` as DataFrame chunks, all columns in file order.

    A header-only file yields one empty frame that still has the columns, so
    callers can check columns and write a header-only output. With ``id_column``
    (when the file has it), a row without an id is an error naming the row.
    """
    path = Path(path)
    fmt = table_format(path)
    check_readable(path)
    info = info if info is not None else TableInfo(path=path, fmt=fmt)
    info.fmt = fmt
    chunks: Iterator[pd.DataFrame]
    if fmt == "csv":
        chunks = _CsvRows(path, info, chunksize).frames()
    elif fmt == "jsonl":
        chunks = _read_jsonl(path, info, chunksize)
    elif fmt == "xlsx":
        chunks = (
            df.iloc[start : start + chunksize].reset_index(drop=True)
            for df in _read_xlsx(path, info, sheet)
            for start in range(0, max(len(df), 1), chunksize)
        )
    else:
        chunks = _read_parquet(path, info, chunksize)
    offset = 0
    for chunk in chunks:
        if id_column is not None and id_column in chunk.columns and len(chunk):
            _check_ids(chunk, id_column, path, offset)
        offset += len(chunk)
        yield chunk


def read_all(path: str | Path, **kwargs: Any) -> pd.DataFrame:
    """The whole table in memory; for small files (training data, reports)."""
    chunks = list(read_table(path, **kwargs))
    return pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0].reset_index(drop=True)


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, np.ndarray):
        return [_jsonable(v) for v in value.tolist()]
    if isinstance(value, (pd.Timestamp,)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is pd.NA or value is pd.NaT:
        return None
    return value


_NESTED = (dict, list, tuple, np.ndarray)
# infer_dtype kinds that cannot hold a dict or list: such columns need no per-cell look
_FLAT_KINDS = {"string", "empty", "integer", "floating", "boolean", "mixed-integer-float", "decimal", "bytes"}
_FLAT_KINDS |= {"datetime", "datetime64", "date", "timedelta", "timedelta64", "time", "period"}
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # characters an .xlsx cell cannot hold


def _is_disk_full(exc: OSError) -> bool:
    return exc.errno in (errno.ENOSPC, errno.EDQUOT) or "No space left on device" in str(exc)


def _write_error(path: Path, exc: OSError) -> MeldtekstError:
    """An OS error while writing the output as one line (a full disk above all)."""
    if _is_disk_full(exc):
        return MeldtekstError(f"disk full while writing {path}; nothing was written, free some space and run again")
    return MeldtekstError(f"cannot write {path} ({exc.strerror or _first_line(exc)})")


class TableWriter:
    """Write chunks to a temp file beside ``path``; rename over ``path`` only on success.

    Used as a context manager: an exception or Ctrl-C inside the block removes the
    temp file and leaves any existing output untouched; so does an OS error (a full
    disk) while writing or closing, which becomes one line. ``warnings`` lists repairs
    made while writing (nested JSON written as JSON text); they are also logged.
    """

    def __init__(self, path: str | Path, *, delimiter: str = ",", encoding: str = "utf-8-sig") -> None:
        self.path = Path(path)
        self.fmt = table_format(self.path)
        self.delimiter = delimiter
        self.encoding = encoding
        self.rows = 0
        self.warnings: list[str] = []
        self._tmp: Path | None = None
        self._fh: IO[str] | None = None
        self._buffer: list[pd.DataFrame] = []
        self._header_written = False
        self._columns: list[str] | None = None

    def __enter__(self) -> TableWriter:
        check_writable_output(self.path)
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        except OSError as exc:
            raise _write_error(self.path, exc) from exc
        self._tmp = Path(tmp)
        try:
            os.close(fd)
            if self.fmt in ("csv", "jsonl"):
                self._fh = self._open_text()
        except BaseException as exc:
            self._discard()
            if isinstance(exc, OSError):
                raise _write_error(self.path, exc) from exc
            raise
        return self

    def _open_text(self) -> IO[str]:
        assert self._tmp is not None
        if self.fmt == "csv":
            return self._tmp.open("w", encoding=self.encoding, newline="")
        return self._tmp.open("w", encoding="utf-8")

    def write(self, df: pd.DataFrame) -> None:
        try:
            self._write(df)
        except OSError as exc:
            raise _write_error(self.path, exc) from exc
        except UnicodeEncodeError as exc:
            raise InputError(
                f"a text holds a character that cannot be written ({exc.reason})", path=self.path
            ) from None
        self.rows += len(df)

    def _write(self, df: pd.DataFrame) -> None:
        if self.fmt == "csv":
            columns = [str(c) for c in df.columns]
            if self._columns is None:
                self._columns = columns
            elif columns != self._columns:  # would shift every later row under the header already written
                raise MeldtekstError(
                    f"the columns changed between parts of the table while writing {self.path}; nothing was "
                    "written (this is a bug in meldtekst, please report it)"
                )
            assert self._fh is not None
            # CRLF, as Excel writes: the csv module quotes only fields holding a character of the line
            # terminator, so with '\n' a text holding a lone '\r' went out unquoted and split its row
            self._flatten_nested(df).to_csv(
                self._fh, sep=self.delimiter, index=False, header=not self._header_written, lineterminator="\r\n"
            )
            self._header_written = True
        elif self.fmt == "jsonl":
            assert self._fh is not None
            cols = list(df.columns)
            for values in df.itertuples(index=False, name=None):
                obj = {c: _jsonable(v) for c, v in zip(cols, values, strict=True)}
                self._fh.write(json.dumps(obj, ensure_ascii=False) + "\n")
        elif self.fmt == "xlsx":
            if self.rows + len(df) > XLSX_MAX_ROWS:
                raise InputError("too many rows for one Excel sheet; write .csv or .parquet", path=self.path)
            df = self._flatten_nested(df)
            _check_xlsx_cells(df, self.path, self.rows)
            self._buffer.append(df)
        else:
            self._buffer.append(df)

    def _flatten_nested(self, df: pd.DataFrame) -> pd.DataFrame:
        """Dicts and lists (from JSONL) as JSON text, not Python's repr, which no program reads back."""
        out = df
        for col in df.columns:
            series = df[col]
            if series.dtype != object or pd.api.types.infer_dtype(series, skipna=True) in _FLAT_KINDS:
                continue
            values = series.tolist()
            if not any(isinstance(v, _NESTED) for v in values):
                continue
            if out is df:
                out = df.copy()
            out[col] = [json.dumps(_jsonable(v), ensure_ascii=False) if isinstance(v, _NESTED) else v for v in values]
            self._warn(f"column '{col}' holds nested JSON (objects or lists): written as JSON text in {self.path}")
        return out

    def _warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)
            log.warning("%s", message)

    def _finish(self) -> None:
        assert self._tmp is not None
        try:
            if self._fh is not None:
                self._fh.close()  # the last flush: a full disk shows here
            if self.fmt in ("xlsx", "parquet"):
                df = pd.concat(self._buffer, ignore_index=True) if self._buffer else pd.DataFrame()
                if self.fmt == "xlsx":
                    _to_xlsx(df, self._tmp)
                else:
                    _to_parquet(df, self._tmp)
            os.replace(self._tmp, self.path)
        except OSError as exc:
            raise _write_error(self.path, exc) from exc
        self._tmp = None

    def _discard(self) -> None:
        """Close and remove the temp file, whatever happens (closing can fail again on a full disk)."""
        fh, self._fh = self._fh, None
        if fh is not None:
            with suppress(OSError):
                fh.close()
            if not fh.closed:  # a failed flush may leave it open; the second close drops the buffer
                with suppress(OSError):
                    fh.close()
        tmp, self._tmp = self._tmp, None
        if tmp is not None:
            with suppress(OSError):
                tmp.unlink()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if exc_type is None:
                self._finish()
        finally:
            self._discard()


def _check_xlsx_cells(df: pd.DataFrame, path: Path, offset: int) -> None:
    """Refuse, before anything is written, what an .xlsx cell would cut (> 32,767 characters) or
    cannot hold (control characters); CSV and JSONL keep both."""
    for col in df.columns:
        for i, value in enumerate(df[col].tolist()):
            if not isinstance(value, str):
                continue
            if len(value) > XLSX_MAX_CELL:
                raise InputError(
                    f"a text of {len(value):,} characters does not fit an Excel cell (at most {XLSX_MAX_CELL:,}); "
                    "write .csv or .jsonl instead",
                    path=path,
                    row=offset + i + 1,
                    column=str(col),
                )
            m = _XLSX_ILLEGAL.search(value)
            if m:
                raise InputError(
                    f"control character U+{ord(m.group()):04X} cannot be stored in an Excel cell; "
                    "write .csv or .jsonl instead (they keep it)",
                    path=path,
                    row=offset + i + 1,
                    column=str(col),
                )


def _to_xlsx(df: pd.DataFrame, path: Path) -> None:
    """Write with openpyxl directly: text that starts with '=' stays text, never becomes a formula
    (which would lose the value and let a report inject formulas into a staff member's Excel)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("meldingen")
    ws.append([str(c) for c in df.columns])
    for values in df.itertuples(index=False, name=None):
        row = []
        for v in values:
            v = _jsonable(v)
            if isinstance(v, (list, dict)):
                v = json.dumps(v, ensure_ascii=False)
            if isinstance(v, str):
                cell = WriteOnlyCell(ws, value=v)
                cell.data_type = "s"
                row.append(cell)
            else:
                row.append(v)
        ws.append(row)
    wb.save(path)


def _to_parquet(df: pd.DataFrame, path: Path) -> None:
    """Parquet needs one type a column; mixed object columns (e.g. ints and text) become text, JSON for
    dicts and lists."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    def as_text(v: Any) -> str | None:
        if _blank(v) and not isinstance(v, str):
            return None
        if isinstance(v, _NESTED):
            return json.dumps(_jsonable(v), ensure_ascii=False)
        return str(v)

    try:
        table = pa.Table.from_pandas(df, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        fixed = df.copy()
        for col in fixed.columns:
            try:
                pa.array(fixed[col], from_pandas=True)
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                fixed[col] = fixed[col].map(as_text)
        table = pa.Table.from_pandas(fixed, preserve_index=False)
    pq.write_table(table, path)


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temp file beside ``path`` to write the whole output into; it replaces ``path`` only when the
    block ends without error, so an interrupted or failed run never leaves half a file (or a temp file)."""
    path = check_writable_output(path, table=False)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise _write_error(path, exc) from exc
    tmp = Path(tmp_name)
    try:
        os.close(fd)
        try:
            yield tmp
        except OSError as exc:
            if _is_disk_full(exc):
                raise _write_error(path, exc) from exc
            raise
        try:
            os.replace(tmp, path)
        except OSError as exc:
            raise _write_error(path, exc) from exc
    finally:
        with suppress(OSError):
            tmp.unlink()


def write_text_atomic(path: str | Path, text: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_table(df: pd.DataFrame, path: str | Path, **kwargs: Any) -> None:
    with TableWriter(path, **kwargs) as w:
        w.write(df)
