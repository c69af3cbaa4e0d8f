"""Reads of the stored column usage: who reads which column of an asset (asset page, API),
column-level lineage across projects (lineage page, API), and the per-team detail of a
proposal's impact with a snippet of each model's SQL (proposal page)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from contracts.models import Asset, ColumnUsage, ModelSql, Proposal, ProposalImpact

SNIPPET_LINES = 8


@dataclass(slots=True)
class ColumnReader:
    asset_id: int
    model: str
    relation: str
    team: str
    clauses: list[str]
    star: str = ""
    feeds: list[str] = field(default_factory=list)


@dataclass(slots=True)
class AssetReaders:
    """Per column, the live models (and their teams) that read it; plus models whose usage is
    unknown, which may read any column."""

    by_column: dict[str, list[ColumnReader]] = field(default_factory=dict)
    unknown: list[dict[str, Any]] = field(default_factory=list)

    def teams_of(self, column: str) -> list[str]:
        return sorted({r.team for r in self.by_column.get(column, ())})


def _usages(*, upstream: Asset) -> Iterable[ColumnUsage]:
    return _usages_of([upstream.pk]).get(upstream.pk, [])


def _usages_of(upstream_ids: Iterable[int]) -> dict[int, list[ColumnUsage]]:
    """The usages of each of these assets by active consumers, in one query."""
    out: dict[int, list[ColumnUsage]] = {}
    for usage in (
        ColumnUsage.objects.filter(upstream_id__in=set(upstream_ids), consumer__status=Asset.Status.ACTIVE)
        .select_related("consumer__owner_team")
        .order_by("consumer__relation")
    ):
        out.setdefault(usage.upstream_id, []).append(usage)
    return out


def asset_column_readers(*, asset: Asset) -> AssetReaders:
    out = AssetReaders()
    for usage in _usages(upstream=asset):
        consumer = usage.consumer
        if not usage.known:
            out.unknown.append(
                {"asset_id": consumer.pk, "model": consumer.display_name, "team": consumer.owner_team.slug,
                 "message": usage.message}
            )  # fmt: skip
            continue
        for column, clauses in usage.columns.items():
            out.by_column.setdefault(column, []).append(
                ColumnReader(
                    asset_id=consumer.pk, model=consumer.display_name, relation=consumer.relation,
                    team=consumer.owner_team.slug, clauses=list(clauses), star=usage.star,
                    feeds=list((usage.feeds or {}).get(column, ())),
                )
            )  # fmt: skip
    return out


def column_usage_list(*, asset: Asset, column: str) -> dict[str, Any]:
    """One column's readers, for the API: known reads of it, and unknown usages that may read it."""
    readers = asset_column_readers(asset=asset)
    name = column.lower()
    return {
        "column": name,
        "in_contract": name
        in {c["name"] for c in (asset.active_version.columns if asset.active_version else [])},
        "readers": [
            {
                "asset_id": r.asset_id,
                "model": r.model,
                "relation": r.relation,
                "team": r.team,
                "clauses": r.clauses,
                "star": r.star,
                "feeds": r.feeds,
            }
            for r in readers.by_column.get(name, [])
        ],  # fmt: skip
        "unknown": readers.unknown,
    }


# --- column-level lineage ------------------------------------------------------------------------
def column_lineage(*, asset: Asset, column: str | None = None, depth: int = 1) -> list[dict[str, Any]]:
    """Column edges downstream of ``asset`` (optionally of one column), following each read into
    the consumer's own output columns, across projects, up to ``depth`` hops."""
    edges: list[dict[str, Any]] = []
    frontier: list[tuple[Asset, set[str] | None]] = [(asset, {column.lower()} if column else None)]
    seen: set[tuple[int, str | None]] = set()
    for _ in range(depth):
        following: list[tuple[Asset, set[str] | None]] = []
        usages = _usages_of(upstream.pk for upstream, _ in frontier)  # one query a hop, not one an asset
        for upstream, wanted in frontier:
            for usage in usages.get(upstream.pk, []):
                outputs: set[str] = set()
                for col, clauses in usage.columns.items():
                    if wanted is not None and col not in wanted:
                        continue
                    feeds = list((usage.feeds or {}).get(col, ()))
                    edges.append(
                        {"upstream": upstream.pk, "upstream_column": col, "downstream": usage.consumer_id,
                         "clauses": list(clauses), "feeds": feeds, "team": usage.consumer.owner_team.slug}
                    )  # fmt: skip
                    outputs.update(feeds)
                key = (usage.consumer_id, ",".join(sorted(outputs)) if wanted is not None else None)
                if outputs and key not in seen:
                    seen.add(key)
                    following.append((usage.consumer, outputs))
        frontier = following
    return edges


def column_sources(*, asset: Asset, column: str) -> list[dict[str, Any]]:
    """Where ``column`` of ``asset`` comes from: the upstream columns its own model reads into it,
    as edges shaped like ``column_lineage``'s."""
    name = column.lower()
    edges = []
    usages = ColumnUsage.objects.filter(consumer=asset, known=True).select_related("consumer__owner_team")
    for usage in usages.order_by("upstream__relation"):
        for col, outputs in sorted((usage.feeds or {}).items()):
            if name in outputs:
                edges.append(
                    {"upstream": usage.upstream_id, "upstream_column": col, "downstream": asset.pk,
                     "clauses": list(usage.columns.get(col, ())), "feeds": [name],
                     "team": usage.consumer.owner_team.slug}
                )  # fmt: skip
    return edges


def column_sources_rows(*, asset: Asset, column: str) -> list[dict[str, Any]]:
    """``column_sources`` with the assets' names and projects, for the lineage page's table."""
    return _with_assets(column_sources(asset=asset, column=column))


def column_lineage_rows(*, asset: Asset, column: str, depth: int) -> list[dict[str, Any]]:
    """``column_lineage`` with the assets' names and projects, for the lineage page's table."""
    return _with_assets(column_lineage(asset=asset, column=column, depth=depth))


def _with_assets(edges: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ids = {e["upstream"] for e in edges} | {e["downstream"] for e in edges}
    assets = {a.pk: a for a in Asset.objects.filter(pk__in=ids).select_related("project")}
    return [
        {
            **edge,
            "upstream_asset": assets.get(edge["upstream"]),
            "downstream_asset": assets.get(edge["downstream"]),
        }
        for edge in edges
    ]


# --- a proposal's impact, per team -----------------------------------------------------------------
def proposal_impacts(*, proposal: Proposal) -> list[dict[str, Any]]:
    """Asked teams first, then informed ones; each model with the columns the change touches and
    the lines of its compiled SQL that mention them."""
    impacts = list(ProposalImpact.objects.filter(proposal=proposal).select_related("team"))
    asset_ids = {r["asset_id"] for i in impacts for r in i.readers if "asset_id" in r}
    sql = dict(ModelSql.objects.filter(asset_id__in=asset_ids).values_list("asset_id", "compiled_code"))
    out = []
    for impact in sorted(impacts, key=lambda i: (i.role != ProposalImpact.Role.REQUIRED, i.team.slug)):
        readers = []
        for reader in impact.readers:
            snippet = sql_snippet(sql.get(reader.get("asset_id"), ""), reader.get("touched") or [])
            readers.append({**reader, "snippet": snippet})
        out.append({"team": impact.team, "role": impact.role, "reason": impact.reason, "readers": readers})
    return out


def sql_snippet(sql: str, columns: list[str], *, limit: int = SNIPPET_LINES) -> str:
    """The lines of ``sql`` that name one of ``columns`` (whole words), at most ``limit`` of them."""
    if not sql or not columns:
        return ""
    pattern = re.compile(r"\b(" + "|".join(re.escape(c) for c in columns) + r")\b", re.IGNORECASE)
    lines = [line.rstrip() for line in sql.splitlines() if pattern.search(line)]
    if len(lines) > limit:
        lines = [*lines[:limit], f"… ({len(lines) - limit} more lines)"]
    return "\n".join(lines)
