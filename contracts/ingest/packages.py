"""Nodes of other packages inside a manifest (SPEC §4: packages' models belong to the package).

A manifest holds more than its project's own nodes: installed packages' models (elementary,
dbt_project_evaluator, or another team's project installed as a package) and, with dbt-loom or
dbt Mesh, the public models of upstream projects injected for ``{{ ref('core', 'dim_customers') }}``.
dbt-loom injects them as model nodes whose ``package_name`` is the upstream project, with the
upstream relation and ``access``, but no file, no SQL and no columns (dbt calls them external
nodes: no ``path`` and no ``original_file_path``). None of them is an asset of the syncing
project; the sync decides what each one is (services.sync.references).

Pure: decoded nodes in, :class:`~contracts.domain.PackageNode` out.
"""

from __future__ import annotations

from contracts.domain import PackageNode, relation_name
from contracts.ingest.exposures import node_access
from contracts.ingest.manifest_schema import Node


def of_another_package(node: Node, project_name: str) -> bool:
    """A node whose package is not the manifest's project."""
    package = node.package_name
    return bool(package) and package != project_name


def package_node(node: Node) -> PackageNode:
    """What the sync needs to know of a node of another package: which relation, whose, whether
    it was injected from another project's manifest."""
    version = node.version
    return PackageNode(
        unique_id=node.unique_id or "",
        package_name=node.package_name or "",
        resource_type=node.resource_type or "",
        name=node.name or "",
        relation=relation_name(node.database or "", node.schema or "", node.alias or node.name or ""),
        version=None if version is None else str(version),
        access=node_access(node)["access"],  # the same reading as the project's own models
        external=not node.original_file_path and not node.path,
    )
