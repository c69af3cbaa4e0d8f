"""The whole lineage graph by level of detail: one box per project and owner team, opened on
demand, the same through the API and the lineage page, and a first answer whose size does not
grow with the number of assets."""

from __future__ import annotations

import random

import pytest
from django.test import Client
from django.urls import reverse

from contracts.factories import TeamFactory, UserFactory, api_key_for
from contracts.models import Asset, LineageEdge, Project, Team
from contracts.selectors.lineage_clusters import FANOUT, LEAF, lineage_clusters

pytestmark = pytest.mark.django_db


def mesh(n_assets: int, *, seed: int = 5) -> tuple[list[Project], list[Team]]:
    """``n_assets`` models in 4 projects of 3 teams (project_0 holds two teams' models), each
    reading one or two assets made before it, often across projects."""
    rng = random.Random(seed)
    teams = [TeamFactory(slug=f"team-{i}") for i in range(3)]
    projects = [Project.objects.create(name=f"project_{i}", owner_team=teams[i % 3]) for i in range(4)]
    owners = [
        (projects[0], teams[0]),
        (projects[0], teams[1]),
        (projects[1], teams[1]),
        (projects[2], teams[2]),
        (projects[3], teams[0]),
    ]
    assets = Asset.objects.bulk_create(
        [
            Asset(relation=f"{p.name}.main.model_{i}", unique_id=f"model.{p.name}.model_{i}", project=p, owner_team=t, name=f"model_{i}")
            for i in range(n_assets)
            for p, t in [owners[i % len(owners)]]
        ]
    )  # fmt: skip
    edges = {(rng.choice(assets[:i]).pk, a.pk) for i, a in enumerate(assets) if i for _ in range(2)}
    LineageEdge.objects.bulk_create([LineageEdge(upstream_id=u, downstream_id=d) for u, d in edges])
    return projects, teams


def page_json(client: Client, **params: object) -> dict:
    client.force_login(UserFactory())
    response = client.get(reverse("lineage_json"), params)
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def reader() -> Client:
    _, secret = api_key_for(TeamFactory(slug="viewer"), scopes="read")
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


def test_first_view_is_one_box_per_project_and_team_with_counted_edges(client: Client) -> None:
    projects, teams = mesh(300)
    data = page_json(client)
    assert data["mode"] == "clusters"
    boxes = {n["id"]: n for n in data["nodes"]}
    assert set(boxes) == {
        f"p{projects[0].pk}-t{teams[0].pk}",
        f"p{projects[0].pk}-t{teams[1].pk}",
        f"p{projects[1].pk}-t{teams[1].pk}",
        f"p{projects[2].pk}-t{teams[2].pk}",
        f"p{projects[3].pk}-t{teams[0].pk}",
    }
    assert sum(n["size"] for n in boxes.values()) == 300
    first = boxes[f"p{projects[0].pk}-t{teams[0].pk}"]
    assert (first["name"], first["project"], first["team"], first["kind"]) == (
        "project_0 · team-0",
        "project_0",
        "team-0",
        "cluster",
    )
    # Every asset edge is counted once: between two boxes, or inside one.
    between = sum(e["count"] for e in data["edges"])
    assert between + sum(n["internal_edges"] for n in boxes.values()) == LineageEdge.objects.count()
    assert all(e["from"] != e["to"] and e["count"] >= 1 for e in data["edges"])


def test_opening_a_big_group_gives_name_ranges_then_assets(client: Client) -> None:
    projects, teams = mesh(1000)
    group = f"p{projects[1].pk}-t{teams[1].pk}"  # 200 assets: more than LEAF
    data = page_json(client, expand=group)
    ranges = [n for n in data["nodes"] if n["id"].startswith(group + ":")]
    assert len(ranges) == FANOUT and group not in {n["id"] for n in data["nodes"]}
    assert sum(r["size"] for r in ranges) == 200 and all(r["size"] <= LEAF for r in ranges)
    assert all(r["ranged"] and r["first"] <= r["last"] for r in ranges)

    opened = page_json(client, expand=[group, ranges[0]["id"], "p0-t0", "not a key"])
    assert opened["expanded"] == [group, ranges[0]["id"]]  # stale and malformed keys are ignored
    assets = [n for n in opened["nodes"] if n["kind"] == "asset"]
    assert len(assets) == ranges[0]["size"]
    assert {a["group"] for a in assets} == {ranges[0]["id"]}
    assert all(a["url"] == reverse("asset_detail", args=[a["asset_id"]]) for a in assets)
    names = sorted(a["name"] for a in assets)
    assert (names[0], names[-1]) == (ranges[0]["first"], ranges[0]["last"])
    total = sum(e["count"] for e in opened["edges"]) + sum(
        n.get("internal_edges") or 0 for n in opened["nodes"]
    )
    assert total == LineageEdge.objects.count()


def test_the_api_gives_the_same_boxes_and_edges_as_the_page(client: Client, reader: Client) -> None:
    projects, teams = mesh(400)
    group = f"p{projects[2].pk}-t{teams[2].pk}"
    for expand in ([], [group]):
        api = reader.get("/api/v1/lineage", {"expand": expand})
        assert api.status_code == 200
        body, page = api.json(), page_json(client, expand=expand)
        fields = ("id", "kind", "name", "project", "team", "size", "asset_id")
        assert sorted(tuple(n.get(f) for f in fields) for n in body["nodes"]) == sorted(
            tuple(n.get(f) for f in fields) for n in page["nodes"]
        )
        assert {(e["from"], e["to"], e["count"]) for e in body["edges"]} == {
            (e["from"], e["to"], e["count"]) for e in page["edges"]
        }
        assert body["expanded"] == page["expanded"] == expand


def test_the_api_refuses_malformed_keys_and_needs_a_key(reader: Client) -> None:
    mesh(20)
    response = reader.get("/api/v1/lineage", {"expand": "p1-t1;drop"})
    assert response.status_code == 400 and response.json()["error"] == "invalid"
    assert Client().get("/api/v1/lineage").status_code == 401
    assert "/api/v1/lineage" in reader.get("/api/v1/openapi.json").json()["paths"]


def test_first_response_size_does_not_grow_with_the_number_of_assets(client: Client) -> None:
    mesh(200)
    small = len(page_json_bytes(client))
    Asset.objects.all().delete()
    Project.objects.all().delete()
    Team.objects.filter(slug__startswith="team-").delete()
    mesh(2000, seed=6)  # the same projects and teams, ten times the assets and edges
    large = len(page_json_bytes(client))
    assert large <= small * 1.1, (small, large)
    assert lineage_clusters().clusters and len(lineage_clusters().clusters) == 5


def page_json_bytes(client: Client) -> bytes:
    client.force_login(UserFactory())
    return client.get(reverse("lineage_json")).content


def test_focus_and_every_asset_views_stay_flat(client: Client) -> None:
    mesh(90)
    data = page_json(client, view="assets")
    assert data["mode"] == "assets" and len(data["nodes"]) == 90
    focus = Asset.objects.order_by("pk").first()
    assert focus is not None
    around = page_json(client, focus=focus.pk, hops=1)
    assert around["mode"] == "assets" and any(n["focus"] for n in around["nodes"])


def test_assets_without_a_project_form_their_group_and_retired_ones_are_left_out(client: Client) -> None:
    projects, teams = mesh(30)
    reader = Asset.objects.filter(project=projects[1]).first()
    assert reader is not None
    loose = Asset.objects.create(
        relation="raw.loose", unique_id="source.x.loose", owner_team=teams[2], name="loose"
    )
    gone = Asset.objects.create(
        relation="raw.gone", unique_id="source.x.gone", owner_team=teams[2], name="gone", status="retired"
    )
    LineageEdge.objects.create(upstream=loose, downstream=reader)
    LineageEdge.objects.create(upstream=gone, downstream=reader)
    group = f"p0-t{teams[2].pk}"
    closed = page_json(client)
    box = next(n for n in closed["nodes"] if n["id"] == group)
    assert (box["name"], box["size"]) == (f"no project · {teams[2].slug}", 1)
    reader_group = f"p{projects[1].pk}-t{reader.owner_team_id}"
    assert {"from": group, "to": reader_group, "count": 1} in closed["edges"]
    for expand in ([group], [group, reader_group]):
        opened = page_json(client, expand=expand)
        assert {n["name"] for n in opened["nodes"] if n["kind"] == "asset"} >= {"loose"}
        assert "gone" not in {n["name"] for n in opened["nodes"]}
        total = sum(e["count"] for e in opened["edges"]) + sum(
            n.get("internal_edges") or 0 for n in opened["nodes"]
        )
        assert total == LineageEdge.objects.count() - 1  # the retired asset's edge is not drawn
