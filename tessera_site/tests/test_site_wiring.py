"""The site wires what one app draws into another's page: the asset page (contracts) gets its
audit sections (the publish gate, trend, check rates) from the audits app through
tessera_site/urls.py, so contracts never imports audits."""

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
