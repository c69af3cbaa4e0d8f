"""tessera_site.lib.bulk's fast paths give what Django's slow ones give: ``InstanceBuilder`` the
instances ``Model(**row)`` builds (every attribute, the cached related objects, ``_state``), and
``any_of`` the rows ``field__in`` finds (one array parameter on PostgreSQL, ``IN`` elsewhere)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection

from contracts.factories import AssetFactory, ProjectFactory, TeamFactory
from contracts.models import Asset, Registration
from tessera_site.lib.bulk import InstanceBuilder, any_of

pytestmark = pytest.mark.django_db


def _state(obj: Any) -> tuple[Any, ...]:
    attributes = dict(obj.__dict__)
    state = attributes.pop("_state")
    return attributes, state.adding, state.db, state.fields_cache


def test_built_instances_are_what_keyword_init_builds():
    team = TeamFactory(slug="t-a")
    project = ProjectFactory(name="core", owner_team=team)
    now = dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.UTC)
    rows: list[dict[str, Any]] = [
        {"relation": "db.s.a", "project": project, "owner_team": team, "name": "a", "created_at": now,
         "tags": ["x"], "meta": {"k": 1}},
        {"relation": "db.s.b", "project": project, "owner_team": team, "name": "b", "created_at": now,
         "tags": [], "meta": {}},
        {"relation": "db.s.c", "project": None, "owner_team_id": team.pk, "name": "c", "status": "retired"},
        {"relation": "db.s.d", "owner_team_id": team.pk, "name": "d"},
    ]  # fmt: skip
    built = list(map(InstanceBuilder(Asset), rows))
    for row, obj in zip(rows, built, strict=True):
        expected = Asset(**row)
        want, got = _state(expected), _state(obj)
        for key in ("created_at", "updated_at"):  # timezone.now() defaults: a moment apart
            if key not in row:
                assert abs(want[0].pop(key) - got[0].pop(key)) < dt.timedelta(minutes=1)
        assert got == want
    assert built[0].owner_team is team and built[0].project is project
    assert built[0].unpinned_refs is not built[1].unpinned_refs  # callable defaults: one each
    assert (built[2].project_id, built[3].project_id, built[3].active_version_id) == (None, None, None)


def test_built_instances_insert_like_any_other():
    team = TeamFactory(slug="t-a")
    build = InstanceBuilder(Asset)
    assets = [build({"relation": f"db.s.r{i}", "owner_team": team, "name": f"r{i}"}) for i in range(3)]
    Asset.objects.bulk_create(assets)
    assert sorted(Asset.objects.values_list("relation", flat=True)) == ["db.s.r0", "db.s.r1", "db.s.r2"]


def test_a_row_naming_no_field_or_a_wrong_object_is_refused():
    team = TeamFactory(slug="t-a")
    build = InstanceBuilder(Asset)
    with pytest.raises(TypeError, match="colour"):
        build({"relation": "db.s.a", "owner_team": team, "colour": "red"})
    with pytest.raises(ValueError, match="owner_team"):
        build({"relation": "db.s.a", "owner_team": ProjectFactory(name="p")})


def test_any_of_finds_what_in_finds():
    team = TeamFactory(slug="t-a")
    assets = [AssetFactory(owner_team=team, relation=f"db.s.r{i}", name=f"r{i}") for i in range(5)]
    for asset in assets[:3]:
        Registration.objects.create(asset=asset, team=team, origin=Registration.Origin.EXPLICIT)
    relations = ["db.s.r1", "db.s.r3", "db.s.none", None]

    def ids(queryset: Any) -> list[int]:
        return sorted(queryset.values_list("pk", flat=True))

    assert ids(Asset.objects.filter(any_of("relation", relations))) == ids(
        Asset.objects.filter(relation__in=relations)
    )
    asset_ids = {a.pk: a for a in assets[1:]}  # any iterable: a dict gives its keys
    found = Registration.objects.filter(
        any_of("asset_id", asset_ids), origin__in=[Registration.Origin.EXPLICIT]
    )
    assert ids(found) == ids(Registration.objects.filter(asset_id__in=list(asset_ids))) != []
    assert list(Asset.objects.filter(any_of("relation", []))) == []
    sql = str(Asset.objects.filter(any_of("relation", relations)).query)
    assert ("= ANY(" in sql) == (connection.vendor == "postgresql")
