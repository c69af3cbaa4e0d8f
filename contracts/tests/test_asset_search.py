"""One asset search (contracts.selectors.assets.asset_search_ids) behind the API and the dashboard:
the same term gives the same assets in both, on the demo projects synced from real dbt builds."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from contracts.factories import TeamFactory, UserFactory, api_key_for

pytestmark = [pytest.mark.django_db, pytest.mark.integration, pytest.mark.slow]

TERMS = [
    "customer",  # in names
    "CUSTOMERS",  # any case
    "core.main.fct",  # in relations
    "model.core.",  # in dbt unique_ids
    "country_co",  # the start of a column name
    "_code",  # inside a column name, not at its start
    "no-such-thing-anywhere",
]


@pytest.fixture
def demo_world(db, demo_artifacts):
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


def _api_relations(term: str) -> set[str]:
    _, secret = api_key_for(TeamFactory(), scopes="read")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    found: set[str] = set()
    page = 1
    while True:
        body = api.get("/api/v1/assets", {"search": term, "page": page, "page_size": 100}).json()
        found |= {a["relation"] for a in body["items"]}
        if page >= body["pages"]:
            return found
        page += 1


def _dashboard_relations(term: str) -> set[str]:
    client = Client()
    client.force_login(UserFactory())
    found: set[str] = set()
    page = 1
    while True:
        shown = client.get(reverse("asset_list"), {"q": term, "page": page}).context["page"]
        found |= {a.relation for a in shown.object_list}
        if not shown.has_next():
            return found
        page += 1


@pytest.mark.parametrize("term", TERMS)
def test_the_api_and_the_dashboard_find_the_same_assets(demo_world, term):
    assert _api_relations(term) == _dashboard_relations(term)


def test_a_column_name_matches_anywhere_in_it(demo_world):
    found = _api_relations("_code")
    assert "core.main.dim_customers" in found  # its column country_code
    inside = _api_relations("ry_cod")  # the middle of country_code
    assert "core.main.dim_customers" in inside and inside <= found
    assert not _api_relations("no-such-thing-anywhere")


def _expected_ids(term: str) -> set[int]:
    """The search's meaning, computed here from the rows: name, relation or unique_id contains the
    term, or one column name of the active contract does (case-insensitive)."""
    from contracts.models import Asset

    low = term.lower()
    found = set()
    for asset in Asset.objects.select_related("active_version"):
        columns = asset.active_version.columns if asset.active_version else []
        texts = [asset.name, asset.relation, asset.unique_id, *(str(c.get("name", "")) for c in columns)]
        if any(low in t.lower() for t in texts):
            found.add(asset.pk)
    return found


# Under three characters no trigram index applies (migration 0014 keeps the names as text for
# those); a line break in the term must not match across two names of the joined text.
SHORT_AND_ODD_TERMS = ["d", "id", "_c", "Co", "%", "_", "id\nfirst", "_id\nfirst_name", "zq"]


@pytest.mark.parametrize("term", SHORT_AND_ODD_TERMS)
def test_short_and_odd_terms_find_exactly_the_assets_with_such_a_name_or_column(demo_world, term):
    from contracts.selectors.assets import asset_search_ids

    expected = _expected_ids(term)
    assert asset_search_ids(term) == expected
    if term.strip() == term:  # the dashboard strips the term it is given, like the API
        assert _dashboard_relations(term) == _relations_of(expected) == _api_relations(term)


def _relations_of(ids: set[int]) -> set[str]:
    from contracts.models import Asset

    return set(Asset.objects.filter(pk__in=ids).values_list("relation", flat=True))


def test_a_line_break_never_joins_two_column_names(demo_world):
    from contracts.models import Asset
    from contracts.selectors.assets import asset_search_ids

    asset = Asset.objects.get(relation="core.main.dim_customers")
    names = [c["name"] for c in asset.active_version.columns]
    across = f"{names[0][-2:]}\n{names[1][:3]}"  # the end of one name, a line break, the next's start
    assert asset.pk not in asset_search_ids(across)
    assert asset.pk in asset_search_ids(names[1][:3])
