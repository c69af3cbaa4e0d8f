"""What every step of the audit writes shares: status words, batch size, the guarantee shapes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from audits.ingest._common import parse_time
from audits.models import AuditRun, CheckResult
from contracts.domain import guarantee_ref
from contracts.models import Guarantee

RUN_STATUSES = {s.value for s in AuditRun.Status}
# Words reporters use for a check's outcome (the demo README: passed/failed) → CheckResult.Status.
CHECK_STATUS_ALIASES = {
    "pass": "pass", "passed": "pass", "success": "pass",
    "fail": "fail", "failed": "fail", "failure": "fail",
    "warn": "warn", "warning": "warn",
    "error": "error", "errored": "error",
    "skipped": "skipped", "skip": "skipped",
}  # fmt: skip
CHECK_STATUSES = {s.value for s in CheckResult.Status}
BATCH = 2000


@dataclass(frozen=True, slots=True)
class GRef:
    """What ingestion needs of a guarantee; loading 10,000 model instances costs more than the rest."""

    pk: int
    asset_id: int
    kind: str
    column: str
    active: bool = True
    name: str = ""


def guarantee_label(g: Guarantee | GRef) -> str:
    return guarantee_ref(g.kind, g.column, getattr(g, "name", ""))


def guarantee_index(guarantees: Iterable[Guarantee]) -> dict[str, Guarantee]:
    """Every name a reporter may use for a guarantee: test unique_id, id, name, key, ``kind(column)``."""
    index: dict[str, Guarantee] = {}
    for g in guarantees:
        for alias in (g.test_unique_id, str(g.pk), g.name, g.key, guarantee_label(g)):
            if alias:
                index.setdefault(alias.lower(), g)
    return index


def as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return parse_time(value) if value else None


def run_status(*, failed: int, errored: int, incomplete: bool) -> str:
    if failed:
        return AuditRun.Status.FAILED
    if errored:
        return AuditRun.Status.ERROR
    if incomplete:
        return AuditRun.Status.PARTIAL
    return AuditRun.Status.PASSED
