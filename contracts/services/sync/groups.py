"""Sync step: dbt groups. Each group's owner maps to a team (services.sync.dbt_owners); that team
owns the group's models that name no ``meta.tessera.owner_team`` (after the model's own meta,
before the project's team). A group owner naming another team than the project's is subject to
the same consent as ``owner_team`` (the owners step refuses new assets it may not own). The
project's groups are kept (``DbtGroup``) for the asset pages."""

from __future__ import annotations

from collections.abc import Callable

from contracts.domain import GroupSpec, ParsedManifest
from contracts.models import DbtGroup, Team
from contracts.services.sync.context import SyncContext
from contracts.services.sync.dbt_owners import owner_directory


def groups_resolve(ctx: SyncContext) -> None:
    """Map the groups' owners to teams, give grouped models without an owner team their group's,
    and keep the project's groups (created, updated, removed)."""
    rows = group_owners_apply(ctx.parsed, warn=ctx.out.warn)
    for _group, team in rows:
        if team is not None:
            ctx.teams.setdefault(team.slug, team)
    _groups_keep(ctx, rows)


def group_owners_apply(
    parsed: ParsedManifest, *, warn: Callable[[str], None]
) -> list[tuple[GroupSpec, Team | None]]:
    """Each group with the team its owner maps to; a grouped model naming no owner team names its
    group's (``spec.owner_team``). The CI check calls it too, so it refuses what a sync would."""
    directory = owner_directory(
        owners=[g.owner for g in parsed.groups], slugs=[g.team for g in parsed.groups if g.team]
    )
    team_of: dict[tuple[str, str], Team] = {}  # (package, group name) → owner team
    rows: list[tuple[GroupSpec, Team | None]] = []
    for group in parsed.groups:
        team, _how = directory.team_for(meta_team=group.team, owner=group.owner)
        if team is None:
            warn(
                f"Group '{group.name}': its owner ({group.owner.name or group.owner.email or 'none given'}) "
                "is no Tessera team (no meta.tessera.team, team address, member email or team name matches); "
                "its models fall back to the project's team."
            )
        else:
            team_of[(_package(group.unique_id, parsed.project_name), group.name)] = team
        rows.append((group, team))
    for spec in parsed.assets:
        if spec.group and not spec.owner_team:
            owner = team_of.get((spec.package_name, spec.group))
            if owner is not None:
                spec.owner_team = owner.slug
    return rows


def _package(unique_id: str, default: str) -> str:
    parts = unique_id.split(".")  # group.<package>.<name>
    return parts[1] if len(parts) >= 3 else default


def _groups_keep(ctx: SyncContext, rows: list[tuple[GroupSpec, Team | None]]) -> None:
    existing = {g.name: g for g in DbtGroup.objects.filter(project=ctx.project)}
    for group, team in rows:
        fields = {
            "unique_id": group.unique_id[:500],
            "owner_name": group.owner.name[:200],
            "owner_email": group.owner.email[:254],
            "description": group.description,
            "team": team,
            "updated_at": ctx.now,
        }
        row = existing.pop(group.name, None)
        if row is None:
            DbtGroup.objects.create(project=ctx.project, name=group.name[:200], **fields)
        elif any(getattr(row, k) != v for k, v in fields.items() if k != "updated_at"):
            DbtGroup.objects.filter(pk=row.pk).update(**fields)
    if existing:
        DbtGroup.objects.filter(pk__in=[g.pk for g in existing.values()]).delete()
