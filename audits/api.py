"""Audit API: report a run, upload result files, read history, ask the publish gate.

``asset_id`` in a path is an asset id, a relation name (``core.main.dim_customers``) or a dbt
unique_id, as everywhere else in the API.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest
from ninja import Field, Router, Schema

from audits.models import AuditRun, CheckResult, ResultUpload
from audits.selectors import (
    asset_consumer_team_ids,
    asset_find_by_ref,
    audit_run_checks,
    audit_runs_for_asset,
    audit_trend,
    guarantee_pass_rates,
    most_failing_checks,
    publish_gate,
)
from audits.services import audit_record, result_file_precheck, result_upload_submit
from contracts.models import Asset
from contracts.selectors.access import asset_audits_readable, reader_for_actor, result_upload_readable
from tessera_site.lib.auth import Actor
from tessera_site.lib.errors import InvalidInput, NotFound, PermissionDenied
from tessera_site.lib.jobs import JobStatus, job_wait
from tessera_site.lib.uploads import body_upload, upload_refusal
from tessera_site.lib.urls import absolute_url
from tessera_site.lib.validation import Count, RowCount

router = Router(tags=["audits"])


# --- schemas ----------------------------------------------------------------------------------
class CheckResultIn(Schema):
    guarantee: str | None = Field(
        None, max_length=500, description="Guarantee: test unique_id, name or kind(column)"
    )
    check: str | None = Field(
        None, max_length=500, description="Name of a check that is not a known guarantee"
    )
    # The demo README writes passed/failed; pass/fail (the file formats' words) are accepted too.
    status: Literal["passed", "pass", "failed", "fail", "warn", "warning", "error", "skipped"]
    failing_rows: RowCount | None = None
    message: str | None = Field(None, max_length=10_000)
    column: str | None = Field(None, max_length=300)


class AuditResultsIn(Schema):
    status: Literal["passed", "failed", "partial", "error"]
    triggered_by: str = Field("api", max_length=100)
    guarantees_checked: Count
    guarantees_passed: Count
    guarantees_failed: Count
    run_id: str | None = Field(None, max_length=255)
    run_at: datetime | None = None
    results: list[CheckResultIn] = Field(default_factory=list, max_length=100_000)
    details: dict[str, Any] = Field(default_factory=dict)


class CheckResultOut(Schema):
    name: str
    status: str
    column: str
    guarantee_id: int | None
    failing_rows: int | None
    message: str


class AuditRunOut(Schema):
    id: int
    asset_id: int
    asset: str
    tool: str
    triggered_by: str
    run_id: str
    status: str
    checked: int
    passed: int
    failed: int
    warned: int
    errored: int
    skipped: int
    unchecked: list[str]
    contract_version: str | None
    run_at: datetime
    created_at: datetime
    upload_id: int | None
    checks: list[CheckResultOut] | None = None


class UploadOut(Schema):
    id: int
    status: str
    stage: str
    error: str
    format: str
    requested_format: str
    asset_hint: str
    original_name: str
    status_url: str
    summary: dict[str, Any]
    unmatched: list[dict[str, Any]]
    warnings: list[str]
    created_at: datetime
    finished_at: datetime | None


class UploadFailedOut(UploadOut):
    detail: str


class ErrorOut(Schema):
    error: str
    detail: str


class InconsistentAuditOut(ErrorOut):
    reasons: list[str]


class AssetAuditsOut(Schema):
    asset_id: int
    asset: str
    runs: list[AuditRunOut]
    trend: list[dict[str, Any]] = Field(description="Per day: runs, checks, passed, pass_rate")
    checks: list[dict[str, Any]] = Field(description="Per check: results, passed, pass_rate")
    most_failing: list[dict[str, Any]]


class GuaranteeStateOut(Schema):
    guarantee: str
    key: str
    severity: str
    status: str = Field(description="pass / fail / warn / error / skipped / unchecked")
    checked_at: datetime | None
    message: str
    audit_run_id: int | None
    run_id: str
    tool: str
    run_kind: str
    executed: bool


class PublishGateOut(Schema):
    decision: str = Field(description="publish or hold")
    reasons: list[str]
    asset_id: int | None
    version: str | None
    version_status: str | None
    latest_run: dict[str, Any] | None
    latest_build: dict[str, Any] | None
    max_age_hours: int | None
    guarantees: list[GuaranteeStateOut]
    asset: str
    requires_passing_audit: bool


# --- helpers --------------------------------------------------------------------------------
def _asset_or_404(ref: str) -> Asset:
    asset = asset_find_by_ref(ref=ref)
    if asset is None:
        raise NotFound(f"Asset {ref!r} was not found (use an id, a relation name or a dbt unique_id).")
    return asset


def _require_owner_or_consumer(actor: Actor, asset: Asset, *, doing: str) -> None:
    """The asset's owner team and its consumer teams may report and read its audits."""
    if actor.is_open or actor.can_act_for(asset.owner_team):
        return
    consumer_ids = asset_consumer_team_ids(asset=asset)
    teams = [t for t in (actor.team, *actor.teams) if t is not None]
    if any(t.pk in consumer_ids for t in teams):
        return
    raise PermissionDenied(
        f"{actor.label} may not {doing} {asset.relation}: only its owner team and consumer teams may."
    )


def _run_out(run: AuditRun, checks: list[CheckResult] | None = None) -> dict[str, Any]:
    return {
        "id": run.pk,
        "asset_id": run.asset_id,
        "asset": run.asset.relation,
        "tool": run.tool,
        "triggered_by": run.triggered_by,
        "run_id": run.run_id,
        "status": run.status,
        **run.counts,
        "contract_version": run.contract_version.semver
        if run.contract_version_id and run.contract_version
        else None,
        "run_at": run.run_at,
        "created_at": run.created_at,
        "upload_id": run.upload_id,
        "checks": None
        if checks is None
        else [
            {
                "name": c.name,
                "status": c.status,
                "column": c.column,
                "guarantee_id": c.guarantee_id,
                "failing_rows": c.failing_rows,
                "message": c.message,
            }
            for c in checks
        ],
    }


def _upload_out(upload: ResultUpload) -> dict[str, Any]:
    return {
        "id": upload.pk,
        "status": upload.status,
        "stage": upload.stage,
        "error": upload.error,
        "format": upload.format,
        "requested_format": upload.requested_format,
        "asset_hint": upload.asset_hint,
        "original_name": upload.original_name,
        "status_url": absolute_url(f"/api/v1/audit-uploads/{upload.pk}"),
        "summary": upload.summary,
        "unmatched": upload.unmatched,
        "warnings": upload.warnings,
        "created_at": upload.created_at,
        "finished_at": upload.finished_at,
    }


# --- endpoints --------------------------------------------------------------------------------
@router.post(
    "/assets/{asset_id}/audit-results",
    response={200: AuditRunOut, 201: AuditRunOut, 403: ErrorOut, 404: ErrorOut, 422: InconsistentAuditOut},
    url_name="audit_results_post",
)
def audit_results_post(request: HttpRequest, asset_id: str, payload: AuditResultsIn):
    """Record one audit run (the demo README's "generic WAP integration"). The same ``run_id``
    again answers 200 with the first run; inconsistent counts answer 422 with the reasons."""
    actor: Actor = request.auth
    actor.require_scope("write")
    asset = _asset_or_404(asset_id)
    _require_owner_or_consumer(actor, asset, doing="report audit results for")
    data = payload.dict()
    run, created = audit_record(asset=asset, payload=data, actor=actor)
    checks = audit_run_checks(run_ids=[run.pk])[run.pk]
    return (201 if created else 200), _run_out(run, checks)


# The upload reads its body itself (multipart, or the raw file streamed to disk): declared here.
# File/Form parameters would make ninja read request.POST, which for a raw body sent as a form
# (curl --data-binary without a Content-Type) holds the whole body in memory.
_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": "The result file"},
                        "format": {
                            "type": "string",
                            "description": "dbt, gx, soda or generic (else detected)",
                        },
                        "asset": {"type": "string", "description": "The asset the results are about"},
                    },
                }
            },
            "application/json": {
                "schema": {"type": "object", "description": "The result file itself (with ?format=&asset=)"}
            },
        },
    }
}


@router.post(
    "/audit-results/upload",
    response={
        200: UploadOut,
        202: UploadOut,
        400: ErrorOut,
        404: ErrorOut,
        413: ErrorOut,
        422: UploadFailedOut,
    },
    url_name="audit_results_upload",
    openapi_extra=_UPLOAD_BODY,
)
def audit_results_upload(
    request: HttpRequest,
    format: str | None = None,  # noqa: A002 - the documented field name
    asset: str | None = None,
    wait: bool = False,
):
    """Upload a result file (dbt run_results.json, Great Expectations validation or checkpoint
    result, Soda scan result, or tessera.audit-results/v1): multipart ``file`` (with optional
    ``format`` and ``asset`` fields), or the raw file as the body (``?format=&asset=``). Parsed in
    the background: 202 with a ``status_url``; with ``?wait=true`` the reply waits for the outcome."""
    actor: Actor = request.auth
    actor.require_scope("write")
    content, filename, format, asset = _upload_of(request, format=format, asset=asset)
    try:
        upload = _submit(actor, content, filename=filename, format=format, asset=asset)
    finally:
        content.close()  # a temporary file is deleted; one moved into the storage is left there
    if wait and job_wait(upload, seconds=settings.TESSERA_SYNC_WAIT_SECONDS):
        if upload.status == JobStatus.FAILED:  # like the sync: a refused file is a 4xx for CI
            return 422, {**_upload_out(upload), "detail": upload.error}
        return 200, _upload_out(upload)
    upload.refresh_from_db()
    return 202, _upload_out(upload)


def _upload_of(
    request: HttpRequest,
    *,
    format: str | None,  # noqa: A002 - the documented field name
    asset: str | None,
) -> tuple[UploadedFile, str, str | None, str | None]:
    """The file, its name, and the format and asset (form fields before query parameters)."""
    if not (request.content_type or "").startswith("multipart/"):
        # Streamed (named in TESSERA_STREAMED_BODY_VIEWS): to a temporary file, never request.body.
        body = body_upload(request, limit=settings.TESSERA_MAX_UPLOAD_BYTES, name="results.json")
        return body, "results.json", format, asset
    file = request.FILES.get("file")
    refusal = upload_refusal(request)  # a file past the size limit was dropped while it streamed
    if refusal is not None:
        raise refusal
    if file is None:
        raise InvalidInput("Send the result file in the multipart field 'file'.", code="missing_file")
    return file, file.name or "", request.POST.get("format") or format, request.POST.get("asset") or asset


def _submit(
    actor: Actor,
    content: UploadedFile,
    *,
    filename: str,
    format: str | None,  # noqa: A002 - the documented field name
    asset: str | None,
) -> ResultUpload:
    if asset:
        hint = asset_find_by_ref(ref=asset)
        if hint is not None:
            _require_owner_or_consumer(actor, hint, doing="report audit results for")
    result_file_precheck(content, format)
    return result_upload_submit(
        content=content, filename=filename, actor=actor, format=format, asset_ref=asset
    )


@router.get(
    "/audit-uploads/{upload_id}", response={200: UploadOut, 404: ErrorOut}, url_name="audit_upload_get"
)
def audit_upload_get(request: HttpRequest, upload_id: int):
    actor: Actor = request.auth
    actor.require_scope("read")
    upload = ResultUpload.objects.filter(pk=upload_id).select_related("team").first()
    # A team's uploads are its own business: a stranger gets the same 404 as a missing upload.
    if upload is None or not result_upload_readable(reader=reader_for_actor(actor), upload=upload):
        raise NotFound(f"Upload {upload_id} was not found.")
    return 200, _upload_out(upload)


@router.get(
    "/assets/{asset_id}/audits",
    response={200: AssetAuditsOut, 403: ErrorOut, 404: ErrorOut},
    url_name="asset_audits",
)
def asset_audits(request: HttpRequest, asset_id: str, limit: int = 20, days: int = 30, checks: bool = False):
    """Audit history: recent runs (with their checks when ``checks=true``), pass rate per day,
    pass rate per check and the checks failing most."""
    actor: Actor = request.auth
    actor.require_scope("read")
    asset = _asset_or_404(asset_id)
    if not asset_audits_readable(reader=reader_for_actor(actor), asset=asset):
        raise PermissionDenied(
            f"{actor.label} may not read the audits of {asset.relation}: only its owner team and consumer teams may."
        )
    limit = max(1, min(limit, 200))
    days = max(1, min(days, 366))
    runs = list(audit_runs_for_asset(asset=asset, limit=limit))
    for run in runs:
        run.asset = asset
    grouped = audit_run_checks(run_ids=[r.pk for r in runs]) if checks else {}
    return 200, {
        "asset_id": asset.pk,
        "asset": asset.relation,
        "runs": [_run_out(r, grouped.get(r.pk) if checks else None) for r in runs],
        "trend": audit_trend(asset=asset, days=days),
        "checks": guarantee_pass_rates(asset=asset),
        "most_failing": most_failing_checks(asset=asset, limit=10),
    }


@router.get(
    "/assets/{asset_id}/publish-gate",
    response={200: PublishGateOut, 404: ErrorOut},
    url_name="asset_publish_gate",
)
def asset_publish_gate(request: HttpRequest, asset_id: str, version: str | None = None):
    """``publish`` or ``hold`` with reasons, for the active contract (or ``version=proposed``)."""
    actor: Actor = request.auth
    actor.require_scope("read")
    asset = _asset_or_404(asset_id)
    if version not in (None, "", "active", "proposed"):
        raise InvalidInput("version must be 'active' or 'proposed'.")
    result = publish_gate(asset=asset, version=version)
    return 200, {
        **result.as_dict(),
        "asset": asset.relation,
        "requires_passing_audit": asset.requires_passing_audit,
    }
