"""How a change kept by django-simple-history reads: field by field, old → new, written for Vietnamese readers.

The audit page (audit/changes.py) and an indicator's history (criteria/views.py) both list changes through
``field_changes``, so a change reads the same on both: the field's name, numbers as 1.276, dates as 22/02/2024,
a choice by its label, a yes/no as Có/Không, an empty value as "—".
"""

import datetime
from decimal import Decimal

from django.utils.text import capfirst
from django.utils.translation import gettext as _

from ntm_portal.vietnamese import vn_date, vn_datetime, vn_number

EMPTY = "—"


def shown(field, value, *, name=None):
    """One value of a model field as a history line shows it; ``name(model, pk)`` names what a foreign key points
    at (else "#pk")."""
    if value is None or value == "":
        return EMPTY
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if field.is_relation:
        return name(field.related_model, value) if name else f"#{value}"
    if isinstance(value, bool):
        return str(_("Có") if value else _("Không"))
    if isinstance(value, Decimal):
        return vn_number(value)
    if isinstance(value, datetime.datetime):
        return vn_datetime(value)
    if isinstance(value, datetime.date):
        return vn_date(value)
    return str(value)


def changed_fields(record, before, fields):
    """The fields (model Field objects, in the order given) whose value differs between two history rows; for a
    first row (``before`` None), the fields it fills in."""
    changed = []
    for f in fields:
        new = getattr(record, f.attname)
        if before is None:
            if new not in (None, "", False):
                changed.append(f)
        elif getattr(before, f.attname) != new:
            changed.append(f)
    return changed


def field_changes(record, before, fields, *, name=None, shown_as=None):
    """[(field label, old, new)] for the fields that changed from ``before`` to ``record``.

    ``shown_as`` maps a field name to a function of the value, for a field that reads differently on one page
    (a yes/no indicator's own labels "Có" / "Chưa có")."""
    rows = []
    for f in changed_fields(record, before, fields):
        special = (shown_as or {}).get(f.name)

        def show(value, f=f, special=special):
            if special is not None and value not in (None, ""):
                return special(value)
            return shown(f, value, name=name)

        old = getattr(before, f.attname) if before is not None else None
        rows.append((capfirst(str(f.verbose_name)), show(old), show(getattr(record, f.attname))))
    return rows
