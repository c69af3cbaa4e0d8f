"""dbt ingestion endpoints: sync a manifest, poll a sync, dry-run a pull request's manifest.

``POST /sync/dbt`` takes the raw manifest as the body (``curl -H "Content-Type: application/json"
-d @target/manifest.json``) or a multipart upload with ``manifest`` and optional ``run_results``
and ``catalog`` files. Views stay thin: read the upload, call one service, shape the reply.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest
from django.urls import reverse
from ninja import Field, Router, Schema

from contracts.models import SyncRun
from tessera_site.lib.errors import InvalidInput, not_found
from tessera_site.lib.jobs import job_wait
from tessera_site.lib.uploads import body_upload, content_length, too_large, upload_refusal

router = Router(tags=["sync"])


# Output schemas: the JSON the endpoints always returned, field for field and in the same order.
class SyncAcceptedOut(Schema):
    sync_id: int
    status: str
    status_url: str


class SyncOut(Schema):
    sync_id: int
    status: str
    stage: str
    progress: int = Field(description="0-100")
    status_url: str
    project: str | None
    team: str | None
    actor: str
    manifest_bytes: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_seconds: float | None
    summary: dict[str, Any] = Field(description="Counts, changes, proposals, held versions (when done)")
    warnings: list[Any]
    error: str


class SyncFailedOut(SyncOut):
    """``error`` is ``sync_failed``; ``detail`` says why."""

    detail: str


class CheckOut(Schema):
    project: str | None
    project_known: bool
    may_merge: bool
    blocking: list[str] = Field(description="Relations whose change still waits for an acknowledgment")
    counts: dict[str, int] = Field(
        description="changed, breaking, awaiting_acknowledgment, added, removed, moved, refused, references"
    )
    changes: list[dict[str, Any]] = Field(description="Per changed asset: verdict, required teams, answers")
    added: list[dict[str, Any]]
    removed: list[dict[str, Any]]
    warnings: list[str]
    refused: list[dict[str, Any]] = Field(
        description="Nodes a sync of this manifest by this key would refuse"
    )
    references: list[dict[str, Any]] = Field(
        description="Other projects' models this manifest reads (cross-project refs), as the sync resolves them"
    )
    access_changes: list[dict[str, Any]] = Field(
        description="Public models this manifest makes protected or private while other projects read them, "
        "with the teams asked, their answers to the sync's proposal and acknowledged (else blocking)"
    )


def _uploads(request: HttpRequest) -> tuple[UploadedFile, UploadedFile | None, UploadedFile | None]:
    """The manifest (and optional run_results / catalog) from a raw body or a multipart form,
    never held whole in memory: a raw body is streamed to a temporary file (``lib.uploads``),
    multipart files go through Django's upload handlers; both are refused past the limit while
    they stream. The caller closes them (``_close``)."""
    limit = settings.TESSERA_MAX_UPLOAD_BYTES
    length = content_length(request)
    multipart = (request.content_type or "").startswith("multipart/form-data")
    # Refuse before reading the body (a multipart form may carry a little framing over the limit;
    # its files are checked one by one while they stream).
    if length > limit + (1024 * 1024 if multipart else 0):
        raise too_large("upload", limit, length)
    if multipart:
        files = request.FILES
        refusal = upload_refusal(request)
        if refusal is not None:
            raise refusal
        manifest = files.get("manifest")
        if manifest is None:
            raise InvalidInput("The multipart upload has no 'manifest' file field.", code="missing_manifest")
        return manifest, files.get("run_results"), files.get("catalog")
    return _streamed_body(request, limit), None, None


def _empty_body() -> InvalidInput:
    return InvalidInput(
        "The body is empty: send target/manifest.json (-d @target/manifest.json).", code="empty_body"
    )


def _streamed_body(request: HttpRequest, limit: int) -> UploadedFile:
    # The edge middleware leaves a streamed body unread: its NUL check is made by body_upload.
    body = body_upload(request, limit=limit, name="manifest.json")
    if not body.size:
        body.close()
        raise _empty_body()
    return body


def _close(*uploads: UploadedFile | None) -> None:
    for upload in uploads:
        if upload is not None:
            upload.close()  # a temporary file is deleted; one moved into the storage is left there


def _status_url(request: HttpRequest, run: SyncRun) -> str:
    return request.build_absolute_uri(reverse("api:sync_status", args=[run.pk]))


def sync_payload(request: HttpRequest, run: SyncRun) -> dict[str, Any]:
    return {
        "sync_id": run.pk,
        "status": run.status,
        "stage": run.stage,
        "progress": run.progress,
        "status_url": _status_url(request, run),
        "project": run.project.name if run.project_id else None,
        "team": run.team.slug if run.team_id else None,
        "actor": run.actor_label,
        "manifest_bytes": run.manifest_bytes,
        "created_at": run.created_at,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "duration_seconds": run.duration_seconds,
        "summary": run.summary,
        "warnings": run.warnings,
        "error": run.error,
    }


@router.post(
    "/sync/dbt", response={200: SyncOut, 202: SyncAcceptedOut, 422: SyncFailedOut}, url_name="sync_dbt"
)
def sync_dbt(request: HttpRequest, team: str | None = None, wait: bool = False):
    """Sync a dbt manifest: 202 with a status URL (or, with ``?wait=true``, the finished summary)."""
    from contracts.services.sync import sync_submit

    request.auth.require_scope("write")
    # Streamed (named in TESSERA_STREAMED_BODY_VIEWS): the body goes to disk, then to the storage.
    manifest, run_results, catalog = _uploads(request)
    try:
        run = sync_submit(
            manifest=manifest, run_results=run_results, catalog=catalog, team_slug=team, actor=request.auth
        )
    finally:
        _close(manifest, run_results, catalog)
    if wait:
        job_wait(run, seconds=settings.TESSERA_SYNC_WAIT_SECONDS)
        if run.status == "failed":
            return 422, {**sync_payload(request, run), "error": "sync_failed", "detail": run.error}
        if run.is_done:
            return 200, sync_payload(request, run)
    run.refresh_from_db(fields=["status"])  # without a broker (the demo) the task already ran
    return 202, {"sync_id": run.pk, "status": run.status, "status_url": _status_url(request, run)}


@router.get("/syncs/{sync_id}", response=SyncOut, url_name="sync_status")
def sync_status(request: HttpRequest, sync_id: int):
    """A sync's status, summary (counts, changes, proposals) and warnings."""
    request.auth.require_scope("read")
    run = SyncRun.objects.select_related("project", "team").filter(pk=sync_id).first()
    if run is None:
        raise not_found(f"Sync {sync_id}")
    return sync_payload(request, run)


# The check reads its body itself (raw JSON or multipart), so its OpenAPI request body is declared here.
_CHECK_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"type": "object", "description": "target/manifest.json, as dbt wrote it"}
            },
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["manifest"],
                    "properties": {
                        "manifest": {
                            "type": "string",
                            "format": "binary",
                            "description": "target/manifest.json",
                        },
                        "catalog": {
                            "type": "string",
                            "format": "binary",
                            "description": "target/catalog.json (dbt docs generate): warehouse column types",
                        },
                    },
                }
            },
        },
    }
}


@router.post("/sync/dbt/check", response=CheckOut, openapi_extra=_CHECK_BODY, url_name="sync_dbt_check")
def sync_dbt_check(request: HttpRequest, open_proposals: bool = False):
    """Dry run for CI: per changed asset the verdict, the teams that must acknowledge, and may_merge.

    Send the manifest as the raw body, or multipart with ``manifest`` and an optional ``catalog``
    (its warehouse types fill in the declared ones). Relations the manifest no longer builds are
    judged too (``removed``; moved ones carry ``relation_change``)."""
    from contracts.services.sync.check import sync_check

    # Streamed like the sync (named in TESSERA_STREAMED_BODY_VIEWS): the manifest is decoded from
    # the temporary file, mapped (contracts.ingest.manifest_decode), never read into bytes.
    manifest, run_results, catalog = _uploads(request)
    try:
        return sync_check(
            manifest=manifest, catalog=catalog, actor=request.auth, open_proposals=open_proposals
        )
    finally:
        _close(manifest, run_results, catalog)
