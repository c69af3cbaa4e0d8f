"""Property-based run over the whole API: schemathesis generates requests from /api/v1/openapi.json
(valid and invalid ones: odd strings, huge integers, NUL characters, wrong types) and checks that
no response is a 5xx and that each response matches the schema the endpoint declares.

Runs in-process through Django's WSGI application on the test database, with a seeded world so
paths and bodies sometimes name real teams, assets and proposals.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from contracts.factories import (
    AssetFactory,
    ContractVersionFactory,
    ProjectFactory,
    ProposalFactory,
    TeamFactory,
    api_key_for,
)
from tessera_site.wsgi import application

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

MIN_REQUESTS = 2000
EXAMPLES_PER_OPERATION = 100

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@pytest.fixture
def world() -> dict[str, object]:
    """Real rows for every path parameter, and an admin key (so scopes never stop a request)."""
    platform = TeamFactory(slug="data-platform")
    marketing = TeamFactory(slug="marketing-analytics")
    project = ProjectFactory(name="core", owner_team=platform)
    for name in ("dim_customers", "fct_orders"):
        asset = AssetFactory(project=project, owner_team=platform, name=name)
        version = ContractVersionFactory(asset=asset)
        asset.active_version = version
        asset.save(update_fields=["active_version"])
    proposal = ProposalFactory(asset=asset, required_teams=[marketing])
    _, secret = api_key_for(platform, scopes="read,write,admin")
    known = {
        "ref": asset.relation,
        "asset_id": str(asset.pk),
        "proposal_id": proposal.pk,
        "slug": platform.slug,
        "version": version.semver,
        "a": version.semver,
        "b": str(version.pk),
    }
    return {"headers": {"Authorization": f"Bearer {secret}"}, "known": known}


def _run_operation(operation, world: dict[str, object]) -> int:
    calls = 0

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        derandomize=True,  # the same requests on every run: a failure reproduces
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def check(case) -> None:
        nonlocal calls
        calls += 1
        # Every other request names real rows in its path, so the fuzzed query and body reach
        # the code behind the lookup instead of stopping at a 404.
        if calls % 2 and case.path_parameters:
            for name in case.path_parameters:
                if name in world["known"]:
                    case.path_parameters[name] = world["known"][name]
        response = case.call(headers=world["headers"])
        case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

    check()
    return calls


@pytest.fixture
def keep_test_connection():
    """Requests go through the WSGI application itself, which closes the database connection at
    the end of each request; the test's transaction lives on that connection, so keep it open as
    Django's own test client does."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_generated_requests_get_no_5xx_and_match_their_declared_schemas(world, keep_test_connection):
    total = 0
    per_operation = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        count = _run_operation(operation, world)
        per_operation[operation.label] = count
        total += count
    assert total >= MIN_REQUESTS, per_operation
