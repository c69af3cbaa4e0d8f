"""Pure parsers of data-quality result files: bytes in, ``ParsedResults`` out, no database.

``detect_format`` recognises dbt ``run_results.json`` and ``sources.json``, Great Expectations 1.x validation and
checkpoint results, Soda Core scan results and Tessera's generic format; ``parse_results`` parses
with the named or detected format. Anything else raises ``ResultFileError`` with a reason.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from audits.ingest import dbt_run_results, dbt_sources, generic, great_expectations, soda
from audits.ingest._common import load_json
from audits.ingest.types import (
    CHECK_STATUSES,
    FORMAT_DBT,
    FORMAT_GENERIC,
    FORMAT_GX,
    FORMAT_SODA,
    FORMATS,
    BuildOutcome,
    CheckOutcome,
    ParsedResults,
    ResultFileError,
)

__all__ = [
    "CHECK_STATUSES",
    "FORMATS",
    "BuildOutcome",
    "CheckOutcome",
    "ParsedResults",
    "ResultFileError",
    "detect_document_format",
    "detect_format",
    "parse_results",
]

# Checked in this order; each test looks at distinctive keys only, so they do not overlap.
_DETECTORS: tuple[tuple[str, Callable[[Any], bool]], ...] = (
    (FORMAT_GENERIC, generic.looks_like),
    (FORMAT_DBT, lambda doc: dbt_run_results.looks_like(doc) or dbt_sources.looks_like(doc)),
    (FORMAT_GX, great_expectations.looks_like),
    (FORMAT_SODA, soda.looks_like),
)


def _parse_dbt(doc: Any) -> ParsedResults:
    """Both dbt artifacts with results: run_results.json and sources.json (source freshness)."""
    return dbt_sources.parse(doc) if dbt_sources.looks_like(doc) else dbt_run_results.parse(doc)


_PARSERS: dict[str, Callable[[Any], ParsedResults]] = {
    FORMAT_DBT: _parse_dbt,
    FORMAT_GX: great_expectations.parse,
    FORMAT_SODA: soda.parse,
    FORMAT_GENERIC: generic.parse,
}
# Names people are likely to type for ?format=.
_ALIASES = {
    "dbt": FORMAT_DBT,
    "run_results": FORMAT_DBT,
    "dbt_run_results": FORMAT_DBT,
    "gx": FORMAT_GX,
    "great_expectations": FORMAT_GX,
    "great-expectations": FORMAT_GX,
    "soda": FORMAT_SODA,
    "soda_core": FORMAT_SODA,
    "generic": FORMAT_GENERIC,
    "tessera": FORMAT_GENERIC,
}


def normalize_format(name: str | None) -> str | None:
    if name is None or not str(name).strip():
        return None
    key = str(name).strip().lower()
    if key not in _ALIASES:
        raise ResultFileError(f"Unknown format {name!r}: use one of {', '.join(FORMATS)}.")
    return _ALIASES[key]


def _detect(doc: Any) -> str:
    for name, looks_like in _DETECTORS:
        if looks_like(doc):
            return name
    raise ResultFileError(
        "Unknown result file: not a dbt run_results.json or sources.json, a Great Expectations validation or "
        "checkpoint result, a Soda scan result (-srf) or a tessera.audit-results/v1 document."
    )


def detect_format(data: bytes | str) -> str:
    return _detect(load_json(data))


def detect_document_format(doc: Any) -> str:
    """The format of a decoded document, or of its outline (``audits.ingest.outline``)."""
    return _detect(doc)


def parse_results(data: bytes | str, format: str | None = None) -> ParsedResults:  # noqa: A002
    doc = load_json(data)
    name = normalize_format(format) or _detect(doc)
    if name != FORMAT_GENERIC and not isinstance(doc, dict):
        raise ResultFileError("A result file must be a JSON object.")
    return _PARSERS[name](doc)
