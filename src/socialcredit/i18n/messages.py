"""Texts with parameters that are translated where a person reads them.

An error is raised deep in a service, long before anyone knows who will read it: a page in
Chinese, the CLI in English, a log. `Message("record {record} is already disputed",
record=rid)` is a `str` (the English text, so logs, the CLI and JSON keep working unchanged)
that also remembers its message id and parameters; `localize` translates it into the language
in use where a page or a human-readable API field shows it. `pybabel extract` finds both
`Message(...)` and `N_(...)` (docs/i18n.md).
"""

from __future__ import annotations

from typing import Any

from socialcredit.i18n.catalog import gettext


class Message(str):
    """An English text that a reader's language can translate again (`localize`)."""

    msgid: str
    params: dict[str, Any]

    def __new__(cls, msgid: str, /, **params: Any) -> Message:
        made = super().__new__(cls, msgid.format(**params) if params else msgid)
        made.msgid = msgid
        made.params = params
        return made

    def __reduce__(self) -> tuple[Any, ...]:  # pickles (jobs, processes) keep the id
        return (_rebuild, (self.msgid, self.params))


def _rebuild(msgid: str, params: dict[str, Any]) -> Message:
    return Message(msgid, **params)


def N_(message: str) -> str:
    """Mark `message` for the catalog without translating it now (a module-level table that
    is translated where it is shown, with `gettext(value)`)."""
    return message


def localize(value: object) -> str:
    """`value` in the language in use: a `Message` is translated (its parameters, when they are
    Messages too, as well); any other value is shown as it is."""
    if isinstance(value, Message):
        params = {k: localize(v) if isinstance(v, Message) else v for k, v in value.params.items()}
        return gettext(value.msgid, **params) if params else gettext(value.msgid)
    return str(value)
