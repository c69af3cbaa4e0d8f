"""dbt's own consumer and ownership signals in a manifest: exposures, groups, model access.

- ``exposures`` (dbt 1.0+): consumers outside dbt (dashboards, notebooks, ML models,
  applications), each with an ``owner`` (name and/or email) and the nodes it ``depends_on``.
- ``groups`` (dbt 1.5+, schema v9): a named owner of a set of models.
- ``access`` and ``group`` on models (dbt 1.5+): ``public`` models are meant to be read across
  projects, ``protected`` ones only inside their project, ``private`` ones only inside their group.

Manifests of older dbt versions lack some or all of these: an absent section is empty, never an
error. Entries that are not what dbt writes are skipped with a warning. Pure: no ORM, no I/O.
"""

from __future__ import annotations

from typing import Any

from contracts.domain import DbtOwner, ExposureSpec, GroupSpec, ParsedManifest
from contracts.ingest.manifest_schema import NO_CONFIG, Node

ACCESS_LEVELS = ("private", "protected", "public")

__all__ = ["ACCESS_LEVELS", "dbt_signals_read", "exposures_parse", "groups_parse", "node_access"]


def dbt_signals_read(doc: dict[str, Any], parsed: ParsedManifest) -> None:
    """Fill ``parsed.exposures`` and ``parsed.groups`` from the manifest's sections of those names."""
    parsed.exposures = exposures_parse(doc.get("exposures"), parsed.warnings)
    parsed.groups = groups_parse(doc.get("groups"), parsed.warnings)


def node_access(node: Node) -> dict[str, str]:
    """A model's dbt ``access`` and ``group`` (top level, or in its config), "" when not said."""
    config = node.config or NO_CONFIG
    access = str(node.access or config.access or "").strip().lower()
    group = node.group or config.group or ""
    return {
        "access": access if access in ACCESS_LEVELS else "",
        "group": group.strip() if isinstance(group, str) else "",
    }


def _owner(raw: Any) -> DbtOwner:
    if not isinstance(raw, dict):
        return DbtOwner()
    name, email = raw.get("name"), raw.get("email")
    return DbtOwner(
        name=name.strip() if isinstance(name, str) else "",
        email=email.strip().lower() if isinstance(email, str) else "",
    )


def _meta(entry: dict[str, Any]) -> dict[str, Any]:
    meta = (entry.get("config") or {}).get("meta") or entry.get("meta") or {}
    return meta if isinstance(meta, dict) else {}


def _tessera_team(meta: dict[str, Any], unique_id: str, warnings: list[str]) -> str | None:
    block = meta.get("tessera")
    team = block.get("team") if isinstance(block, dict) else None
    if team is None:
        return None
    if isinstance(team, str) and team.strip():
        return team.strip()
    warnings.append(f"{unique_id}: meta.tessera.team {team!r} is not a team slug; ignored.")
    return None


def _entries(section: Any, kind: str, warnings: list[str]) -> list[tuple[str, dict[str, Any]]]:
    if not section:
        return []
    if not isinstance(section, dict):
        warnings.append(f"The manifest's '{kind}' is not an object; its {kind} are ignored.")
        return []
    out = []
    for unique_id, entry in section.items():
        if not isinstance(entry, dict):
            warnings.append(f"{kind[:-1].capitalize()} {unique_id!r} is not an object; ignored.")
        elif (entry.get("config") or {}).get("enabled") is not False:
            out.append((str(entry.get("unique_id") or unique_id), entry))
    return out


def exposures_parse(section: Any, warnings: list[str]) -> list[ExposureSpec]:
    """The enabled exposures, in manifest order."""
    out = []
    for unique_id, entry in _entries(section, "exposures", warnings):
        meta = _meta(entry)
        depends = (entry.get("depends_on") or {}).get("nodes") or []
        out.append(
            ExposureSpec(
                unique_id=unique_id,
                name=str(entry.get("name") or unique_id.rsplit(".", 1)[-1]),
                type=str(entry.get("type") or ""),
                label=str(entry.get("label") or ""),
                description=str(entry.get("description") or ""),
                url=str(entry.get("url") or ""),
                maturity=str(entry.get("maturity") or ""),
                owner=_owner(entry.get("owner")),
                depends_on=[d for d in depends if isinstance(d, str)],
                meta=meta,
                team=_tessera_team(meta, unique_id, warnings),
                columns=_exposure_columns(meta, unique_id, warnings),
            )
        )
    return out


def _exposure_columns(
    meta: dict[str, Any], unique_id: str, warnings: list[str]
) -> dict[str, list[str]] | None:
    """``meta.tessera.columns``: a list (the columns it reads of every node it depends on) or a
    mapping of node (unique_id or name) → list. Lower-cased, as contracts name columns."""
    block = meta.get("tessera")
    raw = block.get("columns") if isinstance(block, dict) else None
    if raw is None:
        return None
    if isinstance(raw, list):
        raw = {"*": raw}
    if not isinstance(raw, dict) or not all(isinstance(v, list) for v in raw.values()):
        warnings.append(
            f"{unique_id}: meta.tessera.columns should be a list of columns or a mapping of node to "
            "columns; ignored (its usage is unknown)."
        )
        return None
    return {str(k): [str(c).strip().lower() for c in v if str(c).strip()] for k, v in raw.items()}


def groups_parse(section: Any, warnings: list[str]) -> list[GroupSpec]:
    """The groups (dbt 1.5+), in manifest order."""
    out = []
    for unique_id, entry in _entries(section, "groups", warnings):
        out.append(
            GroupSpec(
                unique_id=unique_id,
                name=str(entry.get("name") or unique_id.rsplit(".", 1)[-1]),
                owner=_owner(entry.get("owner")),
                description=str(entry.get("description") or ""),
                team=_tessera_team(_meta(entry), unique_id, warnings),
            )
        )
    return out
