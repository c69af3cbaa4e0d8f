"""The audit log: every change of state is recorded here, explicitly, by the service that made it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from contracts.models import Event
from contracts.services.outbox import outbox_record
from contracts.services.webhooks import webhooks_wanted
from tessera_site.lib.bulk import BULK_BATCH, copy_rows, ids_allocate, instances_insert, json_text

if TYPE_CHECKING:
    from contracts.models import Asset, Proposal, SyncRun, Team
    from tessera_site.lib.auth import Actor


def _webhooks_record(event_ids: list[int]) -> None:
    """Webhooks are a side effect of the events: recorded in their transaction (the outbox), sent
    by a worker once it commits. An explicit call, so reading this module tells what happens."""
    if event_ids and webhooks_wanted():
        outbox_record(kind="webhook.fanout", event_ids=event_ids)


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
        _webhooks_record([event.pk])
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
        _webhooks_record([e.pk for e in events])
    return events


# The columns of an event row (``event_row``), in order; ``payload`` last.
EVENT_ROW_FIELDS = (
    "kind", "created_at", "actor_user", "actor_api_key", "actor_label", "team", "asset", "proposal", "sync_run",
    "payload",
)  # fmt: skip
EventRow = tuple[Any, ...]


def event_row(
    *,
    kind: str,
    actor: Actor | None,
    team_id: int | None = None,
    asset_id: int | None = None,
    sync_run_id: int | None = None,
    payload: dict[str, Any],
) -> EventRow:
    """An event as a plain row, for ``event_rows_record``: what ``Event(...)`` would hold (the
    actor's saved user and key, its label, the time it was built), without a model instance."""
    user = getattr(actor, "user", None)
    api_key = getattr(actor, "api_key", None)
    return (
        kind,
        timezone.now(),
        user.pk if user is not None else None,
        api_key.pk if api_key is not None else None,
        actor.label if actor is not None else "system",
        team_id,
        asset_id,
        None,
        sync_run_id,
        payload,
    )


def event_rows_record(rows: Sequence[EventRow]) -> list[int]:
    """``events_record_bulk`` of plain rows (``event_row``): a sync records one event per new
    version and per registration, and building an Event instance for each cost more than writing
    it. Ids ascend in the rows' order, as ``events_record_bulk`` gives them; returns them."""
    if not rows:
        return []
    with transaction.atomic():
        ids = ids_allocate(Event, len(rows))
        if ids is None:  # not PostgreSQL: instances, through bulk_create
            events = [Event(**dict(zip(_EVENT_ATTNAMES, row, strict=True))) for row in rows]
            Event.objects.bulk_create(events, batch_size=BULK_BATCH)
            ids = [e.pk for e in events]
        else:
            copy_rows(
                Event,
                ("id", *EVENT_ROW_FIELDS),
                ((pk, *row[:-1], json_text(row[-1])) for pk, row in zip(ids, rows, strict=True)),
            )
        _webhooks_record(ids)
    return ids


_EVENT_ATTNAMES = tuple(Event._meta.get_field(name).attname for name in EVENT_ROW_FIELDS)
