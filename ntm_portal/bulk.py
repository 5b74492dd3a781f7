"""Many rows written at once, with their history: what bulk_create and bulk_update do, at the speed of the SQL.

The imports (criteria.results_import: the admin's, the Biểu and the wizard's), the plans' bulk item writes
(plans.services.store_items) and the restatements of many results write thousands of rows in one go. Django's
bulk_create compiles every value through the ORM, and its bulk_update builds one CASE WHEN per field and row —
re-importing a file of 10,000 results already stored took a minute, 35 s of it PostgreSQL evaluating those CASEs.
Here each value is made ready by its column's type once, rows are inserted by COPY on PostgreSQL (INSERT … VALUES
elsewhere) and updated by one UPDATE … FROM a list of rows per batch. The history rows simple_history would write
are copied by the database from the rows just written.
"""

import datetime
import io
import sqlite3
from decimal import Decimal
from functools import partial

from django.conf import settings
from django.db import connection

BATCH = 2000


def create_with_history(objs, model, *, user, now):
    """Insert `objs` and their "+" history rows (`user`, `now`), in bulk."""
    insert_rows(objs, model)
    _copy_history(objs, model, kind="+", user=user, now=now)


# Column types whose values the database drivers take as they are (ints, booleans, ids); text is passed as plain
# str (a TextChoices member is a str subclass). Others (decimals, dates) go through the field's own preparation.
_AS_IS = {
    "BooleanField",
    "ForeignKey",
    "IntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "SmallIntegerField",
}
_TEXT = {"CharField", "TextField"}


def _text_value(value):
    return value if value is None or type(value) is str else str(value)


def _decimal_preparer(field):
    """A finite Decimal is what every backend's adapt_decimalfield_value gives back; anything else goes through
    the field."""
    prepare = partial(field.get_db_prep_save, connection=connection)

    def decimal_value(value):
        if value is None or (type(value) is Decimal and value.is_finite()):
            return value
        return prepare(value)

    return decimal_value


def _repeated_preparer(field):
    """The rows of one import share their dates (updated_at = now): prepared once, not once per row."""
    prepare = partial(field.get_db_prep_save, connection=connection)
    last = [object(), None]

    def repeated_value(value):
        if value is not last[0]:
            last[:] = [value, prepare(value)]
        return last[1]

    return repeated_value


def _preparer(field):
    kind = field.get_internal_type()
    if kind in _AS_IS:
        return None
    if kind in _TEXT:
        return _text_value
    if kind == "DecimalField":
        return _decimal_preparer(field)
    return _repeated_preparer(field)


def _values(obj, prepared):
    """An object's values in the order of `prepared` ((attname, preparer) pairs), each ready for the driver."""
    values = obj.__dict__
    return [values[name] if prepare is None else prepare(values[name]) for name, prepare in prepared]


def _batches(objs, prepared, size, *, pk=False):
    """(chunk, its parameters in one flat list) of `objs`, `size` at a time; each row's primary key first when
    `pk`."""
    for start in range(0, len(objs), size):
        chunk = objs[start : start + size]
        params = []
        for obj in chunk:
            if pk:
                params.append(obj.pk)
            params += _values(obj, prepared)
        yield chunk, params


def insert_rows(objs, model):
    """What bulk_create does for `objs` (their primary keys set, auto_now filled in where unset): by COPY on
    PostgreSQL, else INSERT … RETURNING, each value made ready for the driver by its column's type instead of
    through the ORM's per-value compilation, which was most of an import's time in cProfile (ratio to bulk_create
    5–6)."""
    if not objs:
        return
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    for field in fields:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            for obj in objs:
                # The import's own time (the history rows' date too) where the caller set it.
                if getattr(obj, field.attname) is None:
                    field.pre_save(obj, add=True)
    prepared = [(field.attname, _preparer(field)) for field in fields]
    if (
        connection.vendor == "postgresql"
        and meta.pk.get_internal_type() in ("AutoField", "BigAutoField")  # ids drawn from its sequence
        and all(f.get_internal_type() in _COPY_TYPES for f in fields)
    ):
        _copy_in(objs, meta, fields, prepared)
        return
    quote = connection.ops.quote_name
    returning, _none = connection.ops.return_insert_columns([meta.pk])
    head = f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) VALUES "
    row_sql = f"({', '.join(['%s'] * len(fields))})"
    batch = min(connection.ops.bulk_batch_size(fields, objs), BATCH)
    with connection.cursor() as cursor:
        for chunk, params in _batches(objs, prepared, batch):
            cursor.execute(f"{head}{', '.join([row_sql] * len(chunk))} {returning}", params)
            _stored(chunk, [pk for (pk,) in cursor.fetchall()])


# The column types whose prepared values _csv_cell writes as PostgreSQL's COPY reads them.
_COPY_TYPES = _AS_IS | _TEXT | {"DecimalField", "DateField", "DateTimeField"}


def _csv_cell(value):
    """A prepared value as a cell of COPY's CSV: nothing for NULL, text always quoted (so that an empty text is
    not read as NULL, and commas, quotes, line breaks and backslashes stay as typed)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return '"' + value.replace('"', '""') + '"'
    if value is True or value is False:
        return "t" if value else "f"
    if isinstance(value, (int, Decimal)):
        return str(value)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not written by COPY")


def _copy_in(objs, meta, fields, prepared):
    """insert_rows on PostgreSQL: the ids drawn from the table's sequence, then every row streamed by one COPY … FROM
    STDIN. INSERT … VALUES had PostgreSQL parse and plan 2,000 rows of bound parameters a statement, and the driver
    quote each value into it: an import's 10,000 results took 0.49 s to insert that way, 0.19 s so."""
    quote = connection.ops.quote_name
    pk_column = meta.pk.column
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, pk_column, len(objs)],
        )
        pks = [pk for (pk,) in cursor.fetchall()]
        lines = []
        for pk, obj in zip(pks, objs, strict=True):
            lines.append(",".join([str(pk), *map(_csv_cell, _values(obj, prepared))]))
        columns = ", ".join(quote(column) for column in [pk_column, *(f.column for f in fields)])
        # The driver's own cursor: Django's wrapper has no COPY (so this statement is not in connection.queries).
        cursor.cursor.copy_expert(
            f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN WITH (FORMAT csv)", io.StringIO("\n".join(lines))
        )
    _stored(objs, pks)


def _stored(objs, pks):
    """`objs` as bulk_create leaves them: their primary keys set, saved in this database."""
    for obj, pk in zip(objs, pks, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias


def update_with_history(objs, model, fields, *, user, now):
    """Save `fields` of `objs` and their "~" history rows (`user`, `now`), in bulk."""
    update_rows(objs, model, fields)
    _copy_history(objs, model, kind="~", user=user, now=now)


def _cast_type(field):
    return "text" if field.get_internal_type() in _TEXT else field.cast_db_type(connection)


def update_rows(objs, model, fields):
    """What bulk_update(objs, fields) does (`fields` by name; a relation by its name or its id's), in one UPDATE …
    FROM (VALUES …) per batch: each row joined to its values by primary key, instead of a CASE WHEN per field and
    row that the database evaluates for every row it updates (10,000 results: 35 s of PostgreSQL, 20 s of Python
    building the CASEs, against under a second so)."""
    if not objs:
        return
    if connection.vendor == "sqlite" and sqlite3.sqlite_version_info < (3, 33):
        model.objects.bulk_update(objs, fields, batch_size=BATCH)  # UPDATE … FROM came with SQLite 3.33
        return
    meta = model._meta
    columns = [meta.get_field(name) for name in fields]
    prepared = [(field.attname, _preparer(field)) for field in columns]
    quote = connection.ops.quote_name
    pk = meta.pk
    names = [pk.column, *(field.column for field in columns)]
    if connection.vendor == "postgresql":
        # A list of values has no column types of its own: each is cast to its column's, or a NULL in the first
        # row would make the column text. Text is cast to text, not varchar(n), which would cut a value too long
        # for its column where the assignment refuses it.
        row_sql = "(" + ", ".join(f"%s::{_cast_type(field)}" for field in [pk, *columns]) + ")"
    else:
        row_sql = "(" + ", ".join(["%s"] * len(names)) + ")"
    assignments = ", ".join(f"{quote(field.column)} = v.{quote(field.column)}" for field in columns)
    table, listed = quote(meta.db_table), ", ".join(quote(name) for name in names)
    batch = min(connection.ops.bulk_batch_size(names, objs), BATCH)
    with connection.cursor() as cursor:
        for chunk, params in _batches(objs, prepared, batch, pk=True):
            cursor.execute(
                f"WITH v ({listed}) AS (VALUES {', '.join([row_sql] * len(chunk))}) "
                f"UPDATE {table} SET {assignments} FROM v WHERE {table}.{quote(pk.column)} = v.{quote(pk.column)}",
                params,
            )


def _copy_history(objs, model, *, kind, user, now):
    """The history rows simple_history's bulk_create_with_history / bulk_update_with_history write for `objs`
    (every tracked field, the date, the user, "+" for new and "~" for changed), copied by the database from the
    rows just written — INSERT … SELECT by primary key — instead of built as one model instance and one bound
    parameter per field of each row, which took half of an import's time. Both databases give bulk_create's
    rows their primary keys."""
    if not objs or not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        return
    history = model.history.model
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in history.tracked_fields)
    extra = ", ".join(
        quote(history._meta.get_field(name).column)
        for name in ("history_date", "history_change_reason", "history_type", "history_user")
    )
    date = history._meta.get_field("history_date").get_db_prep_value(now, connection)
    user_id = user.pk if user is not None else None
    pks = [obj.pk for obj in objs]
    batch = connection.ops.bulk_batch_size(["pk"], pks)
    with connection.cursor() as cursor:
        for start in range(0, len(pks), batch):
            chunk = pks[start : start + batch]
            cursor.execute(
                f"INSERT INTO {quote(history._meta.db_table)} ({columns}, {extra}) "
                f"SELECT {columns}, %s, NULL, %s, %s FROM {quote(model._meta.db_table)} "
                f"WHERE {quote(model._meta.pk.column)} IN ({', '.join(['%s'] * len(chunk))})",
                [date, kind, user_id, *chunk],
            )
