"""Relations that disappear or move (SPEC §4–§5): judged under the asset's mode, asked of its
consumers before the asset is retired or moved, applied at once when nobody needs asking.
Engine rows × every mode, then the sync and the CI check on a real dbt 1.11 manifest."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from contracts.compat import evaluate, evaluate_removal, relation_moved
from contracts.domain import ColumnSpec, ContractSpec
from contracts.ingest.manifest import parse_manifest
from contracts.models import Asset, Event, Proposal, Registration, Team
from contracts.services.proposals.answering import acknowledgment_record
from contracts.services.registrations import registration_add
from contracts.services.sync import sync_submit
from contracts.services.sync.check import sync_check
from contracts.services.teams import team_ensure
from contracts.tasks.sync import sync_run_task
from tessera_site.lib.auth import Actor

FIXTURES = Path(__file__).parent / "fixtures"
OPEN = Actor(label="test-open", is_open=True, scopes=("read", "write", "admin"))
MODES = (
    "backward",
    "forward",
    "full",
    "none",
    "backward_transitive",
    "forward_transitive",
    "full_transitive",
)
BREAKS = {"backward", "full", "backward_transitive", "full_transitive"}
CUSTOMERS = "model.jaffle_shop.customers"
RELATION = "jaffle_shop.main.customers"


# --- the engine: each relation-level row under each mode ------------------------------------------------
SPEC = ContractSpec(columns=[ColumnSpec("id", "integer")])


@pytest.mark.parametrize("why", ["deleted", "disabled", "ephemeral"])
@pytest.mark.parametrize("mode", MODES)
def test_a_removed_relation_breaks_backward_and_full_only(mode: str, why: str) -> None:
    verdict = evaluate_removal(old=SPEC, mode=mode, relation="db.s.t", why=why)
    assert verdict.breaking is (mode in BREAKS)
    assert [c.kind for c in verdict.changes] == ["relation_removed"]
    assert "db.s.t is being removed" in verdict.reasons[0]
    assert {"deleted": "deleted", "disabled": "disabled", "ephemeral": "ephemeral"}[why] in verdict.reasons[0]


@pytest.mark.parametrize("mode", MODES)
def test_a_moved_relation_is_a_removal_plus_a_new_one_naming_both(mode: str) -> None:
    moved = relation_moved(old_relation="db.s.old", new_relation="db.s2.new")
    verdict = evaluate(old=SPEC, new=SPEC, mode=mode, relation_changes=[moved])
    assert verdict.breaking is (mode in BREAKS)
    assert [c.kind for c in verdict.changes] == ["relation_moved"]
    assert "db.s.old" in verdict.reasons[0] and "db.s2.new" in verdict.reasons[0]
    assert verdict.bump == ("major" if mode in BREAKS else "minor")


def test_a_move_is_judged_together_with_the_columns_that_changed_on_the_way() -> None:
    moved = relation_moved(old_relation="a.b.c", new_relation="a.b.d")
    new = ContractSpec(columns=[ColumnSpec("id", "integer"), ColumnSpec("x", "integer")])
    verdict = evaluate(old=SPEC, new=new, mode="forward", relation_changes=[moved])
    assert [c.kind for c in verdict.changes] == ["relation_moved", "column_added"]
    assert verdict.breaking  # forward: the added column breaks, the move does not


# --- the parser says why a model is gone ------------------------------------------------------------------
def _manifest(mutate=None) -> bytes:
    doc = orjson.loads((FIXTURES / "manifest_v12_classic_jaffle_shop_dbt1.11.json").read_bytes())
    if mutate:
        mutate(doc)
    return orjson.dumps(doc)


def _disable(doc):
    doc["nodes"][CUSTOMERS]["config"]["enabled"] = False


def _ephemeral(doc):
    doc["nodes"][CUSTOMERS]["config"]["materialized"] = "ephemeral"


def _delete(doc):
    del doc["nodes"][CUSTOMERS]


def _move(doc):
    doc["nodes"][CUSTOMERS]["alias"] = "customers_v2"


def test_the_parser_says_which_models_are_disabled_or_ephemeral() -> None:
    assert parse_manifest(_manifest(_disable)).absent == {CUSTOMERS: "disabled"}
    assert parse_manifest(_manifest(_ephemeral)).absent == {CUSTOMERS: "ephemeral"}
    assert parse_manifest(_manifest(_delete)).absent == {}


# --- the sync -----------------------------------------------------------------------------------------------
def _sync(manifest: bytes):
    run = sync_submit(manifest=manifest, team_slug="shop-platform", actor=OPEN)
    assert sync_run_task(run.pk) == "succeeded"
    run.refresh_from_db()
    return run


@pytest.fixture
def shop(db):
    team_ensure(slug="shop-platform")
    _sync(_manifest())
    return Asset.objects.get(relation=RELATION)


def _consumer(asset: Asset) -> Team:
    team, _ = team_ensure(slug="marketing")
    registration_add(asset=asset, team=team, actor=OPEN)
    return team


@pytest.mark.parametrize(
    ("mutate", "why"), [(_delete, "deleted"), (_disable, "disabled"), (_ephemeral, "ephemeral")]
)
def test_removed_with_consumers_waits_for_them_before_retiring(shop, mutate, why):
    marketing = _consumer(shop)
    run = _sync(_manifest(mutate))

    shop.refresh_from_db()
    assert shop.status == Asset.Status.ACTIVE  # not retired until its consumers answered
    assert run.summary["retired"] == 0 and run.summary["proposals_opened"] == 1
    proposal = Proposal.objects.get(asset=shop)
    assert proposal.relation_change == {
        "kind": "removed", "relation": RELATION, "why": why, "reason": proposal.relation_change["reason"]
    }  # fmt: skip
    assert list(proposal.required_teams.all()) == [marketing]

    _sync(_manifest(mutate))  # the same deploy again: the same proposal, nothing retired
    assert Proposal.objects.filter(asset=shop).count() == 1
    shop.refresh_from_db()
    assert shop.status == Asset.Status.ACTIVE

    acknowledgment_record(proposal=proposal, team=marketing, answer="approved", actor=OPEN, via="api")
    proposal.refresh_from_db()
    shop.refresh_from_db()
    assert proposal.status == Proposal.Status.PUBLISHED
    assert shop.status == Asset.Status.RETIRED
    assert Event.objects.get(kind="asset.retired", asset=shop).payload["why"] == why


def test_removed_without_consumers_retires_at_once_on_the_record(shop):
    run = _sync(_manifest(_delete))
    shop.refresh_from_db()
    assert shop.status == Asset.Status.RETIRED
    assert run.summary["retired"] == 1 and not Proposal.objects.exists()
    assert Event.objects.filter(kind="asset.retired", asset=shop).exists()


def test_removed_under_forward_mode_retires_at_once_even_with_consumers(shop):
    _consumer(shop)
    Asset.objects.filter(pk=shop.pk).update(compatibility_mode="forward")
    _sync(_manifest(_delete))
    shop.refresh_from_db()
    assert shop.status == Asset.Status.RETIRED and not Proposal.objects.exists()


def test_moved_with_consumers_stays_until_published_then_moves_with_its_history(shop):
    marketing = _consumer(shop)
    run = _sync(_manifest(_move))

    shop.refresh_from_db()
    assert shop.relation == RELATION and shop.status == Asset.Status.ACTIVE
    assert not Asset.objects.filter(relation="jaffle_shop.main.customers_v2").exists()
    assert run.summary["created"] == 0
    proposal = Proposal.objects.get(asset=shop)
    assert proposal.relation_change["to"] == "jaffle_shop.main.customers_v2"
    reasons = " ".join(proposal.verdict["reasons"])
    assert RELATION in reasons and "jaffle_shop.main.customers_v2" in reasons

    acknowledgment_record(proposal=proposal, team=marketing, answer="approved", actor=OPEN, via="api")
    shop.refresh_from_db()
    assert shop.relation == "jaffle_shop.main.customers_v2" and shop.identifier == "customers_v2"
    assert Registration.objects.filter(asset=shop, team=marketing).exists()  # consumers move with it
    assert Event.objects.get(kind="asset.moved", asset=shop).payload["from"] == RELATION
    again = _sync(_manifest(_move))
    assert again.summary["unchanged"] == again.summary["assets"]  # settled: nothing left to do


def test_moved_without_consumers_moves_at_once(shop):
    run = _sync(_manifest(_move))
    shop.refresh_from_db()
    assert shop.relation == "jaffle_shop.main.customers_v2"
    assert run.summary["moved"] == 1 and run.summary["created"] == 0 and run.summary["retired"] == 0
    assert Asset.objects.filter(status=Asset.Status.ACTIVE).count() == 8


# --- the CI check -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mutate", [_delete, _disable, _ephemeral, _move])
def test_check_blocks_a_removed_or_moved_relation_with_consumers(shop, mutate):
    marketing = _consumer(shop)
    report = sync_check(manifest=_manifest(mutate), actor=OPEN)
    assert report["may_merge"] is False and report["blocking"] == [RELATION]
    entry = next(c for c in report["changes"] if c["relation"] == RELATION)
    assert entry["breaking"] and entry["needs_acknowledgment"] and not entry["acknowledged"]
    kind = "moved" if mutate is _move else "removed"
    assert entry["relation_change"]["kind"] == kind
    assert report["counts"]["moved" if kind == "moved" else "removed"] == 1
    if kind == "moved":
        assert not report["added"]  # the new name is the same asset, not an addition

    opened = sync_check(manifest=_manifest(mutate), actor=OPEN, open_proposals=True)
    proposal = Proposal.objects.get(pk=opened["changes"][0]["proposal"]["id"])
    acknowledgment_record(proposal=proposal, team=marketing, answer="approved", actor=OPEN, via="api")
    assert sync_check(manifest=_manifest(mutate), actor=OPEN)["may_merge"] is True
    shop.refresh_from_db()
    assert shop.status == Asset.Status.ACTIVE  # a check changes nothing in the warehouse's record

    _sync(_manifest(mutate))  # deployed: the approved check proposal is applied
    shop.refresh_from_db()
    assert (
        (shop.status == Asset.Status.RETIRED) if kind == "removed" else shop.relation.endswith("customers_v2")
    )


def test_check_lets_a_removal_without_consumers_merge(shop):
    report = sync_check(manifest=_manifest(_delete), actor=OPEN)
    assert report["may_merge"] is True
    assert report["removed"][0]["breaking"] is True and report["removed"][0]["consumers"] == []


# --- bin/tessera-check ----------------------------------------------------------------------------------------------
def _cli(live_server, *args: str) -> subprocess.CompletedProcess:
    script = Path(__file__).resolve().parents[2] / "bin" / "tessera-check"
    return subprocess.run(
        [sys.executable, str(script), *args, "--url", live_server.url],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("mutate", [_delete, _move])
def test_ci_check_exits_1_for_a_removed_or_moved_relation_with_consumers(
    live_server, tmp_path, settings, mutate
):
    settings.TESSERA_OPEN_API = True  # the local open demo: no key needed
    team_ensure(slug="shop-platform")
    _sync(_manifest())
    _consumer(Asset.objects.get(relation=RELATION))
    manifest = tmp_path / "manifest.json"
    manifest.write_bytes(_manifest(mutate))

    blocked = _cli(live_server, str(manifest))
    assert blocked.returncode == 1, blocked.stdout + blocked.stderr
    assert "is being removed" in blocked.stdout or "moves to jaffle_shop.main.customers_v2" in blocked.stdout
    assert "NOT ready to merge" in blocked.stdout


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_ci_check_takes_a_catalog_and_a_first_typing_may_merge(live_server, tmp_path, settings):
    settings.TESSERA_OPEN_API = True
    team_ensure(slug="shop-platform")
    old = FIXTURES / "manifest_v9_classic_jaffle_shop_dbt1.5.json"
    run = sync_submit(manifest=old.read_bytes(), team_slug="shop-platform", actor=OPEN)
    assert sync_run_task(run.pk) == "succeeded"
    _consumer(Asset.objects.get(relation=RELATION))

    checked = _cli(
        live_server,
        str(old),
        "--catalog",
        str(FIXTURES / "catalog_classic_jaffle_shop_dbt1.5.json"),
        "--json",
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    report = json.loads(checked.stdout)
    customers = next(c for c in report["changes"] if c["relation"] == RELATION)
    assert any("is now typed: INTEGER" in r for r in customers["reasons"])  # the catalog was read
    assert not customers["breaking"]


def test_the_openapi_description_says_the_check_takes_a_catalog(client, db):
    schema = client.get("/api/v1/openapi.json").json()
    body = schema["paths"]["/api/v1/sync/dbt/check"]["post"]["requestBody"]["content"]
    assert set(body) == {"application/json", "multipart/form-data"}
    assert set(body["multipart/form-data"]["schema"]["properties"]) == {"manifest", "catalog"}
