"""Shared pytest fixtures: a real Celery worker on Redis, a real SMTP server, API helpers."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _celery_not_eager() -> Iterator[None]:
    """No global eager Celery in tests: enqueueing only queues; tests call task functions
    directly, or use `celery_eager`, or a real worker (`celery_worker`)."""
    from tessera_site.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def celery_eager() -> Iterator[None]:
    """Run tasks in-process when enqueued, as the demo does (no broker)."""
    from tessera_site.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = False
    yield
    app.conf.task_always_eager = False


def database_is_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def broker_is_real() -> bool:
    return settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://", "amqp://"))


requires_postgres = pytest.mark.skipif(
    not database_is_postgres(), reason="needs PostgreSQL (set DATABASE_URL=postgres://...)"
)
requires_worker_stack = pytest.mark.skipif(
    not (database_is_postgres() and broker_is_real()),
    reason="needs PostgreSQL and a Redis broker (DATABASE_URL and CELERY_BROKER_URL)",
)


def database_url_for_test_db() -> str:
    from django.db import connection

    s = connection.settings_dict
    user = s.get("USER") or "postgres"
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    host = s.get("HOST") or "127.0.0.1"
    port = s.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{s['NAME']}"


@dataclass
class WorkerHandle:
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_idle(self, *, timeout: float = 300) -> None:
        """Wait until this worker has nothing left to do: the positive signal a test waits for
        before it asserts that something did *not* happen (a duplicate email, a second run).

        A marker task is sent to the worker's queue; the worker takes messages from that one
        queue in order, one at a time (solo pool, concurrency 1, prefetch 1, acks late), so once
        the marker has run, everything queued before it has run too. The worker is idle when, in
        its log from just before the marker was sent until the marker ran, no other task started
        or ended (nothing was queued ahead of the marker, nothing was running) and every task it
        ever received has ended (none waits for its ETA, as a retry does). Any task that ran in
        between may have queued more: then look again. No beat runs beside this worker, so
        nothing starts afterwards unless the test does something."""
        wait_for(self._idle_after_a_marker, timeout=timeout, interval=0, message="the worker to be idle")

    def _idle_after_a_marker(self) -> bool:
        from celery import uuid

        from tessera_site.celery import app

        before = len(self.log())
        marker = uuid()
        # Celery's built-in accumulate task only returns its arguments: harmless on any worker.
        app.send_task("celery.accumulate", args=[marker], task_id=marker)
        ran = re.compile(rf"Task celery\.accumulate\[{marker}\] succeeded")
        wait_for(
            lambda: ran.search(self.log(), before),
            timeout=120,
            message=lambda: f"the marker task {marker} run by the worker:\n{self.log()[-3000:]}",
        )
        log = self.log()
        until = ran.search(log, before).end()  # type: ignore[union-attr]  # it ran: waited above
        others = [t for t in _TASK_LINE.findall(log, before, until) if t[1] != marker]
        received = Counter(t[1] for t in _TASK_LINE.findall(log) if t[2] == "received")
        ended = Counter(t[1] for t in _TASK_LINE.findall(log) if t[2] != "received")
        return not others and not (received - ended)


# How Celery's worker logs a task (celery.app.trace.LOG_*): "Task <name>[<id>] received", then
# "Task <name>[<id>] succeeded in …" (or "raised …", "retry: …", …) when it ends.
_TASK_LINE = re.compile(r"Task (\S+)\[([0-9a-f-]+)\] (\w+)")


def start_celery_worker(
    *, env: dict[str, str], log_path: Path, pool: str, own_session: bool = False
) -> WorkerHandle:
    """Start a real `celery worker` process and wait until it says it is ready (or fail the test).

    `own_session` puts it in its own process group, so a test can kill the main process and its
    pool children together."""
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "tessera_site",
                "worker",
                f"--pool={pool}",
                "--concurrency=1",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
                "--loglevel=INFO",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=own_session,
        )
    handle = WorkerHandle(process=process, log_path=log_path)
    deadline = time.monotonic() + 60
    while "ready." not in handle.log():
        if process.poll() is not None or time.monotonic() > deadline:
            if process.poll() is None:
                with suppress(ProcessLookupError):
                    if own_session:
                        os.killpg(process.pid, signal.SIGKILL)
                    else:
                        process.kill()
                process.wait(timeout=10)
            pytest.fail(f"celery worker did not start:\n{handle.log()[-5000:]}")
        time.sleep(0.2)
    return handle


@pytest.fixture
def celery_worker(transactional_db, tmp_path: Path) -> Iterator[WorkerHandle]:
    """A real `celery worker` process on the configured Redis broker, using the test database.

    Tests using it must commit their data (transactional_db), since the worker is another process.
    """
    if not (database_is_postgres() and broker_is_real()):
        pytest.skip("a real worker needs PostgreSQL and a Redis broker")
    from tessera_site.celery import app

    app.control.purge()  # messages left by earlier tests refer to rows that no longer exist
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_test_db(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "TESSERA_TESTING": "1",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "EMAIL_URL": os.environ.get("TESSERA_TEST_EMAIL_URL", "outbox://"),
        "TESSERA_BASE_URL": settings.TESSERA_BASE_URL,
    }
    env.update(getattr(settings, "TESSERA_TEST_WORKER_ENV", {}))
    handle = start_celery_worker(env=env, log_path=tmp_path / "celery-worker.log", pool="solo")
    yield handle
    handle.process.terminate()
    try:
        handle.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        handle.process.kill()


def wait_for(
    predicate, *, timeout: float = 60, interval: float = 0.2, message: str | Callable[[], str] = "condition"
):
    """Poll until predicate() is truthy; return its value or fail with `message` (a callable is
    asked at the failure, e.g. for the end of a log)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {message() if callable(message) else message}")


# --- A real SMTP server --------------------------------------------------------------------
@dataclass
class SmtpServer:
    host: str
    port: int
    messages: list[Message] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Addresses the server refuses at RCPT TO (550), as a real server refuses an unknown mailbox;
    # a message whose every recipient is refused fails (smtplib's SMTPRecipientsRefused).
    refuse: set[str] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def received(self) -> list[Message]:
        with self.lock:
            return list(self.messages)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server(settings) -> Iterator[SmtpServer]:
    """An aiosmtpd server on a free local port; Django (and a worker started after it) send to it."""
    from aiosmtpd.controller import Controller

    server = SmtpServer(host="127.0.0.1", port=free_port())

    class Handler:
        async def handle_RCPT(self, smtp_server, session, envelope, address, rcpt_options):  # noqa: N802
            with server.lock:
                refused = address.lower() in {a.lower() for a in server.refuse}
            if refused:
                return "550 5.1.1 Mailbox unavailable"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, smtp_server, session, envelope):  # noqa: N802 (aiosmtpd API)
            message = message_from_bytes(envelope.content)
            message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
            with server.lock:
                server.messages.append(message)
            return "250 OK"

    controller = Controller(Handler(), hostname=server.host, port=server.port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = server.host
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    os.environ["TESSERA_TEST_EMAIL_URL"] = server.url
    try:
        yield server
    finally:
        os.environ.pop("TESSERA_TEST_EMAIL_URL", None)
        controller.stop()


# --- A real browser ----------------------------------------------------------------------------
CHROMIUM = os.environ.get("TESSERA_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's Chromium driven by Playwright, one per test session.

    Playwright's sync API keeps an asyncio loop in this thread, and a second sync_playwright()
    in the same session refuses to start: every browser test shares this one.
    """
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (set TESSERA_CHROMIUM)")
    # The loop makes Django treat this thread as async and refuse the test's own ORM calls,
    # although nothing here runs concurrently.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        yield chromium
        chromium.close()
