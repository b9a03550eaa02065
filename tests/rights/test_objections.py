"""Objections to records, on SQLite and PostgreSQL, with a frozen clock: filing disputes the
record at once, each answer moves its status, the deadline is kept to the day, the policy
decides how a disputed record counts, and bad input changes nothing."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from socialcredit.errors import Conflict, Forbidden, InvalidInput, NotFound, TooLarge
from socialcredit.outcomes.runs import run_evaluations
from socialcredit.rights.objections import (
    MAX_EVIDENCE_BYTES,
    SUPPRESSED_REASON,
    Evidence,
    RecordRef,
    answer,
    answer_objection,
    file_objection,
    get_objection,
    list_objections,
    resolve_overdue,
)
from socialcredit.rights.reports import explain_subject, report_document
from socialcredit.settings import Settings
from socialcredit.sharing.keys import Principal
from socialcredit.store.db import writing
from socialcredit.store.evaluations import subject_outcome
from socialcredit.store.records import change_status
from socialcredit.store.registry import find_subject
from socialcredit.store.schema import audit_log, objections, record_status, records
from socialcredit.timeutil import now, parse_instant
from tests.api.conftest import FATHER, PACKS, REP, build_village, scs

FILED = "2026-07-01T09:00:00Z"


@pytest.fixture
def village(settings: Settings, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> sa.Engine:
    monkeypatch.setenv("SCS_NOW", "2026-06-30T00:00:00Z")
    build_village(settings)
    monkeypatch.setenv("SCS_NOW", FILED)
    return engine


def _ids(engine: sa.Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        return find_subject(conn, FATHER).id, find_subject(conn, REP).id


def _subject(engine: sa.Engine, identifier: str = FATHER) -> Principal:
    with engine.connect() as conn:
        found = find_subject(conn, identifier)
    return Principal(
        "key:subj", "subject", subject_id=found.id, identifiers=frozenset([identifier])
    )


OPERATOR = Principal("key:oper", "operator")
BANK = Principal("key:bank", "source", source_id="bank")
COURT = Principal("key:court", "source", source_id="court")


def _status(engine: sa.Engine, source: str, record_id: str) -> tuple[str, str]:
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(record_status.c.status, record_status.c.reason)
            .join(records, records.c.id == record_status.c.record_pk)
            .where(records.c.source_id == source, records.c.record_id == record_id)
            .order_by(record_status.c.id.desc())
            .limit(1)
        ).first()
    return (row.status, row.reason) if row else ("active", "")


def _file(engine: sa.Engine, who: Principal, ref: str, **kw: object) -> dict[str, object]:
    source, record_id = ref.split("/")
    with writing(engine) as conn:
        return file_objection(
            conn,
            who,
            who.name,
            RecordRef(source, record_id),
            kw.pop("subject_id", None),  # type: ignore[arg-type]
            str(kw.pop("grounds", "I paid on time; the bank's receipt is attached")),
            kw.pop("evidence", None),  # type: ignore[arg-type]
        )


def _sweep(engine: sa.Engine, at: str) -> int:
    with writing(engine) as conn:
        return resolve_overdue(conn, parse_instant(at))


def _rows(engine: sa.Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        return (
            int(conn.execute(sa.select(sa.func.count()).select_from(objections)).scalar_one()),
            int(conn.execute(sa.select(sa.func.count()).select_from(record_status)).scalar_one()),
        )


def _score(engine: sa.Engine, settings: Settings, known_at: datetime | None = None) -> int:
    run = run_evaluations(engine, settings, ["sesame"], known_at=known_at)
    father, _ = _ids(engine)
    with engine.connect() as conn:
        row = subject_outcome(conn, run.results[0].evaluation_id, father).score
    assert row is not None
    return int(row.score)


def test_filing_disputes_the_record_at_once_with_the_shortest_deadline(village: sa.Engine) -> None:
    filed = _file(village, _subject(village), "bank/b-1")
    assert filed["state"] == "open"
    assert filed["deadline_days"] == 20  # the national pack's; sesame declares none
    assert filed["due_at"] == "2026-07-21T09:00:00Z"
    assert filed["subject"] == FATHER
    status, reason = _status(village, "bank", "b-1")
    assert status == "disputed"
    assert reason.startswith(f"objection {filed['id']}:")


def test_an_unanswered_objection_is_open_on_day_19_and_suppressed_on_day_20(
    village: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    filed = _file(village, _subject(village), "bank/b-1")
    assert _sweep(village, "2026-07-21T08:59:59.999999Z") == 0
    assert _status(village, "bank", "b-1")[0] == "disputed"
    with village.connect() as conn:
        assert [o["id"] for o in list_objections(conn, OPERATOR, state="open")] == [filed["id"]]
        overdue = list_objections(
            conn, OPERATOR, state="overdue", at=parse_instant("2026-07-21T09:00Z")
        )
        assert [o["id"] for o in overdue] == [filed["id"]]
    monkeypatch.setenv("SCS_NOW", "2026-07-21T09:00:00Z")
    assert _sweep(village, "2026-07-21T09:00:00Z") == 1
    assert _status(village, "bank", "b-1") == ("suppressed", SUPPRESSED_REASON)
    assert _sweep(village, "2026-07-22T00:00:00Z") == 0  # resolved once
    with village.connect() as conn:
        case = get_objection(conn, int(filed["id"]))  # type: ignore[call-overload]
        entry = conn.execute(sa.select(audit_log).order_by(audit_log.c.seq.desc())).first()
    assert case["state"] == "suppressed"
    assert case["resolved_at"] == "2026-07-21T09:00:00Z"
    assert [t["status"] for t in case["timeline"]] == ["disputed", "suppressed"]
    assert entry is not None
    assert (entry.actor, entry.action) == ("system:sweep", "objection.suppress")
    # The source answers too late: refused, naming when the record was suppressed.
    monkeypatch.setenv("SCS_NOW", "2026-07-23T00:00:00Z")
    before = _rows(village)
    with (
        pytest.raises(Conflict, match="suppressed at 2026-07-21T09:00:00Z"),
        writing(village) as conn,
    ):
        answer_objection(conn, BANK, BANK.name, int(filed["id"]), "verified")  # type: ignore[call-overload]
    assert _rows(village) == before


def test_an_answer_after_the_deadline_before_any_sweep_is_refused_and_suppresses(
    village: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    filed = _file(village, _subject(village), "bank/b-1")
    monkeypatch.setenv("SCS_NOW", "2026-07-25T00:00:00Z")
    with pytest.raises(Conflict, match="suppressed at 2026-07-25T00:00:00Z"):
        answer(village, BANK, BANK.name, int(filed["id"]), "verified")  # type: ignore[call-overload]
    # The suppression was due regardless of the late answer; only the answer was refused.
    assert _status(village, "bank", "b-1") == ("suppressed", SUPPRESSED_REASON)


def test_answers_move_the_record(village: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    verified = _file(village, _subject(village), "bank/b-1")
    with writing(village) as conn:
        done = answer_objection(
            conn, BANK, BANK.name, int(verified["id"]), "verified", note="ledger checked"
        )  # type: ignore[call-overload]
    assert (done["state"], done["note"], done["resolved_by"]) == (
        "verified",
        "ledger checked",
        "key:bank",
    )
    assert _status(village, "bank", "b-1")[0] == "active"
    # Closed, so the subject may object again (with new grounds); then the operator retracts.
    again = _file(village, OPERATOR, "bank/b-1", subject_id=_ids(village)[0])
    with writing(village) as conn:
        answer_objection(conn, OPERATOR, OPERATOR.name, int(again["id"]), "retracted")  # type: ignore[call-overload]
    assert _status(village, "bank", "b-1")[0] == "retracted"
    # A correction: the source sends a superseding record, then names it in its answer.
    court = _file(village, _subject(village), "court/c-1")
    with writing(village) as conn, pytest.raises(InvalidInput, match="corrected_by"):
        answer_objection(
            conn, COURT, COURT.name, int(court["id"]), "corrected", RecordRef("court", "c-2")
        )  # type: ignore[call-overload]
    with writing(village) as conn:
        conn.execute(
            sa.insert(records).values(
                source_id="court",
                record_id="c-1b",
                subject_id=_ids(village)[0],
                type="court.judgment.issued",
                occurred_at=parse_instant("2025-10-01"),
                received_at=parse_instant(FILED),
                value=60000.0,
                supersedes="c-1",
            )
        )
        done = answer_objection(
            conn, COURT, COURT.name, int(court["id"]), "corrected", RecordRef("court", "c-1b")
        )  # type: ignore[call-overload]
    assert (done["state"], done["corrected_by"]) == ("corrected", "court/c-1b")
    assert _status(village, "court", "c-1")[0] == "superseded"


def test_who_may_file_see_and_answer(village: sa.Engine) -> None:
    _, rep = _ids(village)
    filed = _file(village, _subject(village), "bank/b-1")
    with village.connect() as conn:
        # A source sees the objections about its own records only, and cannot answer others'.
        assert [o["id"] for o in list_objections(conn, BANK)] == [filed["id"]]
        assert list_objections(conn, COURT) == []
        assert list_objections(conn, _subject(village, REP)) == []
        with pytest.raises(NotFound):
            get_objection(conn, int(filed["id"]), COURT)  # type: ignore[call-overload]
        with pytest.raises(Forbidden):
            list_objections(conn, Principal("key:aud", "auditor"))
    before = _rows(village)
    with pytest.raises(NotFound), writing(village) as conn:
        answer_objection(conn, COURT, COURT.name, int(filed["id"]), "verified")  # type: ignore[call-overload]
    with pytest.raises(Forbidden), writing(village) as conn:
        answer_objection(conn, _subject(village), "key:subj", int(filed["id"]), "retracted")  # type: ignore[call-overload]
    with pytest.raises(Forbidden), writing(village) as conn:
        file_objection(conn, BANK, "key:bank", RecordRef("bank", "b-2"), rep, "no")
    assert _rows(village) == before


def test_bad_objections_change_nothing(village: sa.Engine) -> None:
    father, _ = _ids(village)
    subject = _subject(village)
    open_one = _file(village, subject, "bank/b-1")
    before = _rows(village)
    # Another subject's record and a record that does not exist: the same refusal.
    with pytest.raises(Forbidden) as other:
        _file(village, subject, "bank/b-2")
    with pytest.raises(Forbidden) as unknown:
        _file(village, subject, "bank/nope")
    assert str(other.value).replace("b-2", "X") == str(unknown.value).replace("nope", "X")
    with pytest.raises(Conflict, match=f"already under objection {open_one['id']}"):
        _file(village, subject, "bank/b-1")
    with pytest.raises(TooLarge, match="5 MiB"):
        _file(
            village,
            subject,
            "court/c-1",
            evidence=Evidence("scan.pdf", b"x" * (MAX_EVIDENCE_BYTES + 1)),
        )
    with pytest.raises(InvalidInput, match="grounds"):
        _file(village, subject, "court/c-1", grounds="   ")
    with pytest.raises(InvalidInput, match="subject"):
        _file(village, OPERATOR, "court/c-1")
    assert _rows(village) == before
    # A superseded record: 409 naming its status.
    with writing(village) as conn:
        conn.execute(
            sa.insert(records).values(
                source_id="police",
                record_id="p-1b",
                subject_id=father,
                type="traffic.drunk_driving",
                occurred_at=parse_instant("2026-04-01"),
                received_at=parse_instant(FILED),
                supersedes="p-1",
            )
        )
        from socialcredit.store.records import change_status

        change_status(
            conn,
            [("police", "p-1", "superseded", "superseded by p-1b")],
            parse_instant(FILED),
            "test",
        )
    with pytest.raises(Conflict, match="is superseded"):
        _file(village, subject, "police/p-1")


def test_evidence_is_kept_with_its_sha256(village: sa.Engine) -> None:
    filed = _file(
        village, _subject(village), "court/c-1", evidence=Evidence("receipt.txt", b"paid in full")
    )
    assert filed["evidence"] == {
        "name": "receipt.txt",
        "sha256": "ad4535dbcc1b5f311af9a1226888ea6803a81b1b84e4999b28ddc992fc2cea02",
    }


def test_suspend_stops_a_disputed_record_counting_and_replays_with_known_at(
    village: sa.Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCS_NOW", "2026-07-01T08:00:00Z")
    before = _score(village, settings)
    monkeypatch.setenv("SCS_NOW", FILED)
    _file(village, _subject(village), "court/c-2")
    monkeypatch.setenv("SCS_NOW", "2026-07-02T00:00:00Z")
    during = _score(village, settings)
    assert during > before  # the court listing (and its 499 ceiling) is suspended
    assert _score(village, settings, known_at=parse_instant("2026-07-01T08:30:00Z")) == before
    monkeypatch.setenv("SCS_NOW", "2026-07-21T09:00:00Z")
    _sweep(village, "2026-07-21T09:00:00Z")
    assert _score(village, settings) == during  # suppressed: it no longer counts at all


def test_count_keeps_a_disputed_record_counting_and_the_explanation_flags_it(
    village: sa.Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sesame = (PACKS / "sesame.yaml").read_text()
    counting = sesame.replace("policy: sesame", "policy: sesame_count", 1)
    counting += "\ndisputes: {deadline: 45d, while_disputed: count}\n"
    path = tmp_path / "sesame_count.yaml"
    path.write_text(counting)
    monkeypatch.setenv("SCS_NOW", "2026-07-01T08:00:00Z")
    scs(settings, "policy", "add", str(path))
    scs(settings, "evaluate", "--policy", "sesame_count")
    with village.connect() as conn:
        before = report_document(explain_subject(conn, FATHER, "sesame_count"))
    monkeypatch.setenv("SCS_NOW", FILED)
    filed = _file(village, _subject(village), "court/c-2")
    assert filed["deadline_days"] == 20  # the shortest declared deadline wins (20d < 45d)
    monkeypatch.setenv("SCS_NOW", "2026-07-02T00:00:00Z")
    scs(settings, "evaluate", "--policy", "sesame_count")
    with village.connect() as conn:
        during = report_document(explain_subject(conn, FATHER, "sesame_count"))
    assert during["score"] == before["score"]  # it still counts
    assert during["disputes"] == {"deadline_days": 45, "while_disputed": "count"}
    flags = {
        (r["source"], r["record_id"]): r["disputed"]
        for f in during["factors"]
        for r in f["records"]
    }
    assert flags[("court", "c-2")] is True
    assert flags[("bank", "b-1")] is False
    assert not any(r["disputed"] for f in before["factors"] for r in f["records"])
    shown = scs(settings, "explain", FATHER, "--policy", "sesame_count")
    shown = " ".join(shown.split())
    assert "court (c-2)" in shown and "(disputed: counts while under objection)" in shown


def test_an_answer_never_brings_back_a_record_that_is_gone(
    village: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While an objection is open, the source retracts the record through ingest (or retention
    purges it): a "verified" answer is refused, and the sweep closes the objection as that."""
    filed = _file(village, _subject(village), "bank/b-1")
    with writing(village) as conn:
        change_status(
            conn, [("bank", "b-1", "retracted", "retracted by ingest")], now(), "source:bank"
        )
    with writing(village) as conn, pytest.raises(Conflict, match="is retracted now"):
        answer_objection(conn, BANK, BANK.name, int(filed["id"]), "verified")  # type: ignore[call-overload]
    assert _status(village, "bank", "b-1")[0] == "retracted"
    assert _sweep(village, "2026-07-21T09:00:00Z") == 1
    with village.connect() as conn:
        assert get_objection(conn, int(filed["id"]))["state"] == "retracted"
    # A purged record (a retention tombstone) cannot be objected to at all.
    with writing(village) as conn:
        change_status(conn, [("court", "c-1", "purged", "retention")], now(), "system:sweep")
    with pytest.raises(Conflict, match="purged"):
        _file(village, _subject(village), "court/c-1")
