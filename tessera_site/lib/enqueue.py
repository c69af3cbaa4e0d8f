"""The one way services hand work to Celery: after the transaction commits, by task reference.

Services never import task modules (task modules import services: that made import circles).
They name a task through a ``TaskRef`` constant that the task module also uses to register
itself (``@shared_task(name=REF.name)``), and call ``enqueue_on_commit(REF, id)``.

The job row (or outbox row) is the source of truth, not the message: when the broker cannot be
reached the enqueue is logged and dropped, the row stays ``pending``, and the periodic sweep
(``tessera_site.tasks.jobs_sweep``) enqueues it again once the broker is back. So a broker outage
delays work and never turns a committed request into an error.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial

from django.db import transaction

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TaskRef:
    """A Celery task by its registered name; the constant is shared by the caller and the task."""

    name: str


def _broker_errors() -> tuple[type[BaseException], ...]:
    from kombu.exceptions import OperationalError as KombuOperationalError

    errors: list[type[BaseException]] = [KombuOperationalError, ConnectionError, OSError, TimeoutError]
    try:
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        errors += [RedisConnectionError, RedisTimeoutError]
    except ImportError:  # another broker transport
        pass
    return tuple(errors)


def enqueue_now(task: TaskRef, *args: object, countdown: float | None = None) -> bool:
    """Send one message now; False (logged) when the broker is unreachable. Without a broker
    (the demo: ``task_always_eager``) the task runs in-process instead."""
    from celery import current_app as app  # the project's app (lib imports nothing above it)

    if app.conf.task_always_eager:
        if task.name not in app.tasks:
            app.loader.import_default_modules()
        app.tasks[task.name].apply(args=args)
        return True
    try:
        app.send_task(task.name, args=list(args), countdown=countdown)
    except _broker_errors() as exc:
        logger.warning("broker unreachable, %s%r stays pending for the sweep: %s", task.name, args, exc)
        return False
    return True


def enqueue_on_commit(task: TaskRef, *args: object) -> None:
    """Enqueue once the current transaction commits (at once outside one); never raises."""
    transaction.on_commit(partial(enqueue_now, task, *args))
