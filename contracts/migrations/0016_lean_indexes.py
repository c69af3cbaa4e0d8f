"""Indexes no query needs, dropped from the tables a first sync fills (issue #17).

Every row a sync inserts updates every index of its table. Dropped: the ``varchar_pattern_ops``
twins (``*_like``) PostgreSQL gets beside each indexed or unique CharField, which only serve
``LIKE 'prefix%'`` (no query makes one on these fields: the asset search is ``icontains``, served
by the trigram indexes of migration 0011); the single-column index of a foreign key whose column
leads a composite index or unique constraint (versions' and guarantees' asset, assets' project
and owner team, nodes' project, edges' upstream, registrations' asset, column usage's consumer);
column usage's second index on upstream; and the versions' indexes on ``content_hash`` (only ever
compared within one asset's versions) and ``status`` (a status is only looked up across assets for
the few proposed versions: a partial index on those). The btree indexes kept on asset name,
unique_id and status, and the unique constraint on relation, are declared in Meta so that no
``_like`` twin comes back.
"""

import django.db.models.deletion
from django.db import migrations, models


def _foreign_key_index_drop(model_name, name, field, *, index, table, column):
    """A foreign key's own index dropped by name, the constraint left as it is.

    AlterField(db_index=False) would drop and re-add the foreign key (checking every row again) and,
    on PostgreSQL, also drops every other single-column index on that column: for the versions'
    asset it dropped the unique index behind ``one_active_version_per_asset`` and never re-created it.
    """
    return migrations.SeparateDatabaseAndState(
        state_operations=[migrations.AlterField(model_name=model_name, name=name, field=field)],
        database_operations=[
            migrations.RunSQL(
                f"DROP INDEX IF EXISTS {index}",
                reverse_sql=f"CREATE INDEX IF NOT EXISTS {index} ON {table} ({column})",
            )
        ],
    )


class Migration(migrations.Migration):
    dependencies = [
        ("contracts", "0015_asset_active_major"),
    ]

    operations = [
        migrations.AlterField(
            model_name="asset",
            name="name",
            field=models.CharField(max_length=300),
        ),
        _foreign_key_index_drop(
            "asset",
            "owner_team",
            models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="owned_assets",
                to="contracts.team",
            ),
            index="contracts_asset_owner_team_id_3cc09d45",
            table="contracts_asset",
            column="owner_team_id",
        ),
        _foreign_key_index_drop(
            "asset",
            "project",
            models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="assets",
                to="contracts.project",
            ),
            index="contracts_asset_project_id_79663509",
            table="contracts_asset",
            column="project_id",
        ),
        migrations.AlterField(
            model_name="asset",
            name="relation",
            field=models.CharField(max_length=500),
        ),
        migrations.AlterField(
            model_name="asset",
            name="status",
            field=models.CharField(
                choices=[("active", "active"), ("retired", "retired")], default="active", max_length=16
            ),
        ),
        migrations.AlterField(
            model_name="asset",
            name="unique_id",
            field=models.CharField(help_text="dbt unique_id of the producing node", max_length=500),
        ),
        _foreign_key_index_drop(
            "assetnode",
            "project",
            models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="nodes",
                to="contracts.project",
            ),
            index="contracts_assetnode_project_id_517a3f27",
            table="contracts_assetnode",
            column="project_id",
        ),
        _foreign_key_index_drop(
            "columnusage",
            "consumer",
            models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="column_reads",
                to="contracts.asset",
            ),
            index="contracts_columnusage_consumer_id_4c48d7c2",
            table="contracts_columnusage",
            column="consumer_id",
        ),
        _foreign_key_index_drop(
            "columnusage",
            "upstream",
            models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="column_readers",
                to="contracts.asset",
            ),
            index="contracts_columnusage_upstream_id_c70b34a0",
            table="contracts_columnusage",
            column="upstream_id",
        ),
        _foreign_key_index_drop(
            "contractversion",
            "asset",
            models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="versions",
                to="contracts.asset",
            ),
            index="contracts_contractversion_asset_id_28df0a87",
            table="contracts_contractversion",
            column="asset_id",
        ),
        migrations.AlterField(
            model_name="contractversion",
            name="content_hash",
            field=models.CharField(max_length=64),
        ),
        migrations.AlterField(
            model_name="contractversion",
            name="status",
            field=models.CharField(
                choices=[
                    ("active", "active"),
                    ("proposed", "proposed"),
                    ("superseded", "superseded"),
                    ("rejected", "rejected"),
                ],
                default="active",
                max_length=16,
            ),
        ),
        _foreign_key_index_drop(
            "guarantee",
            "asset",
            models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="guarantee_rows",
                to="contracts.asset",
            ),
            index="contracts_guarantee_asset_id_d011e4bf",
            table="contracts_guarantee",
            column="asset_id",
        ),
        migrations.AlterField(
            model_name="guarantee",
            name="test_unique_id",
            field=models.CharField(blank=True, default="", max_length=500),
        ),
        _foreign_key_index_drop(
            "lineageedge",
            "upstream",
            models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="downstream_edges",
                to="contracts.asset",
            ),
            index="contracts_lineageedge_upstream_id_0c268083",
            table="contracts_lineageedge",
            column="upstream_id",
        ),
        _foreign_key_index_drop(
            "registration",
            "asset",
            models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="registrations",
                to="contracts.asset",
            ),
            index="contracts_registration_asset_id_a63f6e20",
            table="contracts_registration",
            column="asset_id",
        ),
        migrations.AddIndex(
            model_name="asset",
            index=models.Index(fields=["unique_id"], name="asset_unique_id"),
        ),
        migrations.AddIndex(
            model_name="asset",
            index=models.Index(fields=["name"], name="asset_name"),
        ),
        migrations.AddIndex(
            model_name="asset",
            index=models.Index(fields=["status"], name="asset_status"),
        ),
        migrations.AddIndex(
            model_name="contractversion",
            index=models.Index(
                condition=models.Q(("status", "proposed")), fields=["asset"], name="version_proposed"
            ),
        ),
        migrations.AddIndex(
            model_name="guarantee",
            index=models.Index(fields=["test_unique_id"], name="guarantee_test_unique_id"),
        ),
        migrations.AddConstraint(
            model_name="asset",
            constraint=models.UniqueConstraint(fields=("relation",), name="uniq_asset_relation"),
        ),
    ]
