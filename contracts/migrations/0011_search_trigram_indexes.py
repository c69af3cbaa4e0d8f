"""Indexes for the one asset search (selectors/assets.asset_search_ids), PostgreSQL only.

At 21,000 assets a search read every asset's name, relation and unique_id (~120 ms) and every
active contract's columns as JSON (~490 ms). Trigram indexes (pg_trgm, a trusted extension since
PostgreSQL 13) answer ``LIKE '%term%'``: on ``UPPER(col::text)``, the expression Django's
``icontains`` compares, and on the column names of a contract version, one lower-cased name a line,
built by ``tessera_column_names(columns)``. SQLite (the demo) keeps the plain scans.
"""

from django.db import migrations

FORWARD = r"""
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE OR REPLACE FUNCTION tessera_column_names(columns jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
        SELECT coalesce(string_agg(lower(c->>'name'), E'\n'), '')
        FROM jsonb_array_elements(CASE WHEN jsonb_typeof(columns) = 'array' THEN columns ELSE '[]' END) c
    $$;
CREATE INDEX IF NOT EXISTS contracts_version_column_names_trgm
    ON contracts_contractversion USING gin (tessera_column_names(columns) gin_trgm_ops);
CREATE INDEX IF NOT EXISTS contracts_asset_name_trgm
    ON contracts_asset USING gin (upper(name::text) gin_trgm_ops);
CREATE INDEX IF NOT EXISTS contracts_asset_relation_trgm
    ON contracts_asset USING gin (upper(relation::text) gin_trgm_ops);
CREATE INDEX IF NOT EXISTS contracts_asset_unique_id_trgm
    ON contracts_asset USING gin (upper(unique_id::text) gin_trgm_ops);
"""

BACKWARD = """
DROP INDEX IF EXISTS contracts_asset_unique_id_trgm;
DROP INDEX IF EXISTS contracts_asset_relation_trgm;
DROP INDEX IF EXISTS contracts_asset_name_trgm;
DROP INDEX IF EXISTS contracts_version_column_names_trgm;
DROP FUNCTION IF EXISTS tessera_column_names(jsonb);
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in filter(str.strip, FORWARD.split(";\n")):
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in filter(str.strip, BACKWARD.split(";\n")):
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("contracts", "0010_pending_reference")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
