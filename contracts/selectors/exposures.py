"""dbt's own signals about an asset, for its page and the API: its dbt access, its dbt group (with
the group's owner and the team it maps to) and the exposures that read it."""

from __future__ import annotations

from typing import Any

from contracts.models import Asset, DbtGroup, ExposureAsset


def asset_exposure_links(*, asset: Asset) -> list[ExposureAsset]:
    """The exposures reading ``asset`` (directly first), with their team and project."""
    return list(
        ExposureAsset.objects.filter(asset=asset)
        .select_related("exposure__team", "exposure__project")
        .order_by("-direct", "exposure__name")
    )


def asset_dbt_group(*, asset: Asset) -> DbtGroup | None:
    if not asset.dbt_group or asset.project_id is None:
        return None
    return (
        DbtGroup.objects.filter(project_id=asset.project_id, name=asset.dbt_group)
        .select_related("team")
        .first()
    )


def asset_dbt_signals(*, asset: Asset) -> dict[str, Any]:
    """The API's ``access``, ``group`` and ``exposures`` of an asset."""
    group = asset_dbt_group(asset=asset)
    return {
        "access": asset.access,
        "group": None
        if group is None
        else {
            "name": group.name,
            "owner_name": group.owner_name,
            "owner_email": group.owner_email,
            "team": group.team.slug if group.team else None,
        },
        "exposures": [
            {
                "unique_id": link.exposure.unique_id,
                "name": link.exposure.name,
                "label": link.exposure.label,
                "type": link.exposure.type,
                "url": link.exposure.url,
                "maturity": link.exposure.maturity,
                "owner_name": link.exposure.owner_name,
                "owner_email": link.exposure.owner_email,
                "team": link.exposure.team.slug,
                "project": link.exposure.project.name,
                "direct": link.direct,
            }
            for link in asset_exposure_links(asset=asset)
        ],
    }
