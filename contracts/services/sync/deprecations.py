"""Sync step: deprecation campaigns follow the manifest (a version newly deprecated opens one, one
no longer deprecated is withdrawn) and the lineage this sync wrote (a team that stopped reading a
deprecated version has moved; a campaign nobody reads any more is done). See
contracts.services.deprecations."""

from __future__ import annotations

from contracts.services.deprecations import campaigns_refresh
from contracts.services.sync.context import SyncContext


def deprecations_follow(ctx: SyncContext) -> None:
    # Every live campaign, not only this project's: this project's models may be the readers.
    campaigns_refresh(now=ctx.now)
