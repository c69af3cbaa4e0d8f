"""Benchmark of the lineage page's graph responses at 20,000 assets (issue #17: the first graph
response under 150 KB).

    .venv/bin/python bench/lineage_bench.py \
        --database-url postgres://postgres@127.0.0.1:5432/tessera_lineagebench [--assets 20000] [--readme]
    # or the real sync of a cached manifest (see bench/sync_bench.py) instead of generated rows:
    .venv/bin/python bench/lineage_bench.py --manifest var/bench/manifest_20000_base.json

Data (generated, deterministic: seed 17): a dbt Mesh of 24 projects owned by 8 platform teams;
each project has sources, staging, intermediate models (owned by its platform team) and marts
owned by one of 12 domain teams, so a project holds two to four owner teams. Each model reads one
to three assets of the layers before it; a mart reads another project's mart one time in four.
The rows go in with bulk inserts (a sync of 20,000 models would take minutes and make the same
rows). Then, in-process through Django's test client (DEBUG off), the responses the lineage page
asks for: the first view (no focus), the largest group opened, one of its ranges opened, the
flat view (`?view=assets`, capped at 2,000 assets) and one asset's neighbourhood. Sizes are the
response bodies uncompressed; times are the median of 5 requests after one warm-up.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEED = 17
TARGET_BYTES = 150 * 1024


def setup(database_url: str) -> None:
    os.environ.update(
        {
            "DATABASE_URL": database_url,
            "DEBUG": "0",
            "SECRET_KEY": "lineage-bench-" + "x" * 50,
            "ALLOWED_HOSTS": "testserver,127.0.0.1",
            "TESSERA_VAR_DIR": tempfile.mkdtemp(prefix="lineagebench-"),
            "SECURE_SSL_REDIRECT": "0",
            "LOG_LEVEL": "WARNING",
        }
    )
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


def generate(n_assets: int) -> dict[str, int]:
    """The mesh described above, written with bulk inserts."""
    from django.db import transaction

    from contracts.models import Asset, LineageEdge, Project, Team

    rng = random.Random(SEED)
    with transaction.atomic():
        platforms = Team.objects.bulk_create(
            [Team(slug=f"platform-{i}", name=f"Platform {i}") for i in range(8)]
        )
        domains = Team.objects.bulk_create([Team(slug=f"domain-{i}", name=f"Domain {i}") for i in range(12)])
        projects = Project.objects.bulk_create(
            [Project(name=f"mesh_{i:02}", owner_team=platforms[i % 8]) for i in range(24)]
        )
        per_project = n_assets // len(projects)
        rows: list[Asset] = []
        for project in projects:
            marts_by = rng.sample(domains, rng.randint(1, 3))
            for i in range(per_project):
                share = i / per_project
                layer = "src" if share < 0.2 else "stg" if share < 0.45 else "int" if share < 0.7 else "mart"
                owner = rng.choice(marts_by) if layer == "mart" else project.owner_team
                name = f"{layer}_{project.name}_{i:05}"
                rows.append(
                    Asset(
                        relation=f"{project.name}.main.{name}",
                        unique_id=f"model.{project.name}.{name}",
                        project=project,
                        owner_team=owner,
                        name=name,
                        resource_type="source" if layer == "src" else "model",
                    )
                )
        assets = Asset.objects.bulk_create(rows, batch_size=5000)
        edges = _edges(rng, assets, per_project)
        LineageEdge.objects.bulk_create(
            [LineageEdge(upstream_id=u, downstream_id=d) for u, d in edges], batch_size=10000
        )
    return {"assets": len(assets), "edges": len(edges), "projects": len(projects)}


def _edges(rng: random.Random, assets: list, per_project: int) -> set[tuple[int, int]]:
    edges: set[tuple[int, int]] = set()
    for p in range(len(assets) // per_project):
        block = assets[p * per_project : (p + 1) * per_project]
        first_model = int(per_project * 0.2)
        for i in range(first_model, len(block)):
            for _ in range(rng.randint(1, 3)):
                edges.add((rng.choice(block[: max(1, i)]).pk, block[i].pk))
            if (
                i >= int(per_project * 0.7) and p and rng.random() < 0.25
            ):  # a mart reading another project's mart
                other = rng.randrange(p)
                mart = rng.randrange(int(per_project * 0.7), per_project)
                edges.add((assets[other * per_project + mart].pk, block[i].pk))
    return edges


def sync_manifest(path: Path) -> dict[str, object]:
    from contracts.services.sync import sync_submit
    from contracts.services.teams import team_ensure
    from contracts.tasks.sync import sync_run_task
    from tessera_site.lib.auth import SYSTEM

    team_ensure(slug="bench-platform")
    run = sync_submit(manifest=path.read_bytes(), team_slug="bench-platform", actor=SYSTEM)
    sync_run_task(run.pk)
    run.refresh_from_db()
    if run.status != "succeeded":
        sys.exit(f"sync failed: {run.error}")
    return {"manifest": path.name}


def measure(client, url: str, params: dict | list | None = None) -> tuple[int, float, dict]:
    client.get(url, params or {})  # warm-up
    times, body = [], b""
    for _ in range(5):
        started = time.perf_counter()
        response = client.get(url, params or {})
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
        body = response.content
    import json

    return len(body), statistics.median(times), json.loads(body)


def run(args: argparse.Namespace) -> list[tuple[str, int, int, float]]:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from contracts.models import Asset

    call_command("migrate", verbosity=0)
    if Asset.objects.count() < args.assets * 0.9:
        loaded = sync_manifest(Path(args.manifest)) if args.manifest else generate(args.assets)
        print("data:", loaded)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    user, _ = get_user_model().objects.get_or_create(username="lineage-bench")
    client = Client()
    client.force_login(user)
    url = reverse("lineage_json")
    rows = []
    size, ms, first = measure(client, url)
    rows.append(("first view (groups)", size, len(first["nodes"]), ms))
    biggest = max((n for n in first["nodes"] if n["kind"] == "cluster"), key=lambda n: n["size"])
    size, ms, opened = measure(client, url, {"expand": [biggest["id"]]})
    rows.append((f"largest group opened ({biggest['size']} assets)", size, len(opened["nodes"]), ms))
    a_range = next(n for n in opened["nodes"] if n["id"].startswith(biggest["id"] + ":"))
    size, ms, ranged = measure(client, url, {"expand": [biggest["id"], a_range["id"]]})
    rows.append((f"and one range opened ({a_range['size']} assets)", size, len(ranged["nodes"]), ms))
    size, ms, flat = measure(client, url, {"view": "assets"})
    rows.append(("every asset (?view=assets, capped)", size, len(flat["nodes"]), ms))
    focus = (
        ranged["nodes"][-1].get("asset_id") or Asset.objects.order_by("pk").values_list("pk", flat=True)[0]
    )
    size, ms, around = measure(client, url, {"focus": focus, "hops": 2})
    rows.append(("one asset, 2 hops", size, len(around["nodes"]), ms))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tessera_lineagebench"
        ),
    )
    parser.add_argument("--assets", type=int, default=20000)
    parser.add_argument("--manifest", help="sync this manifest instead of generating rows")
    parser.add_argument("--reset", action="store_true", help="drop and reload the database")
    parser.add_argument("--readme", action="store_true", help="print the rows for bench/README.md")
    args = parser.parse_args()
    if args.reset:
        fresh_database(args.database_url)
    setup(args.database_url)
    rows = run(args)
    from django.urls import reverse

    print(f"lineage graph JSON ({reverse('lineage_json')}), target: first view < {TARGET_BYTES // 1024} KB")
    for what, size, boxes, ms in rows:
        print(f"  {what:45} {size / 1024:8.1f} KB  {boxes:5} boxes  median {ms:7.1f} ms")
    if args.readme:
        load = os.getloadavg()[0]
        stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        for what, size, boxes, ms in rows:
            print(
                f"| {stamp} | {os.cpu_count()}-vCPU VM, load avg {load:.1f} (shared) | {what} | {size / 1024:.1f} KB | {boxes} | {ms:.0f} ms |"
            )


if __name__ == "__main__":
    main()
