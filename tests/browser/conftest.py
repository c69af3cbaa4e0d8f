"""Browser tests: Playwright driving Debian's Chromium against pytest-django's live server.

The demo projects' real dbt artifacts (fixture `demo_artifacts`) are synced through the real
sync service before each test; tests commit their data (live server = another thread), so they
use `transactional_db`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
PASSWORD = "correct-horse-battery"


@dataclass
class DemoWorld:
    proposal_id: int
    dim_customers_id: int
    users: dict[str, object]


def _sync(content: bytes, *, actor) -> object:
    from contracts.models import SyncRun
    from contracts.services.sync import sync_submit
    from contracts.tasks.sync import sync_run_task

    sync_run = sync_submit(manifest=content, team_slug=None, actor=actor)
    sync_run_task(sync_run.pk)  # what the worker does, here in the test's thread
    sync_run = SyncRun.objects.get(pk=sync_run.pk)
    assert sync_run.status == "succeeded", sync_run.error
    return sync_run


@pytest.fixture
def demo_world(transactional_db, demo_artifacts, settings) -> DemoWorld:
    """The three demo projects synced, then core's breaking variant: a proposal on dim_customers
    waits for marketing-analytics and finance-analytics. Users: one lead per team."""
    from django.contrib.auth import get_user_model

    from contracts.models import Asset, Proposal, Team, TeamMembership
    from tessera_site.lib.auth import SYSTEM

    for project in ("core", "marketing", "finance"):
        _sync(demo_artifacts.read_bytes(demo_artifacts.manifests[project]), actor=SYSTEM)
    _sync(demo_artifacts.read_bytes(demo_artifacts.core_breaking_manifest), actor=SYSTEM)

    users = {}
    for slug, username in [
        ("data-platform", "platform-lead"),
        ("marketing-analytics", "marketing-lead"),
        ("finance-analytics", "finance-lead"),
    ]:
        team = Team.objects.get(slug=slug)
        user = get_user_model().objects.create_user(username, f"{username}@example.com", PASSWORD)
        TeamMembership.objects.create(team=team, user=user, role=TeamMembership.Role.LEAD)
        users[username] = user
    dim = Asset.objects.get(relation="core.main.dim_customers")
    proposal = Proposal.objects.get(asset=dim, status__in=Proposal.OPEN_STATUSES)
    return DemoWorld(proposal_id=proposal.pk, dim_customers_id=dim.pk, users=users)


def log_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
