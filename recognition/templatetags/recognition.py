from django import template

from recognition.views import lock_banner

register = template.Library()


@register.simple_tag
def recognition_lock(area, criteria_set, year):
    """The banner saying that the year's results are locked by the recognition file (two queries); the workspace
    shows the same through settings.NTM_RESULT_LOCK_BANNER."""
    return lock_banner(area=area, criteria_set=criteria_set, year=year)
