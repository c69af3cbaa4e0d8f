"""Sync step: deprecation campaigns follow the manifest (a version newly deprecated opens one, one
no longer deprecated is withdrawn) and the lineage this sync wrote (a team that stopped reading a
deprecated version has moved; a campaign nobody reads any more is done). See
contracts.services.deprecations."""

from __future__ import annotations

from contracts.services.deprecations import campaigns_refresh
from contracts.services.sync.context import SyncContext


def deprecations_follow(ctx: SyncContext) -> None:
    # Campaigns open or close for this project's versions only: a sync writes no other project's
    # deprecation dates (theirs follow their own syncs and the daily refresh of every project). The
    # readers of every live campaign are refreshed: this project's models may be among them.
    campaigns_refresh(project_id=ctx.project.pk, now=ctx.now)
