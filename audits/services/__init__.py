"""Writes of audit data: one reported run (API), an uploaded result file, a sync's run_results.

Parsers (``audits.ingest``) turn files into plain results; this package matches them to assets
and guarantees and writes them in one short transaction, as named steps:

- ``reported``: one run reported through the API (``audit_record``);
- ``uploads``: storing an uploaded file and its job row;
- ``ingestion``: the outline of a file's ingestion (parse → match → link → write → report);
- ``matching``: which asset and guarantee each check belongs to;
- ``writing``: the runs, their check rows and the failure events, in one transaction;
- ``release``: publishing what the publish gate held, once an audit lets it.

A failed audit records an ``audit.failed`` event for the workflow's webhooks; consumer teams get
one digest a day (``audits.tasks``).
"""

from __future__ import annotations

from audits.services.ingestion import audit_ingest_results, audit_ingest_run_results
from audits.services.outcome import IngestSummary
from audits.services.release import audit_release_held
from audits.services.reported import audit_payload_problems, audit_record
from audits.services.uploads import result_file_precheck, result_upload_create, result_upload_submit

__all__ = [
    "IngestSummary",
    "audit_ingest_results",
    "audit_ingest_run_results",
    "audit_payload_problems",
    "audit_record",
    "audit_release_held",
    "result_file_precheck",
    "result_upload_create",
    "result_upload_submit",
]
