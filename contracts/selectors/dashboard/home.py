"""The home page: what waits for the user's teams, their proposals, recent syncs, failing audits."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import (
    Case,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
    prefetch_related_objects,
)

from contracts.models import (
    Acknowledgment,
    Proposal,
    Registration,
    SyncRun,
    Team,
)
from contracts.selectors.dashboard.common import OPEN, _audit_run_model


@dataclass
class WaitingItem:
    proposal: Proposal
    team: Team
    answer: Acknowledgment | None

    @property
    def answer_rows(self) -> list[dict[str, Any]]:
        """The shape the workflow's answer partial takes (proposals/_answer_form.html)."""
        return [{"team": self.team, "ack": self.answer}]


@dataclass
class OurProposal:
    proposal: Proposal
    answered: list[Acknowledgment]
    missing: list[Team]


@dataclass
class HomeData:
    teams: list[Team]
    waiting: list[WaitingItem]
    answered_open: list[WaitingItem]
    ours: list[OurProposal]
    failing: list[Any]
    syncs: list[SyncRun]
    more: dict[str, bool] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        return not (self.waiting or self.answered_open or self.ours or self.failing or self.syncs)


# Versions hold whole schemas as JSON; lists only show their semver, so the JSON is never loaded.
_HEAVY_VERSION_FIELDS = ("columns", "guarantees", "verdict")
_HEAVY_ASSET_FIELDS = ("meta", "tags", "description")


_ANSWER_PREFETCHES = (
    Prefetch("required_teams", queryset=Team.objects.order_by("slug")),
    Prefetch(
        "acknowledgments",
        queryset=Acknowledgment.objects.select_related("team", "answered_by_user", "carried_from"),
    ),
)


# The home page's own: plain lists (to_attr) of narrow rows. Filling each proposal's related
# managers ran a filter() per proposal (and a manager per access), and the full rows built a
# user and a carried-from answer per answer nobody shows: a fifth of the selector's time.
_HOME_PREFETCHES = (
    Prefetch(
        "required_teams",
        queryset=Team.objects.order_by("slug").only("id", "slug", "name"),
        to_attr="home_required",
    ),
    Prefetch(
        "acknowledgments",
        queryset=Acknowledgment.objects.select_related("team").only(
            "id", "proposal_id", "team__id", "team__slug", "answer", "ready_by", "updated_at"
        ),
        to_attr="home_answers",
    ),
)


def _prefetched(proposal: Proposal, to_attr: str) -> list[Any]:
    """The plain list a ``to_attr`` Prefetch left on ``proposal`` (unknown to the type checker)."""
    rows: list[Any] = getattr(proposal, to_attr)
    return rows


def _proposals_light(qs: QuerySet[Proposal]) -> QuerySet[Proposal]:
    deferred = [f"{rel}__{f}" for rel in ("base_version", "proposed_version") for f in _HEAVY_VERSION_FIELDS]
    deferred += [f"asset__{f}" for f in _HEAVY_ASSET_FIELDS]
    return qs.select_related("asset__owner_team", "asset__project", "base_version", "proposed_version").defer(
        *deferred
    )


def _proposals_home(qs: QuerySet[Proposal]) -> QuerySet[Proposal]:
    """Only the columns the home page shows: compiling and reading wide joined rows was a third
    of the page's time."""
    semver = [
        f"{rel}__{part}"
        for rel in ("base_version", "proposed_version")
        for part in ("major", "minor", "patch")
    ]
    return qs.select_related("asset__owner_team", "base_version", "proposed_version").only(
        "id",
        "status",
        "origin",
        "deadline",
        "verdict",
        "asset__id",
        "asset__name",
        "asset__model_version",
        "asset__access",
        "asset__owner_team__id",
        "asset__owner_team__slug",
        *semver,
    )


def proposals_with_answers(qs: QuerySet[Proposal]) -> QuerySet[Proposal]:
    """Proposals with their asset, versions (without schema JSON), required teams and answers."""
    return _proposals_light(qs).prefetch_related(*_ANSWER_PREFETCHES)


# Changes to public models (dbt access: offered to other projects) lead each list, then deadlines.
PUBLIC_FIRST = Case(
    When(asset__access="public", then=Value(0)), default=Value(1), output_field=IntegerField()
)


def home_data(*, user: Any, teams: list[Team], limit: int = 10) -> HomeData:
    """The morning view of ``teams`` (the user's, by slug): changes to public models first, then the nearest deadlines; each list stops at ``limit`` and says when
    there is more (the team page and the filtered asset list show everything)."""
    by_id = {t.pk: t for t in teams}
    team_ids = set(by_id)

    # EXISTS rather than a join + DISTINCT, which would compare every selected column (JSON included).
    asked_of_us = Proposal.required_teams.through.objects.filter(
        proposal=OuterRef("pk"), team_id__in=team_ids
    )
    asked = list(
        _proposals_home(Proposal.objects.filter(status__in=OPEN).filter(Exists(asked_of_us)))
        .annotate(public_first=PUBLIC_FIRST)
        .order_by("public_first", "deadline", "id")[: limit + 1]
    )
    ours_list = list(
        _proposals_home(Proposal.objects.filter(status__in=OPEN, asset__owner_team__in=team_ids))
        .annotate(public_first=PUBLIC_FIRST)
        .order_by("public_first", "deadline", "id")[: limit + 1]
    )
    more = {"asked": len(asked) > limit, "ours": len(ours_list) > limit}
    asked, ours_list = asked[:limit], ours_list[:limit]
    # One pair of prefetch queries for both lists (a proposal may be in both).
    prefetch_related_objects(asked + ours_list, *_HOME_PREFETCHES)

    waiting: list[WaitingItem] = []
    answered_open: list[WaitingItem] = []
    for proposal in asked:
        answers = {a.team_id: a for a in _prefetched(proposal, "home_answers")}
        for team in _prefetched(proposal, "home_required"):
            if team.pk not in by_id:
                continue
            answer = answers.get(team.pk)
            (waiting if answer is None else answered_open).append(WaitingItem(proposal, team, answer))

    ours: list[OurProposal] = []
    for proposal in ours_list:
        answers = {a.team_id: a for a in _prefetched(proposal, "home_answers")}
        ours.append(
            OurProposal(
                proposal=proposal,
                answered=[answers[t.pk] for t in _prefetched(proposal, "home_required") if t.pk in answers],
                missing=[t for t in _prefetched(proposal, "home_required") if t.pk not in answers],
            )
        )

    failing = failing_audits(team_ids=team_ids, limit=limit + 1)
    more["failing"] = len(failing) > limit
    syncs = recent_syncs(team_ids=team_ids, user=user, limit=6)
    return HomeData(
        teams=teams,
        waiting=waiting,
        answered_open=answered_open,
        ours=ours,
        failing=failing[:limit],
        syncs=syncs,
        more=more,
    )


def recent_syncs(*, team_ids: set[int], user: Any, limit: int = 10) -> list[SyncRun]:
    """Syncs of our projects, for our team, or started by this user."""
    return list(
        SyncRun.objects.filter(Q(team__in=team_ids) | Q(project__owner_team__in=team_ids) | Q(user=user))
        .select_related("project")
        .only("id", "mode", "status", "created_at", "summary", "project__id", "project__name")
        .order_by("-created_at", "-id")[:limit]
    )


def failing_audits(*, team_ids: set[int], limit: int = 20) -> list[Any]:
    """The latest audit run of each asset we own or use, when that run failed.

    Failed runs are few and indexed by (status, run_at): take the most recent failed runs of our
    assets, then keep those that are still their asset's latest run (no later run: the
    (asset, run_at) index answers each). Scanning every run of a team that owns thousands of
    assets cost 30-60 ms. Two queries: the candidates, then the rows that are still latest.
    """
    audit_run = _audit_run_model()
    used = Registration.objects.filter(team__in=team_ids).values("asset_id")
    # Narrow rows first (ids only): sorting hundreds of wide joined rows cost more than the page.
    # Owned and used apart (a UNION), merged here: one OR across both made PostgreSQL hash every
    # asset (30 ms at 21,000 assets, against 10 + 1 ms for the two).
    failed = audit_run.objects.filter(status="failed").order_by("-run_at", "-id")
    owned_runs = failed.filter(asset__owner_team__in=team_ids).values_list("run_at", "pk")[: limit * 5]
    used_runs = failed.filter(asset__in=used).values_list("run_at", "pk")[: limit * 5]
    if connection.features.supports_slicing_ordering_in_compound:
        found = set(owned_runs.union(used_runs))
    else:  # SQLite (the demo) refuses LIMIT inside a UNION's parts: the two queries apart
        found = set(owned_runs) | set(used_runs)
    candidates = [pk for _, pk in sorted(found, reverse=True)[: limit * 5]]
    later = audit_run.objects.filter(asset_id=OuterRef("asset_id")).filter(
        Q(run_at__gt=OuterRef("run_at")) | Q(run_at=OuterRef("run_at"), pk__gt=OuterRef("pk"))
    )
    return list(
        audit_run.objects.filter(pk__in=candidates)
        .filter(~Exists(later))
        .select_related("asset__owner_team")
        .only(
            "id",
            "tool",
            "status",
            "checked",
            "failed",
            "run_at",
            "asset__id",
            "asset__name",
            "asset__model_version",
            "asset__owner_team__id",
            "asset__owner_team__slug",
        )
        .order_by("-run_at", "-id")[:limit]
    )
