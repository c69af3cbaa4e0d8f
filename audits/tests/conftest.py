"""Fixtures of the audits tests: the real core manifest synced through the real sync service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest
import time_machine
from django.test import Client

from contracts.factories import TeamFactory, api_key_for
from contracts.models import ApiKey, Asset, SyncRun, Team

FIXTURES = Path(__file__).parent / "fixtures"
# The result files were produced on 2026-11-27 and carry that date; trends, the gate's maximum age
# and digests are measured from "now", so these tests run on a clock set just after the files.
FIXTURES_NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _clock_just_after_the_fixtures():
    with time_machine.travel(FIXTURES_NOW, tick=True):
        yield


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@cache
def _parsed_core_manifest():
    from contracts.ingest.manifest import parse_manifest

    return parse_manifest(fixture_bytes("dbt_core_manifest.json"))


def bearer(secret: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


@dataclass
class Core:
    platform: Team
    marketing: Team
    finance: Team
    outsider: Team
    dim_customers: Asset
    fct_orders: Asset
    platform_key: ApiKey
    platform_secret: str
    marketing_secret: str
    outsider_secret: str
    reader_secret: str  # data-platform, read scope only

    def asset(self, name: str) -> Asset:
        return Asset.objects.get(relation=f"core.main.{name}")


@pytest.fixture
def core(db) -> Core:
    """The demo's core project (built by dbt, see scripts/audit_fixtures) synced as data-platform."""
    from contracts.services.sync import sync_apply
    from tessera_site.lib.auth import actor_for_key

    platform = TeamFactory(slug="data-platform", name="Data Platform", email="platform@example.com")
    marketing = TeamFactory(
        slug="marketing-analytics", name="Marketing Analytics", email="marketing@example.com"
    )
    finance = TeamFactory(slug="finance-analytics", name="Finance Analytics", email="finance@example.com")
    outsider = TeamFactory(slug="outsiders", name="Outsiders", email="outsiders@example.com")
    key, secret = api_key_for(platform, scopes="read,write")
    _, marketing_secret = api_key_for(marketing, scopes="read,write")
    _, outsider_secret = api_key_for(outsider, scopes="read,write")
    _, reader_secret = api_key_for(platform, scopes="read", name="reader")
    run = SyncRun.objects.create(manifest="syncs/test-core-manifest.json", team=platform, api_key=key)
    sync_apply(parsed=_parsed_core_manifest(), run=run, actor=actor_for_key(key))
    return Core(
        platform=platform,
        marketing=marketing,
        finance=finance,
        outsider=outsider,
        dim_customers=Asset.objects.get(relation="core.main.dim_customers"),
        fct_orders=Asset.objects.get(relation="core.main.fct_orders"),
        platform_key=key,
        platform_secret=secret,
        marketing_secret=marketing_secret,
        outsider_secret=outsider_secret,
        reader_secret=reader_secret,
    )


@pytest.fixture
def api() -> Client:
    return Client()
