"""Benchmark of the dbt sync on PostgreSQL, against the floor of just decoding the manifest.

    .venv/bin/python bench/sync_bench.py --sizes 5000 20000 [--copy-reparse 20000] \
        --database-url postgres://postgres@127.0.0.1:5432/tessera_syncbench

For each size N it needs three real manifests, made by ../shared/bench/gen_dbt_project.py and `dbt parse`
(cached under var/bench/, built when missing; 5,000 models take minutes per parse):

* ``manifest_N_base.json``     the generated project
* ``manifest_N_reparse.json``  a fresh ``dbt parse --no-partial-parse`` of the unchanged project
                                (same contracts, new generated_at / invocation_id / created_at)
* ``manifest_N_breaking.json`` the same project with ``--breaking-change``

Then, on a freshly migrated database, it measures in separate processes, as production would
run them: the upload (``sync_submit``, the web process) and the sync itself (the worker: the
Celery task body), for the first sync, the identical re-sync and the breaking-variant sync; the
worker's peak RSS; and the floor: ``json.loads`` of the same file (read + decode) in a bare
Python process, time and peak RSS. Results are printed and written to var/bench/sync_results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "var" / "bench"
PY = sys.executable
# The project generator is shared by every checkout: it lives next to the repository, not in it.
GENERATOR = Path(
    os.environ.get("TESSERA_GEN_DBT_PROJECT", ROOT.parent / "shared" / "bench" / "gen_dbt_project.py")
)
DBT = str(Path(sys.executable).with_name("dbt"))
COLUMNS = 16  # 5,000 models x 16 columns ≈ 140 MB of manifest, the size the issue names
SEED = 7
TEAM = "bench-platform"


# --- inputs ---------------------------------------------------------------------------------------
def _dbt_parse(project_dir: Path) -> None:
    subprocess.run(
        [DBT, "parse", "--profiles-dir", ".", "--no-version-check", "--no-partial-parse"],
        cwd=project_dir, check=True, env={**os.environ, "DO_NOT_TRACK": "1"}, stdout=subprocess.DEVNULL,
    )  # fmt: skip


def _generate(out: Path, n: int, *, breaking: bool) -> None:
    if not GENERATOR.is_file():
        sys.exit(
            f"The dbt project generator is missing: {GENERATOR} (expected in ../shared/bench/ next to the "
            "repository; set TESSERA_GEN_DBT_PROJECT to its path)."
        )
    args = [PY, str(GENERATOR), str(out), "--models", str(n), "--columns", str(COLUMNS),
            "--seed", str(SEED), "--project-name", "bench", "--force"]  # fmt: skip
    if breaking:
        args.append("--breaking-change")
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)


def _copy_as_reparse(base: Path, out: Path) -> None:
    """The base manifest with a new invocation_id and generated_at: what a second ``dbt parse``
    of the unchanged project changes that Tessera reads (it also rewrites each node's created_at,
    which Tessera never reads). For sizes where a second parse takes most of an hour."""
    data = base.read_bytes()
    head = data[:65536]
    for key, new in (
        (b"invocation_id", b"00000000-0000-4000-8000-000000000000"),
        (b"generated_at", b"2030-01-01T00:00:00.000000Z"),
    ):
        pattern = b'"%s": "' % key
        start = head.index(pattern) + len(pattern)
        end = head.index(b'"', start)
        head = head[:start] + new + head[end:]
    out.write_bytes(head + data[65536:])


def ensure_manifests(n: int, *, copy_reparse: bool = False) -> dict[str, Path]:
    paths = {kind: CACHE / f"manifest_{n}_{kind}.json" for kind in ("base", "reparse", "breaking")}
    CACHE.mkdir(parents=True, exist_ok=True)
    project, variant = CACHE / f"p{n}", CACHE / f"p{n}b"
    if copy_reparse and paths["base"].exists() and not paths["reparse"].exists():
        _copy_as_reparse(paths["base"], paths["reparse"])
    if not paths["base"].exists() or not paths["reparse"].exists():
        _generate(project, n, breaking=False)
        for kind in ("base", "reparse"):
            if not paths[kind].exists():
                print(f"dbt parse of {n} models ({kind}) ...", flush=True)
                _dbt_parse(project)
                (project / "target" / "manifest.json").replace(paths[kind])
    if not paths["breaking"].exists():
        _generate(variant, n, breaking=True)
        print(f"dbt parse of {n} models (breaking) ...", flush=True)
        _dbt_parse(variant)
        (variant / "target" / "manifest.json").replace(paths["breaking"])
    return paths


# --- child processes ------------------------------------------------------------------------------
def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def child_floor(path: str) -> dict:
    started = time.perf_counter()
    with open(path, "rb") as handle:
        data = handle.read()
    doc = json.loads(data)
    seconds = time.perf_counter() - started
    assert isinstance(doc, dict)
    return {"seconds": seconds, "peak_rss_mb": _peak_rss_mb()}


def _django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tessera_site.settings")
    import django

    django.setup()


def child_submit(path: str) -> dict:
    _django()
    from contracts.services.sync import sync_submit
    from tessera_site.lib.auth import Actor

    actor = Actor(label="bench", is_open=True, scopes=("read", "write", "admin"))
    with open(path, "rb") as handle:
        data = handle.read()
    started = time.perf_counter()
    run = sync_submit(manifest=data, team_slug=TEAM, actor=actor)
    return {"seconds": time.perf_counter() - started, "sync_id": run.pk}


def child_execute(sync_id: str) -> dict:
    _django()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from contracts.models import SyncRun
    from contracts.tasks.sync import sync_run_task

    baseline = _peak_rss_mb()
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        outcome = sync_run_task(int(sync_id))  # exactly what the worker runs for the message
    seconds = time.perf_counter() - started
    run = SyncRun.objects.get(pk=int(sync_id))
    if outcome != "succeeded":
        raise SystemExit(f"sync failed: {run.error}")
    keys = (
        "assets",
        "created",
        "unchanged",
        "published",
        "proposals_opened",
        "retired",
        "registrations_added",
    )
    return {
        "seconds": seconds,
        "peak_rss_mb": _peak_rss_mb(),
        "rss_after_django_setup_mb": baseline,
        "queries": len(queries),
        "summary": {k: run.summary.get(k) for k in keys} | {"by_bump": run.summary.get("published_by_bump")},
    }


def _run_child(*args: str, env: dict[str, str]) -> dict:
    done = subprocess.run([PY, __file__, *args], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"child {args} failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- orchestration --------------------------------------------------------------------------------
def _fresh_database(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _one_pass(paths: dict[str, Path], env: dict[str, str]) -> dict:
    """First sync, identical re-sync and breaking sync on a fresh database."""
    _fresh_database(env["DATABASE_URL"])
    subprocess.run([PY, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run(
        [PY, "-c", "import django; django.setup(); from contracts.services.teams import team_ensure; "
         f"team_ensure(slug='{TEAM}')"],
        cwd=ROOT, env=env | {"PYTHONPATH": str(ROOT), "DJANGO_SETTINGS_MODULE": "tessera_site.settings"}, check=True,
    )  # fmt: skip
    steps = {}
    for step, kind in (
        ("first_sync", "base"),
        ("identical_resync", "reparse"),
        ("breaking_sync", "breaking"),
    ):
        submitted = _run_child("_submit", str(paths[kind]), env=env)
        executed = _run_child("_execute", str(submitted["sync_id"]), env=env)
        executed["submit_seconds"] = submitted["seconds"]
        steps[step] = executed
    return steps


def bench_size(n: int, env: dict[str, str], repeat: int, *, copy_reparse: bool = False) -> dict:
    """The best of ``repeat`` passes per step (the machine is shared: the minimum is the least
    disturbed figure), with the floor measured between passes, best of all its runs."""
    paths = ensure_manifests(n, copy_reparse=copy_reparse)
    result: dict = {
        "models": n,
        "manifest_mb": round(paths["base"].stat().st_size / 1e6, 1),
        "repeat": repeat,
    }
    floors = [_run_child("_floor", str(paths["base"]), env=env)]
    passes = []
    for _ in range(repeat):
        passes.append(_one_pass(paths, env))
        floors.append(_run_child("_floor", str(paths["base"]), env=env))
    result["floor"] = {
        "seconds": min(f["seconds"] for f in floors),
        "peak_rss_mb": min(f["peak_rss_mb"] for f in floors),
        "all_seconds": [round(f["seconds"], 2) for f in floors],
    }
    for step in ("first_sync", "identical_resync", "breaking_sync"):
        best = dict(min((p[step] for p in passes), key=lambda e: e["seconds"]))
        best["all_seconds"] = [round(p[step]["seconds"], 2) for p in passes]
        best["peak_rss_mb"] = max(p[step]["peak_rss_mb"] for p in passes)
        best["time_ratio"] = round(best["seconds"] / result["floor"]["seconds"], 2)
        best["memory_ratio"] = round(best["peak_rss_mb"] / result["floor"]["peak_rss_mb"], 2)
        result[step] = best
        print(f"  {n} models {step}: {best['seconds']:.2f} s ({best['time_ratio']}x floor "
              f"{result['floor']['seconds']:.2f} s), peak {best['peak_rss_mb']:.0f} MB ({best['memory_ratio']}x), "
              f"{best['queries']} queries, {best['summary']}", flush=True)  # fmt: skip
    return result


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1].startswith("_"):
        step, arg = sys.argv[1], sys.argv[2]
        out = {"_floor": child_floor, "_submit": child_submit, "_execute": child_execute}[step](arg)
        print(json.dumps(out))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--repeat", type=int, default=2, help="passes per size; the best is reported")
    parser.add_argument(
        "--copy-reparse",
        type=int,
        nargs="*",
        default=[],
        help="sizes whose re-sync input is the base manifest with a new invocation_id and generated_at "
        "instead of a second dbt parse (20,000 models: most of an hour per parse on a shared machine)",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tessera_syncbench"),
    )
    args = parser.parse_args()
    media = CACHE / "media"
    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "MEDIA_ROOT": str(media),
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        "TESSERA_TESTING": "1",
        # A broker nobody consumes: the upload only enqueues; the measured child runs the task body.
        "CELERY_BROKER_URL": "memory://",
        "TESSERA_MAX_UPLOAD_BYTES": str(1024**3),  # 20,000 models: a 582 MB manifest
    }
    results = {"machine": _machine(), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "sizes": []}
    for n in args.sizes:
        print(f"{n} models:", flush=True)
        results["sizes"].append(bench_size(n, env, args.repeat, copy_reparse=n in args.copy_reparse))
    if len(results["sizes"]) >= 2:
        small, large = results["sizes"][0], results["sizes"][-1]
        results["scaling"] = {
            step: round(large[step]["seconds"] / small[step]["seconds"], 2)
            for step in ("first_sync", "identical_resync", "breaking_sync", "floor")
        }
    (CACHE / "sync_results.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


def _machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9
    return f"{os.cpu_count()} cores, {cpu}, {mem:.0f} GB RAM, Python {sys.version.split()[0]}"


if __name__ == "__main__":
    main()
