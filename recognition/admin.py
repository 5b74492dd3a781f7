from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from recognition.models import RecognitionFile, RecognitionStep, ReturnedCriterion


class StepInline(admin.TabularInline):
    """Steps are the record of who did what: taken on the file page, never edited here."""

    model = RecognitionStep
    extra = 0
    can_delete = False
    fields = ["at", "action", "from_stage", "to_stage", "actor", "comment", "check_year", "dropped"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(RecognitionFile)
class RecognitionFileAdmin(SimpleHistoryAdmin):
    list_display = ["area", "criteria_set", "year_display", "stage", "decision_number", "decision_date", "flagged"]
    list_filter = ["stage", "criteria_set", "year", "flagged"]
    search_fields = ["area__name", "area__code", "decision_number"]
    autocomplete_fields = ["area"]
    raw_id_fields = ["criteria_set"]
    filter_horizontal = ["reopened"]
    inlines = [StepInline]
    # The stage moves only through the workflow, so that every change has its step.
    readonly_fields = [
        "stage",
        "last_action",
        "stage_changed_at",
        "version",
        "submitted_on",
        "verified_on",
        "appraised_on",
    ]

    @admin.display(description=_("năm"), ordering="year")
    def year_display(self, obj):
        return str(obj.year)


@admin.register(ReturnedCriterion)
class ReturnedCriterionAdmin(admin.ModelAdmin):
    list_display = ["step", "criterion", "reason"]
    raw_id_fields = ["step", "criterion"]

    def has_change_permission(self, request, obj=None):
        return False
