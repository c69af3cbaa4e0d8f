"""The column names of each contract version as a stored text column, for the asset search (PostgreSQL only).

``search_column_names`` is ``tessera_column_names(columns)`` (migration 0011: the lower-cased names,
one a line), computed by PostgreSQL on every insert and update (``GENERATED ALWAYS ... STORED``), so
no writer has to keep it and it can never be stale. Django's model does not declare it (a generated
column of a PostgreSQL function would break SQLite, the demo's database); only
``selectors/assets._column_name_matches`` reads it.

Why: a search term shorter than three characters cannot use a trigram index, and testing it meant
expanding every active contract's JSON schema (``jsonb_array_elements``, ~0.5-1 s at 21,000
assets); a ``LIKE`` over this short text is a plain scan of one narrow value a row. Longer terms use
the trigram index, now over this column instead of over the expression, so the names are computed
once per write, as before.

``contracts_version_semver_cover`` lets the asset list sorted by version read every version's
number from a small index (an index-only scan hashed against the assets) instead of the versions'
heap, where the JSON schemas make each row ~1.6 KB: a team's 16,500 assets sorted by version cost
16,500 heap lookups (~100 ms under load).
"""

from django.db import migrations

FORWARD = r"""
ALTER TABLE contracts_contractversion ADD COLUMN IF NOT EXISTS search_column_names text
    GENERATED ALWAYS AS (tessera_column_names(columns)) STORED;
CREATE INDEX IF NOT EXISTS contracts_version_search_column_names_trgm
    ON contracts_contractversion USING gin (search_column_names gin_trgm_ops);
DROP INDEX IF EXISTS contracts_version_column_names_trgm;
CREATE INDEX IF NOT EXISTS contracts_version_semver_cover
    ON contracts_contractversion (id) INCLUDE (major, minor, patch)
"""

BACKWARD = r"""
DROP INDEX IF EXISTS contracts_version_semver_cover;
CREATE INDEX IF NOT EXISTS contracts_version_column_names_trgm
    ON contracts_contractversion USING gin (tessera_column_names(columns) gin_trgm_ops);
DROP INDEX IF EXISTS contracts_version_search_column_names_trgm;
ALTER TABLE contracts_contractversion DROP COLUMN IF EXISTS search_column_names
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
    dependencies = [("contracts", "0013_asset_unpinned_refs")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
