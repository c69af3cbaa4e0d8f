"""Domain errors: what a service refuses and why, as a short code and a sentence for people.

They carry no HTTP status: services and selectors are called by the API, the dashboard views,
tasks, the admin and management commands alike. The web adapters turn them into HTTP in one
place each, from one table (tessera_site.lib.http_errors): the API's exception handler
(tessera_site/api.py) renders ``{"error": code, "detail": text, **extra}``; the dashboard views
show the sentence with the same status.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refusal: ``code`` for programs, ``detail`` for people, ``extra`` fields for both."""

    default_code = "error"

    def __init__(self, detail: str, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.code = code or self.default_code
        self.detail = detail
        self.extra = extra

    def as_dict(self) -> dict[str, Any]:
        return {"error": self.code, "detail": self.detail, **self.extra}


class InvalidInput(DomainError):
    """The input cannot be used: malformed, missing, or naming something that does not exist."""

    default_code = "invalid"


class Unprocessable(InvalidInput):
    """The input is read but not acceptable as it is: a value out of range, a file of the wrong kind."""


class TooLarge(InvalidInput):
    """The input is larger than the service takes."""

    default_code = "too_large"


class Unauthenticated(DomainError):
    """Nobody (or nobody valid) is asking: no key, an unknown, revoked or expired key."""

    default_code = "unauthorized"


class PermissionDenied(DomainError):
    """The caller is known but may not do this (another team's asset, a missing scope)."""

    default_code = "forbidden"


class NotFound(DomainError):
    default_code = "not_found"


class Conflict(DomainError):
    """The request is fine but the state does not allow it now (a closed proposal, a retired asset)."""

    default_code = "conflict"


def not_found(what: str) -> NotFound:
    return NotFound(f"{what} was not found")


def forbidden(detail: str) -> PermissionDenied:
    return PermissionDenied(detail)


def invalid(detail: str, *, code: str = "invalid", **extra: Any) -> InvalidInput:
    return InvalidInput(detail, code=code, **extra)
