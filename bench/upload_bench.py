"""Benchmark of the web process while it receives a large upload: its peak RSS above idle.

    .venv/bin/python bench/upload_bench.py var/bench/manifest_5000_base.json [--root DIR]
        [--endpoints sync check audits] [--run-results var/run_results_bench.json --results 170000]

gunicorn (one sync worker, DEBUG off, as in production) serves the site from ``--root`` (default:
this checkout; point it at an exported older tree to measure "before"), on a freshly migrated
PostgreSQL database (``--database-url``), with the open API on loopback. For each endpoint and
each way of sending (the raw body, a multipart file), after a warm-up upload of a small file
(imports, database connection, first allocations), the worker's peak RSS counter (``VmHWM``) is
reset through ``/proc/PID/clear_refs`` and the big file is POSTed in 1 MiB blocks with a
Content-Length:

* ``sync``: the manifest to ``/api/v1/sync/dbt`` (stored, the sync enqueued);
* ``check``: the manifest to ``/api/v1/sync/dbt/check`` (the CI dry run: decoded and judged in the
  web process, against an empty database, so every model is "added");
* ``audits``: a dbt run_results.json to ``/api/v1/audit-results/upload`` (checked and stored),
  generated once (``--results`` test results shaped like the audit fixture's, ~850 bytes each).

Two figures, both above ``VmRSS`` just before the upload: ``VmHWM`` read just before the last
block is sent (the peak while receiving) and after the reply (the peak of the whole request).
Nothing consumes the queue (``CELERY_BROKER_URL=memory://``): only the web side is measured.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
SMALL = ROOT / "contracts" / "tests" / "fixtures" / "small_shop_manifest.json"
SMALL_RESULTS = ROOT / "audits" / "tests" / "fixtures" / "dbt_core_build_failing.json"
TEMPLATE_RESULTS = ROOT / "audits" / "tests" / "fixtures" / "dbt_core_build_pass.json"
TEAM = "bench-platform"
# endpoint: (URL, multipart field, small file for the warm-up)
ENDPOINTS = {
    "sync": (f"/api/v1/sync/dbt?team={TEAM}", "manifest", SMALL),
    "check": ("/api/v1/sync/dbt/check", "manifest", SMALL),
    "audits": ("/api/v1/audit-results/upload?format=dbt", "file", SMALL_RESULTS),
}
BLOCK = 1024 * 1024


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def _worker_pid(master: int) -> int:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    if len(children) != 1:
        raise SystemExit(f"expected one gunicorn worker, found {children}")
    return int(children[0])


def _file_blocks(path: Path, before_last: Callable[[], None] | None = None) -> Iterator[bytes]:
    """The file in blocks; ``before_last`` is called before the last block is handed over."""
    with path.open("rb") as handle:
        block = handle.read(BLOCK)
        while block:
            following = handle.read(BLOCK)
            if not following and before_last is not None:
                before_last()
            yield block
            block = following


def _multipart(
    path: Path, field: str, before_last: Callable[[], None] | None
) -> tuple[str, int, Iterator[bytes]]:
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{path.name}"\r\n'
        "Content-Type: application/json\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    def blocks() -> Iterator[bytes]:
        yield head
        yield from _file_blocks(path, before_last)
        yield tail

    return f"multipart/form-data; boundary={boundary}", len(head) + path.stat().st_size + len(tail), blocks()


def _post(
    port: int, endpoint: str, path: Path, *, multipart: bool, before_last: Callable[[], None] | None = None
) -> tuple[int, dict, float]:
    url, field, _ = ENDPOINTS[endpoint]
    if multipart:
        content_type, length, body = _multipart(path, field, before_last)
    else:
        content_type, length = "application/json", path.stat().st_size
        body = _file_blocks(path, before_last)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=900)
    started = time.perf_counter()
    conn.request(
        "POST", url, body=body, headers={"Content-Type": content_type, "Content-Length": str(length)}
    )
    response = conn.getresponse()
    payload = json.loads(response.read() or b"{}")
    return response.status, payload, time.perf_counter() - started


def make_run_results(path: Path, results: int) -> Path:
    """A dbt run_results.json of ``results`` test results (the fixture's first test, renamed)."""
    import copy

    real = json.loads(TEMPLATE_RESULTS.read_text())
    template = next(r for r in real["results"] if r["unique_id"].startswith("test."))
    items = []
    for i in range(results):
        item = copy.deepcopy(template)
        item["unique_id"] = f"test.bench.not_null_model_{i // 10}_col_{i % 10}.{i:010x}"
        items.append(item)
    real["results"] = items
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(real))
    return path


def _fresh_database(url: str, root: Path, env: dict[str, str]) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=root, env=env, check=True)
    subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from contracts.services.teams import team_ensure; "
         f"team_ensure(slug='{TEAM}')"],
        cwd=root, env=env | {"PYTHONPATH": str(root), "DJANGO_SETTINGS_MODULE": "tessera_site.settings"}, check=True,
    )  # fmt: skip


def _wait_up(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/accounts/login/")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            raise SystemExit("gunicorn did not start")
        time.sleep(0.3)


def _measure_one(port: int, worker: int, endpoint: str, path: Path, *, multipart: bool) -> dict:
    status, payload, _ = _post(port, endpoint, ENDPOINTS[endpoint][2], multipart=multipart)  # warm-up
    assert status in (200, 202), (endpoint, status, payload)
    Path(f"/proc/{worker}/clear_refs").write_text("5")  # reset VmHWM to the current RSS
    idle = _status_kb(worker, "VmRSS")
    receiving: list[int] = []
    status, payload, seconds = _post(
        port,
        endpoint,
        path,
        multipart=multipart,
        before_last=lambda: receiving.append(_status_kb(worker, "VmHWM")),
    )
    peak = _status_kb(worker, "VmHWM")
    row = {
        "endpoint": endpoint,
        "body": "multipart" if multipart else "raw",
        "bytes": path.stat().st_size,
        "status": status,
        "seconds": round(seconds, 2),
        "idle_rss_mb": round(idle / 1024, 1),
        "receiving_above_idle_mb": round((receiving[0] - idle) / 1024, 1),
        "peak_above_idle_mb": round((peak - idle) / 1024, 1),
    }
    if status not in (200, 202):
        row["answer"] = str(payload)[:300]
    return row


def measure(
    files: dict[str, Path], root: Path, port: int, env: dict[str, str], endpoints: list[str]
) -> list[dict]:
    """Each endpoint and way of sending in a fresh gunicorn: memory a request freed stays in the
    worker's heap and would hide the next request's peak."""
    rows = []
    for endpoint in endpoints:
        for multipart in (False, True):
            server = subprocess.Popen(
                [GUNICORN, "tessera_site.wsgi:application", "--workers", "1", "--timeout", "900",
                 "--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
                cwd=root, env=env,
            )  # fmt: skip
            try:
                _wait_up(port, server)
                worker = _worker_pid(server.pid)
                rows.append(_measure_one(port, worker, endpoint, files[endpoint], multipart=multipart))
                print(json.dumps(rows[-1]), flush=True)
            finally:
                server.terminate()
                server.wait(timeout=30)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("manifest", type=Path)
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to serve")
    parser.add_argument("--port", type=int, default=8931)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tessera_uploadbench"
        ),
    )
    parser.add_argument("--endpoints", nargs="+", choices=list(ENDPOINTS), default=list(ENDPOINTS))
    parser.add_argument(
        "--run-results", type=Path, default=ROOT / "var" / "run_results_bench.json",
        help="the run_results.json for the audits endpoint (made with --results results if missing)",
    )  # fmt: skip
    parser.add_argument("--results", type=int, default=170_000)
    args = parser.parse_args()
    root = args.root.resolve()
    if "audits" in args.endpoints and not args.run_results.exists():
        make_run_results(args.run_results, args.results)
    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "MEDIA_ROOT": str(ROOT / "var" / "upload-bench-media"),
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "TESSERA_OPEN_API": "1",
        "TESSERA_TESTING": "1",
        "CELERY_BROKER_URL": "memory://",
    }
    _fresh_database(args.database_url, root, env)
    files = {
        "sync": args.manifest.resolve(),
        "check": args.manifest.resolve(),
        "audits": args.run_results.resolve(),
    }
    rows = measure(files, root, args.port, env, args.endpoints)
    with open("/proc/loadavg") as loadavg:
        load = " ".join(loadavg.read().split()[:3])
    print(
        json.dumps(
            {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "load": load, "rows": rows}, indent=2
        )
    )


if __name__ == "__main__":
    main()
