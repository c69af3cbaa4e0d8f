"""A held publish survives a lost release message: the periodic sweep finds
it from the state it should have changed. Here the message is lost for real: inside a test
transaction nothing is committed, so the on-commit enqueue never happens, as when the broker was
down at that moment. The sweep then runs the work in-process (celery_eager)."""

from __future__ import annotations

import pytest

from audits.tests.test_gate_publishing import labels, report, require_audit, sync
from contracts.models import ContractVersion
from contracts.selectors.background import held_publish_asset_ids
from tessera_site.tasks import jobs_sweep

pytestmark = pytest.mark.django_db


def test_a_release_lost_after_the_passing_audit_is_done_by_the_next_sweep(core, celery_eager):
    dim = require_audit(core.dim_customers)
    sync(core, "dbt_core_manifest_additive.json")
    held = ContractVersion.objects.get(asset=dim, status="proposed")
    assert held_publish_asset_ids() == [dim.pk]
    assert jobs_sweep()["HeldPublishes"] == 1  # asked again: the gate still holds, nothing published
    dim.refresh_from_db()
    assert dim.active_version.semver == "1.0.0"

    report(dim, labels(held))  # passing; its release message never leaves this transaction
    dim.refresh_from_db()
    assert dim.active_version_id != held.pk

    jobs_sweep()
    dim.refresh_from_db()
    assert dim.active_version_id == held.pk and dim.active_version.semver == "1.1.0"
    assert held_publish_asset_ids() == []
    assert jobs_sweep()["HeldPublishes"] == 0
