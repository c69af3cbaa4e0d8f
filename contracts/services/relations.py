"""Relation-level changes (SPEC §4, §5): an asset's relation removed or moved.

A relation that disappears (model deleted, disabled, made ephemeral) or moves (new database,
schema or identifier for the same dbt unique_id) is judged under the asset's mode like any
change. With consumers and breaking, it goes through a proposal: the asset keeps its relation
until the proposal publishes, and then :func:`relation_change_apply` retires or moves it.
Without consumers (or not breaking) the sync applies it at once. Either way it is an event.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import orjson
from django.utils import timezone

from contracts.compat.diff.relations import REMOVAL_WHY
from contracts.domain import AssetSpec
from contracts.models import Asset, Registration, SyncRun
from contracts.services.events import asset_event_record

if TYPE_CHECKING:
    from tessera_site.lib.auth import Actor

REMOVED = "removed"
MOVED = "moved"
ACCESS = "access"  # dbt access narrowed from public (services.sync.access)
# A versioned model's latest_version moved: the teams whose refs are unpinned read the new latest
# from their next build (services.sync.latest); publishing changes no contract.
LATEST_MOVED = "latest_moved"


def removal_change(*, asset: Asset, why: str) -> dict[str, Any]:
    return {"kind": REMOVED, "relation": asset.relation, "why": why, "reason": REMOVAL_WHY.get(why, why)}


def move_change(*, asset: Asset, spec: AssetSpec) -> dict[str, Any]:
    return {
        "kind": MOVED,
        "from": asset.relation,
        "to": spec.relation,
        "database": spec.database,
        "schema": spec.schema,
        "identifier": spec.identifier,
    }


def relation_change_hash(content_hash: str, relation_change: Mapping[str, Any] | None) -> str:
    """What a proposal proposes: the contract's hash, and the relation change when there is one
    (so the same removal or move, synced or checked again, finds its proposal)."""
    if not relation_change:
        return content_hash
    payload = orjson.dumps([content_hash, dict(relation_change)], option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(payload).hexdigest()


def consumer_slugs(*, asset: Asset) -> list[str]:
    return sorted(
        set(
            Registration.objects.filter(asset=asset)
            .exclude(team_id=asset.owner_team_id)
            .values_list("team__slug", flat=True)
        )
    )


def asset_retire(*, asset: Asset, actor: Actor | None, sync_run: SyncRun | None, why: str) -> None:
    """Retire (never delete) an asset whose relation is gone, on the record."""
    now = timezone.now()
    Asset.objects.filter(pk=asset.pk).update(status=Asset.Status.RETIRED, retired_at=now, updated_at=now)
    asset.status, asset.retired_at = Asset.Status.RETIRED, now
    asset_event_record(
        kind="asset.retired",
        actor=actor,
        asset=asset,
        sync_run=sync_run,
        payload={"relation": asset.relation, "why": why, "consumers": consumer_slugs(asset=asset)},
    )


def asset_move(
    *, asset: Asset, change: Mapping[str, Any], actor: Actor | None, sync_run: SyncRun | None
) -> bool:
    """Point an asset at its new relation (its versions, consumers and history move with it).
    Returns False, on the record, when another asset already names the new relation."""
    target = str(change["to"])
    taken = Asset.objects.filter(relation=target).exclude(pk=asset.pk).first()
    if taken is not None:
        asset_event_record(
            kind="asset.move_blocked",
            actor=actor,
            asset=asset,
            sync_run=sync_run,
            payload={"from": asset.relation, "to": target, "taken_by": taken.pk},
        )
        return False
    previous = asset.relation
    asset.relation = target
    asset.database = str(change.get("database") or "")
    asset.schema = str(change.get("schema") or "")
    asset.identifier = str(change.get("identifier") or "")
    asset.updated_at = timezone.now()
    asset.save(update_fields=["relation", "database", "schema", "identifier", "updated_at"])
    asset_event_record(
        kind="asset.moved",
        actor=actor,
        asset=asset,
        sync_run=sync_run,
        payload={"from": previous, "to": target, "consumers": consumer_slugs(asset=asset)},
    )
    return True


def relation_change_apply(
    *, asset: Asset, change: Mapping[str, Any], actor: Actor | None, sync_run: SyncRun | None
) -> None:
    """What a published relation-level proposal does to its asset. A removal publishes no new
    contract (the proposed copy of the last one is superseded with the relation)."""
    if change.get("kind") in (REMOVED, LATEST_MOVED):
        from contracts.models import ContractVersion

        ContractVersion.objects.filter(asset=asset, status=ContractVersion.Status.PROPOSED).filter(
            proposals__relation_change__kind=change.get("kind")
        ).update(status=ContractVersion.Status.SUPERSEDED)
    if change.get("kind") == REMOVED:
        asset_retire(asset=asset, actor=actor, sync_run=sync_run, why=str(change.get("why") or "deleted"))
    elif change.get("kind") == MOVED:
        asset_move(asset=asset, change=change, actor=actor, sync_run=sync_run)
    elif change.get("kind") == ACCESS:
        # dbt access narrowed (services.sync.access): the asset takes it once its readers answered.
        # Access is no part of the contract: the contract stays as it is, and the proposal's copy
        # of it (proposed, never published) is superseded, as for a removal.
        from contracts.models import ContractVersion

        ContractVersion.objects.filter(asset=asset, status=ContractVersion.Status.PROPOSED).filter(
            proposals__relation_change__kind=ACCESS
        ).update(status=ContractVersion.Status.SUPERSEDED)
        Asset.objects.filter(pk=asset.pk).update(
            access=str(change.get("to") or ""), updated_at=timezone.now()
        )
        asset.access = str(change.get("to") or "")
