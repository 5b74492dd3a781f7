from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NtmPortalConfig(AppConfig):
    """The project package as an app: Vietnamese formats (templatetags) and one-time form tokens (models)."""

    name = "ntm_portal"
    verbose_name = _("Cổng NTM")
    default_auto_field = "django.db.models.BigAutoField"
