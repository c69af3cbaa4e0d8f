"""Input and output schemas of the read API (assets, versions, lineage, registrations, teams)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ninja import Field, Schema


class AssetSummaryOut(Schema):
    id: int
    relation: str
    unique_id: str
    name: str
    type: str
    status: str
    team: str
    project: str | None
    mode: str
    version: str | None
    consumer_count: int
    # dbt model versions: each version is an asset; model_name groups them (one model).
    model_name: str
    model_version: str
    latest_version: str
    is_latest: bool
    deprecation_date: date | None


class AssetRowOut(AssetSummaryOut):
    """An asset of the list, read straight from ``selectors.assets.asset_list``'s rows (owner team,
    project and active version joined, ``consumer_count`` annotated)."""

    @staticmethod
    def resolve_name(asset: Any) -> str:
        return asset.display_name

    @staticmethod
    def resolve_model_name(asset: Any) -> str:
        return asset.name

    @staticmethod
    def resolve_type(asset: Any) -> str:
        return asset.resource_type

    @staticmethod
    def resolve_team(asset: Any) -> str:
        return asset.owner_team.slug

    @staticmethod
    def resolve_project(asset: Any) -> str | None:
        return asset.project.name if asset.project else None

    @staticmethod
    def resolve_mode(asset: Any) -> str:
        return asset.compatibility_mode

    @staticmethod
    def resolve_version(asset: Any) -> str | None:
        return asset.active_version.semver if asset.active_version else None

    @staticmethod
    def resolve_consumer_count(asset: Any) -> int:
        return getattr(asset, "consumer_count", 0)


class ColumnOut(Schema):
    name: str
    data_type: str
    normalized_type: str
    nullable: bool
    description: str


class GuaranteeOut(Schema):
    kind: str
    column: str | None
    arguments: dict[str, Any]
    severity: str
    test_unique_id: str | None
    name: str


class _VersionFields(Schema):
    """What a version is, in the full and the summary form alike."""

    id: int
    version: str
    status: str
    change_kind: str
    mode: str
    content_hash: str
    created_at: datetime
    published_at: datetime | None


class VersionOut(_VersionFields):
    columns: list[ColumnOut]
    guarantees: list[GuaranteeOut]


class VersionSummaryOut(_VersionFields):
    summary: str
    reasons: list[str]


class ConsumerOut(Schema):
    team: str
    team_name: str
    origin: str
    purpose: str
    created_at: datetime


class OpenProposalOut(Schema):
    id: int
    status: str
    origin: str
    proposed_version: str | None
    deadline: datetime


class DbtGroupOut(Schema):
    name: str
    owner_name: str
    owner_email: str
    team: str | None = Field(
        description="The Tessera team the group's owner maps to (owner of its models that name none)"
    )


class ExposureOut(Schema):
    unique_id: str
    name: str
    label: str
    type: str = Field(description="dashboard, notebook, analysis, ml or application")
    url: str
    maturity: str
    owner_name: str
    owner_email: str
    team: str = Field(description="The team registered as consumer for it (origin exposure)")
    project: str
    direct: bool = Field(description="False when it reads this asset through the models it names")


class AssetDetailOut(AssetSummaryOut):
    description: str
    database: str
    db_schema: str
    identifier: str
    materialized: str
    tags: list[str]
    active_version: VersionOut | None
    consumers: list[ConsumerOut]
    consumer_teams: list[str]
    open_proposal: OpenProposalOut | None
    open_proposal_id: int | None
    access: str = Field(description="dbt model access: public, protected, private; empty when not said")
    group: DbtGroupOut | None
    exposures: list[ExposureOut] = Field(
        description="dbt exposures that read this asset, directly or through models"
    )


class VersionRefOut(Schema):
    id: int
    version: str
    status: str


class DiffOut(Schema):
    asset_id: int
    relation: str
    base: VersionRefOut
    target: VersionRefOut
    mode: str
    breaking: bool
    bump: str | None
    summary: str
    reasons: list[str]
    unknown: list[str]
    changes: list[dict[str, Any]]
    breaking_changes: list[dict[str, Any]]


class LineageNodeOut(Schema):
    id: int
    relation: str
    name: str
    type: str
    status: str
    team: str
    project: str | None
    hops: int


class LineageEdgeOut(Schema):
    upstream: int
    downstream: int


class ColumnEdgeOut(Schema):
    """One column read across an edge: ``upstream_column`` of asset ``upstream`` is read by the
    model ``downstream`` in ``clauses`` and flows into its columns ``feeds``."""

    upstream: int
    upstream_column: str
    downstream: int
    clauses: list[str]
    feeds: list[str]
    team: str


class LineageOut(Schema):
    root: LineageNodeOut
    depth: int
    upstream: list[LineageNodeOut]
    downstream: list[LineageNodeOut]
    edges: list[LineageEdgeOut]
    column_edges: list[ColumnEdgeOut] | None = None  # with ?columns=true (or ?column=NAME)
    column_sources: list[ColumnEdgeOut] | None = Field(
        None, description="With ?column=NAME: the upstream columns the root's model reads into that column"
    )


class LineageBoxOut(Schema):
    """A box of the level-of-detail view: a group (``kind`` cluster: one project's assets owned by
    one team, or a name range of a big group) or an asset of an opened group."""

    id: str = Field(description="A group's key (pass it in `expand` to open it), or `a<asset id>`")
    kind: str = Field(description="`cluster` or `asset`")
    name: str
    project: str
    team: str
    size: int | None = Field(None, description="Assets in the group")
    first: str | None = Field(None, description="The group's first asset name, in name order")
    last: str | None = None
    ranged: bool = Field(False, description="A name range of a bigger group")
    internal_edges: int | None = Field(None, description="Lineage edges between the group's own assets")
    asset_id: int | None = None
    group: str | None = Field(
        None, description="An asset's: the key of the group (or range) it was opened from"
    )
    relation: str | None = None
    type: str | None = None
    status: str | None = None


class LineageCountedEdgeOut(Schema):
    from_: str = Field(alias="from")
    to: str
    count: int = Field(description="Asset-to-asset lineage edges this edge stands for")


class LineageOverviewOut(Schema):
    nodes: list[LineageBoxOut]
    edges: list[LineageCountedEdgeOut]
    expanded: list[str] = Field(description="The keys of `expand` that opened a group")


class RegistrationIn(Schema):
    team: str | None = Field(None, description="Consumer team slug; defaults to the API key's team")
    purpose: str = ""


class RegistrationOut(ConsumerOut):
    asset_id: int
    created: bool


class RemovedOut(Schema):
    removed: int


class TeamMemberOut(Schema):
    username: str
    role: str


class TeamConsumesOut(Schema):
    asset_id: int
    relation: str
    owner_team: str
    origin: str
    purpose: str


class TeamDetailOut(Schema):
    slug: str
    name: str
    email: str
    description: str
    is_active: bool
    projects: list[str]
    owned_assets: dict[str, int]
    consumes: list[TeamConsumesOut]
    members: list[TeamMemberOut]


class ErrorOut(Schema):
    error: str
    detail: str


class AssetFilters(Schema):
    search: str = ""
    team: str = ""
    project: str = ""
    type: str = ""
    status: str = ""
    consumer: str = Field("", description="Only assets this team consumes")
