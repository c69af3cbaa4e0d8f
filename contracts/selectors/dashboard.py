"""Reads for the dashboard pages: each page's data in a bounded number of queries.

Every list here is built with select_related/prefetch_related or one grouped query, never a
query per row; the view tests assert that (10 rows and 100 rows cost the same).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import (
    Exists,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    prefetch_related_objects,
)

from contracts.models import (
    Acknowledgment,
    Asset,
    ContractVersion,
    Event,
    LineageEdge,
    Project,
    Proposal,
    Registration,
    SyncRun,
    Team,
    TeamMembership,
)
from contracts.selectors.access import Reader, events_readable
from contracts.selectors.assets import asset_search_ids

OPEN = Proposal.OPEN_STATUSES


def _audit_run_model() -> Any:
    """AuditRun lives in the audits app; imported lazily so contracts does not depend on it at import time."""
    from audits.models import AuditRun

    return AuditRun


def is_id(text: str) -> bool:
    """A primary key typed in a URL: digits that fit a bigint (longer ones would make the database raise)."""
    return text.isdigit() and len(text) <= 18


# --- who may do what -------------------------------------------------------------------------
def user_team_ids(*, user: Any) -> set[int]:
    if not user.is_authenticated:
        return set()
    return set(TeamMembership.objects.filter(user=user).values_list("team_id", flat=True))


def user_lead_team_ids(*, user: Any) -> set[int]:
    if not user.is_authenticated:
        return set()
    return set(
        TeamMembership.objects.filter(user=user, role=TeamMembership.Role.LEAD).values_list(
            "team_id", flat=True
        )
    )


# --- Home -------------------------------------------------------------------------------------
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
        "asset__owner_team__id",
        "asset__owner_team__slug",
        *semver,
    )


def proposals_with_answers(qs: QuerySet[Proposal]) -> QuerySet[Proposal]:
    """Proposals with their asset, versions (without schema JSON), required teams and answers."""
    return _proposals_light(qs).prefetch_related(*_ANSWER_PREFETCHES)


def home_data(*, user: Any, team_ids: set[int], limit: int = 10) -> HomeData:
    """The morning view, the nearest deadlines first; each list stops at ``limit`` and says when
    there is more (the team page and the filtered asset list show everything)."""
    teams = list(Team.objects.filter(pk__in=team_ids).order_by("slug"))
    by_id = {t.pk: t for t in teams}

    # EXISTS rather than a join + DISTINCT, which would compare every selected column (JSON included).
    asked_of_us = Proposal.required_teams.through.objects.filter(
        proposal=OuterRef("pk"), team_id__in=team_ids
    )
    asked = list(
        _proposals_home(Proposal.objects.filter(status__in=OPEN).filter(Exists(asked_of_us))).order_by(
            "deadline", "id"
        )[: limit + 1]
    )
    ours_list = list(
        _proposals_home(Proposal.objects.filter(status__in=OPEN, asset__owner_team__in=team_ids)).order_by(
            "deadline", "id"
        )[: limit + 1]
    )
    more = {"asked": len(asked) > limit, "ours": len(ours_list) > limit}
    asked, ours_list = asked[:limit], ours_list[:limit]
    # One pair of prefetch queries for both lists (a proposal may be in both).
    prefetch_related_objects(asked + ours_list, *_ANSWER_PREFETCHES)

    waiting: list[WaitingItem] = []
    answered_open: list[WaitingItem] = []
    for proposal in asked:
        answers = {a.team_id: a for a in proposal.acknowledgments.all()}
        for team in proposal.required_teams.all():
            if team.pk not in by_id:
                continue
            answer = answers.get(team.pk)
            (waiting if answer is None else answered_open).append(WaitingItem(proposal, team, answer))

    ours: list[OurProposal] = []
    for proposal in ours_list:
        answers = {a.team_id: a for a in proposal.acknowledgments.all()}
        ours.append(
            OurProposal(
                proposal=proposal,
                answered=[answers[t.pk] for t in proposal.required_teams.all() if t.pk in answers],
                missing=[t for t in proposal.required_teams.all() if t.pk not in answers],
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
    assets, then keep those that are still their asset's latest run. Scanning every run of a team
    that owns thousands of assets cost 30-60 ms.
    """
    audit_run = _audit_run_model()
    used = Registration.objects.filter(team__in=team_ids).values("asset_id")
    # Narrow rows first (ids only): sorting hundreds of wide joined rows cost more than the page.
    candidates = list(
        audit_run.objects.filter(status="failed")
        .filter(Q(asset__owner_team__in=team_ids) | Q(asset__in=used))
        .order_by("-run_at", "-id")
        .values_list("pk", "asset_id")[: limit * 5]
    )
    latest_of = audit_run.objects.filter(asset_id__in={asset_id for _, asset_id in candidates})
    if connection.vendor == "postgresql":
        latest_ids = set(
            latest_of.order_by("asset_id", "-run_at", "-id").distinct("asset_id").values_list("pk", flat=True)
        )
    else:
        newest = audit_run.objects.filter(asset=OuterRef("asset")).order_by("-run_at", "-id").values("pk")[:1]
        latest_ids = set(latest_of.filter(pk=Subquery(newest)).values_list("pk", flat=True))
    keep = [pk for pk, _ in candidates if pk in latest_ids][:limit]
    return list(
        audit_run.objects.filter(pk__in=keep)
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
        .order_by("-run_at", "-id")
    )


# --- Asset list -------------------------------------------------------------------------------
SORTS = {
    "name": "name",
    "relation": "relation",
    "team": "owner_team__slug",
    "project": "project__name",
    "type": "resource_type",
    "mode": "compatibility_mode",
    "version": "active_version__major",
    "updated": "updated_at",
}
STATUS_FILTERS = ("active", "proposal_open", "failing_audit", "retired")


@dataclass
class AssetFilters:
    search: str = ""
    team: str = ""
    project: str = ""
    type: str = ""
    mode: str = ""
    status: str = ""
    sort: str = "name"
    page: int = 1

    @property
    def order_by(self) -> list[str]:
        key = self.sort.lstrip("-")
        column = SORTS.get(key, "name")
        prefix = "-" if self.sort.startswith("-") and key in SORTS else ""
        return [f"{prefix}{column}", "relation"]


def _latest_audit_status() -> Subquery:
    audit_run = _audit_run_model()
    return Subquery(
        audit_run.objects.filter(asset=OuterRef("pk")).order_by("-run_at", "-id").values("status")[:1]
    )


def asset_search(*, filters: AssetFilters, per_page: int = 50) -> Page:
    qs = (
        Asset.objects.select_related("owner_team", "project", "active_version")
        .only(
            "id",
            "name",
            "relation",
            "resource_type",
            "model_version",
            "compatibility_mode",
            "status",
            "updated_at",
            "owner_team__slug",
            "owner_team__name",
            "project__name",
            "active_version__major",
            "active_version__minor",
            "active_version__patch",
        )
        .annotate(
            has_open_proposal=Exists(Proposal.objects.filter(asset=OuterRef("pk"), status__in=OPEN)),
            last_audit_status=_latest_audit_status(),
        )
    )
    if filters.search.strip():
        qs = qs.filter(pk__in=asset_search_ids(filters.search))  # the API's search, the same answers
    if filters.team:
        qs = qs.filter(owner_team__slug=filters.team)
    if filters.project:
        qs = qs.filter(project__name=filters.project)
    if filters.type:
        qs = qs.filter(resource_type=filters.type)
    if filters.mode:
        qs = qs.filter(compatibility_mode=filters.mode)
    if filters.status == "active":
        qs = qs.filter(status=Asset.Status.ACTIVE)
    elif filters.status == "retired":
        qs = qs.filter(status=Asset.Status.RETIRED)
    elif filters.status == "proposal_open":
        qs = qs.filter(has_open_proposal=True)
    elif filters.status == "failing_audit":
        qs = qs.filter(pk__in=failing_asset_ids())
    qs = qs.order_by(*filters.order_by)
    paginator = Paginator(qs, per_page)
    return paginator.get_page(filters.page)


def failing_asset_ids() -> list[int]:
    """Assets whose latest audit run failed. On PostgreSQL one DISTINCT ON pass over the runs
    (a correlated 'latest run' subquery per asset cost ~50 ms per use at 5,000 assets)."""
    audit_run = _audit_run_model()
    if connection.vendor == "postgresql":
        latest = audit_run.objects.order_by("asset_id", "-run_at", "-id").distinct("asset_id")
        return [a for a, status in latest.values_list("asset_id", "status") if status == "failed"]
    return list(
        Asset.objects.annotate(last=_latest_audit_status()).filter(last="failed").values_list("pk", flat=True)
    )


def asset_filter_choices() -> dict[str, list]:
    return {
        # Every team, not only owners: a join over all assets to find owners cost more than the page.
        "teams": list(Team.objects.order_by("slug").values_list("slug", flat=True)),
        "projects": list(Project.objects.values_list("name", flat=True)),
        "types": [c[0] for c in Asset.Type.choices],
        "modes": [c[0] for c in Asset._meta.get_field("compatibility_mode").choices],
        "statuses": list(STATUS_FILTERS),
    }


# --- Asset page ---------------------------------------------------------------------------------
@dataclass
class AssetPage:
    asset: Asset
    consumers: list[Registration]
    versions: list[ContractVersion]
    proposals: list[Proposal]
    audits: list[Any]
    upstream: list[Asset]
    downstream: list[Asset]
    columns: list[dict[str, Any]] = field(default_factory=list)
    table_guarantees: list[dict] = field(default_factory=list)

    @property
    def open_proposal(self) -> Proposal | None:
        return next((p for p in self.proposals if p.is_open), None)

    @property
    def pass_rate(self) -> float | None:
        checked = sum(a.checked for a in self.audits)
        return (sum(a.passed for a in self.audits) / checked) if checked else None


def asset_page(*, asset: Asset, audit_limit: int = 60) -> AssetPage:
    consumers = list(
        Registration.objects.filter(asset=asset).select_related("team").order_by("team__slug", "origin")
    )
    versions = list(
        ContractVersion.objects.filter(asset=asset)
        .select_related("sync_run")
        .defer("columns", "guarantees", "verdict")
        .order_by("-created_at", "-id")
    )
    proposals = list(
        Proposal.objects.filter(asset=asset)
        .select_related("base_version", "proposed_version")
        .only(
            "id",
            "asset_id",
            "status",
            "origin",
            "created_at",
            "resolved_at",
            "deadline",
            "resolution_reason",
            "superseded_by",
            *(
                f"{rel}__{part}"
                for rel in ("base_version", "proposed_version")
                for part in ("major", "minor", "patch")
            ),
        )
        .prefetch_related(Prefetch("acknowledgments", queryset=Acknowledgment.objects.select_related("team")))
        .order_by("-created_at", "-id")[:50]
    )
    audits = list(
        _audit_run_model()
        .objects.filter(asset=asset)
        .select_related("contract_version")
        .defer("details", "unchecked", *(f"contract_version__{f}" for f in _HEAVY_VERSION_FIELDS))
        .order_by("-run_at", "-id")[:audit_limit]
    )
    neighbour_fields = ("id", "name", "model_version", "owner_team__id", "owner_team__slug")
    upstream = list(
        Asset.objects.filter(downstream_edges__downstream=asset)
        .select_related("owner_team")
        .only(*neighbour_fields)[:50]
    )
    downstream = list(
        Asset.objects.filter(upstream_edges__upstream=asset)
        .select_related("owner_team")
        .only(*neighbour_fields)[:50]
    )
    # Diff links compare each version with the one before it (proposed versions with the active base).
    ordered = sorted(versions, key=lambda v: (v.major, v.minor, v.patch, v.pk))
    for older, newer in zip(ordered, ordered[1:], strict=False):
        newer.previous = older
    page = AssetPage(asset, consumers, versions, proposals, audits, upstream, downstream)
    active = asset.active_version
    if active is not None:
        by_column: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for g in active.guarantees:
            badge = {**g, "label": guarantee_label(g)}
            if g.get("column"):
                by_column[str(g["column"]).lower()].append(badge)
            else:
                page.table_guarantees.append(badge)
        page.columns = [{**c, "guarantees": by_column.get(c.get("name", ""), [])} for c in active.columns]
    return page


def _short(values: Any, limit: int = 6) -> str:
    items = [str(v) for v in (values or [])]
    more = f" +{len(items) - limit}" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def guarantee_label(g: dict[str, Any]) -> str:
    """A guarantee as a person reads it on a badge: 'not null', 'one of: a, b', '≥ 0'."""
    kind = (
        (g.get("kind") or "").split(".")[-1]
        if g.get("kind", "").startswith("dbt_utils.")
        else g.get("kind", "")
    )
    args = g.get("arguments") or {}
    if kind == "not_null":
        return "not null"
    if kind == "unique":
        return "unique"
    if kind == "accepted_values":
        return f"one of: {_short(args.get('values'))}"
    if kind == "relationships":
        to = str(args.get("to", "")).replace("ref(", "").replace("source(", "").rstrip(")").replace("'", "")
        return f"→ {to}.{args.get('field', '')}"
    if kind == "accepted_range":
        low, high = args.get("min_value"), args.get("max_value")
        strict = args.get("inclusive") is False
        parts = []
        if low is not None:
            parts.append(f"{'>' if strict else '≥'} {low}")
        if high is not None:
            parts.append(f"{'<' if strict else '≤'} {high}")
        return "range " + " and ".join(parts) if parts else "range"
    if kind == "unique_combination_of_columns":
        return f"unique ({_short(args.get('combination_of_columns') or args.get('columns'))})"
    if kind == "singular":
        return f"SQL test {g.get('name') or ''}".strip()
    if kind == "expression":
        return f"expression {args.get('expression', '')}".strip()
    if kind == "freshness":
        return "freshness"
    return g.get("name") or kind


# --- Team page ------------------------------------------------------------------------------------
@dataclass
class TeamPage:
    team: Team
    members: list[TeamMembership]
    owned: list[Asset]
    consumed: list[Registration]
    pending: list[Proposal]


def team_page(*, team: Team, limit: int = 200) -> TeamPage:
    members = list(
        TeamMembership.objects.filter(team=team).select_related("user").order_by("role", "user__username")
    )
    owned = list(
        Asset.objects.filter(owner_team=team)
        .select_related("project", "active_version")
        .defer("active_version__columns", "active_version__guarantees", "active_version__verdict", "meta")
        .order_by("relation")[:limit]
    )
    consumed = list(
        Registration.objects.filter(team=team)
        .select_related("asset__owner_team", "asset__project")
        .order_by("asset__relation", "origin")[:limit]
    )
    answered = Acknowledgment.objects.filter(proposal=OuterRef("pk"), team=team)
    pending = list(
        Proposal.objects.filter(status__in=OPEN, required_teams=team)
        .exclude(Exists(answered))
        .select_related("asset__owner_team")
        .order_by("deadline")[:limit]
    )
    return TeamPage(team, members, owned, consumed, pending)


# --- Audit log ---------------------------------------------------------------------------------------
def event_search(
    *, reader: Reader, kind: str = "", team: str = "", asset: str = "", page: int = 1, per_page: int = 50
) -> Page:
    """The audit log as ``reader`` may read it (the API and the dashboard both page through this)."""
    qs = events_readable(
        reader=reader,
        events=Event.objects.select_related("team", "asset", "actor_user", "proposal").order_by(
            "-created_at", "-id"
        ),
    )
    if kind:
        # "proposal" matches every proposal.* event; "proposal.opened" only that one.
        qs = qs.filter(kind=kind) if "." in kind else qs.filter(kind__startswith=f"{kind}.")
    if team:
        qs = qs.filter(team__slug=team)
    if asset:
        qs = qs.filter(asset_id=int(asset)) if is_id(asset) else qs.filter(asset__relation__icontains=asset)
    return Paginator(qs, per_page).get_page(page)


def event_kinds() -> list[str]:
    return list(Event.objects.order_by("kind").values_list("kind", flat=True).distinct())


def proposal_history(*, proposal: Proposal) -> list[Event]:
    return list(
        Event.objects.filter(proposal=proposal)
        .select_related("team", "actor_user")
        .order_by("created_at", "id")
    )


# --- Lineage graph -------------------------------------------------------------------------------------
@dataclass
class Graph:
    nodes: dict[int, dict[str, Any]]
    edges: list[tuple[int, int]]
    truncated: bool = False


def lineage_graph(*, focus: Asset | None, hops: int = 2, max_nodes: int = 2000) -> Graph:
    """The lineage around ``focus`` (``hops`` steps both ways), or the whole graph when no focus.

    One query per hop (edges touching the frontier), one for the nodes, one for the open proposals.
    """
    edges: set[tuple[int, int]] = set()
    truncated = False
    if focus is None:
        asset_ids = set(
            Asset.objects.filter(status=Asset.Status.ACTIVE).values_list("pk", flat=True)[: max_nodes + 1]
        )
        truncated = len(asset_ids) > max_nodes
        for up, down in LineageEdge.objects.values_list("upstream_id", "downstream_id").iterator(
            chunk_size=5000
        ):
            if up in asset_ids and down in asset_ids:
                edges.add((up, down))
    else:
        asset_ids = {focus.pk}
        frontier_up = {focus.pk}
        frontier_down = {focus.pk}
        for _ in range(max(0, hops)):
            new_up: set[int] = set()
            new_down: set[int] = set()
            if frontier_up:
                for up, down in LineageEdge.objects.filter(downstream_id__in=frontier_up).values_list(
                    "upstream_id", "downstream_id"
                ):
                    edges.add((up, down))
                    new_up.add(up)
            if frontier_down:
                for up, down in LineageEdge.objects.filter(upstream_id__in=frontier_down).values_list(
                    "upstream_id", "downstream_id"
                ):
                    edges.add((up, down))
                    new_down.add(down)
            frontier_up = new_up - asset_ids
            frontier_down = new_down - asset_ids
            asset_ids |= new_up | new_down
            if len(asset_ids) > max_nodes:
                # A hub can have hundreds of neighbours: keep the nearest ones (found first) and say so.
                truncated = True
                asset_ids = {focus.pk} | set(sorted(asset_ids - {focus.pk})[: max_nodes - 1])
                break
    rows = Asset.objects.filter(pk__in=asset_ids).values(
        "pk",
        "name",
        "model_version",
        "relation",
        "resource_type",
        "status",
        "owner_team_id",
        "owner_team__slug",
        "project__name",
    )
    nodes = {
        r["pk"]: {
            "id": r["pk"],
            "name": f"{r['name']}_v{r['model_version']}" if r["model_version"] else r["name"],
            "relation": r["relation"],
            "type": r["resource_type"],
            "status": r["status"],
            "team": r["owner_team__slug"],
            "team_id": r["owner_team_id"],
            "project": r["project__name"] or "",
        }
        for r in rows
    }
    edges = {(u, d) for (u, d) in edges if u in nodes and d in nodes}
    _mark_proposals(nodes, edges)
    return Graph(nodes=nodes, edges=sorted(edges), truncated=truncated)


def _mark_proposals(nodes: dict[int, dict[str, Any]], edges: set[tuple[int, int]]) -> None:
    """Assets with an open proposal are 'changing'; everything downstream of them in view is 'affected'."""
    changing = dict(
        Proposal.objects.filter(status__in=OPEN, asset_id__in=list(nodes)).values_list("asset_id", "pk")
    )
    children: dict[int, list[int]] = defaultdict(list)
    for up, down in edges:
        children[up].append(down)
    affected: set[int] = set()
    stack = list(changing)
    while stack:
        for child in children[stack.pop()]:
            if child not in affected and child not in changing:
                affected.add(child)
                stack.append(child)
    for pk, node in nodes.items():
        node["proposal"] = changing.get(pk)
        node["impact"] = "changing" if pk in changing else ("affected" if pk in affected else "")
