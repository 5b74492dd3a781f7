import tempfile

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from areas import access, timeline
from areas.views import breadcrumbs_for, paged
from criteria.scope import data_years, default_year
from reports import bieu, bieu_import, jobs
from reports.bieu.queries import ExportError, criteria_set_for
from reports.models import ExportJob

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _page(request, area, year, error="", status=200, years=None):
    years = data_years(area) if years is None else years
    return render(
        request,
        "reports/export_list.html",
        {
            "area": area,
            "year": year,
            "data_years": years,
            "forms": bieu.forms_for(area),
            "error": error,
            "can_import": access.can_edit(request.user, area),
            "breadcrumbs": [*breadcrumbs_for(request.user, area), {"label": _("Xuất biểu")}],
        },
        status=status,
    )


@login_required
def export_bieu(request, area_id):
    """The forms an area can export; with ?bieu=, the workbook itself as a download.

    A form listing more communes than NTM_INLINE_EXPORT_MAX_COMMUNES becomes a job with a progress page.
    """
    area = access.get_area(request.user, area_id)
    year, refused = timeline.year_in_url(request)
    form = request.GET.get("bieu", "")
    if year is None or refused or not form:
        # The one default-year rule (criteria/scope.py): the latest year holding results or plans for the area. Not
        # asked when a download names its year: for a province it reads every result of the province (20 ms).
        years = data_years(area)
        year = year or default_year(years)
        if refused or not form:
            return _page(request, area, year, error=refused, years=years)
    if form not in {f.code for f in bieu.forms()}:
        raise Http404
    try:
        criteria_set = criteria_set_for(None, year, request.GET["bo"]) if request.GET.get("bo") else None
    except ExportError as exc:
        return _page(request, area, year, error=str(exc), status=400)
    if jobs.needs_job(area, form, year):
        job = jobs.create_export_job(user=request.user, area=area, form=form, year=year, criteria_set=criteria_set)
        return redirect("export_job", job_id=job.pk)
    # Written to a temporary file first: a write-only workbook is saved whole, and a refusal must become a
    # clear page rather than a broken download.
    out = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it once sent
    try:
        bieu.export(out, form=form, area=area, year=year, criteria_set=criteria_set)
    except ExportError as exc:
        out.close()
        return _page(request, area, year, error=str(exc), status=400)
    out.seek(0)
    return FileResponse(out, as_attachment=True, filename=bieu.file_name(form, area, year), content_type=XLSX)


# ---------------------------------------------------------------- export jobs


def _job_for(user, job_id):
    """The user's own job, while the user may still see its area; anything else is a 404."""
    job = ExportJob.objects.filter(pk=job_id, user=user).select_related("criteria_set").first()
    if job is None:
        raise Http404
    job.area = access.get_area(user, job.area_id)
    return job


@login_required
def export_job(request, job_id):
    """Progress of a queued export; htmx polls the status block every 2 seconds until the file is ready.

    A job that stopped reporting (its worker or request was killed) is queued again here, or failed after
    jobs.MAX_ATTEMPTS tries, so the page never waits for ever.
    """
    job = jobs.refresh_if_stalled(_job_for(request.user, job_id))
    context = _job_context(job)
    if request.htmx:
        return render(request, "reports/_export_job_status.html", context)
    context["breadcrumbs"] = [
        *breadcrumbs_for(request.user, job.area),
        {"label": _("Xuất biểu"), "url": reverse("export_bieu", args=[job.area.pk])},
        {"label": _("Tác vụ %(id)s") % {"id": job.pk}},
    ]
    return render(request, "reports/export_job.html", context)


def _job_context(job):
    inline = jobs.runs_inline(job)
    return {
        "job": job,
        "area": job.area,
        "inline": inline,
        # No worker, and too large to write within one web request: someone has to start the worker.
        "needs_worker": not inline and not jobs.worker_enabled(),
    }


@login_required
@require_POST
def export_job_run(request, job_id):
    """Without a worker (NTM_EXPORT_WORKER off), the progress page asks this view to write the job now —
    only a job small enough (NTM_INLINE_JOB_MAX_COMMUNES) to end well within the web server's timeout."""
    job = _job_for(request.user, job_id)
    if not jobs.runs_inline(job):
        raise Http404
    if jobs.claim(job):
        job = jobs.run(ExportJob.objects.select_related("area", "criteria_set").get(pk=job.pk))
    else:
        job.refresh_from_db()
    return render(request, "reports/_export_job_status.html", _job_context(job))


@login_required
def export_job_download(request, job_id):
    job = _job_for(request.user, job_id)
    if not job.file or job.status != "done":
        raise Http404
    return FileResponse(job.file.open("rb"), as_attachment=True, filename=job.file_name, content_type=XLSX)


# ---------------------------------------------------------------- import with a dry run


def _import_crumbs(request, area):
    return [*breadcrumbs_for(request.user, area), {"label": _("Nhập biểu từ Excel")}]


@login_required
def import_bieu(request, area_id):
    """Upload a filled Biểu 01 or 03; it is checked and kept for the dry run, nothing is written yet."""
    area = access.get_area(request.user, area_id, edit=True)
    error = ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            error = _("Hãy chọn tệp Excel cần nhập.")
        else:
            try:
                token = bieu_import.store_upload(upload, user=request.user, area=area)
            except bieu_import.ImportRefused as exc:
                error = str(exc)
            else:
                return redirect("import_review", area_id=area.pk, token=token)
    return render(
        request,
        "reports/import_upload.html",
        {"area": area, "error": error, "breadcrumbs": _import_crumbs(request, area)},
        status=400 if error else 200,
    )


# Rows of the import review a page (changes, and refused cells, each paged on its own).
REVIEW_PAGE = 100


@login_required
def import_review(request, area_id, token):
    """The dry run of an uploaded file (GET), and its confirmation or cancellation (POST).

    The cells were read once at upload: a refresh or a confirmation never opens the file again. A second
    confirmation of the same upload (a double click) writes nothing and says the Biểu is already written.
    """
    area = access.get_area(request.user, area_id, edit=True)
    error = ""
    if request.method == "POST" and "cancel" in request.POST:
        try:
            bieu_import.stored_upload(token, user=request.user, area=area)
        except bieu_import.ImportRefused:
            raise Http404
        bieu_import.discard_upload(token, user=request.user, area=area)
        messages.info(request, _("Đã hủy; không ghi gì."))
        return redirect("import_bieu", area_id=area.pk)
    if request.method == "POST":
        try:
            done = bieu_import.confirm(token, area=area, user=request.user, fingerprint=request.POST.get("fingerprint"))
        except bieu_import.AlreadyImported as exc:
            messages.info(request, str(exc))
            return redirect(_after_import(exc.upload))
        except bieu_import.ImportRefused as exc:
            error = str(exc)
        else:
            messages.success(
                request,
                _("Đã nhập Biểu %(form)s: %(created)s dòng thêm mới, %(changed)s dòng thay đổi.")
                % {"form": done.form, "created": done.created_count, "changed": done.changed_count},
            )
            return redirect(_after_import(done))
    try:
        upload = bieu_import.stored_upload(token, user=request.user, area=area)
    except bieu_import.ImportRefused:
        raise Http404
    try:
        found = bieu_import.preview(upload, area=area, user=request.user)
    except bieu_import.ImportRefused as exc:
        bieu_import.discard_upload(token, user=request.user, area=area)
        return render(
            request,
            "reports/import_upload.html",
            {"area": area, "error": str(exc), "breadcrumbs": _import_crumbs(request, area)},
            status=400,
        )
    # A 3,000-row Biểu 03 shows its changes and refused cells a page at a time; the counts are over all of them.
    changes, changes_query = paged(request, found.changes, REVIEW_PAGE)
    bad_cells, bad_query = paged(request, found.bad_cells, REVIEW_PAGE, param="trang_loi")
    return render(
        request,
        "reports/import_review.html",
        {
            "area": area,
            "preview": found,
            "changes": changes,
            "changes_query": changes_query,
            "bad_cells": bad_cells,
            "bad_query": bad_query,
            "token": token,
            "error": error,
            "breadcrumbs": _import_crumbs(request, area),
        },
        status=409 if error else 200,
    )


def _after_import(done):
    """Where an import leads: the workspace of the year for Biểu 01, the plans for Biểu 03."""
    if done.form == "01":
        url = reverse("workspace", args=[done.area.pk]) + f"?nam={done.year}"
        return url + (f"&bo={done.criteria_set.code}" if done.criteria_set else "")
    return reverse("plan_list", args=[done.area.pk])
