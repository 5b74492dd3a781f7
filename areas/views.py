from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import reverse

from areas import access, timeline

CHILDREN_PAGE_SIZE = 50


def paged(request, rows, size, param="trang"):
    """One page of `rows` (a QuerySet, or a list already built) chosen by ?trang= — or by `param` where a page shows
    two paged lists — and the page's other GET parameters, urlencoded: what templates/_pager.html needs."""
    query = request.GET.copy()
    query.pop(param, None)
    return Paginator(rows, size).get_page(request.GET.get(param)), query.urlencode()


def breadcrumbs_for(user, area):
    """province › district › commune › village links, for the ancestors the user may open.

    The stored ancestors are those of the area's own map: xã Hùng Mỹ is under huyện Chiêm Hóa of the old tỉnh
    Tuyên Quang, the new xã Tân Mỹ straight under the new tỉnh Tuyên Quang.
    """
    crumbs = []
    for ancestor in [*area.ancestors(), area]:
        url = reverse("area_detail", args=[ancestor.pk]) if access.can_view(user, ancestor) else None
        crumbs.append({"label": str(ancestor), "url": url})
    return crumbs


def succession_for(user, area, *, origins=True, successors=True):
    """What the area was formed from and what it became, transitively, each linked when the user may open it."""

    def entries(relatives):
        return [
            {
                "area": r.area,
                "partial": r.partial,
                "on": r.on,
                "parent": r.area.district or r.area.province,
                "url": reverse("area_detail", args=[r.area.pk]) if access.can_view(user, r.area) else None,
            }
            for r in relatives
        ]

    return {
        "origins": entries(timeline.came_from(area)) if origins else [],
        "successors": entries(timeline.became(area)) if successors else [],
    }


@login_required
def area_detail(request, area_id):
    """The area on the map of a year's reporting date (?nam=, else today): its units in force then, each once."""
    area = access.get_area(request.user, area_id)
    year, year_refused = timeline.year_in_url(request)
    day = timeline.reporting_date(year) if year else timeline.today()
    shown = timeline.own_day(area, day)
    # A new province lists its ~100 communes directly; a page of them, never all (issue 19).
    children, query = paged(request, timeline.children_at(area, day), CHILDREN_PAGE_SIZE)
    return render(
        request,
        "areas/area_detail.html",
        {
            "area": area,
            "children": children,
            "pager_query": query,
            "can_edit": access.can_edit(request.user, area),
            "breadcrumbs": breadcrumbs_for(request.user, area),
            "map_label": timeline.map_label(shown),
            "year": year,
            "year_refused": year_refused,
            "not_yet": area.valid_from is not None and day < area.valid_from,
            "ended": area.valid_until is not None and day > area.valid_until,
            **succession_for(request.user, area),
        },
    )
