"""Biểu 07: the villages' work — the items planned in each village, with their money."""

from django.db.models import Sum
from django.utils.translation import gettext as _

from areas.models import Area, Level
from plans.models import ItemStatus, PlanItem
from reports.bieu.queries import ExportError, cited_plan
from reports.bieu.sheet import (
    MONEY,
    MONEY_BOLD,
    TEXT,
    TEXT_BOLD,
    TEXT_CENTER,
    TEXT_CENTER_BOLD,
    Column,
    Style,
    capitalized,
    finish_sheet,
    header_for,
    roman,
    save,
    start_workbook,
)
from reports.bieu.texts import item_title, subtitle


def village_items(area, year):
    """Open and done items of the year carried out in a village of `area`, with their planned money."""
    return (
        PlanItem.objects.filter(
            plan__year=year,
            plan__area__in=Area.objects.within(area),
            area__in=Area.objects.villages().under(area),
        )
        .exclude(status=ItemStatus.CANCELLED)
        .select_related("area", "lead_member", "lead_agency")
        .annotate(money=Sum("funding_lines__planned"))
        .order_by("area__name", "area_id", "plan__issued_on", "plan_id", "position", "pk")
    )


def write_bieu07(out, *, area, year, criteria_set=None, progress=None, day=None):
    """Biểu 07: what each village carries out in the year — the items planned in a village, with their money."""
    if area.level != Level.COMMUNE:
        raise ExportError(_("Biểu 07 chỉ lập cho xã."))
    items = list(village_items(area, year))
    plan = cited_plan(area, year)
    columns = [
        Column(_("STT"), 6),
        Column(_("Nội dung công việc"), 46),
        Column(_("Khối lượng"), 11),
        Column(_("Đơn vị tính"), 11),
        Column(_("Chủ trì"), 24),
        Column(_("Thời hạn"), 13),
        Column(_("Kinh phí"), 13),
    ]
    header = header_for(
        area,
        form=_("Biểu số 07"),
        title=_("Nội dung thực hiện xây dựng nông thôn mới của các thôn năm %(year)s") % {"year": year},
        subtitle=subtitle(area, plan),
        year=year,
        plan=plan,
        day=day,
        unit_note=_("Đơn vị tính kinh phí: triệu đồng"),
    )
    workbook, sheet = start_workbook(_("Biểu 07"), columns, header)
    quantity = Style(border=True, horizontal="right", vertical="top", number_format="#,##0.###")
    groups = {}
    for item in items:
        groups.setdefault(item.area, []).append(item)
    group_rows = []
    for index, (village, village_items_) in enumerate(groups.items(), start=1):
        group_row = sheet.row + 1
        first, last = group_row + 1, group_row + len(village_items_)
        sheet.append(
            [(roman(index), TEXT_CENTER_BOLD), (capitalized(village.full_name), TEXT_BOLD)]
            + [("", TEXT_BOLD)] * 4
            + [sheet.formula(f"=SUM(G{first}:G{last})", MONEY_BOLD)],
            spans=[(2, 6)],
        )
        group_rows.append(group_row)
        for number, item in enumerate(village_items_, start=1):
            sheet.append(
                [
                    (str(number), TEXT_CENTER),
                    (item_title(item), TEXT),
                    (item.quantity_display, quantity),
                    (item.unit, TEXT_CENTER),
                    (item.lead.name if item.lead else "", TEXT),
                    (item.deadline_label, TEXT_CENTER),
                    (item.money, MONEY),
                ]
            )
    total = (
        sheet.formula("=SUM(" + ",".join(f"G{r}" for r in group_rows) + ")", MONEY_BOLD)
        if group_rows
        else (None, MONEY_BOLD)
    )
    sheet.append([("", TEXT_BOLD), (_("TỔNG CỘNG"), TEXT_BOLD)] + [("", TEXT_BOLD)] * 4 + [total], spans=[(2, 6)])
    finish_sheet(sheet, header)
    save(workbook, out, form="07", area=area, year=year, criteria_set=criteria_set)
    return len(items)
