"""Dashboards for district steering committees and the levels above them: read-only and scoped."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone

from areas import access, timeline
from areas.models import Level
from areas.views import breadcrumbs_for, paged, succession_for
from criteria.models import SetLevel
from criteria.scope import data_years, default_year
from dashboards import figures
from recognition.models import Stage

SORTS = {"ten", "dat"}
# A province has hundreds of communes: the matrix shows a page of them in the chosen order (by criteria met: the
# weakest first), ?trang_xa= for the next ones; never all at once (issue 19). Every figure above it counts them all.
MATRIX_LIMIT = 100
# The national table of provinces (63, then 34): searched by name, sorted by name or by share recognised, paged.
CHILD_SORTS = {"ten", "ty_le"}
CHILDREN_PAGE_SIZE = 20


def _dashboard_area(user, area_id):
    """The area of the dashboard; None is the nation, which has no role to attach to: only superusers see it."""
    if area_id is None:
        if not user.is_superuser:
            raise Http404
        return None
    area = access.get_area(user, area_id)
    if area.level == Level.VILLAGE:
        raise Http404
    return area


def _communes_context(request, area, criteria_set, year, national_sets, scope, query):
    """The figures over the communes of a district, a province or the nation, and the matrix of them."""
    communes = figures.commune_figures(area, criteria_set, year, scope)
    if scope.mapped:
        # Old communes shown on a unit formed later: read-only here, opened only by who may see them.
        for row in communes["rows"]:
            row["openable"] = access.can_view(request.user, row["area"])
    band = request.GET.get("nhom", "")
    order = request.GET.get("sap_xep", "dat")
    order = order if order in SORTS else "dat"
    rows = communes["rows"]
    if band:
        rows = [r for r in rows if r["band"] == band]
    matrix_page, matrix_query = paged(request, figures.sort_rows(rows, order), MATRIX_LIMIT, "trang_xa")
    context = {
        "figures": communes,
        "matrix": matrix_page.object_list,
        "matrix_html": figures.matrix_html(matrix_page.object_list, communes["total"], query, scope.mapped),
        "matrix_page": matrix_page,
        "matrix_query": matrix_query,
        "matrix_hidden": matrix_page.paginator.count - matrix_page.end_index(),
        "band": band,
        "order": order,
        "show_matrix": area is not None,
    }
    if area is None or area.level == Level.PROVINCE or scope.mapped:
        # `children` are every row; `child_rows` the rows shown (for the nation: the page searched and sorted).
        context["children"] = context["child_rows"] = figures.child_rows(area, communes["tally"], year, scope)
    if area is None:
        context.update(_national_table(request, context["children"]))
    if area is not None and area.level == Level.DISTRICT:
        context["district"] = figures.district_criteria(area, year, national_sets)
    context["groups"] = figures.group_breakdown(scope, criteria_set, year)
    if area is not None:
        counts = communes["stage_counts"]
        context["stages"] = [{"stage": s, "label": s.label, "count": counts[s.value]} for s in Stage]
    return context


def _national_table(request, rows):
    """The provinces of the national page, searched by name (?tim=, with or without diacritics), sorted by name or
    by the share of communes recognised (?xep=ty_le) and paged (?trang=): in Python, over rows already counted."""
    search = request.GET.get("tim", "").strip()
    if search:
        wanted = figures.name_key(search)[0]
        rows = [r for r in rows if r["area"] is not None and wanted in figures.name_key(r["area"].full_name)[0]]
    order = request.GET.get("xep", "ten")
    order = order if order in CHILD_SORTS else "ten"
    if order == "ty_le":
        # Highest share recognised first; provinces without communes last; ties by name (rows come sorted by name).
        rows = sorted(rows, key=lambda r: -1 if r["share"] is None else -r["share"])
    page, query = paged(request, rows, CHILDREN_PAGE_SIZE)
    return {
        "child_rows": page.object_list,
        "children_page": page,
        "children_query": query,
        "children_search": search,
        "children_order": order,
    }


@login_required
def dashboard(request, area_id=None):
    area = _dashboard_area(request.user, area_id)
    asked_year, year_refused = timeline.year_in_url(request)
    national_sets = figures.national_sets()
    sets = sorted((s for s in national_sets if s.level == SetLevel.COMMUNE), key=lambda s: (-s.period_start, s.tier))
    code = request.GET.get("bo", "")
    asked_set = figures.choose_set(sets, code, 0) if code else None
    # The one default-year rule (criteria/scope.py): the latest year holding data for the area and set.
    years_with_data = data_years(area, asked_set, SetLevel.COMMUNE)
    year = asked_year or default_year(years_with_data, asked_set)
    criteria_set = figures.choose_set(sets, code, year)
    today = timezone.localdate()
    scope = timeline.communes_at(area, timeline.reporting_date(year))
    context = {
        "area": area,
        "year": year,
        "scope": scope,
        "map_label": timeline.map_label(scope.day),
        "year_refused": year_refused,
        "sets": sets,
        "criteria_set": criteria_set,
        "years": figures.year_choices(criteria_set, year),
        "data_years": years_with_data,
        "today": today,
        "breadcrumbs": breadcrumbs_for(request.user, area) if area else [],
        "can_edit": area is not None and access.can_edit(request.user, area),
        # Where the year lies outside the unit's life: what it was formed from, or what it became (a commune's
        # page always shows what it was formed from: their results are part of its history).
        **(
            succession_for(
                request.user,
                area,
                origins=scope.mapped or area.level == Level.COMMUNE,
                successors=area.valid_until is not None and timeline.reporting_date(year) > area.valid_until,
            )
            if area
            else {}
        ),
        "plans": figures.plan_figures(area, today),
        "funding": figures.funding_figures(area),
    }
    if criteria_set is None or not criteria_set.covers(year):
        return render(request, "dashboards/dashboard.html", context)
    context["query"] = f"?nam={year}&bo={criteria_set.code}"
    if area is not None and area.level == Level.COMMUNE:
        context["standing"] = figures.commune_standing(area, criteria_set, year)
        context["yoy"] = figures.year_over_year(area, criteria_set, year, scope, query=context["query"])
        context["history"] = figures.commune_history(area, [o["area"] for o in context["origins"]])
        return render(request, "dashboards/commune_dashboard.html", context)
    context.update(_communes_context(request, area, criteria_set, year, national_sets, scope, context["query"]))
    newest_start = context["figures"]["newest_start"]
    context["yoy"] = (
        figures.year_over_year(
            area, criteria_set, year, scope, newest_start, context["figures"]["data_years"], query=context["query"]
        )
        if area
        else None
    )
    return render(request, "dashboards/dashboard.html", context)
