"""Nothing lost: worker kills and broker outages delay work, never drop it (SPEC §11, issue #11).

Real parts only: PostgreSQL, `celery worker` and `celery beat` processes, a private redis-server that
the test stops and starts (never the shared one), a real SMTP server. Leases and the sweep are
shortened through their settings; the code paths are the production ones.
"""

from __future__ import annotations

import json
import time
from email.message import Message
from pathlib import Path

import psycopg
import pytest
from django.db.models import Count
from django.test import Client

from audits.models import ResultUpload
from contracts.factories import api_key_for
from contracts.models import Acknowledgment, Asset, ContractVersion, Event, OutboxMessage, SyncRun, Team
from contracts.services.sync import sync_submit
from contracts.tests.workflow_setup import make_story, open_breaking
from tessera_site.lib.auth import actor_for_key
from tessera_site.lib.jobs import JobStatus
from tests.integration.durability_support import (
    private_redis,
    producer_broker,
    start_beat,
    start_worker,
)
from testsupport.fixtures import database_url_for_test_db, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]

FIXTURES = Path(__file__).resolve().parents[2] / "contracts" / "tests" / "fixtures"
MANIFEST = FIXTURES / "small_shop_manifest.json"


@pytest.fixture
def stack(transactional_db, tmp_path, request):
    """A private Redis this test publishes to, and a beat process running the sweep on it."""
    from testsupport.fixtures import broker_is_real, database_is_postgres

    if not (database_is_postgres() and broker_is_real()):
        pytest.skip("needs PostgreSQL and a Redis broker (scripts/test.sh)")
    with private_redis(tmp_path) as redis, producer_broker(redis.url):
        beat = start_beat(broker_url=redis.url, log_path=tmp_path / "beat.log")
        started = []

        def worker():
            process = start_worker(broker_url=redis.url, log_path=tmp_path / f"worker-{len(started)}.log")
            started.append(process)
            return process

        yield redis, worker
        for process in started:
            process.stop()
        beat.stop()


def _actor():
    team = Team.objects.create(slug="data-platform", name="Data Platform")
    key, _ = api_key_for(team, scopes="read,write")
    return actor_for_key(key)


def _sync_blocked_writing_events(worker) -> None:
    """Wait until the worker's sync transaction has written assets and versions and waits to
    insert its events (the test holds a lock on the event table): the middle of the write. On
    PostgreSQL the events go in by COPY, elsewhere by INSERT; only this test's database counts
    (another run's sync may be blocked in its own)."""
    # Its own autocommit connection: inside a transaction PostgreSQL keeps one statistics snapshot.
    monitor = psycopg.connect(database_url_for_test_db(), autocommit=True)

    def blocked() -> bool:
        row = monitor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' "
            "AND (query ILIKE 'INSERT INTO \"contracts_event\"%%' OR query ILIKE 'COPY \"contracts_event\"%%')"
        ).fetchone()
        return bool(row and row[0])

    def waiting() -> list:
        return monitor.execute(
            "SELECT wait_event_type, wait_event, state, left(query, 120) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()

    deadline = time.monotonic() + 90
    while not blocked():
        if time.monotonic() > deadline:
            pytest.fail(f"the sync did not block on its event insert: {waiting()}\n{worker.log()[-2000:]}")
        time.sleep(0.2)
    monitor.close()


def _assert_one_clean_sync(run: SyncRun) -> None:
    run.refresh_from_db()
    assert run.status == JobStatus.SUCCEEDED, run.error
    assert run.attempts == 2  # the killed attempt, then the one that finished
    assert Asset.objects.count() == run.summary["assets"] > 0
    per_asset = ContractVersion.objects.values("asset_id").annotate(n=Count("id"))
    assert {row["n"] for row in per_asset} == {1}, "exactly one version per asset"
    assert ContractVersion.objects.count() == Asset.objects.filter(active_version__isnull=False).count()
    assert Event.objects.filter(kind="sync.completed", sync_run=run).count() == 1
    duplicated = Event.objects.values("kind", "asset_id", "team_id").annotate(n=Count("id")).filter(n__gt=1)
    assert not duplicated.exists(), list(duplicated)


@pytest.mark.parametrize("kill", ["pool child", "whole worker"])
def test_a_sync_whose_worker_is_killed_mid_write_is_finished_once_by_a_new_worker(stack, kill):
    redis, start = stack
    run = sync_submit(manifest=MANIFEST.read_bytes(), team_slug=None, actor=_actor())
    with psycopg.connect(database_url_for_test_db(), autocommit=False) as lock_connection:
        lock_connection.execute("LOCK TABLE contracts_event IN SHARE MODE")
        worker = start()
        _sync_blocked_writing_events(worker)
        assert SyncRun.objects.get(pk=run.pk).status == JobStatus.RUNNING
        if kill == "pool child":
            children = worker.children()
            assert len(children) == 1, children
            import os
            import signal

            os.kill(children[0], signal.SIGKILL)
        else:
            worker.kill_everything()
        lock_connection.rollback()  # the killed transaction ends; nothing of it was committed
    if kill == "whole worker":
        start()  # the pool child case: the worker already forked a new child itself

    wait_for(
        lambda: SyncRun.objects.get(pk=run.pk).is_done,
        timeout=120,
        message=f"the sync to finish after the kill\n{worker.log()[-4000:]}",
    )
    _assert_one_clean_sync(run)


def _generic_results(asset: str) -> bytes:
    return json.dumps(
        {
            "format": "tessera.audit-results/v1",
            "tool": "ci-checks",
            "run_id": "broker-down-1",
            "asset": asset,
            "checks": [{"name": "row_count", "status": "pass"}],
        }
    ).encode()


def test_sync_and_result_upload_during_a_broker_outage_are_accepted_and_finish_after_it(stack):
    redis, start = stack
    team = Team.objects.create(slug="data-platform", name="Data Platform")
    _, secret = api_key_for(team, scopes="read,write")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    redis.stop()

    sync = client.post("/api/v1/sync/dbt", data=MANIFEST.read_bytes(), content_type="application/json")
    assert sync.status_code == 202, sync.content
    assert sync["Content-Type"].startswith("application/json")
    sync_id = sync.json()["sync_id"]
    assert sync.json()["status_url"].endswith(f"/api/v1/syncs/{sync_id}")
    upload = client.post(
        "/api/v1/audit-results/upload",
        data={"file": _upload_file(_generic_results("nothing.matches.this"))},
    )
    assert upload.status_code == 202, upload.content
    upload_id = upload.json()["id"]
    assert SyncRun.objects.get(pk=sync_id).status == JobStatus.PENDING
    assert ResultUpload.objects.get(pk=upload_id).status == JobStatus.PENDING

    redis.start()  # an empty Redis: every message sent before the outage is gone
    worker = start()
    wait_for(
        lambda: SyncRun.objects.get(pk=sync_id).is_done and ResultUpload.objects.get(pk=upload_id).is_done,
        timeout=120,
        message=f"both jobs to finish after the outage\n{worker.log()[-4000:]}",
    )
    assert SyncRun.objects.get(pk=sync_id).status == JobStatus.SUCCEEDED
    assert ResultUpload.objects.get(pk=upload_id).status == JobStatus.SUCCEEDED
    assert SyncRun.objects.count() == 1 and ResultUpload.objects.count() == 1  # nothing sent twice


def _upload_file(content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("results.json", content, content_type="application/json")


def _answer_emails(smtp_server) -> list[Message]:
    return [m for m in smtp_server.received() if m["X-Tessera-Email"] == "answer_recorded"]


def test_an_answer_during_a_broker_outage_is_recorded_once_and_the_producer_is_emailed_after(
    stack, smtp_server
):
    redis, start = stack
    story = make_story()
    proposal = open_breaking(story)
    _, secret = api_key_for(story.marketing, scopes="read,write")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    redis.stop()

    response = client.post(
        f"/api/v1/proposals/{proposal.pk}/answers",
        data=json.dumps({"team": "marketing-analytics", "answer": "approved"}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert Acknowledgment.objects.filter(proposal=proposal).count() == 1
    message = OutboxMessage.objects.get(kind="email.answer_recorded")
    assert message.status == OutboxMessage.Status.PENDING

    redis.start()
    worker = start()
    emails = wait_for(
        lambda: _answer_emails(smtp_server),
        timeout=120,
        message=f"the producer's email after the outage\n{worker.log()[-4000:]}",
    )
    assert "platform@example.com" in emails[0]["X-Envelope-To"]
    # The row is marked sent when the worker's transaction commits, just after the SMTP exchange.
    wait_for(
        lambda: OutboxMessage.objects.get(pk=message.pk).status == OutboxMessage.Status.SENT,
        timeout=30,
        message="the outbox message to be marked sent",
    )
    assert message.attempt_rows.filter(ok=True).count() == 1
    assert Acknowledgment.objects.filter(proposal=proposal).count() == 1
    assert len(_answer_emails(smtp_server)) == 1
