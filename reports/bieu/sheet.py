"""The shared writer of the Biểu workbooks: styles, number formats, the sheet, the official header block, the
signature block and the hidden sheet an import reads back.

Every workbook is written in openpyxl's write-only mode, so a province's Biểu 01 streams row by row and
memory stays flat however many communes it lists. Text typed by users is always written as a string cell:
a plan item titled "=HYPERLINK(…)" must never become a formula in the reviewer's Excel.
"""

from copy import copy
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from ntm_portal.spreadsheets import FORMULA_STARTS

FONT_NAME = "Times New Roman"
# Zero shows as a dash, as in the printed annexes.
MONEY_FORMAT = '#,##0.0;-#,##0.0;"-"'
COUNT_FORMAT = "#,##0"
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
    heading_row = 9
    grouped = any(c.group for c in columns)
    numbers_row = heading_row + (2 if grouped else 1)
    _set_up_page(sheet.ws, heading_row, numbers_row)
    _header_block(sheet, header)
    if grouped:
        _grouped_headings(sheet, columns, heading_row)
    else:
        sheet.append([(c.title, HEAD) for c in columns], height=45)
    sheet.append([(f"({i})", HEAD_NUMBER) for i in range(1, sheet.width + 1)])
    assert sheet.row == numbers_row
    return sheet


def _set_up_page(ws, heading_row, numbers_row):
    """Landscape A4 fitted to the width, the headings frozen and repeated on every printed page."""
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


def _halves(sheet, left, left_style, right, right_style, height=None):
    """A row of two merged halves: the issuing body on the left, the state's motto or the signer on the right."""
    width = sheet.width
    split = max(2, width // 2)
    cells = [(left, left_style)] + [("", left_style)] * (split - 1)
    cells += [(right, right_style)] + [("", right_style)] * (width - split - 1)
    sheet.append(cells, height=height, spans=[(1, split), (split + 1, width)])


def _header_block(sheet, header):
    """The official header: issuing body and national motto side by side, then the form's number and title."""
    _halves(sheet, header.body_upper, CENTER, _("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"), CENTER_BOLD)
    _halves(
        sheet,
        header.body,
        CENTER_BOLD,
        _("Độc lập - Tự do - Hạnh phúc"),
        Style(bold=True, horizontal="center", underline=True),
    )
    _halves(sheet, header.number, CENTER, header.place_date, ITALIC_CENTER)
    sheet.append([])
    sheet.spanning(header.form, Style(bold=True, italic=True, horizontal="right"))
    sheet.spanning(header.title, TITLE)
    sheet.ws.row_dimensions[sheet.row].height = 36
    sheet.spanning(header.subtitle, ITALIC_CENTER)
    sheet.spanning(header.unit_note, Style(italic=True, horizontal="right"))


def _grouped_headings(sheet, columns, heading_row):
    """Two heading rows: a group's title merged above its columns, a column without a group merged down both."""
    top, bottom = [], []
    for column in columns:
        top.append((column.group or column.title, HEAD))
        bottom.append(("" if not column.group else column.title, HEAD))
    sheet.append(top, height=30)
    sheet.append(bottom, height=max(45, sheet._fitting_height(bottom, ()) or 0))
    width = sheet.width
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


def finish_sheet(sheet, header, left_title=None):
    """The signature block under the table: preparer on the left, the signer for the body on the right."""
    left_title = left_title if left_title is not None else _("NGƯỜI LẬP BIỂU")
    sheet.append([])
    _halves(sheet, left_title, CENTER_BOLD, header.signer_title, CENTER_BOLD)
    _halves(sheet, _("(Ký, ghi rõ họ tên)"), ITALIC_CENTER, _("(Ký, đóng dấu, ghi rõ họ tên)"), ITALIC_CENTER)
    for _i in range(3):
        sheet.append([])
    _halves(sheet, "", CENTER_BOLD, header.signer_name, CENTER_BOLD)


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


def section(sheet, number, title):
    """A section row: its Roman number in the STT column, its title across the rest."""
    sheet.append(
        [(number, TEXT_CENTER_BOLD), (title, TEXT_BOLD)] + [("", TEXT_BOLD)] * (sheet.width - 2),
        spans=[(2, sheet.width)],
    )
