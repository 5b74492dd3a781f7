from django.contrib import admin

from areas.admin import YearColumnMixin
from reports.models import ExportJob


@admin.register(ExportJob)
class ExportJobAdmin(YearColumnMixin, admin.ModelAdmin):
    list_display = ["pk", "form", "area", "year_label", "user", "status", "progress", "created_at", "finished_at"]
    list_filter = ["status", "form"]
    list_select_related = ["area", "user"]
    search_fields = ["area__name", "area__code", "user__username"]
    readonly_fields = [f.name for f in ExportJob._meta.fields]

    def has_add_permission(self, request):
        return False
