"""Benchmark of the column-usage step over a 5,000-model project with compiled SQL.

    .venv/bin/python bench/column_usage_bench.py \
        --database-url postgres://postgres@127.0.0.1:5432/tessera_colbench

Input: the project written by the benchmark generator (``--models 5000 --columns 12 --seed 7``),
compiled by a real ``dbt compile --select resource_type:model --indirect-selection empty``
(dbt-duckdb, in-memory; compiling needs no tables), cached as
var/bench/column_usage_5000_manifest.json; the generator is run from where it lives, never copied.

On a freshly migrated database it syncs that manifest (the sync itself, timed for reference),
then times, in this process:

* the full pass: ``column_usage_refresh`` after the first sync (every model parsed, qualified
  against the upstream contracts, usage written);
* an identical re-sync: the sync again, then ``column_usage_refresh`` (what the re-sync adds);
* the extraction alone (parse + qualify + walk, no database), the floor of the full pass.

Results are printed and written to var/bench/column_usage_results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "var" / "bench"
DBT = str(Path(sys.executable).with_name("dbt"))
MODELS, COLUMNS, SEED = 5000, 12, 7
# The project generator is shared by every checkout: it lives next to the repository, not in it.
GENERATOR = Path(
    os.environ.get("TESSERA_GEN_DBT_PROJECT", ROOT.parent / "shared" / "bench" / "gen_dbt_project.py")
)


def ensure_manifest(generator: Path | None, models: int) -> Path:
    cached = CACHE / f"column_usage_{models}_manifest.json"
    if cached.exists():
        return cached
    if generator is None or not generator.exists():
        sys.exit(f"{cached} is missing and the project generator {generator} was not found (--generator)")
    project = CACHE / f"column_usage_{models}_project"
    subprocess.run(
        [sys.executable, generator.name, str(project), "--models", str(models), "--columns", str(COLUMNS),
         "--seed", str(SEED), "--project-name", "colusage_bench", "--force"],
        cwd=generator.parent, check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    print(f"dbt compile of {models} models (minutes) ...", flush=True)
    subprocess.run(
        # Models only: tests carry no SQL anyone reads, and 30,000 of them compile for an hour.
        [DBT, "compile", "--select", "resource_type:model", "--indirect-selection", "empty",
         "--profiles-dir", ".", "--no-version-check"],
        cwd=project, check=True, env={**os.environ, "DO_NOT_TRACK": "1"}, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    CACHE.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(project / "target" / "manifest.json", cached)
    return cached


def _setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DEBUG", "1")
    # A broker nobody consumes: the sync and the column-usage step are run (and timed) here, one
    # after the other, instead of eagerly inside each other's on-commit hooks.
    os.environ["CELERY_BROKER_URL"] = "memory://"
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tessera_site.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("flush", "--no-input", verbosity=0)


def _sync(manifest: bytes) -> tuple[int, float]:
    from contracts.services.sync import sync_execute, sync_submit
    from contracts.services.teams import team_ensure
    from tessera_site.lib.auth import SYSTEM
    from tessera_site.lib.jobs import job_claim

    team_ensure(slug="bench-platform")
    run = sync_submit(manifest=manifest, team_slug="bench-platform", actor=SYSTEM)
    from contracts.models import SyncRun

    job_claim(SyncRun, run.pk)
    started = time.perf_counter()
    sync_execute(sync_run_id=run.pk)
    return run.pk, time.perf_counter() - started


def _timed(fn, *args, **kwargs):
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - started


def extraction_only(manifest: bytes) -> tuple[int, int, float]:
    """Parse, qualify and walk every model against the manifest's own declared columns."""
    from contracts.ingest.column_usage import dialect_for_adapter, extract_usage, parse_sql
    from contracts.ingest.manifest import load_manifest_json, parse_manifest_document

    doc = load_manifest_json(manifest)
    dialect = dialect_for_adapter(doc["metadata"].get("adapter_type"))
    assets = parse_manifest_document(doc, consume=True).assets
    columns = {a.relation: [c.name for c in a.contract.columns] for a in assets}
    by_id = {a.unique_id: a for a in assets}
    models = [a for a in assets if a.resource_type == "model" and a.compiled_code]
    unknown = 0
    started = time.perf_counter()
    for model in models:
        known = {by_id[d].relation: columns[by_id[d].relation] for d in model.depends_on if d in by_id}
        if not extract_usage(
            parse_sql(model.compiled_code or "", dialect=dialect), columns_by_relation=known
        ).known:
            unknown += 1
    return len(models), unknown, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--generator",
        type=Path,
        default=GENERATOR,
        help="the project generator (default ../shared/bench/, or TESSERA_GEN_DBT_PROJECT)",
    )
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--models", type=int, default=MODELS)
    parser.add_argument("--manifest", type=Path, default=None, help="use this compiled manifest instead")
    parser.add_argument("--floor", action="store_true", help="also time the extraction alone (no database)")
    args = parser.parse_args()
    path = args.manifest or ensure_manifest(args.generator.resolve() if args.generator else None, args.models)
    manifest = path.read_bytes()
    _setup_django(args.database_url)
    from contracts.models import ColumnUsage, ModelSql
    from contracts.services.column_usage import column_usage_refresh

    first_run, first_sync = _sync(manifest)
    full, full_seconds = _timed(column_usage_refresh, sync_run_id=first_run)
    again_run, again_sync = _sync(manifest)
    skipped, again_seconds = _timed(column_usage_refresh, sync_run_id=again_run)
    count, unknown, pure_seconds = extraction_only(manifest) if args.floor else (None, None, None)
    results = {
        "machine": f"{platform.node()} {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "models": full.get("models"),
        "manifest_mb": round(len(manifest) / 1e6, 1),
        "first_sync_seconds": round(first_sync, 2),
        "full_pass_seconds": round(full_seconds, 2),
        "full_pass": full,
        "usage_rows": ColumnUsage.objects.count(),
        "model_sql_rows": ModelSql.objects.count(),
        "resync_seconds": round(again_sync, 2),
        "resync_usage_step_seconds": round(again_seconds, 3),
        "resync_usage_step": skipped,
        "extraction_only_seconds": round(pure_seconds, 2) if pure_seconds is not None else None,
        "extraction_unknown": unknown,
    }
    print(json.dumps(results, indent=2))
    CACHE.mkdir(parents=True, exist_ok=True)
    (CACHE / "column_usage_results.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
