"""Sync step: a versioned model's ``latest_version`` moved. The teams whose models read it through
a ref without ``v=`` (``Asset.unpinned_refs``: dbt resolved it to the latest version) read the new
latest from their next build: when the new latest breaks what they read now under the model's
mode, a proposal asks them as for any breaking change (``relation_change`` kind ``latest_moved``,
on the new latest; publishing changes no contract); otherwise they are informed (a warning of the
sync and a ``model.latest_moved`` event). Readers pinned to a version (``ref(..., v=1)``, or a
source naming a version's relation) are never asked: their version did not change.
"""

from __future__ import annotations

from typing import Any

from contracts.compat.verdict import evaluate
from contracts.models import Asset, Proposal, Team
from contracts.services.events import asset_event_record
from contracts.services.proposals.opening import proposal_open
from contracts.services.relations import LATEST_MOVED
from contracts.services.sync.assets import AssetPlan
from contracts.services.sync.context import SyncContext
from contracts.services.versions import version_spec


def latest_versions_before(ctx: SyncContext) -> dict[str, str]:
    """Each versioned model of the project → its latest_version before this sync (read before the
    assets step writes the new one)."""
    rows = (
        Asset.objects.filter(project=ctx.project, status=Asset.Status.ACTIVE)
        .exclude(model_version="")
        .exclude(latest_version="")
        .values_list("name", "latest_version")
    )
    return dict(rows)


def latest_moves_judge(ctx: SyncContext, plan: AssetPlan, before: dict[str, str]) -> None:
    """Judge every model whose latest version moved, for the teams whose refs are unpinned."""
    versions: dict[str, dict[str, int]] = {}  # model name -> version -> asset id
    latest: dict[str, str] = {}
    for asset, spec in plan.owned.values():
        if spec.version is not None and spec.latest_version:
            versions.setdefault(spec.name, {})[spec.version] = asset.pk
            latest[spec.name] = spec.latest_version
    for name, new in latest.items():
        old = before.get(name)
        if not old or old == new or old not in versions[name] or new not in versions[name]:
            continue
        moved = Asset.objects.select_related("active_version", "owner_team").in_bulk(
            [versions[name][old], versions[name][new]]
        )
        previous, current = moved[versions[name][old]], moved[versions[name][new]]
        if previous.active_version is None or current.active_version is None:
            continue
        _judge(ctx, name=name, previous=previous, current=current)


def unpinned_reader_teams(*, model: Asset) -> list[int]:
    """The teams (never the owner) with an active asset reading a version of ``model`` through an
    unpinned ref."""
    prefix = model.unique_id.rsplit(".", 1)[0] + ".v"
    teams = set()
    for team_id, refs in (
        Asset.objects.filter(status=Asset.Status.ACTIVE)
        .exclude(unpinned_refs=[])
        .values_list("owner_team_id", "unpinned_refs")
    ):
        if any(str(ref).startswith(prefix) for ref in refs or ()):
            teams.add(team_id)
    teams.discard(model.owner_team_id)
    return sorted(teams)


def _judge(ctx: SyncContext, *, name: str, previous: Asset, current: Asset) -> None:
    teams = unpinned_reader_teams(model=current)
    if not teams:
        return
    assert previous.active_version is not None and current.active_version is not None
    new_spec = version_spec(current.active_version)
    verdict = evaluate(
        old=version_spec(previous.active_version), new=new_spec, mode=current.compatibility_mode
    )
    change: dict[str, Any] = {
        "kind": LATEST_MOVED, "model": name, "from": previous.model_version, "to": current.model_version,
        "relation": current.relation, "previous_relation": previous.relation, "teams": teams,
        "reads": previous.pk,
    }  # fmt: skip
    slugs = sorted(Team.objects.filter(pk__in=teams).values_list("slug", flat=True))
    if verdict.breaking:
        _propose(ctx, current=current, spec=new_spec, verdict=verdict, change=change)
        return
    ctx.out.warn(
        f"{name}: latest_version moved from {previous.model_version} to {current.model_version}; "
        f"{', '.join(slugs)} read it through unpinned refs and read v{current.model_version} from their "
        f"next build. Not breaking under {current.compatibility_mode}: informed."
    )
    asset_event_record(
        kind="model.latest_moved",
        asset=current,
        sync_run=ctx.run,
        actor=ctx.actor,
        payload={**change, "teams": slugs, "breaking": False, "reasons": verdict.reasons[:10]},
    )


def _propose(ctx: SyncContext, *, current: Asset, spec: Any, verdict: Any, change: dict[str, Any]) -> None:
    already = Proposal.objects.filter(
        asset=current, status__in=Proposal.OPEN_STATUSES, relation_change__kind=LATEST_MOVED
    ).exists()
    proposal = proposal_open(
        asset=current, base_version=current.active_version, proposed_spec=spec, verdict=verdict,
        origin=Proposal.Origin.SYNC, sync_run=ctx.run, actor=ctx.actor, relation_change=change,
    )  # fmt: skip
    ctx.out.proposals.append(
        {
            "relation": current.relation,
            "proposal": proposal.pk,
            "new": not already,
            "relation_change": change,
            "required_teams": sorted(proposal.required_teams.values_list("slug", flat=True)),
            "reasons": verdict.reasons[:10],
        }
    )
