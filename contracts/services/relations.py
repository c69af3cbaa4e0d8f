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
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from django.utils import timezone

from contracts.compat.verdict import REMOVAL_WHY
from contracts.domain import DEFAULT_MODE, AssetSpec, ContractSpec
from contracts.models import Asset, Registration, SyncRun
from contracts.services.events import asset_event_record

if TYPE_CHECKING:
    from tessera_site.lib.auth import Actor

REMOVED = "removed"
MOVED = "moved"


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
    if change.get("kind") == REMOVED:
        from contracts.models import ContractVersion

        ContractVersion.objects.filter(asset=asset, status=ContractVersion.Status.PROPOSED).filter(
            proposals__relation_change__kind=REMOVED
        ).update(status=ContractVersion.Status.SUPERSEDED)
        asset_retire(asset=asset, actor=actor, sync_run=sync_run, why=str(change.get("why") or "deleted"))
    elif change.get("kind") == MOVED:
        asset_move(asset=asset, change=change, actor=actor, sync_run=sync_run)


@dataclass(slots=True)
class RelationOutcome:
    """What a sync did about relations that disappeared or moved."""

    retire_now: list[Asset] = field(default_factory=list)  # no consumers asked: retired by the caller
    moved: list[dict[str, str]] = field(default_factory=list)
    proposals: list[dict[str, Any]] = field(default_factory=list)
    published: list[str] = field(default_factory=list)  # approved check proposals applied now


def relation_moves(*, project_assets: list[Asset], specs: Mapping[str, AssetSpec]) -> dict[str, Asset]:
    """New relation -> the asset that names the old one: same dbt unique_id, the old relation no
    longer built, the new one not yet an asset. Sources never move (they name what others build)."""
    by_uid = {s.unique_id: (rel, s) for rel, s in specs.items() if s.resource_type != "source"}
    moves: dict[str, Asset] = {}
    for asset in project_assets:
        if asset.resource_type == Asset.Type.SOURCE or asset.relation in specs:
            continue
        found = by_uid.get(asset.unique_id)
        if found is not None:
            moves[found[0]] = asset
    return moves


def relation_changes_decide(
    *,
    vanished: list[Asset],
    moves: list[tuple[Asset, AssetSpec]],
    absent: Mapping[str, str],
    sync_run: SyncRun,
    actor: Actor | None,
) -> RelationOutcome:
    """Judge each removed or moved relation under its asset's mode: breaking with consumers opens
    (or finds) a proposal and nothing happens to the asset yet; otherwise it is applied now."""
    from contracts.compat.verdict import evaluate, evaluate_removal, relation_moved
    from contracts.services.versions import version_spec

    out = RelationOutcome()
    for asset in vanished:
        if asset.resource_type == Asset.Type.SOURCE:
            out.retire_now.append(asset)  # a source no longer declared: nothing was dropped in the warehouse
            continue
        change = removal_change(asset=asset, why=absent.get(asset.unique_id, "deleted"))
        base = asset.active_version
        mode = asset.compatibility_mode or DEFAULT_MODE
        spec = version_spec(base) if base else ContractSpec(mode=mode)
        verdict = evaluate_removal(old=spec, mode=mode, relation=asset.relation, why=change["why"])
        if not (verdict.breaking and consumer_slugs(asset=asset)):
            out.retire_now.append(asset)
            continue
        _through_proposal(asset=asset, base=base, spec=spec, verdict=verdict, change=change, out=out, sync_run=sync_run, actor=actor)  # fmt: skip
    for asset, target in moves:
        change = move_change(asset=asset, spec=target)
        base = asset.active_version
        moved = relation_moved(old_relation=asset.relation, new_relation=target.relation)
        old = version_spec(base) if base else target.contract
        verdict = evaluate(old=old, new=target.contract, mode=target.contract.mode, relation_changes=[moved])
        if verdict.breaking and consumer_slugs(asset=asset):
            _through_proposal(asset=asset, base=base, spec=target.contract, verdict=verdict, change=change, out=out, sync_run=sync_run, actor=actor)  # fmt: skip
            continue
        _move_now(
            asset=asset, spec=target, change=change, verdict=verdict, out=out, sync_run=sync_run, actor=actor
        )
    return out


def _through_proposal(
    *, asset: Asset, base: Any, spec: ContractSpec, verdict: Any, change: dict[str, Any], out: RelationOutcome,
    sync_run: SyncRun, actor: Actor | None,
) -> None:  # fmt: skip
    from contracts.models import Proposal
    from contracts.services.proposals import proposal_open, proposal_publish_matching_check

    proposed_hash = relation_change_hash(spec.content_hash(), change)
    published = proposal_publish_matching_check(
        asset=asset, content_hash=proposed_hash, sync_run=sync_run, actor=actor
    )
    if published is not None and published.status == Proposal.Status.PUBLISHED:
        out.published.append(asset.relation)
        return
    already = Proposal.objects.filter(
        asset=asset, proposed_hash=proposed_hash, status__in=Proposal.OPEN_STATUSES
    ).exists()
    proposal = proposal_open(
        asset=asset, base_version=base, proposed_spec=spec, verdict=verdict, origin=Proposal.Origin.SYNC,
        sync_run=sync_run, actor=actor, relation_change=change,
    )  # fmt: skip
    out.proposals.append(
        {
            "relation": asset.relation,
            "proposal": proposal.pk,
            "new": not already,
            "relation_change": change,
            "required_teams": sorted(proposal.required_teams.values_list("slug", flat=True)),
            "reasons": verdict.reasons[:10],
        }
    )


def _move_now(
    *, asset: Asset, spec: AssetSpec, change: dict[str, Any], verdict: Any, out: RelationOutcome,
    sync_run: SyncRun, actor: Actor | None,
) -> None:  # fmt: skip
    """No consumer to ask (or not breaking under the mode): the asset follows its relation now,
    and a contract that changed on the way is published like any other change."""
    from contracts.services.versions import version_publish

    if not asset_move(asset=asset, change=change, actor=actor, sync_run=sync_run):
        return
    out.moved.append({"from": str(change["from"]), "to": str(change["to"])})
    if asset.content_hash != spec.contract.content_hash():
        version_publish(asset=asset, spec=spec.contract, verdict=verdict, bump=verdict.bump, sync_run=sync_run, actor=actor)  # fmt: skip
