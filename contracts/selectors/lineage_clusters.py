"""The whole lineage graph by level of detail: groups first, assets on demand.

A group is the active assets of one project owned by one team (``p3-t5``; ``p0`` when an asset
has no project). Unopened, a group is one box with its size, and the edges between groups carry
how many asset edges they stand for. Opening a group shows its assets when it has at most
``LEAF`` of them, else ``FANOUT`` ranges of its assets in name order (``p3-t5:0-584``), which open
the same way. So the first view is one box per (project, team) whatever the number of assets, and
each step down adds a bounded number of boxes.

Closed groups cost the database two grouped queries (sizes, edges between groups) whatever the
number of assets; an opened group adds its assets' names and the edges touching them.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count, Max, Min, Q

from contracts.models import Asset, LineageEdge, Project, Team
from contracts.selectors.lineage import LineageNode, lineage_nodes

LEAF = 60  # a group or range of at most this many assets opens into its assets
FANOUT = 12  # a bigger one opens into this many ranges
MAX_EXPAND = 200  # opened groups one request may name
KEY = re.compile(r"^p\d{1,12}-t\d{1,12}(:\d{1,9}-\d{1,9})?$")


@dataclass(slots=True)
class Cluster:
    key: str
    project: str
    team: str
    team_id: int
    size: int
    first: str  # the first and last asset names, in name order
    last: str
    ranged: bool  # a name range of a bigger group
    internal_edges: int = 0


@dataclass(slots=True)
class ClusterGraph:
    clusters: list[Cluster] = field(default_factory=list)
    assets: dict[int, LineageNode] = field(default_factory=dict)  # the opened groups' assets
    edges: list[tuple[str, str, int]] = field(default_factory=list)  # (from, to, asset edges); see unit_id
    expanded: list[str] = field(default_factory=list)  # the keys that opened something
    opened_by: dict[int, str] = field(default_factory=dict)  # an opened asset → the key that opened it


def unit_id(unit: str | int) -> str:
    """A box's id: a group's key, or ``a<id>`` for an asset."""
    return unit if isinstance(unit, str) else f"a{unit}"


def valid_keys(raw: Iterable[str]) -> list[str]:
    """The group keys among ``raw`` (anything else is ignored: stale or hand-typed URLs)."""
    return [k for k in dict.fromkeys(k.strip() for k in raw) if KEY.match(k)][:MAX_EXPAND]


def lineage_clusters(*, expand: Iterable[str] = ()) -> ClusterGraph:
    """The whole graph with every group closed but those named in ``expand`` (a range opens
    when its group is named too)."""
    opened = set(valid_keys(expand))
    sizes = (
        Asset.objects.filter(status=Asset.Status.ACTIVE)
        .order_by()
        .values_list("project_id", "owner_team_id")
        .annotate(n=Count("pk"), first=Min("name"), last=Max("name"))
    )
    groups = {_key(p, t): ((p, t), n, first, last) for p, t, n, first, last in sizes}
    members = _members({groups[k][0] for k in opened if k in groups})
    graph = ClusterGraph()
    unit_of: dict[int, str | int] = {}  # the assets of opened groups → their box
    for key, (_ids, size, first, last) in groups.items():
        if key in members:
            _open(graph, key, key, members[key], 0, size, opened, unit_of)
        else:
            graph.clusters.append(Cluster(key, "", "", 0, size, first, last, ranged=False))
    _label(graph, {key: ids for key, (ids, *_rest) in groups.items()})
    _connect(graph, unit_of, {groups[k][0] for k in members})
    graph.assets = lineage_nodes({pk for pk, unit in unit_of.items() if isinstance(unit, int)})
    return graph


def _key(project_id: int | None, team_id: int) -> str:
    return f"p{project_id or 0}-t{team_id}"


def _in_groups(groups: set[tuple[int | None, int]], prefix: str = "") -> Q:
    """Assets of one of ``groups``; with ``prefix`` ("upstream__"), edges with such an end."""
    where = Q(pk__in=[])
    for project_id, team_id in groups:
        project = (
            Q(**{f"{prefix}project__isnull": True})
            if project_id is None
            else Q(**{f"{prefix}project_id": project_id})
        )
        where |= project & Q(**{f"{prefix}owner_team_id": team_id})
    return where


def _members(groups: set[tuple[int | None, int]]) -> dict[str, list[tuple[int, str]]]:
    """The opened groups' active assets, in name order."""
    out: dict[str, list[tuple[int, str]]] = defaultdict(list)
    if groups:
        rows = (
            Asset.objects.filter(_in_groups(groups), status=Asset.Status.ACTIVE)
            .order_by("name", "pk")
            .values_list("pk", "project_id", "owner_team_id", "name")
        )
        for pk, project_id, team_id, name in rows:
            out[_key(project_id, team_id)].append((pk, name))
    return out


def _open(
    graph: ClusterGraph,
    group: str,
    key: str,
    members: list[tuple[int, str]],
    lo: int,
    hi: int,
    opened: set[str],
    unit_of: dict[int, str | int],
) -> None:
    """Place members[lo:hi] under ``key``: one box, its assets, or ranges opened in turn."""
    if key not in opened:
        graph.clusters.append(
            Cluster(key=key, project="", team="", team_id=0, size=hi - lo, first=members[lo][1],
                    last=members[hi - 1][1], ranged=key != group)
        )  # fmt: skip
        for pk, _name in members[lo:hi]:
            unit_of[pk] = key
        return
    graph.expanded.append(key)
    if hi - lo <= LEAF:
        for pk, _name in members[lo:hi]:
            unit_of[pk] = pk
            graph.opened_by[pk] = key
        return
    step = math.ceil((hi - lo) / FANOUT)
    for start in range(lo, hi, step):
        end = min(start + step, hi)
        _open(graph, group, f"{group}:{start}-{end}", members, start, end, opened, unit_of)


def _label(graph: ClusterGraph, ids: dict[str, tuple[int | None, int]]) -> None:
    projects = dict(Project.objects.values_list("pk", "name"))
    teams = dict(Team.objects.values_list("pk", "slug"))
    for cluster in graph.clusters:
        project_id, team_id = ids[cluster.key.split(":", 1)[0]]
        cluster.project = projects.get(project_id, "") if project_id else ""
        cluster.team, cluster.team_id = teams.get(team_id, ""), team_id


def _connect(graph: ClusterGraph, unit_of: dict[int, str | int], opened: set[tuple[int | None, int]]) -> None:
    """Every edge between active assets, counted between the boxes that hold its ends: counted
    by the database between closed groups, one by one where an end is in an opened group."""
    between: Counter[tuple[str, str]] = Counter()
    inside: Counter[str] = Counter()
    live = LineageEdge.objects.filter(
        upstream__status=Asset.Status.ACTIVE, downstream__status=Asset.Status.ACTIVE
    )
    ends = (
        "upstream__project_id",
        "upstream__owner_team_id",
        "downstream__project_id",
        "downstream__owner_team_id",
    )
    touching = _in_groups(opened, "upstream__") | _in_groups(opened, "downstream__")
    closed = live.exclude(touching).order_by().values_list(*ends).annotate(n=Count("pk"))
    for up_project, up_team, down_project, down_team, n in closed:
        _count(between, inside, _key(up_project, up_team), _key(down_project, down_team), n)
    if opened:
        for up, up_project, up_team, down, down_project, down_team in live.filter(touching).values_list(
            "upstream_id", *ends[:2], "downstream_id", *ends[2:]
        ):
            a = unit_id(unit_of.get(up, _key(up_project, up_team)))
            b = unit_id(unit_of.get(down, _key(down_project, down_team)))
            _count(between, inside, a, b, 1)
    graph.edges = sorted((a, b, n) for (a, b), n in between.items())
    for cluster in graph.clusters:
        cluster.internal_edges = inside[cluster.key]


def _count(between: Counter[tuple[str, str]], inside: Counter[str], a: str, b: str, n: int) -> None:
    if a == b:
        inside[a] += n
    else:
        between[(a, b)] += n
