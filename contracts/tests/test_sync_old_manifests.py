"""Manifests of older dbt (schema v4–v9, dbt 1.0–1.5) sync like current ones, against the real
database: correct counts, nothing spurious when the same project later syncs from dbt 1.11."""

from __future__ import annotations

from pathlib import Path

import pytest

from contracts.models import Asset, ContractVersion, Guarantee, Project, SyncRun
from contracts.services.sync import sync_submit
from contracts.services.teams import team_ensure
from contracts.tasks import sync_run_task
from tessera_site.lib.auth import Actor

FIXTURES = Path(__file__).parent / "fixtures"
OPEN = Actor(label="test-open", is_open=True, scopes=("read", "write", "admin"))


def run_sync(name: str, *, catalog: str | None = None) -> SyncRun:
    run = sync_submit(
        manifest=(FIXTURES / name).read_bytes(),
        catalog=(FIXTURES / catalog).read_bytes() if catalog else None,
        team_slug="shop-platform",
        actor=OPEN,
    )
    assert sync_run_task(run.pk) == "succeeded"
    run.refresh_from_db()
    return run


@pytest.fixture
def shop_team(db):
    team, _ = team_ensure(slug="shop-platform", name="Shop platform")
    return team


# (file, schema version, assets, guarantees): public jaffle_shop manifests of dbt 1.0, 1.3 and 1.5
@pytest.mark.parametrize(
    ("name", "schema_version", "assets", "guarantees"),
    [
        ("manifest_v4_jaffle_shop.json", 4, 8, 18),
        ("manifest_v7_jaffle_shop.json", 7, 8, 20),
        ("manifest_v9_jaffle_shop_dbt1.5.json", 9, 8, 21),  # elementary's 29 models are the package's
        ("manifest_v9_classic_jaffle_shop_dbt1.5.json", 9, 8, 20),
    ],
)
def test_old_manifest_syncs_every_asset_and_test(shop_team, name, schema_version, assets, guarantees):
    run = run_sync(name)

    assert run.summary["schema_version"] == schema_version
    assert run.summary["project"] == "jaffle_shop"
    assert run.summary["created"] == assets
    assert run.summary["published_by_bump"] == {"initial": assets}
    assert Asset.objects.count() == assets
    assert ContractVersion.objects.filter(status="active").count() == assets
    assert Guarantee.objects.count() == guarantees
    assert Project.objects.get().name == "jaffle_shop"  # from metadata.project_id, not guessed


def test_old_manifest_says_what_it_cannot_say(shop_team):
    run = run_sync("manifest_v4_jaffle_shop.json")
    assert any("predates model contracts" in w for w in run.warnings)
    assert any("declare no data_type" in w for w in run.warnings)


def test_the_same_project_from_dbt_1_5_then_dbt_1_11_changes_nothing(shop_team):
    first = run_sync("manifest_v9_classic_jaffle_shop_dbt1.5.json")
    again = run_sync("manifest_v12_classic_jaffle_shop_dbt1.11.json")

    assert first.summary["created"] == 8
    assert again.summary["schema_version"] == 12
    assert again.summary["unchanged"] == 8
    assert again.summary["created"] == again.summary["published"] == again.summary["retired"] == 0
    assert ContractVersion.objects.count() == 8


def test_a_first_catalog_types_columns_as_a_patch_never_a_major(shop_team):
    run_sync("manifest_v9_classic_jaffle_shop_dbt1.5.json")
    typed = run_sync(
        "manifest_v9_classic_jaffle_shop_dbt1.5.json", catalog="catalog_classic_jaffle_shop_dbt1.5.json"
    )

    assert typed.summary["proposals_opened"] == 0
    # Every documented column gains its type as a patch; the catalog also shows columns the YAML never
    # documented, which are columns added (minor). Nothing is breaking, nothing is major.
    assert set(typed.summary["published_by_bump"]) <= {"patch", "minor"}
    orders = Asset.objects.select_related("active_version").get(unique_id="model.jaffle_shop.orders")
    assert orders.active_version.semver == "1.0.1"
    assert orders.active_version.verdict["breaking"] is False
    assert any("Column order_date is now typed: DATE" in r for r in orders.active_version.verdict["reasons"])
