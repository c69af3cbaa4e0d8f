"""Sync step: dbt exposures become consumers.

Each exposure of the manifest is kept (``Exposure``) with the assets it reads: the nodes it names
in ``depends_on`` (direct), and every asset upstream of them through models (ephemeral ones
included). Its team is ``meta.tessera.team``, else the team of its owner (services.sync.dbt_owners),
else the project's team. That team is registered as a consumer (origin ``exposure``) of every asset
it reads and does not own. The registrations follow the exposures: an exposure removed from the
manifest, or no longer reading an asset, takes its registration away (unless another exposure of
the same team, in any project, still reads that asset).
"""

from __future__ import annotations

from typing import Any

from contracts.domain import ExposureSpec, ParsedManifest
from contracts.models import Asset, Exposure, ExposureAsset, Registration, Team
from contracts.services.sync.context import SyncContext
from contracts.services.sync.dbt_owners import owner_directory
from contracts.services.sync.registrations import Key, record_registration_events
from tessera_site.lib.bulk import rows_insert

ORIGIN: str = Registration.Origin.EXPOSURE.value


def exposures_write(ctx: SyncContext, node_asset: dict[str, int]) -> None:
    """Keep the project's exposures, their assets and the registrations they make."""
    before = set(
        ExposureAsset.objects.filter(exposure__project=ctx.project).values_list("asset_id", flat=True)
    )
    teams = _exposure_teams(ctx)
    kept: list[int] = []
    links: list[tuple[int, int, bool, str]] = []
    existing = {e.unique_id: e for e in Exposure.objects.filter(project=ctx.project)}
    upstream = upstream_map(ctx.parsed)
    for spec in ctx.parsed.exposures:
        team = teams.get(spec.unique_id)
        if team is None:
            ctx.out.warn(
                f"{spec.unique_id}: no team for it (no meta.tessera.team, owner or project team); skipped."
            )
            continue
        exposure = _exposure_save(ctx, existing.pop(spec.unique_id, None), spec, team)
        kept.append(exposure.pk)
        for asset_id, direct, node in exposure_assets(spec, upstream=upstream, node_asset=node_asset):
            links.append((exposure.pk, asset_id, direct, node[:500]))
    if existing:
        Exposure.objects.filter(pk__in=[e.pk for e in existing.values()]).delete()  # links go with them
    ExposureAsset.objects.filter(exposure_id__in=kept).delete()
    rows_insert(ExposureAsset, ("exposure", "asset", "direct", "node"), links, ignore_conflicts=True)
    ctx.out.exposures = len(kept)
    exposure_registrations_follow(ctx, asset_ids=before | {a for _, a, _, _ in links})


def _exposure_teams(ctx: SyncContext) -> dict[str, Team]:
    exposures = ctx.parsed.exposures
    directory = owner_directory(
        owners=[e.owner for e in exposures], slugs=[e.team for e in exposures if e.team]
    )
    fallback = ctx.project.owner_team or ctx.default_owner
    out: dict[str, Team] = {}
    for spec in exposures:
        team, _how = directory.team_for(meta_team=spec.team, owner=spec.owner)
        if spec.team and (team is None or team.slug.lower() != spec.team.lower()):
            ctx.out.warn(f"{spec.unique_id}: meta.tessera.team '{spec.team}' is not a known team; ignored.")
        team = team or fallback
        if team is not None:
            out[spec.unique_id] = team
    return out


def _exposure_save(ctx: SyncContext, row: Exposure | None, spec: ExposureSpec, team: Team) -> Exposure:
    fields: dict[str, Any] = {
        "name": spec.name[:300],
        "label": spec.label[:300],
        "type": spec.type[:50],
        "url": safe_url(spec.url),
        "maturity": spec.maturity[:20],
        "owner_name": spec.owner.name[:200],
        "owner_email": spec.owner.email[:254],
        "description": spec.description,
        "meta": spec.meta,
        "columns": spec.columns,
        "team": team,
    }
    if row is None:
        return Exposure.objects.create(
            project=ctx.project,
            unique_id=spec.unique_id[:500],
            created_at=ctx.now,
            updated_at=ctx.now,
            **fields,
        )
    if any(getattr(row, k) != v for k, v in fields.items()):
        for k, v in fields.items():
            setattr(row, k, v)
        row.updated_at = ctx.now
        row.save()
    return row


def safe_url(url: str) -> str:
    """Only http(s) links are kept: pages show them as links (never ``javascript:`` and the like)."""
    url = url.strip()
    return url[:2000] if url.lower().startswith(("https://", "http://")) else ""


def upstream_map(parsed: ParsedManifest) -> dict[str, list[str]]:
    """Every node's depends_on (assets and the ephemeral models between them)."""
    out = {spec.unique_id: spec.depends_on for spec in parsed.assets if spec.resource_type != "source"}
    out.update(parsed.ephemeral_depends_on)
    return out


def exposure_assets(
    spec: ExposureSpec, *, upstream: dict[str, list[str]], node_asset: dict[str, int]
) -> list[tuple[int, bool, str]]:
    """(asset id, direct, node) for every asset the exposure reads, directly first."""
    found: dict[int, tuple[bool, str]] = {}
    for node in spec.depends_on:
        asset_id = node_asset.get(node)
        if asset_id is not None:
            found.setdefault(asset_id, (True, node))
    seen: set[str] = set()
    stack = list(spec.depends_on)
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        for parent in upstream.get(node, ()):
            asset_id = node_asset.get(parent)
            if asset_id is not None:
                found.setdefault(asset_id, (False, ""))
            stack.append(parent)
    return [(asset_id, direct, node) for asset_id, (direct, node) in found.items()]


def exposure_registrations_follow(ctx: SyncContext, *, asset_ids: set[int]) -> None:
    """The ``exposure`` registrations of these assets are exactly the teams of the exposures (of
    any project) that read them, never the asset's owner."""
    if not asset_ids:
        return
    owners = dict(Asset.objects.filter(pk__in=asset_ids).values_list("pk", "owner_team_id"))
    wanted: dict[Key, str] = {}
    for asset_id, team_id, name, kind, project in ExposureAsset.objects.filter(
        asset_id__in=asset_ids
    ).values_list(
        "asset_id", "exposure__team_id", "exposure__name", "exposure__type", "exposure__project__name"
    ):
        if team_id != owners.get(asset_id):
            wanted.setdefault(
                (asset_id, team_id, ORIGIN), f"{kind or 'exposure'} {name} (project {project})"[:500]
            )
    existing = {
        (a, t, ORIGIN): pk
        for pk, a, t in Registration.objects.filter(asset_id__in=asset_ids, origin=ORIGIN).values_list(
            "pk", "asset_id", "team_id"
        )
    }
    add = [key for key in wanted if key not in existing]
    remove = [key for key in existing if key not in wanted]
    rows_insert(
        Registration,
        ("asset", "team", "origin", "purpose", "created_at"),
        [(a, t, o, wanted[(a, t, o)], ctx.now) for a, t, o in add],
        ignore_conflicts=True,
    )
    if remove:
        Registration.objects.filter(pk__in=[existing[key] for key in remove]).delete()
    relations = dict(
        Asset.objects.filter(pk__in={a for a, _, _ in add + remove}).values_list("pk", "relation")
    )
    record_registration_events(ctx, add=add, removed=remove, relations=relations)
    ctx.out.registrations_added += len(add)
    ctx.out.registrations_removed += len(remove)
