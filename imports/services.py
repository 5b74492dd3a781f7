"""The wizard's writes: the upload kept between the steps (reports.ImportUpload, read once), the choices made on
each step, the saved mappings, and the commit — all rows in one transaction, at most once per upload.

Results go through criteria.results_import (the bulk path, judged by the one Judge, with history); plan items
through plans.services, as the Biểu 03 import writes them.
"""

import copy
import dataclasses
import hashlib
import secrets
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from areas.models import Area
from criteria.models import CriteriaSet, IndicatorResult
from criteria.results_import import import_criterion_statuses, import_indicator_results
from imports import layout as layouts
from imports import workbook
from imports.mapping import LONG, PLAN, guess_layout, propose
from imports.models import SavedMapping
from imports.wizard import Change, Options, Preview, catalogue_for, communes_in_scope, dry_run, propose_set

__all__ = ["ImportUpload", "workbook"]
from ntm_portal import spreadsheets
from ntm_portal.spreadsheets import ImportRefused
from reports import bieu_import
from reports.bieu.sheet import INFO_SHEET
from reports.bieu_import import AlreadyImported
from reports.models import ImportUpload

WIZARD = "wizard"


def _is_portal_export(data, kind):
    """The portal's own Biểu (its hidden information sheet): imported by reports.bieu_import, no questions."""
    if kind != "xlsx":
        return False
    import io

    from python_calamine import CalamineWorkbook

    try:
        with CalamineWorkbook.from_filelike(io.BytesIO(data)) as book:
            return INFO_SHEET in book.sheet_names
    except Exception:
        return False


def start(upload, *, user, area):
    """Check and read an uploaded file once; ("bieu", token) for the portal's own export, else ("wizard", token)."""
    data = upload.read(spreadsheets.IMPORT_MAX_BYTES + 1)
    upload.seek(0)
    name = str(getattr(upload, "name", "") or "")[-255:]
    kind = workbook.sniff(data) if len(data) <= spreadsheets.IMPORT_MAX_BYTES else "xlsx"
    if _is_portal_export(data, kind):
        return "bieu", bieu_import.store_upload(upload, user=user, area=area)
    content = workbook.read(data, file_name=name)
    return WIZARD, store(content, user=user, area=area, file_name=name)


def store(content, *, user, area, file_name=""):
    bieu_import.discard_stale_uploads()
    token = secrets.token_urlsafe(32)
    visible = [i for i, s in enumerate(content["sheets"]) if not s["hidden"]] or [0]
    state = {"sheet": visible[0] if len(visible) == 1 else None}
    ImportUpload.objects.create(
        token=token, user=user, area=area, file_name=file_name, content={WIZARD: content, "state": state}
    )
    return token


def stored(token, *, user, area):
    upload = bieu_import.stored_upload(token, user=user, area=area)
    if WIZARD not in upload.content:
        raise bieu_import._gone()
    return upload


def table_of(upload):
    """The table of the chosen sheet; ImportRefused when no row looks like headings."""
    index = upload.content["state"].get("sheet")
    sheets = upload.content[WIZARD]["sheets"]
    sheet = sheets[index if index is not None and index < len(sheets) else 0]
    try:
        return layouts.find_table(sheet)
    except layouts.NoHeadings:
        raise ImportRefused(
            _(
                "Trang tính “%(sheet)s” không có dòng tiêu đề nào cổng nhận ra (như “TT”, “Tên xã”, “Nội dung”, "
                "“Kết quả”) trong 30 dòng đầu. Hãy chọn trang tính khác hoặc thêm dòng tiêu đề cho bảng."
            )
            % {"sheet": sheet["name"]}
        )


def update_state(upload, **changes):
    upload.content["state"].update(changes)
    upload.save(update_fields=["content"])


def matching_mappings(table, area):
    return list(SavedMapping.objects.for_area(area).filter(signature=table.signature))


def options_of(upload, table, *, area, user):
    """The options as the user left them, else as proposed: layout, year, set, commune and the mapping (a saved
    mapping for the same headings first)."""
    state = upload.content["state"]
    year = state.get("year") or timezone.localdate().year
    proposed_year, proposed_set = propose_set(table.title, year, area)
    year = state.get("year") or proposed_year
    criteria_set = CriteriaSet.objects.filter(code=state["set"]).first() if state.get("set") else proposed_set
    catalogue = catalogue_for(criteria_set)
    mapping = {int(c): k for c, k in state["mapping"].items()} if state.get("mapping") else None
    layout = state.get("layout")
    if mapping is None:
        saved = matching_mappings(table, area)
        if saved:
            layout, mapping = saved[0].layout, {int(c): k for c, k in saved[0].columns.items()}
    layout = layout or guess_layout(table, catalogue)
    if mapping is None:
        mapping = propose(table, layout, catalogue)
    commune = None
    if state.get("commune"):
        commune = Area.objects.filter(pk=state["commune"]).first()
    elif layout == LONG:
        commune = _commune_in_title(table.title, user, area, year)
    return (
        Options(layout, year, criteria_set, mapping, commune=commune, choices=state.get("choices", {})),
        catalogue,
    )


def _commune_in_title(title, user, area, year):
    from ntm_portal.vietnamese import plain_text

    communes = communes_in_scope(user, area, year)
    if len(communes) == 1:
        return communes[0]
    plain = f" {plain_text(title)} "
    named = [c for c in communes if f" {plain_text(c.name)} " in plain]
    return named[0] if len(named) == 1 else None


def preview(upload, *, area, user, judged=True):
    """The dry run; the one shown to the user (judged) is kept with the upload for the commit (_keep)."""
    table = table_of(upload)
    options, catalogue = options_of(upload, table, area=area, user=user)
    # Summed up before reading: a save landing while the dry run reads makes the commit's digest differ.
    digest = _digest(area=area, user=user, year=options.year, catalogue=catalogue) if judged else None
    found = dry_run(table, options, area=area, user=user, catalogue=catalogue, judged=judged)
    if judged:
        _keep(upload, found, digest=digest)
    return found


# ---------------------------------------------------------------- the dry run kept for the commit

KEPT = "checked"
_MEASURED = ("value", "numerator", "denominator")


def _digest(*, area, user, year, catalogue):
    """What a dry run of results read from the database, summed up: the communes the user may write to, the
    saved mappings that may have chosen the columns, and the stored results of those communes and the set's
    indicators (count, versions, newest id — every save bumps a version). The same digest at the commit means
    the dry run would read the same."""
    communes = sorted(c.pk for c in communes_in_scope(user, area, year))
    indicators = sorted(i.pk for i in catalogue.indicators.values())
    stored = IndicatorResult.objects.filter(area_id__in=communes, year=year, indicator_id__in=indicators).aggregate(
        n=Count("pk"), versions=Sum("version"), last=Max("pk")
    )
    mappings = SavedMapping.objects.for_area(area).aggregate(n=Count("pk"), last=Max("updated_at"))
    text = repr((communes, indicators, sorted(stored.items()), sorted(mappings.items())))
    return hashlib.sha256(text.encode()).hexdigest()


def _keep(upload, found, *, digest):
    """Keep a results dry run's checked rows and changes with the upload, so that the commit writes them
    without reading and checking the workbook again. Plan items and criterion verdicts are read again at the
    commit (their changes hold objects, or statuses a restatement moves without a new version)."""
    options = found.options
    if options.layout == PLAN or found.criterion_rows or not found.ok or not found.indicator_rows:
        if upload.content.pop(KEPT, None) is not None:
            upload.save(update_fields=["content"])
        return
    rows = (
        {
            **row,
            **{name: None if row.get(name) is None else str(row[name]) for name in _MEASURED},
            "area": row["area"].pk,
            "indicator": row["indicator"].pk,
        }
        for row in found.indicator_rows
    )
    upload.content[KEPT] = {
        "state": copy.deepcopy(upload.content["state"]),
        "layout": options.layout,
        "year": options.year,
        "set": options.criteria_set.code,
        "digest": digest,
        # A commune's name, an indicator's label and most values and verdicts repeat on the changes of a wide
        # table: each text is kept once.
        "changes": _packed((vars(change) for change in found.changes), _CHANGE_FIELDS, interned=_CHANGE_TEXTS),
        "areas": sorted(found.areas),
        "rows": _packed(rows, _ROW_FIELDS),
    }
    upload.save(update_fields=["content"])


# What a kept row and change hold, in the order of the lists they are kept as: a list per row, not a mapping, is
# a third of the JSON (a wide table's dry run was 3.6 MB as mappings, written in 120 ms on PostgreSQL).
_ROW_FIELDS = ("line", "year", "boolean", "not_applicable", *_MEASURED, "assessed_status", "note", "area", "indicator")
_CHANGE_FIELDS = tuple(f.name for f in dataclasses.fields(Change))
_CHANGE_TEXTS = ("area", "label", "before", "after", "verdict")


def _packed(records, names, interned=()):
    """`records` (mappings) as lists of their `names`' values; the strings of the `interned` names kept once each,
    the lists holding their index."""
    strings = {name: {} for name in interned}
    rows = []
    for record in records:
        rows.append(
            [strings[name].setdefault(record[name], len(strings[name])) if name in strings else record.get(name)
             for name in names]
        )  # fmt: skip
    return {"names": list(names), "strings": {name: list(found) for name, found in strings.items()}, "rows": rows}


def _unpacked(packed):
    names, strings = packed["names"], packed["strings"]
    return [
        {name: strings[name][value] if name in strings else value for name, value in zip(names, row, strict=True)}
        for row in packed["rows"]
    ]


def _kept(upload, *, area, user):
    """The dry run kept with the upload, when the options are those it ran under and the database still reads
    as it did; None otherwise (the commit then reads the workbook again)."""
    kept = upload.content.get(KEPT)
    # A dry run kept by an earlier version of the portal (its rows as mappings) is read again.
    if not kept or kept["state"] != upload.content["state"] or not isinstance(kept["rows"], dict):
        return None
    criteria_set = CriteriaSet.objects.filter(code=kept["set"]).first()
    catalogue = catalogue_for(criteria_set)
    if _digest(area=area, user=user, year=kept["year"], catalogue=catalogue) != kept["digest"]:
        return None
    indicators = {i.pk: i for i in catalogue.indicators.values()}
    areas = Area.objects.in_bulk(kept["areas"])
    kept_rows = _unpacked(kept["rows"])
    if any(row["indicator"] not in indicators or row["area"] not in areas for row in kept_rows):
        return None
    rows = [
        {
            **row,
            **{name: None if row[name] is None else Decimal(row[name]) for name in _MEASURED},
            "area": areas[row["area"]],
            "indicator": indicators[row["indicator"]],
        }
        for row in kept_rows
    ]
    options = Options(kept["layout"], kept["year"], criteria_set, {})
    changes = [Change(**change) for change in _unpacked(kept["changes"])]
    return Preview(None, options, changes=changes, indicator_rows=rows, areas=set(kept["areas"]))


@transaction.atomic
def save_mapping(*, area, user, name, layout, table, mapping):
    """Save (or replace) the mapping of a workbook's headings under a name for the area."""
    saved, _created = SavedMapping.objects.update_or_create(
        area=area,
        name=name.strip()[:200],
        defaults={
            "layout": layout,
            "signature": table.signature,
            "columns": {str(c): k for c, k in mapping.items() if k},
            "created_by": user,
        },
    )
    return saved


@transaction.atomic
def commit(token, *, area, user, fingerprint=None):
    """Write the upload's dry run, once, in one transaction; refuses whole when a cell is bad or the data moved."""
    upload = (
        ImportUpload.objects.select_for_update()
        .of_user(user, area)
        .filter(token=token or "", created_at__gte=timezone.now() - bieu_import.UPLOAD_LIFETIME)
        .first()
    )
    if upload is None or WIZARD not in upload.content and upload.imported_at is None:
        raise bieu_import._gone()
    if upload.imported_at is not None:
        raise AlreadyImported(upload)
    # The dry run kept with the upload when nothing it read has changed; else read again under the upload's
    # lock, without the verdicts (the bulk write judges every row itself). Either way the fingerprint of the
    # changes must be the one of the dry run the user confirmed.
    found = _kept(upload, area=area, user=user) or preview(upload, area=area, user=user, judged=False)
    write(found, user=user, fingerprint=fingerprint)
    upload.imported_at = timezone.now()
    upload.content = {}
    upload.year, upload.criteria_set = found.options.year, found.options.criteria_set
    upload.form = found.options.layout[:4]
    upload.save(update_fields=["imported_at", "content", "year", "criteria_set", "form"])
    return found


@transaction.atomic
def write(found, *, user, fingerprint=None):
    """Write a dry run's rows (results, criterion verdicts and plan items, each in bulk with their history)."""
    if not found.ok:
        raise ImportRefused(_("Tệp còn ô sai hoặc tên xã chưa rõ; không ghi gì. Hãy sửa rồi xem thử lại."))
    if fingerprint is not None and fingerprint != found.fingerprint:
        raise ImportRefused(
            _("Dữ liệu trên cổng đã thay đổi kể từ lúc xem thử. Hãy xem lại danh sách thay đổi rồi ghi.")
        )
    try:
        import_indicator_results(rows=found.indicator_rows, user=user)
        import_criterion_statuses(rows=found.criterion_rows, user=user)
        bieu_import.write_changes(found.plan_changes, user=user)
    except ValidationError as exc:
        raise ImportRefused(" ".join(exc.messages) + " " + _("Không ghi gì.")) from exc
    return found
