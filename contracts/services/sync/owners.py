"""Sync step: who owns what, and whether this sync may say so (issue #12).

- Authority: a project belongs to the team whose sync first claimed it (the ``?team=`` given,
  else the key's team); later syncs need a key of that team, or an admin key.
- A node may name another owner team only when that team allowed it for this project
  (a monorepo: one project, several teams, one CI key); otherwise it is refused, with a warning.
- An existing asset never changes team or project through a sync: that is a transfer.

The CI check applies the same rules (``context.SyncOwners`` and the refusal texts), so it reports
exactly what a sync would refuse.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from contracts.models import Asset, Project, ProjectOwnerConsent, Team
from contracts.services.sync.context import SyncContext, SyncOwners
from tessera_site.lib.auth import Actor
from tessera_site.lib.errors import PermissionDenied


def owners_resolve(ctx: SyncContext) -> Team | None:
    """Check the actor's authority, claim the project if it has no owner yet, and keep the rules
    for the assets step (``ctx.owners``); return the default owner of nodes that name none."""
    refusal = sync_authority_refusal(project=ctx.project, actor=ctx.actor)
    if refusal is not None:
        raise PermissionDenied(refusal)  # claimed by another team since the upload
    owner = sync_project_claim(project=ctx.project, actor=ctx.actor, team=ctx.run.team)
    if owner is None:  # an admin or the open demo with no team: the team its models name most
        named = Counter(
            s.owner_team
            for s in ctx.parsed.assets
            if s.owner_team in ctx.teams and s.package_name == ctx.parsed.project_name
        )
        owner = ctx.teams[named.most_common(1)[0][0]] if named else None
    ctx.project.owner_team = owner
    ctx.owners = sync_owners(project_name=ctx.project.name, owner=owner, actor=ctx.actor, team=ctx.run.team)
    return ctx.owners.default_owner


def sync_project_claim(*, project: Project | None, actor: Actor, team: Team | None) -> Team | None:
    """The project's owner: the one it has, else the team this first sync claims it for (the
    ``?team=`` given, else the key's team)."""
    if project is not None and project.owner_team_id is not None:
        return project.owner_team
    return team or actor.team


def sync_authority_refusal(*, project: Project | None, actor: Actor) -> str | None:
    """Why ``actor`` may not sync ``project`` (None: it may): a claimed project is synced by a key
    of its owner team, or by an admin."""
    if project is None or project.owner_team_id is None:
        return None
    if actor.is_admin or actor.can_act_for(project.owner_team):
        return None
    return (
        f"Project '{project.name}' belongs to team '{project.owner_team.slug}'; {actor.label} may not sync it "
        "(a key of that team, or an admin key, may)."
    )


def sync_owners(*, project_name: str, owner: Team | None, actor: Actor, team: Team | None) -> SyncOwners:
    """The rules for one sync: one query for the teams that allowed owning assets of the project."""
    allowed = set(
        ProjectOwnerConsent.objects.filter(project__name=project_name).values_list("team_id", flat=True)
    )
    if owner is not None:
        allowed.add(owner.pk)
    return SyncOwners(
        project_name=project_name,
        owner=owner,
        default_owner=team or owner or actor.team,
        allowed_ids=frozenset(allowed),
        actor=actor,
    )


def sync_foreign_refusal(*, unique_id: str, relation: str, asset: Asset) -> str:
    """A node of this project writes a relation that belongs to another project's asset."""
    project = asset.project.name if asset.project else "?"
    return (
        f"{unique_id} writes {relation}, which belongs to team '{asset.owner_team.slug}' (project '{project}'): "
        "not synced from here. A sync never moves an asset to another team or project; ask for a transfer "
        f"(POST /api/v1/assets/{asset.pk}/transfers)."
    )


def sync_owner_mismatch(*, relation: str, asset: Asset, named: Team) -> str:
    """A node names another owner team than the existing asset has: the asset keeps its owner."""
    return (
        f"{relation} is owned by '{asset.owner_team.slug}'; the manifest names '{named.slug}'. "
        "A sync never moves an asset to another team: ask for a transfer "
        f"(POST /api/v1/assets/{asset.pk}/transfers)."
    )


def owners_refusals(
    *,
    project_name: str,
    project: Project | None,
    actor: Actor,
    by_relation: dict[str, Any],
    existing: dict[str, Asset],
) -> list[dict[str, Any]]:
    """What a sync of these specs by ``actor`` would refuse, without writing anything (the CI
    check): the whole project, or node by node, with the texts the sync's warnings use."""
    refusal = sync_authority_refusal(project=project, actor=actor)
    if refusal is not None:
        return [{"unique_id": None, "relation": None, "reason": refusal}]
    owner = sync_project_claim(project=project, actor=actor, team=None)
    rules = sync_owners(project_name=project_name, owner=owner, actor=actor, team=None)
    slugs = {spec.owner_team for spec in by_relation.values() if spec.owner_team}
    teams = {t.slug: t for t in Team.objects.filter(slug__in=slugs)}
    refused: list[dict[str, Any]] = []
    for relation, spec in by_relation.items():
        asset = existing.get(relation)
        reason = None
        if asset is not None and asset.project_id not in (None, project.pk if project else None):
            if spec.resource_type != "source":
                reason = sync_foreign_refusal(unique_id=spec.unique_id, relation=relation, asset=asset)
        elif asset is None and spec.owner_team:
            # A team the sync would first create (unsaved here) has allowed nothing yet.
            named = teams.get(spec.owner_team) or Team(slug=spec.owner_team)
            reason = rules.refusal_for_new(unique_id=spec.unique_id, named=named)
        if reason is not None:
            refused.append({"unique_id": spec.unique_id, "relation": relation, "reason": reason})
    return refused
