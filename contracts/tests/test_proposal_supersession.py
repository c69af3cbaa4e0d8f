"""A proposal superseded by another breaking change, the answers that carry over, and the publish
guard, through the services and pages (real database rows; the syncs that drive this on the demo's
real manifests are in test_sync_follows_proposals and tests/integration)."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from contracts.domain import ColumnSpec
from contracts.models import Acknowledgment, Asset, ContractVersion, Event, Proposal
from contracts.selectors.teams import actor_for_user
from contracts.services.proposals.answering import acknowledgment_record
from contracts.services.proposals.publishing import proposal_force
from contracts.tests.workflow_setup import breaking_spec, open_breaking, other_breaking_spec
from tessera_site.lib.errors import Conflict
from tessera_site.lib.signing import answer_token

pytestmark = pytest.mark.django_db


def answer(proposal, team, user, value, **kw):
    return acknowledgment_record(
        proposal=proposal, team=team, answer=value, actor=actor_for_user(user), via="dashboard", **kw
    )


def breaking_plus_column():
    """The same breaking change (email dropped) with a compatible column added on top."""
    spec = breaking_spec()
    spec.columns.append(ColumnSpec("preferred_channel", "varchar"))
    return spec


def test_another_breaking_change_supersedes_the_open_proposal_linked_and_says_what_changed(story):
    first = open_breaking(story)
    answer(first, story.marketing, story.marketing_user, "approved")
    second = open_breaking(story, spec=other_breaking_spec())

    first.refresh_from_db()
    assert first.status == Proposal.Status.SUPERSEDED
    assert first.superseded_by_id == second.pk
    assert first.proposed_version.status == ContractVersion.Status.REJECTED
    assert list(Proposal.objects.filter(asset=story.asset, status__in=Proposal.OPEN_STATUSES)) == [second]
    since = second.since_previous
    assert since["proposal"] == first.pk
    assert any("lifetime_value" in d for d in since["differences"])  # dropped since the first question
    assert any("lifetime_value" in r for r in since["breaking_added"])
    # The team's part changed (lifetime_value is now dropped too): asked again, nothing carried.
    assert since["carried_over"] == [] and since["asked_again"] == [
        "finance-analytics",
        "marketing-analytics",
    ]
    assert not Acknowledgment.objects.filter(proposal=second).exists()
    assert Event.objects.get(kind="proposal.superseded", proposal=first).payload["superseded_by"] == second.pk


def test_an_answer_carries_over_only_when_the_teams_part_of_the_change_is_the_same(story):
    first = open_breaking(story)
    answer(first, story.marketing, story.marketing_user, "approved")
    second = open_breaking(story, spec=breaking_plus_column())  # same breaking change, one column more

    carried = Acknowledgment.objects.get(proposal=second, team=story.marketing)
    assert carried.answer == "approved"
    assert carried.carried_from.proposal_id == first.pk
    assert second.since_previous["carried_over"] == ["marketing-analytics"]
    assert second.since_previous["asked_again"] == ["finance-analytics"]
    assert any("preferred_channel" in d for d in second.since_previous["differences"])
    assert Event.objects.filter(
        kind="proposal.answer_carried", proposal=second, team=story.marketing
    ).exists()
    second.refresh_from_db()
    assert second.status == Proposal.Status.OPEN  # finance has not answered

    answer(second, story.finance, story.finance_user, "approved")
    second.refresh_from_db()
    story.asset.refresh_from_db()
    assert second.status == Proposal.Status.PUBLISHED
    assert "preferred_channel" in [c["name"] for c in story.asset.active_version.columns]


def test_publish_guard_keeps_an_approved_proposal_whose_contract_the_warehouse_no_longer_has(story):
    proposal = open_breaking(story)
    Asset.objects.filter(pk=story.asset.pk).update(deployed_hash=other_breaking_spec().content_hash())
    answer(proposal, story.marketing, story.marketing_user, "approved")
    answer(proposal, story.finance, story.finance_user, "approved")

    proposal.refresh_from_db()
    story.asset.refresh_from_db()
    assert proposal.status == Proposal.Status.APPROVED  # not published
    assert "no longer has" in proposal.resolution_reason
    assert story.asset.active_version_id == story.base.pk
    assert Event.objects.filter(kind="proposal.publish_refused", proposal=proposal).count() == 1
    with pytest.raises(Conflict) as refused:
        proposal_force(proposal=proposal, reason="ship it", actor=actor_for_user(story.producer_lead))
    assert "no longer has" in refused.value.detail


def test_a_check_proposal_cannot_be_forced_before_its_merge_is_synced(story):
    proposal = open_breaking(story, origin="check")
    with pytest.raises(Conflict) as refused:
        proposal_force(proposal=proposal, reason="urgent", actor=actor_for_user(story.producer_lead))
    assert "checked before its merge" in refused.value.detail
    story.asset.refresh_from_db()
    assert story.asset.active_version_id == story.base.pk


def test_a_check_proposal_does_not_supersede_the_deployed_one(story):
    deployed = open_breaking(story)
    checked = open_breaking(story, spec=other_breaking_spec(), origin="check")
    deployed.refresh_from_db()
    assert deployed.is_open and checked.is_open and deployed.superseded_by_id is None


def _link(proposal, team, action="approved", revision=0):
    token = answer_token(proposal_id=proposal.pk, team_id=team.pk, action=action, revision=revision)
    return reverse("answer_link", args=[token])


def test_old_answer_link_of_a_superseded_proposal_opens_the_superseded_page_linking_the_new_one(story):
    first = open_breaking(story)
    old_link = _link(first, story.marketing)
    second = open_breaking(story, spec=other_breaking_spec())

    for response in (Client().get(old_link), Client().post(old_link)):
        assert response.status_code == 410
        body = response.content.decode()
        assert "was superseded" in body
        assert f'href="{second.get_absolute_url()}"' in body
    assert not Acknowledgment.objects.filter(team=story.marketing).exists()


def test_answer_link_of_a_withdrawn_proposal_says_withdrawn(story):
    from contracts.services.proposals.closing import proposal_withdraw

    proposal = open_breaking(story)
    link = _link(proposal, story.finance)
    proposal_withdraw(proposal=proposal, actor=actor_for_user(story.producer_lead), reason="rolled back")
    response = Client().get(link)
    assert response.status_code == 410
    assert "was withdrawn" in response.content.decode() and "rolled back" in response.content.decode()


def test_dashboard_answer_buttons_of_a_superseded_proposal_lead_to_the_superseded_page(story):
    first = open_breaking(story)
    second = open_breaking(story, spec=other_breaking_spec())
    client = Client()
    client.force_login(story.marketing_user)
    url = reverse("proposal_answer", args=[first.pk])

    plain = client.post(url, {"team": story.marketing.slug, "answer": "approved"})
    assert plain.status_code == 410
    assert f'href="{second.get_absolute_url()}"' in plain.content.decode()
    htmx = client.post(url, {"team": story.marketing.slug, "answer": "approved"}, HTTP_HX_REQUEST="true")
    assert htmx.headers["HX-Redirect"] == first.get_absolute_url()
    assert not Acknowledgment.objects.filter(team=story.marketing).exists()


def test_proposal_page_shows_the_lineage_and_the_asset_timeline_the_superseded_one(story):
    first = open_breaking(story)
    second = open_breaking(story, spec=breaking_plus_column())
    third = open_breaking(story, spec=other_breaking_spec())
    client = Client()
    client.force_login(story.marketing_user)

    page = client.get(second.get_absolute_url()).content.decode()
    lineage = re.search(r'<section class="card" id="lineage".*?</section>', page, re.S).group(0)
    assert [int(n) for n in re.findall(r"#(\d+)</(?:a|strong)>", lineage)] == [first.pk, second.pk, third.pk]
    assert 'id="overtaken" data-status="superseded"' in page
    assert f'href="{third.get_absolute_url()}"' in page  # the question that stands now
    assert f"What changed since proposal #{first.pk}" in page

    asset_page = client.get(story.asset.get_absolute_url()).content.decode()
    assert f"#{first.pk} → #{second.pk}" in asset_page  # the timeline's label
    assert "superseded or withdrawn" in asset_page  # the legend
