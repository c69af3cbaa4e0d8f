"""The asset list: filters, sorting, the shared asset search, paging."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    Window,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Least, RowNumber

from contracts.models import (
    Asset,
    Project,
    Proposal,
    Team,
)
from contracts.selectors.assets import asset_search_ids
from contracts.selectors.dashboard.common import OPEN, _audit_run_model

SORTS = {
    "name": "name",
    "relation": "relation",
    "team": "owner_team__slug",
    "project": "project__name",
    "type": "resource_type",
    "mode": "compatibility_mode",
    "version": "active_major",  # the active version's major, stored on the asset (indexed)
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


def _page_columns(qs: QuerySet[Asset]) -> QuerySet[Asset]:
    """What a row of the list shows: the asset's own columns, its owner, project and version
    number (no schema JSON), whether a proposal is open and its latest audit's status."""
    return (
        qs.select_related("owner_team", "project", "active_version")
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


class _RowsOfPage(Paginator):
    """Counts and slices the narrow query (asset ids, sorted), then reads the page's rows with
    their joins and annotations for those ids only: sorting a team's 16,500 assets by version
    carried every joined row through the sort (~100 ms); the ids alone are a small sort.

    ``counted_with_page``: for filters whose whole set is computed whatever the page (the failing
    audits: every failed run against every later run), the page's ids come with the total in one
    query (``COUNT(*) OVER ()``) instead of computing the set once to count and again for the page.
    A page past the end gets no row, hence no total: then the count and the page are asked apart."""

    def __init__(
        self, ids: QuerySet[Asset], per_page: int, *, order_by: list[str], counted_with_page: bool = False
    ) -> None:
        super().__init__(ids, per_page)
        self.order_by = order_by
        self.counted_with_page = counted_with_page
        self._ids_of_page: tuple[int, list[int]] | None = None

    def get_page(self, number: Any) -> Page:
        if self.counted_with_page and isinstance(number, int):
            self._count_with_page(max(number, 1))
        return super().get_page(number)

    def _count_with_page(self, number: int) -> None:
        """The ids of page ``number`` (of the last page when it is past the end, as get_page
        answers) with the total, in one query; no row means no asset at all."""
        per_page = self.per_page
        order = [F(f[1:]).desc() if f.startswith("-") else F(f).asc() for f in self.order_by]
        ids: QuerySet[Asset] = self.object_list  # type: ignore[assignment]
        numbered = ids.annotate(total=Window(Count("pk")), position=Window(RowNumber(), order_by=order))
        # The first position shown: the page's, or the last page's (integer division).
        first = Least(Value((number - 1) * per_page), (F("total") - 1) / per_page * per_page)
        rows = list(
            numbered.filter(position__gt=first, position__lte=first + per_page)
            .order_by("position")
            .values_list("pk", "total")
        )
        total = rows[0][1] if rows else 0
        self.__dict__["count"] = total  # Paginator.count is a cached_property
        last = max(1, -(-total // per_page))
        self._ids_of_page = (min(number, last), [pk for pk, _ in rows])

    def _get_page(self, object_list: QuerySet[Asset], number: int, paginator: Paginator) -> Page:  # type: ignore[override]
        known = self._ids_of_page
        ids = known[1] if known is not None and known[0] == number else object_list
        rows = _page_columns(Asset.objects.filter(pk__in=ids)).order_by(*self.order_by)
        return Page(rows, number, paginator)


def asset_search(*, filters: AssetFilters, per_page: int = 50, choices: dict | None = None) -> Page:
    """One page of the asset list. ``choices`` (asset_filter_choices) turns the team and project
    filters into ids: the planner then knows how many assets that team owns (a slug joined in
    gave it the average, 400, for a team owning 16,500, and a nested loop over all of them)."""
    qs = Asset.objects.all()
    if filters.search.strip():
        qs = qs.filter(_pk_in(asset_search_ids(filters.search)))  # the API's search, the same answers
    if filters.team:
        team_id = choices["team_ids"].get(filters.team, 0) if choices else None
        qs = (
            qs.filter(owner_team_id=team_id)
            if team_id is not None
            else qs.filter(owner_team__slug=filters.team)
        )
    if filters.project:
        project_id = choices["project_ids"].get(filters.project, 0) if choices else None
        qs = (
            qs.filter(project_id=project_id)
            if project_id is not None
            else qs.filter(project__name=filters.project)
        )
    if filters.type:
        qs = qs.filter(resource_type=filters.type)
    if filters.mode:
        qs = qs.filter(compatibility_mode=filters.mode)
    if filters.status == "active":
        qs = qs.filter(status=Asset.Status.ACTIVE)
    elif filters.status == "retired":
        qs = qs.filter(status=Asset.Status.RETIRED)
    elif filters.status == "proposal_open":
        qs = qs.filter(Exists(Proposal.objects.filter(asset=OuterRef("pk"), status__in=OPEN)))
    elif filters.status == "failing_audit":
        qs = qs.filter(pk__in=failing_assets())
    paginator = _RowsOfPage(
        qs.order_by(*filters.order_by),
        per_page,
        order_by=filters.order_by,
        counted_with_page=filters.status == "failing_audit",
    )
    return paginator.get_page(filters.page)


def _pk_in(ids: set[int]) -> Q:
    """Assets whose id is in ``ids``. On PostgreSQL one array constant, ``id = ANY(array)``: the
    planner sees how many ids there are (an unnested array was always guessed at 200, so a search
    matching all 21,000 assets probed the primary key 21,000 times and sorted them all, ~150 ms),
    and PostgreSQL (14+) hashes a constant array, so each row is tested once. A page sorted by name
    then walks the name index and stops after 50 matches. (An IN list of 8,000 placeholders, the
    first form, cost ~1 s to parse and plan.)"""
    if connection.vendor != "postgresql":
        return Q(pk__in=ids)
    table = Asset._meta.db_table
    in_ids = f"{table}.id = ANY(%s::bigint[])"  # the table name comes from the model
    # The array's text form, written here: psycopg adapts a list element by element (~15 ms of
    # Python for 21,000 ids, once for the count and once for the page); ints need no quoting.
    literal = "{" + ",".join(str(int(i)) for i in sorted(ids)) + "}"
    return Q(RawSQL(in_ids, (literal,), output_field=BooleanField()))  # noqa: S611


def failing_assets() -> QuerySet:
    """The ids of assets whose latest audit run failed, as a subquery: a failed run with no later
    run of its asset. Failed runs are few and indexed by status, the later-run test uses the
    (asset, run_at) index; no pass over every run, no list of ids sent back to the database."""
    audit_run = _audit_run_model()
    later = audit_run.objects.filter(asset_id=OuterRef("asset_id")).filter(
        Q(run_at__gt=OuterRef("run_at")) | Q(run_at=OuterRef("run_at"), pk__gt=OuterRef("pk"))
    )
    return audit_run.objects.filter(status="failed").filter(~Exists(later)).values("asset_id")


def asset_filter_choices() -> dict[str, Any]:
    # Every team, not only owners: a join over all assets to find owners cost more than the page.
    # Teams and projects in one round trip (UNION ALL), each sorted by the database as before.
    # The parts unordered (their Meta.ordering would put an ORDER BY inside the UNION, which SQLite
    # refuses); the union is sorted as a whole.
    teams_rows = Team.objects.order_by().annotate(kind=Value(0)).values_list("kind", "slug", "id")
    project_rows = Project.objects.order_by().annotate(kind=Value(1)).values_list("kind", "name", "id")
    rows = list(teams_rows.union(project_rows, all=True).order_by("kind", "slug"))
    teams = {name: pk for kind, name, pk in rows if kind == 0}
    projects = {name: pk for kind, name, pk in rows if kind == 1}
    return {
        "teams": list(teams),
        "projects": list(projects),
        "team_ids": teams,  # for asset_search: filter by id
        "project_ids": projects,
        "types": [c[0] for c in Asset.Type.choices],
        "modes": [c[0] for c in Asset._meta.get_field("compatibility_mode").choices],
        "statuses": list(STATUS_FILTERS),
    }
