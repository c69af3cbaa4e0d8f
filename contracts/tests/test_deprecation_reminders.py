"""Reminders of a deprecation campaign on the demo's real manifests: the beat task, called under a
frozen clock at each step before v1's deprecation date (read from the synced manifest, so the test
holds whatever today is), records one email notice per team still reading per step, and the
outbox delivers it to a real SMTP server once."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from contracts.models import DeprecationCampaign, DeprecationReminder, OutboxMessage
from contracts.services.deprecations import reminder_step_for
from contracts.services.outbox_dispatch import outbox_dispatch
from contracts.services.teams import team_ensure
from contracts.tasks.workflow import deprecation_reminders_task
from contracts.tests.test_model_versions import TEAMS, V1, run_sync

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def at(day: dt.date):
    return time_machine.travel(dt.datetime.combine(day, dt.time(8, 15), tzinfo=dt.UTC), tick=False)


def deliver() -> None:
    for message in OutboxMessage.objects.filter(kind="email.deprecation_reminder", status="pending"):
        assert outbox_dispatch(message_id=message.pk) == "sent", message.last_error


@pytest.mark.parametrize(
    ("days_left", "step"),
    [(45, None), (30, 30), (25, 30), (7, 7), (5, 7), (1, 1), (0, 1), (-1, None)],
)
def test_the_step_is_the_nearest_one_not_yet_passed(days_left, step):
    assert reminder_step_for(days_left, [30, 7, 1]) == step


def test_marketing_gets_each_reminder_step_once_by_email_with_a_link_to_the_campaign(
    demo_artifacts, smtp_server, settings
):
    settings.TESSERA_BASE_URL = "https://tessera.example.com"
    for slug in TEAMS:
        team_ensure(slug=slug, email=f"{slug}@example.com")
    run_sync(demo_artifacts.read_bytes(demo_artifacts.manifests["core"]))
    run_sync(demo_artifacts.read_bytes(demo_artifacts.manifests["marketing"]))
    campaign = DeprecationCampaign.objects.get(asset__relation=V1)
    date = campaign.deprecation_date

    with at(date - dt.timedelta(days=45)):
        assert deprecation_reminders_task() == 0  # too early for the first step
    for days_left, step in ((30, 30), (29, None), (6, 7), (6, None), (1, 1), (1, None), (0, None)):
        with at(date - dt.timedelta(days=days_left)):
            assert deprecation_reminders_task() == (1 if step else 0), days_left
            deliver()

    steps = sorted(
        DeprecationReminder.objects.filter(campaign=campaign).values_list("days_before", flat=True)
    )
    assert steps == [1, 7, 30]
    received = smtp_server.received()
    assert [m["To"] for m in received] == ["marketing-analytics@example.com"] * 3
    first = received[0]
    assert first["X-Tessera-Email"] == "deprecation_reminder"
    assert "dim_products_v1 is deprecated on 2036-06-30 (in 30 days)" in first["Subject"]
    body = first.get_payload(0).get_payload(decode=True).decode()
    assert f"https://tessera.example.com/deprecations/{campaign.pk}/" in body
    assert "int_product_catalogue" in body and "core.main.dim_products_v2" in body
    # core (the owner) and finance (reads nothing of it) get nothing.
    assert (
        not OutboxMessage.objects.filter(kind="email.deprecation_reminder")
        .exclude(args__team_id=campaign.readers.get().team_id)
        .exists()
    )


def test_a_team_that_moved_gets_no_more_reminders(demo_artifacts, smtp_server):
    for slug in TEAMS:
        team_ensure(slug=slug, email=f"{slug}@example.com")
    run_sync(demo_artifacts.read_bytes(demo_artifacts.manifests["core"]))
    run_sync(demo_artifacts.read_bytes(demo_artifacts.manifests["marketing"]))
    date = DeprecationCampaign.objects.get(asset__relation=V1).deprecation_date
    with at(date - dt.timedelta(days=30)):
        assert deprecation_reminders_task() == 1
    run_sync(demo_artifacts.read_bytes(demo_artifacts.marketing_products_v2_manifest))
    with at(date - dt.timedelta(days=7)):
        assert deprecation_reminders_task() == 0
    assert DeprecationReminder.objects.count() == 1
