"""`scs rights sweep`: resolve everything overdue as of one instant of the one clock.

A sweep runs, in order:

1. the **steps**: each `step(conn, at) -> int` runs in a write transaction of its own that
   holds the log lock and the audit lock, so that it may change the log and append its audit
   entries (actor `system:sweep`, with `audit.log.append`) atomically. Each returns how many
   things it resolved. A step that `changes_log` makes the sweep re-evaluate afterwards.
2. a **current evaluation** of every policy in force, when a step changed the log or time
   alone changed an outcome (a list membership of a serving evaluation ended by `at`), so that
   the outcomes, the gate and the notices follow at once;
3. **delivery** of the notices due (`rights.delivery`), when a webhook is configured.

It is idempotent: a second sweep at the same instant finds nothing more to do.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from socialcredit.audit.checkpoint import checkpoint_after
from socialcredit.audit.log import Entry, append_entries
from socialcredit.outcomes.runs import run_evaluations
from socialcredit.rights import appeals, objections, repair
from socialcredit.rights.appeals import overrides_ended
from socialcredit.rights.delivery import Send, deliver_due, webhook
from socialcredit.rights.retention import purge_expired
from socialcredit.settings import Settings
from socialcredit.store.db import AUDIT_LOCK, writing
from socialcredit.store.evaluations import latest_evaluation_id
from socialcredit.store.policies import latest_policies
from socialcredit.store.schema import outcome_lists
from socialcredit.timeutil import format_instant, now

Step = Callable[[sa.Connection, datetime], int]
ACTOR = "system:sweep"
log = logging.getLogger("socialcredit.sweep")


@dataclass(frozen=True)
class SweepStep:
    name: str  # the count's name in the result
    run: Step
    changes_log: bool  # True: what it resolves changes outcomes, so the sweep re-evaluates


# Each area's `resolve_overdue`. Steps that only count (overdue appeals are never decided by a
# machine) have changes_log=False.
STEPS: tuple[SweepStep, ...] = (
    SweepStep("records_purged", purge_expired, True),
    SweepStep("objections_suppressed", objections.resolve_overdue, True),
    SweepStep("appeals_overdue", appeals.resolve_overdue, False),  # counted, never decided
    SweepStep("repair_overdue", repair.resolve_overdue, False),
    SweepStep("overrides_ended", overrides_ended, True),
)


@dataclass
class SweepResult:
    at: datetime
    counts: dict[str, int] = field(default_factory=dict)
    evaluations: list[int] = field(default_factory=list)  # the evaluations the sweep ran
    webhook: bool = False  # whether notices were delivered (a webhook is configured)


def sweep(
    engine: sa.Engine,
    settings: Settings,
    at: datetime | None = None,
    send: Send | None = None,
    steps: tuple[SweepStep, ...] = STEPS,
) -> SweepResult:
    """Resolve everything overdue as of `at` (default: now, the one clock)."""
    at = at or now()
    result = SweepResult(at)
    for step in steps:
        with writing(engine) as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": AUDIT_LOCK})
            result.counts[step.name] = step.run(conn, at)
    changed = any(result.counts[s.name] for s in steps if s.changes_log)
    with engine.connect() as conn:
        policies = latest_policies(conn)
        expired = lists_ended(conn, [p.name for p in policies], at)
    result.counts["list_terms_ended"] = expired
    if policies and (changed or expired) and at <= now():
        run = run_evaluations(engine, settings)
        result.evaluations = [r.evaluation_id for r in run.results]
        result.counts["notices_made"] = sum(r.notices for r in run.results)
        append_entries(
            engine,
            [
                Entry.now(
                    ACTOR,
                    "system",
                    "evaluation.run",
                    f"{r.policy.name} evaluation {r.evaluation_id}",
                    f"sweep at {format_instant(at)}",
                )
                for r in run.results
            ],
        )
        checkpoint_after(engine, settings, "the sweep's evaluation")
    else:
        result.counts["notices_made"] = 0
    sender = send or (webhook(settings.notice_webhook_url) if settings.notice_webhook_url else None)
    result.webhook = sender is not None
    delivered = deliver_due(engine, sender, at) if sender is not None else None
    result.counts["notices_delivered"] = delivered.delivered if delivered else 0
    result.counts["notices_retried"] = delivered.retried if delivered else 0
    result.counts["notices_failed"] = delivered.failed if delivered else 0
    return result


def lists_ended(conn: sa.Connection, policies: list[str], at: datetime) -> int:
    """List memberships in the serving evaluations whose term ended by `at`: time alone has
    changed those outcomes, so the sweep re-evaluates to lift them and send the notices."""
    ended = 0
    for name in policies:
        evaluation_id = latest_evaluation_id(conn, name)
        if evaluation_id is None:
            continue
        ended += int(
            conn.execute(
                sa.select(sa.func.count())
                .select_from(outcome_lists)
                .where(outcome_lists.c.evaluation_id == evaluation_id, outcome_lists.c.until <= at)
            ).scalar_one()
        )
    return ended


class Sweeper:
    """`scs serve`'s schedule: a sweep every `interval` seconds, in a daemon thread."""

    def __init__(self, engine: sa.Engine, settings: Settings, interval: float) -> None:
        self.engine, self.settings, self.interval = engine, settings, interval
        self.stopped = threading.Event()
        self.runs = 0
        self.thread = threading.Thread(target=self._loop, name="scs-sweep", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=30)

    def _loop(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                result = sweep(self.engine, self.settings)
            # Broad on purpose: a failed sweep (a database restart, a bad policy) must stop
            # neither the schedule nor the server; it is logged and the next one retries.
            except Exception:
                log.exception("the scheduled sweep failed; the next one retries")
                continue
            self.runs += 1
            done = {k: v for k, v in result.counts.items() if v}
            if done:
                log.info("sweep at %s: %s", format_instant(result.at), done)
