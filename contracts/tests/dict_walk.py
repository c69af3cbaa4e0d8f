"""The parser's walk over plain dicts, as it was at f130a5e (before the walk read msgspec Structs):
kept only as the yardstick of ``test_manifest_decode`` (the old ingestion is ``orjson.loads`` of
the whole file, then this walk). Not app code: do not import it from contracts.

A verbatim copy of ``contracts/ingest/manifest.py`` (from ``DBT_OF_SCHEMA`` on), ``versions.py``,
``packages.py`` and ``exposures.node_access`` of that commit; the exposures and groups sections
are still read from dicts by ``contracts.ingest.exposures``, which it imports.
"""

# ruff: noqa
# mypy: ignore-errors
from __future__ import annotations

import hashlib
import re
from typing import Any

from contracts.domain import (
    COMPATIBILITY_MODES,
    DEFAULT_MODE,
    AssetSpec,
    ColumnSpec,
    ConsumerSpec,
    ContractSpec,
    GuaranteeSpec,
    PackageNode,
    ParsedManifest,
    relation_name,
)
from contracts.ingest.catalog import CatalogColumns
from contracts.ingest.errors import ManifestError
from contracts.ingest.exposures import ACCESS_LEVELS, dbt_signals_read
from contracts.ingest.manifest_decode import gc_paused, schema_version_of

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
    nodes: dict[str, Any] = doc.pop("nodes") if consume else doc["nodes"]
    guarantees_by_node: dict[str, list[GuaranteeSpec]] = {}
    asset_nodes: list[dict[str, Any] | None] = []
    for unique_id in list(nodes) if consume else nodes:
        node = nodes.pop(unique_id) if consume else nodes[unique_id]
        if not isinstance(node, dict):
            raise ManifestError("not_a_manifest", f"Node {unique_id!r} is not an object.")
        resource_type = node.get("resource_type")
        config = node.get("config") or {}
        if config.get("enabled") is False:
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
            if resource_type == "model" and config.get("materialized") == "ephemeral":
                parsed.absent[unique_id] = "ephemeral"
                parsed.ephemeral_depends_on[unique_id] = list(
                    (node.get("depends_on") or {}).get("nodes") or ()
                )
                continue  # ephemeral models are CTEs inlined into others: no relation to contract
            asset_nodes.append(node)
    del nodes

    assets = parsed.assets
    for index, node in enumerate(asset_nodes):
        assets.append(_asset_from_node(node, guarantees_by_node, catalog_columns, warnings))  # type: ignore[arg-type]
        if consume:
            asset_nodes[index] = None
    sources: dict[str, Any] = (doc.pop("sources", None) if consume else doc.get("sources")) or {}
    for unique_id in list(sources) if consume else sources:
        source = sources.pop(unique_id) if consume else sources[unique_id]
        if not isinstance(source, dict) or (source.get("config") or {}).get("enabled") is False:
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


def _project_by_id(nodes: dict[str, Any], project_id: Any) -> str:
    if not isinstance(project_id, str) or not project_id:
        return ""
    packages = {n.get("package_name") or "" for n in nodes.values() if isinstance(n, dict)}
    return next((p for p in packages if p and hashlib.md5(p.encode()).hexdigest() == project_id), "")  # noqa: S324


def _guess_project_name(nodes: dict[str, Any]) -> str:
    counts: dict[str, int] = {}
    for node in nodes.values():
        if isinstance(node, dict) and node.get("resource_type") == "model":
            pkg = node.get("package_name") or ""
            counts[pkg] = counts.get(pkg, 0) + 1
    return max(counts, key=counts.__getitem__) if counts else "unknown"


def _test_targets(test: dict[str, Any]) -> list[str]:
    """The node(s) a test is a guarantee of.

    Generic tests name theirs in ``attached_node`` (for relationships that is the child, never
    the parent it points at). Singular tests have none: they guard every node they select from.
    """
    attached = test.get("attached_node")
    if attached:
        return [attached]
    depends = (test.get("depends_on") or {}).get("nodes") or []
    if test.get("test_metadata") and len(depends) > 1:
        # Old manifests without attached_node: the tested model is the one in the `model` kwarg.
        model_kwarg = str((test["test_metadata"].get("kwargs") or {}).get("model") or "")
        named = [d for d in depends if f"'{d.rsplit('.', 1)[-1]}'" in model_kwarg]
        if named:
            return named[:1]
    return list(depends)


def _severity(config: dict[str, Any]) -> str:
    value = str(config.get("severity") or "error").lower()
    return "warn" if value == "warn" else "error"


def _guarantee_from_test(test: dict[str, Any]) -> GuaranteeSpec:
    config = test.get("config") or {}
    metadata = test.get("test_metadata")
    column = _strip_ident(test.get("column_name")) or None
    if not metadata:
        kind = "singular"
        arguments: dict[str, Any] = {}
    else:
        name = metadata.get("name") or ""
        namespace = metadata.get("namespace")
        kind = _KNOWN_GENERIC.get(name) or (f"{namespace}.{name}" if namespace else name)
        arguments = {k: v for k, v in (metadata.get("kwargs") or {}).items() if k not in _INJECTED_KWARGS}
        if kind == "unique_combination_of_columns" and "combination_of_columns" in arguments:
            cols = arguments.pop("combination_of_columns") or []
            arguments["columns"] = [_strip_ident(c) for c in cols]
    where = config.get("where")
    if where:
        # A filtered test promises less than an unfiltered one; keep the filter so the two differ.
        arguments["where"] = where
    return GuaranteeSpec(
        kind=kind,
        column=column,
        arguments=arguments,
        severity=_severity(config),
        test_unique_id=test.get("unique_id"),
        name=test.get("name") or "",
    )


def _freshness_guarantee(source: dict[str, Any]) -> GuaranteeSpec | None:
    freshness = source.get("freshness") or (source.get("config") or {}).get("freshness") or {}
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
        "loaded_at_field": source.get("loaded_at_field"),
    }
    return GuaranteeSpec(
        kind="freshness",
        column=None,
        arguments=arguments,
        severity="error" if error_after.get("count") else "warn",
        test_unique_id=source.get("unique_id"),  # dbt reports freshness results under the source id
        name=f"freshness of {source.get('source_name')}.{source.get('name')}",
    )


def _tessera_meta(node: dict[str, Any]) -> dict[str, Any]:
    config_meta = (node.get("config") or {}).get("meta") or {}
    block = config_meta.get("tessera")
    if not isinstance(block, dict):
        block = (node.get("meta") or {}).get("tessera")
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
    node: dict[str, Any],
    guarantees_by_node: dict[str, list[GuaranteeSpec]],
    catalog_columns: dict[str, CatalogColumns] | None,
    warnings: list[str],
) -> AssetSpec:
    unique_id = node.get("unique_id") or ""
    resource_type = node.get("resource_type") or ""
    config = node.get("config") or {}
    if resource_type == "source":
        identifier = node.get("identifier") or node.get("name") or ""
    else:
        identifier = node.get("alias") or node.get("name") or ""

    # Columns, in declared order.
    not_null_columns: set[str] = set()
    declared: dict[str, tuple[str, str]] = {}  # name -> (raw type, description)
    column_types = config.get("column_types") or {}  # seeds declare types here
    constraints: list[tuple[dict[str, Any], list[str]]] = []  # (constraint, its columns)
    for key, column in (node.get("columns") or {}).items():
        name = _strip_ident(column.get("name") or key)
        if not name:
            continue
        data_type = column.get("data_type") or column_types.get(column.get("name") or key) or ""
        declared[name] = (str(data_type), column.get("description") or "")
        constraints.extend((c, [name]) for c in column.get("constraints") or () if isinstance(c, dict))
    for constraint in node.get("constraints") or ():
        if isinstance(constraint, dict):
            constraints.append((constraint, [_strip_ident(c) for c in constraint.get("columns") or ()]))
    enforced = bool(
        ((config.get("contract") or {}).get("enforced")) or (node.get("contract") or {}).get("enforced")
    )
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
        name=node.get("name") or "",
        package_name=node.get("package_name") or "",
        database=node.get("database") or "",
        schema=node.get("schema") or "",
        identifier=identifier,
        **model_version_fields(node, warnings),
        description=node.get("description") or "",
        materialized=config.get("materialized") or ("source" if resource_type == "source" else ""),
        owner_team=owner.strip() if owner else None,
        compatibility_mode=mode,
        consumers=_consumers(tessera.get("consumers"), unique_id, warnings),
        depends_on=list((node.get("depends_on") or {}).get("nodes") or ()),
        tags=list(node.get("tags") or ()),
        meta=dict(config.get("meta") or node.get("meta") or {}),
        contract=ContractSpec(columns=columns, guarantees=guarantees, mode=mode or DEFAULT_MODE, notes=notes),
        compiled_code=_compiled_code(node) if resource_type == "model" else None,
        **access,
    )


def _compiled_code(node: dict[str, Any]) -> str | None:
    """The model's compiled SQL, or None (dbt parse writes none; a blank string is none too)."""
    code = node.get("compiled_code", node.get("compiled_sql"))
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


# --- contracts/ingest/versions.py -----------------------------------------------------------
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def model_version_fields(node: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    """``version``, ``latest_version``, ``deprecation_date`` and ``unpinned_refs`` of a node (all
    empty for an unversioned model, a seed or a source; ``unpinned_refs`` for any reading node)."""
    version = node.get("version")
    latest = node.get("latest_version")
    return {
        "version": None if version is None else str(version),
        "latest_version": None if latest is None or version is None else str(latest),
        "deprecation_date": _deprecation_date(node, warnings),
        "unpinned_refs": unpinned_refs(node),
    }


def _deprecation_date(node: dict[str, Any], warnings: list[str]) -> str:
    """The day a version is deprecated, ``YYYY-MM-DD`` (dbt writes a timestamp, midnight UTC)."""
    raw = node.get("deprecation_date")
    if raw is None or raw == "":
        return ""
    match = _ISO_DATE.match(str(raw))
    if match is None:
        warnings.append(f"{node.get('unique_id')}: deprecation_date {raw!r} is not a date; ignored.")
        return ""
    return match.group(0)


def unpinned_refs(node: dict[str, Any]) -> list[str]:
    """The versioned models a node reads through a ref without ``v=``: dbt resolves such a ref to
    the model's latest version, so the node moves to the next latest on its next build.

    ``refs`` says which refs name no version (``{"name", "package", "version": null}``, dbt 1.5+);
    ``depends_on`` says what each resolved to (``model.<package>.<name>.v<N>``). A node that pins
    the same version another of its refs leaves unpinned still follows the latest.
    """
    refs = node.get("refs")
    depends = (node.get("depends_on") or {}).get("nodes") or ()
    if not refs or not depends or not isinstance(refs, list):
        return []
    versioned: dict[tuple[str, str], list[str]] = {}  # (package, name) -> versioned node ids
    for dep in depends:
        parts = dep.split(".") if isinstance(dep, str) else ()
        if len(parts) == 4 and parts[0] == "model" and parts[3].startswith("v"):
            versioned.setdefault((parts[1], parts[2]), []).append(dep)
    if not versioned:
        return []
    unpinned: set[tuple[str | None, str]] = set()
    pinned: set[str] = set()
    for ref in refs:
        if not isinstance(ref, dict) or not isinstance(ref.get("name"), str):
            continue  # before dbt 1.5 refs are lists of names: no versions to follow
        package = ref.get("package")
        if ref.get("version") is None:
            unpinned.add((package, ref["name"]))
        else:
            pinned.add(f"{ref['name']}.v{ref['version']}")
    found: list[str] = []
    for (package, name), ids in versioned.items():
        if not any(n == name and p in (None, package) for p, n in unpinned):
            continue
        followed = [i for i in ids if f"{name}.{i.rsplit('.', 1)[-1]}" not in pinned] or ids
        found.extend(followed)
    return sorted(found)


# --- contracts/ingest/packages.py -----------------------------------------------------------
def of_another_package(node: dict[str, Any], project_name: str) -> bool:
    """A node whose package is not the manifest's project."""
    package = node.get("package_name")
    return bool(package) and package != project_name


def package_node(node: dict[str, Any]) -> PackageNode:
    """What the sync needs to know of a node of another package: which relation, whose, whether
    it was injected from another project's manifest."""
    version = node.get("version")
    return PackageNode(
        unique_id=node.get("unique_id") or "",
        package_name=node.get("package_name") or "",
        resource_type=node.get("resource_type") or "",
        name=node.get("name") or "",
        relation=relation_name(
            node.get("database") or "", node.get("schema") or "", node.get("alias") or node.get("name") or ""
        ),
        version=None if version is None else str(version),
        access=node_access(node)["access"],  # the same reading as the project's own models
        external=not node.get("original_file_path") and not node.get("path"),
    )


# --- contracts/ingest/exposures.py (node_access) ----------------------------------------------
def node_access(node: dict[str, Any]) -> dict[str, str]:
    """A model's dbt ``access`` and ``group`` (top level, or in its config), "" when not said."""
    config = node.get("config") or {}
    access = str(node.get("access") or config.get("access") or "").strip().lower()
    group = node.get("group") or config.get("group") or ""
    return {
        "access": access if access in ACCESS_LEVELS else "",
        "group": group.strip() if isinstance(group, str) else "",
    }
