"""Benchmark: ingesting a dbt run_results.json of 10,000 test results (target: under 5 s on PostgreSQL).

    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/tessera_bench_audits \
        .venv/bin/python bench/audit_bench.py [--tests 10000] [--tests-per-asset 10]

Uses the given database (migrates it; use a scratch one). It writes a synthetic project of
assets whose active contracts carry one guarantee per test, then a run_results.json shaped
exactly like dbt 1.11's (each result copied from a real one in audits/tests/fixtures and given
its own unique_id; 2% fail, 1% skipped), and times ``audit_ingest_run_results``: parse, match by
unique_id, write one AuditRun per asset and one CheckResult per test. It then times the same
file again (recognised as already recorded: nothing written).
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tessera_site.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

import orjson  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, reset_queries, transaction  # noqa: E402

from audits.models import AuditRun, CheckResult  # noqa: E402
from audits.services import audit_ingest_run_results  # noqa: E402
from contracts.models import Asset, ContractVersion, Guarantee, Project, Team  # noqa: E402
from tessera_site.lib.auth import SYSTEM  # noqa: E402

PROJECT = "audit_bench"


def build_world(*, tests: int, per_asset: int) -> list[str]:
    """Assets with active versions and one guarantee per test; returns the tests' unique_ids."""
    with transaction.atomic():
        Project.objects.filter(name=PROJECT).delete()
        Asset.objects.filter(relation__startswith=f"{PROJECT}.").delete()
        team, _ = Team.objects.get_or_create(slug="bench-team", defaults={"name": "Bench team"})
        project = Project.objects.create(name=PROJECT, owner_team=team)
        n_assets = -(-tests // per_asset)
        assets = Asset.objects.bulk_create(
            [
                Asset(
                    relation=f"{PROJECT}.main.model_{i}",
                    unique_id=f"model.{PROJECT}.model_{i}",
                    project=project,
                    owner_team=team,
                    name=f"model_{i}",
                    database=PROJECT,
                    schema="main",
                    identifier=f"model_{i}",
                )  # fmt: skip
                for i in range(n_assets)
            ]
        )
        versions = ContractVersion.objects.bulk_create(
            [ContractVersion(asset=a, content_hash=f"{a.pk:064x}", status="active") for a in assets]
        )
        for asset, version in zip(assets, versions, strict=True):
            asset.active_version = version
            asset.active_major = version.major
        Asset.objects.bulk_update(assets, ["active_version", "active_major"], batch_size=2000)
        unique_ids: list[str] = []
        rows = []
        for i in range(tests):
            asset, version = assets[i // per_asset], versions[i // per_asset]
            uid = f"test.{PROJECT}.not_null_model_{i // per_asset}_col_{i % per_asset}.{i:010x}"
            unique_ids.append(uid)
            rows.append(
                Guarantee(
                    version=version,
                    asset=asset,
                    key=f"not_null:col_{i % per_asset}",
                    kind="not_null",
                    column=f"col_{i % per_asset}",
                    test_unique_id=uid,
                )  # fmt: skip
            )
        Guarantee.objects.bulk_create(rows, batch_size=5000)
    return unique_ids


def run_results(unique_ids: list[str]) -> bytes:
    real = orjson.loads((ROOT / "audits/tests/fixtures/dbt_core_build_pass.json").read_bytes())
    template = next(r for r in real["results"] if r["unique_id"].startswith("test."))
    results = []
    for i, uid in enumerate(unique_ids):
        result = copy.deepcopy(template)
        result["unique_id"] = uid
        if i % 50 == 7:
            result.update(status="fail", failures=3, message="Got 3 results, configured to fail if != 0")
        elif i % 100 == 13:
            result.update(status="skipped", failures=None, message=None)
        results.append(result)
    real["results"] = results
    real["metadata"]["invocation_id"] = str(uuid.uuid4())
    return orjson.dumps(real)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tests", type=int, default=10_000)
    parser.add_argument("--tests-per-asset", type=int, default=10)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    unique_ids = build_world(tests=args.tests, per_asset=args.tests_per_asset)
    data = run_results(unique_ids)
    print(f"setup: {len(unique_ids):,} guarantees, run_results {len(data) / 1e6:.1f} MB "
          f"({time.perf_counter() - started:.1f} s)")  # fmt: skip

    from django.conf import settings

    settings.DEBUG = True  # count queries
    reset_queries()
    t0 = time.perf_counter()
    summary = audit_ingest_run_results(run_results=data, actor=SYSTEM)
    first = time.perf_counter() - t0
    queries = len(connection.queries)
    runs = AuditRun.objects.filter(asset__project__name=PROJECT).count()
    checks = CheckResult.objects.filter(audit_run__asset__project__name=PROJECT).count()
    statuses = {s: sum(1 for r in summary.runs if r["status"] == s) for s in ("passed", "failed", "partial")}

    reset_queries()
    t1 = time.perf_counter()
    again = audit_ingest_run_results(run_results=data, actor=SYSTEM)
    second = time.perf_counter() - t1

    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    print(
        f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} cpus, Python {platform.python_version()}"
    )
    print(f"ingest {args.tests:,} test results: {first:.2f} s, {queries} queries -> {runs} runs "
          f"({statuses}), {checks:,} check results, {len(summary.unmatched)} unmatched")  # fmt: skip
    print(f"same file again: {second:.2f} s, {len(again.duplicates)} runs recognised as already recorded")
    print("PASS" if first < 5 else "FAIL", "(target: under 5 s)")


if __name__ == "__main__":
    main()
