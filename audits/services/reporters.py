"""Who sent a result file, as far as permissions go (a worker has no request)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from audits.models import ResultUpload
from contracts.models import Asset

if TYPE_CHECKING:
    from tessera_site.lib.auth import Actor


@dataclass
class Reporter:
    label: str
    team_ids: set[int] | None  # None = may report for any asset (open demo mode, superuser, system)

    def may_report(self, asset: Asset, consumer_ids: set[int]) -> bool:
        if self.team_ids is None:
            return True
        return asset.owner_team_id in self.team_ids or bool(self.team_ids & consumer_ids)


def reporter_for_upload(upload: ResultUpload) -> Reporter:
    if upload.is_open_actor or (upload.user is not None and upload.user.is_superuser):
        return Reporter(label=upload.actor_label, team_ids=None)
    if upload.api_key_id or upload.team_id:
        return Reporter(label=upload.actor_label, team_ids={upload.team_id} if upload.team_id else set())
    if upload.user_id:
        from contracts.selectors.teams import teams_for_user

        return Reporter(label=upload.actor_label, team_ids={t.pk for t in teams_for_user(user=upload.user)})
    return Reporter(label=upload.actor_label or "system", team_ids=None)


def reporter_for_actor(actor: Actor | None) -> Reporter:
    if (
        actor is None
        or actor.is_open
        or (actor.user is not None and getattr(actor.user, "is_superuser", False))
    ):
        return Reporter(label=actor.label if actor else "system", team_ids=None)
    teams = {t.pk for t in actor.teams}
    if actor.team is not None:
        teams.add(actor.team.pk)
    return Reporter(label=actor.label, team_ids=teams)
