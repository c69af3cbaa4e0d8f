"""Geometry for the drawings the dashboard renders: the layered lineage layout and the contract timeline.

Pure functions (no ORM, no templates): numbers in, coordinates out. The lineage layout is done
here, on the server, rather than by a JavaScript layout library: the graph page's JSON then
carries positions, the asset page draws the same layout as inline SVG without any JavaScript,
and the browser only pans and zooms (static/js/lineage.js), which stays fast with thousands of nodes.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

NODE_W = 220
NODE_H = 44
GAP_X = 90
GAP_Y = 16
PAD = 20
MIN_COLUMN = 25  # layers up to this many nodes stay one column

# A fixed palette indexed by team id, so a team keeps its colour on every page and every reload,
# and the first teams of an installation get clearly different hues.
PALETTE = [
    "#3b5bdb",
    "#2b8a3e",
    "#e67700",
    "#ae3ec9",
    "#0c8599",
    "#e03131",
    "#5c940d",
    "#1864ab",
    "#d6336c",
    "#495057",
]


def team_colour(team_id: int | None) -> str:
    if not team_id:
        return "#868e96"
    return PALETTE[(team_id - 1) % len(PALETTE)]


@dataclass
class Layout:
    positions: dict[int, tuple[int, int]]
    width: int
    height: int
    layers: int


def layered_layout(
    node_ids: Iterable[int], edges: Iterable[tuple[int, int]], *, sort_key: Any = None
) -> Layout:
    """Left-to-right layered layout: layer = longest path from a root; order within a layer by
    barycentre of neighbours (a few sweeps), which keeps crossings low enough to read."""
    ids = list(node_ids)
    edge_list = _without_back_edges(ids, [(u, d) for (u, d) in edges if u != d])
    parents: dict[int, list[int]] = defaultdict(list)
    children: dict[int, list[int]] = defaultdict(list)
    for u, d in edge_list:
        parents[d].append(u)
        children[u].append(d)
    layer = _longest_path_layers(ids, edge_list, children)
    key = sort_key or (lambda n: n)
    by_layer: dict[int, list[int]] = defaultdict(list)
    for n in sorted(ids, key=key):
        by_layer[layer[n]].append(n)
    _order_by_barycentre(by_layer, parents, children)
    return _place(by_layer, node_count=len(ids))


def _without_back_edges(ids: list[Any], edge_list: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """The edges minus those closing a cycle (found by a depth-first walk), so every node gets a
    layer. dbt lineage has no cycles, but groups of assets do (A's assets read B's and back)."""
    children: dict[Any, list[Any]] = defaultdict(list)
    for u, d in edge_list:
        children[u].append(d)
    state: dict[Any, int] = {}  # 1: on the current path, 2: done
    back: set[tuple[Any, Any]] = set()
    for start in ids:
        if start in state:
            continue
        state[start] = 1
        stack = [(start, iter(children[start]))]
        while stack:
            node, todo = stack[-1]
            child = next(todo, None)
            if child is None:
                state[node] = 2
                stack.pop()
            elif state.get(child) == 1:
                back.add((node, child))
            elif child not in state:
                state[child] = 1
                stack.append((child, iter(children[child])))
    return [e for e in edge_list if e not in back] if back else edge_list


def _longest_path_layers(
    ids: list[int], edge_list: list[tuple[int, int]], children: dict[int, list[int]]
) -> dict[int, int]:
    indegree = dict.fromkeys(ids, 0)
    for _u, d in edge_list:
        indegree[d] = indegree.get(d, 0) + 1
    layer = dict.fromkeys(ids, 0)
    queue = [n for n in ids if indegree.get(n, 0) == 0]
    while queue:
        node = queue.pop()
        for child in children[node]:
            layer[child] = max(layer[child], layer[node] + 1)
            indegree[child] -= 1
            if indegree[child] == 0:
                queue.append(child)
    # Nodes left with indegree > 0 sit on a cycle (should not happen in dbt); they keep what they got.
    return layer


def _order_by_barycentre(
    by_layer: dict[int, list[int]], parents: dict[int, list[int]], children: dict[int, list[int]]
) -> None:
    order = {n: i for nodes in by_layer.values() for i, n in enumerate(nodes)}
    layer_ids = sorted(by_layer)
    for sweep in range(4):
        downward = sweep % 2 == 0
        for lay in layer_ids if downward else reversed(layer_ids):
            neighbours = parents if downward else children

            def bary(n: int, neighbours: dict[int, list[int]] = neighbours) -> float:
                near = neighbours.get(n) or []
                return sum(order[m] for m in near) / len(near) if near else order[n]

            by_layer[lay].sort(key=lambda n: (bary(n), order[n]))
            for i, n in enumerate(by_layer[lay]):
                order[n] = i


def _place(by_layer: dict[int, list[int]], *, node_count: int) -> Layout:
    # A layer taller than `cap` is folded into several columns side by side (still left of the
    # next layer), so a graph of a thousand nodes keeps a screen-like shape instead of a thin strip.
    cap = max(MIN_COLUMN, math.ceil(math.sqrt(node_count * 2)))
    layer_ids = sorted(by_layer)
    columns: list[list[int]] = []
    for lay in layer_ids:
        nodes = by_layer[lay]
        columns.extend(nodes[i : i + cap] for i in range(0, len(nodes), cap))
    positions: dict[int, tuple[int, int]] = {}
    tallest = max((len(c) for c in columns), default=0)
    for col, nodes in enumerate(columns):
        # Centre short columns vertically so edges do not all run to the top.
        offset = (tallest - len(nodes)) * (NODE_H + GAP_Y) // 2
        for i, n in enumerate(nodes):
            positions[n] = (PAD + col * (NODE_W + GAP_X), PAD + offset + i * (NODE_H + GAP_Y))
    width = PAD * 2 + max(len(columns), 1) * (NODE_W + GAP_X) - GAP_X
    height = PAD * 2 + max(tallest, 1) * (NODE_H + GAP_Y) - GAP_Y
    return Layout(positions=positions, width=width, height=height, layers=len(layer_ids))


def edge_path(src: tuple[int, int], dst: tuple[int, int]) -> str:
    x1, y1 = src[0] + NODE_W, src[1] + NODE_H // 2
    x2, y2 = dst[0], dst[1] + NODE_H // 2
    mid = (x1 + x2) // 2
    return f"M{x1},{y1} C{mid},{y1} {mid},{y2} {x2},{y2}"


# --- The contract timeline -------------------------------------------------------------------------
LANES = {"version": 40, "proposal": 90, "audit": 140}
TL_WIDTH = 960
TL_HEIGHT = 180
TL_LEFT = 110
TL_RIGHT = 30
MIN_GAP = 40  # wide enough for a "10.0.0" label


@dataclass
class Mark:
    lane: str
    at: datetime
    label: str
    url: str
    css: str  # a class naming the state (kind of change, proposal status, audit status)
    title: str
    x: float = 0
    y: float = 0
    end_x: float | None = None  # proposals: a bar from opened to resolved (or now)
    end_at: datetime | None = None
    tick_times: list[tuple[datetime, str, str]] = field(default_factory=list)  # answers: (when, css, title)
    ticks: list[tuple[float, str, str]] = field(default_factory=list)


@dataclass
class Timeline:
    marks: list[Mark]
    axis: list[tuple[float, str]]
    lanes: dict[str, int]
    width: int = TL_WIDTH
    height: int = TL_HEIGHT


def timeline_layout(marks: list[Mark], *, now: datetime) -> Timeline:
    """Place marks on one time axis. Items that would overlap in a lane are nudged right, in time
    order, so a burst of syncs still shows every version."""
    if not marks:
        return Timeline(marks=[], axis=[], lanes=LANES)
    times = [m.at for m in marks] + [m.end_at for m in marks if m.end_at]
    start, end = min(times), max(times)
    if end - start < timedelta(hours=1):
        start, end = start - timedelta(minutes=30), end + timedelta(minutes=30)
    span = (end - start).total_seconds()
    usable = TL_WIDTH - TL_LEFT - TL_RIGHT

    def x_of(t: datetime) -> float:
        return TL_LEFT + (t - start).total_seconds() / span * usable

    last_x: dict[str, float] = {}
    for mark in sorted(marks, key=lambda m: (m.at, m.lane)):
        x = x_of(mark.at)
        if mark.lane in last_x and x < last_x[mark.lane] + MIN_GAP:
            x = last_x[mark.lane] + MIN_GAP
        mark.x = round(x, 1)
        mark.y = LANES[mark.lane]
        if mark.end_at is not None:
            mark.end_x = round(max(x, x_of(mark.end_at)), 1)
        mark.ticks = [(round(max(x, x_of(t)), 1), css, title) for t, css, title in mark.tick_times]
        # Nudge by start only: a long-open proposal's bar must not push a later one off its date.
        last_x[mark.lane] = x
    width = int(max(TL_WIDTH, max((m.end_x or m.x) for m in marks) + TL_RIGHT))
    axis = []
    for i in range(5):
        t = start + (end - start) * i / 4
        axis.append((round(x_of(t), 1), f"{t:%d %b %H:%M}" if span < 3 * 86400 else f"{t:%d %b %Y}"))
    return Timeline(marks=marks, axis=axis, lanes=LANES, width=width)
