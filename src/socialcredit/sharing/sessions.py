"""Web page sessions: a signed cookie pointing to a session the store holds.

Logging in with a key (`start`) stores a session with a random token; the browser gets the token
signed (itsdangerous, with the instant it was signed), never the key. A page request (`resolve`)
checks the signature and age first, without touching the store, so a forged or stale cookie
costs no lookup; then the stored session: not ended (logout), not idle for longer than
`SCS_SESSION_IDLE_MINUTES`, not older than `SCS_SESSION_HOURS`, and its key not revoked.
Logging out (`end`) ends the stored session, so a copy of the cookie stops working at once,
also on another server of the same store.

The store keeps only the token's SHA-256: a copy of the database cannot be replayed as a cookie.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner

from socialcredit.errors import Unauthenticated
from socialcredit.i18n import Message
from socialcredit.settings import Settings
from socialcredit.sharing.keys import Principal, principal_of
from socialcredit.store.schema import api_keys, web_sessions
from socialcredit.timeutil import now

# A page request moves `seen_at` at most this often: an active session writes about once a
# minute, not once a page; the idle timeout is exact to within this much.
TOUCH_EVERY = timedelta(seconds=60)
_SALT = "socialcredit.web-session"
SESSIONS_LOCK = 0x5C5_5E55  # PostgreSQL advisory lock of logins (see `store.db.writing`)


@dataclass(frozen=True)
class SessionRules:
    """How long sessions live, and the key that signs their cookies."""

    idle: timedelta
    lifetime: timedelta
    secret: bytes

    @classmethod
    def of(cls, settings: Settings) -> SessionRules:
        secret = settings.session_secret
        return cls(
            idle=timedelta(minutes=settings.session_idle_minutes),
            lifetime=timedelta(hours=settings.session_hours),
            # No default secret: without one, each process draws its own.
            secret=secret.get_secret_value().encode() if secret else secrets.token_bytes(32),
        )

    @property
    def _signer(self) -> TimestampSigner:
        return TimestampSigner(self.secret, salt=_SALT)

    def sign(self, token: str) -> str:
        return self._signer.sign(token).decode("ascii")

    def unsign(self, cookie: str) -> str:
        """The token of a cookie this service signed less than a lifetime ago."""
        try:
            token = self._signer.unsign(cookie, max_age=int(self.lifetime.total_seconds()))
        except SignatureExpired:
            raise Unauthenticated(Message("your session expired; log in again")) from None
        except BadSignature:
            raise Unauthenticated(
                Message("the session cookie is not valid; log in again")
            ) from None
        return token.decode("ascii")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def start(conn: sa.Connection, rules: SessionRules, who: Principal) -> str:
    """Store a new session for the key `who` authenticated with; returns the cookie's value.
    Sessions that ended or expired are deleted on the way (the audit log keeps the logins)."""
    prefix = who.name.removeprefix("key:")
    key_id = conn.execute(sa.select(api_keys.c.id).where(api_keys.c.prefix == prefix)).scalar_one()
    moment = now()
    conn.execute(
        sa.delete(web_sessions).where(
            sa.or_(
                web_sessions.c.ended_at.is_not(None),
                web_sessions.c.expires_at <= moment,
                web_sessions.c.seen_at <= moment - rules.idle,
            )
        )
    )
    token = secrets.token_urlsafe(32)
    conn.execute(
        web_sessions.insert().values(
            token_hash=_digest(token),
            key_id=key_id,
            created_at=moment,
            seen_at=moment,
            expires_at=moment + rules.lifetime,
        )
    )
    return rules.sign(token)


def resolve(engine: sa.Engine, rules: SessionRules, cookie: str, touch: bool = True) -> Principal:
    """The principal of a live session; Unauthenticated, saying why, for any other cookie.
    `touch=False` checks without counting as a use (a page's event stream asks again and again,
    and must not keep an unattended session from idling out).

    It reads, then (at most once a minute) writes the last use in a transaction of its own
    that starts with the write: on SQLite a read transaction that turns into a write fails
    at once when another request wrote in between."""
    token = rules.unsign(cookie)
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(
                web_sessions.c.id.label("session_id"),
                web_sessions.c.seen_at,
                web_sessions.c.expires_at,
                web_sessions.c.ended_at,
                api_keys,
            )
            .join(api_keys, api_keys.c.id == web_sessions.c.key_id)
            .where(web_sessions.c.token_hash == _digest(token))
        ).first()
        if row is None:
            raise Unauthenticated(Message("this session has ended; log in again"))
        if row.ended_at is not None:
            raise Unauthenticated(Message("you have logged out; log in again"))
        moment = now()
        if row.expires_at <= moment:
            raise Unauthenticated(Message("your session expired; log in again"))
        if row.seen_at <= moment - rules.idle:
            minutes = int(rules.idle.total_seconds() // 60)
            raise Unauthenticated(
                Message(
                    "your session ended after {minutes} minutes unused; log in again",
                    minutes=minutes,
                )
            )
        if row.revoked_at is not None:
            raise Unauthenticated(
                Message("the key {prefix} of this session was revoked", prefix=row.prefix)
            )
        principal = principal_of(conn, row)
    if touch and moment - row.seen_at >= TOUCH_EVERY:
        with engine.begin() as conn:
            conn.execute(
                sa.update(web_sessions)
                .where(web_sessions.c.id == row.session_id, web_sessions.c.seen_at < moment)
                .values(seen_at=moment)
            )
    return principal


def end(conn: sa.Connection, rules: SessionRules, cookie: str) -> bool:
    """End the session of a cookie (logout); False when it names no live session."""
    try:
        token = rules.unsign(cookie)
    except Unauthenticated:
        return False
    ended = conn.execute(
        sa.update(web_sessions)
        .where(web_sessions.c.token_hash == _digest(token), web_sessions.c.ended_at.is_(None))
        .values(ended_at=now())
    )
    return ended.rowcount > 0
