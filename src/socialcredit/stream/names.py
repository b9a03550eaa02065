"""The stream's fixed names, and the subject of each source."""

from __future__ import annotations

from socialcredit.errors import InvalidInput

STREAM = "SCS_RECORDS"
REJECTS = "SCS_REJECTS"
CONSUMER = "scs-worker"
RECORDS_PREFIX = "scs.records."
REJECTS_PREFIX = "scs.rejects."
MSG_ID = "Nats-Msg-Id"


def records_subject(source: str) -> str:
    """`scs.records.<source>`; a source id with an empty dot-separated part (`a..b`, `a.`)
    cannot be a NATS subject."""
    if not source or any(not part for part in source.split(".")) or not source.isprintable():
        raise InvalidInput(
            "source", f"{source!r} cannot be part of a NATS subject (an empty dot-separated part)"
        )
    if any(c in source for c in " *>\t"):
        raise InvalidInput("source", f"{source!r} cannot be part of a NATS subject")
    return RECORDS_PREFIX + source


def source_of(subject: str) -> str:
    """The source a message's subject names (what follows `scs.records.`)."""
    return subject.removeprefix(RECORDS_PREFIX)


def rejects_subject(source: str) -> str:
    return REJECTS_PREFIX + (source or "_")


def message_id(source: str, record_id: str) -> str:
    """`source/record_id`: the server drops a second message with the same id within the
    stream's duplicate window."""
    return f"{source}/{record_id}"
