"""Great Expectations 1.x validation results and checkpoint results.

A validation result is ``ExpectationSuiteValidationResult.to_json_dict()`` (what GX stores under
``validations/``); a checkpoint result is ``CheckpointResult`` as JSON: either its
``run_results`` mapping of validation results or ``describe_dict()`` (``validation_results``).
Each expectation becomes a check; the table it ran against comes from the batch
(``active_batch_definition.data_asset_name``, ``batch_spec.table_name``) so the service can match
it to an asset. An expectation whose severity is ``warning``/``info`` (GX ≥ 1.4) fails as ``warn``,
and one that raised an exception did not run: ``error``, not ``fail``.
"""

from __future__ import annotations

from typing import Any

from audits.ingest._common import as_int, load_json, parse_time, short
from audits.ingest.types import FORMAT_GX, CheckOutcome, ParsedResults, ResultFileError

_WARN_SEVERITIES = {"warning", "warn", "info"}


def _is_validation(doc: Any) -> bool:
    return (
        isinstance(doc, dict)
        and isinstance(doc.get("results"), list)
        and ("statistics" in doc or "suite_name" in doc or "expectation_suite_name" in doc)
        and all(isinstance(r, dict) and ("expectation_config" in r or "success" in r) for r in doc["results"])
    )


def _is_checkpoint(doc: Any) -> bool:
    if not isinstance(doc, dict):
        return False
    if isinstance(doc.get("run_results"), dict) and "checkpoint_config" in doc:
        return True
    return isinstance(doc.get("validation_results"), list) and "statistics" in doc


def looks_like(doc: Any) -> bool:
    return _is_validation(doc) or _is_checkpoint(doc)


def _raised(exception_info: Any) -> str | None:
    """GX writes exception_info flat or keyed by metric id; either way, say what was raised."""
    if not isinstance(exception_info, dict):
        return None
    if "raised_exception" in exception_info:
        infos = [exception_info]
    else:
        infos = [v for v in exception_info.values() if isinstance(v, dict)]
    for info in infos:
        if info.get("raised_exception"):
            return short(info.get("exception_message") or "The expectation raised an exception.")
    return None


def _table_of(validation: dict[str, Any]) -> str | None:
    meta = validation.get("meta") or {}
    batch_spec = meta.get("batch_spec") or {}
    table = batch_spec.get("table_name")
    if table:
        schema = batch_spec.get("schema_name")
        return f"{schema}.{table}" if schema else str(table)
    definition = meta.get("active_batch_definition") or {}
    return definition.get("data_asset_name") or batch_spec.get("data_asset_name") or None


def _column_of(kwargs: dict[str, Any]) -> str | None:
    if kwargs.get("column"):
        return str(kwargs["column"])
    for key in ("column_list", "column_set"):
        if isinstance(kwargs.get(key), list) and kwargs[key]:
            return ",".join(str(c) for c in kwargs[key])
    if kwargs.get("column_A") and kwargs.get("column_B"):
        return f"{kwargs['column_A']},{kwargs['column_B']}"
    return None


def _message(status: str, result: dict[str, Any], error: str | None) -> str:
    if error:
        return error
    if status == "pass":
        return ""
    parts = []
    if result.get("unexpected_count") is not None:
        percent = result.get("unexpected_percent")
        parts.append(
            f"{result['unexpected_count']} unexpected values"
            + (f" ({percent:.2f}%)" if isinstance(percent, int | float) else "")
        )
    if "observed_value" in result:
        parts.append(f"observed value {result['observed_value']!r}")
    sample = result.get("partial_unexpected_list")
    if sample:
        parts.append(f"e.g. {sample[:5]!r}")
    return short("; ".join(parts))


def _expectation(item: dict[str, Any], table: str | None) -> CheckOutcome:
    config = item.get("expectation_config") or {}
    # describe_dict() flattens the config into the item.
    check_type = str(
        config.get("type") or config.get("expectation_type") or item.get("expectation_type") or ""
    )
    kwargs = config.get("kwargs") or item.get("kwargs") or {}
    result = item.get("result") or {}
    error = _raised(item.get("exception_info"))
    severity = str(config.get("severity") or (config.get("meta") or {}).get("severity") or "critical").lower()
    if error is not None:
        status = "error"
    elif item.get("success") is True:
        status = "pass"
    elif item.get("success") is False and not result:
        # describe_dict() drops exception_info: a failure without any result did not run.
        status = "error"
        error = "Great Expectations reported no result for this expectation: it did not run."
    elif item.get("success") is False:
        status = "warn" if severity in _WARN_SEVERITIES else "fail"
    else:
        status = "error"
        error = "Great Expectations reported no outcome for this expectation."
    column = _column_of(kwargs)
    name = f"{check_type}({column})" if column else check_type
    if severity != "critical":
        # The same expectation at two severities is two checks (a warn-level and a hard one).
        name = f"{name} [{severity}]"
    return CheckOutcome(
        name=name or "expectation",
        status=status,
        check_type=check_type,
        table=table,
        column=column,
        failing_rows=as_int(result.get("unexpected_count")),
        message=_message(status, result, error),
        details={
            "expectation_id": config.get("id"),
            "severity": severity,
            "kwargs": {k: v for k, v in kwargs.items() if k != "batch_id"},
        },
    )


def _table_from_batch_id(items: list[Any]) -> str | None:
    """GX names batches ``<datasource>-<asset>``; the only trace of the table in describe_dict()."""
    for item in items:
        kwargs = (item.get("expectation_config") or {}).get("kwargs") or item.get("kwargs") or {}
        batch_id = kwargs.get("batch_id")
        if isinstance(batch_id, str) and "-" in batch_id:
            return batch_id.split("-", 1)[1]
    return None


def _validation_checks(validation: dict[str, Any]) -> list[CheckOutcome]:
    items = validation.get("results")
    if items is None:
        items = validation.get("expectations") or []
    items = [item for item in items if isinstance(item, dict)]
    table = _table_of(validation) or _table_from_batch_id(items)
    return [_expectation(item, table) for item in items]


def _run_id(value: Any) -> tuple[str | None, Any]:
    """GX run ids are ``{"run_name", "run_time"}`` dicts or strings."""
    if isinstance(value, dict):
        return (value.get("run_name") or value.get("run_time") or None), value.get("run_time")
    return (str(value) if value else None), None


def parse(data: bytes | str | dict[str, Any]) -> ParsedResults:
    doc = data if isinstance(data, dict) else load_json(data)
    if _is_validation(doc):
        validations = [doc]
        meta = doc.get("meta") or {}
        run_id, run_time = _run_id(meta.get("run_id"))
        run_id = str(doc.get("id") or meta.get("validation_id") or run_id or "") or None
        run_time = meta.get("validation_time") or run_time
    elif _is_checkpoint(doc):
        if isinstance(doc.get("run_results"), dict):
            validations = [v for v in doc["run_results"].values() if isinstance(v, dict)]
        else:
            validations = [v for v in doc["validation_results"] if isinstance(v, dict)]
        run_id, run_time = _run_id(doc.get("run_id"))
        if validations and not run_time:
            run_time = (validations[0].get("meta") or {}).get("validation_time")
    else:
        raise ResultFileError("Not a Great Expectations 1.x validation or checkpoint result.")

    checks: list[CheckOutcome] = []
    warnings: list[str] = []
    version = ""
    for validation in validations:
        meta = validation.get("meta") or {}
        version = version or str(meta.get("great_expectations_version") or "")
        found = _validation_checks(validation)
        if found and not found[0].table:
            warnings.append(
                f"Validation of suite {validation.get('suite_name') or '?'} names no table; "
                "its checks need the asset given with the upload."
            )
        checks.extend(found)
    when = parse_time(run_time)
    aborted = ""
    if checks and all(c.status == "error" for c in checks):
        aborted = f"Great Expectations could not run any expectation: {checks[0].message}"
    return ParsedResults(
        format=FORMAT_GX,
        tool="great_expectations",
        run_id=run_id,
        started_at=when,
        finished_at=when,
        checks=checks,
        warnings=warnings,
        tool_version=version,
        aborted=aborted,
    )
