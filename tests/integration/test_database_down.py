"""The database unreachable, in the production shape (gunicorn, DEBUG off): the API answers a JSON
503 on every path and the dashboard a plain error page; no traceback, no HTML 500."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from contracts.services.apikeys import KEY_PREFIX
from testsupport.fixtures import free_port

pytestmark = [pytest.mark.integration]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def server_without_database(tmp_path_factory) -> Iterator[str]:
    port = free_port()
    closed_port = free_port()  # nothing listens there: connection refused, as with a database that is down
    env = {
        **os.environ,
        "DEBUG": "0",
        "TESSERA_TESTING": "1",
        "SECRET_KEY": "a-long-enough-secret-for-the-database-down-test-0123456789abcdef",
        "DATABASE_URL": f"postgres://tessera@127.0.0.1:{closed_port}/tessera",
        "CELERY_BROKER_URL": "",
        "TESSERA_VAR_DIR": str(tmp_path_factory.mktemp("var")),
    }
    log = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "tessera_site.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{base}/accounts/login/", timeout=2)  # noqa: S310 (local test server)
            break
        except urllib.error.HTTPError:
            break  # it answers
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"gunicorn did not start:\n{log.read_text()}")
            time.sleep(0.3)
    yield base
    process.terminate()
    process.wait(timeout=15)


def _get(url: str, *, method: str = "GET", headers: dict[str, str] | None = None, body: bytes | None = None):
    request = urllib.request.Request(url, method=method, headers=headers or {}, data=body)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/assets"),
        ("GET", "/api/v1/assets/core.main.dim_customers"),
        ("GET", "/api/v1/teams"),
        ("GET", "/api/v1/events?team=x"),
        ("POST", "/api/v1/sync/dbt"),
        ("POST", "/api/v1/proposals/1/answers"),
        ("GET", "/api/v1/syncs/1"),
    ],
)
def test_every_api_path_answers_a_json_503(server_without_database, method, path):
    status, headers, body = _get(
        server_without_database + path,
        method=method,
        # A well-formed key: checking it needs the database (a malformed one is a 401 without it).
        headers={
            "Authorization": f"Bearer {KEY_PREFIX}_0123456789abcdef",
            "Content-Type": "application/json",
        },
        body=b"{}" if method == "POST" else None,
    )
    assert status == 503, body[:300]
    assert headers["Content-Type"].startswith("application/json")
    payload = json.loads(body)
    assert payload["error"] == "database_unavailable"
    assert "unreachable" in payload["detail"]


def test_health_reports_the_database_down_in_json(server_without_database):
    status, headers, body = _get(server_without_database + "/api/v1/health")
    assert status == 503
    assert json.loads(body)["database"].startswith("error")


@pytest.mark.parametrize("path", ["/", "/assets/", "/events/", "/proposals/1/"])
def test_the_dashboard_shows_a_plain_error_page_without_a_traceback(server_without_database, path):
    # A signed-in browser carries a session cookie; reading the session needs the database.
    status, headers, body = _get(server_without_database + path, headers={"Cookie": "sessionid=" + "a1" * 16})
    assert status == 503, body[:300]
    assert headers["Content-Type"].startswith("text/html")
    assert b"Service unavailable" in body
    assert b"Traceback" not in body and b"OperationalError" not in body
