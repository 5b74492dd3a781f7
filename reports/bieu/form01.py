"""Biểu 01: the results of the criteria — of one commune, or one row per commune below an area."""

from django.utils.translation import gettext as _

from areas import timeline
from areas.models import Level
from criteria.evaluation import NOT_MET
from criteria.judging import judge_indicators
from criteria.models import CriterionResult, SetLevel, Status
from criteria.standings import statuses_by_number
from recognition import standing
from reports.bieu.queries import ExportError, cited_plan, criteria_set_for
from reports.bieu.sheet import (
    COUNT_BOLD,
    PROGRESS_EVERY,
    TEXT,
    TEXT_BOLD,
    TEXT_CENTER,
    TEXT_CENTER_BOLD,
    Column,
    capitalized,
    finish_sheet,
    header_for,
    national_header,
    roman,
    save,
    start_workbook,
)
from reports.bieu.texts import (
    indicator_number,
    result_text,
    status_label,
    subtitle,
    threshold_text,
    unverified_footnote,
)

# Communes fetched at a time: what a national export holds in memory while its rows stream (about 0.4 MiB).
CHUNK_ROWS = 500


def write_bieu01(out, *, area, year, criteria_set=None, progress=None, day=None):
    """Biểu 01: a commune's criteria and indicators, or one row per commune of a district, province or (area
    None) the whole country."""
    if area is not None and area.level == Level.COMMUNE:
        return _bieu01_commune(out, area=area, year=year, criteria_set=criteria_set, day=day)
    if area is None or area.level in (Level.DISTRICT, Level.PROVINCE):
        return _bieu01_communes(out, area=area, year=year, criteria_set=criteria_set, progress=progress, day=day)
    raise ExportError(_("Biểu 01 chỉ lập cho xã, huyện hoặc tỉnh."))


def _bieu01_commune(out, *, area, year, criteria_set, day):
    criteria_set = criteria_set or criteria_set_for(SetLevel.COMMUNE, year)
    national = criteria_set.national_set
    criteria = list(national.criteria.order_by("number"))
    judged = judge_indicators(area=area, criteria_set=criteria_set, year=year)
    statuses = dict(
        CriterionResult.objects.for_set(national, year).filter(area=area).values_list("criterion_id", "status")
    )
    by_criterion = {}
    for judgement in judged:
        by_criterion.setdefault(judgement.indicator.criterion_id, []).append(judgement)

    result_group = _("Kết quả năm %(year)s") % {"year": year}
    columns = [
        Column(_("STT"), 7),
        Column(_("Tiêu chí / chỉ tiêu"), 60),
        Column(_("Đơn vị"), 14),
        Column(_("Ngưỡng áp dụng"), 24),
        Column(_("Kết quả"), 22, result_group),
        Column(_("Đánh giá"), 16, result_group),
    ]
    plan = cited_plan(area, year)
    header = header_for(
        area,
        form=_("Biểu số 01"),
        title=_("Kết quả thực hiện các tiêu chí nông thôn mới năm %(year)s") % {"year": year},
        subtitle=subtitle(area, plan, criteria_set),
        year=year,
        plan=plan,
        day=day,
    )
    workbook, sheet = start_workbook(_("Biểu 01"), columns, header)
    rows = 0
    for criterion in criteria:
        status = statuses.get(criterion.pk, Status.NOT_ASSESSED)
        sheet.append(
            [
                (str(criterion.number), TEXT_CENTER_BOLD),
                (_("Tiêu chí số %(n)s: %(name)s") % {"n": criterion.number, "name": criterion.name}, TEXT_BOLD),
                ("", TEXT),
                ("", TEXT),
                ("", TEXT),
                (status_label(status), TEXT_CENTER_BOLD),
            ]
        )
        rows += 1
        for judgement in by_criterion.get(criterion.pk, []):
            indicator = judgement.indicator
            sheet.append(
                [
                    (indicator_number(indicator), TEXT_CENTER),
                    (indicator.name, TEXT),
                    (indicator.unit, TEXT_CENTER),
                    (threshold_text(judgement), TEXT_CENTER),
                    (result_text(judgement), TEXT_CENTER),
                    (status_label(judgement.evaluation.status), TEXT_CENTER),
                ]
            )
            rows += 1
    met = sum(1 for c in criteria if statuses.get(c.pk) == Status.MET)
    total_text = _("Tổng số tiêu chí đạt: %(met)s/%(total)s") % {"met": met, "total": len(criteria)}
    sheet.append([("", TEXT_BOLD), (total_text, TEXT_BOLD)] + [("", TEXT_BOLD)] * 4, spans=[(2, 6)])
    finish_sheet(sheet, header, footnote=unverified_footnote(judged))
    save(workbook, out, form="01", area=area, year=year, criteria_set=criteria_set)
    return rows


def _bieu01_communes(out, *, area, year, criteria_set, progress, day):
    """One row per commune of a district, a province (grouped by district) or the nation (grouped by province)."""
    criteria_set = criteria_set or criteria_set_for(SetLevel.COMMUNE, year)
    national = criteria_set.national_set
    total = national.criteria.count()
    # The communes of the year's map, each once (areas/timeline.py), with where each stands
    # (recognition/standing.py): recognised by decision, criteria met carried over, or no data — and which
    # criteria are not met, from the same stored row, so that nothing per commune is held while rows stream.
    communes = standing.annotate_standing(
        timeline.communes_at(area, timeline.reporting_date(year)).queryset(), national, year
    )

    result_group = _("Kết quả năm %(year)s") % {"year": year}
    columns = [
        Column(_("STT"), 7),
        Column(_("Xã"), 34),
        Column(_("Số tiêu chí đạt"), 16, result_group),
        Column(_("Tiêu chí chưa đạt"), 30, result_group),
        Column(_("Ghi chú"), 26),
        Column(_("Công nhận đạt chuẩn"), 34),
    ]
    header = _communes_header(area, criteria_set, year, day)
    workbook, sheet = start_workbook(_("Biểu 01"), columns, header)

    group_fields, ordering, no_group = _grouping(area)
    standing_fields = (
        "met",
        "known",
        "data_from",
        "data_to",
        "recognised_in",
        "decision_number",
        "decision_date",
        "statuses",
    )
    fields = ("pk", "name", "kind", "district__name", "district__kind") + (group_fields or ()) + standing_fields
    rows = complete = recognised = no_data = 0
    group_key = object()
    groups = number = 0
    blank_bold = ("", TEXT_BOLD)
    # Plain tuples instead of model instances: a national export lists every commune of the country.
    for row in communes.order_by(*ordering).values_list(*fields).iterator(chunk_size=CHUNK_ROWS):
        if group_fields and row[5] != group_key:
            group_key = row[5]
            groups += 1
            number = 0
            label = capitalized(_full_name(row[6], row[7])) if group_key else no_group
            sheet.append(
                [(roman(groups), TEXT_CENTER_BOLD), (label, TEXT_BOLD), blank_bold, blank_bold, blank_bold, blank_bold],
                spans=[(2, 6)],
            )
        number += 1
        columns_of = dict(zip(standing_fields, row[-len(standing_fields) :], strict=True))
        standing_of = standing.Standing.of(columns_of, year=year, total=total)
        complete += 1 if standing_of.full else 0
        recognised += 1 if standing_of.recognised else 0
        no_data += 0 if standing_of.has_data else 1
        sheet.append(
            [
                (str(number), TEXT_CENTER),
                (_commune_label(area, *row[1:5]), TEXT),
                # A commune without data has no count ("—", never 0/19): its note says why.
                (standing_of.met_label if standing_of.has_data else "—", TEXT_CENTER),
                (_unmet(columns_of["statuses"]), TEXT_CENTER),
                (capitalized(standing_of.data_label) if standing_of.has_data else _("Chưa có số liệu"), TEXT),
                (standing_of.recognition_label, TEXT),
            ]
        )
        rows += 1
        if progress and rows % PROGRESS_EVERY == 0:
            progress(rows)
    _communes_totals(sheet, rows=rows, complete=complete, total=total, recognised=recognised, no_data=no_data)
    finish_sheet(sheet, header)
    save(workbook, out, form="01", area=area, year=year, criteria_set=criteria_set)
    return rows


def _communes_header(area, criteria_set, year, day):
    title = _("Kết quả thực hiện các tiêu chí nông thôn mới của các xã năm %(year)s") % {"year": year}
    name = area.full_name if area is not None else _("Toàn quốc")
    if area is None:
        subtitle_text = _("%(area)s — %(set)s") % {"area": name, "set": criteria_set.name}
        return national_header(form=_("Biểu số 01"), title=title, subtitle=subtitle_text, day=day)
    plan = cited_plan(area, year)
    return header_for(
        area,
        form=_("Biểu số 01"),
        title=title,
        subtitle=subtitle(area, plan, criteria_set),
        year=year,
        plan=plan,
        day=day,
    )


def _grouping(area):
    """How the communes are grouped and ordered: (group fields or None, ordering, label of an ungrouped group).

    The nation is grouped by province and names each commune's district; a province is grouped by district.
    """
    if area is None:
        return (
            ("province_id", "province__name", "province__kind"),
            ("province__name", "province_id", "district__name", "name", "pk"),
            "",
        )
    if area.level == Level.PROVINCE:
        return (
            ("district_id", "district__name", "district__kind"),
            ("district__name", "name", "pk"),
            _("Xã trực thuộc tỉnh"),
        )
    return None, ("name", "pk"), ""


def _commune_label(area, commune_name, kind, district_name, district_kind):
    """ "Xã An Dương"; in the national list, with its district: "Xã An Dương, huyện Tân Yên"."""
    label = capitalized(_full_name(commune_name, kind))
    if area is None and district_name:
        label = _("%(commune)s, %(district)s") % {
            "commune": label,
            "district": _full_name(district_name, district_kind),
        }
    return label


def _communes_totals(sheet, *, rows, complete, total, recognised, no_data):
    """Three figures never mixed: recognised by decision, meeting every criterion by assessment, without data."""
    for label, value in (
        (_("Tổng số xã"), rows),
        (_("Số xã đã được công nhận đạt chuẩn NTM (theo quyết định)"), recognised),
        (_("Số xã đạt %(total)s/%(total)s tiêu chí") % {"total": total}, complete),
        (_("Số xã chưa có số liệu"), no_data),
    ):
        sheet.append([("", TEXT_BOLD), (label, TEXT_BOLD), (value, COUNT_BOLD), ("", TEXT), ("", TEXT), ("", TEXT)])


def _unmet(statuses):
    """ "6, 17": the criteria a commune does not meet, by number, from its stored standing."""
    return ", ".join(str(n) for n, status in statuses_by_number(statuses).items() if status == NOT_MET)


def _full_name(name, kind):
    """`Area.full_name` from the two columns, for rows read as tuples."""
    return f"{kind} {name}".strip() if kind else name
