"""Service fixtures: stores with keys of every role, and an in-process client per store.

`demo_home` is a small demo city (1,500 people), built once per session with the CLI; it holds a
key of every role from the start, so every copy of it has them too. Tests that only read share
`demo`; tests that write take `demo_copy`, a copy of the SQLite file of their own. `village_pg`
is the hand-built village on a PostgreSQL database of its own (the shared test database is
wiped by other tests' fixtures).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from socialcredit.api import create_app
from socialcredit.api.app import Api
from socialcredit.cli import app as cli
from socialcredit.settings import Settings
from socialcredit.sharing.keys import create_key, revoke_key
from socialcredit.store.db import create_engine, init_store
from socialcredit.store.evaluations import latest_evaluation
from socialcredit.store.schema import audit_log, decisions, identifiers, relationships
from tests.conftest import own_postgres_database

VILLAGE = Path(__file__).parents[1] / "fixtures" / "village"
PACKS = Path(__file__).parents[2] / "src" / "socialcredit" / "policy" / "packs"
FATHER = "cn-rid:37108219800517011X"  # on the court list: a flight ban of his own
REP = "cn-rid:371002197501200131"  # far from the father in the relationship graph
DEMO = ("demo", "--no-serve", "--people", "1500", "--orgs", "120", "--authorities", "5")
# Every caller the matrix tries: the seven roles, nobody, and a revoked key.
CALLERS = (
    "admin",
    "operator",
    "source",
    "relying_party",
    "subject",
    "auditor",
    "reviewer",
    "anonymous",
    "revoked",
)
MEASURE = "flight_ban"  # granted to the relying party
SOURCE = "bank"  # the source key's source


def wait_for_job(
    client: TestClient, job: dict[str, Any], headers: dict[str, str], seconds: float = 300
) -> dict[str, Any]:
    """GET a job until it has succeeded or failed."""
    deadline = time.monotonic() + seconds
    while job["state"] in ("queued", "running"):
        assert time.monotonic() < deadline, f"job still {job['state']}: {job}"
        time.sleep(0.05)
        answer = client.get(job["href"], headers=headers)
        assert answer.status_code == 200, answer.text
        job = answer.json()
    return job


@dataclass
class World:
    """A store, the app over it, and a key for every caller."""

    name: str
    settings: Settings
    engine: sa.Engine
    app: Api
    client: TestClient
    keys: dict[str, str | None]  # caller -> key (None: anonymous)
    own: str  # the subject key's subject, with a flight ban of its own in force
    other: str  # another subject, not a neighbour of `own`
    other_identifiers: frozenset[str] = field(default_factory=frozenset)

    def headers(self, caller: str, **extra: str) -> dict[str, str]:
        key = self.keys[caller]
        found = {"Authorization": f"Bearer {key}"} if key else {}
        return {**found, **extra}

    def finish(self, job: dict[str, Any], caller: str = "operator") -> dict[str, Any]:
        """Wait for a job (the answer of POST /v1/evaluations) to succeed or fail."""
        return wait_for_job(self.client, job, self.headers(caller))

    def actor(self, caller: str) -> str:
        """How the audit log names the caller: a key that does not authenticate (revoked) is
        `unverified:<prefix>`, since anyone can type another key's public prefix."""
        key = self.keys[caller]
        if not key:
            return "anonymous"
        return f"{'unverified' if caller == 'revoked' else 'key'}:{key.split('_')[1]}"

    def audit_seq(self) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.coalesce(sa.func.max(audit_log.c.seq), 0))
                ).scalar_one()
            )

    def audit_after(self, seq: int) -> list[sa.Row[tuple[object, ...]]]:
        with self.engine.connect() as conn:
            return list(
                conn.execute(
                    sa.select(audit_log).where(audit_log.c.seq > seq).order_by(audit_log.c.seq)
                )
            )


def scs(settings: Settings, *args: str) -> str:
    result = CliRunner().invoke(
        cli,
        list(args),
        env={
            "SCS_HOME": str(settings.home),
            "SCS_DATABASE_URL": settings.database_url,
            "COLUMNS": "160",
        },
    )
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result.output


def mint(conn: sa.Connection, role: str, **grants: Any) -> str:
    key, _ = create_key(conn, role, **grants)
    return key


def mint_keys(engine: sa.Engine, own: str) -> dict[str, str | None]:
    with engine.begin() as conn:
        keys: dict[str, str | None] = {
            "admin": mint(conn, "admin"),
            "operator": mint(conn, "operator"),
            "source": mint(conn, "source", source=SOURCE),
            "relying_party": mint(conn, "relying_party", measures=[MEASURE]),
            "subject": mint(conn, "subject", subject=own),
            "auditor": mint(conn, "auditor"),
            "reviewer": mint(conn, "reviewer"),
            "anonymous": None,
            "revoked": mint(conn, "operator"),
        }
        revoked = keys["revoked"]
        assert revoked is not None
        revoke_key(conn, revoked.split("_")[1])
    return keys


def far_from(conn: sa.Connection, own: str) -> str:
    """A person at least three relationship hops from `own`: nothing of theirs belongs in
    `own`'s explanation."""
    own_id = conn.execute(
        sa.select(identifiers.c.subject_id).where(identifiers.c.identifier == own)
    ).scalar_one()
    edges = conn.execute(sa.select(relationships.c.from_id, relationships.c.to_id)).all()
    near = {own_id}
    for _ in range(3):
        near |= {b for a, b in edges if a in near} | {a for a, b in edges if b in near}
    rows = conn.execute(
        sa.select(identifiers.c.identifier, identifiers.c.subject_id)
        .where(identifiers.c.ordinal == 0, identifiers.c.identifier.like("cn-rid:%"))
        .order_by(identifiers.c.subject_id)
    )
    return next(r.identifier for r in rows if r.subject_id not in near)


# The access tests send hundreds of refused requests a minute, all from one address (the test
# client's): under the service's limits most would be answered 429 and their refusals counted
# instead of logged one by one, which is what tests/api/test_throttle.py checks. Here each
# refusal must be answered and logged on its own, so the worlds allow them without end.
UNLIMITED = {"rate_failures": "1000000/minute", "rate_anonymous": "1000000/minute"}


def open_world(name: str, settings: Settings, own: str, other: str) -> World:
    settings = settings.model_copy(update=UNLIMITED)
    engine = create_engine(settings)
    with engine.connect() as conn:
        other_id = conn.execute(
            sa.select(identifiers.c.subject_id).where(identifiers.c.identifier == other)
        ).scalar_one()
        others = frozenset(
            conn.execute(
                sa.select(identifiers.c.identifier).where(identifiers.c.subject_id == other_id)
            ).scalars()
        )
    keys = read_keys(settings)
    app = create_app(settings, engine)
    client = TestClient(app, raise_server_exceptions=False)
    return World(name, settings, engine, app, client, keys, own, other, others)


def read_keys(settings: Settings) -> dict[str, str | None]:
    path = settings.home / "keys.txt"
    pairs = (line.split(" ", 1) for line in path.read_text().splitlines())
    return {caller: (key if key != "-" else None) for caller, key in pairs}


def write_keys(settings: Settings, keys: dict[str, str | None]) -> None:
    settings.home.mkdir(parents=True, exist_ok=True)
    (settings.home / "keys.txt").write_text(
        "".join(f"{caller} {key or '-'}\n" for caller, key in keys.items())
    )


def own_ban(conn: sa.Connection) -> str:
    """A person under MEASURE for their own conduct in the current national evaluation (not
    in an older one: a store may hold several)."""
    return str(
        conn.execute(
            sa.select(identifiers.c.identifier)
            .join(decisions, decisions.c.subject_id == identifiers.c.subject_id)
            .where(
                decisions.c.evaluation_id == latest_evaluation(conn, "national").id,
                decisions.c.measure == MEASURE,
                decisions.c.cause_subject_id == decisions.c.subject_id,
                identifiers.c.ordinal == 0,
                identifiers.c.identifier.like("cn-rid:%"),
            )
            .order_by(identifiers.c.identifier)
            .limit(1)
        ).scalar_one()
    )


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """The demo city with a key of every role; returns its home, own and other subject."""
    home = tmp_path_factory.mktemp("demo") / "scs-data"
    settings = Settings(home=home)
    scs(settings, *DEMO)
    engine = create_engine(settings)
    with engine.connect() as conn:
        own = own_ban(conn)
        other = far_from(conn, own)
    write_keys(settings, mint_keys(engine, own))
    engine.dispose()
    return home, own, other


def _demo_world(name: str, home: Path, own: str, other: str) -> Iterator[World]:
    world = open_world(name, Settings(home=home), own, other)
    yield world
    world.client.close()
    world.engine.dispose()


@pytest.fixture(scope="session")
def demo(demo_home: tuple[Path, str, str]) -> Iterator[World]:
    """The shared demo store: for tests that only read (and only append to the audit log)."""
    yield from _demo_world("demo", *demo_home)


def copy_demo(demo_home: tuple[Path, str, str], into: Path) -> tuple[Path, str, str]:
    home, own, other = demo_home
    target = into / "scs-data"
    target.mkdir(parents=True)
    for name in ("scs.db", "keys.txt"):
        shutil.copy(home / name, target / name)
    return target, own, other


@pytest.fixture
def demo_copy(demo_home: tuple[Path, str, str], tmp_path: Path) -> Iterator[World]:
    """A copy of the demo store of the test's own: for tests that write."""
    yield from _demo_world("demo copy", *copy_demo(demo_home, tmp_path))


def build_village(settings: Settings) -> None:
    scs(settings, "sources", "add", "court", "--kind", "court", "--types", "court.*")
    scs(settings, "sources", "add", "bank", "--kind", "bank", "--types", "finance.*")
    scs(settings, "sources", "add", "police", "--kind", "public-security", "--types", "traffic.*")
    scs(settings, "sources", "add", "gov", "--kind", "local-government", "--types", "civic.*")
    scs(settings, "subjects", "import", str(VILLAGE / "subjects.csv"))
    scs(settings, "relationships", "import", str(VILLAGE / "relationships.csv"))
    for name, source in (
        ("court.csv", "court"),
        ("bank.csv", "bank"),
        ("police.jsonl", "police"),
        ("gov.csv", "gov"),
    ):
        scs(settings, "ingest", str(VILLAGE / name), "--source", source)
    for pack in ("national", "sesame"):
        scs(settings, "policy", "add", str(PACKS / f"{pack}.yaml"))
    scs(settings, "evaluate", "--as-of", "2026-06-01")


@pytest.fixture(scope="session")
def village_pg_url() -> Iterator[str]:
    """A PostgreSQL database of the service tests' own, dropped at the end."""
    with own_postgres_database("scs_api") as url:
        yield url


@pytest.fixture(scope="session")
def village_pg(village_pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The village on PostgreSQL, with a key of every role."""
    settings = Settings(
        home=tmp_path_factory.mktemp("village") / "scs-data", database_url=village_pg_url
    )
    engine = create_engine(settings)
    init_store(engine)
    build_village(settings)
    write_keys(settings, mint_keys(engine, FATHER))
    engine.dispose()
    world = open_world("village on PostgreSQL", settings, FATHER, REP)
    yield world
    world.client.close()
    world.engine.dispose()
