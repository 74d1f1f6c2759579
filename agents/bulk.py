"""New rows saved as plain values: what ``QuerySet.bulk_create`` writes, for the importer's
batches, without its cost of building SQL value by value. ``insert_objects`` for model objects
whose keys are needed afterwards; ``insert_values`` for rows given as values, nothing read back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import connections, router
from django.db.models import Model


def insert_objects(objects: Sequence[Model]) -> None:
    """Save these new objects of one model, setting their primary keys: ``bulk_create`` (each
    value through its field's ``pre_save`` and ``get_db_prep_save``, no ``save()``, no signals),
    in one multi-row ``INSERT ... RETURNING`` a batch of parameters.

    ``bulk_create`` spent ~40 us an Agent in Python compiling values one expression at a time;
    this the field calls alone. Backends that cannot return rows from a multi-row insert get
    ``bulk_create`` itself.
    """
    if not objects:
        return
    model = type(objects[0])
    meta = model._meta
    db = router.db_for_write(model)
    connection = connections[db]
    pk = meta.pk
    fields = [field for field in meta.concrete_fields if field is not pk and not field.generated]
    if not connection.features.can_return_rows_from_bulk_insert or any(
        obj.pk is not None for obj in objects
    ):
        model._default_manager.using(db).bulk_create(objects)
        return
    for obj in objects:
        obj._prepare_related_fields_for_save(operation_name="bulk_create")
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    columns = ", ".join(quote(field.column) for field in fields)
    returning, returning_params = connection.ops.return_insert_columns([pk])
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    size = max(1, connection.ops.bulk_batch_size(fields, objects))
    with connection.cursor() as cursor:
        for start in range(0, len(objects), size):
            batch = objects[start : start + size]
            params: list[object] = []
            for obj in batch:
                params += [
                    field.get_db_prep_save(field.pre_save(obj, True), connection)
                    for field in fields
                ]
            # The names come from the model, quoted; the values are parameters.
            sql = f"INSERT INTO {table} ({columns}) VALUES {', '.join([row] * len(batch))} {returning}"  # noqa: S608, E501
            cursor.execute(sql, params + list(returning_params))
            for obj, (value,) in zip(batch, cursor.fetchall(), strict=True):
                obj.pk = pk.to_python(value)
                obj._state.adding = False
                obj._state.db = db


def insert_values(model: type[Model], rows: Sequence[Mapping[str, Any]]) -> None:
    """Save new rows of ``model`` given as ``{attname: value}`` (defaults for the fields a row
    leaves out), each value prepared by its model field: one INSERT executed for every row.
    No model objects, no primary keys read back, no checks of related objects (the caller has
    saved them)."""
    if not rows:
        return
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    defaults = {field.attname: field.get_default() for field in fields}
    table, columns = quote(model._meta.db_table), ", ".join(quote(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    # The names come from the model, quoted; the values are parameters.
    sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608
    values = [
        [
            field.get_db_prep_save(row.get(field.attname, defaults[field.attname]), connection)
            for field in fields
        ]
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, values)
