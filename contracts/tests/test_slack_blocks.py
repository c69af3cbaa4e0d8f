"""Block Kit builders keep Slack's limits and escape mrkdwn whatever they carry (pure: no database),
and the checker the notice tests rely on does catch broken messages."""

from __future__ import annotations

import datetime as dt

import pytest

from contracts.models import Acknowledgment, Asset, Proposal, Team
from contracts.presenters import slack as slack_blocks
from tessera_site.lib.slack import (
    RETRY_AFTER_MAX_SECONDS,
    is_permanent_refusal,
    mrkdwn_escape,
    retry_after_seconds,
    section,
    slack_refusal,
    slack_url_mask,
)
from testsupport.slack import blockkit_problems, buttons

NASTY = "<script>&amp; R&D > all |pipe| " + "x" * 4000


def _context(team_slug: str = "marketing-analytics", *, n: int = 1, pk: int = 4) -> dict:
    owner = Team(pk=1, slug="data-platform", name="Data Platform")
    team = Team(pk=2, slug=team_slug, name="Marketing")
    asset = Asset(
        pk=3, name="dim_<customers>&" + "y" * 300, relation="core.main.dim_customers", owner_team=owner
    )
    proposal = Proposal(pk=pk, asset=asset, status="open", deadline=dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
    links = [
        {"action": a, "label": label, "url": f"https://tessera.example.com/answer/tok-{a}/"}
        for a, label in (("approved", "Approve"), ("migrating", "Need time"), ("blocked", "Block"))
    ]
    return {
        "proposal": proposal,
        "asset": asset,
        "owner": owner,
        "team": team,
        "links": links,
        "reasons": [NASTY] * n,
        "proposal_url": "https://tessera.example.com/proposals/4/?a=1&b=<2>",
        "base_semver": "1.0.0",
        "proposed_semver": "2.0.0",
        "deployed": True,
        "relation_change": {"kind": "moved", "to": "core.<new>.dim"},
        "other_teams": [Team(slug="finance-analytics")],
    }


def test_long_and_hostile_values_stay_within_block_kit_limits_and_are_escaped():
    message = slack_blocks.proposal_opened_message(_context(n=30))
    assert blockkit_problems(message) == []
    text = str(message)
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert all(len(b["text"]["text"]) <= 150 for b in message["blocks"] if b["type"] == "header")


def test_a_digest_of_many_proposals_fits_in_fifty_blocks_and_says_how_many_more():
    items = [_context(pk=pk) for pk in range(1, 41)]
    message = slack_blocks.reminder_digest_message(
        team=items[0]["team"],
        items=items,
        today=dt.date(2030, 1, 1),
        team_url="https://t.example.com/teams/m/",
    )
    assert blockkit_problems(message) == []
    assert len(message["blocks"]) <= 50
    assert "and 25 more" in str(message["blocks"][-1])


def test_the_checker_catches_what_slack_refuses():
    assert blockkit_problems({"text": "x", "blocks": [section("ok")]}) == []
    assert blockkit_problems(
        {"text": "x", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "a < b"}}]}
    )
    assert blockkit_problems(
        {"text": "x", "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}]}
    )
    assert blockkit_problems({"text": "x", "blocks": [section("a")] * 51})
    assert blockkit_problems({"text": "x", "blocks": []})
    too_long = {
        "type": "button",
        "text": {"type": "plain_text", "text": "b" * 76},
        "url": "https://x",
        "action_id": "a",
    }
    assert blockkit_problems({"text": "x", "blocks": [{"type": "actions", "elements": [too_long]}]})


def test_answered_resolved_and_deprecation_messages_are_valid():
    ctx = _context()
    ack = Acknowledgment(team=ctx["team"], answer="blocked", reason=NASTY, ready_by=None)
    answered = slack_blocks.answer_recorded_message({**ctx, "ack": ack, "answers": [ack], "waiting": []})
    resolved = slack_blocks.proposal_resolved_message({**ctx, "active_semver": "1.0.0"})
    deprecation = slack_blocks.deprecation_reminder_message(
        team=ctx["team"],
        model="dim_products",
        version="1",
        deprecation_date=dt.date(2030, 3, 1),
        days_left=0,
        campaign_url="https://tessera.example.com/deprecations/1/",
        latest_version="2",
    )
    for message in (answered, resolved, deprecation):
        assert blockkit_problems(message) == [], message
    assert "deprecated today" in deprecation["text"]
    assert [b["url"] for b in buttons(deprecation)] == ["https://tessera.example.com/deprecations/1/"]


@pytest.mark.parametrize(
    ("url", "masked"),
    [("https://hooks.slack.com/services/T0/B0/abcdefXq9z", "https://hooks.slack.com/…Xq9z"), ("", "")],
)
def test_a_webhook_url_is_shown_masked(url, masked):
    assert slack_url_mask(url) == masked


def test_mrkdwn_escape_only_touches_the_three_characters():
    assert mrkdwn_escape("a & <b> 'c' \"d\"") == "a &amp; &lt;b&gt; 'c' \"d\""


def test_the_deprecation_reminder_reads_the_emails_context():
    from types import SimpleNamespace

    team = Team(pk=2, slug="marketing-analytics")
    message = slack_blocks.deprecation_reminder_for(
        {
            "campaign": SimpleNamespace(deprecation_date=dt.date(2036, 6, 30)),
            "asset": SimpleNamespace(name="dim_products", model_version=1),
            "latest": SimpleNamespace(model_version=2),
            "team": team,
            "models": ["int_product_catalogue"],
            "days_left": 7,
            "campaign_url": "https://tessera.example.com/deprecations/3/",
        }
    )
    assert blockkit_problems(message) == []
    assert message["blocks"][0]["text"]["text"] == "dim_products v1 is deprecated in 7 days"
    assert "Move to version 2" in str(message["blocks"]) and "int_product_catalogue" in str(message["blocks"])


def test_retry_after_reads_seconds_and_http_dates_and_caps_them():
    assert retry_after_seconds("30") == 30
    assert retry_after_seconds("999999") == RETRY_AFTER_MAX_SECONDS
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412420.0) == 60
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


def test_only_final_4xx_refusals_are_permanent_and_explained():
    assert [is_permanent_refusal(c) for c in (400, 403, 404, 410, 408, 429, 500, 503, None)] == [
        *[True] * 4,
        *[False] * 5,
    ]
    assert slack_refusal(status_code=404, error="SlackPostFailed: HTTP 404 no_service") == (
        "Slack refused: no_service — reconnect the webhook"
    )
    assert slack_refusal(status_code=500, error="SlackPostFailed: HTTP 500 internal_error") == ""
