"""Benchmark of job status latency: from a sync's end to the status URL (and ``?wait=true``) saying so.

    .venv/bin/python bench/status_bench.py --syncs 20 \
        --database-url postgres://postgres@127.0.0.1:5432/tessera_statusbench \
        --broker-url redis://127.0.0.1:6379/6 [--code-dir DIR] [--readme]

Production shape: a real Celery worker (``celery -A tessera_site worker``) on Redis and gunicorn
(4 workers, DEBUG off, as the README runs it; ``--timeout 600`` so a long ``?wait=true`` is not
cut) on PostgreSQL. Input: the 5,000-model manifest bench/sync_bench.py caches
(var/bench/manifest_5000_base.json, from ../shared/bench/gen_dbt_project.py and a real
``dbt parse``). Each round starts from an empty project (the synced tables truncated; the team and
its API key kept), so every sync is a first sync of 7,000 assets, the one with most to commit.

Per round, three observers watch one sync, all on this machine's clock:

* the *wait client* POSTs the manifest with ``?wait=true`` and notes when the reply arrives;
* the *poll client* finds the new run's id and GETs its status URL back to back (keep-alive) until
  it says ``succeeded``, noting when that reply arrived;
* a *commit listener* (its own PostgreSQL connection, ``LISTEN tessera_job_done``) notes when the
  job's end notification arrives, i.e. when the worker's transaction committed (code before the
  NOTIFY existed: the run's ``finished_at`` stands in).

Latency is measured from the row's ``finished_at`` (the worker's clock when it stamped the row) and
from the commit. Target (issue #17): median of 20 syncs ≤ 0.2 s; ``?wait=true`` within 0.1 s of the
end. ``--code-dir`` runs the worker and gunicorn from another checkout (e.g. main before a change,
``git archive``) with this venv, to measure before and after the same way.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
MANIFEST = ROOT / "var" / "bench" / "manifest_5000_base.json"
TEAM = "bench-platform"
KEEP = ("contracts_team", "contracts_apikey", "contracts_teammembership")


def django_env(database_url: str, broker_url: str, var_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker_url,
        "DEBUG": "0",
        "SECRET_KEY": "status-bench-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "TESSERA_VAR_DIR": str(var_dir),
        "MEDIA_ROOT": str(var_dir / "media"),
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "SECURE_HSTS_SECONDS": "0",
        "LOG_LEVEL": "WARNING",
    }


def setup(env: dict[str, str], database_url: str) -> str:
    """A fresh, migrated database with the bench team and a write key; returns the key's secret."""
    import psycopg

    base, _, name = database_url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tessera_site.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from contracts.services.apikeys import apikey_create
    from contracts.services.teams import team_ensure

    team, _ = team_ensure(slug=TEAM)
    _, secret = apikey_create(team=team, name="bench", scopes="read,write")
    return secret


def empty_project(database_url: str) -> None:
    """Every synced table emptied (the bench team and its key kept), teams the sync created gone."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                " AND (tablename LIKE 'contracts\\_%' OR tablename LIKE 'audits\\_%')"
            )
            if r[0] not in KEEP
        ]
        conn.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE")
        conn.execute("DELETE FROM contracts_team WHERE slug <> %s", [TEAM])
        conn.execute("VACUUM ANALYZE")


def start(cmd: list[str], cwd: Path, env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)


def wait_ready(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and server.poll() is None:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/v1/syncs/0")
            conn.getresponse().read()
            return  # it answers (the 401/404 does not matter)
        except OSError:
            time.sleep(0.3)
    sys.exit("gunicorn did not start")


class Round:
    """One sync watched by the wait client, the poll client and the commit listener."""

    def __init__(self, port: int, secret: str, database_url: str, body: bytes, last_id: int) -> None:
        self.port, self.secret, self.database_url, self.body, self.last_id = (
            port,
            secret,
            database_url,
            body,
            last_id,
        )
        self.sync_id = 0
        self.notified: dict[str, float] = {}
        self.wait_reply_at = self.poll_seen_at = 0.0
        self.polls = 0
        self.wait_status = ""
        self.listening = threading.Event()
        self.stop = threading.Event()

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret}", "Host": "127.0.0.1"}

    def listen(self) -> None:
        import psycopg

        with psycopg.connect(self.database_url, autocommit=True) as conn:
            conn.execute("LISTEN tessera_job_done")
            self.listening.set()
            while not self.stop.is_set():
                for note in conn.notifies(timeout=0.5):
                    self.notified.setdefault(note.payload, time.time())

    def wait_client(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=900)
        headers = {**self.headers(), "Content-Type": "application/json"}
        conn.request("POST", f"/api/v1/sync/dbt?team={TEAM}&wait=true", body=self.body, headers=headers)
        response = conn.getresponse()
        payload = response.read()
        self.wait_reply_at = time.time()
        self.wait_status = f"{response.status} {json.loads(payload).get('status')}"

    def poll_client(self) -> None:
        import psycopg

        with psycopg.connect(self.database_url, autocommit=True) as db:  # only to learn the new id
            while not self.sync_id and not self.stop.is_set():
                row = db.execute("SELECT max(id) FROM contracts_syncrun").fetchone()
                if row and row[0] and row[0] > self.last_id:
                    self.sync_id = row[0]
                else:
                    time.sleep(0.05)
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        while not self.stop.is_set():
            conn.request("GET", f"/api/v1/syncs/{self.sync_id}", headers=self.headers())
            response = conn.getresponse()
            status = json.loads(response.read()).get("status")
            self.polls += 1
            if status in ("succeeded", "failed"):
                self.poll_seen_at = time.time()
                return

    def run(self) -> dict[str, object]:
        listener = threading.Thread(target=self.listen, daemon=True)
        listener.start()
        self.listening.wait(30)
        threads = [threading.Thread(target=self.wait_client), threading.Thread(target=self.poll_client)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        time.sleep(0.6)  # let the listener note a late notification
        self.stop.set()
        listener.join()
        return self.figures()

    def figures(self) -> dict[str, object]:
        import psycopg

        with psycopg.connect(self.database_url) as db:
            finished, started, status = db.execute(
                "SELECT extract(epoch FROM finished_at), extract(epoch FROM started_at), status"
                " FROM contracts_syncrun WHERE id = %s",
                [self.sync_id],
            ).fetchone()
        finished = float(finished)
        committed = self.notified.get(f"contracts_syncrun:{self.sync_id}")
        end = committed if committed is not None else finished
        return {
            "sync_id": self.sync_id,
            "status": status,
            "wait_reply": self.wait_status,
            "sync_seconds": round(finished - float(started), 2),
            "commit_after_finished_at": None if committed is None else round(committed - finished, 4),
            "poll_after_finished_at": round(self.poll_seen_at - finished, 4),
            "wait_after_finished_at": round(self.wait_reply_at - finished, 4),
            "poll_after_commit": round(self.poll_seen_at - end, 4),
            "wait_after_commit": round(self.wait_reply_at - end, 4),
            "polls": self.polls,
        }


def summarize(rounds: list[dict[str, object]]) -> dict[str, dict[str, float]]:
    out = {}
    for key in (
        "commit_after_finished_at",
        "poll_after_finished_at",
        "wait_after_finished_at",
        "poll_after_commit",
        "wait_after_commit",
        "sync_seconds",
    ):
        values = sorted(float(r[key]) for r in rounds if r[key] is not None)  # type: ignore[arg-type]
        if values:
            out[key] = {
                "median": round(statistics.median(values), 3),
                "max": round(values[-1], 3),
                "min": round(values[0], 3),
            }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tessera_statusbench"
        ),
    )
    parser.add_argument(
        "--broker-url", default=os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/6")
    )
    parser.add_argument("--syncs", type=int, default=20)
    parser.add_argument("--manifest", type=Path, default=MANIFEST)
    parser.add_argument("--code-dir", type=Path, default=ROOT, help="checkout the worker and gunicorn run")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--label", default="", help="a name for this run in the results file")
    args = parser.parse_args()
    if not args.manifest.exists():
        sys.exit(f"{args.manifest} is missing: run bench/sync_bench.py --sizes 5000 first (it builds it)")

    var_dir = Path(tempfile.mkdtemp(prefix="statusbench-"))
    env = django_env(args.database_url, args.broker_url, var_dir)
    secret = setup(env, args.database_url)
    log = var_dir / "servers.log"
    worker = start(
        [PY, "-m", "celery", "-A", "tessera_site", "worker", "--loglevel=WARNING", "--without-gossip",
         "--without-mingle"],
        args.code_dir, env, log,
    )  # fmt: skip
    server = start(
        [PY, "-m", "gunicorn", "tessera_site.wsgi:application", "--workers", "4", "--timeout", "600",
         "--bind", f"127.0.0.1:{args.port}", "--log-level", "warning"],
        args.code_dir, env, log,
    )  # fmt: skip
    body = args.manifest.read_bytes()
    rounds: list[dict[str, object]] = []
    loads = []
    try:
        wait_ready(args.port, server)
        last_id = 0
        for i in range(args.syncs):
            empty_project(args.database_url)
            figures = Round(args.port, secret, args.database_url, body, last_id).run()
            last_id = int(figures["sync_id"])  # type: ignore[call-overload]
            loads.append(os.getloadavg()[0])
            rounds.append(figures)
            print(f"sync {i + 1}/{args.syncs}: {json.dumps(figures)}  load {loads[-1]:.1f}", flush=True)
    finally:
        server.terminate()
        worker.terminate()
        server.wait(timeout=30)
        worker.wait(timeout=60)
    summary = summarize(rounds)
    result = {
        "label": args.label,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "code_dir": str(args.code_dir),
        "cpus": os.cpu_count(),
        "load_avg": [round(min(loads), 1), round(max(loads), 1)],
        "manifest": str(args.manifest),
        "summary": summary,
        "rounds": rounds,
    }
    print(json.dumps({k: result[k] for k in ("label", "date", "load_avg", "summary")}, indent=1))
    out = ROOT / "var" / "bench" / "status_results.json"
    previous = json.loads(out.read_text()) if out.exists() else []
    out.write_text(json.dumps([*previous, result], indent=1))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
