"""Retired assets (SPEC §4): the sync tells each consumer team once, by email, through real SMTP.

A real dbt manifest is synced, consumer teams are registered, and the same manifest without some
models is synced again; the task the sync enqueues on commit sends the emails to an aiosmtpd server.
"""

from __future__ import annotations

from email.message import Message
from pathlib import Path

import orjson
import pytest

from contracts.factories import TeamFactory, TeamMembershipFactory, UserFactory
from contracts.models import Asset, OutboundEmail, OutboxMessage, SyncRun
from contracts.services.registrations import registration_add
from contracts.services.sync import sync_submit
from contracts.tasks.sync import sync_run_task
from contracts.tasks.workflow import assets_retired_emails_task
from tessera_site.lib.auth import Actor
from tessera_site.lib.urls import absolute_url

pytestmark = pytest.mark.django_db

MANIFEST = Path(__file__).parent / "fixtures" / "manifest_v12_jaffle_shop_dbt1.11.json"
OPEN = Actor(label="test-open", is_open=True, scopes=("read", "write", "admin"))
RETIRED = ("model.jaffle_shop.customers", "model.jaffle_shop.orders")


def _submit(manifest: bytes) -> SyncRun:
    return sync_submit(manifest=manifest, team_slug="jaffle", actor=OPEN)


def _without(*unique_ids: str) -> bytes:
    doc = orjson.loads(MANIFEST.read_bytes())
    for unique_id in unique_ids:
        del doc["nodes"][unique_id]
    return orjson.dumps(doc)


def _asset(unique_id: str) -> Asset:
    return Asset.objects.get(unique_id=unique_id)


def _to(message: Message) -> set[str]:
    return {a.strip() for a in message["X-Envelope-To"].split(",")}


def _text(message: Message) -> str:
    return (
        next(p for p in message.walk() if p.get_content_type() == "text/plain")
        .get_payload(decode=True)
        .decode()
    )


def _html(message: Message) -> str:
    return (
        next(p for p in message.walk() if p.get_content_type() == "text/html")
        .get_payload(decode=True)
        .decode()
    )


@pytest.fixture
def shop():
    """jaffle_shop synced for team 'jaffle'; 'growth' reads customers and orders, 'finance' products."""
    owner = TeamFactory(slug="jaffle", email="jaffle@example.com")
    TeamMembershipFactory(
        team=owner, user=UserFactory(username="jaffle-lead", email="jaffle-lead@example.com")
    )
    run = _submit(MANIFEST.read_bytes())
    assert sync_run_task(run.pk) == "succeeded"
    growth = TeamFactory(slug="growth", email="growth@example.com")
    TeamMembershipFactory(
        team=growth, user=UserFactory(username="growth-lead", email="growth-lead@example.com")
    )
    finance = TeamFactory(slug="finance", email="finance@example.com")
    registration_add(asset=_asset("model.jaffle_shop.customers"), team=growth, purpose="Churn model")
    registration_add(asset=_asset("model.jaffle_shop.orders"), team=growth, origin="explicit")
    registration_add(asset=_asset("model.jaffle_shop.products"), team=finance, purpose="Margins")
    # Under forward mode a removed relation breaks nothing: it retires at once and its consumers are
    # told by email. (Under backward they are asked first: contracts/tests/test_relation_changes.py.)
    Asset.objects.filter(project__isnull=False).update(compatibility_mode="forward")
    return owner, growth, finance


def test_retiring_assets_emails_each_consumer_team_once_listing_every_asset_it_reads(
    shop, smtp_server, celery_eager, django_capture_on_commit_callbacks
):
    owner, growth, finance = shop
    run = _submit(_without(*RETIRED))
    with django_capture_on_commit_callbacks(execute=True):
        assert sync_run_task(run.pk) == "succeeded"

    customers, orders = (_asset(u) for u in RETIRED)
    assert customers.status == orders.status == "retired"
    # One outbox message for the whole sync run, recorded with it, carrying the retired assets' ids.
    [message] = OutboxMessage.objects.filter(kind="email.assets_retired")
    assert (message.args["sync_run_id"], sorted(message.args["asset_ids"])) == (
        run.pk,
        sorted([customers.pk, orders.pk]),
    )
    assert message.status == OutboxMessage.Status.SENT
    [message] = smtp_server.received()  # growth only: finance reads products, the owner is no consumer
    assert _to(message) == {"growth@example.com", "growth-lead@example.com"}
    assert message["X-Tessera-Email"] == "asset_retired"
    assert "2 assets growth consumes were retired" in message["Subject"]
    text, html = _text(message), _html(message)
    for asset in (customers, orders):
        assert asset.relation in text and asset.relation in html
        assert absolute_url(asset.get_absolute_url()) in text
        assert f'href="{absolute_url(asset.get_absolute_url())}"' in html
    assert "Your use: Churn model" in text
    assert "jaffle_shop" in text  # the project whose manifest dropped them
    row = OutboundEmail.objects.get(kind="asset_retired")
    assert (row.team, row.status) == (growth, "sent")
    assert not OutboundEmail.objects.filter(team__in=[owner, finance]).exists()


def test_the_retired_task_run_again_sends_nothing(shop, smtp_server):
    _owner, growth, _finance = shop
    run = _submit(_without(*RETIRED))
    assert sync_run_task(run.pk) == "succeeded"  # the test transaction never commits: nothing enqueued
    ids = [_asset(u).pk for u in RETIRED]

    assert assets_retired_emails_task(run.pk, ids) == 1
    assert assets_retired_emails_task(run.pk, ids) == 1  # the same row, already sent
    assets_retired_emails_task.apply(args=[run.pk, ids])  # as a redelivered message would run
    assert len(smtp_server.received()) == 1
    assert list(OutboundEmail.objects.values_list("team", "status")) == [(growth.pk, "sent")]


def test_an_asset_back_in_the_manifest_before_the_task_runs_is_not_announced(shop, smtp_server):
    run = _submit(_without(*RETIRED))
    assert sync_run_task(run.pk) == "succeeded"
    back = _submit(_without("model.jaffle_shop.orders"))  # customers returns, orders stays gone
    assert sync_run_task(back.pk) == "succeeded"

    assets_retired_emails_task(run.pk, [_asset(u).pk for u in RETIRED])
    [message] = smtp_server.received()
    assert _asset("model.jaffle_shop.orders").relation in _text(message)
    assert _asset("model.jaffle_shop.customers").relation not in _text(message)
    assert "orders, which growth consumes, was retired" in message["Subject"]


def test_retiring_assets_nobody_consumes_records_no_email(
    shop, celery_eager, django_capture_on_commit_callbacks
):
    run = _submit(_without("model.jaffle_shop.locations"))
    with django_capture_on_commit_callbacks(execute=True):
        assert sync_run_task(run.pk) == "succeeded"

    assert _asset("model.jaffle_shop.locations").status == "retired"
    assert not OutboxMessage.objects.filter(kind="email.assets_retired").exists()
    assert not OutboundEmail.objects.exists()


@pytest.mark.integration
def test_a_real_worker_sends_the_retired_email_after_the_sync_it_ran(smtp_server, celery_worker):
    from testsupport.fixtures import wait_for

    TeamFactory(slug="jaffle", email="jaffle@example.com")
    first = _submit(MANIFEST.read_bytes())  # committed: the worker picks it up from Redis
    wait_for(lambda: SyncRun.objects.get(pk=first.pk).status == "succeeded", timeout=90, message="first sync")
    growth = TeamFactory(slug="growth", email="growth@example.com")
    registration_add(asset=_asset("model.jaffle_shop.orders"), team=growth)
    # As in `shop`: under forward mode the removal retires at once (under backward it asks first).
    Asset.objects.filter(project__isnull=False).update(compatibility_mode="forward")

    second = _submit(_without("model.jaffle_shop.orders"))
    [message] = wait_for(smtp_server.received, timeout=90, message="the retired email")
    assert SyncRun.objects.get(pk=second.pk).status == "succeeded"
    assert _to(message) == {"growth@example.com"}
    assert _asset("model.jaffle_shop.orders").relation in _text(message)
    row = wait_for(lambda: OutboundEmail.objects.filter(kind="asset_retired", status="sent").first())
    assert row.dedupe_key == f"asset-retired:sync:{second.pk}:team:{growth.pk}"
