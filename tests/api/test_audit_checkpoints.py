"""The audit log over HTTP: anyone reads the signed checkpoint and the verifier key; a subject
gets inclusion proofs of entries about its own data, and only its own; `scs serve`'s app signs
checkpoints on a schedule and after evaluations."""

from __future__ import annotations

import time

import sqlalchemy as sa
from fastapi.testclient import TestClient

from socialcredit.api import create_app
from socialcredit.audit.checkpoint import latest_checkpoint, make_checkpoint
from socialcredit.audit.merkle import verify_inclusion
from socialcredit.audit.note import open_note, parse_checkpoint, parse_verifier_key
from socialcredit.settings import Settings
from socialcredit.store.schema import audit_checkpoints, audit_log
from tests.api.conftest import World


def _seq_about(world: World, target: str) -> int:
    with world.engine.connect() as conn:
        return int(
            conn.execute(
                sa.select(sa.func.max(audit_log.c.seq)).where(audit_log.c.target == target)
            ).scalar_one()
        )


def test_anyone_reads_the_checkpoint_and_checks_it_with_the_published_key(
    demo_copy: World,
) -> None:
    seq = demo_copy.audit_seq()
    note = demo_copy.client.get("/v1/audit/checkpoint")
    assert note.status_code == 200, note.text
    assert note.headers["content-type"].startswith("text/plain")
    vkey = demo_copy.client.get("/v1/audit/key").text.strip()
    name, key = parse_verifier_key(vkey)
    body = parse_checkpoint(open_note(note.text, name, key))
    assert body.size == seq
    assert demo_copy.audit_seq() == seq  # reading it is not an access to anyone's data


def test_a_subject_proves_an_entry_about_itself_and_not_about_another(demo_copy: World) -> None:
    w = demo_copy
    assert w.client.get("/v1/me", headers=w.headers("subject")).status_code == 200
    own_seq = _seq_about(w, w.own)
    w.client.get(f"/v1/subjects/{w.other}", headers=w.headers("operator"))
    other_seq = _seq_about(w, w.other)
    checkpoint = make_checkpoint(w.engine, w.settings)

    answer = w.client.get(f"/v1/me/audit/proofs?seq={own_seq}", headers=w.headers("subject"))
    assert answer.status_code == 200, answer.text
    proof = answer.json()
    assert (proof["seq"], proof["tree_size"]) == (own_seq, checkpoint.size)
    assert proof["root_hash"] == checkpoint.root.hex()
    verify_inclusion(
        own_seq - 1,
        proof["tree_size"],
        bytes.fromhex(proof["leaf_hash"]),
        [bytes.fromhex(p) for p in proof["proof"]],
        checkpoint.root,
    )
    logged = w.audit_after(checkpoint.size)
    assert [(e.action, e.target, e.outcome) for e in logged] == [
        ("me.audit.proof", w.own, "allowed")
    ]

    seq = w.audit_seq()
    refused = w.client.get(f"/v1/me/audit/proofs?seq={other_seq}", headers=w.headers("subject"))
    assert refused.status_code == 403
    assert "not about your data" in refused.json()["error"]["message"]
    assert [e.outcome for e in w.audit_after(seq)] == ["refused"]

    later = w.client.get(f"/v1/me/audit/proofs?seq={w.audit_seq()}", headers=w.headers("subject"))
    assert later.status_code in (403, 404)  # the newest entry: the refusal, not yet signed
    missing = w.client.get("/v1/me/audit/proofs?seq=4000000000", headers=w.headers("subject"))
    assert missing.status_code == 404
    assert (
        w.client.get("/v1/me/audit/proofs?seq=0", headers=w.headers("subject")).status_code == 422
    )
    operator = w.client.get(f"/v1/me/audit/proofs?seq={own_seq}", headers=w.headers("operator"))
    assert operator.status_code == 403


def test_an_entry_newer_than_the_checkpoint_waits_for_the_next(demo_copy: World) -> None:
    w = demo_copy
    make_checkpoint(w.engine, w.settings)
    assert w.client.get("/v1/me", headers=w.headers("subject")).status_code == 200
    fresh = _seq_about(w, w.own)
    answer = w.client.get(f"/v1/me/audit/proofs?seq={fresh}", headers=w.headers("subject"))
    assert answer.status_code == 404
    assert "a newer checkpoint will cover it" in answer.json()["error"]["message"]


def _checkpoints(settings: Settings) -> int:
    engine = sa.create_engine(settings.url)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(sa.select(sa.func.count()).select_from(audit_checkpoints)).scalar()
                or 0
            )
    finally:
        engine.dispose()


def test_the_service_signs_checkpoints_on_a_schedule(demo_copy: World) -> None:
    settings = Settings(home=demo_copy.settings.home, audit_checkpoint_seconds=0.05)
    before = _checkpoints(settings)
    with TestClient(create_app(settings)) as client:
        deadline = time.monotonic() + 10
        while _checkpoints(settings) == before and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _checkpoints(settings) == before + 1  # signed at start
        client.get("/v1/me", headers=demo_copy.headers("subject"))  # the log grows
        deadline = time.monotonic() + 10
        while _checkpoints(settings) == before + 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _checkpoints(settings) == before + 2  # and again once it grew


def test_an_evaluation_signs_a_checkpoint(demo_copy: World) -> None:
    w = demo_copy
    answer = w.client.post(
        "/v1/evaluations", json={"policies": ["sesame"]}, headers=w.headers("operator")
    )
    assert answer.status_code == 202, answer.text
    done = w.finish(answer.json())  # the evaluation runs as a job
    assert done["state"] == "succeeded", done
    with w.engine.connect() as conn:
        latest = latest_checkpoint(conn)
    # signed after the job's evaluation.run entries; only the job's own reads may follow
    assert latest is not None
    logged = [e.action for e in w.audit_after(0)]
    assert "evaluation.run" in logged[: latest.size]


def test_a_key_file_others_may_read_is_refused_without_telling_the_caller_where(
    demo_copy: World,
) -> None:
    path = demo_copy.settings.audit_key_path
    path.write_text("not even a key\n")
    path.chmod(0o644)
    for url in ("/v1/audit/key", "/v1/audit/checkpoint"):
        answer = demo_copy.client.get(url)
        assert answer.status_code == 503, answer.text
        assert str(path.parent) not in answer.text
    with demo_copy.engine.connect() as conn:
        assert latest_checkpoint(conn) is None  # nothing was signed
