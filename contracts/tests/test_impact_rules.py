"""The consumer-aware impact rules: known usage, unknown usage, a registration without any dbt
model (a BI tool), SELECT *, the opt-out, and a proposal that asks nobody."""

from __future__ import annotations

import pytest

from contracts.factories import AssetFactory, ProjectFactory, TeamFactory
from contracts.models import ColumnUsage, Proposal, ProposalImpact
from contracts.services.impact import changed_columns, impact_decide
from contracts.tests.workflow_setup import make_story, open_breaking
from tessera_site.lib.auth import SYSTEM

REMOVED_EMAIL = {"breaking_changes": [{"kind": "column_removed", "column": "email", "guarantee": None}]}


def _reader(name, columns, *, star="", known=True, message=""):
    return {"name": name, "columns": columns, "star": star, "known": known, "message": message}


def _decide(readers, *, ask="affected", verdict=REMOVED_EMAIL):
    changed, whole = changed_columns(verdict)
    return impact_decide(
        team_ids=[1], readers_by_team={1: readers}, changed=changed, whole_relation=whole, ask=ask
    )


def test_a_team_whose_models_read_the_removed_column_is_asked_and_told_where():
    impact = _decide([_reader("crm_export", {"email": ["select", "filter"], "id": ["join"]})]).teams[1]
    assert impact.required
    assert "crm_export reads email (select, filter)" in impact.reason
    assert impact.readers[0]["touched"] == ["email"]


def test_a_team_whose_models_read_other_columns_only_is_informed_with_why():
    assessment = _decide([_reader("revenue", {"id": ["join"], "ltv": ["select"]})])
    assert assessment.required_ids == [] and assessment.informed_ids == [1]
    reason = assessment.teams[1].reason
    assert reason.startswith("Informed, not asked") and "id, ltv" in reason and "email" in reason


@pytest.mark.parametrize(
    ("reader", "expected"),
    [
        (
            _reader("stale", {}, known=False, message="The manifest has no compiled SQL"),
            "Usage unknown for stale",
        ),
        (_reader("broken", {}, known=False, message="The SQL could not be parsed"), "could not be parsed"),
        (_reader("everything", {"id": ["select"], "ltv": ["select"]}, star="*"), "selects * from it"),
    ],
)
def test_unknown_usage_and_select_star_are_asked(reader, expected):
    impact = _decide([reader]).teams[1]
    assert impact.required
    assert expected in impact.reason


def test_a_registration_without_any_dbt_model_is_unknown_usage_and_asked():
    impact = _decide([]).teams[1]
    assert impact.required
    assert "no dbt model of this team" in impact.reason


def test_an_asset_that_asks_everyone_asks_teams_its_change_does_not_touch():
    impact = _decide([_reader("revenue", {"id": ["join"]})], ask="all").teams[1]
    assert impact.required
    assert "meta.tessera.ask: all" in impact.reason


def test_a_change_to_the_whole_relation_touches_every_reader():
    moved = {"breaking_changes": [{"kind": "relation_moved", "column": None}]}
    impact = _decide([_reader("revenue", {"id": ["join"]})], verdict=moved).teams[1]
    assert impact.required
    assert impact.readers[0]["touched"] == ["id"]


# --- through the database: registrations, stored usage and the opening of a proposal -------------
@pytest.fixture
def story_with_usage(db):
    """dim_customers (customer_id, email, lifetime_value): marketing's model reads email;
    finance's model reads customer_id and lifetime_value only."""
    story = make_story()
    for team, name, columns in [
        (story.marketing, "crm_audience", {"email": ["select"], "customer_id": ["join"]}),
        (story.finance, "revenue_by_customer", {"customer_id": ["group"], "lifetime_value": ["select"]}),
    ]:
        project = ProjectFactory(name=f"{team.slug}-project", owner_team=team)
        model = AssetFactory(project=project, owner_team=team, name=name)
        ColumnUsage.objects.create(consumer=model, upstream=story.asset, columns=columns)
    return story


def _open(story) -> Proposal:
    return open_breaking(story, actor=SYSTEM)


def test_opening_a_proposal_asks_the_reader_of_the_removed_column_and_informs_the_other(story_with_usage):
    proposal = _open(story_with_usage)
    assert list(proposal.required_teams.values_list("slug", flat=True)) == ["marketing-analytics"]
    roles = dict(proposal.impacts.values_list("team__slug", "role"))
    assert roles == {"marketing-analytics": "required", "finance-analytics": "informed"}
    assert proposal.status == Proposal.Status.OPEN


def test_a_bi_registration_next_to_known_models_is_still_asked(story_with_usage):
    bi = TeamFactory(slug="bi-dashboards")
    story_with_usage.asset.registrations.create(team=bi, origin="manual", purpose="Looker explores")
    proposal = _open(story_with_usage)
    impact = proposal.impacts.get(team=bi)
    assert impact.role == ProposalImpact.Role.REQUIRED
    assert "Usage unknown" in impact.reason


def test_opting_out_asks_every_consumer_team(story_with_usage):
    story_with_usage.asset.meta = {"tessera": {"ask": "all"}}
    story_with_usage.asset.save(update_fields=["meta"])
    proposal = _open(story_with_usage)
    assert set(proposal.required_teams.values_list("slug", flat=True)) == {
        "marketing-analytics",
        "finance-analytics",
    }


def test_a_change_no_consumer_reads_is_published_without_waiting(story_with_usage):
    ColumnUsage.objects.filter(consumer__name="crm_audience").update(columns={"customer_id": ["join"]})
    proposal = _open(story_with_usage)
    assert proposal.required_teams.count() == 0
    assert proposal.status == Proposal.Status.PUBLISHED
    assert set(proposal.impacts.values_list("role", flat=True)) == {"informed"}


def test_informed_teams_get_an_email_that_says_no_answer_is_needed(story_with_usage, locmem_email):
    from django.core import mail

    from contracts.services.impact import proposal_informed_notify

    proposal = _open(story_with_usage)
    sent = proposal_informed_notify(proposal_id=proposal.pk)
    assert [e.team.slug for e in sent] == ["finance-analytics"]
    message = next(m for m in mail.outbox if "finance-lead@example.com" in m.to)
    assert "No answer is needed from finance-analytics" in message.body
    assert "revenue_by_customer: customer_id, lifetime_value" in message.body
    assert proposal_informed_notify(proposal_id=proposal.pk)[0].pk == sent[0].pk  # sent once
