"""Biểu 03: the planned money per item and per funding source."""

from django.utils.translation import gettext as _
from openpyxl.utils import get_column_letter

from plans.models import FundingLine, FundingSource
from reports.bieu.queries import cited_plan, plan_items_for
from reports.bieu.sheet import (
    MONEY,
    MONEY_BOLD,
    PROGRESS_EVERY,
    TEXT,
    TEXT_BOLD,
    TEXT_CENTER,
    TEXT_CENTER_BOLD,
    Column,
    finish_sheet,
    header_for,
    roman,
    save,
    start_workbook,
)
from reports.bieu.texts import item_title, subtitle


def write_bieu03(out, *, area, year, criteria_set=None, progress=None, day=None):
    """Biểu 03: planned money per item and per source, with totals as Excel SUM formulas."""
    sources = list(FundingSource.objects.active().order_by("position", "code"))
    items = list(plan_items_for(area, year))
    amounts = {}
    for item_id, source_id, planned in (
        FundingLine.objects.counted()
        .filter(item__plan__area=area, item__plan__year=year)
        .values_list("item_id", "source_id", "planned")
    ):
        amounts[(item_id, source_id)] = planned
    plan = cited_plan(area, year)

    groups = {}
    for item in items:
        key = (item.criterion.number, item.criterion.name) if item.criterion_id else None
        groups.setdefault(key, []).append(item)
    ordered = sorted((k for k in groups if k is not None), key=lambda k: k[0])
    if None in groups:
        ordered.append(None)

    source_group = _("Chia theo nguồn vốn")
    columns = [
        Column(_("STT"), 6),
        Column(_("Nội dung công việc"), 44),
        Column(_("Địa điểm"), 16),
        Column(_("Tổng kinh phí"), 13),
    ] + [Column(source.name, 12.5, source_group) for source in sources]
    header = header_for(
        area,
        form=_("Biểu số 03"),
        title=_("Nhu cầu kinh phí thực hiện kế hoạch xây dựng nông thôn mới năm %(year)s") % {"year": year},
        subtitle=subtitle(area, plan),
        year=year,
        plan=plan,
        day=day,
        unit_note=_("Đơn vị tính: triệu đồng"),
    )
    workbook, sheet = start_workbook(_("Biểu 03"), columns, header)
    first_money, last_money = 5, 4 + len(sources)
    money_letters = [get_column_letter(i) for i in range(4, last_money + 1)]
    group_rows = []
    rows = 0
    for index, key in enumerate(ordered, start=1):
        group_items = groups[key]
        label = (
            _("Tiêu chí số %(n)s: %(name)s") % {"n": key[0], "name": key[1]}
            if key is not None
            else _("Các nội dung khác")
        )
        group_row = sheet.row + 1
        first_item, last_item = group_row + 1, group_row + len(group_items)
        sheet.append(
            [(roman(index), TEXT_CENTER_BOLD), (label, TEXT_BOLD), ("", TEXT_BOLD)]
            + [sheet.formula(f"=SUM({col}{first_item}:{col}{last_item})", MONEY_BOLD) for col in money_letters],
            spans=[(2, 3)],
        )
        group_rows.append(group_row)
        for number, item in enumerate(group_items, start=1):
            row = sheet.row + 1
            total = sheet.formula(
                f"=SUM({get_column_letter(first_money)}{row}:{get_column_letter(last_money)}{row})", MONEY
            )
            money = [(amounts.get((item.pk, source.pk)), MONEY) for source in sources]
            where = item.area.full_name if item.area_id and item.area_id != area.pk else ""
            sheet.append([(str(number), TEXT_CENTER), (item_title(item), TEXT), (where, TEXT), total] + money)
            rows += 1
            if progress and rows % PROGRESS_EVERY == 0:
                progress(rows)
    if group_rows:
        totals = [
            sheet.formula("=SUM(" + ",".join(f"{col}{r}" for r in group_rows) + ")", MONEY_BOLD)
            for col in money_letters
        ]
    else:
        totals = [(None, MONEY_BOLD) for _col in money_letters]  # no items: blank, not a zero
    sheet.append([("", TEXT_BOLD), (_("TỔNG CỘNG"), TEXT_BOLD), ("", TEXT_BOLD)] + totals, spans=[(2, 3)])
    finish_sheet(sheet, header)
    save(workbook, out, form="03", area=area, year=year, criteria_set=criteria_set)
    return rows
