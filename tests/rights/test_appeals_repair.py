"""Appeals, overrides and credit repair on the store, with the clock frozen (SCS_NOW), on SQLite
and PostgreSQL: every deadline to the day, every refusal changing nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from socialcredit.errors import Conflict, InvalidInput, NotFound
from socialcredit.outcomes.gate import GateIndex, check_measure
from socialcredit.rights import appeals, objections, repair
from socialcredit.rights.notices import list_notices
from socialcredit.rights.sweep import sweep
from socialcredit.settings import Settings
from socialcredit.sharing.keys import Principal
from socialcredit.store.db import writing
from socialcredit.store.evaluations import latest_evaluation, subject_outcome
from socialcredit.store.registry import find_subject
from socialcredit.store.schema import appeals as appeal_rows
from socialcredit.store.schema import overrides, records, repair_applications
from socialcredit.timeutil import format_instant
from tests.api.conftest import scs
from tests.rights.conftest import ACTOR, CHILD, DEBTOR, OTHER, T0, at, evaluate, send


def bans(engine: sa.Engine, evaluation_id: int, who: str) -> list[int]:
    """The cause subjects of `who`'s flight bans in an evaluation."""
    with engine.connect() as conn:
        subject = find_subject(conn, who)
        found = subject_outcome(conn, evaluation_id, subject.id).decisions
    return [d.cause_subject_id for d in found if d.measure == "flight_ban"]


def file(engine: sa.Engine, who: str = DEBTOR, **options: str) -> appeals.Appeal:
    with writing(engine) as conn:
        subject = find_subject(conn, who)
        cause = options.pop("cause", None)
        return appeals.file_appeal(
            conn,
            subject,
            options.pop("policy", "n"),
            options.pop("measure", "flight_ban"),
            options.pop("grounds", "I paid; the court has not yet said so"),
            ACTOR,
            cause=cause,
        )


def decide(engine: sa.Engine, appeal_id: int, outcome: str, **options: object) -> appeals.Appeal:
    with writing(engine) as conn:
        return appeals.decide_appeal(
            conn,
            appeal_id,
            outcome,
            str(options.get("note", "the receipt is genuine")),
            "cli:reviewer",
            until=options.get("until"),  # type: ignore[arg-type]
        )


def count(engine: sa.Engine, table: sa.Table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_an_override_lifts_the_measure_until_its_date(
    store: sa.Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    at(0, monkeypatch)
    first = evaluate(store, settings)
    debtor = bans(store, first, DEBTOR)
    assert len(debtor) == 1 and bans(store, first, CHILD) == debtor  # collateral on the child
    index = GateIndex(store, refresh=0.0)
    assert b'"applies":true' in index.check_json("flight_ban", DEBTOR)[1]
    appeal = file(store)
    assert (appeal.status, appeal.due_at) == ("open", T0 + timedelta(days=30))
    granted = at(1, monkeypatch)
    decided = decide(store, appeal.id, "override", until=T0 + timedelta(days=10))
    assert (decided.status, decided.until) == ("overridden", T0 + timedelta(days=10))
    # The gate honours it at once, before any evaluation; the child's collateral ban stays.
    assert b'"applies":false' in index.check_json("flight_ban", DEBTOR)[1]
    with store.connect() as conn:
        assert not check_measure(conn, "flight_ban", DEBTOR)["applies"]
        assert check_measure(conn, "flight_ban", CHILD)["applies"]
    second = evaluate(store, settings)
    assert bans(store, second, DEBTOR) == [] and bans(store, second, CHILD) == debtor
    # A replay known before the grant still has the ban; one known at the grant does not.
    replay = evaluate(store, settings, known_at=granted - timedelta(microseconds=1))
    assert bans(store, replay, DEBTOR) == debtor
    assert bans(store, evaluate(store, settings, known_at=granted), DEBTOR) == []
    at(9.99, monkeypatch)
    assert bans(store, evaluate(store, settings), DEBTOR) == []
    at(10, monkeypatch)  # the override ends on its date
    assert bans(store, evaluate(store, settings), DEBTOR) == debtor


def test_an_open_ended_override_lasts_until_its_cause_changes(
    store: sa.Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    at(0, monkeypatch)
    evaluate(store, settings)
    child = file(store, CHILD, cause=DEBTOR)  # a collateral decision, named by its cause
    assert child.cause_subject_id != child.subject_id and child.reasons[-1] == "collateral:guardian"
    decide(store, file(store).id, "override")
    at(1, monkeypatch)
    assert bans(store, evaluate(store, settings), DEBTOR) == []
    at(200, monkeypatch)
    assert bans(store, evaluate(store, settings), DEBTOR) == []
    with store.connect() as conn:
        rows = conn.execute(sa.select(overrides.c.reasons, overrides.c.until)).all()
    assert [(list(r.reasons), r.until) for r in rows] == [(["on_list:debtors"], None)]
    # A new cause (another list) is not what the reviewer saw: the measure applies again.
    send(store, "w1", DEBTOR, "police.watch", T0 + timedelta(days=199))
    again = evaluate(store, settings)
    assert len(bans(store, again, DEBTOR)) == 1
    with store.connect() as conn:
        found = check_measure(conn, "flight_ban", DEBTOR)
    assert found["applies"] and found["reasons"] == ["on_list:debtors", "on_list:watched"]


def test_appeals_are_due_in_30_days_and_never_decided_by_the_sweep(
    store: sa.Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    at(0, monkeypatch)
    evaluate(store, settings)
    appeal = file(store)
    with store.connect() as conn:
        assert appeals.resolve_overdue(conn, T0 + timedelta(days=29, hours=23, minutes=59)) == 0
        assert appeals.resolve_overdue(conn, T0 + timedelta(days=30)) == 1
        late = appeals.list_appeals(conn, T0 + timedelta(days=30), state="overdue")
        assert [a.id for a in late] == [appeal.id]
        assert appeals.get_appeal(conn, appeal.id).status == "open"
        assert appeals.list_appeals(conn, T0 + timedelta(days=29), state="overdue") == []


def test_bad_appeals_are_refused_and_change_nothing(
    store: sa.Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    at(0, monkeypatch)
    evaluate(store, settings)
    with pytest.raises(NotFound, match="no measure 'rail_ban'"):
        file(store, measure="rail_ban")
    with pytest.raises(NotFound, match="no policy 'x'"):
        file(store, policy="x")
    with pytest.raises(Conflict, match="does not apply to ext:other"):
        file(store, OTHER)
    with pytest.raises(InvalidInput, match="grounds: is required"):
        file(store, grounds="  ")
    # Naming a cause that brings no decision, registered or not, gets the same answer.
    for stranger in (OTHER, "ext:nobody"):
        with pytest.raises(Conflict, match=f"to ext:child because of {stranger} in the current"):
            file(store, CHILD, cause=stranger)
    assert count(store, appeal_rows) == 0
    first = file(store)
    with pytest.raises(Conflict, match=f"appeal {first.id} of this decision is still open"):
        file(store)
    with pytest.raises(InvalidInput, match="until: only an override"):
        decide(store, first.id, "uphold", until=T0 + timedelta(days=3))
    with pytest.raises(InvalidInput, match=r"until: .* is not after now"):
        decide(store, first.id, "override", until=T0)
    with pytest.raises(InvalidInput, match="note: is required"):
        decide(store, first.id, "override", note="")
    with pytest.raises(InvalidInput, match="outcome: 'grant' is not"):
        decide(store, first.id, "grant")
    with pytest.raises(NotFound, match="no appeal 999"):
        decide(store, 999, "uphold")
    assert count(store, overrides) == 0
    assert decide(store, first.id, "uphold").status == "upheld"
    with pytest.raises(Conflict, match="already decided \\(upheld\\)"):
        decide(store, first.id, "override")
    assert count(store, overrides) == 0
    assert bans(store, evaluate(store, settings), DEBTOR)  # upheld: the ban stays


def apply(engine: sa.Engine, who: str = DEBTOR, list_name: str = "debtors") -> repair.Application:
    with writing(engine) as conn:
        return repair.apply_for_repair(conn, find_subject(conn, who), "n", list_name, ACTOR)


def test_credit_repair_after_the_minimum_time_with_proof(
    store: sa.Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    listed = T0 - timedelta(days=400)
    at(-40, monkeypatch)  # listed 360 days: under the year the terms ask
    evaluate(store, settings)
    with pytest.raises(Conflict, match="may apply from 2026-01-25T09:00:00Z"):
        apply(store)
    at(0, monkeypatch)
    evaluate(store, settings)
    with pytest.raises(Conflict, match=r"needs an active record of type credit\.commitment"):
        apply(store)
    send(store, "c1", DEBTOR, "credit.commitment.signed", T0 - timedelta(days=1))
    evaluate(store, settings)
    with pytest.raises(NotFound, match="no list 'nope'"):
        apply(store, list_name="nope")
    with pytest.raises(Conflict, match="declares no credit repair terms"):
        apply(store, list_name="watched")
    with pytest.raises(Conflict, match="ext:other is not on the list debtors"):
        apply(store, OTHER)
    assert count(store, repair_applications) == 0
    application = apply(store)
    assert application.listed_since == listed
    assert application.due_at == T0 + timedelta(days=30)
    with pytest.raises(Conflict, match=f"repair application {application.id} .* still open"):
        apply(store)
    with store.connect() as conn:
        assert repair.resolve_overdue(conn, T0 + timedelta(days=29, hours=23)) == 0
        assert repair.resolve_overdue(conn, T0 + timedelta(days=30)) == 1
    at(2, monkeypatch)
    before = count(store, records)
    with writing(store) as conn, pytest.raises(InvalidInput, match="note: is required"):
        repair.decide_repair(conn, application.id, True, " ", "cli:reviewer")
    assert count(store, records) == before
    with writing(store) as conn:
        done = repair.decide_repair(conn, application.id, True, "commitment checked", "cli:r")
    assert done.status == "approved" and done.exit_record_pk is not None
    with store.connect() as conn:
        exit_row = conn.execute(sa.select(records).where(records.c.id == done.exit_record_pk)).one()
        assert (exit_row.source_id, exit_row.type) == ("rights", "credit.repair.approved")
        with pytest.raises(Conflict, match="already decided \\(approved\\)"):
            repair.decide_repair(conn, application.id, False, "changed my mind", "cli:r")
    evaluation = evaluate(store, settings)
    assert bans(store, evaluation, DEBTOR) == [] and bans(store, evaluation, CHILD) == []
    with store.connect() as conn:
        assert latest_evaluation(conn, "n").counts["list:debtors"] == 0


def test_repair_opens_when_the_minimum_time_ends(
    store: sa.Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    send(store, "c1", DEBTOR, "credit.commitment.signed", T0 - timedelta(days=50))
    at(-36, monkeypatch)
    evaluate(store, settings)
    eligible = T0 - timedelta(days=35)  # a year after the entry
    monkeypatch.setenv("SCS_NOW", format_instant(eligible - timedelta(microseconds=1)) or "")
    with pytest.raises(Conflict, match="may apply from 2026-01-25T09:00:00Z"):
        apply(store)
    monkeypatch.setenv("SCS_NOW", format_instant(eligible) or "")
    assert apply(store).filed_at == eligible


def test_a_refused_repair_writes_nothing(
    store: sa.Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    send(store, "c1", DEBTOR, "credit.commitment.signed", T0 - timedelta(days=1))
    at(0, monkeypatch)
    evaluate(store, settings)
    application = apply(store)
    before = count(store, records)
    with writing(store) as conn:
        refused = repair.decide_repair(conn, application.id, False, "debt unpaid", "cli:r")
    assert (refused.status, refused.exit_record_pk) == ("refused", None)
    assert count(store, records) == before
    assert bans(store, evaluate(store, settings), DEBTOR)


def test_the_sweep_reapplies_a_measure_when_its_override_ends_and_tells_the_subject(
    store: sa.Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    at(0, monkeypatch)
    first = evaluate(store, settings)
    debtor = bans(store, first, DEBTOR)
    decide(store, file(store).id, "override", until=T0 + timedelta(days=10))
    at(1, monkeypatch)
    assert bans(store, evaluate(store, settings), DEBTOR) == []
    with store.connect() as conn:
        assert appeals.overrides_ended(conn, T0 + timedelta(days=9, hours=23)) == 0
    # A day before its end the sweep has nothing to do; on its end it re-evaluates.
    early = sweep(store, settings, at(9.9, monkeypatch))
    assert early.counts["overrides_ended"] == 0 and early.evaluations == []
    done = sweep(store, settings, at(10, monkeypatch))
    assert done.counts["overrides_ended"] == 1 and len(done.evaluations) == 1
    assert bans(store, done.evaluations[0], DEBTOR) == debtor
    with store.connect() as conn:
        subject = find_subject(conn, DEBTOR)
        told = list_notices(conn, subject)["notices"]
        # a second sweep at the same instant finds nothing more to do
        assert appeals.overrides_ended(conn, T0 + timedelta(days=10)) == 0
    assert told[0]["kind"] == "measure_applied" and told[0]["topic"] == "flight_ban"


def test_the_notices_list_shows_how_an_objection_ended(
    store: sa.Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    at(0, monkeypatch)
    evaluate(store, settings)
    operator = Principal("cli:tester", "operator")
    with store.connect() as conn:
        debtor = find_subject(conn, DEBTOR)
    filed = objections.file(
        store, operator, ACTOR, objections.RecordRef("court", "d1"), debtor.id, "not mine"
    )
    at(1, monkeypatch)
    objections.answer(store, operator, "source:court", filed["id"], "retracted")
    listed = scs(settings, "notices", "list", "--subject", DEBTOR, "--format", "csv")
    assert f"{DEBTOR},,objection_resolved,objection {filed['id']}" in listed
    table = scs(settings, "notices", "list", "--subject", DEBTOR)  # a case notice has no policy
    assert "Your objection" in table
