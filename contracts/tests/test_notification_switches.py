"""Per team, per kind of notice, per channel: switches that the email, Slack and webhook senders
obey (real SMTP server, real local Slack receiver), and the expiring warning they apply to."""

from __future__ import annotations

import datetime as dt

import pytest

from contracts.factories import TeamFactory, api_key_for
from contracts.models import (
    Event,
    NotificationSwitch,
    SlackMessage,
    SlackWebhook,
    WebhookDelivery,
)
from contracts.selectors.notifications import team_notification_settings
from contracts.services.expiring import proposal_expiring_warn
from contracts.services.notification_settings import (
    notification_switches_set,
    slack_url_clean,
    slack_webhook_remove,
    slack_webhook_set,
)
from contracts.services.proposals.answering import acknowledgment_record
from contracts.tests.workflow_setup import make_story, open_breaking, run_outbox_all
from tessera_site.lib.auth import actor_for_key
from tessera_site.lib.errors import InvalidInput, PermissionDenied
from testsupport.slack import SlackReceiver, blockkit_problems, buttons

pytestmark = pytest.mark.django_db


@pytest.fixture
def story():
    return make_story()


def mail_to(smtp_server, address: str) -> list:
    return [m for m in smtp_server.received() if address in m["X-Envelope-To"]]


def test_every_switch_is_on_until_the_team_turns_it_off(story):
    settings = team_notification_settings(team=story.marketing)
    assert settings["configured"] == {"email": True, "slack": False, "webhook": False}
    rows = {r["kind"]: r["channels"] for r in settings["rows"]}
    assert rows["proposal_opened"] == {"email": True, "slack": True, "webhook": True}
    assert rows["proposal_reminder"] == {"email": True, "slack": True, "webhook": None}  # no event to send


def test_a_kind_switched_off_for_slack_still_sends_its_email(
    story, smtp_server, django_capture_on_commit_callbacks
):
    notification_switches_set(
        team=story.marketing,
        changes=[("proposal_opened", "slack", False)],
        actor=story.actor(story.marketing_user),
    )
    with SlackReceiver() as receiver:
        SlackWebhook.objects.create(team=story.marketing, url=receiver.url("/hooks/marketing"))
        SlackWebhook.objects.create(team=story.finance, url=receiver.url("/hooks/finance"))
        with django_capture_on_commit_callbacks(execute=True):
            open_breaking(story)
        run_outbox_all()
        assert receiver.delivered("/hooks/marketing") == []
        assert len(receiver.delivered("/hooks/finance")) == 1
    assert len(mail_to(smtp_server, "marketing@example.com")) == 1
    assert len(mail_to(smtp_server, "finance-lead@example.com")) == 1
    assert list(SlackMessage.objects.values_list("team__slug", flat=True)) == ["finance-analytics"]


def test_a_kind_switched_off_for_email_still_posts_to_slack(
    story, smtp_server, django_capture_on_commit_callbacks
):
    notification_switches_set(
        team=story.finance,
        changes=[("proposal_opened", "email", False)],
        actor=story.actor(story.finance_user),
    )
    with SlackReceiver() as receiver:
        SlackWebhook.objects.create(team=story.finance, url=receiver.url("/hooks/finance"))
        with django_capture_on_commit_callbacks(execute=True):
            proposal = open_breaking(story)
        run_outbox_all()
        assert len(receiver.delivered("/hooks/finance")) == 1
    assert mail_to(smtp_server, "finance-lead@example.com") == []
    assert len(mail_to(smtp_server, "marketing@example.com")) == 1
    # Other kinds still email finance: the switch is per kind.
    acknowledgment_record(
        proposal=proposal,
        team=story.marketing,
        answer="approved",
        actor=story.actor(story.marketing_user),
        via="api",
    )
    notification_switches_set(
        team=story.producer,
        changes=[("proposal_answered", "email", False)],
        actor=story.actor(story.producer_lead),
    )
    run_outbox_all()
    assert mail_to(smtp_server, "platform@example.com") == []


def test_a_kind_switched_off_for_webhooks_is_not_delivered_to_the_team_endpoint(
    story, django_capture_on_commit_callbacks
):
    from contracts.models import WebhookEndpoint

    marketing_hook = WebhookEndpoint.objects.create(
        url="http://127.0.0.1:9/m", secret="s", team=story.marketing
    )
    global_hook = WebhookEndpoint.objects.create(url="http://127.0.0.1:9/all", secret="s")
    notification_switches_set(
        team=story.marketing,
        changes=[("proposal_opened", "webhook", False)],
        actor=story.actor(story.marketing_user),
    )
    with django_capture_on_commit_callbacks(execute=True):
        proposal = open_breaking(story)
    with django_capture_on_commit_callbacks(execute=True):
        acknowledgment_record(
            proposal=proposal,
            team=story.marketing,
            answer="approved",
            actor=story.actor(story.marketing_user),
            via="api",
        )
    run_outbox_all()
    opened = proposal.events.get(kind="proposal.opened")
    answered = proposal.events.get(kind="proposal.answered")
    assert set(WebhookDelivery.objects.filter(event=opened).values_list("endpoint_id", flat=True)) == {
        global_hook.pk
    }
    assert marketing_hook.pk in set(
        WebhookDelivery.objects.filter(event=answered).values_list("endpoint_id", flat=True)
    )


def test_teams_without_approval_are_warned_once_before_the_deadline_on_their_channels(
    story, smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        proposal = open_breaking(story)
    acknowledgment_record(
        proposal=proposal,
        team=story.marketing,
        answer="approved",
        actor=story.actor(story.marketing_user),
        via="api",
    )
    run_outbox_all()
    before = len(smtp_server.received())
    notification_switches_set(
        team=story.finance,
        changes=[("proposal_expiring", "email", False)],
        actor=story.actor(story.finance_user),
    )
    with SlackReceiver() as receiver:
        SlackWebhook.objects.create(team=story.finance, url=receiver.url("/hooks/finance"))
        assert proposal_expiring_warn(now=proposal.deadline - dt.timedelta(hours=72)) == []  # not yet
        warned_at = proposal.deadline - dt.timedelta(hours=47)
        with django_capture_on_commit_callbacks(execute=True):
            assert proposal_expiring_warn(now=warned_at) == [proposal.pk]
            assert proposal_expiring_warn(now=warned_at + dt.timedelta(hours=1)) == []  # once
        run_outbox_all()
        (post,) = receiver.delivered("/hooks/finance")
    assert blockkit_problems(post["json"]) == []
    assert "expires soon" in post["json"]["text"]
    assert {
        b["action_id"].rsplit("-", 1)[1]
        for b in buttons(post["json"])
        if b["action_id"].startswith("answer-")
    } == {
        "approved",
        "migrating",
        "blocked",
    }
    assert len(smtp_server.received()) == before  # finance turned expiring emails off; marketing approved
    event = Event.objects.get(kind="proposal.expiring", proposal=proposal)
    assert event.payload["without_approval_of"] == ["finance-analytics"]


def test_switches_are_checked_and_changed_only_by_the_team_itself(story):
    other_key, _ = api_key_for(TeamFactory(slug="outsiders"), scopes="read,write,admin")
    with pytest.raises(PermissionDenied):
        notification_switches_set(
            team=story.marketing,
            changes=[("proposal_opened", "email", False)],
            actor=actor_for_key(other_key),
        )
    with pytest.raises(PermissionDenied):
        slack_webhook_set(
            team=story.marketing, url="https://hooks.slack.com/services/T/B/x", actor=actor_for_key(other_key)
        )
    actor = story.actor(story.marketing_user)
    for changes in (
        [("nope", "email", False)],
        [("proposal_reminder", "webhook", False)],
        [("audit_failed", "sms", False)],
    ):
        with pytest.raises(InvalidInput) as bad:
            notification_switches_set(
                team=story.marketing, changes=[("asset_retired", "email", False), *changes], actor=actor
            )
        assert type(bad.value) is InvalidInput
    assert not NotificationSwitch.objects.exists()  # all or nothing
    changed = notification_switches_set(
        team=story.marketing,
        changes=[("audit_failed", "slack", False), ("audit_failed", "email", True)],
        actor=actor,
    )
    assert changed == [{"kind": "audit_failed", "channel": "slack", "enabled": False}]  # email was on already
    assert Event.objects.filter(kind="team.notifications_changed", team=story.marketing).count() == 1


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.slack.com/services/T/B/x",
        "https://localhost/hook",
        "https://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "https://[::1]/hook",
        "https://169.254.169.254/latest",
        "https://user:pw@hooks.slack.com/services/T/B/x",
        "https://intranet/hook",
        "ftp://hooks.slack.com/x",
        "not a url",
        "",
    ],
)
def test_a_slack_url_must_be_https_to_a_public_host(url):
    with pytest.raises(InvalidInput) as bad:
        slack_url_clean(url)
    assert bad.value.code == "invalid_url"


def test_connecting_and_disconnecting_slack_is_recorded_with_the_url_masked(story):
    actor = story.actor(story.marketing_user)
    url = "https://hooks.slack.com/services/T0001/B0001/abcdefghijklmnopXq9z"
    slack_webhook_set(team=story.marketing, url=f"  {url} ", actor=actor)
    assert SlackWebhook.objects.get(team=story.marketing).url == url
    connected = Event.objects.get(kind="team.slack_connected")
    assert connected.payload["url"] == "https://hooks.slack.com/…Xq9z" and url not in str(connected.payload)
    assert slack_webhook_remove(team=story.marketing, actor=actor) is True
    assert not SlackWebhook.objects.exists()
    assert Event.objects.filter(kind="team.slack_disconnected").count() == 1


def test_a_deprecation_reminder_goes_by_email_and_slack_unless_switched_off(story, smtp_server):
    from contracts.factories import AssetFactory
    from contracts.models import DeprecationCampaign
    from contracts.services.deprecations import deprecation_reminder_notify

    project, owner = story.asset.project, story.producer
    v1 = AssetFactory(
        project=project,
        owner_team=owner,
        name="dim_products",
        relation="core.main.dim_products_v1",
        model_version="1",
        latest_version="2",
        deprecation_date=dt.date(2036, 6, 30),
    )
    AssetFactory(
        project=project,
        owner_team=owner,
        name="dim_products",
        relation="core.main.dim_products_v2",
        model_version="2",
        latest_version="2",
    )
    campaign = DeprecationCampaign.objects.create(asset=v1, deprecation_date=dt.date(2036, 6, 30))
    with SlackReceiver() as receiver:
        SlackWebhook.objects.create(team=story.marketing, url=receiver.url("/hooks/marketing"))
        SlackWebhook.objects.create(team=story.finance, url=receiver.url("/hooks/finance"))
        notification_switches_set(
            team=story.finance,
            changes=[("deprecation_reminder", "slack", False)],
            actor=story.actor(story.finance_user),
        )
        for team in (story.marketing, story.finance):
            deprecation_reminder_notify(campaign_id=campaign.pk, team_id=team.pk, days_before=7, days_left=7)
        run_outbox_all()
        (post,) = receiver.delivered("/hooks/marketing")
        assert receiver.delivered("/hooks/finance") == []
    assert blockkit_problems(post["json"]) == []
    assert post["json"]["blocks"][0]["text"]["text"] == "dim_products v1 is deprecated in 7 days"
    (button,) = buttons(post["json"])
    assert button["url"].endswith(campaign.get_absolute_url())
    assert len(mail_to(smtp_server, "marketing@example.com")) == 1
    assert len(mail_to(smtp_server, "finance-lead@example.com")) == 1  # finance keeps the email
