"""The proposal lifecycle and who may do what, through the services (real database rows)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from contracts.domain import ContractSpec, GuaranteeSpec
from contracts.factories import api_key_for
from contracts.models import Acknowledgment, ContractVersion, Event, Proposal, Registration
from contracts.selectors.teams import actor_for_user
from contracts.services.proposals.answering import acknowledgment_record
from contracts.services.proposals.closing import proposal_expire_due, proposal_withdraw
from contracts.services.proposals.publishing import proposal_force, proposal_publish_matching_check
from contracts.services.versions import guarantee_rows
from contracts.tasks.workflow import proposal_expire_due_task
from contracts.tests.workflow_setup import breaking_spec, open_breaking, other_breaking_spec
from tessera_site.lib.auth import actor_for_key
from tessera_site.lib.errors import Conflict, InvalidInput, PermissionDenied

pytestmark = pytest.mark.django_db

FUTURE = (dt.date.today() + dt.timedelta(days=30)).isoformat()


def answer(story, proposal, team, user, value, **kw):
    return acknowledgment_record(
        proposal=proposal, team=team, answer=value, actor=actor_for_user(user), via="dashboard", **kw
    )


def test_open_creates_proposed_major_version_and_snapshots_consumers(
    story, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        proposal = open_breaking(story)
    assert proposal.status == Proposal.Status.OPEN
    assert proposal.proposed_version.status == ContractVersion.Status.PROPOSED
    assert proposal.proposed_version.semver == "2.0.0"
    assert [c["name"] for c in proposal.proposed_version.columns] == ["customer_id", "lifetime_value"]
    assert proposal.proposed_version.columns[1]["normalized_type"] == "decimal(12,2)"
    assert proposal.proposed_version.guarantee_rows.count() == 2
    assert sorted(t.slug for t in proposal.required_teams.all()) == [
        "finance-analytics",
        "marketing-analytics",
    ]
    assert abs((proposal.deadline - timezone.now()) - dt.timedelta(days=14)) < dt.timedelta(minutes=1)
    assert any("email" in r for r in proposal.verdict["reasons"])
    assert Event.objects.filter(kind="proposal.opened", proposal=proposal).count() == 1
    story.asset.refresh_from_db()
    assert story.asset.active_version_id == story.base.pk  # stays at the old version until resolved
    assert len(callbacks) >= 1  # the "proposal opened" emails are enqueued on commit


def test_the_proposed_version_keeps_its_guarantees_as_a_synced_version_does(story):
    """One writer for a version's guarantee rows (services.versions.guarantee_rows): a dbt test
    name longer than the column keeps its first 500 characters, as in a version a sync writes."""
    long_name = "accepted_values_dim_customers_customer_id__" + "1__" * 200
    guarantee = GuaranteeSpec("accepted_values", "customer_id", arguments={"values": [1, 2]}, name=long_name)
    spec = ContractSpec(columns=breaking_spec().columns, guarantees=[*breaking_spec().guarantees, guarantee])
    proposal = open_breaking(story, spec=spec)
    stored = [
        (g.key, g.kind, g.column, g.name) for g in proposal.proposed_version.guarantee_rows.order_by("id")
    ]
    expected = guarantee_rows([(proposal.proposed_version, spec)])
    assert stored == [(g.key, g.kind, g.column, g.name) for g in expected]
    assert stored[-1][3] == long_name[:500]


def test_open_with_same_content_returns_the_open_proposal(story):
    first = open_breaking(story)
    again = open_breaking(story)
    assert again.pk == first.pk
    assert Proposal.objects.count() == 1
    assert ContractVersion.objects.filter(status=ContractVersion.Status.PROPOSED).count() == 1


def test_open_with_other_content_supersedes_the_open_proposal(story):
    first = open_breaking(story)
    second = open_breaking(story, spec=other_breaking_spec())
    first.refresh_from_db()
    assert first.status == Proposal.Status.SUPERSEDED
    assert first.proposed_version.status == ContractVersion.Status.REJECTED
    assert second.status == Proposal.Status.OPEN
    assert Event.objects.filter(kind="proposal.superseded", proposal=first).exists()


def test_blocked_answer_keeps_proposal_open_until_changed_then_approval_publishes(story):
    proposal = open_breaking(story)
    answer(
        story,
        proposal,
        story.marketing,
        story.marketing_user,
        "blocked",
        reason="Our churn model reads email",
    )
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.BLOCKED
    answer(story, proposal, story.finance, story.finance_user, "approved")
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.BLOCKED  # still blocked while marketing blocks

    ack = answer(story, proposal, story.marketing, story.marketing_user, "approved")
    assert ack.revision == 2
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.PUBLISHED
    story.asset.refresh_from_db()
    assert story.asset.active_version_id == proposal.proposed_version_id
    assert story.asset.active_version.semver == "2.0.0"
    assert story.asset.content_hash == proposal.proposed_hash
    story.base.refresh_from_db()
    assert story.base.status == ContractVersion.Status.SUPERSEDED
    assert Registration.objects.filter(asset=story.asset).count() == 3  # registrations carry over
    kinds = list(Event.objects.filter(proposal=proposal).order_by("id").values_list("kind", flat=True))
    assert kinds.count("proposal.answered") == 3
    assert "proposal.blocked" in kinds and "proposal.approved" in kinds and "proposal.published" in kinds
    history = (
        Event.objects.filter(proposal=proposal, kind="proposal.answered", team=story.marketing)
        .order_by("id")
        .last()
    )
    assert history.payload["previous"]["answer"] == "blocked"


def test_blocked_needs_a_reason_and_leaves_nothing_written(story):
    proposal = open_breaking(story)
    with pytest.raises(InvalidInput) as err:
        answer(story, proposal, story.marketing, story.marketing_user, "blocked", reason="  ")
    assert type(err.value) is InvalidInput
    assert not Acknowledgment.objects.exists()


def test_migrating_needs_a_date_then_approval_publishes(story):
    proposal = open_breaking(story)
    with pytest.raises(InvalidInput) as err:
        answer(story, proposal, story.marketing, story.marketing_user, "migrating")
    assert err.value.code == "ready_by_required"
    with pytest.raises(InvalidInput):
        answer(story, proposal, story.marketing, story.marketing_user, "migrating", ready_by="not-a-date")
    ack = answer(story, proposal, story.marketing, story.marketing_user, "migrating", ready_by=FUTURE)
    assert ack.ready_by.isoformat() == FUTURE
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.OPEN
    answer(story, proposal, story.finance, story.finance_user, "approved")
    answer(story, proposal, story.marketing, story.marketing_user, "approved")
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.PUBLISHED


def test_same_answer_twice_changes_nothing(story):
    proposal = open_breaking(story)
    answer(story, proposal, story.finance, story.finance_user, "approved")
    ack = answer(story, proposal, story.finance, story.finance_user, "approved")
    assert ack.revision == 1
    assert Event.objects.filter(kind="proposal.answered").count() == 1


def test_a_team_cannot_answer_for_another(story):
    proposal = open_breaking(story)
    with pytest.raises(PermissionDenied):
        answer(story, proposal, story.finance, story.marketing_user, "approved")
    key, _ = api_key_for(story.marketing)
    with pytest.raises(PermissionDenied):
        acknowledgment_record(
            proposal=proposal, team=story.finance, answer="approved", actor=actor_for_key(key), via="api"
        )
    assert not Acknowledgment.objects.exists()


def test_the_owner_cannot_approve_its_own_proposal(story):
    proposal = open_breaking(story)
    with pytest.raises(PermissionDenied):
        answer(story, proposal, story.producer, story.producer_lead, "approved")
    assert not Acknowledgment.objects.exists()


def test_withdraw_is_for_the_producer_only(story):
    proposal = open_breaking(story)
    with pytest.raises(PermissionDenied):
        proposal_withdraw(proposal=proposal, actor=actor_for_user(story.marketing_user))
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.OPEN

    proposal_withdraw(proposal=proposal, actor=actor_for_user(story.producer_member))
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.WITHDRAWN
    assert proposal.proposed_version.status == ContractVersion.Status.REJECTED
    with pytest.raises(Conflict):
        answer(story, proposal, story.marketing, story.marketing_user, "approved")


def test_force_needs_a_reason_and_a_producer_lead(story):
    proposal = open_breaking(story)
    with pytest.raises(InvalidInput) as err:
        proposal_force(proposal=proposal, reason="", actor=actor_for_user(story.producer_lead))
    assert type(err.value) is InvalidInput
    with pytest.raises(PermissionDenied) as err:
        proposal_force(proposal=proposal, reason="hotfix", actor=actor_for_user(story.producer_member))
    write_key, _ = api_key_for(story.producer, scopes="read,write")
    with pytest.raises(PermissionDenied):
        proposal_force(proposal=proposal, reason="hotfix", actor=actor_for_key(write_key))
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.OPEN

    proposal_force(
        proposal=proposal, reason="GDPR: email must go today", actor=actor_for_user(story.producer_lead)
    )
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.FORCED
    assert proposal.resolution_reason == "GDPR: email must go today"
    story.asset.refresh_from_db()
    assert story.asset.active_version.semver == "2.0.0"
    forced = Event.objects.get(kind="proposal.forced", proposal=proposal)
    assert sorted(forced.payload["without_approval_of"]) == ["finance-analytics", "marketing-analytics"]


def test_admin_key_of_the_owner_team_may_force(story):
    proposal = open_breaking(story)
    admin_key, _ = api_key_for(story.producer, scopes="admin")
    proposal_force(proposal=proposal, reason="incident 42", actor=actor_for_key(admin_key))
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.FORCED


def test_expiry_by_beat_task_after_the_deadline(story):
    proposal = open_breaking(story)
    assert proposal_expire_due_task() == []  # not due yet
    Proposal.objects.filter(pk=proposal.pk).update(deadline=timezone.now() - dt.timedelta(minutes=1))
    assert proposal_expire_due_task() == [proposal.pk]
    assert proposal_expire_due() == []  # idempotent
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.EXPIRED
    assert proposal.proposed_version.status == ContractVersion.Status.REJECTED
    assert Event.objects.filter(kind="proposal.expired", proposal=proposal).count() == 1
    story.asset.refresh_from_db()
    assert story.asset.active_version_id == story.base.pk


def test_an_approved_check_proposal_waiting_for_its_deploy_does_not_expire(story):
    proposal = open_breaking(story, origin="check")
    answer(story, proposal, story.marketing, story.marketing_user, "approved")
    answer(story, proposal, story.finance, story.finance_user, "approved")
    Proposal.objects.filter(pk=proposal.pk).update(deadline=timezone.now() - dt.timedelta(minutes=1))
    assert proposal_expire_due() == []
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.APPROVED


def test_check_proposal_publishes_only_when_the_matching_schema_is_synced(story):
    proposal = open_breaking(story, origin="check")
    answer(story, proposal, story.marketing, story.marketing_user, "approved")
    answer(story, proposal, story.finance, story.finance_user, "approved")
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.APPROVED  # approved, but not merged/deployed yet
    story.asset.refresh_from_db()
    assert story.asset.active_version_id == story.base.pk

    other_hash = other_breaking_spec().content_hash()
    assert (
        proposal_publish_matching_check(asset=story.asset, content_hash=other_hash, sync_run=None, actor=None)
        is None
    )
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.APPROVED

    published = proposal_publish_matching_check(
        asset=story.asset, content_hash=proposal.proposed_hash, sync_run=None, actor=None
    )
    assert published.pk == proposal.pk
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.PUBLISHED
    story.asset.refresh_from_db()
    assert story.asset.active_version_id == proposal.proposed_version_id


def test_sync_of_an_unapproved_check_proposal_turns_it_into_a_deployed_one(story):
    proposal = open_breaking(story, origin="check")
    again = open_breaking(story, origin="sync")
    assert again.pk == proposal.pk
    again.refresh_from_db()
    assert again.origin == Proposal.Origin.SYNC
    assert Event.objects.filter(kind="proposal.deployed", proposal=proposal).exists()
