"""Admins can look at audit runs and uploads, but not edit the evidence."""

from __future__ import annotations

import pytest

from audits.models import AuditRun
from audits.services import audit_ingest_run_results
from audits.tests.conftest import fixture_bytes
from tessera_site.lib.auth import actor_for_key

pytestmark = pytest.mark.django_db


def test_admin_lists_and_shows_runs_read_only(core, admin_client):
    audit_ingest_run_results(
        run_results=fixture_bytes("dbt_core_build_failing.json"), actor=actor_for_key(core.platform_key)
    )
    run = AuditRun.objects.get(asset=core.dim_customers)
    listing = admin_client.get("/admin/audits/auditrun/?status__exact=failed")
    assert listing.status_code == 200 and b"core.main.dim_customers" in listing.content
    page = admin_client.get(f"/admin/audits/auditrun/{run.pk}/change/")
    assert page.status_code == 200 and b"not_null_dim_customers_email" in page.content
    assert admin_client.get("/admin/audits/auditrun/add/").status_code == 403
    assert admin_client.get("/admin/audits/resultupload/").status_code == 200
