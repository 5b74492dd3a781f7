from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse

from areas import access


def breadcrumbs_for(user, area):
    """province › district › commune › village links, for the ancestors the user may open."""
    crumbs = []
    for ancestor in [*area.ancestors(), area]:
        url = reverse("area_detail", args=[ancestor.pk]) if access.can_view(user, ancestor) else None
        crumbs.append({"label": str(ancestor), "url": url})
    return crumbs


@login_required
def home(request):
    return render(request, "areas/home.html", {"areas": access.home_areas(request.user)})


@login_required
def area_detail(request, area_id):
    area = access.get_area(request.user, area_id)
    children = list(area.children.order_by("code", "name"))
    return render(
        request,
        "areas/area_detail.html",
        {"area": area, "children": children, "breadcrumbs": breadcrumbs_for(request.user, area)},
    )
