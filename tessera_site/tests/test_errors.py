"""Domain errors carry a code and a sentence; one table gives each kind its HTTP status."""

from __future__ import annotations

import pytest

from tessera_site.lib.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    TooLarge,
    Unauthenticated,
    Unprocessable,
    invalid,
    not_found,
)
from tessera_site.lib.http_errors import http_status


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (InvalidInput("bad"), 400, "invalid"),
        (Unauthenticated("who?"), 401, "unauthorized"),
        (PermissionDenied("no"), 403, "forbidden"),
        (NotFound("gone"), 404, "not_found"),
        (Conflict("not now", code="proposal_closed"), 409, "proposal_closed"),
        (TooLarge("big"), 413, "too_large"),
        (Unprocessable("out of range"), 422, "invalid"),
    ],
)
def test_each_kind_has_its_status_and_default_code(error, status, code):
    assert http_status(error) == status
    assert error.as_dict() == {"error": code, "detail": str(error)}


def test_a_kind_the_table_does_not_name_takes_its_nearest_ancestors_status():
    class Stale(Conflict):
        pass

    class Odd(DomainError):
        pass

    assert http_status(Stale("x")) == 409
    assert http_status(Odd("x")) == 400


def test_extra_fields_follow_error_and_detail_in_the_body():
    error = invalid("NUL in the body", code="invalid_character", parameter="manifest")
    assert error.as_dict() == {
        "error": "invalid_character",
        "detail": "NUL in the body",
        "parameter": "manifest",
    }
    assert not_found("Proposal 7").as_dict() == {"error": "not_found", "detail": "Proposal 7 was not found"}
