"""The notification settings page in a real browser (Chromium): htmx swaps the saved switches and
the Slack form in place, with the CSRF token, and the URL is shown masked afterwards."""

from __future__ import annotations

import pytest

from tests.browser.conftest import PASSWORD, log_in, shot

pytestmark = [pytest.mark.browser]

URL = "https://hooks.slack.com/services/T0001/B0001/abcdefghijklmnopXq9z"


@pytest.fixture
def member(transactional_db):
    from django.contrib.auth import get_user_model

    from contracts.factories import TeamFactory
    from contracts.models import TeamMembership

    team = TeamFactory(slug="marketing-analytics", name="Marketing Analytics", email="m@example.com")
    user = get_user_model().objects.create_user("marketing-lead", "marketing-lead@example.com", PASSWORD)
    TeamMembership.objects.create(team=team, user=user, role=TeamMembership.Role.LEAD)
    return team


def test_a_member_connects_slack_and_switches_a_notice_off_in_place(browser, live_server, member):
    from contracts.models import NotificationSwitch, SlackWebhook

    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    try:
        log_in(page, live_server.url, "marketing-lead")
        page.goto(f"{live_server.url}/teams/{member.slug}/")
        page.get_by_role("link", name="Notification settings").click()
        page.wait_for_url("**/notifications/")

        page.fill("#slack-url", "https://127.0.0.1/hook")
        page.get_by_role("button", name="Connect Slack").click()
        page.locator("#slack .error").wait_for()
        assert "public" in page.locator("#slack .error").inner_text()
        assert not SlackWebhook.objects.exists()

        page.fill("#slack-url", URL)
        page.get_by_role("button", name="Connect Slack").click()
        page.locator("#slack code.slack-url").wait_for()
        assert page.locator("#slack code.slack-url").inner_text() == "https://hooks.slack.com/…Xq9z"
        assert URL not in page.content()
        assert SlackWebhook.objects.get(team=member).url == URL

        page.get_by_label("Audits of assets your team uses failed: slack").uncheck()
        page.get_by_role("button", name="Save switches").click()
        page.locator("#switches .msg.success").wait_for()
        shot(page, "team-notifications")
        assert not page.get_by_label("Audits of assets your team uses failed: slack").is_checked()
        assert page.get_by_label("Audits of assets your team uses failed: email").is_checked()
        assert list(NotificationSwitch.objects.values_list("kind", "channel", "enabled")) == [
            ("audit_failed", "slack", False)
        ]
        page.reload()
        assert not page.get_by_label("Audits of assets your team uses failed: slack").is_checked()
    finally:
        context.close()
