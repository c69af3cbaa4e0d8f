"""How PostgreSQL stores what a sync writes: lz4 for the versions' JSON, the trigram indexes' new
entries merged after the sync instead of during it (issue #17). PostgreSQL only; SQLite (the demo)
has none of this, and nothing here changes what any query answers.

- **lz4** instead of pglz for the contract versions' ``columns``, ``guarantees`` and ``verdict``:
  a version row of a 16-column model is ~2 KB, past the size where PostgreSQL compresses its
  values, and pglz was a sixth of the server's time in the COPY of a first sync's 7,000 versions.
  Only values written from now on use lz4; older ones stay readable as they are. Skipped on a
  server built without lz4.
- **Trigram indexes' pending lists of 64 MB** (``gin_pending_list_limit``, 4 MB by default): a
  GIN index with ``fastupdate`` (the default) appends new entries to a pending list and merges it
  into the index once it passes the limit; a first sync of 5,000 models queues ~20 MB into the
  column-name index alone, so the inserting sync merged it several times, one entry at a time.
  Now the merge waits for (auto)vacuum or autoanalyze, which merge in bulk, after the commit.
  Searches read the pending list until then: a search by column name took ~40-60 ms instead of
  ~1 ms with 7,000 versions pending (measured, load 5). To keep that window short, the two tables
  are vacuumed after every 1,000 inserted rows (not 20 % of the table, the default): a big sync's
  pending list is merged within autovacuum's next round (a minute), and between syncs the list
  holds at most ~1,000 rows' entries, less than the 4 MB limit let it hold before.
"""

from django.db import migrations

TRIGRAM_INDEXES = (
    "contracts_version_search_column_names_trgm",
    "contracts_asset_name_trgm",
    "contracts_asset_relation_trgm",
    "contracts_asset_unique_id_trgm",
)
VERSION_JSON = ("columns", "guarantees", "verdict")
EAGER_VACUUM = ("contracts_contractversion", "contracts_asset")
PENDING_LIST_KB = 64 * 1024


def _has_lz4(schema_editor) -> bool:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
        )
        row = cursor.fetchone()
    return bool(row and row[0])


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    if _has_lz4(schema_editor):
        alters = ", ".join(f"ALTER COLUMN {c} SET COMPRESSION lz4" for c in VERSION_JSON)
        schema_editor.execute(f"ALTER TABLE contracts_contractversion {alters}")
    for index in TRIGRAM_INDEXES:
        schema_editor.execute(f"ALTER INDEX {index} SET (gin_pending_list_limit = {PENDING_LIST_KB})")
    for table in EAGER_VACUUM:
        schema_editor.execute(
            f"ALTER TABLE {table} SET (autovacuum_vacuum_insert_threshold = 1000, "
            "autovacuum_vacuum_insert_scale_factor = 0)"
        )


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in EAGER_VACUUM:
        schema_editor.execute(
            f"ALTER TABLE {table} RESET (autovacuum_vacuum_insert_threshold, autovacuum_vacuum_insert_scale_factor)"
        )
    for index in TRIGRAM_INDEXES:
        schema_editor.execute(f"ALTER INDEX {index} RESET (gin_pending_list_limit)")
    if _has_lz4(schema_editor):
        alters = ", ".join(f"ALTER COLUMN {c} SET COMPRESSION default" for c in VERSION_JSON)
        schema_editor.execute(f"ALTER TABLE contracts_contractversion {alters}")


class Migration(migrations.Migration):
    dependencies = [("contracts", "0016_lean_indexes")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
