"""Who owns what, changed only on purpose (issue #12).

- A team allows a project's models to name it as their owner (``project_consent_grant``): the
  named team consents, never the syncing one; an administrator may do it for any team.
- An asset changes owner team or project only by a transfer: asked by one of the two teams,
  accepted by the other (``asset_transfer_accept``), or done at once by an administrator.
  Every step is an event.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from contracts.models import Asset, AssetTransfer, Project, ProjectOwnerConsent, Registration, Team
from contracts.services.events import event_record
from tessera_site.lib.auth import Actor
from tessera_site.lib.errors import Conflict, forbidden, invalid


def team_may_own_in(*, team: Team, project: Project) -> bool:
    """Whether a project's models may be owned by ``team``: its owner team, or a team that allowed it."""
    if project.owner_team_id is not None and project.owner_team_id == team.pk:
        return True
    return ProjectOwnerConsent.objects.filter(project=project, team=team).exists()


# --- consent -------------------------------------------------------------------------------------
def _require_for_team(actor: Actor, team: Team, doing: str) -> None:
    if not (actor.is_admin or actor.can_act_for(team)):
        raise forbidden(
            f"{actor.label} may not {doing} for team '{team.slug}': only that team or an admin may"
        )


@transaction.atomic
def project_consent_grant(*, project: Project, team: Team, actor: Actor) -> ProjectOwnerConsent:
    """``team`` allows models of ``project`` to name it as owner. Granting twice changes nothing."""
    _require_for_team(actor, team, "allow owning assets")
    consent, created = ProjectOwnerConsent.objects.get_or_create(
        project=project, team=team, defaults={"granted_by": actor.label[:200]}
    )
    if created:
        event_record(
            kind="project.owner_consent_granted",
            actor=actor,
            team=team,
            payload={"project": project.name, "team": team.slug},
        )
    return consent


@transaction.atomic
def project_consent_revoke(*, project: Project, team: Team, actor: Actor) -> bool:
    """Later syncs may not create new assets for ``team`` in ``project``; the ones it owns stay its own."""
    _require_for_team(actor, team, "withdraw the consent to own assets")
    deleted, _ = ProjectOwnerConsent.objects.filter(project=project, team=team).delete()
    if deleted:
        event_record(
            kind="project.owner_consent_revoked",
            actor=actor,
            team=team,
            payload={"project": project.name, "team": team.slug},
        )
    return bool(deleted)


# --- transfers -----------------------------------------------------------------------------------
def _transfer_payload(transfer: AssetTransfer) -> dict[str, object]:
    return {
        "transfer": transfer.pk,
        "relation": transfer.asset.relation,
        "from_team": transfer.from_team.slug,
        "to_team": transfer.to_team.slug,
        "from_project": transfer.from_project.name if transfer.from_project else None,
        "to_project": (transfer.to_project or transfer.from_project).name
        if (transfer.to_project or transfer.from_project)
        else None,
        "status": transfer.status,
    }


def _transfer_event(kind: str, transfer: AssetTransfer, actor: Actor, **extra: object) -> None:
    event_record(
        kind=kind,
        actor=actor,
        team=transfer.from_team,
        asset=transfer.asset,
        payload=_transfer_payload(transfer) | extra,
    )


def _check_target(*, asset: Asset, to_team: Team, to_project: Project | None) -> None:
    if to_team.pk == asset.owner_team_id and (to_project is None or to_project.pk == asset.project_id):
        raise invalid(
            f"{asset.relation} already belongs to team '{to_team.slug}' there", code="nothing_to_transfer"
        )
    target = to_project or asset.project
    if target is not None and not team_may_own_in(team=to_team, project=target):
        raise invalid(
            f"Team '{to_team.slug}' has not allowed owning assets of project '{target.name}' "
            f"(owned by '{target.owner_team.slug if target.owner_team else 'nobody'}'): it allows it first "
            f"(PUT /api/v1/projects/{target.name}/owner-teams/{to_team.slug}).",
            code="owner_not_allowed",
        )


@transaction.atomic
def asset_transfer_request(
    *, asset: Asset, to_team: Team, actor: Actor, to_project: Project | None = None, note: str = ""
) -> AssetTransfer:
    """Ask for (or offer) ``asset``: the current owner offers it, or ``to_team`` asks for it; the
    other team then accepts. An administrator's request takes effect at once."""
    asset = (
        Asset.objects.select_for_update(of=("self",)).select_related("owner_team", "project").get(pk=asset.pk)
    )
    _check_target(asset=asset, to_team=to_team, to_project=to_project)
    if actor.is_admin or actor.can_act_for(asset.owner_team):
        requesting = asset.owner_team
    elif actor.can_act_for(to_team):
        requesting = to_team
    else:
        raise forbidden(
            f"{actor.label} may not move {asset.relation}: only its owner team '{asset.owner_team.slug}', "
            f"the receiving team '{to_team.slug}' or an admin may ask for a transfer"
        )
    try:
        with transaction.atomic():
            transfer = AssetTransfer.objects.create(
                asset=asset,
                from_team=asset.owner_team,
                to_team=to_team,
                from_project=asset.project,
                to_project=to_project,
                requested_by_team=requesting,
                requested_by=actor.label[:200],
                note=note[:5000],
            )
    except IntegrityError:
        waiting = AssetTransfer.objects.filter(asset=asset, status=AssetTransfer.Status.REQUESTED).first()
        raise Conflict(
            f"A transfer of {asset.relation} is already waiting (#{waiting.pk if waiting else '?'}); "
            "accept, decline or cancel it first",
            code="transfer_pending",
        ) from None
    _transfer_event("asset.transfer_requested", transfer, actor, note=note[:500])
    if actor.is_admin:
        return _transfer_apply(transfer=transfer, actor=actor)
    return transfer


def _lock_open(transfer: AssetTransfer) -> AssetTransfer:
    transfer = (
        AssetTransfer.objects.select_for_update(of=("self",))
        .select_related("asset", "from_team", "to_team", "from_project", "to_project", "requested_by_team")
        .get(pk=transfer.pk)
    )
    if transfer.status != AssetTransfer.Status.REQUESTED:
        raise Conflict(f"Transfer #{transfer.pk} is already {transfer.status}", code="transfer_closed")
    return transfer


def _answering_team(transfer: AssetTransfer) -> Team:
    return transfer.to_team if transfer.answering_team_id == transfer.to_team_id else transfer.from_team


@transaction.atomic
def asset_transfer_accept(*, transfer: AssetTransfer, actor: Actor) -> AssetTransfer:
    """The team that did not ask accepts (or an admin): the asset moves now."""
    transfer = _lock_open(transfer)
    answering = _answering_team(transfer)
    if not (actor.is_admin or actor.can_act_for(answering)):
        raise forbidden(
            f"Transfer #{transfer.pk} waits for team '{answering.slug}' (or an admin) to accept it"
        )
    return _transfer_apply(transfer=transfer, actor=actor)


@transaction.atomic
def asset_transfer_decline(*, transfer: AssetTransfer, actor: Actor, reason: str = "") -> AssetTransfer:
    """The answering team says no, or the asking team cancels: the asset stays where it is."""
    transfer = _lock_open(transfer)
    answering = _answering_team(transfer)
    if actor.is_admin or actor.can_act_for(answering):
        transfer.status = AssetTransfer.Status.DECLINED
    elif actor.can_act_for(transfer.requested_by_team):
        transfer.status = AssetTransfer.Status.CANCELLED
    else:
        raise forbidden(f"{actor.label} is not a party to transfer #{transfer.pk}")
    transfer.resolved_at = timezone.now()
    transfer.resolved_by = actor.label[:200]
    transfer.save(update_fields=["status", "resolved_at", "resolved_by"])
    _transfer_event(f"asset.transfer_{transfer.status}", transfer, actor, reason=reason[:500])
    return transfer


def _transfer_apply(*, transfer: AssetTransfer, actor: Actor) -> AssetTransfer:
    """Move the asset (owner team, and project when one is named) and close the transfer."""
    target = transfer.to_project or transfer.from_project
    # Checked again: the consent may have been withdrawn while the transfer waited.
    _check_target(asset=transfer.asset, to_team=transfer.to_team, to_project=transfer.to_project)
    now = timezone.now()
    Asset.objects.filter(pk=transfer.asset_id).update(
        owner_team=transfer.to_team, project=target, updated_at=now
    )
    # A team is never a consumer of its own asset.
    dropped = Registration.objects.filter(asset_id=transfer.asset_id, team=transfer.to_team).delete()[0]
    transfer.status = AssetTransfer.Status.ACCEPTED
    transfer.resolved_at = now
    transfer.resolved_by = actor.label[:200]
    transfer.save(update_fields=["status", "resolved_at", "resolved_by"])
    transfer.asset.owner_team = transfer.to_team
    transfer.asset.project = target
    _transfer_event("asset.transfer_accepted", transfer, actor)
    event_record(
        kind="asset.transferred",
        actor=actor,
        team=transfer.to_team,
        asset=transfer.asset,
        payload=_transfer_payload(transfer) | {"registrations_dropped": dropped},
    )
    return transfer
