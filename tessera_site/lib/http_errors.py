"""Where a domain error (tessera_site.lib.errors) becomes HTTP: the one table of statuses, used
by the API's exception handler (tessera_site/api.py) and by the dashboard views."""

from __future__ import annotations

from tessera_site.lib.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    TooLarge,
    Unauthenticated,
    Unprocessable,
)

HTTP_STATUS: dict[type[DomainError], int] = {
    InvalidInput: 400,
    Unauthenticated: 401,
    PermissionDenied: 403,
    NotFound: 404,
    Conflict: 409,
    TooLarge: 413,
    Unprocessable: 422,
}


def http_status(exc: DomainError) -> int:
    """The status of ``exc``'s nearest kind in the table (400 for a kind it does not name)."""
    for kind in type(exc).__mro__:
        if kind in HTTP_STATUS:
            return HTTP_STATUS[kind]  # type: ignore[index]
    return 400
