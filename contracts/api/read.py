"""Read API for assets, contract versions, diffs, lineage and consumers; registrations; teams.

``ref`` in a path is an asset id, a relation name (``core.main.dim_customers``) or a dbt
unique_id (``model.core.dim_customers``, also another project's source that reads it). Path
parameters stop at "/" only, so dotted refs need no escaping.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from contracts.models import Asset, ContractVersion, Registration, Team
from contracts.selectors.assets import (
    DEFAULT_PAGE_SIZE,
    asset_consumers,
    asset_get,
    asset_list,
    asset_open_proposal,
    asset_versions,
    paginate,
    team_get,
    team_summary,
    version_diff,
    version_get,
)
from contracts.selectors.lineage import MAX_DEPTH, lineage_graph
from contracts.services.registrations import registration_add, registration_remove
from tessera_site.lib.auth import Actor
from tessera_site.lib.errors import forbidden, invalid, not_found

router = Router(tags=["assets"])


# --- schemas ----------------------------------------------------------------------------------
class AssetSummaryOut(Schema):
    id: int
    relation: str
    unique_id: str
    name: str
    type: str
    status: str
    team: str
    project: str | None
    mode: str
    version: str | None
    consumer_count: int


class AssetListOut(Schema):
    count: int
    page: int
    page_size: int
    pages: int
    items: list[AssetSummaryOut]


class ColumnOut(Schema):
    name: str
    data_type: str
    normalized_type: str
    nullable: bool
    description: str


class GuaranteeOut(Schema):
    kind: str
    column: str | None
    arguments: dict[str, Any]
    severity: str
    test_unique_id: str | None
    name: str


class _VersionFields(Schema):
    """What a version is, in the full and the summary form alike."""

    id: int
    version: str
    status: str
    change_kind: str
    mode: str
    content_hash: str
    created_at: datetime
    published_at: datetime | None


class VersionOut(_VersionFields):
    columns: list[ColumnOut]
    guarantees: list[GuaranteeOut]


class VersionSummaryOut(_VersionFields):
    summary: str
    reasons: list[str]


class ConsumerOut(Schema):
    team: str
    team_name: str
    origin: str
    purpose: str
    created_at: datetime


class OpenProposalOut(Schema):
    id: int
    status: str
    origin: str
    proposed_version: str | None
    deadline: datetime


class AssetDetailOut(AssetSummaryOut):
    description: str
    database: str
    db_schema: str
    identifier: str
    model_version: str
    materialized: str
    tags: list[str]
    active_version: VersionOut | None
    consumers: list[ConsumerOut]
    consumer_teams: list[str]
    open_proposal: OpenProposalOut | None
    open_proposal_id: int | None


class VersionRefOut(Schema):
    id: int
    version: str
    status: str


class DiffOut(Schema):
    asset_id: int
    relation: str
    base: VersionRefOut
    target: VersionRefOut
    mode: str
    breaking: bool
    bump: str | None
    summary: str
    reasons: list[str]
    unknown: list[str]
    changes: list[dict[str, Any]]
    breaking_changes: list[dict[str, Any]]


class LineageNodeOut(Schema):
    id: int
    relation: str
    name: str
    type: str
    status: str
    team: str
    project: str | None
    hops: int


class LineageEdgeOut(Schema):
    upstream: int
    downstream: int


class LineageOut(Schema):
    root: LineageNodeOut
    depth: int
    upstream: list[LineageNodeOut]
    downstream: list[LineageNodeOut]
    edges: list[LineageEdgeOut]


class RegistrationIn(Schema):
    team: str | None = Field(None, description="Consumer team slug; defaults to the API key's team")
    purpose: str = ""


class RegistrationOut(ConsumerOut):
    asset_id: int
    created: bool


class RemovedOut(Schema):
    removed: int


class TeamMemberOut(Schema):
    username: str
    role: str


class TeamConsumesOut(Schema):
    asset_id: int
    relation: str
    owner_team: str
    origin: str
    purpose: str


class TeamDetailOut(Schema):
    slug: str
    name: str
    email: str
    description: str
    is_active: bool
    projects: list[str]
    owned_assets: dict[str, int]
    consumes: list[TeamConsumesOut]
    members: list[TeamMemberOut]


class ErrorOut(Schema):
    error: str
    detail: str


class AssetFilters(Schema):
    search: str = ""
    team: str = ""
    project: str = ""
    type: str = ""
    status: str = ""
    consumer: str = Field("", description="Only assets this team consumes")
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE


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


def _consumer(registration: Registration) -> dict[str, Any]:
    return {
        "team": registration.team.slug,
        "team_name": registration.team.name,
        "origin": registration.origin,
        "purpose": registration.purpose,
        "created_at": registration.created_at,
    }


def _node(asset: Asset, hops: int) -> dict[str, Any]:
    return {
        "id": asset.pk,
        "relation": asset.relation,
        "name": asset.display_name,
        "type": asset.resource_type,
        "status": asset.status,
        "team": asset.owner_team.slug,
        "project": asset.project.name if asset.project else None,
        "hops": hops,
    }


def _actor(request: HttpRequest, scope: str) -> Actor:
    actor: Actor = request.auth  # type: ignore[attr-defined]
    actor.require_scope(scope)
    return actor


# --- assets -------------------------------------------------------------------------------------
@router.get("/assets", response=AssetListOut, summary="Assets, filtered and paginated")
def assets_list(request: HttpRequest, filters: Query[AssetFilters]):
    _actor(request, "read")
    qs = asset_list(
        search=filters.search,
        team=filters.team,
        project=filters.project,
        resource_type=filters.type,
        status=filters.status,
        consumer=filters.consumer,
    )
    page = paginate(qs, page=filters.page, page_size=filters.page_size)
    return {
        "count": page.count,
        "page": page.page,
        "page_size": page.page_size,
        "pages": page.pages,
        "items": [_summary(a) for a in page.items],
    }


@router.get("/assets/{ref}", response={200: AssetDetailOut, 404: ErrorOut}, summary="One asset")
def asset_detail(request: HttpRequest, ref: str):
    _actor(request, "read")
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
        "model_version": asset.model_version,
        "materialized": asset.materialized,
        "tags": list(asset.tags or []),
        "active_version": _version(asset.active_version) if asset.active_version else None,
        "consumers": [_consumer(r) for r in consumers],
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
    _actor(request, "read")
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
    _actor(request, "read")
    asset = asset_get(ref=ref)
    return _version(version_get(asset=asset, ref=version))


@router.get(
    "/assets/{ref}/versions/{a}/diff/{b}",
    response={200: DiffOut, 404: ErrorOut, 422: ErrorOut},
    summary="Diff and verdict between two versions (semver or id)",
)
def asset_versions_diff(request: HttpRequest, ref: str, a: str, b: str):
    _actor(request, "read")
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
def asset_lineage(request: HttpRequest, ref: str, depth: int = Query(1, ge=1, le=MAX_DEPTH)):
    _actor(request, "read")
    asset = asset_get(ref=ref)
    graph = lineage_graph(asset=asset, depth=depth)
    return {
        "root": _node(asset, 0),
        "depth": graph.depth,
        "upstream": [_node(n.asset, n.hops) for n in graph.upstream],
        "downstream": [_node(n.asset, n.hops) for n in graph.downstream],
        "edges": [{"upstream": up, "downstream": down} for up, down in graph.edges],
    }


# --- registrations ------------------------------------------------------------------------------
@router.get(
    "/assets/{ref}/registrations", response={200: list[ConsumerOut], 404: ErrorOut}, summary="Consumers"
)
def registrations_list(request: HttpRequest, ref: str):
    _actor(request, "read")
    asset = asset_get(ref=ref)
    return [_consumer(r) for r in asset_consumers(asset=asset)]


def _team_for(actor: Actor, slug: str | None) -> Team:
    if slug:
        team = Team.objects.filter(slug=slug).first()
        if team is None:
            raise not_found(f"Team '{slug}'")
        return team
    if actor.team is None:
        raise invalid('Say which team registers: {"team": "<slug>"}', status=422)
    return actor.team


@router.post(
    "/assets/{ref}/registrations",
    response={
        200: RegistrationOut,
        201: RegistrationOut,
        403: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
        422: ErrorOut,
    },
    summary="Register a team (the key's own) as a consumer",
)
def registrations_add(request: HttpRequest, ref: str, payload: RegistrationIn):
    actor = _actor(request, "write")
    asset = asset_get(ref=ref)
    team = _team_for(actor, payload.team)
    # A key acts only for its own team: a team registers itself, never another team.
    actor.require_team(team)
    registration, created = registration_add(
        asset=asset, team=team, origin=Registration.Origin.MANUAL, purpose=payload.purpose, actor=actor
    )
    registration.team = team
    return (201 if created else 200), {**_consumer(registration), "asset_id": asset.pk, "created": created}


@router.delete(
    "/assets/{ref}/registrations",
    response={200: RemovedOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="Remove a consumer registration (the team itself, the owner team, or admin scope)",
)
def registrations_remove(
    request: HttpRequest,
    ref: str,
    team: str | None = None,
    origin: str = Registration.Origin.MANUAL,
):
    actor = _actor(request, "write")
    asset = asset_get(ref=ref)
    consumer = _team_for(actor, team)
    allowed = actor.can_act_for(consumer) or actor.can_act_for(asset.owner_team) or actor.has_scope("admin")
    if not allowed:
        raise forbidden(
            f"{actor.label} may not remove team '{consumer.slug}' from {asset.relation}: only that team, "
            f"the owner team '{asset.owner_team.slug}' or an admin key may"
        )
    removed = registration_remove(asset=asset, team=consumer, origin=origin, actor=actor)
    return {"removed": removed}


# --- teams --------------------------------------------------------------------------------------
@router.get("/teams/{slug}", response={200: TeamDetailOut, 404: ErrorOut}, tags=["teams"], summary="One team")
def team_detail(request: HttpRequest, slug: str):
    _actor(request, "read")
    team = team_get(slug=slug)
    return {
        "slug": team.slug,
        "name": team.name,
        "email": team.email,
        "description": team.description,
        "is_active": team.is_active,
        **team_summary(team=team),
    }
