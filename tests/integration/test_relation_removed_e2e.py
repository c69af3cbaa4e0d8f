"""A table that disappears is a breaking change, on real parts: PostgreSQL, a Celery worker on
Redis, an SMTP server and real dbt builds of the demo projects.

core's `removed` variant (dim_customers disabled) is first checked from CI — may_merge is false —
then synced: the asset is NOT retired, a proposal asks marketing and finance ("is being
removed"); once both approve, the asset is retired, on the record.
"""

from __future__ import annotations

import pytest
from django.test import Client

from contracts.factories import api_key_for
from contracts.models import Asset, Event, Proposal
from contracts.services.apikeys import apikey_authenticate
from tessera_site.lib.auth import actor_for_key
from tests.integration.e2e_setup import demo_teams, sync_and_wait
from testsupport.fixtures import wait_for

pytestmark = [pytest.mark.integration]
CONSUMERS = ["finance-analytics", "marketing-analytics"]


def test_removed_dim_customers_asks_marketing_and_finance_before_it_is_retired(
    demo_artifacts, smtp_server, celery_worker
):
    teams = demo_teams(("data-platform", *CONSUMERS))
    _, secret = api_key_for(teams["data-platform"], scopes="read,write", name="ci")
    actor = actor_for_key(apikey_authenticate(secret))
    sync_and_wait(demo_artifacts.read_bytes(demo_artifacts.manifests["core"]), actor)
    dim = Asset.objects.get(relation="core.main.dim_customers")
    removed = demo_artifacts.read_bytes(demo_artifacts.core_removed_manifest)

    # CI first: the pull request that removes the model may not merge.
    ci = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    check = ci.post("/api/v1/sync/dbt/check", removed, content_type="application/json").json()
    assert check["may_merge"] is False
    # fct_orders loses its relationships test to dim_customers with it: a loosened guarantee, blocking too.
    assert sorted(check["blocking"]) == ["core.main.dim_customers", "core.main.fct_orders"]
    fct = next(c for c in check["changes"] if c["relation"] == "core.main.fct_orders")
    assert "relationships on customer_id" in fct["reasons"][0]
    entry = next(c for c in check["changes"] if c["relation"] == "core.main.dim_customers")
    assert entry["breaking"] is True and entry["relation_change"]["kind"] == "removed"
    assert entry["relation_change"]["why"] == "disabled"
    assert [t["team"] for t in entry["required_teams"]] == CONSUMERS
    assert check["removed"][0]["relation"] == "core.main.dim_customers"

    # Deployed: the asset stays active until its consumers answer.
    run = sync_and_wait(removed, actor)
    dim.refresh_from_db()
    assert dim.status == Asset.Status.ACTIVE
    assert run.summary["retired"] == 0
    proposal = Proposal.objects.get(asset=dim, status=Proposal.Status.OPEN)
    assert proposal.relation_change["kind"] == "removed"
    assert sorted(proposal.required_teams.values_list("slug", flat=True)) == CONSUMERS
    assert any("is being removed" in r for r in proposal.verdict["reasons"])

    def removal_emails():
        return [m for m in smtp_server.received() if "is being removed" in str(m["Subject"])]

    wait_for(lambda: len(removal_emails()) == 2, timeout=60, message="one email per consumer team")
    celery_worker.wait_idle()  # every task has run: no duplicate is on its way
    for slug in CONSUMERS:
        assert len([m for m in removal_emails() if f"{slug}@example.com" in (m["X-Envelope-To"] or "")]) == 1
    # The same deploy synced again asks nobody twice.
    sync_and_wait(removed, actor)
    celery_worker.wait_idle()  # and whatever that sync queued has run
    assert Proposal.objects.filter(asset=dim).count() == 1
    assert len(removal_emails()) == 2

    for slug in CONSUMERS:
        _, key = api_key_for(teams[slug], scopes="read,write", name=f"{slug}-ci")
        answer = Client(HTTP_AUTHORIZATION=f"Bearer {key}").post(
            f"/api/v1/proposals/{proposal.pk}/answers",
            {"team": slug, "answer": "approved"},
            content_type="application/json",
        )
        assert answer.status_code == 200, answer.content

    proposal.refresh_from_db()
    dim.refresh_from_db()
    assert proposal.status == Proposal.Status.PUBLISHED
    assert dim.status == Asset.Status.RETIRED
    retired = Event.objects.get(kind="asset.retired", asset=dim)
    assert retired.payload["why"] == "disabled"
    assert sorted(retired.payload["consumers"]) == CONSUMERS
