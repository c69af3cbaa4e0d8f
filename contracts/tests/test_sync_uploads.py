"""Uploads are streamed to storage, never held whole in the web process, and refused past the
size limit while they stream (raw body and multipart alike; the API and the upload page).

The memory itself is measured by bench/upload_bench.py (peak RSS of a gunicorn worker receiving a
140 MB manifest); these tests prove the mechanism: the body is never read into ``request.body``,
the stored file is the upload byte for byte, and a refused upload leaves no file behind.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import orjson
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from django.urls import reverse

from contracts.factories import TeamMembershipFactory
from contracts.models import Asset, SyncRun
from contracts.services.teams import team_ensure
from tessera_site.lib.errors import TooLarge
from tessera_site.lib.uploads import body_to_file
from tessera_site.lib.validation import json_nul_location, json_nul_offset

FIXTURES = Path(__file__).parent / "fixtures"
SMALL = (FIXTURES / "small_shop_manifest.json").read_bytes()  # 761 KB


@pytest.fixture
def open_api(settings):
    settings.TESSERA_OPEN_API = True


@pytest.fixture
def spool(settings, tmp_path):
    """Every upload past 1 KB goes through a temporary file in an empty folder of its own."""
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    return tmp_path


def test_a_raw_body_is_streamed_to_the_storage_without_being_read_into_memory(client, open_api, db, spool):
    team_ensure(slug="shop-platform")
    response = client.post("/api/v1/sync/dbt?team=shop-platform", data=SMALL, content_type="application/json")

    assert response.status_code == 202, response.content
    # Neither the edge middleware (NUL check) nor the view read request.body.
    assert not hasattr(response.wsgi_request, "_body")
    run = SyncRun.objects.get(pk=response.json()["sync_id"])
    with run.manifest.open("rb") as stored:
        assert stored.read() == SMALL
    assert run.manifest_sha256 == hashlib.sha256(SMALL).hexdigest() and run.manifest_bytes == len(SMALL)
    assert not list(spool.iterdir())  # the temporary file was moved into the storage


def test_a_multipart_file_past_the_limit_is_refused_while_it_streams(client, open_api, db, settings, spool):
    team_ensure(slug="shop-platform")
    # The body is within the up-front allowance (limit + 1 MB of framing): only the streaming
    # check can see that the manifest file itself is too large.
    settings.TESSERA_MAX_UPLOAD_BYTES = 100_000
    response = client.post(
        "/api/v1/sync/dbt?team=shop-platform",
        data={"manifest": SimpleUploadedFile("manifest.json", SMALL, "application/json")},
    )

    assert response.status_code == 413
    body = response.json()
    assert body["error"] == "too_large"
    assert "'manifest' file" in body["detail"] and "100,000 bytes" in body["detail"]
    assert not SyncRun.objects.exists() and not Asset.objects.exists()
    assert not list(spool.iterdir())  # the partial temporary file was deleted


def test_a_raw_body_past_the_limit_is_refused_while_it_streams_and_leaves_no_file(settings, spool):
    # Under WSGI the Content-Length check answers first; the streaming check is what holds when
    # the length is not known up front (e.g. a server that spools chunked bodies).
    request = RequestFactory().post("/api/v1/sync/dbt", data=SMALL, content_type="application/json")
    with pytest.raises(TooLarge) as refused:
        body_to_file(request, limit=300_000)
    assert "300,000 bytes" in refused.value.detail
    assert not list(spool.iterdir())


def test_the_upload_page_refuses_a_manifest_past_the_limit_with_the_form_error(client, db, settings, spool):
    membership = TeamMembershipFactory(team__slug="data-platform")
    client.force_login(membership.user)
    settings.TESSERA_MAX_UPLOAD_BYTES = 100_000

    response = client.post(
        reverse("upload"),
        {"team": "data-platform", "manifest": SimpleUploadedFile("manifest.json", SMALL, "application/json")},
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "100,000 bytes" in page and "Choose the manifest.json" not in page
    assert not SyncRun.objects.exists()
    assert not list(spool.iterdir())


@pytest.mark.parametrize("block", [1, 2, 5, 7, 64])
@pytest.mark.parametrize(
    "document",
    [
        b'{"a": "clean", "b": "\\\\u0000 is a backslash and u0000"}',
        b'{"a": "x", "b": "bad \\u0000 text"}',
        b'{"a": "\\\\\\u0000"}',  # an escaped backslash, then the escape
        b'{"a": "raw \x00 byte"}',
        b'{"a": "' + b"\\\\" * 40 + b'u0000"}',  # 40 escaped backslashes, then plain text
    ],
)
def test_the_block_by_block_nul_scan_finds_what_the_whole_document_scan_finds(document, block):
    blocks = [document[i : i + block] for i in range(0, len(document), block)]
    whole = json_nul_location(document)
    offset = json_nul_offset(blocks)
    assert (offset is None) == (whole is None)
    if offset is not None:
        assert document[offset : offset + 6] == b"\\u0000" or document[offset : offset + 1] == b"\x00"


# --- the CI check (POST /api/v1/sync/dbt/check): streamed like the sync, decoded from the file ---
BREAKING = (FIXTURES / "small_shop_breaking_manifest.json").read_bytes()
CHECK = "/api/v1/sync/dbt/check"


def _shop_synced() -> None:
    from contracts.services.sync import sync_submit
    from contracts.tasks.sync import sync_run_task
    from tessera_site.lib.auth import Actor

    team_ensure(slug="shop-platform")
    actor = Actor(label="ci-open", is_open=True, scopes=("read", "write"))
    run = sync_submit(manifest=SMALL, team_slug="shop-platform", actor=actor)
    assert sync_run_task(run.pk) == "succeeded"


def test_the_check_streams_its_raw_body_and_judges_the_manifest_from_the_spooled_file(
    client, open_api, db, spool
):
    from contracts.services.sync.check import sync_check
    from tessera_site.lib.auth import Actor

    _shop_synced()
    response = client.post(CHECK, data=BREAKING, content_type="application/json")

    assert response.status_code == 200, response.content
    assert not hasattr(response.wsgi_request, "_body")  # neither the edge nor the view read it whole
    report = response.json()
    assert report["may_merge"] is False and report["counts"]["breaking"] >= 1
    # The same verdicts as the check of the bytes (the service's other way in).
    expected = sync_check(manifest=BREAKING, actor=Actor(label="open", is_open=True, scopes=("read",)))
    assert report == orjson.loads(orjson.dumps(expected))
    assert not list(spool.iterdir())  # the temporary file was deleted


def test_the_check_of_a_multipart_manifest_spooled_to_disk_gives_the_same_report(client, open_api, db, spool):
    _shop_synced()
    raw = client.post(CHECK, data=BREAKING, content_type="application/json").json()
    response = client.post(
        CHECK, data={"manifest": SimpleUploadedFile("manifest.json", BREAKING, "application/json")}
    )
    assert response.status_code == 200, response.content
    assert response.json() == raw
    assert not list(spool.iterdir())


def test_the_check_refuses_a_multipart_manifest_past_the_limit_while_it_streams(
    client, open_api, db, settings, spool
):
    settings.TESSERA_MAX_UPLOAD_BYTES = 100_000
    response = client.post(
        CHECK, data={"manifest": SimpleUploadedFile("manifest.json", SMALL, "application/json")}
    )
    assert response.status_code == 413
    body = response.json()
    assert (
        body["error"] == "too_large"
        and "'manifest' file" in body["detail"]
        and "100,000 bytes" in body["detail"]
    )
    assert not list(spool.iterdir())


def test_the_check_refuses_a_raw_body_past_the_limit_before_reading_it(client, open_api, db, settings, spool):
    settings.TESSERA_MAX_UPLOAD_BYTES = 100_000
    response = client.post(CHECK, data=SMALL, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["error"] == "too_large" and "100,000 bytes" in response.json()["detail"]
    assert not hasattr(response.wsgi_request, "_body")
    assert not list(spool.iterdir())


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"", 400, "empty_body"),
        (b"{not json", 400, "invalid_json"),
        (b'{"metadata": {"dbt_schema_version": "x"}, "nodes": {"a": "\\u0000"}}', 400, "invalid_character"),
        (b"[]", 422, "not_a_manifest"),
        (SMALL[: len(SMALL) // 2], 400, "invalid_json"),  # cut off half way
    ],
)
def test_bad_input_to_the_streamed_check_is_a_clear_4xx_and_writes_nothing(
    client, open_api, db, spool, body, status, code
):
    response = client.post(CHECK, data=body, content_type="application/json")
    assert response.status_code == status, response.content
    assert response.json()["error"] == code
    assert not SyncRun.objects.exists() and not Asset.objects.exists()
    assert not list(spool.iterdir())


@pytest.mark.parametrize("path", ["/api/v1/sync/dbt?team=shop-platform", CHECK])
def test_curl_data_binary_without_a_content_type_is_streamed_too(client, open_api, db, spool, path):
    # curl --data-binary @target/manifest.json sends application/x-www-form-urlencoded: the body
    # must not be parsed as a form (that reads it whole).
    team_ensure(slug="shop-platform")
    response = client.post(path, data=SMALL, content_type="application/x-www-form-urlencoded")
    assert response.status_code in (200, 202), response.content
    assert not hasattr(response.wsgi_request, "_body")
