"""Where a first sync's time goes, step by step, on a freshly migrated PostgreSQL database.

    .venv/bin/python bench/first_sync_steps.py var/bench/manifest_5000_base.json \
        --database-url postgres://postgres@127.0.0.1:5432/tessera_firstsync [--runs 3]

Each run clones a migrated template database (``<name>_tmpl``, migrated once, again whenever the
migrations change: ``--remigrate``), submits the manifest (``sync_submit``, untimed) and runs the
worker's task body (``sync_run_task``) in this process, timing each step of ``sync_apply``, each
COPY by table, and the deferred foreign-key checks run at the end; wall time, and the CPU time of
this process and of its PostgreSQL backend (read from /proc: the server must run on this machine).
It prints one JSON line per run, with the rows each table received, updated and HOT-updated
(``pg_stat_user_tables``): a first sync should write each row once.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TEAM = "bench-platform"


def _admin(url: str, *statements: str) -> None:
    import psycopg

    base = url.rsplit("/", 1)[0]
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def _template(url: str, *, remigrate: bool) -> str:
    """A migrated database to clone (CREATE DATABASE ... TEMPLATE is quicker than migrating)."""
    import subprocess

    import psycopg

    base, name = url.rsplit("/", 1)
    template = f"{name}_tmpl"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [template]).fetchone()
    if exists and not remigrate:
        return template
    _admin(url, f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)', f'CREATE DATABASE "{template}"')
    env = os.environ | {"DATABASE_URL": f"{base}/{template}"}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    return template


BACKEND: list[int] = []  # the pid of the task's PostgreSQL backend, once known


def _timed(name: str, timings: dict[str, float], func: Any) -> Any:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        server = _backend_cpu(BACKEND[0]) if BACKEND else 0.0
        try:
            return func(*args, **kwargs)
        finally:
            timings[name] += time.perf_counter() - started
            if BACKEND:
                timings[f"{name} (server CPU)"] += _backend_cpu(BACKEND[0]) - server

    return wrapper


def _instrument(timings: dict[str, float]) -> None:
    """Wrap the outline's steps, the parse, each COPY (by table) and the deferred checks."""
    from contracts.services import versions as version_service
    from contracts.services.sync import apply, execute, finish
    from tessera_site.lib import bulk

    for name in dir(apply):
        if name.endswith(
            ("_resolve", "_match", "_write", "_link", "_adopt", "_open", "_judge", "_follow")
        ) or name in (
            "assets_retire",
            "sync_finish",
            "latest_versions_before",
        ):
            setattr(apply, name, _timed(f"step {name}", timings, getattr(apply, name)))
    execute._parse_run = _timed("parse", timings, execute._parse_run)
    finish._deferred_checks_now = _timed("deferred FK checks", timings, finish._deferred_checks_now)
    copy_rows = bulk.copy_rows

    timed_copy = functools.partial(_timed_copy, timings, copy_rows)
    bulk.copy_rows = timed_copy  # type: ignore[assignment]
    version_service.copy_rows = timed_copy  # type: ignore[assignment]


def _timed_copy(timings: dict[str, float], copy_rows: Any, model: Any, fields: Any, rows: Any) -> None:
    name = f"COPY {model._meta.db_table}"
    _timed(name, timings, copy_rows)(model, fields, rows)


def _backend_cpu(pid: int) -> float:
    """User + system seconds of a PostgreSQL backend (the server runs on this machine)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _table_writes(url: str) -> dict[str, list[int]]:
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT relname, n_tup_ins, n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables "
            "WHERE n_tup_ins + n_tup_upd > 0 ORDER BY relname"
        ).fetchall()
    return {name: [ins, upd, hot] for name, ins, upd, hot in rows}


def one_run(manifest: Path, url: str, template: str, timings: dict[str, float]) -> dict[str, Any]:
    name = url.rsplit("/", 1)[1]
    _admin(
        url,
        f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
        f'CREATE DATABASE "{name}" TEMPLATE "{template}"',
    )
    from django.db import connection

    from contracts.services.sync import sync_submit
    from contracts.services.teams import team_ensure
    from contracts.tasks.sync import sync_run_task
    from tessera_site.lib.auth import Actor

    connection.close()  # the previous run's database was dropped
    team_ensure(slug=TEAM)
    actor = Actor(label="bench", is_open=True, scopes=("read", "write", "admin"))
    run = sync_submit(manifest=manifest.read_bytes(), team_slug=TEAM, actor=actor)
    connection.close()
    timings.clear()
    with connection.cursor() as cursor:  # the connection the task uses: its server process's CPU
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    BACKEND[:] = [backend]
    server_cpu = _backend_cpu(backend)
    cpu, started = time.process_time(), time.perf_counter()
    outcome = sync_run_task(run.pk)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    server_cpu = _backend_cpu(backend) - server_cpu
    connection.close()
    time.sleep(1.2)  # the server flushes a backend's table statistics at most once a second
    return {
        "outcome": outcome,
        "seconds": round(seconds, 3),
        "cpu": round(cpu, 3),
        "server_cpu": round(server_cpu, 3),
        "load": os.getloadavg()[0],
        "parts": {k: round(v, 3) for k, v in sorted(timings.items(), key=lambda kv: -kv[1])},
        "writes": _table_writes(url),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("manifest", type=Path)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tessera_firstsync"),
    )
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--remigrate", action="store_true", help="migrate the template database again")
    args = parser.parse_args()
    media = Path(tempfile.mkdtemp(prefix="first_sync_media_"))  # the stored uploads, removed at the end
    os.environ.update(
        DATABASE_URL=args.database_url,
        MEDIA_ROOT=str(media),
        DEBUG="0",
        SECRET_KEY="bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        TESSERA_TESTING="1",
        CELERY_BROKER_URL="memory://",
        TESSERA_MAX_UPLOAD_BYTES=str(1024**3),
    )
    template = _template(args.database_url, remigrate=args.remigrate)
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tessera_site.settings")
    import django

    django.setup()
    timings: dict[str, float] = defaultdict(float)
    _instrument(timings)
    try:
        for _ in range(args.runs):
            print(json.dumps(one_run(args.manifest, args.database_url, template, timings)), flush=True)
    finally:
        shutil.rmtree(media, ignore_errors=True)


if __name__ == "__main__":
    main()
