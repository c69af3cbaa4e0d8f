"""One error type for the API and services: a status, a short code and a sentence for people."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """Raised by services and API code; rendered as ``{"error": code, "detail": text}``."""

    def __init__(self, status: int, code: str, detail: str, *, extra: dict[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.extra = extra or {}

    def as_dict(self) -> dict[str, Any]:
        return {"error": self.code, "detail": self.detail, **self.extra}


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"{what} was not found")


def forbidden(detail: str) -> ApiError:
    return ApiError(403, "forbidden", detail)


def invalid(detail: str, *, code: str = "invalid", status: int = 400, **extra: Any) -> ApiError:
    return ApiError(status, code, detail, extra=extra or None)
