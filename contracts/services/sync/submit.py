"""Submitting a sync, in the request: cheap checks (size, that the body looks like a dbt manifest
of a supported schema version, the caller's right to the team and project), storage through
Django's default storage, the SyncRun row, and the task enqueued on commit.
"""

from __future__ import annotations

import hashlib
import re
import uuid

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from contracts.ingest.catalog import parse_catalog
from contracts.ingest.errors import ManifestError
from contracts.ingest.manifest import SUPPORTED_SCHEMA_VERSIONS, load_manifest_json
from contracts.models import Project, SyncRun, Team
from contracts.services.sync.owners import sync_authority_refusal
from contracts.task_refs import SYNC_RUN
from tessera_site.lib.auth import Actor
from tessera_site.lib.enqueue import enqueue_on_commit
from tessera_site.lib.errors import InvalidInput, PermissionDenied, TooLarge, Unprocessable
from tessera_site.lib.uploads import file_blocks, read_all, upload_nul_location

# Bodies up to this size are fully decoded in the request (exact "not JSON" errors for free);
# larger ones are checked by their head only, so the web process never holds a 600 MB tree.
FULL_CHECK_BYTES = 8 * 1024 * 1024
HEAD_BYTES = 64 * 1024
_SCHEMA_IN_HEAD = re.compile(rb'"dbt_schema_version"\s*:\s*"([^"]*)"')
_SCHEMA_URL = re.compile(r"/dbt/([a-z_-]+)/v(\d+)\.json$")


def _size_of(upload: bytes | UploadedFile) -> int:
    return len(upload) if isinstance(upload, bytes | bytearray) else int(upload.size or 0)


def _head_of(upload: bytes | UploadedFile, n: int) -> bytes:
    if isinstance(upload, bytes | bytearray):
        return bytes(upload[:n])
    upload.seek(0)
    head = upload.read(n)
    upload.seek(0)
    return head


def _refuse_nul(upload: bytes | UploadedFile | None, *, label: str) -> None:
    """PostgreSQL cannot store NUL (U+0000): refuse it now, not as a database error in the worker.
    A file is read in blocks, never whole."""
    where = upload_nul_location(upload) if upload is not None else None
    if where is not None:
        raise InvalidInput(
            f"The {label} holds a NUL character (U+0000) at {where}, which Tessera cannot store.",
            code="invalid_character",
            parameter=label,
        )


def _all_bytes(upload: bytes | UploadedFile) -> bytes:
    """The whole content: only for uploads up to FULL_CHECK_BYTES."""
    return bytes(upload) if isinstance(upload, bytes | bytearray) else read_all(upload)


def manifest_refusal(exc: ManifestError) -> InvalidInput:
    """A parser's refusal as a domain error: not a manifest (of a version we read) is unprocessable,
    anything else (not JSON, a broken node) is invalid input."""
    if exc.code in ("not_a_manifest", "unsupported_schema_version"):
        return Unprocessable(exc.detail, code=exc.code)
    return InvalidInput(exc.detail, code=exc.code)


def manifest_precheck(upload: bytes | UploadedFile) -> None:
    """Reject a body that is too big, not JSON, not a manifest or of an unsupported version.

    Raises InvalidInput (or TooLarge, Unprocessable) before anything is written. Large bodies are judged by their head:
    the manifest's ``metadata`` block comes first in every dbt version; a large body whose tail
    is corrupt then fails in the task, with the same message, and still writes nothing.
    """
    size = _size_of(upload)
    limit = settings.TESSERA_MAX_UPLOAD_BYTES
    if size > limit:
        raise TooLarge(
            f"The manifest is {size:,} bytes; the limit is {limit:,} bytes (TESSERA_MAX_UPLOAD_BYTES)."
        )
    if size <= FULL_CHECK_BYTES:
        try:
            load_manifest_json(_all_bytes(upload))
        except ManifestError as exc:
            raise manifest_refusal(exc) from None
        return
    head = _head_of(upload, HEAD_BYTES)
    if not head.lstrip()[:1] == b"{":
        raise InvalidInput("The manifest is not valid JSON: it does not start with '{'.", code="invalid_json")
    match = _SCHEMA_IN_HEAD.search(head)
    if match is None:
        raise Unprocessable(
            "This JSON is not a dbt manifest: metadata.dbt_schema_version is missing. "
            "Send target/manifest.json as written by dbt parse/build.",
            code="not_a_manifest",
        )
    url = match.group(1).decode("utf-8", "replace")
    parts = _SCHEMA_URL.search(url)
    if parts is None or parts.group(1) != "manifest":
        raise Unprocessable(
            f"This is not a dbt manifest ({url}). Send target/manifest.json.", code="not_a_manifest"
        )
    if int(parts.group(2)) not in SUPPORTED_SCHEMA_VERSIONS:
        raise Unprocessable(
            f"Manifest schema v{parts.group(2)} is not supported; supported are "
            f"v{SUPPORTED_SCHEMA_VERSIONS[0]}–v{SUPPORTED_SCHEMA_VERSIONS[-1]} (dbt 1.0 to 1.11).",
            code="unsupported_schema_version",
        )


def _sha256(upload: bytes | UploadedFile) -> str:
    digest = hashlib.sha256()
    for block in file_blocks(upload):
        digest.update(block)
    return digest.hexdigest()


def _as_file(upload: bytes | UploadedFile) -> File:
    # A temporary upload is moved into the storage (FileSystemStorage renames it), not copied.
    return ContentFile(upload) if isinstance(upload, bytes | bytearray) else upload


def _catalog_precheck(catalog: bytes | UploadedFile) -> None:
    """A catalog is fully read here up to FULL_CHECK_BYTES; a larger one by its head (the worker
    reads it whole and fails the run with the same message if its tail is broken)."""
    if _size_of(catalog) <= FULL_CHECK_BYTES:
        try:
            parse_catalog(_all_bytes(catalog))
        except ManifestError as exc:
            raise InvalidInput(exc.detail, code=exc.code) from None
        return
    head = _head_of(catalog, HEAD_BYTES)
    if head.lstrip()[:1] != b"{":
        raise InvalidInput(
            "The catalog is not valid JSON: it does not start with '{'.", code="invalid_catalog"
        )
    match = _SCHEMA_IN_HEAD.search(head)
    if match is not None and b"/catalog/" not in match.group(1):
        url = match.group(1).decode("utf-8", "replace")
        raise InvalidInput(f"The catalog field holds another dbt artifact ({url}).", code="invalid_catalog")


def team_for_slug(slug: str | None) -> Team | None:
    """The team named by ``?team=``; an unknown slug is a 4xx, never a silent fallback."""
    if not slug:
        return None
    team = Team.objects.filter(slug=slug.strip()).first()
    if team is None:
        raise InvalidInput(
            f"Team '{slug}' does not exist (create it in the admin first).", code="unknown_team"
        )
    return team


_PROJECT_IN_HEAD = re.compile(rb'"project_name"\s*:\s*"([^"]*)"')


def _require_project_owner(upload: bytes | UploadedFile, actor: Actor) -> None:
    """A claimed project is synced by a key of its owner team, or an admin key (the worker checks
    again: see the owners step)."""
    match = _PROJECT_IN_HEAD.search(_head_of(upload, HEAD_BYTES))
    if match is None:
        return
    project = (
        Project.objects.select_related("owner_team")
        .filter(name=match.group(1).decode("utf-8", "replace"))
        .first()
    )
    refusal = sync_authority_refusal(project=project, actor=actor)
    if refusal is not None:
        raise PermissionDenied(refusal)


def sync_submit(
    *,
    manifest: bytes | UploadedFile,
    run_results: bytes | UploadedFile | None = None,
    catalog: bytes | UploadedFile | None = None,
    team_slug: str | None,
    actor: Actor,
    mode: str = SyncRun.Mode.SYNC,
) -> SyncRun:
    """Check and store an upload, create its SyncRun and enqueue the sync on commit."""
    actor.require_scope("write")
    manifest_precheck(manifest)
    for label, upload in (("manifest", manifest), ("run_results", run_results), ("catalog", catalog)):
        _refuse_nul(upload, label=label)
    team = team_for_slug(team_slug)
    if team is not None and not actor.is_admin:
        actor.require_team(team)
    _require_project_owner(manifest, actor)
    limit = settings.TESSERA_MAX_UPLOAD_BYTES
    for label, extra in (("run_results", run_results), ("catalog", catalog)):
        if extra is not None and _size_of(extra) > limit:
            raise TooLarge(f"The {label} file is larger than {limit:,} bytes.")
    if catalog is not None:
        _catalog_precheck(catalog)

    stamp = uuid.uuid4().hex
    run = SyncRun(
        mode=mode,
        team=team,
        api_key=actor.api_key,
        user=actor.user if getattr(actor.user, "is_authenticated", False) else None,
        actor_label=actor.label,
        is_open_actor=actor.is_open,
        manifest_sha256=_sha256(manifest),
        manifest_bytes=_size_of(manifest),
    )
    # Files go through the storage API (not a local temp path) so a worker on another host reads them.
    run.manifest.save(f"{stamp}-manifest.json", _as_file(manifest), save=False)
    if run_results is not None:
        run.run_results.save(f"{stamp}-run_results.json", _as_file(run_results), save=False)
    if catalog is not None:
        run.catalog.save(f"{stamp}-catalog.json", _as_file(catalog), save=False)
    with transaction.atomic():
        run.save()
        enqueue_on_commit(SYNC_RUN, run.pk)
    return run
