"""Tessera's own result format, for any tool that is not dbt, GX or Soda.

Documented in ``audits/README.md``; the JSON Schema is ``generic.schema.json`` beside this file.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import orjson

from audits.ingest._common import load_json, parse_time, short
from audits.ingest.types import FORMAT_GENERIC, CheckOutcome, ParsedResults, ResultFileError

FORMAT_ID = "tessera.audit-results/v1"
SCHEMA_PATH = Path(__file__).with_name("generic.schema.json")


@cache
def _validator() -> jsonschema.protocols.Validator:
    schema = orjson.loads(SCHEMA_PATH.read_bytes())
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def looks_like(doc: Any) -> bool:
    return isinstance(doc, dict) and doc.get("format") == FORMAT_ID


def parse(data: bytes | str | dict[str, Any]) -> ParsedResults:
    doc = data if isinstance(data, dict) else load_json(data)
    errors = sorted(_validator().iter_errors(doc), key=lambda e: list(e.absolute_path))
    if errors:
        where = "/".join(str(p) for p in errors[0].absolute_path) or "(top level)"
        raise ResultFileError(
            f"Not a valid {FORMAT_ID} document: at {where}: {errors[0].message}"
            + (f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else "")
        )
    default_asset = doc.get("asset")
    checks = [
        CheckOutcome(
            name=item["name"],
            status=item["status"],
            check_type=item.get("check_type") or "",
            unique_id=item["guarantee"] if str(item.get("guarantee") or "").startswith("test.") else None,
            table=item.get("table"),
            column=item.get("column"),
            failing_rows=item.get("failing_rows"),
            message=short(item.get("message")),
            guarantee=item.get("guarantee"),
            asset=item.get("asset") or default_asset,
        )
        for item in doc["checks"]
    ]
    return ParsedResults(
        format=FORMAT_GENERIC,
        tool=doc.get("tool") or "generic",
        run_id=doc.get("run_id"),
        started_at=parse_time(doc.get("started_at")),
        finished_at=parse_time(doc.get("finished_at")),
        partial=bool(doc.get("partial")),
        checks=checks,
    )
