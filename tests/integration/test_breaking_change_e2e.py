"""The whole acknowledgment story on real parts: PostgreSQL, a Celery worker on Redis, an SMTP
server, real dbt artifacts of the demo projects.

core's breaking variant is synced → every consumer team of dim_customers gets exactly one email →
marketing clicks Approve in its email (GET changes nothing, POST confirms) → finance answers
through the API → the proposal publishes v2.0.0 → the producer receives the resolution email.
"""

from __future__ import annotations

import re
from email.message import Message
from urllib.parse import urlparse

import pytest
from django.test import Client

from contracts.factories import api_key_for
from contracts.models import Acknowledgment, Asset, OutboundEmail, Proposal
from tessera_site.lib.auth import actor_for_key
from tests.integration.e2e_setup import demo_teams, sync_and_wait
from testsupport.fixtures import wait_for

pytestmark = [pytest.mark.integration]

LINK = re.compile(r"https?://\S+/answer/[^\s/]+/")


def _text(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode()
    raise AssertionError("no text part")


def _html(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/html":
            return part.get_payload(decode=True).decode()
    raise AssertionError("no html part")


def _to(message: Message) -> str:
    return message["X-Envelope-To"] or ""


def test_breaking_sync_to_published_major_version_with_emails_links_and_api(
    demo_artifacts, smtp_server, celery_worker
):
    teams = demo_teams(("data-platform", "marketing-analytics", "finance-analytics"), password="x")
    _, platform_secret = api_key_for(teams["data-platform"], scopes="read,write", name="ci")
    from contracts.services.apikeys import apikey_authenticate

    actor = actor_for_key(apikey_authenticate(platform_secret))
    sync_and_wait(demo_artifacts.read_bytes(demo_artifacts.manifests["core"]), actor)
    dim = Asset.objects.get(relation="core.main.dim_customers")
    base_semver = dim.active_version.semver
    assert smtp_server.received() == []  # compatible first sync: nobody is asked anything

    sync_and_wait(demo_artifacts.read_bytes(demo_artifacts.core_breaking_manifest), actor)
    proposal = Proposal.objects.get(asset=dim, status=Proposal.Status.OPEN)
    assert proposal.origin == "sync"
    assert sorted(proposal.required_teams.values_list("slug", flat=True)) == [
        "finance-analytics",
        "marketing-analytics",
    ]

    def opened_for(slug):
        return [
            m
            for m in smtp_server.received()
            if f"{slug}@example.com" in _to(m)
            and "dim_customers" in m["Subject"]
            and "Breaking" in m["Subject"]
        ]

    wait_for(
        lambda: opened_for("marketing-analytics") and opened_for("finance-analytics"),
        timeout=60,
        message="the proposal-opened emails",
    )
    # Every open proposal: one email per required team, no more (no duplicates across retries).
    expected = sum(
        p.required_teams.count() for p in Proposal.objects.filter(status__in=Proposal.OPEN_STATUSES)
    )
    wait_for(
        lambda: OutboundEmail.objects.filter(kind="proposal_opened", status="sent").count() == expected,
        timeout=60,
        message="every proposal-opened email",
    )
    celery_worker.wait_idle()  # every task has run, and every task those queued: no duplicate is on its way
    assert OutboundEmail.objects.filter(kind="proposal_opened").count() == expected
    assert len([m for m in smtp_server.received() if "Breaking" in m["Subject"]]) == expected
    assert len(opened_for("marketing-analytics")) == 1 and len(opened_for("finance-analytics")) == 1
    assert not [m for m in smtp_server.received() if "data-platform@example.com" in _to(m)]

    message = opened_for("marketing-analytics")[0]
    text = _text(message)
    assert "ALREADY DEPLOYED" in text
    assert "country_code" in text  # the verdict's reason names the dropped column
    assert "Also asked: finance-analytics" in text
    assert "marketing-analytics-lead@example.com" in _to(message)
    approve_url = next(u for u in LINK.findall(text) if u in _html(message))
    assert "Approve: " + approve_url in text

    browser = Client(enforce_csrf_checks=True)
    path = urlparse(approve_url).path
    page = browser.get(path)
    assert page.status_code == 200 and b"Confirm: Approve" in page.content
    assert not Acknowledgment.objects.filter(proposal=proposal).exists()  # GET changed nothing
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content).group(1).decode()
    done = browser.post(path, {"csrfmiddlewaretoken": token})
    assert done.status_code == 200 and b"answer is recorded" in done.content
    ack = Acknowledgment.objects.get(proposal=proposal, team=teams["marketing-analytics"])
    assert (ack.answer, ack.via) == ("approved", "email")

    _, finance_secret = api_key_for(teams["finance-analytics"], scopes="read,write", name="finance-ci")
    response = Client(HTTP_AUTHORIZATION=f"Bearer {finance_secret}").post(
        f"/api/v1/proposals/{proposal.pk}/answers",
        {"team": "finance-analytics", "answer": "approved"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["proposal"]["status"] == "published"

    proposal.refresh_from_db()
    dim.refresh_from_db()
    assert proposal.status == Proposal.Status.PUBLISHED
    assert dim.active_version_id == proposal.proposed_version_id
    assert int(dim.active_version.semver.split(".")[0]) == int(base_semver.split(".")[0]) + 1
    assert dim.registrations.filter(team=teams["marketing-analytics"]).exists()  # carried over

    def resolution_to_producer():
        return [
            m
            for m in smtp_server.received()
            if "data-platform@example.com" in _to(m)
            and f"proposal #{proposal.pk} published" in str(m["Subject"]).lower()
        ]

    resolved = wait_for(resolution_to_producer, timeout=60, message="the producer's resolution email")
    assert len(resolved) == 1
    assert dim.active_version.semver in _text(resolved[0])
    # the producer was also told about each answer, once each
    wait_for(
        lambda: (
            OutboundEmail.objects.filter(kind="answer_recorded", proposal=proposal, status="sent").count()
            == 2
        ),
        timeout=60,
        message="the answer-recorded emails",
    )
    # the emails came from the outbox, through the worker
    assert "Task contracts.tasks_workflow.outbox_dispatch_task[" in celery_worker.log()
