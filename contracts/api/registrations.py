"""Consumer registrations of an asset: list, add (a team registers itself), remove."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from contracts.api.access import request_actor
from contracts.api.schemas import ConsumerOut, ErrorOut, RegistrationIn, RegistrationOut, RemovedOut
from contracts.models import Registration, Team
from contracts.selectors.assets import asset_consumers, asset_get
from contracts.services.registrations import registration_add, registration_remove
from tessera_site.lib.auth import Actor
from tessera_site.lib.errors import Unprocessable, forbidden, not_found

router = Router(tags=["assets"])


def consumer_out(registration: Registration) -> dict[str, Any]:
    return {
        "team": registration.team.slug,
        "team_name": registration.team.name,
        "origin": registration.origin,
        "purpose": registration.purpose,
        "created_at": registration.created_at,
    }


@router.get(
    "/assets/{ref}/registrations", response={200: list[ConsumerOut], 404: ErrorOut}, summary="Consumers"
)
def registrations_list(request: HttpRequest, ref: str):
    request_actor(request, "read")
    asset = asset_get(ref=ref)
    return [consumer_out(r) for r in asset_consumers(asset=asset)]


def _team_for(actor: Actor, slug: str | None) -> Team:
    if slug:
        team = Team.objects.filter(slug=slug).first()
        if team is None:
            raise not_found(f"Team '{slug}'")
        return team
    if actor.team is None:
        raise Unprocessable('Say which team registers: {"team": "<slug>"}')
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
    actor = request_actor(request, "write")
    asset = asset_get(ref=ref)
    team = _team_for(actor, payload.team)
    # A key acts only for its own team: a team registers itself, never another team.
    actor.require_team(team)
    registration, created = registration_add(
        asset=asset, team=team, origin=Registration.Origin.MANUAL, purpose=payload.purpose, actor=actor
    )
    registration.team = team
    return (201 if created else 200), {**consumer_out(registration), "asset_id": asset.pk, "created": created}


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
    actor = request_actor(request, "write")
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
