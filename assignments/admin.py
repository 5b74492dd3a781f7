from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from areas.admin import YearColumnMixin
from assignments.models import Agency, CommitteeMembership, Member, Responsibility, SteeringCommittee


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ["name", "area", "kind"]
    list_filter = ["area__level", "kind"]
    search_fields = ["name", "area__name", "area__code"]
    list_select_related = ["area"]
    autocomplete_fields = ["area"]


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ["name", "position", "area", "user"]
    list_filter = ["area__level"]
    search_fields = ["name", "position", "area__name", "user__username"]
    list_select_related = ["area", "user"]
    autocomplete_fields = ["area", "user"]


class MembershipInline(admin.TabularInline):
    model = CommitteeMembership
    extra = 1
    autocomplete_fields = ["member"]


@admin.register(SteeringCommittee)
class SteeringCommitteeAdmin(admin.ModelAdmin):
    list_display = ["name", "area", "valid_from_year", "valid_until_year"]
    search_fields = ["name", "area__name"]
    list_select_related = ["area"]
    autocomplete_fields = ["area"]
    inlines = [MembershipInline]


@admin.register(Responsibility)
class ResponsibilityAdmin(YearColumnMixin, SimpleHistoryAdmin):
    list_display = ["area", "year_label", "criterion", "indicator", "lead_member", "lead_agency"]
    list_filter = ["year", "criteria_set"]
    search_fields = ["area__name", "lead_member__name", "lead_agency__name", "criterion__name", "indicator__code"]
    list_select_related = ["area", "criterion", "indicator", "lead_member", "lead_agency"]
    autocomplete_fields = ["area", "lead_member", "lead_agency", "coordinator_members", "coordinator_agencies"]
    raw_id_fields = ["criterion", "indicator"]
