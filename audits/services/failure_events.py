"""The ``audit.failed`` event a failed run records (for the workflow's webhooks and the log)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from audits.models import AuditRun
from contracts.models import Asset, Event, Registration
from contracts.services.events import events_record_bulk

if TYPE_CHECKING:
    from tessera_site.lib.auth import Actor


def failure_event(*, run: AuditRun, actor: Actor | None, failing: list[str], consumers: list[str]) -> Event:
    """An unsaved ``audit.failed`` event (recorded in bulk with events_record_bulk)."""
    asset = run.asset
    user = getattr(actor, "user", None)
    return Event(
        kind="audit.failed",
        actor_user=user if getattr(user, "pk", None) else None,
        actor_api_key=getattr(actor, "api_key", None),
        actor_label=actor.label if actor is not None else "system",
        team_id=asset.owner_team_id,
        asset=asset,
        payload={
            "audit_run_id": run.pk,
            "asset": asset.relation,
            "tool": run.tool,
            "run_id": run.run_id,
            "run_at": run.run_at.isoformat(),
            "failed": run.failed,
            "failing_checks": failing[:50],
            "consumer_teams": consumers,
        },
    )


def failure_event_record(*, run: AuditRun, asset: Asset, actor: Actor | None, failing: list[str]) -> None:
    consumers = sorted(set(Registration.objects.filter(asset=asset).values_list("team__slug", flat=True)))
    run.asset = asset
    events_record_bulk([failure_event(run=run, actor=actor, failing=failing, consumers=consumers)])
