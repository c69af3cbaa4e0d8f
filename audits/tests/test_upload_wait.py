"""A result upload with ?wait=true is woken by the end of its ingestion in a real worker (the
job's NOTIFY, lib/jobs.job_wait), as a sync's is: behaviour, not time (see
contracts/tests/test_job_wait.py)."""

from __future__ import annotations

import logging
import threading

import pytest
from django.db import connection, transaction

from audits.models import ResultUpload
from audits.tests.conftest import bearer, fixture_bytes
from tessera_site.lib.jobs import JobStatus
from testsupport.fixtures import wait_for


@pytest.mark.integration
def test_upload_wait_true_is_woken_by_the_end_of_its_ingestion_in_a_real_worker(
    core, settings, caplog, celery_worker
):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    settings.TESSERA_JOB_WAIT_RECHECK_SECONDS = 3600  # only the notification can wake the wait
    settings.TESSERA_SYNC_WAIT_SECONDS = 60
    caplog.set_level(logging.DEBUG, logger="tessera_site.lib.jobs")
    replies = []

    def post() -> None:
        content = fixture_bytes("soda_scan_core.json")
        data = {"file": SimpleUploadedFile("results.json", content, content_type="application/json")}
        try:
            replies.append(
                Client().post("/api/v1/audit-results/upload?wait=true", data, **bearer(core.platform_secret))
            )
        finally:
            connection.close()  # this thread's own connection

    # The worker cannot write audit runs (so cannot finish) while this lock is held.
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("LOCK TABLE audits_auditrun IN EXCLUSIVE MODE")
        request = threading.Thread(target=post)
        request.start()
        wait_for(
            lambda: any(r.getMessage().endswith(", listening") for r in caplog.records),
            message="the request to wait for its ingestion",
        )
        upload = ResultUpload.objects.get()
        assert upload.status in (JobStatus.PENDING, JobStatus.RUNNING)
    request.join(timeout=120)

    assert replies, celery_worker.log()
    assert replies[0].status_code == 200, replies[0].content
    assert replies[0].json()["status"] == "succeeded"
    assert len(replies[0].json()["summary"]["runs"]) == 2
    done = f"job audits_resultupload:{upload.pk}: succeeded after 2 reads, 1 woken by notification"
    assert done in caplog.text, caplog.text + celery_worker.log()
