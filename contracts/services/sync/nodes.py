"""Sync step: every dbt node of the project (sources read here included) points at its asset, so a
later manifest, run_results or check finds the asset by unique_id."""

from __future__ import annotations

from contracts.models import AssetNode
from contracts.services.sync.assets import AssetPlan
from contracts.services.sync.context import SyncContext
from tessera_site.lib.bulk import BULK_BATCH, rows_insert


def nodes_write(ctx: SyncContext, plan: AssetPlan) -> dict[str, int]:
    """Link each node to its asset; return node unique_id → asset id (lineage and registrations use it)."""
    node_asset: dict[str, int] = {}
    for unique_id, relation in plan.node_relation.items():
        asset = plan.relation_asset.get(relation)
        if asset is not None:
            node_asset[unique_id] = asset.pk
    resource_of = {s.unique_id: s.resource_type for s in ctx.parsed.assets}
    resource_of.update((n.unique_id, n.resource_type) for n in ctx.parsed.package_nodes)  # cross-project refs
    project = ctx.project
    known = {
        uid: (pk, asset_id)
        for pk, uid, asset_id in AssetNode.objects.filter(project=project).values_list(
            "pk", "unique_id", "asset_id"
        )
    }
    create: list[tuple[int, str, str, int]] = []
    moved: list[AssetNode] = []
    for unique_id, asset_id in node_asset.items():
        row = known.get(unique_id)
        if row is None:
            create.append((project.pk, unique_id, resource_of[unique_id], asset_id))
        elif row[1] != asset_id:
            moved.append(AssetNode(pk=row[0], asset_id=asset_id))
    rows_insert(AssetNode, ("project", "unique_id", "resource_type", "asset"), create, ignore_conflicts=True)
    if moved:
        AssetNode.objects.bulk_update(moved, ["asset_id"], batch_size=BULK_BATCH)
    return node_asset
