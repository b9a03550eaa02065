"""A village store whose records go either to the store or to a lake."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from socialcredit.ingest.files import import_relationships_file, import_subjects_file, ingest_file
from socialcredit.lake.ingest import ingest_to_lake
from socialcredit.lake.layout import Lake
from socialcredit.policy.load import load_policy_file
from socialcredit.settings import Settings
from socialcredit.store.db import create_engine, init_store
from socialcredit.store.policies import add_policy
from socialcredit.store.sources import add_source

FIXTURES = Path(__file__).parents[1] / "fixtures"
VILLAGE = FIXTURES / "village"
PACKS = Path(__file__).parents[2] / "src/socialcredit/policy/packs"
SOURCES = [
    ("court", "court", 1.0, ["court.*"]),
    ("bank", "bank", 1.0, ["finance.*"]),
    ("police", "public-security", 1.0, ["traffic.*", "public_order.*"]),
    ("gov", "local-government", 0.9, ["civic.*"]),
]
FILES = [
    ("court.csv", "court"),
    ("bank.csv", "bank"),
    ("police.jsonl", "police"),
    ("gov.csv", "gov"),
]


def village_store(home: Path, lake: Lake | None, extra: list[tuple[Path, str]]) -> sa.Engine:
    """The village registry and policies in a store at `home`; its records (and `extra`
    files) ingested into `lake`, or into the store when `lake` is None."""
    engine = create_engine(Settings(home=home))
    init_store(engine)
    with engine.begin() as conn:
        for source, kind, reliability, types in SOURCES:
            add_source(conn, source, kind, None, reliability, types)
        for pack in ("sesame", "national", "corporate", "rongcheng"):
            add_policy(conn, load_policy_file(PACKS / f"{pack}.yaml"))
    import_subjects_file(engine, VILLAGE / "subjects.csv")
    import_relationships_file(engine, VILLAGE / "relationships.csv")
    for path, source in [(VILLAGE / name, source) for name, source in FILES] + extra:
        if lake is None:
            report = ingest_file(engine, path, source)
        else:
            report = ingest_to_lake(engine, lake, path, source)
        assert report.ok, report.rejected
    return engine
