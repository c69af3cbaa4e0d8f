"""The widening lattice: how a column's type moved, judged on parsed types.

:func:`compare_types` says whether a type change is ``same``, ``wider``, ``narrower``,
``unrelated``, ``unknown`` or ``structural``; :func:`type_deltas` lists every difference, parts
of composites included.

The rule behind the lattice: type B is *wider* than type A when every value of A is
represented exactly, with the same meaning, by B. Lossy or meaning-changing conversions are
``unrelated`` (they break readers in both directions). Decisions worth knowing:

* Integers widen by range (``tinyint < smallint < integer < bigint < hugeint``; unsigned
  types by their own range). ``number(p,0)`` / ``decimal(p,0)`` take part by range too.
* ``decimal(p,s)`` → ``decimal(p',s')`` is wider when it has at least as many integer digits
  (``p'-s' >= p-s``) and does not lose scale (``s' >= s``). An integer widens to a decimal
  with enough integer digits (``integer`` → ``decimal(10,0)``). ``decimal``/``numeric``
  without precision is PostgreSQL's arbitrary-precision numeric: wider than every exact type.
  Snowflake's bare ``number`` is ``number(38,0)``; BigQuery's ``bignumeric`` is ``decimal(76,38)``.
* ``real``/``float4``/``float`` (single precision, as DuckDB reads ``float``) widen to
  ``double``/``float8``/``float64``. An integer widens to a float only when the float holds
  it exactly (``smallint`` → ``real``, ``integer`` → ``double``); ``bigint`` → ``double`` is
  lossy and therefore unrelated. Decimals with a scale never widen to a float (binary floats
  do not hold decimal fractions exactly).
* Strings: ``varchar(10)`` → ``varchar(50)`` → ``varchar`` (unbounded; ``text``, ``string``,
  Snowflake's default ``varchar(16777216)``) is widening. ``char(n)`` widens to ``varchar(m)``
  for ``m >= n`` but not the reverse (char drops the meaning of trailing spaces).
* ``date`` → ``timestamp``/``datetime`` is widening; more fractional-second digits widen
  (``timestamp(3)`` → ``timestamp`` (6) → ``timestamp(9)``). ``timestamp`` and ``timestamptz``
  are *unrelated*: converting between them reinterprets every value in a session time zone,
  so readers that extract hours or compare against literals get different answers. For the
  same reason ``date`` → ``timestamptz`` is unrelated. BigQuery's ``TIMESTAMP`` is an instant
  and is read as ``timestamptz`` when the adapter says BigQuery; without one it cannot be told
  from PostgreSQL's by its spelling and is read as ``timestamp``.
* ``boolean``, ``uuid``, ``json``, ``jsonb``, ``variant``, ``interval``, ``geography`` and the
  like only compare equal to themselves. Arrays, structs and maps are compared part by part
  (:func:`type_deltas`): struct fields by name (added / removed like columns), element, key and
  value types on this same lattice.
* Anything not recognised compares as ``unknown`` unless the raw spellings are identical.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from contracts.compat.types.info import TypeInfo
from contracts.compat.types.parse import clean_type_text, parse_type

TypeRelation = Literal["same", "wider", "narrower", "unrelated", "unknown", "structural"]


def _fits(a: TypeInfo, b: TypeInfo) -> bool:
    """True when every value of type ``a`` is held exactly, with the same meaning, by type ``b``."""
    if a.canonical == b.canonical:
        return True
    if a.family in {"integer", "decimal"} and b.family in {"integer", "decimal", "float"}:
        return _numeric_fits(a, b)
    if a.family == "float" and b.family == "float":
        return (a.precision or 0) <= (b.precision or 0)
    if a.family == "string" and b.family == "string":
        if b.char and not a.char:
            return False
        return b.length is None or (a.length is not None and a.length <= b.length)
    if a.family == "bytes" and b.family == "bytes":
        return b.length is None or (a.length is not None and a.length <= b.length)
    if a.family == "temporal" and b.family == "temporal":
        if a.temporal == "date":
            return b.temporal == "timestamp"
        return a.temporal == b.temporal and a.fraction_digits <= b.fraction_digits
    return False


def _numeric_fits(a: TypeInfo, b: TypeInfo) -> bool:
    a_is_integral = a.family == "integer" or (a.family == "decimal" and a.scale == 0 and a.precision)
    if b.family == "float":
        if not a_is_integral or a.low is None or a.high is None:
            return False
        limit = 2 ** (b.precision or 0)
        return -limit <= a.low and a.high <= limit
    if b.family == "decimal" and b.precision is None:
        return True  # arbitrary-precision numeric holds every exact number
    if a.family == "decimal" and a.precision is None:
        return False
    if b.family == "integer":
        if not a_is_integral:
            return False
        return b.low <= a.low and a.high <= b.high  # type: ignore[operator]
    # b is decimal(p,s)
    assert b.precision is not None and b.scale is not None
    if a.family == "integer":
        bound = max(abs(a.low or 0), abs(a.high or 0))
        return bound < 10 ** (b.precision - b.scale)
    assert a.precision is not None and a.scale is not None
    return a.precision - a.scale <= b.precision - b.scale and a.scale <= b.scale


@dataclass(frozen=True, slots=True)
class TypeDelta:
    """One difference between two types: ``path`` is "" for the type itself, else where inside a
    composite it sits (``.address.city``, ``[]`` for an array's element, ``{value}`` for a map's)."""

    path: str
    change: str  # wider | narrower | unrelated | unknown | field_added | field_removed
    old: str  # the part's spelling as written ("" for an added field)
    new: str


def _relation(old: TypeInfo, new: TypeInfo) -> str:
    if old.canonical == new.canonical:
        return "same"
    forward, backward = _fits(old, new), _fits(new, old)
    if forward and backward:
        return "same"
    return "wider" if forward else "narrower" if backward else "unrelated"


def _spelling(info: TypeInfo, fallback: str) -> str:
    return info.raw or fallback or info.canonical


def _deltas(old: TypeInfo, new: TypeInfo, path: str, old_raw: str, new_raw: str) -> list[TypeDelta]:
    if old.canonical == new.canonical:
        return []
    both_structured = old.composite and old.composite == new.composite and old.children and new.children
    if not both_structured:
        if "composite" in (old.family, new.family):
            # A struct that became an array, a bare ARRAY that gained an element type, ...
            kind = "unknown" if old.composite == new.composite else "unrelated"
            return [TypeDelta(path, kind, _spelling(old, old_raw), _spelling(new, new_raw))]
        return [TypeDelta(path, _relation(old, new), old_raw or old.canonical, new_raw or new.canonical)]
    deltas: list[TypeDelta] = []
    old_parts, new_parts = dict(old.children), dict(new.children)
    for name, part in old.children:
        sub = path + (f".{name}" if old.composite == "struct" else name)
        if name not in new_parts:
            deltas.append(TypeDelta(sub, "field_removed", _spelling(part, part.canonical), ""))
        else:
            deltas.extend(
                _deltas(
                    part,
                    new_parts[name],
                    sub,
                    part.raw or part.canonical,
                    new_parts[name].raw or new_parts[name].canonical,
                )
            )
    for name, part in new.children:
        if name not in old_parts:
            deltas.append(TypeDelta(path + f".{name}", "field_added", "", _spelling(part, part.canonical)))
    return deltas


def type_deltas(old_raw: str, new_raw: str, adapter: str = "") -> list[TypeDelta]:
    """Every difference between two column types, composites compared part by part.

    Struct fields are matched by name (order is no change); element, key and value types are
    compared recursively on the same lattice. An unrecognised spelling on either side gives one
    ``unknown`` delta unless both sides are spelled the same.
    """
    old, new = parse_type(old_raw, adapter), parse_type(new_raw, adapter)
    if old.is_unknown or new.is_unknown:
        if old.canonical == new.canonical or clean_type_text(str(old_raw or "")) == clean_type_text(
            str(new_raw or "")
        ):
            return []
        return [TypeDelta("", "unknown", str(old_raw or "").strip(), str(new_raw or "").strip())]
    return _deltas(old, new, "", str(old_raw).strip(), str(new_raw).strip())


def compare_types(old_raw: str, new_raw: str, adapter: str = "") -> TypeRelation:
    """How a column's type moved from ``old_raw`` to ``new_raw`` (spelled for ``adapter``).

    ``wider``: every old value fits the new type; ``narrower``: the reverse; ``unrelated``:
    neither; ``unknown``: at least one side is not recognised and the spellings differ — callers
    must not treat that as compatible; ``structural``: composites whose fields were added or
    removed (see :func:`type_deltas` for which). Composites whose parts all moved one way take
    that way.
    """
    kinds = {d.change for d in type_deltas(old_raw, new_raw, adapter)}
    if not kinds:
        return "same"
    if "unknown" in kinds:
        return "unknown"
    if kinds & {"field_added", "field_removed"}:
        return "structural"
    if len(kinds) == 1:
        return kinds.pop()  # type: ignore[return-value]
    return "unrelated"
