"""Biểu 02: the plan of the criteria — where each stands, what it must reach, and the work planned."""

from django.utils.translation import gettext as _

from criteria.judging import judge_indicators
from criteria.models import CriterionResult, Status
from reports.bieu.queries import cited_plan, criteria_set_for, own_set_level, plan_items_for
from reports.bieu.sheet import (
    TEXT,
    TEXT_BOLD,
    TEXT_CENTER,
    TEXT_CENTER_BOLD,
    Column,
    finish_sheet,
    header_for,
    save,
    section,
    start_workbook,
)
from reports.bieu.texts import (
    indicator_number,
    item_title,
    result_text,
    status_label,
    subtitle,
    threshold_text,
    unverified_footnote,
)


def write_bieu02(out, *, area, year, criteria_set=None, progress=None, day=None):
    """Biểu 02: for each criterion and indicator, where it stands, what it must reach, and the work planned."""
    criteria_set = criteria_set or criteria_set_for(own_set_level(area), year)
    national = criteria_set.national_set
    criteria = list(national.criteria.order_by("number"))
    now = judge_indicators(area=area, criteria_set=criteria_set, year=year - 1)
    # The same indicators judged against the year's thresholds: read once, for both years.
    targets = {
        j.indicator.pk: j
        for j in judge_indicators(
            area=area, criteria_set=criteria_set, year=year, indicators=[j.indicator for j in now]
        )
    }
    statuses = dict(
        CriterionResult.objects.for_set(national, year - 1).filter(area=area).values_list("criterion_id", "status")
    )
    by_indicator, by_criterion, other = _items_by_place(area, year, {c.pk for c in criteria})
    indicators = {}
    for judgement in now:
        indicators.setdefault(judgement.indicator.criterion_id, []).append(judgement)

    now_group = _("Hiện trạng đến hết năm %(year)s") % {"year": year - 1}
    work_group = _("Kế hoạch thực hiện năm %(year)s") % {"year": year}
    columns = [
        Column(_("STT"), 7),
        Column(_("Tiêu chí / chỉ tiêu"), 48),
        Column(_("Đơn vị"), 12),
        Column(_("Kết quả"), 18, now_group),
        Column(_("Đánh giá"), 15, now_group),
        Column(_("Mục tiêu năm %(year)s") % {"year": year}, 20),
        Column(_("Nội dung công việc"), 46, work_group),
        Column(_("Chủ trì"), 22, work_group),
        Column(_("Thời hạn"), 13, work_group),
    ]
    plan = cited_plan(area, year)
    header = header_for(
        area,
        form=_("Biểu số 02"),
        title=_("Kế hoạch thực hiện các tiêu chí nông thôn mới năm %(year)s") % {"year": year},
        subtitle=subtitle(area, plan, criteria_set),
        year=year,
        plan=plan,
        day=day,
    )
    workbook, sheet = start_workbook(_("Biểu 02"), columns, header)
    rows = 0

    def with_items(first_cells, items, bold=False):
        nonlocal rows
        item_style = TEXT_BOLD if bold else TEXT
        first = items[0] if items else None
        sheet.append(first_cells + _item_cells(first, item_style))
        rows += 1
        for item in items[1:]:
            sheet.append([("", TEXT)] * 6 + _item_cells(item, TEXT))
            rows += 1

    section(sheet, "I", _("CÁC TIÊU CHÍ NÔNG THÔN MỚI"))
    for criterion in criteria:
        label = _("Tiêu chí số %(n)s: %(name)s") % {"n": criterion.number, "name": criterion.name}
        with_items(
            [
                (str(criterion.number), TEXT_CENTER_BOLD),
                (label, TEXT_BOLD),
                ("", TEXT),
                ("", TEXT),
                (status_label(statuses.get(criterion.pk, Status.NOT_ASSESSED)), TEXT_CENTER_BOLD),
                ("", TEXT),
            ],
            by_criterion.get(criterion.pk, []),
        )
        for judgement in indicators.get(criterion.pk, []):
            indicator = judgement.indicator
            target = targets.get(indicator.pk)
            with_items(
                [
                    (indicator_number(indicator), TEXT_CENTER),
                    (indicator.name, TEXT),
                    (indicator.unit, TEXT_CENTER),
                    (result_text(judgement), TEXT_CENTER),
                    (status_label(judgement.evaluation.status), TEXT_CENTER),
                    (threshold_text(target) if target else "", TEXT_CENTER),
                ],
                by_indicator.get(indicator.pk, []),
            )
    if other:
        section(sheet, "II", _("CÁC NỘI DUNG KHÁC"))
        for number, item in enumerate(other, start=1):
            sheet.append([(str(number), TEXT_CENTER)] + [("", TEXT)] * 5 + _item_cells(item, TEXT))
            rows += 1
    printed = [targets[j.indicator.pk] for j in now if j.indicator.pk in targets]
    finish_sheet(sheet, header, footnote=unverified_footnote(printed))
    save(workbook, out, form="02", area=area, year=year, criteria_set=criteria_set)
    return rows


def _items_by_place(area, year, criterion_ids):
    """The plan items of the year under their indicator, else under their criterion, else among the others."""
    by_indicator, by_criterion, other = {}, {}, []
    for item in plan_items_for(area, year):
        if item.indicator_id and item.criterion_id in criterion_ids:
            by_indicator.setdefault(item.indicator_id, []).append(item)
        elif item.criterion_id in criterion_ids:
            by_criterion.setdefault(item.criterion_id, []).append(item)
        else:
            other.append(item)
    return by_indicator, by_criterion, other


def _item_cells(item, style):
    if item is None:
        return [("", TEXT), ("", TEXT), ("", TEXT)]
    lead = item.lead.name if item.lead else ""
    return [(item_title(item), style), (lead, TEXT), (item.deadline_label, TEXT_CENTER)]
