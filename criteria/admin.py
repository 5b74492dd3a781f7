import secrets
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import formats
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportMixin, ImportExportModelAdmin
from simple_history.admin import SimpleHistoryAdmin

from areas import access
from areas.admin import YearColumnMixin, _province_label
from areas.models import Area, CommuneGrouping
from criteria import catalogue_excel, evaluation, groupings, thresholds, variants
from criteria.models import (
    CriteriaSet,
    Criterion,
    CriterionResult,
    Evidence,
    Indicator,
    IndicatorResult,
    SetLevel,
    Threshold,
    Tier,
)
from criteria.resources import CriterionResource, IndicatorResource, IndicatorResultResource, ThresholdResource
from criteria.scope import data_years
from ntm_portal.spreadsheets import SpreadsheetAdmin
from ntm_portal.widgets import VietnameseDateInput


def _number(value):
    """80 rather than 80,0000: the stored four decimals are noise on a list page."""
    if value is None:
        return None
    return formats.number_format(Decimal(value).normalize(), use_l10n=True, force_grouping=True)


# ---------------------------------------------------------------- criteria sets and province variants


class CriterionInline(admin.TabularInline):
    model = Criterion
    extra = 0
    fields = ["number", "name", "group_code", "group_name", "verified"]
    show_change_link = True


class VariantImportForm(forms.Form):
    province = forms.ModelChoiceField(queryset=Area.objects.none(), label=_("Tỉnh ban hành"))
    code = forms.SlugField(label=_("Mã bộ cụ thể hóa"), max_length=60, help_text=_("Ví dụ: tq-479-2022"))
    name = forms.CharField(label=_("Tên bộ cụ thể hóa"), max_length=300)
    legal_basis = forms.CharField(label=_("Số hiệu văn bản"), max_length=200, help_text=_("Ví dụ: 479/QĐ-UBND"))
    issued_on = forms.DateField(label=_("Ngày ban hành"), required=False, widget=VietnameseDateInput())
    workbook = forms.FileField(
        label=_("Bảng ngưỡng (.xlsx)"),
        help_text=_("Dòng đầu là tiêu đề: Mã chỉ tiêu | Ngưỡng | Vùng | Năm | Ghi chú (ba cột sau có thể bỏ)."),
    )

    def __init__(self, *args, parent_set, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["province"]
        field.queryset = Area.objects.provinces().in_year(parent_set.period_start).order_by("name")
        field.label_from_instance = _province_label


class CatalogueImportForm(forms.Form):
    """A whole criteria set from Excel: what the set is, and the workbook of its criteria, indicators, thresholds."""

    code = forms.SlugField(
        label=_("Mã bộ tiêu chí"),
        max_length=56,
        help_text=_("Ví dụ: bg_xa_ntm_2026_2030. Nếu mã đã dùng, bộ mới thành phiên bản …_v2, …_v3; bộ cũ giữ nguyên."),
    )
    name = forms.CharField(label=_("Tên bộ tiêu chí"), max_length=300)
    level = forms.ChoiceField(label=_("Cấp áp dụng"), choices=SetLevel.choices, initial=SetLevel.COMMUNE)
    tier = forms.ChoiceField(label=_("Mức"), choices=Tier.choices, initial=Tier.STANDARD)
    period_start = forms.IntegerField(label=_("Từ năm"), min_value=2000, max_value=2100, initial=2026)
    period_end = forms.IntegerField(label=_("Đến năm"), min_value=2000, max_value=2100, initial=2030)
    legal_basis = forms.CharField(
        label=_("Căn cứ (văn bản)"),
        max_length=200,
        required=False,
        help_text=_("Ví dụ: Hướng dẫn 12/HD-SNN; dùng cho các dòng để trống cột Căn cứ."),
    )
    issued_on = forms.DateField(label=_("Ngày ban hành"), required=False, widget=VietnameseDateInput())
    issuer = forms.CharField(label=_("Cơ quan ban hành"), max_length=200, required=False)
    workbook = forms.FileField(
        label=_("Bảng bộ tiêu chí (.xlsx)"),
        help_text=_(
            "Dòng tiêu đề: Tiêu chí số | Tên tiêu chí | Mã chỉ tiêu | Tên chỉ tiêu | Đơn vị | Loại | So sánh | "
            "Ngưỡng chung | N1 | N2 | N3 (hoặc mã vùng) | Năm áp dụng | Căn cứ | Đã xác minh | Ghi chú."
        ),
    )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("period_start"), cleaned.get("period_end")
        if start and end and start > end:
            self.add_error("period_end", _("Năm kết thúc phải sau năm bắt đầu."))
        return cleaned

    def meta(self):
        data = self.cleaned_data
        return catalogue_excel.SetMeta(
            code=data["code"],
            name=data["name"],
            level=data["level"],
            tier=data["tier"],
            period_start=data["period_start"],
            period_end=data["period_end"],
            legal_basis=data["legal_basis"],
            issued_on=data["issued_on"],
            issuer=data["issuer"],
        )


# The workbook waiting for confirmation, its cells as read once (one per session: a new upload replaces it).
CATALOGUE_UPLOAD_SESSION_KEY = "criteria_catalogue_upload"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@admin.register(CriteriaSet)
class CriteriaSetAdmin(admin.ModelAdmin):
    show_facets = admin.ShowFacets.NEVER
    list_display = ["code", "name", "level", "tier", "period", "province", "legal_basis", "criteria_count"]
    list_select_related = ["province"]
    list_filter = ["level", "tier", "period_start", "threshold_scheme"]
    search_fields = ["code", "name", "legal_basis"]
    inlines = [CriterionInline]
    actions = ["import_variant_action", "export_excel_action"]
    autocomplete_fields = ["province"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(criteria_total=Count("criteria"))

    @admin.display(description=_("số tiêu chí"), ordering="criteria_total")
    def criteria_count(self, criteria_set):
        return criteria_set.criteria_total

    @admin.display(description=_("giai đoạn"), ordering="period_start")
    def period(self, criteria_set):
        return criteria_set.period

    @admin.action(description=_("Nhập bộ cụ thể hóa của tỉnh từ Excel"))
    def import_variant_action(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Hãy chọn đúng một bộ tiêu chí quốc gia."), messages.ERROR)
            return None
        return redirect("admin:criteria_criteriaset_import_variant", queryset.get().pk)

    @admin.action(description=_("Xuất Excel (bảng bộ tiêu chí)"), permissions=["view"])
    def export_excel_action(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Hãy chọn đúng một bộ tiêu chí để xuất."), messages.ERROR)
            return None
        return self._excel_response(queryset.get())

    def _excel_response(self, criteria_set):
        response = HttpResponse(catalogue_excel.export_set(criteria_set), content_type=XLSX_TYPE)
        response["Content-Disposition"] = f'attachment; filename="{criteria_set.code}.xlsx"'
        return response

    def get_urls(self):
        return [
            path(
                "tai-tu-excel/",
                self.admin_site.admin_view(self.import_catalogue_view),
                name="criteria_criteriaset_import_catalogue",
            ),
            path(
                "tai-tu-excel/xac-nhan/",
                self.admin_site.admin_view(self.confirm_catalogue_view),
                name="criteria_criteriaset_confirm_catalogue",
            ),
            path(
                "<int:set_id>/xuat-excel/",
                self.admin_site.admin_view(self.export_excel_view),
                name="criteria_criteriaset_export_excel",
            ),
            path(
                "<int:set_id>/nhap-bo-cu-the-hoa/",
                self.admin_site.admin_view(self.import_variant_view),
                name="criteria_criteriaset_import_variant",
            ),
            *super().get_urls(),
        ]

    def import_variant_view(self, request, set_id):
        parent_set = self.get_object(request, str(set_id))
        if parent_set is None or not self.has_add_permission(request):
            return redirect("admin:criteria_criteriaset_changelist")
        if parent_set.parent_id:
            self.message_user(request, _("Chỉ cụ thể hóa được bộ tiêu chí quốc gia."), messages.ERROR)
            return redirect("admin:criteria_criteriaset_change", parent_set.pk)
        form = VariantImportForm(request.POST or None, request.FILES or None, parent_set=parent_set)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                report = variants.import_variant(
                    workbook_file=data["workbook"],
                    parent_set=parent_set,
                    province=data["province"],
                    code=data["code"],
                    name=data["name"],
                    legal_basis=data["legal_basis"],
                    issued_on=data["issued_on"],
                    user=request.user,
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                self.message_user(
                    request,
                    _(
                        "Đã nạp %(set)s: thêm %(created)s, cập nhật %(updated)s, bỏ %(removed)s ngưỡng; "
                        "tính lại %(n)s kết quả."
                    )
                    % {
                        "set": report.criteria_set.name,
                        "created": report.created,
                        "updated": report.updated,
                        "removed": report.removed,
                        "n": report.recomputed,
                    },
                    messages.SUCCESS,
                )
                return redirect("admin:criteria_criteriaset_change", report.criteria_set.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": parent_set,
            "title": _("Nhập bộ cụ thể hóa của tỉnh"),
            "subtitle": parent_set.name,
            "form": form,
            "has_view_permission": True,
        }
        return render(request, "admin/criteria/criteriaset/import_variant.html", context)

    def export_excel_view(self, request, set_id):
        criteria_set = self.get_object(request, str(set_id))
        if criteria_set is None or not self.has_view_permission(request, criteria_set):
            raise Http404
        return self._excel_response(criteria_set)

    def _catalogue_context(self, request, **context):
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "has_view_permission": True,
            "import_url": reverse("admin:criteria_criteriaset_import_catalogue"),
            **context,
        }

    def import_catalogue_view(self, request):
        """Upload → dry run: the cells are read once and kept in the session until confirmed."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = CatalogueImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload, meta = form.cleaned_data["workbook"], form.meta()
            try:
                rows = catalogue_excel.read_workbook(upload)
                plan = catalogue_excel.dry_run(rows, meta=meta)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                token = secrets.token_urlsafe(24)
                request.session.pop(CATALOGUE_UPLOAD_SESSION_KEY, None)
                if plan.ok:
                    request.session[CATALOGUE_UPLOAD_SESSION_KEY] = {
                        "token": token,
                        "meta": meta.as_dict(),
                        "rows": rows,
                        "file_name": str(upload.name or "")[-200:],
                    }
                context = self._catalogue_context(
                    request,
                    title=_("Chạy thử: bộ tiêu chí từ Excel"),
                    subtitle=meta.name,
                    plan=plan,
                    token=token,
                    file_name=upload.name,
                )
                return render(request, "admin/criteria/criteriaset/catalogue_dry_run.html", context)
        context = self._catalogue_context(request, title=_("Tải bộ tiêu chí từ Excel"), form=form)
        return render(request, "admin/criteria/criteriaset/import_catalogue.html", context)

    def confirm_catalogue_view(self, request):
        """Write the set the dry run showed, once: the kept cells leave the session with the write."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        if request.method != "POST":
            return redirect("admin:criteria_criteriaset_import_catalogue")
        pending = request.session.get(CATALOGUE_UPLOAD_SESSION_KEY)
        if not pending or not secrets.compare_digest(pending["token"], request.POST.get("token", "")):
            self.message_user(
                request,
                _("Bảng đã tải lên không còn (đã ghi, đã hủy hoặc đã tải bảng khác); hãy tải tệp lên lại."),
                messages.ERROR,
            )
            return redirect("admin:criteria_criteriaset_import_catalogue")
        try:
            criteria_set = catalogue_excel.import_set(
                rows=pending["rows"],
                meta=catalogue_excel.SetMeta.from_dict(pending["meta"]),
                user=request.user,
                file_name=pending["file_name"],
                expected_code=request.POST.get("code", ""),
            )
        except ValidationError as exc:
            request.session.pop(CATALOGUE_UPLOAD_SESSION_KEY, None)
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            return redirect("admin:criteria_criteriaset_import_catalogue")
        request.session.pop(CATALOGUE_UPLOAD_SESSION_KEY, None)
        indicators = Indicator.objects.in_set(criteria_set)
        self.message_user(
            request,
            _("Đã tạo bộ tiêu chí %(code)s: %(criteria)s tiêu chí, %(indicators)s chỉ tiêu, %(thresholds)s ngưỡng.")
            % {
                "code": criteria_set.code,
                "criteria": criteria_set.criteria.count(),
                "indicators": indicators.count(),
                "thresholds": Threshold.objects.filter(indicator__in=indicators).count(),
            },
            messages.SUCCESS,
        )
        return redirect("admin:criteria_criteriaset_change", criteria_set.pk)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "catalogue_import_url": None}
        if self.has_add_permission(request):
            extra_context["catalogue_import_url"] = reverse("admin:criteria_criteriaset_import_catalogue")
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "variant_import_url": None}
        obj = self.get_object(request, object_id)
        if obj is not None:
            extra_context["excel_export_url"] = reverse("admin:criteria_criteriaset_export_excel", args=[obj.pk])
        if obj is not None and not obj.parent_id:
            extra_context["variant_import_url"] = reverse("admin:criteria_criteriaset_import_variant", args=[obj.pk])
        return super().change_view(request, object_id, form_url, extra_context)


# ---------------------------------------------------------------- criteria and indicators


class IndicatorInline(admin.TabularInline):
    model = Indicator
    extra = 0
    fields = ["code", "name", "unit", "kind", "verified"]
    show_change_link = True
    formfield_overrides = {Indicator._meta.get_field("name").__class__: {"widget": forms.Textarea(attrs={"rows": 2})}}


@admin.register(Criterion)
class CriterionAdmin(SpreadsheetAdmin, ImportExportModelAdmin):
    show_facets = admin.ShowFacets.NEVER
    resource_classes = [CriterionResource]
    list_display = ["number", "name", "criteria_set", "group_code", "indicator_count", "verified"]
    list_display_links = ["number", "name"]
    list_select_related = ["criteria_set"]
    list_filter = ["criteria_set", "verified"]
    search_fields = ["name"]
    inlines = [IndicatorInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(indicator_total=Count("indicators"))

    @admin.display(description=_("số chỉ tiêu"), ordering="indicator_total")
    def indicator_count(self, criterion):
        return criterion.indicator_total

    def save_formset(self, request, form, formset, change):
        for indicator in formset.save(commit=False):
            indicator.sort_key = evaluation.natural_key(indicator.code)
            indicator.save()
        for indicator in formset.deleted_objects:
            indicator.delete()


@admin.register(Indicator)
class IndicatorAdmin(SpreadsheetAdmin, ImportExportModelAdmin):
    show_facets = admin.ShowFacets.NEVER
    resource_classes = [IndicatorResource]
    list_display = ["code", "short_name", "criterion_number", "criteria_set", "unit", "kind", "verified"]
    list_display_links = ["code", "short_name"]
    list_select_related = ["criterion__criteria_set"]
    list_filter = [("criterion__criteria_set", admin.RelatedFieldListFilter), "kind", "verified"]
    search_fields = ["code", "name"]
    ordering = ["criterion__criteria_set", "criterion__number", "sort_key"]

    @admin.display(description=_("tên chỉ tiêu"))
    def short_name(self, indicator):
        return indicator.name if len(indicator.name) <= 90 else indicator.name[:88] + "…"

    @admin.display(description=_("tiêu chí"), ordering="criterion__number")
    def criterion_number(self, indicator):
        return indicator.criterion.number

    @admin.display(description=_("bộ tiêu chí"), ordering="criterion__criteria_set")
    def criteria_set(self, indicator):
        return indicator.criterion.criteria_set.code

    def save_model(self, request, obj, form, change):
        obj.sort_key = evaluation.natural_key(obj.code)
        super().save_model(request, obj, form, change)


# ---------------------------------------------------------------- thresholds


class ThresholdForm(forms.ModelForm):
    class Meta:
        model = Threshold
        fields = Threshold.WRITTEN_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["comparison"].required = False
        self.fields["comparison"].help_text = _(
            "Để nguyên thì so sánh và giá trị được đọc lại từ ngưỡng nguyên văn (ví dụ “≤16,5%”)."
        )

    def clean(self):
        cleaned = super().clean()
        set_by_hand = {"comparison", "value"} & set(self.changed_data)
        if ("raw" in self.changed_data and not set_by_hand) or not cleaned.get("comparison"):
            parsed = evaluation.parse_threshold(cleaned.get("raw"))
            cleaned["comparison"], cleaned["value"] = parsed.comparison, parsed.value
        return cleaned


class ConfirmThresholdForm(ActionForm):
    source = forms.CharField(
        label=_("Văn bản đối chiếu"),
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("Ví dụ: QĐ 318/QĐ-TTg ngày 08/3/2022"), "size": 36}),
    )


@admin.register(Threshold)
class ThresholdAdmin(SpreadsheetAdmin, YearColumnMixin, ImportExportMixin, SimpleHistoryAdmin):
    show_facets = admin.ShowFacets.NEVER
    resource_classes = [ThresholdResource]
    form = ThresholdForm
    action_form = ConfirmThresholdForm
    actions = ["confirm"]
    list_display = [
        "indicator_code",
        "criteria_set",
        "variant_basis",
        "scope",
        "year_label",
        "raw_short",
        "comparison",
        "value_display",
        "verified",
        "source_short",
    ]
    list_display_links = ["indicator_code", "raw_short"]
    list_select_related = ["indicator__criterion__criteria_set", "variant", "region"]
    list_filter = [
        ("indicator__criterion__criteria_set", admin.RelatedFieldListFilter),
        ("variant", admin.RelatedOnlyFieldListFilter),
        "region",
        "comparison",
        "verified",
    ]
    search_fields = ["indicator__code", "indicator__name"]
    ordering = ["indicator__criterion__criteria_set", "indicator__criterion__number", "indicator__sort_key", "pk"]
    autocomplete_fields = ["indicator"]
    list_per_page = 50

    @admin.display(description=_("mã chỉ tiêu"), ordering="indicator__sort_key")
    def indicator_code(self, threshold):
        return threshold.indicator.code

    @admin.display(description=_("bộ tiêu chí"), ordering="indicator__criterion__criteria_set")
    def criteria_set(self, threshold):
        return threshold.indicator.criterion.criteria_set.code

    @admin.display(description=_("bộ của tỉnh"), ordering="variant")
    def variant_basis(self, threshold):
        if threshold.variant is None:
            return None
        return threshold.variant.legal_basis or threshold.variant.code

    @admin.display(description=_("vùng / nhóm xã"), ordering="region__position")
    def scope(self, threshold):
        if threshold.region_id:
            return threshold.region.name
        if threshold.commune_group:
            return _("Nhóm %(group)s") % {"group": threshold.commune_group}
        return None

    @admin.display(description=_("ngưỡng (nguyên văn)"), ordering="raw")
    def raw_short(self, threshold):
        # The wording often carries a long note on its source; the change page shows it whole.
        return threshold.raw if len(threshold.raw) <= 40 else threshold.raw[:38] + "…"

    @admin.display(description=_("văn bản nguồn"), ordering="source")
    def source_short(self, threshold):
        return threshold.source if len(threshold.source) <= 40 else threshold.source[:38] + "…"

    @admin.display(description=_("giá trị"), ordering="value")
    def value_display(self, threshold):
        return _number(threshold.value)

    def save_model(self, request, obj, form, change):
        thresholds.save_threshold(threshold=obj, user=request.user)

    def delete_model(self, request, obj):
        thresholds.delete_thresholds(thresholds=[obj], user=request.user)

    def delete_queryset(self, request, queryset):
        thresholds.delete_thresholds(thresholds=list(queryset), user=request.user)

    @admin.action(description=_("Xác nhận ngưỡng (đã đối chiếu văn bản)"), permissions=["change"])
    def confirm(self, request, queryset):
        try:
            thresholds.confirm_thresholds(
                thresholds=list(queryset), source=request.POST.get("source", ""), user=request.user
            )
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            return
        self.message_user(
            request,
            _("Đã xác nhận %(n)s ngưỡng theo %(source)s; kết quả liên quan đã được tính lại.")
            % {"n": queryset.count(), "source": request.POST["source"].strip()},
            messages.SUCCESS,
        )


# ---------------------------------------------------------------- results (read-mostly: they change through services)


class ReadOnlyHistoryAdmin(SimpleHistoryAdmin):
    """Results change only through the services that evaluate them; here they are read and their history shown."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class EvidenceDeletedFilter(admin.SimpleListFilter):
    title = _("đã xóa")
    parameter_name = "da_xoa"

    def lookups(self, request, model_admin):
        return [("1", _("Đã xóa")), ("0", _("Đang dùng"))]

    def queryset(self, request, queryset):
        if self.value() == "1":
            return queryset.filter(deleted_at__isnull=False)
        if self.value() == "0":
            return queryset.filter(deleted_at__isnull=True)
        return queryset


@admin.register(Evidence)
class EvidenceAdmin(ReadOnlyHistoryAdmin):
    """Evidence files, deleted ones included (they are kept): an administrator restores a deleted file here."""

    list_display = [
        "original_name",
        "area",
        "indicator",
        "year",
        "uploaded_by",
        "uploaded_at",
        "deleted_at",
        "deleted_by",
    ]
    list_select_related = ["area", "indicator", "uploaded_by", "deleted_by"]
    list_filter = [EvidenceDeletedFilter, "year"]
    search_fields = ["original_name", "area__name", "area__code", "indicator__code"]
    actions = ["restore"]

    def get_queryset(self, request):
        return Evidence.all_objects.all()

    @admin.action(description=_("Khôi phục minh chứng đã xóa"), permissions=["view"])
    def restore(self, request, queryset):
        from criteria import evidence as evidence_files

        restored = 0
        for evidence in queryset.filter(deleted_at__isnull=False).select_related("area", "indicator__criterion"):
            if not access.can_administer(request.user, evidence.area):
                continue
            try:
                evidence_files.restore_evidence(evidence=evidence, user=request.user)
            except ValidationError as exc:
                self.message_user(request, f"{evidence}: {' '.join(exc.messages)}", messages.ERROR)
            else:
                restored += 1
        self.message_user(request, _("Đã khôi phục %(n)s tệp minh chứng.") % {"n": restored}, messages.SUCCESS)


class ResultYearFilter(admin.SimpleListFilter):
    """The years that hold data, found by one probe per possible year (criteria.scope.data_years), not by a DISTINCT
    over every result of the country (0.1–0.3 s at 950,000 results); same parameter as Django's own filter."""

    title = _("năm")
    parameter_name = "year"

    def lookups(self, request, model_admin):
        return [(str(year), str(year)) for year in data_years(None)]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        try:
            return queryset.filter(year=int(self.value()))
        except ValueError:
            raise IncorrectLookupParameters(self.value()) from None


@admin.register(IndicatorResult)
class IndicatorResultAdmin(SpreadsheetAdmin, YearColumnMixin, ImportExportMixin, ReadOnlyHistoryAdmin):
    show_facets = admin.ShowFacets.NEVER
    resource_classes = [IndicatorResultResource]
    list_display = [
        "area",
        "indicator_code",
        "criteria_set",
        "year_label",
        "measured",
        "assessed_status",
        "status",
        "is_tentative",
        "updated_by",
        "updated_at",
    ]
    list_select_related = ["area", "indicator__criterion__criteria_set", "updated_by"]
    list_filter = [
        ResultYearFilter,
        "status",
        ("indicator__criterion__criteria_set", admin.RelatedFieldListFilter),
        "is_tentative",
    ]
    search_fields = ["area__code", "area__name", "indicator__code"]
    # By the results' own columns (index indicator_result_newest): ordering by the area's code and the criterion's
    # number sorted every result of the country for one page (1.4 s at 950,000 results).
    ordering = ["-year", "area_id", "indicator_id"]
    list_per_page = 50
    # A second count of every result (50 ms at 950,000) only to say "of N in all" beside a filtered count.
    show_full_result_count = False

    def has_import_permission(self, request):
        # Importing goes through record_indicator_result, so it stays open although editing here is not.
        return request.user.has_perm("criteria.add_indicatorresult") or request.user.is_superuser

    @admin.display(description=_("mã chỉ tiêu"), ordering="indicator__sort_key")
    def indicator_code(self, result):
        return result.indicator.code

    @admin.display(description=_("bộ tiêu chí"))
    def criteria_set(self, result):
        return result.indicator.criterion.criteria_set.code

    @admin.display(description=_("giá trị đo"))
    def measured(self, result):
        if result.not_applicable:
            return _("Không áp dụng")
        if result.boolean is not None:
            return result.indicator.yes_label if result.boolean else result.indicator.no_label
        if result.numerator is not None and result.denominator:
            return f"{_number(result.numerator)} / {_number(result.denominator)}"
        return _number(result.value)


@admin.register(CriterionResult)
class CriterionResultAdmin(YearColumnMixin, ReadOnlyHistoryAdmin):
    show_facets = admin.ShowFacets.NEVER
    list_display = [
        "area",
        "criterion_number",
        "criteria_set",
        "year_label",
        "assessed_status",
        "computed_status",
        "status",
        "is_tentative",
        "disagreement",
        "updated_at",
    ]
    list_select_related = ["area", "criterion__criteria_set"]
    list_filter = [
        ResultYearFilter,
        "status",
        ("criterion__criteria_set", admin.RelatedFieldListFilter),
        "disagreement",
        "is_tentative",
    ]
    search_fields = ["area__code", "area__name"]
    ordering = ["-year", "area_id", "criterion_id"]  # index criterion_result_newest, as the indicator results
    list_per_page = 50
    show_full_result_count = False

    @admin.display(description=_("tiêu chí"), ordering="criterion__number")
    def criterion_number(self, result):
        return result.criterion.number

    @admin.display(description=_("bộ tiêu chí"))
    def criteria_set(self, result):
        return result.criterion.criteria_set.code


# ---------------------------------------------------------------- commune groups (areas.CommuneGrouping)


class GroupingImportForm(forms.Form):
    file = forms.FileField(label=_("Tệp Excel (.xlsx)"))
    period_start = forms.IntegerField(label=_("Giai đoạn từ năm"), initial=2026, min_value=2000, max_value=2100)
    period_end = forms.IntegerField(label=_("đến năm"), initial=2030, min_value=2000, max_value=2100)

    def clean(self):
        data = super().clean()
        if data.get("period_start") and data.get("period_end") and data["period_end"] < data["period_start"]:
            raise forms.ValidationError(_("Năm kết thúc phải sau năm bắt đầu."))
        return data


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
        groupings.restate_groups(
            areas=[obj.area], period_start=obj.period_start, period_end=obj.period_end, user=request.user
        )

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
