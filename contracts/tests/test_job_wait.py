"""?wait=true answers when the job ends: the job's end is announced with PostgreSQL NOTIFY in the
transaction that ends it, and the waiting request is woken by it (lib/jobs.job_wait).

Behaviour, not time: the waits here are told to re-read the row only once an hour, so a wait that
returns the finished job was woken by the notification; the log line of job_wait says how many
times it read the row and how many notifications woke it."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import psycopg
import pytest
from django.db import connection, transaction

from contracts.models import Project, SyncRun
from contracts.services.teams import team_ensure
from contracts.tasks.sync import sync_run_task
from tessera_site.lib.jobs import JOB_DONE_CHANNEL, JobStatus, job_wait
from testsupport.fixtures import requires_postgres, wait_for

FIXTURES = Path(__file__).parent / "fixtures"
SMALL = (FIXTURES / "small_shop_manifest.json").read_bytes()


def _wait_log(caplog, run_id: int) -> str:
    lines = [r.getMessage() for r in caplog.records if r.name == "tessera_site.lib.jobs"]
    return next((line for line in lines if line.startswith(f"job contracts_syncrun:{run_id}: succeeded")), "")


def _listen() -> psycopg.Connection:
    listener = psycopg.connect(**connection.get_connection_params(), autocommit=True)
    listener.execute(f"LISTEN {JOB_DONE_CHANNEL}")
    return listener


def _heard_until_a_marker(listener: psycopg.Connection) -> list[str]:
    """Every notification heard before a marker the test announces now: PostgreSQL delivers
    notifications in the order their transactions committed, so whatever the code announced
    before is heard before the marker. Proves "nothing else was announced" without a quiet wait."""
    marker = "test-marker"
    listener.execute("SELECT pg_notify(%s, %s)", [JOB_DONE_CHANNEL, marker])  # autocommit: sent now
    heard = []
    for notification in listener.notifies(timeout=30):
        if notification.payload == marker:
            return heard
        heard.append(notification.payload)
    pytest.fail(f"the marker notification did not come back within 30 s; heard {heard}")


@pytest.mark.integration
def test_wait_true_is_woken_by_the_end_of_a_sync_run_by_a_real_worker(
    client, settings, caplog, celery_worker
):
    settings.TESSERA_OPEN_API = True
    settings.TESSERA_JOB_WAIT_RECHECK_SECONDS = 3600  # only the notification can wake the wait
    settings.TESSERA_SYNC_WAIT_SECONDS = 60  # without it, the reply is a 202 after a minute
    caplog.set_level(logging.DEBUG, logger="tessera_site.lib.jobs")
    team_ensure(slug="shop-platform")
    Project.objects.create(name="small_shop")
    replies = []

    def post() -> None:
        try:
            replies.append(
                client.post(
                    "/api/v1/sync/dbt?team=shop-platform&wait=true",
                    data=SMALL,
                    content_type="application/json",
                )
            )
        finally:
            connection.close()  # this thread's own connection

    # The sync waits for the project's lock, held here until the request is waiting for it.
    with transaction.atomic():
        Project.objects.select_for_update().get(name="small_shop")
        request = threading.Thread(target=post)
        request.start()
        wait_for(
            lambda: any(r.getMessage().endswith(", listening") for r in caplog.records),
            message="the request to wait for its sync",
        )
        run = SyncRun.objects.get()
        assert run.status in (JobStatus.PENDING, JobStatus.RUNNING)  # it cannot have finished
    request.join(timeout=120)

    assert replies, celery_worker.log()
    reply = replies[0]
    assert reply.status_code == 200, reply.content
    assert reply.json()["status"] == "succeeded"
    assert reply.json()["summary"]["created"] == 17
    assert reply.json()["finished_at"] is not None
    # Read once before the job ended and once when told it had: never by the hourly re-read.
    assert _wait_log(caplog, run.pk).endswith("after 2 reads, 1 woken by notification"), caplog.text


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_a_sync_announces_its_end_when_it_commits_and_not_before():
    team_ensure(slug="shop-platform")
    from contracts.services.sync import sync_submit
    from tessera_site.lib.auth import Actor

    run = sync_submit(
        manifest=SMALL, team_slug="shop-platform", actor=Actor(label="ci", is_open=True, scopes=("write",))
    )
    with _listen() as listener:
        assert sync_run_task(run.pk) == "succeeded"
        # Its end was told once, and nothing else was announced.
        assert _heard_until_a_marker(listener) == [f"contracts_syncrun:{run.pk}"]
        run.refresh_from_db()
        assert run.status == JobStatus.SUCCEEDED


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_a_failed_sync_and_a_rolled_back_end_announce_accordingly():
    team_ensure(slug="shop-platform")
    from contracts.services.sync import sync_submit
    from tessera_site.lib.auth import Actor
    from tessera_site.lib.jobs import job_succeed

    actor = Actor(label="ci", is_open=True, scopes=("write",))
    failing = sync_submit(manifest=SMALL, team_slug="shop-platform", actor=actor)
    other = sync_submit(manifest=SMALL, team_slug="shop-platform", actor=actor)
    SyncRun.objects.filter(pk=failing.pk).update(manifest="missing/manifest.json")  # the worker fails it
    with _listen() as listener:
        assert sync_run_task(failing.pk) == "failed"
        with pytest.raises(RuntimeError), transaction.atomic():
            job_succeed(SyncRun, other.pk)
            raise RuntimeError("rolled back")
        # The failed end was told; the rolled-back end told nobody.
        assert _heard_until_a_marker(listener) == [f"contracts_syncrun:{failing.pk}"]
    other.refresh_from_db()
    assert other.status == JobStatus.PENDING


@pytest.mark.django_db
def test_waiting_for_a_finished_job_reads_its_row_once(caplog):
    caplog.set_level(logging.DEBUG, logger="tessera_site.lib.jobs")
    run = SyncRun.objects.create(status=JobStatus.SUCCEEDED, manifest="x.json")
    stale = SyncRun.objects.get(pk=run.pk)
    SyncRun.objects.filter(pk=run.pk).update(status=JobStatus.FAILED, error="no")

    assert job_wait(stale, seconds=30)
    assert stale.status == JobStatus.FAILED and stale.error == "no"  # refreshed
    assert f"job contracts_syncrun:{run.pk}: failed after 1 reads" in caplog.text
