"""Every page of the dashboard, signed in and out, at desktop and phone width: no serious or critical
axe-core violation (WCAG 2.1 AA and axe's best practices), and no Content-Security-Policy
violation with the real policy on. Then the keyboard: a proposal answered from the home page and an
asset opened from the lineage graph without touching the mouse.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in, shot
from tests.browser.pagecheck import DESKTOP, PHONE, assert_clean, check_page, csp_violations, watch_context

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _running_sync(demo_artifacts) -> int:
    """A sync a worker has claimed and is halfway through: the page polls it while we look."""
    from contracts.models import SyncRun
    from contracts.services.sync import sync_submit
    from tessera_site.lib.auth import SYSTEM
    from tessera_site.lib.jobs import job_claim, job_stage

    run = sync_submit(
        manifest=demo_artifacts.read_bytes(demo_artifacts.core_additive_manifest),
        team_slug=None,
        actor=SYSTEM,
    )
    assert job_claim(SyncRun, run.pk)
    job_stage(SyncRun, run.pk, "diffing contracts", progress=40)
    return run.pk


def _wait_until_drawn(page, path: str) -> None:
    if path.startswith("/lineage/"):
        page.locator("svg.graph[data-ready=true]").wait_for()


def _signed_in_pages(world, sync_id: int, email_ids: list[int]) -> list[tuple[str, str]]:
    from contracts.models import Proposal

    proposal = Proposal.objects.get(pk=world.proposal_id)
    dim = world.dim_customers_id
    diff = f"/assets/{dim}/diff/{proposal.base_version_id}/{proposal.proposed_version_id}/"
    pages = [
        ("home", "/"),
        ("assets", "/assets/"),
        ("assets-filtered", "/assets/?project=marketing&sort=-version"),
        ("asset", f"/assets/{dim}/"),
        ("version-diff", diff),
        ("proposal", f"/proposals/{world.proposal_id}/"),
        ("lineage", "/lineage/"),
        ("lineage-focused", f"/lineage/?focus={dim}&hops=2"),
        ("lineage-impact", f"/lineage/?proposal={world.proposal_id}&hops=2"),
        ("upload", "/upload/"),
        ("sync-running", f"/syncs/{sync_id}/"),
        ("audit-log", "/events/"),
        ("team", "/teams/marketing-analytics/"),
        ("team-notifications", "/teams/marketing-analytics/notifications/"),
        ("outbox", "/outbox/"),
    ]
    return pages + [(f"email-{pk}", f"/outbox/{pk}/") for pk in email_ids]


@pytest.fixture
def world_with_emails(demo_world, settings, live_server):
    """The demo world, in DEBUG (the outbox exists), with the proposal's emails recorded."""
    from contracts.models import OutboundEmail
    from contracts.tasks.workflow import proposal_opened_emails_task, proposal_reminders_task

    settings.DEBUG = True
    settings.TESSERA_BASE_URL = live_server.url
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    proposal_opened_emails_task(demo_world.proposal_id)
    assert OutboundEmail.objects.filter(proposal_id=demo_world.proposal_id).count() == 2
    # A digest lists several proposals: its buttons must say which one each answers.
    proposal_reminders_task()
    assert OutboundEmail.objects.filter(kind="reminder_digest").count() == 2
    return demo_world


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_every_signed_in_page_passes_axe_and_the_csp(
    browser, live_server, world_with_emails, demo_artifacts, viewport
):
    from contracts.models import OutboundEmail

    width = "desktop" if viewport is DESKTOP else "phone"
    sync_id = _running_sync(demo_artifacts)
    email_ids = list(OutboundEmail.objects.order_by("pk").values_list("pk", flat=True))
    context = browser.new_context(viewport=viewport, base_url=live_server.url, is_mobile=viewport is PHONE)
    watch = watch_context(context)
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems: list[str] = []
    try:
        log_in(page, live_server.url, "marketing-lead")
        for name, path in _signed_in_pages(world_with_emails, sync_id, email_ids):
            response = page.goto(f"{live_server.url}{path}")
            assert response.status == 200, path
            _wait_until_drawn(page, path)
            problems += check_page(page, f"a11y-{width}-{name}")
            if name.startswith("email-"):
                # Each button's name says the action and the proposal, not only "Approve".
                about = rf"proposal #{world_with_emails.proposal_id} \(dim_customers\) for \S+-analytics$"
                for action in ("Approve", "Need time on", "Block"):
                    assert page.get_by_role("link", name=re.compile(f"^{action} {about}")).count() == 1, (
                        action
                    )
        # The upload form, answered in place by the new sync's panel (no worker takes it: it waits).
        page.goto(f"{live_server.url}/upload/")
        page.set_input_files("#m-manifest", str(demo_artifacts.manifests["marketing"]))
        page.locator("#manifest-form").get_by_role("button", name="Sync manifest").click()
        page.locator("#job-area #progress").wait_for()
        expect(page.locator("#live-status")).to_contain_text("Pending")  # the new panel is read out
        problems += check_page(page, f"a11y-{width}-upload-job-waiting")
        # The running sync keeps polling in place; its panel must still be there and clean.
        page.goto(f"{live_server.url}/syncs/{sync_id}/")
        panel = page.locator("#progress")
        assert panel.get_attribute("data-status") == "running"
        for _ in range(2):  # two polls, each a fresh panel swapped in place of the one marked here
            panel.evaluate("el => el.setAttribute('data-seen', '')")
            expect(page.locator("#progress:not([data-seen])")).to_have_count(1, timeout=15_000)
        expect(panel).to_have_attribute("data-status", "running")
        problems += check_page(page, f"a11y-{width}-sync-running-polled")
    finally:
        context.close()
    assert_clean(f"signed-in-{width}", problems, watch)


def test_the_producer_sees_clean_pages_with_its_own_forms(browser, live_server, demo_world, demo_artifacts):
    """platform-lead owns dim_customers: the proposal page shows Withdraw and Force publish; its
    failing test results go through the upload page, wait, and are read (by the worker's task)."""
    from audits.models import ResultUpload
    from audits.tasks import ingest_result_upload

    context = browser.new_context(viewport=DESKTOP, base_url=live_server.url)
    watch = watch_context(context)
    page = context.new_page()
    problems: list[str] = []
    try:
        log_in(page, live_server.url, "platform-lead")
        for name, path in [
            ("home", "/"),
            ("team", "/teams/data-platform/"),
            ("proposal", f"/proposals/{demo_world.proposal_id}/"),
        ]:
            page.goto(f"{live_server.url}{path}")
            problems += check_page(page, f"a11y-producer-{name}")
        assert page.locator("#producer").get_by_role("button", name="Withdraw").count() == 1

        page.goto(f"{live_server.url}/upload/")
        page.set_input_files("#r-file", str(demo_artifacts.core_failing_run_results))
        page.locator("#results-form").get_by_role("button", name="Upload results").click()
        page.locator("#job-area #progress").wait_for()
        problems += check_page(page, "a11y-producer-results-waiting")
        upload = ResultUpload.objects.get()
        assert ingest_result_upload(upload.pk) == "succeeded"  # what the worker does
        expect(page.locator("#progress[data-status=succeeded]")).to_have_count(1)  # the panel polls
        expect(page.locator("#live-status")).to_contain_text(f"Result file #{upload.pk}: Succeeded")
        problems += check_page(page, "a11y-producer-results-done")
        page.goto(f"{live_server.url}/assets/{demo_world.dim_customers_id}/#audits")
        assert page.locator("#audits .badge.audit-failed").count() >= 1
        problems += check_page(page, "a11y-producer-asset-failed-audit")
    finally:
        context.close()
    assert_clean("producer", problems, watch)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_signed_out_pages_and_the_email_answer_pages_pass_axe_and_the_csp(
    browser, live_server, world_with_emails, viewport
):
    """Signed out: the login page, and every page an email's answer link leads to — confirm (each
    action), recorded, already answered, and a broken link."""
    from contracts.models import Acknowledgment, Proposal, Team
    from contracts.services.proposal_emails import answer_links

    width = "desktop" if viewport is DESKTOP else "phone"
    proposal = Proposal.objects.get(pk=world_with_emails.proposal_id)
    team = Team.objects.get(slug="finance-analytics")
    links = {
        link["action"]: urlsplit(link["url"]).path for link in answer_links(proposal=proposal, team=team)
    }
    context = browser.new_context(viewport=viewport, base_url=live_server.url, is_mobile=viewport is PHONE)
    watch = watch_context(context)
    page = context.new_page()
    problems: list[str] = []
    try:
        page.goto(f"{live_server.url}/")
        page.wait_for_url(re.compile(r"/accounts/login/"))
        problems += check_page(page, f"a11y-{width}-login")
        page.fill("#id_username", "marketing-lead")
        page.fill("#id_password", "wrong")
        page.click("button[type=submit]")
        problems += check_page(page, f"a11y-{width}-login-error")
        for _ in range(20):  # django-axes pauses a username+address that keeps guessing
            page.fill("#id_username", "intruder")
            page.fill("#id_password", "guess")
            page.click("button[type=submit]")
            if page.get_by_role("heading", name="Too many failed logins").count():
                break
            page.goto(f"{live_server.url}/accounts/login/")
        assert page.get_by_role("heading", name="Too many failed logins").count() == 1
        problems += check_page(page, f"a11y-{width}-login-locked-out")

        for action in ("migrating", "blocked", "approved"):
            page.goto(f"{live_server.url}{links[action]}")
            problems += check_page(page, f"a11y-{width}-answer-confirm-{action}")
        page.get_by_role("button", name=re.compile("^Confirm: Approve")).click()
        page.locator(".answer-done").wait_for()
        problems += check_page(page, f"a11y-{width}-answer-done")
        assert Acknowledgment.objects.get(proposal=proposal, team=team).answer == "approved"

        page.goto(f"{live_server.url}{links['blocked']}")  # made before the answer: spent
        page.locator(".answer-problem[data-kind=used]").wait_for()
        problems += check_page(page, f"a11y-{width}-answer-used")
        page.goto(f"{live_server.url}/answer/not-a-real-token/")
        page.locator(".answer-problem[data-kind=invalid]").wait_for()
        problems += check_page(page, f"a11y-{width}-answer-invalid")
    finally:
        context.close()
    assert_clean(f"signed-out-{width}", problems, watch)


def _tab_to(page, predicate_js: str, *, limit: int = 200) -> None:
    """Press Tab until the focused element satisfies `predicate_js` (a JS expression on `el`)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(() => {{ const el = document.activeElement; return !!({predicate_js}); }})()"):
            return
    pytest.fail(f"Tab never reached an element where {predicate_js}")


def test_keyboard_only_answers_a_proposal_and_opens_an_asset_from_the_lineage(
    browser, live_server, demo_world
):
    from contracts.models import Acknowledgment

    context = browser.new_context(viewport=DESKTOP, base_url=live_server.url)
    watch = watch_context(context)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        # Sign in with the keyboard too.
        page.goto(f"{live_server.url}/accounts/login/")
        page.keyboard.type("marketing-lead")  # the username field has focus on load
        page.keyboard.press("Tab")
        page.keyboard.type("correct-horse-battery")
        page.keyboard.press("Enter")
        page.wait_for_url(f"{live_server.url}/")

        item = f"#waiting-{demo_world.proposal_id}-marketing-analytics"
        _tab_to(page, f"el.closest('{item}') && el.matches('button[value=approved]')")
        name = page.evaluate("document.activeElement.textContent.replace(/\\s+/g, ' ').trim()")
        assert name.startswith("Approve") and f"#{demo_world.proposal_id}" in name, name
        page.keyboard.press("Enter")
        # The in-place update is read out: the live region says what was recorded, for whom, where.
        live = page.locator("#live-status")
        expect(live).to_contain_text(f"proposal #{demo_world.proposal_id}: approved", timeout=10_000)
        assert "marketing-analytics" in live.inner_text()
        ack = Acknowledgment.objects.get(proposal_id=demo_world.proposal_id, team__slug="marketing-analytics")
        assert ack.answer == "approved" and ack.via == "dashboard"
        page.locator(f"#answered-{demo_world.proposal_id}-marketing-analytics").wait_for()
        shot(page, "keyboard-answered")

        # The lineage graph: Tab into it, arrow keys to a neighbour, Enter opens that asset.
        page.goto(f"{live_server.url}/lineage/?focus={demo_world.dim_customers_id}&hops=1")
        page.locator("svg.graph[data-ready=true]").wait_for()
        _tab_to(page, "el.matches('g.node')")
        start = page.evaluate("document.activeElement.dataset.name")
        assert start == "dim_customers", start  # the focused asset takes the graph's tab stop
        # Its description is the panel listing what it reads and what reads it (the text alternative).
        assert page.evaluate("document.activeElement.getAttribute('aria-describedby')") == "graph-info"
        assert (
            page.evaluate("document.querySelectorAll('g.node[tabindex=\"0\"]').length") == 1
        )  # one tab stop
        info = page.locator("#graph-info").inner_text()
        assert "dim_customers" in info and "READ BY" in info.upper() and "fct_attribution" in info
        page.keyboard.press("ArrowRight")  # downstream: a model that reads dim_customers
        reader = page.evaluate("document.activeElement.dataset")
        assert reader["name"] != "dim_customers"
        reads = page.evaluate(
            "(id) => Array.from(document.querySelectorAll(`path.edge[data-to='${id}']`)).map(e => e.dataset.from)",
            reader["id"],
        )
        assert str(demo_world.dim_customers_id) in reads
        assert reader["name"] in page.locator("#graph-info").inner_text()

        # Up and down stay in the reader's column; left goes back upstream to dim_customers.
        focused = "document.activeElement.dataset.name"
        column = page.evaluate(
            r"""(id) => {
              const at = (n) => n.getAttribute('transform').match(/translate\(([-\d.]+),([-\d.]+)/).slice(1).map(Number);
              const x = at(document.querySelector(`g.node[data-id='${id}']`))[0];
              return Array.from(document.querySelectorAll('g.node')).filter(n => at(n)[0] === x)
                .sort((a, b) => at(a)[1] - at(b)[1]).map(n => n.dataset.name);
            }""",
            reader["id"],
        )
        assert len(column) >= 2, column
        at = column.index(reader["name"])
        step, back = ("ArrowDown", "ArrowUp") if at + 1 < len(column) else ("ArrowUp", "ArrowDown")
        page.keyboard.press(step)
        assert page.evaluate(focused) == column[at + (1 if step == "ArrowDown" else -1)]
        page.keyboard.press(back)
        assert page.evaluate(focused) == reader["name"]
        page.keyboard.press("ArrowLeft")
        assert page.evaluate(focused) == "dim_customers"
        page.keyboard.press("ArrowRight")
        assert page.evaluate(focused) == reader["name"]

        before = page.locator("g.viewport").get_attribute("transform")
        page.keyboard.press("+")
        assert page.locator("g.viewport").get_attribute("transform") != before
        page.keyboard.press("-")
        shot(page, "keyboard-lineage")
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(rf"/assets/{reader['id']}/$"))
        assert reader["name"] in page.locator("h1").inner_text()
    finally:
        context.close()
    assert_clean("keyboard", [], watch)


def test_the_admin_runs_under_the_policy_too(browser, live_server, demo_world):
    """The admin is Django's own: no axe walk (its markup is not ours), but the policy must not
    break it. Lists, a change form with its widgets and the add form, with CSP violations recorded."""
    from django.contrib.auth import get_user_model

    from contracts.models import Team

    admin = get_user_model().objects.create_superuser("admin", "admin@example.com", "correct-horse-battery")
    assert admin.is_superuser
    team = Team.objects.get(slug="marketing-analytics")
    context = browser.new_context(viewport=DESKTOP, base_url=live_server.url)
    watch = watch_context(context)
    page = context.new_page()
    problems: list[str] = []
    try:
        log_in(page, live_server.url, "admin")
        for name, path in [
            ("index", "/admin/"),
            ("teams", "/admin/contracts/team/"),
            ("team", f"/admin/contracts/team/{team.pk}/change/"),
            ("team-add", "/admin/contracts/team/add/"),
            ("assets", "/admin/contracts/asset/"),
            ("apikey-add", "/admin/contracts/apikey/add/"),
        ]:
            response = page.goto(f"{live_server.url}{path}")
            assert response.status == 200, path
            shot(page, f"admin-{name}")
            problems += [f"admin-{name}: CSP: {v}" for v in csp_violations(page)]
    finally:
        context.close()
    assert_clean("admin", problems, watch)


def test_superseded_and_withdrawn_proposals_pass_axe_and_the_csp(
    browser, live_server, demo_world, demo_artifacts
):
    """A later sync of core brings another breaking contract (the first proposal is superseded by a
    second, which says what changed), then the normal contract again (the second is withdrawn): the
    proposal pages, the asset's history and the old answer links' pages stay clean."""
    import json

    from contracts.models import Proposal, Team
    from contracts.services.proposal_emails import answer_links
    from tessera_site.lib.auth import SYSTEM
    from tests.browser.conftest import _sync

    first = Proposal.objects.get(pk=demo_world.proposal_id)
    finance = Team.objects.get(slug="finance-analytics")
    old_link = urlsplit(answer_links(proposal=first, team=finance)[0]["url"]).path
    # The breaking build again, with signup_date retyped too: another breaking contract.
    manifest = json.loads(demo_artifacts.read_bytes(demo_artifacts.core_breaking_manifest))
    manifest["nodes"]["model.core.dim_customers"]["columns"]["signup_date"]["data_type"] = "timestamp"
    _sync(json.dumps(manifest).encode(), actor=SYSTEM)
    first.refresh_from_db()
    assert first.status == "superseded" and first.superseded_by_id
    second = Proposal.objects.get(pk=first.superseded_by_id)
    second_link = urlsplit(answer_links(proposal=second, team=finance)[0]["url"]).path

    context = browser.new_context(viewport=DESKTOP, base_url=live_server.url)
    watch = watch_context(context)
    page = context.new_page()
    problems: list[str] = []
    try:
        page.goto(f"{live_server.url}{old_link}")
        assert page.locator(".answer-problem[data-kind=superseded]").count() == 1
        problems += check_page(page, "a11y-answer-superseded")
        log_in(page, live_server.url, "marketing-lead")
        for name, path in [
            ("proposal-superseded", f"/proposals/{first.pk}/"),
            ("proposal-superseding", f"/proposals/{second.pk}/"),
            ("asset-with-supersession", f"/assets/{demo_world.dim_customers_id}/"),
        ]:
            page.goto(f"{live_server.url}{path}")
            problems += check_page(page, f"a11y-{name}")
        assert page.locator("#since-previous").count() == 0  # asset page; the proposal page had it

        _sync(demo_artifacts.read_bytes(demo_artifacts.manifests["core"]), actor=SYSTEM)  # reverted
        second.refresh_from_db()
        assert second.status == "withdrawn", second.status
        page.goto(f"{live_server.url}/proposals/{second.pk}/")
        problems += check_page(page, "a11y-proposal-withdrawn")
        page.goto(f"{live_server.url}{second_link}")
        assert page.locator(".answer-problem[data-kind=withdrawn]").count() == 1
        problems += check_page(page, "a11y-answer-withdrawn")
    finally:
        context.close()
    assert_clean("supersession", problems, watch)
