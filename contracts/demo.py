"""The demo story, shared by `manage.py tessera_demo` and the tests that reproduce it.

Real dbt builds of the three demo projects (cached by content under ``root``), synced through
the same service the API uses, with their run_results so the audits show up; then core's
breaking variant, so a proposal on dim_customers waits for marketing and finance, and its emails
(with working buttons) are in the outbox.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from contracts.models import Proposal, SyncRun, Team
from tessera_site.lib.auth import Actor

PROJECTS = ("core", "marketing", "finance")


def _ci_actor(team_slug: str) -> Actor:
    """Each project is synced by its own team's CI key, as in a real setup."""
    from contracts.services.apikeys import apikey_create
    from tessera_site.lib.auth import actor_for_key

    team = Team.objects.get(slug=team_slug)
    key = team.api_keys.filter(name="demo-ci", revoked_at__isnull=True).first()
    if key is None:
        key, _ = apikey_create(team=team, name="demo-ci", scopes="read,write")
    return actor_for_key(key)


def _sync(
    *, stdout: Any, label: str, manifest: Path, run_results: Path | None, catalog: Path | None, actor: Actor
):
    from contracts.services.sync import sync_submit

    started = time.perf_counter()
    run = sync_submit(
        manifest=manifest.read_bytes(),
        run_results=run_results.read_bytes() if run_results and run_results.exists() else None,
        catalog=catalog.read_bytes() if catalog and catalog.exists() else None,
        team_slug=None,
        actor=actor,
    )
    # Without a broker the sync ran in-process when its row committed; with one, wait for the worker.
    deadline = time.monotonic() + 600
    run.refresh_from_db()
    while run.status not in ("succeeded", "failed") and time.monotonic() < deadline:
        time.sleep(0.5)
        run.refresh_from_db()
    summary = run.summary or {}
    if run.status != "succeeded":
        stdout.write(f"  {label}: sync #{run.pk} {run.status}: {run.error[:500]}")
        return run
    stdout.write(
        f"  {label}: sync #{run.pk} in {time.perf_counter() - started:.1f}s: "
        f"{summary.get('assets', '?')} assets, {summary.get('created', 0)} new, "
        f"{summary.get('published', 0)} published, {summary.get('unchanged', 0)} unchanged, "
        f"{summary.get('proposals_opened', 0)} proposal(s) opened"
    )
    return run


def demo_build_and_sync(*, stdout: Any, root: Path) -> None:
    """Build the demo dbt projects (cached), sync them, report run results, sync core's breaking variant."""
    from contracts.demo_builds import ensure_demo_artifacts

    stdout.write(
        "Building the demo dbt projects with dbt (cached after the first run; a few minutes the first time)…"
    )
    started = time.perf_counter()
    artifacts = ensure_demo_artifacts(cache_root=Path(root))
    stdout.write(f"  dbt artifacts ready in {time.perf_counter() - started:.1f}s under {artifacts.root}")

    owners = {"core": "data-platform", "marketing": "marketing-analytics", "finance": "finance-analytics"}
    stdout.write("Syncing the manifests with their run results (as CI would after `dbt build`)…")
    for project in PROJECTS:
        _sync(
            stdout=stdout,
            label=project,
            manifest=artifacts.manifests[project],
            run_results=artifacts.run_results[project],
            catalog=None,  # the breaking variant has no catalog: compare like with like
            actor=_ci_actor(owners[project]),
        )
    stdout.write(
        "Syncing core's breaking variant (dim_customers loses country_code, fct_orders.item_count changes type)…"
    )
    run: SyncRun = _sync(
        stdout=stdout,
        label="core (breaking)",
        manifest=artifacts.core_breaking_manifest,
        run_results=artifacts.core_breaking_run_results,
        catalog=None,
        actor=_ci_actor("data-platform"),
    )
    pending = (
        Proposal.objects.filter(status__in=Proposal.OPEN_STATUSES).select_related("asset").order_by("id")
    )
    for proposal in pending:
        teams = ", ".join(proposal.required_teams.order_by("slug").values_list("slug", flat=True))
        stdout.write(f"  proposal #{proposal.pk} on {proposal.asset.display_name}: waiting for {teams}")
    if run.status == "succeeded" and not pending:
        stdout.write("  (no proposal is open: the breaking change found no registered consumers)")
