"""Sync step: contracts. An asset whose contract hash is unchanged costs nothing; every other one
is diffed against its active version and judged. Compatible changes (and first contracts) are
written here, in bulk; breaking ones are returned as pending, for the proposals step to decide
once this manifest's registrations are written. Assets that require a passing audit write their
new version as proposed and let the publish gate decide."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from contracts.compat.verdict import Verdict, bump_version, evaluate
from contracts.domain import AssetSpec
from contracts.models import Asset, ContractVersion, SyncRun
from contracts.services.events import EventRow, event_rows_record
from contracts.services.sync.assets import AssetPlan
from contracts.services.sync.context import SyncContext, chunks
from contracts.services.versions import (
    FirstVersion,
    NewVersion,
    guarantees_insert,
    held_versions,
    held_versions_reject,
    published_event_row,
    version_build,
    version_spec,
    versions_insert,
)
from tessera_site.lib.gate import publish_allowed

Pending = list[tuple[Asset, AssetSpec, "ContractVersion | None", Verdict]]
Written = list[tuple[NewVersion, AssetSpec, Asset]]


@dataclass
class _Decisions:
    """What judging the changed assets decided, before anything is written."""

    to_write: Written = field(default_factory=list)
    reused: Written = field(default_factory=list)  # held versions judged again
    superseded: list[int] = field(default_factory=list)
    stale: list[int] = field(default_factory=list)  # held versions no longer deployed
    pending: Pending = field(default_factory=list)  # breaking changes


def versions_write(ctx: SyncContext, plan: AssetPlan) -> Pending:
    """Write the versions that publish now; return the breaking changes."""
    candidates: list[tuple[Asset, AssetSpec, str]] = []
    reverted: list[int] = []  # back to the active contract: what the gate held is not deployed any more
    for asset, spec in plan.owned.values():
        if asset.relation in plan.first_versions:  # new, its row already names its first version
            candidates.append((asset, spec, asset.content_hash))
            continue
        content_hash = spec.contract.content_hash()
        if asset.active_version_id is not None and asset.content_hash == content_hash:
            ctx.out.unchanged += 1
            if asset.requires_passing_audit:
                reverted.append(asset.pk)
        else:
            candidates.append((asset, spec, content_hash))
    if reverted:
        held_versions_reject(
            version_ids=[v.pk for vs in held_versions(asset_ids=reverted).values() for v in vs]
        )
    return _decide_and_write(
        ctx, candidates=candidates, adopted=plan.first_produced, first=plan.first_versions
    )


def _decide_and_write(
    ctx: SyncContext,
    *,
    candidates: list[tuple[Asset, AssetSpec, str]],
    adopted: set[int],
    first: dict[str, int],
) -> Pending:
    """Judge every changed asset and write the versions that publish now, in bulk.

    Assets known until now only as a source that this project produces (``adopted``, e.g. handed
    over by a transfer) publish their producer's first contract directly: there was no producer
    contract to break. New assets written pointing at their first version (``first``, relation →
    version id) have no active version to load: that version is written here, under that id.
    """
    if not candidates:
        return []
    active: dict[int, ContractVersion] = {}
    known = [a.active_version_id for a, _, _ in candidates if a.active_version_id and a.relation not in first]
    for chunk in chunks(known):
        active.update({v.pk: v for v in ContractVersion.objects.filter(pk__in=chunk)})
    history = transitive_history([a.pk for a, s, _ in candidates if s.contract.mode.endswith("_transitive")])
    # Assets that require a passing audit: what a previous sync held for the gate.
    held = held_versions(asset_ids=[a.pk for a, _, _ in candidates if a.requires_passing_audit])
    decided = _Decisions()
    for asset, spec, content_hash in candidates:
        # A held version of other content is no longer what is deployed: it never publishes.
        decided.stale.extend(v.pk for v in held.get(asset.pk, ()) if v.content_hash != content_hash)
        base = active.get(asset.active_version_id) if asset.active_version_id else None  # None if new
        if base is None and asset.relation in first:
            decided.to_write.append((_first_version(ctx, asset, spec, first[asset.relation]), spec, asset))
            continue
        _decide(ctx, decided, asset, spec, content_hash, base=base, held=held,
                history=history.get(asset.pk, ()), adopted=asset.pk in adopted)  # fmt: skip
    held_versions_reject(version_ids=decided.stale)
    for chunk in chunks(decided.superseded):
        ContractVersion.objects.filter(pk__in=chunk).update(status=ContractVersion.Status.SUPERSEDED)
    events: list[EventRow] = []
    versions_insert_published(
        ctx, to_write=decided.to_write, reused=decided.reused, active=active, events=events
    )
    event_rows_record(events)
    return decided.pending


def _first_version(ctx: SyncContext, asset: Asset, spec: AssetSpec, version_id: int) -> FirstVersion:
    """A new asset's first contract, under the id its asset row already names (assets step): it
    publishes as 1.0.0 whatever the asset requires, as ``_decide`` judges any first contract."""
    verdict = evaluate(old=None, new=spec.contract, mode=spec.contract.mode)
    return FirstVersion(
        pk=version_id, asset_id=asset.pk, spec=spec.contract, content_hash=asset.content_hash,
        verdict=verdict.as_dict(), sync_run_id=ctx.run.pk, created_at=timezone.now(),
    )  # fmt: skip


def transitive_history(asset_ids: list[int]) -> dict[int, list[tuple[str, Any]]]:
    """Every superseded contract of these assets, oldest first (for the ``*_transitive`` modes)."""
    history: dict[int, list[tuple[str, Any]]] = {}
    if not asset_ids:
        return history
    for version in ContractVersion.objects.filter(
        asset_id__in=asset_ids, status=ContractVersion.Status.SUPERSEDED
    ).order_by("id"):
        history.setdefault(version.asset_id, []).append((version.semver, version_spec(version)))
    return history


def _decide(
    ctx: SyncContext,
    decided: _Decisions,
    asset: Asset,
    spec: AssetSpec,
    content_hash: str,
    *,
    base: ContractVersion | None,
    held: dict[int, list[ContractVersion]],
    history: Any,
    adopted: bool,
) -> None:
    run = ctx.run
    if base is None:
        verdict = evaluate(old=None, new=spec.contract, mode=spec.contract.mode)
        version = version_build(
            asset=asset, spec=spec.contract, semver=(1, 0, 0), status=ContractVersion.Status.ACTIVE,
            change_kind="initial", verdict=verdict.as_dict(), sync_run=run, content_hash=content_hash,
        )  # fmt: skip
        decided.to_write.append((version, spec, asset))
        return
    verdict = evaluate(old=version_spec(base), new=spec.contract, mode=spec.contract.mode, history=history)
    if verdict.breaking and not adopted:
        decided.pending.append((asset, spec, base, verdict))
        return
    bump = verdict.bump or "patch"  # the hash moved, so something changed even if the diff is silent
    semver = bump_version((base.major, base.minor, base.patch), bump)
    if asset.requires_passing_audit:
        again = held_again(held, asset=asset, content_hash=content_hash, semver=semver, bump=bump, verdict=verdict, run=run)  # fmt: skip
        if again is not None:
            decided.reused.append((again, spec, asset))
            return
    else:
        decided.superseded.append(base.pk)
    version = version_build(
        asset=asset, spec=spec.contract, semver=semver, status=first_status(asset), change_kind=bump,
        verdict=verdict.as_dict(), sync_run=run, content_hash=content_hash,
    )  # fmt: skip
    decided.to_write.append((version, spec, asset))


def first_status(asset: Asset) -> str:
    """A new version of an asset that requires a passing audit is written as proposed; the gate
    judges its own guarantees once their rows exist (_gate_written) and may then activate it."""
    return ContractVersion.Status.PROPOSED if asset.requires_passing_audit else ContractVersion.Status.ACTIVE


def held_again(
    held: dict[int, list[ContractVersion]],
    *,
    asset: Asset,
    content_hash: str,
    semver: tuple[int, int, int],
    bump: str,
    verdict: Verdict,
    run: SyncRun,
) -> ContractVersion | None:
    """The version an earlier sync held with this very content, restamped against today's active
    version, so that syncing the same deploy again judges it again instead of adding a copy."""
    version = next((v for v in held.get(asset.pk, ()) if v.content_hash == content_hash), None)
    if version is None:
        return None
    version.major, version.minor, version.patch = semver
    version.change_kind = bump
    version.verdict = verdict.as_dict()
    version.sync_run = run
    version.save(update_fields=["major", "minor", "patch", "change_kind", "verdict", "sync_run"])
    return version


def _gate_written(
    ctx: SyncContext, *, written: Written, active: dict[int, ContractVersion], now: Any
) -> None:
    """The publish gate's word on each proposed version just written (assets that require a passing
    audit only, so the bulk of a sync pays nothing): publish activates it over the asset's active
    version; hold keeps it proposed, with the reasons in the summary, until an audit releases it
    (contracts.services.versions.version_release_held)."""
    for version, _spec, asset in written:
        if not isinstance(version, ContractVersion) or version.status != ContractVersion.Status.PROPOSED:
            continue
        gate = publish_allowed(asset=asset, version=version)
        if gate is not None and not gate.publish:
            ctx.out.held.append(
                {"relation": asset.relation, "version": version.semver, "reasons": gate.reasons}
            )
            ctx.out.warn(
                f"{asset.relation} v{version.semver} is held by the publish gate: {'; '.join(gate.reasons)}"
            )
            continue
        base = active.get(asset.active_version_id) if asset.active_version_id else None
        if base is not None:
            ContractVersion.objects.filter(pk=base.pk).update(status=ContractVersion.Status.SUPERSEDED)
        version.status = ContractVersion.Status.ACTIVE
        version.published_at = now
        version.save(update_fields=["status", "published_at"])


def versions_insert_published(
    ctx: SyncContext,
    *,
    to_write: Written,
    reused: Written,
    active: dict[int, ContractVersion],
    events: list[EventRow],
    now: Any = None,
) -> None:
    """Insert new versions and their guarantees, let the gate judge the proposed ones, and point
    each asset at its newly active version (one event per publication)."""
    if not to_write and not reused:
        return
    now = now or ctx.now
    versions_insert([v for v, _, _ in to_write])
    guarantees_insert([(v, s.contract) for v, s, _ in to_write])
    written = to_write + reused
    _gate_written(ctx, written=written, active=active, now=now)
    published_ids: list[int] = []
    for version, _spec, asset in written:
        if version.status != ContractVersion.Status.ACTIVE:
            continue
        previous = active.get(asset.active_version_id) if asset.active_version_id else None
        if isinstance(version, ContractVersion):
            if asset.active_version_id != version.pk:
                published_ids.append(asset.pk)
            asset.active_version = version
            asset.active_major = version.major
        # else a new asset's first version, which its row names already. Not cached on the asset
        # either: nothing reads it in this sync, and an asset and its version referring to each
        # other would be freed only by the cyclic collector (7,000 pairs and their JSON, 0.4 s).
        asset.content_hash = version.content_hash
        asset.compatibility_mode = version.compatibility_mode
        asset.updated_at = now
        ctx.out.published.append(_published_row(asset, version, previous))
        events.append(
            published_event_row(
                asset=asset,
                semver=version.semver,
                change_kind=version.change_kind,
                previous=previous.semver if previous else None,
                verdict=version.verdict,
                sync_run=ctx.run,
                actor=ctx.actor,
            )  # fmt: skip
        )
    _point_assets_at_active(published_ids, now=now)


def _published_row(asset: Asset, version: NewVersion, previous: ContractVersion | None) -> dict[str, Any]:
    return {
        "relation": asset.relation,
        "version": version.semver,
        "previous": previous.semver if previous else None,
        "bump": version.change_kind,
        "breaking": bool(version.verdict.get("breaking")),
        "reasons": list(version.verdict.get("reasons", []))[:10],
    }


def _point_assets_at_active(asset_ids: list[int], *, now: Any) -> None:
    # One UPDATE per chunk pointing each asset at its (just inserted) active version: Django's
    # bulk_update builds a CASE per row and per field, which cost seconds at a few thousand assets.
    newest = ContractVersion.objects.filter(asset=OuterRef("pk"), status=ContractVersion.Status.ACTIVE)
    for chunk in chunks(asset_ids):
        Asset.objects.filter(pk__in=chunk).update(
            active_version=Subquery(newest.values("pk")[:1]),
            active_major=Subquery(newest.values("major")[:1]),
            content_hash=Subquery(newest.values("content_hash")[:1]),
            compatibility_mode=Subquery(newest.values("compatibility_mode")[:1]),
            updated_at=now,
        )
