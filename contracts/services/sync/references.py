"""Sync step: nodes of other packages, and cross-project refs among them (issue #19).

A manifest carries nodes of other packages (``ParsedManifest.package_nodes``): another dbt
project's public models injected by dbt-loom or dbt Mesh for ``{{ ref('core', 'dim_customers') }}``,
or the models of an installed package. None of them is an asset of the syncing project:

- a node whose package is a project Tessera knows (another project's row) and that a model
  (ephemeral ones too) or an exposure of this manifest reads is a **reference** to that project's asset (matched by unique_id, else by
  relation): a lineage edge from the asset to each reading model, and the reading models' team
  registered as its consumer (origin lineage, like a source read). It never creates an asset or a
  version and never changes the asset's owner.
- an injected node (no file, no SQL: dbt's external node) of a project Tessera does not know yet,
  or a ref to a known project that has no such asset yet, is reported by a warning naming it and
  kept (``pending.pending_record``): the upstream project's sync links it as soon as it has the
  asset (``pending.references_adopt``).
- any other package's node (elementary, dbt_project_evaluator, ...) belongs to its package (SPEC §4)
  and is skipped; the summary counts them.

Unread injected nodes are ignored: dbt-loom injects every model of the upstream manifest, and a
team consumes only what its models read. ``references_resolve`` only reads, so the CI check
(``check.py``) reports the same references a sync would link.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from contracts.domain import PackageNode, ParsedManifest
from contracts.models import Asset, Project
from contracts.services.sync.assets import AssetPlan
from contracts.services.sync.context import SyncContext
from contracts.services.sync.pending import pending_record

MAX_NAMED = 10


@dataclass
class References:
    """The manifest's nodes of other packages, resolved against what Tessera knows."""

    linked: list[tuple[PackageNode, Asset]] = field(default_factory=list)  # read here, asset known
    unknown_projects: dict[str, list[PackageNode]] = field(default_factory=dict)  # project → nodes read
    missing: list[tuple[PackageNode, str]] = field(default_factory=list)  # known project, no such asset
    skipped: Counter[str] = field(default_factory=Counter)  # package → nodes that belong to it

    def unresolved(self) -> list[PackageNode]:
        return [n for nodes in self.unknown_projects.values() for n in nodes] + [n for n, _ in self.missing]

    def warnings(self, *, project_name: str) -> list[str]:
        out = [
            f"{project_name} reads {_named([n.unique_id for n in nodes])} of project '{name}', which Tessera "
            f"does not know yet: the lineage and the consumer registration are made when '{name}' syncs."
            for name, nodes in sorted(self.unknown_projects.items())
        ]
        out += [
            f"{node.unique_id}: project '{project}' has no asset {node.unique_id} (nor {node.relation}) yet: "
            "linked when its sync has it (check that the ref names one of its models)."
            for node, project in self.missing
        ]
        return out

    def summary(self) -> dict[str, Any]:
        """What the sync summary says of them (the upstream's sync adds ``cross_project_refs_adopted``)."""
        return {
            "cross_project_refs": len(self.linked),
            "cross_project_refs_unresolved": len(self.unresolved()),
            "package_nodes_skipped": sum(self.skipped.values()),
            "package_nodes_skipped_by_package": dict(sorted(self.skipped.items())),
        }


def _named(unique_ids: list[str]) -> str:
    shown = ", ".join(unique_ids[:MAX_NAMED])
    return shown + (f" and {len(unique_ids) - MAX_NAMED} more" if len(unique_ids) > MAX_NAMED else "")


def references_resolve(parsed: ParsedManifest) -> References:
    """Sort the manifest's package nodes into references, unknown projects and package nodes
    (reads only: a handful of queries)."""
    refs = References()
    if not parsed.package_nodes:
        return refs
    read = read_by_project(parsed)
    packages = {n.package_name for n in parsed.package_nodes} - {parsed.project_name}
    projects = {p.name: p for p in Project.objects.filter(name__in=packages)}
    wanted = [n for n in parsed.package_nodes if n.package_name in projects and n.unique_id in read]
    found = _upstream_assets(wanted, projects)
    for node in parsed.package_nodes:
        project = projects.get(node.package_name)
        if project is not None:
            if node.unique_id not in read:
                continue  # injected or installed but not read here
            asset = found.get((project.pk, node.unique_id)) or found.get((project.pk, node.relation))
            if asset is None:
                refs.missing.append((node, project.name))
            else:
                refs.linked.append((node, asset))
        elif node.external:
            if node.unique_id in read:
                refs.unknown_projects.setdefault(node.package_name, []).append(node)
        else:
            refs.skipped[node.package_name] += 1
    return refs


def read_by_project(parsed: ParsedManifest) -> set[str]:
    """Every node the project's own models (ephemeral ones too) and exposures read."""
    read = {dep for spec in parsed.assets for dep in spec.depends_on}
    read.update(dep for deps in parsed.ephemeral_depends_on.values() for dep in deps)
    read.update(dep for exposure in parsed.exposures for dep in exposure.depends_on)
    return read


def _upstream_assets(nodes: list[PackageNode], projects: dict[str, Project]) -> dict[tuple[int, str], Asset]:
    """The upstream projects' live assets of these nodes, by (project, unique_id) and (project, relation)."""
    if not nodes:
        return {}
    found: dict[tuple[int, str], Asset] = {}
    candidates = (
        Asset.objects.filter(project__in={projects[n.package_name].pk for n in nodes})
        .filter(Q(unique_id__in={n.unique_id for n in nodes}) | Q(relation__in={n.relation for n in nodes}))
        .exclude(status=Asset.Status.RETIRED)
        .select_related("owner_team", "project")
        .order_by("pk")
    )
    for asset in candidates:
        assert asset.project_id is not None  # filtered by project
        found.setdefault((asset.project_id, asset.unique_id), asset)
        found.setdefault((asset.project_id, asset.relation), asset)
    return found


def references_link(ctx: SyncContext, plan: AssetPlan) -> None:
    """Make each cross-project ref a read of the upstream asset, as a source read is: the nodes
    step links the node to the asset, the lineage step draws the edges to the models that read
    it, the registrations step registers their team. Nothing of the asset is written here."""
    refs = references_resolve(ctx.parsed)
    read_here = {asset.pk for _, asset in plan.cross_reads}
    for node, asset in refs.linked:
        plan.node_relation[node.unique_id] = asset.relation
        plan.relation_asset.setdefault(asset.relation, asset)
        if asset.pk not in read_here:
            read_here.add(asset.pk)
            plan.cross_reads.append((node, asset))
    pending_record(ctx, plan, refs.unresolved())
    for text in refs.warnings(project_name=ctx.project.name):
        ctx.out.warn(text)
    ctx.out.references = refs.summary()
