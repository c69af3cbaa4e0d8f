"""Sync step: dbt model access and groups on the assets.

- Each asset this project maintains takes its model's ``access`` and ``group`` — except a model
  going from ``public`` to ``protected``/``private`` while another project reads it: that is a
  breaking change (contracts.compat.access) that opens a proposal asking the reading teams; the
  asset stays ``public`` until the proposal publishes (services.relations.relation_change_apply).
  A narrowing that comes with a breaking contract change waits (the asset stays ``public``, the
  sync says so) until that change's proposal is decided; the next sync then asks the readers.
- A read of another project's ``private`` or ``protected`` model (a source of this project naming
  its relation) is a warning of the sync that makes it (and of the CI check).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from django.db.models import Q

from contracts.compat.access import NARROWER, access_narrowed, access_narrows, evaluate_access
from contracts.compat.verdict import Verdict
from contracts.domain import DEFAULT_MODE, AssetSpec, ParsedManifest
from contracts.models import Asset, AssetNode, Proposal
from contracts.services.proposals.opening import proposal_open
from contracts.services.relations import ACCESS, relation_change_hash
from contracts.services.sync.assets import AssetPlan
from contracts.services.sync.context import SyncContext, chunks
from contracts.services.sync.versions import Pending


def access_relation_change(*, asset: Asset, new: str) -> dict[str, Any]:
    """What an access proposal proposes besides its (unchanged) contract; stable across syncs."""
    return {"kind": ACCESS, "relation": asset.relation, "from": asset.access, "to": new}


def reported_hash(asset: Asset, spec: AssetSpec) -> str:
    """The change a sync reports for an asset: its contract, and an access narrowing still waiting
    for its proposal (so that proposals follow it like any other change)."""
    content_hash = spec.contract.content_hash()
    if access_narrows(asset.access, spec.access):
        return relation_change_hash(content_hash, access_relation_change(asset=asset, new=spec.access))
    return content_hash


def cross_project_readers(*, asset_ids: list[int], project_id: int) -> dict[int, list[str]]:
    """asset id → the other projects that read it (their nodes name it)."""
    out: dict[int, set[str]] = {}
    for asset_id, name in (
        AssetNode.objects.filter(asset_id__in=asset_ids)
        .exclude(project_id=project_id)
        .values_list("asset_id", "project__name")
    ):
        out.setdefault(asset_id, set()).add(name)
    return {k: sorted(v) for k, v in out.items()}


def access_judge(ctx: SyncContext, plan: AssetPlan, pending: Pending) -> None:
    """Write access and group, open the proposals of narrowed access, warn about restricted reads."""
    ctx.out.access = dict(Counter(spec.access for _, spec in plan.owned.values() if spec.access))
    ctx.out.groups = len(ctx.parsed.groups)
    reads = [(node.unique_id, asset) for node, asset in plan.cross_reads]
    access_read_warnings(reads, warn=ctx.out.warn, project=ctx.project.name)
    narrowed = [a.pk for a, s in plan.owned.values() if access_narrows(a.access, s.access)]
    readers = cross_project_readers(asset_ids=narrowed, project_id=ctx.project.pk) if narrowed else {}
    pending_ids = {asset.pk for asset, *_ in pending}
    changed: list[Asset] = []
    for asset, spec in plan.owned.values():
        if (asset.access, asset.dbt_group) == (spec.access, spec.group):
            continue
        asset.dbt_group = spec.group
        if asset.pk in readers and asset.pk in pending_ids:
            if _breaking_narrowing(asset, spec, readers[asset.pk]) is not None:
                # Its contract change waits for a proposal of its own, which does not carry the
                # access: the narrowing waits too, and is asked once that change is decided.
                ctx.out.warn(
                    f"{asset.relation}: the narrowing from {asset.access} to {spec.access} waits; "
                    "the teams that read it are asked once the proposal of its contract change is decided."
                )
                changed.append(asset)  # the group only
                continue
        elif asset.pk in readers and _access_proposal(ctx, asset, spec, readers[asset.pk]):
            changed.append(asset)  # the group only: access waits for the proposal
            continue
        asset.access = spec.access
        changed.append(asset)
    _access_write(changed)


def _access_write(changed: list[Asset]) -> None:
    """One UPDATE per (access, group) pair, of a few: Django's bulk_update builds a CASE per row
    and field, which took seconds when the first sync of 5,000 models set them all."""
    by_value: dict[tuple[str, str], list[int]] = {}
    for asset in changed:
        by_value.setdefault((asset.access, asset.dbt_group), []).append(asset.pk)
    for (access, group), ids in by_value.items():
        for chunk in chunks(ids):
            Asset.objects.filter(pk__in=chunk).update(access=access, dbt_group=group)


def access_read_warnings(reads: Sequence[tuple[str, Asset]], *, warn: Any, project: str) -> None:
    """A source or a cross-project ref (unique_id) of ``project`` reading another project's model
    that its project does not offer to others."""
    for unique_id, asset in reads:
        if (
            asset.access in ("private", "protected")
            and asset.project is not None
            and asset.project.name != project
        ):
            warn(
                f"{unique_id} reads {asset.relation}, which project '{asset.project.name}' declares {asset.access} "
                f"(dbt access): it is not offered to other projects such as '{project}'. Ask its owner "
                f"team '{asset.owner_team.slug}' to make it public, or read a public model instead."
            )


def access_check_warnings(
    parsed: ParsedManifest, *, references: Sequence[dict[str, Any]], warnings: list[str]
) -> None:
    """The CI check's side of the warnings above: this manifest's sources and cross-project refs
    that read another project's private or protected model (a few queries, nothing written)."""
    sources = {s.relation: s.unique_id for s in parsed.assets if s.resource_type == "source"}
    by_id = {r["asset_id"]: r["unique_id"] for r in references}
    restricted = (
        Asset.objects.filter(access__in=("private", "protected"))
        .filter(Q(relation__in=list(sources)) | Q(pk__in=list(by_id)))
        .select_related("project", "owner_team")
    )
    reads = [(by_id.get(a.pk) or sources[a.relation], a) for a in restricted]
    access_read_warnings(reads, warn=warnings.append, project=parsed.project_name)


def access_check_narrowings(
    parsed: ParsedManifest, *, project_id: int | None, warnings: list[str]
) -> list[tuple[Asset, dict[str, Any], Verdict]]:
    """The CI check: this project's public models that the manifest makes protected or private
    while other projects read them, which a sync turns into proposals asking the readers. Each
    with its report entry and its (breaking) verdict; the check adds the readers' answers."""
    narrower = {s.relation: s for s in parsed.assets if s.access in NARROWER and s.resource_type == "model"}
    if project_id is None or not narrower:
        return []
    assets = list(
        Asset.objects.filter(
            project_id=project_id, access="public", relation__in=list(narrower)
        ).select_related("owner_team")
    )
    readers = cross_project_readers(asset_ids=[a.pk for a in assets], project_id=project_id)
    out = []
    for asset in assets:
        spec = narrower[asset.relation]
        change = access_narrowed(
            relation=asset.relation, old=asset.access, new=spec.access, readers=readers.get(asset.pk, [])
        )
        if change is None:
            continue
        verdict = evaluate_access(mode=asset.compatibility_mode or DEFAULT_MODE, change=change)
        if not verdict.breaking:
            continue
        warnings.append(f"{change.reason} A sync opens a proposal asking the teams that read it.")
        entry = {
            "relation": asset.relation,
            "asset_id": asset.pk,
            "from": asset.access,
            "to": spec.access,
            "readers": readers[asset.pk],
            "mode": verdict.mode,
            "reasons": verdict.reasons,
        }
        out.append((asset, entry, verdict))
    return out


def _breaking_narrowing(asset: Asset, spec: AssetSpec, readers: list[str]) -> Verdict | None:
    """The verdict on narrowing ``asset``'s access to ``spec``'s while ``readers`` read it, when it
    breaks them under the asset's mode (and the asset has a contract to propose against)."""
    change = access_narrowed(relation=asset.relation, old=asset.access, new=spec.access, readers=readers)
    if change is None or asset.active_version is None:
        return None
    verdict = evaluate_access(mode=asset.compatibility_mode or DEFAULT_MODE, change=change)
    return verdict if verdict.breaking else None


def _access_proposal(ctx: SyncContext, asset: Asset, spec: AssetSpec, readers: list[str]) -> bool:
    """Open (or find) the proposal of a narrowed access (its contract is the one this manifest
    brings, unchanged or just published); False when it breaks nothing under the mode."""
    verdict = _breaking_narrowing(asset, spec, readers)
    if verdict is None:
        return False
    base = asset.active_version
    relation_change = access_relation_change(asset=asset, new=spec.access)
    proposed_hash = relation_change_hash(spec.contract.content_hash(), relation_change)
    new = not Proposal.objects.filter(
        asset=asset, proposed_hash=proposed_hash, status__in=Proposal.OPEN_STATUSES
    ).exists()
    proposal = proposal_open(
        asset=asset, base_version=base, proposed_spec=spec.contract, verdict=verdict, origin=Proposal.Origin.SYNC,
        sync_run=ctx.run, actor=ctx.actor, relation_change=relation_change,
    )  # fmt: skip
    ctx.out.proposals.append(
        {
            "relation": asset.relation,
            "proposal": proposal.pk,
            "new": new,
            "relation_change": relation_change,
            "required_teams": sorted(proposal.required_teams.values_list("slug", flat=True)),
            "reasons": verdict.reasons[:10],
        }
    )
    return proposal.status in Proposal.OPEN_STATUSES
