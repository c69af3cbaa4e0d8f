"""The "write" of write-audit-publish, as dbt reports it: which assets a run built, and whether
the build failed. A failed build becomes an errored run on its asset (the gate holds on it); a
later successful build of that asset is recorded too, so the gate can let go."""

from __future__ import annotations

from django.db.models import OuterRef, Subquery

from audits.ingest import BuildOutcome, CheckOutcome, ParsedResults
from audits.models import AuditRun
from audits.services.matching import AssetChecks
from contracts.models import Asset, AssetNode

BUILD_CHECK_TYPE = "dbt_build"


def _built_assets(uids: list[str], project: str) -> dict[str, Asset]:
    """Node unique_id → the live asset the project's latest sync maps it to."""
    nodes = AssetNode.objects.filter(unique_id__in=uids).exclude(asset__status=Asset.Status.RETIRED)
    if project:
        nodes = nodes.filter(project__name=project)
    found: dict[str, list[Asset]] = {}
    for node in nodes.select_related("asset", "asset__owner_team"):
        found.setdefault(node.unique_id, []).append(node.asset)
    return {uid: assets[0] for uid, assets in found.items() if len(assets) == 1}


def _last_build_failed(asset_ids: list[int]) -> set[int]:
    """Of these assets, those whose latest recorded build failed (one query)."""
    latest = (
        AuditRun.objects.filter(asset_id=OuterRef("pk"))
        .exclude(build_status="")
        .order_by("-run_at", "-id")
        .values("build_status")[:1]
    )
    return set(
        Asset.objects.filter(pk__in=asset_ids)
        .annotate(last_build=Subquery(latest))
        .filter(last_build=AuditRun.BUILD_ERROR)
        .values_list("pk", flat=True)
    )


def build_check(build: BuildOutcome) -> CheckOutcome:
    """A failed build as a check that could not run: the data the checks would read was not written."""
    return CheckOutcome(
        name=build.unique_id,
        status="error",
        check_type=BUILD_CHECK_TYPE,
        message=f"The build failed: {build.message or 'dbt reported an error'}",
    )


def match_builds(parsed: ParsedResults, grouped: dict[int, AssetChecks], *, project: str) -> None:
    """Attach each build outcome to its asset's bucket. A failed build makes a bucket if the asset
    had no checks in the file; a successful one only if the asset's last recorded build failed."""
    builds = [b for b in parsed.builds if b.status in (AuditRun.BUILD_SUCCESS, AuditRun.BUILD_ERROR)]
    if not builds:
        return
    assets = _built_assets([b.unique_id for b in builds], project or parsed.project)
    newly_built = [a.pk for b in builds if (a := assets.get(b.unique_id)) and a.pk not in grouped]
    recovering = _last_build_failed(newly_built) if newly_built else set()
    for build in builds:
        asset = assets.get(build.unique_id)
        if asset is None:
            continue
        bucket = grouped.get(asset.pk)
        if bucket is None:
            if build.status == AuditRun.BUILD_SUCCESS and asset.pk not in recovering:
                continue
            bucket = grouped[asset.pk] = AssetChecks(asset=asset)
        bucket.build = build
        if build.status == AuditRun.BUILD_ERROR:
            bucket.checks.append((build_check(build), None))
