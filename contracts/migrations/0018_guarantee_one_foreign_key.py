"""A guarantee's version and asset checked by one foreign key, (version, asset) → the version's
(id, asset), instead of one on each column (issue #17; PostgreSQL).

PostgreSQL checks a foreign key row by row, and Django declares them deferred, so a first sync's
~38,000 guarantees queued ~76,000 checks for the end of the sync (of ~190,000 in all). The
composite key checks what the two did, that the version exists and the asset exists (the
version's own foreign key vouches for its asset), and more: that the guarantee's asset is its
version's asset, which nothing enforced before. The target is ``version_id_asset``, a unique
constraint on the versions' (id, asset) — unique anyway, since id is.

Django cannot declare a foreign key over two columns, so its two fields keep ``db_constraint=False``
and the key is added here, deferred like Django's. SQLite (the demo) cannot add a foreign key to an
existing table: there the guarantees' rows go unchecked, as Django's deletions cascade them anyway.
"""

import django.db.models.deletion
from django.db import migrations, models

FORWARD = (
    "ALTER TABLE contracts_guarantee ADD CONSTRAINT guarantee_version_of_asset "
    "FOREIGN KEY (version_id, asset_id) REFERENCES contracts_contractversion (id, asset_id) "
    "DEFERRABLE INITIALLY DEFERRED"
)
BACKWARD = "ALTER TABLE contracts_guarantee DROP CONSTRAINT IF EXISTS guarantee_version_of_asset"


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("contracts", "0017_sync_storage_parameters")]

    operations = [
        migrations.AddConstraint(
            model_name="contractversion",
            constraint=models.UniqueConstraint(fields=("id", "asset"), name="version_id_asset"),
        ),
        migrations.RunPython(forward, backward, elidable=False),
        migrations.AlterField(
            model_name="guarantee",
            name="asset",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="guarantee_rows",
                to="contracts.asset",
            ),
        ),
        migrations.AlterField(
            model_name="guarantee",
            name="version",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="guarantee_rows",
                to="contracts.contractversion",
            ),
        ),
    ]
