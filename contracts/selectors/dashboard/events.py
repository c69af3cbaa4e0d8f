"""The audit log: events filtered by kind, team, asset; a proposal's history."""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet

from contracts.models import (
    Event,
    Proposal,
)
from contracts.selectors.access import Reader, events_readable
from contracts.selectors.dashboard.common import is_id


def event_search(
    *, reader: Reader, kind: str = "", team: str = "", asset: str = "", page: int = 1, per_page: int = 50
) -> Page:
    """One page of the audit log for the dashboard (the API pages the same query with ninja)."""
    return Paginator(events_query(reader=reader, kind=kind, team=team, asset=asset), per_page).get_page(page)


def events_query(*, reader: Reader, kind: str = "", team: str = "", asset: str = "") -> QuerySet[Event]:
    """The audit log as ``reader`` may read it, newest first: one query for the API and the dashboard."""
    qs = events_readable(
        reader=reader,
        events=Event.objects.select_related("team", "asset", "actor_user", "proposal").order_by(
            "-created_at", "-id"
        ),
    )
    if kind:
        # "proposal" matches every proposal.* event; "proposal.opened" only that one.
        qs = qs.filter(kind=kind) if "." in kind else qs.filter(kind__startswith=f"{kind}.")
    if team:
        qs = qs.filter(team__slug=team)
    if asset:
        qs = qs.filter(asset_id=int(asset)) if is_id(asset) else qs.filter(asset__relation__icontains=asset)
    return qs


def event_kinds() -> list[str]:
    return list(Event.objects.order_by("kind").values_list("kind", flat=True).distinct())


def proposal_history(*, proposal: Proposal) -> list[Event]:
    return list(
        Event.objects.filter(proposal=proposal)
        .select_related("team", "actor_user")
        .order_by("created_at", "id")
    )
