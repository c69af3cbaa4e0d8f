"""History and trend selectors: right numbers, and a fixed number of queries however long the history."""

from __future__ import annotations

import uuid
from datetime import timedelta

import orjson
import pytest
from django.utils import timezone

from audits.models import AuditRun
from audits.selectors import (
    audit_run_checks,
    audit_runs_for_asset,
    audit_trend,
    failed_audits_by_consumer_team,
    failing_assets_for_team,
    guarantee_pass_rates,
    most_failing_checks,
    publish_gate,
)
from audits.services import audit_ingest_run_results
from audits.tests.conftest import fixture_bytes
from tessera_site.lib.auth import actor_for_key

pytestmark = pytest.mark.django_db


def ingest_days(core, names: list[str]) -> None:
    """One build per day, oldest first (each as its own dbt invocation)."""
    actor = actor_for_key(core.platform_key)
    now = timezone.now()
    for days_ago, name in zip(range(len(names), 0, -1), names, strict=True):
        doc = orjson.loads(fixture_bytes(name))
        doc["metadata"]["invocation_id"] = str(uuid.uuid4())
        summary = audit_ingest_run_results(run_results=orjson.dumps(doc), actor=actor)
        AuditRun.objects.filter(pk__in=[r["audit_run_id"] for r in summary.runs]).update(
            run_at=now - timedelta(days=days_ago - 1, hours=1)
        )


def test_pass_rates_trend_and_most_failing_over_a_week(core):
    ingest_days(
        core, ["dbt_core_build_pass.json", "dbt_core_build_failing.json"] * 3 + ["dbt_core_build_pass.json"]
    )
    rates = {r["name"]: r for r in guarantee_pass_rates(asset=core.dim_customers)}
    email = rates["test.core.not_null_dim_customers_email.ed68b54d1a"]
    assert (email["results"], email["passed"], email["failed"]) == (7, 4, 3)
    assert email["pass_rate"] == pytest.approx(4 / 7)
    assert guarantee_pass_rates(asset=core.dim_customers)[0]["name"] == email["name"]  # worst first
    trend = audit_trend(asset=core.dim_customers, days=30)
    assert [t["runs"] for t in trend] == [1] * 7
    assert [t["failed"] for t in trend] == [0, 1, 0, 1, 0, 1, 0]
    failing = most_failing_checks(asset=core.dim_customers)
    assert failing == [
        {
            "name": "test.core.not_null_dim_customers_email.ed68b54d1a",
            "asset_id": core.dim_customers.pk,
            "asset": "core.main.dim_customers",
            "failures": 3,
            "last_failed_at": failing[0]["last_failed_at"],
        }
    ]
    assert most_failing_checks(team_id=core.marketing.pk)[0]["failures"] == 3
    # The latest build passed: nothing is failing now.
    assert failing_assets_for_team(team_id=core.marketing.pk) == []


def test_failing_assets_for_team_lists_assets_whose_latest_audit_failed(core):
    ingest_days(core, ["dbt_core_build_pass.json", "dbt_core_build_failing.json"])
    rows = failing_assets_for_team(team_id=core.finance.pk)
    assert [r["asset__relation"] for r in rows] == ["core.main.dim_customers"]
    assert failing_assets_for_team(team_id=core.outsider.pk) == []


def test_selectors_take_a_fixed_number_of_queries(core, django_assert_max_num_queries):
    ingest_days(core, ["dbt_core_build_pass.json", "dbt_core_build_failing.json"] * 5)
    asset = core.dim_customers
    with django_assert_max_num_queries(4):
        publish_gate(asset=asset)
    with django_assert_max_num_queries(2):
        runs = list(audit_runs_for_asset(asset=asset, limit=50))
        audit_run_checks(run_ids=[r.pk for r in runs])
    for selector in (
        lambda: audit_trend(asset=asset),
        lambda: guarantee_pass_rates(asset=asset),
        lambda: most_failing_checks(asset=asset),
        lambda: failing_assets_for_team(team_id=core.marketing.pk),
    ):
        with django_assert_max_num_queries(1):
            selector()
    with django_assert_max_num_queries(2):
        failed_audits_by_consumer_team(since=timezone.now() - timedelta(days=30), until=timezone.now())
