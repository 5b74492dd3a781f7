"""The home page: where each user starts (an officer's commune, a reviewer's communes, a superuser's provinces).

It reads across apps (results, plans, recognition), so it lives with the dashboards, above them all.
"""

from django.contrib.auth.decorators import login_required
from django.db.models import Count, OuterRef, Subquery
from django.shortcuts import render
from django.utils import timezone

from areas import access, timeline
from areas.models import Area, Level
from areas.views import paged
from criteria.models import CriterionResult, Status
from dashboards import figures
from plans.models import PlanItem
from recognition.models import RecognitionFile

HOME_PAGE_SIZE = 25
MAPS = {"hien-hanh", "truoc-sap-nhap", "tat-ca"}


def _commune_standing(area, today):
    """An officer's commune: criteria met for the latest year with results, the unmet ones, overdue and due items,
    and where its recognition file stands (the next step)."""
    year = figures.latest_year(area)
    criteria_set = figures.choose_set(figures.commune_sets(), "", year)
    standing = {"area": area, "year": year, "criteria_set": criteria_set}
    # Its own plans' items and those of the district's (or province's) plans placed in it (issue 18).
    items = PlanItem.objects.concerning(area)
    standing["overdue"] = items.overdue(today).count()
    standing["due"] = items.due_in_month(today).count()
    if criteria_set is None:
        return standing
    standing["query"] = f"?nam={year}&bo={criteria_set.code}"
    status = CriterionResult.objects.filter(area=area, year=year, criterion=OuterRef("pk")).values("status")[:1]
    criteria = list(criteria_set.national_set.criteria.order_by("number").annotate(status=Subquery(status)))
    standing["total"] = len(criteria)
    standing["met"] = sum(1 for c in criteria if c.status == Status.MET)
    standing["unmet"] = [c for c in criteria if c.status == Status.NOT_MET]
    standing["unassessed"] = sum(1 for c in criteria if c.status is None)
    files = RecognitionFile.objects.for_scope(criteria_set, year).filter(area=area)
    standing["file"] = files.select_related("criteria_set", "area").first()
    return standing


def _overdue_by_commune(communes, today):
    """Overdue items per commune, as PlanItem.objects.concerning counts them: the plans of the commune and of its
    villages, and the items of higher plans placed in the commune or one of its villages; each item once."""
    overdue = PlanItem.objects.overdue(today)
    above = overdue.filter(plan__area__level__in=[Level.DISTRICT, Level.PROVINCE])
    counts = {}
    for items, key in [
        (overdue.filter(plan__area_id__in=communes), "plan__area_id"),
        (overdue.filter(plan__area__commune_id__in=communes), "plan__area__commune_id"),
        (above.filter(area_id__in=communes), "area_id"),
        (above.filter(area__commune_id__in=communes), "area__commune_id"),
    ]:
        for pk, n in items.values_list(key).annotate(n=Count("pk")).order_by():
            counts[pk] = counts.get(pk, 0) + n
    return counts


def _communes_at_a_glance(request, area, today):
    """A reviewer's communes: criteria met, overdue items and the recognition stage of each, the weakest first."""
    year = figures.latest_year(area)
    criteria_set = figures.choose_set(figures.commune_sets(), "", year)
    glance = {"area": area, "year": year, "criteria_set": criteria_set}
    if criteria_set is None:
        return glance
    scope = timeline.communes_at(area, timeline.reporting_date(year))
    found = figures.commune_figures(area, criteria_set, year, scope)
    search = request.GET.get("tim", "").strip()
    rows = sorted(found["rows"], key=lambda r: (r["met"], figures.name_key(r["area"].name)))
    if search:
        rows = [r for r in rows if search.casefold() in r["area"].name.casefold()]
    page, query = paged(request, rows, HOME_PAGE_SIZE)
    shown = [r["area"].pk for r in page.object_list]
    overdue = _overdue_by_commune(shown, today)
    # The stage label reads the file's set and area: joined, not one query per row.
    files = RecognitionFile.objects.for_scope(criteria_set, year).filter(area_id__in=shown)
    files = {f.area_id: f for f in files.select_related("criteria_set", "area")}
    for row in page.object_list:
        row["overdue"] = overdue.get(row["area"].pk, 0)
        row["file"] = files.get(row["area"].pk)
    glance.update(
        {
            "query_string": f"?nam={year}&bo={criteria_set.code}",
            "total": found["total"],
            "full": found["full"],
            "commune_count": found["commune_count"],
            "page": page,
            "pager_query": query,
            "search": search,
        }
    )
    return glance


def _province_list(request):
    """A superuser's provinces: both maps are loaded (63 until 30/6/2025, 34 from 1/7/2025); today's by default."""
    chosen = request.GET.get("ban_do", "hien-hanh")
    chosen = chosen if chosen in MAPS else "hien-hanh"
    provinces = Area.objects.provinces()
    if chosen == "hien-hanh":
        provinces = provinces.current()
    elif chosen == "truoc-sap-nhap":
        provinces = provinces.filter(valid_until__isnull=False)
    search = request.GET.get("tim", "").strip()
    if search:
        provinces = provinces.filter(name__icontains=search)
    # Vietnamese alphabetical order (Đ after D), read in Python: at most 97 rows.
    page, query = paged(request, sorted(provinces, key=lambda a: figures.name_key(a.name)), 40)
    return {"page": page, "pager_query": query, "search": search, "map_choice": chosen}


@login_required
def home(request):
    """Where each user starts: an officer sees their commune's standing, a reviewer their communes at a glance, a
    superuser without a role the provinces (searchable, by map)."""
    user = request.user
    today = timezone.localdate()
    context = {"areas": access.home_areas(user), "standings": [], "glances": []}
    if user.is_superuser and not access.roles_of(user):
        context["provinces"] = _province_list(request)
        context["areas"] = []
        return render(request, "dashboards/home.html", context)
    for area in context["areas"]:
        if area.level == Level.COMMUNE:
            context["standings"].append(_commune_standing(area, today))
        elif area.level in (Level.DISTRICT, Level.PROVINCE):
            context["glances"].append(_communes_at_a_glance(request, area, today))
    return render(request, "dashboards/home.html", context)
