"""Recognition pages: an area's file with its timeline and the steps the user may take; a district's list."""

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from areas import access, timeline
from areas.models import Area, Level
from areas.views import breadcrumbs_for, paged
from criteria.judging import met_summary
from criteria.models import CriteriaSet, SetLevel, Tier
from criteria.scope import Scope, chosen_set, data_years, default_year, set_problem
from recognition import services, standing
from recognition.forms import DecisionForm, DetailsForm, RecheckForm, ReturnForm, RevokeForm, StepForm, SubmitForm
from recognition.models import PROVINCE_VERIFIED_STAGE_LABELS, Action, RecognitionFile, Stage

FILE_LEVELS = {Level.COMMUNE: SetLevel.COMMUNE, Level.DISTRICT: SetLevel.DISTRICT}


def _scope(request, area, set_level):
    """?nam= and ?bo=: the year (the latest with a file by default) and a national set of the level (the standard
    set in force that year by default). An unknown set is a 404; a year outside the portal's range is refused with a
    message."""
    sets = list(CriteriaSet.objects.national().for_level(set_level))
    year, refused = timeline.year_in_url(request)
    criteria_set = chosen_set(request, sets)
    # The one default-year rule (criteria/scope.py): the latest year holding results or plans for the area and set.
    years = data_years(area, criteria_set, set_level)
    year = year or default_year(years, criteria_set)
    if criteria_set is None:
        covering = [s for s in sets if s.covers(year)]
        criteria_set = next((s for s in covering if s.tier == Tier.STANDARD), covering[0] if covering else None)
    problem = refused or set_problem(criteria_set, year)
    return Scope(area, criteria_set, year, sets, problem, future_years=True, data_years=years)


def _file_scope(request, area_id):
    area = access.get_area(request.user, area_id)
    if area.level not in FILE_LEVELS:
        raise Http404
    return _scope(request, area, FILE_LEVELS[area.level])


def _existing_file(scope):
    if scope.problem:
        return None
    return (
        RecognitionFile.objects.filter(area=scope.area, criteria_set=scope.criteria_set, year=scope.year)
        .select_related("area__province", "area__district", "criteria_set")
        .first()
    )


def _file_url(scope):
    return reverse("recognition_file", args=[scope.area.pk]) + scope.query


ACTION_FORMS = {
    Action.SUBMIT: SubmitForm,
    Action.VERIFY: StepForm,
    Action.APPRAISE: StepForm,
    Action.RETURN_BY_DISTRICT: ReturnForm,
    Action.RETURN_BY_PROVINCE: ReturnForm,
    Action.RECORD_DECISION: DecisionForm,
    Action.RECHECK: RecheckForm,
    Action.REVOKE: RevokeForm,
}


def _action_form(action, file, criteria, data=None):
    form_class = ACTION_FORMS[action]
    kwargs = {"initial": {"version": file.version}, "prefix": action}
    if form_class is ReturnForm:
        kwargs["criteria"] = criteria
    if form_class is RecheckForm:
        kwargs["initial"]["year"] = timezone.localdate().year
    return form_class(data, **kwargs)


@login_required
def file_detail(request, area_id, bound=None):
    scope = _file_scope(request, area_id)
    area = scope.area
    crumbs = breadcrumbs_for(request.user, area)
    context = {"area": area, "scope": scope, "breadcrumbs": crumbs, "past_files": _past_files(request.user, area)}
    if scope.problem:
        return render(request, "recognition/file.html", context)
    file = _existing_file(scope) or RecognitionFile(area=area, criteria_set=scope.criteria_set, year=scope.year)
    steps = []
    if file.pk:
        steps = list(file.steps.select_related("actor").prefetch_related("returned__criterion").order_by("-at", "-pk"))
        for step in steps:
            step.to_label = file.label_of(step.to_stage)
    criteria = list(scope.criteria_set.criteria.order_by("number"))
    actions = services.allowed_actions(file, request.user)
    bound = bound or {}
    forms = [(a, Action(a).label, bound.get(a) or _action_form(a, file, criteria)) for a in actions]
    details_form = None
    editable = services.editable_details(request.user, file)
    if editable:
        details_form = bound.get("details") or DetailsForm(file=file, fields=editable)
    context.update(
        {
            "file": file,
            "steps": steps,
            "forms": forms,
            "details_form": details_form,
            "missing": services.missing_items(file) if file.stage == Stage.PREPARING else [],
            "summary": met_summary(area=area, criteria_set=scope.criteria_set, year=scope.year),
            "milestones": file.milestones(),
            "reopened": sorted(c.number for c in file.reopened.all()) if file.was_returned else [],
            "workspace_url": reverse("workspace", args=[area.pk]) + scope.query,
            "list_url": _list_url_for(request.user, area, scope),
            "list_label": _("Danh sách hồ sơ của huyện") if area.district_id else _("Danh sách hồ sơ của tỉnh"),
        }
    )
    return render(request, "recognition/file.html", context, status=422 if bound else 200)


def _past_files(user, area):
    """The recognition files of the units `area` was formed from (transitively) that the user reads, newest first,
    each under its own unit's name; a role on the new unit only reads them (areas/access.py)."""
    relatives = [r for r in timeline.came_from(area) if access.can_view(user, r.area)]
    if not relatives:
        return []
    partial = {r.area.pk: r.partial for r in relatives}
    files = RecognitionFile.objects.filter(area__in=list(partial)).select_related(
        "area__province", "area__district", "criteria_set"
    )
    files = list(files.order_by("-year", "area__name", "criteria_set__code"))
    for file in files:
        file.partial_merge = partial[file.area_id]
    return files


def _list_url_for(user, area, scope):
    """The list of the files of the commune's district (of its province when it has no district, from 1/7/2025)."""
    parent = (area.district or area.province) if area.level == Level.COMMUNE else None
    if parent is None or not access.can_view(user, parent):
        return ""
    return reverse("recognition_list", args=[parent.pk]) + scope.query


@login_required
@require_POST
def take_step(request, area_id):
    scope = _file_scope(request, area_id)
    action = request.POST.get("action", "")
    if scope.problem or action not in ACTION_FORMS:
        raise Http404
    file = _file_for_step(request.user, scope, action)
    if file is None:
        messages.error(request, _("Hồ sơ chưa được lập: xã cần hoàn thiện và nộp hồ sơ trước."))
        return redirect(_file_url(scope))
    criteria = list(scope.criteria_set.criteria.order_by("number"))
    form = _action_form(action, file, criteria, request.POST)
    if not form.is_valid():
        return file_detail(request, area_id, bound={action: form})
    try:
        _run_step(action, form, file=file, user=request.user, link=request.build_absolute_uri(_file_url(scope)))
    except services.RecognitionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("Đã ghi: %(action)s. Hồ sơ chuyển sang bước “%(stage)s”.")
            % {"action": Action(action).label, "stage": file.stage_label},
        )
    return redirect(_file_url(scope))


def _file_for_step(user, scope, action):
    """The file a step acts on. Without one, only the area's officer submitting opens it; else None."""
    file = _existing_file(scope)
    if file is not None:
        return file
    candidate = RecognitionFile(area=scope.area, criteria_set=scope.criteria_set, year=scope.year)
    if action != Action.SUBMIT or not services.may_act(user, candidate, services.OFFICER):
        return None
    return services.open_file(area=scope.area, criteria_set=scope.criteria_set, year=scope.year, user=user)


def _run_step(action, form, *, file, user, link):
    """Take the step through its service, with what its form adds to the comment and the version."""
    data = form.cleaned_data
    common = {
        "file": file,
        "user": user,
        "comment": data.get("comment", ""),
        "expected_version": data.get("version"),
        "link": link,
    }
    if action == Action.SUBMIT:
        services.submit(force=data["force"], **common)
    elif action == Action.VERIFY:
        services.verify(**common)
    elif action == Action.APPRAISE:
        services.appraise(**common)
    elif action in (Action.RETURN_BY_DISTRICT, Action.RETURN_BY_PROVINCE):
        services.return_file(criteria_reasons=form.criteria_reasons(), **common)
    elif action == Action.RECORD_DECISION:
        services.record_decision(number=data["number"], date=data["date"], signer=data["signer"], **common)
    elif action == Action.RECHECK:
        services.recheck(year=data["year"], **common)
    else:
        services.revoke(**common)


@login_required
@require_POST
def save_details(request, area_id):
    scope = _file_scope(request, area_id)
    if scope.problem:
        raise Http404
    file = _existing_file(scope)
    if file is None:
        # Only the area's own officer starts a file: a reviewer looking at a commune without one creates nothing.
        candidate = RecognitionFile(area=scope.area, criteria_set=scope.criteria_set, year=scope.year)
        if not services.may_act(request.user, candidate, services.OFFICER):
            messages.error(request, _("Hồ sơ chưa được lập: xã cần hoàn thiện và nộp hồ sơ trước."))
            return redirect(_file_url(scope))
        file = candidate
    if not services.may_edit_details(request.user, file):
        messages.error(request, _("Bạn không thể sửa thông tin của hồ sơ ở bước này."))
        return redirect(_file_url(scope))
    # The fields the page sent: the service refuses a change to one the user does not own, naming it.
    form = DetailsForm(request.POST, fields=[name for name in services.DETAIL_FIELDS if name in request.POST])
    if not form.is_valid():
        return file_detail(request, area_id, bound={"details": form})
    if file.pk is None:
        file = services.open_file(area=scope.area, criteria_set=scope.criteria_set, year=scope.year, user=request.user)
    values = {name: form.cleaned_data[name] for name in services.DETAIL_FIELDS if name in form.cleaned_data}
    try:
        services.update_details(file=file, user=request.user, expected_version=form.cleaned_data["version"], **values)
    except services.RecognitionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Đã lưu thông tin hồ sơ."))
    return redirect(_file_url(scope))


def lock_banner(*, area, criteria_set, year):
    """The workspace's banner (HTML) when a recognition file locks the year's results, else "" (two queries).

    Named in settings.NTM_RESULT_LOCK_BANNER so that criteria does not import recognition."""
    file = services.lock_notice(area=area, criteria_set=criteria_set, year=year) if area is not None else None
    if file is None:
        return ""
    reopened = sorted(c.number for c in file.reopened.all())
    return render_to_string("recognition/_lock_banner.html", {"file": file, "reopened": reopened})


@dataclass
class ListRow:
    commune: Area
    file: RecognitionFile | None
    standing: standing.Standing

    @property
    def stage(self):
        return self.file.stage if self.file else ""


def _stage_count_label(stage, communes):
    """A stage's name on the list; "Tỉnh đã thẩm tra" where the communes have no district (from 1/7/2025)."""
    if stage == Stage.VERIFIED and communes and all(c.district_id is None for c in communes):
        return PROVINCE_VERIFIED_STAGE_LABELS[stage]
    return Stage(stage).label


def _listed_communes(area, year):
    """The communes under the area in the year (a queryset, by name); for a year before the area was formed (the new
    tỉnh Bắc Ninh over 2019), the communes in force on the year's reporting date that became its communes, each under
    its own name (areas/timeline.py). Also says whether the area was not yet formed then."""
    communes = timeline.communes_at(area, timeline.reporting_date(year))
    return communes.queryset().order_by("name", "code", "pk"), communes.mapped


# A province lists hundreds of communes: a page of rows, the counts above them over all (issue 19).
LIST_PAGE_SIZE = 50


@login_required
def file_list(request, area_id):
    """Communes under a district (or province) with their file: the stage and who it is waiting on."""
    area = access.get_area(request.user, area_id)
    if area.level not in (Level.DISTRICT, Level.PROVINCE):
        raise Http404
    scope = _scope(request, area, SetLevel.COMMUNE)
    context = {"area": area, "scope": scope, "breadcrumbs": breadcrumbs_for(request.user, area)}
    if scope.problem:
        return render(request, "recognition/list.html", context)
    communes, formed_later = _listed_communes(area, scope.year)
    page, query = paged(request, communes, LIST_PAGE_SIZE)
    in_scope = RecognitionFile.objects.for_scope(scope.criteria_set, scope.year)
    files = {
        f.area_id: f
        for f in in_scope.filter(area__in=page.object_list)
        .select_related("criteria_set", "area")
        .prefetch_related("reopened")
        .with_expected_month()
    }
    total = scope.criteria_set.criteria.count()
    # The counts are over every commune: one standing row each, read in one query (recognition/standing.py).
    standings = standing.standings(communes, scope.criteria_set, scope.year, total)
    rows = [ListRow(c, files.get(c.pk), standings[c.pk]) for c in page.object_list]
    counts = dict.fromkeys(Stage.values, 0)
    counts.update(in_scope.filter(area__in=communes).values_list("stage").annotate(n=Count("pk")).order_by())
    context.update(
        {
            "rows": rows,
            "page": page,
            "query": query,
            "total": total,
            "commune_count": len(standings),
            "recognised": sum(1 for s in standings.values() if s.recognised),
            "full": sum(1 for s in standings.values() if s.full),
            "no_data": sum(1 for s in standings.values() if not s.has_data),
            "stage_counts": [(_stage_count_label(s, page.object_list), s, n) for s, n in counts.items()],
            "without_file": len(standings) - sum(counts.values()),
            "formed_later": formed_later,
        }
    )
    return render(request, "recognition/list.html", context)
    communes, formed_later = _listed_communes(area, scope.year)
    files = {
        f.area_id: f
        for f in RecognitionFile.objects.for_scope(scope.criteria_set, scope.year)
        .filter(area__in=communes)
        .select_related("criteria_set", "area")
        .prefetch_related("reopened")
        .with_expected_month()
    }
    total = scope.criteria_set.criteria.count()
    standings = standing.standings(
        Area.objects.filter(pk__in=[c.pk for c in communes]), scope.criteria_set, scope.year, total
    )
    rows = [ListRow(c, files.get(c.pk), standings[c.pk]) for c in communes]
    counts = dict.fromkeys(Stage.values, 0)
    for f in files.values():
        counts[f.stage] += 1
    context.update(
        {
            "rows": rows,
            "total": total,
            "recognised": sum(1 for r in rows if r.standing.recognised),
            "full": sum(1 for r in rows if r.standing.full),
            "no_data": sum(1 for r in rows if not r.standing.has_data),
            "stage_counts": [(_stage_count_label(s, communes), s, n) for s, n in counts.items()],
            "without_file": len(communes) - len(files),
            "formed_later": formed_later,
        }
    )
    return render(request, "recognition/list.html", context)
