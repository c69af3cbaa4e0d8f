"""What an ingestion tells its uploader: runs written, duplicates, unmatched checks, warnings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from audits.ingest import CheckOutcome


@dataclass
class IngestSummary:
    format: str
    tool: str
    run_id: str | None
    partial: bool
    runs: list[dict[str, Any]] = field(default_factory=list)
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    unmatched: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    run_kind: str = ""
    not_counted: list[dict[str, Any]] = field(default_factory=list)

    @property
    def counted(self) -> int:
        """Executed checks recorded on runs: what counts for guarantees and the gate."""
        return sum(run["checked"] for run in self.runs)

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "tool": self.tool,
            "run_id": self.run_id,
            "partial": self.partial,
            "runs": self.runs,
            "duplicates": self.duplicates,
            "unmatched_count": len(self.unmatched),
            "warnings": self.warnings,
            "run_kind": self.run_kind,
            "counted": self.counted,
            "not_counted": self.not_counted,
        }


def unmatched_entry(check: CheckOutcome, reason: str) -> dict[str, Any]:
    """A check kept on the upload because it could not be placed: never dropped silently."""
    return {
        "name": check.name,
        "status": check.status,
        "table": check.table,
        "column": check.column,
        "failing_rows": check.failing_rows,
        "message": check.message[:500],
        "reason": reason,
    }
