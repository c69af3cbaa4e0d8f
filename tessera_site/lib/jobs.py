"""Job rows: every background job a user waits for has its own status row.

The UI reads the row, never Celery's result backend. A task claims its row with a conditional
UPDATE (pending → running) and returns if nothing was claimed, so redelivery, retries and double
clicks are harmless.

The row, not the broker message, is the source of truth. A claim takes a lease
(``lease_expires_at``) that a heartbeat thread renews while the task runs; a worker that dies
(SIGKILL, out of memory, a lost host) stops renewing it, and once it expires the job may be
claimed again: by a redelivered message or by the sweep (``tessera_site.tasks.jobs_sweep``),
which also re-enqueues pending rows whose message the broker never got. ``attempts`` bounds the
re-runs: a job whose worker dies ``TESSERA_JOB_MAX_ATTEMPTS`` times ends ``failed``.

Waiting for a job (the API's ``?wait=true``): every write that ends a job also sends a PostgreSQL
``NOTIFY`` on ``JOB_DONE_CHANNEL`` (payload ``<table>:<pk>``) in the same transaction, so it is
delivered exactly when the row's new status commits, and never for a rolled-back one; a waiter
``LISTEN``s on its own connection and re-reads the row when told. LISTEN/NOTIFY rather than a Redis
pub/sub: the notification is part of the transaction that ends the job, so it can neither arrive
before the row says so nor be sent for a change that was rolled back, and it needs no second
system. SQLite (the demo's embedded database, where tasks run in-process and a job is done before
the wait starts) has no notifications: there the waiter re-reads the row every
``TESSERA_JOB_WAIT_POLL_SECONDS``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import F, Q, Value
from django.db.models.functions import Concat
from django.utils import timezone

logger = logging.getLogger(__name__)

# The PostgreSQL channel every job end is announced on (payload: "<db table>:<pk>").
JOB_DONE_CHANNEL = "tessera_job_done"


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
    # Claims so far (a worker that died counts); bounded by TESSERA_JOB_MAX_ATTEMPTS.
    attempts = models.PositiveSmallIntegerField(default=0)
    # While running: the claim holds until then, renewed by the heartbeat; expired = worker gone.
    lease_expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # When the sweep last sent a message for this row (so it does not send one every pass).
    enqueued_at = models.DateTimeField(null=True, blank=True)

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


def _lease_end() -> object:
    return timezone.now() + timedelta(seconds=settings.TESSERA_JOB_LEASE_SECONDS)


def _claimable(now: object) -> Q:
    return Q(status=JobStatus.PENDING) | Q(status=JobStatus.RUNNING, lease_expires_at__lt=now)


def job_claim(model: type[JobRow], pk: int) -> bool:
    """Take a pending job, or a running one whose lease expired (its worker died), under a new
    lease. False when someone else holds it, it is done, or it has used up its attempts (then
    it is marked failed)."""
    now = timezone.now()
    limit = settings.TESSERA_JOB_MAX_ATTEMPTS
    claimed = model.objects.filter(_claimable(now), pk=pk, attempts__lt=limit).update(  # type: ignore[attr-defined]
        status=JobStatus.RUNNING,
        started_at=now,
        stage="started",
        attempts=F("attempts") + 1,
        lease_expires_at=_lease_end(),
    )
    if claimed:
        return True
    model.objects.filter(_claimable(now), pk=pk, attempts__gte=limit).update(  # type: ignore[attr-defined]
        status=JobStatus.FAILED,
        finished_at=now,
        stage="failed",
        lease_expires_at=None,
        error=Concat(
            Value(
                f"Gave up after {limit} attempts: the worker running this job stopped each time "
                "(killed, out of memory or restarted) or the database was unreachable. "
            ),
            F("error"),
        ),
    )
    job_done_notify(model, pk)
    return False


def job_release(model: type[JobRow], pk: int, error: str) -> None:
    """Give a running job back (a transient failure: database or storage unreachable) so the
    sweep runs it again; its attempts still count."""
    try:
        model.objects.filter(pk=pk, status=JobStatus.RUNNING).update(  # type: ignore[attr-defined]
            status=JobStatus.PENDING, stage="waiting to retry", lease_expires_at=None, error=error[:10_000]
        )
    except (OperationalError, InterfaceError):  # still unreachable: the lease runs out instead
        logger.warning("could not release %s %s; its lease will expire", model.__name__, pk)


@contextmanager
def job_heartbeat(model: type[JobRow], pk: int) -> Iterator[None]:
    """Renew the lease every third of its length while the body runs, from a thread: a long
    step (a 100 MB manifest's parse) holds no lock the heartbeat needs. The thread dies with its
    process, so a killed worker's lease runs out."""
    stop = threading.Event()
    interval = max(1.0, settings.TESSERA_JOB_LEASE_SECONDS / 3)

    def beat() -> None:
        try:
            while not stop.wait(interval):
                model.objects.filter(pk=pk, status=JobStatus.RUNNING).update(  # type: ignore[attr-defined]
                    lease_expires_at=_lease_end()
                )
        except Exception:  # a missed beat only shortens the lease; the job itself goes on
            logger.exception("heartbeat of %s %s failed", model.__name__, pk)
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=beat, name=f"heartbeat-{model.__name__}-{pk}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=interval + 5)


def jobs_due(model: type[JobRow], *, now: object, stale_after: timedelta) -> list[int]:
    """Rows the broker may have lost: pending for a while and not re-sent lately, or running
    under an expired lease."""
    cutoff = now - stale_after  # type: ignore[operator]
    pending = Q(status=JobStatus.PENDING, created_at__lt=cutoff) & (
        Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=cutoff)
    )
    expired = Q(status=JobStatus.RUNNING, lease_expires_at__lt=now)
    return list(
        model.objects.filter(pending | expired).order_by("created_at").values_list("pk", flat=True)[:500]  # type: ignore[attr-defined]
    )


def jobs_mark_enqueued(model: type[JobRow], pks: list[int], *, now: object) -> None:
    model.objects.filter(pk__in=pks).update(enqueued_at=now)  # type: ignore[attr-defined]


def job_stage(model: type[JobRow], pk: int, stage: str, progress: int | None = None) -> None:
    fields: dict[str, object] = {"stage": stage}
    if progress is not None:
        fields["progress"] = max(0, min(100, progress))
    model.objects.filter(pk=pk).update(**fields)  # type: ignore[attr-defined]


def job_succeed(model: type[JobRow], pk: int, **fields: object) -> None:
    model.objects.filter(pk=pk).update(  # type: ignore[attr-defined]
        status=JobStatus.SUCCEEDED,
        finished_at=timezone.now(),
        stage="done",
        progress=100,
        lease_expires_at=None,
        **fields,
    )
    job_done_notify(model, pk)


def job_fail(model: type[JobRow], pk: int, error: str, **fields: object) -> None:
    model.objects.filter(pk=pk).update(  # type: ignore[attr-defined]
        status=JobStatus.FAILED,
        finished_at=timezone.now(),
        stage="failed",
        error=error[:10_000],
        lease_expires_at=None,
        **fields,
    )
    job_done_notify(model, pk)


def _job_key(model: type[JobRow], pk: int) -> str:
    return f"{model._meta.db_table}:{pk}"


def job_done_notify(model: type[JobRow], pk: int) -> None:
    """Announce that a job row has ended (call it right after the write that ends it, in the same
    transaction: PostgreSQL delivers the notification when that transaction commits). Nothing on
    databases without notifications; waiters poll there."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_notify(%s, %s)", [JOB_DONE_CHANNEL, _job_key(model, pk)])


def job_wait(row: JobRow, *, seconds: float) -> bool:
    """Wait until a job row is done or ``seconds`` have passed (the API's ``?wait=true``); True
    when it is done. The row is left refreshed either way. On PostgreSQL the wait is woken by the
    job's end notification; elsewhere it re-reads the row every TESSERA_JOB_WAIT_POLL_SECONDS."""
    deadline = time.monotonic() + seconds
    if connection.vendor == "postgresql":
        reads, woken = _wait_listening(row, deadline)
    else:
        reads, woken = _wait_polling(row, deadline), 0
    logger.debug(
        "job %s: %s after %d reads, %d woken by notification",
        _job_key(type(row), row.pk),
        row.status,
        reads,
        woken,
    )
    return row.is_done


def _wait_polling(row: JobRow, deadline: float) -> int:
    row.refresh_from_db()
    reads = 1
    while not row.is_done and time.monotonic() < deadline:
        time.sleep(settings.TESSERA_JOB_WAIT_POLL_SECONDS)
        row.refresh_from_db()
        reads += 1
    return reads


def _listener(wrapper: BaseDatabaseWrapper) -> Any:
    """A connection of its own for LISTEN (the request's connection stays free for reads)."""
    import psycopg

    return psycopg.connect(**wrapper.get_connection_params(), autocommit=True)


def _wait_listening(row: JobRow, deadline: float) -> tuple[int, int]:
    """LISTEN, then read the row (an end between the two is seen either way), then sleep until
    the job's notification or, as a safety net, TESSERA_JOB_WAIT_RECHECK_SECONDS."""
    key = _job_key(type(row), row.pk)
    reads = woken = 0
    with _listener(connection) as listener:
        listener.execute(f"LISTEN {JOB_DONE_CHANNEL}")
        row.refresh_from_db()
        reads += 1
        recheck_at = time.monotonic() + settings.TESSERA_JOB_WAIT_RECHECK_SECONDS
        logger.debug("job %s: %s, listening", key, row.status)
        while not row.is_done and (now := time.monotonic()) < deadline:
            timeout = max(0.0, min(deadline, recheck_at) - now)
            heard = {n.payload for n in listener.notifies(timeout=timeout, stop_after=1)}
            if heard and key not in heard and time.monotonic() < recheck_at:
                continue  # another job ended
            woken += key in heard
            row.refresh_from_db()
            reads += 1
            recheck_at = time.monotonic() + settings.TESSERA_JOB_WAIT_RECHECK_SECONDS
    return reads, woken
