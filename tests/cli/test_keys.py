"""`scs keys`: create prints the key alone on the last line, list never prints one, revoke; keys
are stored hashed; bad options exit with 2 and name the option."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from socialcredit.cli import app
from socialcredit.errors import Unauthenticated
from socialcredit.settings import Settings
from socialcredit.sharing.keys import authenticate, create_key, parse_rate
from socialcredit.store.schema import api_keys

VILLAGE = Path(__file__).parents[1] / "fixtures" / "village"
NATIONAL = Path(__file__).parents[2] / "src" / "socialcredit" / "policy" / "packs" / "national.yaml"
FATHER = "cn-rid:37108219800517011X"


class Scs:
    def __init__(self, settings: Settings) -> None:
        self.env = {
            "SCS_HOME": str(settings.home),
            "SCS_DATABASE_URL": settings.database_url,
            "COLUMNS": "200",
        }

    def __call__(self, *args: str, code: int = 0) -> str:
        result = CliRunner().invoke(app, list(args), env=self.env)
        assert result.exit_code == code, (args, result.output, result.exception)
        return result.output


@pytest.fixture
def scs(settings: Settings) -> Scs:
    run = Scs(settings)
    run("sources", "add", "bank", "--kind", "bank", "--types", "finance.*")
    run("subjects", "import", str(VILLAGE / "subjects.csv"))
    run("policy", "add", str(NATIONAL))
    return run


def test_create_list_revoke(scs: Scs, engine: sa.Engine) -> None:
    created = {}
    for role, grants in (
        ("admin", ()),
        ("subject", ("--subject", FATHER)),
        ("source", ("--source", "bank")),
        ("relying_party", ("--measure", "flight_ban", "--measure", "high_speed_rail_ban")),
    ):
        output = scs("keys", "create", "--role", role, *grants, "--label", f"the {role}")
        key = output.rstrip("\n").splitlines()[-1]
        assert key.startswith("scs_")
        assert len(key.split("_", 2)) == 3
        assert key.split("_", 2)[2] not in output.rstrip("\n").splitlines()[0]
        created[role] = key
    with engine.connect() as conn:
        stored = list(conn.execute(sa.select(api_keys)))
        assert {r.secret_hash for r in stored} == {
            hashlib.sha256(k.encode()).hexdigest() for k in created.values()
        }
        dumped = repr([tuple(r) for r in stored])
        assert not any(k in dumped or k.split("_", 2)[2] in dumped for k in created.values())
        rp = authenticate(conn, created["relying_party"])
        assert rp.measures == {"flight_ban", "high_speed_rail_ban"}
        assert FATHER in authenticate(conn, created["subject"]).identifiers
    listing = scs("keys", "list")
    for role, key in created.items():
        prefix = key.split("_")[1]
        assert prefix in listing
        assert f"the {role}" in listing
        assert key.split("_", 2)[2] not in listing
    prefix = created["source"].split("_")[1]
    assert prefix in scs("keys", "revoke", prefix)
    assert "already revoked" in scs("keys", "revoke", prefix, code=4)
    assert "no key with prefix" in scs("keys", "revoke", "nosuchkey", code=3)
    with engine.connect() as conn, pytest.raises(Unauthenticated, match="revoked"):
        authenticate(conn, created["source"])
    row = next(line for line in scs("keys", "list").splitlines() if prefix in line)
    assert row.count("Z") >= 2  # created and revoked instants


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (("--role", "emperor"), "role"),
        (("--role", "subject"), "--subject"),
        (("--role", "source"), "--source"),
        (("--role", "relying_party"), "--measure"),
        (("--role", "admin", "--subject", FATHER), "--subject"),
        (("--role", "subject", "--subject", FATHER, "--measure", "flight_ban"), "--measure"),
        (("--role", "subject", "--subject", "no-scheme"), "identifier"),
        ((), "--role"),
        (("--role", "admin", "--rate", "lots"), "rate"),
        (("--role", "admin", "--rate", "0/s"), "rate"),
        (("--role", "admin", "--rate", "10/fortnight"), "rate"),
    ],
)
def test_bad_options_exit_2_naming_the_option(scs: Scs, args: tuple[str, ...], names: str) -> None:
    output = scs("keys", "create", *args, code=2)
    assert names in output
    assert "scs_" not in output


def test_unknown_grants_are_refused(scs: Scs) -> None:
    assert "teleport" in scs(
        "keys", "create", "--role", "relying_party", "--measure", "teleport", code=3
    )
    assert "nope" in scs("keys", "create", "--role", "source", "--source", "nope", code=3)


def test_a_key_whose_secret_holds_an_underscore_authenticates(scs: Scs, engine: sa.Engine) -> None:
    """Secrets are URL-safe base64, so about four keys in ten hold an '_'."""
    with engine.begin() as conn:
        for _ in range(200):
            key, info = create_key(conn, "admin")
            if "_" in key.split("_", 2)[2]:
                break
        else:
            pytest.fail("200 keys without an underscore in the secret")
        assert authenticate(conn, key).name == f"key:{info.prefix}"
        with pytest.raises(Unauthenticated):
            authenticate(conn, key[:-1] + ("A" if key[-1] != "A" else "B"))


def test_store_is_required(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["keys", "list"],
        env={"SCS_HOME": str(tmp_path / "none"), "SCS_DATABASE_URL": None},
    )
    assert result.exit_code == 5


def test_a_quota_is_set_when_minting(scs: Scs, engine: sa.Engine) -> None:
    output = scs("keys", "create", "--role", "admin", "--rate", "10/s", "--label", "capped")
    key = output.rstrip("\n").splitlines()[-1]
    assert "at most 10/second" in output
    scs("keys", "create", "--role", "admin", "--label", "free")
    with engine.connect() as conn:
        assert authenticate(conn, key).rate == "10/second"
        rates = dict(conn.execute(sa.select(api_keys.c.label, api_keys.c.rate)).all())
    assert rates == {"capped": "10/second", "free": None}
    capped = next(line for line in scs("keys", "list").splitlines() if "capped" in line)
    assert "10/second" in capped


@pytest.mark.parametrize(
    ("text", "stored"),
    [("10/s", "10/second"), ("600/min", "600/minute"), ("5 / hours", "5/hour"), ("1/day", "1/day")],
)
def test_rates_are_stored_in_one_form(text: str, stored: str) -> None:
    assert parse_rate(text) == stored
