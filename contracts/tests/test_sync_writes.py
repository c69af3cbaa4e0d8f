"""How a sync writes its rows on PostgreSQL (issue #17): each new asset inserted once with its
final values, events and versions through COPY under ids drawn from their sequences."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
from django.db import connection

from contracts.models import Asset, ContractVersion, Event, OutboxMessage, SyncRun, WebhookEndpoint
from contracts.services.events import event_row, event_rows_record, events_record_bulk
from contracts.services.sync import sync_submit
from contracts.services.teams import team_ensure
from contracts.tasks.sync import sync_run_task
from tessera_site.lib.auth import Actor
from testsupport.fixtures import requires_postgres

FIXTURES = Path(__file__).parent / "fixtures"
OPEN = Actor(label="test-open", is_open=True, scopes=("read", "write", "admin"))

pytestmark = [requires_postgres, pytest.mark.django_db]


def _sync(name: str) -> SyncRun:
    body = (FIXTURES / name).read_bytes()
    run = sync_submit(manifest=body, team_slug="shop-platform", actor=OPEN)
    assert sync_run_task(run.pk) == "succeeded", SyncRun.objects.get(pk=run.pk).error
    return SyncRun.objects.get(pk=run.pk)


def _asset_writes() -> tuple[int, int]:
    """Rows inserted into and updated in the asset table by this transaction so far."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n_tup_ins, n_tup_upd FROM pg_stat_xact_user_tables WHERE relname = %s",
            [Asset._meta.db_table],
        )
        row = cursor.fetchone()
    return (row[0], row[1]) if row else (0, 0)


def test_first_sync_inserts_each_new_asset_once_with_its_final_values():
    team_ensure(slug="shop-platform")
    inserted, updated = _asset_writes()

    run = _sync("small_shop_manifest.json")

    assets = list(Asset.objects.filter(project__name="small_shop").select_related("active_version"))
    assert run.summary["created"] == len(assets) > 0
    # Before #17 each new asset was inserted, then updated by the versions step (its active
    # version) and by the access step (dbt access and group): three row versions per asset.
    assert _asset_writes() == (inserted + len(assets), updated)
    for asset in assets:
        version = asset.active_version
        assert version is not None and version.semver == "1.0.0" and version.status == "active"
        assert (asset.content_hash, asset.compatibility_mode) == (
            version.content_hash,
            version.compatibility_mode,
        )
    assert {a.access for a in assets if a.resource_type == "model"} == {"protected"}


def test_a_changed_contract_updates_only_its_asset_and_a_second_sync_in_one_transaction_works():
    team_ensure(slug="shop-platform")
    _sync("small_shop_manifest.json")  # checks its foreign keys at its end, then defers them again
    before = {a.relation: a.active_version_id for a in Asset.objects.all()}
    _, updated = _asset_writes()

    run = _sync("small_shop_breaking_manifest.json")

    changed = {a.relation for a in Asset.objects.all() if a.active_version_id != before.get(a.relation)}
    assert len(changed) == run.summary["published"] > 0
    assert _asset_writes()[1] - updated >= len(changed)
    for asset in Asset.objects.filter(relation__in=changed).select_related("active_version"):
        assert asset.active_version.status == "active"
        assert asset.content_hash == asset.active_version.content_hash


def test_events_recorded_in_bulk_get_ascending_ids_and_their_payloads_as_given():
    team = team_ensure(slug="shop-platform")[0]
    events = [
        Event(kind="test.bulk", team=team, payload={"n": n, "nested": {"1": [n, None, "é"]}, 2: True})
        for n in range(3)
    ]

    recorded = events_record_bulk(events)

    ids = [e.pk for e in recorded]
    assert ids == sorted(ids) and None not in ids
    stored = {e.pk: e for e in Event.objects.filter(kind="test.bulk")}
    assert [stored[pk].payload for pk in ids] == [
        {"n": n, "nested": {"1": [n, None, "é"]}, "2": True} for n in range(3)
    ]
    assert all(stored[pk].team_id == team.pk and stored[pk].created_at for pk in ids)


def test_versions_take_ids_from_their_sequence_after_rows_written_elsewhere():
    team_ensure(slug="shop-platform")
    run = _sync("small_shop_manifest.json")
    newest = ContractVersion.objects.order_by("-pk").first()
    assert newest is not None and newest.sync_run_id == run.pk
    # The sequence moved past the ids the sync drew: an ordinary insert gets the next one.
    asset = Asset.objects.order_by("pk").first()
    assert asset is not None
    later = ContractVersion.objects.create(
        asset=asset, major=9, minor=0, patch=0, status="proposed", change_kind="major",
        columns=[], guarantees=[], compatibility_mode="backward", content_hash="x", verdict={},
    )  # fmt: skip
    assert later.pk > newest.pk


def test_event_rows_are_recorded_as_the_same_events_built_as_instances_would_be():
    team = team_ensure(slug="shop-platform")[0]
    WebhookEndpoint.objects.create(team=team, url="https://hooks.example.com/t", secret="s", is_active=True)
    run = _sync("small_shop_manifest.json")
    asset = Asset.objects.order_by("pk").first()
    assert asset is not None
    actor = Actor(label="someone", is_open=True, scopes=("read", "write"))
    payloads = [{"n": n, "nested": {"1": [n, None, "é"]}, 2: True} for n in range(3)]
    as_instances = events_record_bulk(
        [
            Event(kind="test.rows", actor_label="someone", team=team, asset=asset, sync_run=run, payload=p)
            for p in payloads
        ]
    )

    ids = event_rows_record(
        [
            event_row(
                kind="test.rows",
                actor=actor,
                team_id=team.pk,
                asset_id=asset.pk,
                sync_run_id=run.pk,
                payload=p,
            )
            for p in payloads
        ]
    )

    assert ids == sorted(ids) and ids[0] > as_instances[-1].pk
    fields = ("kind", "actor_user_id", "actor_api_key_id", "actor_label", "team_id", "asset_id", "proposal_id",
              "sync_run_id", "payload")  # fmt: skip
    stored = {e["id"]: e for e in Event.objects.filter(kind="test.rows").values("id", "created_at", *fields)}
    for built, pk in zip(as_instances, ids, strict=True):
        assert {f: stored[pk][f] for f in fields} == {f: stored[built.pk][f] for f in fields}
        assert stored[pk]["created_at"] >= stored[built.pk]["created_at"]
    fanouts = [
        m.args["event_ids"] for m in OutboxMessage.objects.filter(kind="webhook.fanout").order_by("pk")
    ]
    assert fanouts[-2:] == [[e.pk for e in as_instances], ids]


def test_a_first_sync_leaves_no_asset_or_version_for_the_cyclic_collector():
    """Its objects are freed by reference counting when the job ends: an asset and its first
    version referring to each other were found by the collector's next pass, with their JSON
    (177,000 objects and 0.4 s after a first sync of 5,000 models)."""
    team_ensure(slug="shop-platform")
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        _sync("small_shop_manifest.json")
        gc.set_debug(gc.DEBUG_SAVEALL)  # what the collector finds unreachable, kept for a look
        gc.collect()
        left = [o for o in gc.garbage if isinstance(o, Asset | ContractVersion)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if was_enabled:
            gc.enable()

    assert left == []
