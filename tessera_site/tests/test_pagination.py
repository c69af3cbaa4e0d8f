"""The API's one paginator (tessera_site.lib.pagination on django-ninja's pagination): the page
shapes clients always got, each endpoint's behaviour past the last page, and the OpenAPI document
describing both pages."""

from __future__ import annotations

import pytest

from contracts.factories import AssetFactory, ProjectFactory, TeamFactory
from contracts.services.events import event_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client, settings):
    settings.TESSERA_OPEN_API = True  # the local demo's open API: every row readable from loopback
    team = TeamFactory(slug="t-a")
    project = ProjectFactory(name="core", owner_team=team)
    for i in range(5):
        asset = AssetFactory(project=project, name=f"model_{i}", owner_team=team)
        event_record(kind="asset.created", team=team, asset=asset, payload={"n": i})
    return client


def test_assets_pages_by_page_size_and_a_page_past_the_last_is_empty(api):
    second = api.get("/api/v1/assets?page_size=2&page=2").json()
    assert {k: second[k] for k in ("count", "page", "page_size", "pages")} == {
        "count": 5, "page": 2, "page_size": 2, "pages": 3,
    }  # fmt: skip
    assert [a["name"] for a in second["items"]] == ["model_2", "model_3"]
    assert list(second) == ["count", "page", "page_size", "pages", "items"]
    past = api.get("/api/v1/assets?page_size=2&page=9").json()
    assert (past["page"], past["items"]) == (9, [])


def test_events_page_by_per_page_and_a_page_past_the_last_is_the_last(api):
    body = api.get("/api/v1/events?per_page=2&page=9").json()
    assert list(body) == ["count", "page", "pages", "results"]
    assert (body["count"], body["page"], body["pages"]) == (5, 3, 3)
    assert [e["payload"] for e in body["results"]] == [{"n": 0}]  # newest first: the oldest is last


def test_out_of_range_numbers_keep_their_422_bodies(api):
    assert api.get("/api/v1/assets?page_size=201").json() == {
        "error": "invalid", "detail": "page_size must be between 1 and 200",
    }  # fmt: skip
    assert api.get("/api/v1/events?per_page=501").json() == {
        "error": "invalid_page", "detail": "page must be ≥ 1 and per_page between 1 and 500",
    }  # fmt: skip


def test_the_openapi_document_describes_both_pages(api):
    doc = api.get("/api/v1/openapi.json").json()
    schemas = doc["components"]["schemas"]

    def page_of(path: str) -> dict:
        ref = doc["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        return schemas[ref.rsplit("/", 1)[1]]

    assets, events = page_of("/api/v1/assets"), page_of("/api/v1/events")
    assert list(assets["properties"]) == ["count", "page", "page_size", "pages", "items"]
    assert assets["properties"]["items"]["items"]["$ref"].endswith("/AssetRowOut")
    assert list(events["properties"]) == ["count", "page", "pages", "results"]
    assert events["properties"]["results"]["items"]["$ref"].endswith("/EventOut")
    params = {p["name"] for p in doc["paths"]["/api/v1/events"]["get"]["parameters"]}
    assert {"page", "per_page", "kind", "team", "asset"} <= params
