"""Delivering notices: drain the outbox through an adapter, with retries.

Every notice gets one outbox row in the transaction that stores it, so a notice is never lost
when a receiver is down. `deliver_due` claims the rows due now (one at a time, so that two
sweepers never send the same row at once), sends each outside any transaction, and records the
result:

- delivered: `state = delivered`, `delivered_at`;
- failed: `attempts + 1`, and the next attempt `BACKOFF · 2^(attempts − 1)` later (1, 2, 4, …
  minutes); after `MAX_ATTEMPTS` the row is `failed` with the last reason, and stays listed.

The webhook adapter POSTs the notice as JSON to `SCS_NOTICE_WEBHOOK_URL`, with an
`Idempotency-Key: notice-<id>` header (a retry after a lost answer may deliver twice; the key
lets the receiver drop the repeat). Any 2xx answer is a delivery.
"""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
import sqlalchemy as sa

from socialcredit.audit.log import Entry, append_entries
from socialcredit.errors import InvalidInput
from socialcredit.i18n import DEFAULT
from socialcredit.rights.notices import notice_document
from socialcredit.store.schema import notice_outbox, notices
from socialcredit.timeutil import now

# Eight attempts over about two hours (1 + 2 + … + 64 minutes): long enough to ride out a
# receiver's restart or a deploy, short enough that a dead endpoint is reported the same day.
MAX_ATTEMPTS = 8
BACKOFF = timedelta(minutes=1)
# While a row is being sent it is leased: another sweeper skips it until the lease ends.
LEASE = timedelta(minutes=5)
TIMEOUT_SECONDS = 10.0
BATCH = 500
ACTOR = "system:sweep"


class DeliveryFailed(Exception):
    """One attempt failed; the message says why (kept as the row's last_error)."""


Send = Callable[[dict[str, Any]], None]  # raises DeliveryFailed


def check_webhook_url(url: str, field: str = "SCS_NOTICE_WEBHOOK_URL") -> str:
    if not url.startswith(("http://", "https://")):
        raise InvalidInput(field, f"{url!r} is not an http:// or https:// URL")
    return url


def webhook(url: str, timeout: float = TIMEOUT_SECONDS) -> Send:
    """The webhook adapter: POST the notice as JSON; any 2xx is a delivery."""
    check_webhook_url(url)

    def send(document: dict[str, Any]) -> None:
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
            url,
            data=orjson.dumps(document),
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Idempotency-Key": f"notice-{document['id']}",
                "User-Agent": "socialcredit-notices/1",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
                status = answer.status
        except urllib.error.HTTPError as error:
            raise DeliveryFailed(f"HTTP {error.code} from {url}") from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
            # HTTPException: a reply that is not HTTP (BadStatusLine, …) is a failed attempt too
            reason = getattr(error, "reason", error)
            raise DeliveryFailed(f"cannot reach {url}: {reason}") from None
        if not 200 <= status < 300:
            raise DeliveryFailed(f"HTTP {status} from {url}")

    return send


@dataclass
class Delivered:
    delivered: int = 0
    retried: int = 0  # failed, another attempt is scheduled
    failed: int = 0  # failed for the last time


def next_attempt(attempts: int, at: datetime) -> datetime:
    """When to try again after `attempts` failed attempts."""
    delay: timedelta = BACKOFF * 2 ** (attempts - 1)
    return at + delay


def deliver_due(engine: sa.Engine, send: Send, at: datetime | None = None) -> Delivered:
    """Send every outbox row due by `at` (default: now), up to BATCH of them."""
    at = at or now()
    result = Delivered()
    with engine.connect() as conn:
        due = list(
            conn.execute(
                sa.select(notice_outbox.c.id, notice_outbox.c.next_attempt_at)
                .where(notice_outbox.c.state == "pending", notice_outbox.c.next_attempt_at <= at)
                .order_by(notice_outbox.c.next_attempt_at, notice_outbox.c.id)
                .limit(BATCH)
            )
        )
    for row in due:
        claimed = _claim(engine, row.id, row.next_attempt_at, at)
        if claimed is None:
            continue
        try:
            # The subject's language is not stored: English, with every other language
            # beside it (`translations`), for the receiver to choose (docs/rights.md).
            send(notice_document(claimed, DEFAULT, every_language=True))
        except DeliveryFailed as error:
            if _record_failure(engine, claimed, str(error), at):
                result.failed += 1
            else:
                result.retried += 1
            continue
        _record_delivery(engine, claimed, at)
        result.delivered += 1
    return result


def _claim(engine: sa.Engine, outbox_id: int, due_at: datetime, at: datetime) -> Any | None:
    """Lease one row; None when another sweeper took it first."""
    with engine.begin() as conn:
        taken = conn.execute(
            notice_outbox.update()
            .where(
                notice_outbox.c.id == outbox_id,
                notice_outbox.c.state == "pending",
                notice_outbox.c.next_attempt_at == due_at,
            )
            .values(next_attempt_at=at + LEASE)
        )
        if taken.rowcount != 1:
            return None
        return conn.execute(
            sa.select(notices, notice_outbox.c.state, notice_outbox.c.attempts)
            .join(notice_outbox, notice_outbox.c.notice_id == notices.c.id)
            .where(notice_outbox.c.id == outbox_id)
        ).one()


def _record_delivery(engine: sa.Engine, row: Any, at: datetime) -> None:
    with engine.begin() as conn:
        conn.execute(
            notice_outbox.update()
            .where(notice_outbox.c.notice_id == row.id)
            .values(state="delivered", delivered_at=at, attempts=row.attempts + 1, last_error=None)
        )
    _log(engine, "notice.deliver", row, "delivered by webhook", "allowed")


def _record_failure(engine: sa.Engine, row: Any, reason: str, at: datetime) -> bool:
    """Record a failed attempt; True when it was the last one."""
    attempts = int(row.attempts) + 1
    final: bool = attempts >= MAX_ATTEMPTS
    values: dict[str, Any] = {"attempts": attempts, "last_error": reason[:2000]}
    if final:
        values["state"] = "failed"
        values["last_error"] = f"gave up after {attempts} attempts: {reason}"[:2000]
    else:
        values["next_attempt_at"] = next_attempt(attempts, at)
    with engine.begin() as conn:
        conn.execute(
            notice_outbox.update().where(notice_outbox.c.notice_id == row.id).values(**values)
        )
    _log(engine, "notice.deliver", row, values["last_error"], "failed")
    return final


def _log(engine: sa.Engine, action: str, row: Any, purpose: str, outcome: str) -> None:
    target = f"notice {row.id} ({row.kind} {row.topic})"
    append_entries(engine, [Entry.now(ACTOR, "system", action, target, purpose, outcome)])
