"""A real `celery worker` process on Redis runs jobs enqueued by the service layer.

Runs on PostgreSQL with a Redis broker (CI: `make test`); skipped on the SQLite inner loop.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from contracts.models import Asset, SyncRun, Team
from contracts.services.sync import submit as sync_service
from tessera_site.lib.auth import actor_for_key
from tessera_site.lib.jobs import JobStatus
from testsupport.fixtures import wait_for

pytestmark = [pytest.mark.integration]

FIXTURES = Path(__file__).resolve().parents[2] / "contracts" / "tests" / "fixtures"


def _actor():
    from contracts.services.apikeys import apikey_create

    team = Team.objects.create(slug="data-platform", name="Data Platform")
    key, _ = apikey_create(team=team, name="ci", scopes="read,write")
    return actor_for_key(key)


def _finished(run_id: int) -> SyncRun | None:
    run = SyncRun.objects.get(pk=run_id)
    return run if run.status in (JobStatus.SUCCEEDED, JobStatus.FAILED) else None


def test_worker_runs_an_enqueued_sync_until_its_row_succeeds(celery_worker):
    manifest = (FIXTURES / "small_shop_manifest.json").read_bytes()
    run = sync_service.sync_submit(manifest=manifest, team_slug=None, actor=_actor())
    assert run.status == JobStatus.PENDING

    done = wait_for(lambda: _finished(run.pk), timeout=90, message=f"sync {run.pk} to finish")

    assert done.status == JobStatus.SUCCEEDED, f"{done.error}\n{celery_worker.log()}"
    assert done.started_at and done.finished_at
    assert Asset.objects.exists()
    assert "Task contracts.tasks.sync_run_task[" in celery_worker.log()


def test_a_failing_task_marks_its_row_failed_with_the_error(celery_worker, monkeypatch):
    good = (FIXTURES / "small_shop_manifest.json").read_bytes()
    # A large upload is judged by its head before it is accepted; its corrupt tail is only found
    # by the worker's full parse, which must mark the row failed and write nothing.
    corrupt = good[: len(good) // 2]
    monkeypatch.setattr(sync_service, "FULL_CHECK_BYTES", 1024)
    run = sync_service.sync_submit(manifest=corrupt, team_slug=None, actor=_actor())

    done = wait_for(lambda: _finished(run.pk), timeout=90, message=f"sync {run.pk} to finish")

    assert done.status == JobStatus.FAILED, celery_worker.log()
    assert "JSON" in done.error
    assert done.finished_at is not None
    assert not Asset.objects.exists()
