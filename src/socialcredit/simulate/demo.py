"""`scs demo`: build the synthetic city and put it through the real pipeline.

The city is written to files under SCS_HOME/demo (CSV for the registry, Parquet per source), and
those files go through the same import and ingest functions as `scs subjects import` and
`scs ingest`; then the bundled packs are added and evaluated like `scs evaluate` does.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import sqlalchemy as sa

from socialcredit.errors import InvalidInput
from socialcredit.ingest.files import (
    import_relationships_file,
    import_subjects_file,
    ingest_file,
)
from socialcredit.ingest.report import Report
from socialcredit.outcomes.runs import Run, run_evaluations
from socialcredit.policy.load import bundled_packs
from socialcredit.settings import Settings
from socialcredit.sharing.keys import create_key
from socialcredit.simulate.population import CityConfig, build_city
from socialcredit.simulate.realtime_tour import RealTimeTour, listed_by_demo, realtime_tour
from socialcredit.simulate.records import SOURCES, generate_records
from socialcredit.simulate.tour import Tour, due_process_tour
from socialcredit.store.db import init_store
from socialcredit.store.policies import add_policy
from socialcredit.store.sources import add_source
from socialcredit.timeutil import now

Progress = Callable[[str], None]


@dataclass
class DemoResult:
    config: CityConfig
    folder: Path
    steps: dict[str, float] = field(default_factory=dict)  # step -> seconds
    reports: list[Report] = field(default_factory=list)
    run: Run | None = None
    tour: Tour | None = None  # the due-process tour of the person the tour follows
    realtime: RealTimeTour | None = None  # a court listing reaching the gate check at once


def write_city_files(config: CityConfig, folder: Path) -> dict[str, Path]:
    """Generate the city and write it as files; returns the paths by role."""
    city = build_city(config)
    records = generate_records(city)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "records").mkdir(exist_ok=True)
    paths = {"subjects": folder / "subjects.csv", "relationships": folder / "relationships.csv"}
    pacsv.write_csv(city.subjects(), paths["subjects"])
    pacsv.write_csv(city.relationships, paths["relationships"])
    for source, table in records.items():
        path = folder / "records" / f"{source}.parquet"
        pq.write_table(table, path, compression="zstd")
        paths[source] = path
    return paths


def run_demo(
    engine: sa.Engine, settings: Settings, config: CityConfig, progress: Progress | None = None
) -> DemoResult:
    if config.until > now().date():
        raise InvalidInput(
            "until",
            f"{config.until} is in the future; records cannot be reported before they happen",
        )
    say = progress or (lambda _: None)
    folder = settings.home / "demo"
    result = DemoResult(config, folder)
    clock = time.perf_counter()

    def step(name: str) -> None:
        nonlocal clock
        moment = time.perf_counter()
        result.steps[name] = moment - clock
        clock = moment

    say("creating the store")
    init_store(engine)
    step("create store")
    say(f"generating a city of {config.people:,} people and {config.orgs:,} organizations")
    paths = write_city_files(config, folder)
    step("generate city")
    with engine.begin() as conn:
        for source_id, kind, name, types in SOURCES:
            add_source(conn, source_id, kind, name, 1.0, types)
    say("importing subjects")
    result.reports.append(import_subjects_file(engine, paths["subjects"]))
    say("importing relationships")
    result.reports.append(import_relationships_file(engine, paths["relationships"]))
    step("import registry")
    ingested = Report("records")
    for source_id, _, _, _ in SOURCES:
        if source_id not in paths:
            continue
        say(f"ingesting records from {source_id}")
        report = ingest_file(engine, paths[source_id], source_id)
        ingested.total += report.total
        ingested.accepted += report.accepted
        ingested.unchanged += report.unchanged
        ingested.rejected += report.rejected
    result.reports.append(ingested)
    step("ingest records")
    with engine.begin() as conn:
        for loaded in bundled_packs().values():
            add_policy(conn, loaded)
    as_of = datetime(config.until.year, config.until.month, config.until.day, tzinfo=UTC)
    result.run = run_evaluations(engine, settings, as_of=as_of, progress=say)
    step("evaluate")
    with engine.connect() as conn:
        listed = listed_by_demo(conn)
    person = tour_subject(result.run, listed)
    if person is not None:
        say("due process: an objection, an appeal, the notices")
        result.tour = due_process_tour(engine, person)
        step("due process")
    say("real time: a court listing, refreshed, the gate check asked again")
    result.realtime = realtime_tour(engine, settings, as_of, person)
    step("real time")
    return result


def tour_subject(run: Run, skip: int | None = None) -> int | None:
    """The person the tour follows: the first with a flight ban of their own (not collateral),
    other than `skip` (whom the real-time tour listed)."""
    national = next((r.outcome for r in run.results if r.policy.name == "national"), None)
    if national is None:
        return None
    d = national.decisions
    own = [
        int(sid)
        for sid, cause, measure in zip(
            d["sid"].to_pylist(), d["cause_sid"].to_pylist(), d["measure"].to_pylist(), strict=True
        )
        if measure == "flight_ban" and sid == cause and sid != skip
    ]
    return min(own) if own else None


@dataclass(frozen=True)
class DemoKey:
    role: str
    label: str
    key: str
    start: str  # where to start with it


def demo_keys(engine: sa.Engine, subject: str | None) -> list[DemoKey]:
    """Keys for a tour of the service: an operator, an auditor, an airline and a railway (gate
    checks of their measures only), and the tour's person (their own data only)."""
    wanted: list[tuple[str, str, dict[str, list[str]], str]] = [
        ("operator", "demo operator", {}, "/dashboard"),
        ("auditor", "demo auditor", {}, "/dashboard"),
        ("relying_party", "demo airline", {"measures": ["flight_ban"]}, "/docs"),
        ("relying_party", "demo railway", {"measures": ["high_speed_rail_ban"]}, "/docs"),
    ]
    keys = []
    with engine.begin() as conn:
        for role, label, grants, start in wanted:
            key, _ = create_key(conn, role, measures=grants.get("measures"), label=label)
            keys.append(DemoKey(role, label, key, start))
        if subject is not None:
            key, _ = create_key(conn, "subject", subject=subject, label="demo citizen")
            keys.append(DemoKey("subject", f"demo citizen {subject}", key, "/me"))
    return keys
