"""The per-row report every import and ingest returns."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from socialcredit.ingest.readers import BadLine, Row


@dataclass(frozen=True)
class Rejection:
    line: int  # line of the file (CSV counts the header as line 1), or row number for Parquet
    field: str
    reason: str


@dataclass
class Report:
    what: str  # "records", "subjects", "relationships"
    total: int = 0
    accepted: int = 0
    unchanged: int = 0  # already stored: re-sending is a no-op
    rejected: list[Rejection] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.rejected

    @property
    def rejected_rows(self) -> int:
        return len({r.line for r in self.rejected})

    def reject(self, line: int, field_name: str, reason: str) -> None:
        self.rejected.append(Rejection(line, field_name, reason))

    def reject_all(self, line: int, problems: list[tuple[str, str]]) -> None:
        for field_name, reason in problems:
            self.reject(line, field_name, reason)

    def rows(self, rows: Iterable[tuple[int, Row | BadLine]]) -> Iterator[tuple[int, Row]]:
        """Count every row read; reject the lines that could not be read as rows."""
        for line, row in rows:
            self.total += 1
            if isinstance(row, BadLine):
                self.reject(line, "line", row.reason)
                continue
            yield line, row

    def summary(self) -> str:
        parts = [f"{self.accepted} accepted", f"{self.unchanged} already stored"]
        parts.append(f"{self.rejected_rows} rejected")
        return f"{self.what}: {self.total} rows read; " + ", ".join(parts)
