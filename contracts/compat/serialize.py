"""Contract specs to and from the JSON stored on ContractVersion rows (pure: no ORM).

``ContractVersion.columns`` holds ``{name, data_type, normalized_type, nullable, description}``
per column, in order; ``ContractVersion.guarantees`` holds ``GuaranteeSpec.as_dict()`` items.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from contracts.compat.types.parse import normalize_type, parse_type
from contracts.domain import DEFAULT_MODE, ColumnSpec, ContractSpec, GuaranteeSpec


def column_to_json(column: ColumnSpec, adapter: str = "") -> dict[str, Any]:
    return {**column.as_dict(), "normalized_type": normalize_type(column.data_type, adapter)}


def columns_to_json(spec: ContractSpec) -> list[dict[str, Any]]:
    """``column_to_json`` of each column, spelled out: a sync writes 112,000 of them for 5,000 models."""
    adapter = spec.adapter
    return [
        {
            "name": c.name,
            "data_type": c.data_type,
            "nullable": c.nullable,
            "description": c.description,
            "normalized_type": parse_type(c.data_type, adapter).canonical,
        }
        for c in spec.columns
    ]


def guarantees_to_json(spec: ContractSpec) -> list[dict[str, Any]]:
    return [g.as_dict() for g in spec.guarantees]


def spec_from_json(
    columns: Iterable[Mapping[str, Any]] | None,
    guarantees: Iterable[Mapping[str, Any]] | None,
    mode: str | None = None,
) -> ContractSpec:
    """Rebuild a ContractSpec from stored JSON; tolerant of missing keys in older rows."""
    return ContractSpec(
        columns=[
            ColumnSpec(
                name=str(c.get("name", "")).lower(),
                data_type=str(c.get("data_type") or ""),
                nullable=bool(c.get("nullable", True)),
                description=str(c.get("description") or ""),
            )
            for c in (columns or [])
        ],
        guarantees=[
            GuaranteeSpec(
                kind=str(g.get("kind", "")),
                column=g.get("column") or None,
                arguments=dict(g.get("arguments") or {}),
                severity=str(g.get("severity") or "error"),
                test_unique_id=g.get("test_unique_id") or None,
                name=str(g.get("name") or ""),
                mechanism=str(g.get("mechanism") or "test"),
            )
            for g in (guarantees or [])
        ],
        mode=mode or DEFAULT_MODE,
    )


def spec_from_version(version: Any) -> ContractSpec:
    """A ContractSpec from anything shaped like a ContractVersion row."""
    return spec_from_json(version.columns, version.guarantees, version.compatibility_mode)
