"""The publish gate: hold when the latest run failed, when a required guarantee was not checked,
when results are too old; publish otherwise; and a held contract version is not published."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from audits.models import AuditRun
from audits.selectors import publish_allowed, publish_gate
from audits.services import audit_ingest_run_results, audit_record
from audits.tests.conftest import _parsed_core_manifest, fixture_bytes
from contracts.models import ContractVersion, SyncRun
from tessera_site.lib.auth import actor_for_key

pytestmark = pytest.mark.django_db


def ingest(core, name):
    return audit_ingest_run_results(run_results=fixture_bytes(name), actor=actor_for_key(core.platform_key))


def test_no_audit_at_all_holds(core):
    gate = publish_gate(asset=core.dim_customers)
    assert gate.decision == "hold"
    assert gate.reasons[0] == "No audit results have been recorded for this asset."


def test_passing_build_publishes(core):
    ingest(core, "dbt_core_build_pass.json")
    gate = publish_gate(asset=core.dim_customers)
    assert gate.decision == "publish", gate.reasons
    assert gate.version == "1.0.0"
    assert {g.status for g in gate.guarantees} == {"pass"}


def test_latest_run_failed_holds_with_the_failing_guarantee_named(core):
    ingest(core, "dbt_core_build_pass.json")
    ingest(core, "dbt_core_build_failing.json")
    AuditRun.objects.filter(status="failed").update(run_at=timezone.now() + timedelta(seconds=1))
    gate = publish_gate(asset=core.dim_customers)
    assert gate.decision == "hold"
    assert any("failed: 1 failing check" in r for r in gate.reasons)
    assert any(r.startswith("Guarantee not_null(email) failed its latest check") for r in gate.reasons)
    # The other assets of the same invocation passed, so they may publish.
    assert publish_gate(asset=core.fct_orders).decision == "publish"


def test_a_later_passing_run_lifts_the_hold(core):
    ingest(core, "dbt_core_build_failing.json")
    ingest(core, "dbt_core_build_pass.json")
    AuditRun.objects.filter(status="passed").update(run_at=timezone.now() + timedelta(seconds=1))
    assert publish_gate(asset=core.dim_customers).decision == "publish"


def test_a_partial_run_never_counts_the_guarantees_it_skipped_as_checked(core):
    ingest(core, "dbt_core_test_dim_customers.json")  # ran one test of fct_orders
    gate = publish_gate(asset=core.fct_orders)
    assert gate.decision == "hold"
    assert "Guarantee not_null(order_id) has not been checked by any recorded audit." in gate.reasons
    states = {g.guarantee: g.status for g in gate.guarantees}
    assert states["relationships(customer_id)"] == "pass" and states["unique(order_id)"] == "unchecked"


def test_a_partial_run_after_a_full_one_keeps_the_earlier_evidence(core):
    ingest(core, "dbt_core_build_pass.json")
    ingest(core, "dbt_core_test_dim_customers.json")
    assert publish_gate(asset=core.fct_orders).decision == "publish"


def test_results_older_than_the_max_age_hold(core):
    ingest(core, "dbt_core_build_pass.json")
    core.dim_customers.audit_max_age_hours = 6
    core.dim_customers.save(update_fields=["audit_max_age_hours"])
    AuditRun.objects.update(run_at=timezone.now() - timedelta(hours=7))
    gate = publish_gate(asset=core.dim_customers)
    assert gate.decision == "hold"
    assert any("older than the asset's maximum age of 6 hours" in r for r in gate.reasons)
    AuditRun.objects.update(run_at=timezone.now() - timedelta(hours=5))
    assert publish_gate(asset=core.dim_customers).decision == "publish"


def test_an_errored_latest_run_holds(core):
    ingest(core, "dbt_core_build_pass.json")
    audit_record(
        asset=core.dim_customers,
        payload={
            "status": "error", "triggered_by": "ci", "guarantees_checked": 1, "guarantees_passed": 0,
            "guarantees_failed": 0, "results": [{"guarantee": "not_null(email)", "status": "error"}],
            "run_at": timezone.now() + timedelta(seconds=1),
        },
        actor=None,
    )  # fmt: skip
    gate = publish_gate(asset=core.dim_customers)
    assert gate.decision == "hold"
    assert "Guarantee not_null(email) could not be checked: its latest check errored." in gate.reasons


def test_warn_severity_guarantees_do_not_hold_but_error_ones_do(core):
    ingest(core, "dbt_core_build_pass.json")
    from contracts.models import Guarantee

    Guarantee.objects.filter(
        version=core.dim_customers.active_version, kind="not_null", column="email"
    ).update(severity="warn")
    ingest(core, "dbt_core_build_failing.json")
    # The failing run is placed a day before the passing one, whatever the clock says today.
    passing_at = AuditRun.objects.filter(status="passed").latest("run_at").run_at
    AuditRun.objects.filter(status="failed").update(run_at=passing_at - timedelta(days=1))
    assert publish_gate(asset=core.dim_customers).decision == "publish"


def test_publish_allowed_only_consults_the_gate_when_the_asset_requires_it(core):
    assert publish_allowed(asset=core.dim_customers) is None
    core.dim_customers.requires_passing_audit = True
    assert publish_allowed(asset=core.dim_customers).decision == "hold"


def test_a_new_contract_version_waits_while_the_gate_holds_on_an_asset_that_requires_it(core):
    from contracts.ingest.manifest import parse_manifest
    from contracts.services.sync import sync_apply

    core.dim_customers.requires_passing_audit = True
    core.dim_customers.save(update_fields=["requires_passing_audit"])
    ingest(core, "dbt_core_build_failing.json")
    additive = parse_manifest(fixture_bytes("dbt_core_manifest_additive.json"))
    run = SyncRun.objects.create(
        manifest="syncs/additive.json", team=core.platform, api_key=core.platform_key
    )
    summary = sync_apply(parsed=additive, run=run, actor=actor_for_key(core.platform_key))
    core.dim_customers.refresh_from_db()
    assert core.dim_customers.active_version.semver == "1.0.0"
    held = ContractVersion.objects.get(asset=core.dim_customers, status="proposed")
    assert "preferred_channel" in [c["name"] for c in held.columns]
    assert any("not_null(email)" in " ".join(h["reasons"]) for h in summary["held_versions"])
    # fct_orders does not require an audit: its change (if any) was not held.
    assert all(h["relation"] != "core.main.fct_orders" for h in summary["held_versions"])
    assert _parsed_core_manifest().project_name == "core"


def test_the_gate_of_a_proposed_version_uses_results_matched_by_guarantee_key(core):
    from contracts.ingest.manifest import parse_manifest
    from contracts.services.sync import sync_apply

    core.dim_customers.requires_passing_audit = True
    core.dim_customers.save(update_fields=["requires_passing_audit"])
    ingest(core, "dbt_core_build_failing.json")
    run = SyncRun.objects.create(
        manifest="syncs/additive.json", team=core.platform, api_key=core.platform_key
    )
    sync_apply(
        parsed=parse_manifest(fixture_bytes("dbt_core_manifest_additive.json")),
        run=run,
        actor=actor_for_key(core.platform_key),
    )
    gate = publish_gate(asset=core.dim_customers, version="proposed")
    assert (gate.decision, gate.version_status) == ("hold", "proposed")
    assert any("not_null(email) failed" in r for r in gate.reasons)

    ingest(core, "dbt_core_build_pass.json")
    AuditRun.objects.filter(status="passed").update(run_at=timezone.now() + timedelta(seconds=1))
    gate = publish_gate(asset=core.dim_customers, version="proposed")
    assert gate.decision == "publish", gate.reasons
    assert gate.version != "1.0.0"
