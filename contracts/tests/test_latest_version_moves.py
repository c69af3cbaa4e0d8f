"""latest_version moves (on the demo's real manifests, edited where the demo has no such reader):
a team whose model refs dim_products without ``v=`` reads the new latest from its next build, so
it is asked when the new latest breaks what it reads now, and only informed otherwise; a team
pinned to a version (marketing's source) is never asked."""

from __future__ import annotations

import copy

import orjson
import pytest

from contracts.models import Asset, ContractVersion, Event, Proposal, Team
from contracts.services.proposals.answering import acknowledgment_record
from contracts.services.teams import team_ensure
from contracts.tests.test_model_versions import TEAMS, V1, V2, run_sync
from tessera_site.lib.auth import Actor

pytestmark = [pytest.mark.django_db, pytest.mark.slow]
CATALOGUE = "model.marketing.int_product_catalogue"


def core_with_latest(demo_artifacts, latest: int, *, mode: str | None = None) -> bytes:
    core = copy.deepcopy(demo_artifacts.load(demo_artifacts.manifests["core"]))
    for uid in ("model.core.dim_products.v1", "model.core.dim_products.v2"):
        node = core["nodes"][uid]
        node["latest_version"] = latest
        if mode:
            node["config"]["meta"]["tessera"]["compatibility_mode"] = mode
    return orjson.dumps(core)


def marketing_unpinned(demo_artifacts) -> bytes:
    """marketing reading dim_products through a cross-project ref without v= (dbt Mesh / dbt-loom):
    dbt resolved it to the latest version then, v1."""
    marketing = copy.deepcopy(demo_artifacts.load(demo_artifacts.manifests["marketing"]))
    del marketing["sources"]["source.marketing.core.dim_products"]
    node = marketing["nodes"][CATALOGUE]
    node["depends_on"]["nodes"] = ["model.core.dim_products.v1"]
    node["refs"] = [{"name": "dim_products", "package": "core", "version": None}]
    return orjson.dumps(marketing)


@pytest.fixture
def unpinned(demo_artifacts):
    for slug in TEAMS:
        team_ensure(slug=slug)
    run_sync(core_with_latest(demo_artifacts, 1))
    run_sync(marketing_unpinned(demo_artifacts))
    assert Asset.objects.get(relation="marketing.main.int_product_catalogue").unpinned_refs == [
        "model.core.dim_products.v1"
    ]
    return demo_artifacts


def test_moving_latest_to_a_breaking_version_asks_the_teams_whose_refs_are_unpinned(unpinned):
    v2 = Asset.objects.get(relation=V2)
    contract = v2.active_version_id

    run = run_sync(unpinned.read_bytes(unpinned.manifests["core"]))  # latest_version 1 → 2

    proposal = Proposal.objects.get(status__in=Proposal.OPEN_STATUSES)
    assert proposal.asset_id == v2.pk and proposal.origin == "sync"
    change = proposal.relation_change
    assert (change["kind"], change["from"], change["to"], change["previous_relation"]) == (
        "latest_moved", "1", "2", V1,
    )  # fmt: skip
    assert list(proposal.required_teams.values_list("slug", flat=True)) == ["marketing-analytics"]
    assert any("unit_price" in reason for reason in proposal.verdict["reasons"])
    assert run.summary["proposals_opened"] == 1

    marketing = Team.objects.get(slug="marketing-analytics")
    acknowledgment_record(
        proposal=proposal, team=marketing, answer="approved", via="api",
        actor=Actor(label="marketing-lead", team=marketing, scopes=("write",), teams=(marketing,)),
    )  # fmt: skip
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.PUBLISHED
    v2.refresh_from_db()
    assert v2.active_version_id == contract  # a latest move publishes no contract
    assert not ContractVersion.objects.filter(asset=v2, status=ContractVersion.Status.PROPOSED).exists()

    run_sync(unpinned.read_bytes(unpinned.manifests["core"]))  # the same manifest again: nothing new
    assert Proposal.objects.count() == 1


def test_a_proposal_of_a_latest_move_waits_through_the_next_sync_of_the_same_manifest(unpinned):
    run_sync(unpinned.read_bytes(unpinned.manifests["core"]))
    proposal = Proposal.objects.get(status__in=Proposal.OPEN_STATUSES)

    run_sync(unpinned.read_bytes(unpinned.manifests["core"]))

    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.OPEN  # not taken for a revert of v2's contract


def test_a_latest_move_that_breaks_nothing_under_the_mode_only_informs(demo_artifacts):
    for slug in TEAMS:
        team_ensure(slug=slug)
    run_sync(core_with_latest(demo_artifacts, 1, mode="none"))
    run_sync(marketing_unpinned(demo_artifacts))

    run = run_sync(core_with_latest(demo_artifacts, 2, mode="none"))

    assert not Proposal.objects.exists()
    assert any("informed" in w and "marketing-analytics" in w for w in run.warnings)
    event = Event.objects.get(kind="model.latest_moved")
    assert event.payload["teams"] == ["marketing-analytics"] and event.payload["breaking"] is False


def test_readers_pinned_to_a_version_are_not_asked_when_latest_moves(demo_artifacts):
    for slug in TEAMS:
        team_ensure(slug=slug)
    run_sync(core_with_latest(demo_artifacts, 1))
    run_sync(demo_artifacts.read_bytes(demo_artifacts.manifests["marketing"]))  # its source names v1

    run = run_sync(demo_artifacts.read_bytes(demo_artifacts.manifests["core"]))

    assert run.summary["proposals_opened"] == 0 and not Proposal.objects.exists()
    assert not Event.objects.filter(kind="model.latest_moved").exists()
