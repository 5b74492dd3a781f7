from django import template

from recognition.services import lock_notice

register = template.Library()


@register.inclusion_tag("recognition/_lock_banner.html")
def recognition_lock(area, criteria_set, year):
    """The workspace banner saying that the year's results are locked by the recognition file (two queries)."""
    file = lock_notice(area=area, criteria_set=criteria_set, year=year) if area is not None else None
    return {"file": file, "reopened": sorted(c.number for c in file.reopened.all()) if file else []}
