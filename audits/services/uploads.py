"""Storing an uploaded result file and its job row (for the API and the dashboard form)."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction

from audits.ingest import ResultFileError, normalize_format
from audits.models import ResultUpload
from audits.selectors import asset_find_by_ref
from audits.task_refs import INGEST_RESULT_UPLOAD
from tessera_site.lib.enqueue import enqueue_on_commit
from tessera_site.lib.errors import InvalidInput, NotFound, TooLarge

if TYPE_CHECKING:
    from tessera_site.lib.auth import Actor


def result_upload_create(
    *,
    content: bytes,
    filename: str,
    actor: Actor,
    format: str | None = None,  # noqa: A002
    asset_ref: str | None = None,
) -> ResultUpload:
    """Store an uploaded result file (Django storage, so any worker can read it) and its job row.
    The caller enqueues ``audits.tasks.ingest_result_upload`` on commit."""
    if not content:
        raise InvalidInput("The uploaded file is empty.", code="empty_file")
    if len(content) > settings.TESSERA_MAX_UPLOAD_BYTES:
        raise TooLarge(f"The file is larger than {settings.TESSERA_MAX_UPLOAD_BYTES} bytes.")
    try:
        requested = normalize_format(format)
    except ResultFileError as exc:
        raise InvalidInput(str(exc), code="unknown_format") from None
    asset_ref = (asset_ref or "").strip()
    if asset_ref and asset_find_by_ref(ref=asset_ref) is None:
        raise NotFound(f"Asset {asset_ref!r} was not found.")
    upload = ResultUpload(
        original_name=(filename or "results.json")[:300],
        size_bytes=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        requested_format=requested or "",
        asset_hint=asset_ref[:500],
        team=actor.team,
        api_key=actor.api_key,
        user=actor.user if getattr(actor.user, "pk", None) else None,
        actor_label=actor.label[:200],
        is_open_actor=actor.is_open,
    )
    upload.file.save(f"{upload.sha256[:16]}.json", ContentFile(content), save=False)
    upload.save()
    return upload


def result_upload_submit(
    *,
    content: bytes,
    filename: str,
    actor: Actor,
    format: str | None = None,  # noqa: A002
    asset_ref: str | None = None,
) -> ResultUpload:
    """Store the file and enqueue its ingestion once the row is committed (API and dashboard form)."""

    with transaction.atomic():
        upload = result_upload_create(
            content=content, filename=filename, actor=actor, format=format, asset_ref=asset_ref
        )
        enqueue_on_commit(INGEST_RESULT_UPLOAD, upload.pk)
    return upload
