"""Job leases: a running job is taken again only once its lease lapsed, at most
TESSERA_JOB_MAX_ATTEMPTS times, and the sweep re-sends exactly what the broker may have lost."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from contracts.models import SyncRun
from tessera_site.lib.jobs import JobStatus, job_claim, jobs_due

pytestmark = pytest.mark.django_db


def _run() -> SyncRun:
    run = SyncRun()
    run.manifest.save("lease-test.json", ContentFile(b"{}"), save=False)
    run.save()
    return run


def test_a_running_job_is_claimed_again_only_after_its_lease_lapsed(settings, time_machine):
    settings.TESSERA_JOB_LEASE_SECONDS = 60
    time_machine.move_to("2026-03-02 10:00:00+00:00", tick=False)
    run = _run()
    assert job_claim(SyncRun, run.pk)
    assert not job_claim(SyncRun, run.pk)  # a duplicate message while the worker lives
    time_machine.move_to("2026-03-02 10:01:01+00:00", tick=False)  # its worker died: no heartbeat
    assert job_claim(SyncRun, run.pk)
    run.refresh_from_db()
    assert (run.status, run.attempts) == (JobStatus.RUNNING, 2)


def test_a_job_whose_worker_keeps_dying_ends_failed_with_the_reason(settings, time_machine):
    settings.TESSERA_JOB_LEASE_SECONDS = 60
    settings.TESSERA_JOB_MAX_ATTEMPTS = 2
    time_machine.move_to("2026-03-02 10:00:00+00:00", tick=False)
    run = _run()
    SyncRun.objects.filter(pk=run.pk).update(error="OOM at 12 GB")
    assert job_claim(SyncRun, run.pk)
    time_machine.shift(timedelta(minutes=2))
    assert job_claim(SyncRun, run.pk)
    time_machine.shift(timedelta(minutes=2))
    assert not job_claim(SyncRun, run.pk)
    run.refresh_from_db()
    assert run.status == JobStatus.FAILED
    assert run.error.startswith("Gave up after 2 attempts") and run.error.endswith("OOM at 12 GB")


def test_the_sweep_finds_stale_pending_and_expired_running_jobs_only(settings, time_machine):
    settings.TESSERA_JOB_LEASE_SECONDS = 60
    time_machine.move_to("2026-03-02 10:00:00+00:00", tick=False)
    stale, running, expired, done = _run(), _run(), _run(), _run()
    job_claim(SyncRun, expired.pk)
    SyncRun.objects.filter(pk=done.pk).update(status=JobStatus.SUCCEEDED)
    time_machine.shift(timedelta(seconds=90))
    job_claim(SyncRun, running.pk)  # claimed just now: its lease is fresh
    fresh = _run()  # its message is surely still on its way
    now = timezone.now()
    assert set(jobs_due(SyncRun, now=now, stale_after=timedelta(seconds=60))) == {stale.pk, expired.pk}
    assert fresh.pk not in jobs_due(SyncRun, now=now, stale_after=timedelta(seconds=60))
