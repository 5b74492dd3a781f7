"""The import wizard's pages: tải tệp → chọn trang tính → ghép cột → xem thử → ghi. Plain server-rendered
steps; every one fetches the area through areas.access (officers and administrators of the area, 404 for
anyone else) and the upload through its random token (only the user who sent it, for that area)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from areas import access
from areas.views import breadcrumbs_for, paged
from criteria.models import CriteriaSet
from imports import services
from imports.mapping import LAYOUTS, PLAN, propose
from imports.models import SavedMapping
from imports.wizard import catalogue_for, communes_in_scope, sets_for
from ntm_portal.spreadsheets import ImportRefused
from reports.bieu_import import AlreadyImported

STEPS = [
    gettext_lazy("Tải tệp"),
    gettext_lazy("Chọn trang tính"),
    gettext_lazy("Ghép cột"),
    gettext_lazy("Xem thử"),
    gettext_lazy("Ghi"),
]


def _context(request, area, step, **extra):
    return {
        "area": area,
        "step": step,
        "steps": [(i + 1, str(label)) for i, label in enumerate(STEPS)],
        "breadcrumbs": [*breadcrumbs_for(request.user, area), {"label": _("Nhập số liệu từ Excel")}],
        **extra,
    }


def _upload(request, area, token):
    try:
        return services.stored(token, user=request.user, area=area)
    except ImportRefused:
        raise Http404


@login_required
def upload(request, area_id):
    area = access.get_area(request.user, area_id, edit=True)
    error = ""
    if request.method == "POST":
        sent = request.FILES.get("file")
        if sent is None:
            error = _("Hãy chọn tệp cần nhập.")
        else:
            try:
                kind, token = services.start(sent, user=request.user, area=area)
            except ImportRefused as exc:
                error = str(exc)
            else:
                if kind == "bieu":
                    return redirect("import_review", area_id=area.pk, token=token)
                return redirect("wizard_sheet", area_id=area.pk, token=token)
    return render(request, "imports/upload.html", _context(request, area, 1, error=error), status=400 if error else 200)


@login_required
def sheet(request, area_id, token):
    area = access.get_area(request.user, area_id, edit=True)
    found = _upload(request, area, token)
    sheets = found.content[services.WIZARD]["sheets"]
    if request.method == "POST":
        try:
            index = int(request.POST.get("sheet", ""))
        except ValueError:
            index = -1
        if 0 <= index < len(sheets):
            services.update_state(found, sheet=index, mapping=None, layout=None)
            return redirect("wizard_mapping", area_id=area.pk, token=token)
    elif found.content["state"].get("sheet") is not None and len(sheets) == 1:
        return redirect("wizard_mapping", area_id=area.pk, token=token)
    listed = [
        {"index": i, "name": s["name"], "hidden": s["hidden"], "rows": len(s["rows"])} for i, s in enumerate(sheets)
    ]
    chosen = found.content["state"].get("sheet")
    return render(
        request,
        "imports/sheet.html",
        _context(request, area, 2, sheets=listed, token=token, chosen=chosen, file_name=found.file_name),
    )


def _mapping_rows(table, options, catalogue):
    choices = catalogue.fields(options.layout)
    rows = []
    for column in table.columns:
        samples = [r.text(column) for r in table.rows[:3] if r.text(column)]
        rows.append(
            {
                "column": column,
                "letter": table.letter(column),
                "heading": table.headings[column],
                "samples": samples,
                "key": options.mapping.get(column, ""),
                "choices": choices,
            }
        )
    return rows


@login_required
def mapping(request, area_id, token):
    area = access.get_area(request.user, area_id, edit=True)
    found = _upload(request, area, token)
    try:
        table = services.table_of(found)
    except ImportRefused as exc:
        return render(request, "imports/sheet_error.html", _context(request, area, 2, error=str(exc), token=token))
    if request.method == "POST":
        return _save_mapping_step(request, area, found, table, token)
    options, catalogue = services.options_of(found, table, area=area, user=request.user)
    state = found.content["state"]
    return render(
        request,
        "imports/mapping.html",
        _context(
            request,
            area,
            3,
            token=token,
            table=table,
            options=options,
            rows=_mapping_rows(table, options, catalogue),
            layouts=LAYOUTS,
            sets=sets_for(area),
            communes=communes_in_scope(request.user, area, options.year) if area.level != "commune" else [],
            saved=SavedMapping.objects.for_area(area),
            matching=services.matching_mappings(table, area),
            skipped=table.skipped,
            mapping_name=state.get("save_as", ""),
            error=request.GET.get("loi", ""),
        ),
    )


def _save_mapping_step(request, area, found, table, token):
    post = request.POST
    state = found.content["state"]
    changes = {"choices": {}}
    try:
        changes["year"] = int(post.get("year", ""))
    except ValueError:
        changes["year"] = None
    changes["set"] = post.get("set") or None
    changes["commune"] = post.get("commune") or None
    layout = post.get("layout") or state.get("layout")
    if post.get("saved"):
        saved = SavedMapping.objects.for_area(area).filter(pk=post["saved"]).first()
        if saved is not None:
            changes.update(layout=saved.layout, mapping=dict(saved.columns))
            services.update_state(found, **changes)
            messages.info(request, _("Đã dùng cách ghép cột “%(name)s”.") % {"name": saved.name})
            return redirect("wizard_mapping", area_id=area.pk, token=token)
    if "relayout" in post or layout != state.get("layout") and state.get("layout"):
        # Another layout: its fields differ, so its columns are proposed afresh.
        criteria_set = CriteriaSet.objects.filter(code=changes["set"]).first() if changes["set"] else None
        proposal = propose(table, layout, catalogue_for(criteria_set)) if criteria_set or layout == PLAN else None
        changes.update(layout=layout, mapping={str(c): k for c, k in (proposal or {}).items()} or None)
        services.update_state(found, **changes)
        return redirect("wizard_mapping", area_id=area.pk, token=token)
    changes["layout"] = layout
    changes["mapping"] = {str(c): post.get(f"col_{c}", "") for c in table.columns}
    services.update_state(found, **changes)
    name = post.get("save_as", "").strip()
    if name:
        options, _catalogue = services.options_of(found, table, area=area, user=request.user)
        services.save_mapping(
            area=area, user=request.user, name=name, layout=options.layout, table=table, mapping=options.mapping
        )
        messages.success(request, _("Đã lưu cách ghép cột “%(name)s”.") % {"name": name})
    return redirect("wizard_preview", area_id=area.pk, token=token)


# Rows of the dry run a page (changes, and refused cells, each paged on its own).
PREVIEW_PAGE = 100


@login_required
def preview(request, area_id, token):
    area = access.get_area(request.user, area_id, edit=True)
    found = _upload(request, area, token)
    if request.method == "POST" and "cancel" in request.POST:
        found.delete()
        messages.info(request, _("Đã hủy; không ghi gì."))
        return redirect("wizard_upload", area_id=area.pk)
    if request.method == "POST":
        choices = dict(found.content["state"].get("choices", {}))
        for name, value in request.POST.items():
            if name.startswith("row_") and value:
                choices[name[4:]] = value
        services.update_state(found, choices=choices)
        return redirect("wizard_preview", area_id=area.pk, token=token)
    try:
        dry = services.preview(found, area=area, user=request.user)
    except ImportRefused as exc:
        url = reverse("wizard_mapping", args=[area.pk, token])
        messages.error(request, str(exc))
        return redirect(url)
    # A workbook of thousands of cells shows its changes and refused cells a page at a time; counts are over all.
    changes, changes_query = paged(request, dry.changes, PREVIEW_PAGE)
    bad_cells, bad_query = paged(request, dry.bad_cells, PREVIEW_PAGE, param="trang_loi")
    return render(
        request,
        "imports/preview.html",
        _context(
            request,
            area,
            4,
            token=token,
            preview=dry,
            changes=changes,
            changes_query=changes_query,
            bad_cells=bad_cells,
            bad_query=bad_query,
        ),
    )


def _after(area, found):
    options = found.options
    if options.layout == PLAN:
        return reverse("plan_list", args=[area.pk])
    query = f"?nam={options.year}" + (f"&bo={options.criteria_set.code}" if options.criteria_set else "")
    if area.level == "commune":
        return reverse("workspace", args=[area.pk]) + query
    return reverse("dashboard", args=[area.pk]) + query


@login_required
@require_POST
def commit(request, area_id, token):
    area = access.get_area(request.user, area_id, edit=True)
    try:
        found = services.commit(token, area=area, user=request.user, fingerprint=request.POST.get("fingerprint"))
    except AlreadyImported:
        messages.info(request, _("Tệp này đã được ghi; lần xác nhận sau không ghi thêm gì."))
        return redirect("area_detail", area_id=area.pk)
    except ImportRefused as exc:
        messages.error(request, str(exc))
        try:
            services.stored(token, user=request.user, area=area)
        except ImportRefused:
            raise Http404
        return redirect("wizard_preview", area_id=area.pk, token=token)
    created = sum(1 for c in found.changes if c.created)
    messages.success(
        request,
        _("Đã ghi: %(created)s mục thêm mới, %(changed)s mục thay đổi, cho %(areas)s xã.")
        % {"created": created, "changed": len(found.changes) - created, "areas": len(found.areas) or 1},
    )
    return redirect(_after(area, found))
