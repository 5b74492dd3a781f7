"""The audit page: who changed what, for superusers and for administrators of an area (and below)."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _

from areas import access
from areas.models import Area, Level
from areas.views import paged
from audit.changes import Filters, feed, load_changes
from audit.forms import ChangeFilterForm

PAGE_SIZE = 50


def _area_choices(user, chosen):
    """Provinces and districts to filter by (and communes for administrators of one area), plus the chosen one."""
    levels = [Level.PROVINCE, Level.DISTRICT] if user.is_superuser else [Level.PROVINCE, Level.DISTRICT, Level.COMMUNE]
    areas = list(access.administered_areas(user).filter(level__in=levels).current().order_by("level", "code")[:1000])
    if chosen is not None and chosen not in areas:
        areas.insert(0, chosen)
    return areas


@login_required
def changes(request):
    if not access.may_audit(request.user):
        raise Http404
    chosen = None
    if request.GET.get("dia_ban"):
        chosen = access.get_area(request.user, request.GET["dia_ban"], administer=True)
    form = ChangeFilterForm(request.GET or None, areas=_area_choices(request.user, chosen))
    data = form.cleaned_data if form.is_valid() else {}
    areas = None
    if chosen is not None:
        areas = access.administered_areas(request.user).filter(pk__in=Area.objects.within(chosen).values("pk"))
    elif not request.user.is_superuser:
        areas = access.administered_areas(request.user)
    filters = Filters(
        areas=areas,
        username=(data.get("nguoi") or "").strip(),
        since=data.get("tu"),
        until=data.get("den"),
        model=data.get("loai") or "",
    )
    page, query = paged(request, feed(filters), PAGE_SIZE)
    return render(
        request,
        "audit/changes.html",
        {
            "form": form,
            "page": page,
            "rows": load_changes(list(page.object_list)),
            "query": query,
            "breadcrumbs": [{"label": _("Nhật ký thay đổi")}],
        },
    )


def locked_out(request, original_response=None, credentials=None):
    """What django-axes answers once a username has failed too often from one address (AXES_LOCKOUT_CALLABLE)."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    # Wrong old passwords on /doi-mat-khau/ count like wrong logins (ntm_portal/accounts.py).
    match = getattr(request, "resolver_match", None)
    return render(
        request,
        "audit/locked_out.html",
        {
            "failure_limit": settings.AXES_FAILURE_LIMIT,
            "minutes": minutes,
            "password_change": bool(match and match.url_name == "password_change"),
        },
        status=429,
    )
