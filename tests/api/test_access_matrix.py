"""Every endpoint × every caller × own and another subject's identifier: the exact status, no
cross-subject data in any answer, every refusal audited, nothing stored by a refused write.

The endpoints come from the app's own OpenAPI document: a new endpoint fails
`test_every_endpoint_is_in_the_matrix` until its rules are written down here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from httpx2 import Response

from socialcredit.audit.checkpoint import make_checkpoint
from socialcredit.audit.log import Entry, append_entries
from socialcredit.ingest.accept import accept_records
from socialcredit.outcomes.runs import run_evaluations
from socialcredit.rights import appeals, repair
from socialcredit.rights import objections as objection_service
from socialcredit.sharing.keys import PUBLIC_ROLE, Principal
from socialcredit.store.db import writing
from socialcredit.store.registry import find_subject
from socialcredit.store.schema import (
    api_keys,
    evaluations,
    identifiers,
    jobs,
    objections,
    overrides,
    policies,
    record_status,
    records,
    relationships,
    repair_applications,
    subjects,
)
from socialcredit.store.schema import appeals as appeal_rows
from socialcredit.store.sources import get_source
from socialcredit.timeutil import format_instant, now
from tests.api.conftest import (
    CALLERS,
    MEASURE,
    PACKS,
    SOURCE,
    World,
    copy_demo,
    open_world,
)

STAFF = {"admin", "operator"}
REVIEWERS = frozenset(STAFF | {"reviewer"})
EVERYONE = set(CALLERS) - {"revoked"}
PUBLIC_LIST = "dishonest_judgment_debtors"


@dataclass(frozen=True)
class Op:
    """One endpoint: who may call it, and how to call it."""

    allowed: frozenset[str]
    build: Callable[[World, str, str], tuple[str, dict[str, Any] | None]]  # world, caller, whose
    about_subject: bool = False  # takes a subject identifier (own or another's)
    subject_own_only: bool = False  # the subject key may call it about itself only
    ok: int = 200  # the status of an allowed call (202: a job was started)
    everyone: bool = False  # shows any subject's data to staff (the live view's decisions)
    # shows any subject's data to every caller it allows: the audit log names whom every entry
    # was about, and its first page depends on what the tests before did
    whole_log: bool = False


def _subject_path(suffix: str) -> Callable[[World, str, str], tuple[str, None]]:
    def build(world: World, _: str, whose: str) -> tuple[str, None]:
        return f"/v1/subjects/{getattr(world, whose)}{suffix}", None

    return build


def _records(world: World, caller: str, _: str) -> tuple[str, dict[str, Any]]:
    with world.engine.connect() as conn:
        row = conn.execute(
            sa.select(records, identifiers.c.identifier)
            .join(identifiers, identifiers.c.subject_id == records.c.subject_id)
            .where(records.c.source_id == SOURCE, identifiers.c.ordinal == 0)
            .order_by(records.c.id)
            .limit(1)
        ).one()
    record = {
        "record_id": row.record_id,
        "subject": row.identifier,
        "type": row.type,
        "occurred_at": row.occurred_at.isoformat(),
    }
    if row.value is not None:
        record["value"] = row.value
    batch: dict[str, Any] = {"records": [record]}
    if caller != "source":
        batch["source"] = SOURCE
    return "/v1/records", batch


def _subjects(world: World, _: str, __: str) -> tuple[str, dict[str, Any]]:
    with world.engine.connect() as conn:
        row = conn.execute(
            sa.select(subjects)
            .join(identifiers, identifiers.c.subject_id == subjects.c.id)
            .where(identifiers.c.identifier == world.own)
        ).one()
    entry = {"identifier": world.own, "kind": row.kind, "name": row.name, "region": row.region}
    if row.born is not None:
        entry["born"] = row.born
    return "/v1/subjects", {"subjects": [entry]}


def _relationships(world: World, _: str, __: str) -> tuple[str, dict[str, Any]]:
    edge = {"from": world.own, "to": world.other, "kind": "contact", "weight": 1.0}
    return "/v1/relationships", {"relationships": [edge]}


def _policies(_: World, __: str, ___: str) -> tuple[str, dict[str, Any]]:
    return "/v1/policies", {"document": (PACKS / "national.yaml").read_text()}


def _evaluations(world: World, _: str, __: str) -> tuple[str, dict[str, Any]]:
    with world.engine.connect() as conn:
        as_of = conn.execute(
            sa.select(sa.func.max(evaluations.c.as_of)).where(
                evaluations.c.policy_name == "national"
            )
        ).scalar_one()
    return "/v1/evaluations", {"policies": ["national"], "as_of": as_of.isoformat()}


def _latest_evaluation(world: World, _: str, __: str) -> tuple[str, None]:
    with world.engine.connect() as conn:
        newest = conn.execute(sa.select(sa.func.max(evaluations.c.id))).scalar_one()
    return f"/v1/evaluations/{newest}", None


def _latest_job(world: World, _: str, __: str) -> tuple[str, None]:
    """The newest job: the matrix's own evaluation runs start them; before the first, one
    started here (by a CLI-side submit, so that the answer under test is only the GET)."""
    with world.engine.connect() as conn:
        newest = conn.execute(sa.select(sa.func.max(jobs.c.id))).scalar_one()
    if newest is None:
        who = world.app.svc.keys.resolve(world.keys["operator"] or "")
        newest = world.app.svc.jobs.submit(who, "access matrix", ["national"], None).id
        world.finish({"state": "queued", "href": f"/v1/jobs/{newest}"})
    return f"/v1/jobs/{newest}", None


def _fixed(url: str) -> Callable[[World, str, str], tuple[str, None]]:
    return lambda *_: (url, None)


def _check(world: World, _: str, whose: str) -> tuple[str, None]:
    return f"/v1/measures/{MEASURE}/check?subject={getattr(world, whose)}", None


def _own_proof(world: World, _: str, __: str) -> tuple[str, None]:
    """An audit entry about the subject key's subject, in a signed checkpoint."""
    entry = Entry.now("cli:matrix", "operator", "subject.read", world.own, "access matrix")
    seq = append_entries(world.engine, [entry])
    make_checkpoint(world.engine, world.settings)
    return f"/v1/me/audit/proofs?seq={seq}", None


def _subject_id(world: World, identifier: str) -> int:
    with world.engine.connect() as conn:
        return int(
            conn.execute(
                sa.select(identifiers.c.subject_id).where(identifiers.c.identifier == identifier)
            ).scalar_one()
        )


def _objectable(world: World, own: bool, source: str | None = None) -> tuple[str, str]:
    """A record nobody objects to now, still counting: of `own` (or of anyone but `own` and
    `other`), from `source` if given. Returns (SOURCE/RECORD_ID, the subject's first identifier)."""
    open_ = sa.select(objections.c.record_pk).where(objections.c.resolution.is_(None))
    closed = sa.select(record_status.c.record_pk).where(
        record_status.c.status.in_(("superseded", "retracted", "suppressed"))
    )
    query = (
        sa.select(records.c.source_id, records.c.record_id, identifiers.c.identifier)
        .join(identifiers, identifiers.c.subject_id == records.c.subject_id)
        .where(
            identifiers.c.ordinal == 0,
            records.c.id.not_in(open_),
            records.c.id.not_in(closed),
            records.c.subject_id != _subject_id(world, world.other),
        )
        .order_by(records.c.id)
        .limit(1)
    )
    mine = records.c.subject_id == _subject_id(world, world.own)
    query = query.where(mine if own else ~mine)  # staff file for third parties: own's are few
    if source is not None:
        query = query.where(records.c.source_id == source)
    with world.engine.connect() as conn:
        row = conn.execute(query).one()
    return f"{row.source_id}/{row.record_id}", row.identifier


def _case(world: World, own: bool, source: str | None = None) -> int:
    """An open objection with evidence (filed here if there is none) about `own`'s records (or
    anyone's but `own`'s and `other`'s), and about `source`'s records if given."""
    query = (
        sa.select(objections.c.id)
        .where(
            objections.c.resolution.is_(None),
            objections.c.evidence_sha256.is_not(None),
            objections.c.subject_id != _subject_id(world, world.other),
        )
        .order_by(objections.c.id)
        .limit(1)
    )
    mine = objections.c.subject_id == _subject_id(world, world.own)
    query = query.where(mine if own else ~mine)
    if source is not None:
        query = query.where(objections.c.source_id == source)
    with world.engine.connect() as conn:
        found = conn.execute(query).scalar()
    if found is not None:
        return int(found)
    record, subject = _objectable(world, own, source)
    operator = Principal("key:matrix", "operator")
    filed = objection_service.file(
        world.engine,
        operator,
        operator.name,
        objection_service.parse_record_ref(record),
        _subject_id(world, subject),
        "filed by the access matrix",
        objection_service.Evidence("letter.txt", b"the matrix's evidence"),
    )
    return int(filed["id"])


def _file_objection(world: World, caller: str, _: str) -> tuple[str, dict[str, Any]]:
    record, subject = _objectable(world, own=caller == "subject")
    return "/v1/objections", {"record": record, "subject": subject, "grounds": "not mine"}


def _file_my_objection(world: World, _: str, __: str) -> tuple[str, dict[str, Any]]:
    record, _subject = _objectable(world, own=True)
    return "/v1/me/objections", {"record": record, "grounds": "not mine"}


def _read_objection(world: World, caller: str, _: str) -> tuple[str, None]:
    found = _case(world, own=caller == "subject", source=SOURCE if caller == "source" else None)
    return f"/v1/objections/{found}", None


def _evidence(world: World, caller: str, whose: str) -> tuple[str, None]:
    url, _ = _read_objection(world, caller, whose)
    return f"{url}/evidence", None


def _answer_objection(world: World, caller: str, _: str) -> tuple[str, dict[str, Any]]:
    found = _case(world, own=False, source=SOURCE if caller == "source" else None)
    return f"/v1/objections/{found}/answer", {"answer": "verified", "note": "checked"}


def _notices(world: World, _: str, whose: str) -> tuple[str, None]:
    return f"/v1/notices?subject={getattr(world, whose)}", None


# --- due process: each call finds the case it needs (set up through the services) -----------

SETUP = "test:matrix setup"


def _close_open_appeals(world: World) -> int:
    """Uphold own's open appeals (so that a new one may be filed); returns own's subject id."""
    with writing(world.engine) as conn:
        subject = find_subject(conn, world.own)
        for found in appeals.list_appeals(conn, now(), "open", subject.id):
            appeals.decide_appeal(conn, found.id, "uphold", "matrix setup", SETUP)
    return subject.id


def _appeal_in(world: World, _: str, __: str) -> tuple[str, dict[str, Any]]:
    _close_open_appeals(world)
    body = {"policy": "national", "measure": MEASURE, "grounds": "matrix"}
    return "/v1/appeals", {**body, "subject": world.own}


def _my_appeal_in(world: World, _: str, __: str) -> tuple[str, dict[str, Any]]:
    _close_open_appeals(world)
    return "/v1/me/appeals", {"policy": "national", "measure": MEASURE, "grounds": "matrix"}


def _open_appeal(world: World) -> int:
    """An open appeal of own's flight ban (filed through the service if there is none)."""
    with writing(world.engine) as conn:
        subject = find_subject(conn, world.own)
        found = appeals.list_appeals(conn, now(), "open", subject.id)
        if found:
            return found[0].id
        return appeals.file_appeal(conn, subject, "national", MEASURE, "matrix", SETUP).id


def _appeal(world: World, _: str, __: str) -> tuple[str, None]:
    return f"/v1/appeals/{_open_appeal(world)}", None


def _appeal_decision(world: World, _: str, __: str) -> tuple[str, dict[str, Any]]:
    # Upheld, never overridden: own's flight ban must stay for the other tests.
    return f"/v1/appeals/{_open_appeal(world)}/decision", {"outcome": "uphold", "note": "m"}


_REPAIRABLE: set[str] = set()


def _make_repairable(world: World) -> None:
    """Own listed for 400 days on the debtor list, with a credit commitment since: eligible for
    credit repair under the national pack (a year's listing and a proof after the entry)."""
    if world.name in _REPAIRABLE:
        return
    day = now() - timedelta(days=400)
    rows = [
        (1, {"record_id": "matrix-entry", "subject": world.own, "occurred_at": day.isoformat(),
             "type": "court.dishonest.refuses_to_perform"}),
    ]  # fmt: skip
    proof = {"record_id": "matrix-proof", "subject": world.own, "type": "credit.commitment.signed"}
    proof["occurred_at"] = format_instant(now() - timedelta(days=1)) or ""
    with writing(world.engine) as conn:
        accept_records(conn, get_source(conn, "court"), rows, now())
        accept_records(conn, repair.rights_source(conn), [(1, proof)], now())
    run_evaluations(world.engine, world.settings, ["national"])
    _REPAIRABLE.add(world.name)


def _close_open_applications(world: World) -> None:
    _make_repairable(world)
    with writing(world.engine) as conn:
        subject = find_subject(conn, world.own)
        for found in repair.list_applications(conn, now(), "open", subject.id):
            repair.decide_repair(conn, found.id, False, "matrix setup", SETUP)


def _repair_in(world: World, _: str, __: str) -> tuple[str, dict[str, Any]]:
    _close_open_applications(world)
    body = {"policy": "national", "list": PUBLIC_LIST}
    return "/v1/repair", {**body, "subject": world.own}


def _my_repair_in(world: World, _: str, __: str) -> tuple[str, dict[str, Any]]:
    _close_open_applications(world)
    return "/v1/me/repair", {"policy": "national", "list": PUBLIC_LIST}


def _open_application(world: World) -> int:
    _make_repairable(world)
    with writing(world.engine) as conn:
        subject = find_subject(conn, world.own)
        found = repair.list_applications(conn, now(), "open", subject.id)
        if found:
            return found[0].id
        return repair.apply_for_repair(conn, subject, "national", PUBLIC_LIST, SETUP).id


def _application(world: World, _: str, __: str) -> tuple[str, None]:
    return f"/v1/repair/{_open_application(world)}", None


def _application_decision(world: World, _: str, __: str) -> tuple[str, dict[str, Any]]:
    # Refused, never approved: own must stay listed for the other tests.
    return f"/v1/repair/{_open_application(world)}/decision", {"approve": False, "note": "m"}


SUBJECT_READERS = frozenset(STAFF | {"subject"})
CASE_READERS = frozenset(STAFF | {"source", "subject"})
OPS: dict[tuple[str, str], Op] = {
    ("POST", "/v1/records"): Op(frozenset(STAFF | {"source"}), _records),
    ("POST", "/v1/subjects"): Op(frozenset(STAFF), _subjects),
    ("POST", "/v1/relationships"): Op(frozenset(STAFF), _relationships),
    ("GET", "/v1/subjects/{identifier}"): Op(SUBJECT_READERS, _subject_path(""), True, True),
    ("GET", "/v1/subjects/{identifier}/scores"): Op(
        SUBJECT_READERS, _subject_path("/scores"), True, True
    ),
    ("GET", "/v1/subjects/{identifier}/report"): Op(
        SUBJECT_READERS, _subject_path("/report?policy=national"), True, True
    ),
    ("GET", "/v1/subjects/{identifier}/history"): Op(
        SUBJECT_READERS, _subject_path("/history?policy=sesame"), True, True
    ),
    ("GET", "/v1/subjects/{identifier}/records"): Op(
        SUBJECT_READERS, _subject_path("/records"), True, True
    ),
    ("GET", "/v1/measures/{name}/check"): Op(frozenset(STAFF | {"relying_party"}), _check, True),
    ("GET", "/v1/lists"): Op(frozenset(EVERYONE), _fixed("/v1/lists")),
    ("GET", "/v1/lists/{name}"): Op(frozenset(EVERYONE), _fixed(f"/v1/lists/{PUBLIC_LIST}")),
    ("GET", "/v1/policies"): Op(frozenset(EVERYONE), _fixed("/v1/policies")),
    ("POST", "/v1/policies"): Op(frozenset(STAFF), _policies),
    ("GET", "/v1/policies/{name}"): Op(frozenset(EVERYONE), _fixed("/v1/policies/national")),
    ("POST", "/v1/evaluations"): Op(frozenset(STAFF), _evaluations, ok=202),
    ("GET", "/v1/evaluations"): Op(frozenset(STAFF | {"auditor"}), _fixed("/v1/evaluations")),
    ("GET", "/v1/evaluations/{evaluation_id}"): Op(
        frozenset(STAFF | {"auditor"}), _latest_evaluation
    ),
    ("GET", "/v1/jobs/{job_id}"): Op(frozenset(STAFF | {"auditor"}), _latest_job),
    ("GET", "/v1/me"): Op(frozenset({"subject"}), _fixed("/v1/me")),
    ("GET", "/v1/me/report"): Op(frozenset({"subject"}), _fixed("/v1/me/report?policy=national")),
    ("GET", "/v1/me/records"): Op(frozenset({"subject"}), _fixed("/v1/me/records")),
    ("POST", "/v1/objections"): Op(SUBJECT_READERS, _file_objection),
    ("GET", "/v1/objections"): Op(CASE_READERS, _fixed("/v1/objections?state=open")),
    ("GET", "/v1/objections/{objection_id}"): Op(CASE_READERS, _read_objection),
    ("GET", "/v1/objections/{objection_id}/evidence"): Op(CASE_READERS, _evidence),
    ("POST", "/v1/objections/{objection_id}/answer"): Op(
        frozenset(STAFF | {"source"}), _answer_objection
    ),
    ("GET", "/v1/me/objections"): Op(frozenset({"subject"}), _fixed("/v1/me/objections")),
    ("POST", "/v1/me/objections"): Op(frozenset({"subject"}), _file_my_objection),
    ("GET", "/v1/me/notices"): Op(frozenset({"subject"}), _fixed("/v1/me/notices")),
    ("GET", "/v1/notices"): Op(frozenset(STAFF), _notices, True),
    ("GET", "/v1/live"): Op(frozenset(STAFF | {"auditor"}), _fixed("/v1/live"), everyone=True),
    ("GET", "/v1/audit"): Op(
        frozenset({"admin", "auditor"}), _fixed("/v1/audit?limit=5"), whole_log=True
    ),
    ("GET", "/v1/audit/verify"): Op(frozenset({"admin", "auditor"}), _fixed("/v1/audit/verify")),
    ("GET", "/v1/audit/checkpoint"): Op(frozenset(EVERYONE), _fixed("/v1/audit/checkpoint")),
    ("GET", "/v1/audit/key"): Op(frozenset(EVERYONE), _fixed("/v1/audit/key")),
    ("GET", "/v1/me/audit/proofs"): Op(frozenset({"subject"}), _own_proof),
    ("POST", "/v1/appeals"): Op(SUBJECT_READERS, _appeal_in),
    ("GET", "/v1/appeals"): Op(REVIEWERS, _fixed("/v1/appeals?state=open")),
    ("GET", "/v1/appeals/{appeal_id}"): Op(REVIEWERS | {"subject"}, _appeal),
    ("POST", "/v1/appeals/{appeal_id}/decision"): Op(REVIEWERS, _appeal_decision),
    ("GET", "/v1/me/appeals"): Op(frozenset({"subject"}), _fixed("/v1/me/appeals")),
    ("POST", "/v1/me/appeals"): Op(frozenset({"subject"}), _my_appeal_in),
    ("POST", "/v1/repair"): Op(SUBJECT_READERS, _repair_in),
    ("GET", "/v1/repair"): Op(REVIEWERS, _fixed("/v1/repair")),
    ("GET", "/v1/repair/{application_id}"): Op(REVIEWERS | {"subject"}, _application),
    ("POST", "/v1/repair/{application_id}/decision"): Op(REVIEWERS, _application_decision),
    ("GET", "/v1/me/repair"): Op(frozenset({"subject"}), _fixed("/v1/me/repair")),
    ("POST", "/v1/me/repair"): Op(frozenset({"subject"}), _my_repair_in),
}
ROLE_OF = {"anonymous": PUBLIC_ROLE, "revoked": "unknown"}


def expected_status(op: Op, caller: str, whose: str) -> int:
    if caller == "revoked":
        return 401
    if caller in op.allowed and not (
        caller == "subject" and op.subject_own_only and whose != "own"
    ):
        return op.ok
    return 401 if caller == "anonymous" else 403


def cases() -> Iterator[Any]:
    for (method, path), op in OPS.items():
        for caller in CALLERS:
            for whose in ("own", "other") if op.about_subject else ("own",):
                yield pytest.param(
                    method, path, caller, whose, id=f"{method} {path} {caller} {whose}"
                )


@pytest.fixture(
    scope="module", params=["demo", pytest.param("village_pg", marks=pytest.mark.postgres)]
)
def world(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[World]:
    """The matrix writes (evaluations, idempotent batches), so on SQLite it takes a copy."""
    if request.param == "village_pg":
        yield request.getfixturevalue("village_pg")
        return
    home, own, other = copy_demo(request.getfixturevalue("demo_home"), tmp_path_factory.mktemp("m"))
    found = open_world("demo copy", _settings(home), own, other)
    yield found
    found.client.close()
    found.engine.dispose()


def _settings(home: Path) -> Any:
    from socialcredit.settings import Settings

    return Settings(home=home)


def stored(world: World) -> dict[str, int]:
    """How many rows each table a caller can write to holds."""
    with world.engine.connect() as conn:
        return {
            t.name: int(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one())
            for t in (
                records,
                subjects,
                identifiers,
                relationships,
                policies,
                evaluations,
                api_keys,
                jobs,
                objections,
                record_status,
                appeal_rows,
                overrides,
                repair_applications,
            )
        }


def call(world: World, method: str, url: str, body: Any, caller: str) -> Response:
    headers = world.headers(caller, **{"X-Purpose": "access matrix"})
    return world.client.request(method, url, json=body, headers=headers)


def test_every_endpoint_is_in_the_matrix(demo: World) -> None:
    documented = {
        (method.upper(), path)
        for path, operations in demo.app.api.openapi()["paths"].items()
        for method in operations
    }
    assert documented == set(OPS)


@pytest.mark.parametrize(("method", "path", "caller", "whose"), list(cases()))
def test_access(world: World, method: str, path: str, caller: str, whose: str) -> None:
    op = OPS[(method, path)]
    url, body = op.build(world, caller, whose)
    before, seq = stored(world), world.audit_seq()
    response = call(world, method, url, body, caller)
    expected = expected_status(op, caller, whose)
    assert response.status_code == expected, response.text
    logged = world.audit_after(seq)
    if expected >= 400:
        error = response.json()["error"]
        assert set(error) == {"code", "message", "details"}
        assert error["code"] == ("unauthenticated" if expected == 401 else "forbidden")
        assert stored(world) == before  # a refused call changes nothing
        actor, role = world.actor(caller), ROLE_OF.get(caller, caller)
        assert [(e.actor, e.role, e.outcome) for e in logged] == [(actor, role, "refused")]
        assert logged[0].purpose == "access matrix"
        return
    if expected == 202:  # a job: it must finish, and before the next case counts the store
        job = world.finish(response.json(), caller)
        assert job["state"] == "succeeded", job
        assert response.headers["location"] == job["href"]
    text = response.text
    exempt = (op.everyone and caller in STAFF) or (op.whole_log and caller in op.allowed)
    if (caller == "subject" or whose == "own") and not exempt:
        leaked = [i for i in world.other_identifiers if i in text]
        assert not leaked, f"another subject's identifiers in the answer: {leaked}"
    if op.about_subject or path.startswith("/v1/me"):
        target = getattr(world, whose)
        mine = [e for e in logged if target in e.target]
        assert mine, f"the read of {target}'s data is not in the audit log: {logged}"
        assert all(e.outcome == "allowed" and e.purpose == "access matrix" for e in mine)
        assert mine[0].actor == world.actor(caller)


def test_a_subject_key_reads_only_its_own_identifiers(world: World) -> None:
    """Every identifier of another subject is refused, in any spelling the parser accepts."""
    for other in world.other_identifiers:
        for spelling in (other, other.lower(), f" {other}".strip()):
            response = call(world, "GET", f"/v1/subjects/{spelling}", None, "subject")
            assert response.status_code == 403, (spelling, response.text)
    own = call(world, "GET", f"/v1/subjects/{world.own}", None, "subject")
    assert own.status_code == 200
    assert own.json()["identifier"] == world.own


FORBIDDEN_FIELDS = [
    ("records", {"status": "retracted"}),
    ("records", {"received_at": "2020-01-01"}),
    ("records", {"score": 950}),
    ("records", {"source": "court"}),
    ("records batch", {"role": "admin"}),
    ("records batch", {"status": "active"}),
    ("subjects", {"score": 950}),
    ("subjects", {"registered_at": "2020-01-01"}),
    ("subjects", {"status": "active"}),
    ("subjects batch", {"role": "admin"}),
    ("relationships", {"recorded_at": "2020-01-01"}),
]


def _forbidden_cases() -> Iterator[Any]:
    for where, extra in FORBIDDEN_FIELDS:
        for caller in ("admin", "source") if where.startswith("records") else ("admin",):
            yield pytest.param(caller, where, extra, id=f"{caller} {where} {next(iter(extra))}")


@pytest.mark.parametrize(("caller", "where", "extra"), list(_forbidden_cases()))
def test_fields_a_caller_may_not_set_are_refused(
    world: World, caller: str, where: str, extra: dict[str, Any]
) -> None:
    if where.startswith("records"):
        url, body = _records(world, caller, "own")
        record = {**body["records"][0], "record_id": f"new-{caller}-{json.dumps(extra)}"}
        if where == "records":
            body["records"] = [{**record, **extra}]
        else:
            body = {**body, "records": [record], **extra}
    elif where.startswith("subjects"):
        url, body = _subjects(world, caller, "own")
        fresh = {**body["subjects"][0], "identifier": "ext:someone-new"}
        if where == "subjects":
            body = {"subjects": [{**fresh, **extra}]}
        else:
            body = {"subjects": [fresh], **extra}
    else:
        url, body = _relationships(world, caller, "own")
        body = {"relationships": [{**body["relationships"][0], **extra}]}
    before = stored(world)
    response = call(world, "POST", url, body, caller)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    field = next(iter(extra))
    assert any(d["field"].endswith(field) for d in error["details"]), error
    assert stored(world) == before


def test_a_source_posting_as_another_source_is_refused(world: World) -> None:
    url, body = _records(world, "source", "own")
    fresh = {**body["records"][0], "record_id": "not-mine-1"}
    before, seq = stored(world), world.audit_seq()
    response = call(world, "POST", url, {"source": "court", "records": [fresh]}, "source")
    assert response.status_code == 403, response.text
    assert "court" in response.json()["error"]["message"]
    assert stored(world) == before
    assert [e.outcome for e in world.audit_after(seq)] == ["refused"]
    # the same record as its own source is accepted: the refusal was about the source
    response = call(world, "POST", url, {"records": [fresh]}, "source")
    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == 1


def test_a_relying_party_checks_only_the_measures_it_was_granted(world: World) -> None:
    seq = world.audit_seq()
    response = call(
        world,
        "GET",
        f"/v1/measures/high_speed_rail_ban/check?subject={world.own}",
        None,
        "relying_party",
    )
    assert response.status_code == 403, response.text
    assert MEASURE in response.json()["error"]["message"]
    assert [(e.action, e.outcome) for e in world.audit_after(seq)] == [("measure.check", "refused")]
    granted = call(
        world, "GET", f"/v1/measures/{MEASURE}/check?subject={world.own}", None, "relying_party"
    )
    assert granted.status_code == 200
    assert granted.json()["applies"] is True
    assert set(granted.json()) == {
        "measure",
        "subject",
        "applies",
        "reasons",
        "since",
        "cause_subject",
        "policy",
        "as_of",
    }
