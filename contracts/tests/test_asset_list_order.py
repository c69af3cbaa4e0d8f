"""The asset list's order and paging at scale (issue #17).

Sorted by version: the active version's major number is stored on the
asset (``Asset.active_major``) so an index gives the order. The copy must follow the active version
through everything that moves it (a sync's first versions, its compatible and its breaking changes,
a published, forced or released proposal), and the list keeps the order it had when it sorted by
the joined version's number: the relation breaks ties, an asset without a version comes first
sorted downwards and last upwards.

Filtered by failing audits: the page's ids come with the total in one query; the pages, counts and
the page past the end stay what Django's paginator gives."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.db.models import F
from django.utils import timezone

from contracts.factories import AssetFactory, ContractVersionFactory, ProjectFactory, TeamFactory
from contracts.models import Asset, ContractVersion, SyncRun
from contracts.selectors.dashboard import AssetFilters, asset_filter_choices, asset_search
from contracts.selectors.teams import actor_for_user
from contracts.services.proposals.answering import acknowledgment_record
from contracts.services.proposals.publishing import proposal_force
from contracts.services.sync import sync_submit
from contracts.services.teams import team_ensure
from contracts.services.versions import version_publish, version_spec
from contracts.tasks.sync import sync_run_task
from contracts.tests.workflow_setup import open_breaking, other_breaking_spec
from tessera_site.lib.auth import Actor

FIXTURES = Path(__file__).parent / "fixtures"
OPEN = Actor(label="test-open", is_open=True, scopes=("read", "write", "admin"))

pytestmark = pytest.mark.django_db


def _sync(name: str) -> None:
    run = sync_submit(manifest=(FIXTURES / name).read_bytes(), team_slug="shop-platform", actor=OPEN)
    assert sync_run_task(run.pk) == "succeeded", SyncRun.objects.get(pk=run.pk).error


def _copies() -> dict[str, tuple[int | None, int | None]]:
    """Per asset, (stored major, the active version's major), both read from the database."""
    rows = Asset.objects.values_list("relation", "active_major", "active_version__major")
    return {relation: (stored, joined) for relation, stored, joined in rows}


def _assert_copied() -> dict[str, int | None]:
    copies = _copies()
    assert {r: s for r, (s, j) in copies.items() if s != j} == {}
    return {r: s for r, (s, _) in copies.items()}


def test_the_stored_major_follows_the_active_version_through_syncs():
    team_ensure(slug="shop-platform")
    _sync("small_shop_manifest.json")  # new assets, written pointing at their first version
    first = _assert_copied()
    assert first and set(first.values()) == {1}

    _sync("small_shop_breaking_manifest.json")  # compatible changes and one breaking, unconsumed
    after = _assert_copied()
    assert after["memory.main_marts.dim_store_rollup"] == 2  # published as a major version
    assert after["memory.main_marts.dim_store"] == 1  # its consumers are asked first

    # The held version of an asset that requires a passing audit moves nothing until published.
    Asset.objects.filter(relation="memory.main_marts.dim_store_rollup").update(requires_passing_audit=True)
    _sync("small_shop_manifest.json")
    assert _assert_copied()["memory.main_marts.dim_store_rollup"] == 2
    rollup = Asset.objects.select_related("active_version").get(relation="memory.main_marts.dim_store_rollup")
    held = ContractVersion.objects.get(asset=rollup, status="proposed")
    version_publish(
        asset=rollup, spec=version_spec(held), verdict=held.verdict, bump="major", sync_run=None, actor=OPEN
    )  # what releasing a held version does once the gate says publish
    assert _assert_copied()["memory.main_marts.dim_store_rollup"] == 3


def test_the_stored_major_follows_a_published_and_a_forced_proposal(story):
    proposal = open_breaking(story)
    assert _assert_copied()[story.asset.relation] == 1  # a proposed version is not active
    for team, user in ((story.marketing, story.marketing_user), (story.finance, story.finance_user)):
        acknowledgment_record(
            proposal=proposal, team=team, answer="approved", actor=actor_for_user(user), via="dashboard"
        )
    assert _assert_copied()[story.asset.relation] == 2

    story.asset.refresh_from_db()
    story.base = story.asset.active_version
    forced = open_breaking(story, spec=other_breaking_spec())
    proposal_force(proposal=forced, reason="incident", actor=actor_for_user(story.producer_lead))
    assert _assert_copied()[story.asset.relation] == 3


@pytest.fixture
def majors():
    """Assets of two teams with majors 1-3, ties on the major, and some without a version."""
    teams = [TeamFactory(slug="alpha"), TeamFactory(slug="beta")]
    project = ProjectFactory(name="p")
    for i, major in enumerate([3, 1, None, 2, 1, 3, None, 1, 2, 1, 1, 3, None, 2]):
        asset = AssetFactory(
            owner_team=teams[i % 2], project=project, name=f"m{i}", relation=f"db.s.m{(i * 7) % 15:02d}"
        )
        if major is not None:
            ContractVersionFactory(asset=asset, major=major)
    assert _assert_copied()
    return teams


@pytest.mark.parametrize("sort", ["version", "-version"])
@pytest.mark.parametrize("team", ["", "alpha"])
def test_the_list_sorted_by_version_keeps_the_joined_versions_order(majors, sort, team):
    major = F("active_version__major")
    qs = Asset.objects.filter(owner_team__slug=team) if team else Asset.objects.all()
    # The order before the copy: the joined version's major (the database's NULL placement), then relation.
    expected = list(
        qs.order_by(major.desc() if sort.startswith("-") else major.asc(), "relation").values_list(
            "relation", flat=True
        )
    )
    choices = asset_filter_choices()
    listed = []
    for page in (1, 2, 3):
        filters = AssetFilters(team=team, sort=sort, page=page)
        listed += [a.relation for a in asset_search(filters=filters, per_page=3, choices=choices)]
    assert listed == expected[:9]
    assert len(set(_copies().values())) > 2  # majors that differ and assets without a version


@pytest.fixture
def failing():
    """Assets whose latest run failed, passed after failing, failed after passing, or failed twice
    at the same time (the id breaks the tie); a project where nothing fails."""
    from audits.models import AuditRun

    team, quiet = TeamFactory(slug="alpha"), ProjectFactory(name="quiet")
    project = ProjectFactory(name="p")
    at = timezone.now() - timedelta(hours=1)
    runs = {
        "f": ["failed"],
        "pf": ["passed", "failed"],
        "fp": ["failed", "passed"],
        "ff": ["failed", "failed"],
    }
    for i in range(20):
        asset = AssetFactory(owner_team=team, project=project, name=f"m{i % 7}", relation=f"db.s.m{i:02d}")
        for k, status in enumerate(runs[list(runs)[i % 4]]):
            when = at if status == "failed" and k and i % 8 == 3 else at + timedelta(minutes=k)
            AuditRun.objects.create(
                asset=asset, tool="dbt", status=status, checked=2, passed=2 - (status == "failed"),
                failed=int(status == "failed"), run_at=when,
            )  # fmt: skip
    AssetFactory(owner_team=team, project=quiet, name="calm")
    return project


@pytest.mark.parametrize(
    "project,page", [("p", 1), ("p", 2), ("p", 4), ("p", 9), ("", 1), ("quiet", 1), ("quiet", 3)]
)
def test_the_failing_audit_filter_counts_and_pages_as_a_plain_paginator(failing, project, page):
    from django.core.paginator import Paginator
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from contracts.selectors.dashboard.asset_list import failing_assets

    qs = Asset.objects.filter(pk__in=failing_assets())
    qs = qs.filter(project__name=project) if project else qs
    expected = Paginator(qs.order_by("name", "relation"), 3).get_page(page)
    filters = AssetFilters(status="failing_audit", project=project, page=page)
    choices = asset_filter_choices()
    with CaptureQueriesContext(connection) as queries:
        got = asset_search(filters=filters, per_page=3, choices=choices)
        relations = [a.relation for a in got]
    assert (got.number, got.paginator.count, got.paginator.num_pages) == (
        expected.number,
        expected.paginator.count,
        expected.paginator.num_pages,
    )
    assert relations == [a.relation for a in expected]
    assert len(queries) <= 2  # the page's ids with the total, then its rows (none: no rows query)
    assert project == "quiet" or got.paginator.count > 3
