"""One audit run reported through the API (the demo README's payload): check, then record."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from audits.models import AuditRun, CheckResult
from audits.services.common import (
    CHECK_STATUS_ALIASES,
    CHECK_STATUSES,
    RUN_STATUSES,
    as_datetime,
    guarantee_index,
    guarantee_label,
)
from audits.services.failure_events import failure_event_record
from audits.services.release import release_held_on_commit
from contracts.models import Asset, ContractVersion, Guarantee
from tessera_site.lib.errors import Unprocessable

if TYPE_CHECKING:
    from tessera_site.lib.auth import Actor


def _normalized_results(payload: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        {**item, "status": CHECK_STATUS_ALIASES.get(str(item.get("status", "")).lower(), item.get("status"))}
        for item in payload.get("results") or []
    ]


def _count_problems(status: Any, checked: int, passed: int, failed: int) -> list[str]:
    problems: list[str] = []
    if passed + failed > checked:
        problems.append(
            f"guarantees_passed ({passed}) + guarantees_failed ({failed}) is more than guarantees_checked ({checked})."
        )
    if status == "passed" and failed:
        problems.append(f"status is 'passed' but guarantees_failed is {failed}.")
    if status == "passed" and checked == 0:
        problems.append("status is 'passed' but no guarantee was checked.")
    if status == "failed" and not failed:
        problems.append("status is 'failed' but guarantees_failed is 0.")
    if status == "partial" and failed:
        problems.append(
            f"status is 'partial' but guarantees_failed is {failed}: a run with failures is 'failed'."
        )
    return problems


def _results_problems(results: list[dict[str, Any]], checked: int, passed: int, failed: int) -> list[str]:
    problems: list[str] = []
    unknown = sorted({str(r["status"]) for r in results if r["status"] not in CHECK_STATUSES})
    if unknown:
        problems.append(
            f"results have unknown statuses {unknown}: use passed, failed, warn, error or skipped."
        )
    if not results:
        return problems
    by_status: dict[str, int] = defaultdict(int)
    for item in results:
        by_status[str(item.get("status"))] += 1
    if by_status["pass"] > passed:
        problems.append(f"results has {by_status['pass']} passing checks but guarantees_passed is {passed}.")
    if by_status["fail"] > failed:
        problems.append(f"results has {by_status['fail']} failing checks but guarantees_failed is {failed}.")
    ran = len(results) - by_status["skipped"]
    if ran > checked:
        problems.append(f"results has {ran} checks that ran but guarantees_checked is {checked}.")
    return problems


def audit_payload_problems(payload: Mapping[str, Any], *, now: datetime | None = None) -> list[str]:
    """Reasons why the counts contradict each other or the status; empty when consistent."""
    problems: list[str] = []
    status = payload.get("status")
    counts = {
        name: payload.get(name, 0)
        for name in ("guarantees_checked", "guarantees_passed", "guarantees_failed")
    }
    if status not in RUN_STATUSES:
        problems.append(f"status must be one of {', '.join(sorted(RUN_STATUSES))}, not {status!r}.")
    for name, value in counts.items():
        if not isinstance(value, int) or value < 0:
            problems.append(f"{name} must be a whole number of 0 or more.")
    if problems:
        return problems
    checked, passed, failed = counts.values()
    problems += _count_problems(status, checked, passed, failed)
    problems += _results_problems(_normalized_results(payload), checked, passed, failed)
    run_at = as_datetime(payload.get("run_at"))
    if payload.get("run_at") and run_at is None:
        problems.append(f"run_at ({payload.get('run_at')!r}) is not an ISO 8601 time.")
    if run_at is not None and run_at > (now or timezone.now()) + timedelta(minutes=10):
        problems.append(f"run_at ({run_at.isoformat()}) is in the future.")
    return problems


def _reportable_guarantees(asset: Asset) -> tuple[list[Guarantee], dict[str, Guarantee]]:
    """The active contract's guarantees, and every name a report may use for them (plus, when the
    asset waits for the gate, the proposed version's: a report may check what only it has)."""
    guarantees = (
        list(Guarantee.objects.filter(version_id=asset.active_version_id)) if asset.active_version_id else []
    )
    index = guarantee_index(guarantees)
    if asset.requires_passing_audit:
        waiting = Guarantee.objects.filter(asset=asset, version__status=ContractVersion.Status.PROPOSED)
        for alias, guarantee in guarantee_index(waiting).items():
            index.setdefault(alias, guarantee)
    return guarantees, index


def _reported_checks(
    results: list[dict[str, Any]], index: dict[str, Guarantee]
) -> tuple[list[CheckResult], set[int], list[str]]:
    """Unsaved check rows, the guarantees they proved, and the guarantee names nobody knows."""
    matched_ids: set[int] = set()
    rows: list[CheckResult] = []
    unmatched: list[str] = []
    for item in results:
        ref = (item.get("guarantee") or item.get("check") or "").strip()
        guarantee = index.get(ref.lower()) if ref else None
        if guarantee is not None:
            matched_ids.add(guarantee.pk)
        elif item.get("guarantee"):
            unmatched.append(ref)
        rows.append(
            CheckResult(
                guarantee=guarantee,
                name=(ref or (guarantee and guarantee_label(guarantee)) or "check")[:500],
                check_type=guarantee.kind if guarantee else "",
                column=(guarantee.column if guarantee else item.get("column") or "")[:300],
                status=item["status"],
                failing_rows=item.get("failing_rows"),
                message=(item.get("message") or "")[:10_000],
            )
        )
    return rows, matched_ids, unmatched


def _reported_run(
    *, asset: Asset, payload: Mapping[str, Any], actor: Actor | None, **fields: Any
) -> AuditRun:
    checked, passed, failed = (
        payload[k] for k in ("guarantees_checked", "guarantees_passed", "guarantees_failed")
    )
    by_status: dict[str, int] = defaultdict(int)
    for item in fields.pop("results"):
        by_status[item["status"]] += 1
    # Reporters often count errors as failures (the README's script does); only the remainder of
    # guarantees_checked can hold warnings and errors, so the counts never add up to more than checked.
    spare = checked - passed - failed
    warned = min(by_status["warn"], spare)
    unmatched = fields.pop("unmatched")
    return AuditRun(
        asset=asset,
        contract_version_id=asset.active_version_id,
        tool=AuditRun.Tool.CUSTOM,
        tool_name=(payload.get("triggered_by") or "")[:100],
        triggered_by=(payload.get("triggered_by") or "api")[:100],
        status=payload["status"],
        checked=checked,
        passed=passed,
        failed=failed,
        warned=warned,
        errored=min(by_status["error"], spare - warned),
        skipped=by_status["skipped"],
        details={
            **dict(payload.get("details") or {}),
            **({"unmatched_results": unmatched} if unmatched else {}),
        },
        run_at=as_datetime(payload.get("run_at")) or timezone.now(),
        actor_label=actor.label if actor else "",
        **fields,
    )


def audit_record(*, asset: Asset, payload: Mapping[str, Any], actor: Actor | None) -> tuple[AuditRun, bool]:
    """Record one audit run reported by a client. Returns (run, created): the same ``run_id``
    again returns the first run, unchanged. Inconsistent counts → Unprocessable, with the reasons."""
    problems = audit_payload_problems(payload)
    if problems:
        raise Unprocessable(" ".join(problems), code="inconsistent_audit", reasons=problems)
    run_id = (payload.get("run_id") or "").strip()
    same_run = (
        AuditRun.objects.filter(asset=asset, tool=AuditRun.Tool.CUSTOM, run_id=run_id) if run_id else None
    )
    if same_run is not None and (existing := same_run.first()) is not None:
        return existing, False
    guarantees, index = _reportable_guarantees(asset)
    results = _normalized_results(payload)
    check_rows, matched_ids, unmatched = _reported_checks(results, index)
    unchecked = (
        [guarantee_label(g) for g in guarantees if g.pk not in matched_ids and g.severity == "error"]
        if results
        else []
    )
    run = _reported_run(
        asset=asset, payload=payload, actor=actor, results=results, unmatched=unmatched, run_id=run_id,
        unchecked=unchecked,
    )  # fmt: skip
    try:
        with transaction.atomic():
            run.save()
            for row in check_rows:
                row.audit_run = run
            CheckResult.objects.bulk_create(check_rows)
            if run.status == AuditRun.Status.FAILED:
                failing = [r.name for r in check_rows if r.status == CheckResult.Status.FAIL]
                failure_event_record(run=run, asset=asset, actor=actor, failing=failing)
            release_held_on_commit([run])
    except IntegrityError:
        # Two reports of the same run at once: the first one won, answer with it.
        existing = same_run.first() if same_run is not None else None
        if existing is None:
            raise
        return existing, False
    return run, True
