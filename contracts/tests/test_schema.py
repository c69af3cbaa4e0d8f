"""The database holds what the models declare, and the tables a sync fills carry no index that no
query needs (issue #17: every index costs every inserted row)."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, transaction

from contracts.factories import AssetFactory, ContractVersionFactory
from contracts.models import Guarantee
from testsupport.fixtures import requires_postgres

pytestmark = pytest.mark.django_db

SYNC_TABLES = (
    "contracts_asset",
    "contracts_contractversion",
    "contracts_guarantee",
    "contracts_assetnode",
    "contracts_lineageedge",
    "contracts_registration",
)


def test_every_declared_index_and_constraint_exists_in_the_database():
    # A migration that drops a foreign key's index with AlterField(db_index=False) also dropped,
    # on PostgreSQL, the unique index behind one_active_version_per_asset, while Django's state
    # kept the constraint: only the database can tell.
    missing = []
    with connection.cursor() as cursor:
        for app in ("contracts", "audits"):
            for model in apps.get_app_config(app).get_models():
                found = connection.introspection.get_constraints(cursor, model._meta.db_table)
                declared = [i.name for i in model._meta.indexes] + [c.name for c in model._meta.constraints]
                missing += [f"{model._meta.db_table}.{name}" for name in declared if name not in found]
    assert missing == []


@requires_postgres
def test_the_tables_a_sync_fills_have_no_pattern_ops_twins_nor_duplicate_indexes():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = ANY(%s) AND indexdef LIKE %s",
            [list(SYNC_TABLES), "%pattern_ops%"],
        )
        pattern_ops = [row[0] for row in cursor.fetchall()]
        # Two indexes of one table whose keys (columns, operator classes, directions) are the same, or
        # one's a prefix of the other's, the shorter neither unique nor partial, the longer not
        # partial: the shorter is never needed.
        cursor.execute(
            """
            SELECT a.indexrelid::regclass::text, b.indexrelid::regclass::text
            FROM pg_index a JOIN pg_index b ON a.indrelid = b.indrelid AND a.indexrelid <> b.indexrelid
            WHERE a.indrelid::regclass::text = ANY(%s)
              AND NOT a.indisunique AND a.indpred IS NULL AND a.indexprs IS NULL AND b.indexprs IS NULL
              AND a.indnatts = a.indnkeyatts AND b.indpred IS NULL
              AND a.indnkeyatts <= b.indnkeyatts
              AND (a.indkey::int2[])[0:a.indnkeyatts - 1] = (b.indkey::int2[])[0:a.indnkeyatts - 1]
              AND (a.indclass::oid[])[0:a.indnkeyatts - 1] = (b.indclass::oid[])[0:a.indnkeyatts - 1]
              AND (a.indoption::int2[])[0:a.indnkeyatts - 1] = (b.indoption::int2[])[0:a.indnkeyatts - 1]
            """,
            [list(SYNC_TABLES)],
        )
        covered = cursor.fetchall()
    assert pattern_ops == []
    assert covered == []


def _checked_now() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


@requires_postgres
def test_a_guarantee_must_name_its_own_versions_asset():
    version = ContractVersionFactory()
    other = AssetFactory()
    Guarantee.objects.create(version=version, asset=version.asset, key="not_null:id", kind="not_null")
    _checked_now()  # one foreign key checks both: the version exists, with this asset
    with pytest.raises(IntegrityError), transaction.atomic():
        Guarantee.objects.create(version=version, asset=other, key="unique:id", kind="unique")
        _checked_now()
    with pytest.raises(IntegrityError), transaction.atomic():
        Guarantee.objects.create(version_id=version.pk + 1000, asset=version.asset, key="k", kind="unique")
        _checked_now()
