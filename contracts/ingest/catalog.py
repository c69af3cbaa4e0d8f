"""Parse a dbt ``catalog.json`` into warehouse column types per node. Pure, no ORM."""

from __future__ import annotations

import orjson

from contracts.ingest.errors import ManifestError

# (lower-cased column name, warehouse type) in warehouse column order
CatalogColumns = list[tuple[str, str]]


def parse_catalog(data: bytes | str) -> dict[str, CatalogColumns]:
    """Map each node / source unique_id of the catalog to its columns in warehouse order."""
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ManifestError("invalid_catalog", f"The catalog is not valid JSON: {exc}.") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("nodes"), dict):
        raise ManifestError(
            "invalid_catalog",
            "The catalog is not a dbt catalog.json (no 'nodes' object); send target/catalog.json.",
        )
    schema_url = str((doc.get("metadata") or {}).get("dbt_schema_version") or "")
    if schema_url and "/catalog/" not in schema_url:
        raise ManifestError(
            "invalid_catalog", f"The catalog field holds another dbt artifact ({schema_url})."
        )
    out: dict[str, CatalogColumns] = {}
    for section in ("nodes", "sources"):
        for unique_id, entry in (doc.get(section) or {}).items():
            if not isinstance(entry, dict):
                continue
            columns: list[tuple[int, str, str]] = []
            for key, column in (entry.get("columns") or {}).items():
                if not isinstance(column, dict):
                    continue
                name = str(column.get("name") or key).strip().strip('"`[]').lower()
                index = column.get("index")
                columns.append(
                    (index if isinstance(index, int) else 1_000_000, name, str(column.get("type") or ""))
                )
            columns.sort(key=lambda c: c[0])
            out[unique_id] = [(name, data_type) for _, name, data_type in columns]
    return out
