"""Biểu 05/06: households meeting each hygiene indicator, village by village."""

from django.utils.translation import gettext as _
from openpyxl.utils import get_column_letter

from areas import timeline
from areas.models import Area, Level
from criteria.evaluation import measured_value
from criteria.models import Indicator, IndicatorResult, SetLevel
from reports.bieu.queries import ExportError, cited_plan, criteria_set_for
from reports.bieu.sheet import (
    COUNT,
    COUNT_BOLD,
    TEXT,
    TEXT_BOLD,
    TEXT_CENTER,
    Column,
    Style,
    capitalized,
    finish_sheet,
    header_for,
    save,
    start_workbook,
)
from reports.bieu.texts import subtitle

# Indicators counted in households ("% hộ") under the environment criterion: clean water, toilet/bath/3 sạch,
# sorting waste at home. Biểu 05/06 of the plans list them village by village.
HYGIENE_CRITERION = 17


def hygiene_indicators(criteria_set):
    return list(
        Indicator.objects.in_set(criteria_set.national_set)
        .filter(criterion__number=HYGIENE_CRITERION, unit__icontains="hộ")
        .select_related("criterion")
        .order_by("sort_key")
    )


def write_bieu05(out, *, area, year, criteria_set=None, progress=None, day=None):
    """Biểu 05/06: households meeting each hygiene indicator, one row per village, from the villages' results.

    Seed 003 refers to these tables without including them; they are built only from results entered for
    villages, never made up from the commune's total.
    """
    if area.level != Level.COMMUNE:
        raise ExportError(_("Biểu 05/06 chỉ lập cho xã."))
    criteria_set = criteria_set or criteria_set_for(SetLevel.COMMUNE, year)
    indicators = hygiene_indicators(criteria_set)
    # The villages of the commune on the year's reporting date (areas/timeline.py): in the reform year a village
    # merged or renamed on 1/7/2025 is listed once, as it stands on 31/12, never beside the unit it became.
    communes = timeline.communes_at(area, timeline.reporting_date(year))
    villages = list(
        Area.objects.villages()
        .filter(commune__in=communes.queryset().values("pk"))
        .valid_on(communes.day)
        .order_by("name", "pk")
    )
    results = {}
    for result in IndicatorResult.objects.filter(area__in=villages, indicator__in=indicators, year=year):
        results[(result.area_id, result.indicator_id)] = result
    if not results:
        raise ExportError(
            _(
                "Chưa có kết quả chỉ tiêu vệ sinh hộ gia đình của thôn nào thuộc %(area)s năm %(year)s. "
                "Biểu 05/06 lập từ kết quả nhập cho từng thôn trong Không gian làm việc."
            )
            % {"area": area.full_name, "year": year}
        )
    columns = [Column(_("STT"), 6), Column(_("Thôn"), 24)]
    for indicator in indicators:
        group = f"{indicator.code}. {indicator.name}"
        columns += [
            Column(_("Số hộ đạt"), 11, group),
            Column(_("Tổng số hộ"), 11, group),
            Column(_("Tỷ lệ (%)"), 10, group),
        ]
    plan = cited_plan(area, year)
    header = header_for(
        area,
        form=_("Biểu số 05, 06"),
        title=_("Số hộ gia đình đạt các chỉ tiêu vệ sinh môi trường theo thôn năm %(year)s") % {"year": year},
        subtitle=subtitle(area, plan, criteria_set),
        year=year,
        plan=plan,
        day=day,
    )
    workbook, sheet = start_workbook(_("Biểu 05-06"), columns, header)
    percent = Style(border=True, horizontal="right", vertical="top", number_format="0.0")
    percent_bold = Style(bold=True, border=True, horizontal="right", vertical="top", number_format="0.0")
    first_row = sheet.row + 1
    rows = 0
    for village in villages:
        if not any((village.pk, i.pk) in results for i in indicators):
            continue
        rows += 1
        cells = [(str(rows), TEXT_CENTER), (capitalized(village.full_name), TEXT)]
        for indicator in indicators:
            result = results.get((village.pk, indicator.pk))
            numerator = result.numerator if result is not None else None
            denominator = result.denominator if result is not None else None
            share = measured_value(result) if result is not None and not result.not_applicable else None
            cells += [(numerator, COUNT), (denominator, COUNT), (share, percent)]
        sheet.append(cells)
    last_row = sheet.row
    totals = [("", TEXT_BOLD), (_("Toàn xã (các thôn có số liệu)"), TEXT_BOLD)]
    for index, indicator in enumerate(indicators):
        if not any(r.denominator for (_v, i), r in results.items() if i == indicator.pk):
            # No village counted households for it: the totals stay blank, not "0 0".
            totals += [(None, COUNT_BOLD), (None, COUNT_BOLD), (None, percent_bold)]
            continue
        met_col = get_column_letter(3 + index * 3)
        all_col = get_column_letter(4 + index * 3)
        met_sum = f"SUM({met_col}{first_row}:{met_col}{last_row})"
        all_sum = f"SUM({all_col}{first_row}:{all_col}{last_row})"
        totals += [
            sheet.formula(f"={met_sum}", COUNT_BOLD),
            sheet.formula(f"={all_sum}", COUNT_BOLD),
            sheet.formula(f'=IF({all_sum}=0,"",{met_sum}/{all_sum}*100)', percent_bold),
        ]
    sheet.append(totals)
    finish_sheet(sheet, header)
    save(workbook, out, form="05", area=area, year=year, criteria_set=criteria_set)
    return rows
