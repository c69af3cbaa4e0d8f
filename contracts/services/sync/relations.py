"""Sync step: relations that disappeared from the manifest or moved to another name. With
consumers to ask, a proposal (or an approved check proposal applied now); without, the asset is
retired by the caller or follows its relation at once. The changes themselves (retire, move, their
hashes) are contracts.services.relations, which proposals use too."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from contracts.compat.diff.relations import relation_moved
from contracts.compat.verdict import evaluate, evaluate_removal
from contracts.domain import DEFAULT_MODE, AssetSpec, ContractSpec
from contracts.models import Asset, SyncRun
from contracts.services.proposals.opening import proposal_open
from contracts.services.proposals.publishing import proposal_publish_matching_check
from contracts.services.relations import (
    asset_move,
    consumer_slugs,
    move_change,
    relation_change_hash,
    removal_change,
)

if TYPE_CHECKING:
    from tessera_site.lib.auth import Actor


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
