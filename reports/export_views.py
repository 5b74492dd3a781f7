import tempfile

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from areas import access
from areas.views import breadcrumbs_for
from reports import bieu


def _year(raw):
    try:
        year = int(raw)
    except (TypeError, ValueError):
        return timezone.localdate().year
    return year if 2000 <= year <= 2100 else timezone.localdate().year


def _page(request, area, year, error="", status=200):
    return render(
        request,
        "reports/export_list.html",
        {
            "area": area,
            "year": year,
            "forms": bieu.forms_for(area),
            "error": error,
            "breadcrumbs": [*breadcrumbs_for(request.user, area), {"label": _("Xuất biểu")}],
        },
        status=status,
    )


@login_required
def export_bieu(request, area_id):
    """The forms an area can export; with ?bieu=, the workbook itself as a download."""
    area = access.get_area(request.user, area_id)
    year = _year(request.GET.get("nam"))
    form = request.GET.get("bieu", "")
    if not form:
        return _page(request, area, year)
    if form not in {f.code for f in bieu.forms()}:
        raise Http404
    # Written to a temporary file first: a write-only workbook is saved whole, and a refusal must become a
    # clear page rather than a broken download.
    out = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it once sent
    try:
        criteria_set = bieu.criteria_set_for(None, year, request.GET["bo"]) if request.GET.get("bo") else None
        bieu.export(out, form=form, area=area, year=year, criteria_set=criteria_set)
    except bieu.ExportError as exc:
        out.close()
        return _page(request, area, year, error=str(exc), status=400)
    out.seek(0)
    return FileResponse(
        out,
        as_attachment=True,
        filename=bieu.file_name(form, area, year),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
