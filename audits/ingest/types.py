"""Plain shapes every result-file parser produces.

A parser turns the bytes of one tool's result file into a ``ParsedResults``: the run as a whole
and one ``CheckOutcome`` per check, in the order the tool reported them. Nothing here knows about
assets or guarantees in the database; matching checks to them is the service's job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

CHECK_STATUSES = ("pass", "fail", "warn", "error", "skipped")

FORMAT_DBT = "dbt"
FORMAT_GX = "great_expectations"
FORMAT_SODA = "soda"
FORMAT_GENERIC = "generic"
FORMATS = (FORMAT_DBT, FORMAT_GX, FORMAT_SODA, FORMAT_GENERIC)


class ResultFileError(ValueError):
    """The bytes are not a result file we understand; the message says why, for a person.

    ``summary`` says what the file was, when that is known (its kind of run, what was not
    counted), so a refused upload still shows it."""

    def __init__(self, message: str, *, summary: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.summary = summary or {}


@dataclass(frozen=True, slots=True)
class BuildOutcome:
    """What dbt did to a model, seed or snapshot in a run: the "write" of write-audit-publish."""

    unique_id: str
    status: str  # success / error / skipped
    message: str = ""


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    """One check's result as the tool reported it.

    ``name`` is the check's identity within its tool (dbt test unique_id, GX expectation type plus
    column, Soda check name), stable across runs so trends can be drawn per check.
    ``table`` is the relation the tool says it checked, when the tool says one (GX, Soda, generic);
    dbt results name no table: their ``unique_id`` is matched through the synced manifest.
    """

    name: str
    status: str  # one of CHECK_STATUSES
    check_type: str = ""  # not_null / expect_column_values_to_not_be_null / missing_count ...
    unique_id: str | None = None  # dbt test unique_id
    table: str | None = None
    column: str | None = None
    failing_rows: int | None = None
    message: str = ""
    started_at: datetime | None = None
    finished_at: datetime | None = None
    guarantee: str | None = None  # generic format: the guarantee the producer says this check proves
    asset: str | None = None  # generic format: asset reference per check
    details: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(slots=True)
class ParsedResults:
    format: str  # one of FORMATS
    tool: str  # dbt / great_expectations / soda / generic tool name
    run_id: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    # True when the tool says it ran only a selection (dbt --select / --exclude): checks it did not
    # run must never be read as passed.
    partial: bool = False
    selector: str = ""
    checks: list[CheckOutcome] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    tool_version: str = ""
    # What the tool was asked to do (dbt: build / test / run / source freshness ...), for people.
    run_kind: str = ""
    # The dbt project that produced the run, when the file says (its tests' package).
    project: str = ""
    builds: list[BuildOutcome] = field(default_factory=list)
    # What the file holds that does not count as a check, and why: {"what", "count", "why"}.
    not_counted: list[dict[str, Any]] = field(default_factory=list)
    # Set when the tool aborted before checking anything: the reason, in the tool's words.
    aborted: str = ""

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(CHECK_STATUSES, 0)
        for check in self.checks:
            counts[check.status] += 1
        return counts
