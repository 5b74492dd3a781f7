import datetime

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportModelAdmin
from simple_history.admin import SimpleHistoryAdmin

from areas import groupings, services
from areas.models import Area, AreaSuccession, CommuneGrouping, Level, MapSnapshot, Region, Role
from areas.resources import AreaResource

admin.site.site_header = _("Quản trị Cổng thông tin Nông thôn mới")
admin.site.site_title = _("Quản trị NTM")
admin.site.index_title = _("Danh mục và dữ liệu")
# Changelists of areas and thresholds are wide; the side menu would push their columns off the screen.
admin.site.enable_nav_sidebar = False


class GroupingImportForm(forms.Form):
    file = forms.FileField(label=_("Tệp Excel (.xlsx)"))
    period_start = forms.IntegerField(label=_("Giai đoạn từ năm"), initial=2026, min_value=2000, max_value=2100)
    period_end = forms.IntegerField(label=_("đến năm"), initial=2030, min_value=2000, max_value=2100)

    def clean(self):
        data = super().clean()
        if data.get("period_start") and data.get("period_end") and data["period_end"] < data["period_start"]:
            raise forms.ValidationError(_("Năm kết thúc phải sau năm bắt đầu."))
        return data


class YearColumnMixin:
    """Years are labels, not quantities: show 2019, never the localized 2.019."""

    @admin.display(description=_("năm"), ordering="year")
    def year_label(self, obj):
        return str(obj.year) if obj.year is not None else "—"


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    show_facets = admin.ShowFacets.NEVER
    list_display = ["code", "name", "position"]
    search_fields = ["code", "name"]


class GroupingProvinceFilter(admin.SimpleListFilter):
    title = _("tỉnh")
    parameter_name = "tinh"

    def lookups(self, request, model_admin):
        provinces = Area.objects.provinces().current().order_by("name")
        return [(p.pk, p.name) for p in provinces]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(area__province_id=self.value())
        return queryset


class ProvinceFilter(admin.SimpleListFilter):
    title = _("tỉnh")
    parameter_name = "tinh"

    def lookups(self, request, model_admin):
        provinces = Area.objects.provinces().order_by("name", "valid_from")
        return [(p.pk, _province_label(p)) for p in provinces]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(Q(pk=self.value()) | Q(province_id=self.value()))
        return queryset


def _province_label(province):
    # Both maps keep a "Tuyên Quang": say which one.
    if province.valid_until:
        return _("%(name)s (đến %(day)s)") % {"name": province.name, "day": province.valid_until.strftime("%d/%m/%Y")}
    if province.valid_from:
        return _("%(name)s (từ %(day)s)") % {"name": province.name, "day": province.valid_from.strftime("%d/%m/%Y")}
    return province.name


class ValidityFilter(admin.SimpleListFilter):
    title = _("hiệu lực")
    parameter_name = "hieu_luc"

    def lookups(self, request, model_admin):
        return [("current", _("đang hiệu lực")), ("ended", _("đã hết hiệu lực"))]

    def queryset(self, request, queryset):
        if self.value() == "current":
            return queryset.current()
        if self.value() == "ended":
            return queryset.filter(valid_until__lt=timezone.localdate())
        return queryset


class PredecessorInline(admin.TabularInline):
    model = AreaSuccession
    fk_name = "new"
    extra = 0
    autocomplete_fields = ["old"]
    fields = ["old", "share", "basis", "on"]
    verbose_name = _("hình thành từ")
    verbose_name_plural = _("hình thành từ (sáp nhập, chia tách)")


class GroupingInline(admin.TabularInline):
    model = CommuneGrouping
    extra = 0
    fields = ["period_start", "period_end", "group", "decision_number", "decision_date", "note"]
    verbose_name = _("xếp nhóm xã")
    verbose_name_plural = _("xếp nhóm xã (nhóm 1 / 2 / 3 theo quyết định của tỉnh)")


@admin.register(CommuneGrouping)
class CommuneGroupingAdmin(SimpleHistoryAdmin):
    """Each commune's group per period; loaded from Excel with "Nhập từ Excel" (all rows or none)."""

    show_facets = admin.ShowFacets.NEVER
    list_display = ["area", "province_name", "period_label", "group", "decision_number", "decision_date"]
    list_select_related = ["area", "area__province"]
    list_filter = ["group", "period_start", GroupingProvinceFilter, "decision_date"]
    search_fields = ["area__code", "area__name", "decision_number"]
    autocomplete_fields = ["area"]
    change_list_template = "admin/areas/communegrouping/change_list.html"

    @admin.display(description=_("tỉnh"), ordering="area__province__name")
    def province_name(self, grouping):
        return grouping.area.province.name if grouping.area.province_id else None

    @admin.display(description=_("giai đoạn"), ordering="period_start")
    def period_label(self, grouping):
        return grouping.period

    def get_urls(self):
        urls = [
            path(
                "nhap-excel/",
                self.admin_site.admin_view(self.import_view),
                name="areas_communegrouping_import",
            )
        ]
        return urls + super().get_urls()

    def save_model(self, request, obj, form, change):
        obj._history_user = request.user
        super().save_model(request, obj, form, change)
        # The commune's verdicts of the period follow its group.
        groupings.restate_groups(areas=[obj.area], period_start=obj.period_start, period_end=obj.period_end)

    def import_view(self, request):
        if not self.has_add_permission(request) or not self.has_change_permission(request):
            raise PermissionDenied
        form = GroupingImportForm(request.POST or None, request.FILES or None)
        errors = []
        if request.method == "POST" and form.is_valid():
            try:
                report = groupings.import_groupings(
                    form.cleaned_data["file"],
                    period_start=form.cleaned_data["period_start"],
                    period_end=form.cleaned_data["period_end"],
                    user=request.user,
                )
            except groupings.GroupingImportError as exc:
                errors = exc.errors
            else:
                messages.success(request, report.message())
                return redirect("admin:areas_communegrouping_changelist")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Nhập xếp nhóm xã từ Excel"),
            "form": form,
            "errors": errors,
            "columns": groupings.COLUMNS,
        }
        return TemplateResponse(request, "admin/areas/communegrouping/import.html", context)


@admin.register(MapSnapshot)
class MapSnapshotAdmin(admin.ModelAdmin):
    """Read-only: snapshots are loaded with `manage.py load_admin_map`, never edited by hand."""

    show_facets = admin.ShowFacets.NEVER
    list_display = ["day", "source", "merges_source", "loaded_at"]
    readonly_fields = ["day", "source", "merges_source", "summary", "loaded_at"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Area)
class AreaAdmin(ImportExportModelAdmin):
    show_facets = admin.ShowFacets.NEVER
    resource_classes = [AreaResource]
    list_display = [
        "code",
        "name",
        "level",
        "kind",
        "parent",
        "province",
        "region",
        "flags",
        "validity",
    ]
    list_display_links = ["code", "name"]
    list_select_related = ["parent", "province", "region"]
    search_fields = ["code", "name"]
    list_filter = [
        "level",
        "region",
        ProvinceFilter,
        "special_difficulty",
        "safe_zone",
        ValidityFilter,
        "ended_without_successor",
    ]
    autocomplete_fields = ["parent"]
    inlines = [PredecessorInline, GroupingInline]
    readonly_fields = ["province", "district", "commune"]
    list_per_page = 50
    fieldsets = [
        (None, {"fields": ["code", "name", "kind", "level", "parent"]}),
        (_("Cấp trên (tự điền theo đơn vị cấp trên)"), {"fields": ["province", "district", "commune"]}),
        (
            _("Vùng và diện áp dụng ngưỡng"),
            {"fields": ["region", "special_difficulty", "safe_zone"]},
        ),
        (_("Hiệu lực"), {"fields": ["valid_from", "valid_until", "ended_without_successor"]}),
    ]

    @admin.display(description=_("diện áp dụng"))
    def flags(self, area):
        # One short column instead of three, so the list fits a laptop screen.
        marks = [
            _("ĐBKK") if area.special_difficulty else "",
            _("ATK") if area.safe_zone else "",
        ]
        return " · ".join(str(m) for m in marks if m) or None

    @admin.display(description=_("hiệu lực"))
    def validity(self, area):
        start = area.valid_from.strftime("%d/%m/%Y") if area.valid_from else ""
        end = area.valid_until.strftime("%d/%m/%Y") if area.valid_until else ""
        if not start and not end:
            return None
        return f"{start or '…'} – {end or '…'}"

    def save_model(self, request, obj, form, change):
        # The form's validation already ran Area.clean(); moving also refreshes every unit below.
        services.move_area(area=obj, parent=obj.parent)

    def get_inlines(self, request, obj):
        # Groups are a commune's: other levels have no such inline.
        if obj is None or obj.level != Level.COMMUNE:
            return [PredecessorInline]
        return self.inlines

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        if formset.model is CommuneGrouping:
            # The commune's verdicts follow its group: judged again for every period whose grouping changed.
            for grouping in formset.new_objects + [g for g, _fields in formset.changed_objects]:
                groupings.restate_groups(
                    areas=[form.instance], period_start=grouping.period_start, period_end=grouping.period_end
                )


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    show_facets = admin.ShowFacets.NEVER
    list_display = ["user", "area", "kind", "is_active", "ended", "created_at"]
    list_select_related = ["user", "area"]
    list_filter = ["kind", "is_active"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "area__name", "area__code"]
    autocomplete_fields = ["user", "area"]

    @admin.display(description=_("kết thúc theo đơn vị"))
    def ended(self, role):
        # A role held on a unit the map abolished ends on its last day; the row stays as history.
        day = role.ended_on
        return (
            _("hết hiệu lực từ %(day)s") % {"day": (day + datetime.timedelta(days=1)).strftime("%d/%m/%Y")}
            if day
            else None
        )


class RoleInline(admin.TabularInline):
    model = Role
    extra = 0
    autocomplete_fields = ["area"]
    fields = ["area", "kind", "is_active"]


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class PortalUserAdmin(UserAdmin):
    show_facets = admin.ShowFacets.NEVER
    inlines = [RoleInline]
