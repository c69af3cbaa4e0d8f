"""The JSON API under /api/v1 (django-ninja: typed schemas, OpenAPI at /api/v1/docs)."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.pagination import paginate
from ninja.renderers import BaseRenderer

from contracts.api.access import ApiKeyAuth
from tessera_site.lib.errors import DomainError
from tessera_site.lib.http_errors import http_status
from tessera_site.lib.middleware import response_for_exception
from tessera_site.lib.pagination import EventPages

logger = logging.getLogger(__name__)


class OrjsonRenderer(BaseRenderer):
    media_type = "application/json"

    def render(self, request: HttpRequest, data: object, *, response_status: int) -> bytes:
        import orjson

        return orjson.dumps(data, default=str, option=orjson.OPT_NON_STR_KEYS)


api = NinjaAPI(
    title="Tessera API",
    version="1",
    urls_namespace="api",
    auth=ApiKeyAuth(),
    renderer=OrjsonRenderer(),
    docs_url="/docs",
)


def _error(request: HttpRequest, status: int, code: str, detail: str, **extra: object) -> HttpResponse:
    return api.create_response(request, {"error": code, "detail": detail, **extra}, status=status)


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    """Every refusal of a service, selector or endpoint: ``{error, detail, **extra}`` with its status."""
    return api.create_response(request, exc.as_dict(), status=http_status(exc))


@api.exception_handler(AuthenticationError)
def _auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "unauthorized", "An API key is required: 'Authorization: Bearer <api key>'")


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return _error(request, 422, "validation_error", "The request is not valid", errors=exc.errors)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _error(request, exc.status_code, "error", str(exc))


# A lost database (503), an oversized body (413) or an unreadable multipart body (400), raised
# while an endpoint runs: the edge's answer, rendered as JSON by the API.
@api.exception_handler(DatabaseError)
@api.exception_handler(RequestDataTooBig)
@api.exception_handler(MultiPartParserError)
def _edge_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    answer = response_for_exception(request, exc)
    if answer is None:  # a DatabaseError that is not about reachability: a real bug, keep the 500
        raise exc
    return answer


class HealthOut(Schema):
    status: str
    version: str
    database: str
    broker: str


@api.get("/health", auth=None, response={200: HealthOut, 503: HealthOut}, tags=["meta"])
def health(request: HttpRequest):
    """Database and broker reachable, and the version."""
    db_state = "ok"
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # any driver error means "not reachable"
        db_state = f"error: {exc.__class__.__name__}"
    broker_state = "in-process" if settings.CELERY_TASK_ALWAYS_EAGER else "ok"
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        from tessera_site.celery import app

        try:
            with app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=2)
        except Exception as exc:  # kombu raises transport-specific errors
            broker_state = f"error: {exc.__class__.__name__}"
    ok = db_state == "ok" and broker_state in ("ok", "in-process")
    body = {
        "status": "ok" if ok else "degraded",
        "version": settings.VERSION,
        "database": db_state,
        "broker": broker_state,
    }
    return (200 if ok else 503), body


class TeamOut(Schema):
    slug: str
    name: str
    email: str
    is_active: bool


@api.get("/teams", response=list[TeamOut], tags=["teams"])
def teams_list(request: HttpRequest):
    request.auth.require_scope("read")
    from contracts.models import Team

    return list(Team.objects.order_by("slug"))


class WhoamiOut(Schema):
    actor: str
    team: str | None
    scopes: list[str]
    open: bool


@api.get("/whoami", response=WhoamiOut, tags=["meta"])
def whoami(request: HttpRequest):
    """The calling key's team and scopes (useful to check a CI key)."""
    actor = request.auth
    return {
        "actor": actor.label,
        "team": actor.team.slug if actor.team else None,
        "scopes": list(actor.scopes),
        "open": actor.is_open,
    }


class EventOut(Schema):
    id: int
    kind: str
    created_at: str
    actor: str
    team: str | None
    asset: str | None
    asset_id: int | None
    proposal_id: int | None
    sync_run_id: int | None
    payload: dict

    @staticmethod
    def resolve_created_at(event: Any) -> str:
        return event.created_at.isoformat()

    @staticmethod
    def resolve_actor(event: Any) -> str:
        return event.actor_label

    @staticmethod
    def resolve_team(event: Any) -> str | None:
        return event.team.slug if event.team else None

    @staticmethod
    def resolve_asset(event: Any) -> str | None:
        return event.asset.relation if event.asset else None


@api.get("/events", response=list[EventOut], tags=["audit log"])
@paginate(EventPages)
def events_list(request: HttpRequest, kind: str = "", team: str = "", asset: str = ""):
    """The append-only audit log, newest first. ``kind`` = ``proposal`` (every proposal.* event)
    or an exact kind; ``asset`` = id or part of a relation; paginated (``page``, ``per_page``)."""
    request.auth.require_scope("read")
    from contracts.selectors.access import reader_for_actor
    from contracts.selectors.dashboard import events_query

    return events_query(reader=reader_for_actor(request.auth), kind=kind, team=team, asset=asset)


from audits.api import router as audits_router  # noqa: E402
from contracts.api.assets import router as assets_router  # noqa: E402
from contracts.api.column_usage import router as column_usage_router  # noqa: E402
from contracts.api.deprecations import router as deprecations_router  # noqa: E402
from contracts.api.lineage import router as lineage_router  # noqa: E402
from contracts.api.notifications import router as notifications_router  # noqa: E402
from contracts.api.ownership import router as ownership_router  # noqa: E402
from contracts.api.proposals import router as workflow_router  # noqa: E402
from contracts.api.registrations import router as registrations_router  # noqa: E402
from contracts.api.sync import router as sync_router  # noqa: E402
from contracts.api.teams import router as teams_router  # noqa: E402

api.add_router("", sync_router)
api.add_router("", assets_router)
api.add_router("", column_usage_router)
api.add_router("", deprecations_router)
api.add_router("", lineage_router)
api.add_router("", registrations_router)
api.add_router("", teams_router)
api.add_router("", notifications_router)
api.add_router("", workflow_router)
api.add_router("", ownership_router)
api.add_router("", audits_router)
