"""Bulk inserts of plain tuples, the one writer for large row sets (sync versions, nodes, edges,
registrations; audit check results). PostgreSQL gets COPY, other databases bulk_create.

Hand-written on purpose: Django has no COPY, and bulk_create quotes every value of every row in
Python (seconds at 10,000 rows where COPY takes tens of milliseconds).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection

BULK_BATCH = 2000


def copy_rows(model: type[Any], fields: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> None:
    """COPY rows into a table: on PostgreSQL several times faster than a multi-row INSERT, since
    Django's bulk_create quotes every value of every row in Python."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(model._meta.get_field(f).column) for f in fields)
    statement = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def rows_insert(
    model: type[Any], fields: Sequence[str], rows: list[tuple[Any, ...]], *, ignore_conflicts: bool = False
) -> None:
    """Insert plain tuples without building model instances.

    PostgreSQL: COPY (through a temporary table plus ``INSERT ... ON CONFLICT DO NOTHING`` when
    conflicts are to be ignored). Elsewhere: ``bulk_create`` of instances.
    """
    if not rows:
        return
    if connection.vendor != "postgresql":
        objects = [model(**dict(zip(_attnames(model, fields), row, strict=True))) for row in rows]
        model.objects.bulk_create(objects, batch_size=BULK_BATCH, ignore_conflicts=ignore_conflicts)
        return
    if not ignore_conflicts:
        copy_rows(model, fields, rows)
        return
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(model._meta.get_field(f).column) for f in fields)
    scratch = quote(f"tmp_{model._meta.db_table}_{uuid.uuid4().hex[:8]}")
    with connection.cursor() as cursor:
        # Identifiers only (quoted model metadata), no values: those go through COPY.
        create = f"CREATE TEMP TABLE {scratch} ON COMMIT DROP AS SELECT {columns} FROM {table} WITH NO DATA"  # noqa: S608
        insert = f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {scratch} ON CONFLICT DO NOTHING"  # noqa: S608
        cursor.execute(create)
        with cursor.cursor.copy(f"COPY {scratch} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(insert)
        cursor.execute(f"DROP TABLE {scratch}")


def _attnames(model: type[Any], fields: Sequence[str]) -> list[str]:
    return [model._meta.get_field(f).attname for f in fields]
