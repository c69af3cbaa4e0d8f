"""dbt ingestion (SPEC §4): store an uploaded manifest, then turn it into assets and contracts.

``sync_submit`` runs in the request: cheap checks (size, that the body looks like a dbt
manifest of a supported schema version), storage through Django's default storage, the
SyncRun row, and the task enqueued on commit. ``sync_execute`` is the task body.

How the sync stays fast on 5,000-model manifests (SPEC §12): the manifest is parsed once, in
one pass; everything the sync needs from the database is read in a handful of queries after
the project lock is taken; an asset whose contract hash equals ``Asset.content_hash`` is
unchanged and its versions are never loaded; every write is a bulk statement. Only changed
assets cost a diff. The whole write happens in one transaction, so a failing sync leaves
nothing half-written, and the ``SELECT ... FOR UPDATE`` on the project row makes concurrent
syncs of one project run one after the other (the second then finds nothing to do).
"""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from audits.selectors import publish_allowed
from contracts.compat.verdict import Verdict, bump_version, evaluate
from contracts.domain import DEFAULT_MODE, AssetSpec, ParsedManifest
from contracts.ingest.catalog import parse_catalog
from contracts.ingest.errors import ManifestError
from contracts.ingest.manifest import (
    SUPPORTED_SCHEMA_VERSIONS,
    gc_paused,
    load_manifest_json,
    parse_manifest_document,
)
from contracts.models import (
    Asset,
    AssetNode,
    ContractVersion,
    Event,
    LineageEdge,
    Project,
    Proposal,
    Registration,
    SyncRun,
    Team,
)
from contracts.services.column_usage import column_usage_enqueue
from contracts.services.events import events_record_bulk
from contracts.services.versions import (
    BULK_BATCH,
    guarantees_insert,
    held_versions,
    held_versions_reject,
    published_event,
    rows_insert,
    version_build,
    version_spec,
    versions_insert,
)
from tessera_site.lib.auth import Actor
from tessera_site.lib.errors import ApiError
from tessera_site.lib.jobs import JobStatus, job_stage

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

logger = logging.getLogger(__name__)

# Bodies up to this size are fully decoded in the request (exact "not JSON" errors for free);
# larger ones are checked by their head only, so the web process never holds a 600 MB tree.
FULL_CHECK_BYTES = 8 * 1024 * 1024
HEAD_BYTES = 64 * 1024
SLUG_RE = re.compile(r"^[-a-zA-Z0-9_]+$")
MAX_WARNINGS = 200
MAX_LISTED = 100
_SCHEMA_IN_HEAD = re.compile(rb'"dbt_schema_version"\s*:\s*"([^"]*)"')
_SCHEMA_URL = re.compile(r"/dbt/([a-z_-]+)/v(\d+)\.json$")


# --- submit (in the request) ---------------------------------------------------------------------
def _size_of(upload: bytes | UploadedFile) -> int:
    return len(upload) if isinstance(upload, bytes | bytearray) else int(upload.size or 0)


def _head_of(upload: bytes | UploadedFile, n: int) -> bytes:
    if isinstance(upload, bytes | bytearray):
        return bytes(upload[:n])
    upload.seek(0)
    head = upload.read(n)
    upload.seek(0)
    return head


def _all_bytes(upload: bytes | UploadedFile) -> bytes:
    if isinstance(upload, bytes | bytearray):
        return bytes(upload)
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    return data


def _manifest_error(exc: ManifestError) -> ApiError:
    status = 422 if exc.code in ("not_a_manifest", "unsupported_schema_version") else 400
    return ApiError(status, exc.code, exc.detail)


def manifest_precheck(upload: bytes | UploadedFile) -> None:
    """Reject a body that is too big, not JSON, not a manifest or of an unsupported version.

    Raises ApiError (4xx) before anything is written. Large bodies are judged by their head:
    the manifest's ``metadata`` block comes first in every dbt version; a large body whose tail
    is corrupt then fails in the task, with the same message, and still writes nothing.
    """
    size = _size_of(upload)
    limit = settings.TESSERA_MAX_UPLOAD_BYTES
    if size > limit:
        raise ApiError(
            413,
            "too_large",
            f"The manifest is {size:,} bytes; the limit is {limit:,} bytes (TESSERA_MAX_UPLOAD_BYTES).",
        )
    if size <= FULL_CHECK_BYTES:
        try:
            load_manifest_json(_all_bytes(upload))
        except ManifestError as exc:
            raise _manifest_error(exc) from None
        return
    head = _head_of(upload, HEAD_BYTES)
    if not head.lstrip()[:1] == b"{":
        raise ApiError(400, "invalid_json", "The manifest is not valid JSON: it does not start with '{'.")
    match = _SCHEMA_IN_HEAD.search(head)
    if match is None:
        raise ApiError(
            422,
            "not_a_manifest",
            "This JSON is not a dbt manifest: metadata.dbt_schema_version is missing. "
            "Send target/manifest.json as written by dbt parse/build.",
        )
    url = match.group(1).decode("utf-8", "replace")
    parts = _SCHEMA_URL.search(url)
    if parts is None or parts.group(1) != "manifest":
        raise ApiError(
            422, "not_a_manifest", f"This is not a dbt manifest ({url}). Send target/manifest.json."
        )
    if int(parts.group(2)) not in SUPPORTED_SCHEMA_VERSIONS:
        raise ApiError(
            422,
            "unsupported_schema_version",
            f"Manifest schema v{parts.group(2)} is not supported; supported are "
            f"v{SUPPORTED_SCHEMA_VERSIONS[0]}–v{SUPPORTED_SCHEMA_VERSIONS[-1]} (dbt 1.0 to 1.11).",
        )


def _sha256(upload: bytes | UploadedFile) -> str:
    if isinstance(upload, bytes | bytearray):
        return hashlib.sha256(upload).hexdigest()
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def _as_file(upload: bytes | UploadedFile) -> File:
    return ContentFile(bytes(upload)) if isinstance(upload, bytes | bytearray) else upload


def team_for_slug(slug: str | None) -> Team | None:
    """The team named by ``?team=``; an unknown slug is a 4xx, never a silent fallback."""
    if not slug:
        return None
    team = Team.objects.filter(slug=slug.strip()).first()
    if team is None:
        raise ApiError(400, "unknown_team", f"Team '{slug}' does not exist (create it in the admin first).")
    return team


_PROJECT_IN_HEAD = re.compile(rb'"project_name"\s*:\s*"([^"]*)"')


def _require_project_owner(upload: bytes | UploadedFile, actor: Actor) -> None:
    """A key may sync a project only for the team that owns it (once it has an owner)."""
    match = _PROJECT_IN_HEAD.search(_head_of(upload, HEAD_BYTES))
    if match is None:
        return
    project = (
        Project.objects.select_related("owner_team")
        .filter(name=match.group(1).decode("utf-8", "replace"))
        .first()
    )
    if project is not None and project.owner_team is not None and not actor.can_act_for(project.owner_team):
        raise ApiError(
            403,
            "forbidden",
            f"Project '{project.name}' belongs to team '{project.owner_team.slug}'; "
            f"{actor.label} may not sync it.",
        )


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
    team = team_for_slug(team_slug)
    if team is not None:
        actor.require_team(team)
    _require_project_owner(manifest, actor)
    limit = settings.TESSERA_MAX_UPLOAD_BYTES
    for label, extra in (("run_results", run_results), ("catalog", catalog)):
        if extra is not None and _size_of(extra) > limit:
            raise ApiError(413, "too_large", f"The {label} file is larger than {limit:,} bytes.")
    if catalog is not None:
        try:
            parse_catalog(_all_bytes(catalog))
        except ManifestError as exc:
            raise ApiError(400, exc.code, exc.detail) from None

    stamp = uuid.uuid4().hex
    run = SyncRun(
        mode=mode,
        team=team,
        api_key=actor.api_key,
        user=actor.user if getattr(actor.user, "is_authenticated", False) else None,
        actor_label=actor.label,
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
        from contracts.tasks.sync import sync_run_task

        transaction.on_commit(lambda: sync_run_task.delay(run.pk))
    return run


# --- execute (the task body) -----------------------------------------------------------------------
@dataclass
class _Outcome:
    """What one sync did, for the summary and the tests."""

    created: list[str] = field(default_factory=list)
    unchanged: int = 0
    published: list[dict[str, Any]] = field(default_factory=list)
    proposals: list[dict[str, Any]] = field(default_factory=list)
    held: list[dict[str, Any]] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    reactivated: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    registrations_added: int = 0
    registrations_removed: int = 0
    edges_added: int = 0
    edges_removed: int = 0
    nodes_linked: int = 0
    teams_created: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def warn(self, text: str) -> None:
        self.warnings.append(text)

    def summary(self, *, parsed: ParsedManifest, project: Project, assets_total: int) -> dict[str, Any]:
        bumps = Counter(p["bump"] for p in self.published)
        return {
            "project": project.name,
            "schema_version": parsed.schema_version,
            "dbt_version": parsed.dbt_version,
            "nodes": len(parsed.assets),
            "assets": assets_total,
            "created": len(self.created),
            "unchanged": self.unchanged,
            "published": len(self.published),
            "published_by_bump": dict(bumps),
            "proposals_opened": sum(1 for p in self.proposals if p["new"]),
            "proposals_pending": sum(1 for p in self.proposals if not p["new"]),
            "held": len(self.held),
            "retired": len(self.retired),
            "reactivated": len(self.reactivated),
            "skipped": len(self.skipped),
            "registrations_added": self.registrations_added,
            "registrations_removed": self.registrations_removed,
            "lineage_edges_added": self.edges_added,
            "lineage_edges_removed": self.edges_removed,
            "cross_project_links": self.nodes_linked,
            "teams_created": self.teams_created,
            "changes": [p for p in self.published if p["bump"] != "initial"][:MAX_LISTED],
            "proposals": self.proposals[:MAX_LISTED],
            "held_versions": self.held[:MAX_LISTED],
            "retired_assets": self.retired[:MAX_LISTED],
            "warnings": len(self.warnings),
        }

    def warnings_list(self) -> list[str]:
        if len(self.warnings) <= MAX_WARNINGS:
            return list(self.warnings)
        return self.warnings[:MAX_WARNINGS] + [f"... and {len(self.warnings) - MAX_WARNINGS} more warnings"]


def actor_for_run(run: SyncRun) -> Actor:
    """The actor who submitted a run, rebuilt in the worker (which has no request)."""
    user: AbstractBaseUser | None = run.user
    return Actor(
        label=run.actor_label or "system",
        team=run.api_key.team if run.api_key_id else None,
        api_key=run.api_key,
        user=user,
        scopes=("read", "write"),
    )


def _read_field(field_file: Any) -> bytes | None:
    if not field_file:
        return None
    with field_file.open("rb") as handle:
        return handle.read()


def _parse_run(run: SyncRun) -> ParsedManifest:
    """Parse the stored manifest, holding at most one decoded copy at a time."""
    catalog_bytes = _read_field(run.catalog)
    catalog_columns = parse_catalog(catalog_bytes) if catalog_bytes else None
    del catalog_bytes
    doc = load_manifest_json(_read_field(run.manifest) or b"")
    parsed = parse_manifest_document(doc, catalog_columns=catalog_columns, consume=True)
    del doc  # drop the decoded tree before the database work: it is the biggest thing in memory
    return parsed


def sync_execute(*, sync_run_id: int) -> None:
    """Run one sync (the Celery task body). Raises on failure; the task records the error."""
    run = SyncRun.objects.select_related("team", "api_key__team", "user").get(pk=sync_run_id)
    job_stage(SyncRun, run.pk, "parsing", 10)
    # The whole job builds large short-lived object graphs; the collector's passes over them
    # cost more than the work (see gc_paused). It runs again, as usual, once the job is done.
    with gc_paused():
        parsed = _parse_run(run)
        job_stage(SyncRun, run.pk, "writing", 50)
        sync_apply(parsed=parsed, run=run, actor=actor_for_run(run))


def specs_by_relation(
    parsed: ParsedManifest, *, warn: Any = None
) -> tuple[dict[str, AssetSpec], dict[str, str]]:
    """One spec per relation (the producing node wins over sources of the same relation), and
    every node's relation. A source naming a relation produced in the same manifest is an alias."""
    by_relation: dict[str, AssetSpec] = {}
    node_relation: dict[str, str] = {}
    for spec in parsed.assets:
        relation = spec.relation
        node_relation[spec.unique_id] = relation
        current = by_relation.get(relation)
        if current is None:
            by_relation[relation] = spec
        elif current.resource_type == "source" and spec.resource_type != "source":
            by_relation[relation] = spec  # the producing node defines the contract
        elif spec.resource_type != "source" and current.resource_type != "source" and warn is not None:
            warn(f"{spec.unique_id} and {current.unique_id} both write {relation}; kept {current.unique_id}.")
    return by_relation, node_relation


def existing_assets(relations: list[str]) -> dict[str, Asset]:
    found: dict[str, Asset] = {}
    for chunk in _chunks(relations):
        found.update(
            {a.relation: a for a in Asset.objects.filter(relation__in=chunk).select_related("owner_team")}
        )
    return found


def _lock_project(name: str) -> Project:
    try:
        with transaction.atomic():
            Project.objects.get_or_create(name=name)
    except IntegrityError:
        pass  # created by a concurrent sync of the same project a moment ago
    return Project.objects.select_for_update(of=("self",)).select_related("owner_team").get(name=name)


def _chunks(items: list[Any], size: int = 5000) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@transaction.atomic
def sync_apply(*, parsed: ParsedManifest, run: SyncRun, actor: Actor) -> dict[str, Any]:
    """Write what a parsed manifest says into the database (one transaction, project locked)."""
    out = _Outcome(warnings=list(parsed.warnings))
    project = _lock_project(parsed.project_name)
    now = timezone.now()

    # --- teams: one query for every slug the manifest names ----------------------------------
    slugs: set[str] = set()
    for spec in parsed.assets:
        if spec.owner_team:
            slugs.add(spec.owner_team)
        slugs.update(c.team for c in spec.consumers)
    bad = {s for s in slugs if not SLUG_RE.match(s) or len(s) > 100}
    for slug in sorted(bad):
        out.warn(f"'{slug}' is not a valid team slug (letters, digits, '-' and '_'); ignored.")
    slugs -= bad
    teams = {t.slug: t for t in Team.objects.filter(slug__in=slugs)}
    missing = sorted(slugs - teams.keys())
    if missing:
        Team.objects.bulk_create(
            [
                Team(slug=s, name=s.replace("-", " ").replace("_", " ").title(), is_active=False)
                for s in missing
            ],
            ignore_conflicts=True,
        )
        teams.update({t.slug: t for t in Team.objects.filter(slug__in=missing)})
        out.teams_created = missing
        for slug in missing:
            out.warn(
                f"Team '{slug}' was not known: created inactive (no members); add its members in the admin."
            )

    # --- the project's owner: set once, by the first sync that names one ---------------------
    if project.owner_team_id is None:
        named = Counter(
            s.owner_team
            for s in parsed.assets
            if s.owner_team in teams and s.package_name == parsed.project_name
        )
        owner = run.team or actor.team or (teams[named.most_common(1)[0][0]] if named else None)
        if owner is not None:
            project.owner_team = owner
    default_owner = run.team or project.owner_team or actor.team

    # --- identity: one spec per relation; sources of relations produced here are aliases ----------
    by_relation, node_relation = specs_by_relation(parsed, warn=out.warn)

    relations = list(by_relation)
    existing = existing_assets(relations)
    for asset in (
        Asset.objects.filter(project=project)
        .exclude(status=Asset.Status.RETIRED)
        .select_related("owner_team")
    ):
        existing.setdefault(asset.relation, asset)

    relation_asset: dict[str, Asset] = {}  # every relation this manifest names → its asset
    owned: dict[str, tuple[Asset, AssetSpec]] = {}  # assets this sync maintains
    new_assets: list[Asset] = []
    updated: list[Asset] = []
    cross_reads: list[tuple[AssetSpec, Asset]] = []
    readers_before: list[tuple[int, int]] = []  # (adopted asset, the reading team that owned it)
    unowned: list[str] = []
    changed_fields: set[str] = set()

    for relation, spec in by_relation.items():
        asset = existing.get(relation)
        adopted = False
        if (
            asset is not None
            and asset.project_id not in (None, project.pk)
            and asset.resource_type == Asset.Type.SOURCE
            and spec.resource_type != "source"
            and ((teams.get(spec.owner_team) if spec.owner_team else None) or default_owner) is not None
        ):
            # Another project synced first and only *reads* this relation (a source); its producer
            # is here. The asset moves to its producer (the reader stays a lineage consumer), so
            # the order in which projects are synced does not decide who owns what.
            adopted = True
        if asset is not None and asset.project_id not in (None, project.pk) and not adopted:
            relation_asset[relation] = asset
            if spec.resource_type == "source":
                cross_reads.append((spec, asset))  # another project's model, read here
            else:
                out.warn(
                    f"{spec.unique_id} writes {relation}, which belongs to project "
                    f"'{asset.project.name if asset.project else '?'}'; not synced from here."
                )
            continue
        owner = teams.get(spec.owner_team) if spec.owner_team else None
        owner = owner or default_owner
        fields = {
            "unique_id": spec.unique_id,
            "name": spec.name,
            "resource_type": spec.resource_type,
            "package_name": spec.package_name,
            "model_version": spec.version or "",
            "database": spec.database,
            "schema": spec.schema,
            "identifier": spec.identifier,
            "description": spec.description,
            "materialized": spec.materialized,
            "tags": spec.tags,
            "meta": spec.meta,
        }
        if asset is None:
            if owner is None:
                unowned.append(spec.unique_id)
                continue
            asset = Asset(
                relation=relation,
                project=project,
                owner_team=owner,
                compatibility_mode=spec.compatibility_mode or DEFAULT_MODE,
                created_at=now,
                updated_at=now,
                **fields,
            )
            new_assets.append(asset)
        else:
            dirty = False
            for name, value in fields.items():
                if getattr(asset, name) != value:
                    setattr(asset, name, value)
                    changed_fields.add(name)
                    dirty = True
            if asset.project_id is None:
                asset.project = project
                changed_fields.add("project")
                dirty = True
            if adopted and owner is not None:  # always resolvable: checked before adopting
                out.warn(
                    f"{relation} was known as a source read by project '{asset.project.name}' "
                    f"(owner '{asset.owner_team.slug}'); {spec.unique_id} produces it, so it now belongs to "
                    f"project '{project.name}' and team '{owner.slug}'."
                )
                readers_before.append((asset.pk, asset.owner_team_id))
                asset.project = project
                asset.owner_team = owner
                changed_fields.update(("project", "owner_team"))
                dirty = True
            if asset.status == Asset.Status.RETIRED:
                asset.status = Asset.Status.ACTIVE
                asset.retired_at = None
                changed_fields.update(("status", "retired_at"))
                out.reactivated.append(relation)
                dirty = True
            elif owner is not None and owner.pk != asset.owner_team_id and spec.owner_team:
                out.warn(
                    f"{relation} is owned by '{asset.owner_team.slug}'; the manifest names '{owner.slug}'. "
                    "A sync never moves an asset to another team: change the owner in the admin."
                )
            if dirty:
                updated.append(asset)
        spec.contract.mode = spec.compatibility_mode or asset.compatibility_mode or DEFAULT_MODE
        relation_asset[relation] = asset
        owned[relation] = (asset, spec)
    if unowned:
        out.skipped = unowned
        out.warn(
            f"{len(unowned)} node(s) have no owner team (no meta.tessera.owner_team, no ?team=, no project "
            f"owner, no API key team) and were skipped: {', '.join(unowned[:10])}"
            + (" ..." if len(unowned) > 10 else "")
        )
    if new_assets:
        Asset.objects.bulk_create(new_assets, batch_size=BULK_BATCH)
        out.created = [a.relation for a in new_assets]
    if updated:
        Asset.objects.bulk_update(updated, sorted(changed_fields | {"updated_at"}), batch_size=BULK_BATCH)

    # --- contracts: unchanged by hash, else diff and decide -----------------------------------
    candidates: list[tuple[Asset, AssetSpec, str]] = []
    reverted: list[int] = []  # back to the active contract: what the gate held is not deployed any more
    for asset, spec in owned.values():
        content_hash = spec.contract.content_hash()
        if asset.active_version_id is not None and asset.content_hash == content_hash:
            out.unchanged += 1
            if asset.requires_passing_audit:
                reverted.append(asset.pk)
        else:
            candidates.append((asset, spec, content_hash))
    if reverted:
        held_versions_reject(
            version_ids=[v.pk for vs in held_versions(asset_ids=reverted).values() for v in vs]
        )
    pending = _decide_and_write(
        candidates=candidates, run=run, actor=actor, out=out, now=now, adopted={a for a, _ in readers_before}
    )

    # --- asset nodes, registrations, lineage ------------------------------------------------------
    node_asset: dict[str, int] = {}
    for unique_id, relation in node_relation.items():
        asset = relation_asset.get(relation)
        if asset is not None:
            node_asset[unique_id] = asset.pk
    resource_of = {s.unique_id: s.resource_type for s in parsed.assets}
    _write_nodes(project=project, node_asset=node_asset, resource_of=resource_of, out=out)
    _write_registrations(
        project=project, owned=owned, cross_reads=cross_reads, teams=teams, parsed=parsed, out=out,
        node_asset=node_asset, readers_before=readers_before, actor=actor, run=run,
    )  # fmt: skip
    _write_lineage(project=project, parsed=parsed, node_asset=node_asset, out=out)
    _open_proposals(pending=pending, run=run, actor=actor, out=out)

    # --- retire what vanished ----------------------------------------------------------------------
    claimed = {a.pk for a, _ in owned.values()}
    vanished = [
        a
        for a in existing.values()
        if a.project_id == project.pk and a.status == Asset.Status.ACTIVE and a.pk not in claimed
    ]
    events: list[Event] = []
    if vanished:
        Asset.objects.filter(pk__in=[a.pk for a in vanished]).update(
            status=Asset.Status.RETIRED, retired_at=now, updated_at=now
        )
        consumers: dict[int, list[str]] = {}
        for asset_id, slug in Registration.objects.filter(asset__in=vanished).values_list(
            "asset_id", "team__slug"
        ):
            consumers.setdefault(asset_id, []).append(slug)
        for asset in vanished:
            out.retired.append(asset.relation)
            events.append(
                _event(
                    "asset.retired",
                    actor,
                    run,
                    asset=asset,
                    payload={
                        "relation": asset.relation,
                        "consumers": sorted(set(consumers.get(asset.pk, []))),
                    },
                )  # fmt: skip
            )
        _retired_emails_enqueue(run=run, asset_ids=[a.pk for a in vanished if consumers.get(a.pk)])
    for relation in out.reactivated:
        events.append(_event("asset.reactivated", actor, run, asset=relation_asset[relation], payload={}))
    for slug in out.teams_created:
        events.append(
            _event("team.created", actor, run, team=teams[slug], payload={"slug": slug, "active": False})
        )

    project.last_synced_at = now
    project.last_manifest_hash = run.manifest_sha256
    project.save(update_fields=["owner_team", "last_synced_at", "last_manifest_hash"])
    summary = out.summary(parsed=parsed, project=project, assets_total=len(owned))
    events.append(
        _event(
            "sync.completed",
            actor,
            run,
            team=project.owner_team,
            payload={k: v for k, v in summary.items() if isinstance(v, int)} | {"project": project.name},
        )  # fmt: skip
    )
    events_record_bulk(events)
    SyncRun.objects.filter(pk=run.pk).update(
        status=JobStatus.SUCCEEDED,
        stage="done",
        progress=100,
        finished_at=timezone.now(),
        project=project,
        summary=summary,
        warnings=out.warnings_list(),
        error="",
    )
    _after_commit_hooks(run=run)
    column_usage_enqueue(sync_run_id=run.pk)  # its own task: it must not slow the sync
    return summary


def _event(kind: str, actor: Actor, run: SyncRun, **kwargs: Any) -> Event:
    return Event(
        kind=kind,
        actor_user=actor.user if getattr(actor.user, "pk", None) else None,
        actor_api_key=actor.api_key,
        actor_label=actor.label,
        sync_run=run,
        **kwargs,
    )


Pending = list[tuple[Asset, AssetSpec, "ContractVersion | None", Verdict]]


def _decide_and_write(
    *,
    candidates: list[tuple[Asset, AssetSpec, str]],
    run: SyncRun,
    actor: Actor,
    out: _Outcome,
    now: Any,
    adopted: set[int],
) -> Pending:
    """Judge every changed asset and write the versions that publish now, in bulk.

    Returns the breaking changes: whether they publish (no consumers) or open a proposal is
    decided by _open_proposals once registrations are written, so consumers declared in this
    very manifest count. Assets just taken over from a reader (``adopted``) publish their
    producer's first contract directly: there was no producer contract to break.
    """
    if not candidates:
        return []
    active_ids = [a.active_version_id for a, _, _ in candidates if a.active_version_id]
    active: dict[int, ContractVersion] = {}
    for chunk in _chunks(active_ids):
        active.update({v.pk: v for v in ContractVersion.objects.filter(pk__in=chunk)})
    transitive_ids = [
        a.pk for a, s, _ in candidates if a.active_version_id and s.contract.mode.endswith("_transitive")
    ]
    history: dict[int, list[tuple[str, Any]]] = {}
    if transitive_ids:
        for version in ContractVersion.objects.filter(
            asset_id__in=transitive_ids, status=ContractVersion.Status.SUPERSEDED
        ).order_by("id"):
            history.setdefault(version.asset_id, []).append((version.semver, version_spec(version)))

    # Assets that require a passing audit: what a previous sync held for the gate.
    held = held_versions(asset_ids=[a.pk for a, _, _ in candidates if a.requires_passing_audit])
    stale: list[int] = []
    to_write: list[tuple[ContractVersion, AssetSpec, Asset]] = []
    reused: list[tuple[ContractVersion, AssetSpec, Asset]] = []
    superseded: list[int] = []
    pending: Pending = []
    events: list[Event] = []
    for asset, spec, content_hash in candidates:
        # A held version of other content is no longer what is deployed: it never publishes.
        stale.extend(v.pk for v in held.get(asset.pk, ()) if v.content_hash != content_hash)
        base = active.get(asset.active_version_id) if asset.active_version_id else None
        if base is None:
            verdict = evaluate(old=None, new=spec.contract, mode=spec.contract.mode)
            version = version_build(
                asset=asset, spec=spec.contract, semver=(1, 0, 0), status=ContractVersion.Status.ACTIVE,
                change_kind="initial", verdict=verdict.as_dict(), sync_run=run, content_hash=content_hash,
            )  # fmt: skip
            to_write.append((version, spec, asset))
            continue
        verdict = evaluate(
            old=version_spec(base),
            new=spec.contract,
            mode=spec.contract.mode,
            history=history.get(asset.pk, ()),
        )
        if verdict.breaking and asset.pk not in adopted:
            pending.append((asset, spec, base, verdict))
            continue
        bump = verdict.bump or "patch"  # the hash moved, so something changed even if the diff is silent
        semver = bump_version((base.major, base.minor, base.patch), bump)
        if asset.requires_passing_audit:
            again = _held_again(held, asset=asset, content_hash=content_hash, semver=semver, bump=bump, verdict=verdict, run=run)  # fmt: skip
            if again is not None:
                reused.append((again, spec, asset))
                continue
        else:
            superseded.append(base.pk)
        version = version_build(
            asset=asset, spec=spec.contract, semver=semver, status=_first_status(asset), change_kind=bump,
            verdict=verdict.as_dict(), sync_run=run, content_hash=content_hash,
        )  # fmt: skip
        to_write.append((version, spec, asset))

    held_versions_reject(version_ids=stale)
    if superseded:
        for chunk in _chunks(superseded):
            ContractVersion.objects.filter(pk__in=chunk).update(status=ContractVersion.Status.SUPERSEDED)
    _insert_versions(
        to_write=to_write, reused=reused, now=now, out=out, actor=actor, run=run, active=active, events=events
    )
    events_record_bulk(events)
    return pending


def _first_status(asset: Asset) -> str:
    """A new version of an asset that requires a passing audit is written as proposed; the gate
    judges its own guarantees once their rows exist (_gate_written) and may then activate it."""
    return ContractVersion.Status.PROPOSED if asset.requires_passing_audit else ContractVersion.Status.ACTIVE


def _held_again(
    held: dict[int, list[ContractVersion]],
    *,
    asset: Asset,
    content_hash: str,
    semver: tuple[int, int, int],
    bump: str,
    verdict: Verdict,
    run: SyncRun,
) -> ContractVersion | None:
    """The version an earlier sync held with this very content, restamped against today's active
    version, so that syncing the same deploy again judges it again instead of adding a copy."""
    version = next((v for v in held.get(asset.pk, ()) if v.content_hash == content_hash), None)
    if version is None:
        return None
    version.major, version.minor, version.patch = semver
    version.change_kind = bump
    version.verdict = verdict.as_dict()
    version.sync_run = run
    version.save(update_fields=["major", "minor", "patch", "change_kind", "verdict", "sync_run"])
    return version


def _gate_written(
    *,
    written: list[tuple[ContractVersion, AssetSpec, Asset]],
    active: dict[int, ContractVersion],
    out: _Outcome,
    now: Any,
) -> None:
    """The publish gate's word on each proposed version just written (assets that require a passing
    audit only, so the bulk of a sync pays nothing): publish activates it over the asset's active
    version; hold keeps it proposed, with the reasons in the summary, until an audit releases it
    (contracts.services.versions.version_release_held)."""
    for version, _spec, asset in written:
        if version.status != ContractVersion.Status.PROPOSED:
            continue
        gate = publish_allowed(asset=asset, version=version)
        if gate is not None and not gate.publish:
            out.held.append({"relation": asset.relation, "version": version.semver, "reasons": gate.reasons})
            out.warn(
                f"{asset.relation} v{version.semver} is held by the publish gate: {'; '.join(gate.reasons)}"
            )
            continue
        base = active.get(asset.active_version_id) if asset.active_version_id else None
        if base is not None:
            ContractVersion.objects.filter(pk=base.pk).update(status=ContractVersion.Status.SUPERSEDED)
        version.status = ContractVersion.Status.ACTIVE
        version.published_at = now
        version.save(update_fields=["status", "published_at"])


def _insert_versions(
    *,
    to_write: list[tuple[ContractVersion, AssetSpec, Asset]],
    reused: list[tuple[ContractVersion, AssetSpec, Asset]],
    now: Any,
    out: _Outcome,
    actor: Actor,
    run: SyncRun,
    active: dict[int, ContractVersion],
    events: list[Event],
) -> None:
    if not to_write and not reused:
        return
    versions_insert([v for v, _, _ in to_write])
    guarantees_insert([(v, s.contract) for v, s, _ in to_write])
    written = to_write + reused
    _gate_written(written=written, active=active, out=out, now=now)
    published_ids: list[int] = []
    for version, _spec, asset in written:
        if version.status != ContractVersion.Status.ACTIVE:
            continue
        previous = active.get(asset.active_version_id) if asset.active_version_id else None
        asset.active_version = version
        asset.content_hash = version.content_hash
        asset.compatibility_mode = version.compatibility_mode
        asset.updated_at = now
        published_ids.append(asset.pk)
        out.published.append(
            {
                "relation": asset.relation,
                "version": version.semver,
                "previous": previous.semver if previous else None,
                "bump": version.change_kind,
                "breaking": bool(version.verdict.get("breaking")),
                "reasons": list(version.verdict.get("reasons", []))[:10],
            }
        )
        events.append(
            published_event(
                asset=asset,
                version=version,
                previous=previous.semver if previous else None,
                verdict=version.verdict,
                sync_run=run,
                actor=actor,
            )  # fmt: skip
        )
    # One UPDATE per chunk pointing each asset at its (just inserted) active version: Django's
    # bulk_update builds a CASE per row and per field, which cost seconds at a few thousand assets.
    newest = ContractVersion.objects.filter(asset=OuterRef("pk"), status=ContractVersion.Status.ACTIVE)
    for chunk in _chunks(published_ids):
        Asset.objects.filter(pk__in=chunk).update(
            active_version=Subquery(newest.values("pk")[:1]),
            content_hash=Subquery(newest.values("content_hash")[:1]),
            compatibility_mode=Subquery(newest.values("compatibility_mode")[:1]),
            updated_at=now,
        )


def _open_proposals(*, pending: Pending, run: SyncRun, actor: Actor, out: _Outcome) -> None:
    """Breaking changes: a proposal when the asset has consumers, else a major version (logged)."""
    if not pending:
        return
    from contracts.services.proposals import proposal_open, proposal_publish_matching_check

    asset_ids = [a.pk for a, _, _, _ in pending]
    consumers: dict[int, set[int]] = {}
    for asset_id, team_id in Registration.objects.filter(asset_id__in=asset_ids).values_list(
        "asset_id", "team_id"
    ):
        consumers.setdefault(asset_id, set()).add(team_id)
    already_open = set(
        Proposal.objects.filter(asset_id__in=asset_ids, status__in=Proposal.OPEN_STATUSES).values_list(
            "asset_id", "proposed_hash"
        )
    )
    held = held_versions(asset_ids=[a.pk for a, _, _, _ in pending if a.requires_passing_audit])
    to_publish: list[tuple[ContractVersion, AssetSpec, Asset]] = []
    reused: list[tuple[ContractVersion, AssetSpec, Asset]] = []
    active: dict[int, ContractVersion] = {}
    superseded: list[int] = []
    now = timezone.now()
    for asset, spec, base, verdict in pending:
        teams = consumers.get(asset.pk, set()) - {asset.owner_team_id}
        content_hash = spec.contract.content_hash()
        if teams:
            # Consumers now: the change goes through a proposal, which carries its own version.
            held_versions_reject(version_ids=[v.pk for v in held.get(asset.pk, ())])
            published = proposal_publish_matching_check(
                asset=asset, content_hash=content_hash, sync_run=run, actor=actor
            )
            if published is not None and published.status == Proposal.Status.APPROVED:
                # Approved, deployed, but the publish gate holds it (proposal.held has the reasons).
                out.held.append(
                    {"relation": asset.relation, "version": published.proposed_version.semver,
                     "reasons": [published.resolution_reason], "proposal": published.pk}
                )  # fmt: skip
                continue
            if published is not None:
                out.published.append(
                    {"relation": asset.relation, "version": published.proposed_version.semver, "previous": base.semver if base else None,
                     "bump": "major", "breaking": True, "reasons": verdict.reasons[:10], "proposal": published.pk}
                )  # fmt: skip
                continue
            new = (asset.pk, content_hash) not in already_open
            proposal = proposal_open(
                asset=asset, base_version=base, proposed_spec=spec.contract, verdict=verdict, origin="sync",
                sync_run=run, actor=actor,
            )  # fmt: skip
            out.proposals.append(
                {
                    "relation": asset.relation,
                    "proposal": proposal.pk,
                    "new": new,
                    "required_teams": sorted(proposal.required_teams.values_list("slug", flat=True)),
                    "reasons": verdict.reasons[:10],
                }
            )
            continue
        semver = bump_version((base.major, base.minor, base.patch), "major") if base else (1, 0, 0)
        label = ".".join(map(str, semver))
        if base is not None:
            active[base.pk] = base
        if asset.requires_passing_audit:
            out.warn(f"{asset.relation}: breaking change with no registered consumers, v{label} goes to the publish gate.")  # fmt: skip
            again = _held_again(held, asset=asset, content_hash=content_hash, semver=semver, bump="major", verdict=verdict, run=run)  # fmt: skip
            if again is not None:
                reused.append((again, spec, asset))
                continue
        else:
            if base is not None:
                superseded.append(base.pk)
            out.warn(
                f"{asset.relation}: breaking change with no registered consumers, published as v{label}."
            )
        version = version_build(
            asset=asset, spec=spec.contract, semver=semver, status=_first_status(asset),
            change_kind="major", verdict=verdict.as_dict(), sync_run=run, content_hash=content_hash,
        )  # fmt: skip
        to_publish.append((version, spec, asset))
    if superseded:
        ContractVersion.objects.filter(pk__in=superseded).update(status=ContractVersion.Status.SUPERSEDED)
    events: list[Event] = []
    _insert_versions(
        to_write=to_publish,
        reused=reused,
        now=now,
        out=out,
        actor=actor,
        run=run,
        active=active,
        events=events,
    )
    events_record_bulk(events)


def _write_nodes(
    *, project: Project, node_asset: dict[str, int], resource_of: dict[str, str], out: _Outcome
) -> None:
    known = {
        uid: (pk, asset_id)
        for pk, uid, asset_id in AssetNode.objects.filter(project=project).values_list(
            "pk", "unique_id", "asset_id"
        )
    }
    create: list[tuple[int, str, str, int]] = []
    moved: list[AssetNode] = []
    for unique_id, asset_id in node_asset.items():
        row = known.get(unique_id)
        if row is None:
            create.append((project.pk, unique_id, resource_of[unique_id], asset_id))
        elif row[1] != asset_id:
            moved.append(AssetNode(pk=row[0], asset_id=asset_id))
    rows_insert(AssetNode, ("project", "unique_id", "resource_type", "asset"), create, ignore_conflicts=True)
    if moved:
        AssetNode.objects.bulk_update(moved, ["asset_id"], batch_size=BULK_BATCH)


def _write_registrations(
    *,
    project: Project,
    owned: dict[str, tuple[Asset, AssetSpec]],
    cross_reads: list[tuple[AssetSpec, Asset]],
    teams: dict[str, Team],
    parsed: ParsedManifest,
    out: _Outcome,
    node_asset: dict[str, int],
    readers_before: list[tuple[int, int]],
    actor: Actor,
    run: SyncRun,
) -> None:
    """Explicit registrations from meta consumers, lineage ones from cross-project reads."""
    wanted: dict[tuple[int, int, str], str] = {}  # (asset, team, origin) -> purpose
    assets_by_id: dict[int, Asset] = {}
    owner_now = {asset.pk: asset.owner_team_id for asset, _ in owned.values()}
    for asset_id, team_id in readers_before:
        if owner_now.get(asset_id) != team_id:
            wanted[(asset_id, team_id, Registration.Origin.LINEAGE)] = "read through a source"
    for asset, spec in owned.values():
        assets_by_id[asset.pk] = asset
        for consumer in spec.consumers:
            team = teams.get(consumer.team)
            if team is None:
                continue
            if team.pk == asset.owner_team_id:
                out.warn(f"{asset.relation}: '{team.slug}' owns it, so it is not registered as its consumer.")
                continue
            wanted[(asset.pk, team.pk, Registration.Origin.EXPLICIT)] = consumer.purpose[:500]
    if cross_reads:
        # The team reading a source is the owner of this project's models that select from it.
        owner_of = {spec.unique_id: asset.owner_team_id for asset, spec in owned.values()}
        readers: dict[int, set[int]] = {}  # read asset id -> reading team ids
        for spec in parsed.assets:
            reader = owner_of.get(spec.unique_id)
            if reader is None:
                continue
            for dep in spec.depends_on:
                asset_id = node_asset.get(dep)
                if asset_id is not None:
                    readers.setdefault(asset_id, set()).add(reader)
        for _spec, asset in cross_reads:
            assets_by_id[asset.pk] = asset
            reader_teams = readers.get(asset.pk) or (
                {project.owner_team_id} if project.owner_team_id else set()
            )
            out.nodes_linked += 1
            for team_id in reader_teams:
                if team_id != asset.owner_team_id:
                    wanted.setdefault(
                        (asset.pk, team_id, Registration.Origin.LINEAGE),
                        f"read by project {project.name}"[:500],
                    )
    existing = {
        (asset_id, team_id, origin): pk
        for pk, asset_id, team_id, origin in Registration.objects.filter(
            asset_id__in=list(assets_by_id),
            origin__in=[Registration.Origin.EXPLICIT, Registration.Origin.LINEAGE],
        ).values_list("pk", "asset_id", "team_id", "origin")
    }
    add = [key for key in wanted if key not in existing]
    # Explicit registrations follow the meta of the assets this project owns; lineage ones are
    # never removed here (another project of the same team may still read the asset).
    owned_ids = {a.pk for a, _ in owned.values()}
    remove = [
        (key, pk)
        for key, pk in existing.items()
        if key[2] == Registration.Origin.EXPLICIT and key[0] in owned_ids and key not in wanted
    ]
    now = timezone.now()
    rows_insert(
        Registration,
        ("asset", "team", "origin", "purpose", "created_at"),
        [(a, t, o, wanted[(a, t, o)], now) for a, t, o in add],
        ignore_conflicts=True,
    )
    if remove:
        Registration.objects.filter(pk__in=[pk for _, pk in remove]).delete()
    removed = [key for key, _ in remove]
    team_slug = {t.pk: t.slug for t in teams.values()}
    missing_ids = {t for _, t, _ in add + removed} - team_slug.keys()
    team_slug.update(dict(Team.objects.filter(pk__in=missing_ids).values_list("pk", "slug")))
    events = [
        _event(
            kind,
            actor,
            run,
            asset_id=a,
            team_id=t,
            payload={"team": team_slug.get(t), "origin": o, "relation": assets_by_id[a].relation},
        )  # fmt: skip
        for kind, keys in (("registration.added", add), ("registration.removed", removed))
        for a, t, o in keys
    ]
    events_record_bulk(events)
    out.registrations_added = len(add)
    out.registrations_removed = len(remove)


def _write_lineage(
    *, project: Project, parsed: ParsedManifest, node_asset: dict[str, int], out: _Outcome
) -> None:
    wanted: set[tuple[int, int]] = set()
    for spec in parsed.assets:
        downstream = node_asset.get(spec.unique_id)
        if downstream is None:
            continue
        for dep in spec.depends_on:
            upstream = node_asset.get(dep)
            if upstream is not None and upstream != downstream:
                wanted.add((upstream, downstream))
    existing = {
        (up, down): pk
        for pk, up, down in LineageEdge.objects.filter(project=project).values_list(
            "pk", "upstream_id", "downstream_id"
        )
    }
    add = [edge for edge in wanted if edge not in existing]
    remove = [pk for edge, pk in existing.items() if edge not in wanted]
    rows_insert(
        LineageEdge,
        ("upstream", "downstream", "project"),
        [(u, d, project.pk) for u, d in add],
        ignore_conflicts=True,
    )
    if remove:
        LineageEdge.objects.filter(pk__in=remove).delete()
    out.edges_added = len(add)
    out.edges_removed = len(remove)


def _retired_emails_enqueue(*, run: SyncRun, asset_ids: list[int]) -> None:
    """One task per sync run tells the consumer teams (one email each), once the retirement is committed."""
    if not asset_ids:
        return

    def send() -> None:
        from contracts.tasks.workflow import assets_retired_emails_task

        assets_retired_emails_task.delay(run.pk, asset_ids)

    transaction.on_commit(send)


def _after_commit_hooks(*, run: SyncRun) -> None:
    """Hand run_results to the audits ingestion once the assets it refers to are committed."""
    if not run.run_results:
        return
    try:
        from audits.services import audit_ingest_run_results  # type: ignore[attr-defined]
    except ImportError:
        SyncRun.objects.filter(pk=run.pk).update(
            warnings=list(SyncRun.objects.get(pk=run.pk).warnings)
            + ["run_results was stored but not ingested: the audits ingestion is not installed."]
        )
        return

    def ingest() -> None:
        try:
            audit_ingest_run_results(sync_run=run)
        except Exception:  # the sync itself succeeded; a results problem is reported by audits
            logger.exception("run_results ingestion for sync %s failed", run.pk)

    transaction.on_commit(ingest)
