"""Bulk inserts of plain tuples or unsaved instances, the one writer for large row sets (sync
assets, versions, nodes, edges, registrations, events; audit check results). PostgreSQL gets COPY,
other databases bulk_create.

Hand-written on purpose: Django has no COPY, and bulk_create quotes every value of every row in
Python (seconds at 10,000 rows where COPY takes tens of milliseconds).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import orjson
from django.db import connection, models

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


def ids_allocate(model: type[Any], count: int) -> list[int] | None:
    """``count`` new primary keys of ``model``, ascending, drawn from its table's sequence in one
    query (PostgreSQL; None elsewhere). Rows inserted with them need no ``RETURNING``, and rows of
    other tables may name them before they exist (every foreign key is deferred to the commit)."""
    if connection.vendor != "postgresql":
        return None
    if count <= 0:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [model._meta.db_table, model._meta.pk.column, count],
        )
        return sorted(row[0] for row in cursor.fetchall())


def instances_insert(model: type[Any], objects: Sequence[Any]) -> None:
    """Insert unsaved instances of ``model`` and set their pks, as ``bulk_create`` does.

    PostgreSQL: the pks come from ``ids_allocate`` (an instance may carry one already) and the rows
    go through COPY, every concrete field as the instance holds it (JSON fields serialised with
    orjson). Elsewhere: ``bulk_create``.
    """
    if not objects:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objects, batch_size=BULK_BATCH)
        return
    missing = [obj for obj in objects if obj.pk is None]
    for obj, pk in zip(missing, ids_allocate(model, len(missing)) or [], strict=True):
        obj.pk = pk
    fields = [
        f for f in model._meta.concrete_fields if not getattr(f, "generated", False)
    ]  # computed by the database
    stamped = [f for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
    convert = [(f.attname, _copy_converter(f)) for f in fields]
    for obj in objects:
        obj._prepare_related_fields_for_save(operation_name="bulk_create")  # fk_id from a saved obj
        for field in stamped:
            field.pre_save(obj, add=True)
    copy_rows(
        model,
        [f.name for f in fields],
        (tuple(to_db(getattr(obj, attname)) for attname, to_db in convert) for obj in objects),
    )
    for obj in objects:
        obj._state.adding = False
        obj._state.db = connection.alias


def _copy_converter(field: Any) -> Callable[[Any], Any]:
    if isinstance(field, models.JSONField):
        if field.encoder is not None:
            encoder = field.encoder
            return lambda value: None if value is None else encoder().encode(value)
        return json_text
    return _same


def json_text(value: Any) -> str | None:
    """A JSON field's value as COPY writes it (None stays NULL)."""
    # Non-str keys as json.dumps writes them (Django's own serialisation of a JSONField).
    return None if value is None else orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def _same(value: Any) -> Any:
    return value
