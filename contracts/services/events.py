"""The audit log: every change of state is recorded here, explicitly, by the service that made it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from contracts.models import Event

if TYPE_CHECKING:
    from contracts.models import Asset, Proposal, SyncRun, Team
    from tessera_site.lib.auth import Actor

# Hooks other modules register (e.g. webhooks) to react after an event is committed.
_listeners: list[Any] = []


def event_listener(func: Any) -> Any:
    """Register ``func(event)``, called on commit for every recorded event."""
    _listeners.append(func)
    return func


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
    from django.db import transaction

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
    event.save()
    for listener in _listeners:
        transaction.on_commit(lambda listener=listener: listener(event))
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
    """For syncs that record many events at once; listeners still run per event on commit."""
    from django.db import transaction

    created = Event.objects.bulk_create(events)
    for listener in _listeners:
        # A listener may offer a batch form (`listener.many(events)`), so a sync that records
        # thousands of events costs it one query instead of one per event.
        many = getattr(listener, "many", None)
        if many is not None:
            transaction.on_commit(lambda many=many, created=created: many(created))
            continue
        for event in created:
            transaction.on_commit(lambda listener=listener, event=event: listener(event))
    return created
