"""Sync step: the project's lineage edges follow its manifest's depends_on (added and removed)."""

from __future__ import annotations

from contracts.models import LineageEdge
from contracts.services.sync.context import SyncContext
from tessera_site.lib.bulk import rows_insert


def lineage_write(ctx: SyncContext, node_asset: dict[str, int]) -> None:
    project, out = ctx.project, ctx.out
    wanted: set[tuple[int, int]] = set()
    for spec in ctx.parsed.assets:
        downstream = node_asset.get(spec.unique_id)
        if downstream is None:
            continue
        for dep in spec.depends_on:
            upstream = node_asset.get(dep)
            if upstream is not None and upstream != downstream:
                wanted.add((upstream, downstream))
    existing = {
        (up, down): pk
        for pk, up, down in LineageEdge.objects.filter(project=project).values_list(
            "pk", "upstream_id", "downstream_id"
        )
    }
    add = [edge for edge in wanted if edge not in existing]
    remove = [pk for edge, pk in existing.items() if edge not in wanted]
    rows_insert(
        LineageEdge,
        ("upstream", "downstream", "project"),
        [(u, d, project.pk) for u, d in add],
        ignore_conflicts=True,
    )
    if remove:
        LineageEdge.objects.filter(pk__in=remove).delete()
    out.edges_added = len(add)
    out.edges_removed = len(remove)
