"""Ingesting a result file, as named steps: parse → match to assets → link to guarantees → write
runs → report. For an uploaded file (the task body) and for the run_results a sync brought."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError
from django.utils import timezone

from audits.ingest import CheckOutcome, ParsedResults, ResultFileError, parse_results
from audits.models import ResultUpload
from audits.selectors import asset_find_by_ref
from audits.services.builds import match_builds
from audits.services.matching import AssetChecks, match_by_table, match_dbt
from audits.services.outcome import IngestSummary
from audits.services.reporters import Reporter, reporter_for_actor, reporter_for_upload
from audits.services.writing import write_runs
from contracts.models import Asset, SyncRun
from tessera_site.lib.jobs import JobStatus, job_fail, job_stage, job_succeed

if TYPE_CHECKING:
    from tessera_site.lib.auth import Actor


def _match(
    parsed: ParsedResults, summary: IngestSummary, *, hint: Asset | None, project: str
) -> dict[int, AssetChecks]:
    if parsed.format != "dbt":
        return match_by_table(parsed, summary, hint)
    grouped = match_dbt(parsed, summary, hint=hint, project=project)
    match_builds(parsed, grouped, project=project)
    return grouped


def _place_abort(parsed: ParsedResults, grouped: dict[int, AssetChecks], hint: Asset | None) -> None:
    """An aborted scan is an error, never an empty success: an errored run on the asset when one
    is known (the checks' own, or ``asset=``), else the upload fails with the tool's reason."""
    if not parsed.aborted or grouped:
        return
    if hint is None:
        raise ResultFileError(
            f"{parsed.aborted} Nothing was recorded: give asset= to record it as an errored run."
        )
    scan = CheckOutcome(
        name=f"{parsed.tool} scan", status="error", check_type="scan", message=parsed.aborted[:2000]
    )
    grouped[hint.pk] = AssetChecks(asset=hint, checks=[(scan, None)])


def ingest(
    *,
    parsed: ParsedResults,
    reporter: Reporter,
    hint: Asset | None,
    upload: ResultUpload | None,
    actor: Actor | None,
    triggered_by: str,
    project: str = "",
) -> IngestSummary:
    """parse (done) → match checks to assets and guarantees → builds → aborts → write → report."""
    summary = IngestSummary(
        format=parsed.format, tool=parsed.tool, run_id=parsed.run_id, partial=parsed.partial,
        warnings=list(parsed.warnings), run_kind=parsed.run_kind, not_counted=list(parsed.not_counted),
    )  # fmt: skip
    grouped = _match(parsed, summary, hint=hint, project=project)
    _place_abort(parsed, grouped, hint)
    snapshot = (list(summary.unmatched), list(summary.duplicates))
    write: dict[str, Any] = {
        "parsed": parsed, "grouped": grouped, "summary": summary, "reporter": reporter, "upload": upload,
        "actor": actor, "triggered_by": triggered_by,
    }  # fmt: skip
    try:
        write_runs(**write)
    except IntegrityError:
        # The same run ingested at the same moment by another worker won the race (unique run_id per
        # asset and tool): its runs are duplicates now, so write what is left once more.
        summary.unmatched[:], summary.duplicates[:] = snapshot
        summary.runs.clear()
        write_runs(**write)
    return summary


def _refusal_fields(exc: ResultFileError) -> dict[str, Any]:
    """What a refused file still tells its uploader (its kind of run, what was not counted)."""
    if not exc.summary:
        return {}
    return {"format": exc.summary.get("format", ""), "summary": exc.summary}


def _succeed(upload_id: int, summary: IngestSummary) -> None:
    job_succeed(
        ResultUpload,
        upload_id,
        format=summary.format,
        summary=summary.as_dict(),
        unmatched=summary.unmatched,
        warnings=summary.warnings,
    )


def audit_ingest_results(*, upload_id: int) -> IngestSummary | None:
    """Body of the ingestion task for a claimed (running) upload: parse, match, write, and put the
    outcome on the job row. A file that cannot be parsed fails the job with the reason and writes
    nothing else."""
    upload = ResultUpload.objects.select_related("user", "team").get(pk=upload_id)
    if upload.status != JobStatus.RUNNING:
        return None
    try:
        job_stage(ResultUpload, upload.pk, "parsing", 10)
        with upload.file.open("rb") as handle:
            parsed = parse_results(handle.read(), upload.requested_format or None)
        hint = asset_find_by_ref(ref=upload.asset_hint) if upload.asset_hint else None
        if upload.asset_hint and hint is None:
            raise ResultFileError(f"Asset {upload.asset_hint!r} given with the upload was not found.")
        job_stage(ResultUpload, upload.pk, "matching", 40)
        summary = ingest(
            parsed=parsed, reporter=reporter_for_upload(upload), hint=hint, upload=upload, actor=None,
            triggered_by="upload",
        )  # fmt: skip
    except ResultFileError as exc:
        job_fail(ResultUpload, upload.pk, str(exc), **_refusal_fields(exc))
        return None
    except Exception as exc:  # the row must not stay "running" forever; the worker logs the traceback
        job_fail(ResultUpload, upload.pk, f"Ingestion failed unexpectedly: {exc.__class__.__name__}: {exc}")
        raise
    _succeed(upload.pk, summary)
    return summary


def _sync_upload_row(*, sync_run: SyncRun, run_results: bytes, actor: Actor) -> ResultUpload:
    """The run_results of a sync kept as an upload row, so its outcome shows like any upload's."""
    return ResultUpload.objects.create(
        file=sync_run.run_results.name,
        original_name="run_results.json",
        size_bytes=len(run_results),
        sha256=hashlib.sha256(run_results).hexdigest(),
        requested_format="dbt",
        team=actor.team,
        api_key=actor.api_key,
        user=actor.user if getattr(actor.user, "pk", None) else None,
        actor_label=actor.label[:200],
        is_open_actor=actor.is_open,
        sync_run=sync_run,
        status=JobStatus.RUNNING,
        started_at=timezone.now(),
    )


def audit_ingest_run_results(
    *, run_results: bytes | None = None, actor: Actor | None = None, sync_run: SyncRun | None = None
) -> IngestSummary:
    """A dbt run_results.json that came with a synced manifest: tests → guarantees → runs.

    Called by the sync after its commit, with just ``sync_run`` (the file and the actor are the
    sync's). The outcome is kept as a ResultUpload row linked to the sync, so unmatched tests are
    visible like any upload's. Raises ResultFileError for a file that is not a run_results.json.
    """
    upload: ResultUpload | None = None
    if sync_run is not None:
        if actor is None:  # the sync passes who submitted it (audits does not import the sync)
            raise ValueError("audit_ingest_run_results(sync_run=...) needs the sync's actor")
        if run_results is None:
            with sync_run.run_results.open("rb") as handle:
                run_results = handle.read()
        upload = _sync_upload_row(sync_run=sync_run, run_results=run_results, actor=actor)
    if run_results is None:
        raise ResultFileError("No run_results.json was given.")
    try:
        parsed = parse_results(run_results, "dbt")
    except ResultFileError as exc:
        if upload is not None:
            job_fail(ResultUpload, upload.pk, str(exc), **_refusal_fields(exc))
        raise
    summary = ingest(
        parsed=parsed, reporter=reporter_for_actor(actor), hint=None, upload=upload, actor=actor,
        triggered_by=f"sync #{sync_run.pk}" if sync_run is not None else "sync",
        project=sync_run.project.name if sync_run is not None and sync_run.project is not None else "",
    )  # fmt: skip
    if upload is not None:
        _succeed(upload.pk, summary)
    return summary
