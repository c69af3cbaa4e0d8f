"""The CI dry run: service, endpoint, and both CLIs (bin/tessera-check, manage.py tessera_check)."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from contracts.models import ContractVersion, Event, Proposal, Registration, Team
from contracts.services.apikeys import apikey_create
from contracts.services.proposals.answering import acknowledgment_record
from contracts.services.sync import sync_submit
from contracts.services.sync.check import sync_check
from contracts.services.teams import team_ensure
from contracts.tasks.sync import sync_run_task
from tessera_site.lib.auth import Actor
from tessera_site.lib.errors import InvalidInput

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parents[2]
BASE = (FIXTURES / "small_shop_manifest.json").read_bytes()
BREAKING = (FIXTURES / "small_shop_breaking_manifest.json").read_bytes()
OPEN = Actor(label="ci-open", is_open=True, scopes=("read", "write", "admin"))


def _synced_shop() -> None:
    team_ensure(slug="shop-platform")
    run = sync_submit(manifest=BASE, team_slug="shop-platform", actor=OPEN)
    assert sync_run_task(run.pk) == "succeeded"


def _counts() -> tuple[int, int, int, int]:
    return (
        ContractVersion.objects.count(),
        Proposal.objects.count(),
        Event.objects.count(),
        Registration.objects.count(),
    )


def _approve_all(proposal: Proposal) -> None:
    for team in proposal.required_teams.all():
        acknowledgment_record(proposal=proposal, team=team, answer="approved", actor=OPEN, via="api")


@pytest.mark.django_db
def test_breaking_manifest_may_not_merge_and_nothing_is_written():
    _synced_shop()
    before = _counts()

    report = sync_check(manifest=BREAKING, actor=OPEN)

    assert _counts() == before
    assert report["may_merge"] is False
    assert report["blocking"] == ["memory.main_marts.dim_store"]
    by_relation = {c["relation"]: c for c in report["changes"]}
    dim = by_relation["memory.main_marts.dim_store"]
    assert dim["breaking"] and dim["needs_acknowledgment"] and not dim["acknowledged"]
    assert [t["team"] for t in dim["required_teams"]] == ["executive-reporting", "finance-ops"]
    assert all(t["answer"] is None for t in dim["required_teams"])
    assert any(c["kind"] == "column_removed" and c["column"] == "notes" for c in dim["changes"])
    assert any("notes" in r for r in dim["reasons"])
    rollup = by_relation["memory.main_marts.dim_store_rollup"]
    assert rollup["breaking"] and not rollup["needs_acknowledgment"]  # no consumers: may publish
    assert by_relation["memory.main_marts.fct_store"]["bump"] == "patch"


@pytest.mark.django_db
def test_unchanged_manifest_may_merge():
    _synced_shop()
    report = sync_check(manifest=BASE, actor=OPEN)
    assert report["may_merge"] is True and report["changes"] == [] and report["added"] == []


@pytest.mark.django_db
def test_open_proposals_asks_the_consumers_and_their_approvals_allow_the_merge():
    _synced_shop()
    report = sync_check(manifest=BREAKING, actor=OPEN, open_proposals=True)
    proposal = Proposal.objects.get(asset__relation="memory.main_marts.dim_store")
    assert proposal.origin == "check" and proposal.status == "open"
    assert report["may_merge"] is False
    assert {c["relation"]: c for c in report["changes"]}["memory.main_marts.dim_store"]["proposal"][
        "id"
    ] == proposal.pk

    # Opening again does not open a second proposal.
    sync_check(manifest=BREAKING, actor=OPEN, open_proposals=True)
    assert Proposal.objects.filter(asset__relation="memory.main_marts.dim_store").count() == 1

    acknowledgment_record(
        proposal=proposal, team=Team.objects.get(slug="finance-ops"), answer="approved", actor=OPEN, via="api"
    )
    partial = sync_check(manifest=BREAKING, actor=OPEN)
    dim = {c["relation"]: c for c in partial["changes"]}["memory.main_marts.dim_store"]
    answers = {t["team"]: t["answer"] for t in dim["required_teams"]}
    assert answers == {"executive-reporting": None, "finance-ops": "approved"}
    assert partial["may_merge"] is False

    _approve_all(proposal)
    assert sync_check(manifest=BREAKING, actor=OPEN)["may_merge"] is True

    # The deployed schema matches the approved check proposal: the sync publishes it.
    run = sync_submit(manifest=BREAKING, team_slug="shop-platform", actor=OPEN)
    assert sync_run_task(run.pk) == "succeeded"
    proposal.refresh_from_db()
    assert proposal.status == "published"
    assert proposal.asset.active_version.semver == "2.0.0"


@pytest.mark.django_db
def test_check_of_bad_manifest_is_a_clear_4xx():
    with pytest.raises(InvalidInput) as err:
        sync_check(manifest=b"nope", actor=OPEN)
    assert err.value.code == "invalid_json"


@pytest.mark.django_db
def test_check_endpoint_returns_the_report(client, settings):
    settings.TESSERA_OPEN_API = True
    _synced_shop()
    response = client.post("/api/v1/sync/dbt/check", data=BREAKING, content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["may_merge"] is False
    # The declared output schema (api.sync.CheckOut) drops nothing the service reports.
    report = sync_check(manifest=BREAKING, actor=Actor(label="open", is_open=True, scopes=("read",)))
    assert list(response.json()) == list(report)
    assert list(response.json()["counts"]) == list(report["counts"])
    response = client.post("/api/v1/sync/dbt/check", data=b"[]", content_type="application/json")
    assert response.status_code == 422 and response.json()["error"] == "not_a_manifest"


def _cli(live_server, *args: str, key: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            str(ROOT / "bin" / "tessera-check"),
            *args,
            "--url",
            live_server.url,
            "--api-key",
            key,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_cli_exits_1_for_unacknowledged_breaking_change_then_0_after_approvals(live_server, tmp_path):
    _synced_shop()
    _, secret = apikey_create(team=Team.objects.get(slug="finance-data"), name="ci", scopes="read,write")
    manifest = tmp_path / "manifest.json"
    manifest.write_bytes(BREAKING)

    first = _cli(live_server, str(manifest), "--open-proposals", key=secret)
    assert first.returncode == 1, first.stderr
    assert "memory.main_marts.dim_store" in first.stdout and "awaiting acknowledgment" in first.stdout
    assert "Column notes" in first.stdout

    _approve_all(Proposal.objects.get(asset__relation="memory.main_marts.dim_store"))
    second = _cli(live_server, str(manifest), key=secret)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "may merge" in second.stdout

    # The management command runs the same code.
    out = io.StringIO()
    call_command("tessera_check", str(manifest), "--url", live_server.url, "--api-key", secret, stdout=out)
    assert "may merge" in out.getvalue()


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_cli_exits_2_on_errors(live_server, tmp_path):
    manifest = tmp_path / "manifest.json"
    manifest.write_bytes(BASE)
    bad_key = _cli(live_server, str(manifest), key="not-a-key")
    assert bad_key.returncode == 2 and "401" in bad_key.stderr
    missing = _cli(live_server, str(tmp_path / "nope.json"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    (tmp_path / "bad.json").write_bytes(b"{oops")
    _, secret = apikey_create(team=team_ensure(slug="ci")[0], name="ci", scopes="read")
    bad = _cli(live_server, str(tmp_path / "bad.json"), key=secret)
    assert bad.returncode == 2 and "invalid_json" in bad.stderr
    unreachable = subprocess.run(
        [sys.executable, str(ROOT / "bin" / "tessera-check"), str(manifest), "--url", "http://127.0.0.1:9"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert unreachable.returncode == 2 and "cannot reach" in unreachable.stderr
    with pytest.raises(SystemExit) as exit_info:
        call_command("tessera_check", str(manifest), "--url", "http://127.0.0.1:9", stderr=io.StringIO())
    assert exit_info.value.code == 2
