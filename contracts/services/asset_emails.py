"""Who is told that an asset was retired (SPEC §4), with what in it. Called only by tasks
(contracts.tasks.workflow.assets_retired_emails_task).

One email per consumer team per sync run, listing every asset of that run the team consumes:
a sync that drops twenty models a team reads sends it one email, not twenty. The dedupe key names
the sync run and the team, so a retried task sends nothing twice, while the same asset retired
again by a later sync (after it came back) is news again.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.db.models import F

from contracts.models import Asset, OutboundEmail, Registration, Team
from contracts.presenters import slack as slack_blocks
from contracts.services.notices import Notice, notices_send_each
from tessera_site.lib.urls import absolute_url


def assets_retired_notify(*, sync_run_id: int, asset_ids: list[int]) -> list[OutboundEmail]:
    """To each team registered on one of these assets (never their owner), one email listing them."""
    registrations = (
        Registration.objects.filter(asset_id__in=asset_ids)
        # Back in a later manifest before this ran: it is not retired any more, so no news.
        .filter(asset__status=Asset.Status.RETIRED)
        .exclude(team_id=F("asset__owner_team_id"))
        .select_related("asset", "asset__owner_team", "asset__project")
        .order_by("asset__relation", "origin")
    )
    items_by_team: dict[int, dict[int, dict[str, Any]]] = {}
    for registration in registrations:
        asset = registration.asset
        items = items_by_team.setdefault(registration.team_id, {})
        item = items.get(asset.pk)
        if item is None:
            item = items[asset.pk] = {
                "asset": asset,
                "owner": asset.owner_team,
                "project": asset.project.name if asset.project else "",
                "asset_url": absolute_url(asset.get_absolute_url()),
                "purposes": [],
            }
        # A team can be registered twice (declared in meta and read through lineage): one line.
        if registration.purpose and registration.purpose not in item["purposes"]:
            item["purposes"].append(registration.purpose)

    def notice(team: Team) -> Notice:
        team_items = list(items_by_team[team.pk].values())
        return Notice(
            kind="asset_retired",
            team=team,
            dedupe_key=f"asset-retired:sync:{sync_run_id}:team:{team.pk}",
            email_kind="asset_retired",
            email_context={"team": team, "items": team_items},
            slack=partial(
                slack_blocks.assets_retired_message,
                team=team,
                items=team_items,
                team_url=absolute_url(team.get_absolute_url()),
            ),
        )

    return notices_send_each(
        notice(team) for team in Team.objects.filter(pk__in=items_by_team).order_by("slug")
    )
