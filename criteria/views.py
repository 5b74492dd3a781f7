"""The officer's workspace: an area's criteria for a year, its indicators, inline edits, evidence, history.

One module in four sections (the page, inline edits, history, evidence), which share the URL helpers below the
page's; which area, year and set a page shows is criteria/scope.py, how a value or a change reads is
ntm_portal/vietnamese.py and ntm_portal/history.py.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, F, FilteredRelation, OuterRef, Q, Subquery, Value
from django.http import FileResponse, Http404
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from areas import access
from areas.models import CommuneGrouping
from areas.views import breadcrumbs_for, paged
from criteria import evaluation, hooks, judging, services
from criteria import evidence as evidence_files
from criteria.forms import CriterionAssessmentForm, EvidenceForm, IndicatorResultForm
from criteria.models import (
    STATUS_LABELS,
    AssessedStatus,
    CriteriaSet,
    Criterion,
    CriterionResult,
    Evidence,
    Indicator,
    IndicatorKind,
    IndicatorResult,
    Status,
    ThresholdScheme,
)
from criteria.scope import SET_LEVEL, Scope, required_year, workspace_scope
from ntm_portal import history
from ntm_portal.markup import text, url_maker
from ntm_portal.prepared import Prepared
from ntm_portal.vietnamese import vn_number, vn_percent

# ---------------------------------------------------------------- the page: tiles of criteria, rows of indicators


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
        return STATUS_LABELS[self.status]


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


def _tiles_query(probe, *, area, year, national):
    """The criteria of a national set with their tile figures for an area and year (ids; with the lock `probe`'s
    column when there is one). Each indicator joins its result of the area and year when met (at most one:
    indicator_result_unique), and the area's status row of each criterion comes along the same way
    (criterion_result_unique), so no count is multiplied. Counted in one pass: a subquery of results met per
    criterion ran once per row (6–10 ms a page)."""
    row = FilteredRelation("results", condition=Q(results__area_id=area, results__year=year))
    met = FilteredRelation(
        "indicators__results",
        condition=Q(
            indicators__results__area_id=area,
            indicators__results__year=year,
            indicators__results__status=Status.MET,
        ),
    )
    criteria = (
        Criterion.objects.filter(criteria_set_id=national)
        .annotate(row=row, met=met)
        .annotate(
            n_indicators=Count("indicators"),
            n_met=Count("met"),
            **{f"row_{name}": F(f"row__{name}") for name in TILE_RESULT_FIELDS},
        )
    )
    if probe:
        criteria = criteria.annotate(filed=probe(area=area, year=year, criteria_set=CriteriaSet(pk=national)))
    return criteria.order_by("number")


# Asked on every workspace and criterion page: compiled once (ntm_portal/prepared.py).
TILES_QUERY = Prepared(Criterion, _tiles_query)


def _tiles(scope):
    """One tile per criterion of the set, with the area's status row: one query whatever its size. With them,
    whether a recognition file exists for the area and year (True/False; None where unknown): the lock banner
    looks for the file only then."""
    national = scope.criteria_set.national_set
    probe = hooks.named("NTM_RESULT_LOCK_PROBE")
    criteria = TILES_QUERY(probe, area=scope.area.pk, year=scope.year, national=national.pk)
    filed = (criteria[0].filed is not None) if probe and criteria else None
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
    return tiles, filed


def tiles_html(tiles, area, query, current=None):
    """The grid's tiles, marked up here once (ntm_portal.markup): nineteen tiles through the template's tags were a
    fifth of the workspace's CPU. `current` is the criterion the page shows, if any."""
    url = url_maker("workspace_criterion", area.pk)
    query = text(query)
    lead = text(_("Phụ trách"))
    tentative = f'<span class="badge tentative">{text(_("theo ngưỡng chưa xác minh"))}</span>'
    disagree = f'<span class="badge disagree">{text(_("tự đánh giá khác kết quả tính"))}</span>'
    parts = []
    for tile in tiles:
        criterion, status, label = tile.criterion, text(tile.status), text(tile.status_label)
        name = text(criterion.name)
        owner = f'<span class="owner">{lead}: {text(tile.owner)}</span>' if tile.owner else ""
        count = ""
        if criterion.n_indicators:
            count = text(
                _("%(met)s/%(total)s chỉ tiêu đạt") % {"met": tile.indicators_met, "total": criterion.n_indicators}
            )
            count = f'<span class="count">{count}</span>'
        parts.append(
            f'<a class="tile st-{status}{" current" if current is not None and criterion.pk == current.pk else ""}"'
            f' href="{url(criterion.pk)}{query}" id="tile-{criterion.number}" data-status="{status}"'
            f' title="{name}: {label}">'
            f'<span class="num">{criterion.number}</span> <span class="name">{name}</span> {owner}'
            f'<span class="badge st-{status}">{label}</span>'
            f"{tentative if tile.result and tile.result.is_tentative else ''}"
            f"{disagree if tile.result and tile.result.disagreement else ''}{count}</a>"
        )
    return mark_safe("\n".join(parts))


def _field_html(field):
    """One field of the edit form with its label and errors, as a `<div class="field">`."""
    error = " has-error" if field.errors else ""
    errors = ""
    if field.errors:
        lines = "".join(f'<p class="error">{text(e)}</p>' for e in field.errors)
        errors = f'\n  <div id="{text(field.auto_id)}_error" role="alert">{lines}</div>'
    return (
        f'<div class="field{error}">\n  <label for="{text(field.id_for_label)}">{text(field.label)}</label>\n'
        f"  {field}{errors}\n</div>"
    )


def edit_form_html(row, *, url, year, csrf_token):
    """The indicator's edit form (an officer's, under "Sửa kết quả"), marked up here as the tiles are: through
    the template's tags it was most of each indicator row's CPU. Its widgets are criteria.forms' PlainWidgets."""
    form, pk = row.form, row.indicator.pk
    action = f"{url(pk)}?nam={year}"
    parts = [
        f'<details class="edit"{" open" if form.errors or row.stale else ""}>\n'
        f"    <summary>{text(_('Sửa kết quả'))}</summary>\n"
        f'    <form method="post" action="{action}" hx-post="{action}" hx-target="#ind-{pk}" hx-swap="outerHTML"'
        ' class="ind-form" novalidate>\n'
        f'      <input type="hidden" name="csrfmiddlewaretoken" value="{text(csrf_token)}">{form["version"]}\n'
    ]
    if row.stale:
        parts.append(f'      <p class="error stale" role="alert">{text(row.stale)}</p>\n')
    parts += [f'      <p class="error" role="alert">{text(e)}</p>\n' for e in form.non_field_errors()]
    parts.append('      <div class="fields">\n')
    if "boolean" in form.fields:
        field = form["boolean"]
        target = getattr(row.judgement.evaluation.threshold, "comparison", None)
        verdict = form.fact and target in ("yes", "no")
        met, unmet = text(_("đạt")), text(_("chưa đạt"))
        radios = "".join(
            f'<label class="choice">{radio.tag()} {text(radio.choice_label)}'
            f"{(' — ' + (met if radio.data['value'] == target else unmet)) if verdict else ''}</label>"
            for radio in field
        )
        errors = "".join(f'<p class="error" role="alert">{text(e)}</p>' for e in field.errors)
        error = " has-error" if field.errors else ""
        parts.append(
            f'        <fieldset class="field{error}"><legend>{text(field.label)}</legend>'
            f"\n          {radios}\n          {errors}\n        </fieldset>\n"
        )
    if "value" in form.fields:
        parts.append(_field_html(form["value"]) + "\n")
    if "numerator" in form.fields:
        parts.append(f'        <span class="or">{text(_("hoặc"))}</span>\n')
        parts.append(_field_html(form["numerator"]) + "\n" + _field_html(form["denominator"]) + "\n")
    parts.append(_field_html(form["assessed_status"]) + "\n      </div>\n")
    not_applicable = form["not_applicable"]
    parts.append(f'      <label class="choice">{not_applicable} {text(not_applicable.label)}</label>\n')
    parts += [f'      <p class="error">{text(e)}</p>\n' for e in not_applicable.errors]
    parts.append(_field_html(form["note"]) + "\n")
    parts.append(f'      <button type="submit" class="primary">{text(_("Lưu"))}</button>\n    </form>\n  </details>')
    return mark_safe("".join(parts))


def display_value(indicator, result, measured, comparison=None):
    """How the entered result reads: '1.276/1.413 = 90,3 %', '39,5 triệu đồng/người/năm', 'Đạt', 'Không — đạt'
    (a fact under its yes/no `comparison`: 9.1 no nhà tạm left)."""
    if result is None:
        return ""
    if result.not_applicable:
        return _("Không áp dụng")
    if indicator.kind == IndicatorKind.BOOLEAN:
        return evaluation.yes_no_text(indicator, result.boolean, comparison)
    if result.numerator is not None and result.denominator and measured is not None:
        return f"{vn_number(result.numerator)}/{vn_number(result.denominator)} = {vn_percent(measured, 1)}"
    if result.value is None:
        return ""
    if indicator.kind == IndicatorKind.PERCENTAGE:
        return vn_percent(result.value)
    return f"{vn_number(result.value)} {indicator.unit}".strip()


@dataclass
class IndicatorRow:
    judgement: judging.Judgement
    evidence: list
    form: IndicatorResultForm | None = None
    recently_deleted: list = field(default_factory=list)
    stale: str = ""
    assessed_label: str = ""
    computed_label: str = ""
    value_display: str = field(default="")
    form_html: str = ""

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
        return STATUS_LABELS[self.status]


def _rows(scope, criterion, *, form_markup=None, bound=None, only=None, indicators=None):
    """The criterion's indicators with their verdicts, evidence and, for an editor (`form_markup`, see _form_markup;
    None for a reader), edit forms.

    `only` is the judgement of the one indicator a save re-renders: its row alone is built. `indicators` are the
    criterion's in page order, when the view read them with it."""
    # Files deleted within the undo window come with the others (one query), to offer "Hoàn tác" to editors.
    evidence = Evidence.all_objects.for_area_year(scope.area, scope.year).filter(
        Q(deleted_at__isnull=True) | Q(deleted_at__gte=timezone.now() - timedelta(minutes=evidence_files.UNDO_MINUTES))
    )
    if only is not None:
        judged = [only]
        evidence = evidence.filter(indicator=only.indicator)
    else:
        judged = judging.judge_indicators(
            area=scope.area,
            criteria_set=scope.criteria_set,
            year=scope.year,
            criterion=criterion,
            indicators=indicators,
        )
        evidence = evidence.filter(indicator__criterion=criterion)
    files, undoable = {}, {}
    for ev in evidence.select_related("uploaded_by"):
        if ev.deleted_at is None:
            files.setdefault(ev.indicator_id, []).append(ev)
        elif form_markup is not None:
            undoable.setdefault(ev.indicator_id, []).append(ev)
    bound = bound or {}
    rows = []
    for j in judged:
        row = _row(j, form_markup=form_markup, bound=bound.get(j.indicator.pk))
        row.evidence, row.recently_deleted = files.get(j.indicator.pk, []), undoable.get(j.indicator.pk, [])
        rows.append(row)
    return rows


def _form_markup(request, scope):
    """How this page marks up an editor's forms (edit_form_html with the page's URL maker, year and CSRF token)."""
    return partial(
        edit_form_html, url=url_maker("edit_indicator", scope.area.pk), year=scope.year, csrf_token=get_token(request)
    )


def _row(judgement, *, form_markup=None, bound=None):
    """One indicator's row without its evidence; an editor's (`form_markup`) with its edit form, `bound` being a
    (form, stale message) pair to show instead of a fresh one."""
    ev = judgement.evaluation
    row = IndicatorRow(judgement, [])
    row.value_display = display_value(
        judgement.indicator, judgement.result, ev.measured, getattr(ev.threshold, "comparison", None)
    )
    if ev.assessed_status:
        row.assessed_label = AssessedStatus(ev.assessed_status).label
        row.computed_label = Status(ev.computed_status).label
    if form_markup is not None:
        row.form, row.stale = bound or (None, "")
        if row.form is None:
            row.form = IndicatorResultForm(indicator=judgement.indicator, result=judgement.result)
        row.form_html = form_markup(row)
    return row


def _region_text(scope):
    area = scope.area
    if scope.criteria_set and scope.criteria_set.threshold_scheme == ThresholdScheme.GROUP:
        grouping = CommuneGrouping.objects.for_year(scope.year).filter(area=area).first()
        if grouping is not None:
            return _("Ngưỡng theo %(group)s (%(decision)s)") % {
                "group": grouping.get_group_display(),
                "decision": grouping.decision_label,
            }
        return _("Chưa xếp nhóm xã %(period)s") % {"period": scope.criteria_set.period}
    basis = scope.criteria_set.national_set.special_rule_basis if scope.criteria_set else ""
    _code, reason = evaluation.threshold_region_code(area, basis)
    return _("Ngưỡng theo %(reason)s") % {"reason": reason}


def criterion_owners(area, year):
    """Who leads each criterion, from the app named in settings.NTM_CRITERION_OWNERS: criteria does not import
    assignments."""
    owners = hooks.named("NTM_CRITERION_OWNERS")
    return owners(area, year) if owners else {}


def result_lock_banner(area, criteria_set, year):
    """The banner saying the year's results are locked (by a submitted recognition file), from the app named in
    settings.NTM_RESULT_LOCK_BANNER: criteria does not import recognition."""
    banner = hooks.named("NTM_RESULT_LOCK_BANNER")
    return banner(area=area, criteria_set=criteria_set, year=year) if banner else ""


def _context(request, scope, criterion=None, bound=None, only=None, indicators=None):
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
    context.update(_grid(scope, criterion))
    # Called by the template only when the page shows it (an inline edit's response does not), and only where the
    # tiles' query found a file: most pages have none, and spare the query.
    if context["filed"] is not False:
        context["lock_banner"] = lambda: result_lock_banner(area, scope.criteria_set, scope.year)
    if criterion is not None:
        context["rows"] = _rows(
            scope,
            criterion,
            bound=bound,
            only=only,
            indicators=indicators,
            form_markup=_form_markup(request, scope) if can_edit else None,
        )
        context["assess_form"] = CriterionAssessmentForm(
            initial={"status": context["tile"].result.assessed_status if context["tile"].result else ""}
        )
        crumbs.append({"label": _("Không gian tiêu chí"), "url": reverse("workspace", args=[area.pk]) + scope.query})
    return context


def _grid(scope, criterion=None):
    """The tiles with their leads, the count of criteria met, and the criterion's own tile."""
    tiles, filed = _tiles(scope)
    owners = criterion_owners(scope.area, scope.year)
    for tile in tiles:
        tile.owner = owners.get(tile.criterion.pk, "")
    # The same figures as judging.met_summary, read off the tiles already fetched.
    grid = {
        "tiles": tiles,
        "filed": filed,
        "summary": {
            "met": sum(1 for t in tiles if t.status == Status.MET),
            "total": len(tiles),
            "unmet": [t.criterion.number for t in tiles if t.status == Status.NOT_MET],
        },
    }
    # Called by the template only when the page shows the grid: a save's response shows it only when a tile moved.
    grid["tiles_html"] = lambda: tiles_html(tiles, scope.area, scope.query, criterion)
    if criterion is not None:
        grid["tile"] = next(t for t in tiles if t.criterion.pk == criterion.pk)
    return grid


def _criterion_for(area, criterion_id):
    criterion = get_object_or_404(Criterion.objects.select_related("criteria_set"), pk=criterion_id)
    if criterion.criteria_set.level != SET_LEVEL.get(area.level):
        raise Http404
    return criterion


def _criterion_with_indicators(area, criterion_id):
    """A criterion with its indicators in page order, in one query (a criterion without indicators, in two)."""
    indicators = _indicators_of(area, criterion=criterion_id)
    if not indicators:
        return _criterion_for(area, criterion_id), []
    return indicators[0].criterion, indicators


def _indicator_for(area, indicator_id):
    indicator = get_object_or_404(Indicator.objects.select_related("criterion__criteria_set"), pk=indicator_id)
    if indicator.criterion.criteria_set.level != SET_LEVEL.get(area.level):
        raise Http404
    return indicator


def _indicators_beside(area, indicator_id):
    """An indicator with every indicator of its criterion in page order, in one query: a save judges them all."""
    indicators = _indicators_of(area, criterion__indicators=indicator_id)
    indicator = next((i for i in indicators if i.pk == indicator_id), None)
    if indicator is None:
        raise Http404
    return indicator, indicators


def _indicators_query(lookup, *, criterion):
    return (
        Indicator.objects.select_related("criterion__criteria_set").filter(**{lookup: criterion}).order_by("sort_key")
    )


# The criterion page and the inline save read them on every request (ntm_portal/prepared.py).
INDICATORS_QUERY = Prepared(Indicator, _indicators_query)


def _indicators_of(area, **criterion):
    """The indicators of one criterion (`criterion`: one lookup naming it, with an id) in page order, with their
    criterion and set; a criterion of another level than the area's is a 404."""
    ((lookup, value),) = criterion.items()
    indicators = INDICATORS_QUERY(lookup, criterion=value)
    if indicators and indicators[0].criterion.criteria_set.level != SET_LEVEL.get(area.level):
        raise Http404
    return indicators


def _criterion_url(area, criterion, year, anchor=""):
    url = reverse("workspace_criterion", args=[area.pk, criterion.pk])
    return f"{url}?nam={year}&bo={criterion.criteria_set.code}{anchor}"


@login_required
def workspace(request, area_id):
    area = access.get_area(request.user, area_id)
    scope = workspace_scope(request, area)
    return render(request, "criteria/workspace.html", _context(request, scope))


@login_required
def criterion_detail(request, area_id, criterion_id):
    area = access.get_area(request.user, area_id)
    criterion, indicators = _criterion_with_indicators(area, criterion_id)
    scope = workspace_scope(request, area, criterion.criteria_set)
    return render(request, "criteria/workspace.html", _context(request, scope, criterion, indicators=indicators))


# ---------------------------------------------------------------- inline edits


@login_required
@require_POST
def edit_indicator(request, area_id, indicator_id):
    area = access.get_area(request.user, area_id, edit=True)
    indicator, indicators = _indicators_beside(area, indicator_id)
    criterion = indicator.criterion
    year = required_year(request, criterion.criteria_set)
    form = IndicatorResultForm(request.POST, indicator=indicator)
    stale = ""
    status = 200
    saved = None
    if form.is_valid():
        try:
            saved = services.record_indicator_result(
                area=area,
                indicator=indicator,
                year=year,
                user=request.user,
                indicators=indicators,
                **form.measurement(),
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
        return _saved_response(request, area, criterion, year, saved)

    scope = workspace_scope(request, area, criterion.criteria_set)
    scope.year = year
    context = _context(request, scope, criterion, bound={indicator.pk: (form, stale)})
    if request.htmx:
        context["row"] = next(r for r in context["rows"] if r.indicator.pk == indicator.pk)
        context["saved"] = False
        return render(request, "criteria/_edit_response.html", context, status=status)
    return render(request, "criteria/workspace.html", context, status=status)


def _saved_response(request, area, criterion, year, saved):
    """The saved row for htmx to swap in, re-rendered from the verdict the save made (the set and year come from
    the URL): its evidence is kept in the page (hx-preserve; a save does not touch it), and the count, the tiles
    and the criterion's head come along out of band only when the save moved the criterion's tile."""
    scope = Scope(area, criterion.criteria_set, year, [])
    judgement = saved.judgement or judging.judge_result(area=area, indicator=saved.indicator, year=year, result=saved)
    context = {
        "area": area,
        "scope": scope,
        "criterion": criterion,
        "can_edit": True,
        "row": _row(judgement, form_markup=_form_markup(request, scope)),
        "keep_evidence": True,
        "saved": True,
        "tile_moved": saved.tile_moved,
    }
    if saved.tile_moved:
        context.update(_grid(scope, criterion))
    return render(request, "criteria/_edit_response.html", context)


@login_required
@require_POST
def assess_criterion(request, area_id, criterion_id):
    area = access.get_area(request.user, area_id, edit=True)
    criterion = _criterion_for(area, criterion_id)
    year = required_year(request, criterion.criteria_set)
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


# What an indicator's history lists of each saved result, in this order (the rest is bookkeeping).
HISTORY_FIELDS = ["value", "numerator", "denominator", "boolean", "not_applicable", "assessed_status", "note", "status"]


# Newest first, a page at a time: one indicator saved daily for a year has hundreds of entries (issue 19).
HISTORY_PAGE_SIZE = 50
RESULT_ENTRY, EVIDENCE_ENTRY = "result", "evidence"


def _history_sources(area, indicator, year):
    """The indicator's result records, and those of its evidence files that make an entry (an upload, a purge, a
    delete or a restore, each evidence record carrying its previous state as `was_deleted_at`)."""
    results = IndicatorResult.history.filter(area=area, indicator=indicator, year=year)
    earlier = Evidence.history.filter(id=OuterRef("id")).filter(
        Q(history_date__lt=OuterRef("history_date"))
        | Q(history_date=OuterRef("history_date"), history_id__lt=OuterRef("history_id"))
    )
    evidence = (
        Evidence.history.filter(area=area, indicator=indicator, year=year)
        .annotate(was_deleted_at=Subquery(earlier.order_by("-history_date", "-history_id").values("deleted_at")[:1]))
        .filter(
            Q(history_type__in=["+", "-"])
            | Q(deleted_at__isnull=False, was_deleted_at__isnull=True)
            | Q(deleted_at__isnull=True, was_deleted_at__isnull=False)
        )
    )
    return results, evidence


def _history_timeline(results, evidence):
    """Both kinds of record in one newest-first list of (when, history id, kind), which the database pages."""

    def keys(records, kind):
        return records.order_by().annotate(kind=Value(kind)).values_list("history_date", "history_id", "kind")

    return (
        keys(results, RESULT_ENTRY)
        .union(keys(evidence, EVIDENCE_ENTRY), all=True)
        .order_by("-history_date", "-history_id", "kind")
    )


def _evidence_verb(record):
    if record.history_type == "+":
        return _("Tải lên minh chứng")
    if record.history_type == "-":
        return _("Xóa hẳn minh chứng")
    return _("Xóa minh chứng") if record.deleted_at is not None else _("Khôi phục minh chứng")


def _history_entries(keys, results, evidence, indicator):
    """The entries of one page of the timeline: its result records and, as the starting point of the oldest one's
    diff, the result record just before it (on a later page, or none); its evidence records. Two queries."""
    result_ids = [history_id for _when, history_id, kind in keys if kind == RESULT_ENTRY]
    evidence_ids = [history_id for _when, history_id, kind in keys if kind == EVIDENCE_ENTRY]
    records = {}
    if result_ids:
        oldest = min((when, history_id) for when, history_id, kind in keys if kind == RESULT_ENTRY)
        base = results.filter(
            Q(history_date__lt=oldest[0]) | Q(history_date=oldest[0], history_id__lt=oldest[1])
        ).order_by("-history_date", "-history_id")
        found = results.filter(Q(history_id__in=result_ids) | Q(history_id=Subquery(base.values("history_id")[:1])))
        records[RESULT_ENTRY] = sorted(found.select_related("history_user"), key=lambda r: (r.history_date, r.pk))
    if evidence_ids:
        records[EVIDENCE_ENTRY] = evidence.filter(history_id__in=evidence_ids).select_related("history_user")
    fields = [IndicatorResult._meta.get_field(name) for name in HISTORY_FIELDS]
    yes_no = {"boolean": lambda value: indicator.yes_label if value else indicator.no_label}
    entries = {}
    before = None
    for record in records.get(RESULT_ENTRY, []):
        if record.pk in result_ids:
            changes = history.field_changes(record, before, fields, shown_as=yes_no)
            entries[RESULT_ENTRY, record.pk] = {
                "when": record.history_date,
                "who": record.history_user,
                "kind": RESULT_ENTRY,
                "changes": changes,
            }
        before = record
    for record in records.get(EVIDENCE_ENTRY, []):
        entries[EVIDENCE_ENTRY, record.pk] = {
            "when": record.history_date,
            "who": record.history_user,
            "kind": EVIDENCE_ENTRY,
            "evidence": (_evidence_verb(record), record),
        }
    return [entries[kind, history_id] for _when, history_id, kind in keys]


@login_required
def indicator_history(request, area_id, indicator_id):
    area = access.get_area(request.user, area_id)
    indicator = _indicator_for(area, indicator_id)
    year = required_year(request, indicator.criterion.criteria_set)
    results, evidence = _history_sources(area, indicator, year)
    page, query = paged(request, _history_timeline(results, evidence), HISTORY_PAGE_SIZE)
    entries = _history_entries(list(page.object_list), results, evidence, indicator)
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
            "page": page,
            "query": query,
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
    year = required_year(request, indicator.criterion.criteria_set)
    form = EvidenceForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            evidence = evidence_files.add_evidence(
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
def delete_evidence(request, area_id, evidence_id):
    """GET asks first (a page, so it works without JavaScript); POST deletes. The file is kept: the indicator
    offers "Hoàn tác" for UNDO_MINUTES, and an administrator can restore it later."""
    area = access.get_area(request.user, area_id, edit=True)
    evidence = get_object_or_404(
        Evidence.objects.select_related("indicator__criterion__criteria_set", "uploaded_by"), pk=evidence_id, area=area
    )
    indicator, year, name = evidence.indicator, evidence.year, evidence.original_name
    back_url = _criterion_url(area, indicator.criterion, year, f"#ind-{indicator.pk}")
    if request.method != "POST":
        crumbs = breadcrumbs_for(request.user, area)
        crumbs.append(
            {"label": _("Tiêu chí %(n)s") % {"n": indicator.criterion.number}, "url": back_url},
        )
        return render(
            request,
            "criteria/evidence_confirm_delete.html",
            {
                "area": area,
                "evidence": evidence,
                "indicator": indicator,
                "undo_minutes": evidence_files.UNDO_MINUTES,
                "back_url": back_url,
                "breadcrumbs": crumbs,
            },
        )
    try:
        evidence_files.delete_evidence(evidence=evidence, user=request.user)
    except ValidationError as exc:  # e.g. results locked by a submitted recognition file
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("Đã xóa %(name)s. Có thể hoàn tác trong %(minutes)s phút (nút “Hoàn tác” ở chỉ tiêu %(code)s).")
            % {"name": name, "minutes": evidence_files.UNDO_MINUTES, "code": indicator.code},
        )
    return redirect(back_url)


@login_required
@require_POST
def undo_delete_evidence(request, area_id, evidence_id):
    """Bring back a file deleted within the undo window, for whoever may edit the area."""
    area = access.get_area(request.user, area_id, edit=True)
    evidence = get_object_or_404(
        Evidence.all_objects.deleted().select_related("indicator__criterion__criteria_set"), pk=evidence_id, area=area
    )
    indicator, year = evidence.indicator, evidence.year
    if not evidence_files.may_undo(evidence):
        messages.error(
            request,
            _("Đã quá %(minutes)s phút nên không hoàn tác được nữa: hãy nhờ quản trị viên khôi phục %(name)s.")
            % {"minutes": evidence_files.UNDO_MINUTES, "name": evidence.original_name},
        )
    else:
        try:
            evidence_files.restore_evidence(evidence=evidence, user=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Đã khôi phục %(name)s.") % {"name": evidence.original_name})
    return redirect(_criterion_url(area, indicator.criterion, year, f"#ind-{indicator.pk}"))
