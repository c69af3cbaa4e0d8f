"""Writes of audit data: one reported run (API), an uploaded result file, a sync's run_results.

Parsers (``audits.ingest``) turn files into plain results; this module matches them to assets and
guarantees and writes them in one short transaction. A failed audit records an ``audit.failed``
event for the workflow's webhooks; consumer teams get one digest a day (``audits.tasks``).
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from audits.ingest import CheckOutcome, ParsedResults, ResultFileError, normalize_format, parse_results
from audits.ingest._common import parse_time
from audits.models import AuditRun, CheckResult, ResultUpload
from audits.selectors import asset_find_by_ref, assets_for_tables
from contracts.models import Asset, ContractVersion, Event, Guarantee, Registration, SyncRun
from contracts.services.events import events_record_bulk
from tessera_site.lib.errors import ApiError
from tessera_site.lib.jobs import JobStatus, job_fail, job_stage, job_succeed

if TYPE_CHECKING:
    from tessera_site.lib.auth import Actor

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
_BATCH = 2000
# Expectation / Soda check types that prove a guarantee kind, to link their results to it.
_KIND_BY_CHECK_TYPE = {
    "expect_column_values_to_not_be_null": "not_null",
    "expect_column_values_to_be_unique": "unique",
    "expect_column_values_to_be_in_set": "accepted_values",
    "expect_column_values_to_be_between": "accepted_range",
    "expect_compound_columns_to_be_unique": "unique_combination_of_columns",
    "expect_select_column_values_to_be_unique_within_record": "unique_combination_of_columns",
}
# Soda checks that say exactly "none missing" / "no duplicates" (a threshold above 0 is a weaker promise).
_SODA_EXACT = re.compile(r"^(missing_count|duplicate_count)\(\s*[^)]+\)\s*=\s*0$", re.IGNORECASE)
_KIND_BY_SODA_METRIC = {"missing_count": "not_null", "duplicate_count": "unique"}


# --- Shared helpers -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _GRef:
    """What ingestion needs of a guarantee; loading 10,000 model instances costs more than the rest."""

    pk: int
    asset_id: int
    kind: str
    column: str
    active: bool = True
    name: str = ""


def _guarantee_label(g: Guarantee | _GRef) -> str:
    if g.column:
        return f"{g.kind}({g.column})"
    name = getattr(g, "name", "")
    return f"{g.kind} {name}" if name and name != g.kind else g.kind


def _guarantee_index(guarantees: Iterable[Guarantee]) -> dict[str, Guarantee]:
    """Every name a reporter may use for a guarantee: test unique_id, id, name, key, ``kind(column)``."""
    index: dict[str, Guarantee] = {}
    for g in guarantees:
        for alias in (g.test_unique_id, str(g.pk), g.name, g.key, _guarantee_label(g)):
            if alias:
                index.setdefault(alias.lower(), g)
    return index


def _kind_for_check(check: CheckOutcome) -> str | None:
    if check.check_type in _KIND_BY_CHECK_TYPE:
        return _KIND_BY_CHECK_TYPE[check.check_type]
    match = _SODA_EXACT.match(check.name.strip())
    return _KIND_BY_SODA_METRIC[match.group(1).lower()] if match else None


def _arguments_agree(check: CheckOutcome, guarantee: Guarantee) -> bool:
    """A tool's check proves a guarantee only if it checks the same thing: an expectation with
    another value set or range is a different promise, however alike the names."""
    if guarantee.kind in ("not_null", "unique"):
        return True
    kwargs = check.details.get("kwargs") or {}
    arguments = guarantee.arguments or {}
    if guarantee.kind == "accepted_values":
        return "value_set" in kwargs and {str(v) for v in kwargs["value_set"] or []} == {
            str(v) for v in arguments.get("values") or []
        }
    if guarantee.kind == "accepted_range":
        return (
            ("min_value" in kwargs or "max_value" in kwargs)
            and kwargs.get("min_value") == arguments.get("min_value")
            and kwargs.get("max_value") == arguments.get("max_value")
        )
    return False


def _as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return parse_time(value) if value else None


def _run_status(*, failed: int, errored: int, incomplete: bool) -> str:
    if failed:
        return AuditRun.Status.FAILED
    if errored:
        return AuditRun.Status.ERROR
    if incomplete:
        return AuditRun.Status.PARTIAL
    return AuditRun.Status.PASSED


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


def _insert_check_rows(rows: Iterable[tuple[Any, ...]]) -> int:
    """Insert check results given as tuples in ``_CHECK_COLUMNS`` order. On PostgreSQL through
    COPY (10,000 rows in a few tens of milliseconds, where bulk_create spends seconds building
    model instances and SQL); elsewhere through bulk_create."""
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(CheckResult._meta.db_table)
        columns = ", ".join(connection.ops.quote_name(c) for c in _CHECK_COLUMNS)
        count = 0
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
                count += 1
        return count
    objects = [CheckResult(**dict(zip(_CHECK_COLUMNS, row, strict=True))) for row in rows]
    CheckResult.objects.bulk_create(objects, batch_size=_BATCH)
    return len(objects)


def _failure_event(*, run: AuditRun, actor: Actor | None, failing: list[str], consumers: list[str]) -> Event:
    """An unsaved ``audit.failed`` event (recorded in bulk with events_record_bulk)."""
    asset = run.asset
    return Event(
        kind="audit.failed",
        actor_user=getattr(actor, "user", None)
        if getattr(getattr(actor, "user", None), "pk", None)
        else None,
        actor_api_key=getattr(actor, "api_key", None),
        actor_label=actor.label if actor is not None else "system",
        team_id=asset.owner_team_id,
        asset=asset,
        payload={
            "audit_run_id": run.pk,
            "asset": asset.relation,
            "tool": run.tool,
            "run_id": run.run_id,
            "run_at": run.run_at.isoformat(),
            "failed": run.failed,
            "failing_checks": failing[:50],
            "consumer_teams": consumers,
        },
    )


def _record_failure_event(*, run: AuditRun, asset: Asset, actor: Actor | None, failing: list[str]) -> None:
    consumers = sorted(set(Registration.objects.filter(asset=asset).values_list("team__slug", flat=True)))
    run.asset = asset
    events_record_bulk([_failure_event(run=run, actor=actor, failing=failing, consumers=consumers)])


# --- One run reported through the API (the demo README's payload) -------------------------------
def _normalized_results(payload: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        {**item, "status": CHECK_STATUS_ALIASES.get(str(item.get("status", "")).lower(), item.get("status"))}
        for item in payload.get("results") or []
    ]


def audit_payload_problems(payload: Mapping[str, Any], *, now: datetime | None = None) -> list[str]:
    """Reasons why the counts contradict each other or the status; empty when consistent."""
    problems: list[str] = []
    status = payload.get("status")
    checked = payload.get("guarantees_checked", 0)
    passed = payload.get("guarantees_passed", 0)
    failed = payload.get("guarantees_failed", 0)
    if status not in RUN_STATUSES:
        problems.append(f"status must be one of {', '.join(sorted(RUN_STATUSES))}, not {status!r}.")
    for name, value in (
        ("guarantees_checked", checked),
        ("guarantees_passed", passed),
        ("guarantees_failed", failed),
    ):
        if not isinstance(value, int) or value < 0:
            problems.append(f"{name} must be a whole number of 0 or more.")
    if problems:
        return problems
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
    results = _normalized_results(payload)
    unknown = sorted({str(r["status"]) for r in results if r["status"] not in CHECK_STATUSES})
    if unknown:
        problems.append(
            f"results have unknown statuses {unknown}: use passed, failed, warn, error or skipped."
        )
    if results:
        by_status: dict[str, int] = defaultdict(int)
        for item in results:
            by_status[item.get("status")] += 1
        if by_status["pass"] > passed:
            problems.append(
                f"results has {by_status['pass']} passing checks but guarantees_passed is {passed}."
            )
        if by_status["fail"] > failed:
            problems.append(
                f"results has {by_status['fail']} failing checks but guarantees_failed is {failed}."
            )
        ran = len(results) - by_status["skipped"]
        if ran > checked:
            problems.append(f"results has {ran} checks that ran but guarantees_checked is {checked}.")
    run_at = _as_datetime(payload.get("run_at"))
    if payload.get("run_at") and run_at is None:
        problems.append(f"run_at ({payload.get('run_at')!r}) is not an ISO 8601 time.")
    if run_at is not None and run_at > (now or timezone.now()) + timedelta(minutes=10):
        problems.append(f"run_at ({run_at.isoformat()}) is in the future.")
    return problems


def audit_record(*, asset: Asset, payload: Mapping[str, Any], actor: Actor | None) -> tuple[AuditRun, bool]:
    """Record one audit run reported by a client. Returns (run, created): the same ``run_id``
    again returns the first run, unchanged. Inconsistent counts → ApiError 422 with the reasons."""
    problems = audit_payload_problems(payload)
    if problems:
        raise ApiError(422, "inconsistent_audit", " ".join(problems), extra={"reasons": problems})
    run_id = (payload.get("run_id") or "").strip()
    tool = AuditRun.Tool.CUSTOM
    if run_id:
        existing = AuditRun.objects.filter(asset=asset, tool=tool, run_id=run_id).first()
        if existing is not None:
            return existing, False

    version = asset.active_version
    guarantees = list(Guarantee.objects.filter(version_id=asset.active_version_id)) if version else []
    index = _guarantee_index(guarantees)
    if asset.requires_passing_audit:
        # A report may check guarantees that only the version waiting for the publish gate has.
        waiting = Guarantee.objects.filter(asset=asset, version__status=ContractVersion.Status.PROPOSED)
        for alias, guarantee in _guarantee_index(waiting).items():
            index.setdefault(alias, guarantee)
    results = _normalized_results(payload)
    checked, passed, failed = (
        payload["guarantees_checked"],
        payload["guarantees_passed"],
        payload["guarantees_failed"],
    )
    by_status: dict[str, int] = defaultdict(int)
    for item in results:
        by_status[item["status"]] += 1
    # Reporters often count errors as failures (the README's script does); only the remainder of
    # guarantees_checked can hold warnings and errors, so the counts never add up to more than checked.
    spare = checked - passed - failed
    warned = min(by_status["warn"], spare)
    errored = min(by_status["error"], spare - warned)

    matched_ids: set[int] = set()
    check_rows: list[CheckResult] = []
    unmatched: list[str] = []
    for item in results:
        ref = (item.get("guarantee") or item.get("check") or "").strip()
        guarantee = index.get(ref.lower()) if ref else None
        if guarantee is not None:
            matched_ids.add(guarantee.pk)
        elif item.get("guarantee"):
            unmatched.append(ref)
        check_rows.append(
            CheckResult(
                guarantee=guarantee,
                name=(ref or (guarantee and _guarantee_label(guarantee)) or "check")[:500],
                check_type=guarantee.kind if guarantee else "",
                column=(guarantee.column if guarantee else item.get("column") or "")[:300],
                status=item["status"],
                failing_rows=item.get("failing_rows"),
                message=(item.get("message") or "")[:10_000],
            )
        )
    unchecked = (
        [_guarantee_label(g) for g in guarantees if g.pk not in matched_ids and g.severity == "error"]
        if results
        else []
    )
    run = AuditRun(
        asset=asset,
        contract_version=version,
        tool=tool,
        tool_name=(payload.get("triggered_by") or "")[:100],
        triggered_by=(payload.get("triggered_by") or "api")[:100],
        run_id=run_id,
        status=payload["status"],
        checked=checked,
        passed=passed,
        failed=failed,
        warned=warned,
        errored=errored,
        skipped=by_status["skipped"],
        unchecked=unchecked,
        details={
            **dict(payload.get("details") or {}),
            **({"unmatched_results": unmatched} if unmatched else {}),
        },
        run_at=_as_datetime(payload.get("run_at")) or timezone.now(),
        actor_label=actor.label if actor else "",
    )
    try:
        with transaction.atomic():
            run.save()
            for row in check_rows:
                row.audit_run = run
            CheckResult.objects.bulk_create(check_rows)
            if run.status == AuditRun.Status.FAILED:
                failing = [r.name for r in check_rows if r.status == CheckResult.Status.FAIL]
                _record_failure_event(run=run, asset=asset, actor=actor, failing=failing)
            _release_held_on_commit([run])
    except IntegrityError:
        # Two reports of the same run at once: the first one won, answer with it.
        existing = AuditRun.objects.filter(asset=asset, tool=tool, run_id=run_id).first() if run_id else None
        if existing is None:
            raise
        return existing, False
    return run, True


# --- The publish gate, after an audit ------------------------------------------------------------
def _release_held_on_commit(runs: list[AuditRun]) -> None:
    """A new audit may be what the publish gate waited for: once it is committed, retry what the
    gate held for assets that require a passing audit (the others pay nothing)."""
    asset_ids = sorted({run.asset_id for run in runs if run.asset.requires_passing_audit})
    if not asset_ids:
        return
    from audits.tasks import release_held_publishes

    transaction.on_commit(lambda: release_held_publishes.delay(asset_ids))


def audit_release_held(*, asset_ids: Iterable[int], actor: Actor | None = None) -> list[str]:
    """Publish what the gate held for these assets (approved, deployed proposals; versions a sync
    held) when it now says publish. Returns what was published; repeating it publishes nothing more."""
    from contracts.services.proposals import proposals_release_held
    from contracts.services.versions import version_release_held

    released: list[str] = []
    for asset in Asset.objects.filter(pk__in=set(asset_ids), requires_passing_audit=True).order_by("pk"):
        for proposal in proposals_release_held(asset=asset, actor=actor):
            released.append(f"{asset.relation}: proposal #{proposal.pk} published")
        version = version_release_held(asset=asset, actor=actor)
        if version is not None:
            released.append(f"{asset.relation}: v{version.semver} published")
    return released


# --- Result files -----------------------------------------------------------------------------
@dataclass
class _AssetChecks:
    asset: Asset
    checks: list[tuple[CheckOutcome, Guarantee | _GRef | None]] = field(default_factory=list)


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
        }


@dataclass
class _Reporter:
    """Who sent the file, as far as permissions go (a worker has no request)."""

    label: str
    team_ids: set[int] | None  # None = may report for any asset (open demo mode, superuser, system)

    def may_report(self, asset: Asset, consumer_ids: set[int]) -> bool:
        if self.team_ids is None:
            return True
        return asset.owner_team_id in self.team_ids or bool(self.team_ids & consumer_ids)


def _reporter_for_upload(upload: ResultUpload) -> _Reporter:
    if upload.is_open_actor or (upload.user_id and upload.user.is_superuser):
        return _Reporter(label=upload.actor_label, team_ids=None)
    if upload.api_key_id or upload.team_id:
        return _Reporter(label=upload.actor_label, team_ids={upload.team_id} if upload.team_id else set())
    if upload.user_id:
        from contracts.selectors.teams import teams_for_user

        return _Reporter(label=upload.actor_label, team_ids={t.pk for t in teams_for_user(user=upload.user)})
    return _Reporter(label=upload.actor_label or "system", team_ids=None)


def _reporter_for_actor(actor: Actor | None) -> _Reporter:
    if (
        actor is None
        or actor.is_open
        or (actor.user is not None and getattr(actor.user, "is_superuser", False))
    ):
        return _Reporter(label=actor.label if actor else "system", team_ids=None)
    teams = {t.pk for t in actor.teams}
    if actor.team is not None:
        teams.add(actor.team.pk)
    return _Reporter(label=actor.label, team_ids=teams)


def _unmatched(check: CheckOutcome, reason: str) -> dict[str, Any]:
    return {
        "name": check.name,
        "status": check.status,
        "table": check.table,
        "column": check.column,
        "failing_rows": check.failing_rows,
        "message": check.message[:500],
        "reason": reason,
    }


def _match_dbt(parsed: ParsedResults, summary: IngestSummary) -> dict[int, _AssetChecks]:
    """dbt tests → guarantees by test unique_id (the synced manifest's), preferring the active
    version's guarantee; the guarantee's asset is the test's asset."""
    unique_ids = [c.unique_id for c in parsed.checks if c.unique_id]
    found: dict[str, _GRef] = {}
    statuses = [ContractVersion.Status.ACTIVE, ContractVersion.Status.PROPOSED]
    for start in range(0, len(unique_ids), _BATCH * 5):
        chunk = unique_ids[start : start + _BATCH * 5]
        rows = Guarantee.objects.filter(test_unique_id__in=chunk, version__status__in=statuses).values_list(
            "test_unique_id", "id", "asset_id", "kind", "column", "version__status"
        )
        for uid, pk, asset_id, kind, column, version_status in rows:
            current = found.get(uid)
            if current is None or (not current.active and version_status == ContractVersion.Status.ACTIVE):
                found[uid] = _GRef(
                    pk, asset_id, kind, column, version_status == ContractVersion.Status.ACTIVE
                )
    assets = {
        a.pk: a
        for a in Asset.objects.filter(pk__in={g.asset_id for g in found.values()}).select_related(
            "owner_team"
        )
    }
    grouped: dict[int, _AssetChecks] = {}
    for check in parsed.checks:
        guarantee = found.get(check.unique_id or "")
        if guarantee is None:
            reason = (
                "a dbt unit test checks model logic, not a guarantee of the contract"
                if (check.unique_id or "").startswith("unit_test.")
                else "no synced contract has a guarantee from this dbt test (sync the manifest first)"
            )
            summary.unmatched.append(_unmatched(check, reason))
            continue
        bucket = grouped.get(guarantee.asset_id)
        if bucket is None:
            bucket = grouped[guarantee.asset_id] = _AssetChecks(asset=assets[guarantee.asset_id])
        bucket.checks.append((check, guarantee))
    return grouped


def _match_by_table(
    parsed: ParsedResults, summary: IngestSummary, hint: Asset | None
) -> dict[int, _AssetChecks]:
    """GX / Soda / generic checks → assets by the table they name, an asset reference, or the hint."""
    tables = {c.table for c in parsed.checks if c.table and not c.asset}
    candidates = assets_for_tables(tables=tables)
    refs: dict[str, Asset | None] = {}
    grouped: dict[int, _AssetChecks] = {}
    for check in parsed.checks:
        asset: Asset | None = None
        reason = "names no table and no asset= was given with the upload"
        if check.asset:
            if check.asset not in refs:
                refs[check.asset] = asset_find_by_ref(ref=check.asset)
            asset = refs[check.asset]
            reason = f"asset {check.asset!r} is unknown"
        elif check.table:
            options = candidates.get(check.table, [])
            data_source = str(check.details.get("data_source") or "").lower()
            if len(options) > 1 and data_source:
                options = [a for a in options if a.database.lower() == data_source] or options
            if len(options) == 1:
                asset = options[0]
            elif len(options) > 1:
                reason = f"table {check.table!r} matches several assets: " + ", ".join(
                    a.relation for a in options
                )
            else:
                reason = f"table {check.table!r} matches no asset"
        if (
            asset is None
            and hint is not None
            and not (check.asset or (check.table and candidates.get(check.table)))
        ):
            asset = hint
        if asset is None:
            summary.unmatched.append(_unmatched(check, reason))
            continue
        grouped.setdefault(asset.pk, _AssetChecks(asset=asset)).checks.append((check, None))
    # Link checks to the asset's guarantees: by name/unique_id for generic files, by kind and column otherwise.
    versions = {b.asset.active_version_id for b in grouped.values() if b.asset.active_version_id}
    by_version: dict[int, list[Guarantee]] = defaultdict(list)
    for g in Guarantee.objects.filter(version_id__in=versions):
        by_version[g.version_id].append(g)
    for bucket in grouped.values():
        guarantees = by_version.get(bucket.asset.active_version_id or -1, [])
        index = _guarantee_index(guarantees)
        linked = []
        for check, _ in bucket.checks:
            guarantee = (
                index.get((check.guarantee or check.unique_id or "").lower())
                if (check.guarantee or check.unique_id)
                else None
            )
            if guarantee is None and check.column:
                kind = _kind_for_check(check)
                same = [
                    g
                    for g in guarantees
                    if g.kind == kind
                    and g.column.lower() == check.column.lower()
                    and _arguments_agree(check, g)
                ]
                guarantee = same[0] if len(same) == 1 else None
            linked.append((check, guarantee))
        bucket.checks = linked
    return grouped


def _recorded_assets(*, asset_ids: list[int], tool: str, run_id: str) -> set[int]:
    """Assets for which this run (tool + run_id) is recorded already."""
    if not run_id:
        return set()
    return set(
        AuditRun.objects.filter(asset_id__in=asset_ids, tool=tool, run_id=run_id).values_list(
            "asset_id", flat=True
        )
    )


def _write_runs(
    *,
    parsed: ParsedResults,
    grouped: dict[int, _AssetChecks],
    summary: IngestSummary,
    reporter: _Reporter,
    upload: ResultUpload | None,
    actor: Actor | None,
    triggered_by: str,
) -> list[AuditRun]:
    """One AuditRun per asset, with its check results, in one transaction (bulk inserts)."""
    tool = parsed.format if parsed.format in {t.value for t in AuditRun.Tool} else AuditRun.Tool.GENERIC
    run_id = (parsed.run_id or "")[:255]
    asset_ids = list(grouped)
    consumers: dict[int, set[int]] = defaultdict(set)
    consumer_slugs: dict[int, set[str]] = defaultdict(set)
    for start in range(0, len(asset_ids), _BATCH * 5):
        for asset_id, team_id, slug in Registration.objects.filter(
            asset_id__in=asset_ids[start : start + _BATCH * 5]
        ).values_list("asset_id", "team_id", "team__slug"):
            consumers[asset_id].add(team_id)
            consumer_slugs[asset_id].add(slug)
    existing = _recorded_assets(asset_ids=asset_ids, tool=tool, run_id=run_id)
    # Which guarantees each asset's contract expects: for a dbt run, those that came from tests.
    expected: dict[int, list[_GRef]] = defaultdict(list)
    if tool == AuditRun.Tool.DBT:
        versions = [b.asset.active_version_id for b in grouped.values() if b.asset.active_version_id]
        for start in range(0, len(versions), _BATCH * 5):
            rows = (
                Guarantee.objects.filter(version_id__in=versions[start : start + _BATCH * 5])
                .exclude(test_unique_id="")
                .values_list("id", "asset_id", "kind", "column", "name")
            )
            for pk, asset_id, kind, column, name in rows:
                expected[asset_id].append(_GRef(pk, asset_id, kind, column, name=name))

    now = timezone.now()
    run_at = parsed.finished_at or parsed.started_at or now
    new_runs: list[AuditRun] = []
    pending_checks: list[list[CheckResult]] = []
    failing_names: list[list[str]] = []
    for asset_id, bucket in grouped.items():
        asset = bucket.asset
        if not reporter.may_report(asset, consumers[asset_id]):
            for check, _ in bucket.checks:
                summary.unmatched.append(
                    _unmatched(check, f"{reporter.label} may not report results for {asset.relation}")
                )
            continue
        if asset_id in existing:
            summary.duplicates.append({"asset_id": asset_id, "asset": asset.relation, "run_id": run_id})
            continue
        counts = dict.fromkeys(CHECK_STATUSES, 0)
        rows: list[tuple[Any, ...]] = []  # CheckResult columns in _CHECK_COLUMNS order, minus the run
        seen_guarantees: set[int] = set()
        for check, guarantee in bucket.checks:
            counts[check.status] += 1
            if guarantee is not None and check.status != CheckResult.Status.SKIPPED:
                seen_guarantees.add(guarantee.pk)
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
        unchecked = [_guarantee_label(g) for g in expected.get(asset_id, []) if g.pk not in seen_guarantees]
        status = _run_status(
            failed=counts["fail"],
            errored=counts["error"],
            incomplete=bool(unchecked) or counts["skipped"] > 0,
        )
        if status == AuditRun.Status.PASSED and parsed.partial and tool != AuditRun.Tool.DBT:
            status = AuditRun.Status.PARTIAL  # the tool says it ran a selection only
        new_runs.append(
            AuditRun(
                asset=asset,
                contract_version_id=asset.active_version_id,
                tool=tool,
                tool_name=parsed.tool[:100],
                triggered_by=triggered_by[:100],
                run_id=run_id,
                status=status,
                checked=counts["pass"] + counts["fail"] + counts["warn"] + counts["error"],
                passed=counts["pass"],
                failed=counts["fail"],
                warned=counts["warn"],
                errored=counts["error"],
                skipped=counts["skipped"],
                unchecked=unchecked,
                details={"selector": parsed.selector} if parsed.selector else {},
                started_at=parsed.started_at,
                finished_at=parsed.finished_at,
                run_at=run_at,
                upload=upload,
                actor_label=reporter.label[:200],
                created_at=now,
            )
        )
        pending_checks.append(rows)
        failing_names.append([r[1] for r in rows if r[4] == CheckResult.Status.FAIL])

    with transaction.atomic():
        AuditRun.objects.bulk_create(new_runs, batch_size=_BATCH)
        _insert_check_rows(
            (run.pk, *row) for run, rows in zip(new_runs, pending_checks, strict=True) for row in rows
        )
        events = [
            _failure_event(
                run=run, actor=actor, failing=names, consumers=sorted(consumer_slugs[run.asset_id])
            )
            for run, names in zip(new_runs, failing_names, strict=True)
            if run.status == AuditRun.Status.FAILED
        ]
        if events:
            events_record_bulk(events)
        _release_held_on_commit(new_runs)
    for run in new_runs:
        summary.runs.append(
            {
                "audit_run_id": run.pk,
                "asset_id": run.asset_id,
                "asset": run.asset.relation,
                "status": run.status,
                **run.counts,
            }
        )
    return new_runs


def _ingest(
    *,
    parsed: ParsedResults,
    reporter: _Reporter,
    hint: Asset | None,
    upload: ResultUpload | None,
    actor: Actor | None,
    triggered_by: str,
) -> IngestSummary:
    summary = IngestSummary(
        format=parsed.format,
        tool=parsed.tool,
        run_id=parsed.run_id,
        partial=parsed.partial,
        warnings=list(parsed.warnings),
    )
    if parsed.format == "dbt":
        grouped = _match_dbt(parsed, summary)
    else:
        grouped = _match_by_table(parsed, summary, hint)
    snapshot = (list(summary.unmatched), list(summary.duplicates))
    write = {
        "parsed": parsed, "grouped": grouped, "summary": summary, "reporter": reporter, "upload": upload,
        "actor": actor, "triggered_by": triggered_by,
    }  # fmt: skip
    try:
        _write_runs(**write)
    except IntegrityError:
        # The same run ingested at the same moment by another worker won the race (unique run_id per
        # asset and tool): its runs are duplicates now, so write what is left once more.
        summary.unmatched[:], summary.duplicates[:] = snapshot
        summary.runs.clear()
        _write_runs(**write)
    return summary


def result_upload_create(
    *,
    content: bytes,
    filename: str,
    actor: Actor,
    format: str | None = None,
    asset_ref: str | None = None,  # noqa: A002
) -> ResultUpload:
    """Store an uploaded result file (Django storage, so any worker can read it) and its job row.
    The caller enqueues ``audits.tasks.ingest_result_upload`` on commit."""
    from django.conf import settings

    if not content:
        raise ApiError(400, "empty_file", "The uploaded file is empty.")
    if len(content) > settings.TESSERA_MAX_UPLOAD_BYTES:
        raise ApiError(
            413, "too_large", f"The file is larger than {settings.TESSERA_MAX_UPLOAD_BYTES} bytes."
        )
    try:
        requested = normalize_format(format)
    except ResultFileError as exc:
        raise ApiError(400, "unknown_format", str(exc)) from None
    asset_ref = (asset_ref or "").strip()
    if asset_ref:
        hint = asset_find_by_ref(ref=asset_ref)
        if hint is None:
            raise ApiError(404, "not_found", f"Asset {asset_ref!r} was not found.")
    upload = ResultUpload(
        original_name=(filename or "results.json")[:300],
        size_bytes=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        requested_format=requested or "",
        asset_hint=asset_ref[:500],
        team=actor.team,
        api_key=actor.api_key,
        user=actor.user if getattr(actor.user, "pk", None) else None,
        actor_label=actor.label[:200],
        is_open_actor=actor.is_open,
    )
    upload.file.save(f"{upload.sha256[:16]}.json", ContentFile(content), save=False)
    upload.save()
    return upload


def result_upload_submit(
    *,
    content: bytes,
    filename: str,
    actor: Actor,
    format: str | None = None,
    asset_ref: str | None = None,  # noqa: A002
) -> ResultUpload:
    """Store the file and enqueue its ingestion once the row is committed (API and dashboard form)."""
    from audits.tasks import ingest_result_upload

    with transaction.atomic():
        upload = result_upload_create(
            content=content, filename=filename, actor=actor, format=format, asset_ref=asset_ref
        )
        transaction.on_commit(lambda: ingest_result_upload.delay(upload.pk))
    return upload


def audit_ingest_results(*, upload_id: int) -> IngestSummary | None:
    """Body of the ingestion task for a claimed (running) upload: parse, match, write, and put the
    outcome on the job row. A file that cannot be parsed fails the job with the reason and writes
    nothing else."""
    upload = ResultUpload.objects.select_related("user", "team").get(pk=upload_id)
    if upload.status != JobStatus.RUNNING:
        return None
    try:
        job_stage(ResultUpload, upload.pk, "parsing", 10)
        with upload.file.open("rb") as handle:
            data = handle.read()
        parsed = parse_results(data, upload.requested_format or None)
        hint = asset_find_by_ref(ref=upload.asset_hint) if upload.asset_hint else None
        if upload.asset_hint and hint is None:
            raise ResultFileError(f"Asset {upload.asset_hint!r} given with the upload was not found.")
        job_stage(ResultUpload, upload.pk, "matching", 40)
        summary = _ingest(
            parsed=parsed,
            reporter=_reporter_for_upload(upload),
            hint=hint,
            upload=upload,
            actor=None,
            triggered_by="upload",
        )
    except ResultFileError as exc:
        job_fail(ResultUpload, upload.pk, str(exc))
        return None
    except Exception as exc:  # the row must not stay "running" forever; the worker logs the traceback
        job_fail(ResultUpload, upload.pk, f"Ingestion failed unexpectedly: {exc.__class__.__name__}: {exc}")
        raise
    job_succeed(
        ResultUpload,
        upload.pk,
        format=summary.format,
        summary=summary.as_dict(),
        unmatched=summary.unmatched,
        warnings=summary.warnings,
    )
    return summary


def audit_ingest_run_results(
    *, run_results: bytes | None = None, actor: Actor | None = None, sync_run: SyncRun | None = None
) -> IngestSummary:
    """A dbt run_results.json that came with a synced manifest: tests → guarantees → runs.

    Called by the sync after its commit, with just ``sync_run`` (the file and the actor are the
    sync's). The outcome is kept as a ResultUpload row linked to the sync, so unmatched tests are
    visible like any upload's. Raises ResultFileError for a file that is not a run_results.json.
    """
    upload: ResultUpload | None = None
    if sync_run is not None:
        if actor is None:
            from contracts.services.sync import actor_for_run

            actor = actor_for_run(sync_run)
        if run_results is None:
            with sync_run.run_results.open("rb") as handle:
                run_results = handle.read()
        upload = ResultUpload.objects.create(
            file=sync_run.run_results.name,
            original_name="run_results.json",
            size_bytes=len(run_results),
            sha256=hashlib.sha256(run_results).hexdigest(),
            requested_format="dbt",
            team=actor.team,
            api_key=actor.api_key,
            user=actor.user if getattr(actor.user, "pk", None) else None,
            actor_label=actor.label[:200],
            is_open_actor=actor.is_open,
            sync_run=sync_run,
            status=JobStatus.RUNNING,
            started_at=timezone.now(),
        )
    if run_results is None:
        raise ResultFileError("No run_results.json was given.")
    try:
        parsed = parse_results(run_results, "dbt")
    except ResultFileError as exc:
        if upload is not None:
            job_fail(ResultUpload, upload.pk, str(exc))
        raise
    summary = _ingest(
        parsed=parsed,
        reporter=_reporter_for_actor(actor),
        hint=None,
        upload=upload,
        actor=actor,
        triggered_by=f"sync #{sync_run.pk}" if sync_run is not None else "sync",
    )
    if upload is not None:
        job_succeed(
            ResultUpload,
            upload.pk,
            format=summary.format,
            summary=summary.as_dict(),
            unmatched=summary.unmatched,
            warnings=summary.warnings,
        )
    return summary
