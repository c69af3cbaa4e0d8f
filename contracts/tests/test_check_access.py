"""The CI check and dbt access narrowings, on the real builds of the demo: a public model made
private while other projects read it blocks ``may_merge`` until its readers approve the proposal
the sync opened for it; without readers it blocks nothing."""

from __future__ import annotations

import pytest

from contracts.management.commands.tessera_check import load_script
from contracts.models import Asset, Proposal, Team
from contracts.services.proposals.answering import acknowledgment_record
from contracts.services.sync import sync_submit
from contracts.services.sync.check import sync_check
from contracts.tasks.sync import sync_run_task
from tessera_site.lib.auth import Actor

OPEN = Actor(label="test-open", is_open=True, scopes=("read", "write", "admin"))
DIM = "core.main.dim_customers"


def run_sync(manifest: bytes):
    run = sync_submit(manifest=manifest, catalog=None, team_slug=None, actor=OPEN)
    assert sync_run_task(run.pk) == "succeeded"
    run.refresh_from_db()
    return run


@pytest.fixture
def demo(db, demo_artifacts):
    for project in ("core", "marketing", "finance"):
        run_sync(demo_artifacts.read_bytes(demo_artifacts.manifests[project]))


@pytest.fixture
def private(demo_artifacts) -> bytes:
    return demo_artifacts.read_bytes(demo_artifacts.core_private_manifest)


def answers(entry) -> dict[str, str | None]:
    return {t["team"]: t["answer"] for t in entry["required_teams"]}


def test_a_narrowing_other_projects_read_blocks_the_merge_until_asked(demo, private):
    report = sync_check(manifest=private, actor=OPEN, open_proposals=True)

    (entry,) = report["access_changes"]
    assert entry["relation"] == DIM and entry["to"] == "private"
    assert report["may_merge"] is False
    assert report["blocking"] == [DIM]
    assert report["counts"]["awaiting_acknowledgment"] == 1
    assert (entry["needs_acknowledgment"], entry["acknowledged"], entry["proposal"]) == (True, False, None)
    assert answers(entry) == {"finance-analytics": None, "marketing-analytics": None}
    # The check opens no access proposal, even asked to: the sync of the manifest does.
    assert not Proposal.objects.exists()


def test_the_narrowing_stops_blocking_once_the_readers_approve_the_syncs_proposal(demo, private):
    opened = run_sync(private).summary["proposals"]
    proposal = Proposal.objects.get(pk=opened[0]["proposal"])
    finance, marketing = (
        Team.objects.get(slug="finance-analytics"),
        Team.objects.get(slug="marketing-analytics"),
    )

    (entry,) = sync_check(manifest=private, actor=OPEN)["access_changes"]
    assert entry["proposal"] == {"id": proposal.pk, "status": "open", "origin": "sync"}
    assert entry["acknowledged"] is False

    acknowledgment_record(proposal=proposal, team=finance, answer="approved", actor=OPEN, via="api")
    report = sync_check(manifest=private, actor=OPEN)
    (entry,) = report["access_changes"]
    assert report["may_merge"] is False and report["blocking"] == [DIM]
    assert answers(entry) == {"finance-analytics": "approved", "marketing-analytics": None}

    acknowledgment_record(proposal=proposal, team=marketing, answer="approved", actor=OPEN, via="api")
    report = sync_check(manifest=private, actor=OPEN)
    assert Asset.objects.get(relation=DIM).access == "private"  # the approved proposal published it
    assert report["may_merge"] is True and report["blocking"] == [] and report["access_changes"] == []


def test_a_reader_blocking_the_proposal_keeps_the_merge_blocked(demo, private):
    proposal = Proposal.objects.get(pk=run_sync(private).summary["proposals"][0]["proposal"])
    for team in proposal.required_teams.all():
        answer = "blocked" if team.slug == "finance-analytics" else "approved"
        acknowledgment_record(proposal=proposal, team=team, answer=answer, actor=OPEN, via="api", reason="no")

    report = sync_check(manifest=private, actor=OPEN)

    (entry,) = report["access_changes"]
    assert report["may_merge"] is False and entry["proposal"]["status"] == "blocked"
    assert answers(entry) == {"finance-analytics": "blocked", "marketing-analytics": "approved"}


def test_a_narrowing_nobody_else_reads_does_not_block(db, demo_artifacts, private):
    run_sync(demo_artifacts.read_bytes(demo_artifacts.manifests["core"]))  # no other project yet

    report = sync_check(manifest=private, actor=OPEN)

    assert report["access_changes"] == []
    assert report["may_merge"] is True and report["blocking"] == []


def test_the_cli_report_shows_the_narrowing_and_its_answers(demo, private):
    script = load_script()
    run_sync(private)
    report = sync_check(manifest=private, actor=OPEN)

    text = script.render(report)
    markdown = script.render_markdown(report)

    assert (
        f"[XX] {DIM}  access public -> private, read by finance, marketing: BREAKING, awaiting acknowledgment"
        in text
    )
    assert "teams: finance-analytics: no answer yet, marketing-analytics: no answer yet" in text
    assert f"Result: NOT ready to merge: breaking change(s) lack acknowledgments: {DIM}" in text
    assert f"### `{DIM}`: access public → private, BREAKING, **awaiting acknowledgment**" in markdown
    assert "❌ not ready to merge" in markdown
