"""Deprecation campaigns (SPEC §14): a model version with a ``deprecation_date`` opens one; it
follows the teams still reading that version (lineage from synced manifests, and explicit or
manual registrations) until nobody does. ``campaigns_refresh`` is called by every sync (the
``deprecations`` step), by registration changes and by the reminders' beat task, so a campaign
is as current as the lineage it reads.

Who gets which reminder is ``deprecation_reminders_due`` (a channel may reuse it); the email
channel records them with ``deprecation_reminders_record`` (one outbox message per team and
step, in the transaction that records the step) and sends them with
``deprecation_reminder_notify``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from contracts.models import (
    Asset,
    CampaignReader,
    DeprecationCampaign,
    DeprecationReminder,
    LineageEdge,
    OutboundEmail,
    Registration,
    Team,
)
from contracts.presenters import slack as slack_blocks
from contracts.services.events import asset_event_record
from contracts.services.notices import Notice, notice_send
from contracts.services.outbox import outbox_record
from tessera_site.lib.urls import absolute_url

Readers = dict[int, dict[int, set[str]]]  # asset id -> team id -> how it reads ("lineage", ...)


def version_readers(*, assets: Iterable[Asset]) -> Readers:
    """The teams (never the owner) that read each asset now: the owners of live models selecting
    from it (lineage edges of synced manifests, sources and cross-project refs alike), and the
    teams registered on it explicitly (the producer's meta), by a dbt exposure or by hand. Lineage registrations are not counted: they say a team read it
    once, the edges say whether it still does."""
    owner_of = {a.pk: a.owner_team_id for a in assets}
    out: Readers = {pk: {} for pk in owner_of}
    edges = LineageEdge.objects.filter(
        upstream_id__in=list(owner_of), downstream__status=Asset.Status.ACTIVE
    ).values_list("upstream_id", "downstream__owner_team_id")
    for asset_id, team_id in edges:
        if team_id != owner_of[asset_id]:
            out[asset_id].setdefault(team_id, set()).add("lineage")
    registrations = Registration.objects.filter(
        asset_id__in=list(owner_of),
        origin__in=[Registration.Origin.EXPLICIT, Registration.Origin.MANUAL, Registration.Origin.EXPOSURE],
    ).values_list("asset_id", "team_id", "origin")
    for asset_id, team_id, origin in registrations:
        if team_id != owner_of[asset_id]:
            out[asset_id].setdefault(team_id, set()).add(origin)
    return out


@transaction.atomic
def campaigns_refresh(*, project_id: int | None = None, now: dt.datetime | None = None) -> list[int]:
    """Open a campaign for every deprecated version (of ``project_id``, or of every project),
    withdraw the ones no longer deprecated, and bring every live campaign's readers and state up
    to date. Returns the ids of the campaigns that changed state."""
    now = now or timezone.now()
    _campaigns_open(project_id=project_id, now=now)
    campaigns = list(
        DeprecationCampaign.objects.select_related("asset")
        .exclude(status=DeprecationCampaign.Status.WITHDRAWN)
        .order_by("id")
    )
    readers = version_readers(assets=[c.asset for c in campaigns])
    known: dict[int, dict[int, CampaignReader]] = {}
    for row in CampaignReader.objects.filter(campaign__in=campaigns):
        known.setdefault(row.campaign_id, {})[row.team_id] = row
    changed = []
    for campaign in campaigns:
        reading = readers.get(campaign.asset_id, {})
        _readers_update(campaign, reading=reading, known=known.get(campaign.pk, {}), now=now)
        if _state_update(campaign, still_reading=bool(reading), now=now):
            changed.append(campaign.pk)
    return changed


def _campaigns_open(*, project_id: int | None, now: dt.datetime) -> None:
    deprecated = Asset.objects.filter(status=Asset.Status.ACTIVE, deprecation_date__isnull=False).exclude(
        model_version=""
    )
    existing = DeprecationCampaign.objects.select_related("asset")
    if project_id is not None:
        deprecated = deprecated.filter(project_id=project_id)
        existing = existing.filter(asset__project_id=project_id)
    by_asset = {c.asset_id: c for c in existing}
    for asset in deprecated.select_related("owner_team"):
        campaign = by_asset.get(asset.pk)
        if campaign is None:
            campaign = DeprecationCampaign.objects.create(
                asset=asset,
                deprecation_date=asset.deprecation_date,  # type: ignore[misc]  # filtered: not null
                opened_at=now,
                updated_at=now,
            )
            asset_event_record(
                kind="deprecation.opened",
                asset=asset,
                payload={"relation": asset.relation, "version": asset.model_version,
                         "deprecation_date": str(asset.deprecation_date), "campaign": campaign.pk},
            )  # fmt: skip
        elif campaign.deprecation_date != asset.deprecation_date or (
            campaign.status == DeprecationCampaign.Status.WITHDRAWN
        ):
            campaign.deprecation_date = asset.deprecation_date  # type: ignore[assignment]
            campaign.status, campaign.done_at, campaign.updated_at = (
                DeprecationCampaign.Status.OPEN,
                None,
                now,
            )
            campaign.save(update_fields=["deprecation_date", "status", "done_at", "updated_at"])
    for campaign in by_asset.values():
        if (
            campaign.asset.deprecation_date is None
            and campaign.status != DeprecationCampaign.Status.WITHDRAWN
        ):
            campaign.status, campaign.updated_at = DeprecationCampaign.Status.WITHDRAWN, now
            campaign.save(update_fields=["status", "updated_at"])


def _readers_update(
    campaign: DeprecationCampaign,
    *,
    reading: dict[int, set[str]],
    known: dict[int, CampaignReader],
    now: dt.datetime,
) -> None:
    """New readers join, readers that stopped have moved, a team that reads it again is back."""
    for team_id, via in reading.items():
        row = known.get(team_id)
        via_text = ",".join(sorted(via))
        if row is None:
            CampaignReader.objects.create(campaign=campaign, team_id=team_id, via=via_text, first_seen_at=now)
        elif row.moved_at is not None or row.via != via_text:
            row.moved_at, row.via = None, via_text
            row.save(update_fields=["moved_at", "via"])
    for team_id, row in known.items():
        if team_id not in reading and row.moved_at is None:
            row.moved_at = now
            row.save(update_fields=["moved_at"])


def _state_update(campaign: DeprecationCampaign, *, still_reading: bool, now: dt.datetime) -> bool:
    """Done when nobody reads the version (or it is gone); open again if a team starts reading it."""
    retired = campaign.asset.status == Asset.Status.RETIRED
    wanted = (
        DeprecationCampaign.Status.DONE if retired or not still_reading else DeprecationCampaign.Status.OPEN
    )
    if campaign.status == wanted:
        return False
    campaign.status, campaign.updated_at = wanted, now
    campaign.done_at = now if wanted == DeprecationCampaign.Status.DONE else None
    campaign.save(update_fields=["status", "updated_at", "done_at"])
    asset_event_record(
        kind=f"deprecation.{wanted}",
        asset=campaign.asset,
        payload={"relation": campaign.asset.relation, "campaign": campaign.pk, "retired": retired},
    )
    return True


# --- reminders -------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ReminderDue:
    """One reminder one team should get: the step (days before the date) and the days left."""

    campaign_id: int
    team_id: int
    days_before: int
    days_left: int


def reminder_steps() -> list[int]:
    """The configured steps, most distant first (TESSERA_DEPRECATION_REMINDER_DAYS)."""
    return sorted(set(settings.TESSERA_DEPRECATION_REMINDER_DAYS), reverse=True)


def reminder_step_for(days_left: int, steps: Iterable[int]) -> int | None:
    """The step a campaign is in ``days_left`` days before its date: the nearest step not yet
    passed (25 days left with steps 30, 7, 1 → 30; 5 → 7; 0 → 1), None before the first step
    and after the date. One step at a time: a team found late gets the nearest one only."""
    if days_left < 0:
        return None
    reached = [s for s in steps if s >= days_left]
    return min(reached) if reached else None


def deprecation_reminders_due(*, today: dt.date) -> list[ReminderDue]:
    """Who gets which reminder today: each team still reading a deprecated version, once per
    step (the steps already recorded for it are not due again)."""
    steps = reminder_steps()
    rows = CampaignReader.objects.filter(
        campaign__status=DeprecationCampaign.Status.OPEN, moved_at__isnull=True
    ).values_list("campaign_id", "team_id", "campaign__deprecation_date")
    sent = set(DeprecationReminder.objects.values_list("campaign_id", "team_id", "days_before"))
    due = []
    for campaign_id, team_id, date in rows:
        days_left = (date - today).days
        step = reminder_step_for(days_left, steps)
        if step is not None and (campaign_id, team_id, step) not in sent:
            due.append(ReminderDue(campaign_id, team_id, step, days_left))
    return sorted(due, key=lambda d: (d.campaign_id, d.team_id))


def deprecation_reminders_record(*, today: dt.date | None = None) -> list[ReminderDue]:
    """The beat task's body: refresh the campaigns, then record each due reminder with its email
    notice (outbox kind ``email.deprecation_reminder``) in one transaction per reminder; a
    reminder another run recorded first is skipped (the unique step row)."""
    today = today or timezone.localdate()
    campaigns_refresh()
    recorded = []
    for due in deprecation_reminders_due(today=today):
        try:
            with transaction.atomic():
                DeprecationReminder.objects.create(
                    campaign_id=due.campaign_id, team_id=due.team_id, days_before=due.days_before
                )
                outbox_record(
                    kind="email.deprecation_reminder",
                    campaign_id=due.campaign_id,
                    team_id=due.team_id,
                    days_before=due.days_before,
                    days_left=due.days_left,
                )
        except IntegrityError:
            continue
        recorded.append(due)
    return recorded


def deprecation_reminder_notify(
    *, campaign_id: int, team_id: int, days_before: int, days_left: int
) -> OutboundEmail | None:
    """The email (and Slack message) of one reminder step to one team (kind ``deprecation_reminder``): which version,
    the date, which of its models still read it, the latest version, a link to the campaign."""
    campaign = DeprecationCampaign.objects.select_related("asset__owner_team").get(pk=campaign_id)
    team = Team.objects.get(pk=team_id)
    asset = campaign.asset
    models = list(
        LineageEdge.objects.filter(upstream=asset, downstream__owner_team=team)
        .order_by("downstream__name")
        .values_list("downstream__name", flat=True)
        .distinct()
    )
    latest = Asset.objects.filter(
        project=asset.project, name=asset.name, model_version=asset.latest_version
    ).first()
    context = {
        "campaign": campaign,
        "asset": asset,
        "owner": asset.owner_team,
        "team": team,
        "models": models,
        "latest": latest,
        "days_left": days_left,
        "campaign_url": absolute_url(campaign.get_absolute_url()),
    }
    # By email and on the team's Slack, each unless the team switched it off (services.notices).
    return notice_send(
        Notice(
            kind="deprecation_reminder",
            team=team,
            dedupe_key=f"deprecation-reminder:{campaign.pk}:team:{team.pk}:days:{days_before}",
            email_kind="deprecation_reminder",
            email_context=context,
            slack=partial(slack_blocks.deprecation_reminder_for, context),
        )
    ).email
