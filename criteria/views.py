"""The officer's workspace: an area's criteria for a year, its indicators, inline edits, evidence, history."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, F, FilteredRelation, Max, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from areas import access
from areas.models import Level
from areas.views import breadcrumbs_for
from criteria import evaluation, services
from criteria.forms import CriterionAssessmentForm, EvidenceForm, IndicatorResultForm, vn_number
from criteria.models import (
    AssessedStatus,
    CriteriaSet,
    Criterion,
    CriterionResult,
    Evidence,
    Indicator,
    IndicatorKind,
    IndicatorResult,
    SetLevel,
    Status,
    ThresholdScheme,
    Tier,
)

SET_LEVEL = {Level.COMMUNE: SetLevel.COMMUNE, Level.DISTRICT: SetLevel.DISTRICT, Level.VILLAGE: SetLevel.VILLAGE}


def _year_param(request):
    try:
        year = int(request.GET.get("nam", ""))
    except ValueError:
        return None
    return year if 1990 <= year <= 2100 else None


@dataclass
class Scope:
    """The area, criteria set and year a workspace page speaks of, with the choices offered to switch."""

    area: object
    criteria_set: CriteriaSet | None
    year: int
    sets: list
    problem: str = ""
    # Recognition plans ahead (a file for next year); results are entered only up to this year.
    future_years: bool = False

    @property
    def query(self):
        code = f"&bo={self.criteria_set.code}" if self.criteria_set else ""
        return f"?nam={self.year}{code}"

    @property
    def years(self):
        if not self.sets:
            return [self.year]
        first = min(s.period_start for s in self.sets)
        period_end = max(s.period_end for s in self.sets)
        this_year = timezone.localdate().year
        last = max(period_end, this_year) if self.future_years else min(period_end, this_year)
        return sorted(set(range(first, last + 1)) | {self.year}, reverse=True)


def _latest_result_year(area, criteria_set=None):
    filters = {"area": area}
    if criteria_set is not None:
        filters["year__range"] = (criteria_set.period_start, criteria_set.period_end)
    years = [
        IndicatorResult.objects.filter(**filters).aggregate(y=Max("year"))["y"],
        CriterionResult.objects.filter(**filters).aggregate(y=Max("year"))["y"],
    ]
    return max((y for y in years if y), default=None)


def _scope(request, area, criteria_set=None):
    """Read ?nam= and ?bo=; default to the national standard set covering this year, else the latest year
    with results. `criteria_set` is fixed when the URL names a criterion or indicator of that set."""
    level = SET_LEVEL.get(area.level)
    sets = list(CriteriaSet.objects.national().for_level(level)) if level else []
    code = request.GET.get("bo")
    if code:
        chosen = next((s for s in sets if s.code == code), None)
        if chosen is None or (criteria_set is not None and chosen != criteria_set.national_set):
            raise Http404
        criteria_set = chosen
    year = _year_param(request)
    this_year = timezone.localdate().year
    if year is None:
        if criteria_set is not None:
            year = this_year if criteria_set.covers(this_year) else _latest_result_year(area, criteria_set)
            year = year or min(criteria_set.period_end, this_year)
        elif any(s.covers(this_year) for s in sets):
            year = this_year
        else:
            year = _latest_result_year(area) or this_year
    if criteria_set is None and level:
        national = CriteriaSet.objects.national().for_level(level).covering(year)
        criteria_set = national.filter(tier=Tier.STANDARD).first() or national.first()
    problem = ""
    if not sets:
        problem = _("Chưa có bộ tiêu chí nào cho cấp %(level)s.") % {"level": area.get_level_display().lower()}
    elif criteria_set is None:
        problem = _("Không có bộ tiêu chí nào áp dụng cho năm %(year)s.") % {"year": year}
    elif not criteria_set.covers(year):
        problem = _("Bộ tiêu chí này áp dụng cho giai đoạn %(period)s, không gồm năm %(year)s.") % {
            "period": criteria_set.period,
            "year": year,
        }
    return Scope(area, criteria_set, year, sets, problem)


@dataclass
class Tile:
    criterion: Criterion
    result: CriterionResult | None
    indicators_met: int

    @property
    def status(self):
        return self.result.status if self.result else Status.NOT_ASSESSED

    @property
    def status_label(self):
        return Status(self.status).label


TILE_RESULT_FIELDS = (
    "id",
    "status",
    "computed_status",
    "assessed_status",
    "is_tentative",
    "disagreement",
    "note",
    "source",
    "version",
    "updated_at",
    "updated_by_id",
)


def _tiles(scope):
    """One tile per criterion of the set, with the area's status row: one query whatever its size."""
    national = scope.criteria_set.national_set
    # Indicators met per criterion, as a column of the criteria query rather than a query of its own.
    met = (
        IndicatorResult.objects.for_area_year(scope.area, scope.year)
        .filter(indicator__criterion=OuterRef("pk"), status=Status.MET)
        .values("indicator__criterion")
        .annotate(n=Count("pk"))
        .values("n")
    )
    # The area's status row of each criterion comes along as a LEFT JOIN (at most one row per criterion:
    # criterion_result_unique), so the indicator count is not multiplied by it.
    row = FilteredRelation("results", condition=Q(results__area=scope.area, results__year=scope.year))
    criteria = list(
        national.criteria.annotate(row=row)
        .annotate(
            n_indicators=Count("indicators"),
            n_met=Coalesce(Subquery(met), 0),
            **{f"row_{name}": F(f"row__{name}") for name in TILE_RESULT_FIELDS},
        )
        .order_by("number")
    )
    tiles = []
    for c in criteria:
        result = None
        if c.row_id is not None:
            result = CriterionResult(
                area=scope.area,
                criterion=c,
                year=scope.year,
                **{name: getattr(c, f"row_{name}") for name in TILE_RESULT_FIELDS},
            )
            result._state.adding = False
        tiles.append(Tile(c, result, c.n_met))
    return tiles


def display_value(indicator, result, measured):
    """How the entered result reads: '1.276/1.413 = 90,3 %', '39,5 triệu đồng/người/năm', 'Đạt'."""
    if result is None:
        return ""
    if result.not_applicable:
        return _("Không áp dụng")
    if indicator.kind == IndicatorKind.BOOLEAN:
        return {True: indicator.yes_label, False: indicator.no_label}.get(result.boolean, "")
    if result.numerator is not None and result.denominator and measured is not None:
        percent = vn_number(measured.quantize(Decimal("0.1")))
        return f"{vn_number(result.numerator)}/{vn_number(result.denominator)} = {percent} %"
    if result.value is None:
        return ""
    if indicator.kind == IndicatorKind.PERCENTAGE:
        return f"{vn_number(result.value)} %"
    return f"{vn_number(result.value)} {indicator.unit}".strip()


@dataclass
class IndicatorRow:
    judgement: services.Judgement
    evidence: list
    form: IndicatorResultForm | None = None
    stale: str = ""
    assessed_label: str = ""
    computed_label: str = ""
    value_display: str = field(default="")

    @property
    def indicator(self):
        return self.judgement.indicator

    @property
    def result(self):
        return self.judgement.result

    @property
    def status(self):
        return self.judgement.evaluation.status

    @property
    def status_label(self):
        return Status(self.status).label


def _rows(scope, criterion, *, can_edit, bound=None, only=None):
    """The criterion's indicators with their verdicts, evidence and (for editors) edit forms.

    `only` is the judgement of the one indicator a save re-renders: its row alone is built."""
    if only is not None:
        judged = [only]
        evidence = Evidence.objects.for_area_year(scope.area, scope.year).filter(indicator=only.indicator)
    else:
        judged = services.judge_indicators(
            area=scope.area, criteria_set=scope.criteria_set, year=scope.year, criterion=criterion
        )
        evidence = Evidence.objects.for_area_year(scope.area, scope.year).filter(indicator__criterion=criterion)
    files = {}
    for ev in evidence.select_related("uploaded_by"):
        files.setdefault(ev.indicator_id, []).append(ev)
    bound = bound or {}
    rows = []
    for j in judged:
        ev = j.evaluation
        row = IndicatorRow(j, files.get(j.indicator.pk, []))
        row.value_display = display_value(j.indicator, j.result, ev.measured)
        if ev.assessed_status:
            row.assessed_label = AssessedStatus(ev.assessed_status).label
            row.computed_label = Status(ev.computed_status).label
        if can_edit:
            row.form, row.stale = bound.get(j.indicator.pk, (None, ""))
            if row.form is None:
                row.form = IndicatorResultForm(indicator=j.indicator, result=j.result)
        rows.append(row)
    return rows


def _region_text(scope):
    area = scope.area
    if scope.criteria_set and scope.criteria_set.threshold_scheme == ThresholdScheme.GROUP:
        if area.commune_group:
            return _("Ngưỡng theo %(group)s") % {"group": area.get_commune_group_display()}
        return _("Chưa xếp nhóm xã 2026–2030")
    _code, reason = evaluation.threshold_region_code(area)
    return _("Ngưỡng theo %(reason)s") % {"reason": reason}


def criterion_owners(area, year):
    """Who leads each criterion, from the app configured in settings: criteria knows nothing of assignments,
    so the dependency is named at the top (ntm_portal.settings.NTM_CRITERION_OWNERS), not imported here."""
    path = getattr(settings, "NTM_CRITERION_OWNERS", "")
    return import_string(path)(area, year) if path else {}


def _context(request, scope, criterion=None, bound=None, only=None):
    area = scope.area
    can_edit = access.can_edit(request.user, area)
    crumbs = breadcrumbs_for(request.user, area)
    context = {
        "area": area,
        "scope": scope,
        "can_edit": can_edit,
        "breadcrumbs": crumbs,
        "region_text": _region_text(scope),
        "tiles": [],
        "criterion": criterion,
    }
    if scope.problem:
        return context
    context["tiles"] = _tiles(scope)
    owners = criterion_owners(area, scope.year)
    for tile in context["tiles"]:
        tile.owner = owners.get(tile.criterion.pk, "")
    # The same figures as services.met_summary, read off the tiles already fetched.
    context["summary"] = {
        "met": sum(1 for t in context["tiles"] if t.status == Status.MET),
        "total": len(context["tiles"]),
        "unmet": [t.criterion.number for t in context["tiles"] if t.status == Status.NOT_MET],
    }
    if criterion is not None:
        context["tile"] = next(t for t in context["tiles"] if t.criterion.pk == criterion.pk)
        context["rows"] = _rows(scope, criterion, can_edit=can_edit, bound=bound, only=only)
        context["assess_form"] = CriterionAssessmentForm(
            initial={"status": context["tile"].result.assessed_status if context["tile"].result else ""}
        )
        crumbs.append({"label": _("Không gian tiêu chí"), "url": reverse("workspace", args=[area.pk]) + scope.query})
    return context


def _criterion_for(area, criterion_id):
    criterion = get_object_or_404(Criterion.objects.select_related("criteria_set"), pk=criterion_id)
    if criterion.criteria_set.level != SET_LEVEL.get(area.level):
        raise Http404
    return criterion


def _indicator_for(area, indicator_id):
    indicator = get_object_or_404(Indicator.objects.select_related("criterion__criteria_set"), pk=indicator_id)
    if indicator.criterion.criteria_set.level != SET_LEVEL.get(area.level):
        raise Http404
    return indicator


def _required_year(request, criteria_set):
    year = _year_param(request)
    if year is None or not criteria_set.covers(year):
        raise Http404
    return year


def _criterion_url(area, criterion, year, anchor=""):
    url = reverse("workspace_criterion", args=[area.pk, criterion.pk])
    return f"{url}?nam={year}&bo={criterion.criteria_set.code}{anchor}"


@login_required
def workspace(request, area_id):
    area = access.get_area(request.user, area_id)
    scope = _scope(request, area)
    return render(request, "criteria/workspace.html", _context(request, scope))


@login_required
def criterion_detail(request, area_id, criterion_id):
    area = access.get_area(request.user, area_id)
    criterion = _criterion_for(area, criterion_id)
    scope = _scope(request, area, criterion.criteria_set)
    return render(request, "criteria/workspace.html", _context(request, scope, criterion))


@login_required
@require_POST
def edit_indicator(request, area_id, indicator_id):
    area = access.get_area(request.user, area_id, edit=True)
    indicator = _indicator_for(area, indicator_id)
    criterion = indicator.criterion
    year = _required_year(request, criterion.criteria_set)
    form = IndicatorResultForm(request.POST, indicator=indicator)
    stale = ""
    status = 200
    saved = None
    if form.is_valid():
        try:
            saved = services.record_indicator_result(
                area=area, indicator=indicator, year=year, user=request.user, **form.measurement()
            )
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                form.add_error(name if name in form.fields else None, errors)
            status = 422
        except services.StaleResultError as exc:
            stale, status = str(exc), 409
    else:
        status = 422

    if status == 200 and not request.htmx:
        messages.success(request, _("Đã lưu chỉ tiêu %(code)s.") % {"code": indicator.code})
        return redirect(_criterion_url(area, criterion, year, f"#ind-{indicator.pk}"))

    if status == 200:
        # The set and year come from the URL and the row was just judged by the save: re-render it from the
        # saved result instead of choosing the scope and judging the criterion's indicators again.
        scope = Scope(area, criterion.criteria_set, year, [])
        only = services.judge_result(area=area, indicator=indicator, year=year, result=saved)
        context = _context(request, scope, criterion, only=only)
        context["row"] = context["rows"][0]
        context["saved"] = True
        return render(request, "criteria/_edit_response.html", context)

    scope = _scope(request, area, criterion.criteria_set)
    scope.year = year
    context = _context(request, scope, criterion, bound={indicator.pk: (form, stale)})
    if request.htmx:
        context["row"] = next(r for r in context["rows"] if r.indicator.pk == indicator.pk)
        context["saved"] = False
        return render(request, "criteria/_edit_response.html", context, status=status)
    return render(request, "criteria/workspace.html", context, status=status)


@login_required
@require_POST
def assess_criterion(request, area_id, criterion_id):
    area = access.get_area(request.user, area_id, edit=True)
    criterion = _criterion_for(area, criterion_id)
    year = _required_year(request, criterion.criteria_set)
    form = CriterionAssessmentForm(request.POST)
    if form.is_valid():
        try:
            services.assess_criterion(
                area=area,
                criterion=criterion,
                year=year,
                status=form.cleaned_data["status"],
                note=form.cleaned_data["note"],
                user=request.user,
            )
        except ValidationError as exc:  # e.g. results locked by a submitted recognition file
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Đã ghi kết quả tự đánh giá tiêu chí %(n)s.") % {"n": criterion.number})
    else:
        messages.error(request, _("Kết quả tự đánh giá không hợp lệ."))
    return redirect(_criterion_url(area, criterion, year))


# ---------------------------------------------------------------- history


HISTORY_FIELDS = [
    ("value", _("Giá trị")),
    ("numerator", _("Tử số")),
    ("denominator", _("Mẫu số")),
    ("boolean", _("Đạt / Có")),
    ("not_applicable", _("Không áp dụng")),
    ("assessed_status", _("Tự đánh giá")),
    ("note", _("Ghi chú")),
    ("status", _("Kết quả")),
]


def _history_value(indicator, name, value):
    if value is None or value == "":
        return "—"
    if name in {"value", "numerator", "denominator"}:
        return vn_number(value)
    if name == "boolean":
        return indicator.yes_label if value else indicator.no_label
    if name == "not_applicable":
        return _("Có") if value else _("Không")
    if name == "assessed_status":
        return AssessedStatus(value).label
    if name == "status":
        return Status(value).label
    return value


@login_required
def indicator_history(request, area_id, indicator_id):
    area = access.get_area(request.user, area_id)
    indicator = _indicator_for(area, indicator_id)
    year = _required_year(request, indicator.criterion.criteria_set)
    records = list(
        IndicatorResult.history.filter(area=area, indicator=indicator, year=year)
        .select_related("history_user")
        .order_by("history_date", "history_id")
    )
    entries = []
    before = None
    for record in records:
        changes = []
        for name, label in HISTORY_FIELDS:
            old = getattr(before, name) if before is not None else None
            new = getattr(record, name)
            if before is None and new in (None, "", False):
                continue
            if before is None or old != new:
                changes.append((label, _history_value(indicator, name, old), _history_value(indicator, name, new)))
        entries.append({"when": record.history_date, "who": record.history_user, "kind": "result", "changes": changes})
        before = record
    for record in (
        Evidence.history.filter(area=area, indicator=indicator, year=year)
        .exclude(history_type="~")
        .select_related("history_user")
    ):
        verb = _("Tải lên minh chứng") if record.history_type == "+" else _("Xóa minh chứng")
        entries.append(
            {"when": record.history_date, "who": record.history_user, "kind": "evidence", "evidence": (verb, record)}
        )
    entries.sort(key=lambda e: e["when"], reverse=True)
    criterion = indicator.criterion
    crumbs = breadcrumbs_for(request.user, area)
    crumbs.append(
        {"label": _("Tiêu chí %(n)s") % {"n": criterion.number}, "url": _criterion_url(area, criterion, year)}
    )
    return render(
        request,
        "criteria/history.html",
        {
            "area": area,
            "indicator": indicator,
            "year": year,
            "entries": entries,
            "breadcrumbs": crumbs,
            "back_url": _criterion_url(area, criterion, year, f"#ind-{indicator.pk}"),
        },
    )


# ---------------------------------------------------------------- evidence


@login_required
@require_POST
def upload_evidence(request, area_id, indicator_id):
    area = access.get_area(request.user, area_id, edit=True)
    indicator = _indicator_for(area, indicator_id)
    year = _required_year(request, indicator.criterion.criteria_set)
    form = EvidenceForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            evidence = services.add_evidence(
                area=area, indicator=indicator, year=year, upload=form.cleaned_data["file"], user=request.user
            )
        except ValidationError as exc:
            for errors in exc.message_dict.values():
                for error in errors:
                    messages.error(request, _("%(code)s: %(error)s") % {"code": indicator.code, "error": error})
        else:
            messages.success(request, _("Đã tải lên %(name)s.") % {"name": evidence.original_name})
    else:
        messages.error(request, _("Hãy chọn một tệp để tải lên."))
    return redirect(_criterion_url(area, indicator.criterion, year, f"#ind-{indicator.pk}"))


@login_required
def download_evidence(request, area_id, evidence_id):
    area = access.get_area(request.user, area_id)
    evidence = get_object_or_404(Evidence, pk=evidence_id, area=area)
    try:
        handle = evidence.file.open("rb")
    except FileNotFoundError:
        raise Http404
    return FileResponse(handle, as_attachment=True, filename=evidence.original_name, content_type=evidence.content_type)


@login_required
@require_POST
def delete_evidence(request, area_id, evidence_id):
    area = access.get_area(request.user, area_id, edit=True)
    evidence = get_object_or_404(
        Evidence.objects.select_related("indicator__criterion__criteria_set"), pk=evidence_id, area=area
    )
    indicator, year, name = evidence.indicator, evidence.year, evidence.original_name
    try:
        services.delete_evidence(evidence=evidence, user=request.user)
    except ValidationError as exc:  # e.g. results locked by a submitted recognition file
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Đã xóa %(name)s.") % {"name": name})
    return redirect(_criterion_url(area, indicator.criterion, year, f"#ind-{indicator.pk}"))
