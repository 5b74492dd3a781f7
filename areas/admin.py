import datetime

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportModelAdmin

from areas import services
from areas.models import Area, AreaSuccession, CommuneGrouping, Level, MapSnapshot, Region, Role
from areas.resources import AreaResource
from ntm_portal.spreadsheets import SpreadsheetAdmin

admin.site.site_header = _("Quản trị Cổng thông tin Nông thôn mới")
admin.site.site_title = _("Quản trị NTM")
admin.site.index_title = _("Danh mục và dữ liệu")
# Changelists of areas and thresholds are wide; the side menu would push their columns off the screen.
admin.site.enable_nav_sidebar = False


def restate_groups(**kwargs):
    """Judge a commune's results again after its group changed: criteria's job, named in settings
    (NTM_RESTATE_GROUPS) so that areas imports no app above it."""
    import_string(settings.NTM_RESTATE_GROUPS)(**kwargs)


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
class AreaAdmin(SpreadsheetAdmin, ImportExportModelAdmin):
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
                restate_groups(
                    areas=[form.instance],
                    period_start=grouping.period_start,
                    period_end=grouping.period_end,
                    user=request.user,
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
