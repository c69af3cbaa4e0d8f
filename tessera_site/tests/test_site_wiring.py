"""The site wires what one app draws into another's page: the asset page (contracts) gets its
audit sections (the publish gate, trend, check rates) from the audits app through
tessera_site/urls.py, and contracts' publishing services ask the gate the settings name
(TESSERA_PUBLISH_GATE), so contracts never imports audits."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from contracts.factories import AssetFactory, ContractVersionFactory, UserFactory
from contracts.views.browse import asset_detail

pytestmark = pytest.mark.django_db


@pytest.fixture
def asset():
    asset = AssetFactory()
    ContractVersionFactory(asset=asset)
    return asset


def test_the_site_hands_the_asset_page_its_audit_sections(client, asset):
    client.force_login(UserFactory(is_superuser=True))
    page = client.get(f"/assets/{asset.pk}/").content.decode()
    assert 'id="publish-gate"' in page


def test_without_the_audits_app_the_asset_page_draws_no_audit_sections(asset):
    request = RequestFactory().get(f"/assets/{asset.pk}/")
    request.user = UserFactory(is_superuser=True)
    request.htmx = False
    response = asset_detail(request, asset.pk)  # no audit_context: the view's own default
    assert response.status_code == 200
    assert 'id="publish-gate"' not in response.content.decode()


def test_the_site_names_the_audits_publish_gate_for_contracts():
    from audits.selectors import publish_allowed
    from tessera_site.lib.gate import publish_gate

    assert publish_gate() is publish_allowed


@pytest.mark.parametrize("named", [None, "", "audits.selectors.no_such_gate"])
def test_a_missing_publish_gate_refuses_loudly_instead_of_allowing(settings, asset, named):
    """No default gate: an unwired or misspelled gate must not let every version publish."""
    from django.core.exceptions import ImproperlyConfigured

    from tessera_site.lib.gate import publish_allowed

    if named is None:
        del settings.TESSERA_PUBLISH_GATE
    else:
        settings.TESSERA_PUBLISH_GATE = named
    with pytest.raises(ImproperlyConfigured, match="TESSERA_PUBLISH_GATE"):
        publish_allowed(asset=asset, version=asset.active_version)


def test_a_misspelled_run_results_ingestion_is_a_wiring_error_not_a_silent_skip(settings):
    """Unset, the run_results ingestion is optional (the sync says it was not ingested); named but
    not importable, it is a wiring mistake and must raise rather than drop results."""
    from django.core.exceptions import ImproperlyConfigured

    from tessera_site.lib.wiring import setting_callable_or_none

    settings.TESSERA_RUN_RESULTS_INGEST = ""
    assert setting_callable_or_none("TESSERA_RUN_RESULTS_INGEST") is None
    settings.TESSERA_RUN_RESULTS_INGEST = "audits.services.no_such_ingestion"
    with pytest.raises(ImproperlyConfigured, match="TESSERA_RUN_RESULTS_INGEST"):
        setting_callable_or_none("TESSERA_RUN_RESULTS_INGEST")
    settings.TESSERA_RUN_RESULTS_INGEST = "audits.services.audit_ingest_run_results"
    from audits.services import audit_ingest_run_results

    assert setting_callable_or_none("TESSERA_RUN_RESULTS_INGEST") is audit_ingest_run_results
