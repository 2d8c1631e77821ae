"""Read and write report tables by file extension, in chunks, atomically.

Rows travel as pandas DataFrames of at most ``chunksize`` rows. Readers keep every
value as it was in the file (CSV cells stay strings, so ids like ``007`` keep their
zeros) and every column in its order; writers add columns at the end and replace
the target only when the whole file is written.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
import math
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import pandas as pd

from meldtekst.errors import InputError

SUPPORTED = (".csv", ".tsv", ".txt", ".xlsx", ".jsonl", ".parquet")
DEFAULT_CHUNKSIZE = 5000
_SNIFF_BYTES = 1 << 20


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
    if not path.exists():
        raise InputError("file does not exist", path=path)
    if path.is_dir():
        raise InputError("is a directory, not a file", path=path)
    if not os.access(path, os.R_OK):
        raise InputError("file is not readable (permission denied)", path=path)
    if path.stat().st_size == 0:
        raise InputError("file is empty", path=path)


# --------------------------------------------------------------------------- CSV


def sniff_csv(path: Path) -> tuple[str, str]:
    """Guess (encoding, delimiter) the way Dutch Excel exports vary: BOM, utf-8 or cp1252; ',' ';' or tab."""
    with path.open("rb") as fh:
        sample = fh.read(_SNIFF_BYTES)
    if b"\x00" in sample:
        raise InputError("looks like a binary file, not a CSV text file", path=path)
    if sample.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    else:
        try:
            codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
            encoding = "utf-8"
        except UnicodeDecodeError:
            encoding = "cp1252"
    text = sample.decode(encoding, errors="replace")
    if encoding == "cp1252" and _looks_binary(text):
        raise InputError("looks like a binary file, not a CSV text file", path=path)
    return encoding, _sniff_delimiter(text)


def _looks_binary(text: str) -> bool:
    control = sum(1 for ch in text[:4096] if ord(ch) < 32 and ch not in "\r\n\t")
    return control > 0.02 * max(1, len(text[:4096]))


def _sniff_delimiter(text: str) -> str:
    """The delimiter that splits the first records into the same number (> 1) of fields.

    Parsing with the csv module for each candidate respects quoting, so commas or
    tabs inside quoted report texts do not fool it the way character counts can.
    """
    lines = text.splitlines(keepends=True)[:200]
    if len(lines) == 200:  # the sample may end mid-record; drop the tail
        lines = lines[:-1]
    best, best_fields = ",", 1
    for delim in (";", "\t", ","):
        try:
            records = list(itertools.islice(csv.reader(io.StringIO("".join(lines)), delimiter=delim), 50))
        except csv.Error:
            continue
        if not records:
            continue
        width = len(records[0])
        consistent = all(len(r) == width for r in records[1:-1] if r)
        if width > best_fields and consistent:
            best, best_fields = delim, width
    return best


_PANDAS_LINE = re.compile(r"line (\d+)")


def _read_csv(path: Path, info: TableInfo, chunksize: int) -> Iterator[pd.DataFrame]:
    info.encoding, info.delimiter = sniff_csv(path)
    try:
        reader = pd.read_csv(
            path,
            sep=info.delimiter,
            encoding=info.encoding,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            chunksize=chunksize,
            engine="c",
        )
        with reader:
            for chunk in reader:
                if not info.columns:
                    info.columns = [str(c) for c in chunk.columns]
                yield chunk
    except pd.errors.EmptyDataError:
        raise InputError("file has no header row and no data", path=path) from None
    except pd.errors.ParserError as exc:
        m = _PANDAS_LINE.search(str(exc))
        detail = str(exc).split("\n")[0].replace("Error tokenizing data. C error: ", "")
        raise InputError(
            f"CSV cannot be parsed ({detail}); check quoting and the delimiter '{info.delimiter}'",
            path=path,
            row=int(m.group(1)) - 1 if m else None,
        ) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"text encoding error ({exc.reason}); save the file as UTF-8", path=path) from None


def _csv_header(path: Path, info: TableInfo) -> list[str]:
    """Columns of a header-only CSV, where pandas' chunk reader yields nothing."""
    df = pd.read_csv(path, sep=info.delimiter, encoding=info.encoding, dtype=str, nrows=0)
    return [str(c) for c in df.columns]


# ------------------------------------------------------------------------- JSONL


def _read_jsonl(path: Path, info: TableInfo, chunksize: int) -> Iterator[pd.DataFrame]:
    records: list[dict[str, Any]] = []
    columns: dict[str, None] = {}
    row = 0
    try:
        with path.open("r", encoding="utf-8-sig") as fh:
            for line in fh:
                if not line.strip():
                    continue
                row += 1
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise InputError(f"not valid JSON ({exc.msg})", path=path, row=row) from None
                if not isinstance(obj, dict):
                    raise InputError("each line must be a JSON object {...}", path=path, row=row)
                for key in obj:
                    columns.setdefault(key, None)
                records.append(obj)
                if len(records) >= chunksize:
                    yield _records_frame(records, columns, info)
                    records = []
    except UnicodeDecodeError as exc:
        raise InputError(f"text encoding error ({exc.reason}); JSONL must be UTF-8", path=path) from None
    if records or row == 0:
        if row == 0:
            raise InputError("file has no JSON lines", path=path)
        yield _records_frame(records, columns, info)


def _records_frame(records: list[dict[str, Any]], columns: dict[str, None], info: TableInfo) -> pd.DataFrame:
    cols = list(columns)
    info.columns = cols
    data = {c: [r.get(c) for r in records] for c in cols}
    return pd.DataFrame(data, columns=cols, dtype=object)


# -------------------------------------------------------------------- XLSX/Parquet


def _read_xlsx(path: Path, info: TableInfo, sheet: str | None) -> Iterator[pd.DataFrame]:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, OSError, KeyError, ValueError) as exc:
        raise InputError(f"not a readable Excel .xlsx file ({type(exc).__name__})", path=path) from None
    except Exception as exc:  # zipfile.BadZipFile and friends
        raise InputError(f"not a readable Excel .xlsx file ({type(exc).__name__})", path=path) from None
    try:
        names = wb.sheetnames
        if sheet is not None:
            if sheet not in names:
                raise InputError(f"sheet '{sheet}' not found; sheets are: {', '.join(names)}", path=path)
            chosen = sheet
        else:
            chosen = next((n for n in names if _sheet_has_data(wb[n])), names[0])
            if chosen != names[0]:
                info.warnings.append(f"first sheet '{names[0]}' is empty; reading sheet '{chosen}'")
        info.sheet = chosen
        rows = list(wb[chosen].iter_rows(values_only=True))
    finally:
        wb.close()
    rows = [r for r in rows if any(v is not None and str(v).strip() != "" for v in r)]
    if not rows:
        raise InputError(f"sheet '{info.sheet}' is empty", path=path)
    header = _header_names(rows[0])
    width = len(header)
    body = [list(r[:width]) + [None] * (width - len(r)) for r in rows[1:]]
    info.columns = header
    df = pd.DataFrame(body, columns=header, dtype=object)
    yield df


def _sheet_has_data(ws: Any) -> bool:
    return any(any(v is not None for v in row) for row in ws.iter_rows(max_row=50, values_only=True))


def _header_names(cells: tuple[Any, ...]) -> list[str]:
    """Header cells as names; merged or blank cells get a positional name, duplicates a suffix."""
    # trailing empty header cells beyond the data are dropped
    last = max((i for i, v in enumerate(cells) if v is not None and str(v).strip()), default=-1)
    names: list[str] = []
    seen: dict[str, int] = {}
    for i, v in enumerate(cells[: last + 1]):
        name = str(v).strip() if v is not None and str(v).strip() else f"kolom_{i + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        else:
            seen[name] = 0
        names.append(name)
    return names


def _read_parquet(path: Path, info: TableInfo, chunksize: int) -> Iterator[pd.DataFrame]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"not a readable Parquet file ({str(exc).splitlines()[0]})", path=path) from None
    info.columns = list(pf.schema_arrow.names)
    any_rows = False
    for batch in pf.iter_batches(batch_size=chunksize):
        any_rows = True
        yield batch.to_pandas(types_mapper=None).astype(object)
    if not any_rows:
        yield pd.DataFrame({c: pd.Series(dtype=object) for c in info.columns})


# ---------------------------------------------------------------------- public


def read_table(
    path: str | Path,
    *,
    sheet: str | None = None,
    chunksize: int = DEFAULT_CHUNKSIZE,
    info: TableInfo | None = None,
) -> Iterator[pd.DataFrame]:
    """Yield the rows of ``path`` as DataFrame chunks, all columns in file order.

    A header-only file yields one empty frame that still has the columns, so
    callers can check columns and write a header-only output.
    """
    path = Path(path)
    fmt = table_format(path)
    check_readable(path)
    info = info if info is not None else TableInfo(path=path, fmt=fmt)
    info.fmt = fmt
    if fmt == "csv":
        any_rows = False
        for chunk in _read_csv(path, info, chunksize):
            any_rows = True
            yield chunk
        if not any_rows:
            info.columns = _csv_header(path, info)
            yield pd.DataFrame({c: pd.Series(dtype=str) for c in info.columns})
    elif fmt == "jsonl":
        yield from _read_jsonl(path, info, chunksize)
    elif fmt == "xlsx":
        for df in _read_xlsx(path, info, sheet):
            for start in range(0, max(len(df), 1), chunksize):
                yield df.iloc[start : start + chunksize].reset_index(drop=True)
    else:
        yield from _read_parquet(path, info, chunksize)


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


class TableWriter:
    """Write chunks to a temp file beside ``path``; rename over ``path`` only on success.

    Used as a context manager: an exception or Ctrl-C inside the block removes the
    temp file and leaves any existing output untouched.
    """

    def __init__(self, path: str | Path, *, delimiter: str = ",", encoding: str = "utf-8-sig") -> None:
        self.path = Path(path)
        self.fmt = table_format(self.path)
        self.delimiter = delimiter
        self.encoding = encoding
        self.rows = 0
        self._tmp: Path | None = None
        self._fh: Any = None
        self._buffer: list[pd.DataFrame] = []
        self._header_written = False

    def __enter__(self) -> TableWriter:
        parent = self.path.parent
        if not parent.exists():
            raise InputError("output folder does not exist", path=parent)
        if not os.access(parent, os.W_OK):
            raise InputError("output folder is not writable", path=parent)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=parent)
        os.close(fd)
        self._tmp = Path(tmp)
        if self.fmt == "csv":
            self._fh = self._tmp.open("w", encoding=self.encoding, newline="")
        elif self.fmt == "jsonl":
            self._fh = self._tmp.open("w", encoding="utf-8")
        return self

    def write(self, df: pd.DataFrame) -> None:
        self.rows += len(df)
        if self.fmt == "csv":
            df.to_csv(self._fh, sep=self.delimiter, index=False, header=not self._header_written)
            self._header_written = True
        elif self.fmt == "jsonl":
            cols = list(df.columns)
            for values in df.itertuples(index=False, name=None):
                obj = {c: _jsonable(v) for c, v in zip(cols, values, strict=True)}
                self._fh.write(json.dumps(obj, ensure_ascii=False) + "\n")
        else:
            self._buffer.append(df)

    def _finish(self) -> None:
        assert self._tmp is not None
        if self._fh is not None:
            self._fh.close()
        if self.fmt in ("xlsx", "parquet"):
            df = pd.concat(self._buffer, ignore_index=True) if self._buffer else pd.DataFrame()
            if self.fmt == "xlsx":
                if len(df) > 1_048_575:
                    raise InputError("too many rows for one Excel sheet; write .csv or .parquet", path=self.path)
                _to_xlsx(df, self._tmp)
            else:
                _to_parquet(df, self._tmp)
        os.replace(self._tmp, self.path)
        self._tmp = None

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if exc_type is None:
                self._finish()
        finally:
            if self._fh is not None and not self._fh.closed:
                self._fh.close()
            if self._tmp is not None:
                with suppress(FileNotFoundError):
                    self._tmp.unlink()


def _to_xlsx(df: pd.DataFrame, path: Path) -> None:
    """Write with openpyxl directly: text that starts with '=' stays text, never becomes a formula
    (which would lose the value and let a report inject formulas into a staff member's Excel)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

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
                cell = WriteOnlyCell(ws, value=ILLEGAL_CHARACTERS_RE.sub("", v))
                cell.data_type = "s"
                row.append(cell)
            else:
                row.append(v)
        ws.append(row)
    wb.save(path)


def _to_parquet(df: pd.DataFrame, path: Path) -> None:
    """Parquet needs one type a column; mixed object columns (e.g. ints and text) become text."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pa.Table.from_pandas(df, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        fixed = df.copy()
        for col in fixed.columns:
            try:
                pa.array(fixed[col], from_pandas=True)
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                fixed[col] = fixed[col].map(lambda v: None if v is None else str(v))
        table = pa.Table.from_pandas(fixed, preserve_index=False)
    pq.write_table(table, path)


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temp file beside ``path`` to write the whole output into; it replaces ``path`` only when the
    block ends without error, so an interrupted or failed run never leaves half a file."""
    path = Path(path)
    if not path.parent.is_dir():
        raise InputError("output folder does not exist", path=path.parent)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        with suppress(FileNotFoundError):
            tmp.unlink()


def write_text_atomic(path: str | Path, text: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_table(df: pd.DataFrame, path: str | Path, **kwargs: Any) -> None:
    with TableWriter(path, **kwargs) as w:
        w.write(df)
