"""Storing an uploaded result file and its job row (for the API and the dashboard form).

The file arrives as an upload spooled to disk (the API's raw body, a multipart file) or as bytes
(the tests, small callers). It is checked and hashed in blocks and moved into the storage, never
read whole in the web process: run_results.json of a large dbt project runs to 100 MB and more.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import orjson
from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from audits.ingest import ResultFileError, detect_document_format, detect_format, normalize_format
from audits.ingest.outline import document_outline, json_check
from audits.models import ResultUpload
from audits.selectors import asset_find_by_ref
from audits.task_refs import INGEST_RESULT_UPLOAD
from tessera_site.lib.enqueue import enqueue_on_commit
from tessera_site.lib.errors import InvalidInput, NotFound, TooLarge
from tessera_site.lib.uploads import file_blocks, read_all, upload_nul_location

if TYPE_CHECKING:
    from tessera_site.lib.auth import Actor

# Files up to this size are decoded whole for the check (orjson's exact messages); larger ones are
# read in one streamed pass that checks the JSON and outlines its top (audits.ingest.outline).
FULL_CHECK_BYTES = 8 * 1024 * 1024

Content = bytes | UploadedFile


def _size(content: Content) -> int:
    return len(content) if isinstance(content, bytes | bytearray) else int(content.size or 0)


def result_file_precheck(content: Content, format: str | None) -> None:  # noqa: A002
    """Refuse before the 202 what the worker would refuse: not JSON, NUL characters (PostgreSQL
    cannot store them), or a document of no known format. Detection reads the top level only."""
    where = upload_nul_location(content)
    if where is not None:
        raise InvalidInput(
            f"The result file holds a NUL character (U+0000) at {where}.", code="invalid_character"
        )
    try:
        if isinstance(content, bytes | bytearray) or _size(content) <= FULL_CHECK_BYTES:
            _check_whole(content if isinstance(content, bytes | bytearray) else read_all(content), format)
        else:
            _check_streamed(content, format)
    except ResultFileError as exc:
        raise InvalidInput(str(exc), code="invalid_result_file") from None


def _check_whole(data: bytes, format: str | None) -> None:  # noqa: A002
    try:
        if format:  # the named format's parser judges the document in the worker
            orjson.loads(data)
        else:
            detect_format(data)
    except orjson.JSONDecodeError as exc:
        raise ResultFileError(f"The file is not valid JSON ({exc}).") from None


def _check_streamed(upload: UploadedFile, format: str | None) -> None:  # noqa: A002
    upload.seek(0)
    try:
        if format:  # the named format's parser judges the document in the worker: JSON is enough
            json_check(upload)
        else:
            detect_document_format(document_outline(upload))
    finally:
        upload.seek(0)


def result_upload_create(
    *,
    content: Content,
    filename: str,
    actor: Actor,
    format: str | None = None,  # noqa: A002
    asset_ref: str | None = None,
) -> ResultUpload:
    """Store an uploaded result file (Django storage, so any worker can read it) and its job row.
    A temporary upload is moved into the storage, not copied. The caller enqueues
    ``audits.tasks.ingest_result_upload`` on commit."""
    size = _size(content)
    if not size:
        raise InvalidInput("The uploaded file is empty.", code="empty_file")
    if size > settings.TESSERA_MAX_UPLOAD_BYTES:  # bytes callers; uploads stopped while streaming
        raise TooLarge(f"The file is larger than {settings.TESSERA_MAX_UPLOAD_BYTES} bytes.")
    try:
        requested = normalize_format(format)
    except ResultFileError as exc:
        raise InvalidInput(str(exc), code="unknown_format") from None
    asset_ref = (asset_ref or "").strip()
    if asset_ref and asset_find_by_ref(ref=asset_ref) is None:
        raise NotFound(f"Asset {asset_ref!r} was not found.")
    digest = hashlib.sha256()
    for block in file_blocks(content):
        digest.update(block)
    upload = ResultUpload(
        original_name=(filename or "results.json")[:300],
        size_bytes=size,
        sha256=digest.hexdigest(),
        requested_format=requested or "",
        asset_hint=asset_ref[:500],
        team=actor.team,
        api_key=actor.api_key,
        user=actor.user if getattr(actor.user, "pk", None) else None,
        actor_label=actor.label[:200],
        is_open_actor=actor.is_open,
    )
    upload.file.save(f"{upload.sha256[:16]}.json", _as_file(content), save=False)
    upload.save()
    return upload


def _as_file(content: Content) -> File:
    return ContentFile(content) if isinstance(content, bytes | bytearray) else content


def result_upload_submit(
    *,
    content: Content,
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
