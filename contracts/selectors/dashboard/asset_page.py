"""One asset's page: versions, consumers, proposals, audits, guarantees in words."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    Prefetch,
    Q,
)

from contracts.models import (
    Acknowledgment,
    Asset,
    ContractVersion,
    DbtGroup,
    ExposureAsset,
    Proposal,
    Registration,
)
from contracts.selectors.dashboard.common import _audit_run_model
from contracts.selectors.dashboard.home import _HEAVY_VERSION_FIELDS
from contracts.selectors.exposures import asset_dbt_group, asset_exposure_links
from contracts.selectors.lineage import LineageGraph, lineage_graph


@dataclass(frozen=True, slots=True)
class Neighbour:
    """An asset read by, or reading, the page's asset: what the page's lineage sentence shows."""

    pk: int
    display_name: str
    team_slug: str


@dataclass
class AssetPage:
    asset: Asset
    consumers: list[Registration]
    versions: list[ContractVersion]
    proposals: list[Proposal]
    audits: list[Any]
    upstream: list[Neighbour]
    downstream: list[Neighbour]
    graph: LineageGraph  # one hop each way, at most 60 assets: the page's small lineage drawing
    columns: list[dict[str, Any]] = field(default_factory=list)
    table_guarantees: list[dict] = field(default_factory=list)
    exposures: list[ExposureAsset] = field(default_factory=list)  # dbt exposures reading it
    dbt_group: DbtGroup | None = None

    @property
    def open_proposal(self) -> Proposal | None:
        return next((p for p in self.proposals if p.is_open), None)

    @property
    def pass_rate(self) -> float | None:
        checked = sum(a.checked for a in self.audits)
        return (sum(a.passed for a in self.audits) / checked) if checked else None


def asset_page(*, asset: Asset, audit_limit: int = 60) -> AssetPage:
    consumers = list(
        Registration.objects.filter(asset=asset).select_related("team").order_by("team__slug", "origin")
    )
    versions = list(
        ContractVersion.objects.filter(asset=asset)
        .defer("columns", "guarantees", "verdict")  # the page links a version's sync by its id only
        .order_by("-created_at", "-id")
    )
    proposals = _asset_proposals(asset)
    audits = list(
        _audit_run_model()
        .objects.filter(asset=asset)
        .select_related("contract_version")
        .defer("details", "unchecked", *(f"contract_version__{f}" for f in _HEAVY_VERSION_FIELDS))
        .order_by("-run_at", "-id")[:audit_limit]
    )
    graph = lineage_graph(asset=asset, depth=1, max_nodes=60, impact=True)
    upstream, downstream = _neighbours(asset, graph)
    # Diff links compare each version with the one before it (proposed versions with the active base).
    ordered = sorted(versions, key=lambda v: (v.major, v.minor, v.patch, v.pk))
    for older, newer in zip(ordered, ordered[1:], strict=False):
        newer.previous = older
    page = AssetPage(asset, consumers, versions, proposals, audits, upstream, downstream, graph)
    page.exposures = asset_exposure_links(asset=asset)
    page.dbt_group = asset_dbt_group(asset=asset)
    _attach_guarantees(page)
    return page


def _neighbours(asset: Asset, graph: LineageGraph) -> tuple[list[Neighbour], list[Neighbour]]:
    """The first 50 assets (by relation) it reads and that read it. The drawing's graph already
    holds them, unless it had to leave some out (a hub of more than 59 neighbours): then two
    queries read them apart."""
    if not graph.truncated:
        return (
            [Neighbour(n.id, n.name, n.team) for n in graph.upstream[:50]],
            [Neighbour(n.id, n.name, n.team) for n in graph.downstream[:50]],
        )
    sides = []
    for side in (Q(downstream_edges__downstream=asset), Q(upstream_edges__upstream=asset)):
        rows = Asset.objects.filter(side).select_related("owner_team").order_by("relation")
        fields = ("id", "name", "model_version", "relation", "owner_team__id", "owner_team__slug")
        sides.append([Neighbour(a.pk, a.display_name, a.owner_team.slug) for a in rows.only(*fields)[:50]])
    return sides[0], sides[1]


def _asset_proposals(asset: Asset) -> list[Proposal]:
    return list(
        Proposal.objects.filter(asset=asset)
        .select_related("base_version", "proposed_version")
        .only(
            "id",
            "asset_id",
            "status",
            "origin",
            "created_at",
            "resolved_at",
            "deadline",
            "resolution_reason",
            "superseded_by",
            *(
                f"{rel}__{part}"
                for rel in ("base_version", "proposed_version")
                for part in ("major", "minor", "patch")
            ),
        )
        .prefetch_related(Prefetch("acknowledgments", queryset=Acknowledgment.objects.select_related("team")))
        .order_by("-created_at", "-id")[:50]
    )


def _attach_guarantees(page: AssetPage) -> None:
    """Each column of the active contract with its guarantees; table-level ones apart."""
    active = page.asset.active_version
    if active is not None:
        by_column: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for g in active.guarantees:  # worded by the template (tessera_guarantees): no presenter here
            if g.get("column"):
                by_column[str(g["column"]).lower()].append(g)
            else:
                page.table_guarantees.append(g)
        page.columns = [{**c, "guarantees": by_column.get(c.get("name", ""), [])} for c in active.columns]
