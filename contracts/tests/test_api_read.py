"""The read API: asset lookup by every kind of ref, lists with filters, versions and diffs, teams."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client

from contracts.domain import ColumnSpec, ContractSpec, GuaranteeSpec
from contracts.factories import (
    AssetFactory,
    AssetNodeFactory,
    ContractVersionFactory,
    ProjectFactory,
    ProposalFactory,
    RegistrationFactory,
    TeamFactory,
    TeamMembershipFactory,
    UserFactory,
    api_key_for,
)
from contracts.models import Asset, ContractVersion, Event, Project, Registration

pytestmark = pytest.mark.django_db

V1 = ContractSpec(
    columns=[
        ColumnSpec("customer_id", "integer", nullable=False, description="Key"),
        ColumnSpec("email", "varchar(200)"),
        ColumnSpec("lifetime_value", "decimal(12,2)"),
    ],
    guarantees=[
        GuaranteeSpec("not_null", "customer_id", test_unique_id="test.core.not_null_dim_customers_id")
    ],
)
V2 = ContractSpec(columns=[*V1.columns, ColumnSpec("segment", "varchar")], guarantees=list(V1.guarantees))
V3 = ContractSpec(columns=[V1.columns[0], V1.columns[2], V2.columns[3]], guarantees=list(V1.guarantees))


@dataclass
class World:
    core: Project
    dim_customers: Asset
    fct_orders: Asset
    stg_customers: Asset
    v1: ContractVersion
    v2: ContractVersion
    reader: Client
    marketing_secret: str


def bearer(secret: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


@pytest.fixture
def world() -> World:
    platform = TeamFactory(slug="data-platform", name="Data Platform")
    marketing = TeamFactory(slug="marketing-analytics")
    finance = TeamFactory(slug="finance-analytics")
    core = ProjectFactory(name="core", owner_team=platform)
    marketing_project = ProjectFactory(name="marketing", owner_team=marketing)
    dim = AssetFactory(project=core, name="dim_customers", unique_id="model.core.dim_customers")
    fct = AssetFactory(project=core, name="fct_orders", compatibility_mode="full")
    stg = AssetFactory(project=core, name="stg_customers", resource_type="seed")
    AssetFactory(project=marketing_project, name="mart_campaigns")
    v1 = ContractVersionFactory(asset=dim, spec=V1)
    v2 = ContractVersionFactory(asset=dim, spec=V2, minor=1, change_kind="minor")
    ContractVersionFactory(asset=fct)
    RegistrationFactory(asset=dim, team=marketing, origin=Registration.Origin.EXPLICIT, purpose="campaigns")
    RegistrationFactory(asset=dim, team=marketing, origin=Registration.Origin.LINEAGE)
    RegistrationFactory(asset=dim, team=finance, origin=Registration.Origin.LINEAGE)
    AssetNodeFactory(asset=dim, project=marketing_project, unique_id="source.marketing.core.dim_customers")
    _, secret = api_key_for(marketing, scopes="read")
    reader = Client(**bearer(secret))
    return World(core, dim, fct, stg, v1, v2, reader, secret)


def test_asset_list_is_paginated_with_counts(world: World) -> None:
    response = world.reader.get("/api/v1/assets", {"page_size": 2})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 4
    assert body["pages"] == 2
    assert [a["relation"] for a in body["items"]] == ["core.main.dim_customers", "core.main.fct_orders"]
    dim = body["items"][0]
    assert dim["team"] == "data-platform"
    assert dim["project"] == "core"
    assert dim["version"] == "1.1.0"
    assert dim["consumer_count"] == 2
    second = world.reader.get("/api/v1/assets", {"page_size": 2, "page": 2}).json()
    assert [a["name"] for a in second["items"]] == ["stg_customers", "mart_campaigns"]


@pytest.mark.parametrize(
    ("params", "names"),
    [
        ({"team": "data-platform"}, ["dim_customers", "fct_orders", "stg_customers"]),
        ({"team": "nobody"}, []),
        ({"project": "marketing"}, ["mart_campaigns"]),
        ({"type": "seed"}, ["stg_customers"]),
        ({"status": "retired"}, []),
        ({"search": "CUSTOMERS"}, ["dim_customers", "stg_customers"]),
        ({"search": "core.main.fct"}, ["fct_orders"]),
        ({"search": "lifetime_val"}, ["dim_customers"]),  # a column name of the active contract
        ({"search": "Key"}, []),  # column descriptions are not searched
        ({"search": "%"}, []),  # LIKE wildcards are matched literally
        ({"consumer": "finance-analytics"}, ["dim_customers"]),
    ],
)
def test_asset_list_filters(world: World, params: dict[str, str], names: list[str]) -> None:
    response = world.reader.get("/api/v1/assets", params)
    assert response.status_code == 200, response.json()
    assert [a["name"] for a in response.json()["items"]] == names


def test_consumer_filter_keeps_the_full_consumer_count(world: World) -> None:
    (item,) = world.reader.get("/api/v1/assets", {"consumer": "finance-analytics"}).json()["items"]
    assert item["consumer_count"] == 2


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"type": "table"}, "Unknown asset type 'table'"),
        ({"status": "gone"}, "Unknown asset status 'gone'"),
        ({"page_size": 1000}, "page_size must be between"),
        ({"page": 0}, "page must be between 1 and"),
    ],
)
def test_asset_list_rejects_bad_filters_with_422(
    world: World, params: dict[str, object], fragment: str
) -> None:
    response = world.reader.get("/api/v1/assets", params)
    assert response.status_code == 422
    assert fragment in response.json()["detail"]


def test_asset_list_query_count_does_not_grow_with_rows(world: World, django_assert_max_num_queries) -> None:
    for i in range(30):
        asset = AssetFactory(project=world.core, name=f"extra_{i}")
        ContractVersionFactory(asset=asset)
        RegistrationFactory(asset=asset, team=TeamFactory(slug=f"consumer-{i}"))
    # API key lookup and its last-used stamp, the count, the page.
    with django_assert_max_num_queries(5):
        response = world.reader.get("/api/v1/assets", {"page_size": 50})
    assert len(response.json()["items"]) == 34


@pytest.mark.parametrize(
    "ref",
    [
        "id",
        "core.main.dim_customers",
        "CORE.MAIN.DIM_CUSTOMERS",
        '"core"."main"."dim_customers"',
        "model.core.dim_customers",
        "source.marketing.core.dim_customers",
    ],
)
def test_asset_detail_by_id_relation_or_unique_id(world: World, ref: str) -> None:
    ref = str(world.dim_customers.pk) if ref == "id" else ref
    response = world.reader.get(f"/api/v1/assets/{ref}")
    assert response.status_code == 200, response.json()
    assert response.json()["id"] == world.dim_customers.pk


def test_asset_detail_shows_contract_consumers_and_open_proposal(world: World) -> None:
    proposal = ProposalFactory(asset=world.dim_customers)
    body = world.reader.get("/api/v1/assets/core.main.dim_customers").json()
    assert body["team"] == "data-platform"
    assert body["project"] == "core"
    assert body["mode"] == "backward"
    active = body["active_version"]
    assert active["version"] == "1.1.0"
    assert [c["name"] for c in active["columns"]] == ["customer_id", "email", "lifetime_value", "segment"]
    assert active["columns"][2]["normalized_type"] == "decimal(12,2)"
    assert active["guarantees"][0]["test_unique_id"] == "test.core.not_null_dim_customers_id"
    assert {(c["team"], c["origin"]) for c in body["consumers"]} == {
        ("marketing-analytics", "explicit"),
        ("marketing-analytics", "lineage"),
        ("finance-analytics", "lineage"),
    }
    assert body["consumer_teams"] == ["finance-analytics", "marketing-analytics"]
    assert body["open_proposal_id"] == proposal.pk
    assert body["open_proposal"]["status"] == "open"


@pytest.mark.parametrize("ref", ["999999", "core.main.nope", "model.core.nope", "nope"])
def test_unknown_asset_ref_is_404_with_json_error(world: World, ref: str) -> None:
    for path in ("", "/versions", "/lineage", "/registrations"):
        response = world.reader.get(f"/api/v1/assets/{ref}{path}")
        assert response.status_code == 404
        assert response.json()["error"] == "not_found"
        assert ref in response.json()["detail"]


def test_api_requires_a_key(world: World) -> None:
    response = Client().get("/api/v1/assets")
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"


def test_versions_are_listed_newest_first(world: World) -> None:
    body = world.reader.get("/api/v1/assets/model.core.dim_customers/versions").json()
    assert [(v["version"], v["status"]) for v in body] == [("1.1.0", "active"), ("1.0.0", "superseded")]


def test_version_detail_by_semver(world: World) -> None:
    body = world.reader.get(f"/api/v1/assets/{world.dim_customers.pk}/versions/1.0.0").json()
    assert body["id"] == world.v1.pk
    assert len(body["columns"]) == 3


def test_diff_between_semvers_gives_the_engine_verdict(world: World) -> None:
    response = world.reader.get("/api/v1/assets/core.main.dim_customers/versions/1.0.0/diff/1.1.0")
    assert response.status_code == 200
    body = response.json()
    assert body["base"]["version"] == "1.0.0"
    assert body["target"]["version"] == "1.1.0"
    assert body["breaking"] is False
    assert body["bump"] == "minor"
    assert [c["kind"] for c in body["changes"]] == ["column_added"]
    assert body["reasons"] == ["Column segment (varchar) was added."]


def test_diff_by_version_ids_names_the_removed_column(world: World) -> None:
    v3 = ContractVersionFactory(
        asset=world.dim_customers,
        spec=V3,
        major=2,
        status=ContractVersion.Status.PROPOSED,
        change_kind="major",
    )
    body = world.reader.get(
        f"/api/v1/assets/{world.dim_customers.pk}/versions/{world.v2.pk}/diff/{v3.pk}"
    ).json()
    assert body["breaking"] is True
    assert body["bump"] == "major"
    assert body["breaking_changes"][0]["column"] == "email"
    assert "Column email (varchar(200)) was removed" in body["reasons"][0]


def test_diff_under_a_transitive_mode_checks_earlier_versions(world: World) -> None:
    Asset.objects.filter(pk=world.dim_customers.pk).update(compatibility_mode="backward_transitive")
    # 1.0.0 had email; 2.0.0 dropped it (accepted); 2.1.0 only adds a column to 2.0.0.
    v3 = ContractVersionFactory(asset=world.dim_customers, spec=V3, major=2, change_kind="major")
    v4_spec = ContractSpec(
        columns=[*V3.columns, ColumnSpec("region", "varchar")], guarantees=list(V3.guarantees)
    )
    ContractVersionFactory(asset=world.dim_customers, spec=v4_spec, major=2, minor=1, change_kind="minor")
    body = world.reader.get("/api/v1/assets/core.main.dim_customers/versions/2.0.0/diff/2.1.0").json()
    assert body["mode"] == "backward_transitive"
    assert body["breaking"] is True
    assert body["breaking_changes"][0]["against"] in {"version 1.0.0", "version 1.1.0"}
    assert body["breaking_changes"][0]["column"] == "email"
    assert v3.semver == "2.0.0"


@pytest.mark.parametrize(
    ("a", "b", "status"), [("1.0.0", "9.9.9", 404), ("1.0.0", "latest", 422), ("x", "1.1.0", 422)]
)
def test_diff_with_unknown_or_malformed_versions_is_a_clear_4xx(
    world: World, a: str, b: str, status: int
) -> None:
    response = world.reader.get(f"/api/v1/assets/core.main.dim_customers/versions/{a}/diff/{b}")
    assert response.status_code == status
    assert response.json()["detail"]


def test_a_version_id_of_another_asset_is_404(world: World) -> None:
    other = ContractVersion.objects.get(asset=world.fct_orders)
    response = world.reader.get(f"/api/v1/assets/core.main.dim_customers/versions/1.0.0/diff/{other.pk}")
    assert response.status_code == 404


def test_team_detail(world: World) -> None:
    lead = UserFactory(username="ada")
    TeamMembershipFactory(team=world.core.owner_team, user=lead, role="lead")
    body = world.reader.get("/api/v1/teams/data-platform").json()
    assert body["name"] == "Data Platform"
    assert body["projects"] == ["core"]
    assert body["owned_assets"] == {"active": 3, "retired": 0}
    assert body["members"] == [{"username": "ada", "role": "lead"}]
    marketing = world.reader.get("/api/v1/teams/marketing-analytics").json()
    assert {(c["relation"], c["origin"]) for c in marketing["consumes"]} == {
        ("core.main.dim_customers", "explicit"),
        ("core.main.dim_customers", "lineage"),
    }


def test_unknown_team_is_404(world: World) -> None:
    response = world.reader.get("/api/v1/teams/ghosts")
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "detail": "Team 'ghosts' was not found"}


def test_reads_record_no_events(world: World) -> None:
    before = Event.objects.count()
    world.reader.get("/api/v1/assets")
    world.reader.get("/api/v1/assets/core.main.dim_customers")
    assert Event.objects.count() == before


# --- on the demo projects, synced from real dbt builds -----------------------------------------------
@pytest.fixture
def demo_reader(db, demo_artifacts) -> Client:
    from contracts.services.sync import sync_submit
    from contracts.services.teams import team_ensure
    from contracts.tasks.sync import sync_run_task
    from tessera_site.lib.auth import Actor

    actor = Actor(label="test-open", is_open=True, scopes=("read", "write", "admin"))
    for slug in ("data-platform", "marketing-analytics", "finance-analytics"):
        team_ensure(slug=slug)
    for project in ("core", "marketing", "finance"):
        manifest = demo_artifacts.read_bytes(demo_artifacts.manifests[project])
        run = sync_submit(manifest=manifest, catalog=None, team_slug=None, actor=actor)
        assert sync_run_task(run.pk) == "succeeded", run.error
    _, secret = api_key_for(TeamFactory(slug="auditors"), scopes="read")
    return Client(**bearer(secret))


@pytest.mark.slow
@pytest.mark.integration
def test_demo_dim_customers_through_the_read_api(demo_reader: Client) -> None:
    body = demo_reader.get("/api/v1/assets/model.core.dim_customers").json()
    assert body["relation"] == "core.main.dim_customers"
    assert body["team"] == "data-platform"
    assert body["consumer_teams"] == ["finance-analytics", "marketing-analytics"]
    origins = {(c["team"], c["origin"]) for c in body["consumers"]}
    assert ("marketing-analytics", "explicit") in origins
    assert ("marketing-analytics", "lineage") in origins
    assert "country_code" in [c["name"] for c in body["active_version"]["columns"]]

    # Marketing reads dim_customers and fct_orders; finance reads fct_orders (dbt sources on core's relations).
    lineage = demo_reader.get("/api/v1/assets/core.main.dim_customers/lineage", {"depth": 2}).json()
    assert "marketing" in {n["project"] for n in lineage["downstream"]}
    assert any(n["project"] == "core" for n in lineage["upstream"])
    orders = demo_reader.get("/api/v1/assets/core.main.fct_orders/lineage").json()
    assert {"marketing", "finance"} <= {n["project"] for n in orders["downstream"]}
    assert all(n["team"] != "data-platform" for n in orders["downstream"] if n["project"] != "core")

    marketing_models = demo_reader.get("/api/v1/assets", {"project": "marketing", "type": "model"}).json()
    assert marketing_models["count"] == 11
    assert {a["team"] for a in marketing_models["items"]} == {"marketing-analytics"}
    by_column = demo_reader.get("/api/v1/assets", {"search": "country_code", "team": "data-platform"}).json()
    assert "dim_customers" in [a["name"] for a in by_column["items"]]


@pytest.mark.parametrize("ref", ["99999999999999999999999", "00", "-1", "%20", "core..dim"])
def test_odd_refs_are_404_not_500(world: World, ref: str) -> None:
    assert world.reader.get(f"/api/v1/assets/{ref}").status_code == 404
    version = world.reader.get(f"/api/v1/assets/{world.dim_customers.pk}/versions/99999999999999999999999")
    assert version.status_code == 404
