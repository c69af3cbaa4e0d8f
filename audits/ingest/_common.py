"""Small helpers shared by the result-file parsers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from audits.ingest.types import ResultFileError


def load_json(data: bytes | str) -> Any:
    if isinstance(data, str):
        data = data.encode()
    if not data or not data.strip():
        raise ResultFileError("The file is empty.")
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ResultFileError(f"The file is not valid JSON ({exc}).") from None


def parse_time(value: Any) -> datetime | None:
    """ISO-8601 (with ``Z``, offsets or none: naive times are taken as UTC) or epoch seconds."""
    if value in (None, ""):
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, tz=UTC)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    # GX writes run names like "20240101T120000.123456Z"; accept that compact form too.
    for candidate in (text,):
        try:
            parsed = datetime.fromisoformat(candidate)
        except ValueError:
            continue
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    for fmt in ("%Y%m%dT%H%M%S.%f%z", "%Y%m%dT%H%M%S%z"):
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def as_int(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def short(text: Any, limit: int = 2000) -> str:
    """Messages and tracebacks are kept for people, not archived whole."""
    if text is None:
        return ""
    text = str(text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"
