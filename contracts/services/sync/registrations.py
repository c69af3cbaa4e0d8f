"""Sync step: consumer registrations. Explicit ones follow the ``meta`` consumers of the assets this
project owns (added and removed); lineage ones follow this project's cross-project reads (sources and
refs): added for the teams whose models read the asset, removed once no model of this project reads
it any more, unless the same team still reads it through another project. As with a removed
explicit registration, an open proposal that already asked the team keeps asking it (its
required teams are set when it opens)."""

from __future__ import annotations

from django.db.models import F, Q
from django.utils import timezone

from contracts.models import Asset, AssetNode, LineageEdge, Registration, Team
from contracts.services.events import event_rows_record
from contracts.services.sync.assets import AssetPlan
from contracts.services.sync.context import SyncContext
from tessera_site.lib.bulk import any_of, rows_insert

Key = tuple[int, int, str]  # (asset, team, origin)


def registrations_write(ctx: SyncContext, plan: AssetPlan, node_asset: dict[str, int]) -> None:
    wanted: dict[Key, str] = {}  # → purpose
    assets_by_id: dict[int, Asset] = {}
    _wanted_explicit(ctx, plan, wanted, assets_by_id)
    if plan.cross_reads:
        _wanted_from_reads(ctx, plan, node_asset, wanted, assets_by_id)
    existing = {
        (asset_id, team_id, origin): pk
        for pk, asset_id, team_id, origin in Registration.objects.filter(
            any_of("asset_id", assets_by_id),
            origin__in=[Registration.Origin.EXPLICIT, Registration.Origin.LINEAGE],
        ).values_list("pk", "asset_id", "team_id", "origin")
    }
    add = [key for key in wanted if key not in existing]
    # Explicit registrations follow the meta of the assets this project owns.
    owned_ids = {a.pk for a, _ in plan.owned.values()}
    remove = [
        (key, pk)
        for key, pk in existing.items()
        if key[2] == Registration.Origin.EXPLICIT and key[0] in owned_ids and key not in wanted
    ]
    remove += _lineage_unread(ctx, wanted)
    now = timezone.now()
    rows_insert(
        Registration,
        ("asset", "team", "origin", "purpose", "created_at"),
        [(a, t, o, wanted[(a, t, o)], now) for a, t, o in add],
        ignore_conflicts=True,
    )
    if remove:
        Registration.objects.filter(pk__in=[pk for _, pk in remove]).delete()
    relations = {pk: asset.relation for pk, asset in assets_by_id.items()}
    unknown = {key[0] for key, _ in remove} - relations.keys()
    relations.update(Asset.objects.filter(pk__in=unknown).values_list("pk", "relation"))
    record_registration_events(ctx, add=add, removed=[key for key, _ in remove], relations=relations)
    ctx.out.registrations_added = len(add)
    ctx.out.registrations_removed = len(remove)


def _wanted_explicit(
    ctx: SyncContext, plan: AssetPlan, wanted: dict[Key, str], assets_by_id: dict[int, Asset]
) -> None:
    """Meta consumers of the assets this project owns."""
    for asset, spec in plan.owned.values():
        assets_by_id[asset.pk] = asset
        for consumer in spec.consumers:
            team = ctx.teams.get(consumer.team)
            if team is None:
                continue
            if team.pk == asset.owner_team_id:
                ctx.out.warn(
                    f"{asset.relation}: '{team.slug}' owns it, so it is not registered as its consumer."
                )
                continue
            wanted[(asset.pk, team.pk, Registration.Origin.EXPLICIT)] = consumer.purpose[:500]


def _wanted_from_reads(
    ctx: SyncContext,
    plan: AssetPlan,
    node_asset: dict[str, int],
    wanted: dict[Key, str],
    assets_by_id: dict[int, Asset],
) -> None:
    """The team reading a source is the owner of this project's models that select from it."""
    project = ctx.project
    owner_of = {spec.unique_id: asset.owner_team_id for asset, spec in plan.owned.values()}
    readers: dict[int, set[int]] = {}  # read asset id -> reading team ids
    for spec in ctx.parsed.assets:
        reader = owner_of.get(spec.unique_id)
        if reader is None:
            continue
        for dep in spec.depends_on:
            asset_id = node_asset.get(dep)
            if asset_id is not None:
                readers.setdefault(asset_id, set()).add(reader)
    for _spec, asset in plan.cross_reads:
        assets_by_id[asset.pk] = asset
        reader_teams = readers.get(asset.pk) or ({project.owner_team_id} if project.owner_team_id else set())
        ctx.out.nodes_linked += 1
        for team_id in reader_teams:
            if team_id != asset.owner_team_id:
                wanted.setdefault(
                    (asset.pk, team_id, Registration.Origin.LINEAGE),
                    f"read by project {project.name}"[:500],
                )


def _lineage_unread(ctx: SyncContext, wanted: dict[Key, str]) -> list[tuple[Key, int]]:
    """The lineage registrations of this project's teams on assets of other projects that this
    project read until now (its lineage edges and nodes, before this sync rewrites them) and no
    longer reads, and that no other project of the same team reads either."""
    project = ctx.project
    was_read = set(
        LineageEdge.objects.filter(project=project)
        .exclude(upstream__project=project)
        .values_list("upstream_id", flat=True)
    ) | set(
        AssetNode.objects.filter(project=project)
        .exclude(asset__project=project)
        .values_list("asset_id", flat=True)
    )
    if not was_read:
        return []
    teams = {
        t
        for t in Asset.objects.filter(project=project).values_list("owner_team_id", flat=True).distinct()
        if t is not None
    }
    if project.owner_team_id is not None:
        teams.add(project.owner_team_id)
    stale = {
        (asset_id, team_id, origin): pk
        for pk, asset_id, team_id, origin in Registration.objects.filter(
            asset_id__in=was_read, team_id__in=teams, origin=Registration.Origin.LINEAGE
        ).values_list("pk", "asset_id", "team_id", "origin")
        if (asset_id, team_id, origin) not in wanted
    }
    if not stale:
        return []
    stale_assets = {a for a, _, _ in stale}
    read_elsewhere = set(
        LineageEdge.objects.filter(upstream_id__in=stale_assets)
        .exclude(project=project)
        .values_list("upstream_id", "downstream__owner_team_id")
    ) | set(
        AssetNode.objects.filter(asset_id__in=stale_assets)
        .exclude(Q(project=project) | Q(project=F("asset__project")) | Q(project__owner_team__isnull=True))
        .values_list("asset_id", "project__owner_team_id")
    )
    return [(key, pk) for key, pk in stale.items() if (key[0], key[1]) not in read_elsewhere]


def record_registration_events(
    ctx: SyncContext, *, add: list[Key], removed: list[Key], relations: dict[int, str]
) -> None:
    """One registration.added / registration.removed event per key (the exposures step too)."""
    team_slug = {t.pk: t.slug for t in ctx.teams.values()}
    missing_ids = {t for _, t, _ in add + removed} - team_slug.keys()
    team_slug.update(dict(Team.objects.filter(pk__in=missing_ids).values_list("pk", "slug")))
    events = [
        ctx.event_row(
            kind,
            asset_id=a,
            team_id=t,
            payload={"team": team_slug.get(t), "origin": o, "relation": relations.get(a)},
        )
        for kind, keys in (("registration.added", add), ("registration.removed", removed))
        for a, t, o in keys
    ]
    event_rows_record(events)
