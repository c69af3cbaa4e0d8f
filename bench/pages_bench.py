"""Benchmark of the dashboard pages: 21,000 assets on PostgreSQL, gunicorn, 8 concurrent clients.

    .venv/bin/python bench/pages_bench.py \
        --database-url postgres://postgres@127.0.0.1:5432/tessera_pagesbench [--reset]

Data: the 5,000-model manifest that bench/sync_bench.py caches (var/bench/manifest_5000_base.json,
made by ../shared/bench/gen_dbt_project.py and a real `dbt parse`) goes through the real sync service
``--copies`` times (default 3), each copy under its own project and database name (bench, bench2,
bench3: the manifest's names rewritten, nothing else), so the assets, versions, guarantees, lineage,
registrations and events are what syncs write: 7,000 assets (5,000 models, 2,000 sources) per copy,
21,000 in all, owned by the same teams, as in a dbt Mesh. (A 20,000-model `dbt parse` takes most of
an hour on the shared 2-core machine; three projects of 5,000 models are also a realistic Mesh.)
On top, what a team lead's morning looks like: open proposals waiting for the lead's team and
proposed by it (with some answers), one audit run per asset (10% failing) and a history for some.

Then gunicorn serves the site as the README's production command runs it (4 sync workers, DEBUG
off, persistent database connections), and ``--clients`` threads (8), each with its own signed-in
session, request in a loop: the home page, the asset list (first page, a search, a filtered and
sorted page deep in the list, the failing-audit filter) and asset pages of random assets.
Latencies are per request, measured by the clients (wall clock, keep-alive HTTP/1.1). Targets
(issue #17): p50 under 100 ms and p95 under 300 ms for home, asset list and asset page.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
MANIFEST = ROOT / "var" / "bench" / "manifest_5000_base.json"
PLATFORM = "bench-platform"
CONSUMER = "bench-consumers"
USER = "bench-lead"
TARGET_P50_MS = 100.0
TARGET_P95_MS = 300.0


def django_env(database_url: str, var_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "DEBUG": "0",
        "SECRET_KEY": "pages-bench-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "TESSERA_VAR_DIR": str(var_dir),
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "SECURE_HSTS_SECONDS": "0",
        "DB_CONN_MAX_AGE": "60",
        "LOG_LEVEL": "WARNING",
    }


def setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tessera_site.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def fresh_database(database_url: str) -> None:
    import psycopg

    base, _, name = database_url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def manifest_copy(data: bytes, k: int) -> bytes:
    """The benchmark project as its k-th copy: project ``bench<k>`` in database ``memory<k>``, so
    its relations and node ids are its own (the generator writes these names nowhere else)."""
    if k == 1:
        return data
    name = f"bench{k}".encode()
    return (
        data.replace(b'"bench"', b'"' + name + b'"')
        .replace(b".bench.", b"." + name + b".")
        .replace(b"bench://", name + b"://")
        .replace(b'"memory"', b'"memory%d"' % k)
        .replace(b'\\"memory\\"', b'\\"memory%d\\"' % k)
    )


def load(env: dict[str, str], copies: int) -> dict[str, object]:
    """Sync the 5,000-model manifest ``copies`` times and add a morning's worth of proposals and
    audits (idempotent)."""
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from contracts.models import Project

    if Project.objects.count() >= copies:
        return {"loaded": "reused"}
    if not MANIFEST.exists():
        sys.exit(
            f"{MANIFEST} is missing: run bench/sync_bench.py --sizes 5000 first (it builds and caches it)"
        )
    from contracts.services.sync import sync_submit
    from contracts.services.teams import team_ensure
    from contracts.tasks.sync import sync_run_task
    from tessera_site.lib.auth import SYSTEM

    team_ensure(slug=PLATFORM)
    started = time.perf_counter()
    data = MANIFEST.read_bytes()
    for k in range(1, copies + 1):
        run = sync_submit(manifest=manifest_copy(data, k), team_slug=PLATFORM, actor=SYSTEM)
        outcome = sync_run_task(run.pk)
        run.refresh_from_db()
        if run.status != "succeeded":
            sys.exit(f"sync {k} failed ({outcome}): {run.error}")
        print(f"synced copy {k} of {copies}", flush=True)
    sync_seconds = time.perf_counter() - started
    extras = add_morning()
    return {"loaded": "synced", "sync_seconds": round(sync_seconds, 1), **extras}


def add_morning() -> dict[str, int]:
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.db.models import Count
    from django.utils import timezone

    from audits.models import AuditRun
    from contracts.models import Acknowledgment, Asset, Proposal, Registration, Team, TeamMembership
    from contracts.services.teams import team_ensure

    rng = random.Random(7)
    now = timezone.now()
    with transaction.atomic():
        consumer, _ = team_ensure(slug=CONSUMER)
        # The lead also leads the team owning the most assets, so home shows both sides.
        producer = Team.objects.annotate(n=Count("owned_assets")).order_by("-n").first()
        user = get_user_model().objects.create_user(USER, "lead@example.com", "bench-password")
        TeamMembership.objects.create(team=consumer, user=user, role="lead")
        TeamMembership.objects.create(team=producer, user=user, role="lead")
        others = list(Team.objects.exclude(pk__in=[consumer.pk, producer.pk]).order_by("slug")[:6])
        asset_ids = list(Asset.objects.values_list("pk", flat=True))
        used = rng.sample(asset_ids, 400)
        Registration.objects.bulk_create(
            [Registration(asset_id=a, team=consumer, origin="manual") for a in used], ignore_conflicts=True
        )
        verdict = {
            "mode": "backward",
            "breaking": True,
            "bump": "major",
            "summary": "Breaking under backward: 1 breaking change (major version).",
            "reasons": [
                "Column amount (decimal(12,2)) was removed. Breaking under backward "
                "(backward: existing consumers' queries that select it fail)."
            ],
            "changes": [],
            "breaking_changes": [],
        }
        proposals = []
        waiting_on = [a for a in used if a not in set(producer.owned_assets.values_list("pk", flat=True))][
            :40
        ]
        for a in waiting_on:
            proposals.append(
                Proposal(
                    asset_id=a, proposed_hash=f"{a:064x}", verdict=verdict, deadline=now + timedelta(days=10)
                )
            )
        ours = list(producer.owned_assets.values_list("pk", flat=True)[:40])
        for a in ours:
            proposals.append(
                Proposal(
                    asset_id=a,
                    proposed_hash=f"{a + 10**9:064x}",
                    verdict=verdict,
                    deadline=now + timedelta(days=7),
                )
            )
        proposals = Proposal.objects.bulk_create(proposals)
        through = Proposal.required_teams.through
        links, acks = [], []
        for p in proposals:
            required = (
                [consumer, *rng.sample(others, 2)] if p.asset_id in waiting_on else rng.sample(others, 3)
            )
            links += [through(proposal_id=p.pk, team_id=t.pk) for t in required]
            acks.append(
                Acknowledgment(proposal=p, team=required[1], answer="approved", answered_by_label="bench")
            )
        through.objects.bulk_create(links)
        Acknowledgment.objects.bulk_create(acks)
        runs = []
        for a in asset_ids:
            failed = rng.random() < 0.1
            runs.append(
                AuditRun(
                    asset_id=a,
                    tool="dbt",
                    status="failed" if failed else "passed",
                    checked=8,
                    passed=7 if failed else 8,
                    failed=1 if failed else 0,
                    run_at=now - timedelta(hours=1),
                )
            )
        for a in rng.sample(asset_ids, 500):
            for day in range(1, 11):
                runs.append(
                    AuditRun(
                        asset_id=a,
                        tool="dbt",
                        status="passed",
                        checked=8,
                        passed=8,
                        run_at=now - timedelta(days=day),
                    )
                )
        AuditRun.objects.bulk_create(runs, batch_size=2000)
    return {"proposals": len(proposals), "audit_runs": len(runs), "registrations_added": len(used)}


def session_cookies(n: int) -> list[str]:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.sessions.backends.db import SessionStore

    user = get_user_model().objects.get(username=USER)
    cookies = []
    for _ in range(n):
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        cookies.append(f"{settings.SESSION_COOKIE_NAME}={store.session_key}")
    return cookies


def page_plan(
    rng: random.Random, asset_ids: list[int], team: str, project: str, words: list[str]
) -> list[tuple[str, str]]:
    return [
        ("home", "/"),
        ("asset list", "/assets/"),
        ("asset list", "/assets/?" + urlencode({"q": rng.choice(words)})),
        ("asset list", "/assets/?" + urlencode({"team": team, "sort": "-version", "page": 3})),
        ("asset list", "/assets/?" + urlencode({"status": "failing_audit", "project": project})),
        ("asset page", f"/assets/{rng.choice(asset_ids)}/"),
        ("asset page", f"/assets/{rng.choice(asset_ids)}/"),
    ]


def client(
    port: int,
    cookie: str,
    plan: list[tuple[str, str]],
    results: dict[str, list[float]],
    errors: list[str],
    lock: threading.Lock,
) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for kind, path in plan:
        started = time.perf_counter()
        conn.request("GET", path, headers={"Cookie": cookie, "Host": "127.0.0.1"})
        response = conn.getresponse()
        response.read()
        elapsed = (time.perf_counter() - started) * 1000
        with lock:
            if response.status != 200:
                errors.append(f"{path}: HTTP {response.status}")
            results.setdefault(kind, []).append(elapsed)
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tessera_pagesbench"),
    )
    parser.add_argument("--reset", action="store_true", help="drop and reload the database")
    parser.add_argument("--rounds", type=int, default=30, help="rounds per client (7 requests each)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--copies", type=int, default=3, help="copies of the 5,000-model project")
    parser.add_argument("--load-only", action="store_true", help="load the data, then stop (for profiling)")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()

    var_dir = Path(tempfile.mkdtemp(prefix="pagesbench-"))
    env = django_env(args.database_url, var_dir)
    if args.reset:
        fresh_database(args.database_url)
    setup_django(env)
    loaded = load(env, args.copies)
    print("data:", json.dumps(loaded))
    from django.db import connection

    with connection.cursor() as cursor:
        # Bulk loads leave the planner without statistics and the synced tables with dead rows; autovacuum
        # would catch up in production. Also before --load-only: a profile of an unanalysed database
        # shows plans production never gets.
        cursor.execute("VACUUM ANALYZE")
    if args.load_only:
        return
    subprocess.run([PY, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)

    from contracts.models import Asset, Project, Team

    asset_ids = list(Asset.objects.values_list("pk", flat=True))
    team = (
        Team.objects.filter(memberships__user__username=USER)
        .exclude(slug=CONSUMER)
        .values_list("slug", flat=True)[0]
    )
    project = Project.objects.values_list("name", flat=True).first() or ""
    # Searches people type: part of an asset's name (a system, an entity), a column name. Every
    # 100th asset, not a random sample, so two runs (before / after a change) ask the same words.
    names = list(Asset.objects.order_by("pk").values_list("name", flat=True)[::100])
    words = sorted({part for name in names for part in name.split("__")[-1].split("_") if len(part) > 3})
    words += ["customer_id", "stg_", "orders"]
    cookies = session_cookies(args.clients)

    server = subprocess.Popen(
        [
            GUNICORN,
            "tessera_site.wsgi:application",
            "--workers",
            str(args.workers),
            "--bind",
            f"127.0.0.1:{args.port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=5)
                conn.request("GET", "/accounts/login/")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                sys.exit("gunicorn did not start")
            time.sleep(0.3)

        rng = random.Random(11)
        lock = threading.Lock()
        # Warm-up: every worker opens its database connection and loads its templates.
        warm: dict[str, list[float]] = {}
        threads = [
            threading.Thread(
                target=client,
                args=(args.port, c, page_plan(rng, asset_ids, team, project, words) * 2, warm, [], lock),
            )
            for c in cookies
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

        results: dict[str, list[float]] = {}
        errors: list[str] = []
        plans = [
            sum((page_plan(rng, asset_ids, team, project, words) for _ in range(args.rounds)), [])
            for _ in cookies
        ]
        load_before = os.getloadavg()[0]
        started = time.perf_counter()
        threads = [
            threading.Thread(target=client, args=(args.port, c, plan, results, errors, lock))
            for c, plan in zip(cookies, plans, strict=True)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)

    total = sum(len(v) for v in results.values())
    print(
        f"{total} requests by {args.clients} clients in {wall:.1f} s ({total / wall:.1f} req/s); errors: {len(errors)}"
    )
    for e in errors[:5]:
        print("  ", e)
    load_after = os.getloadavg()[0]
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    machine = f"{os.cpu_count()}-vCPU VM, load avg {load_before:.1f}-{load_after:.1f} (shared)"
    print(
        f"| date | machine | page, clients | requests | p50 | p95 | max | target p50 < {TARGET_P50_MS:.0f} ms, p95 < {TARGET_P95_MS:.0f} ms |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for kind in ("home", "asset list", "asset page"):
        values = sorted(results.get(kind, []))
        median = statistics.median(values)
        p95 = values[max(0, int(len(values) * 0.95) - 1)]
        ok = "ok" if median < TARGET_P50_MS and p95 < TARGET_P95_MS else "MISSED"
        print(
            f"| {stamp} | {machine} | {kind}, {args.clients} | {len(values)} | {median:.0f} ms | {p95:.0f} ms "
            f"| {values[-1]:.0f} ms | {ok} |"
        )
    print(f"{total / wall:.1f} requests/s; data: {json.dumps(loaded)}")


if __name__ == "__main__":
    main()
