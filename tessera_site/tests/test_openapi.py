"""The OpenAPI document describes every response the API sends: each operation's success
responses name a schema, and a few of them carry the fields clients have always read."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def doc(client):
    return client.get("/api/v1/openapi.json").json()


def _schema(doc: dict, path: str, method: str, status: str) -> dict:
    content = doc["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]
    return doc["components"]["schemas"][content["$ref"].rsplit("/", 1)[1]]


def _names_a_schema(response: dict) -> bool:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    return "$ref" in schema or "$ref" in schema.get("items", {})  # an object, or a list of them


def test_every_success_response_names_a_schema(doc):
    bare = [
        f"{method.upper()} {path} → {status}"
        for path, operations in doc["paths"].items()
        for method, operation in operations.items()
        for status, response in operation["responses"].items()
        if status.startswith("2") and status != "204" and not _names_a_schema(response)
    ]
    assert not bare, "responses without a declared schema: " + ", ".join(bare)


def test_a_proposal_and_its_answers_are_described_field_by_field(doc):
    detail = _schema(doc, "/api/v1/proposals/{proposal_id}", "get", "200")
    assert list(detail["properties"])[:4] == ["id", "status", "origin", "asset"]
    assert {"verdict", "teams", "waiting_for", "superseded_by", "since_previous"} <= set(detail["properties"])
    answered = _schema(doc, "/api/v1/proposals/{proposal_id}/answers", "post", "200")
    assert set(answered["properties"]) == {"answer", "proposal"}


def test_a_sync_is_described_for_each_of_its_answers(doc):
    accepted = _schema(doc, "/api/v1/sync/dbt", "post", "202")
    assert list(accepted["properties"]) == ["sync_id", "status", "status_url"]
    done = _schema(doc, "/api/v1/syncs/{sync_id}", "get", "200")
    assert {"summary", "warnings", "duration_seconds", "finished_at"} <= set(done["properties"])
    failed = _schema(doc, "/api/v1/sync/dbt", "post", "422")
    assert "detail" in failed["properties"]
    check = _schema(doc, "/api/v1/sync/dbt/check", "post", "200")
    assert {"may_merge", "blocking", "counts", "changes", "refused"} <= set(check["properties"])
