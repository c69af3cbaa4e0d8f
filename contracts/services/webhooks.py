"""Webhooks: every committed event goes to the matching active endpoints, signed and retried.

An endpoint gets the events of the teams it belongs to (an event's team, its asset's owner, the
teams its proposal asks), or every event when it is global. Body: ``{id, kind, created_at, team,
asset, proposal, payload}``. Headers: ``X-Tessera-Event``,
``X-Tessera-Timestamp`` and ``X-Tessera-Signature: sha256=<hex HMAC-SHA256 of "timestamp.body">``
keyed with the endpoint's secret; receivers should reject stale timestamps to stop replays.
Fan-out is a side effect in the outbox (``contracts.services.outbox``): the events' transaction
records it, a worker creates one delivery row per endpoint from it. Each delivery is a Celery task
with exponential backoff; every attempt is a WebhookAttempt row, and a delivery whose retry
message the broker lost is sent again by the sweep once its ``next_attempt_at`` has passed.
As for Slack (``tessera_site.lib.slack``), a receiver's final refusal (a 4xx other than 408/429:
a deleted hook's 404 or 410, a 401/403 for a rotated secret, a 400) fails the delivery at once with
that answer, since sending the same body again would be refused the same way; a 429 waits at
least its ``Retry-After``.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import orjson
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from contracts.models import Asset, Event, Proposal, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from contracts.selectors.notifications import webhook_teams_switched_off
from contracts.task_refs import WEBHOOK_DELIVER
from tessera_site.lib.enqueue import enqueue_on_commit
from tessera_site.lib.slack import is_permanent_refusal, retry_after_seconds

WEBHOOK_TIMEOUT_SECONDS = 10
USER_AGENT = "Tessera-Webhook/1"
# Attempts per delivery, whoever sent the message (a retry or the sweep); then it is failed.
MAX_ATTEMPTS = 6
RETRY_MAX_SECONDS = 300


class WebhookFailed(Exception):
    """The receiver did not answer 2xx; the task retries in ``retry_in`` seconds."""

    def __init__(self, detail: str, *, retry_in: int) -> None:
        super().__init__(detail)
        self.retry_in = retry_in


@dataclass(frozen=True, slots=True)
class _Answer:
    status_code: int | None
    error: str = ""
    retry_after: int | None = None  # a 429's Retry-After, in seconds

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def permanent(self) -> bool:
        return is_permanent_refusal(self.status_code)


def webhook_body(event: Event) -> bytes:
    return orjson.dumps(
        {
            "id": event.pk,
            "kind": event.kind,
            "created_at": event.created_at.isoformat(),
            "team": event.team.slug if event.team_id else None,
            "asset": (
                {"id": event.asset_id, "relation": event.asset.relation, "name": event.asset.display_name}
                if event.asset_id
                else None
            ),
            "proposal": event.proposal_id,
            "actor": event.actor_label,
            "payload": event.payload,
        },
        default=str,
    )


def webhook_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def _teams_concerned(event: Event) -> set[int]:
    """The event's team, the owner of its asset and the teams asked by its proposal."""
    teams = {event.team_id} if event.team_id else set()
    if event.asset_id:
        owner = Asset.objects.filter(pk=event.asset_id).values_list("owner_team_id", flat=True).first()
        if owner:
            teams.add(owner)
    if event.proposal_id:
        teams.update(
            Proposal.required_teams.through.objects.filter(proposal_id=event.proposal_id).values_list(
                "team_id", flat=True
            )
        )
    return teams


def endpoints_for(event: Event, active: list[WebhookEndpoint] | None = None) -> list[WebhookEndpoint]:
    """Active endpoints that want this event: global ones, and those of the teams it concerns
    (its team, its asset's owner, the teams its proposal asks) unless the team switched the
    webhook channel off for this kind of notice (contracts.selectors.notifications). ``active``:
    the active endpoints when the caller read them for a batch of events (read afresh otherwise)."""
    if active is None:
        active = list(WebhookEndpoint.objects.filter(is_active=True))
    wanted = [e for e in active if not e.event_kinds or event.kind in e.event_kinds]
    team_ids = {e.team_id for e in wanted if e.team_id is not None}
    # Only look up who else is concerned when some team endpoint could match (keeps bursts cheap).
    concerned = _teams_concerned(event) if team_ids - {event.team_id} else {event.team_id}
    matching = [e for e in wanted if e.team_id is None or e.team_id in concerned]
    teams = {e.team_id for e in matching if e.team_id is not None}
    off = webhook_teams_switched_off(event_kind=event.kind, team_ids=teams) if teams else set()
    return [e for e in matching if e.team_id not in off]


def webhooks_wanted() -> bool:
    """Whether any endpoint is active: events recorded while none is cost no outbox row."""
    return WebhookEndpoint.objects.filter(is_active=True).exists()


def webhook_fanout(event: Event, active: list[WebhookEndpoint] | None = None) -> list[int]:
    """One delivery row per endpoint that wants this committed event, each enqueued on commit."""
    endpoints = endpoints_for(event, active)
    if not endpoints:
        return []
    WebhookDelivery.objects.bulk_create(
        [WebhookDelivery(endpoint=e, event=event) for e in endpoints], ignore_conflicts=True
    )
    ids = list(
        WebhookDelivery.objects.filter(
            event=event, endpoint__in=endpoints, status=WebhookDelivery.Status.PENDING
        ).values_list("pk", flat=True)
    )
    for delivery_id in ids:
        enqueue_on_commit(WEBHOOK_DELIVER, delivery_id)
    return ids


def webhook_fanout_events(*, event_ids: list[int]) -> list[int]:
    """The outbox handler: fan committed events out (one endpoint query for the whole batch, read
    in this call: never a list kept from an earlier one, whose endpoints may be gone; then the
    per-event fan-out only for events some endpoint wants). Idempotent: one delivery per endpoint
    and event."""
    events = list(Event.objects.filter(pk__in=event_ids).select_related("team", "asset").order_by("pk"))
    endpoints = list(WebhookEndpoint.objects.filter(is_active=True)) if events else []
    ids: list[int] = []
    for event in events if endpoints else ():
        if any(not e.event_kinds or event.kind in e.event_kinds for e in endpoints):
            ids.extend(webhook_fanout(event, endpoints))
    return ids


def _post(url: str, body: bytes, headers: dict[str, str]) -> _Answer:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 (admin-configured URL)
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:  # noqa: S310
            return _Answer(response.status)
    except urllib.error.HTTPError as exc:
        answer = exc.read(300).decode("utf-8", "replace").strip()
        retry_after = retry_after_seconds(exc.headers.get("Retry-After")) if exc.code == 429 else None
        return _Answer(exc.code, f"HTTP {exc.code} {answer or exc.reason}", retry_after)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return _Answer(None, f"{exc.__class__.__name__}: {exc}")


def webhook_retry_seconds(attempts: int) -> int:
    """The Celery task's backoff (retry_backoff=True, no jitter): 1, 2, 4 … seconds, capped."""
    return min(RETRY_MAX_SECONDS, 2 ** max(0, attempts - 1))


def webhook_deliver(*, delivery_id: int, final_attempt: bool = False) -> str:
    """One attempt. Raises WebhookFailed for a retry, unless this was the final attempt (the
    task's last retry, or the delivery's MAX_ATTEMPTS-th attempt in all)."""
    delivery = (
        WebhookDelivery.objects.select_related("endpoint", "event", "event__team", "event__asset")
        .filter(pk=delivery_id)
        .first()
    )
    if delivery is None:
        return "gone"
    if delivery.status == WebhookDelivery.Status.DELIVERED:
        return "delivered"  # a redelivered message: the receiver already has it
    if delivery.status == WebhookDelivery.Status.FAILED:
        return "failed"
    final_attempt = final_attempt or delivery.attempts + 1 >= MAX_ATTEMPTS
    endpoint = delivery.endpoint
    body = webhook_body(delivery.event)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Tessera-Event": delivery.event.kind,
        "X-Tessera-Delivery": str(delivery.pk),
        "X-Tessera-Timestamp": timestamp,
        "X-Tessera-Signature": webhook_signature(secret=endpoint.secret, timestamp=timestamp, body=body),
    }
    started = time.monotonic()
    answer = _post(endpoint.url, body, headers)
    duration_ms = int((time.monotonic() - started) * 1000)
    return _record(delivery, answer, duration_ms=duration_ms, final_attempt=final_attempt)


def _record(delivery: WebhookDelivery, answer: _Answer, *, duration_ms: int, final_attempt: bool) -> str:
    """Record the attempt and what follows: delivered, failed (a final refusal, or the last
    attempt), or a retry (at least a 429's Retry-After from now)."""
    error = answer.error
    if answer.permanent:
        error = f"{error} — a final refusal (4xx other than 408/429): not retried"
    retry_in = max(webhook_retry_seconds(delivery.attempts + 1), answer.retry_after or 0)
    failed = not answer.ok and (final_attempt or answer.permanent)
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery, status_code=answer.status_code, error=error[:5000], duration_ms=duration_ms
        )
        fields: dict[str, Any] = {"attempts": F("attempts") + 1}
        if answer.ok:
            fields.update(status=WebhookDelivery.Status.DELIVERED, delivered_at=timezone.now())
        elif failed:
            fields.update(status=WebhookDelivery.Status.FAILED)
        else:  # when the retry is due; the sweep re-sends it if its message is lost
            fields.update(next_attempt_at=timezone.now() + timedelta(seconds=retry_in))
        WebhookDelivery.objects.filter(pk=delivery.pk).update(**fields)
    if answer.ok:
        return "delivered"
    if failed:
        return "failed"
    raise WebhookFailed(error or f"HTTP {answer.status_code}", retry_in=retry_in)
