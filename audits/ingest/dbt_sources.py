"""dbt ``sources.json`` (``dbt source freshness``; schema v1 to v3, dbt 0.19 to 1.11).

Each source's result is one check of that source's freshness guarantee, reported under the
source's unique_id (the manifest's ``freshness`` + ``loaded_at_field``: the guarantee keeps that
id). dbt's statuses are read for what they mean to the guarantee: ``pass`` passes, ``warn`` is a
warning, ``error`` (older than ``error_after``) is a *failed* guarantee — the data is stale — and
``runtime error`` means the check could not run (``error``). The message keeps dbt's own word.
"""

from __future__ import annotations

import re
from typing import Any

from audits.ingest._common import load_json, parse_time, short
from audits.ingest.types import FORMAT_DBT, CheckOutcome, ParsedResults, ResultFileError

SUPPORTED_VERSIONS = (1, 2, 3)
_VERSION_RE = re.compile(r"/sources/v(\d+)\.json$")
_STATUS = {"pass": "pass", "warn": "warn", "error": "fail", "runtime error": "error"}


def looks_like(doc: Any) -> bool:
    if not isinstance(doc, dict):
        return False
    return "/sources/" in str((doc.get("metadata") or {}).get("dbt_schema_version", ""))


def _age(seconds: Any) -> str:
    if not isinstance(seconds, int | float):
        return "unknown"
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds / size
            return f"{count:.1f} {unit}s"
    return f"{seconds:.0f} seconds"


def _rule(criteria: Any) -> str:
    if not isinstance(criteria, dict):
        return ""
    parts = []
    for key in ("warn_after", "error_after"):
        rule = criteria.get(key) or {}
        if isinstance(rule, dict) and rule.get("count"):
            parts.append(f"{key.replace('_', ' ')} {rule['count']} {rule.get('period') or ''}".strip())
    return ", ".join(parts)


def _check(result: dict[str, Any]) -> CheckOutcome:
    unique_id = result["unique_id"]
    raw = str(result.get("status") or "").lower()
    status = _STATUS.get(raw, "error")
    rule = _rule(result.get("criteria"))
    if status == "error":
        message = f"dbt source freshness: {raw or 'no status'} — {short(result.get('error') or result.get('message'))}"
    else:
        message = (
            f"dbt source freshness: {raw} — last loaded {_age(result.get('max_loaded_at_time_ago_in_s'))} "
            f"before the check (max loaded_at {result.get('max_loaded_at')})"
            + (f"; rule: {rule}" if rule else "")
        )
    return CheckOutcome(
        name=unique_id,
        status=status,
        check_type="freshness",
        unique_id=unique_id,
        message=short(message),
        started_at=parse_time(result.get("snapshotted_at")),
        finished_at=parse_time(result.get("snapshotted_at")),
        details={
            "dbt_status": raw,
            "max_loaded_at": result.get("max_loaded_at"),
            "age_seconds": result.get("max_loaded_at_time_ago_in_s"),
            "criteria": result.get("criteria"),
        },
    )


def parse(data: bytes | str | dict[str, Any]) -> ParsedResults:
    doc = data if isinstance(data, dict) else load_json(data)
    url = str((doc.get("metadata") or {}).get("dbt_schema_version", "")) if isinstance(doc, dict) else ""
    match = _VERSION_RE.search(url)
    if not match:
        raise ResultFileError("Not a dbt sources.json: metadata.dbt_schema_version is missing.")
    if int(match.group(1)) not in SUPPORTED_VERSIONS:
        raise ResultFileError(f"dbt sources.json schema v{match.group(1)} is not supported (v1 to v3).")
    results = doc.get("results")
    if not isinstance(results, list) or not all(
        isinstance(r, dict) and isinstance(r.get("unique_id"), str) for r in results
    ):
        raise ResultFileError("dbt sources.json has no 'results' list of sources with a unique_id.")
    metadata = doc.get("metadata") or {}
    generated = parse_time(metadata.get("generated_at"))
    checks = [_check(r) for r in results]
    packages = {c.name.split(".")[1] for c in checks if c.name.count(".") >= 2}
    return ParsedResults(
        format=FORMAT_DBT,
        tool="dbt",
        run_id=metadata.get("invocation_id") or None,
        started_at=min((c.started_at for c in checks if c.started_at), default=generated),
        finished_at=generated,
        checks=checks,
        tool_version=str(metadata.get("dbt_version") or ""),
        run_kind="source freshness",
        project=packages.pop() if len(packages) == 1 else "",
    )
