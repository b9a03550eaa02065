"""What a running service holds: the store, the key cache, the gate index, the audit writer."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from starlette.requests import HTTPConnection

from socialcredit.audit.log import Entry, append_entries
from socialcredit.audit.writer import AuditWriter
from socialcredit.outcomes.gate import GateIndex
from socialcredit.rights.opening import open_subject
from socialcredit.settings import Settings
from socialcredit.sharing.keys import KeyCache, Principal
from socialcredit.store.registry import Subject


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

    def open_subject(self, who: Principal, identifier: str, action: str, purpose: str) -> Subject:
        """Authorize, find and audit one subject's data (`rights.opening.open_subject`)."""
        return open_subject(self.engine, self.log, who, identifier, action, purpose)


def service(connection: HTTPConnection) -> Service:
    found = connection.app.state.service
    assert isinstance(found, Service)
    return found
