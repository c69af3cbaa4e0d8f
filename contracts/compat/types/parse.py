"""Type spellings in, :class:`~contracts.compat.types.info.TypeInfo` out.

:func:`normalize_type` maps a raw spelling from DuckDB, PostgreSQL, Snowflake, BigQuery, Redshift
or Databricks to one lower-case canonical spelling that keeps length and precision. The
warehouse's own table (:mod:`~contracts.compat.types.warehouses`) applies first, then the shared
spellings (:mod:`~contracts.compat.types.spellings`), one family at a time. Arrays, structs and
maps are parsed into their parts, each remembered as written. Anything not recognised normalises
to ``unknown:<raw>``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from functools import lru_cache

from contracts.compat.types.info import (
    UNKNOWN,
    TypeInfo,
    bytes_type,
    composite_type,
    decimal_type,
    float_type,
    integer_type,
    string_type,
    temporal_type,
    unknown_type,
)
from contracts.compat.types.spellings import (
    BARE_COMPOSITES,
    BOOL_NAMES,
    BYTES_NAMES,
    CHAR_NAMES,
    DECIMAL_NAMES,
    DISPLAY_WIDTH_INTS,
    DUCKDB_TIMESTAMPS,
    FLOAT_ALIASES,
    INT_ALIASES,
    OPAQUE_ALIASES,
    OPAQUE_WITH_ARGS,
    TIME_ALIASES,
    TIMESTAMP_ALIASES,
    VARCHAR_NAMES,
)
from contracts.compat.types.warehouses import ADAPTER_TYPES

_NAME_ARGS = re.compile(r"^(?P<name>[a-z_][a-z0-9_ ]*)(?:\((?P<args>[^()]*)\))?(?P<rest>(?: ?[a-z ]+)?)$")
_STRUCT_FIELD = re.compile(r"(?P<name>\"[^\"]+\"|`[^`]+`|[a-z_][a-z0-9_$]*)(?::| )(?P<type>.+)")


@lru_cache(maxsize=8192)
def parse_type(raw: str, adapter: str = "") -> TypeInfo:
    """Parse a raw type spelling, as written for ``adapter`` (dbt's ``metadata.adapter_type``; ""
    for none), into a :class:`TypeInfo` (cached: manifests repeat types a lot)."""
    if raw is None or not str(raw).strip():
        return unknown_type("")
    info = _parse(clean_type_text(str(raw)), (adapter or "").lower())
    if info.is_unknown and info.canonical != UNKNOWN:
        return unknown_type(str(raw))
    return info


def normalize_type(raw: str, adapter: str = "") -> str:
    """Canonical lower-case spelling of a raw type; ``unknown`` / ``unknown:<raw>`` when not recognised.

    >>> normalize_type("INT4"), normalize_type("NUMERIC(12, 2)"), normalize_type("character varying(50)")
    ('integer', 'decimal(12,2)', 'varchar(50)')
    >>> normalize_type("BIGINT", "snowflake"), normalize_type("INTEGER", "bigquery")
    ('decimal(38,0)', 'bigint')
    """
    return parse_type(raw, adapter).canonical


def clean_type_text(raw: str) -> str:
    """Lower case, quotes and needless spaces gone, one space after each comma."""
    text = raw.strip().strip('"`').lower()
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\s*([(),<>\[\]:])\s*", r"\1", text)
    return text.replace(",", ", ")


def _parse(text: str, adapter: str = "") -> TypeInfo:
    text = text.strip()
    if not text:
        return unknown_type(text)
    container = _parse_container(text, adapter)
    if container is not None:
        return container
    return _parse_named(text, adapter)


# --- composites ---------------------------------------------------------------------------------


def _parse_container(text: str, adapter: str) -> TypeInfo | None:
    """Any composite spelling: ``integer[]``, ``STRUCT<…>``, a bare ``ARRAY``, PostgreSQL's ``_int4``."""
    composite = _parse_composite(text, adapter)
    if composite is not None:
        return composite
    if text in BARE_COMPOSITES:
        kind = BARE_COMPOSITES[text]
        return TypeInfo(canonical=kind, family="composite", composite=kind)
    # PostgreSQL's internal array names (information_schema udt_name): _int4, _text
    if text.startswith("_") and len(text) > 1:
        elem = _parse(text[1:], adapter)
        if elem.is_unknown:
            return unknown_type(text)
        return TypeInfo(
            canonical=f"array<{elem.canonical}>",
            family="composite",
            composite="array",
            children=(("[]", elem),),
        )
    return None


def _parse_composite(text: str, adapter: str) -> TypeInfo | None:
    """Arrays, structs and maps, parsed into their parts (DuckDB, PostgreSQL, Snowflake, BigQuery
    and Spark syntax: ``integer[]``, ``array<int>``, ``struct<a:int>``, ``STRUCT<a INT64>``,
    ``STRUCT(a INTEGER)``, ``OBJECT(a NUMBER)``, ``MAP(k, v)``, ``row(a integer)``).

    Hand-written rather than sqlglot's ``DataType.build`` (measured: 0.84 ms per spelling, fast
    enough once cached): sqlglot re-spells the parts in its own names and loses what the verdicts
    need — outside the Postgres dialect ``int8[]`` becomes ``ARRAY<TINYINT>``, ``NUMBER`` becomes
    ``DECIMAL``, and an element type it does not know vanishes (``ARRAY<FOO>`` → ``ARRAY``), where
    the per-adapter tables and the reasons need each part as the warehouse wrote it.
    """
    # PostgreSQL / DuckDB arrays: integer[], integer[3], text[][]
    match = re.fullmatch(r"(?P<elem>.+?)\[(?P<size>\d*)\]", text)
    if match:
        elem = _part(match.group("elem"), adapter)
        return composite_type("array", [("[]", elem)], text)
    match = re.fullmatch(r"(?P<kind>array|list|struct|map|object|row|record)[<(](?P<body>.*)[>)]", text)
    if not match:
        return None
    kind = {"list": "array", "object": "struct", "row": "struct", "record": "struct"}.get(
        match.group("kind"), match.group("kind")
    )
    parts = _split_top_level(match.group("body"))
    if not parts:
        return None
    if kind == "array":
        return composite_type("array", [("[]", _part(parts[0], adapter))], text) if len(parts) == 1 else None
    if kind == "map":
        if len(parts) != 2:
            return None
        return composite_type(
            "map", [("{key}", _part(parts[0], adapter)), ("{value}", _part(parts[1], adapter))], text
        )
    fields = []
    for part in parts:
        field_match = _STRUCT_FIELD.fullmatch(part)
        if not field_match:
            return None
        fields.append((field_match.group("name").strip('"`'), _part(field_match.group("type"), adapter)))
    return composite_type("struct", fields, text)


def _part(text: str, adapter: str) -> TypeInfo:
    """A composite's part, remembering its spelling for the reasons."""
    info = _parse(text, adapter)
    return info if info.raw or info.is_unknown else replace(info, raw=text.strip())


def _split_top_level(text: str) -> list[str]:
    """Split on commas that are not nested in (), <> or []."""
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for ch in text:
        if ch in "(<[":
            depth += 1
        elif ch in ")>]":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    tail = "".join(current).strip()
    if tail:
        parts.append(tail)
    return parts


# --- a name with arguments: the warehouse's table, then the shared spellings, family by family ---


def _parse_named(text: str, adapter: str) -> TypeInfo:
    """``numeric(12, 2)``, ``timestamp(3) with time zone``, ``int unsigned``: a name, integer
    arguments, words after them."""
    match = _NAME_ARGS.match(text)
    if not match:
        return unknown_type(text)
    name = match.group("name").strip()
    args = _ints(match.group("args"))
    rest = match.group("rest").strip()
    if args is None:
        return unknown_type(text)
    unsigned = _unsigned(name)
    if unsigned is not None:
        return unsigned
    if rest:
        if name not in {"timestamp", "time"}:
            return unknown_type(text)
        name = f"{name} {rest}"
    table = ADAPTER_TYPES.get(adapter)
    if table is not None:
        if not args and name in table.bare:
            return _parse(table.bare[name])
        name = table.renames.get(name, name)
    return _parse_scalar(name, args, text)


# The widest parameter a warehouse accepts is a length (Snowflake's VARCHAR: 134,217,728, nine
# digits). A longer one is no warehouse's type: it is read as no integer, so the type is unknown,
# never compatible. Reading it would let a manifest stall the sync: a decimal's bounds are
# 10**precision, and int() of over 4,300 digits raises.
MAX_PARAMETER_DIGITS = 10
# PostgreSQL's NUMERIC takes the most digits of any warehouse (1,000); BigQuery's BIGNUMERIC 76.
# A precision beyond is no warehouse's decimal, so unknown; its bounds (10**precision) are never built.
MAX_DECIMAL_PRECISION = 1000


def _ints(args: str | None) -> list[int] | None:
    """Integer parameters of a type, [] when none; None when they are not integers."""
    if args is None or not args.strip():
        return []
    out = []
    for part in args.split(","):
        part = part.strip()
        if part in {"max", "*"}:
            out.append(-1)
        elif part.isascii() and part.isdigit() and len(part) <= MAX_PARAMETER_DIGITS:
            out.append(int(part))
        else:
            return None  # not a plain number of at most MAX_PARAMETER_DIGITS ASCII digits ('²' is a digit to isdigit)
    return out


def _unsigned(name: str) -> TypeInfo | None:
    """MySQL's ``int unsigned``: the unsigned integer of that size."""
    signed = name.removesuffix(" unsigned")
    if signed == name or signed not in INT_ALIASES:
        return None
    canonical = INT_ALIASES[signed]
    return integer_type(canonical if canonical.startswith("u") else "u" + canonical)


def _parse_scalar(name: str, args: list[int], text: str) -> TypeInfo:
    for family in _FAMILIES:
        info = family(name, args, text)
        if info is not None:
            return info
    return unknown_type(text)


# Each family's reader: None when the name is not that family's, else its TypeInfo (an unknown
# one when the name is that family's but its arguments are not).


def _integer(name: str, args: list[int], text: str) -> TypeInfo | None:
    if name not in INT_ALIASES:
        return None
    if args and name not in DISPLAY_WIDTH_INTS:
        return unknown_type(text)
    return integer_type(INT_ALIASES[name])


def _float(name: str, args: list[int], text: str) -> TypeInfo | None:
    if name not in FLOAT_ALIASES:
        return None
    if not args:
        return float_type(FLOAT_ALIASES[name])
    if name != "float" or len(args) != 1:
        return unknown_type(text)
    return float_type("real" if args[0] <= 24 else "double")  # float(p): p mantissa bits


def _decimal(name: str, args: list[int], text: str) -> TypeInfo | None:
    if name not in DECIMAL_NAMES:
        return None
    if name in {"bignumeric", "bigdecimal"} and not args:
        return decimal_type(76, 38)
    if len(args) > 2 or any(a < 0 for a in args):
        return unknown_type(text)
    if not args:
        # Snowflake's NUMBER defaults to (38,0); PostgreSQL's NUMERIC is arbitrary precision.
        return decimal_type(38, 0) if name == "number" else decimal_type(None, 0)
    precision = args[0]
    scale = args[1] if len(args) == 2 else 0
    if precision == 0 or scale > precision or precision > MAX_DECIMAL_PRECISION:
        return unknown_type(text)
    return decimal_type(precision, scale)


def _string(name: str, args: list[int], text: str) -> TypeInfo | None:
    if name not in VARCHAR_NAMES and name not in CHAR_NAMES:
        return None
    if len(args) > 1:
        return unknown_type(text)
    # PostgreSQL's bare bpchar is blank-padded without a length limit: a varchar for our purposes.
    is_char = name in CHAR_NAMES and not (name == "bpchar" and not args)
    return string_type(args[0] if args else None, char=is_char)


def _bytes(name: str, args: list[int], text: str) -> TypeInfo | None:
    if name not in BYTES_NAMES:
        return None
    if len(args) > 1:
        return unknown_type(text)
    return bytes_type(args[0] if args and args[0] >= 0 else None)


def _boolean(name: str, args: list[int], text: str) -> TypeInfo | None:
    if name not in BOOL_NAMES:
        return None
    return TypeInfo(canonical="boolean", family="boolean") if not args else unknown_type(text)


def _temporal(name: str, args: list[int], text: str) -> TypeInfo | None:
    if name in DUCKDB_TIMESTAMPS:
        return None if args else temporal_type("timestamp", DUCKDB_TIMESTAMPS[name])
    if name == "date":
        return None if args else TypeInfo(canonical="date", family="temporal", temporal="date")
    kind = TIMESTAMP_ALIASES[name][0] if name in TIMESTAMP_ALIASES else TIME_ALIASES.get(name)
    if kind is None:
        return None
    if len(args) > 1:
        return unknown_type(text)
    return temporal_type(kind, args[0] if args else None)


def _opaque(name: str, args: list[int], text: str) -> TypeInfo | None:
    if name in OPAQUE_ALIASES:
        if args and name not in OPAQUE_WITH_ARGS:
            return unknown_type(text)
        canonical = OPAQUE_ALIASES[name]
        if args:
            canonical += "(" + ",".join(str(a) for a in args) + ")"
        return TypeInfo(canonical=canonical, family="opaque")
    if name.startswith("interval"):
        # "interval day to second" and friends: one interval type.
        return TypeInfo(canonical="interval", family="opaque")
    return None


_FAMILIES: tuple[Callable[[str, list[int], str], TypeInfo | None], ...] = (
    _integer,
    _float,
    _decimal,
    _string,
    _bytes,
    _boolean,
    _temporal,
    _opaque,
)
