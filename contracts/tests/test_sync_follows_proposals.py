"""A later sync withdraws, supersedes or keeps an open proposal: the sync step on the demo's real
manifests (real dbt builds), with the task body run in-process. The same stories with a real
worker, PostgreSQL and an SMTP server are in tests/integration/test_proposals_follow_the_warehouse.py."""

from __future__ import annotations

import pytest

from contracts.models import Acknowledgment, Asset, ContractVersion, Event, Proposal, SyncRun
from contracts.services.proposals.answering import acknowledgment_record
from contracts.services.sync import sync_submit
from contracts.services.sync.check import sync_check
from contracts.services.teams import team_ensure
from contracts.tasks import sync_run_task
from tessera_site.lib.auth import Actor

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

OPEN = Actor(label="test-open", is_open=True, scopes=("read", "write", "admin"))
DIM = "core.main.dim_customers"
ORDERS = "core.main.fct_orders"
CONSUMERS = ("finance-analytics", "marketing-analytics")


def run_sync(manifest: bytes) -> SyncRun:
    run = sync_submit(manifest=manifest, team_slug=None, actor=OPEN)
    assert sync_run_task(run.pk) == "succeeded", SyncRun.objects.get(pk=run.pk).error
    run.refresh_from_db()
    return run


def approve(proposal: Proposal, slug: str) -> None:
    team = proposal.required_teams.get(slug=slug)
    acknowledgment_record(
        proposal=proposal,
        team=team,
        answer="approved",
        actor=Actor(label=f"{slug}-lead", team=team, scopes=("write",), teams=(team,)),
        via="api",
    )


def open_on(relation: str) -> Proposal:
    return Proposal.objects.get(asset__relation=relation, status__in=Proposal.OPEN_STATUSES)


@pytest.fixture
def core(demo_artifacts):
    for slug in ("data-platform", *CONSUMERS):
        team_ensure(slug=slug)
    run_sync(demo_artifacts.read_bytes(demo_artifacts.manifests["core"]))
    return demo_artifacts


def test_the_same_contract_again_keeps_the_proposal_waiting(core):
    run_sync(core.read_bytes(core.core_breaking_manifest))
    proposal = open_on(DIM)
    approve(proposal, "marketing-analytics")
    again = run_sync(core.read_bytes(core.core_breaking_manifest))
    assert open_on(DIM).pk == proposal.pk
    assert Acknowledgment.objects.filter(proposal=proposal).count() == 1
    assert again.summary["proposals_closed"] == [] and again.summary["proposals_opened"] == 0


def test_reverting_to_the_active_contract_withdraws_the_proposals_with_the_sync_named(core):
    run_sync(core.read_bytes(core.core_breaking_manifest))
    dim, orders = open_on(DIM), open_on(ORDERS)
    revert = run_sync(core.read_bytes(core.manifests["core"]))

    for proposal in (dim, orders):
        proposal.refresh_from_db()
        assert proposal.status == Proposal.Status.WITHDRAWN
        assert proposal.resolution_reason.startswith(f"Reverted by sync #{revert.pk}")
        assert proposal.closed_by_sync_id == revert.pk
        assert proposal.proposed_version.status == ContractVersion.Status.REJECTED
        event = Event.objects.get(kind="proposal.withdrawn", proposal=proposal)
        assert event.payload["automatic"] is True and event.sync_run_id == revert.pk
    assert Asset.objects.get(relation=DIM).active_version.semver == "1.0.0"
    assert {c["proposal"] for c in revert.summary["proposals_closed"]} == {dim.pk, orders.pk}


def test_a_compatible_contract_publishes_and_closes_the_proposal_as_superseded(core):
    run_sync(core.read_bytes(core.core_breaking_manifest))
    dim = open_on(DIM)
    approve(dim, "marketing-analytics")
    additive = run_sync(core.read_bytes(core.core_additive_manifest))

    dim.refresh_from_db()
    asset = Asset.objects.get(relation=DIM)
    assert asset.active_version.semver == "1.1.0"
    assert "preferred_channel" in [c["name"] for c in asset.active_version.columns]
    assert dim.status == Proposal.Status.SUPERSEDED
    assert dim.superseded_by_version_id == asset.active_version_id
    assert "v1.1.0" in dim.resolution_reason and f"sync #{additive.pk}" in dim.resolution_reason
    # fct_orders is normal again in the additive build: that proposal was reverted.
    assert Proposal.objects.get(asset__relation=ORDERS).status == Proposal.Status.WITHDRAWN
    # The late approval the issue describes can no longer publish the stale 2.0.0.
    with pytest.raises(Exception, match="superseded"):
        approve(dim, "finance-analytics")
    assert Asset.objects.get(relation=DIM).active_version.semver == "1.1.0"
    assert not ContractVersion.objects.filter(asset=asset, major=2, status="active").exists()


def test_another_breaking_contract_replaces_the_proposal_and_keeps_the_unchanged_one(core):
    run_sync(core.read_bytes(core.core_breaking_manifest))
    first, orders = open_on(DIM), open_on(ORDERS)
    approve(first, "marketing-analytics")
    retyped = run_sync(core.read_bytes(core.core_retyped_manifest))

    second = open_on(DIM)
    first.refresh_from_db()
    assert second.pk != first.pk and first.superseded_by_id == second.pk
    assert first.status == Proposal.Status.SUPERSEDED and first.closed_by_sync_id == retyped.pk
    since = second.since_previous
    assert since["proposal"] == first.pk
    assert any("country_code" in d for d in since["differences"])  # back since the first question
    assert any("signup_date" in r for r in since["breaking_added"])
    assert any("country_code" in r for r in since["breaking_dropped"])
    assert since["asked_again"] == list(CONSUMERS) and since["carried_over"] == []
    assert not Acknowledgment.objects.filter(proposal=second).exists()
    assert open_on(ORDERS).pk == orders.pk  # fct_orders is the same change: still waiting


def test_a_merge_that_brings_another_contract_does_not_publish_the_checked_one(core):
    sync_check(manifest=core.read_bytes(core.core_breaking_manifest), actor=OPEN, open_proposals=True)
    checked = open_on(DIM)
    assert checked.origin == Proposal.Origin.CHECK
    for slug in CONSUMERS:
        approve(checked, slug)
    checked.refresh_from_db()
    assert checked.status == Proposal.Status.APPROVED  # waiting for its merge

    run_sync(core.read_bytes(core.core_additive_manifest))  # another change merged first
    checked.refresh_from_db()
    assert checked.status == Proposal.Status.APPROVED
    assert Asset.objects.get(relation=DIM).active_version.semver == "1.1.0"

    run_sync(core.read_bytes(core.core_retyped_manifest))  # the merge brings another contract
    checked.refresh_from_db()
    asset = Asset.objects.get(relation=DIM)
    assert checked.status == Proposal.Status.SUPERSEDED
    assert asset.active_version.semver == "1.1.0"
    assert not ContractVersion.objects.filter(pk=checked.proposed_version_id, status="active").exists()
    replacement = open_on(DIM)
    assert replacement.origin == Proposal.Origin.SYNC and checked.superseded_by_id == replacement.pk
