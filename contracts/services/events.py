"""The audit log: every change of state is recorded here, explicitly, by the service that made it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction

from contracts.models import Event
from contracts.services.outbox import outbox_record
from contracts.services.webhooks import webhooks_wanted
from tessera_site.lib.bulk import instances_insert

if TYPE_CHECKING:
    from contracts.models import Asset, Proposal, SyncRun, Team
    from tessera_site.lib.auth import Actor


def _webhooks_record(events: list[Event]) -> None:
    """Webhooks are a side effect of the events: recorded in their transaction (the outbox), sent
    by a worker once it commits. An explicit call, so reading this module tells what happens."""
    if events and webhooks_wanted():
        outbox_record(kind="webhook.fanout", event_ids=[e.pk for e in events])


def event_record(
    *,
    kind: str,
    actor: Actor | None = None,
    team: Team | None = None,
    asset: Asset | None = None,
    proposal: Proposal | None = None,
    sync_run: SyncRun | None = None,
    payload: dict[str, Any] | None = None,
) -> Event:
    event = Event(
        kind=kind,
        actor_user=getattr(actor, "user", None),
        actor_api_key=getattr(actor, "api_key", None),
        actor_label=actor.label if actor is not None else "system",
        team=team,
        asset=asset,
        proposal=proposal,
        sync_run=sync_run,
        payload=payload or {},
    )
    with transaction.atomic():
        event.save()
        _webhooks_record([event])
    return event


def asset_event_record(
    *,
    kind: str,
    asset: Asset,
    actor: Actor | None = None,
    proposal: Proposal | None = None,
    sync_run: SyncRun | None = None,
    payload: dict[str, Any] | None = None,
) -> Event:
    """An event about ``asset``, filed under its producer team: contract and proposal events
    belong to the owner's audit log (and webhooks) whoever caused them."""
    return event_record(
        kind=kind,
        actor=actor,
        team=asset.owner_team,
        asset=asset,
        proposal=proposal,
        sync_run=sync_run,
        payload=payload,
    )


def events_record_bulk(events: list[Event]) -> list[Event]:
    """For syncs that record many events at once: one insert (COPY on PostgreSQL: a first sync
    records one event per asset), and one outbox row for their webhooks."""
    with transaction.atomic():
        instances_insert(Event, events)
        _webhooks_record(events)
    return events
