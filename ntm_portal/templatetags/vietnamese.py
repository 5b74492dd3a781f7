from django import template

from ntm_portal.vietnamese import person_name

register = template.Library()


@register.filter
def person(user, missing=None):
    """``{{ step.actor|person:_("theo văn bản") }}``: see ntm_portal.vietnamese.person_name."""
    return person_name(user, missing)
