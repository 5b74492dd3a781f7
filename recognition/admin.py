import secrets

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from areas import access, timeline
from areas.models import Area, Level
from criteria.models import CriteriaSet
from ntm_portal.spreadsheets import IMPORT_MAX_BYTES, ImportRefused
from ntm_portal.widgets import VietnameseDateInput
from recognition import decisions_import, services
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


# ---------------------------------------------------------------- decisions taken before the portal

UNIT_LEVELS = (Level.COMMUNE, Level.DISTRICT)
# The list waiting for confirmation, its cells as read once (one per session: a new upload replaces it).
DECISIONS_UPLOAD_SESSION_KEY = "recognition_decisions_upload"


def _reach(user):
    """The communes and districts whose decisions `user` may record: a superuser's every one, else their admin
    roles' reach (areas/access.py)."""
    units = Area.objects.filter(level__in=UNIT_LEVELS)
    return units if user.is_superuser else units.filter(pk__in=access.administered_areas(user).values("pk"))


def _unit_label(area):
    above = area.district or area.province
    parts = [f"{area.full_name} ({area.code})"]
    if above is not None:
        parts.append(above.full_name)
    if area.valid_from or area.valid_until:
        parts.append(timeline.validity(area))
    return ", ".join(parts)


class UnitAutocomplete(AutocompleteSelect):
    """The admin's autocomplete box, asking the recognition admin's own search: communes and districts only, within
    the user's reach."""

    def get_url(self):
        return reverse("admin:recognition_recognitionfile_unit_search")


class PastDecisionForm(forms.Form):
    """A recognition decision taken before the portal (Ghi nhận quyết định công nhận đã có)."""

    area = forms.ModelChoiceField(
        queryset=Area.objects.none(),
        label=_("Xã / huyện"),
        help_text=_("Gõ mã hoặc tên để tìm; chỉ xã và huyện trong phạm vi bạn quản trị."),
    )
    criteria_set = forms.ModelChoiceField(queryset=CriteriaSet.objects.none(), label=_("Bộ tiêu chí"))
    year = forms.IntegerField(label=_("Năm công nhận"), min_value=2000, max_value=2100)
    number = forms.CharField(
        label=_("Số quyết định"),
        max_length=RecognitionFile._meta.get_field("decision_number").max_length,
        help_text=_("Ví dụ: 1234/QĐ-UBND"),
    )
    date = forms.DateField(label=_("Ngày quyết định"), widget=VietnameseDateInput())
    note = forms.CharField(label=_("Ghi chú"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, user, admin_site, **kwargs):
        super().__init__(*args, **kwargs)
        area = self.fields["area"]
        area.widget = UnitAutocomplete(RecognitionFile._meta.get_field("area"), admin_site)
        area.widget.is_required = True
        area.queryset = _reach(user).select_related("district", "province")  # also the widget's choices
        area.label_from_instance = _unit_label
        sets = self.fields["criteria_set"]
        sets.queryset = (
            CriteriaSet.objects.national()
            .filter(level__in=["commune", "district"])
            .order_by("level", "-period_start", "tier")
        )
        sets.label_from_instance = lambda s: f"{s.name} ({s.code})"

    def clean_date(self):
        day = self.cleaned_data["date"]
        if day > timezone.localdate():
            raise ValidationError(_("Ngày quyết định không thể sau hôm nay."))
        return day

    def clean(self):
        cleaned = super().clean()
        area, criteria_set, year = cleaned.get("area"), cleaned.get("criteria_set"), cleaned.get("year")
        if area is not None and criteria_set is not None and criteria_set.level != area.level:
            self.add_error(
                "criteria_set",
                _("Đây là bộ tiêu chí cấp %(set_level)s, còn %(unit)s là %(level)s.")
                % {
                    "set_level": criteria_set.get_level_display().lower(),
                    "unit": area.full_name,
                    "level": area.get_level_display().lower(),
                },
            )
        elif criteria_set is not None and year is not None and not criteria_set.covers(year):
            self.add_error(
                "year",
                _("Năm %(year)s ngoài giai đoạn %(period)s của bộ tiêu chí này.")
                % {"year": year, "period": criteria_set.period},
            )
        return cleaned


class DecisionListForm(forms.Form):
    workbook = forms.FileField(
        label=_("Danh sách quyết định (.xlsx)"),
        help_text=_(
            "Dòng tiêu đề: Mã xã | Tên xã | Bộ tiêu chí | Năm | Số quyết định | Ngày quyết định. Bộ tiêu chí ghi mã "
            "(xa_ntm_2016_2020) hoặc mức và giai đoạn (NTM 2016-2020, NTM nâng cao 2021-2025)."
        ),
    )


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

    def get_urls(self):
        return [
            path(
                "ghi-nhan-quyet-dinh/",
                self.admin_site.admin_view(self.record_past_decision_view),
                name="recognition_recognitionfile_record_past",
            ),
            path(
                "ghi-nhan-quyet-dinh/tim-dia-ban/",
                self.admin_site.admin_view(self.unit_search_view),
                name="recognition_recognitionfile_unit_search",
            ),
            path(
                "tai-danh-sach-quyet-dinh/",
                self.admin_site.admin_view(self.import_decisions_view),
                name="recognition_recognitionfile_import_decisions",
            ),
            path(
                "tai-danh-sach-quyet-dinh/xac-nhan/",
                self.admin_site.admin_view(self.confirm_decisions_view),
                name="recognition_recognitionfile_confirm_decisions",
            ),
            *super().get_urls(),
        ]

    def _may_record(self, request):
        if not self.has_change_permission(request):
            raise PermissionDenied

    def _page(self, request, **context):
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "has_view_permission": True,
            "record_url": reverse("admin:recognition_recognitionfile_record_past"),
            "import_url": reverse("admin:recognition_recognitionfile_import_decisions"),
            **context,
        }

    def unit_search_view(self, request):
        """Communes and districts in the user's reach whose code or name holds the typed text (Select2's JSON)."""
        self._may_record(request)
        term = (request.GET.get("term") or "").strip()
        units = _reach(request.user).select_related("district", "province")
        if term:
            units = units.filter(Q(code__istartswith=term) | Q(name__icontains=term))
        page_size = 20
        try:
            page = max(int(request.GET.get("page") or 1), 1)
        except ValueError:
            page = 1
        found = list(units.order_by("name", "code")[(page - 1) * page_size : page * page_size + 1])
        return JsonResponse(
            {
                "results": [{"id": str(a.pk), "text": _unit_label(a)} for a in found[:page_size]],
                "pagination": {"more": len(found) > page_size},
            }
        )

    def record_past_decision_view(self, request):
        """Ghi nhận quyết định công nhận đã có: one decision taken before the portal, through the service."""
        self._may_record(request)
        form = PastDecisionForm(request.POST or None, user=request.user, admin_site=self.admin_site)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                file = services.record_past_decision(
                    area=data["area"], criteria_set=data["criteria_set"], year=data["year"], number=data["number"],
                    date=data["date"], user=request.user, note=data["note"],
                )  # fmt: skip
            except services.RecognitionError as exc:
                form.add_error(None, exc.text)
            else:
                self.message_user(
                    request,
                    _("Đã ghi nhận %(area)s đạt chuẩn năm %(year)s theo QĐ %(number)s.")
                    % {"area": file.area.full_name, "year": file.year, "number": file.decision_number},
                    messages.SUCCESS,
                )
                return redirect("admin:recognition_recognitionfile_change", file.pk)
        context = self._page(
            request, title=_("Ghi nhận quyết định công nhận đã có"), form=form, media=self.media + form.media
        )
        return render(request, "admin/recognition/recognitionfile/record_past.html", context)

    def import_decisions_view(self, request):
        """Upload → dry run: the cells are read once and kept in the session until confirmed."""
        self._may_record(request)
        form = DecisionListForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["workbook"]
            try:
                table = decisions_import.read_file(upload.read(IMPORT_MAX_BYTES + 1), file_name=str(upload.name or ""))
                plan = decisions_import.dry_run(table, user=request.user)
            except ImportRefused as exc:
                form.add_error(None, str(exc))
            else:
                token = secrets.token_urlsafe(24)
                request.session.pop(DECISIONS_UPLOAD_SESSION_KEY, None)
                if plan.ok:
                    request.session[DECISIONS_UPLOAD_SESSION_KEY] = {"token": token, "table": table}
                context = self._page(
                    request, title=_("Chạy thử: danh sách quyết định công nhận"), plan=plan, token=token
                )
                return render(request, "admin/recognition/recognitionfile/decisions_dry_run.html", context)
        context = self._page(
            request, title=_("Tải danh sách quyết định công nhận"), form=form, columns=decisions_import.COLUMNS
        )
        return render(request, "admin/recognition/recognitionfile/import_decisions.html", context)

    def confirm_decisions_view(self, request):
        """Record the decisions the dry run showed, once: the kept cells leave the session before the write."""
        self._may_record(request)
        if request.method != "POST":
            return redirect("admin:recognition_recognitionfile_import_decisions")
        pending = request.session.pop(DECISIONS_UPLOAD_SESSION_KEY, None)
        if not pending or not secrets.compare_digest(pending["token"], request.POST.get("token", "")):
            self.message_user(
                request,
                _("Danh sách đã tải lên không còn (đã ghi, đã hủy hoặc đã tải danh sách khác); hãy tải tệp lên lại."),
                messages.ERROR,
            )
            return redirect("admin:recognition_recognitionfile_import_decisions")
        try:
            report = decisions_import.import_decisions(pending["table"], user=request.user)
        except (ValidationError, ImportRefused) as exc:
            text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            self.message_user(request, _("Không ghi gì: %(reason)s") % {"reason": text}, messages.ERROR)
            return redirect("admin:recognition_recognitionfile_import_decisions")
        self.message_user(request, report.message(), messages.SUCCESS)
        return redirect("admin:recognition_recognitionfile_changelist")

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "record_past_url": None, "import_decisions_url": None}
        if self.has_change_permission(request):
            extra_context["record_past_url"] = reverse("admin:recognition_recognitionfile_record_past")
            extra_context["import_decisions_url"] = reverse("admin:recognition_recognitionfile_import_decisions")
        return super().changelist_view(request, extra_context)


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
