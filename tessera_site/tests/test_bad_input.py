"""Bad input at the edge: every case is a 4xx JSON ``{error, detail}`` under /api/ (a plain page on
the dashboard), never a 500, and nothing is written."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import pytest
from django.test import Client

from audits.models import AuditRun, ResultUpload
from contracts.factories import (
    AssetFactory,
    ProjectFactory,
    ProposalFactory,
    TeamFactory,
    UserFactory,
    api_key_for,
)
from contracts.models import Acknowledgment, Asset, Event, OutboundEmail, SyncRun

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[2] / "contracts" / "tests" / "fixtures"


@pytest.fixture
def world():
    platform = TeamFactory(slug="data-platform")
    marketing = TeamFactory(slug="marketing-analytics")
    project = ProjectFactory(name="core", owner_team=platform)
    assets = [AssetFactory(project=project, owner_team=platform, name=f"model_{i}") for i in range(4)]
    _, secret = api_key_for(platform, scopes="read,write")
    _, marketing_secret = api_key_for(marketing, scopes="read,write", name="marketing")
    return {
        "client": Client(HTTP_AUTHORIZATION=f"Bearer {secret}"),
        "marketing": Client(HTTP_AUTHORIZATION=f"Bearer {marketing_secret}"),
        "assets": assets,
        "platform": platform,
        "marketing_team": marketing,
    }


def _written() -> tuple[int, ...]:
    return (
        SyncRun.objects.count(),
        ResultUpload.objects.count(),
        AuditRun.objects.count(),
        Event.objects.count(),
        Acknowledgment.objects.count(),
        OutboundEmail.objects.count(),
        Asset.objects.count(),
    )


def _assert_json_4xx(response, status: int | tuple[int, ...], *, parameter: str | None = None) -> dict:
    statuses = status if isinstance(status, tuple) else (status,)
    assert response.status_code in statuses, response.content[:500]
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    body = response.json()
    assert body["error"] and body["detail"], body
    if parameter is not None:
        assert body.get("parameter") == parameter, body
        assert parameter in body["detail"]
    return body


NUL_QUERIES = [
    ("/api/v1/assets", "search"),
    ("/api/v1/assets", "team"),
    ("/api/v1/assets", "project"),
    ("/api/v1/assets", "type"),
    ("/api/v1/assets", "status"),
    ("/api/v1/assets", "consumer"),
    ("/api/v1/events", "team"),
    ("/api/v1/events", "kind"),
    ("/api/v1/events", "asset"),
    ("/api/v1/proposals", "team"),
    ("/api/v1/proposals", "status"),
    ("/api/v1/sync/dbt", "team"),
    ("/api/v1/assets/1/publish-gate", "version"),
    ("/api/v1/assets/1/registrations", "team"),
]


@pytest.mark.parametrize(("path", "parameter"), NUL_QUERIES)
def test_a_nul_in_a_query_parameter_is_a_400_naming_it(world, path, parameter):
    before = _written()
    method = world["client"].post if path.endswith("/dbt") else world["client"].get
    response = method(f"{path}?{parameter}=a%00b")
    _assert_json_4xx(response, 400, parameter=parameter)
    assert _written() == before


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/api/v1/assets/a%00b", "ref"),
        ("/api/v1/assets/%00/versions", "ref"),
        ("/api/v1/assets/1/versions/1%00/diff/2", "a"),
        ("/api/v1/teams/data%00platform", "slug"),
        ("/api/v1/assets/x%00/audits", "asset_id"),
    ],
)
def test_a_nul_in_a_path_parameter_is_a_400_naming_it(world, path, parameter):
    _assert_json_4xx(world["client"].get(path), 400, parameter=parameter)


def test_a_nul_in_a_json_body_field_is_a_400_naming_the_field(world):
    proposal = ProposalFactory(asset=world["assets"][0], required_teams=[world["marketing_team"]])
    before = _written()
    response = world["marketing"].post(
        f"/api/v1/proposals/{proposal.pk}/answers",
        data=json.dumps({"team": "marketing-analytics", "answer": "blocked", "reason": "no\u0000way"}),
        content_type="application/json",
    )
    _assert_json_4xx(response, 400, parameter="reason")
    assert _written() == before


def test_a_manifest_holding_a_nul_is_refused_up_front_not_in_the_worker(world):
    manifest = json.loads((FIXTURES / "small_shop_manifest.json").read_text())
    node = next(iter(manifest["nodes"].values()))
    node["description"] = "bad \u0000 text"
    before = _written()
    response = world["client"].post(
        "/api/v1/sync/dbt", data=json.dumps(manifest), content_type="application/json"
    )
    body = _assert_json_4xx(response, 400)
    assert body["parameter"].endswith(".description"), body
    assert _written() == before


def test_a_result_file_holding_a_nul_is_refused_before_the_202(world):
    document = {"schema": "tessera.audit-results/v1", "runs": [{"asset": "x", "message": "a\u0000"}]}
    before = _written()
    response = world["client"].post(
        "/api/v1/audit-results/upload",
        data={"file": _file(json.dumps(document).encode())},
    )
    body = _assert_json_4xx(response, 400)
    assert "NUL" in body["detail"]
    assert _written() == before


def _file(content: bytes, name: str = "results.json"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="application/json")


SUPERSCRIPT = "\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079"


@pytest.mark.parametrize(
    "spell",
    [
        lambda pk: "".join(SUPERSCRIPT[int(d)] for d in str(pk)),  # isdigit() but not int()
        lambda pk: "".join(chr(0x0660 + int(d)) for d in str(pk)),  # Arabic-Indic: int() reads it
        lambda pk: "".join(chr(0xFF10 + int(d)) for d in str(pk)),  # fullwidth: int() reads it
        lambda pk: "0" + "".join(chr(0x0660 + int(d)) for d in str(pk)),  # ASCII and Arabic mixed
    ],
    ids=["superscript", "arabic-indic", "fullwidth", "mixed"],
)
def test_an_asset_ref_spelled_with_non_ascii_digits_names_no_asset(world, spell):
    # The id of a real asset, so a ref that int() would read names a row that exists.
    ref = quote(spell(world["assets"][2].pk))
    for suffix in ("", "/versions", "/lineage", "/registrations", "/audits", "/publish-gate"):
        _assert_json_4xx(world["client"].get(f"/api/v1/assets/{ref}{suffix}"), 404)


def test_an_ascii_asset_id_still_names_its_asset(world):
    asset = world["assets"][2]
    response = world["client"].get(f"/api/v1/assets/{asset.pk}")
    assert response.status_code == 200
    assert response.json()["id"] == asset.pk


@pytest.mark.parametrize(
    "query",
    [
        "page=0",
        "page=-1",
        f"page={10**30}",
        f"page={2**31}",
        f"page_size={10**30}",
        "page=abc",
    ],
)
def test_out_of_range_paging_is_a_422(world, query):
    _assert_json_4xx(world["client"].get(f"/api/v1/assets?{query}"), 422)


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/syncs/{10**30}",
        f"/api/v1/audit-uploads/{10**30}",
        f"/api/v1/proposals/{10**30}",
        "/api/v1/syncs/-1",
        f"/api/v1/assets/{10**30}",
        f"/api/v1/events?page={10**30}",
        f"/api/v1/assets/1/lineage?depth={10**30}",
        f"/api/v1/proposals?limit={10**30}",
        f"/api/v1/assets/1/audits?limit={10**30}&days={10**30}",
    ],
)
def test_huge_integers_in_paths_and_queries_never_reach_the_database(world, path):
    response = world["client"].get(path)
    assert response.status_code < 500, response.content[:300]
    assert response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize(
    "change",
    [
        {"guarantees_checked": 2**31},
        {"guarantees_passed": 2**31, "guarantees_checked": 2**31},
        {"guarantees_failed": -1},
        {"results": [{"check": "rows", "status": "failed", "failing_rows": 2**63}]},
        {"results": [{"check": "rows", "status": "failed", "failing_rows": -5}]},
    ],
)
def test_audit_counts_beyond_their_columns_are_a_422(world, change):
    payload = {
        "status": "failed",
        "guarantees_checked": 1,
        "guarantees_passed": 0,
        "guarantees_failed": 1,
        **change,
    }
    before = _written()
    response = world["client"].post(
        f"/api/v1/assets/{world['assets'][0].pk}/audit-results",
        data=json.dumps(payload),
        content_type="application/json",
    )
    _assert_json_4xx(response, 422)
    assert _written() == before


def test_failing_rows_up_to_a_bigint_are_accepted(world):
    payload = {
        "status": "failed",
        "guarantees_checked": 1,
        "guarantees_passed": 0,
        "guarantees_failed": 1,
        "results": [{"check": "rows", "status": "failed", "failing_rows": 2**63 - 1}],
    }
    response = world["client"].post(
        f"/api/v1/assets/{world['assets'][0].pk}/audit-results",
        data=json.dumps(payload),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v1/assets/1/nope/deeper", "/api/", "/api/v2/assets"])
def test_an_unknown_api_path_is_a_json_404(world, path):
    _assert_json_4xx(world["client"].get(path), 404)


def test_a_wrong_method_is_a_json_405(world):
    response = world["client"].delete("/api/v1/teams")
    _assert_json_4xx(response, 405)


@pytest.mark.parametrize("path", ["/api/v1/audit-results/upload", "/api/v1/sync/dbt"])
def test_an_oversized_raw_upload_is_a_json_413(world, settings, path):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    settings.TESSERA_MAX_UPLOAD_BYTES = 2048
    before = _written()
    response = world["client"].post(path, data=b"[" + b"1," * 4096 + b"1]", content_type="application/json")
    _assert_json_4xx(response, 413)
    assert _written() == before


@pytest.mark.parametrize(
    ("path", "field"), [("/api/v1/audit-results/upload", "file"), ("/api/v1/sync/dbt", "manifest")]
)
def test_an_oversized_multipart_file_is_a_json_413_while_it_streams(world, settings, path, field):
    # The whole body is within the up-front allowance (limit + 1 MB of framing): the upload
    # handler refuses the file itself once it passes the limit.
    settings.TESSERA_MAX_UPLOAD_BYTES = 2048
    before = _written()
    response = world["client"].post(path, data={field: _file(b"[" + b"1," * 4096 + b"1]")})
    body = _assert_json_4xx(response, 413)
    assert f"'{field}' file" in body["detail"]
    assert _written() == before


@pytest.mark.parametrize(
    "path", ["/api/v1/audit-results/upload", "/api/v1/sync/dbt", "/api/v1/sync/dbt/check"]
)
def test_multipart_without_a_boundary_is_a_json_400(world, path):
    response = world["client"].generic(
        "POST", path, data=b"--x\r\n\r\nhello\r\n--x--\r\n", content_type="multipart/form-data"
    )
    _assert_json_4xx(response, 400)
    assert SyncRun.objects.count() == 0 and ResultUpload.objects.count() == 0


@pytest.mark.parametrize(
    "content",
    [b"<html>not json</html>", b'{"some": "json", "of": "no known format"}', b"[1, 2, 3]", b"   "],
)
def test_a_result_file_of_no_known_format_is_a_400_and_nothing_is_stored(world, content):
    response = world["client"].post("/api/v1/audit-results/upload", data={"file": _file(content)})
    _assert_json_4xx(response, 400)
    assert ResultUpload.objects.count() == 0


@pytest.mark.parametrize(
    "url", ["/assets/?q=%00", "/events/?team=%00", "/events/?kind=a%00", "/lineage/?team=%00"]
)
def test_the_dashboard_refuses_a_nul_with_a_plain_400_page(client, url):
    client.force_login(UserFactory())
    response = client.get(url)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert b"NUL" in response.content and b"Traceback" not in response.content


def test_a_dashboard_url_with_non_ascii_digits_is_a_404(client, world):
    client.force_login(UserFactory())
    assert client.get("/assets/%D9%A3/").status_code == 404
    assert client.get("/proposals/%C2%B9/").status_code == 404


def test_a_multipart_manifest_holding_a_nul_is_refused_up_front(world):
    manifest = json.loads((FIXTURES / "small_shop_manifest.json").read_text())
    next(iter(manifest["nodes"].values()))["name"] = "x\u0000"
    before = _written()
    response = world["client"].post(
        "/api/v1/sync/dbt", data={"manifest": _file(json.dumps(manifest).encode(), "manifest.json")}
    )
    body = _assert_json_4xx(response, 400, parameter="manifest")
    assert ".name" in body["detail"]
    assert _written() == before
