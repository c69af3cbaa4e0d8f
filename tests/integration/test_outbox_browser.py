"""In DEBUG, the outbox shows each email and its buttons work in a real browser (Chromium):
the Approve button inside the previewed email opens the confirmation page, which records."""

from __future__ import annotations

import pytest

from contracts.models import Acknowledgment, OutboundEmail
from contracts.tasks.workflow import proposal_opened_emails_task
from contracts.tests.workflow_setup import make_story, open_breaking

pytestmark = [pytest.mark.integration, pytest.mark.browser]


@pytest.fixture
def page(browser):
    context = browser.new_context()
    yield context.new_page()
    context.close()


def test_outbox_buttons_answer_the_proposal(transactional_db, live_server, settings, page):
    settings.DEBUG = True
    settings.TESSERA_BASE_URL = live_server.url
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    story = make_story()
    proposal = open_breaking(story)
    proposal_opened_emails_task(proposal.pk)
    assert OutboundEmail.objects.filter(status="sent").count() == 2

    page.goto(f"{live_server.url}/outbox/")
    assert page.locator("article.outbox-email").count() == 2
    email = page.locator("article.outbox-email[data-team='marketing-analytics']")
    assert "dim_customers" in email.locator(".email-subject").inner_text()
    frame = page.frame_locator("article.outbox-email[data-team='marketing-analytics'] iframe.email-frame")
    frame.get_by_role("link", name="Approve").click()

    page.wait_for_url("**/answer/**")
    assert "Confirm: Approve" in page.content()
    assert not Acknowledgment.objects.exists()  # opening the link recorded nothing
    page.get_by_role("button", name="Confirm: Approve").click()
    page.wait_for_selector("text=answer is recorded")
    ack = Acknowledgment.objects.get(proposal=proposal)
    assert (ack.team_id, ack.answer, ack.via) == (story.marketing.pk, "approved", "email")
