"""Sync step: relations of this project that vanished from its manifest or moved. Each is judged
under its asset's mode (services.relations): breaking with consumers, a proposal asks them and the
asset stays as it is until it publishes; otherwise a vanished asset is retired now (its consumer
teams hear of it: one email task per sync, after commit) and a moved one follows its relation.
The audit log records each one."""

from __future__ import annotations

from contracts.models import Asset, Event, Registration, SyncRun
from contracts.services.outbox import outbox_record
from contracts.services.sync.assets import AssetPlan
from contracts.services.sync.context import SyncContext
from contracts.services.sync.relations import relation_changes_decide


def assets_retire(ctx: SyncContext, plan: AssetPlan) -> list[Event]:
    """Retire what vanished; return the (unsaved) asset.retired events."""
    claimed = {a.pk for a, _ in plan.owned.values()} | {a.pk for a, _ in plan.moved}
    vanished = [
        a
        for a in plan.existing.values()
        if a.project_id == ctx.project.pk and a.status == Asset.Status.ACTIVE and a.pk not in claimed
    ]
    decided = relation_changes_decide(
        vanished=vanished, moves=plan.moved, absent=ctx.parsed.absent, sync_run=ctx.run, actor=ctx.actor
    )
    vanished = decided.retire_now  # the others wait for their consumers (or were published)
    ctx.out.proposals.extend(decided.proposals)
    ctx.out.moved.extend(decided.moved)
    ctx.out.retired.extend(decided.published)
    if not vanished:
        return []
    now = ctx.now
    Asset.objects.filter(pk__in=[a.pk for a in vanished]).update(
        status=Asset.Status.RETIRED, retired_at=now, updated_at=now
    )
    consumers: dict[int, list[str]] = {}
    for asset_id, slug in Registration.objects.filter(asset__in=vanished).values_list(
        "asset_id", "team__slug"
    ):
        consumers.setdefault(asset_id, []).append(slug)
    events: list[Event] = []
    for asset in vanished:
        ctx.out.retired.append(asset.relation)
        payload = {"relation": asset.relation, "consumers": sorted(set(consumers.get(asset.pk, [])))}
        events.append(ctx.event("asset.retired", asset=asset, payload=payload))
    _retired_emails_enqueue(run=ctx.run, asset_ids=[a.pk for a in vanished if consumers.get(a.pk)])
    return events


def _retired_emails_enqueue(*, run: SyncRun, asset_ids: list[int]) -> None:
    """One outbox message per sync run tells the consumer teams (one email each), recorded in the
    retirement's transaction."""
    if asset_ids:
        outbox_record(kind="email.assets_retired", sync_run_id=run.pk, asset_ids=asset_ids)
