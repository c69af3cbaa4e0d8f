"""The column-usage step has no job row: when its message is lost (here for real: inside a test
transaction the on-commit enqueue never happens, as when the broker was down then), the periodic
sweep finds the project whose stored usage is behind its latest sync and sends the step again."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from contracts.factories import TeamFactory
from contracts.models import ColumnUsageRun
from contracts.selectors.background import column_usage_behind
from contracts.services.sync import sync_submit
from contracts.tasks.sync import sync_run_task
from tessera_site.lib.auth import Actor
from tessera_site.tasks import jobs_sweep

pytestmark = pytest.mark.django_db

MANIFEST = Path(__file__).parent / "fixtures" / "manifest_v12_jaffle_shop_dbt1.11.json"
OPEN = Actor(label="test-open", is_open=True, scopes=("read", "write", "admin"))


def test_a_lost_column_usage_step_is_sent_again_once_overdue(celery_eager, settings, time_machine):
    settings.CELERY_TASK_TIME_LIMIT = 1800
    time_machine.move_to(timezone.now(), tick=False)
    TeamFactory(slug="jaffle")
    run = sync_submit(manifest=MANIFEST.read_bytes(), team_slug="jaffle", actor=OPEN)
    assert sync_run_task(run.pk) == "succeeded"
    run.refresh_from_db()
    assert not ColumnUsageRun.objects.exists()  # the step's message never left the transaction
    assert column_usage_behind(now=timezone.now(), overdue_after=timedelta(minutes=30)) == []
    assert jobs_sweep()["ColumnUsage"] == 0  # its pass may still be running: never doubled

    time_machine.shift(timedelta(minutes=31))
    assert column_usage_behind(now=timezone.now(), overdue_after=timedelta(minutes=30)) == [run.pk]
    assert jobs_sweep()["ColumnUsage"] == 1
    assert ColumnUsageRun.objects.get(project=run.project).manifest_sha256 == run.manifest_sha256
    assert jobs_sweep()["ColumnUsage"] == 0
