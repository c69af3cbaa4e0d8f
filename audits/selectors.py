"""Reads of audit data: asset lookup by reference, the publish gate, history and trends.

Every selector runs a small, fixed number of queries whatever the history's length, so the
dashboard can call them per page without N+1 surprises.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Lower, TruncDate
from django.utils import timezone

from audits.models import AuditRun, CheckResult
from contracts.domain import guarantee_ref
from contracts.models import Asset, ContractVersion, Guarantee, Registration

# How many recent runs the gate looks through for each guarantee's latest result.
GATE_RUN_WINDOW = 200


# --- Assets -----------------------------------------------------------------------------------
def asset_find_by_ref(*, ref: str) -> Asset | None:
    """An asset by id, relation name (``db.schema.table``, any case/quoting) or dbt unique_id."""
    from contracts.selectors.assets import asset_find

    return asset_find(ref=ref)


def asset_consumer_team_ids(*, asset: Asset) -> set[int]:
    return set(Registration.objects.filter(asset=asset).values_list("team_id", flat=True))


def assets_for_tables(*, tables: set[str]) -> dict[str, list[Asset]]:
    """Candidate assets for each table name a tool reported (``t``, ``schema.t`` or ``db.schema.t``).

    One query: exact relations, and relations whose identifier or name equals the last part.
    """
    if not tables:
        return {}
    normalized = {t: ".".join(p.strip('"`[]').lower() for p in t.split(".") if p) for t in tables}
    lasts = {n.rsplit(".", 1)[-1] for n in normalized.values()}
    # Tools write table names in the warehouse's case (Snowflake: DIM_CUSTOMERS); relations are
    # stored lower-cased, identifiers and names as dbt declared them.
    candidates = list(
        Asset.objects.filter(status=Asset.Status.ACTIVE)
        .annotate(identifier_lower=Lower("identifier"), name_lower=Lower("name"))
        .filter(
            Q(relation__in=set(normalized.values())) | Q(identifier_lower__in=lasts) | Q(name_lower__in=lasts)
        )
        .select_related("owner_team", "active_version")
    )
    found: dict[str, list[Asset]] = {}
    for table, norm in normalized.items():
        exact = [a for a in candidates if a.relation == norm]
        if exact:
            found[table] = exact
            continue
        suffix = [a for a in candidates if a.relation.endswith("." + norm)]
        if suffix:
            found[table] = suffix
            continue
        last = norm.rsplit(".", 1)[-1]
        found[table] = [
            a for a in candidates if (a.identifier or "").lower() == last or a.name.lower() == last
        ]
    return found


# --- The publish gate ------------------------------------------------------------------------
@dataclass
class GuaranteeState:
    guarantee: str  # "not_null(email)"
    key: str
    severity: str
    status: str  # pass / fail / warn / error / skipped / unchecked
    checked_at: datetime | None = None
    message: str = ""
    # Which run last checked it, with which tool, and whether that check really ran (pass, fail
    # or warn: an errored or skipped check is no evidence).
    audit_run_id: int | None = None
    run_id: str = ""
    tool: str = ""
    run_kind: str = ""
    executed: bool = False


@dataclass
class GateResult:
    decision: str  # "publish" | "hold"
    reasons: list[str] = field(default_factory=list)
    asset_id: int | None = None
    version: str | None = None  # semver of the contract version the gate looked at
    version_status: str | None = None
    latest_run: dict[str, Any] | None = None
    latest_build: dict[str, Any] | None = None
    max_age_hours: int | None = None
    guarantees: list[GuaranteeState] = field(default_factory=list)

    @property
    def publish(self) -> bool:
        return self.decision == "publish"

    def as_dict(self) -> dict[str, Any]:
        return {
            "decision": self.decision,
            "reasons": self.reasons,
            "asset_id": self.asset_id,
            "version": self.version,
            "version_status": self.version_status,
            "latest_run": self.latest_run,
            "latest_build": self.latest_build,
            "max_age_hours": self.max_age_hours,
            "guarantees": [g.__dict__ for g in self.guarantees],
        }


def _gate_version(asset: Asset, version: ContractVersion | str | None) -> ContractVersion | None:
    if isinstance(version, ContractVersion):
        return version
    if version in (None, "", "active"):
        if asset.active_version_id:
            return asset.active_version  # usually loaded with the asset (select_related)
        version = "proposed"
    if version == "proposed":
        return (
            ContractVersion.objects.filter(asset=asset, status=ContractVersion.Status.PROPOSED)
            .order_by("-created_at", "-id")
            .first()
        )
    return None


_RUN_FIELDS = (
    "id", "tool", "run_id", "run_kind", "status", "build_status", "run_at", "checked", "passed", "failed",
    "warned", "errored", "skipped",
)  # fmt: skip
_EXECUTED = {CheckResult.Status.PASS, CheckResult.Status.FAIL, CheckResult.Status.WARN}


def _when(run: dict[str, Any]) -> str:
    kind = f" {run['run_kind']}" if run.get("run_kind") else ""
    return f"{run['tool']}{kind} run at {run['run_at']:%Y-%m-%d %H:%M} UTC"


def _latest_run_reasons(result: GateResult, recent: list[dict[str, Any]], cutoff: datetime | None) -> None:
    latest = recent[0] if recent else None
    result.latest_run = latest
    if latest is None:
        result.reasons.append("No audit results have been recorded for this asset.")
        return
    if latest["status"] == AuditRun.Status.FAILED:
        result.reasons.append(
            f"The latest audit ({_when(latest)}) failed: {latest['failed']} failing check(s)."
        )
    elif latest["status"] == AuditRun.Status.ERROR:
        result.reasons.append(
            f"The latest audit ({_when(latest)}) could not run {latest['errored']} check(s)."
        )
    if cutoff and latest["run_at"] < cutoff:
        result.reasons.append(
            f"The latest audit ({_when(latest)}) is older than the asset's maximum age of "
            f"{result.max_age_hours} hours."
        )
    build = next((run for run in recent if run["build_status"]), None)
    result.latest_build = build
    if build is not None and build["build_status"] == AuditRun.BUILD_ERROR:
        result.reasons.append(
            f"The latest build of this asset failed ({_when(build)}): the data was not written; the gate "
            "holds until a later run builds it successfully."
        )


def _latest_by_guarantee(required: list[dict[str, Any]], run_ids: list[int]) -> dict[str, dict[str, Any]]:
    """Each required guarantee's latest check result (by guarantee key, or its dbt test's id)."""
    keys = {g["key"] for g in required}
    by_uid = {g["test_unique_id"]: g["key"] for g in required if g["test_unique_id"]}
    latest: dict[str, dict[str, Any]] = {}
    if not run_ids or not (keys or by_uid):
        return latest
    rows = (
        CheckResult.objects.filter(audit_run_id__in=run_ids)
        .filter(Q(guarantee__key__in=keys) | Q(name__in=set(by_uid)))
        .values(
            "guarantee__key",
            "name",
            "status",
            "message",
            "audit_run__run_at",
            "audit_run_id",
            "audit_run__run_id",
            "audit_run__tool",
            "audit_run__run_kind",
        )  # fmt: skip
        .order_by("-audit_run__run_at", "-audit_run_id", "-id")
    )
    for row in rows:
        key = row["guarantee__key"] if row["guarantee__key"] in keys else by_uid.get(row["name"])
        if key and key not in latest:
            latest[key] = row
    return latest


def _guarantee_state(g: dict[str, Any], row: dict[str, Any] | None) -> GuaranteeState:
    state = GuaranteeState(
        guarantee=guarantee_ref(g["kind"], g["column"], g["name"]),
        key=g["key"],
        severity=g["severity"],
        status="unchecked",
    )
    if row is not None:
        state.status, state.message = row["status"], row["message"]
        state.checked_at, state.audit_run_id = row["audit_run__run_at"], row["audit_run_id"]
        state.run_id, state.tool = row["audit_run__run_id"], row["audit_run__tool"]
        state.run_kind, state.executed = row["audit_run__run_kind"], row["status"] in _EXECUTED
    return state


def _guarantee_reason(state: GuaranteeState, cutoff: datetime | None, max_age: int | None) -> str | None:
    label, when = state.guarantee, state.checked_at
    if state.status == "unchecked":
        return f"Guarantee {label} has not been checked by any recorded audit."
    if state.status == CheckResult.Status.FAIL:
        return f"Guarantee {label} failed its latest check ({when:%Y-%m-%d %H:%M} UTC)."
    if state.status == CheckResult.Status.ERROR:
        return f"Guarantee {label} could not be checked: its latest check errored."
    if state.status == CheckResult.Status.SKIPPED:
        return f"Guarantee {label} was skipped in its latest check, so it is unchecked."
    if cutoff and when is not None and when < cutoff:
        return f"Guarantee {label} was last checked at {when:%Y-%m-%d %H:%M} UTC, older than {max_age} hours."
    return None


def publish_gate(
    *, asset: Asset, version: ContractVersion | str | None = None, now: datetime | None = None
) -> GateResult:
    """``publish`` when the latest audit passed, the latest build did not fail, every
    error-severity guarantee of the contract (active, or the proposed one) has a passing latest
    check, and nothing is older than the asset's ``audit_max_age_hours``; ``hold`` with every
    reason otherwise. Four queries."""
    now = now or timezone.now()
    contract = _gate_version(asset, version)
    result = GateResult(
        decision="hold",
        asset_id=asset.pk,
        version=contract.semver if contract else None,
        version_status=contract.status if contract else None,
        max_age_hours=asset.audit_max_age_hours,
    )
    cutoff = now - timedelta(hours=asset.audit_max_age_hours) if asset.audit_max_age_hours else None
    recent = list(
        AuditRun.objects.filter(asset=asset).order_by("-run_at", "-id").values(*_RUN_FIELDS)[:GATE_RUN_WINDOW]
    )
    _latest_run_reasons(result, recent, cutoff)
    if contract is None:
        result.reasons.append("The asset has no active or proposed contract version to audit.")
    fields = ("id", "key", "kind", "column", "name", "severity", "test_unique_id")
    required = list(Guarantee.objects.filter(version=contract).values(*fields)) if contract else []
    latest = _latest_by_guarantee(required, [run["id"] for run in recent])
    for g in required:
        state = _guarantee_state(g, latest.get(g["key"]))
        result.guarantees.append(state)
        reason = (
            _guarantee_reason(state, cutoff, asset.audit_max_age_hours) if g["severity"] == "error" else None
        )
        if reason:
            result.reasons.append(reason)
    if not result.reasons:
        result.decision = "publish"
        result.reasons.append("The latest audit passed and every required guarantee passed its latest check.")
    return result


def publish_allowed(*, asset: Asset, version: ContractVersion | None = None) -> GateResult | None:
    """For the publishing services: None when the asset does not require a passing audit,
    else the gate's result for ``version`` (hold blocks the publish, with its reasons)."""
    if not asset.requires_passing_audit:
        return None
    return publish_gate(asset=asset, version=version)


# --- History and trends ------------------------------------------------------------------------
def audit_runs_for_asset(*, asset: Asset, limit: int = 50) -> QuerySet[AuditRun]:
    return (
        AuditRun.objects.filter(asset=asset)
        .select_related("contract_version")
        .order_by("-run_at", "-id")[:limit]
    )


def audit_run_checks(*, run_ids: list[int]) -> dict[int, list[CheckResult]]:
    """Check results of several runs in one query, grouped by run."""
    grouped: dict[int, list[CheckResult]] = {run_id: [] for run_id in run_ids}
    for check in (
        CheckResult.objects.filter(audit_run_id__in=run_ids).select_related("guarantee").order_by("id")
    ):
        grouped[check.audit_run_id].append(check)
    return grouped


def audit_trend(*, asset: Asset, days: int = 30, now: datetime | None = None) -> list[dict[str, Any]]:
    """Per day: runs, checks recorded, checks passed and the pass rate (one query)."""
    since = (now or timezone.now()) - timedelta(days=days)
    rows = (
        CheckResult.objects.filter(audit_run__asset=asset, audit_run__run_at__gte=since)
        .annotate(day=TruncDate("audit_run__run_at"))
        .values("day")
        .annotate(
            runs=Count("audit_run", distinct=True),
            checks=Count("id", filter=~Q(status=CheckResult.Status.SKIPPED)),
            passed=Count("id", filter=Q(status=CheckResult.Status.PASS)),
            failed=Count("id", filter=Q(status=CheckResult.Status.FAIL)),
        )
        .order_by("day")
    )
    return [{**row, "pass_rate": (row["passed"] / row["checks"]) if row["checks"] else None} for row in rows]


def guarantee_pass_rates(*, asset: Asset, since: datetime | None = None) -> list[dict[str, Any]]:
    """Per check identity (a guarantee's test, an expectation, a Soda check): results, passes,
    failures and the pass rate, worst first (one query)."""
    qs = CheckResult.objects.filter(audit_run__asset=asset)
    if since is not None:
        qs = qs.filter(audit_run__run_at__gte=since)
    rows = (
        qs.values("name")
        .annotate(
            guarantee_id=Max("guarantee_id"),
            kind=Max("guarantee__kind"),
            column=Max("column"),
            results=Count("id", filter=~Q(status=CheckResult.Status.SKIPPED)),
            passed=Count("id", filter=Q(status=CheckResult.Status.PASS)),
            failed=Count("id", filter=Q(status=CheckResult.Status.FAIL)),
            warned=Count("id", filter=Q(status=CheckResult.Status.WARN)),
            errored=Count("id", filter=Q(status=CheckResult.Status.ERROR)),
            last_run_at=Max("audit_run__run_at"),
        )
        .order_by("name")
    )
    out = [{**row, "pass_rate": (row["passed"] / row["results"]) if row["results"] else None} for row in rows]
    out.sort(key=lambda r: (r["pass_rate"] if r["pass_rate"] is not None else 2, r["name"]))
    return out


def most_failing_checks(
    *, asset: Asset | None = None, team_id: int | None = None, since: datetime | None = None, limit: int = 10
) -> list[dict[str, Any]]:
    """The checks that failed most often (for an asset, or for the assets a team owns or uses)."""
    qs = CheckResult.objects.filter(status=CheckResult.Status.FAIL)
    if asset is not None:
        qs = qs.filter(audit_run__asset=asset)
    if team_id is not None:
        qs = qs.filter(
            Q(audit_run__asset__owner_team_id=team_id) | Q(audit_run__asset__registrations__team_id=team_id)
        ).distinct()
    if since is not None:
        qs = qs.filter(audit_run__run_at__gte=since)
    rows = (
        qs.values("name", "audit_run__asset_id", "audit_run__asset__relation")
        .annotate(failures=Count("id", distinct=True), last_failed_at=Max("audit_run__run_at"))
        .order_by("-failures", "name")[:limit]
    )
    return [
        {
            "name": r["name"],
            "asset_id": r["audit_run__asset_id"],
            "asset": r["audit_run__asset__relation"],
            "failures": r["failures"],
            "last_failed_at": r["last_failed_at"],
        }
        for r in rows
    ]


def failing_assets_for_team(*, team_id: int, limit: int = 20) -> list[dict[str, Any]]:
    """Assets the team owns or consumes whose latest audit failed or errored (one query)."""
    latest_run = (
        AuditRun.objects.filter(asset_id=OuterRef("asset_id")).order_by("-run_at", "-id").values("id")[:1]
    )
    asset_ids = Asset.objects.filter(Q(owner_team_id=team_id) | Q(registrations__team_id=team_id)).values(
        "id"
    )
    rows = (
        AuditRun.objects.filter(asset_id__in=asset_ids, pk=Subquery(latest_run))
        .filter(status__in=[AuditRun.Status.FAILED, AuditRun.Status.ERROR])
        .order_by("-run_at", "-id")
        .values("id", "asset_id", "asset__relation", "status", "run_at", "failed", "errored", "tool")[:limit]
    )
    return list(rows)


def failed_audits_by_consumer_team(
    *, since: datetime, until: datetime
) -> list[tuple[Any, list[dict[str, Any]]]]:
    """For the daily digest: each consumer team with the failed audit runs (recorded in the window)
    of the assets it is registered on. Two queries."""

    runs = list(
        AuditRun.objects.filter(status=AuditRun.Status.FAILED, created_at__gte=since, created_at__lt=until)
        .order_by("-run_at", "-id")
        .values(
            "id",
            "asset_id",
            "asset__relation",
            "asset__owner_team__slug",
            "tool",
            "run_at",
            "failed",
            "checked",
        )
    )
    if not runs:
        return []
    by_asset: dict[int, list[dict[str, Any]]] = {}
    for run in runs:
        by_asset.setdefault(run["asset_id"], []).append(run)
    by_team: dict[int, list[dict[str, Any]]] = {}
    teams: dict[int, Any] = {}
    for registration in Registration.objects.filter(asset_id__in=by_asset).select_related("team"):
        runs_of_team = by_team.setdefault(registration.team_id, [])
        teams[registration.team_id] = registration.team
        # A team registered twice on one asset (explicit and lineage) gets its runs once.
        if not any(r["asset_id"] == registration.asset_id for r in runs_of_team):
            runs_of_team.extend(by_asset[registration.asset_id])
    return [(teams[team_id], by_team[team_id]) for team_id in sorted(by_team, key=lambda t: teams[t].slug)]
