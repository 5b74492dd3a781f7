from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from recognition import services
from recognition.models import Outbox, RecognitionFile, RecognitionStep, ReturnedCriterion


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


class SentFilter(admin.SimpleListFilter):
    title = _("đã gửi")
    parameter_name = "da_gui"

    def lookups(self, request, model_admin):
        return [("khong", _("Chưa gửi")), ("co", _("Đã gửi"))]

    def queryset(self, request, queryset):
        if self.value() == "khong":
            return queryset.filter(sent_at__isnull=True)
        if self.value() == "co":
            return queryset.filter(sent_at__isnull=False)
        return queryset


@admin.register(Outbox)
class OutboxAdmin(admin.ModelAdmin):
    """Mails about recognition steps: the unsent ones with the error of their last try (send_outbox retries)."""

    list_display = ["created_at", "to", "subject", "sent_at", "attempts", "last_error"]
    list_filter = [SentFilter, "created_at"]
    search_fields = ["to", "subject"]
    readonly_fields = ["to", "subject", "body", "created_at", "sent_at", "attempts", "last_error"]
    actions = ["send_again"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Gửi lại các thư đã chọn"))
    def send_again(self, request, queryset):
        sent, failed = services.send_outbox(ids=list(queryset.values_list("pk", flat=True)))
        level = messages.WARNING if failed else messages.SUCCESS
        self.message_user(
            request, _("Đã gửi %(sent)s thư, %(failed)s thư chưa gửi được.") % {"sent": sent, "failed": failed}, level
        )
