"""Writing a result file's runs: one AuditRun per asset with its check results, in one short
transaction (bulk inserts; COPY on PostgreSQL), plus the failure events."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from audits.ingest import ParsedResults
from audits.models import AuditRun, CheckResult, ResultUpload
from audits.services.common import BATCH, CHECK_STATUSES, GRef, guarantee_label, run_status
from audits.services.failure_events import failure_event
from audits.services.matching import AssetChecks
from audits.services.outcome import IngestSummary, unmatched_entry
from audits.services.release import release_held_on_commit
from audits.services.reporters import Reporter
from contracts.models import Guarantee, Registration
from contracts.services.events import events_record_bulk
from tessera_site.lib.bulk import rows_insert

if TYPE_CHECKING:
    from tessera_site.lib.auth import Actor

_CHECK_COLUMNS = (
    "audit_run_id",
    "guarantee_id",
    "name",
    "check_type",
    "column",
    "status",
    "failing_rows",
    "message",
)


def insert_check_rows(rows: Iterable[tuple[Any, ...]]) -> int:
    """Insert check results given as tuples in ``_CHECK_COLUMNS`` order (COPY on PostgreSQL)."""
    rows = list(rows)
    rows_insert(CheckResult, _CHECK_COLUMNS, rows)
    return len(rows)


def recorded_assets(*, asset_ids: list[int], tool: str, run_id: str) -> set[int]:
    """Assets for which this run (tool + run_id) is recorded already."""
    if not run_id:
        return set()
    return set(
        AuditRun.objects.filter(asset_id__in=asset_ids, tool=tool, run_id=run_id).values_list(
            "asset_id", flat=True
        )
    )


def _consumers(asset_ids: list[int]) -> tuple[dict[int, set[int]], dict[int, set[str]]]:
    """Consumer team ids and slugs per asset (who may report; whom a failure event names)."""
    ids: dict[int, set[int]] = defaultdict(set)
    slugs: dict[int, set[str]] = defaultdict(set)
    for start in range(0, len(asset_ids), BATCH * 5):
        for asset_id, team_id, slug in Registration.objects.filter(
            asset_id__in=asset_ids[start : start + BATCH * 5]
        ).values_list("asset_id", "team_id", "team__slug"):
            ids[asset_id].add(team_id)
            slugs[asset_id].add(slug)
    return ids, slugs


def _expected_dbt_guarantees(grouped: dict[int, AssetChecks], *, freshness: bool) -> dict[int, list[GRef]]:
    """Which guarantees each asset's contract expects a dbt run to check: those from tests (or,
    for ``dbt source freshness``, the freshness rules; neither kind of run checks the other)."""
    expected: dict[int, list[GRef]] = defaultdict(list)
    versions = [b.asset.active_version_id for b in grouped.values() if b.asset.active_version_id]
    for start in range(0, len(versions), BATCH * 5):
        chosen = Guarantee.objects.filter(version_id__in=versions[start : start + BATCH * 5]).exclude(
            test_unique_id=""
        )
        chosen = chosen.filter(kind="freshness") if freshness else chosen.exclude(kind="freshness")
        rows = chosen.values_list("id", "asset_id", "kind", "column", "name")
        for pk, asset_id, kind, column, name in rows:
            expected[asset_id].append(GRef(pk, asset_id, kind, column, name=name))
    return expected


@dataclass
class _Pending:
    """Runs built in memory, their check rows (``_CHECK_COLUMNS`` minus the run) and failing names."""

    runs: list[AuditRun] = field(default_factory=list)
    rows: list[list[tuple[Any, ...]]] = field(default_factory=list)
    failing: list[list[str]] = field(default_factory=list)


def _check_rows(bucket: AssetChecks) -> tuple[list[tuple[Any, ...]], dict[str, int], set[int]]:
    counts = dict.fromkeys(CHECK_STATUSES, 0)
    rows: list[tuple[Any, ...]] = []
    seen: set[int] = set()
    for check, guarantee in bucket.checks:
        counts[check.status] += 1
        if guarantee is not None and check.status != CheckResult.Status.SKIPPED:
            seen.add(guarantee.pk)
        rows.append(
            (
                guarantee.pk if guarantee is not None else None,
                check.name[:500],
                check.check_type[:200],
                (check.column or (guarantee.column if guarantee is not None else ""))[:300],
                check.status,
                check.failing_rows,
                check.message[:10_000],
            )
        )
    return rows, counts, seen


def _build_run(
    *, bucket: AssetChecks, parsed: ParsedResults, tool: str, counts: dict[str, int], unchecked: list[str],
    common: dict[str, Any],
) -> AuditRun:  # fmt: skip
    status = run_status(
        failed=counts["fail"], errored=counts["error"], incomplete=bool(unchecked) or counts["skipped"] > 0
    )
    if status == AuditRun.Status.PASSED and parsed.partial and tool != AuditRun.Tool.DBT:
        status = AuditRun.Status.PARTIAL  # the tool says it ran a selection only
    return AuditRun(
        asset=bucket.asset,
        contract_version_id=bucket.asset.active_version_id,
        tool=tool,
        status=status,
        checked=counts["pass"] + counts["fail"] + counts["warn"] + counts["error"],
        passed=counts["pass"],
        failed=counts["fail"],
        warned=counts["warn"],
        errored=counts["error"],
        skipped=counts["skipped"],
        unchecked=unchecked,
        build_status=bucket.build.status if bucket.build is not None else "",
        details={"selector": parsed.selector} if parsed.selector else {},
        **common,
    )


def _commit(pending: _Pending, *, actor: Actor | None, consumer_slugs: dict[int, set[str]]) -> None:
    with transaction.atomic():
        AuditRun.objects.bulk_create(pending.runs, batch_size=BATCH)
        insert_check_rows(
            (run.pk, *row) for run, rows in zip(pending.runs, pending.rows, strict=True) for row in rows
        )
        events = [
            failure_event(run=run, actor=actor, failing=names, consumers=sorted(consumer_slugs[run.asset_id]))
            for run, names in zip(pending.runs, pending.failing, strict=True)
            if run.status == AuditRun.Status.FAILED
        ]
        if events:
            events_record_bulk(events)
        release_held_on_commit(pending.runs)


def write_runs(
    *,
    parsed: ParsedResults,
    grouped: dict[int, AssetChecks],
    summary: IngestSummary,
    reporter: Reporter,
    upload: ResultUpload | None,
    actor: Actor | None,
    triggered_by: str,
) -> list[AuditRun]:
    """One AuditRun per asset, with its check results, in one transaction (bulk inserts)."""
    tool = parsed.format if parsed.format in {t.value for t in AuditRun.Tool} else AuditRun.Tool.GENERIC
    run_id = (parsed.run_id or "")[:255]
    consumer_ids, consumer_slugs = _consumers(list(grouped))
    existing = recorded_assets(asset_ids=list(grouped), tool=tool, run_id=run_id)
    freshness = parsed.run_kind == "source freshness"
    expected = _expected_dbt_guarantees(grouped, freshness=freshness) if tool == AuditRun.Tool.DBT else {}
    now: datetime = timezone.now()
    common = {
        "tool_name": parsed.tool[:100], "triggered_by": triggered_by[:100], "run_id": run_id,
        "run_kind": parsed.run_kind[:32],
        "started_at": parsed.started_at, "finished_at": parsed.finished_at,
        "run_at": parsed.finished_at or parsed.started_at or now, "upload": upload,
        "actor_label": reporter.label[:200], "created_at": now,
    }  # fmt: skip
    pending = _Pending()
    for asset_id, bucket in grouped.items():
        asset = bucket.asset
        if not reporter.may_report(asset, consumer_ids[asset_id]):
            reason = f"{reporter.label} may not report results for {asset.relation}"
            summary.unmatched.extend(unmatched_entry(check, reason) for check, _ in bucket.checks)
            continue
        if asset_id in existing:
            summary.duplicates.append({"asset_id": asset_id, "asset": asset.relation, "run_id": run_id})
            continue
        rows, counts, seen = _check_rows(bucket)
        unchecked = [guarantee_label(g) for g in expected.get(asset_id, []) if g.pk not in seen]
        pending.runs.append(
            _build_run(
                bucket=bucket, parsed=parsed, tool=tool, counts=counts, unchecked=unchecked, common=common
            )
        )
        pending.rows.append(rows)
        pending.failing.append([r[1] for r in rows if r[4] == CheckResult.Status.FAIL])
    _commit(pending, actor=actor, consumer_slugs=consumer_slugs)
    summary.runs.extend(
        {
            "audit_run_id": run.pk,
            "asset_id": run.asset_id,
            "asset": run.asset.relation,
            "status": run.status,
            **run.counts,
        }
        for run in pending.runs
    )
    return pending.runs
