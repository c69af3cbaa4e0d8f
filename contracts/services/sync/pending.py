"""Cross-project refs that wait for their upstream project (issue #19).

A project may sync before the project it refs (marketing's ``ref('core', 'dim_customers')`` before
core's first sync) or before the upstream has the model. Its sync records what it could not link
(``pending_record``, called by the references step) and warns; the upstream project's sync links
those refs as soon as it has the asset (``references_adopt``, a step of its own): a lineage edge to
each reading model, the readers' team registered as consumer (origin lineage), the node linked.
From then on a breaking change asks the reading team, without waiting for its next sync.
"""

from __future__ import annotations

from contracts.domain import PackageNode
from contracts.models import Asset, AssetNode, LineageEdge, PendingReference, Registration
from contracts.services.sync.assets import AssetPlan
from contracts.services.sync.context import SyncContext
from contracts.services.sync.registrations import record_registration_events
from tessera_site.lib.bulk import rows_insert


def pending_record(ctx: SyncContext, plan: AssetPlan, unresolved: list[PackageNode]) -> None:
    """Replace this project's waiting refs by the ones still unresolved that its models read."""
    wanted = {n.unique_id for n in unresolved}
    reader_of = {spec.unique_id: asset.pk for asset, spec in plan.owned.values()}
    readers: dict[str, set[int]] = {}
    for spec in ctx.parsed.assets:
        reader = reader_of.get(spec.unique_id)
        if reader is not None:
            for dep in wanted.intersection(spec.depends_on):
                readers.setdefault(dep, set()).add(reader)
    PendingReference.objects.filter(project=ctx.project).delete()
    PendingReference.objects.bulk_create(
        [
            PendingReference(
                project=ctx.project,
                upstream_project=node.package_name,
                unique_id=node.unique_id,
                relation=node.relation,
                reader_ids=sorted(readers[node.unique_id]),
                created_at=ctx.now,
            )
            for node in unresolved
            if readers.get(node.unique_id)
        ],
        ignore_conflicts=True,
    )


def references_adopt(ctx: SyncContext, plan: AssetPlan) -> None:
    """Link the refs other projects made to this one's assets while they did not exist yet."""
    pending = list(
        PendingReference.objects.filter(upstream_project=ctx.project.name)
        .exclude(project=ctx.project)
        .select_related("project")
    )
    if not pending:
        return
    ours: dict[str, Asset] = {}
    for owned, spec in plan.owned.values():
        ours[spec.unique_id] = owned
        ours[owned.relation] = owned
    reader_ids = {r for ref in pending for r in ref.reader_ids}
    readers = Asset.objects.exclude(status=Asset.Status.RETIRED).in_bulk(reader_ids)
    nodes, edges, wanted, done = [], [], {}, []
    for ref in pending:
        asset = ours.get(ref.unique_id) or ours.get(ref.relation)
        if asset is None:
            continue  # still not here: it waits on
        done.append(ref.pk)
        nodes.append((ref.project_id, ref.unique_id, asset.resource_type, asset.pk))
        for reader in filter(None, (readers.get(r) for r in ref.reader_ids)):
            edges.append((asset.pk, reader.pk, ref.project_id))
            if reader.owner_team_id != asset.owner_team_id:
                wanted[(asset, reader.owner_team_id)] = f"read by project {ref.project.name}"[:500]
    rows_insert(AssetNode, ("project", "unique_id", "resource_type", "asset"), nodes, ignore_conflicts=True)
    rows_insert(LineageEdge, ("upstream", "downstream", "project"), edges, ignore_conflicts=True)
    _registrations_add(ctx, wanted)
    PendingReference.objects.filter(pk__in=done).delete()
    ctx.out.references["cross_project_refs_adopted"] = len(done)


def _registrations_add(ctx: SyncContext, wanted: dict[tuple[Asset, int], str]) -> None:
    """The reading teams, registered (origin lineage) and recorded as events, as the registrations step does."""
    lineage = Registration.Origin.LINEAGE
    known = set(
        Registration.objects.filter(asset__in={a for a, _ in wanted}, origin=lineage).values_list(
            "asset_id", "team_id"
        )
    )
    add = {key: purpose for key, purpose in wanted.items() if (key[0].pk, key[1]) not in known}
    Registration.objects.bulk_create(
        [
            Registration(asset=asset, team_id=team_id, origin=lineage, purpose=purpose, created_at=ctx.now)
            for (asset, team_id), purpose in add.items()
        ],
        ignore_conflicts=True,
    )
    record_registration_events(
        ctx,
        add=[(asset.pk, team_id, lineage) for asset, team_id in add],
        removed=[],
        relations={asset.pk: asset.relation for asset, _ in add},
    )
    ctx.out.registrations_added += len(add)
