"""Read rules: what a reader may see. The JSON API and the dashboard both ask here, so a
signed-in member of a team and that team's read key cannot be shown different things.

The rules:

- The catalogue (assets, contracts, lineage, consumers) and proposals are the organisation's:
  every reader sees them, because a consumer must see a change before it lands.
- An asset's audit history (runs, trends, pass rates, ``audit.*`` events) is for its owner team
  and its consumer teams (SPEC §7).
- A result upload is for the team it was made for (an upload made for no team, in the local
  demo's open mode, is for everyone).
- API key events (``apikey.*``) are for the key's team.
- Administrators read everything: a superuser in the dashboard, an ``admin``-scope key in the
  API, and the local demo's open mode.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet

from contracts.models import Asset, Event, Proposal, Registration
from contracts.selectors.teams import user_memberships

if TYPE_CHECKING:
    from tessera_site.lib.auth import Actor

# Event families whose reading follows another rule than "everyone".
AUDIT_EVENT_PREFIX = "audit."
TEAM_PRIVATE_EVENT_PREFIX = "apikey."


@dataclass(frozen=True)
class Reader:
    label: str
    team_ids: frozenset[int] | None  # None: an administrator, who reads everything

    @property
    def reads_everything(self) -> bool:
        return self.team_ids is None


def reader_for_actor(actor: Actor) -> Reader:
    """An API caller (a key, or the dashboard's user actor)."""
    if actor.is_admin:
        return Reader(label=actor.label, team_ids=None)
    ids = {t.pk for t in actor.teams}
    if actor.team is not None:
        ids.add(actor.team.pk)
    return Reader(label=actor.label, team_ids=frozenset(ids))


def reader_for_user(user: Any) -> Reader:
    """A signed-in dashboard user: their teams, or everything for a superuser."""
    label = f"user:{user.get_username()}" if user.is_authenticated else "anonymous"
    if user.is_authenticated and user.is_superuser:
        return Reader(label=label, team_ids=None)
    ids = {team.pk for team, _ in user_memberships(user=user)}  # read once per request
    return Reader(label=label, team_ids=frozenset(ids))


# --- audit history -----------------------------------------------------------------------------
def asset_audits_readable(*, reader: Reader, asset: Asset) -> bool:
    """Whether the reader may see ``asset``'s audit history: its owner and consumer teams may."""
    if reader.team_ids is None or asset.owner_team_id in reader.team_ids:
        return True
    return Registration.objects.filter(asset=asset, team_id__in=reader.team_ids).exists()


def _audit_readable(reader_team_ids: frozenset[int], *, asset_field: str) -> Q:
    """``asset_field`` (a path to an asset) is owned or consumed by one of the teams."""
    consumed = Registration.objects.filter(team_id__in=reader_team_ids).values("asset_id")
    return Q(**{f"{asset_field}__owner_team_id__in": reader_team_ids}) | Q(**{f"{asset_field}__in": consumed})


# --- result uploads ---------------------------------------------------------------------------
def result_upload_readable(*, reader: Reader, upload: Any) -> bool:
    return reader.team_ids is None or upload.team_id is None or upload.team_id in reader.team_ids


def result_uploads_readable(*, reader: Reader, uploads: QuerySet[Any]) -> QuerySet[Any]:
    if reader.team_ids is None:
        return uploads
    return uploads.filter(Q(team__isnull=True) | Q(team_id__in=reader.team_ids))


# --- proposals --------------------------------------------------------------------------------
def proposals_readable(*, reader: Reader, proposals: QuerySet[Proposal]) -> QuerySet[Proposal]:
    """Every proposal: the teams that will be asked, and the ones that may start reading the asset,
    must see a change before it lands (the catalogue is the organisation's)."""
    return proposals


def proposal_readable(*, reader: Reader, proposal: Proposal) -> bool:
    return True  # the rule of proposals_readable, for one proposal already loaded


# --- the audit log ----------------------------------------------------------------------------
def events_readable(*, reader: Reader, events: QuerySet[Event]) -> QuerySet[Event]:
    if reader.team_ids is None:
        return events
    audit = Q(kind__startswith=AUDIT_EVENT_PREFIX)
    private = Q(kind__startswith=TEAM_PRIVATE_EVENT_PREFIX)
    return events.filter(
        (~audit & ~private)
        | (audit & _audit_readable(reader.team_ids, asset_field="asset"))
        | (private & Q(team_id__in=reader.team_ids))
    )


def event_readable(*, reader: Reader, event: Event) -> bool:
    return events_readable(reader=reader, events=Event.objects.filter(pk=event.pk)).exists()
