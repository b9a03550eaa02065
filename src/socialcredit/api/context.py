"""What a running service holds: the store, the key cache, the session rules, the gate index,
the audit writer, the job runner."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from starlette.requests import HTTPConnection
from starlette.types import Scope

from socialcredit.api.rates import Limiter, RefusalTally
from socialcredit.audit.log import Entry, append_entries
from socialcredit.audit.writer import AuditWriter
from socialcredit.jobs.runner import JobRunner
from socialcredit.outcomes.gate import GateIndex
from socialcredit.rights.opening import open_subject
from socialcredit.settings import Settings
from socialcredit.sharing.keys import KeyCache, Principal
from socialcredit.sharing.sessions import SessionRules
from socialcredit.store.registry import Subject
from socialcredit.stream.status import StatusCache


@dataclass
class Service:
    settings: Settings
    engine: sa.Engine
    keys: KeyCache
    gate: GateIndex
    audit: AuditWriter
    limiter: Limiter
    tally: RefusalTally
    sessions: SessionRules
    jobs: JobRunner
    stream: StatusCache = field(init=False)  # the record stream's status, for the live view
    # Told after every request that may have written to the store (`scs serve` sets it to its
    # refresher's nudge, outcomes.refresher); None: nothing is refreshed in the background.
    after_write: Callable[[], None] | None = None

    def __post_init__(self) -> None:
        self.stream = StatusCache(self.settings)

    @classmethod
    def open(cls, settings: Settings, engine: sa.Engine) -> Service:
        return cls(
            settings,
            engine,
            KeyCache(engine),
            GateIndex(engine),
            AuditWriter(engine),
            Limiter(settings),
            RefusalTally(settings.refusal_window),
            SessionRules.of(settings),
            JobRunner(engine, settings),
        )

    def _due(self, client: str, entry: Entry) -> list[Entry]:
        """What to write for a refusal: the entry itself while the client has refusals left;
        past that, what the tally says (the first of a window, and closed windows' counts)."""
        if self.limiter.hit(self.limiter.failures, "failures", client) is None:
            return [entry]
        return self.tally.count(client, entry)

    async def refused(self, client: str, entry: Entry) -> None:
        """Log a refusal (401, 403) of `client`'s request, before it is answered."""
        for due in self._due(client, entry):
            await self.audit.record(due)

    def refused_now(self, client: str, entry: Entry) -> None:
        """`refused`, for the synchronous handlers."""
        due = self._due(client, entry)
        if due:
            append_entries(self.engine, due)

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


def client_of(scope: Scope) -> str:
    """The client's address, as the server saw it (behind a proxy: see docs/security.md)."""
    found = scope.get("client")
    return str(found[0]) if found else "unknown"


def service(connection: HTTPConnection) -> Service:
    found = connection.app.state.service
    assert isinstance(found, Service)
    return found
