"""Functions of other apps that criteria calls, named in settings (NTM_PLAN_YEARS, NTM_CRITERION_OWNERS,
NTM_RESULT_LOCK…) so that criteria imports none of them: the plans' years, the leads of criteria, the recognition
workflow's locks and banner. Read at each call, so that a test may turn one off with override_settings."""

from django.conf import settings
from django.utils.module_loading import import_string


def named(setting: str):
    """The function `setting` names, or None where it names none."""
    path = getattr(settings, setting, "")
    return import_string(path) if path else None
