"""Soda Core v3 scan results, as written by ``soda scan ... -srf results.json``.

Each entry of ``checks`` becomes a check with its ``table`` and ``column``. ``outcome`` is
pass/fail/warn; a check Soda could not evaluate has no outcome and is reported as ``error`` (the
check did not run), which is not a failure. The failing-row count comes from the diagnostics
(``blocks[].totalFailingRows``, or the metric value for count metrics). A scan that aborted
(``hasErrors`` and no checks) says so in ``aborted``: the service records it as an error.
"""

from __future__ import annotations

from typing import Any

from audits.ingest._common import as_int, load_json, parse_time, short
from audits.ingest.types import FORMAT_SODA, CheckOutcome, ParsedResults, ResultFileError

_OUTCOMES = {"pass": "pass", "fail": "fail", "warn": "warn"}
_COUNT_METRICS = ("missing_count", "duplicate_count", "invalid_count", "failed_rows")


def looks_like(doc: Any) -> bool:
    return (
        isinstance(doc, dict)
        and isinstance(doc.get("checks"), list)
        and ("scanStartTimestamp" in doc or "definitionName" in doc or "defaultDataSource" in doc)
    )


def _failing_rows(check: dict[str, Any]) -> int | None:
    diagnostics = check.get("diagnostics") or {}
    for block in diagnostics.get("blocks") or []:
        if isinstance(block, dict) and as_int(block.get("totalFailingRows")) is not None:
            return as_int(block["totalFailingRows"])
    name = str(check.get("name") or "")
    if name.startswith(_COUNT_METRICS):
        return as_int(diagnostics.get("value"))
    return None


def _error_logs(doc: dict[str, Any]) -> list[str]:
    return [
        short(entry.get("message"), 300)
        for entry in doc.get("logs") or []
        if isinstance(entry, dict) and entry.get("level") == "error"
    ]


def parse(data: bytes | str | dict[str, Any]) -> ParsedResults:
    doc = data if isinstance(data, dict) else load_json(data)
    if not looks_like(doc):
        raise ResultFileError("Not a Soda Core scan result (soda scan -srf): no 'checks' list.")
    errors = _error_logs(doc)
    checks: list[CheckOutcome] = []
    for index, check in enumerate(doc["checks"]):
        if not isinstance(check, dict):
            raise ResultFileError(f"Soda scan result: check #{index} is not an object.")
        outcome = _OUTCOMES.get(str(check.get("outcome") or "").lower())
        diagnostics = check.get("diagnostics") or {}
        if outcome is None:
            message = "Soda could not evaluate this check." + (f" Scan errors: {errors[0]}" if errors else "")
            status = "error"
        else:
            status = outcome
            message = "" if outcome == "pass" else f"value {diagnostics.get('value')!r}"
        name = str(check.get("name") or check.get("definition") or f"check {index + 1}")
        checks.append(
            CheckOutcome(
                name=name,
                status=status,
                check_type=str(check.get("type") or "soda"),
                table=check.get("table") or None,
                column=check.get("column") or None,
                failing_rows=_failing_rows(check) if status in ("fail", "warn", "pass") else None,
                message=short(message),
                details={
                    "identity": check.get("identity"),
                    "data_source": check.get("dataSource"),
                    "value": diagnostics.get("value"),
                },
            )
        )
    warnings = [f"Soda logged an error: {message}" for message in errors]
    aborted = ""
    if not checks and (doc.get("hasErrors") or errors):
        # The scan stopped before checking anything (bad connection, bad checks file): an error,
        # never an empty success.
        aborted = "The Soda scan aborted before it checked anything" + (f": {errors[0]}" if errors else ".")
    started = parse_time(doc.get("scanStartTimestamp"))
    finished = parse_time(doc.get("scanEndTimestamp"))
    run_id = None
    if doc.get("definitionName") or started:
        run_id = f"{doc.get('definitionName') or 'soda'}@{doc.get('scanStartTimestamp')}"
    return ParsedResults(
        format=FORMAT_SODA,
        tool="soda",
        run_id=run_id,
        started_at=started,
        finished_at=finished,
        checks=checks,
        warnings=warnings,
        aborted=aborted,
    )
