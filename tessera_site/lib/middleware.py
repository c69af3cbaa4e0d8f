"""The edge of the site: bad input and unreachable dependencies answered before they become a 500.

- A NUL character (U+0000) in the path, a query parameter or a JSON body is refused with a 400
  naming the parameter: PostgreSQL cannot store it, and the error would surface as a 500.
- Under ``/api/`` every error is JSON ``{error, detail}``, whoever produced it (Django's own 404,
  405 or 400 pages included), so a client never has to parse HTML.
- An unreachable database answers 503 (JSON under ``/api/``, a plain page elsewhere) instead of a
  traceback; ``server_error`` does the same for failures outside views (``handler500``).
"""

from __future__ import annotations

import html
import logging
import sys
from collections.abc import Callable

import orjson
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.urls import Resolver404, resolve

from tessera_site.lib.validation import has_nul, json_nul_location

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"
DATABASE_ERRORS = (OperationalError, InterfaceError)
_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "too_large",
    415: "unsupported_media_type",
    500: "server_error",
    503: "unavailable",
}
_TITLES = {400: "Bad request", 413: "Too large", 500: "Server error", 503: "Service unavailable"}
DB_DOWN_DETAIL = "The database is unreachable; nothing was changed. Try again in a moment."
PLAIN_PAGE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>'
    "<body><h1>{title}</h1><p>{detail}</p></body></html>"
)


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def json_error(status: int, code: str, detail: str, **extra: object) -> HttpResponse:
    body = orjson.dumps({"error": code, "detail": detail, **extra})
    return HttpResponse(body, status=status, content_type="application/json")


def plain_error(status: int, title: str, detail: str) -> HttpResponse:
    """A page that needs no template, session or database: it must render when they are down."""
    page = PLAIN_PAGE.format(title=html.escape(title), detail=html.escape(detail))
    return HttpResponse(page, status=status, content_type="text/html; charset=utf-8")


def error_for(request: HttpRequest, status: int, code: str, detail: str, **extra: object) -> HttpResponse:
    if is_api(request):
        return json_error(status, code, detail, **extra)
    return plain_error(status, _TITLES.get(status, "Error"), detail)


def response_for_exception(request: HttpRequest, exc: BaseException) -> HttpResponse | None:
    """The 4xx/503 answer for an exception the edge understands, else None (a real bug)."""
    if isinstance(exc, DATABASE_ERRORS):
        logger.warning("database unreachable on %s %s: %s", request.method, request.path, exc)
        return error_for(request, 503, "database_unavailable", DB_DOWN_DETAIL)
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return error_for(
            request,
            413,
            "too_large",
            f"The request body is larger than {limit:,} bytes (TESSERA_MAX_UPLOAD_BYTES).",
        )
    if isinstance(exc, MultiPartParserError):
        return error_for(request, 400, "bad_multipart", f"The multipart body cannot be read: {exc}")
    return None


def _path_parameter(request: HttpRequest) -> str:
    """The name of the URL parameter holding a NUL, or "path" when no route names it."""
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return "path"
    for name, value in match.kwargs.items():
        if isinstance(value, str) and has_nul(value):
            return name
    return "path"


def _streams_body(request: HttpRequest) -> bool:
    """Whether the view streams its body to disk and checks it itself (``lib.uploads``): reading
    ``request.body`` here would hold the whole upload in memory."""
    try:
        view_name = resolve(request.path_info).view_name
    except Resolver404:
        return False
    return view_name in settings.TESSERA_STREAMED_BODY_VIEWS


def nul_refusal(request: HttpRequest) -> HttpResponse | None:
    """A 400 naming the first parameter (path, query or JSON body) that holds a NUL character."""
    where = None
    if has_nul(request.path_info):
        where = ("path parameter", _path_parameter(request))
    else:
        for key, values in request.GET.lists():
            if has_nul(key) or any(has_nul(v) for v in values):
                where = ("query parameter", key.replace("\x00", "\\u0000"))
                break
    json_body = is_api(request) and request.method in _BODY_METHODS
    json_body = json_body and not (request.content_type or "").startswith("multipart/")
    if where is None and json_body and not _streams_body(request):
        location = json_nul_location(request.body)
        if location is not None:
            where = ("body field", location)
    if where is None:
        return None
    kind, name = where
    return error_for(
        request,
        400,
        "invalid_character",
        f"The {kind} '{name}' contains a NUL character (U+0000), which Tessera cannot store.",
        parameter=name,
    )


class EdgeMiddleware:
    """Placed first: refuses NUL input, turns API errors into JSON, answers 503 for a lost database."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            refused = nul_refusal(request)
        except (RequestDataTooBig, MultiPartParserError) as exc:
            refused = response_for_exception(request, exc)
        if refused is not None:
            return refused
        response = self.get_response(request)
        if is_api(request) and response.status_code >= 400 and not _is_json(response):
            return _as_json(request, response)
        return response

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        return response_for_exception(request, exc)


def _is_json(response: HttpResponse) -> bool:
    return (response.get("Content-Type") or "").startswith("application/json")


def _as_json(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    status = response.status_code
    code = _CODES.get(status, "error")
    if status == 404:
        detail = f"There is no API endpoint at {request.path}: see /api/v1/docs."
    elif status == 405:
        allowed = response.get("Allow", "")
        detail = f"{request.method} is not allowed on {request.path}" + (
            f" (allowed: {allowed})." if allowed else "."
        )
    else:
        detail = getattr(response, "reason_phrase", "") or code
    converted = json_error(status, code, detail)
    for header in ("Allow", "Retry-After"):
        if header in response:
            converted[header] = response[header]
    return converted


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: a lost database (raised outside a view) is a 503, not a traceback."""
    exc = sys.exc_info()[1]
    answer = response_for_exception(request, exc) if exc is not None else None
    if answer is not None:
        return answer
    return error_for(request, 500, "server_error", "Something went wrong on our side; it has been logged.")


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """``handler400``: also reached by an oversized body read outside a view."""
    if exception is not None:
        answer = response_for_exception(request, exception)
        if answer is not None:
            return answer
    return error_for(request, 400, "bad_request", "Bad request: the request cannot be read.")
