"""Consumer registrations: a team → an asset, carried over every new contract version.

Origins: ``explicit`` (``meta.tessera.consumers``) and ``lineage`` are maintained by the sync;
``manual`` ones come from people (dashboard, API) through these services. A team never consumes
its own asset. Permission checks (who may act for which team) belong to the caller's access
helper; these services enforce the domain rules and record the events.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction

from contracts.models import Asset, Registration, Team
from contracts.services.deprecations import campaigns_refresh
from contracts.services.events import event_record
from tessera_site.lib.errors import Conflict, NotFound, Unprocessable

if TYPE_CHECKING:
    from tessera_site.lib.auth import Actor

MAX_PURPOSE_LENGTH = 500


def _check_origin(origin: str) -> None:
    if origin not in Registration.Origin.values:
        raise Unprocessable(
            f"Unknown registration origin '{origin}'; expected one of {', '.join(Registration.Origin.values)}"
        )


@transaction.atomic
def registration_add(
    *,
    asset: Asset,
    team: Team,
    origin: str = Registration.Origin.MANUAL,
    purpose: str = "",
    actor: Actor | None = None,
) -> tuple[Registration, bool]:
    """Register ``team`` as a consumer of ``asset``; returns (registration, created).

    Registering again with the same origin is harmless: it updates the purpose, if one is given,
    and records nothing else.
    """
    _check_origin(origin)
    if team.pk == asset.owner_team_id:
        raise Conflict(
            f"Team '{team.slug}' owns {asset.relation}; a team is never a consumer of its own asset",
            code="self_consumption",
        )
    if asset.status == Asset.Status.RETIRED:
        raise Conflict(f"{asset.relation} is retired; it has no consumers any more", code="asset_retired")
    purpose = (purpose or "").strip()
    if len(purpose) > MAX_PURPOSE_LENGTH:
        raise Unprocessable(f"purpose is limited to {MAX_PURPOSE_LENGTH} characters")

    registration = Registration.objects.filter(asset=asset, team=team, origin=origin).first()
    if registration is not None:
        if purpose and purpose != registration.purpose:
            registration.purpose = purpose
            registration.save(update_fields=["purpose"])
        return registration, False
    try:
        with transaction.atomic():
            registration = Registration.objects.create(asset=asset, team=team, origin=origin, purpose=purpose)
    except IntegrityError:
        # A concurrent request registered the same team first: the outcome is the same.
        return Registration.objects.get(asset=asset, team=team, origin=origin), False
    event_record(
        kind="registration.added",
        actor=actor,
        team=team,
        asset=asset,
        payload={"asset": asset.relation, "team": team.slug, "origin": origin, "purpose": purpose},
    )
    _campaign_follow(asset)
    return registration, True


@transaction.atomic
def registration_remove(
    *,
    asset: Asset,
    team: Team,
    origin: str = Registration.Origin.MANUAL,
    actor: Actor | None = None,
) -> int:
    """Remove ``team``'s registration of ``origin`` on ``asset``; 404 when there is none.

    Explicit and lineage registrations come from manifests: removing them here lasts only until
    the next sync of the manifest that declares them, and the 404 for a missing manual
    registration says so.
    """
    _check_origin(origin)
    deleted, _ = Registration.objects.filter(asset=asset, team=team, origin=origin).delete()
    if not deleted:
        others = sorted(
            Registration.objects.filter(asset=asset, team=team).values_list("origin", flat=True).distinct()
        )
        hint = (
            f" It is registered with origin {', '.join(others)}, which the sync maintains from the manifests;"
            " pass origin= to remove it anyway."
            if others
            else ""
        )
        raise _not_registered(team, asset, origin, hint)
    event_record(
        kind="registration.removed",
        actor=actor,
        team=team,
        asset=asset,
        payload={"asset": asset.relation, "team": team.slug, "origin": origin},
    )
    _campaign_follow(asset)
    return deleted


def _campaign_follow(asset: Asset) -> None:
    """A registration on a deprecated version makes (or stops making) its team a reader."""
    if asset.deprecation_date is not None:
        campaigns_refresh(project_id=asset.project_id)


def _not_registered(team: Team, asset: Asset, origin: str, hint: str) -> NotFound:
    return NotFound(
        f"Team '{team.slug}' has no {origin} registration on {asset.relation}.{hint}", code="not_registered"
    )
