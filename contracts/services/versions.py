"""Contract versions: building them from specs, reading specs back, and publishing.

A version is immutable once written; publishing only moves the *active* pointer (the previous
active version becomes superseded) and keeps ``Asset.content_hash`` equal to the active
version's hash, which is what lets a sync recognise unchanged assets without loading versions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, cast

import orjson
from django.db import connection, transaction
from django.utils import timezone

from contracts.compat.diff.guarantees import guarantee_key
from contracts.compat.serialize import columns_to_json, guarantees_to_json, spec_from_version
from contracts.compat.verdict import Verdict, bump_version
from contracts.domain import ContractSpec
from contracts.models import Asset, ContractVersion, Guarantee, SyncRun
from contracts.services.events import EventRow, asset_event_record, event_row
from tessera_site.lib.bulk import BULK_BATCH, copy_rows, ids_allocate
from tessera_site.lib.gate import publish_allowed

if TYPE_CHECKING:
    from tessera_site.lib.auth import Actor

_VERSION_COPY_FIELDS = (
    "asset", "major", "minor", "patch", "status", "change_kind", "columns", "guarantees",
    "compatibility_mode", "content_hash", "verdict", "sync_run", "created_at", "published_at",
)  # fmt: skip
_GUARANTEE_COPY_FIELDS = (
    "version", "asset", "key", "kind", "column", "arguments", "severity", "test_unique_id", "name",
)  # fmt: skip


def _json(value: Any) -> str:
    return orjson.dumps(value, default=str).decode()


@dataclass(slots=True)
class FirstVersion:
    """A new asset's first version as a sync writes it: 1.0.0, active, ``initial``, under the id its
    asset row names already (services.sync.assets), inserted straight from its spec. No
    ContractVersion instance is built for it: a first sync of 5,000 models writes 7,000 of them,
    read by nothing after their insert."""

    pk: int
    asset_id: int
    spec: ContractSpec
    content_hash: str
    verdict: dict[str, Any]
    sync_run_id: int | None
    created_at: dt.datetime  # and published_at

    major: ClassVar[int] = 1
    minor: ClassVar[int] = 0
    patch: ClassVar[int] = 0
    semver: ClassVar[str] = "1.0.0"
    status: ClassVar[str] = ContractVersion.Status.ACTIVE
    change_kind: ClassVar[str] = ContractVersion.ChangeKind.INITIAL

    @property
    def compatibility_mode(self) -> str:
        return self.spec.mode

    @property
    def published_at(self) -> dt.datetime:
        return self.created_at


NewVersion = ContractVersion | FirstVersion


def _version_row(v: NewVersion) -> tuple[Any, ...]:
    if isinstance(v, FirstVersion):
        columns, guarantees = columns_to_json(v.spec), guarantees_to_json(v.spec)
    else:
        columns, guarantees = v.columns, v.guarantees
    return (
        v.pk, v.asset_id, v.major, v.minor, v.patch, v.status, v.change_kind, _json(columns),
        _json(guarantees), v.compatibility_mode, v.content_hash, _json(v.verdict), v.sync_run_id,
        v.created_at, v.published_at,
    )  # fmt: skip


def versions_insert(versions: Sequence[NewVersion]) -> None:
    """Insert new versions and set their pks (a version may carry its pk already: a new asset's
    first version, see services.sync.assets)."""
    if not versions:
        return
    if connection.vendor != "postgresql":
        # A FirstVersion is written on PostgreSQL only (its id is drawn before its asset's insert).
        ContractVersion.objects.bulk_create(cast(list[ContractVersion], versions), batch_size=BULK_BATCH)
        return
    missing = [v for v in versions if v.pk is None]
    for version, pk in zip(missing, ids_allocate(ContractVersion, len(missing)) or [], strict=True):
        version.pk = pk
    copy_rows(ContractVersion, ("id", *_VERSION_COPY_FIELDS), (_version_row(v) for v in versions))
    for version in versions:
        if isinstance(version, ContractVersion):
            version._state.adding = False
            version._state.db = "default"


def guarantees_insert(versions: Sequence[tuple[NewVersion, ContractSpec]]) -> None:
    """Insert the Guarantee rows of saved versions (tuples straight into COPY on PostgreSQL)."""
    if not versions:
        return
    if connection.vendor != "postgresql":
        Guarantee.objects.bulk_create(guarantee_rows(versions), batch_size=BULK_BATCH)
        return
    copy_rows(
        Guarantee,
        _GUARANTEE_COPY_FIELDS,
        (
            (
                version.pk,
                version.asset_id,
                guarantee_key(g)[:500],
                g.kind[:200],
                g.column or "",
                _json(g.arguments),
                g.severity,
                g.test_unique_id or "",
                (g.name or "")[:500],
            )  # fmt: skip
            for version, spec in versions
            for g in spec.guarantees
        ),
    )


def version_spec(version: ContractVersion) -> ContractSpec:
    """The ContractSpec a stored version records (for diffs against a new manifest)."""
    return spec_from_version(version)


def version_build(
    *,
    asset: Asset,
    spec: ContractSpec,
    semver: tuple[int, int, int],
    status: str,
    change_kind: str,
    verdict: dict[str, Any],
    sync_run: SyncRun | None,
    content_hash: str | None = None,
) -> ContractVersion:
    """An unsaved version row for ``spec`` (callers insert many at once with bulk_create)."""
    now = timezone.now()
    return ContractVersion(
        asset=asset,
        major=semver[0],
        minor=semver[1],
        patch=semver[2],
        status=status,
        change_kind=change_kind,
        columns=columns_to_json(spec),
        guarantees=[g.as_dict() for g in spec.guarantees],
        compatibility_mode=spec.mode,
        content_hash=content_hash or spec.content_hash(),
        verdict=verdict,
        sync_run=sync_run,
        created_at=now,
        published_at=now if status == ContractVersion.Status.ACTIVE else None,
    )


def guarantee_rows(versions: Sequence[tuple[NewVersion, ContractSpec]]) -> list[Guarantee]:
    """Guarantee rows mirroring each saved version's guarantees (keyed for matching results)."""
    rows: list[Guarantee] = []
    for version, spec in versions:
        for g in spec.guarantees:
            rows.append(
                Guarantee(
                    version_id=version.pk,
                    asset_id=version.asset_id,
                    key=guarantee_key(g)[:500],
                    kind=g.kind[:200],
                    column=g.column or "",
                    arguments=g.arguments,
                    severity=g.severity,
                    test_unique_id=g.test_unique_id or "",
                    name=(g.name or "")[:500],
                )
            )
    return rows


def _current_semver(asset: Asset) -> tuple[int, int, int] | None:
    active = asset.active_version
    if active is None:
        return None
    return (active.major, active.minor, active.patch)


@transaction.atomic
def version_publish(
    *,
    asset: Asset,
    spec: ContractSpec,
    verdict: Verdict | dict[str, Any] | None,
    bump: str | None,
    sync_run: SyncRun | None,
    actor: Actor | None,
) -> ContractVersion:
    """Make ``spec`` the asset's active contract, ``bump`` above the current active version.

    A proposed version with the same content (e.g. the one a proposal was opened with) is
    promoted rather than copied, so the proposal keeps pointing at what gets published.
    """
    asset = Asset.objects.select_for_update(of=("self",)).select_related("active_version").get(pk=asset.pk)
    content_hash = spec.content_hash()
    verdict_dict = verdict.as_dict() if isinstance(verdict, Verdict) else dict(verdict or {})
    previous = asset.active_version
    if previous is not None and previous.content_hash == content_hash:
        return previous  # already published: publishing twice is harmless
    current = _current_semver(asset)
    change_kind = "initial" if current is None else (bump or "patch")
    semver = bump_version(current, change_kind)
    now = timezone.now()
    if previous is not None:
        ContractVersion.objects.filter(pk=previous.pk).update(status=ContractVersion.Status.SUPERSEDED)
    version = _version_activate(
        asset=asset,
        spec=spec,
        content_hash=content_hash,
        semver=semver,
        change_kind=change_kind,
        verdict_dict=verdict_dict,
        sync_run=sync_run,
        now=now,
    )
    asset.active_version = version
    asset.active_major = version.major
    asset.content_hash = content_hash
    asset.compatibility_mode = spec.mode
    asset.updated_at = now
    asset.save(
        update_fields=["active_version", "active_major", "content_hash", "compatibility_mode", "updated_at"]
    )
    asset_event_record(
        kind="contract.published",
        actor=actor,
        asset=asset,
        sync_run=sync_run,
        payload={
            "version": version.semver,
            "previous": previous.semver if previous else None,
            "bump": change_kind,
            "breaking": bool(verdict_dict.get("breaking")),
            "reasons": verdict_dict.get("reasons", [])[:20],
        },
    )
    return version


def _version_activate(
    *,
    asset: Asset,
    spec: ContractSpec,
    content_hash: str,
    semver: tuple[int, int, int],
    change_kind: str,
    verdict_dict: dict[str, Any],
    sync_run: SyncRun | None,
    now: dt.datetime,
) -> ContractVersion:
    """The active version row for ``spec``: the proposed one with its content, promoted, or a new one."""
    version = (
        ContractVersion.objects.filter(
            asset=asset, status=ContractVersion.Status.PROPOSED, content_hash=content_hash
        )
        .order_by("-id")
        .first()
    )
    if version is None:
        version = version_build(
            asset=asset,
            spec=spec,
            semver=semver,
            status=ContractVersion.Status.ACTIVE,
            change_kind=change_kind,
            verdict=verdict_dict,
            sync_run=sync_run,
            content_hash=content_hash,
        )
        version.save()
        Guarantee.objects.bulk_create(guarantee_rows([(version, spec)]), batch_size=BULK_BATCH)
        return version
    version.major, version.minor, version.patch = semver
    version.status = ContractVersion.Status.ACTIVE
    version.change_kind = change_kind
    version.published_at = now
    if verdict_dict:
        version.verdict = verdict_dict
    version.save(
        update_fields=["major", "minor", "patch", "status", "change_kind", "published_at", "verdict"]
    )
    if not Guarantee.objects.filter(version=version).exists():
        Guarantee.objects.bulk_create(guarantee_rows([(version, spec)]), batch_size=BULK_BATCH)
    return version


def held_versions(*, asset_ids: Sequence[int]) -> dict[int, list[ContractVersion]]:
    """Per asset, the versions a sync wrote that the publish gate has not let through yet (newest
    first): proposed and carried by no proposal (a proposal's version is the proposal's business)."""
    held: dict[int, list[ContractVersion]] = {}
    ids = list(asset_ids)
    for start in range(0, len(ids), 5000):
        for version in ContractVersion.objects.filter(
            asset_id__in=ids[start : start + 5000],
            status=ContractVersion.Status.PROPOSED,
            proposals__isnull=True,
        ).order_by("-created_at", "-id"):
            held.setdefault(version.asset_id, []).append(version)
    return held


def held_versions_reject(*, version_ids: Sequence[int]) -> None:
    """Held versions that a later deploy replaced never publish: the warehouse no longer has them."""
    ids = list(version_ids)
    for start in range(0, len(ids), 5000):
        ContractVersion.objects.filter(
            pk__in=ids[start : start + 5000], status=ContractVersion.Status.PROPOSED, proposals__isnull=True
        ).update(status=ContractVersion.Status.REJECTED)


@transaction.atomic
def version_release_held(*, asset: Asset, actor: Actor | None) -> ContractVersion | None:
    """Publish the version a sync held for the publish gate, once the gate judges it ``publish``.

    Returns the published version, or None (nothing held, or the gate still holds). Safe to call
    again: a released version is active, so nothing is held any more.
    """
    asset = (
        Asset.objects.select_for_update(of=("self",))
        .select_related("active_version", "owner_team")
        .get(pk=asset.pk)
    )
    held = held_versions(asset_ids=[asset.pk]).get(asset.pk, [])
    if not held:
        return None
    newest, older = held[0], held[1:]
    previous = asset.active_version
    if previous is not None and previous.content_hash == newest.content_hash:
        held_versions_reject(version_ids=[v.pk for v in held])  # the active contract says it already
        return None
    gate = publish_allowed(asset=asset, version=newest)
    if gate is not None and not gate.publish:
        return None
    version = version_publish(
        asset=asset,
        spec=version_spec(newest),
        verdict=newest.verdict,
        bump=newest.change_kind if previous is not None else None,
        sync_run=newest.sync_run,
        actor=actor,
    )
    held_versions_reject(version_ids=[v.pk for v in older])
    asset_event_record(
        kind="contract.released",
        actor=actor,
        asset=asset,
        sync_run=newest.sync_run,
        payload={
            "version": version.semver,
            "previous": previous.semver if previous else None,
            "held_since": newest.created_at.isoformat(),
            "publish_gate": gate.reasons if gate is not None else [],
        },
    )
    return version


def published_event_row(
    *,
    asset: Asset,
    semver: str,
    change_kind: str,
    previous: str | None,
    verdict: dict[str, Any],
    sync_run: SyncRun | None,
    actor: Actor | None,
) -> EventRow:
    """A contract.published event as a row (``event_rows_record``), for syncs that record many at once."""
    return event_row(
        kind="contract.published",
        actor=actor,
        team_id=asset.owner_team_id,
        asset_id=asset.pk,
        sync_run_id=sync_run.pk if sync_run is not None else None,
        payload={
            "version": semver,
            "previous": previous,
            "bump": change_kind,
            "breaking": bool(verdict.get("breaking")),
            "reasons": list(verdict.get("reasons", []))[:20],
        },
    )
