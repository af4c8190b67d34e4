"""Many rows written with one executemany, for the sync engine's hot path.

Why not bulk_create/bulk_update: for Job (about 30 columns) Django compiles every value
through the SQL compiler, about 200 µs per row, which made the ORM the bottleneck of a
100,000-job import; bulk_update builds a CASE per column. Here each field's database
adapter is looked up once and the statement is prepared once, so the same writes cost a
fraction. Semantics match `bulk_create(ignore_conflicts=True)` (ON CONFLICT DO NOTHING,
which SQLite and PostgreSQL both speak) and a plain UPDATE by primary key.
"""

from collections.abc import Callable, Sequence
from typing import Any

from django.db import connections, models, router

from core.sql import placeholders

# Types whose Python value is already what the database driver takes.
PLAIN = {
    "AutoField",
    "BigAutoField",
    "BigIntegerField",
    "BooleanField",
    "CharField",
    "ForeignKey",
    "IntegerField",
    "PositiveIntegerField",
    "SlugField",
    "TextField",
}


def _adapter(field: models.Field, connection) -> Callable[[Any], Any]:
    """The database form of one field's values, straight from the backend's operations
    (the same calls Field.get_db_prep_save ends in, without the layers in between)."""
    ops, kind = connection.ops, field.get_internal_type()
    if kind in PLAIN:
        return lambda value: value
    if kind == "DateTimeField":
        # Rows written together often share a time (imported, seen): convert each once.
        memo: dict[Any, Any] = {}
        return lambda value: (
            memo[value] if value in memo else memo.setdefault(value, ops.adapt_datetimefield_value(value))
        )
    if kind == "JSONField":
        return lambda value: ops.adapt_json_value(value, field.encoder)
    if kind == "DecimalField":
        return lambda value: ops.adapt_decimalfield_value(value, field.max_digits, field.decimal_places)
    if kind == "UUIDField" and not connection.features.has_native_uuid_field:
        return lambda value: None if value is None else value.hex
    return lambda value: field.get_db_prep_save(value, connection)


def _adapters(model: type[models.Model], attnames: Sequence[str], connection) -> list[Callable[[Any], Any]]:
    fields = {f.attname: f for f in model._meta.concrete_fields}
    return [_adapter(fields[name], connection) for name in attnames]


def insert_ignoring_conflicts(model: type[models.Model], rows: list[dict[str, Any]], conflict: Sequence[str]) -> None:
    """INSERT rows (dicts of attname → value, all with the same keys); rows that would break
    the unique constraint on `conflict` columns are skipped."""
    if not rows:
        return
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    fields = {f.attname: f for f in model._meta.concrete_fields}
    names = list(rows[0])
    columns = ", ".join(quote(fields[n].column) for n in names)
    # Identifiers come from the model's metadata, quoted; every value is a parameter.
    table, keys = quote(model._meta.db_table), ", ".join(quote(fields[c].column) for c in conflict)
    slots = placeholders(len(names))
    sql = f"INSERT INTO {table} ({columns}) VALUES ({slots}) ON CONFLICT ({keys}) DO NOTHING"  # noqa: S608
    adapt = _adapters(model, names, connection)
    params = [[a(row[n]) for a, n in zip(adapt, names, strict=True)] for row in rows]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def update_by_pk(model: type[models.Model], objects: list[models.Model], attnames: Sequence[str]) -> None:
    """UPDATE the given columns of each object, one prepared statement for all."""
    if not objects:
        return
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    fields = {f.attname: f for f in model._meta.concrete_fields}
    assignments = ", ".join(f"{quote(fields[n].column)} = %s" for n in attnames)
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    sql = f"UPDATE {table} SET {assignments} WHERE {pk} = %s"  # noqa: S608 (as above)
    adapt = _adapters(model, attnames, connection)
    params = [[*(a(getattr(obj, n)) for a, n in zip(adapt, attnames, strict=True)), obj.pk] for obj in objects]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
