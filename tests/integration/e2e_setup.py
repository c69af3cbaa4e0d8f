"""The setup the end-to-end stories share: the demo's teams, each with a lead, and a sync run by
the real worker (the `celery_worker` fixture) until it finishes."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from contracts.models import SyncRun, Team, TeamMembership
from contracts.services.sync import sync_submit
from contracts.services.teams import membership_set, team_ensure
from tessera_site.lib.auth import Actor
from tessera_site.lib.jobs import JobStatus
from testsupport.fixtures import wait_for


def demo_teams(slugs, *, password: str | None = None) -> dict[str, Team]:
    """Each team (email <slug>@example.com) with a lead user <slug>-lead."""
    teams = {}
    for slug in slugs:
        team, _ = team_ensure(slug=slug, email=f"{slug}@example.com")
        user = get_user_model().objects.create_user(
            username=f"{slug}-lead", email=f"{slug}-lead@example.com", password=password
        )
        membership_set(team=team, user=user, role=TeamMembership.Role.LEAD)
        teams[slug] = team
    return teams


def sync_and_wait(manifest: bytes, actor: Actor, *, timeout: float = 180) -> SyncRun:
    """Submit a sync and wait for the worker to finish it; it must succeed."""
    run = sync_submit(manifest=manifest, team_slug=None, actor=actor)

    def finished():
        row = SyncRun.objects.get(pk=run.pk)
        return row if row.status in (JobStatus.SUCCEEDED, JobStatus.FAILED) else None

    done = wait_for(finished, timeout=timeout, message=f"sync {run.pk} by the worker")
    assert done.status == JobStatus.SUCCEEDED, done.error
    return done
