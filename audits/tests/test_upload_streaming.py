"""Result files are streamed to storage, never held whole in the web process (issue #17): the raw
body goes to a temporary file (refused past the limit while it streams), is checked in blocks and
in one streamed pass (audits.ingest.outline) when large, and is moved into the storage.

The memory itself is measured by bench/upload_bench.py (a gunicorn worker receiving a 140 MB
run_results.json); these tests prove the mechanism and the answers.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import orjson
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audits.ingest import ResultFileError, detect_document_format, detect_format
from audits.ingest.outline import document_outline
from audits.models import AuditRun, ResultUpload
from audits.tests.conftest import bearer, fixture_bytes

FIXTURES = Path(__file__).parent / "fixtures"
UPLOAD = "/api/v1/audit-results/upload"
RUN_RESULTS = fixture_bytes("dbt_core_build_failing.json")


@pytest.fixture
def spool(settings, tmp_path):
    """Every upload past 1 KB goes through a temporary file in an empty folder of its own."""
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    return tmp_path


@pytest.fixture
def streamed_check(monkeypatch):
    """Every file past 1 KB is checked by the streamed pass, not decoded whole."""
    monkeypatch.setattr("audits.services.uploads.FULL_CHECK_BYTES", 1024)


def _post_raw(api, core, body: bytes, query: str = ""):
    return api.post(UPLOAD + query, body, content_type="application/json", **bearer(core.platform_secret))


def test_a_raw_body_is_streamed_to_the_storage_without_being_read_into_memory(
    core, api, spool, streamed_check, django_capture_on_commit_callbacks
):
    from audits.tasks import ingest_result_upload

    with django_capture_on_commit_callbacks():
        response = _post_raw(api, core, RUN_RESULTS)

    assert response.status_code == 202, response.content
    assert not hasattr(response.wsgi_request, "_body")  # neither the edge nor the view read it whole
    upload = ResultUpload.objects.get(pk=response.json()["id"])
    with upload.file.open("rb") as stored:
        assert stored.read() == RUN_RESULTS
    assert upload.sha256 == hashlib.sha256(RUN_RESULTS).hexdigest() and upload.size_bytes == len(RUN_RESULTS)
    assert not list(spool.iterdir())  # the temporary file was moved into the storage
    assert ingest_result_upload(upload.pk) == "succeeded"
    assert AuditRun.objects.get(asset=core.dim_customers).status == "failed"


def test_a_multipart_file_spooled_to_disk_is_moved_into_the_storage(core, api, spool, streamed_check):
    data = {"file": SimpleUploadedFile("run_results.json", RUN_RESULTS, "application/json")}
    response = api.post(UPLOAD, data, **bearer(core.platform_secret))
    assert response.status_code == 202, response.content
    with ResultUpload.objects.get().file.open("rb") as stored:
        assert stored.read() == RUN_RESULTS
    assert not list(spool.iterdir())


def test_a_raw_body_past_the_limit_is_413_and_nothing_is_stored(core, api, settings, spool):
    settings.TESSERA_MAX_UPLOAD_BYTES = 2048
    response = _post_raw(api, core, RUN_RESULTS)
    assert response.status_code == 413
    body = response.json()
    assert body["error"] == "too_large" and "2,048 bytes" in body["detail"]
    assert "TESSERA_MAX_UPLOAD_BYTES" in body["detail"]
    assert not hasattr(response.wsgi_request, "_body")
    assert not ResultUpload.objects.exists() and not list(spool.iterdir())


@pytest.mark.parametrize(
    ("body", "query", "detail"),
    [
        (RUN_RESULTS[:-40], "", "not valid JSON"),  # the tail cut off: only a full pass can tell
        (RUN_RESULTS + b" []", "", "not valid JSON"),  # trailing garbage
        (RUN_RESULTS[:-40], "?format=dbt", "not valid JSON"),
        (orjson.dumps({"hello": "world", "pad": "x" * 2000}), "", "Unknown result file"),
        (RUN_RESULTS.replace(b'"pass"', b'"pa\\u0000ss"', 1), "", "NUL character"),
        (b" " * 3000, "", "The file is empty"),
        (b"\xff" * 3000, "", "not valid JSON"),
    ],
)
def test_bad_large_files_are_refused_by_the_streamed_check_before_the_202(
    core, api, spool, streamed_check, body, query, detail
):
    response = _post_raw(api, core, body, query)
    assert response.status_code == 400, response.content
    answer = response.json()
    assert answer["error"] in {"invalid_result_file", "invalid_character"} and detail in answer["detail"]
    assert not ResultUpload.objects.exists() and not list(spool.iterdir())


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.json")))
def test_the_outline_names_the_format_the_whole_document_names(name):
    data = (FIXTURES / name).read_bytes()
    try:
        expected = detect_format(data)
    except ResultFileError as exc:
        expected = str(exc)
    try:
        outlined = detect_document_format(document_outline(io.BytesIO(data)))
    except ResultFileError as exc:
        outlined = str(exc)
    assert outlined == expected


def test_the_outline_keeps_one_item_per_shape_of_a_long_list():
    doc = {"results": [{"success": True, "expectation_config": {"k": i}} for i in range(10_000)]}
    doc["results"].append("stray")
    doc["statistics"] = {"evaluated": 10_001}
    outline = document_outline(io.BytesIO(orjson.dumps(doc)))
    assert outline == {
        "results": [{"success": None, "expectation_config": None}, ""],
        "statistics": {"evaluated": 10_001},
    }
    # A stray item is seen, wherever it is: this is not a Great Expectations validation.
    with pytest.raises(ResultFileError):
        detect_document_format(outline)


@pytest.mark.parametrize("query", ["?format=dbt", "?format=soda", ""])
def test_a_large_valid_file_passes_the_streamed_check_with_or_without_a_named_format(
    core, api, spool, streamed_check, query
):
    # With a format named, the check only reads the JSON (the named parser judges the document in
    # the worker, as for a small file); without one, the outline must name a format.
    response = _post_raw(api, core, RUN_RESULTS, query)
    assert response.status_code == 202, response.content
    assert ResultUpload.objects.get().size_bytes == len(RUN_RESULTS)


def test_curl_data_binary_without_a_content_type_is_streamed_too(core, api, spool, streamed_check):
    # curl --data-binary @target/run_results.json (the demo README) sends
    # application/x-www-form-urlencoded: the body must not be parsed as a form, nor read whole.
    response = api.post(
        UPLOAD + "?format=dbt",
        RUN_RESULTS,
        content_type="application/x-www-form-urlencoded",
        **bearer(core.platform_secret),
    )
    assert response.status_code == 202, response.content
    assert not hasattr(response.wsgi_request, "_body")
    with ResultUpload.objects.get().file.open("rb") as stored:
        assert stored.read() == RUN_RESULTS
