"""The audits app's pages: uploading a result file from the dashboard and following it. A
stranger gets 404; the page says the file's kind of run and what was and was not counted."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audits.models import ResultUpload
from audits.tasks import ingest_result_upload
from audits.tests.conftest import fixture_bytes
from contracts.factories import TeamMembershipFactory, UserFactory
from contracts.tests.test_views_dashboard import FIXTURES, login, make_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(settings):
    """The dashboard tests' world of teams, members and a stranger."""
    return make_world()


def test_result_upload_for_another_team_is_404(client, world):
    client = login(client, world.stranger)
    upload = SimpleUploadedFile(
        "run_results.json", (FIXTURES / "run_results_v6_jaffle_shop.json").read_bytes()
    )
    response = client.post(reverse("upload_results"), {"team": "data-platform", "results": upload})
    assert response.status_code == 404
    assert not ResultUpload.objects.exists()


def test_a_result_file_past_the_limit_is_refused_on_the_form_and_nothing_is_stored(client, world, settings):
    """The size limit is the streaming upload handler's: the file is dropped while it arrives and
    the form says why (the view makes no size check of its own)."""
    settings.TESSERA_MAX_UPLOAD_BYTES = 1024
    client = login(client, world.core_lead)
    upload = SimpleUploadedFile(
        "run_results.json", (FIXTURES / "run_results_v6_jaffle_shop.json").read_bytes()
    )
    response = client.post(reverse("upload_results"), {"team": "data-platform", "results": upload})
    assert response.status_code == 400
    assert "TESSERA_MAX_UPLOAD_BYTES" in response.content.decode()
    assert not ResultUpload.objects.exists()


def test_result_upload_by_a_member_creates_the_job_and_shows_progress(client, world):
    client = login(client, world.core_lead)
    upload = SimpleUploadedFile(
        "run_results.json", (FIXTURES / "run_results_v6_jaffle_shop.json").read_bytes()
    )
    response = client.post(reverse("upload_results"), {"team": "data-platform", "results": upload})
    result_upload = ResultUpload.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("result_upload_detail", args=[result_upload.pk])
    assert client.get(response["Location"]).status_code == 200

    ingest_result_upload(result_upload.pk)  # what the worker does
    done = client.get(response["Location"], HTTP_HX_REQUEST="true")
    body = done.content.decode()
    assert done.status_code == 286
    # jaffle_shop's tests name none of this world's assets: they are listed, never dropped.
    assert "Unmatched checks" in body and "not_null_" in body


@pytest.fixture
def platform_member(client, core):
    user = UserFactory(username="lead")
    TeamMembershipFactory(team=core.platform, user=user)
    return login(client, user)


def _post(client, name: str, content: bytes) -> ResultUpload:
    upload = SimpleUploadedFile(name, content)
    response = client.post(reverse("upload_results"), {"team": "data-platform", "results": upload})
    assert response.status_code == 302
    row = ResultUpload.objects.get()
    ingest_result_upload(row.pk)  # what the worker does
    return row


def test_the_result_page_says_the_kind_of_run_and_what_counted(platform_member, core):
    row = _post(platform_member, "run_results.json", fixture_bytes("dbt_core_build_pass.json"))
    page = platform_member.get(reverse("result_upload_detail", args=[row.pk])).content.decode()
    assert 'id="run-kind"' in page and "run: build" in page
    assert "113 executed checks recorded from this build run." in page
    assert "Not counted: 18 builds" in page


def test_a_refused_compile_only_file_says_its_kind_and_that_nothing_counted(platform_member, core):
    import orjson

    doc = orjson.loads(fixture_bytes("dbt_core_build_pass.json"))
    doc["args"]["which"] = "compile"
    for result in doc["results"]:
        result["status"] = "success"  # what dbt compile writes for every node
    row = _post(platform_member, "run_results.json", orjson.dumps(doc))
    row.refresh_from_db()
    assert row.status == "failed"
    page = platform_member.get(reverse("result_upload_detail", args=[row.pk])).content.decode()
    assert "run: compile" in page
    assert "comes from `dbt compile`: its 113 test(s) were compiled, not executed" in page
    assert "Not counted: 113 compiled tests" in page
    assert "executed checks recorded" not in page
