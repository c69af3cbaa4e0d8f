"""The sync service on real dbt manifests, against the real database (SQLite or PostgreSQL).

Runs the task body in-process (sync_run_task / sync_execute); the API has its own tests.
"""

from __future__ import annotations

import threading
from pathlib import Path

import orjson
import pytest
from django.core.files.base import ContentFile
from django.db import connection

from contracts.models import (
    Asset,
    AssetNode,
    ContractVersion,
    Event,
    Guarantee,
    LineageEdge,
    Project,
    Proposal,
    Registration,
    SyncRun,
    Team,
)
from contracts.services.apikeys import apikey_create
from contracts.services.sync import sync_submit
from contracts.services.teams import team_ensure
from contracts.tasks.sync import sync_run_task
from tessera_site.lib.auth import Actor, actor_for_key
from tessera_site.lib.errors import InvalidInput, PermissionDenied, TooLarge, Unprocessable
from testsupport.fixtures import requires_postgres

FIXTURES = Path(__file__).parent / "fixtures"
OPEN = Actor(label="test-open", is_open=True, scopes=("read", "write", "admin"))


def _bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def run_sync(
    manifest: bytes, *, team: str | None = None, actor: Actor = OPEN, catalog: bytes | None = None
) -> SyncRun:
    """Submit, then run the task body in-process (no broker), as the worker would."""
    run = sync_submit(manifest=manifest, catalog=catalog, team_slug=team, actor=actor)
    assert sync_run_task(run.pk) in ("succeeded", "failed")
    run.refresh_from_db()
    return run


@pytest.fixture
def shop_team(db):
    team, _ = team_ensure(slug="shop-platform", name="Shop platform")
    return team


def _asset(relation: str) -> Asset:
    return Asset.objects.select_related("active_version", "owner_team").get(relation=relation)


# --- small_shop: a real dbt parse of a generated project ----------------------------------------------
def test_first_sync_creates_every_asset_with_a_first_version_and_its_guarantees(shop_team):
    run = run_sync(_bytes("small_shop_manifest.json"), team="shop-platform")

    assert run.status == "succeeded", run.error
    assert run.summary["created"] == 17 and run.summary["published_by_bump"] == {"initial": 17}
    assert Asset.objects.count() == 17
    assert ContractVersion.objects.filter(status="active").count() == 17
    dim = _asset("memory.main_marts.dim_store")
    assert dim.owner_team.slug == "finance-data"  # meta.tessera.owner_team wins over ?team=
    assert dim.compatibility_mode == "backward"
    assert dim.active_version.semver == "1.0.0"
    assert dim.content_hash == dim.active_version.content_hash
    assert [c["name"] for c in dim.active_version.columns][:1] == ["store_id"]
    assert (
        Guarantee.objects.filter(version=dim.active_version).count() == len(dim.active_version.guarantees) > 0
    )
    staging = _asset("memory.main_staging.stg_stripe__stores")
    assert staging.owner_team.slug == "shop-platform"  # no meta: the ?team= of the sync
    assert staging.project.name == "small_shop"
    source = _asset("memory.raw_stripe.stores")
    assert source.resource_type == "source"
    # Explicit consumers from meta; lineage edges from depends_on.
    assert set(Registration.objects.filter(asset=dim).values_list("team__slug", "origin")) == {
        ("executive-reporting", "explicit"),
        ("finance-ops", "explicit"),
    }
    assert LineageEdge.objects.filter(upstream=source, downstream=staging).exists()
    assert AssetNode.objects.filter(unique_id="source.small_shop.stripe.stores", asset=source).exists()
    # Teams named in meta that Tessera did not know are created inactive and reported.
    assert Team.objects.get(slug="finance-ops").is_active is False
    assert any("finance-ops" in w for w in run.warnings)
    assert Project.objects.get(name="small_shop").owner_team.slug == "shop-platform"
    assert Event.objects.filter(kind="contract.published", sync_run=run).count() == 17


def test_identical_resync_writes_no_version_and_no_event_but_the_sync_itself(shop_team):
    run_sync(_bytes("small_shop_manifest.json"), team="shop-platform")
    versions, events, guarantees = (
        ContractVersion.objects.count(),
        Event.objects.count(),
        Guarantee.objects.count(),
    )
    registrations, edges = Registration.objects.count(), LineageEdge.objects.count()

    again = run_sync(_bytes("small_shop_manifest.json"), team="shop-platform")

    assert again.status == "succeeded"
    assert again.summary["unchanged"] == 17 and again.summary["published"] == 0
    assert ContractVersion.objects.count() == versions
    assert Guarantee.objects.count() == guarantees
    assert (Registration.objects.count(), LineageEdge.objects.count()) == (registrations, edges)
    new_events = list(Event.objects.filter(pk__gt=0).order_by("-id")[: Event.objects.count() - events])
    assert [e.kind for e in new_events] == ["sync.completed"]
    assert new_events[0].actor_label == "test-open"


def test_breaking_variant_opens_a_proposal_where_consumers_exist_and_publishes_the_rest(shop_team):
    run_sync(_bytes("small_shop_manifest.json"), team="shop-platform")
    run = run_sync(_bytes("small_shop_breaking_manifest.json"), team="shop-platform")

    assert run.status == "succeeded", run.error
    # dim_store (backward, two consumers): the dropped column opens a proposal; contract stays.
    dim = _asset("memory.main_marts.dim_store")
    assert dim.active_version.semver == "1.0.0"
    proposal = Proposal.objects.get(asset=dim)
    assert proposal.origin == "sync" and proposal.status == "open"
    assert set(proposal.required_teams.values_list("slug", flat=True)) == {
        "executive-reporting",
        "finance-ops",
    }
    assert any("notes" in r for r in proposal.verdict["reasons"])
    assert proposal.proposed_version.status == "proposed"
    # dim_store_rollup (forward, no consumers): breaking, published as a major version and logged.
    rollup = _asset("memory.main_marts.dim_store_rollup")
    assert rollup.active_version.semver == "2.0.0"
    assert ContractVersion.objects.get(asset=rollup, major=1).status == "superseded"
    assert any("no registered consumers" in w for w in run.warnings)
    # fct_store (mode none): never breaking; a guarantee-only change is a patch.
    assert _asset("memory.main_marts.fct_store").active_version.semver == "1.0.1"
    assert run.summary["proposals_opened"] == 1

    # Syncing the same breaking manifest again neither opens a second proposal nor publishes.
    again = run_sync(_bytes("small_shop_breaking_manifest.json"), team="shop-platform")
    assert Proposal.objects.filter(asset=dim).count() == 1
    assert again.summary["proposals_opened"] == 0 and again.summary["proposals_pending"] == 1
    assert again.summary["published"] == 0


def test_vanished_assets_with_consumers_are_asked_first_and_the_question_ends_when_back(shop_team):
    run_sync(_bytes("small_shop_manifest.json"), team="shop-platform")
    doc = orjson.loads(_bytes("small_shop_manifest.json"))
    del doc["nodes"]["model.small_shop.dim_store"]
    run = run_sync(orjson.dumps(doc), team="shop-platform")

    dim = _asset("memory.main_marts.dim_store")
    assert dim.status == "active" and run.summary["retired"] == 0  # its consumers are asked first
    proposal = Proposal.objects.get(asset=dim, status="open")
    assert proposal.relation_change["kind"] == "removed"
    assert sorted(proposal.required_teams.values_list("slug", flat=True)) == [
        "executive-reporting",
        "finance-ops",
    ]

    back = run_sync(_bytes("small_shop_manifest.json"), team="shop-platform")
    assert _asset("memory.main_marts.dim_store").status == "active"
    assert back.summary["reactivated"] == 0
    proposal.refresh_from_db()
    assert proposal.status == "withdrawn"  # the relation is back as it was: nothing left to ask


def test_vanished_assets_that_break_nothing_under_their_mode_retire_at_once(shop_team):
    run_sync(_bytes("small_shop_manifest.json"), team="shop-platform")
    Asset.objects.filter(relation="memory.main_marts.dim_store").update(compatibility_mode="forward")
    doc = orjson.loads(_bytes("small_shop_manifest.json"))
    del doc["nodes"]["model.small_shop.dim_store"]
    run = run_sync(orjson.dumps(doc), team="shop-platform")

    dim = _asset("memory.main_marts.dim_store")
    assert dim.status == "retired" and dim.retired_at is not None
    assert run.summary["retired_assets"] == ["memory.main_marts.dim_store"]
    event = Event.objects.get(kind="asset.retired", asset=dim)
    assert event.payload["consumers"] == ["executive-reporting", "finance-ops"]
    assert ContractVersion.objects.filter(asset=dim).count() == 1  # retired, not deleted

    back = run_sync(_bytes("small_shop_manifest.json"), team="shop-platform")
    assert _asset("memory.main_marts.dim_store").status == "active"
    assert back.summary["reactivated"] == 1


def test_a_sync_never_moves_an_asset_to_another_team(shop_team):
    run_sync(_bytes("small_shop_manifest.json"), team="shop-platform")
    doc = orjson.loads(_bytes("small_shop_manifest.json"))
    doc["nodes"]["model.small_shop.dim_store"]["config"]["meta"]["tessera"]["owner_team"] = "intruders"
    run = run_sync(orjson.dumps(doc), team="shop-platform")

    assert _asset("memory.main_marts.dim_store").owner_team.slug == "finance-data"
    assert any("never moves an asset" in w for w in run.warnings)


def test_nodes_without_any_owner_are_skipped_and_reported(db):
    run = run_sync(_bytes("manifest_v12_jaffle_shop_dbt1.11.json"))  # no meta, no team, open actor

    assert run.status == "succeeded"
    assert Asset.objects.count() == 0
    assert run.summary["skipped"] == 20  # 26 nodes; 6 sources name seeds' relations
    assert any("no owner team" in w for w in run.warnings)


def test_api_key_team_owns_nodes_without_meta_and_sources_of_seeds_are_one_asset(db):
    team, _ = team_ensure(slug="jaffle")
    key, _secret = apikey_create(team=team, name="ci", scopes="read,write")
    actor = actor_for_key(key)
    run = run_sync(_bytes("manifest_v12_jaffle_shop_dbt1.11.json"), actor=actor)

    assert run.status == "succeeded", run.error
    # The raw_* seeds and the ecom sources name the same relations: one asset each, two nodes.
    assert Asset.objects.filter(resource_type="seed").count() == 7
    assert Asset.objects.filter(resource_type="source").count() == 0
    raw_orders = _asset("jaffle_shop.raw.raw_orders")
    assert set(raw_orders.nodes.values_list("unique_id", flat=True)) == {
        "seed.jaffle_shop.raw_orders",
        "source.jaffle_shop.ecom.raw_orders",
    }
    assert LineageEdge.objects.filter(upstream=raw_orders, downstream__name="stg_orders").exists()
    assert set(Asset.objects.values_list("owner_team__slug", flat=True)) == {"jaffle"}


def test_catalog_types_are_recorded_with_their_normalized_form(db):
    team_ensure(slug="jaffle")
    run = run_sync(
        _bytes("manifest_v12_jaffle_shop_dbt1.11.json"),
        team="jaffle",
        catalog=_bytes("catalog_v1_jaffle_shop_dbt1.11.json"),
    )
    assert run.status == "succeeded"
    columns = {c["name"]: c for c in _asset("jaffle_shop.main.customers").active_version.columns}
    assert columns["lifetime_spend"]["data_type"] == "DECIMAL(38,2)"
    assert columns["lifetime_spend"]["normalized_type"] == "decimal(38,2)"


def test_manifest_that_fails_in_the_worker_marks_the_run_failed_and_writes_nothing(shop_team):
    body = _bytes("small_shop_manifest.json")
    run = SyncRun(actor_label="t", manifest_bytes=len(body))
    run.manifest.save("broken.json", ContentFile(body[: len(body) // 2]), save=False)
    run.save()

    assert sync_run_task(run.pk) == "failed"
    run.refresh_from_db()
    assert run.status == "failed" and "not valid JSON" in run.error
    assert Asset.objects.count() == 0 and Project.objects.count() == 0
    assert sync_run_task(run.pk) == "not claimed"  # a redelivered message does nothing


def test_submit_enqueues_the_task_only_on_commit(shop_team, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = sync_submit(manifest=_bytes("small_shop_manifest.json"), team_slug="shop-platform", actor=OPEN)
    assert len(callbacks) == 1
    assert SyncRun.objects.get(pk=run.pk).status == "pending"
    assert run.manifest.storage.exists(run.manifest.name)
    assert run.manifest_sha256 and run.manifest_bytes == len(_bytes("small_shop_manifest.json"))


@pytest.mark.parametrize(
    ("body", "kind", "code"),
    [
        (b"definitely not json", InvalidInput, "invalid_json"),
        (b'{"metadata": {}, "nodes": {}}', Unprocessable, "not_a_manifest"),
        (
            b'{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v3.json"}, "nodes": {}}',
            Unprocessable,
            "unsupported_schema_version",
        ),
    ],
)
def test_bad_input_is_refused_before_anything_is_written(db, body, kind, code):
    with pytest.raises(InvalidInput) as err:
        sync_submit(manifest=body, team_slug=None, actor=OPEN)
    assert (type(err.value), err.value.code) == (kind, code)
    assert SyncRun.objects.count() == 0


def test_unknown_team_and_oversized_body_are_refused(db, settings):
    with pytest.raises(InvalidInput) as err:
        sync_submit(manifest=_bytes("small_shop_manifest.json"), team_slug="nobody", actor=OPEN)
    assert (type(err.value), err.value.code) == (InvalidInput, "unknown_team")
    settings.TESSERA_MAX_UPLOAD_BYTES = 10_000
    with pytest.raises(TooLarge) as err:
        sync_submit(manifest=_bytes("small_shop_manifest.json"), team_slug=None, actor=OPEN)
    assert "10,000" in err.value.detail
    assert SyncRun.objects.count() == 0 and Team.objects.count() == 0


def test_a_key_may_not_sync_for_another_team(db):
    mine, _ = team_ensure(slug="mine")
    team_ensure(slug="theirs")
    actor = actor_for_key(apikey_create(team=mine, name="ci", scopes="read,write")[0])
    with pytest.raises(PermissionDenied):
        sync_submit(manifest=_bytes("small_shop_manifest.json"), team_slug="theirs", actor=actor)
    reader = Actor(label="api-key:mine/read", team=mine, scopes=("read",))
    with pytest.raises(PermissionDenied):
        sync_submit(manifest=_bytes("small_shop_manifest.json"), team_slug=None, actor=reader)


# --- concurrency (PostgreSQL: real row locks) -----------------------------------------------------------
@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_syncs_of_one_manifest_leave_one_set_of_versions():
    team_ensure(slug="shop-platform")
    body = _bytes("small_shop_manifest.json")
    runs = [sync_submit(manifest=body, team_slug="shop-platform", actor=OPEN) for _ in range(2)]
    SyncRun.objects.filter(pk__in=[r.pk for r in runs]).update(status="pending")
    barrier = threading.Barrier(2)
    results: list[str] = []

    def work(pk: int) -> None:
        try:
            barrier.wait()
            results.append(sync_run_task(pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(r.pk,)) for r in runs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    assert sorted(results) == ["succeeded", "succeeded"]
    assert Asset.objects.count() == 17
    assert ContractVersion.objects.count() == 17
    assert Project.objects.count() == 1
    summaries = sorted(SyncRun.objects.values_list("summary__created", flat=True))
    assert summaries == [0, 17]  # the second waited for the lock, then found nothing to do


# --- the demo projects, built with real dbt -------------------------------------------------------------
DEMO_TEAMS = ("data-platform", "marketing-analytics", "finance-analytics")


@pytest.fixture
def demo_synced(db, demo_artifacts):
    for slug in DEMO_TEAMS:
        team_ensure(slug=slug)
    runs = {
        p: run_sync(demo_artifacts.read_bytes(demo_artifacts.manifests[p]))
        for p in ("core", "marketing", "finance")
    }
    for project, run in runs.items():
        assert run.status == "succeeded", (project, run.error)
    return runs


@pytest.mark.slow
def test_demo_sync_gives_assets_owned_by_the_right_teams_with_consumers_and_lineage(demo_synced):
    models = Asset.objects.filter(resource_type="model")
    assert models.count() == 37  # 35 models, dim_products in two versions, marketing's int_product_catalogue
    owners = dict(Project.objects.values_list("name", "owner_team__slug"))
    assert owners == {
        "core": "data-platform",
        "marketing": "marketing-analytics",
        "finance": "finance-analytics",
    }
    for asset in Asset.objects.select_related("project", "owner_team"):
        assert asset.owner_team.slug == owners[asset.project.name], asset.relation
    assert Asset.objects.filter(resource_type="seed").exists()
    dim = _asset("core.main.dim_customers")
    origins = set(Registration.objects.filter(asset=dim).values_list("team__slug", "origin"))
    assert {"marketing-analytics", "finance-analytics"} <= {t for t, _ in origins}
    assert ("marketing-analytics", "explicit") in origins and ("marketing-analytics", "lineage") in origins
    # Cross-project: marketing's and finance's sources of core's marts are nodes of core's assets.
    assert AssetNode.objects.filter(asset=dim, project__name="marketing", resource_type="source").exists()
    cross = [
        (e.upstream.project.name, e.downstream.project.name)
        for e in LineageEdge.objects.select_related("upstream__project", "downstream__project")
        if e.upstream.project_id != e.downstream.project_id
    ]
    assert ("core", "marketing") in cross and ("core", "finance") in cross
    # No team consumes its own assets.
    for registration in Registration.objects.select_related("asset"):
        assert registration.team_id != registration.asset.owner_team_id


@pytest.mark.slow
def test_demo_identical_resync_creates_no_version_and_only_sync_events(demo_synced, demo_artifacts):
    versions, last_event = ContractVersion.objects.count(), Event.objects.order_by("-id").first().pk
    for project in ("core", "marketing", "finance"):
        run = run_sync(demo_artifacts.read_bytes(demo_artifacts.manifests[project]))
        assert run.summary["published"] == 0 and run.summary["created"] == 0
    assert ContractVersion.objects.count() == versions
    assert (
        list(Event.objects.filter(pk__gt=last_event).values_list("kind", flat=True)) == ["sync.completed"] * 3
    )


@pytest.mark.slow
def test_demo_breaking_variant_opens_proposals_naming_the_dropped_column(demo_synced, demo_artifacts):
    run = run_sync(demo_artifacts.read_bytes(demo_artifacts.core_breaking_manifest))
    assert run.status == "succeeded", run.error

    dim = _asset("core.main.dim_customers")
    proposal = Proposal.objects.get(asset=dim, status="open")
    assert set(proposal.required_teams.values_list("slug", flat=True)) == {
        "marketing-analytics",
        "finance-analytics",
    }
    assert any("country_code" in reason for reason in proposal.verdict["reasons"])
    assert dim.active_version.semver == "1.0.0"  # stays until the proposal resolves
    # fct_orders is judged under its own mode (full): the unrelated type change breaks it.
    orders = _asset("core.main.fct_orders")
    verdict = Proposal.objects.get(asset=orders, status="open").verdict
    assert verdict["mode"] == orders.compatibility_mode
    assert verdict["breaking"] and any("item_count" in r for r in verdict["reasons"])


@pytest.mark.slow
def test_demo_additive_variant_publishes_a_minor_version_without_proposal(demo_synced, demo_artifacts):
    run = run_sync(demo_artifacts.read_bytes(demo_artifacts.core_additive_manifest))
    assert run.status == "succeeded", run.error
    dim = _asset("core.main.dim_customers")
    assert dim.active_version.semver == "1.1.0"
    assert "preferred_channel" in [c["name"] for c in dim.active_version.columns]
    assert not Proposal.objects.exists()
    assert run.summary["published_by_bump"] == {"minor": 1}


def test_webhooks_receive_sync_events_through_the_batch_fanout(shop_team, django_capture_on_commit_callbacks):
    from contracts.models import WebhookDelivery, WebhookEndpoint
    from contracts.tests.workflow_setup import run_outbox

    endpoint = WebhookEndpoint.objects.create(
        url="http://127.0.0.1:9/hook", secret="s", event_kinds=["sync.completed"]
    )
    with django_capture_on_commit_callbacks(execute=True):
        run = run_sync(_bytes("small_shop_manifest.json"), team="shop-platform")
    run_outbox()  # the worker's part: one fan-out message recorded with the sync's events
    deliveries = WebhookDelivery.objects.filter(endpoint=endpoint)
    assert [d.event.kind for d in deliveries] == ["sync.completed"]
    assert deliveries[0].event.sync_run_id == run.pk


def test_asset_requiring_a_passing_audit_keeps_its_new_version_held(shop_team):
    run_sync(_bytes("small_shop_manifest.json"), team="shop-platform")
    Asset.objects.filter(relation="memory.main_marts.fct_store").update(requires_passing_audit=True)
    run = run_sync(_bytes("small_shop_breaking_manifest.json"), team="shop-platform")

    fct = _asset("memory.main_marts.fct_store")
    assert fct.active_version.semver == "1.0.0"  # no passing audit: the gate holds
    held = ContractVersion.objects.get(asset=fct, status="proposed")
    assert held.semver == "1.0.1"
    assert [h["relation"] for h in run.summary["held_versions"]] == ["memory.main_marts.fct_store"]
    assert run.summary["held_versions"][0]["reasons"]


@pytest.mark.slow
def test_a_reader_synced_before_the_producer_keeps_the_asset_until_it_hands_it_over(db, demo_artifacts):
    from contracts.services.ownership import asset_transfer_accept, asset_transfer_request

    teams = {slug: team_ensure(slug=slug)[0] for slug in DEMO_TEAMS}
    run_sync(demo_artifacts.read_bytes(demo_artifacts.manifests["marketing"]))
    early = _asset("core.main.dim_customers")
    assert (early.resource_type, early.project.name) == ("source", "marketing")

    run = run_sync(demo_artifacts.read_bytes(demo_artifacts.manifests["core"]))

    # A sync never takes an asset away from its team or project, whichever synced first.
    kept = _asset("core.main.dim_customers")
    assert (kept.resource_type, kept.project.name, kept.owner_team.slug) == (
        "source",
        "marketing",
        "marketing-analytics",
    )
    assert "model.core.dim_customers" in run.summary["refused_nodes"]
    assert any(
        "core.main.dim_customers, which belongs to team 'marketing-analytics'" in w and "transfer" in w
        for w in run.warnings
    )

    def team_actor(slug: str) -> Actor:
        return Actor(
            label=f"api-key:{slug}/ci", team=teams[slug], teams=(teams[slug],), scopes=("read", "write")
        )

    transfer = asset_transfer_request(
        asset=kept, to_team=teams["data-platform"], to_project=Project.objects.get(name="core"),
        actor=team_actor("data-platform"),
    )  # fmt: skip
    asset_transfer_accept(transfer=transfer, actor=team_actor("marketing-analytics"))
    run_sync(demo_artifacts.read_bytes(demo_artifacts.manifests["core"]))

    dim = _asset("core.main.dim_customers")
    assert dim.pk == early.pk
    assert (dim.resource_type, dim.project.name, dim.owner_team.slug) == ("model", "core", "data-platform")
    # The producer's first contract publishes directly (no producer contract existed to break).
    assert not Proposal.objects.filter(asset=dim).exists()
    assert dim.active_version.semver != "1.0.0" and "customer_id" in [
        c["name"] for c in dim.active_version.columns
    ]
    # Marketing syncing again reads it across projects, registers as a consumer, and does not retire it.
    again = run_sync(demo_artifacts.read_bytes(demo_artifacts.manifests["marketing"]))
    assert again.summary["retired"] == 0
    assert _asset("core.main.dim_customers").status == "active"
    assert ("marketing-analytics", "lineage") in set(
        Registration.objects.filter(asset=dim).values_list("team__slug", "origin")
    )


def test_version_publish_promotes_a_matching_proposed_version_and_supersedes_the_active_one(shop_team):
    from contracts.compat.verdict import evaluate
    from contracts.services.versions import version_publish, version_spec

    run_sync(_bytes("small_shop_manifest.json"), team="shop-platform")
    run_sync(_bytes("small_shop_breaking_manifest.json"), team="shop-platform")
    dim = _asset("memory.main_marts.dim_store")
    proposed = ContractVersion.objects.get(asset=dim, status="proposed")
    spec = version_spec(proposed)
    verdict = evaluate(old=version_spec(dim.active_version), new=spec, mode=spec.mode)

    published = version_publish(
        asset=dim, spec=spec, verdict=verdict, bump="major", sync_run=None, actor=OPEN
    )

    assert published.pk == proposed.pk and published.semver == "2.0.0" and published.status == "active"
    assert ContractVersion.objects.get(asset=dim, major=1).status == "superseded"
    dim.refresh_from_db()
    assert dim.active_version_id == published.pk and dim.content_hash == published.content_hash
    assert Event.objects.filter(kind="contract.published", asset=dim, payload__version="2.0.0").exists()
    # Publishing the same content again changes nothing.
    assert (
        version_publish(asset=dim, spec=spec, verdict=verdict, bump="major", sync_run=None, actor=OPEN).pk
        == published.pk
    )


def test_transitive_mode_judges_the_new_contract_against_every_earlier_version(shop_team):
    """fct_store (mode none) drops a column; then its mode becomes backward_transitive with the same
    columns: compatible with the active version, but not with the first one, so it is breaking."""
    doc = orjson.loads(_bytes("small_shop_manifest.json"))
    node = doc["nodes"]["model.small_shop.fct_store"]
    run_sync(orjson.dumps(doc), team="shop-platform")
    dropped = [name for name in node["columns"] if name != "store_id"][-1]
    del node["columns"][dropped]
    doc["nodes"] = {
        k: v
        for k, v in doc["nodes"].items()
        if v.get("column_name") != dropped or v.get("attached_node") != node["unique_id"]
    }
    second = run_sync(orjson.dumps(doc), team="shop-platform")
    assert _asset("memory.main_marts.fct_store").active_version.semver == "1.1.0", second.summary

    node["config"]["meta"]["tessera"]["compatibility_mode"] = "backward_transitive"
    third = run_sync(orjson.dumps(doc), team="shop-platform")

    fct = _asset("memory.main_marts.fct_store")
    assert fct.compatibility_mode == "backward_transitive"
    assert fct.active_version.semver == "2.0.0"  # no consumers: a breaking change publishes as major
    verdict = fct.active_version.verdict
    assert verdict["breaking"] and verdict["checked_against"] == 2
    assert any("1.0.0" in reason and dropped in reason for reason in verdict["reasons"])
    assert third.summary["published_by_bump"] == {"major": 1}
