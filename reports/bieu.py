"""The "Biểu" annexes that go with every plan and report, written as official-looking Excel workbooks.

Every workbook is written in openpyxl's write-only mode, so a province's Biểu 01 streams row by row and
memory stays flat however many communes it lists. Text typed by users is always written as a string cell:
a plan item titled "=HYPERLINK(…)" must never become a formula in the reviewer's Excel.
"""

from copy import copy
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from areas.models import Area, Level
from criteria.evaluation import NOT_MET, measured_value
from criteria.models import CriteriaSet, CriterionResult, Indicator, IndicatorResult, SetLevel, Status, Tier
from criteria.services import judge_indicators
from plans.models import FundingLine, FundingSource, ItemStatus, Plan, PlanItem

FONT_NAME = "Times New Roman"
# Zero shows as a dash, as in the printed annexes.
MONEY_FORMAT = '#,##0.0;-#,##0.0;"-"'
COUNT_FORMAT = "#,##0"
# Excel and LibreOffice treat a cell typed with these first characters as a formula or a sign.
FORMULA_STARTS = ("=", "+", "-", "@")
PROGRESS_EVERY = 500

_thin = Side(style="thin")
BORDER = Border(left=_thin, right=_thin, top=_thin, bottom=_thin)


@dataclass(frozen=True)
class Style:
    bold: bool = False
    italic: bool = False
    size: int = 12
    horizontal: str = "left"
    vertical: str = "center"
    border: bool = False
    number_format: str | None = None
    underline: bool = False


TITLE = Style(bold=True, size=14, horizontal="center")
CENTER_BOLD = Style(bold=True, horizontal="center")
CENTER = Style(horizontal="center")
ITALIC_CENTER = Style(italic=True, horizontal="center")
HEAD = Style(bold=True, horizontal="center", border=True)
HEAD_NUMBER = Style(italic=True, size=10, horizontal="center", border=True)
TEXT = Style(border=True, vertical="top")
TEXT_BOLD = Style(bold=True, border=True, vertical="top")
TEXT_CENTER = Style(border=True, horizontal="center", vertical="top")
TEXT_CENTER_BOLD = Style(bold=True, border=True, horizontal="center", vertical="top")
MONEY = Style(border=True, horizontal="right", vertical="top", number_format=MONEY_FORMAT)
MONEY_BOLD = Style(bold=True, border=True, horizontal="right", vertical="top", number_format=MONEY_FORMAT)
COUNT = Style(border=True, horizontal="center", vertical="top", number_format=COUNT_FORMAT)
COUNT_BOLD = Style(bold=True, border=True, horizontal="center", vertical="top", number_format=COUNT_FORMAT)


def vn_number(value, places=None):
    """A number written the Vietnamese way, for text cells: 1276 → "1.276", 90.3 → "90,3"."""
    number = Decimal(value)
    number = number.quantize(Decimal(1).scaleb(-places)) if places is not None else number.normalize()
    return format(number, ",f").replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def capitalized(text):
    """ "xã An Dương" → "Xã An Dương", as a name starts a table cell."""
    return text[:1].upper() + text[1:]


def roman(number):
    numerals = [(100, "C"), (90, "XC"), (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]
    text = ""
    for value, letters in numerals:
        while number >= value:
            text += letters
            number -= value
    return text


def vn_date_line(place, day):
    return _("%(place)s, ngày %(day)s tháng %(month)s năm %(year)s") % {
        "place": place,
        "day": f"{day.day:02d}",
        "month": f"{day.month:02d}",
        "year": day.year,
    }


@dataclass(frozen=True)
class Column:
    title: str
    width: float
    group: str = ""  # columns sharing a group get one merged heading above their own


class Sheet:
    """A write-only worksheet that knows its columns, the row it is on, and how to style a cell."""

    def __init__(self, workbook, title, columns):
        self.ws = workbook.create_sheet(title)
        self.columns = columns
        self.width = len(columns)
        self.row = 0
        self._widths = [c.width for c in columns]
        # openpyxl stores each font, alignment and border once per workbook, found by hashing the object on
        # every assignment; a province's export made that lookup three times per cell. The indices a style
        # resolves to are worked out once here and copied onto every later cell of that style.
        self._style_ids = {}
        for index, column in enumerate(columns, start=1):
            self.ws.column_dimensions[get_column_letter(index)].width = column.width

    def _style_array(self, style, quoted):
        key = (style, quoted)
        found = self._style_ids.get(key)
        if found is None:
            cell = WriteOnlyCell(self.ws)
            cell.font = Font(
                name=FONT_NAME,
                size=style.size,
                bold=style.bold,
                italic=style.italic,
                underline="single" if style.underline else None,
            )
            cell.alignment = Alignment(horizontal=style.horizontal, vertical=style.vertical, wrap_text=True)
            if style.border:
                cell.border = BORDER
            if style.number_format:
                cell.number_format = style.number_format
            if quoted:
                cell.quotePrefix = True
            found = self._style_ids[key] = cell._style
        return found

    def _styled(self, value, style, quoted=False):
        cell = WriteOnlyCell(self.ws, value=value)
        cell._style = copy(self._style_array(style, quoted))
        return cell

    def cell(self, value, style=TEXT):
        if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not getattr(value, "is_formula", False):
            # A string typed by a person stays a string: inline text, marked so Excel keeps it text on edit.
            cell = self._styled(value, style, quoted=True)
            cell.data_type = "s"
            return cell
        return self._styled(value, style)

    def formula(self, text, style):
        return self._styled(Formula(text), style)

    def append(self, cells, height=None, spans=()):
        """Append one row of WriteOnlyCells or (value, style) pairs; `spans` are (first, last) columns to merge.

        Viewers do not grow a row to fit wrapped text when they open the file, so the height is estimated
        here from the longest text against the width it has; a write-only row takes its height before it is
        written.
        """
        height = height or self._fitting_height(cells, spans)
        if height:
            self.ws.row_dimensions[self.row + 1].height = height
        self.ws.append([self.cell(*c) if isinstance(c, tuple) else c for c in cells])
        self.row += 1
        for first, last in spans:
            self.merge(first, last)
        return self.row

    def _fitting_height(self, cells, spans):
        widths = self._widths
        if spans:
            widths = list(widths)
            for first, last in spans:
                widths[first - 1] = sum(widths[first - 1 : last])
                for index in range(first, last):
                    widths[index] = 0
        lines = 1
        for index, item in enumerate(cells[: self.width]):
            if not isinstance(item, tuple):
                continue
            value, style = item
            if not isinstance(value, str) or not value or not widths[index]:
                continue
            # A character of 12-point Times takes about one unit of Excel's column width; bold a little more.
            per_line = max(1, int((widths[index] - 1) / (1.1 if style.bold else 1.0) * 12 / style.size))
            # Most cells fit on one line; only those that do not are measured line by line.
            if len(value) <= per_line and "\n" not in value:
                continue
            lines = max(lines, sum(-(-max(len(part), 1) // per_line) for part in value.split("\n")))
        if lines == 1:
            return None
        largest = max((c[1].size for c in cells if isinstance(c, tuple)), default=12)
        return round(16 * lines * largest / 12) + 2

    def merge(self, first_col, last_col, first_row=None, last_row=None):
        first_row = first_row or self.row
        last_row = last_row or first_row
        if (first_col, first_row) != (last_col, last_row):
            self.ws.merged_cells.add(
                f"{get_column_letter(first_col)}{first_row}:{get_column_letter(last_col)}{last_row}"
            )

    def spanning(self, value, style, first_col=1, last_col=None):
        """A row with one value merged across columns first_col..last_col (bordered cells fill the span)."""
        last_col = last_col or self.width
        cells = [("", style) for _i in range(first_col - 1)] + [(value, style)]
        cells += [("", style) for _i in range(last_col - first_col)]
        self.append(cells, spans=[(first_col, last_col)])


class Formula(str):
    """A formula the exporter wrote itself; only these may start with '='."""

    is_formula = True


@dataclass(frozen=True)
class Header:
    """The official header block of a form and its title."""

    body_upper: str  # "UBND XÃ HÙNG MỸ"
    body: str  # "BAN CHỈ ĐẠO XÂY DỰNG NÔNG THÔN MỚI"
    number: str  # "Số: 05/KH-BCĐ"
    place_date: str  # "Hùng Mỹ, ngày 22 tháng 02 năm 2024"
    form: str  # "Biểu số 01"
    title: str
    subtitle: str
    unit_note: str = ""  # "Đơn vị tính: triệu đồng"
    signer_title: str = ""
    signer_name: str = ""


def header_for(area, *, form, title, subtitle, plan=None, day=None, unit_note=""):
    day = day or (plan.issued_on if plan and plan.issued_on else None) or timezone.localdate()
    number = plan.number if plan and plan.number else "      /BC-BCĐ"
    return Header(
        body_upper=(_("UBND %(area)s") % {"area": area.full_name}).upper(),
        body=(plan.issued_by if plan and plan.issued_by else _("Ban Chỉ đạo xây dựng nông thôn mới")).upper(),
        number=_("Số: %(number)s") % {"number": number},
        place_date=vn_date_line(area.name, day),
        form=form,
        title=title.upper(),
        subtitle=subtitle,
        unit_note=unit_note,
        signer_title=_("TM. BAN CHỈ ĐẠO\nTRƯỞNG BAN"),
        signer_name=(plan.signer if plan and plan.signer else ""),
    )


def national_header(*, form, title, subtitle, day=None):
    """The header of a form for the whole country, issued by the central steering committee."""
    return Header(
        body_upper=_("Ban Chỉ đạo Trung ương").upper(),
        body=_("Các Chương trình mục tiêu quốc gia").upper(),
        number=_("Số: %(number)s") % {"number": "      /BC-BCĐ"},
        place_date=vn_date_line(_("Hà Nội"), day or timezone.localdate()),
        form=form,
        title=title.upper(),
        subtitle=subtitle,
        signer_title=_("TM. BAN CHỈ ĐẠO\nTRƯỞNG BAN"),
    )


def start_sheet(workbook, title, columns, header):
    """Write the header block and the column headings; returns the sheet ready for data rows.

    Freeze panes and print titles are set before any row: a write-only sheet writes them first.
    """
    sheet = Sheet(workbook, title, columns)
    width = sheet.width
    split = max(2, width // 2)
    heading_row = 9
    grouped = any(c.group for c in columns)
    numbers_row = heading_row + (2 if grouped else 1)
    ws = sheet.ws
    ws.freeze_panes = f"A{numbers_row + 1}"
    ws.print_title_rows = f"{heading_row}:{numbers_row}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.7
    ws.page_margins.header = ws.page_margins.footer = 0.3
    ws.oddFooter.center.text = _("Trang &P/&N")

    def pair(left, left_style, right, right_style, height=None):
        cells = [(left, left_style)] + [("", left_style)] * (split - 1)
        cells += [(right, right_style)] + [("", right_style)] * (width - split - 1)
        sheet.append(cells, height=height, spans=[(1, split), (split + 1, width)])

    pair(header.body_upper, CENTER, _("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"), CENTER_BOLD)
    pair(
        header.body,
        CENTER_BOLD,
        _("Độc lập - Tự do - Hạnh phúc"),
        Style(bold=True, horizontal="center", underline=True),
    )
    pair(header.number, CENTER, header.place_date, ITALIC_CENTER)
    sheet.append([])
    sheet.spanning(header.form, Style(bold=True, italic=True, horizontal="right"))
    sheet.spanning(header.title, TITLE)
    sheet.ws.row_dimensions[sheet.row].height = 36
    sheet.spanning(header.subtitle, ITALIC_CENTER)
    sheet.spanning(header.unit_note, Style(italic=True, horizontal="right"))

    if grouped:
        top, bottom = [], []
        for column in columns:
            top.append((column.group or column.title, HEAD))
            bottom.append(("" if not column.group else column.title, HEAD))
        sheet.append(top, height=30)
        sheet.append(bottom, height=max(45, sheet._fitting_height(bottom, ()) or 0))
        index = 0
        while index < width:
            column = columns[index]
            if not column.group:
                sheet.merge(index + 1, index + 1, heading_row, heading_row + 1)
                index += 1
                continue
            end = index
            while end + 1 < width and columns[end + 1].group == column.group:
                end += 1
            sheet.merge(index + 1, end + 1, heading_row, heading_row)
            index = end + 1
    else:
        sheet.append([(c.title, HEAD) for c in columns], height=45)
    sheet.append([(f"({i})", HEAD_NUMBER) for i in range(1, width + 1)])
    assert sheet.row == numbers_row
    return sheet


def finish_sheet(sheet, header, left_title=None):
    """The signature block under the table: preparer on the left, the signer for the body on the right."""
    width = sheet.width
    split = max(2, width // 2)
    left_title = left_title if left_title is not None else _("NGƯỜI LẬP BIỂU")

    def pair(left, right, style, height=None):
        cells = [(left, style)] + [("", style)] * (split - 1) + [(right, style)] + [("", style)] * (width - split - 1)
        sheet.append(cells, height=height, spans=[(1, split), (split + 1, width)])

    sheet.append([])
    pair(left_title, header.signer_title, CENTER_BOLD)
    pair(_("(Ký, ghi rõ họ tên)"), _("(Ký, đóng dấu, ghi rõ họ tên)"), ITALIC_CENTER)
    for _i in range(3):
        sheet.append([])
    pair("", header.signer_name, CENTER_BOLD)


def new_workbook():
    workbook = Workbook(write_only=True)
    # openpyxl cannot store a formula's value; viewers compute the totals when the file opens.
    workbook.calculation.fullCalcOnLoad = True
    return workbook


# The hidden sheet that says which form, area and year a workbook is, so that an import can refuse a file
# of another commune or year instead of guessing from the printed title.
INFO_SHEET = "NTM"
INFO_FORM, INFO_AREA_CODE, INFO_AREA_ID, INFO_YEAR, INFO_SET = (
    "Biểu",
    "Mã đơn vị",
    "Số hiệu đơn vị trên cổng",
    "Năm",
    "Bộ tiêu chí",
)


def save(workbook, out, *, form, area, year, criteria_set=None):
    info = workbook.create_sheet(INFO_SHEET)
    info.sheet_state = "hidden"
    info.append([_("Thông tin để nhập lại biểu vào cổng — xin đừng sửa trang này.")])
    info.append([INFO_FORM, form])
    # The whole country has no area: both stay blank, and an import of such a file finds no area to match.
    info.append([INFO_AREA_CODE, area.code if area is not None else ""])
    info.append([INFO_AREA_ID, area.pk if area is not None else ""])
    info.append([INFO_YEAR, year])
    info.append([INFO_SET, criteria_set.code if criteria_set is not None else ""])
    workbook.save(out)


# ---------------------------------------------------------------- choosing what to export


class ExportError(Exception):
    """The form cannot be made for this area and year; the message says why, in Vietnamese."""


def criteria_set_for(level, year, code=None):
    """The set named by `code`, or the national standard set for `level` that covers `year`."""
    if code:
        found = CriteriaSet.objects.filter(code=code).first()
        if found is None:
            raise ExportError(_("Không có bộ tiêu chí mã “%(code)s”.") % {"code": code})
        return found
    found = (
        CriteriaSet.objects.national()
        .for_level(level)
        .covering(year)
        .filter(tier=Tier.STANDARD)
        .order_by("-period_start")
        .first()
    )
    if found is None:
        raise ExportError(_("Chưa có bộ tiêu chí cấp %(level)s cho năm %(year)s.") % {"level": level, "year": year})
    return found


def own_set_level(area):
    levels = {Level.COMMUNE: SetLevel.COMMUNE, Level.DISTRICT: SetLevel.DISTRICT, Level.VILLAGE: SetLevel.VILLAGE}
    if area.level not in levels:
        raise ExportError(_("Biểu này chỉ lập cho xã, huyện hoặc thôn."))
    return levels[area.level]


def plans_for(area, year):
    return list(Plan.objects.filter(area=area, year=year).order_by("issued_on", "pk"))


def _status_label(status):
    return str(Status(status).label) if status in Status.values else str(Status.NOT_ASSESSED.label)


# ---------------------------------------------------------------- Biểu 01: criteria results


def result_text(judgement):
    """The measured result as a reviewer reads it: "1.276/1.413 (90,3%)", "85,5", "Đạt"."""
    result, indicator = judgement.result, judgement.indicator
    if result is None:
        return ""
    if result.not_applicable:
        return str(Status.NOT_APPLICABLE.label)
    if result.boolean is not None:
        return str(indicator.yes_label if result.boolean else indicator.no_label)
    if result.numerator is not None and result.denominator:
        percent = judgement.evaluation.measured
        return f"{vn_number(result.numerator)}/{vn_number(result.denominator)} ({vn_number(percent, 1)}%)"
    if result.value is not None:
        return vn_number(result.value)
    return ""


def indicator_number(indicator):
    """ "2.1" for a sub-indicator; blank where a criterion's only indicator carries the criterion's own number."""
    return "" if indicator.code == str(indicator.criterion.number) else indicator.code


def threshold_text(judgement):
    threshold = judgement.choice.threshold
    if threshold is None:
        return _("Chưa có ngưỡng")
    text = threshold.display
    if not threshold.verified and "chưa xác minh" not in text.lower():
        text = _("%(threshold)s (chưa xác minh)") % {"threshold": text}
    return text


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
    header = header_for(
        area,
        form=_("Biểu số 01"),
        title=_("Kết quả thực hiện các tiêu chí nông thôn mới năm %(year)s") % {"year": year},
        subtitle=_("%(area)s — %(set)s") % {"area": area.full_name, "set": criteria_set.name},
        plan=None,
        day=day,
    )
    workbook = new_workbook()
    sheet = start_sheet(workbook, _("Biểu 01"), columns, header)
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
                (_status_label(status), TEXT_CENTER_BOLD),
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
                    (_status_label(judgement.evaluation.status), TEXT_CENTER),
                ]
            )
            rows += 1
    met = sum(1 for c in criteria if statuses.get(c.pk) == Status.MET)
    total_text = _("Tổng số tiêu chí đạt: %(met)s/%(total)s") % {"met": met, "total": len(criteria)}
    sheet.append([("", TEXT_BOLD), (total_text, TEXT_BOLD)] + [("", TEXT_BOLD)] * 4, spans=[(2, 6)])
    finish_sheet(sheet, header)
    save(workbook, out, form="01", area=area, year=year, criteria_set=criteria_set)
    return rows


def _bieu01_communes(out, *, area, year, criteria_set, progress, day):
    """One row per commune of a district, a province (grouped by district) or the nation (grouped by province)."""
    criteria_set = criteria_set or criteria_set_for(SetLevel.COMMUNE, year)
    national = criteria_set.national_set
    total = national.criteria.count()
    communes = Area.objects.communes().in_year(year)
    if area is not None:
        communes = communes.under(area)
    results = CriterionResult.objects.for_set(national, year).filter(area__in=communes)
    met_counts = results.met_counts(national, year)
    unmet = {}
    for area_id, number in (
        results.filter(status=NOT_MET).order_by("criterion__number").values_list("area_id", "criterion__number")
    ):
        unmet.setdefault(area_id, []).append(str(number))

    result_group = _("Kết quả năm %(year)s") % {"year": year}
    columns = [
        Column(_("STT"), 7),
        Column(_("Xã"), 34),
        Column(_("Số tiêu chí đạt"), 16, result_group),
        Column(_("Tiêu chí chưa đạt"), 30, result_group),
        Column(_("Ghi chú"), 26),
    ]
    title = _("Kết quả thực hiện các tiêu chí nông thôn mới của các xã năm %(year)s") % {"year": year}
    name = area.full_name if area is not None else _("Toàn quốc")
    subtitle = _("%(area)s — %(set)s") % {"area": name, "set": criteria_set.name}
    if area is None:
        header = national_header(form=_("Biểu số 01"), title=title, subtitle=subtitle, day=day)
    else:
        header = header_for(area, form=_("Biểu số 01"), title=title, subtitle=subtitle, day=day)
    workbook = new_workbook()
    sheet = start_sheet(workbook, _("Biểu 01"), columns, header)

    # The nation is grouped by province and names each commune's district; a province is grouped by district.
    if area is None:
        group_fields = ("province_id", "province__name", "province__kind")
        ordering = ("province__name", "province_id", "district__name", "name", "pk")
        no_group = ""
    elif area.level == Level.PROVINCE:
        group_fields = ("district_id", "district__name", "district__kind")
        ordering = ("district__name", "name", "pk")
        no_group = _("Xã trực thuộc tỉnh")
    else:
        group_fields = None
        ordering = ("name", "pk")
    fields = ("pk", "name", "kind", "district__name", "district__kind") + (group_fields or ())
    rows = complete = 0
    group_key = object()
    groups = number = 0
    blank_bold = ("", TEXT_BOLD)
    # Plain tuples instead of model instances: a national export lists every commune of the country.
    for row in communes.order_by(*ordering).values_list(*fields).iterator(chunk_size=2000):
        pk, commune_name, kind, district_name, district_kind = row[:5]
        if group_fields and row[5] != group_key:
            group_key = row[5]
            groups += 1
            number = 0
            label = capitalized(_full_name(row[6], row[7])) if group_key else no_group
            sheet.append(
                [(roman(groups), TEXT_CENTER_BOLD), (label, TEXT_BOLD), blank_bold, blank_bold, blank_bold],
                spans=[(2, 5)],
            )
        number += 1
        met = met_counts.get(pk)
        if met == total:
            complete += 1
        label = capitalized(_full_name(commune_name, kind))
        if area is None and district_name:
            label = _("%(commune)s, %(district)s") % {
                "commune": label,
                "district": _full_name(district_name, district_kind),
            }
        sheet.append(
            [
                (str(number), TEXT_CENTER),
                (label, TEXT),
                (f"{met or 0}/{total}", TEXT_CENTER),
                (", ".join(unmet.get(pk, ())), TEXT_CENTER),
                ("" if pk in met_counts else _("Chưa nhập kết quả"), TEXT),
            ]
        )
        rows += 1
        if progress and rows % PROGRESS_EVERY == 0:
            progress(rows)
    sheet.append([("", TEXT_BOLD), (_("Tổng số xã"), TEXT_BOLD), (rows, COUNT_BOLD), ("", TEXT), ("", TEXT)])
    sheet.append(
        [
            ("", TEXT_BOLD),
            (_("Số xã đạt %(total)s/%(total)s tiêu chí") % {"total": total}, TEXT_BOLD),
            (complete, COUNT_BOLD),
            ("", TEXT),
            ("", TEXT),
        ]
    )
    finish_sheet(sheet, header)
    save(workbook, out, form="01", area=area, year=year, criteria_set=criteria_set)
    return rows


def _full_name(name, kind):
    """`Area.full_name` from the two columns, for rows read as tuples."""
    return f"{kind} {name}".strip() if kind else name


# ---------------------------------------------------------------- Biểu 02: plan of the criteria


def plan_items_for(area, year):
    return (
        PlanItem.objects.filter(plan__area=area, plan__year=year)
        .exclude(status=ItemStatus.CANCELLED)
        .select_related("criterion", "indicator", "area", "lead_member", "lead_agency")
        .order_by("plan__issued_on", "plan_id", "position", "pk")
    )


def _item_title(item):
    if item.target:
        return _("%(title)s (mục tiêu: %(target)s)") % {"title": item.title, "target": item.target}
    return item.title


def write_bieu02(out, *, area, year, criteria_set=None, progress=None, day=None):
    """Biểu 02: for each criterion and indicator, where it stands, what it must reach, and the work planned."""
    criteria_set = criteria_set or criteria_set_for(own_set_level(area), year)
    national = criteria_set.national_set
    criteria = list(national.criteria.order_by("number"))
    now = judge_indicators(area=area, criteria_set=criteria_set, year=year - 1)
    targets = {j.indicator.pk: j for j in judge_indicators(area=area, criteria_set=criteria_set, year=year)}
    statuses = dict(
        CriterionResult.objects.for_set(national, year - 1).filter(area=area).values_list("criterion_id", "status")
    )
    plans = plans_for(area, year)
    criterion_ids = {c.pk for c in criteria}
    by_indicator, by_criterion, other = {}, {}, []
    for item in plan_items_for(area, year):
        if item.indicator_id and item.criterion_id in criterion_ids:
            by_indicator.setdefault(item.indicator_id, []).append(item)
        elif item.criterion_id in criterion_ids:
            by_criterion.setdefault(item.criterion_id, []).append(item)
        else:
            other.append(item)
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
    plan = plans[0] if plans else None
    header = header_for(
        area,
        form=_("Biểu số 02"),
        title=_("Kế hoạch thực hiện các tiêu chí nông thôn mới năm %(year)s") % {"year": year},
        subtitle=_subtitle(area, plan, criteria_set),
        plan=plan,
        day=day,
    )
    workbook = new_workbook()
    sheet = start_sheet(workbook, _("Biểu 02"), columns, header)
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
                (_status_label(statuses.get(criterion.pk, Status.NOT_ASSESSED)), TEXT_CENTER_BOLD),
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
                    (_status_label(judgement.evaluation.status), TEXT_CENTER),
                    (threshold_text(target) if target else "", TEXT_CENTER),
                ],
                by_indicator.get(indicator.pk, []),
            )
    if other:
        section(sheet, "II", _("CÁC NỘI DUNG KHÁC"))
        for number, item in enumerate(other, start=1):
            sheet.append([(str(number), TEXT_CENTER)] + [("", TEXT)] * 5 + _item_cells(item, TEXT))
            rows += 1
    finish_sheet(sheet, header)
    save(workbook, out, form="02", area=area, year=year, criteria_set=criteria_set)
    return rows


def section(sheet, number, title):
    """A section row: its Roman number in the STT column, its title across the rest."""
    sheet.append(
        [(number, TEXT_CENTER_BOLD), (title, TEXT_BOLD)] + [("", TEXT_BOLD)] * (sheet.width - 2),
        spans=[(2, sheet.width)],
    )


def _item_cells(item, style):
    if item is None:
        return [("", TEXT), ("", TEXT), ("", TEXT)]
    lead = item.lead.name if item.lead else ""
    return [(_item_title(item), style), (lead, TEXT), (item.deadline_label, TEXT_CENTER)]


def _subtitle(area, plan, criteria_set=None):
    if plan is not None and plan.number:
        text = _("(Kèm theo Kế hoạch số %(number)s") % {"number": plan.number}
        if plan.issued_on:
            text += _(" ngày %(day)s") % {"day": plan.issued_on.strftime("%d/%m/%Y")}
        return text + _(" của %(area)s)") % {"area": area.full_name}
    if criteria_set is not None:
        return _("%(area)s — %(set)s") % {"area": area.full_name, "set": criteria_set.name}
    return area.full_name


# ---------------------------------------------------------------- Biểu 03: funding by source


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
    plans = plans_for(area, year)
    plan = plans[0] if plans else None

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
        subtitle=_subtitle(area, plan),
        plan=plan,
        day=day,
        unit_note=_("Đơn vị tính: triệu đồng"),
    )
    workbook = new_workbook()
    sheet = start_sheet(workbook, _("Biểu 03"), columns, header)
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
            sheet.append([(str(number), TEXT_CENTER), (_item_title(item), TEXT), (where, TEXT), total] + money)
            rows += 1
            if progress and rows % PROGRESS_EVERY == 0:
                progress(rows)
    if group_rows:
        totals = [
            sheet.formula("=SUM(" + ",".join(f"{col}{r}" for r in group_rows) + ")", MONEY_BOLD)
            for col in money_letters
        ]
    else:
        totals = [(0, MONEY_BOLD) for _col in money_letters]
    sheet.append([("", TEXT_BOLD), (_("TỔNG CỘNG"), TEXT_BOLD), ("", TEXT_BOLD)] + totals, spans=[(2, 3)])
    finish_sheet(sheet, header)
    save(workbook, out, form="03", area=area, year=year, criteria_set=criteria_set)
    return rows


# ---------------------------------------------------------------- Biểu 05/06: household hygiene per village

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
    villages = list(Area.objects.villages().under(area).in_year(year).order_by("name", "pk"))
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
    plans = plans_for(area, year)
    plan = plans[0] if plans else None
    header = header_for(
        area,
        form=_("Biểu số 05, 06"),
        title=_("Số hộ gia đình đạt các chỉ tiêu vệ sinh môi trường theo thôn năm %(year)s") % {"year": year},
        subtitle=_subtitle(area, plan, criteria_set),
        plan=plan,
        day=day,
    )
    workbook = new_workbook()
    sheet = start_sheet(workbook, _("Biểu 05-06"), columns, header)
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
    for index in range(len(indicators)):
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


# ---------------------------------------------------------------- Biểu 07: the villages' work


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
    plans = plans_for(area, year)
    plan = plans[0] if plans else None
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
        subtitle=_subtitle(area, plan),
        plan=plan,
        day=day,
        unit_note=_("Đơn vị tính kinh phí: triệu đồng"),
    )
    workbook = new_workbook()
    sheet = start_sheet(workbook, _("Biểu 07"), columns, header)
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
                    (_item_title(item), TEXT),
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
        else (0, MONEY_BOLD)
    )
    sheet.append([("", TEXT_BOLD), (_("TỔNG CỘNG"), TEXT_BOLD)] + [("", TEXT_BOLD)] * 4 + [total], spans=[(2, 6)])
    finish_sheet(sheet, header)
    save(workbook, out, form="07", area=area, year=year, criteria_set=criteria_set)
    return len(items)


# ---------------------------------------------------------------- the catalogue of forms


@dataclass(frozen=True)
class Form:
    code: str
    name: str
    levels: tuple
    writer: object


def forms():
    return [
        Form(
            "01",
            _("Biểu 01 — Kết quả thực hiện các tiêu chí"),
            (Level.COMMUNE, Level.DISTRICT, Level.PROVINCE),
            write_bieu01,
        ),
        Form("02", _("Biểu 02 — Kế hoạch thực hiện các tiêu chí"), (Level.COMMUNE, Level.DISTRICT), write_bieu02),
        Form(
            "03", _("Biểu 03 — Kinh phí theo nguồn vốn"), (Level.COMMUNE, Level.DISTRICT, Level.PROVINCE), write_bieu03
        ),
        Form("05", _("Biểu 05/06 — Hộ gia đình đạt các chỉ tiêu vệ sinh, theo thôn"), (Level.COMMUNE,), write_bieu05),
        Form("07", _("Biểu 07 — Nội dung thực hiện của các thôn"), (Level.COMMUNE,), write_bieu07),
    ]


def forms_for(area):
    return [form for form in forms() if area.level in form.levels]


def export(out, *, form, area, year, criteria_set=None, progress=None, day=None):
    """Write form `form` ("01" … "07") for `area` and `year` into `out`; returns the number of data rows.

    `area` None is the whole country, for which only Biểu 01 is made.
    """
    if area is None:
        if form != "01":
            raise ExportError(_("Chỉ có Biểu 01 cho toàn quốc."))
        return write_bieu01(out, area=None, year=year, criteria_set=criteria_set, progress=progress, day=day)
    chosen = {f.code: f for f in forms_for(area)}.get(form)
    if chosen is None:
        raise ExportError(_("Không có Biểu %(form)s cho %(area)s.") % {"form": form, "area": area.full_name})
    return chosen.writer(out, area=area, year=year, criteria_set=criteria_set, progress=progress, day=day)


def file_name(form, area, year):
    if area is None:
        return f"Bieu{form}_toan-quoc_{year}.xlsx"
    return f"Bieu{form}_{slugify(area.name) or area.pk}_{year}.xlsx"
