"""A parsed column type (:class:`TypeInfo`) and one constructor per family, which gives each type
its canonical spelling: lower case, length and precision kept, a default left out
(``timestamp(6)`` is ``timestamp``, ``timestamp(3)`` stays).
"""

from __future__ import annotations

from dataclasses import dataclass

from contracts.compat.types.spellings import (
    DEFAULT_FRACTION_DIGITS,
    FLOAT_BITS,
    INT_RANGES,
    SNOWFLAKE_MAX_VARCHAR,
)

UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class TypeInfo:
    """A parsed type: its canonical spelling and what the lattice needs to compare it."""

    canonical: str
    family: (
        str  # integer | decimal | float | string | bytes | boolean | temporal | opaque | composite | unknown
    )
    low: int | None = None  # integer range (integers and decimal(p,0))
    high: int | None = None
    precision: int | None = None  # decimals: total digits (None = unbounded); floats: mantissa bits
    scale: int | None = None
    length: int | None = None  # strings/bytes: max length (None = unbounded)
    char: bool = False  # fixed-length blank-padded string
    temporal: str = ""  # date | timestamp | timestamptz | time | timetz
    fraction_digits: int = 0
    composite: str = ""  # array | struct | map (family composite)
    # Composite parts in order: struct fields by name, "[]" for an array's element, "{key}" and
    # "{value}" for a map's. Empty for a bare ARRAY / OBJECT, which says nothing about its parts.
    children: tuple[tuple[str, TypeInfo], ...] = ()
    raw: str = ""  # a composite's (or a composite part's) spelling as the warehouse wrote it

    @property
    def is_unknown(self) -> bool:
        return self.family == UNKNOWN


def unknown_type(raw: str) -> TypeInfo:
    if not raw.strip():
        return TypeInfo(canonical=UNKNOWN, family=UNKNOWN)
    return TypeInfo(canonical=f"{UNKNOWN}:{raw.strip()}", family=UNKNOWN)


def integer_type(canonical: str) -> TypeInfo:
    low, high = INT_RANGES[canonical]
    return TypeInfo(canonical=canonical, family="integer", low=low, high=high)


def float_type(canonical: str) -> TypeInfo:
    return TypeInfo(canonical=canonical, family="float", precision=FLOAT_BITS[canonical])


def decimal_type(precision: int | None, scale: int) -> TypeInfo:
    if precision is None:
        return TypeInfo(canonical="decimal", family="decimal")
    info_low = info_high = None
    if scale == 0:
        info_high = 10**precision - 1
        info_low = -info_high
    return TypeInfo(
        canonical=f"decimal({precision},{scale})",
        family="decimal",
        precision=precision,
        scale=scale,
        low=info_low,
        high=info_high,
    )


def string_type(length: int | None, *, char: bool) -> TypeInfo:
    if char:
        length = 1 if length is None else length
        return TypeInfo(canonical=f"char({length})", family="string", length=length, char=True)
    if length is None or length < 0 or length in SNOWFLAKE_MAX_VARCHAR:
        return TypeInfo(canonical="varchar", family="string")
    return TypeInfo(canonical=f"varchar({length})", family="string", length=length)


def bytes_type(length: int | None) -> TypeInfo:
    canonical = f"bytes({length})" if length is not None else "bytes"
    return TypeInfo(canonical=canonical, family="bytes", length=length)


def temporal_type(kind: str, digits: int | None) -> TypeInfo:
    digits = DEFAULT_FRACTION_DIGITS if digits is None else digits
    canonical = kind if digits == DEFAULT_FRACTION_DIGITS else f"{kind}({digits})"
    return TypeInfo(canonical=canonical, family="temporal", temporal=kind, fraction_digits=digits)


def composite_type(kind: str, children: list[tuple[str, TypeInfo]], raw: str) -> TypeInfo:
    """An array, struct or map of known parts; the first unknown part makes the whole unknown."""
    unknown = next((c for _, c in children if c.is_unknown), None)
    if unknown is not None:
        return unknown
    if kind == "struct":
        inner = ", ".join(f"{name} {child.canonical}" for name, child in children)
    else:
        inner = ", ".join(child.canonical for _, child in children)
    return TypeInfo(
        canonical=f"{kind}<{inner}>", family="composite", composite=kind, children=tuple(children), raw=raw
    )
