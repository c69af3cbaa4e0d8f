"""A check-origin proposal (opened from CI before merge) publishes only when a later sync brings
exactly its schema; real dbt artifacts of the demo, the real check and sync services."""

from __future__ import annotations

import pytest

from contracts.models import Asset, Proposal, SyncRun, TeamMembership
from contracts.selectors.teams import actor_for_user
from contracts.services.proposals.answering import acknowledgment_record
from contracts.services.sync import sync_submit
from contracts.services.sync.check import sync_check
from contracts.services.teams import membership_set, team_ensure
from contracts.tasks.sync import sync_run_task
from tessera_site.lib.auth import SYSTEM, actor_for_key

pytestmark = [pytest.mark.integration]


def _sync(content: bytes) -> SyncRun:
    run = sync_submit(manifest=content, team_slug=None, actor=SYSTEM)
    sync_run_task(run.pk)  # the worker's job, run in this thread
    run = SyncRun.objects.get(pk=run.pk)
    assert run.status == "succeeded", run.error
    return run


@pytest.fixture
def consumers(db, django_user_model):
    users = {}
    for slug in ("data-platform", "marketing-analytics", "finance-analytics"):
        team, _ = team_ensure(slug=slug, email=f"{slug}@example.com")
        user = django_user_model.objects.create_user(
            username=f"{slug}-lead", email=f"{slug}-lead@example.com"
        )
        membership_set(team=team, user=user, role=TeamMembership.Role.LEAD)
        users[slug] = (team, user)
    return users


def test_check_proposal_waits_for_approval_and_publishes_on_the_matching_sync(demo_artifacts, consumers):
    from contracts.factories import api_key_for

    _sync(demo_artifacts.read_bytes(demo_artifacts.manifests["core"]))
    dim = Asset.objects.get(relation="core.main.dim_customers")
    v1 = dim.active_version

    key, _ = api_key_for(consumers["data-platform"][0], scopes="read,write")
    report = sync_check(
        manifest=demo_artifacts.read_bytes(demo_artifacts.core_breaking_manifest),
        actor=actor_for_key(key),
        open_proposals=True,
    )
    assert report["may_merge"] is False
    proposal = Proposal.objects.get(asset=dim)
    assert (proposal.origin, proposal.status) == ("check", "open")

    for slug in ("marketing-analytics", "finance-analytics"):
        team, user = consumers[slug]
        acknowledgment_record(
            proposal=proposal, team=team, answer="approved", actor=actor_for_user(user), via="dashboard"
        )
    proposal.refresh_from_db()
    dim.refresh_from_db()
    assert proposal.status == "approved"
    assert dim.active_version_id == v1.pk  # approved, but nothing is deployed yet

    _sync(
        demo_artifacts.read_bytes(demo_artifacts.manifests["core"])
    )  # an unrelated re-sync of the old schema
    proposal.refresh_from_db()
    assert proposal.status == "approved"

    _sync(demo_artifacts.read_bytes(demo_artifacts.core_breaking_manifest))  # the merged change is deployed
    proposal.refresh_from_db()
    dim.refresh_from_db()
    assert proposal.status == "published"
    assert dim.active_version_id == proposal.proposed_version_id
    assert dim.active_version.major == v1.major + 1
    assert not Proposal.objects.filter(asset=dim, origin="sync").exists()  # no second proposal
