"""Real parts for the durability tests: a private redis-server that a test may stop and start (the
shared broker is never touched), and Celery worker processes (with beat) that a test may kill."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings

from testsupport.fixtures import WorkerHandle, database_url_for_test_db, free_port, start_celery_worker

ROOT = Path(__file__).resolve().parents[2]
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


@dataclass
class PrivateRedis:
    """A redis-server on a free port, without persistence: stopping it loses every message, the
    worst case a broker outage can be."""

    port: int
    workdir: Path
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            cwd=self.workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


@contextmanager
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    if not Path(REDIS_SERVER).exists():
        pytest.skip("redis-server is not installed")
    redis = PrivateRedis(port=free_port(), workdir=tmp_path)
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()


@contextmanager
def producer_broker(url: str) -> Iterator[None]:
    """Make this test process publish to ``url`` (the web side of the test), then restore."""
    from tessera_site.celery import app

    def forget_pools() -> None:
        # The connection and producer pools were built for the previous URL (as after a fork).
        app._pool = None
        app.amqp._producer_pool = None

    previous = app.conf.broker_url
    app.conf.broker_url = url
    forget_pools()
    try:
        yield
    finally:
        app.conf.broker_url = previous
        forget_pools()


class Worker(WorkerHandle):
    def children(self) -> list[int]:
        out = subprocess.run(
            ["ps", "-o", "pid=", "--ppid", str(self.process.pid)], capture_output=True, text=True, check=False
        )
        return [int(pid) for pid in out.stdout.split()]

    def kill_everything(self) -> None:
        """SIGKILL the whole worker: main process, pool children and the embedded beat."""
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill_everything()


def _env(broker_url: str, extra: dict[str, str] | None) -> dict[str, str]:
    """Short leases and a fast sweep keep the tests quick; the logic is the production one."""
    return {
        **os.environ,
        "DATABASE_URL": database_url_for_test_db(),
        "CELERY_BROKER_URL": broker_url,
        "TESSERA_TESTING": "1",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "EMAIL_URL": os.environ.get("TESSERA_TEST_EMAIL_URL", "outbox://"),
        "TESSERA_BASE_URL": settings.TESSERA_BASE_URL,
        "TESSERA_JOB_LEASE_SECONDS": "4",
        "TESSERA_SWEEP_SECONDS": "1",
        "TESSERA_SWEEP_STALE_SECONDS": "2",
        **(extra or {}),
    }


def start_beat(*, broker_url: str, log_path: Path, env: dict[str, str] | None = None) -> Worker:
    """`celery beat` (the sweep runs every second here), as its own process as in production."""
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "tessera_site",
                "beat",
                f"--schedule={log_path.with_suffix('.schedule')}",
                "--loglevel=INFO",
            ],
            cwd=ROOT,
            env=_env(broker_url, env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Worker(process=process, log_path=log_path)


def start_worker(*, broker_url: str, log_path: Path, env: dict[str, str] | None = None) -> Worker:
    """A real `celery worker` (prefork with one pool child, as in production) on the test database."""
    handle = start_celery_worker(
        env=_env(broker_url, env), log_path=log_path, pool="prefork", own_session=True
    )
    return Worker(process=handle.process, log_path=handle.log_path)
