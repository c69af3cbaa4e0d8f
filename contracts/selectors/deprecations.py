"""Reads of model versions and deprecation campaigns, for the API and the dashboard alike."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import QuerySet
from django.utils import timezone

from contracts.models import (
    Asset,
    CampaignReader,
    DeprecationCampaign,
    DeprecationReminder,
    LineageEdge,
    Team,
)


def model_versions(*, asset: Asset) -> list[Asset]:
    """Every version of the model ``asset`` is a version of (newest first); [asset] when unversioned."""
    if not asset.model_version:
        return [asset]
    versions = list(
        Asset.objects.filter(project=asset.project, name=asset.name, resource_type=asset.resource_type)
        .exclude(model_version="")
        .select_related("owner_team", "project", "active_version")
    )
    return sorted(versions, key=_version_key, reverse=True)


def _version_key(asset: Asset) -> tuple[float, str]:
    try:
        return (float(asset.model_version), asset.model_version)
    except ValueError:
        return (float("-inf"), asset.model_version)


@dataclass
class ReaderRow:
    """A team that read the deprecated version: how Tessera knows, which of its models read it."""

    team: Team
    via: list[str]
    first_seen_at: dt.datetime
    moved_at: dt.datetime | None
    models: list[str] = field(default_factory=list)


@dataclass
class CampaignView:
    """A campaign with its progress: who still reads the version, who moved, which models read it."""

    campaign: DeprecationCampaign
    still_reading: list[ReaderRow] = field(default_factory=list)
    moved: list[ReaderRow] = field(default_factory=list)
    reminders: list[DeprecationReminder] = field(default_factory=list)
    latest: Asset | None = None
    today: dt.date = field(default_factory=timezone.localdate)

    @property
    def asset(self) -> Asset:
        return self.campaign.asset

    @property
    def days_left(self) -> int:
        return (self.campaign.deprecation_date - self.today).days

    @property
    def total(self) -> int:
        return len(self.still_reading) + len(self.moved)

    @property
    def percent_moved(self) -> int:
        return round(100 * len(self.moved) / self.total) if self.total else 100


def campaigns_query(*, status: str | None = None) -> QuerySet[DeprecationCampaign]:
    qs = DeprecationCampaign.objects.select_related("asset__owner_team", "asset__project")
    return qs.filter(status=status) if status else qs


def campaign_views(
    campaigns: list[DeprecationCampaign], *, today: dt.date | None = None
) -> list[CampaignView]:
    """Campaigns with their readers, models and reminders, in a handful of queries."""
    today = today or timezone.localdate()
    views = {c.pk: CampaignView(campaign=c, today=today) for c in campaigns}
    models: dict[tuple[int, int], list[str]] = {}  # (asset, team) -> models of the team reading it
    edges = LineageEdge.objects.filter(upstream_id__in=[c.asset_id for c in campaigns]).values_list(
        "upstream_id", "downstream__owner_team_id", "downstream__name"
    )
    for asset_id, team_id, name in edges.order_by("downstream__name"):
        models.setdefault((asset_id, team_id), []).append(name)
    readers = CampaignReader.objects.filter(campaign_id__in=list(views)).select_related("team")
    for reader in readers.order_by("team__slug"):
        view = views[reader.campaign_id]
        row = ReaderRow(
            team=reader.team,
            via=[v for v in reader.via.split(",") if v],
            first_seen_at=reader.first_seen_at,
            moved_at=reader.moved_at,
            models=models.get((view.campaign.asset_id, reader.team_id), []),
        )
        (view.still_reading if reader.moved_at is None else view.moved).append(row)
    for reminder in DeprecationReminder.objects.filter(campaign_id__in=list(views)).select_related("team"):
        views[reminder.campaign_id].reminders.append(reminder)
    latest = _latest_versions([c.asset for c in campaigns])
    for view in views.values():
        view.latest = latest.get((view.asset.project_id, view.asset.name, view.asset.latest_version))
    return [views[c.pk] for c in campaigns]


def _latest_versions(assets: list[Asset]) -> dict[tuple[int | None, str, str], Asset]:
    names = {a.name for a in assets}
    found = Asset.objects.filter(name__in=names).exclude(model_version="")
    return {(a.project_id, a.name, a.model_version): a for a in found}


def campaign_view(*, pk: int) -> CampaignView | None:
    campaign = campaigns_query().filter(pk=pk).first()
    return campaign_views([campaign])[0] if campaign else None


def asset_campaign(*, asset: Asset) -> CampaignView | None:
    """The campaign of a deprecated version (None for any other asset, without a query)."""
    if asset.deprecation_date is None:
        return None
    campaign = campaigns_query().filter(asset=asset).first()
    return campaign_views([campaign])[0] if campaign else None
