"""Where a sync's Python time goes: the worker's task body in this process, each step timed.

    .venv/bin/python bench/sync_steps.py [--kinds base reparse breaking] [--size 5000] [--steps]
        [--sub contracts.services.sync.versions:versions_insert ...] [--profile OUT] [--dump FILE]
        [--root DIR]

On a fresh database (``--database``, cloned from ``--template``, which is created and migrated when
missing) it submits each manifest ``var/bench/manifest_<size>_<kind>.json`` (or a path) and runs
``sync_run_task`` on it, in turn, in one process. One JSON line per sync: CPU
(``time.process_time()`` of the task: this process only, not PostgreSQL's work) and wall time,
with ``--steps`` the CPU of each step of the outline (``services/sync/apply.py``, its functions
wrapped) and of any ``--sub`` function (patched in the module that calls it), the collector's
passes during the task (``gc.callbacks``: generation, seconds, objects collected) and a
``gc.collect()`` after it. ``--profile`` writes a cProfile per sync; ``--dump`` writes every row of
the contracts and audits tables ordered by id, timestamps masked, to compare two versions of the
code (``--root`` runs another checkout, e.g. one exported with ``git archive``).
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MANIFESTS = ROOT / "var" / "bench"
STEP_SUFFIXES = ("_resolve", "_write", "_match", "_link", "_adopt", "_open", "_judge", "_follow", "_retire",
                 "_finish", "_before")  # fmt: skip


def _fresh_database(server: str, name: str, template: str, root: Path) -> None:
    def psql(*sql: str) -> str:
        args = [a for s in sql for a in ("-c", s)]
        done = subprocess.run(
            ["psql", "-qtA", f"{server}/postgres", *args], check=True, capture_output=True, text=True
        )
        return done.stdout

    if not psql(f"SELECT 1 FROM pg_database WHERE datname = '{template}'").strip():
        psql(f'CREATE DATABASE "{template}"')
        env = {**os.environ, "DATABASE_URL": f"{server}/{template}", "DEBUG": "0"}
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=root, env=env, check=True)
    psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}" TEMPLATE "{template}"')


def _timed(times: dict[str, float], name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            times[name] = times.get(name, 0.0) + time.process_time() - started

    return wrapper


def _instrument(times: dict[str, float], subs: list[str]) -> None:
    import contracts.services.sync.apply as apply_module
    import contracts.services.sync.execute as execute_module

    for name in dir(apply_module):
        if name.endswith(STEP_SUFFIXES) and callable(getattr(apply_module, name)):
            setattr(apply_module, name, _timed(times, name, getattr(apply_module, name)))
    execute_module._parse_run = _timed(times, "parse", execute_module._parse_run)  # type: ignore[attr-defined]
    for item in subs:
        module_name, function = item.split(":")
        module = importlib.import_module(module_name)
        label = f"  {module_name.rsplit('.', 1)[-1]}.{function}"
        setattr(module, function, _timed(times, label, getattr(module, function)))


def _one_sync(path: Path, times: dict[str, float], profile: str | None) -> dict[str, Any]:
    from contracts.services.sync import sync_submit
    from contracts.tasks.sync import sync_run_task
    from tessera_site.lib.auth import Actor

    actor = Actor(label="bench", is_open=True, scopes=("read", "write", "admin"))
    run = sync_submit(manifest=path.read_bytes(), team_slug="bench-platform", actor=actor)
    gc.collect()
    times.clear()
    passes: list[tuple[int, float, int]] = []
    started_pass: list[float] = []

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started_pass[:] = [time.process_time()]
        else:
            passes.append(
                (info["generation"], round(time.process_time() - started_pass[0], 3), info["collected"])
            )

    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    gc.callbacks.append(on_gc)
    cpu, wall = time.process_time(), time.perf_counter()
    outcome = sync_run_task(run.pk)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    gc.callbacks.remove(on_gc)
    after = time.process_time()
    collected = gc.collect()
    after = time.process_time() - after
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(f"{profile}.{path.stem}")
    return {
        "manifest": path.name, "outcome": outcome, "cpu": round(cpu, 3), "wall": round(wall, 3),
        "gc_passes_over_10ms": [p for p in passes if p[1] > 0.01], "gc_seconds": round(sum(p[1] for p in passes), 3),
        "gc_collect_after": round(after, 3), "gc_collected_after": collected,
        "steps": {k: round(v, 3) for k, v in sorted(times.items(), key=lambda kv: -kv[1])},
    }  # fmt: skip


def dump(path: str) -> None:
    """Every row of every contracts/audits table, ordered by pk, timestamps masked."""
    from django.apps import apps
    from django.db import models

    stamp = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?")
    with open(path, "w") as out:
        for model in sorted(apps.get_models(), key=lambda m: m._meta.label):
            if model._meta.app_label not in ("contracts", "audits"):
                continue
            skipped = (models.DateTimeField, models.FileField)
            names = [f.attname for f in model._meta.concrete_fields if not isinstance(f, skipped)]
            out.write(f"## {model._meta.label} {names}\n")
            for row in model.objects.order_by("pk").values_list(*names):
                out.write(stamp.sub("<ts>", json.dumps(row, default=str, sort_keys=True)) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose code runs")
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="tessera_syncsteps")
    parser.add_argument("--template", default="tessera_syncsteps_template")
    parser.add_argument("--kinds", nargs="+", default=["base"], help="base, reparse, breaking or paths")
    parser.add_argument("--size", default="5000")
    parser.add_argument("--steps", action="store_true")
    parser.add_argument(
        "--sub", nargs="*", default=[], help="module:function, timed where that module calls it"
    )
    parser.add_argument("--profile")
    parser.add_argument("--dump")
    args = parser.parse_args()
    root = args.root.resolve()
    _fresh_database(args.server, args.database, args.template, root)
    os.environ.update({
        "DATABASE_URL": f"{args.server}/{args.database}", "MEDIA_ROOT": f"/tmp/{args.database}_media",
        "DEBUG": "0", "SECRET_KEY": "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        "TESSERA_TESTING": "1", "CELERY_BROKER_URL": "memory://", "TESSERA_MAX_UPLOAD_BYTES": str(1024**3),
        "DJANGO_SETTINGS_MODULE": "tessera_site.settings",
    })  # fmt: skip
    sys.path.insert(0, str(root))
    os.chdir(root)
    import django

    django.setup()
    from contracts.services.teams import team_ensure

    times: dict[str, float] = {}
    if args.steps:
        _instrument(times, args.sub)
    team_ensure(slug="bench-platform")
    for kind in args.kinds:
        path = Path(kind) if "/" in kind else MANIFESTS / f"manifest_{args.size}_{kind}.json"
        print(json.dumps(_one_sync(path, times, args.profile)), flush=True)
    if args.dump:
        dump(args.dump)


if __name__ == "__main__":
    main()
