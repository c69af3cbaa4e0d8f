"""Column usage in a real browser: the proposal page names, per team, the models and columns a
change touches; the asset page's schema lists who reads each column."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD, _sync, log_in, shot
from tests.browser.pagecheck import serious_axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def usage_world(transactional_db, demo_artifacts):
    """The three demo projects synced with their column-usage step, then core's breaking variant."""
    from django.contrib.auth import get_user_model

    from contracts.models import Asset, Proposal, Team, TeamMembership
    from contracts.tasks.column_usage import column_usage_refresh_task
    from tessera_site.lib.auth import SYSTEM

    for project in ("core", "marketing", "finance"):
        run = _sync(demo_artifacts.read_bytes(demo_artifacts.manifests[project]), actor=SYSTEM)
        column_usage_refresh_task(run.pk)  # what the worker does after the sync, here in the thread
    _sync(demo_artifacts.read_bytes(demo_artifacts.core_breaking_manifest), actor=SYSTEM)
    user = get_user_model().objects.create_user("finance-lead", "finance-lead@example.com", PASSWORD)
    TeamMembership.objects.create(team=Team.objects.get(slug="finance-analytics"), user=user)
    orders = Asset.objects.get(relation="core.main.fct_orders")
    customers = Asset.objects.get(relation="core.main.dim_customers")
    return {
        "orders_proposal": Proposal.objects.get(asset=orders, status="open").pk,
        "customers": customers.pk,
    }


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport={"width": 1360, "height": 900}, base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def test_proposal_page_shows_per_team_the_models_and_columns_the_change_touches(
    page, live_server, usage_world
):
    log_in(page, live_server.url, "finance-lead")
    page.goto(f"/proposals/{usage_world['orders_proposal']}/")
    impact = page.locator("#impact")
    expect(impact.get_by_role("heading", name="Who it touches")).to_be_visible()

    marketing = impact.locator("#impact-marketing-analytics")
    expect(marketing).to_contain_text("asked")
    attribution = marketing.locator("li[data-model=int_order_attribution]")
    expect(attribution).to_contain_text("touches status")
    attribution.get_by_text("SQL of int_order_attribution").click()  # a <details>: keyboard and mouse alike
    expect(attribution.locator("pre code")).to_contain_text("status in ('shipped', 'completed')")

    finance = impact.locator("#impact-finance-analytics")
    expect(finance).to_contain_text("informed, no answer needed")
    expect(finance.locator("li[data-model=int_invoice_payments]")).to_contain_text(
        "touches nothing that changes"
    )
    expect(finance).to_contain_text("total_amount")
    shot(page, "proposal-impact-per-team")
    assert not serious_axe_violations(page)


def test_asset_page_schema_lists_who_reads_each_column(page, live_server, usage_world):
    log_in(page, live_server.url, "finance-lead")
    page.goto(f"/assets/{usage_world['customers']}/")
    readers = page.locator("details.column-readers[data-column=country_code]")
    summary = readers.locator("summary")
    expect(summary).to_contain_text("2 models")
    summary.focus()
    page.keyboard.press("Enter")  # opens like any disclosure, from the keyboard
    expect(readers).to_have_attribute("open", "")
    expect(readers.get_by_role("link", name="int_customer_touchpoints")).to_be_visible()
    expect(readers).to_contain_text("marketing-analytics")
    expect(readers).to_contain_text("select")
    shot(page, "asset-column-readers")
    assert not serious_axe_violations(page)

    readers.get_by_role("link", name="Column lineage of country_code").click()
    table = page.locator("#column-lineage table")
    expect(table).to_contain_text("int_customer_touchpoints")
    expect(table).to_contain_text("fct_attribution")

    # The graph above the table draws the same: the column's source, its readers and where.
    page.locator("svg.graph.has-column[data-ready=true]").wait_for()
    expect(page.locator("g.node.col-focus[data-name=dim_customers]")).to_have_count(1)
    reader = page.locator("g.node.col-reads[data-name=int_customer_touchpoints][data-project=marketing]")
    expect(reader).to_have_count(1)
    assert "reads country_code: select" in reader.get_attribute("aria-label")
    expect(page.locator("g.node.col-reads[data-name=fct_attribution]")).to_have_count(1)  # two hops on
    assert page.locator("g.node.col-source").count() >= 1  # where dim_customers.country_code comes from
    shown = page.evaluate(
        "Array.from(document.querySelectorAll('text.c-label')).map(t => t.firstChild.nodeValue)"
    )
    assert "select" in shown, shown  # the clauses on the edge, the column and clauses on hover
    assert "country_code: select" in page.locator("text.c-label title").all_text_contents()
    touchpoints = reader.get_attribute("data-id")
    column_edge = page.locator(
        f"path.edge.column[data-from='{usage_world['customers']}'][data-to='{touchpoints}']"
    )
    expect(column_edge).to_have_count(1)
    expect(page.locator("#column-lineage")).to_contain_text("Comes from")
    shot(page, "lineage-column")
    assert not serious_axe_violations(page)
