from django.apps import AppConfig


class ToolsConfig(AppConfig):
    """Developer and demo tooling, outside the product: seed_demo, generate_scale, bench and the demo loaders."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "tools"
    verbose_name = "Developer tools"
