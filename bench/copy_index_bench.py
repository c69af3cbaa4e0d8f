"""What each index and foreign key of a table costs the COPY of a first sync's rows.

    .venv/bin/python bench/copy_index_bench.py postgres://postgres@127.0.0.1:5432/tessera_firstsync \
        --rounds 5

The database must hold a first sync (``bench/first_sync_steps.py`` leaves one). The rows of the
tables a first sync fills most are read once; then, round after round, each variant copies the same
rows into an empty scratch table (``LIKE`` the real one: defaults, generated columns, storage and
compression) carrying that variant's indexes and foreign keys (deferred, as Django declares
them, and checked at the end as the sync's finish step does), inside a transaction that is rolled
back. Variants alternate within each round; the medians are printed, in milliseconds: the wall time
seen by the client (which only streams the bytes) and the CPU time of the server's backend, read
from /proc (the server must run on this machine), which moves less with the machine's load.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

SCRATCH = "bench_scratch"


@dataclass
class Variant:
    name: str
    table: str
    drop: tuple[str, ...] = ()  # index names of the real table not created on the scratch one
    add: tuple[str, ...] = ()  # extra DDL, {t} for the scratch table
    fks: tuple[str, ...] | None = None  # FK columns to keep (None: all the real table's)
    compression: str = ""  # SET COMPRESSION for the JSON columns
    times: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # the server backend's user + system seconds


def _columns(conn: psycopg.Connection, table: str) -> list[str]:
    return [
        f'"{r[0]}"'
        for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
            "AND is_generated = 'NEVER' ORDER BY ordinal_position",
            [table],
        )
    ]


def _dump(conn: psycopg.Connection, table: str, columns: list[str]) -> bytes:
    out = bytearray()
    with conn.cursor().copy(f"COPY {table} ({', '.join(columns)}) TO STDOUT") as copy:
        for block in copy:
            out += block
    return bytes(out)


def _indexes(conn: psycopg.Connection, table: str) -> dict[str, str]:
    rows = conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname NOT LIKE '%%_pkey'",
        [table],
    )
    return dict(rows.fetchall())


def _foreign_keys(conn: psycopg.Connection, table: str) -> dict[str, str]:
    rows = conn.execute(
        "SELECT a.attname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
        "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
        "WHERE c.conrelid = %s::regclass AND c.contype = 'f'",
        [table],
    )
    return dict(rows.fetchall())


def _backend_cpu(pid: int) -> float:
    """User + system seconds of a server backend (the server runs on this machine)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _measure(conn: psycopg.Connection, v: Variant, data: bytes, columns: list[str]) -> tuple[float, float]:
    indexes, fks = _indexes(conn, v.table), _foreign_keys(conn, v.table)
    with conn.transaction(force_rollback=True):
        conn.execute(
            f"CREATE TABLE {SCRATCH} (LIKE {v.table} INCLUDING DEFAULTS INCLUDING GENERATED "
            "INCLUDING STORAGE INCLUDING COMPRESSION INCLUDING CONSTRAINTS)"
        )
        conn.execute(f"ALTER TABLE {SCRATCH} ADD PRIMARY KEY (id)")
        for name, ddl in indexes.items():
            if name not in v.drop:
                conn.execute(re.sub(r" INDEX \S+ ON \S+ ", f" INDEX ON {SCRATCH} ", ddl, count=1))
        for column, ddl in fks.items():
            if v.fks is None or column in v.fks:
                conn.execute(f"ALTER TABLE {SCRATCH} ADD FOREIGN KEY ({column}) {ddl.split(') ', 1)[1]}")
        for ddl in v.add:
            conn.execute(ddl.format(t=SCRATCH))
        if v.compression:
            for column in ("columns", "guarantees", "verdict", "payload", "meta", "arguments"):
                if f'"{column}"' in columns:
                    conn.execute(
                        f"ALTER TABLE {SCRATCH} ALTER COLUMN {column} SET COMPRESSION {v.compression}"
                    )
        pid = conn.info.backend_pid
        started, cpu = time.perf_counter(), _backend_cpu(pid)
        with conn.cursor().copy(f"COPY {SCRATCH} ({', '.join(columns)}) FROM STDIN") as copy:
            copy.write(data)
        conn.execute("SET CONSTRAINTS ALL IMMEDIATE")
        return time.perf_counter() - started, _backend_cpu(pid) - cpu


VERSIONS = "contracts_contractversion"
ASSETS = "contracts_asset"
GUARANTEES = "contracts_guarantee"
EVENTS = "contracts_event"


def _gin_set(option: str) -> str:
    """Set a storage parameter on every GIN index of the scratch table."""
    return (
        "DO $$ DECLARE r record; BEGIN FOR r IN SELECT i.indexrelid::regclass AS name FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam "
        f"WHERE i.indrelid = '{SCRATCH}'::regclass AND am.amname = 'gin' LOOP "
        f"EXECUTE format('ALTER INDEX %s SET ({option})', r.name); END LOOP; END $$"
    )


REDUNDANT_VERSION_BTREES = (
    "contracts_contractversion_asset_id_28df0a87",
    "contracts_contractversion_content_hash_7bb3eb41",
    "contracts_contractversion_content_hash_7bb3eb41_like",
    "contracts_contractversion_status_ef1a2518",
    "contracts_contractversion_status_ef1a2518_like",
)
REDUNDANT_ASSET_BTREES = (
    "contracts_asset_owner_team_id_3cc09d45",
    "contracts_asset_project_id_79663509",
    "contracts_asset_status_c86b8281_like",
    "contracts_asset_name_fd36d220_like",
    "contracts_asset_unique_id_110a7b7f_like",
    "contracts_asset_relation_5089193c_like",
)
VERSION_GIN = "contracts_version_search_column_names_trgm"
ASSET_GINS = ("contracts_asset_name_trgm", "contracts_asset_relation_trgm", "contracts_asset_unique_id_trgm")
GUARANTEE_COMPOSITE_FK = (
    "CREATE UNIQUE INDEX IF NOT EXISTS contracts_version_id_asset ON contracts_contractversion (id, asset_id)",
    "ALTER TABLE {t} ADD FOREIGN KEY (version_id, asset_id) REFERENCES "
    "contracts_contractversion (id, asset_id) DEFERRABLE INITIALLY DEFERRED",
)
VARIANTS = {
    "versions": [
        Variant("versions: as now", VERSIONS),
        Variant("versions: no trigram GIN", VERSIONS, drop=(VERSION_GIN,)),
        Variant(
            "versions: GIN pending list 64 MB", VERSIONS, add=(_gin_set("gin_pending_list_limit = 65536"),)
        ),
        Variant("versions: lz4", VERSIONS, compression="lz4"),
        Variant(
            "versions: names not computed (plain column)",
            VERSIONS,
            add=("ALTER TABLE {t} ALTER COLUMN search_column_names DROP EXPRESSION",),
        ),
        Variant(
            "versions: lean (btrees, GIN 64 MB, lz4)",
            VERSIONS,
            drop=REDUNDANT_VERSION_BTREES,
            add=(_gin_set("gin_pending_list_limit = 65536"),),
            compression="lz4",
        ),
        Variant("versions: no redundant btrees", VERSIONS, drop=REDUNDANT_VERSION_BTREES),
        Variant(
            "versions: as in 0016-0018",
            VERSIONS,
            drop=REDUNDANT_VERSION_BTREES,
            add=(
                _gin_set("gin_pending_list_limit = 65536"),
                "CREATE INDEX ON {t} (asset_id) WHERE status = 'proposed'",
                "CREATE UNIQUE INDEX ON {t} (id, asset_id)",
            ),
            compression="lz4",
        ),
        Variant("versions: no FKs", VERSIONS, fks=()),
    ],
    "assets": [
        Variant("assets: as now", ASSETS),
        Variant("assets: no trigram GINs", ASSETS, drop=ASSET_GINS),
        Variant("assets: GIN pending lists 64 MB", ASSETS, add=(_gin_set("gin_pending_list_limit = 65536"),)),
        Variant(
            "assets: one trigram GIN of the three texts",
            ASSETS,
            drop=ASSET_GINS,
            add=(
                "CREATE INDEX ON {t} USING gin ((upper(name::text || E'\\n' || relation::text || E'\\n' || "
                "unique_id::text)) gin_trgm_ops)",
            ),
        ),
        Variant("assets: no redundant btrees", ASSETS, drop=REDUNDANT_ASSET_BTREES),
        Variant("assets: lz4", ASSETS, compression="lz4"),
        Variant(
            "assets: as in 0016-0018",
            ASSETS,
            drop=REDUNDANT_ASSET_BTREES,
            add=(_gin_set("gin_pending_list_limit = 65536"),),
        ),
        Variant("assets: no FKs", ASSETS, fks=()),
    ],
    "guarantees": [
        Variant("guarantees: as now", GUARANTEES),
        Variant(
            "guarantees: no redundant btrees",
            GUARANTEES,
            drop=(
                "contracts_guarantee_asset_id_d011e4bf",
                "contracts_guarantee_test_unique_id_f881238d_like",
            ),
        ),
        Variant("guarantees: version FK only", GUARANTEES, fks=("version_id",)),
        Variant(
            "guarantees: one FK (version, asset) to versions (id, asset)",
            GUARANTEES,
            fks=(),
            add=GUARANTEE_COMPOSITE_FK,
        ),
        Variant("guarantees: no FKs", GUARANTEES, fks=()),
        Variant(
            "guarantees: as in 0016-0018",
            GUARANTEES,
            drop=(
                "contracts_guarantee_asset_id_d011e4bf",
                "contracts_guarantee_test_unique_id_f881238d_like",
            ),
            fks=(),
            add=GUARANTEE_COMPOSITE_FK,
        ),
        Variant("guarantees: lz4", GUARANTEES, compression="lz4"),
    ],
    "events": [
        Variant("events: as now", EVENTS),
        Variant("events: no kind _like", EVENTS, drop=("contracts_event_kind_f940f51f_like",)),
        Variant("events: no FKs", EVENTS, fks=()),
        Variant("events: lz4", EVENTS, compression="lz4"),
    ],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--groups", nargs="+", default=list(VARIANTS))
    parser.add_argument("--only", nargs="*", default=[], help="variants whose name contains one of these")
    args = parser.parse_args()
    with psycopg.connect(args.url) as conn:
        for group in args.groups:
            variants = [
                v
                for i, v in enumerate(VARIANTS[group])
                if i == 0 or not args.only or any(o in v.name for o in args.only)
            ]
            table = variants[0].table
            columns = _columns(conn, table)
            data = _dump(conn, table, columns)
            conn.commit()
            for _ in range(args.rounds):
                for v in variants:
                    seconds, cpu = _measure(conn, v, data, columns)
                    v.times.append(seconds)
                    v.cpu.append(cpu)
            for v in variants:
                print(json.dumps({
                    "variant": v.name, "median_ms": round(statistics.median(v.times) * 1000),
                    "server_cpu_ms": round(statistics.median(v.cpu) * 1000),
                    "all_ms": [round(t * 1000) for t in v.times], "rows": data.count(b"\n"),
                    "load": round(os.getloadavg()[0], 2),
                }), flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
