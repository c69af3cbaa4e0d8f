"""Job rows: every background job a user waits for has its own status row.

The UI reads the row, never Celery's result backend. A task claims its row with a conditional
UPDATE (pending → running) and returns if nothing was claimed, so redelivery, retries and double
clicks are harmless.
"""

from __future__ import annotations

import time

from django.db import models
from django.utils import timezone


class JobStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class JobRow(models.Model):
    status = models.CharField(
        max_length=16, choices=JobStatus.choices, default=JobStatus.PENDING, db_index=True
    )
    stage = models.CharField(max_length=64, blank=True, default="")
    progress = models.PositiveSmallIntegerField(default=0)  # 0-100, for progress bars
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def is_done(self) -> bool:
        return self.status in (JobStatus.SUCCEEDED, JobStatus.FAILED)

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


def job_claim(model: type[JobRow], pk: int) -> bool:
    """Move a pending job to running; False when someone else has it or it is done already."""
    return (
        model.objects.filter(pk=pk, status=JobStatus.PENDING).update(  # type: ignore[attr-defined]
            status=JobStatus.RUNNING, started_at=timezone.now(), stage="started"
        )
        == 1
    )


def job_stage(model: type[JobRow], pk: int, stage: str, progress: int | None = None) -> None:
    fields: dict[str, object] = {"stage": stage}
    if progress is not None:
        fields["progress"] = max(0, min(100, progress))
    model.objects.filter(pk=pk).update(**fields)  # type: ignore[attr-defined]


def job_succeed(model: type[JobRow], pk: int, **fields: object) -> None:
    model.objects.filter(pk=pk).update(  # type: ignore[attr-defined]
        status=JobStatus.SUCCEEDED, finished_at=timezone.now(), stage="done", progress=100, **fields
    )


def job_fail(model: type[JobRow], pk: int, error: str, **fields: object) -> None:
    model.objects.filter(pk=pk).update(  # type: ignore[attr-defined]
        status=JobStatus.FAILED, finished_at=timezone.now(), stage="failed", error=error[:10_000], **fields
    )


def job_wait(row: JobRow, *, seconds: float, interval: float = 0.25) -> bool:
    """Re-read a job row until it is done or ``seconds`` have passed (the API's ``?wait=true``);
    True when it is done. The row is left refreshed either way."""
    deadline = time.monotonic() + seconds
    row.refresh_from_db()
    while not row.is_done and time.monotonic() < deadline:
        time.sleep(interval)
        row.refresh_from_db()
    return row.is_done
