"""Model versions in a manifest (dbt 1.5+): which version a node is, the model's latest version,
the version's deprecation date, and which versioned models a node reads without pinning a version.

Pure, like the rest of ``contracts.ingest``: nodes of the decoded manifest in, plain values out.
"""

from __future__ import annotations

import re
from typing import Any

from contracts.ingest.manifest_schema import Node

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def model_version_fields(node: Node, warnings: list[str]) -> dict[str, Any]:
    """``version``, ``latest_version``, ``deprecation_date`` and ``unpinned_refs`` of a node (all
    empty for an unversioned model, a seed or a source; ``unpinned_refs`` for any reading node)."""
    version = node.version
    latest = node.latest_version
    return {
        "version": None if version is None else str(version),
        "latest_version": None if latest is None or version is None else str(latest),
        "deprecation_date": _deprecation_date(node, warnings),
        "unpinned_refs": unpinned_refs(node),
    }


def _deprecation_date(node: Node, warnings: list[str]) -> str:
    """The day a version is deprecated, ``YYYY-MM-DD`` (dbt writes a timestamp, midnight UTC)."""
    raw = node.deprecation_date
    if raw is None or raw == "":
        return ""
    match = _ISO_DATE.match(str(raw))
    if match is None:
        warnings.append(f"{node.unique_id}: deprecation_date {raw!r} is not a date; ignored.")
        return ""
    return match.group(0)


def unpinned_refs(node: Node) -> list[str]:
    """The versioned models a node reads through a ref without ``v=``: dbt resolves such a ref to
    the model's latest version, so the node moves to the next latest on its next build.

    ``refs`` says which refs name no version (``{"name", "package", "version": null}``, dbt 1.5+);
    ``depends_on`` says what each resolved to (``model.<package>.<name>.v<N>``). A node that pins
    the same version another of its refs leaves unpinned still follows the latest.
    """
    refs = node.refs
    depends = (node.depends_on.nodes if node.depends_on is not None else None) or ()
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
