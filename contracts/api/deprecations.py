"""Model versions and deprecation campaigns (SPEC §14): every version of a model, and each
deprecated version's campaign with who still reads it and who moved."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema

from contracts.api.access import request_actor
from contracts.api.assets import _summary
from contracts.api.schemas import AssetSummaryOut, ErrorOut
from contracts.models import DeprecationCampaign
from contracts.selectors.assets import asset_get
from contracts.selectors.deprecations import (
    CampaignView,
    ReaderRow,
    campaign_view,
    campaign_views,
    campaigns_query,
    model_versions,
)
from tessera_site.lib.errors import NotFound
from tessera_site.lib.urls import absolute_url

router = Router(tags=["deprecations"])


class CampaignAssetOut(Schema):
    id: int
    relation: str
    model_name: str
    model_version: str
    team: str
    project: str | None


class CampaignReaderOut(Schema):
    team: str
    via: list[str]
    models: list[str]
    first_seen_at: datetime
    moved_at: datetime | None


class CampaignReminderOut(Schema):
    team: str
    days_before: int
    recorded_at: datetime


class CampaignOut(Schema):
    id: int
    status: str
    deprecation_date: date
    days_left: int
    asset: CampaignAssetOut
    latest: CampaignAssetOut | None
    still_reading: list[CampaignReaderOut]
    moved: list[CampaignReaderOut]
    moved_count: int
    readers_total: int
    reminders: list[CampaignReminderOut]
    opened_at: datetime
    done_at: datetime | None
    url: str


class CampaignFilters(Schema):
    status: DeprecationCampaign.Status | None = None


def _asset(asset: Any) -> dict[str, Any]:
    return {
        "id": asset.pk,
        "relation": asset.relation,
        "model_name": asset.name,
        "model_version": asset.model_version,
        "team": asset.owner_team.slug,
        "project": asset.project.name if asset.project else None,
    }


def campaign_out(view: CampaignView) -> dict[str, Any]:
    campaign = view.campaign

    def reader(row: ReaderRow) -> dict[str, Any]:
        return {
            "team": row.team.slug,
            "via": row.via,
            "models": row.models,
            "first_seen_at": row.first_seen_at,
            "moved_at": row.moved_at,
        }

    return {
        "id": campaign.pk,
        "status": campaign.status,
        "deprecation_date": campaign.deprecation_date,
        "days_left": view.days_left,
        "asset": _asset(view.asset),
        "latest": _asset(view.latest) if view.latest else None,
        "still_reading": [reader(r) for r in view.still_reading],
        "moved": [reader(r) for r in view.moved],
        "moved_count": len(view.moved),
        "readers_total": view.total,
        "reminders": [
            {"team": r.team.slug, "days_before": r.days_before, "recorded_at": r.created_at}
            for r in sorted(view.reminders, key=lambda r: (r.team.slug, -r.days_before))
        ],
        "opened_at": campaign.opened_at,
        "done_at": campaign.done_at,
        "url": absolute_url(campaign.get_absolute_url()),
    }


@router.get("/deprecations", response=list[CampaignOut], summary="Deprecation campaigns with their progress")
def deprecations_list(request: HttpRequest, filters: Query[CampaignFilters]):
    request_actor(request, "read")
    campaigns = list(campaigns_query(status=filters.status).order_by("deprecation_date", "id"))
    return [campaign_out(v) for v in campaign_views(campaigns)]


@router.get(
    "/deprecations/{campaign_id}",
    response={200: CampaignOut, 404: ErrorOut},
    summary="One deprecation campaign: who still reads the version, who moved",
)
def deprecation_detail(request: HttpRequest, campaign_id: int):
    request_actor(request, "read")
    view = campaign_view(pk=campaign_id)
    if view is None:
        raise NotFound(f"No deprecation campaign {campaign_id}")
    return campaign_out(view)


@router.get(
    "/assets/{ref}/model-versions",
    response={200: list[AssetSummaryOut], 404: ErrorOut},
    summary="Every version of the model an asset is a version of (newest first)",
)
def asset_model_versions(request: HttpRequest, ref: str):
    request_actor(request, "read")
    asset = asset_get(ref=ref)
    return [_summary(a) for a in model_versions(asset=asset)]
