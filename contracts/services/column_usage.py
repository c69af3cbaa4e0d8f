"""The column-usage step: after a sync commits, read each model's compiled SQL and store which
columns of which upstream asset it reads (contracts.ingest.column_usage does the reading).

It runs as its own task, after the sync's transaction, so it never slows the sync. It is
incremental twice over: a project whose manifest and upstream contracts are what the last pass
saw is skipped with two queries; otherwise only models whose input hash (dialect, compiled SQL,
the content hashes of the contracts it reads) changed are parsed again.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from contracts.domain import AssetSpec
from contracts.ingest.column_usage import ModelUsage, dialect_for_adapter, extract_usage, parse_sql
from contracts.ingest.manifest import gc_paused, parse_manifest_document
from contracts.models import Asset, AssetNode, ColumnUsage, ColumnUsageRun, LineageEdge, ModelSql, SyncRun
from contracts.services.manifest_files import stored_manifest_load
from contracts.task_refs import COLUMN_USAGE_REFRESH
from tessera_site.lib.enqueue import enqueue_on_commit
from tessera_site.lib.jobs import JobStatus

NO_SQL = (
    "The manifest has no compiled SQL for this model (dbt parse writes none): sync a manifest from "
    "dbt build, run or compile to know which columns it reads."
)


@dataclass(slots=True)
class _Upstream:
    asset_id: int
    relation: str
    content_hash: str
    columns: list[str] | None = None  # loaded only for the models that are read again


@dataclass(slots=True)
class _Pass:
    analyzed: int = 0
    unknown: int = 0
    usages: list[ColumnUsage] = field(default_factory=list)
    sqls: list[ModelSql] = field(default_factory=list)


def column_usage_enqueue(*, sync_run_id: int) -> None:
    """Queue the column-usage step for a sync, once the sync's transaction has committed."""

    enqueue_on_commit(COLUMN_USAGE_REFRESH, sync_run_id)


def column_usage_refresh(*, sync_run_id: int) -> dict[str, Any]:
    """Bring the stored column usage of a synced project up to date with that sync's manifest,
    then that of the projects reading it (their models read contracts this sync may have changed;
    the upstream signature makes that a two-query check when nothing did)."""
    run = SyncRun.objects.select_related("project").filter(pk=sync_run_id).first()
    if run is None:
        return {"skipped": "no such sync"}  # a message that outlived its row (e.g. a test database)
    if run.project is None or run.mode != SyncRun.Mode.SYNC or run.status != JobStatus.SUCCEEDED:
        return {"skipped": "not a finished sync"}
    if _latest_run(run.project_id) != run.pk:
        return {"skipped": "a later sync of the project supersedes this one"}
    result = _refresh_project(run)
    downstream = (
        LineageEdge.objects.filter(upstream__project_id=run.project_id)
        .exclude(project_id=run.project_id)
        .values_list("project_id", flat=True)
        .distinct()
    )
    for project_id in sorted(set(downstream)):
        latest = _latest_run(project_id)
        if latest is not None:
            follow = _refresh_project(SyncRun.objects.select_related("project").get(pk=latest))
            result.setdefault("downstream", {})[follow.pop("project")] = follow
    return result


def _latest_run(project_id: int) -> int | None:
    return (
        SyncRun.objects.filter(project_id=project_id, mode=SyncRun.Mode.SYNC, status=JobStatus.SUCCEEDED)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )


def _refresh_project(run: SyncRun) -> dict[str, Any]:
    started = time.perf_counter()
    project = run.project
    assert project is not None
    signature = _upstream_signature(project_id=project.pk)
    state = ColumnUsageRun.objects.filter(project=project).first()
    if state and state.manifest_sha256 == run.manifest_sha256 and state.upstream_signature == signature:
        return {"project": project.name, "skipped": "unchanged", "models": state.models_total}
    with gc_paused():
        adapter, models = _compiled_models(run)
        result = _refresh_models(project_id=project.pk, models=models, dialect=dialect_for_adapter(adapter))
    ColumnUsageRun.objects.update_or_create(
        project=project,
        defaults={
            "manifest_sha256": run.manifest_sha256,
            "upstream_signature": signature,
            "models_total": len(models),
            "models_analyzed": result.analyzed,
            "unknown": result.unknown,
            "seconds": round(time.perf_counter() - started, 3),
            "finished_at": timezone.now(),
        },
    )
    return {
        "project": project.name,
        "models": len(models),
        "analyzed": result.analyzed,
        "unknown": result.unknown,
    }


def _upstream_signature(*, project_id: int) -> str:
    """Hash of the contracts the project's models read (every lineage edge into the project)."""
    rows = sorted(
        LineageEdge.objects.filter(project_id=project_id)
        .values_list("upstream_id", "upstream__content_hash")
        .distinct()
    )
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def _compiled_models(run: SyncRun) -> tuple[str, list[AssetSpec]]:
    doc = stored_manifest_load(run.manifest)
    adapter = str((doc.get("metadata") or {}).get("adapter_type") or "")
    parsed = parse_manifest_document(doc, consume=True)
    return adapter, [a for a in parsed.assets if a.resource_type == "model"]


def _refresh_models(*, project_id: int, models: list[AssetSpec], dialect: str | None) -> _Pass:
    node_asset = dict(AssetNode.objects.filter(project_id=project_id).values_list("unique_id", "asset_id"))
    consumers = {m.unique_id: node_asset[m.unique_id] for m in models if m.unique_id in node_asset}
    upstreams = _upstreams(set(node_asset.values()))
    previous = dict(
        ModelSql.objects.filter(asset_id__in=consumers.values()).values_list("asset_id", "input_hash")
    )
    out = _Pass()
    changed: list[tuple[int, AssetSpec, list[int], str]] = []
    for spec in models:
        asset_id = consumers.get(spec.unique_id)
        if asset_id is None:
            continue  # not an asset of this sync (e.g. refused for another team)
        reads = sorted({node_asset[d] for d in spec.depends_on if d in node_asset} - {asset_id})
        digest = _input_hash(
            spec.compiled_code, dialect, [upstreams[u].content_hash for u in reads if u in upstreams]
        )
        if previous.get(asset_id) != digest:
            changed.append((asset_id, spec, reads, digest))
    if not changed:
        return out
    _load_columns(upstreams, {u for _, _, reads, _ in changed for u in reads})
    by_relation = {u.relation: u for u in upstreams.values()}
    for asset_id, spec, reads, digest in changed:
        _analyse(out, asset_id=asset_id, spec=spec, reads=reads, digest=digest, dialect=dialect,
                 project_id=project_id, upstreams=upstreams, by_relation=by_relation)  # fmt: skip
    _write(out, consumer_ids=[c[0] for c in changed])
    return out


def _input_hash(sql: str | None, dialect: str | None, upstream_hashes: Iterable[str]) -> str:
    digest = hashlib.sha256(f"{dialect or ''}\0{sql or ''}\0".encode())
    for value in upstream_hashes:
        digest.update(value.encode())
    return digest.hexdigest()


def _upstreams(asset_ids: set[int]) -> dict[int, _Upstream]:
    rows = Asset.objects.filter(pk__in=asset_ids).values_list("pk", "relation", "content_hash")
    return {pk: _Upstream(pk, relation, content_hash) for pk, relation, content_hash in rows}


def _load_columns(upstreams: dict[int, _Upstream], wanted: set[int]) -> None:
    """The active contracts' column names of the upstream assets the changed models read."""
    rows = Asset.objects.filter(pk__in=wanted).values_list("pk", "active_version__columns")
    for pk, columns in rows:
        if pk in upstreams:
            upstreams[pk].columns = [c["name"] for c in columns or ()]


def _analyse(
    out: _Pass,
    *,
    asset_id: int,
    spec: AssetSpec,
    reads: list[int],
    digest: str,
    dialect: str | None,
    project_id: int,
    upstreams: dict[int, _Upstream],
    by_relation: dict[str, _Upstream],
) -> None:
    sql = spec.compiled_code
    if sql is None:
        usage = ModelUsage(known=False, message=NO_SQL)
    else:
        parsed = parse_sql(sql, dialect=dialect)
        known = {u.relation: u.columns or [] for u in (upstreams[r] for r in reads if r in upstreams)}
        for relation in parsed.relations():  # tables read through inlined ephemeral models
            if relation in by_relation and relation not in known:
                known[relation] = by_relation[relation].columns or []
        usage = extract_usage(parsed, columns_by_relation=known)
    out.analyzed += 1
    out.unknown += 0 if usage.known else 1
    out.sqls.append(
        ModelSql(asset_id=asset_id, project_id=project_id, dialect=dialect or "", compiled_code=sql or "",
                 input_hash=digest, known=usage.known, message=usage.message)
    )  # fmt: skip
    now = timezone.now()
    seen: set[int] = set()
    for relation, read in usage.upstream.items():
        upstream = by_relation.get(relation)
        if upstream is None or upstream.asset_id == asset_id:
            continue
        seen.add(upstream.asset_id)
        out.usages.append(
            ColumnUsage(consumer_id=asset_id, upstream_id=upstream.asset_id, columns=read.columns, feeds=read.feeds,
                        star=read.star, known=True, updated_at=now)
        )  # fmt: skip
    for upstream_id in reads:
        if upstream_id not in seen and upstream_id in upstreams:
            # Declared in depends_on but not found in the SQL: no columns read, or none we can see.
            out.usages.append(
                ColumnUsage(consumer_id=asset_id, upstream_id=upstream_id, columns={}, known=usage.known,
                            message=usage.message, updated_at=now)
            )  # fmt: skip


@transaction.atomic
def _write(out: _Pass, *, consumer_ids: list[int]) -> None:
    for start in range(0, len(consumer_ids), 5000):
        chunk = consumer_ids[start : start + 5000]
        ColumnUsage.objects.filter(consumer_id__in=chunk).delete()
        ModelSql.objects.filter(asset_id__in=chunk).delete()
    ModelSql.objects.bulk_create(out.sqls, batch_size=1000)
    ColumnUsage.objects.bulk_create(out.usages, batch_size=2000)
