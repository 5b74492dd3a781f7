"""The shared writer of the Biểu workbooks: styles, number formats, the sheet, the official header block, the
signature block and the hidden sheet an import reads back.

Every workbook is an openpyxl write-only workbook whose rows stream out as they are appended, so memory stays
flat however many communes a Biểu 01 lists. The rows' XML is written here (`Sheet._cell`, `_RowsWriter`): the
elements openpyxl would write for the same styled cells, without building a cell object per value; openpyxl writes
the rest (columns, views, merges, page set-up, the workbook and its styles). tests/test_bieu.py holds every form
to what openpyxl's own cells give. Text typed by users is always written as a string cell: a plan item titled
"=HYPERLINK(…)" must never become a formula in the reviewer's Excel.
"""

import datetime
import re
import shutil
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from zipfile import ZIP_DEFLATED, ZipFile

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.compat import safe_string
from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing
from openpyxl.packaging.extended import ExtendedProperties
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.styles.stylesheet import write_stylesheet
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import IllegalCharacterError
from openpyxl.workbook._writer import WorkbookWriter
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter
from openpyxl.writer.theme import theme_xml
from openpyxl.xml.constants import (
    ARC_APP,
    ARC_CORE,
    ARC_ROOT_RELS,
    ARC_STYLE,
    ARC_THEME,
    ARC_WORKBOOK,
    ARC_WORKBOOK_RELS,
    SHEET_MAIN_NS,
)
from openpyxl.xml.functions import tostring

from ntm_portal.spreadsheets import FORMULA_STARTS
from reports.bieu.queries import signature_for

FONT_NAME = "Times New Roman"
# Zero shows as a dash, as in the printed annexes.
MONEY_FORMAT = '#,##0.0;-#,##0.0;"-"'
COUNT_FORMAT = "#,##0"
PROGRESS_EVERY = 500

# The printed page: A4 landscape less the margins `_set_up_page` sets, in points. A unit of column width is the
# width of a digit of the workbook's font, 12-point Times (or its metric twin Liberation Serif): 8 pixels, 6 points;
# a row without a height of its own prints about 16 points tall.
PAGE_WIDTH_PT = 842 - 2 * 0.4 * 72
PAGE_HEIGHT_PT = 595 - 2 * 0.7 * 72
POINTS_PER_WIDTH = 6
ROW_HEIGHT_PT = 16
# The share of a page the rows are planned to fill, so that rows printing a little taller than estimated never
# push the viewer to break a page before the break written here.
PAGE_FILL = 0.95
# Table rows carried over with the signature block when it would otherwise start a page alone.
ROWS_WITH_SIGNATURE = 2

# What openpyxl allows in a cell's text: at most 32,767 characters, no control characters but tab and new lines.
MAX_TEXT = 32767
_ILLEGAL = ILLEGAL_CHARACTERS_RE
_TO_ESCAPE = re.compile("[&<>\r]")
# A sheet's XML is kept in memory up to this size, then in a temporary file.
SPILL_BYTES = 512 * 1024

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
    """A write-only worksheet that knows its columns, the row it is on, and how to style a cell.

    Rows are written as finished XML text (`_RowsWriter`): the same `<c>` elements openpyxl writes for a styled
    cell, each made from a string prepared once per style and value type. openpyxl still writes the rest of the
    sheet (columns, views, merges, page set-up, breaks), the workbook and its styles.
    """

    def __init__(self, workbook, title, columns):
        self.ws = workbook.create_sheet(title)
        self.columns = columns
        self.width = len(columns)
        self.row = 0
        self._widths = [c.width for c in columns]
        self._letters = [get_column_letter(i) for i in range(1, self.width + 1)]
        # The printed height of every row written, in points, to lay out the pages (see `_break_pages`).
        self.heights = []
        self._styles = workbook.bieu_styles
        # The merged ranges, in the order made; written after the rows (`_RowsWriter.write_merged_cells`).
        self.merged = []
        self._writer = None
        for index, column in enumerate(columns, start=1):
            self.ws.column_dimensions[get_column_letter(index)].width = column.width

    def _cell(self, ref, value, style):
        """One `<c>` element as openpyxl writes it for a write-only cell holding `value` in `style`."""
        if isinstance(value, str):
            if isinstance(value, Formula):
                return f'<c r="{ref}"{self._styles.attr(style, False)}><f>{_escaped(value[1:])}</f><v></v></c>'
            value = value[:MAX_TEXT]
            if _ILLEGAL.search(value):
                raise IllegalCharacterError(f"{value} cannot be used in worksheets.")
            # A string typed by a person stays a string, even one Excel would read as a formula: inline text,
            # marked (quote prefix) so that Excel keeps it text on edit.
            attr = self._styles.attr(style, value.startswith(FORMULA_STARTS))
            if not value:
                return f'<c r="{ref}"{attr} t="inlineStr"></c>'
            if value in ERROR_CODES:
                return f'<c r="{ref}"{attr} t="e"><v>{value}</v></c>'
            space = ' xml:space="preserve"' if value != value.strip() else ""
            return f'<c r="{ref}"{attr} t="inlineStr"><is><t{space}>{_escaped(value)}</t></is></c>'
        attr = self._styles.attr(style, False)
        if value is None:
            return f'<c r="{ref}"{attr} t="n"></c>'
        if isinstance(value, bool):
            return f'<c r="{ref}"{attr} t="b"><v>{int(value)}</v></c>'
        if isinstance(value, int | float | Decimal):
            return f'<c r="{ref}"{attr} t="n"><v>{safe_string(value)}</v></c>'
        raise TypeError(f"A Biểu cell holds text, a number or a formula, not {value!r}.")

    def formula(self, text, style):
        return (Formula(text), style)

    def append(self, cells, height=None, spans=()):
        """Append one row of (value, style) pairs (None: no cell); `spans` are (first, last) columns to merge.

        Viewers do not grow a row to fit wrapped text when they open the file, so the height is estimated
        here from the longest text against the width it has; a write-only row takes its height before it is
        written.
        """
        if self._writer is None:
            # Freeze panes, columns and page set-up are all set by now (`start_sheet`): they precede the rows.
            self._writer = self.ws._writer = _RowsWriter(self.ws, self.merged)
            self._writer.write_top()
        height = height or self._fitting_height(cells, spans)
        self.row += 1
        row = self.row
        if len(cells) > len(self._letters):
            self._letters += [get_column_letter(i) for i in range(len(self._letters) + 1, len(cells) + 1)]
        parts = [f'<row r="{row}" ht="{safe_string(height)}" customHeight="1">' if height else f'<row r="{row}">']
        for letter, item in zip(self._letters, cells, strict=False):
            if item is not None:
                parts.append(self._cell(f"{letter}{row}", *item))
        parts.append("</row>")
        self._writer.write_text("".join(parts))
        self.heights.append(height or ROW_HEIGHT_PT)
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
            if item is None:
                continue
            value, style = item
            if not isinstance(value, str) or isinstance(value, Formula) or not value or not widths[index]:
                continue
            # A character of 12-point Times takes about one unit of Excel's column width; bold a little more,
            # capitals a quarter more again ("BAN CHỈ ĐẠO …" wrapped where it was thought to fit).
            wide = (1.1 if style.bold else 1.0) * (1.25 if value.isupper() else 1.0)
            per_line = max(1, int((widths[index] - 1) / wide * 12 / style.size))
            # Most cells fit on one line; only those that do not are measured line by line.
            if len(value) <= per_line and "\n" not in value:
                continue
            lines = max(lines, sum(-(-max(len(part), 1) // per_line) for part in value.split("\n")))
        if lines == 1:
            return None
        largest = max((c[1].size for c in cells if c is not None and not isinstance(c[0], Formula)), default=12)
        return round(16 * lines * largest / 12) + 2

    def merge(self, first_col, last_col, first_row=None, last_row=None):
        first_row = first_row or self.row
        last_row = last_row or first_row
        if (first_col, first_row) != (last_col, last_row):
            self.merged.append(f"{get_column_letter(first_col)}{first_row}:{get_column_letter(last_col)}{last_row}")

    def spanning(self, value, style, first_col=1, last_col=None, min_height=None):
        """A row with one value merged across columns first_col..last_col (bordered cells fill the span)."""
        last_col = last_col or self.width
        cells = [("", style) for _i in range(first_col - 1)] + [(value, style)]
        cells += [("", style) for _i in range(last_col - first_col)]
        spans = [(first_col, last_col)]
        height = max(min_height or 0, self._fitting_height(cells, spans) or 0) or None
        self.append(cells, height=height, spans=spans)


class _RowsWriter(WorksheetWriter):
    """openpyxl's worksheet writer, taking the rows as finished XML text.

    openpyxl serialises the parts before and after the rows (sheet properties, views, columns; merges, page
    set-up, breaks) as it always does; the rows go straight into the same buffer, encoded as openpyxl's own
    writer encodes them (ASCII, anything else as a character reference). The buffer stays in memory for a
    sheet of ordinary size and moves to an anonymous temporary file past `SPILL_BYTES`, so memory stays flat
    for the whole country; openpyxl would make, and later delete, a named file for every sheet.
    """

    def __init__(self, ws, merged):
        self.merged = merged
        # Closed by `_ExcelWriter` once copied into the workbook.
        super().__init__(ws, out=tempfile.SpooledTemporaryFile(max_size=SPILL_BYTES))  # noqa: SIM115

    def get_stream(self):
        self.out.write(b'<worksheet xmlns="' + SHEET_MAIN_NS.encode() + b'">')
        while True:
            element = yield
            if element is not None:
                self.out.write(tostring(element, encoding="us-ascii"))

    def write_top(self):
        super().write_top()
        self.out.write(b"<sheetData>")

    def write_text(self, text):
        self.out.write(text.encode("ascii", "xmlcharrefreplace"))

    def write_rows(self):
        """Called by the worksheet when it closes, after the last row."""
        self.out.write(b"</sheetData>")

    def write_merged_cells(self):
        """The merged ranges as openpyxl writes them (`Sheet.merge` keeps them as text, not as cell ranges)."""
        if self.merged:
            refs = "".join(f'<mergeCell ref="{ref}"/>' for ref in dict.fromkeys(self.merged))
            self.out.write(f'<mergeCells count="{len(dict.fromkeys(self.merged))}">{refs}</mergeCells>'.encode())

    def close(self):
        """Called by the worksheet when it closes, after the parts that follow the rows."""
        self.out.write(b"</worksheet>")


class _ExcelWriter(ExcelWriter):
    """openpyxl's workbook writer, copying each sheet's XML from its `_RowsWriter` buffer into the zip."""

    def write_data(self):
        """openpyxl's `ExcelWriter.write_data` for what a Biểu workbook holds (sheets and styles: no charts,
        images, comments, links or macros), the styles part from `_Styles`; the parts in openpyxl's order."""
        archive = self._archive
        archive.writestr(ARC_APP, tostring(ExtendedProperties().to_tree()))
        archive.writestr(ARC_CORE, tostring(self.workbook.properties.to_tree()))
        archive.writestr(ARC_THEME, theme_xml)
        self._write_worksheets()
        archive.writestr(ARC_STYLE, self.workbook.bieu_styles.stylesheet())
        writer = WorkbookWriter(self.workbook)
        archive.writestr(ARC_ROOT_RELS, writer.write_root_rels())
        archive.writestr(ARC_WORKBOOK, writer.write())
        archive.writestr(ARC_WORKBOOK_RELS, writer.write_rels())
        self.manifest._write(archive, self.workbook)

    def write_worksheet(self, ws):
        if not isinstance(ws._writer, _RowsWriter):  # a sheet that never had a row: openpyxl writes it
            return super().write_worksheet(ws)
        ws._drawing = SpreadsheetDrawing()
        if not ws.closed:
            ws.close()
        writer = ws._writer
        ws._rels = writer._rels
        writer.out.seek(0)
        with self._archive.open(ws.path[1:], "w") as part:
            shutil.copyfileobj(writer.out, part)
        writer.out.close()
        self.manifest.append(ws)


# The style numbers and styles parts of the orders of use seen so far (see `_Styles`): a tree, each entry
# (style, quoted) → (its cells' attribute text, the entries of the styles used after it); `_STYLES_PART` holds
# the serialised styles part of the order ending there.
_STYLE_ORDERS = {}
_STYLES_PART = "styles part"


class _Styles:
    """The cell styles of one workbook: each (style, quoted) pair gets its number in the workbook's style table
    the first time a cell uses it.

    openpyxl numbers a workbook's styles in the order its cells first use them, so workbooks that use the same
    styles in the same order (every export of a form, mostly) get the same numbers and the same styles part.
    Both are kept per order of use (`_STYLE_ORDERS`), and the workbook's own openpyxl tables are filled only for
    an order not seen before.
    """

    def __init__(self, workbook):
        self.workbook = workbook
        self.used = []
        self.attrs = {}  # (style, quoted) → ' s="7"'
        self.filled = 0  # how many of `used` are in the workbook's tables
        self.node = _STYLE_ORDERS

    def attr(self, style, quoted):
        key = (style, quoted)
        found = self.attrs.get(key)
        if found is None:
            self.used.append(key)
            entry = self.node.get(key)
            if entry is None:
                entry = self.node[key] = (self._fill(), {})
            found, self.node = entry
            self.attrs[key] = found
        return found

    def _fill(self):
        """Put the styles used so far into the workbook's tables; the attribute text of the last one."""
        for style, quoted in self.used[self.filled :]:
            found = _style_number(self.workbook, style, quoted)
        self.filled = len(self.used)
        return found

    def stylesheet(self):
        found = self.node.get(_STYLES_PART)
        if found is None:
            if self.filled < len(self.used):
                self._fill()
            found = self.node[_STYLES_PART] = tostring(write_stylesheet(self.workbook))
        return found


def _style_number(workbook, style, quoted):
    """Add `style` to the workbook's openpyxl tables (font, alignment, border, number format, cell format) as a
    cell of it would; the attribute text of its cells, ' s="7"' (none for a plain cell)."""
    if style is None:
        return ""
    cell = WriteOnlyCell(workbook.worksheets[0])
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
    return f' s="{cell.style_id}"' if cell.has_style else ""


def _escaped(text):
    """Text as an XML element's content, as lxml writes it."""
    if _TO_ESCAPE.search(text):
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    return text


class Formula(str):
    """A formula the exporter wrote itself (`Sheet.formula`); only these may start with '='."""


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
    signer_title: str = ""  # "TM. BAN CHỈ ĐẠO\nKT. TRƯỞNG BAN\nPHÓ BAN"
    signer_name: str = ""


def header_for(area, *, form, title, subtitle, year, plan=None, day=None, unit_note=""):
    """The header of `area`'s form for `year`; `plan`, the plan it goes with, gives the number, date, body and
    signer (what the plan leaves blank, the area's steering committee of the year gives: `signature_for`)."""
    day = day or (plan.issued_on if plan and plan.issued_on else None) or timezone.localdate()
    number = plan.number if plan and plan.number else "      /BC-BCĐ"
    signature = signature_for(area, year, plan)
    return Header(
        body_upper=(_("UBND %(area)s") % {"area": area.full_name}).upper(),
        body=(plan.issued_by if plan and plan.issued_by else _("Ban Chỉ đạo xây dựng nông thôn mới")).upper(),
        number=_("Số: %(number)s") % {"number": number},
        place_date=vn_date_line(area.name, day),
        form=form,
        title=title.upper(),
        subtitle=subtitle,
        unit_note=unit_note,
        signer_title="\n".join((*signature.lines, signature.position)),
        signer_name=signature.name,
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
    sheet.heading_row, sheet.numbers_row = heading_row, numbers_row
    _set_up_page(sheet.ws, heading_row, numbers_row, sheet._widths)
    _header_block(sheet, header)
    if grouped:
        _grouped_headings(sheet, columns, heading_row)
    else:
        headings = [(c.title, HEAD) for c in columns]
        sheet.append(headings, height=max(45, sheet._fitting_height(headings, ()) or 0))
    sheet.append([(f"({i})", HEAD_NUMBER) for i in range(1, sheet.width + 1)])
    assert sheet.row == numbers_row
    return sheet


def page_scale(widths):
    """The print scale, in percent, at which the columns fill the page's width (never enlarged).

    A fixed scale rather than "fit to one page wide": Excel ignores manual page breaks under "fit to", and the
    breaks are what keep the signature block with the table.
    """
    needed = sum(widths) * POINTS_PER_WIDTH
    return max(10, min(100, int(PAGE_WIDTH_PT * 0.98 / needed * 100)))


def _set_up_page(ws, heading_row, numbers_row, widths):
    """Landscape A4 scaled to the width, the headings frozen and repeated on every printed page."""
    ws.freeze_panes = f"A{numbers_row + 1}"
    ws.print_title_rows = f"{heading_row}:{numbers_row}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    ws.page_setup.scale = page_scale(widths)
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
    sheet.spanning(header.title, TITLE, min_height=36)
    sheet.spanning(header.subtitle, ITALIC_CENTER)
    sheet.spanning(header.unit_note, Style(italic=True, horizontal="right"))


def _grouped_headings(sheet, columns, heading_row):
    """Two heading rows: a group's title merged above its columns, a column without a group merged down both."""
    top, bottom, groups = [], [], []
    for index, column in enumerate(columns, start=1):
        top.append((column.group or column.title, HEAD))
        bottom.append(("" if not column.group else column.title, HEAD))
        if column.group and (index == 1 or columns[index - 2].group != column.group):
            groups.append((index, index))
        elif column.group:
            groups[-1] = (groups[-1][0], index)
    # A group's title is measured across its columns; a column without a group across both rows.
    group_titles = [(t if c.group else "", style) for (t, style), c in zip(top, columns, strict=True)]
    top_height = max(30, sheet._fitting_height(group_titles, groups) or 0)
    bottom_height = max(45, sheet._fitting_height(bottom, ()) or 0)
    single = [(t if not c.group else "", style) for (t, style), c in zip(top, columns, strict=True)]
    bottom_height = max(bottom_height, (sheet._fitting_height(single, ()) or 0) - top_height)
    sheet.append(top, height=top_height)
    sheet.append(bottom, height=bottom_height)
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


def finish_sheet(sheet, header, left_title=None, footnote=""):
    """Under the table: its footnote, then the signature block — preparer on the left, the signer for the body
    on the right — never alone on the last printed page."""
    left_title = left_title if left_title is not None else _("NGƯỜI LẬP BIỂU")
    table_end = sheet.row
    if footnote:
        sheet.spanning(footnote, Style(italic=True, size=11))
    sheet.append([])
    _halves(sheet, left_title, CENTER_BOLD, header.signer_title, CENTER_BOLD)
    _halves(sheet, _("(Ký, ghi rõ họ tên)"), ITALIC_CENTER, _("(Ký, đóng dấu, ghi rõ họ tên)"), ITALIC_CENTER)
    for _i in range(3):
        sheet.append([])
    _halves(sheet, "", CENTER_BOLD, header.signer_name, CENTER_BOLD)
    _break_pages(sheet, table_end)


def _break_pages(sheet, table_end):
    """Write a page break at the foot of every printed page, so that the signature block (with the footnote)
    shares its page with the last rows of the table instead of printing alone.

    Each page is filled to `PAGE_FILL` of what it holds at the sheet's scale, the headings repeated at its top.
    Breaking every page, not just the last, keeps the last page as laid out here whatever the viewer makes of
    the pages before it. When the block does not fit under the last rows, `ROWS_WITH_SIGNATURE` of them go over
    to the next page with it.
    """
    room = PAGE_HEIGHT_PT * 100 / sheet.ws.page_setup.scale * PAGE_FILL
    heights = sheet.heights
    titles = sum(heights[sheet.heading_row - 1 : sheet.numbers_row])
    used = sum(heights[: sheet.numbers_row])
    page_first = sheet.numbers_row + 1
    breaks = []
    for row in range(sheet.numbers_row + 1, table_end + 1):
        if used + heights[row - 1] > room and row > page_first:
            breaks.append(row - 1)
            used, page_first = titles, row
        used += heights[row - 1]
    block = sum(heights[table_end:])
    on_page = table_end - page_first + 1
    if used + block > room and on_page > 1:
        carried = min(ROWS_WITH_SIGNATURE, on_page - 1)
        breaks.append(table_end - carried)
    elif breaks and on_page < ROWS_WITH_SIGNATURE:
        # The last page holds fewer rows than go with the block: the page before gives it some of its own.
        first = table_end - ROWS_WITH_SIGNATURE + 1
        previous_first = breaks[-2] + 1 if len(breaks) > 1 else sheet.numbers_row + 1
        if first - 1 >= previous_first and titles + sum(heights[first - 1 :]) <= room:
            breaks[-1] = first - 1
    for row in breaks:
        sheet.ws.row_breaks.append(Break(id=row))


def new_workbook():
    workbook = Workbook(write_only=True)
    # The workbook's own font sets the unit of column width. Left as Calibri, a computer without Calibri measures
    # the columns in a wider substitute and the fixed print scale no longer fits the page; every cell is Times.
    workbook._fonts[0] = Font(name=FONT_NAME, size=12)
    # openpyxl cannot store a formula's value; viewers compute the totals when the file opens.
    workbook.calculation.fullCalcOnLoad = True
    workbook.bieu_styles = _Styles(workbook)
    return workbook


def start_workbook(title, columns, header):
    """A new workbook and its sheet `title`, started with the header block and the column headings."""
    workbook = new_workbook()
    return workbook, start_sheet(workbook, title, columns, header)


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
    info = Sheet(workbook, INFO_SHEET, [])
    info.ws.sheet_state = "hidden"
    # Plain cells, no style (None), as the import reads them; a sheet without columns measures no heights.
    info.append([(_("Thông tin để nhập lại biểu vào cổng — xin đừng sửa trang này."), None)])
    info.append([(INFO_FORM, None), (form, None)])
    # The whole country has no area: both stay blank, and an import of such a file finds no area to match.
    info.append([(INFO_AREA_CODE, None), (area.code if area is not None else "", None)])
    info.append([(INFO_AREA_ID, None), (area.pk if area is not None else "", None)])
    info.append([(INFO_YEAR, None), (year, None)])
    info.append([(INFO_SET, None), (criteria_set.code if criteria_set is not None else "", None)])
    # What `Workbook.save` does, with the sheets copied from their buffers (`_ExcelWriter`).
    workbook.properties.modified = datetime.datetime.now(tz=datetime.UTC).replace(tzinfo=None)
    with ZipFile(out, "w", ZIP_DEFLATED, allowZip64=True) as archive:
        _ExcelWriter(workbook, archive).write_data()


def section(sheet, number, title):
    """A section row: its Roman number in the STT column, its title across the rest."""
    sheet.append(
        [(number, TEXT_CENTER_BOLD), (title, TEXT_BOLD)] + [("", TEXT_BOLD)] * (sheet.width - 2),
        spans=[(2, sheet.width)],
    )
