"""The dashboard in a real browser (Chromium via Playwright) on the synced demo projects."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in, shot
from tests.browser.pagecheck import serious_axe_violations
from testsupport.fixtures import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport={"width": 1360, "height": 900}, base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def test_marketing_lead_approves_the_dim_customers_proposal_in_place(page, live_server, demo_world):
    from contracts.models import Acknowledgment

    log_in(page, live_server.url, "marketing-lead")
    item = page.locator(f"#waiting-{demo_world.proposal_id}-marketing-analytics")
    item.wait_for()
    assert "dim_customers" in item.inner_text()
    shot(page, "home-waiting")

    # A marker on window survives an htmx swap but not a full page load.
    page.evaluate("window.__sameDocument = true")
    page.once("dialog", lambda dialog: dialog.accept())  # "confirm", if the buttons ask
    item.get_by_role("button", name="Approve").click()

    answered = page.locator(f"#answered-{demo_world.proposal_id}-marketing-analytics")
    answered.wait_for()
    assert "approved" in answered.inner_text().lower()
    assert page.locator(f"#waiting-{demo_world.proposal_id}-marketing-analytics").count() == 0
    assert page.evaluate("window.__sameDocument === true"), "the answer must not reload the page"
    ack = Acknowledgment.objects.get(proposal_id=demo_world.proposal_id, team__slug="marketing-analytics")
    assert ack.answer == "approved" and ack.via == "dashboard"
    shot(page, "home-answered")
    assert not serious_axe_violations(page)  # the state after an in-place update, too


def test_asset_page_shows_the_timeline_with_versions_and_the_proposal(page, live_server, demo_world):
    log_in(page, live_server.url, "marketing-lead")
    page.fill("header input[name=q]", "dim_customers")
    page.press("header input[name=q]", "Enter")
    page.locator("#results").get_by_role("link", name="dim_customers", exact=True).click()
    page.wait_for_url(re.compile(rf"/assets/{demo_world.dim_customers_id}/$"))

    timeline = page.locator("svg.timeline")
    timeline.wait_for()
    assert timeline.locator("[data-lane=version]").count() >= 2  # active v1 and the proposed major
    proposal_mark = timeline.locator(f"a[href='/proposals/{demo_world.proposal_id}/']")
    assert proposal_mark.count() == 1
    assert page.locator("#schema").get_by_text("customer_id", exact=True).count() == 1
    assert page.locator("#consumers").get_by_text("marketing-analytics").count() == 1
    shot(page, "asset-dim-customers")

    proposal_mark.click()
    page.wait_for_url(re.compile(rf"/proposals/{demo_world.proposal_id}/$"))
    assert "country_code" in page.locator("main").inner_text()
    shot(page, "proposal")
    page.get_by_role("link", name=re.compile("Side-by-side diff")).click()
    page.locator("table.diff tr.breaking").first.wait_for()
    shot(page, "version-diff")


def test_lineage_connects_core_dim_customers_to_marketing_models(page, live_server, demo_world):
    log_in(page, live_server.url, "marketing-lead")
    page.goto(f"{live_server.url}/lineage/?proposal={demo_world.proposal_id}&hops=2")
    page.locator("svg.graph[data-ready=true]").wait_for()
    dim = page.locator("g.node[data-name=dim_customers][data-project=core]")
    assert dim.count() == 1
    assert "changing" in dim.get_attribute("class")
    dim_id = dim.get_attribute("data-id")
    downstream_projects = page.evaluate(
        """(id) => Array.from(document.querySelectorAll(`path.edge[data-from="${id}"]`))
              .map(e => document.querySelector(`g.node[data-id="${e.dataset.to}"]`).dataset.project)""",
        dim_id,
    )
    assert "marketing" in downstream_projects
    affected = page.locator("g.node.affected[data-project=marketing]")
    assert affected.count() >= 1
    shot(page, "lineage-proposal")

    # Find, select and zoom: the info panel lists what reads dim_customers.
    page.fill("#graph-find", "dim_customers")
    page.press("#graph-find", "Enter")
    info = page.locator("#graph-info")
    info.wait_for()
    assert "marketing" in info.inner_text()
    page.click("[data-zoom=out]")
    shot(page, "lineage-selected")
    assert not serious_axe_violations(page)  # the state after an in-place update, too


LEGIBLE_PX = 11  # the smallest label a reader gets on the first view, without zooming


def label_sizes(page) -> dict[str, float]:
    """The smallest rendered font size of the boxes' labels and the smallest box height, in CSS
    pixels on screen (the SVG's own size times the pan-and-zoom scale)."""
    return page.evaluate(
        """() => {
          const texts = Array.from(document.querySelectorAll('g.node text'));
          const boxes = Array.from(document.querySelectorAll('g.node rect.box'));
          return {
            font: Math.min(...texts.map(t => parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a)),
            box: Math.min(...boxes.map(b => b.getBoundingClientRect().height)),
            shown: texts.filter(t => getComputedStyle(t).display !== 'none').length / texts.length,
          };
        }"""
    )


def test_whole_lineage_graph_starts_legible_with_groups_and_opens_them(page, live_server, demo_world):
    log_in(page, live_server.url, "platform-lead")
    page.goto(f"{live_server.url}/lineage/")
    page.locator("svg.graph[data-ready=true]").wait_for()
    boxes = page.evaluate(
        "Array.from(document.querySelectorAll('g.node')).map(n => [n.dataset.kind, n.dataset.project])"
    )
    assert {kind for kind, _ in boxes} == {"cluster"}  # one box per project and owner team
    assert {"core", "marketing", "finance"} <= {project for _, project in boxes}
    sizes = label_sizes(page)
    assert sizes["font"] >= LEGIBLE_PX and sizes["box"] >= 30 and sizes["shown"] == 1, sizes
    assert page.locator("path.edge.cross").count() >= 2  # core → marketing, core → finance
    counts = page.locator("text.e-count").all_text_contents()
    assert counts and all(int(c) >= 1 for c in counts)
    shot(page, "lineage-all")

    # A click opens the core group where it stands: its assets, read by the other groups.
    page.locator("g.node[data-kind=cluster][data-project=core]").first.click()
    dim = page.locator(f"g.node[data-id=a{demo_world.dim_customers_id}]")
    dim.wait_for()
    page.locator("svg.graph[data-ready=true]").wait_for()
    assert "expand=" in page.url  # a reload or a shared link shows the same view
    readers = page.evaluate(
        """(id) => Array.from(document.querySelectorAll(`path.edge[data-from="${id}"]`))
              .map(e => document.querySelector(`g.node[data-id="${e.dataset.to}"]`).dataset.project)""",
        f"a{demo_world.dim_customers_id}",
    )
    assert "marketing" in readers
    sizes = label_sizes(page)
    assert sizes["font"] >= LEGIBLE_PX and sizes["shown"] == 1, sizes
    shot(page, "lineage-group-opened")
    assert not serious_axe_violations(page)  # the state after an in-place update, too

    page.reload()
    dim = page.locator(f"g.node[data-id=a{demo_world.dim_customers_id}]")
    dim.wait_for()
    page.fill("#graph-find", "dim_customers")  # centres on it and selects it
    page.press("#graph-find", "Enter")
    page.locator("#graph-info").get_by_role("button", name="Close its group").click()
    expect(page.locator("g.node[data-kind=asset]")).to_have_count(0)
    assert page.evaluate("document.activeElement.dataset.project") == "core"  # the group's box again
    page.keyboard.press("Enter")  # and the keyboard opens it again
    dim.wait_for()
    page.click("#graph-overview")
    expect(page.locator("g.node[data-kind=asset]")).to_have_count(0)
    page.locator("svg.graph[data-ready=true]").wait_for()
    assert "expand=" not in page.url
    assert page.evaluate("document.activeElement.matches('g.node')")  # focus stays in the graph


def _run_tasks(request) -> None:
    """A real Celery worker when the suite runs with PostgreSQL and Redis (CI), else tasks in-process."""
    from testsupport.fixtures import broker_is_real, database_is_postgres

    request.getfixturevalue(
        "celery_worker" if broker_is_real() and database_is_postgres() else "celery_eager"
    )


def test_upload_a_manifest_and_watch_the_progress_panel_reach_done(
    page, live_server, demo_world, demo_artifacts, request
):
    _run_tasks(request)
    log_in(page, live_server.url, "platform-lead")
    page.get_by_role("link", name="Upload").click()
    page.set_input_files("#m-manifest", str(demo_artifacts.core_additive_manifest))
    shot(page, "upload")
    page.locator("#manifest-form").get_by_role("button", name="Sync manifest").click()
    panel = page.locator("#progress")
    panel.wait_for()
    page.locator("#progress[data-status=succeeded]").wait_for(timeout=60_000)
    text = panel.inner_text()
    assert "Succeeded" in text and "dim_customers" in text  # the additive column is a minor change
    shot(page, "upload-done")
    assert not serious_axe_violations(page)  # the state after an in-place update, too


def test_answer_and_upload_without_javascript(browser, live_server, demo_world, demo_artifacts, request):
    _run_tasks(request)
    from contracts.models import Acknowledgment, SyncRun

    context = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        log_in(page, live_server.url, "finance-lead")
        item = page.locator(f"#waiting-{demo_world.proposal_id}-finance-analytics")
        item.get_by_role("button", name="Approve").click()
        page.wait_for_load_state()
        ack = Acknowledgment.objects.get(proposal_id=demo_world.proposal_id, team__slug="finance-analytics")
        assert ack.answer == "approved"
        shot(page, "nojs-answered")

        page.goto(f"{live_server.url}/upload/")
        page.set_input_files("#m-manifest", str(demo_artifacts.manifests["finance"]))
        page.locator("#manifest-form").get_by_role("button", name="Sync manifest").click()
        page.wait_for_url(re.compile(r"/syncs/\d+/$"))
        sync_id = int(re.search(r"/syncs/(\d+)/$", page.url).group(1))
        wait_for(
            lambda: SyncRun.objects.get(pk=sync_id).status in ("succeeded", "failed"),
            timeout=120,
            message=f"sync {sync_id} to end",
        )
        page.reload()  # without htmx the page is reloaded by hand (the noscript link)
        assert page.locator("#progress").get_attribute("data-status") == "succeeded"
        shot(page, "nojs-sync")
    finally:
        context.close()


def test_other_pages_render_for_screenshots(page, live_server, demo_world):
    log_in(page, live_server.url, "platform-lead")
    for name, path in [
        ("home-producer", "/"),
        ("assets", "/assets/"),
        ("team", "/teams/data-platform/"),
        ("audit-log", "/events/"),
    ]:
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        shot(page, name)
    page.goto(f"{live_server.url}/assets/")
    page.evaluate("window.__sameDocument = true")
    page.locator("#results th").get_by_role("link", name="Version").click()
    page.wait_for_url(re.compile(r"sort=version"))
    page.select_option("#f-project", "marketing")
    page.wait_for_url(re.compile(r"project=marketing"))  # htmx pushed the filtered URL
    expect(page.locator("#live-status")).to_contain_text("assets")  # the new count is read out
    assert "sort=version" in page.url  # the sort chosen by clicking a header survives the filter
    page.locator("#results td.mono.small").first.wait_for()
    relations = page.locator("#results td.mono.small").all_inner_texts()
    assert relations and all(r.startswith("marketing.") for r in relations)
    assert page.evaluate("window.__sameDocument === true")
    shot(page, "assets-filtered")


def test_lineage_graph_stays_usable_with_a_thousand_nodes(browser, live_server, transactional_db, settings):
    """1,000 assets in 8 projects of 4 teams, each reading 1-2 assets of the layer before.

    Whether it draws and pans; how fast is measured by bench/pages_bench.py, not here.
    """
    import random

    from django.contrib.auth import get_user_model

    from contracts.models import Asset, LineageEdge, Project, Team, TeamMembership

    rng = random.Random(3)
    teams = [Team.objects.create(slug=f"team-{i}", name=f"Team {i}") for i in range(4)]
    projects = [Project.objects.create(name=f"project_{i}", owner_team=teams[i % 4]) for i in range(8)]
    assets = Asset.objects.bulk_create(
        [
            Asset(
                relation=f"{p.name}.main.model_{i}",
                unique_id=f"model.{p.name}.model_{i}",
                project=p,
                owner_team=p.owner_team,
                name=f"model_{i}",
            )
            for i in range(1000)
            for p in [projects[i % 8]]
        ]
    )
    layers = [assets[i : i + 125] for i in range(0, 1000, 125)]
    edges = {
        (rng.choice(before).pk, a.pk)
        for before, layer in zip(layers, layers[1:])
        for a in layer
        for _ in range(2)
    }
    LineageEdge.objects.bulk_create([LineageEdge(upstream_id=u, downstream_id=d) for u, d in edges])
    user = get_user_model().objects.create_user("viewer", "viewer@example.com", "correct-horse-battery")
    TeamMembership.objects.create(team=teams[0], user=user)

    context = browser.new_context(viewport={"width": 1360, "height": 900})
    page = context.new_page()
    try:
        log_in(page, live_server.url, "viewer")
        # By default: one box per project (and owner team); Enter opens one, into name ranges
        # (125 assets are more than a group shows at once), and the keyboard follows.
        page.goto(f"{live_server.url}/lineage/")
        page.locator("svg.graph[data-ready=true]").wait_for()
        assert page.locator("g.node[data-kind=cluster]").count() == 8
        assert label_sizes(page)["font"] >= LEGIBLE_PX
        page.locator("g.node[tabindex='0']").focus()
        page.keyboard.press("Enter")
        expect(page.locator("g.node[data-kind=cluster]")).to_have_count(7 + 12)
        assert page.evaluate("document.activeElement.dataset.id").count(":") == 1  # a range has focus
        page.keyboard.press("Enter")
        page.locator("g.node[data-kind=asset]").first.wait_for()
        assert page.evaluate("document.activeElement.dataset.kind") == "asset"
        shot(page, "lineage-1000-groups")

        page.goto(f"{live_server.url}/lineage/?view=assets")
        page.locator("svg.graph[data-ready=true]").wait_for(timeout=30_000)
        assert page.locator("g.node").count() == 1000
        assert page.locator("path.edge").count() == len(edges)
        shot(page, "lineage-1000")

        viewport = page.locator("g.viewport")
        before = viewport.get_attribute("transform")
        box = page.locator("#graph").bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        for _ in range(8):
            page.mouse.wheel(0, -240)
        page.mouse.down()
        page.mouse.move(box["x"] + 200, box["y"] + 200, steps=10)
        page.mouse.up()
        assert viewport.get_attribute("transform") != before
        page.fill("#graph-find", "model_999")
        page.press("#graph-find", "Enter")
        page.locator("#graph-info").wait_for()
        assert "model_999" in page.locator("#graph-info").inner_text()
        shot(page, "lineage-1000-zoomed")
    finally:
        context.close()


def test_consumer_asks_for_time_on_the_proposal_page_and_the_answers_update_in_place(
    page, live_server, demo_world
):
    from contracts.models import Acknowledgment

    log_in(page, live_server.url, "marketing-lead")
    page.goto(f"{live_server.url}/proposals/{demo_world.proposal_id}/")
    page.evaluate("window.__sameDocument = true")
    ready_by = dt.date.today() + dt.timedelta(days=60)  # a ready-by date must lie ahead
    form = page.locator("#answers form.answer-migrating")
    form.locator("input[type=date]").fill(ready_by.isoformat())
    form.get_by_role("button", name="Need time").click()
    badge = page.locator("#answer-marketing-analytics .badge.ans-migrating")
    badge.wait_for()
    assert f"{ready_by.day} {ready_by:%b %Y}" in page.locator("#answer-marketing-analytics").inner_text()
    assert page.evaluate("window.__sameDocument === true")
    ack = Acknowledgment.objects.get(proposal_id=demo_world.proposal_id, team__slug="marketing-analytics")
    assert ack.answer == "migrating" and ack.ready_by == ready_by
    shot(page, "proposal-migrating")
    assert not serious_axe_violations(page)  # the state after an in-place update, too


def test_upload_failing_test_results_and_see_the_failed_audit(
    page, live_server, demo_world, demo_artifacts, celery_eager
):
    log_in(page, live_server.url, "platform-lead")
    page.goto(f"{live_server.url}/upload/")
    page.set_input_files("#r-file", str(demo_artifacts.core_failing_run_results))
    page.locator("#results-form").get_by_role("button", name="Upload results").click()
    page.locator("#progress[data-status=succeeded]").wait_for(timeout=60_000)
    assert "dim_customers" in page.locator("#progress").inner_text()
    shot(page, "upload-results-done")
    assert not serious_axe_violations(page)  # the state after an in-place update, too

    page.goto(f"{live_server.url}/assets/{demo_world.dim_customers_id}/#audits")
    audits = page.locator("#audits")
    assert audits.locator(".badge.audit-failed").count() >= 1
    assert "not_null_dim_customers_email" in audits.inner_text()
    assert page.locator("svg.timeline [data-lane=audit].audit-failed").count() == 1
    shot(page, "asset-failed-audit")
    assert not serious_axe_violations(page)  # the state after an in-place update, too

    log_in(page, live_server.url, "marketing-lead")  # a consumer sees it on its home page
    assert "dim_customers" in page.locator("#failing").inner_text()


def test_pages_fit_a_phone_screen(browser, live_server, demo_world):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        log_in(page, live_server.url, "marketing-lead")
        for name, path in [("mobile-home", "/"), ("mobile-asset", f"/assets/{demo_world.dim_customers_id}/")]:
            page.goto(f"{live_server.url}{path}")
            # Nothing but the wide tables (which scroll in their own box) may widen the page.
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, f"{path} is {overflow}px wider than the screen"
            shot(page, name)
    finally:
        context.close()
