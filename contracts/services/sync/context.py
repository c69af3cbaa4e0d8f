"""What every step of a sync shares: the parsed manifest, the run, who asked, the locked project,
the teams the manifest names, and the outcome the steps fill in for the summary."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from contracts.domain import AssetSpec, ParsedManifest
from contracts.models import Event, Project, SyncRun, Team
from contracts.services.events import EventRow, event_row
from tessera_site.lib.auth import Actor

MAX_WARNINGS = 200
MAX_LISTED = 100


def chunks(items: list[Any], size: int = 5000) -> Iterable[list[Any]]:
    """Slices small enough for one ``IN (...)`` on every database."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(frozen=True)
class SyncOwners:
    """Who may own what in one sync of one project: the project's owner team and the teams that
    allowed it (``allowed_ids``); ``actor`` may also name the teams it acts for (an admin: any)."""

    project_name: str
    owner: Team | None  # the project's owner after this sync (claimed by the first one)
    default_owner: Team | None  # for nodes that name no owner team
    allowed_ids: frozenset[int]
    actor: Actor

    def may_own(self, team: Team) -> bool:
        return team.pk in self.allowed_ids or self.actor.is_admin or self.actor.can_act_for(team)

    def refusal_for_new(self, *, unique_id: str, named: Team) -> str | None:
        """Why a node naming ``named`` as owner is not created as its asset (None: it may be)."""
        if self.may_own(named):
            return None
        return (
            f"{unique_id} names owner team '{named.slug}', which has not allowed owning assets of project "
            f"'{self.project_name}': not synced. Team '{named.slug}' allows it with "
            f"PUT /api/v1/projects/{self.project_name}/owner-teams/{named.slug} (or an admin, in the admin)."
        )


@dataclass
class SyncOutcome:
    """What one sync did, for the summary and the tests."""

    created: list[str] = field(default_factory=list)
    unchanged: int = 0
    published: list[dict[str, Any]] = field(default_factory=list)
    proposals: list[dict[str, Any]] = field(default_factory=list)
    proposals_closed: list[dict[str, Any]] = field(default_factory=list)  # withdrawn/superseded (follow)
    held: list[dict[str, Any]] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    moved: list[dict[str, str]] = field(default_factory=list)  # relations that moved (same unique_id)
    reactivated: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # nodes the ownership rules kept out
    registrations_added: int = 0
    registrations_removed: int = 0
    edges_added: int = 0
    edges_removed: int = 0
    nodes_linked: int = 0
    teams_created: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    references: dict[str, Any] = field(default_factory=dict)  # nodes of other packages (references step)
    # dbt's own signals (issue #19): exposures kept, groups read, models per dbt access level
    exposures: int = 0
    groups: int = 0
    access: dict[str, int] = field(default_factory=dict)

    def warn(self, text: str) -> None:
        self.warnings.append(text)

    def refuse(self, unique_id: str, reason: str) -> None:
        """A node this sync does not write (ownership rules); the rest of the sync still applies."""
        self.refused.append(unique_id)
        self.warnings.append(reason)

    def summary(self, *, parsed: ParsedManifest, project: Project, assets_total: int) -> dict[str, Any]:
        bumps = Counter(p["bump"] for p in self.published)
        return {
            "project": project.name,
            "schema_version": parsed.schema_version,
            "dbt_version": parsed.dbt_version,
            "nodes": len(parsed.assets),
            "assets": assets_total,
            "created": len(self.created),
            "unchanged": self.unchanged,
            "published": len(self.published),
            "published_by_bump": dict(bumps),
            "proposals_opened": sum(1 for p in self.proposals if p["new"]),
            "proposals_pending": sum(1 for p in self.proposals if not p["new"]),
            "held": len(self.held),
            "retired": len(self.retired),
            "moved": len(self.moved),
            "moved_assets": self.moved[:MAX_LISTED],
            "reactivated": len(self.reactivated),
            "skipped": len(self.skipped),
            "refused": len(self.refused),
            "refused_nodes": self.refused[:MAX_LISTED],
            "registrations_added": self.registrations_added,
            "registrations_removed": self.registrations_removed,
            "lineage_edges_added": self.edges_added,
            "lineage_edges_removed": self.edges_removed,
            "cross_project_links": self.nodes_linked,
            "teams_created": self.teams_created,
            "exposures": self.exposures,
            "groups": self.groups,
            "access": dict(self.access),
            "changes": [p for p in self.published if p["bump"] != "initial"][:MAX_LISTED],
            "proposals": self.proposals[:MAX_LISTED],
            "proposals_closed": self.proposals_closed[:MAX_LISTED],
            "held_versions": self.held[:MAX_LISTED],
            "retired_assets": self.retired[:MAX_LISTED],
            "warnings": len(self.warnings),
            **self.references,
        }

    def warnings_list(self) -> list[str]:
        if len(self.warnings) <= MAX_WARNINGS:
            return list(self.warnings)
        return self.warnings[:MAX_WARNINGS] + [f"... and {len(self.warnings) - MAX_WARNINGS} more warnings"]


@dataclass
class SyncContext:
    """The state a sync's steps read and add to; built once by sync_apply."""

    parsed: ParsedManifest
    run: SyncRun
    actor: Actor
    project: Project
    now: datetime
    out: SyncOutcome
    teams: dict[str, Team] = field(default_factory=dict)  # every valid slug the manifest names
    default_owner: Team | None = None  # owner of nodes that name none (see owners.owners_resolve)
    owners: SyncOwners | None = None  # who may own what here (set by owners.owners_resolve)

    def owner_named(self, spec: AssetSpec) -> Team | None:
        """The owner a node names (meta.tessera.owner_team), else the default owner."""
        named = self.teams.get(spec.owner_team) if spec.owner_team else None
        return named or self.default_owner

    def event(self, kind: str, **kwargs: Any) -> Event:
        """An (unsaved) audit event of this sync; steps collect them and record them in bulk."""
        return Event(
            kind=kind,
            actor_user=self.actor.user if getattr(self.actor.user, "pk", None) else None,
            actor_api_key=self.actor.api_key,
            actor_label=self.actor.label,
            sync_run=self.run,
            **kwargs,
        )

    def event_row(
        self, kind: str, *, team_id: int | None = None, asset_id: int | None = None, payload: dict[str, Any]
    ) -> EventRow:
        """``event`` as a plain row, for the many a sync records at once (``event_rows_record``)."""
        return event_row(
            kind=kind,
            actor=self.actor,
            team_id=team_id,
            asset_id=asset_id,
            sync_run_id=self.run.pk,
            payload=payload,
        )
