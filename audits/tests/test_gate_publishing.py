"""An asset that requires a passing audit: the publish gate holds new contract versions (from a
sync or from a proposal) with its reasons visible, and the next passing audit releases them.

Real syncs of the dbt-built core project, real proposals and answers, real audit recording; the
gate is never mocked. Releases run in the task enqueued on commit (executed in-process here).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from audits.services import audit_ingest_run_results, audit_record
from audits.tests.conftest import bearer, fixture_bytes
from contracts.domain import GuaranteeSpec
from contracts.factories import api_key_for
from contracts.ingest.manifest import parse_manifest
from contracts.models import Asset, ContractVersion, Event, Guarantee, Proposal, SyncRun
from contracts.selectors.teams import actor_for_user
from contracts.services.proposals.answering import acknowledgment_record
from contracts.services.proposals.publishing import proposal_force, proposal_publish
from contracts.services.sync import sync_apply
from contracts.services.versions import guarantee_rows
from contracts.tests.workflow_setup import base_spec, breaking_spec, make_story, open_breaking
from tessera_site.lib.auth import actor_for_key

pytestmark = pytest.mark.django_db


def sync(core, manifest: str) -> dict:
    run = SyncRun.objects.create(manifest=f"syncs/{manifest}", team=core.platform, api_key=core.platform_key)
    return sync_apply(
        parsed=parse_manifest(fixture_bytes(manifest)), run=run, actor=actor_for_key(core.platform_key)
    )


def labels(version: ContractVersion) -> list[str]:
    """How a reporter may name each guarantee of ``version`` (its key is one of the accepted names)."""
    return [g.key for g in version.guarantee_rows.all()]


def report(
    asset: Asset, checks: list[str], *, status: str = "passed", failing: tuple[str, ...] = (), actor=None
):
    """What a WAP job posts after checking ``checks`` (one second later than anything before)."""
    results = [{"guarantee": c, "status": "failed" if c in failing else "passed"} for c in checks]
    return audit_record(
        asset=asset,
        payload={
            "status": status,
            "triggered_by": "ci",
            "guarantees_checked": len(checks),
            "guarantees_passed": len(checks) - len(failing),
            "guarantees_failed": len(failing),
            "results": results,
            "run_at": timezone.now() + timedelta(seconds=1),
        },
        actor=actor,
    )[0]


def require_audit(asset: Asset) -> Asset:
    Asset.objects.filter(pk=asset.pk).update(requires_passing_audit=True)
    asset.refresh_from_db()
    return asset


# --- versions from a sync ------------------------------------------------------------------------
def test_synced_compatible_change_is_held_until_a_passing_audit_of_its_guarantees(
    core, celery_eager, django_capture_on_commit_callbacks
):
    dim = require_audit(core.dim_customers)
    summary = sync(core, "dbt_core_manifest_additive.json")

    dim.refresh_from_db()
    assert dim.active_version.semver == "1.0.0"
    held = ContractVersion.objects.get(asset=dim, status="proposed")
    assert "preferred_channel" in [c["name"] for c in held.columns]
    [entry] = [h for h in summary["held_versions"] if h["relation"] == "core.main.dim_customers"]
    assert entry["version"] == held.semver == "1.1.0"
    assert entry["reasons"][0] == "No audit results have been recorded for this asset."
    assert "Guarantee not_null(email) has not been checked by any recorded audit." in entry["reasons"]

    # Through the API, like a WAP job: a passing audit of the held version's own guarantees.
    client = Client()
    body = {
        "status": "passed", "triggered_by": "ci", "guarantees_checked": len(labels(held)),
        "guarantees_passed": len(labels(held)), "guarantees_failed": 0,
        "results": [{"guarantee": name, "status": "passed"} for name in labels(held)],
    }  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/api/v1/assets/{dim.pk}/audit-results", body, content_type="application/json",
            **bearer(core.platform_secret),
        )  # fmt: skip
    assert response.status_code == 201, response.content

    dim.refresh_from_db()
    assert dim.active_version_id == held.pk and dim.active_version.semver == "1.1.0"
    assert dim.content_hash == held.content_hash
    assert ContractVersion.objects.get(asset=dim, major=1, minor=0, patch=0).status == "superseded"
    released = Event.objects.get(kind="contract.released", asset=dim)
    assert released.payload["version"] == "1.1.0" and released.payload["previous"] == "1.0.0"
    assert Event.objects.filter(kind="contract.published", asset=dim, payload__version="1.1.0").count() == 1

    # The same deploy synced again: nothing is held or published twice.
    again = sync(core, "dbt_core_manifest_additive.json")
    assert again["held"] == 0 and not ContractVersion.objects.filter(asset=dim, status="proposed").exists()


def test_a_failing_dbt_build_keeps_the_synced_version_held_and_a_passing_one_releases_it(
    core, celery_eager, django_capture_on_commit_callbacks
):
    dim = require_audit(core.dim_customers)
    sync(core, "dbt_core_manifest_additive.json")
    held = ContractVersion.objects.get(asset=dim, status="proposed")
    actor = actor_for_key(core.platform_key)

    with django_capture_on_commit_callbacks(execute=True):
        audit_ingest_run_results(run_results=fixture_bytes("dbt_core_build_failing.json"), actor=actor)
    dim.refresh_from_db()
    assert dim.active_version.semver == "1.0.0"
    assert not Event.objects.filter(kind="contract.released").exists()

    # Synced again while held: the same version is judged again (not copied), with today's reasons.
    summary = sync(core, "dbt_core_manifest_additive.json")
    assert list(ContractVersion.objects.filter(asset=dim, status="proposed")) == [held]
    [entry] = [h for h in summary["held_versions"] if h["relation"] == "core.main.dim_customers"]
    assert any("not_null(email) failed" in r for r in entry["reasons"])

    with django_capture_on_commit_callbacks(execute=True):
        audit_ingest_run_results(run_results=fixture_bytes("dbt_core_build_pass.json"), actor=actor)
    dim.refresh_from_db()
    assert dim.active_version_id == held.pk and dim.active_version.semver == "1.1.0"


def test_a_deploy_that_goes_back_to_the_active_contract_drops_the_held_version(core):
    dim = require_audit(core.dim_customers)
    sync(core, "dbt_core_manifest_additive.json")
    held = ContractVersion.objects.get(asset=dim, status="proposed")
    sync(core, "dbt_core_manifest.json")
    held.refresh_from_db()
    assert held.status == "rejected"
    report(dim, labels(held))
    from audits.services import audit_release_held

    assert audit_release_held(asset_ids=[dim.pk]) == []
    dim.refresh_from_db()
    assert dim.active_version.semver == "1.0.0"


def test_assets_that_do_not_require_an_audit_publish_a_synced_change_at_once(core):
    summary = sync(core, "dbt_core_manifest_additive.json")
    assert summary["held"] == 0
    core.dim_customers.refresh_from_db()
    assert core.dim_customers.active_version.semver == "1.1.0"


# --- proposals -------------------------------------------------------------------------------------
@pytest.fixture
def story():
    story = make_story()
    # Synced versions have their Guarantee rows (audit results link to them); the factory's has not.
    Guarantee.objects.bulk_create(guarantee_rows([(story.base, base_spec())]))
    return story


def approve_all(story, proposal):
    for team, user in ((story.marketing, story.marketing_user), (story.finance, story.finance_user)):
        acknowledgment_record(
            proposal=proposal, team=team, answer="approved", actor=actor_for_user(user), via="dashboard"
        )
    proposal.refresh_from_db()
    return proposal


def test_an_approved_proposal_is_held_while_the_latest_audit_failed_with_the_reason_in_the_api(story):
    asset = require_audit(story.asset)
    report(
        asset,
        ["not_null(customer_id)", "unique(customer_id)"],
        status="failed",
        failing=("unique(customer_id)",),
    )
    proposal = approve_all(story, open_breaking(story))

    assert proposal.status == Proposal.Status.APPROVED  # every consumer agreed, the gate did not
    asset.refresh_from_db()
    assert asset.active_version.semver == "1.0.0"
    assert proposal.proposed_version.status == "proposed"
    held = Event.objects.get(kind="proposal.held", proposal=proposal)
    assert any("unique(customer_id) failed" in r for r in held.payload["reasons"])

    _, secret = api_key_for(story.marketing, scopes="read")
    detail = Client().get(f"/api/v1/proposals/{proposal.pk}", **bearer(secret)).json()
    assert detail["status"] == "approved"
    assert detail["resolution_reason"].startswith("Held by the publish gate: ")
    assert "unique(customer_id) failed" in detail["resolution_reason"]

    # Asked again with the same failing audit: still held, no second event.
    assert proposal_publish(proposal=proposal, actor=None).status == Proposal.Status.APPROVED
    assert Event.objects.filter(kind="proposal.held", proposal=proposal).count() == 1


def test_the_proposal_page_says_the_gate_holds_it(story, client):
    asset = require_audit(story.asset)
    report(asset, ["not_null(customer_id)"], status="failed", failing=("not_null(customer_id)",))
    proposal = approve_all(story, open_breaking(story))
    client.force_login(story.marketing_user)
    page = client.get(proposal.get_absolute_url()).content.decode()
    assert '<div class="alert" id="publish-gate-hold">Held by the publish gate: ' in page
    assert "Guarantee not_null(customer_id) failed its latest check" in page


def test_a_passing_audit_of_the_proposed_guarantees_publishes_the_held_proposal_with_a_major_bump(
    story, celery_eager, django_capture_on_commit_callbacks
):
    asset = require_audit(story.asset)
    report(
        asset,
        ["not_null(customer_id)", "unique(customer_id)"],
        status="failed",
        failing=("unique(customer_id)",),
    )
    # The proposed contract promises one guarantee more than the active one.
    spec = breaking_spec()
    spec.guarantees.append(GuaranteeSpec("not_null", "lifetime_value"))
    proposal = approve_all(story, open_breaking(story, spec=spec))
    assert proposal.status == Proposal.Status.APPROVED

    # Everything the active contract promises passes, but not what the proposed one adds: held.
    with django_capture_on_commit_callbacks(execute=True):
        report(asset, ["not_null(customer_id)", "unique(customer_id)"])
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.APPROVED
    assert (
        "Guarantee not_null(lifetime_value) has not been checked by any recorded audit."
        in proposal.resolution_reason
    )

    with django_capture_on_commit_callbacks(execute=True):
        report(asset, ["not_null(customer_id)", "unique(customer_id)", "not_null(lifetime_value)"])

    proposal.refresh_from_db()
    asset.refresh_from_db()
    assert proposal.status == Proposal.Status.PUBLISHED and proposal.resolution_reason == ""
    assert asset.active_version_id == proposal.proposed_version_id
    assert asset.active_version.semver == "2.0.0"
    published = Event.objects.get(kind="proposal.published", proposal=proposal)
    assert published.payload["publish_gate"]["decision"] == "publish"
    assert published.payload["publish_gate"]["bypassed"] is False

    # Another passing audit later releases nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        report(asset, ["not_null(customer_id)", "unique(customer_id)", "not_null(lifetime_value)"])
    assert Event.objects.filter(kind="proposal.published", proposal=proposal).count() == 1
    assert ContractVersion.objects.filter(asset=asset, status="active").count() == 1


def test_force_publishes_despite_the_hold_and_says_it_bypassed_the_gate(story):
    asset = require_audit(story.asset)
    report(asset, ["not_null(customer_id)"], status="failed", failing=("not_null(customer_id)",))
    proposal = approve_all(story, open_breaking(story))
    assert proposal.status == Proposal.Status.APPROVED

    proposal_force(
        proposal=proposal, reason="GDPR: email must go today", actor=actor_for_user(story.producer_lead)
    )
    proposal.refresh_from_db()
    asset.refresh_from_db()
    assert proposal.status == Proposal.Status.FORCED
    assert asset.active_version.semver == "2.0.0"
    gate = Event.objects.get(kind="proposal.published", proposal=proposal).payload["publish_gate"]
    assert gate["bypassed"] is True and gate["decision"] == "hold"
    assert any("not_null(customer_id) failed" in r for r in gate["reasons"])
