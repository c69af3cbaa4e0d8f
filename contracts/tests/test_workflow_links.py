"""Signed answer links (GET confirms, POST records), the dashboard answer form and the DEBUG outbox."""

from __future__ import annotations

import re
import time
from urllib.parse import urlparse

import pytest
from django.core import mail, signing
from django.test import Client
from django.urls import reverse

from contracts.models import Acknowledgment, OutboundEmail, Proposal
from contracts.tasks.workflow import proposal_opened_emails_task
from contracts.tests.workflow_setup import ANSWER_LINK, open_breaking
from tessera_site.lib.signing import answer_token

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("locmem_email")]


def link_path(proposal, team, action, revision=0) -> str:
    return reverse(
        "answer_link",
        args=[answer_token(proposal_id=proposal.pk, team_id=team.pk, action=action, revision=revision)],
    )


def csrf_client() -> Client:
    return Client(enforce_csrf_checks=True)


def confirm(client: Client, path: str, **data):
    page = client.get(path)
    assert page.status_code == 200, page.content
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content).group(1).decode()
    return client.post(path, {"csrfmiddlewaretoken": token, **data})


def test_approve_link_from_the_email_get_changes_nothing_post_records(story):
    proposal = open_breaking(story)
    proposal_opened_emails_task(proposal.pk)
    message = next(m for m in mail.outbox if "marketing@example.com" in m.to)
    approve = next(u for u in ANSWER_LINK.findall(message.body) if u)
    path = urlparse(approve).path
    client = csrf_client()
    page = client.get(path)
    assert page.status_code == 200
    assert b"Confirm: Approve" in page.content and b"marketing-analytics" in page.content
    assert not Acknowledgment.objects.exists()  # a mail scanner opening the link records nothing

    done = confirm(client, path)
    assert done.status_code == 200
    assert b"answer is recorded" in done.content
    ack = Acknowledgment.objects.get(proposal=proposal, team=story.marketing)
    assert ack.answer == "approved" and ack.via == "email"
    assert ack.answered_by_label.startswith("email-link:marketing-analytics")


def test_reused_link_says_who_answered_and_when(story):
    proposal = open_breaking(story)
    path = link_path(proposal, story.marketing, "approved")
    client = csrf_client()
    confirm(client, path)
    again = client.get(path)
    assert again.status_code == 410
    assert b"Already answered" in again.content and b"email-link:marketing-analytics" in again.content
    posted = client.post(path, {})
    assert posted.status_code in (403, 410)  # CSRF or spent: never a second answer
    assert Acknowledgment.objects.get().revision == 1


def test_tampered_link_is_a_friendly_400(story):
    proposal = open_breaking(story)
    token = answer_token(proposal_id=proposal.pk, team_id=story.marketing.pk, action="approved")
    payload, stamp, signature = token.split(":")
    other_team = signing.b64_encode(
        f'{{"p":{proposal.pk},"t":{story.finance.pk},"a":"approved","r":0}}'.encode()
    ).decode()
    forged = f"{other_team}:{stamp}:{signature}"  # another team's payload under marketing's signature
    assert forged != token
    for bad in (token[:-3] + "abc", forged, "garbage", token + "x"):
        response = Client().get(reverse("answer_link", args=[bad]))
        assert response.status_code == 400, bad
        assert b"not valid" in response.content
    # a token signed for another purpose (other salt) is not an answer link either
    other = signing.dumps(
        {"p": proposal.pk, "t": story.marketing.pk, "a": "approved", "r": 0}, salt="something-else"
    )
    assert Client().get(reverse("answer_link", args=[other])).status_code == 400
    assert not Acknowledgment.objects.exists()


def test_expired_link_is_a_friendly_410(story, settings, monkeypatch):
    proposal = open_breaking(story)
    now = time.time()
    monkeypatch.setattr(signing.time, "time", lambda: now - settings.TESSERA_ANSWER_LINK_MAX_AGE - 60)
    path = link_path(proposal, story.marketing, "approved")
    monkeypatch.undo()
    response = Client().get(path)
    assert response.status_code == 410
    assert b"expired" in response.content
    assert Client().post(path).status_code in (403, 410)
    assert not Acknowledgment.objects.exists()


def test_migrating_link_asks_for_the_date_and_rerenders_without_it(story):
    proposal = open_breaking(story)
    path = link_path(proposal, story.marketing, "migrating")
    client = csrf_client()
    page = client.get(path)
    assert b'type="date" name="ready_by"' in page.content
    missing = confirm(client, path)
    assert missing.status_code == 200 and b"needs ready_by" in missing.content
    assert not Acknowledgment.objects.exists()
    done = confirm(client, path, ready_by="2099-01-31")
    assert done.status_code == 200
    assert Acknowledgment.objects.get().ready_by.isoformat() == "2099-01-31"


def test_blocked_link_asks_for_a_reason(story):
    proposal = open_breaking(story)
    path = link_path(proposal, story.finance, "blocked")
    client = csrf_client()
    assert b'name="reason"' in client.get(path).content
    confirm(client, path, reason="Revenue report selects email")
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.BLOCKED


def test_link_of_a_closed_proposal_says_so(story):
    # (Withdrawn and superseded proposals have pages of their own: test_proposal_supersession.)
    proposal = open_breaking(story)
    Proposal.objects.filter(pk=proposal.pk).update(status=Proposal.Status.EXPIRED)
    response = Client().get(link_path(proposal, story.marketing, "approved"))
    assert response.status_code == 410 and b"closed" in response.content


# --- the dashboard's answer partial -----------------------------------------------------------------
def test_dashboard_answer_requires_login(story):
    proposal = open_breaking(story)
    response = Client().post(
        reverse("proposal_answer", args=[proposal.pk]), {"team": "marketing-analytics", "answer": "approved"}
    )
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not Acknowledgment.objects.exists()


def test_dashboard_answer_by_a_stranger_is_refused(story):
    proposal = open_breaking(story)
    client = Client()
    client.force_login(story.finance_user)
    response = client.post(
        reverse("proposal_answer", args=[proposal.pk]), {"team": "marketing-analytics", "answer": "approved"}
    )
    assert response.status_code == 403
    assert not Acknowledgment.objects.exists()


def test_dashboard_answer_by_a_user_of_no_involved_team_is_404(story):
    from contracts.factories import TeamFactory, TeamMembershipFactory, UserFactory

    proposal = open_breaking(story)
    outsider = UserFactory(username="outsider")
    TeamMembershipFactory(team=TeamFactory(slug="elsewhere"), user=outsider)
    client = Client()
    client.force_login(outsider)
    response = client.post(
        reverse("proposal_answer", args=[proposal.pk]), {"team": "marketing-analytics", "answer": "approved"}
    )
    assert response.status_code == 404
    assert not Acknowledgment.objects.exists()


def test_dashboard_answer_with_htmx_returns_the_partial_and_without_js_redirects(story):
    proposal = open_breaking(story)
    client = Client()
    client.force_login(story.marketing_user)
    url = reverse("proposal_answer", args=[proposal.pk])
    partial = client.post(url, {"team": "marketing-analytics", "answer": "migrating"}, HTTP_HX_REQUEST="true")
    assert partial.status_code == 200  # invalid (no date): the fragment re-renders with the error
    assert b"needs ready_by" in partial.content and b"<html" not in partial.content
    ok = client.post(
        url,
        {"team": "marketing-analytics", "answer": "migrating", "ready_by": "2099-02-01"},
        HTTP_HX_REQUEST="true",
    )
    assert ok.status_code == 200 and b"Recorded for marketing-analytics" in ok.content
    assert "HX-Request" in ok["Vary"]
    plain = client.post(url, {"team": "marketing-analytics", "answer": "approved"})
    assert plain.status_code == 302 and plain["Location"] == proposal.get_absolute_url()
    assert Acknowledgment.objects.get().answer == "approved"


# --- the DEBUG outbox ------------------------------------------------------------------------------
def test_outbox_is_404_without_debug(story, settings):
    settings.DEBUG = False
    client = Client()
    client.force_login(story.marketing_user)
    assert client.get(reverse("outbox")).status_code == 404


def test_outbox_in_debug_shows_each_email_with_working_buttons(story, settings):
    settings.DEBUG = True
    proposal = open_breaking(story)
    proposal_opened_emails_task(proposal.pk)
    client = csrf_client()
    client.force_login(story.marketing_user)
    page = client.get(reverse("outbox"))
    assert page.status_code == 200
    for email in OutboundEmail.objects.all():
        assert email.subject.encode() in page.content.replace(b"&#x27;", b"'")
    one = OutboundEmail.objects.get(team=story.marketing)
    body = client.get(reverse("outbox_email", args=[one.pk]))
    links = ANSWER_LINK.findall(body.content.decode())
    assert len(set(links)) == 3
    approve = urlparse(links[0]).path
    confirm(client, approve)
    assert Acknowledgment.objects.get(team=story.marketing).answer == "approved"
