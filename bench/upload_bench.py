"""Benchmark of the web process while it receives a large manifest: its peak RSS above idle.

    .venv/bin/python bench/upload_bench.py var/bench/manifest_5000_base.json [--root DIR]

gunicorn (one sync worker, DEBUG off, as in production) serves the site from ``--root`` (default:
this checkout; point it at an exported older tree to measure "before"), on a freshly migrated
PostgreSQL database (``--database-url``), with the open API on loopback. After a warm-up upload of
a small manifest (imports, database connection, first allocations), the worker's peak RSS counter
(``VmHWM``) is reset through ``/proc/PID/clear_refs`` and the big file is POSTed to
``/api/v1/sync/dbt``: once as the raw body and once as a multipart ``manifest`` file, both sent
in 1 MiB blocks with a Content-Length. The figure is ``VmHWM`` after the reply minus ``VmRSS``
just before the upload. Nothing consumes the queue (``CELERY_BROKER_URL=memory://``): only the
web side is measured.
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
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
SMALL = ROOT / "contracts" / "tests" / "fixtures" / "small_shop_manifest.json"
TEAM = "bench-platform"
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


def _file_blocks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while block := handle.read(BLOCK):
            yield block


def _multipart(path: Path) -> tuple[str, int, Iterator[bytes]]:
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="manifest"; filename="manifest.json"\r\n'
        "Content-Type: application/json\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    def blocks() -> Iterator[bytes]:
        yield head
        yield from _file_blocks(path)
        yield tail

    return f"multipart/form-data; boundary={boundary}", len(head) + path.stat().st_size + len(tail), blocks()


def _post(port: int, path: Path, *, multipart: bool) -> tuple[int, dict, float]:
    if multipart:
        content_type, length, body = _multipart(path)
    else:
        content_type, length, body = "application/json", path.stat().st_size, _file_blocks(path)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    started = time.perf_counter()
    conn.request(
        "POST",
        f"/api/v1/sync/dbt?team={TEAM}",
        body=body,
        headers={"Content-Type": content_type, "Content-Length": str(length)},
    )
    response = conn.getresponse()
    payload = json.loads(response.read() or b"{}")
    return response.status, payload, time.perf_counter() - started


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


def measure(manifest: Path, root: Path, port: int, env: dict[str, str]) -> list[dict]:
    server = subprocess.Popen(
        [GUNICORN, "tessera_site.wsgi:application", "--workers", "1", "--timeout", "600",
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
        cwd=root, env=env,
    )  # fmt: skip
    rows = []
    try:
        _wait_up(port, server)
        worker = _worker_pid(server.pid)
        for multipart in (False, True):
            status, payload, _ = _post(port, SMALL, multipart=multipart)  # warm-up
            assert status == 202, payload
            Path(f"/proc/{worker}/clear_refs").write_text("5")  # reset VmHWM to the current RSS
            idle = _status_kb(worker, "VmRSS")
            status, payload, seconds = _post(port, manifest, multipart=multipart)
            peak = _status_kb(worker, "VmHWM")
            rows.append({
                "body": "multipart" if multipart else "raw",
                "status": status,
                "seconds": round(seconds, 2),
                "idle_rss_mb": round(idle / 1024, 1),
                "peak_rss_mb": round(peak / 1024, 1),
                "peak_above_idle_mb": round((peak - idle) / 1024, 1),
            })  # fmt: skip
            print(json.dumps(rows[-1]), flush=True)
            if status != 202:
                print(payload, flush=True)
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
    args = parser.parse_args()
    root = args.root.resolve()
    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "MEDIA_ROOT": str(ROOT / "var" / "bench" / "upload-media"),
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "TESSERA_OPEN_API": "1",
        "TESSERA_TESTING": "1",
        "CELERY_BROKER_URL": "memory://",
    }
    _fresh_database(args.database_url, root, env)
    rows = measure(args.manifest.resolve(), root, args.port, env)
    print(json.dumps({"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
