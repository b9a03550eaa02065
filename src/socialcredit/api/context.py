"""What a running service holds: the store, the key cache, the session rules, the gate index,
the audit writer, the job runner."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from starlette.requests import HTTPConnection

from socialcredit.audit.log import Entry, append_entries
from socialcredit.audit.writer import AuditWriter
from socialcredit.errors import InvalidInput, NotFound
from socialcredit.gate import GateIndex
from socialcredit.jobs.runner import JobRunner
from socialcredit.settings import Settings
from socialcredit.sharing.access import require_subject
from socialcredit.sharing.keys import KeyCache, Principal
from socialcredit.sharing.sessions import SessionRules
from socialcredit.store.registry import Subject, find_subject


@dataclass
class Service:
    settings: Settings
    engine: sa.Engine
    keys: KeyCache
    gate: GateIndex
    audit: AuditWriter
    sessions: SessionRules
    jobs: JobRunner

    @classmethod
    def open(cls, settings: Settings, engine: sa.Engine) -> Service:
        return cls(
            settings,
            engine,
            KeyCache(engine),
            GateIndex(engine),
            AuditWriter(engine),
            SessionRules.of(settings),
            JobRunner(engine, settings),
        )

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
        """Authorize, find and audit one subject's data for `action` (the API's and the pages'
        one path). Authorization comes first, so a refusal says nothing about whether the
        subject exists (the error handlers audit refusals); asking about a subject that is
        not registered, or about something that is not an identifier, is logged too."""
        try:
            canonical = require_subject(who, identifier, action)
            with self.engine.connect() as conn:
                subject = find_subject(conn, canonical)
        except (NotFound, InvalidInput) as error:
            outcome = "not_found" if isinstance(error, NotFound) else "invalid"
            self.log(who, action, identifier, purpose, outcome)
            raise
        self.log(who, action, subject.identifier, purpose)
        return subject


def service(connection: HTTPConnection) -> Service:
    found = connection.app.state.service
    assert isinstance(found, Service)
    return found
