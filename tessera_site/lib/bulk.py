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
from django.core.exceptions import EmptyResultSet
from django.db import connection, models, router
from django.db.models import F
from django.db.models.lookups import In

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


class AnyOf(In):
    """``field__in=values`` for thousands of values: on PostgreSQL one array parameter
    (``field = ANY(%s)``) instead of a placeholder per value, which Django compiles and psycopg
    parses one by one (~0.1 s per 5,000); elsewhere the same ``IN (...)``.
    Used as an expression: ``filter(any_of("relation", values))``."""

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        if not self.rhs_is_direct_value():
            return self.as_sql(compiler, connection)
        field = self.lhs.output_field
        values = [field.get_db_prep_value(v, connection) for v in self.rhs if v is not None]
        if not values:
            raise EmptyResultSet
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", (*lhs_params, values)


def any_of(field: str, values: Iterable[Any]) -> AnyOf:
    return AnyOf(F(field), list(values))


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


class InstanceBuilder:
    """Unsaved instances of ``model``, one per row, as ``model(**row)`` builds them: a row maps
    field names (a related object under its foreign key's name, or its id under the attname) to
    values; a field a row does not name gets its default.

    Built positionally through ``Model.from_db`` (every concrete field, in ``_meta.concrete_fields``
    order), then marked unsaved again; a related object is cached on the instance and its id set
    as the foreign key's descriptor does (same ``_state.db``). Django's keyword ``__init__`` looks
    every field up in the keywords and routes each related object: ~2x slower for the thousands
    of new assets of a first sync. Rows naming the same keys share one plan.
    """

    def __init__(self, model: type[Any]) -> None:
        self.model = model
        self.plan: _BuildPlan | None = None

    def __call__(self, row: dict[str, Any]) -> Any:
        plan = self.plan
        if plan is None or plan.keys != row.keys():
            plan = self.plan = _BuildPlan(self.model, row)
        values = [row[key] if key is not None else default() for key, default in plan.slots]
        for index, field in plan.related:
            values[index] = _related_id(field, values[index])
        obj = self.model.from_db(None, None, values)
        for _, field in plan.related:
            value = row[field.name]
            field.set_cached_value(obj, value)
            if value is not None and obj._state.db is None:
                obj._state.db = router.db_for_write(self.model, instance=value)
        obj._state.adding = True
        return obj


class _BuildPlan:
    """Where each concrete field's value comes from for rows naming these keys."""

    def __init__(self, model: type[Any], row: dict[str, Any]) -> None:
        fields = model._meta.concrete_fields
        self.keys = frozenset(row)
        unknown = self.keys - {f.name for f in fields} - {f.attname for f in fields}
        if unknown:
            raise TypeError(f"{model.__name__} has no field(s) {sorted(unknown)}")
        self.slots: list[tuple[str | None, Callable[[], Any]]] = []
        self.related: list[tuple[int, Any]] = []
        for index, f in enumerate(fields):
            if f.attname in row:
                self.slots.append((f.attname, _no_default))
            elif f.name in row:  # a related object: its id, and the object cached
                self.slots.append((f.name, _no_default))
                self.related.append((index, f))
            else:
                self.slots.append((None, f.get_default))


def _no_default() -> None:
    return None


def _related_id(field: Any, value: Any) -> Any:
    if value is None:
        return None
    if not isinstance(value, field.remote_field.model._meta.concrete_model):
        raise ValueError(f"{field.name} must be a {field.remote_field.model.__name__}, not {value!r}")
    ((_, target),) = field.related_fields
    return getattr(value, target.attname)


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
