"""Read API for assets, contract versions, diffs, lineage and consumers.

``ref`` in a path is an asset id, a relation name (``core.main.dim_customers``) or a dbt
unique_id (``model.core.dim_customers``, also another project's source that reads it). Path
parameters stop at "/" only, so dotted refs need no escaping.
"""

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router
from ninja.pagination import paginate

from contracts.api.access import request_actor
from contracts.api.registrations import consumer_out
from contracts.api.schemas import (
    AssetDetailOut,
    AssetFilters,
    AssetRowOut,
    DiffOut,
    ErrorOut,
    LineageOut,
    VersionOut,
    VersionSummaryOut,
)
from contracts.models import Asset, ContractVersion
from contracts.selectors.assets import (
    asset_consumers,
    asset_get,
    asset_list,
    asset_open_proposal,
    asset_versions,
    version_diff,
    version_get,
)
from contracts.selectors.column_usage import column_lineage, column_sources
from contracts.selectors.exposures import asset_dbt_signals
from contracts.selectors.lineage import MAX_DEPTH, LineageNode, lineage_graph
from tessera_site.lib.pagination import PageNumbers

router = Router(tags=["assets"])


# --- shaping rows into responses ----------------------------------------------------------------
def _summary(asset: Asset, *, consumer_count: int | None = None) -> dict[str, Any]:
    version = asset.active_version
    return {
        "id": asset.pk,
        "relation": asset.relation,
        "unique_id": asset.unique_id,
        "name": asset.display_name,
        "type": asset.resource_type,
        "status": asset.status,
        "team": asset.owner_team.slug,
        "project": asset.project.name if asset.project else None,
        "mode": asset.compatibility_mode,
        "version": version.semver if version else None,
        "consumer_count": consumer_count
        if consumer_count is not None
        else getattr(asset, "consumer_count", 0),
        **model_version_fields(asset),
    }


def model_version_fields(asset: Asset) -> dict[str, Any]:
    return {
        "model_name": asset.name,
        "model_version": asset.model_version,
        "latest_version": asset.latest_version,
        "is_latest": asset.is_latest,
        "deprecation_date": asset.deprecation_date,
    }


def _version(version: ContractVersion) -> dict[str, Any]:
    return {
        "id": version.pk,
        "version": version.semver,
        "status": version.status,
        "change_kind": version.change_kind,
        "mode": version.compatibility_mode,
        "content_hash": version.content_hash,
        "created_at": version.created_at,
        "published_at": version.published_at,
        "columns": [
            {
                "name": c.get("name", ""),
                "data_type": c.get("data_type") or "",
                "normalized_type": c.get("normalized_type") or "",
                "nullable": bool(c.get("nullable", True)),
                "description": c.get("description") or "",
            }
            for c in version.columns or []
        ],
        "guarantees": [
            {
                "kind": g.get("kind", ""),
                "column": g.get("column"),
                "arguments": g.get("arguments") or {},
                "severity": g.get("severity") or "error",
                "test_unique_id": g.get("test_unique_id"),
                "name": g.get("name") or "",
            }
            for g in version.guarantees or []
        ],
    }


def _node(node: LineageNode, hops: int | None) -> dict[str, Any]:
    return {
        "id": node.id,
        "relation": node.relation,
        "name": node.name,
        "type": node.type,
        "status": node.status,
        "team": node.team,
        "project": node.project,
        "hops": hops or 0,
    }


# --- assets -------------------------------------------------------------------------------------
@router.get("/assets", response=list[AssetRowOut], summary="Assets, filtered and paginated")
@paginate(PageNumbers)
def assets_list(request: HttpRequest, filters: Query[AssetFilters]):
    request_actor(request, "read")
    return asset_list(
        search=filters.search,
        team=filters.team,
        project=filters.project,
        resource_type=filters.type,
        status=filters.status,
        consumer=filters.consumer,
    )


@router.get("/assets/{ref}", response={200: AssetDetailOut, 404: ErrorOut}, summary="One asset")
def asset_detail(request: HttpRequest, ref: str):
    request_actor(request, "read")
    asset = asset_get(ref=ref)
    consumers = asset_consumers(asset=asset)
    proposal = asset_open_proposal(asset=asset)
    consumer_teams = sorted({r.team.slug for r in consumers})
    return {
        **_summary(asset, consumer_count=len(consumer_teams)),
        "description": asset.description,
        "database": asset.database,
        "db_schema": asset.schema,
        "identifier": asset.identifier,
        "materialized": asset.materialized,
        "tags": list(asset.tags or []),
        "active_version": _version(asset.active_version) if asset.active_version else None,
        "consumers": [consumer_out(r) for r in consumers],
        **asset_dbt_signals(asset=asset),
        "consumer_teams": consumer_teams,
        "open_proposal": (
            {
                "id": proposal.pk,
                "status": proposal.status,
                "origin": proposal.origin,
                "proposed_version": proposal.proposed_version.semver if proposal.proposed_version else None,
                "deadline": proposal.deadline,
            }
            if proposal
            else None
        ),
        "open_proposal_id": proposal.pk if proposal else None,
    }


@router.get(
    "/assets/{ref}/versions",
    response={200: list[VersionSummaryOut], 404: ErrorOut},
    summary="Contract history",
)
def asset_versions_list(request: HttpRequest, ref: str):
    request_actor(request, "read")
    asset = asset_get(ref=ref)
    return [
        {
            "id": v.pk,
            "version": v.semver,
            "status": v.status,
            "change_kind": v.change_kind,
            "mode": v.compatibility_mode,
            "content_hash": v.content_hash,
            "created_at": v.created_at,
            "published_at": v.published_at,
            "summary": (v.verdict or {}).get("summary", ""),
            "reasons": list((v.verdict or {}).get("reasons", [])),
        }
        for v in asset_versions(asset=asset)
    ]


@router.get(
    "/assets/{ref}/versions/{version}",
    response={200: VersionOut, 404: ErrorOut, 422: ErrorOut},
    summary="One contract version with its columns and guarantees",
)
def asset_version_detail(request: HttpRequest, ref: str, version: str):
    request_actor(request, "read")
    asset = asset_get(ref=ref)
    return _version(version_get(asset=asset, ref=version))


@router.get(
    "/assets/{ref}/versions/{a}/diff/{b}",
    response={200: DiffOut, 404: ErrorOut, 422: ErrorOut},
    summary="Diff and verdict between two versions (semver or id)",
)
def asset_versions_diff(request: HttpRequest, ref: str, a: str, b: str):
    request_actor(request, "read")
    asset = asset_get(ref=ref)
    base, target = version_get(asset=asset, ref=a), version_get(asset=asset, ref=b)
    diff = version_diff(asset=asset, base=base, target=target)
    verdict = diff.verdict.as_dict()
    return {
        "asset_id": asset.pk,
        "relation": asset.relation,
        "base": {"id": base.pk, "version": base.semver, "status": base.status},
        "target": {"id": target.pk, "version": target.semver, "status": target.status},
        **{k: verdict[k] for k in ("mode", "breaking", "bump", "summary", "reasons", "unknown")},
        "changes": verdict["changes"],
        "breaking_changes": verdict["breaking_changes"],
    }


@router.get(
    "/assets/{ref}/lineage",
    response={200: LineageOut, 404: ErrorOut},
    summary="Upstream and downstream assets, across projects",
)
def asset_lineage(
    request: HttpRequest,
    ref: str,
    depth: int = Query(1, ge=1, le=MAX_DEPTH),
    columns: bool = Query(False, description="Add the column-level edges downstream (column usage)"),
    column: str | None = Query(None, max_length=300, description="Follow one column only (implies columns)"),
):
    request_actor(request, "read")
    asset = asset_get(ref=ref)
    graph = lineage_graph(asset=asset, depth=depth)
    assert graph.root is not None  # the walk starts from an asset
    return {
        "root": _node(graph.root, 0),
        "depth": graph.depth,
        "upstream": [_node(n, n.up_hops) for n in graph.upstream],
        "downstream": [_node(n, n.down_hops) for n in graph.downstream],
        "edges": [{"upstream": up, "downstream": down} for up, down in graph.edges],
        "column_edges": column_lineage(asset=asset, column=column, depth=depth)
        if columns or column
        else None,
        "column_sources": column_sources(asset=asset, column=column) if column else None,
    }
