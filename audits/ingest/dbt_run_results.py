"""dbt ``run_results.json`` (schema v4 to v6, dbt 1.0 to 1.11).

Only executed tests are checks: data tests (``test.``) and unit tests (``unit_test.``) that dbt
ran (pass/fail/warn/error/skipped). A test that says ``success`` was only compiled (``dbt compile``,
``dbt docs generate``); a file of such a command (``args.which``) is refused, never read as
passes. Models, seeds and snapshots are builds, not checks: a failed build is reported so the
service can record it as an errored run (the write of write-audit-publish failed). A test that
dbt skipped because its model failed is ``skipped`` — never passed. Which asset a test belongs to
is not in this file: the service looks the test's unique_id up in the synced manifest.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from audits.ingest._common import as_int, load_json, parse_time, short
from audits.ingest.types import FORMAT_DBT, BuildOutcome, CheckOutcome, ParsedResults, ResultFileError

SUPPORTED_VERSIONS = (4, 5, 6)
_VERSION_RE = re.compile(r"/run-results/v(\d+)\.json$")
_CHECK_PREFIXES = ("test.", "unit_test.")
_BUILD_PREFIXES = ("model.", "seed.", "snapshot.")
_BUILD_STATUSES = ("success", "error", "skipped")
# Commands whose run_results hold compiled, never executed, tests (``which`` as dbt writes it,
# then as people say it).
_KIND_WORDS = {"generate": "docs generate", "ls": "list", "freshness": "source freshness"}
COMPILE_ONLY_KINDS = frozenset({"compile", "docs generate", "parse", "list", "show"})
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


def run_kind(args: Any) -> str:
    """``args.which`` (``rpc_method`` in old files) as a person says it: ``docs generate``."""
    if not isinstance(args, dict):
        return ""
    which = str(args.get("which") or args.get("rpc_method") or "").strip().lower()
    return _KIND_WORDS.get(which, which)


def _timing(result: dict[str, Any]) -> tuple[Any, Any]:
    start = end = None
    for timing in result.get("timing") or []:
        if isinstance(timing, dict):
            start = start or parse_time(timing.get("started_at"))
            end = parse_time(timing.get("completed_at")) or end
    return start, end


def _check(result: dict[str, Any], unique_id: str, status: str) -> CheckOutcome:
    started, finished = _timing(result)
    failures = as_int(result.get("failures"))
    return CheckOutcome(
        name=unique_id,
        status=status,
        check_type=_test_type(unique_id),
        unique_id=unique_id,
        # dbt reports failures=0 for errored/skipped tests; that count means nothing there.
        failing_rows=failures if status in ("pass", "fail", "warn") else None,
        message=short(result.get("message")),
        started_at=started,
        finished_at=finished,
    )


def _results(doc: dict[str, Any]) -> list[dict[str, Any]]:
    results = doc.get("results")
    if not isinstance(results, list):
        raise ResultFileError("dbt run_results.json has no 'results' list.")
    for index, result in enumerate(results):
        if not isinstance(result, dict) or not isinstance(result.get("unique_id"), str):
            raise ResultFileError(f"dbt run_results.json: result #{index} has no unique_id.")
    return results


def _read_results(results: list[dict[str, Any]], parsed: ParsedResults) -> int:
    """Tests → checks, models/seeds/snapshots → builds. Returns how many tests were only compiled."""
    compiled = 0
    for result in results:
        unique_id = result["unique_id"]
        raw_status = str(result.get("status") or "").lower()
        if unique_id.startswith(_BUILD_PREFIXES):
            if raw_status in _BUILD_STATUSES:
                parsed.builds.append(BuildOutcome(unique_id, raw_status, short(result.get("message"))))
            continue
        if not unique_id.startswith(_CHECK_PREFIXES):
            continue
        if raw_status == "success":
            # A test that ran says pass/fail/warn/error; "success" means dbt only compiled it.
            compiled += 1
            continue
        status = _STATUS.get(raw_status)
        if status is None:
            parsed.warnings.append(f"{unique_id}: unknown dbt status {raw_status!r}, recorded as error.")
            status = "error"
        parsed.checks.append(_check(result, unique_id, status))
    return compiled


def _not_counted(parsed: ParsedResults, compiled: int) -> None:
    unit_tests = sum(1 for c in parsed.checks if c.name.startswith("unit_test."))
    skipped = sum(1 for c in parsed.checks if c.status == "skipped")
    built = sum(1 for b in parsed.builds if b.status == "success")
    for what, count, why in (
        ("compiled tests", compiled, "dbt compiled them without running them: not evidence of anything"),
        ("skipped tests", skipped, "recorded as skipped: the guarantee stays unchecked, never passed"),
        ("unit tests", unit_tests, "they check model logic, not a guarantee of the contract"),
        ("builds", built, "a successful build is the write, not a check (a failed one holds the gate)"),
    ):
        if count:
            parsed.not_counted.append({"what": what, "count": count, "why": why})


def _span(parsed: ParsedResults, generated: Any) -> None:
    starts = [c.started_at for c in parsed.checks if c.started_at]
    ends = [c.finished_at for c in parsed.checks if c.finished_at]
    parsed.started_at = min(starts) if starts else generated
    parsed.finished_at = max(ends) if ends else generated


def _refuse_compile_only(parsed: ParsedResults, compiled: int) -> None:
    """A file whose tests were compiled, not run, must never read as passes: refused, saying so.
    (A file of an unknown command whose every test says "success" is one of those too.)"""
    if parsed.run_kind not in COMPILE_ONLY_KINDS and not (compiled and not parsed.checks):
        return
    kind = f"`dbt {parsed.run_kind}`" if parsed.run_kind else "a dbt command that runs no tests"
    raise ResultFileError(
        f"This run_results.json comes from {kind}: its {compiled} test(s) were compiled, not "
        "executed, so nothing in it counts as a check. Upload the run_results.json of `dbt build` or "
        "`dbt test` (`dbt docs generate` and `dbt compile` overwrite target/run_results.json: copy it "
        "before they run).",
        summary={"format": FORMAT_DBT, "run_kind": parsed.run_kind, "not_counted": parsed.not_counted},
    )


def parse(data: bytes | str | dict[str, Any]) -> ParsedResults:
    doc = data if isinstance(data, dict) else load_json(data)
    if not looks_like(doc):
        raise ResultFileError("Not a dbt run_results.json: metadata.dbt_schema_version is missing.")
    version = schema_version(doc)
    if version not in SUPPORTED_VERSIONS:
        raise ResultFileError(
            f"dbt run_results schema v{version} is not supported (supported: v4 to v6, dbt 1.0 to 1.11)."
        )
    results = _results(doc)
    metadata = doc.get("metadata") or {}
    args = doc.get("args") or {}
    selector = _selector(args) if isinstance(args, dict) else ""
    parsed = ParsedResults(
        format=FORMAT_DBT,
        tool="dbt",
        run_id=metadata.get("invocation_id") or None,
        partial=bool(selector),
        selector=selector,
        tool_version=str(metadata.get("dbt_version") or ""),
        run_kind=run_kind(args),
        project=_project(results),
    )
    compiled = _read_results(results, parsed)
    _not_counted(parsed, compiled)
    _refuse_compile_only(parsed, compiled)
    _span(parsed, parse_time(metadata.get("generated_at")))
    return parsed


def _project(results: list[dict[str, Any]]) -> str:
    """The project is the package most of the run's own nodes belong to (``test.<package>.…``)."""
    packages = Counter(
        r["unique_id"].split(".")[1]
        for r in results
        if r["unique_id"].count(".") >= 2 and r["unique_id"].startswith(_CHECK_PREFIXES + _BUILD_PREFIXES)
    )
    return packages.most_common(1)[0][0] if packages else ""
