"""What appeals and repair applications share: their text fields, deadlines and timelines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from socialcredit.errors import InvalidInput
from socialcredit.timeutil import format_instant

MAX_TEXT = 4000  # grounds and notes: a letter, not a file


def required_text(field: str, value: str | None) -> str:
    """A person's words (grounds, a reviewer's note): present, not blank, of letter length."""
    text = (value or "").strip()
    if not text:
        raise InvalidInput(field, "is required: say why, in words")
    if len(text) > MAX_TEXT:
        raise InvalidInput(field, f"is {len(text)} characters long; at most {MAX_TEXT}")
    return text


@dataclass(frozen=True)
class Event:
    """One step of a case's timeline; `done` is False for what is still ahead (a deadline)."""

    at: datetime
    what: str
    done: bool = True

    def document(self) -> dict[str, Any]:
        return {"at": format_instant(self.at), "what": self.what, "done": self.done}
