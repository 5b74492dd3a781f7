"""Hot reads whose SQL the ORM writes once per process.

The workspace's tiles, leads and year list are asked on nearly every officer's page, always in the same form —
only the area, the set and the year change — yet Django builds and compiles their querysets again on each request:
about 3 ms of Python each, for statements the database answers in 0.2 ms. `Prepared` keeps the ORM as the one
place the query is written: on first use it builds the queryset with stand-in numbers for the values that change,
compiles it, and finds the stand-ins among the statement's parameters; later calls run the same statement with the
real values and turn the rows into what the queryset itself would have given (model instances with their related
objects and annotations, values() dicts or values_list tuples).

The build must read nothing but its arguments: what else it reads (the clock, the request, the database) is kept
from the first call for good — a date or time among the statement's parameters that is not one of the stand-ins
is refused for that reason. Integers (ids, years) and days can be stand-ins, and every one must reach the
statement unchanged: a build that computes with one (`year - 1`) or a lookup that rewrites it is refused when
first compiled, not run wrong. The statement is compiled twice with different stand-ins and must differ only where
they are, so that a constant of the query that happens to equal a stand-in is refused too. The stand-ins lie
within every column's range (Django turns an out-of-range comparison into "no rows"). What changes the statement's
form (an area's level decides which ancestor column is read; a setting names a function) is the `shape`, part of
the cache key with the database alias. The tests compare each prepared query with its queryset, on SQLite and
PostgreSQL.
"""

import datetime
import re

from django.core.exceptions import ImproperlyConfigured
from django.db import connections, router
from django.db.models.query import (
    FlatValuesListIterable,
    ModelIterable,
    ValuesIterable,
    ValuesListIterable,
    get_related_populators,
)

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}|$)")
# Two sets of stand-ins (see above): numbers within a positive small integer's range, the narrowest integer column
# here; days far in the future (the clock cannot give them).
_STAND_INS = ((32749, datetime.date(2999, 12, 31)), (31469, datetime.date(2998, 12, 31)))
# The n-th stand-in is the base less 13·n (3·n days): past this many parameters a number would leave a positive
# small integer's range. Callers with more values (a unit formed from thousands of old ones) use their queryset.
MAX_PARAMETERS = 2000


class Prepared:
    """`build(shape, **params)` returns a queryset of `model`; `prepared(shape, **params)` returns its rows as a
    list, as the queryset would. Parameters are integers (ids, years) or days (datetime.date)."""

    def __init__(self, model, build):
        self.model = model
        self.build = build
        self._statements = {}

    def __call__(self, shape, **params):
        if len(params) > MAX_PARAMETERS:
            raise TypeError(f"Prepared query: at most {MAX_PARAMETERS} parameters, not {len(params)}.")
        if any(type(value) not in (int, datetime.date) for value in params.values()):
            # None would be compared with "= NULL" where the queryset writes "IS NULL": such a value is a shape.
            raise TypeError(f"Prepared query: parameters are ints or days, not {params!r}.")
        kinds = tuple(sorted((name, type(value) is datetime.date) for name, value in params.items()))
        key = (shape, router.db_for_read(self.model), kinds)
        statement = self._statements.get(key)
        if statement is None:
            statement = self._statements[key] = _Statement(self.build, *key)
        return statement.run(params)


def _temporal(value):
    """A date or time, as the driver gets it (SQLite's are ISO strings)."""
    if isinstance(value, datetime.date | datetime.time):
        return True
    return isinstance(value, str) and _ISO_DATE.match(value) is not None


def _stand_ins(bases, kinds):
    number, day = bases
    return {
        name: day - datetime.timedelta(days=3 * n) if is_day else number - 13 * n
        for n, (name, is_day) in enumerate(kinds)
    }


def _slot(value, first):
    """(name, as_text) of the parameter a compiled value stands for, else (None, None). A day reaches the driver as
    a date (PostgreSQL) or as its ISO text (SQLite): the real day is then passed the same way."""
    for name, stand_in in first.items():
        if type(value) is type(stand_in) and value == stand_in:
            return name, False
        if type(stand_in) is datetime.date and value == stand_in.isoformat():
            return name, True
    return None, None


class _Statement:
    def __init__(self, build, shape, alias, kinds):
        first, second = (_stand_ins(bases, kinds) for bases in _STAND_INS)
        names = [name for name, _is_day in kinds]
        queryset = build(shape, **first)
        self.alias = alias
        self.compiler = queryset.query.get_compiler(using=alias)
        self.sql, params = self.compiler.as_sql()
        other_sql, other_params = build(shape, **second).query.get_compiler(using=alias).as_sql()
        self.slots = []
        for value in params:
            name, as_text = _slot(value, first)
            if name is None and _temporal(value):
                # The clock read while building would be kept for good: such a query is not prepared.
                raise ImproperlyConfigured("Prepared query: a date or time among the parameters that is not one.")
            self.slots.append((name, as_text, value))
        expected = [
            (second[name].isoformat() if as_text else second[name]) if name else value
            for name, as_text, value in self.slots
        ]
        missing = set(names) - {name for name, _as_text, _value in self.slots if name}
        if missing or other_sql != self.sql or list(other_params) != expected:
            raise ImproperlyConfigured(
                f"Prepared query: {sorted(missing) or names} did not reach the statement unchanged and alone."
            )
        if self.compiler.has_extra_select:
            raise ImproperlyConfigured("Prepared query: ordering by a column it does not select is not supported.")
        self.kind = queryset._iterable_class
        if self.kind is ModelIterable:
            select, klass_info = self.compiler.select, self.compiler.klass_info
            self.model = klass_info["model"]
            fields = klass_info["select_fields"]
            self.model_columns = slice(fields[0], fields[-1] + 1)
            self.init_list = [f[0].target.attname for f in select[self.model_columns]]
            self.related = get_related_populators(klass_info, select, alias)
            self.annotations = list(self.compiler.annotation_col_map.items())
        elif self.kind in (ValuesListIterable, FlatValuesListIterable):
            query = queryset.query
            names = [*query.extra_select, *query.values_select, *query.annotation_select]
            fields = [*queryset._fields, *(f for f in query.annotation_select if f not in queryset._fields)]
            if queryset._fields and fields != names:
                raise ImproperlyConfigured("Prepared query: values_list() in another order than selected.")
        elif self.kind is ValuesIterable:
            # As ValuesIterable names the columns (values() of a union, say, selects in the order asked for).
            query = queryset.query
            self.names = (
                list(query.selected)
                if query.selected
                else [*query.extra_select, *query.values_select, *query.annotation_select]
            )
        else:
            raise ImproperlyConfigured(f"Prepared query: {self.kind.__name__} is not supported.")

    def run(self, values):
        params = [
            (values[name].isoformat() if as_text else values[name]) if name else value
            for name, as_text, value in self.slots
        ]
        with connections[self.alias].cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        if self.kind is FlatValuesListIterable:
            return [row[0] for row in self.compiler.results_iter([rows])]
        if self.kind is ValuesListIterable:
            return list(self.compiler.results_iter([rows], tuple_expected=True))
        if self.kind is ValuesIterable:
            return [dict(zip(self.names, row, strict=True)) for row in self.compiler.results_iter([rows])]
        found = []
        for row in self.compiler.results_iter([rows]):
            obj = self.model.from_db(self.alias, self.init_list, row[self.model_columns])
            for populator in self.related:
                populator.populate(row, obj)
            for name, position in self.annotations:
                setattr(obj, name, row[position])
            found.append(obj)
        return found
