"""Reads for the dashboard pages: each page's data in a bounded number of queries, one module per
page (home, asset_list, asset_page, team_page, events); everything is re-exported here,
so views use ``from contracts.selectors import dashboard as sel``.

Every list here is built with select_related/prefetch_related or one grouped query, never a
query per row; the view tests assert that (10 rows and 100 rows cost the same).
"""

from __future__ import annotations

from contracts.selectors.dashboard.asset_list import (
    SORTS,
    STATUS_FILTERS,
    AssetFilters,
    asset_filter_choices,
    asset_search,
)
from contracts.selectors.dashboard.asset_page import AssetPage, asset_page
from contracts.selectors.dashboard.common import OPEN, is_id
from contracts.selectors.dashboard.events import event_kinds, event_search, events_query, proposal_history
from contracts.selectors.dashboard.home import (
    HomeData,
    OurProposal,
    WaitingItem,
    failing_audits,
    home_data,
    proposals_with_answers,
    recent_syncs,
)
from contracts.selectors.dashboard.memberships import user_lead_team_ids, user_team_ids, user_teams
from contracts.selectors.dashboard.team_page import TeamPage, team_page

__all__ = [
    "AssetFilters",
    "AssetPage",
    "HomeData",
    "OPEN",
    "OurProposal",
    "SORTS",
    "STATUS_FILTERS",
    "TeamPage",
    "WaitingItem",
    "asset_filter_choices",
    "asset_page",
    "asset_search",
    "event_kinds",
    "event_search",
    "events_query",
    "failing_audits",
    "home_data",
    "is_id",
    "proposal_history",
    "proposals_with_answers",
    "recent_syncs",
    "team_page",
    "user_lead_team_ids",
    "user_team_ids",
    "user_teams",
]
