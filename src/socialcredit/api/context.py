"""What a running service holds: the store, the key cache, the gate index, the audit writer."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from starlette.requests import HTTPConnection

from socialcredit.audit.log import Entry, append_entries
from socialcredit.audit.writer import AuditWriter
from socialcredit.gate import GateIndex
from socialcredit.settings import Settings
from socialcredit.sharing.keys import KeyCache, Principal


@dataclass
class Service:
    settings: Settings
    engine: sa.Engine
    keys: KeyCache
    gate: GateIndex
    audit: AuditWriter

    @classmethod
    def open(cls, settings: Settings, engine: sa.Engine) -> Service:
        return cls(settings, engine, KeyCache(engine), GateIndex(engine), AuditWriter(engine))

    def log(
        self,
        principal: Principal,
        action: str,
        target: str,
        purpose: str,
        outcome: str = "allowed",
    ) -> None:
        """Append one audit entry and wait for it (the synchronous handlers' path)."""
        entry = Entry.now(principal.name, principal.role, action, target, purpose, outcome)
        append_entries(self.engine, [entry])


def service(connection: HTTPConnection) -> Service:
    found = connection.app.state.service
    assert isinstance(found, Service)
    return found
