"""Reading CSV, JSON Lines and Parquet files into numbered rows.

Each reader yields `(line, row)`: `line` is what a person looks for in the file (CSV counts the
header as line 1; JSON Lines counts every line; Parquet counts rows from 1), `row` a dict of raw
values. A missing required column fails the whole file before anything is read.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from socialcredit.errors import InvalidInput
from socialcredit.timeutil import from_us

FORMATS = ("csv", "jsonl", "parquet")
_SUFFIXES = {
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}

Row = dict[str, Any]
CSV_CELL_LIMIT = 16 * 1024 * 1024  # a large attrs cell is a per-row rejection, not a broken file


class BadLine(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def detect_format(path: Path, given: str | None = None) -> str:
    if given:
        if given not in FORMATS:
            raise InvalidInput("format", f"{given!r} is not one of {', '.join(FORMATS)}")
        return given
    found = _SUFFIXES.get(path.suffix.lower())
    if found is None:
        raise InvalidInput(
            "file",
            f"cannot tell the format of {path.name}; name it .csv, .jsonl or .parquet "
            "or pass --format",
        )
    return found


def read_rows(
    path: Path, required: Sequence[str], optional: Sequence[str] = (), fmt: str | None = None
) -> Iterator[tuple[int, Row | BadLine]]:
    if not path.is_file():
        raise InvalidInput("file", f"{path} does not exist or is not a file")
    kind = detect_format(path, fmt)
    if kind == "csv":
        return _csv(path, required, optional)
    if kind == "jsonl":
        return _jsonl(path, set(required) | set(optional))
    return _parquet(path, required, optional)


def _check_columns(
    path: Path, present: Sequence[str], required: Sequence[str], optional: Sequence[str]
) -> None:
    """The whole file fails on a missing, unknown or repeated column: a misspelt `supersede`
    silently ignored would turn a correction into a second record."""
    missing = [c for c in required if c not in present]
    if missing:
        raise InvalidInput(
            "columns",
            f"{path.name} lacks the required column(s) {', '.join(missing)} "
            f"(found: {', '.join(present) or 'none'})",
        )
    known = set(required) | set(optional)
    unknown = [c for c in present if c not in known]
    if unknown:
        raise InvalidInput(
            "columns",
            f"{path.name} has unknown column(s) {', '.join(unknown)}; the columns are "
            f"{', '.join([*required, *optional])}",
        )
    repeated = sorted({c for c in present if list(present).count(c) > 1})
    if repeated:
        raise InvalidInput("columns", f"{path.name} repeats the column(s) {', '.join(repeated)}")


def _csv(
    path: Path, required: Sequence[str], optional: Sequence[str]
) -> Iterator[tuple[int, Row | BadLine]]:
    csv.field_size_limit(max(csv.field_size_limit(), CSV_CELL_LIMIT))  # the module's global
    handle = path.open(newline="", encoding="utf-8-sig")
    reader = csv.DictReader(handle)
    try:
        header = [h.strip() for h in reader.fieldnames or []]
        _check_columns(path, header, required, optional)
    except (InvalidInput, UnicodeDecodeError, csv.Error) as error:
        handle.close()
        if isinstance(error, InvalidInput):
            raise
        if isinstance(error, UnicodeDecodeError):
            raise InvalidInput(
                "file", f"{path.name} is not UTF-8 text (in its first lines: {error.reason})"
            ) from None
        raise InvalidInput("file", f"{path.name} has no readable CSV header ({error})") from None
    reader.fieldnames = header

    def rows() -> Iterator[tuple[int, Row | BadLine]]:
        # A reader error leaves csv unable to continue: the whole file fails, with the line,
        # rather than stopping quietly and leaving the rest neither accepted nor rejected.
        with handle:
            try:
                for row in reader:
                    if None in row:
                        extra = len(row[None])
                        yield (
                            reader.line_num,
                            BadLine(
                                f"has {len(header) + extra} fields; the header has {len(header)}"
                            ),
                        )
                        continue
                    yield reader.line_num, {k: (v if v != "" else None) for k, v in row.items()}
            except csv.Error as error:
                raise InvalidInput(
                    "file",
                    f"{path.name}, after line {reader.line_num}: not "
                    f"valid CSV ({error}); nothing was stored",
                ) from None
            except UnicodeDecodeError as error:
                raise InvalidInput(
                    "file",
                    f"{path.name}, after line {reader.line_num}: not "
                    f"UTF-8 text ({error.reason}); nothing was stored",
                ) from None

    return rows()


def _jsonl(path: Path, known: set[str]) -> Iterator[tuple[int, Row | BadLine]]:
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            row = json_row(raw, known)
            if row is not None:
                yield number, row


def json_row(raw: bytes, known: set[str]) -> Row | BadLine | None:
    """One JSON Lines line (or one stream message) as a row, a BadLine with the reason, or None
    for a blank line."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return BadLine(f"not UTF-8 text ({error.reason})")
    if not text.strip():
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        return BadLine(f"not valid JSON ({error.msg} at column {error.colno})")
    except RecursionError:
        return BadLine("JSON nested too deeply")
    except ValueError as error:  # an integer past Python's digit limit (4,300)
        return BadLine(f"not valid JSON ({_reason(error)})")
    if not isinstance(value, dict):
        return BadLine("each line must be a JSON object")
    unknown = sorted(k for k in value if k not in known)
    if unknown:
        return BadLine(
            f"unknown field(s) {', '.join(unknown)}; the fields are {', '.join(sorted(known))}"
        )
    return value


def _reason(error: ValueError) -> str:
    """Python's message without its advice to raise the limit (which is not ours to raise)."""
    return str(error).split(";")[0]


def _parquet(
    path: Path, required: Sequence[str], optional: Sequence[str]
) -> Iterator[tuple[int, Row | BadLine]]:
    try:
        parquet = pq.ParquetFile(path)
    except Exception as error:  # noqa: BLE001 - pyarrow raises several types for a bad file
        raise InvalidInput(
            "file", f"{path.name} is not a readable Parquet file ({error})"
        ) from None
    present = parquet.schema_arrow.names
    _check_columns(path, present, required, optional)
    columns = [c for c in (*required, *optional) if c in present]

    def rows() -> Iterator[tuple[int, Row | BadLine]]:
        number = 0
        for batch in parquet.iter_batches(batch_size=65_536, columns=columns):
            values = [_python_values(batch.column(c)) for c in columns]
            for row in zip(*values, strict=True):
                number += 1
                yield number, dict(zip(columns, row, strict=True))

    return rows()


def _python_values(column: pa.Array) -> list[Any]:
    """Column values as Python objects; timestamps become aware UTC datetimes, quickly
    (a naive timestamp is taken as UTC)."""
    if pa.types.is_timestamp(column.type):
        # Nanosecond timestamps (pandas' default) are truncated to microseconds.
        micros = column.cast(pa.timestamp("us", tz=column.type.tz), safe=False).cast(pa.int64())
        return [None if v is None else from_us(v) for v in micros.to_pylist()]
    values: list[Any] = column.to_pylist()
    return values
