"""Ownership API: which teams may own assets of a project (each team says so for itself), and
asset transfers (asked by one team, accepted by the other, or done by an admin key)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from contracts.api.access import request_actor
from contracts.models import AssetTransfer, Project
from contracts.selectors.assets import asset_get, team_get
from contracts.services.ownership import (
    asset_transfer_accept,
    asset_transfer_decline,
    asset_transfer_request,
    project_consent_grant,
    project_consent_revoke,
)
from tessera_site.lib.errors import invalid, not_found

router = Router(tags=["ownership"])
MAX_LIST = 200


class ProjectOut(Schema):
    name: str
    owner_team: str | None
    allowed_owner_teams: list[str]
    last_synced_at: datetime | None


class TransferIn(Schema):
    to_team: str = Field(..., max_length=100, description="The team that will own the asset")
    to_project: str | None = Field(
        None, max_length=200, description="The project it will belong to (default: it stays in its project)"
    )
    note: str = Field("", max_length=5000)


class DeclineIn(Schema):
    reason: str = Field("", max_length=5000)


class TransferOut(Schema):
    id: int
    asset_id: int
    asset: str
    from_team: str
    to_team: str
    from_project: str | None
    to_project: str | None
    requested_by_team: str
    waiting_for: str | None
    status: str
    note: str
    created_at: datetime
    resolved_at: datetime | None
    resolved_by: str


class TransferListOut(Schema):
    count: int
    items: list[TransferOut]


def _project(name: str) -> Project:
    project = Project.objects.select_related("owner_team").filter(name=name).first()
    if project is None:
        raise not_found(f"Project '{name}'")
    return project


def _project_out(project: Project) -> dict[str, Any]:
    return {
        "name": project.name,
        "owner_team": project.owner_team.slug if project.owner_team else None,
        "allowed_owner_teams": sorted(project.allowed_owner_teams.values_list("slug", flat=True)),
        "last_synced_at": project.last_synced_at,
    }


def _transfer_out(t: AssetTransfer) -> dict[str, Any]:
    open_ = t.status == AssetTransfer.Status.REQUESTED
    waiting = (t.to_team if t.answering_team_id == t.to_team_id else t.from_team).slug if open_ else None
    return {
        "id": t.pk,
        "asset_id": t.asset_id,
        "asset": t.asset.relation,
        "from_team": t.from_team.slug,
        "to_team": t.to_team.slug,
        "from_project": t.from_project.name if t.from_project else None,
        "to_project": (t.to_project or t.from_project).name if (t.to_project or t.from_project) else None,
        "requested_by_team": t.requested_by_team.slug,
        "waiting_for": waiting,
        "status": t.status,
        "note": t.note,
        "created_at": t.created_at,
        "resolved_at": t.resolved_at,
        "resolved_by": t.resolved_by,
    }


def _transfers():
    return AssetTransfer.objects.select_related(
        "asset", "from_team", "to_team", "from_project", "to_project", "requested_by_team"
    )


def _transfer(transfer_id: int) -> AssetTransfer:
    transfer = _transfers().filter(pk=transfer_id).first()
    if transfer is None:
        raise not_found(f"Transfer {transfer_id}")
    return transfer


@router.get(
    "/projects/{name}",
    response=ProjectOut,
    summary="A project: owner team and the teams allowed to own its assets",
)
def project_detail(request: HttpRequest, name: str):
    request_actor(request, "read")
    return _project_out(_project(name))


@router.put(
    "/projects/{name}/owner-teams/{slug}",
    response=ProjectOut,
    summary="Allow this project's models to name your team as owner",
)
def project_owner_team_allow(request: HttpRequest, name: str, slug: str):
    """Given by the named team itself (its key), or an admin key; the syncing team cannot."""
    actor = request_actor(request, "write")
    project = _project(name)
    project_consent_grant(project=project, team=team_get(slug=slug), actor=actor)
    return _project_out(project)


@router.delete(
    "/projects/{name}/owner-teams/{slug}",
    response=ProjectOut,
    summary="Withdraw the consent (assets the team owns stay its own)",
)
def project_owner_team_disallow(request: HttpRequest, name: str, slug: str):
    actor = request_actor(request, "write")
    project = _project(name)
    project_consent_revoke(project=project, team=team_get(slug=slug), actor=actor)
    return _project_out(project)


@router.post(
    "/assets/{ref}/transfers", response={201: TransferOut}, summary="Ask for (or offer) an asset: a transfer"
)
def transfer_request(request: HttpRequest, ref: str, body: TransferIn):
    """The owner team offers the asset, or the receiving team asks for it; the other team accepts.
    With an admin key it takes effect at once."""
    actor = request_actor(request, "write")
    to_project = _project(body.to_project) if body.to_project else None
    transfer = asset_transfer_request(
        asset=asset_get(ref=ref),
        to_team=team_get(slug=body.to_team),
        to_project=to_project,
        actor=actor,
        note=body.note,
    )
    return 201, _transfer_out(_transfer(transfer.pk))


@router.get("/transfers", response=TransferListOut, summary="Transfers (status=requested: the ones waiting)")
def transfers_list(request: HttpRequest, status: str = "", team: str = "", limit: int = 50):
    request_actor(request, "read")
    qs = _transfers()
    if status:
        if status not in AssetTransfer.Status.values:
            raise invalid(
                f"status must be one of {', '.join(AssetTransfer.Status.values)}", code="invalid_status"
            )
        qs = qs.filter(status=status)
    if team:
        found = team_get(slug=team)
        qs = qs.filter(from_team=found) | qs.filter(to_team=found)
    items = [_transfer_out(t) for t in qs.order_by("-created_at", "-id")[: max(1, min(limit, MAX_LIST))]]
    return {"count": len(items), "items": items}


@router.get("/transfers/{transfer_id}", response=TransferOut, summary="One transfer")
def transfer_detail(request: HttpRequest, transfer_id: int):
    request_actor(request, "read")
    return _transfer_out(_transfer(transfer_id))


@router.post("/transfers/{transfer_id}/accept", response=TransferOut, summary="Accept: the asset moves now")
def transfer_accept(request: HttpRequest, transfer_id: int):
    actor = request_actor(request, "write")
    asset_transfer_accept(transfer=_transfer(transfer_id), actor=actor)
    return _transfer_out(_transfer(transfer_id))


@router.post(
    "/transfers/{transfer_id}/decline",
    response=TransferOut,
    summary="Decline (or, as the asking team, cancel)",
)
def transfer_decline(request: HttpRequest, transfer_id: int, body: DeclineIn | None = None):
    actor = request_actor(request, "write")
    asset_transfer_decline(transfer=_transfer(transfer_id), actor=actor, reason=body.reason if body else "")
    return _transfer_out(_transfer(transfer_id))
