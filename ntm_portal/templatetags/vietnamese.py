"""``{% load vietnamese %}``: the filters of ntm_portal.vietnamese, so pages write as workbooks and messages do.

``{{ x|number }}`` 1.276 · ``{{ x|number:1 }}`` 90,3 · ``{{ x|percent:1 }}`` 90,3 % · ``{{ x|money }}`` 8.321,7 ·
``{{ d|vn_date }}`` 22/02/2024 · ``{{ t|vn_datetime }}`` 09:15 22/02/2024 · ``{{ user|person }}`` Nguyễn Thị Lan.
An empty value gives "" (follow with ``|default:"—"`` where a dash should show).
"""

from django import template

from ntm_portal import vietnamese

register = template.Library()


@register.filter
def number(value, places=None):
    return vietnamese.vn_number(value, None if places in (None, "") else int(places))


@register.filter
def percent(value, places=None):
    return vietnamese.vn_percent(value, None if places in (None, "") else int(places))


@register.filter
def money(value):
    return vietnamese.vn_money(value)


@register.filter
def vn_date(value):
    return vietnamese.vn_date(value)


@register.filter
def vn_datetime(value):
    return vietnamese.vn_datetime(value)


@register.filter
def person(user, missing=None):
    """``{{ step.actor|person:_("theo văn bản") }}``: see ntm_portal.vietnamese.person_name."""
    return vietnamese.person_name(user, missing)
