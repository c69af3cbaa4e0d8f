"""Sync step: breaking changes, decided once this manifest's registrations are written (so
consumers declared in this very manifest count). An asset with consumers gets a proposal (or, when
an approved proposal with this very schema exists, that proposal publishes); one without consumers
publishes a major version (logged), through the publish gate if the asset requires it."""

from __future__ import annotations

from django.utils import timezone

from contracts.compat.verdict import Verdict, bump_version
from contracts.domain import AssetSpec
from contracts.models import Asset, ContractVersion, Proposal, Registration
from contracts.services.events import EventRow, event_rows_record
from contracts.services.proposals.opening import proposal_open
from contracts.services.proposals.publishing import proposal_publish_matching_check
from contracts.services.sync.context import SyncContext
from contracts.services.sync.versions import (
    Pending,
    Written,
    first_status,
    held_again,
    versions_insert_published,
)
from contracts.services.versions import held_versions, held_versions_reject, version_build


def proposals_open(ctx: SyncContext, pending: Pending) -> None:
    """A proposal when the asset has consumers, else a major version (logged)."""
    if not pending:
        return
    asset_ids = [a.pk for a, _, _, _ in pending]
    consumers: dict[int, set[int]] = {}
    for asset_id, team_id in Registration.objects.filter(asset_id__in=asset_ids).values_list(
        "asset_id", "team_id"
    ):
        consumers.setdefault(asset_id, set()).add(team_id)
    already_open = set(
        Proposal.objects.filter(asset_id__in=asset_ids, status__in=Proposal.OPEN_STATUSES).values_list(
            "asset_id", "proposed_hash"
        )
    )
    held = held_versions(asset_ids=[a.pk for a, _, _, _ in pending if a.requires_passing_audit])
    to_publish: Written = []
    reused: Written = []
    active: dict[int, ContractVersion] = {}
    superseded: list[int] = []
    now = timezone.now()
    for asset, spec, base, verdict in pending:
        if consumers.get(asset.pk, set()) - {asset.owner_team_id}:
            # Consumers now: the change goes through a proposal, which carries its own version.
            held_versions_reject(version_ids=[v.pk for v in held.get(asset.pk, ())])
            _through_proposal(ctx, asset, spec, base, verdict, already_open=already_open)
            continue
        if base is not None:
            active[base.pk] = base
        version, judged_again = _major_without_consumers(
            ctx, asset, spec, base, verdict, held=held, superseded=superseded
        )
        (reused if judged_again else to_publish).append((version, spec, asset))
    if superseded:
        ContractVersion.objects.filter(pk__in=superseded).update(status=ContractVersion.Status.SUPERSEDED)
    events: list[EventRow] = []
    versions_insert_published(ctx, to_write=to_publish, reused=reused, active=active, events=events, now=now)
    event_rows_record(events)


def _through_proposal(
    ctx: SyncContext,
    asset: Asset,
    spec: AssetSpec,
    base: ContractVersion | None,
    verdict: Verdict,
    *,
    already_open: set[tuple[int, str]],
) -> None:
    run, actor, out = ctx.run, ctx.actor, ctx.out
    content_hash = spec.contract.content_hash()
    published = proposal_publish_matching_check(
        asset=asset, content_hash=content_hash, sync_run=run, actor=actor
    )
    if published is not None and published.status == Proposal.Status.APPROVED:
        # Approved, deployed, but the publish gate holds it (proposal.held has the reasons).
        out.held.append(
            {"relation": asset.relation, "version": published.proposed_version.semver,
             "reasons": [published.resolution_reason], "proposal": published.pk}
        )  # fmt: skip
        return
    if published is not None:
        out.published.append(
            {"relation": asset.relation, "version": published.proposed_version.semver, "previous": base.semver if base else None,
             "bump": "major", "breaking": True, "reasons": verdict.reasons[:10], "proposal": published.pk}
        )  # fmt: skip
        return
    new = (asset.pk, content_hash) not in already_open
    proposal = proposal_open(
        asset=asset, base_version=base, proposed_spec=spec.contract, verdict=verdict, origin="sync",
        sync_run=run, actor=actor,
    )  # fmt: skip
    out.proposals.append(
        {
            "relation": asset.relation,
            "proposal": proposal.pk,
            "new": new,
            "required_teams": sorted(proposal.required_teams.values_list("slug", flat=True)),
            "reasons": verdict.reasons[:10],
        }
    )


def _major_without_consumers(
    ctx: SyncContext,
    asset: Asset,
    spec: AssetSpec,
    base: ContractVersion | None,
    verdict: Verdict,
    *,
    held: dict[int, list[ContractVersion]],
    superseded: list[int],
) -> tuple[ContractVersion, bool]:
    """The major version of a breaking change nobody consumes: built (unsaved), or a held one
    judged again (True)."""
    content_hash = spec.contract.content_hash()
    semver = bump_version((base.major, base.minor, base.patch), "major") if base else (1, 0, 0)
    label = ".".join(map(str, semver))
    if asset.requires_passing_audit:
        ctx.out.warn(f"{asset.relation}: breaking change with no registered consumers, v{label} goes to the publish gate.")  # fmt: skip
        again = held_again(held, asset=asset, content_hash=content_hash, semver=semver, bump="major", verdict=verdict, run=ctx.run)  # fmt: skip
        if again is not None:
            return again, True
    else:
        if base is not None:
            superseded.append(base.pk)
        ctx.out.warn(
            f"{asset.relation}: breaking change with no registered consumers, published as v{label}."
        )
    version = version_build(
        asset=asset, spec=spec.contract, semver=semver, status=first_status(asset),
        change_kind="major", verdict=verdict.as_dict(), sync_run=ctx.run, content_hash=content_hash,
    )  # fmt: skip
    return version, False
