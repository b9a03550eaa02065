"""A record as a stream message: one JSON object, the fields of a JSON Lines row."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from socialcredit.ingest.accept import OPTIONAL, REQUIRED
from socialcredit.ingest.readers import BadLine, Row, json_row

FIELDS = frozenset((*REQUIRED, *OPTIONAL))


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def encode_row(row: Row) -> bytes:
    """The row as JSON; instants (Parquet timestamps) as ISO 8601, other values as read."""
    return json.dumps(row, default=_plain, ensure_ascii=False, allow_nan=True).encode()


def decode(data: bytes) -> Row | BadLine:
    """The message as a row, or a BadLine with the same reason a JSON Lines line would get."""
    row = json_row(data, set(FIELDS))
    return BadLine("the message is empty") if row is None else row


def record_id_of(row: Row) -> str | None:
    """The record_id as `accept_records` will read it (text, trimmed), or None."""
    value = row.get("record_id")
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = str(value).strip()
    return text or None
