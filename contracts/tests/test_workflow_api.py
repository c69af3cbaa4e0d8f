"""The proposals API: list, detail with answer history, answer, withdraw, force; keys act for their team only."""

from __future__ import annotations

import pytest
from django.test import Client

from contracts.factories import api_key_for
from contracts.models import Acknowledgment, Proposal
from contracts.tests.workflow_setup import open_breaking

pytestmark = pytest.mark.django_db


def client_for(team, scopes="read,write") -> Client:
    _, secret = api_key_for(team, scopes=scopes, name=f"k-{scopes}")
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


def post(client, path, body=None):
    return client.post(path, body if body is not None else {}, content_type="application/json")


def test_consumer_answers_through_the_api_and_sees_history(story):
    proposal = open_breaking(story)
    marketing = client_for(story.marketing)
    url = f"/api/v1/proposals/{proposal.pk}/answers"
    first = post(
        marketing,
        url,
        {"team": "marketing-analytics", "answer": "blocked", "reason": "churn model needs email"},
    )
    assert first.status_code == 200, first.content
    assert first.json()["proposal"]["status"] == "blocked"
    second = post(marketing, url, {"team": "marketing-analytics", "answer": "approved"})
    assert second.json()["answer"]["revision"] == 2

    detail = marketing.get(f"/api/v1/proposals/{proposal.pk}").json()
    assert detail["status"] == "open"
    assert detail["required_teams"] == ["finance-analytics", "marketing-analytics"]
    assert detail["waiting_for"] == ["finance-analytics"]
    assert detail["already_deployed"] is True
    assert any("email" in r for r in detail["reasons"])
    team_rows = {t["team"]: t for t in detail["teams"]}
    assert [h["answer"] for h in team_rows["marketing-analytics"]["history"]] == ["blocked", "approved"]
    assert team_rows["finance-analytics"]["answer"] is None


def test_a_key_cannot_answer_for_another_team(story):
    proposal = open_breaking(story)
    response = post(
        client_for(story.marketing),
        f"/api/v1/proposals/{proposal.pk}/answers",
        {"team": "finance-analytics", "answer": "approved"},
    )
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"
    assert not Acknowledgment.objects.exists()


def test_a_read_key_cannot_answer(story):
    proposal = open_breaking(story)
    response = post(
        client_for(story.marketing, scopes="read"),
        f"/api/v1/proposals/{proposal.pk}/answers",
        {"team": "marketing-analytics", "answer": "approved"},
    )
    assert response.status_code == 403
    assert not Acknowledgment.objects.exists()


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"team": "marketing-analytics", "answer": "maybe"}, 400, "invalid_answer"),
        ({"team": "marketing-analytics", "answer": "migrating"}, 400, "ready_by_required"),
        ({"team": "marketing-analytics", "answer": "migrating", "ready_by": "soon"}, 422, "validation_error"),
        ({"team": "marketing-analytics", "answer": "blocked"}, 400, "reason_required"),
        ({"team": "nobody", "answer": "approved"}, 400, "unknown_team"),
        ({"answer": "approved"}, 422, "validation_error"),
    ],
)
def test_bad_answers_get_a_clear_4xx_and_change_nothing(story, body, status, code):
    proposal = open_breaking(story)
    response = post(client_for(story.marketing), f"/api/v1/proposals/{proposal.pk}/answers", body)
    assert response.status_code == status, response.content
    assert response.json()["error"] == code
    assert not Acknowledgment.objects.exists()


def test_unknown_proposal_is_404(story):
    response = client_for(story.marketing).get("/api/v1/proposals/999999")
    assert response.status_code == 404


def test_list_with_team_gives_that_teams_pending_answers(story):
    proposal = open_breaking(story)
    marketing = client_for(story.marketing)
    pending = marketing.get("/api/v1/proposals?team=marketing-analytics").json()
    assert [p["id"] for p in pending["items"]] == [proposal.pk]
    post(
        marketing,
        f"/api/v1/proposals/{proposal.pk}/answers",
        {"team": "marketing-analytics", "answer": "approved"},
    )
    assert marketing.get("/api/v1/proposals?team=marketing-analytics").json()["items"] == []
    assert [p["id"] for p in marketing.get("/api/v1/proposals?team=finance-analytics").json()["items"]] == [
        proposal.pk
    ]
    assert [p["id"] for p in marketing.get("/api/v1/proposals?status=open").json()["items"]] == [proposal.pk]
    assert marketing.get("/api/v1/proposals?status=published").json()["items"] == []
    assert marketing.get("/api/v1/proposals?status=bogus").status_code == 400


def test_withdraw_by_a_consumer_is_403_by_the_producer_ok(story):
    proposal = open_breaking(story)
    url = f"/api/v1/proposals/{proposal.pk}/withdraw"
    assert post(client_for(story.marketing), url).status_code == 403
    response = post(client_for(story.producer), url, {"reason": "rename instead"})
    assert response.status_code == 200
    assert response.json()["status"] == "withdrawn"
    assert post(client_for(story.producer, scopes="read,write"), url).status_code == 409


def test_force_needs_a_reason_and_an_admin_key_of_the_producer(story):
    proposal = open_breaking(story)
    url = f"/api/v1/proposals/{proposal.pk}/force"
    admin = client_for(story.producer, scopes="admin")
    missing = post(admin, url, {})
    assert missing.status_code == 400 and missing.json()["error"] == "reason_required"
    assert post(client_for(story.producer, scopes="read,write"), url, {"reason": "now"}).status_code == 403
    assert post(client_for(story.marketing, scopes="admin"), url, {"reason": "now"}).status_code == 403
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.OPEN
    forced = post(admin, url, {"reason": "legal hold on email"})
    assert forced.status_code == 200
    assert forced.json()["status"] == "forced"
    story.asset.refresh_from_db()
    assert story.asset.active_version.semver == "2.0.0"


def test_answers_via_api_publish_when_all_approve(story):
    proposal = open_breaking(story)
    url = f"/api/v1/proposals/{proposal.pk}/answers"
    post(client_for(story.marketing), url, {"team": "marketing-analytics", "answer": "approved"})
    last = post(client_for(story.finance), url, {"team": "finance-analytics", "answer": "approved"})
    assert last.json()["proposal"]["status"] == "published"
    assert last.json()["proposal"]["proposed_version"] == "2.0.0"
