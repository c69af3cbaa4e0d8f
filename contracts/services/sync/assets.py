"""Sync step: which asset each relation of the manifest is. One spec per relation; an existing
asset is updated in place, a new relation becomes a new asset of its owner team (if that team may
own assets here: see the owners step), another project's asset read here through a source is a
cross-project read, and a model writing another project's relation is refused: a sync never moves
an asset (that is a transfer). Nothing here judges contracts: that is the versions step."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from contracts.domain import DEFAULT_MODE, AssetSpec, PackageNode, ParsedManifest
from contracts.models import Asset, ContractVersion, Team
from contracts.services.sync.context import SyncContext, chunks
from contracts.services.sync.owners import sync_foreign_refusal, sync_owner_mismatch
from contracts.services.sync.relations import relation_moves
from tessera_site.lib.bulk import BULK_BATCH, InstanceBuilder, any_of, ids_allocate, instances_insert


@dataclass
class AssetPlan:
    """The manifest's relations matched to assets; what the later steps write against."""

    node_relation: dict[str, str]  # every node's unique_id → its relation
    existing: dict[str, Asset]  # relation → asset known before this sync
    relation_asset: dict[str, Asset] = field(default_factory=dict)  # every relation named → its asset
    owned: dict[str, tuple[Asset, AssetSpec]] = field(default_factory=dict)  # assets this sync maintains
    new_assets: list[Asset] = field(default_factory=list)
    updated: list[Asset] = field(default_factory=list)
    changed_fields: set[str] = field(default_factory=set)
    # Another project's asset read here: through a source (its spec) or a cross-project ref (references step).
    cross_reads: list[tuple[AssetSpec | PackageNode, Asset]] = field(default_factory=list)
    # Assets known until now only as a source (read here or, after a transfer, elsewhere) that
    # this project produces: their producer's first contract publishes directly.
    first_produced: set[int] = field(default_factory=set)
    unowned: list[str] = field(default_factory=list)
    # Same unique_id, new relation (services.relations): judged with the removals by the retire step.
    moves: dict[str, Asset] = field(default_factory=dict)  # new relation → the asset naming the old one
    moved: list[tuple[Asset, AssetSpec]] = field(default_factory=list)
    # New assets written with their first version's id (relation → version pk; PostgreSQL, see
    # assets_write): the versions step inserts that version under that id and leaves the row alone.
    first_versions: dict[str, int] = field(default_factory=dict)


def specs_by_relation(
    parsed: ParsedManifest, *, warn: Any = None
) -> tuple[dict[str, AssetSpec], dict[str, str]]:
    """One spec per relation (the producing node wins over sources of the same relation), and
    every node's relation. A source naming a relation produced in the same manifest is an alias."""
    by_relation: dict[str, AssetSpec] = {}
    node_relation: dict[str, str] = {}
    for spec in parsed.assets:
        relation = spec.relation
        node_relation[spec.unique_id] = relation
        current = by_relation.get(relation)
        if current is None:
            by_relation[relation] = spec
        elif current.resource_type == "source" and spec.resource_type != "source":
            by_relation[relation] = spec  # the producing node defines the contract
        elif spec.resource_type != "source" and current.resource_type != "source" and warn is not None:
            warn(f"{spec.unique_id} and {current.unique_id} both write {relation}; kept {current.unique_id}.")
    return by_relation, node_relation


def existing_assets(relations: list[str]) -> dict[str, Asset]:
    found: dict[str, Asset] = {}
    for chunk in chunks(relations):
        found.update(
            {
                a.relation: a
                for a in Asset.objects.filter(any_of("relation", chunk)).select_related(
                    "owner_team", "project"
                )
            }
        )
    return found


def _with_owner_teams(assets: list[Asset], *, known: Iterable[Team]) -> list[Asset]:
    """Each asset with its owner team attached, one shared instance per team (the manifest's teams,
    then one query for the others): ``select_related`` built a team per row, a third of the time of
    reading a project's 7,000 assets."""
    teams = {t.pk: t for t in known}
    missing = {a.owner_team_id for a in assets} - teams.keys()
    if missing:
        teams.update((t.pk, t) for t in Team.objects.filter(pk__in=missing))
    for asset in assets:
        asset.owner_team = teams[asset.owner_team_id]
    return assets


def assets_match(ctx: SyncContext) -> AssetPlan:
    """Match every relation to its asset (in memory; assets_write writes them)."""
    by_relation, node_relation = specs_by_relation(ctx.parsed, warn=ctx.out.warn)
    # The project's live assets, then only the manifest's relations not among them (retired, other
    # projects', new): each asset is read once (relation is unique), not twice.
    project_assets = {
        a.relation: a
        for a in _with_owner_teams(
            list(Asset.objects.filter(project=ctx.project).exclude(status=Asset.Status.RETIRED)),
            known=ctx.teams.values(),
        )
    }
    elsewhere = existing_assets([r for r in by_relation if r not in project_assets])
    existing = {
        r: project_assets.get(r) or elsewhere[r] for r in by_relation if r in project_assets or r in elsewhere
    }
    for relation, asset in project_assets.items():
        existing.setdefault(relation, asset)
    plan = AssetPlan(node_relation=node_relation, existing=existing)
    plan.moves = relation_moves(
        project_assets=[
            a for a in existing.values() if a.project_id == ctx.project.pk and a.status == Asset.Status.ACTIVE
        ],
        specs=by_relation,
    )
    for relation, spec in by_relation.items():
        _match(ctx, plan, relation, spec)
    return plan


def _match(ctx: SyncContext, plan: AssetPlan, relation: str, spec: AssetSpec) -> None:
    asset = plan.existing.get(relation)
    if asset is None and relation in plan.moves:
        mover = plan.moves[relation]
        spec.contract.mode = spec.compatibility_mode or mover.compatibility_mode or DEFAULT_MODE
        plan.relation_asset[relation] = mover  # its nodes, lineage and consumers stay with the asset
        plan.moved.append((mover, spec))
        return
    if asset is not None and asset.project_id not in (None, ctx.project.pk):
        _foreign(ctx, plan, relation, spec, asset)
        return
    named = ctx.teams.get(spec.owner_team) if spec.owner_team else None
    if asset is None and named is not None and ctx.owners is not None:
        refusal = ctx.owners.refusal_for_new(unique_id=spec.unique_id, named=named)
        if refusal is not None:
            ctx.out.refuse(spec.unique_id, refusal)
            return
    owner = named or ctx.default_owner
    if asset is not None and asset.resource_type == Asset.Type.SOURCE and spec.resource_type != "source":
        plan.first_produced.add(asset.pk)
    fields = _spec_fields(spec)
    if asset is None:
        if owner is None:
            plan.unowned.append(spec.unique_id)
            return
        fields.update(
            relation=relation,
            project=ctx.project,
            owner_team=owner,
            compatibility_mode=spec.compatibility_mode or DEFAULT_MODE,
            # What the access step would write next: a new asset has no readers whose proposal
            # could hold a narrowing back, so its dbt access and group are final now.
            access=spec.access,
            dbt_group=spec.group,
            created_at=ctx.now,
            updated_at=ctx.now,
        )
        asset = _new_asset(fields)  # Asset(**fields), built positionally
        plan.new_assets.append(asset)
    elif _refresh(ctx, plan, asset, spec, fields, named=named):
        plan.updated.append(asset)
    spec.contract.mode = spec.compatibility_mode or asset.compatibility_mode or DEFAULT_MODE
    plan.relation_asset[relation] = asset
    plan.owned[relation] = (asset, spec)


_new_asset = InstanceBuilder(Asset)


def _foreign(ctx: SyncContext, plan: AssetPlan, relation: str, spec: AssetSpec, asset: Asset) -> None:
    """A relation that belongs to another project: read here, or (a model) refused, whichever
    project synced first: the asset changes project only by a transfer."""
    if spec.resource_type == "source":
        plan.relation_asset[relation] = asset
        plan.cross_reads.append((spec, asset))  # another project's model, read here
        return
    ctx.out.refuse(
        spec.unique_id, sync_foreign_refusal(unique_id=spec.unique_id, relation=relation, asset=asset)
    )


def _spec_fields(spec: AssetSpec) -> dict[str, Any]:
    return {
        "unique_id": spec.unique_id,
        "name": spec.name,
        "resource_type": spec.resource_type,
        "package_name": spec.package_name,
        "model_version": spec.version or "",
        "latest_version": spec.latest_version or "",
        "deprecation_date": dt.date.fromisoformat(spec.deprecation_date) if spec.deprecation_date else None,
        "unpinned_refs": spec.unpinned_refs,
        "database": spec.database,
        "schema": spec.schema,
        "identifier": spec.identifier,
        "description": spec.description,
        "materialized": spec.materialized,
        "tags": spec.tags,
        "meta": spec.meta,
    }


def _refresh(
    ctx: SyncContext,
    plan: AssetPlan,
    asset: Asset,
    spec: AssetSpec,
    fields: dict[str, Any],
    *,
    named: Team | None,
) -> bool:
    """Bring a known asset up to date with its node; True when something changed."""
    changed = plan.changed_fields
    dirty = False
    for name, value in fields.items():
        if getattr(asset, name) != value:
            setattr(asset, name, value)
            changed.add(name)
            dirty = True
    if asset.project_id is None:
        asset.project = ctx.project
        changed.add("project")
        dirty = True
    if asset.status == Asset.Status.RETIRED:
        asset.status = Asset.Status.ACTIVE
        asset.retired_at = None
        changed.update(("status", "retired_at"))
        ctx.out.reactivated.append(asset.relation)
        dirty = True
    elif named is not None and named.pk != asset.owner_team_id:
        ctx.out.warn(sync_owner_mismatch(relation=asset.relation, asset=asset, named=named))
    return dirty


def _first_versions_point(plan: AssetPlan) -> None:
    """Write each new asset pointing at its first version already, so that its row is inserted
    once with its final values instead of being updated by the versions step (every update of an
    asset rewrites the row and all of its indexes, three of them trigram GINs).

    A new asset's first contract always publishes, as 1.0.0 of its own content under its own mode:
    there is no earlier contract to break, and a new asset does not require a passing audit. The
    version's id is drawn here (PostgreSQL: the foreign key is checked at the end of the sync, when
    the version exists); elsewhere the versions step points the asset at it as for any asset.
    """
    ids = ids_allocate(ContractVersion, len(plan.new_assets))
    if ids is None:
        return
    for asset, version_id in zip(plan.new_assets, ids, strict=True):
        spec = plan.owned[asset.relation][1]
        asset.active_version_id = version_id
        asset.active_major = 1  # its first version is 1.0.0 (versions step: _first_versions_number)
        asset.content_hash = spec.contract.content_hash()
        asset.compatibility_mode = spec.contract.mode
        plan.first_versions[asset.relation] = version_id


def assets_write(ctx: SyncContext, plan: AssetPlan) -> None:
    """Insert the new assets and update the changed ones, in bulk; report the unowned nodes."""
    if plan.unowned:
        ctx.out.skipped = plan.unowned
        ctx.out.warn(
            f"{len(plan.unowned)} node(s) have no owner team (no meta.tessera.owner_team, no ?team=, no "
            f"project owner, no API key team) and were skipped: {', '.join(plan.unowned[:10])}"
            + (" ..." if len(plan.unowned) > 10 else "")
        )
    if plan.new_assets:
        _first_versions_point(plan)
        instances_insert(Asset, plan.new_assets)
        ctx.out.created = [a.relation for a in plan.new_assets]
    if plan.updated:
        Asset.objects.bulk_update(
            plan.updated, sorted(plan.changed_fields | {"updated_at"}), batch_size=BULK_BATCH
        )
