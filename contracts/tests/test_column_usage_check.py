"""The CI check names the downstream models a change would break and the columns they read,
and bin/tessera-check --format markdown writes that report for a pull request or a job summary."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from contracts.models import Team
from contracts.services.apikeys import apikey_create
from contracts.services.sync.check import sync_check
from contracts.tests.test_column_usage_impact import _sync
from tessera_site.lib.auth import SYSTEM

ROOT = Path(__file__).resolve().parents[2]


def _demo_synced(demo_artifacts) -> None:
    for project in ("core", "marketing", "finance"):
        _sync(demo_artifacts.read_bytes(demo_artifacts.manifests[project]))


@pytest.mark.django_db
def test_check_names_the_models_that_would_break_and_the_teams_only_informed(demo_artifacts):
    _demo_synced(demo_artifacts)
    report = sync_check(
        manifest=demo_artifacts.read_bytes(demo_artifacts.core_breaking_manifest), actor=SYSTEM
    )
    changes = {c["relation"]: c for c in report["changes"]}

    customers = changes["core.main.dim_customers"]
    broken = {(m["model"], m["team"]): m for m in customers["downstream"]}
    assert broken[("int_customer_touchpoints", "marketing-analytics")]["touched"] == ["country_code"]
    assert broken[("int_customer_touchpoints", "marketing-analytics")]["reads"]["country_code"] == ["select"]
    assert ("fct_attribution", "marketing-analytics") in broken

    orders = changes["core.main.fct_orders"]
    assert [t["team"] for t in orders["required_teams"]] == ["marketing-analytics"]
    assert [t["team"] for t in orders["informed_teams"]] == ["finance-analytics"]
    assert report["may_merge"] is False


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_cli_writes_a_markdown_report_for_the_job_summary(live_server, demo_artifacts, tmp_path):
    _demo_synced(demo_artifacts)
    _, secret = apikey_create(team=Team.objects.get(slug="data-platform"), name="ci", scopes="read")
    manifest = tmp_path / "manifest.json"
    manifest.write_bytes(demo_artifacts.read_bytes(demo_artifacts.core_breaking_manifest))
    summary = tmp_path / "summary.md"
    summary.write_text("# CI\n")

    done = subprocess.run(
        [sys.executable, str(ROOT / "bin" / "tessera-check"), str(manifest), "--format", "markdown",
         "--output", str(summary), "--url", live_server.url, "--api-key", secret],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr  # breaking changes lack acknowledgments
    text = summary.read_text()
    assert text.startswith("# CI\n## Tessera check of `core`: ❌ not ready to merge")
    assert "| `int_customer_touchpoints` | marketing-analytics | country_code (select) |" in text
    assert "| `int_order_attribution` | marketing-analytics | status (filter) |" in text
    assert "Informed, no answer needed: finance-analytics: Informed, not asked" in text
    assert done.stdout == ""
