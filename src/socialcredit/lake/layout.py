"""Where the lake keeps each table, and the schema of each (docs/scale.md, "Layout").

    LAKE/records/year=YYYY/month=MM/<part>.parquet   the record log (DESIGN §4), by occurred_at
    LAKE/subjects/<part>.parquet                     the lake's own registry, when it has one
    LAKE/relationships/<part>.parquet
    LAKE/sources/<part>.parquet

Readers read only visible `*.parquet` files: a file being written is hidden (`.name.tmp`)
until it is complete, then renamed into place (see `write`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from socialcredit.errors import InvalidInput
from socialcredit.settings import Settings

INSTANT = pa.timestamp("us", tz="UTC")
RECORDS = pa.schema(
    [
        ("source", pa.string()),
        ("record_id", pa.string()),
        ("subject", pa.string()),  # the identifier the source sent, scheme:value
        ("sid", pa.int64()),  # the registered subject it resolved to (lake or store registry)
        ("type", pa.string()),
        ("occurred_at", INSTANT),
        ("received_at", INSTANT),
        ("value", pa.float64()),
        ("attrs", pa.string()),  # JSON object, or null
        ("supersedes", pa.string()),  # record_id of the same source, or null
    ]
)
SUBJECTS = pa.schema(
    [
        ("sid", pa.int64()),
        ("identifier", pa.string()),
        ("kind", pa.string()),
        ("name", pa.string()),
        ("region", pa.string()),
        ("born", pa.int64()),  # birth year (persons) or founding year (organizations)
        ("registered_at", INSTANT),
    ]
)
RELATIONSHIPS = pa.schema(
    [
        ("src", pa.int64()),
        ("dst", pa.int64()),
        ("kind", pa.string()),
        ("weight", pa.float64()),
        ("valid_from", INSTANT),
        ("valid_to", INSTANT),
        ("recorded_at", INSTANT),
    ]
)
SOURCES = pa.schema(
    [
        ("source", pa.string()),
        ("name", pa.string()),
        ("kind", pa.string()),
        ("reliability", pa.float64()),
        ("types", pa.list_(pa.string())),  # patterns it may submit; null: any type
    ]
)
TABLES: dict[str, pa.Schema] = {
    "records": RECORDS,
    "subjects": SUBJECTS,
    "relationships": RELATIONSHIPS,
    "sources": SOURCES,
}
PARTITIONS = ("year", "month")  # of records, from occurred_at (UTC)


@dataclass(frozen=True)
class Lake:
    root: Path

    def table_dir(self, name: str) -> Path:
        if name not in TABLES:
            raise InvalidInput("table", f"{name!r} is not a lake table ({', '.join(TABLES)})")
        return self.root / name

    def files(self, name: str) -> list[Path]:
        """The visible (complete) Parquet files of a table, in a stable order."""
        folder = self.table_dir(name)
        pattern = "year=*/month=*/*.parquet" if name == "records" else "*.parquet"
        return sorted(p for p in folder.glob(pattern) if not p.name.startswith("."))

    def glob(self, name: str) -> str:
        """The read_parquet pattern of a table (hidden temporary files never match)."""
        folder = self.table_dir(name)
        if name == "records":
            return str(folder / "year=*" / "month=*" / "*.parquet")
        return str(folder / "*.parquet")

    def partition(self, year: int, month: int) -> Path:
        return self.table_dir("records") / f"year={year:04d}" / f"month={month:02d}"

    def partitions(self) -> list[tuple[int, int, Path]]:
        """(year, month, folder) of every record partition, oldest first."""
        found = []
        for folder in self.table_dir("records").glob("year=*/month=*"):
            try:
                year = int(folder.parent.name.removeprefix("year="))
                month = int(folder.name.removeprefix("month="))
            except ValueError:
                continue
            found.append((year, month, folder))
        return sorted(found)


def default_lake(settings: Settings) -> Path:
    return settings.home / "lake"


def open_lake(path: Path | None, settings: Settings, *, must_exist: bool = False) -> Lake:
    root = path if path is not None else default_lake(settings)
    if root.exists() and not root.is_dir():
        raise InvalidInput("lake", f"{root} is a file, not a lake folder")
    if must_exist and not root.is_dir():
        raise InvalidInput("lake", f"there is no lake at {root}")
    return Lake(root)
