"""Plan items with their money by source from a workbook typed like Biểu 02/03: rows matched to the year's
items by title, new ones added to the year's first plan — read and checked by the Biểu 03 reader of
reports.bieu_import (the same matching, money parsing and model checks), on columns the user mapped."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from imports.wizard import Change
from reports import bieu_import
from reports.bieu.queries import plans_for


def dry_run(table, options, *, area, user, catalogue, preview):
    """The Biểu 03 dry run of a table whose columns the user mapped, written into `preview`."""
    by_key, sources = _columns(options, catalogue)
    year = options.year
    plans = plans_for(area, year)
    by_title = {}
    for item in bieu_import._items_of_plans(area, year, plans):
        by_title.setdefault(item.title, []).append(item)
    found = bieu_import.Preview("03", area, year, options.criteria_set)
    reader = bieu_import._Bieu03Reader(
        area=area,
        year=year,
        plans=plans,
        by_title=by_title,
        criteria=bieu_import._plan_criteria(area, year, plans, options.criteria_set),
        places=bieu_import._places_by_name(area, year),
        stt_col=by_key.get("stt", 0),
        title_col=by_key["title"],
        place_col=by_key.get("place", 0),
        source_cols=sources,
        found=found,
    )
    for row in table.body:
        if not reader.read(bieu_import._Row(row.number, row.values, row.formulas)):
            break
    for change in found.changes:
        try:
            change.check(user)
        except ValidationError as exc:
            found.bad_cells.append(bieu_import._bad(change, exc))
    return _shown(found, preview, area)


def _columns(options, catalogue):
    """({field key: its first column}, [(funding source, column)]); ImportRefused without a title or a source."""
    by_key = {}
    for column, key in options.mapping.items():
        if key:
            by_key.setdefault(key, column)
    if "title" not in by_key:
        raise bieu_import.ImportRefused(_("Chưa chọn cột “Nội dung công việc” trong bảng ghép cột."))
    sources = [(catalogue.sources[k.split(":", 1)[1]], c) for k, c in by_key.items() if k.startswith("source:")]
    if not sources:
        raise bieu_import.ImportRefused(_("Chưa ghép cột nào với một nguồn vốn."))
    return by_key, sources


def _shown(found, preview, area):
    """The Biểu 03 reader's findings as the wizard's preview: bad cells, notes, and each change before → after."""
    preview.bad_cells = sorted(found.bad_cells, key=lambda bad: bad.row)
    preview.notes = list(found.notes)
    preview.unchanged = found.unchanged
    preview.plan_changes = list(found.changes)
    for change in found.changes:
        before = "; ".join(f"{label}: {old}" for label, old, _new in change.fields if old != "")
        after = "; ".join(f"{label}: {new}" for label, _old, new in change.fields)
        preview.changes.append(Change(change.row, area.full_name, change.label, before, after, created=change.created))
    return preview
