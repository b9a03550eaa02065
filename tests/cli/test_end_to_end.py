"""The whole CLI on the village fixture, on SQLite and on PostgreSQL."""

from __future__ import annotations

import csv
import getpass
import io
import json
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from socialcredit.cli import app
from socialcredit.settings import Settings
from socialcredit.store.db import create_engine
from socialcredit.store.schema import audit_log

VILLAGE = Path(__file__).parents[1] / "fixtures" / "village"
FATHER = "cn-rid:37108219800517011X"
MOTHER = "cn-rid:371082198209030223"
CHILD = "cn-rid:371082201506010311"
REP = "cn-rid:371002197501200131"
SAVER = "cn-rid:371002199011110247"
FIRM = "cn-uscc:913710821234567881"


class Scs:
    def __init__(self, settings: Settings) -> None:
        self.env = {
            "SCS_HOME": str(settings.home),
            "SCS_DATABASE_URL": settings.database_url,
            "COLUMNS": "160",
        }
        self.runner = CliRunner()

    def __call__(self, *args: str, code: int = 0) -> str:
        result = self.runner.invoke(app, list(args), env=self.env)
        assert result.exit_code == code, (args, result.output, result.exception)
        return result.output


@pytest.fixture
def scs(settings: Settings) -> Scs:
    return Scs(settings)


@pytest.fixture
def village(scs: Scs) -> Scs:
    scs("sources", "add", "court", "--kind", "court", "--types", "court.*")
    scs("sources", "add", "bank", "--kind", "bank", "--types", "finance.*")
    scs(
        "sources",
        "add",
        "police",
        "--kind",
        "public-security",
        "--types",
        "traffic.*,public_order.*",
    )
    scs(
        "sources",
        "add",
        "gov",
        "--kind",
        "local-government",
        "--types",
        "civic.*",
        "--reliability",
        "0.9",
    )
    scs("subjects", "import", str(VILLAGE / "subjects.csv"))
    scs("relationships", "import", str(VILLAGE / "relationships.csv"))
    for name, source in (
        ("court.csv", "court"),
        ("bank.csv", "bank"),
        ("police.jsonl", "police"),
        ("gov.csv", "gov"),
    ):
        scs("ingest", str(VILLAGE / name), "--source", source)
    for pack in ("sesame", "national", "corporate", "rongcheng"):
        path = Path(__file__).parents[2] / "src/socialcredit/policy/packs" / f"{pack}.yaml"
        scs("policy", "add", str(path))
    scs("evaluate", "--as-of", "2026-06-01")
    return scs


def test_registration_is_idempotent_and_reported(scs: Scs) -> None:
    scs("sources", "add", "court", "--kind", "court")
    assert "already registered" in scs("sources", "add", "court", "--kind", "court")
    out = scs("sources", "add", "court", "--kind", "bank", code=4)
    assert "different kind" in out
    first = scs("subjects", "import", str(VILLAGE / "subjects.csv"))
    assert "7 accepted" in first
    again = scs("subjects", "import", str(VILLAGE / "subjects.csv"))
    assert "0 accepted, 7 already stored" in again
    scs("relationships", "import", str(VILLAGE / "relationships.csv"))
    assert "0 accepted, 7 already stored" in scs(
        "relationships", "import", str(VILLAGE / "relationships.csv")
    )
    assert "Li Na" in scs("subjects", "show", MOTHER)


def test_bad_rows_are_reported_and_exit_non_zero(scs: Scs, tmp_path: Path) -> None:
    scs("subjects", "import", str(VILLAGE / "subjects.csv"))
    scs("sources", "add", "bank", "--kind", "bank", "--types", "finance.*")
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "record_id,subject,type,occurred_at,value\n"
        f"ok,{SAVER},finance.loan.repaid,2026-01-01,\n"
        f"no,{SAVER},court.judgment.issued,2026-01-01,\n"
    )
    report = tmp_path / "report.csv"
    out = scs("ingest", str(bad), "--source", "bank", "--report", str(report), code=1)
    assert "1 accepted" in out
    assert "may not submit" in out
    with report.open() as handle:
        rows = list(csv.DictReader(handle))
    assert rows == [{"line": "3", "field": "type", "reason": rows[0]["reason"]}]
    assert "unknown source 'nope'" in scs("ingest", str(bad), "--source", "nope", code=3)


def test_gate_checks_follow_the_joint_punishment_rules(village: Scs) -> None:
    def check(measure: str, who: str) -> dict:  # type: ignore[type-arg]
        return json.loads(village("check", measure, who))

    father = check("flight_ban", FATHER)
    assert father["applies"] is True
    assert father["reasons"] == ["on_list:dishonest_judgment_debtors"]
    assert father["since"] == "2026-02-01T00:00:00Z"
    assert father["cause_subject"] is None
    assert set(father) >= {"measure", "subject", "applies", "reasons", "since", "cause_subject"}
    rep = check("flight_ban", REP)
    assert rep["applies"] is True
    assert rep["cause_subject"] == FIRM
    assert "collateral:legal_representative" in rep["reasons"]
    assert rep["since"] == "2026-01-15T01:30:00Z"
    child = check("private_school_exclusion", CHILD)
    assert child["applies"] is True
    # the gate learns that a parent's conduct is the reason, not the parent's identity number
    assert child["cause_subject"] == "cn-rid:371082********011X"
    mother = check("flight_ban", MOTHER)
    assert mother == {
        **mother,
        "applies": False,
        "reasons": [],
        "since": None,
        "cause_subject": None,
    }
    assert "several policies" in village("check", "procurement_exclusion", FIRM, code=2)
    firm = json.loads(village("check", "procurement_exclusion", FIRM, "--policy", "corporate"))
    assert firm["applies"] is True
    assert "no measure 'teleport'" in village(
        "check", "teleport", FATHER, "--policy", "national", code=3
    )


def test_a_gate_check_reports_one_decision(village: Scs, tmp_path: Path) -> None:
    listed = tmp_path / "rep.csv"
    listed.write_text(
        "record_id,subject,type,occurred_at,value\n"
        f"c-9,{REP},court.dishonest.refuses_to_perform,2026-05-01,\n"
    )
    village("ingest", str(listed), "--source", "court")
    village("evaluate", "--policy", "national", "--as-of", "2026-06-01")
    rep = json.loads(village("check", "flight_ban", REP))
    assert rep["cause_subject"] is None  # now listed himself: his own decision answers
    assert rep["reasons"] == ["on_list:dishonest_judgment_debtors"]
    assert rep["since"] == "2026-05-01T00:00:00Z"
    assert "no measure 'teleport'" in village(
        "decisions", "export", "--policy", "national", "--measure", "teleport", code=3
    )
    assert "cannot write" in village(
        "scores",
        "export",
        "--policy",
        "sesame",
        "--out",
        str(tmp_path / "missing" / "x.csv"),
        code=2,
    )
    assert "cannot write" in village(
        "ingest", str(listed), "--source", "court", "--report", str(tmp_path), code=2
    )


def test_exports(village: Scs, tmp_path: Path) -> None:
    table = list(csv.DictReader(io.StringIO(village("scores", "export", "--policy", "sesame"))))
    assert list(table[0]) == [
        "subject",
        "score",
        "tier",
        "percentile",
        "credit_history",
        "fulfillment_capacity",
        "behavior_preferences",
        "personal_characteristics",
        "interpersonal_relationships",
    ]
    by_subject = {row["subject"]: row for row in table}
    assert set(by_subject) == {FATHER, MOTHER, REP, SAVER}  # the child is under 18
    assert int(by_subject[FATHER]["score"]) <= 499
    assert by_subject[FATHER]["tier"] == "poor"
    assert int(by_subject[SAVER]["score"]) > 650
    out = tmp_path / "rongcheng.parquet"
    village("scores", "export", "--policy", "rongcheng", "--format", "parquet", "--out", str(out))
    rongcheng = {r["subject"]: r for r in pq.read_table(out).to_pylist()}
    assert set(rongcheng) == {FATHER, MOTHER}  # only adult residents of 371082
    assert rongcheng[FATHER]["score"] <= 849  # drunk driving caps at grade C
    assert rongcheng[FATHER]["tier"] in {"C", "D"}
    assert rongcheng[MOTHER]["score"] > 1000
    decisions = list(
        csv.DictReader(io.StringIO(village("decisions", "export", "--policy", "national")))
    )
    assert list(decisions[0]) == ["measure", "subject", "cause_subject", "kind", "since"]
    bans = {(d["subject"], d["cause_subject"]) for d in decisions if d["measure"] == "flight_ban"}
    assert bans == {(FATHER, FATHER), (REP, FIRM)}
    assert "model: none" in village("scores", "export", "--policy", "national", code=2)


def test_explain_reproduces_the_stored_evaluation(village: Scs) -> None:
    text = village("explain", FATHER, "--policy", "rongcheng")
    assert "Capped at" in text
    assert "What lowered the score most" in text
    assert "differs from the stored one" not in text
    for who in (FATHER, MOTHER, SAVER, REP):
        for policy in ("sesame", "rongcheng"):
            report = json.loads(village("explain", who, "--policy", policy, "--json"))
            exported = {
                r["subject"]: r
                for r in csv.DictReader(
                    io.StringIO(village("scores", "export", "--policy", policy))
                )
            }
            if who in exported:
                assert report["score"] == int(exported[who]["score"])
            else:
                assert report["score"] is None
    saver = json.loads(village("explain", SAVER, "--policy", "sesame", "--json"))
    reasons = [f["reason"] for f in saver["factors"]]
    assert "Loan instalments paid on time" in reasons
    assert saver["influences"][0]["neighbour"] == MOTHER
    child = json.loads(village("explain", CHILD, "--policy", "national", "--json"))
    assert [d["measure"] for d in child["decisions"]] == ["private_school_exclusion"]
    assert child["decisions"][0]["cause_subject"] == FATHER


def test_explain_speaks_the_language_asked_for(village: Scs) -> None:
    village.env["COLUMNS"] = "1000"  # one sentence a line
    english = village("explain", FATHER, "--policy", "national", "--lang", "en")
    assert "On the list “Dishonest judgment debtors” since February 1, 2026" in english
    assert "refused to perform a judgment despite being able to" in english
    chinese = village("explain", FATHER, "--policy", "national", "--lang", "zh-CN")
    assert "自2026年2月1日起列入" in chinese and "有履行能力而拒不履行" in chinese
    assert "正在执行的措施" in chinese
    for text in (english, chinese):
        assert "on_list:" not in text and "court.dishonest" not in text
    sesame = village("explain", FATHER, "--policy", "sesame", "--lang", "zh-CN")
    assert "参评者" in sesame and "percentile" not in sesame
    # the JSON keeps its codes and adds the same reasons as text, in the language asked for
    child = json.loads(
        village("explain", CHILD, "--policy", "national", "--json", "--lang", "zh-CN")
    )
    decision = child["decisions"][0]
    assert decision["reasons"] == ["on_list:dishonest_judgment_debtors", "collateral:guardian"]
    assert decision["reason_texts"] == [
        f"{FATHER} 已列入“失信被执行人名单”。",
        f"因父母或监护人 {FATHER} 符合条件。",
    ]
    father = json.loads(village("explain", FATHER, "--policy", "national", "--json"))
    (listed,) = father["lists"]
    assert [c["record_id"] for c in listed["causes"]] == ["c-2"]
    assert listed["causes"][0]["source_name"] == "court"
    # without --lang: the environment's locale
    village.env.update(LANGUAGE="", LC_ALL="", LC_MESSAGES="", LANG="zh_CN.UTF-8")
    assert "自2026年2月1日起列入" in village("explain", FATHER, "--policy", "national")
    assert "not served" in village(
        "explain", FATHER, "--policy", "national", "--lang", "fr", code=2
    )


def test_policy_commands(village: Scs, tmp_path: Path) -> None:
    listing = village("policy", "list")
    assert "sesame" in listing
    assert "2026.2" in listing
    assert "policy: national" in village("policy", "show", "national")
    assert "ok" in village("policy", "lint")
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        'policy: x\nversion: "1"\ntitle: t\nsubjects: [person]\nmodel: points\n'
        "scale: {min: 0, max: 10}\ncategories: {a: {}}\nbase: 5\n"
        "rules: [{type: a.b, category: nope, points: 1, reason: r}]\n"
    )
    out = village("policy", "lint", str(broken), code=1)
    assert "rules[0].category" in out
    assert "unknown category 'nope'" in village("policy", "add", str(broken), code=2)
    changed = tmp_path / "sesame.yaml"
    packs = Path(__file__).parents[2] / "src/socialcredit/policy/packs"
    original = (packs / "sesame.yaml").read_text()
    changed.write_text(original.replace("\ntitle:\n  en: ", "\ntitle:\n  en: Changed ", 1))
    assert "other content" in village("policy", "add", str(changed), code=4)
    assert "unchanged" in village("policy", "add", str(packs / "sesame.yaml"))


def test_known_at_replays_a_stored_evaluation(village: Scs, tmp_path: Path) -> None:
    listing = village("evaluations", "list")
    assert "rongcheng" in listing
    stored = village("scores", "export", "--policy", "sesame", "--evaluation", "4")
    known_at = re.search(
        r"known at (\S+);", village("evaluate", "--policy", "sesame", "--as-of", "2026-06-01")
    )
    assert known_at is not None
    later = tmp_path / "later.csv"
    later.write_text(
        "record_id,subject,type,occurred_at,value\n"
        f"late-1,{SAVER},finance.payment.late,2026-05-20,60\n"
    )
    village("ingest", str(later), "--source", "bank")
    changed = village("scores", "export", "--policy", "sesame")
    assert changed == stored  # the new record is not evaluated yet
    village("evaluate", "--policy", "sesame", "--as-of", "2026-06-01")
    assert village("scores", "export", "--policy", "sesame") != stored
    village(
        "evaluate", "--policy", "sesame", "--as-of", "2026-06-01", "--known-at", known_at.group(1)
    )
    replay = village("evaluations", "list", "--policy", "sesame").strip().splitlines()
    replay_id = max(int(line.split("│")[1]) for line in replay if line.startswith("│"))
    assert (
        village("scores", "export", "--policy", "sesame", "--evaluation", str(replay_id)) == stored
    )
    # the replay is historical: checks and exports still serve the current evaluation
    assert village("scores", "export", "--policy", "sesame") != stored
    village("evaluate", "--policy", "national", "--as-of", "2026-06-01", "--known-at", "2020-01-01")
    assert json.loads(village("check", "flight_ban", FATHER))["applies"] is True
    assert "in the future" in village("evaluate", "--known-at", "2999-01-01", code=2)


def test_store_must_exist(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["sources", "list"], env={"SCS_HOME": str(tmp_path / "none"), "SCS_DATABASE_URL": None}
    )
    assert result.exit_code == 5
    assert "scs init" in result.output
    result = CliRunner().invoke(
        app, ["init"], env={"SCS_HOME": str(tmp_path / "new"), "SCS_DATABASE_URL": None}
    )
    assert result.exit_code == 0, result.output
    assert "store ready" in result.output


def test_the_cli_reads_and_changes_are_in_the_audit_log(village: Scs, settings: Settings) -> None:
    """The CLI reads the store with an operator's reach: its reads of personal data and its
    changes are chained into the same audit log as the API's, as cli:<user>."""
    village("check", "flight_ban", FATHER)
    village("explain", FATHER, "--policy", "sesame")
    village("subjects", "show", CHILD)
    village("scores", "export", "--policy", "sesame")
    engine = create_engine(settings)
    try:
        with engine.connect() as conn:
            logged = conn.execute(
                sa.select(audit_log.c.actor, audit_log.c.action, audit_log.c.target).order_by(
                    audit_log.c.seq
                )
            ).all()
    finally:
        engine.dispose()
    actions = [(action, target) for _, action, target in logged]
    assert {actor for actor, _, _ in logged} == {f"cli:{getpass.getuser()}"}
    # the set-up: sources are not personal data; imports, ingests, policies, evaluations are
    assert ("subjects.import", "subjects.csv: 7 accepted") in actions
    assert sum(a == "evaluation.run" for a, _ in actions) == 4
    assert actions[-4:] == [
        ("measure.check", f"flight_ban {FATHER}"),
        ("subject.report", FATHER),
        ("subject.read", CHILD),
        ("scores.export", actions[-1][1]),
    ]
    assert actions[-1][1].startswith("sesame: ")
    assert "audit log verified" in village("audit", "verify")
