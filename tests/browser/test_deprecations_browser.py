"""Deprecation campaigns in a real browser: the Deprecations page (in the navigation) lists core's
dim_products v1 campaign with its progress, marketing still reading it; the asset page of v1 shows
the versions of the model and the same campaign; once marketing moves to v2 the campaign is done."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD, _sync, log_in, shot
from tests.browser.pagecheck import serious_axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def versions_world(transactional_db, demo_artifacts):
    from django.contrib.auth import get_user_model

    from contracts.models import Asset, Team, TeamMembership
    from tessera_site.lib.auth import SYSTEM

    for project in ("core", "marketing", "finance"):
        _sync(demo_artifacts.read_bytes(demo_artifacts.manifests[project]), actor=SYSTEM)
    user = get_user_model().objects.create_user("marketing-lead", "marketing-lead@example.com", PASSWORD)
    TeamMembership.objects.create(team=Team.objects.get(slug="marketing-analytics"), user=user)
    return {
        "v1": Asset.objects.get(relation="core.main.dim_products").pk,
        "v2": Asset.objects.get(relation="core.main.dim_products_v2").pk,
        "moved": demo_artifacts.read_bytes(demo_artifacts.marketing_products_v2_manifest),
    }


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport={"width": 1360, "height": 900}, base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def test_deprecations_page_and_asset_page_show_the_campaign_and_its_progress(
    page, live_server, versions_world
):
    log_in(page, live_server.url, "marketing-lead")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Deprecations").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Deprecations")
    card = page.locator("section.card", has=page.get_by_role("heading", name="dim_products_v1"))
    expect(card).to_contain_text("Version 1 of dim_products is deprecated on 2036-06-30")
    expect(card).to_contain_text("0 of 1 team moved, 1 still reading")
    expect(card.locator(".readers-still")).to_contain_text(
        "marketing-analytics still reads it: int_product_catalogue"
    )
    expect(card.get_by_role("link", name="dim_products_v2")).to_be_visible()
    shot(page, "deprecations-list")
    assert not serious_axe_violations(page)

    card.get_by_role("link", name="dim_products_v1").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Deprecation of dim_products_v1")
    expect(page.get_by_role("heading", name="Reminders")).to_be_visible()

    page.goto(f"/assets/{versions_world['v1']}/")
    versions = page.locator("#model-versions")
    expect(versions.get_by_role("link", name="dim_products_v2")).to_be_visible()
    expect(versions).to_contain_text("latest")
    expect(versions).to_contain_text("deprecated 2036-06-30")
    campaign = page.locator("#deprecation")
    expect(campaign).to_contain_text("0 of 1 team moved, 1 still reading")
    expect(campaign).to_contain_text("marketing-analytics still reads it")
    shot(page, "asset-deprecation-campaign")
    assert not serious_axe_violations(page)

    from tessera_site.lib.auth import SYSTEM

    _sync(versions_world["moved"], actor=SYSTEM)  # marketing moves to v2
    page.reload()
    expect(campaign).to_contain_text("1 of 1 team moved, 0 still reading")
    expect(campaign.locator(".badge")).to_have_text("done")
    expect(campaign.locator(".readers-moved")).to_contain_text("marketing-analytics moved on")
