"""The dashboard's drawing geometry (pure functions: no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from contracts.presenters.graphics import (
    MIN_COLUMN,
    NODE_W,
    Mark,
    layered_layout,
    team_colour,
    timeline_layout,
)


def test_layout_puts_every_upstream_left_of_what_reads_it():
    edges = [(1, 2), (2, 3), (1, 3), (4, 3), (3, 5)]
    layout = layered_layout([1, 2, 3, 4, 5], edges)
    for up, down in edges:
        assert layout.positions[up][0] < layout.positions[down][0]
    assert layout.layers == 4  # 1 → 2 → 3 → 5 is the longest path


def test_layout_folds_a_tall_layer_into_columns_before_the_next_layer():
    roots = list(range(1, 401))
    sink = 1000
    layout = layered_layout([*roots, sink], [(r, sink) for r in roots])
    root_xs = {layout.positions[r][0] for r in roots}
    assert len(root_xs) > 1  # 400 sources do not make one 400-box column
    assert max(root_xs) < layout.positions[sink][0]
    assert layout.height < 400 * 20  # screen-like, not a strip


def test_small_layers_stay_one_column():
    ids = list(range(MIN_COLUMN))
    layout = layered_layout(ids, [])
    assert {x for x, _ in layout.positions.values()} == {20}
    assert layout.width == 20 * 2 + NODE_W


def test_layout_survives_a_cycle():
    layout = layered_layout([1, 2, 3], [(1, 2), (2, 3), (3, 2)])
    assert set(layout.positions) == {1, 2, 3}


def test_team_colours_are_stable_and_distinct_for_the_first_teams():
    assert team_colour(1) == team_colour(1)
    assert len({team_colour(i) for i in range(1, 11)}) == 10
    assert team_colour(None) == "#868e96"


def test_timeline_keeps_marks_in_time_order_and_apart_in_a_burst():
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    marks = [
        Mark(lane="version", at=t0 + timedelta(seconds=i), label=f"1.{i}.0", url="#", css="", title="")
        for i in range(5)
    ] + [Mark(lane="audit", at=t0 + timedelta(days=3), label="", url="#", css="", title="")]
    timeline = timeline_layout(marks, now=t0 + timedelta(days=4))
    xs = [m.x for m in timeline.marks if m.lane == "version"]
    assert xs == sorted(xs)
    assert all(b - a >= 40 for a, b in zip(xs, xs[1:], strict=False))
    audit = next(m for m in timeline.marks if m.lane == "audit")
    assert audit.x > xs[0] and audit.y != timeline.marks[0].y
    assert len(timeline.axis) == 5


def test_open_proposal_bar_runs_to_now_with_its_answers():
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    mark = Mark(lane="proposal", at=t0, end_at=t0 + timedelta(days=2), label="#1", url="#", css="", title="")
    mark.tick_times = [(t0 + timedelta(days=1), "ans-approved", "marketing: approved")]
    timeline = timeline_layout([mark], now=t0 + timedelta(days=2))
    placed = timeline.marks[0]
    assert placed.x < placed.ticks[0][0] < placed.end_x
