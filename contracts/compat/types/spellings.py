"""The shared spellings of column types, family by family: every name a warehouse may write for
a type, mapped to one canonical name, and what the lattice needs to know of each (integer
ranges, float mantissa bits, default fractional-second digits).

These tables hold for every warehouse; what a name means on one warehouse only (Snowflake's
``INT`` is ``NUMBER(38,0)``) is in :mod:`contracts.compat.types.warehouses`, applied first.
"""

from __future__ import annotations

# Integer ranges decide integer widening and integer ↔ decimal/float conversions.
INT_RANGES: dict[str, tuple[int, int]] = {
    "tinyint": (-(2**7), 2**7 - 1),
    "smallint": (-(2**15), 2**15 - 1),
    "integer": (-(2**31), 2**31 - 1),
    "bigint": (-(2**63), 2**63 - 1),
    "hugeint": (-(2**127), 2**127 - 1),
    "utinyint": (0, 2**8 - 1),
    "usmallint": (0, 2**16 - 1),
    "uinteger": (0, 2**32 - 1),
    "ubigint": (0, 2**64 - 1),
    "uhugeint": (0, 2**128 - 1),
}

INT_ALIASES = {
    "tinyint": "tinyint",
    "int1": "tinyint",
    "byteint": "tinyint",
    "smallint": "smallint",
    "int2": "smallint",
    "short": "smallint",
    "smallserial": "smallint",
    "serial2": "smallint",
    "int": "integer",
    "integer": "integer",
    "int4": "integer",
    "signed": "integer",
    "serial": "integer",
    "serial4": "integer",
    "mediumint": "integer",
    "bigint": "bigint",
    "int8": "bigint",
    "int64": "bigint",
    "long": "bigint",
    "bigserial": "bigint",
    "serial8": "bigint",
    "hugeint": "hugeint",
    "int128": "hugeint",
    "utinyint": "utinyint",
    "uint8": "utinyint",
    "usmallint": "usmallint",
    "uint16": "usmallint",
    "uinteger": "uinteger",
    "uint32": "uinteger",
    "ubigint": "ubigint",
    "uint64": "ubigint",
    "uhugeint": "uhugeint",
    "uint128": "uhugeint",
}

# Mantissa bits: an integer of at most this many bits is held exactly.
FLOAT_BITS = {"real": 24, "double": 53}
FLOAT_ALIASES = {
    "real": "real",
    "float4": "real",
    "float32": "real",
    "float": "real",
    "double": "double",
    "double precision": "double",
    "float8": "double",
    "float64": "double",
}

DECIMAL_NAMES = {"decimal", "numeric", "number", "dec", "bignumeric", "bigdecimal"}

VARCHAR_NAMES = {
    "varchar",
    "text",
    "string",
    "character varying",
    "char varying",
    "nvarchar",
    "nvarchar2",
    "varchar2",
    "national character varying",
    "nchar varying",
    "clob",
    "nclob",
    "ntext",
    "tinytext",
    "mediumtext",
    "longtext",
    "long varchar",
    "citext",
    "name",
}
CHAR_NAMES = {"char", "character", "nchar", "national character", "bpchar"}
# Snowflake reports VARCHAR without a length as its maximum; those lengths mean "unbounded".
SNOWFLAKE_MAX_VARCHAR = {16777216, 134217728}

BYTES_NAMES = {
    "bytes",
    "bytea",
    "blob",
    "binary",
    "varbinary",
    "binary varying",
    "longblob",
    "mediumblob",
    "tinyblob",
    "image",
}

BOOL_NAMES = {"boolean", "bool", "logical"}

# (canonical name, time zone aware)
TIMESTAMP_ALIASES = {
    "timestamp": ("timestamp", False),
    "datetime": ("timestamp", False),
    "datetime2": ("timestamp", False),
    "smalldatetime": ("timestamp", False),
    "timestamp without time zone": ("timestamp", False),
    "timestamp_ntz": ("timestamp", False),
    "timestampntz": ("timestamp", False),
    "timestamptz": ("timestamptz", True),
    "timestamp with time zone": ("timestamptz", True),
    "timestamp_tz": ("timestamptz", True),
    "timestamp_ltz": ("timestamptz", True),
    "timestampltz": ("timestamptz", True),
    "timestamp with local time zone": ("timestamptz", True),
    "datetimeoffset": ("timestamptz", True),
}
# DuckDB spells fixed precisions as separate types.
DUCKDB_TIMESTAMPS = {"timestamp_s": 0, "timestamp_ms": 3, "timestamp_us": 6, "timestamp_ns": 9}
DEFAULT_FRACTION_DIGITS = 6

TIME_ALIASES = {
    "time": "time",
    "time without time zone": "time",
    "timetz": "timetz",
    "time with time zone": "timetz",
}

# Types that only ever compare equal to themselves.
OPAQUE_ALIASES = {
    "uuid": "uuid",
    "uniqueidentifier": "uuid",
    "json": "json",
    "jsonb": "jsonb",
    "variant": "variant",
    "super": "variant",
    "object": "object",
    "interval": "interval",
    "geography": "geography",
    "geometry": "geometry",
    "inet": "inet",
    "cidr": "cidr",
    "macaddr": "macaddr",
    "xml": "xml",
    "bit": "bit",
    "varbit": "varbit",
    "bit varying": "varbit",
    "oid": "oid",
    "money": "money",
    "range": "range",
}

# Bare composite spellings (Snowflake semi-structured ARRAY, BigQuery legacy RECORD).
BARE_COMPOSITES = {"array": "array", "list": "array", "struct": "struct", "record": "struct", "map": "map"}
# MySQL display widths (int(11)) do not change the range; other integer names take no arguments.
DISPLAY_WIDTH_INTS = {"int", "integer", "tinyint", "smallint", "bigint", "mediumint"}
# The opaque types that take arguments (a bit string's length, a geography's SRID).
OPAQUE_WITH_ARGS = {"bit", "varbit", "bit varying", "geography", "geometry"}
