"""dbt ``run_results.json`` (schema v4 to v6, dbt 1.0 to 1.11).

Only tests are checks: data tests (``test.``) and unit tests (``unit_test.``). Models, seeds and
snapshots in a ``dbt build`` are not checks, but a test that dbt skipped because its model failed
is reported as ``skipped`` — never as passed. Which asset a test belongs to is not in this file:
the service looks the test's unique_id up in the synced manifest.
"""

from __future__ import annotations

import re
from typing import Any

from audits.ingest._common import as_int, load_json, parse_time, short
from audits.ingest.types import FORMAT_DBT, CheckOutcome, ParsedResults, ResultFileError

SUPPORTED_VERSIONS = (4, 5, 6)
_VERSION_RE = re.compile(r"/run-results/v(\d+)\.json$")
_CHECK_PREFIXES = ("test.", "unit_test.")
# dbt's own statuses for tests, mapped onto ours. "runtime error" appears in older dbt logs.
_STATUS = {
    "pass": "pass",
    "success": "pass",
    "fail": "fail",
    "warn": "warn",
    "error": "error",
    "runtime error": "error",
    "skipped": "skipped",
}


def looks_like(doc: Any) -> bool:
    if not isinstance(doc, dict):
        return False
    version = str((doc.get("metadata") or {}).get("dbt_schema_version", ""))
    return "/run-results/" in version


def schema_version(doc: dict[str, Any]) -> int:
    url = str((doc.get("metadata") or {}).get("dbt_schema_version", ""))
    match = _VERSION_RE.search(url)
    if not match:
        raise ResultFileError(f"Not a dbt run_results.json: unknown dbt_schema_version {url!r}.")
    return int(match.group(1))


def _selector(args: dict[str, Any]) -> str:
    parts: list[str] = []
    for key in ("select", "models", "exclude", "selector", "selector_name"):
        value = args.get(key)
        if not value:
            continue
        if isinstance(value, list | tuple):
            value = " ".join(str(v) for v in value)
        prefix = "--exclude " if key == "exclude" else ""
        parts.append(f"{prefix}{value}")
    return " ".join(parts)


def _test_type(unique_id: str) -> str:
    """``test.pkg.not_null_orders_id.abc123`` → ``not_null``; a guess for display only."""
    if unique_id.startswith("unit_test."):
        return "unit_test"
    name = unique_id.split(".")[2] if unique_id.count(".") >= 2 else unique_id
    for known in (
        "not_null",
        "unique_combination_of_columns",
        "unique",
        "accepted_values",
        "relationships",
        "accepted_range",
    ):
        if name.startswith(known) or f"_{known}_" in name:
            return known
    return "test"


def parse(data: bytes | str | dict[str, Any]) -> ParsedResults:
    doc = data if isinstance(data, dict) else load_json(data)
    if not looks_like(doc):
        raise ResultFileError("Not a dbt run_results.json: metadata.dbt_schema_version is missing.")
    version = schema_version(doc)
    if version not in SUPPORTED_VERSIONS:
        raise ResultFileError(
            f"dbt run_results schema v{version} is not supported (supported: v4 to v6, dbt 1.0 to 1.11)."
        )
    results = doc.get("results")
    if not isinstance(results, list):
        raise ResultFileError("dbt run_results.json has no 'results' list.")
    metadata = doc.get("metadata") or {}
    args = doc.get("args") or {}
    selector = _selector(args) if isinstance(args, dict) else ""

    checks: list[CheckOutcome] = []
    warnings: list[str] = []
    started = finished = None
    for index, result in enumerate(results):
        if not isinstance(result, dict) or not isinstance(result.get("unique_id"), str):
            raise ResultFileError(f"dbt run_results.json: result #{index} has no unique_id.")
        unique_id = result["unique_id"]
        if not unique_id.startswith(_CHECK_PREFIXES):
            continue
        raw_status = str(result.get("status") or "").lower()
        status = _STATUS.get(raw_status)
        if status is None:
            warnings.append(f"{unique_id}: unknown dbt status {raw_status!r}, recorded as error.")
            status = "error"
        t_start = t_end = None
        for timing in result.get("timing") or []:
            if isinstance(timing, dict):
                t_start = t_start or parse_time(timing.get("started_at"))
                t_end = parse_time(timing.get("completed_at")) or t_end
        if t_start and (started is None or t_start < started):
            started = t_start
        if t_end and (finished is None or t_end > finished):
            finished = t_end
        failures = as_int(result.get("failures"))
        checks.append(
            CheckOutcome(
                name=unique_id,
                status=status,
                check_type=_test_type(unique_id),
                unique_id=unique_id,
                # dbt reports failures=0 for errored/skipped tests; that count means nothing there.
                failing_rows=failures if status in ("pass", "fail", "warn") else None,
                message=short(result.get("message")),
                started_at=t_start,
                finished_at=t_end,
            )
        )
    generated = parse_time(metadata.get("generated_at"))
    return ParsedResults(
        format=FORMAT_DBT,
        tool="dbt",
        run_id=metadata.get("invocation_id") or None,
        started_at=started or generated,
        finished_at=finished or generated,
        partial=bool(selector),
        selector=selector,
        checks=checks,
        warnings=warnings,
        tool_version=str(metadata.get("dbt_version") or ""),
    )
