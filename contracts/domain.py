"""Plain data shapes shared by the manifest parser, the compatibility engine and the services.

Nothing here touches the database: parsers produce these, the compatibility engine compares
them, services turn them into rows. Keep them small and boring.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import orjson

COMPATIBILITY_MODES = (
    "backward",
    "forward",
    "full",
    "none",
    "backward_transitive",
    "forward_transitive",
    "full_transitive",
)
DEFAULT_MODE = "backward"


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """One column of a contract, in declared order."""

    name: str  # lower-cased column name
    data_type: str  # raw type exactly as declared / in the catalog ("VARCHAR(50)"), "" when none
    nullable: bool = True  # False when a not_null test or constraint guarantees it
    description: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "data_type": self.data_type,
            "nullable": self.nullable,
            "description": self.description,
        }


@dataclass(frozen=True, slots=True)
class GuaranteeSpec:
    """A promise derived from a dbt test (or declared in meta).

    ``kind`` is one of not_null, unique, accepted_values, relationships, accepted_range,
    unique_combination_of_columns, expression, singular, freshness, or ``namespace.name`` for
    any other generic test. ``arguments`` keeps every argument the test had (minus
    ``column_name`` / ``model``), so nothing is dropped.
    """

    kind: str
    column: str | None = None
    arguments: dict[str, Any] = field(default_factory=dict, hash=False, compare=True)
    severity: str = "error"  # "error" | "warn"
    test_unique_id: str | None = None
    name: str = ""
    # What carries the promise: a data "test", or a "constraint" of an enforced dbt contract
    # (column- or model-level). The same promise made both ways is one guarantee.
    mechanism: str = "test"

    def as_dict(self) -> dict[str, Any]:
        out = {
            "kind": self.kind,
            "column": self.column,
            "arguments": self.arguments,
            "severity": self.severity,
            "test_unique_id": self.test_unique_id,
            "name": self.name,
        }
        if self.mechanism != "test":
            out["mechanism"] = self.mechanism
        return out


@dataclass(slots=True)
class ContractSpec:
    """The interface of an asset at one point in time."""

    columns: list[ColumnSpec] = field(default_factory=list)
    guarantees: list[GuaranteeSpec] = field(default_factory=list)
    mode: str = DEFAULT_MODE
    # The warehouse the types are spelled for (manifest metadata.adapter_type); "" when unknown.
    # Not part of the content hash: it says how to read the types, not what they are.
    adapter: str = ""
    # What the manifest could not say or what was deliberately not counted (e.g. constraints of
    # a contract that is not enforced); the verdict repeats these so nothing is dropped silently.
    notes: list[str] = field(default_factory=list)

    def content_hash(self) -> str:
        return contract_hash(self)


@dataclass(frozen=True, slots=True)
class ConsumerSpec:
    team: str
    purpose: str = ""


@dataclass(slots=True)
class AssetSpec:
    """One warehouse relation produced or read by a dbt project."""

    unique_id: str
    resource_type: str  # model | seed | snapshot | source
    name: str
    package_name: str
    database: str
    schema: str
    identifier: str
    version: str | None = None  # dbt model version, as a string
    # Model versions (dbt 1.5+): the model's latest_version and this version's deprecation_date
    # (ISO date, "" when none), and the versioned models this node reads through an unpinned ref
    # (``ref('dim_products')``, which dbt resolves to the latest version in depends_on).
    latest_version: str | None = None
    deprecation_date: str = ""
    unpinned_refs: list[str] = field(default_factory=list)
    description: str = ""
    materialized: str = ""
    owner_team: str | None = None  # from meta.tessera.owner_team
    compatibility_mode: str | None = None  # from meta.tessera.compatibility_mode
    consumers: list[ConsumerSpec] = field(default_factory=list)
    depends_on: list[str] = field(default_factory=list)  # unique_ids of upstream nodes
    tags: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    contract: ContractSpec = field(default_factory=ContractSpec)
    # A model's compiled SQL (``compiled_code``; ``compiled_sql`` before dbt 1.3): written by dbt
    # build/run/compile, absent from dbt parse. None when the manifest does not carry it.
    compiled_code: str | None = None
    # dbt model access (``public`` / ``protected`` / ``private``) and group (dbt 1.5+); "" when the
    # manifest does not say (sources, seeds, older manifests).
    access: str = ""
    group: str = ""

    @property
    def relation(self) -> str:
        return relation_name(self.database, self.schema, self.identifier)


@dataclass(frozen=True, slots=True)
class DbtOwner:
    """The ``owner`` of a dbt exposure or group: a name and/or an email, both optional."""

    name: str = ""
    email: str = ""


@dataclass(slots=True)
class ExposureSpec:
    """A dbt exposure: a consumer outside dbt (dashboard, notebook, ML model, application)."""

    unique_id: str
    name: str
    type: str = ""  # dashboard | notebook | analysis | ml | application
    label: str = ""
    description: str = ""
    url: str = ""
    maturity: str = ""  # high | medium | low, "" when not given
    owner: DbtOwner = field(default_factory=DbtOwner)
    depends_on: list[str] = field(default_factory=list)  # unique_ids of the nodes it reads directly
    meta: dict[str, Any] = field(default_factory=dict)
    team: str | None = None  # meta.tessera.team
    # meta.tessera.columns: the columns it reads, per node it depends on directly (unique_id or
    # name → columns); None when not listed, so its usage is unknown.
    columns: dict[str, list[str]] | None = None


@dataclass(slots=True)
class GroupSpec:
    """A dbt group: its owner owns its models unless a model names its owner team."""

    unique_id: str
    name: str
    owner: DbtOwner = field(default_factory=DbtOwner)
    description: str = ""
    team: str | None = None  # meta.tessera.team of the group (dbt 1.10+ has config.meta)


@dataclass(frozen=True, slots=True)
class PackageNode:
    """A model, seed or snapshot of another package than the manifest's own project.

    Either another dbt project's model injected into this manifest (dbt-loom, dbt Mesh: dbt calls
    them external nodes, with no file and no SQL) or a node of an installed package (dbt_utils,
    elementary, ... or another team's project installed as a package). It is never an asset of the
    syncing project: when its package is a project Tessera knows, it is a reference to that
    project's asset (services.sync.references); otherwise it belongs to its package and is skipped.
    """

    unique_id: str
    package_name: str
    resource_type: str
    name: str
    relation: str
    version: str | None = None
    access: str = ""  # dbt's model access: public | protected | private ("" before dbt 1.5)
    external: bool = False  # injected from another project's manifest: no file, no SQL


@dataclass(slots=True)
class ParsedManifest:
    project_name: str
    schema_version: int  # 4 … 12
    dbt_version: str
    generated_at: str
    invocation_id: str
    adapter_type: str = ""  # metadata.adapter_type: which warehouse the types are written for
    assets: list[AssetSpec] = field(default_factory=list)
    # Models the manifest knows but builds no relation for: unique_id -> "disabled" | "ephemeral".
    # A relation Tessera knew that is neither here nor in `assets` was deleted from the project.
    absent: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    exposures: list[ExposureSpec] = field(default_factory=list)
    groups: list[GroupSpec] = field(default_factory=list)
    # depends_on of the ephemeral models, so a walk upstream (an exposure's assets) passes through them.
    ephemeral_depends_on: dict[str, list[str]] = field(default_factory=dict)
    # Nodes of other packages (see PackageNode): never assets of this project.
    package_nodes: list[PackageNode] = field(default_factory=list)


def relation_name(database: str | None, schema: str | None, identifier: str) -> str:
    """Normalised ``database.schema.identifier`` (lower case, quotes stripped, empty parts dropped)."""
    parts = [p for p in (database, schema, identifier) if p]
    return ".".join(p.strip('"`[]').lower() for p in parts)


def contract_hash(contract: ContractSpec) -> str:
    """Stable hash of everything a contract version records: columns in order (with types,
    nullability and descriptions), guarantees (order-insensitive) and mode.

    The sync uses this to recognise unchanged assets without loading their versions; any
    difference, even a description (a patch), makes a new version.
    """
    payload = {
        "mode": contract.mode,
        "columns": [(c.name, c.data_type.strip(), c.nullable, c.description) for c in contract.columns],
        "guarantees": sorted(
            # The mechanism joins the hash only when it is not a test, so hashes of contracts
            # recorded before constraints were read stay as they were (no spurious new versions).
            orjson.dumps(
                [g.kind, g.column, g.arguments, g.severity]
                + ([g.mechanism] if g.mechanism != "test" else []),
                option=orjson.OPT_SORT_KEYS,
            ).decode()
            for g in contract.guarantees
        ),
    }
    return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()


def guarantee_ref(kind: str, column: str | None, name: str = "") -> str:
    """A guarantee as results and the gate name it: ``not_null(email)``, or ``kind name`` for a
    table-level one (``name`` only when it says more than the kind)."""
    if column:
        return f"{kind}({column})"
    return f"{kind} {name}" if name and name != kind else kind
