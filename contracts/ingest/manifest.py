"""Parse a dbt ``manifest.json`` (schema v4–v12, dbt 1.0 to 1.11 and Fusion) into plain dataclasses.

Older schemas are read into the same internal form: the keys read here (``columns.*.data_type``,
``test_metadata``, ``meta`` / ``config.meta``, ``depends_on``) have kept their shape since v4; what
an older dbt cannot say is reported in the warnings, never guessed: no model contracts or
constraints before v9 (dbt 1.5), no ``attached_node`` before v9 (tests are attached through their
``model`` argument instead), no ``metadata.project_name`` before v10.

Pure: bytes in, :class:`~contracts.domain.ParsedManifest` out, no ORM, no I/O.

Speed matters (a 5,000-model manifest is ~140 MB, a 20,000-model one ~570 MB): the manifest is
decoded once, and only in part (``manifest_decode``: msgspec builds the fields listed in
``manifest_schema`` as Structs), then the parser walks ``nodes`` once, bucketing tests by the node
they test: one dict lookup per test instead of a scan of every node per model. We deliberately do NOT validate with dbt-artifacts-parser: its pydantic models
build a full object tree of the manifest (1,000 models, 28 MB: 6.4 s against 0.7 s for
``orjson.loads``, 2026-11-27), for shape checks we only need on the keys read here. Those are
checked by hand and reported as ``ManifestError`` with a message a person can act on.

**A key read here must be listed in** ``manifest_schema``: a node's field it does not list cannot
be read (mypy and the tests say so); ``contracts/tests/test_manifest_decode.py`` compares this walk
with the walk over plain dicts it replaced, on real manifests.
"""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec

from contracts.domain import (
    COMPATIBILITY_MODES,
    DEFAULT_MODE,
    AssetSpec,
    ColumnSpec,
    ConsumerSpec,
    ContractSpec,
    GuaranteeSpec,
    ParsedManifest,
)
from contracts.ingest.catalog import CatalogColumns, parse_catalog
from contracts.ingest.errors import ManifestError
from contracts.ingest.exposures import dbt_signals_read, node_access
from contracts.ingest.manifest_decode import (
    SUPPORTED_SCHEMA_VERSIONS,
    NodeSection,
    gc_paused,
    load_manifest_json,
    schema_version_of,
)
from contracts.ingest.manifest_schema import NO_CONFIG, NO_TEST_METADATA, Config, Node
from contracts.ingest.packages import of_another_package, package_node
from contracts.ingest.versions import model_version_fields

__all__ = [
    "SUPPORTED_SCHEMA_VERSIONS",
    "ManifestError",
    "gc_paused",
    "load_manifest_json",
    "parse_manifest",
    "parse_manifest_document",
    "schema_version_of",
]

# The dbt release that wrote each schema version (for messages about what it could not say).
DBT_OF_SCHEMA = {4: "1.0", 5: "1.1", 6: "1.2", 7: "1.3", 8: "1.4", 9: "1.5", 10: "1.6", 11: "1.7", 12: "1.8+"}
CONTRACTS_SINCE = 9  # model contracts, constraints, attached_node, model versions: dbt 1.5
ASSET_RESOURCE_TYPES = frozenset({"model", "seed", "snapshot"})

# dbt_utils (and friends) tests whose meaning the compatibility engine knows: they get the same
# short kind whatever package ships them, so swapping the hub package for a local copy is no change.
_KNOWN_GENERIC = {
    "not_null": "not_null",
    "unique": "unique",
    "accepted_values": "accepted_values",
    "relationships": "relationships",
    "accepted_range": "accepted_range",
    "unique_combination_of_columns": "unique_combination_of_columns",
    "expression_is_true": "expression",
}
# kwargs dbt injects into every generic test; they say where the test runs, not what it promises.
_INJECTED_KWARGS = ("model", "column_name")


def _strip_ident(name: str | None) -> str:
    if not name:
        return ""
    return name.strip().strip('"`[]').lower()


def parse_manifest(data: bytes | str, *, catalog: bytes | None = None) -> ParsedManifest:
    """Parse manifest bytes (and optionally catalog bytes) into assets with their contracts."""
    catalog_columns = parse_catalog(catalog) if catalog else None
    return parse_manifest_document(load_manifest_json(data), catalog_columns=catalog_columns, consume=True)


def parse_manifest_document(
    doc: dict[str, Any], *, catalog_columns: dict[str, CatalogColumns] | None = None, consume: bool = False
) -> ParsedManifest:
    """Parse an already-decoded manifest (see :func:`load_manifest_json`).

    With ``consume=True`` the document is emptied while it is read, so each node's memory
    (compiled SQL and all) is freed as soon as it has been turned into dataclasses: the peak
    stays near the decoded document's size instead of document plus result.
    """
    with gc_paused():
        return _parse_document(doc, catalog_columns=catalog_columns, consume=consume)


# Top-level manifest keys the parser never reads; dropped first when consuming.
_UNUSED_KEYS = (
    "macros", "docs", "parent_map", "child_map", "group_map", "disabled", "exposures", "metrics",
    "semantic_models", "saved_queries", "unit_tests", "selectors", "functions", "groups",
)  # fmt: skip


def _parse_document(
    doc: dict[str, Any], *, catalog_columns: dict[str, CatalogColumns] | None, consume: bool
) -> ParsedManifest:
    metadata = doc["metadata"]
    _, schema_version = schema_version_of(metadata) or ("manifest", 0)
    project_name = metadata.get("project_name") or ""
    warnings: list[str] = []
    if not project_name:
        # Before dbt 1.6 the manifest names its project only as project_id, the md5 of the name:
        # the package whose name hashes to it is the project (exact, not a guess).
        project_name = _project_by_id(doc["nodes"], metadata.get("project_id"))
        if not project_name:
            project_name = _guess_project_name(doc["nodes"])
            warnings.append(
                f"metadata.project_name is missing; using '{project_name}' (the package with most models)."
            )
    parsed = ParsedManifest(
        project_name=project_name,
        schema_version=schema_version,
        dbt_version=str(metadata.get("dbt_version") or ""),
        generated_at=str(metadata.get("generated_at") or ""),
        invocation_id=str(metadata.get("invocation_id") or ""),
        adapter_type=str(metadata.get("adapter_type") or "").lower(),
        warnings=warnings,
    )
    if not parsed.adapter_type:
        warnings.append("metadata.adapter_type is missing: types are read without a warehouse's own aliases.")

    disabled = doc.get("disabled")
    if isinstance(disabled, dict):
        parsed.absent.update(dict.fromkeys((k for k in disabled if k.startswith("model.")), "disabled"))
    dbt_signals_read(doc, parsed)  # exposures and groups (contracts.ingest.exposures)
    if consume:
        for key in _UNUSED_KEYS:
            doc.pop(key, None)
    nodes: NodeSection = doc.pop("nodes") if consume else doc["nodes"]
    guarantees_by_node: dict[str, list[GuaranteeSpec]] = {}
    asset_nodes: list[Node | None] = []
    for unique_id in list(nodes) if consume else nodes:
        node = nodes.pop(unique_id) if consume else nodes[unique_id]
        resource_type = node.resource_type
        config = node.config or NO_CONFIG
        if config.enabled is False:
            if resource_type == "model":
                parsed.absent[unique_id] = "disabled"
            continue
        if resource_type == "test":
            guarantee = _guarantee_from_test(node)
            for target in _test_targets(node):
                bucket = guarantees_by_node.get(target)
                if bucket is None:
                    guarantees_by_node[target] = [guarantee]
                else:
                    bucket.append(guarantee)
        elif resource_type in ASSET_RESOURCE_TYPES:
            if of_another_package(node, project_name):
                parsed.package_nodes.append(package_node(node))
                continue
            if resource_type == "model" and config.materialized == "ephemeral":
                parsed.absent[unique_id] = "ephemeral"
                parsed.ephemeral_depends_on[unique_id] = list(depends_on_nodes(node))
                continue  # ephemeral models are CTEs inlined into others: no relation to contract
            asset_nodes.append(node)
    del nodes

    assets = parsed.assets
    for index, asset_node in enumerate(asset_nodes):
        assets.append(_asset_from_node(asset_node, guarantees_by_node, catalog_columns, warnings))  # type: ignore[arg-type]
        if consume:
            asset_nodes[index] = None
    sources: NodeSection = (doc.pop("sources", None) if consume else doc.get("sources")) or {}
    for unique_id in list(sources) if consume else sources:
        source = sources.pop(unique_id) if consume else sources[unique_id]
        if (source.config or NO_CONFIG).enabled is False:
            continue
        assets.append(_asset_from_node(source, guarantees_by_node, catalog_columns, warnings))
    for asset in assets:
        asset.contract.adapter = parsed.adapter_type
    if schema_version < CONTRACTS_SINCE:
        _report_old_schema(parsed, has_catalog=catalog_columns is not None)
    return parsed


def _report_old_schema(parsed: ParsedManifest, *, has_catalog: bool) -> None:
    """Say what a manifest from before dbt 1.5 cannot tell us (instead of guessing it)."""
    dbt = DBT_OF_SCHEMA.get(parsed.schema_version, "?")
    parsed.warnings.append(
        f"Manifest schema v{parsed.schema_version} (dbt {dbt}) predates model contracts and constraints "
        "(dbt 1.5): only data tests give guarantees, and tests are attached through their model argument."
    )
    columns = [c for a in parsed.assets if a.resource_type != "source" for c in a.contract.columns]
    untyped = sum(1 for c in columns if not c.data_type.strip())
    if untyped and not has_catalog:
        parsed.warnings.append(
            f"{untyped} of {len(columns)} documented columns declare no data_type: their types are unknown "
            "(not guessed) until a catalog.json is sent with the manifest."
        )


def _project_by_id(nodes: NodeSection, project_id: Any) -> str:
    if not isinstance(project_id, str) or not project_id:
        return ""
    packages = {n.package_name or "" for n in nodes.values()}
    return next((p for p in packages if p and hashlib.md5(p.encode()).hexdigest() == project_id), "")  # noqa: S324


def _guess_project_name(nodes: NodeSection) -> str:
    counts: dict[str, int] = {}
    for node in nodes.values():
        if node.resource_type == "model":
            pkg = node.package_name or ""
            counts[pkg] = counts.get(pkg, 0) + 1
    return max(counts, key=counts.__getitem__) if counts else "unknown"


def depends_on_nodes(node: Node) -> Any:
    """``depends_on.nodes`` of a node: the unique_ids it reads (a list), or () when it says none."""
    depends_on = node.depends_on
    return (depends_on.nodes if depends_on is not None else None) or ()


def _test_targets(test: Node) -> list[str]:
    """The node(s) a test is a guarantee of.

    Generic tests name theirs in ``attached_node`` (for relationships that is the child, never
    the parent it points at). Singular tests have none: they guard every node they select from.
    """
    attached = test.attached_node
    if attached:
        return [attached]
    depends = depends_on_nodes(test)
    metadata = test.test_metadata
    if metadata is not None and metadata != NO_TEST_METADATA and len(depends) > 1:
        # Old manifests without attached_node: the tested model is the one in the `model` kwarg.
        model_kwarg = str((metadata.kwargs or {}).get("model") or "")
        named = [d for d in depends if f"'{d.rsplit('.', 1)[-1]}'" in model_kwarg]
        if named:
            return named[:1]
    return list(depends)


def _severity(config: Config) -> str:
    value = str(config.severity or "error").lower()
    return "warn" if value == "warn" else "error"


def _guarantee_from_test(test: Node) -> GuaranteeSpec:
    config = test.config or NO_CONFIG
    metadata = test.test_metadata
    column = _strip_ident(test.column_name) or None
    if metadata is None or metadata == NO_TEST_METADATA:
        kind = "singular"
        arguments: dict[str, Any] = {}
    else:
        name = metadata.name or ""
        namespace = metadata.namespace
        kind = _KNOWN_GENERIC.get(name) or (f"{namespace}.{name}" if namespace else name)
        arguments = {k: v for k, v in (metadata.kwargs or {}).items() if k not in _INJECTED_KWARGS}
        if kind == "unique_combination_of_columns" and "combination_of_columns" in arguments:
            cols = arguments.pop("combination_of_columns") or []
            arguments["columns"] = [_strip_ident(c) for c in cols]
    where = config.where
    if where:
        # A filtered test promises less than an unfiltered one; keep the filter so the two differ.
        arguments["where"] = where
    return GuaranteeSpec(
        kind=kind,
        column=column,
        arguments=arguments,
        severity=_severity(config),
        test_unique_id=test.unique_id,
        name=test.name or "",
    )


def _freshness_guarantee(source: Node) -> GuaranteeSpec | None:
    freshness = source.freshness or (source.config or NO_CONFIG).freshness or {}
    if not isinstance(freshness, dict):
        return None
    warn_after = freshness.get("warn_after") or {}
    error_after = freshness.get("error_after") or {}
    if not (warn_after.get("count") or error_after.get("count")):
        return None
    arguments = {
        "warn_after": warn_after if warn_after.get("count") else None,
        "error_after": error_after if error_after.get("count") else None,
        "filter": freshness.get("filter"),
        "loaded_at_field": source.loaded_at_field,
    }
    return GuaranteeSpec(
        kind="freshness",
        column=None,
        arguments=arguments,
        severity="error" if error_after.get("count") else "warn",
        test_unique_id=source.unique_id,  # dbt reports freshness results under the source id
        name=f"freshness of {source.source_name}.{source.name}",
    )


def _tessera_meta(node: Node) -> dict[str, Any]:
    config_meta = (node.config or NO_CONFIG).meta or {}
    block = config_meta.get("tessera")
    if not isinstance(block, dict):
        block = (node.meta or {}).get("tessera")
    return block if isinstance(block, dict) else {}


def _consumers(raw: Any, unique_id: str, warnings: list[str]) -> list[ConsumerSpec]:
    if not raw:
        return []
    if not isinstance(raw, list):
        warnings.append(f"{unique_id}: meta.tessera.consumers should be a list; ignored.")
        return []
    out: list[ConsumerSpec] = []
    for entry in raw:
        if isinstance(entry, str) and entry.strip():
            out.append(ConsumerSpec(team=entry.strip()))
        elif isinstance(entry, dict) and isinstance(entry.get("team"), str) and entry["team"].strip():
            out.append(ConsumerSpec(team=entry["team"].strip(), purpose=str(entry.get("purpose") or "")))
        else:
            warnings.append(f"{unique_id}: consumer entry {entry!r} has no team; ignored.")
    return out


def _asset_from_node(
    node: Node,
    guarantees_by_node: dict[str, list[GuaranteeSpec]],
    catalog_columns: dict[str, CatalogColumns] | None,
    warnings: list[str],
) -> AssetSpec:
    unique_id = node.unique_id or ""
    resource_type = node.resource_type or ""
    config = node.config or NO_CONFIG
    if resource_type == "source":
        identifier = node.identifier or node.name or ""
    else:
        identifier = node.alias or node.name or ""

    # Columns, in declared order.
    not_null_columns: set[str] = set()
    declared: dict[str, tuple[str, str]] = {}  # name -> (raw type, description)
    column_types = config.column_types or {}  # seeds declare types here
    constraints: list[tuple[dict[str, Any], list[str]]] = []  # (constraint, its columns)
    for key, column in (node.columns or {}).items():
        raw_name = column.name or key
        name = _strip_ident(raw_name)
        if not name:
            continue
        data_type = column.data_type or column_types.get(raw_name) or ""
        declared[name] = (str(data_type), column.description or "")
        if column.constraints:
            constraints.extend((c, [name]) for c in column.constraints if isinstance(c, dict))
    for constraint in node.constraints or ():
        if isinstance(constraint, dict):
            constraints.append((constraint, [_strip_ident(c) for c in constraint.get("columns") or ()]))
    enforced = bool(((config.contract or {}).get("enforced")) or (node.contract or {}).get("enforced"))
    constraint_guarantees, notes = _constraint_guarantees(constraints, enforced=enforced)
    for raw_name, raw_type in column_types.items():
        name = _strip_ident(raw_name)
        if name and name not in declared:
            declared[name] = (str(raw_type), "")

    if catalog_columns is not None:
        # The warehouse knows the real types: they fill in and override the declared ones, and
        # columns only the warehouse knows are appended in the warehouse's order.
        for name, warehouse_type in catalog_columns.get(unique_id, ()):
            previous = declared.get(name)
            declared[name] = (warehouse_type, previous[1] if previous else "")

    guarantees: list[GuaranteeSpec] = []
    for guarantee in (*guarantees_by_node.get(unique_id, ()), *constraint_guarantees):
        guarantees.append(guarantee)
        if guarantee.kind == "not_null" and guarantee.column and "where" not in guarantee.arguments:
            not_null_columns.add(guarantee.column)
    if resource_type == "source":
        freshness = _freshness_guarantee(node)
        if freshness is not None:
            guarantees.append(freshness)

    columns = [
        ColumnSpec(name=name, data_type=data_type, nullable=name not in not_null_columns, description=desc)
        for name, (data_type, desc) in declared.items()
    ]

    tessera = _tessera_meta(node)
    mode = tessera.get("compatibility_mode")
    if mode is not None and mode not in COMPATIBILITY_MODES:
        warnings.append(
            f"{unique_id}: unknown compatibility_mode {mode!r} (expected one of "
            f"{', '.join(COMPATIBILITY_MODES)}); the asset keeps its current mode."
        )
        mode = None
    owner = tessera.get("owner_team")
    if owner is not None and not (isinstance(owner, str) and owner.strip()):
        warnings.append(f"{unique_id}: meta.tessera.owner_team {owner!r} is not a team slug; ignored.")
        owner = None
    access: dict[str, Any] = node_access(node) if resource_type == "model" else {}
    return AssetSpec(
        unique_id=unique_id,
        resource_type=resource_type,
        name=node.name or "",
        package_name=node.package_name or "",
        database=node.database or "",
        schema=node.schema or "",
        identifier=identifier,
        **model_version_fields(node, warnings),
        description=node.description or "",
        materialized=config.materialized or ("source" if resource_type == "source" else ""),
        owner_team=owner.strip() if owner else None,
        compatibility_mode=mode,
        consumers=_consumers(tessera.get("consumers"), unique_id, warnings),
        depends_on=list(depends_on_nodes(node)),
        tags=list(node.tags or ()),
        meta=dict(config.meta or node.meta or {}),
        contract=ContractSpec(columns=columns, guarantees=guarantees, mode=mode or DEFAULT_MODE, notes=notes),
        compiled_code=_compiled_code(node) if resource_type == "model" else None,
        **access,
    )


def _compiled_code(node: Node) -> str | None:
    """The model's compiled SQL, or None (dbt parse writes none; a blank string is none too)."""
    code = node.compiled_code
    if code is msgspec.UNSET:  # absent (before dbt 1.3): the older key; a null stays null
        code = node.compiled_sql
    return code if isinstance(code, str) and code.strip() else None


def _constraint_guarantee(
    kind: str, column: str | None, arguments: dict[str, Any], label: str
) -> GuaranteeSpec:
    return GuaranteeSpec(kind=kind, column=column, arguments=arguments, mechanism="constraint", name=label)


def _constraint_guarantees(
    constraints: list[tuple[dict[str, Any], list[str]]], *, enforced: bool
) -> tuple[list[GuaranteeSpec], list[str]]:
    """Guarantees promised by dbt constraints, normalised to what the same promise as a test is:
    a primary key is not_null on each column plus uniqueness over them; unique over several
    columns is a unique combination. They count only when the model's contract is enforced
    (dbt applies them only then); otherwise the note says they were not counted."""
    labels = [
        f"{c.get('type')}({', '.join(cols)})" if cols else str(c.get("type")) for c, cols in constraints
    ]
    if not constraints:
        return [], []
    if not enforced:
        return [], [
            f"Constraints {', '.join(labels)} are not counted as guarantees: contract.enforced is not true."
        ]
    out: list[GuaranteeSpec] = []
    for (constraint, columns), label in zip(constraints, labels, strict=True):
        kind = str(constraint.get("type") or "")
        label = f"constraint {label}"
        if kind in ("not_null", "primary_key"):
            out.extend(_constraint_guarantee("not_null", c, {}, label) for c in columns)
        if kind in ("unique", "primary_key") and columns:
            if len(columns) == 1:
                out.append(_constraint_guarantee("unique", columns[0], {}, label))
            else:
                out.append(
                    _constraint_guarantee(
                        "unique_combination_of_columns", None, {"columns": sorted(columns)}, label
                    )
                )
        elif kind == "check":
            column = columns[0] if len(columns) == 1 else None
            out.append(
                _constraint_guarantee(
                    "expression", column, {"expression": constraint.get("expression") or ""}, label
                )
            )
        elif (
            kind == "foreign_key"
            and constraint.get("to")
            and constraint.get("to_columns")
            and len(columns) == 1
        ):
            arguments = {"to": constraint["to"], "field": _strip_ident(constraint["to_columns"][0])}
            out.append(_constraint_guarantee("relationships", columns[0], arguments, label))
        elif kind not in ("not_null", "primary_key", "unique"):
            arguments = {"expression": constraint.get("expression") or "", "columns": columns}
            out.append(_constraint_guarantee(f"constraint.{kind}", None, arguments, label))
    return out, []
