"""Edge validation shared by the API and the dashboard: what the database would refuse with an
error 500 is refused here first, with a 4xx that names the parameter.

PostgreSQL text and jsonb cannot hold NUL (U+0000), integer columns have ranges, and Python's
``str.isdigit`` accepts digits of every script (``"¹"``, ``"٣"``), which must not name a row.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Annotated, Any

from pydantic import Field

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1

# Pydantic types for API schemas: the range of the column a value ends up in.
PageNumber = Annotated[int, Field(ge=1, le=INT32_MAX)]
Count = Annotated[int, Field(ge=0, le=INT32_MAX)]
RowCount = Annotated[int, Field(ge=0, le=INT64_MAX)]

_ASCII_DIGITS = re.compile(r"[0-9]{1,18}")
# "\u0000" in JSON text, unless its backslash is itself escaped ("\\u0000" is a literal backslash).
_JSON_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
# Naming the exact JSON path needs a parse; above this size the byte offset is reported instead.
_NAME_PATH_MAX_BYTES = 20 * 1024 * 1024
_CARRY = 4096  # bytes of the previous block searched again with the next one


def ascii_id(text: str) -> int | None:
    """The id that ``text`` spells in ASCII digits (at most 18, so it fits a bigint), else None."""
    return int(text) if _ASCII_DIGITS.fullmatch(text) else None


def has_nul(text: str) -> bool:
    return "\x00" in text


def json_nul_location(body: bytes) -> str | None:
    """Where a JSON document holds a NUL character (``results[2].message``), or None.

    A cheap byte search runs first, so a clean 200 MB manifest costs one pass of ``bytes.find``.
    """
    if b"\\u0000" not in body and b"\x00" not in body:
        return None
    raw_nul = body.find(b"\x00")
    if raw_nul >= 0:
        return f"byte {raw_nul}"
    match = _JSON_NUL_ESCAPE.search(body)
    if match is None:
        return None
    if len(body) <= _NAME_PATH_MAX_BYTES:
        import orjson

        try:
            path = value_nul_path(orjson.loads(body))
        except orjson.JSONDecodeError:
            path = None
        if path is not None:
            return path or "the document"
    return f"byte {match.end() - 6}"


def json_nul_offset(blocks: Iterable[bytes]) -> int | None:
    """The byte offset of the first NUL (raw, or the ``\\u0000`` escape) in JSON read block by
    block, or None: what :func:`json_nul_location` finds, without holding the document.

    Each block is searched together with the end of the one before (cut after a character that
    is not a backslash, so an escaped backslash is read as one), so an escape cut in two between
    blocks is found too.
    """
    carry = b""
    start = 0  # offset of ``carry`` in the document
    for block in blocks:
        window = carry + block
        if b"\\u0000" in window or b"\x00" in window:
            raw_nul = window.find(b"\x00")
            match = _JSON_NUL_ESCAPE.search(window)
            found = [p for p in (raw_nul, match.end() - 6 if match else -1) if p >= 0]
            if found:
                return start + min(found)
        cut = max(0, len(window) - _CARRY)
        while cut > 0 and window[cut - 1] == 0x5C:  # never cut a run of backslashes in two
            cut -= 1
        start += cut
        carry = window[cut:]
    return None


def value_nul_path(value: Any, path: str = "") -> str | None:
    """The path of the first string (value or key) holding NUL in a decoded JSON value."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            if "\x00" in str(key):
                return child.replace("\x00", "\\u0000")
            found = value_nul_path(item, child)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = value_nul_path(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None
