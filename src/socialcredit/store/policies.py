"""Policy versions. A new version is added, never overwritten; the latest added is in force."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

import sqlalchemy as sa

from socialcredit.errors import Conflict, NotFound
from socialcredit.i18n import DEFAULT, text
from socialcredit.policy.load import LoadedPolicy, load_policy
from socialcredit.policy.schema import Policy
from socialcredit.store.schema import policies
from socialcredit.timeutil import now


@dataclass(frozen=True)
class StoredPolicy:
    id: int
    name: str
    version: str
    digest: str
    stored_title: str  # the `title` column: the title in English (the default language)
    document: str
    added_at: datetime

    @cached_property
    def policy(self) -> Policy:
        return load_policy(self.document, source=f"{self.name} {self.version}").policy

    @property
    def title(self) -> str:
        """The title in the language in use (a document may give it in several)."""
        return text(self.policy.title)


def _stored(row: sa.Row[tuple[object, ...]]) -> StoredPolicy:
    m = row._mapping
    return StoredPolicy(
        m["id"], m["name"], m["version"], m["digest"], m["title"], m["document"], m["added_at"]
    )


def add_policy(conn: sa.Connection, loaded: LoadedPolicy) -> tuple[StoredPolicy, bool]:
    """Store a policy version; returns (stored, created). The same content again is a no-op."""
    p = loaded.policy
    row = conn.execute(
        sa.select(policies).where(policies.c.name == p.name, policies.c.version == p.version)
    ).first()
    if row is not None:
        stored = _stored(row)
        if stored.digest != loaded.digest:
            raise Conflict(
                f"policy {p.name} version {p.version} is already stored with other content; "
                "give the new document a new version"
            )
        return stored, False
    conn.execute(
        policies.insert().values(
            name=p.name,
            version=p.version,
            digest=loaded.digest,
            title=text(p.title, DEFAULT),
            document=loaded.document,
            added_at=now(),
        )
    )
    return get_policy(conn, p.name, p.version), True


def get_policy(conn: sa.Connection, name: str, version: str | None = None) -> StoredPolicy:
    query = sa.select(policies).where(policies.c.name == name)
    if version is not None:
        query = query.where(policies.c.version == version)
    row = conn.execute(query.order_by(policies.c.id.desc()).limit(1)).first()
    if row is None:
        raise unknown_policy(conn, name, version)
    return _stored(row)


def unknown_policy(conn: sa.Connection, name: str, version: str | None = None) -> NotFound:
    """The error for a policy (or version) that is not stored: it names the policies that are,
    and the closest name when the one asked for looks like a typing slip."""
    names = sorted({p.name for p in list_policies(conn)})
    if version is not None and name in names:
        versions = [p.version for p in list_policies(conn) if p.name == name]
        return NotFound(
            f"policy {name!r} has no version {version!r} (stored: {', '.join(versions)})"
        )
    if not names:
        return NotFound(
            f"no policy {name!r}: the store has no policy yet; add one with `scs policy add FILE`"
        )
    close = difflib.get_close_matches(name, names, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return NotFound(
        f"no policy {name!r}{hint}; the stored policies are {', '.join(names)} "
        "(`scs policy list`; add one with `scs policy add FILE`)"
    )


def list_policies(conn: sa.Connection) -> list[StoredPolicy]:
    return [_stored(r) for r in conn.execute(sa.select(policies).order_by(policies.c.id))]


def latest_policies(conn: sa.Connection, names: list[str] | None = None) -> list[StoredPolicy]:
    """The version in force of each policy (or of `names`, in the order given)."""
    if names:
        return [get_policy(conn, name) for name in names]
    latest: dict[str, StoredPolicy] = {}
    for stored in list_policies(conn):
        latest[stored.name] = stored
    return sorted(latest.values(), key=lambda s: s.name)
