"""Lineage up and down N hops, across projects, in a few queries per hop; one graph for the API
and the lineage page."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import reverse

from contracts.factories import (
    AssetFactory,
    LineageEdgeFactory,
    ProjectFactory,
    TeamFactory,
    UserFactory,
    api_key_for,
)
from contracts.models import Asset
from contracts.selectors.lineage import lineage_graph

pytestmark = pytest.mark.django_db


@dataclass
class Chain:
    raw: Asset
    stg: Asset
    dim: Asset
    mart: Asset  # marketing's model reading core's dim_customers
    report: Asset
    finance: Asset  # finance's model reading dim_customers too
    client: Client


@pytest.fixture
def chain() -> Chain:
    core = ProjectFactory(name="core", owner_team=TeamFactory(slug="data-platform"))
    marketing = ProjectFactory(name="marketing", owner_team=TeamFactory(slug="marketing-analytics"))
    finance = ProjectFactory(name="finance", owner_team=TeamFactory(slug="finance-analytics"))
    raw = AssetFactory(project=core, name="raw_customers", resource_type="seed")
    stg = AssetFactory(project=core, name="stg_customers")
    dim = AssetFactory(project=core, name="dim_customers")
    mart = AssetFactory(project=marketing, name="mart_customer_segments")
    report = AssetFactory(project=marketing, name="rpt_campaigns")
    fin = AssetFactory(project=finance, name="fct_revenue_by_customer")
    for up, down in [(raw, stg), (stg, dim), (dim, mart), (mart, report), (dim, fin)]:
        LineageEdgeFactory(upstream=up, downstream=down)
    _, secret = api_key_for(TeamFactory(slug="viewer"), scopes="read")
    return Chain(raw, stg, dim, mart, report, fin, Client(HTTP_AUTHORIZATION=f"Bearer {secret}"))


def names(nodes: list[dict]) -> list[tuple[str, int]]:
    return [(n["name"], n["hops"]) for n in nodes]


def test_one_hop_each_way_crosses_projects(chain: Chain) -> None:
    response = chain.client.get("/api/v1/assets/core.main.dim_customers/lineage")
    assert response.status_code == 200
    body = response.json()
    assert body["root"]["name"] == "dim_customers"
    assert names(body["upstream"]) == [("stg_customers", 1)]
    assert names(body["downstream"]) == [("fct_revenue_by_customer", 1), ("mart_customer_segments", 1)]
    assert {n["team"] for n in body["downstream"]} == {"finance-analytics", "marketing-analytics"}
    assert {n["project"] for n in body["downstream"]} == {"finance", "marketing"}
    assert {(e["upstream"], e["downstream"]) for e in body["edges"]} == {
        (chain.stg.pk, chain.dim.pk),
        (chain.dim.pk, chain.mart.pk),
        (chain.dim.pk, chain.finance.pk),
    }


def test_depth_reaches_further_with_hop_counts(chain: Chain) -> None:
    body = chain.client.get(f"/api/v1/assets/{chain.dim.pk}/lineage", {"depth": 3}).json()
    assert names(body["upstream"]) == [("stg_customers", 1), ("raw_customers", 2)]
    assert names(body["downstream"]) == [
        ("fct_revenue_by_customer", 1),
        ("mart_customer_segments", 1),
        ("rpt_campaigns", 2),
    ]
    assert len(body["edges"]) == 5


def test_leaf_asset_has_no_downstream(chain: Chain) -> None:
    body = chain.client.get("/api/v1/assets/marketing.main.rpt_campaigns/lineage", {"depth": 5}).json()
    assert body["downstream"] == []
    assert [n["name"] for n in body["upstream"]] == [
        "mart_customer_segments",
        "dim_customers",
        "stg_customers",
        "raw_customers",
    ]


@pytest.mark.parametrize("depth", ["0", "11", "deep"])
def test_out_of_range_depth_is_422(chain: Chain, depth: str) -> None:
    response = chain.client.get("/api/v1/assets/core.main.dim_customers/lineage", {"depth": depth})
    assert response.status_code == 422


def test_queries_grow_with_hops_not_with_assets(chain: Chain, django_assert_max_num_queries) -> None:
    # Widen every level: 20 more consumers of dim_customers, each with a report below it.
    for i in range(20):
        model = AssetFactory(project=chain.mart.project, name=f"extra_{i}")
        LineageEdgeFactory(upstream=chain.dim, downstream=model)
        LineageEdgeFactory(
            upstream=model, downstream=AssetFactory(project=chain.mart.project, name=f"extra_rpt_{i}")
        )
    depth = 3
    # one query per hop and direction, and one for the assets seen
    with django_assert_max_num_queries(2 * depth + 1):
        graph = lineage_graph(asset=chain.dim, depth=depth)
    assert len(graph.downstream) == 2 + 1 + 40


def test_cycles_terminate(chain: Chain) -> None:
    LineageEdgeFactory(upstream=chain.report, downstream=chain.dim)
    graph = lineage_graph(asset=chain.dim, depth=10)
    assert chain.dim.pk not in {n.id for n in graph.upstream + graph.downstream}
    assert {n.name for n in graph.downstream} >= {"rpt_campaigns", "mart_customer_segments"}


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_the_api_and_the_lineage_page_give_the_same_graph(chain: Chain, client: Client, depth: int) -> None:
    LineageEdgeFactory(upstream=chain.report, downstream=chain.dim)  # a cycle too
    api = chain.client.get(f"/api/v1/assets/{chain.dim.pk}/lineage", {"depth": depth}).json()
    client.force_login(UserFactory())
    page = client.get(reverse("lineage_json"), {"focus": chain.dim.pk, "hops": depth}).json()

    api_ids = {api["root"]["id"]} | {n["id"] for n in api["upstream"] + api["downstream"]}
    assert {n["id"] for n in page["nodes"]} == api_ids
    assert {(e["from"], e["to"]) for e in page["edges"]} == {
        (e["upstream"], e["downstream"]) for e in api["edges"]
    }
    api_names = {n["id"]: (n["name"], n["team"], n["project"]) for n in api["upstream"] + api["downstream"]}
    assert all(
        api_names.get(n["id"], (n["name"], n["team"], n["project"])) == (n["name"], n["team"], n["project"])
        for n in page["nodes"]
    )


def test_a_capped_graph_keeps_the_nearest_assets(chain: Chain) -> None:
    graph = lineage_graph(asset=chain.dim, depth=3, max_nodes=4)
    assert graph.truncated
    assert set(graph.nodes) == {chain.dim.pk, chain.stg.pk, chain.mart.pk, chain.finance.pk}  # 1 hop away
    assert all(u in graph.nodes and d in graph.nodes for u, d in graph.edges)
