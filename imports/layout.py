"""Finding the table in a sheet typed by hand: its heading rows (one or several, merged cells included), its data
rows, and the rows to skip — empty, subtotal ("Tổng", "Cộng"), section ("I", "II", "HẠ TẦNG KINH TẾ - XÃ HỘI")
and the column-number row ("(1) (2) (3)") — and the title block above, which names the year, the set and the
commune. Pure functions over the kept cells of one sheet (imports.workbook); no database."""

import re
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from openpyxl.utils import get_column_letter

from ntm_portal.vietnamese import plain_text

# Words a heading cell starts with (compared without diacritics).
HEADING_WORDS = (
    "tt",
    "stt",
    "so tt",
    "ma",
    "ten",
    "tieu chi",
    "noi dung",
    "chi tieu",
    "don vi",
    "dvt",
    "ket qua",
    "tu danh gia",
    "danh gia",
    "ghi chu",
    "xa",
    "so tieu chi",
    "dia diem",
    "tong",
    "kinh phi",
    "nguon",
    "ngan sach",
    "von",
    "tc",
    "gia tri",
    "thuc hien",
    "muc tieu",
    "nguong",
    "yeu cau",
)
_CRITERION_HEADING = re.compile(r"^(tc|tieu chi)\s*(so\s*)?(\d{1,2})$")
_ROMAN = re.compile(r"^[IVXL]+\.?$")
_LETTER_SECTION = re.compile(r"^[A-E]\.?$")
_NUMBER_CELL = re.compile(r"^\(?\d{1,2}\)?$|^\([a-z0-9]\)$")
_SUBTOTAL = re.compile(r"^(tong|cong)\b")
MAX_HEADING_SCAN = 30


def is_heading_word(text):
    plain = plain_text(text)
    return bool(_CRITERION_HEADING.match(plain)) or any(
        plain == word or plain.startswith(word + " ") or plain.startswith(word + "/") for word in HEADING_WORDS
    )


@dataclass
class Row:
    number: int
    values: list
    formulas: tuple = ()
    percents: tuple = ()

    def value(self, column):
        return self.values[column - 1] if 0 < column <= len(self.values) else None

    def text(self, column):
        value = self.value(column)
        return "" if value is None else str(value).strip()


@dataclass
class Table:
    """A sheet's table as found: headings by column, data rows, skipped rows with the reason, the title text."""

    sheet: str
    heading_rows: list
    headings: dict  # column number -> heading text ("Kết quả / Tự đánh giá")
    rows: list  # Row, data rows in order
    skipped: list = field(default_factory=list)  # (row number, reason)
    title: str = ""
    body: list = field(default_factory=list)  # every row below the headings, the skipped ones included

    @property
    def columns(self):
        return sorted(self.headings)

    def letter(self, column):
        return get_column_letter(column)

    @property
    def signature(self):
        """The headings as compared to a saved mapping's: same texts in the same columns."""
        return "|".join(f"{get_column_letter(c)}={plain_text(self.headings[c])}" for c in self.columns)


class NoHeadings(Exception):
    pass


def _rows(sheet):
    rows = []
    for entry in sheet["rows"]:
        marks = entry[2] if len(entry) > 2 else {}
        rows.append(Row(entry[0], entry[1], tuple(marks.get("f", ())), tuple(marks.get("p", ()))))
    return rows


def _merged_fill(sheet):
    """{(row, column): (top row, left column)} of every cell inside a merged range but its top-left one."""
    fill = {}
    for r0, c0, r1, c1 in sheet.get("merged", []):
        for r in range(r0, r1 + 1):
            for c in range(c0, c1 + 1):
                if (r, c) != (r0, c0):
                    fill[(r, c)] = (r0, c0)
    return fill


def _score(row):
    return sum(1 for v in row.values if isinstance(v, str) and is_heading_word(v))


def _is_number_row(row):
    cells = [str(v).strip() for v in row.values if v is not None]
    return len(cells) >= 3 and all(_NUMBER_CELL.match(plain_text(c)) for c in cells)


def find_table(sheet):
    """The table of a sheet; NoHeadings when no row within the first 30 looks like headings."""
    rows = _rows(sheet)
    start = next((i for i, row in enumerate(rows[:MAX_HEADING_SCAN]) if _score(row) >= 2), None)
    if start is None:
        raise NoHeadings(sheet["name"])
    first_col = min(c for c, v in enumerate(rows[start].values, 1) if v is not None)
    heading_rows = _heading_rows(sheet, rows, start, first_col)
    headings = _headings(heading_rows, _merged_fill(sheet), {row.number: row for row in rows})
    title = " ".join(str(v) for row in rows[:start] for v in row.values if isinstance(v, str))
    table = Table(sheet["name"], [r.number for r in heading_rows], headings, [], title=title)
    _read_body(table, rows[start + len(heading_rows) :], first_col)
    return table


def _heading_rows(sheet, rows, start, first_col):
    """The first heading row and its continuation rows (at most three in all): right below, nothing in the first
    heading column (merged down from above), text only except under a heading merged across columns ("Các tiêu
    chí" over 1 … 19)."""
    spans = [m for m in sheet.get("merged", []) if m[3] > m[1]]  # merged across columns

    def spanned(number):
        return {c for r0, c0, r1, c1 in spans if r0 <= number <= r1 for c in range(c0, c1 + 1)}

    heading_rows = [rows[start]]
    under = spanned(rows[start].number)
    for row in rows[start + 1 :]:
        if len(heading_rows) == 3:
            break
        if row.number != heading_rows[-1].number + 1 or row.value(first_col) is not None:
            break
        cells = [(c, v) for c, v in enumerate(row.values, 1) if v is not None]
        if not all(isinstance(v, str) or c in under for c, v in cells):
            break
        if _is_number_row(row) and not all(c in under for c, _v in cells):
            break
        heading_rows.append(row)
        under |= spanned(row.number)
    return heading_rows


def _headings(heading_rows, fill, by_number):
    """{column: "Kết quả thực hiện › Tự đánh giá"}: each column's texts down the heading rows, merged cells
    read from their top-left cell, a text repeated by a merge written once."""
    headings = {}
    for row in heading_rows:
        width = max(len(row.values), max((c for (r, c) in fill if r == row.number), default=0))
        for column in range(1, width + 1):
            value = row.value(column)
            if value is None and (row.number, column) in fill:
                top, left = fill[(row.number, column)]
                value = by_number[top].value(left) if top in by_number else None
            text = " ".join(str(value).split()) if value is not None else ""
            if text and text not in headings.get(column, "").split(" › "):
                headings[column] = f"{headings[column]} › {text}" if column in headings else text
    return headings


def _read_body(table, rows, first_col):
    """The rows below the headings: data rows, and the skipped ones with their reason (gaps are empty rows)."""
    previous = table.heading_rows[-1]
    for row in rows:
        for gap in range(previous + 1, row.number):
            table.skipped.append((gap, _("dòng trống")))
        previous = row.number
        table.body.append(row)
        reason = _skip_reason(row, first_col, table)
        if reason:
            table.skipped.append((row.number, reason))
        else:
            table.rows.append(row)


def _skip_reason(row, first_col, table):
    if _is_number_row(row) and not table.rows:
        return _("dòng đánh số cột")
    texts = [(c, str(v).strip()) for c, v in enumerate(row.values, 1) if v is not None]
    first_text = next((t for c, t in texts if isinstance(row.value(c), str)), "")
    lead = row.text(first_col)
    if _SUBTOTAL.match(plain_text(first_text)) and (not lead or lead == first_text):
        return _("dòng tổng cộng")
    if _ROMAN.match(lead) or _LETTER_SECTION.match(lead):
        return _("dòng đề mục")
    others = [t for c, t in texts if c != first_col]
    if not lead and len(others) == 1 and others[0].upper() == others[0] and any(ch.isalpha() for ch in others[0]):
        return _("dòng đề mục")
    return ""


def year_in(text):
    """The year a title names: "năm 2019" → 2019; "giai đoạn 2016-2020" → (2016, 2020) as a period; else None."""
    plain = plain_text(text)
    period = re.search(r"(20\d\d)\s*[-–]\s*(20\d\d)", plain)
    year = re.search(r"nam\s+(20\d\d)\b", plain)
    return (int(year[1]) if year else None), ((int(period[1]), int(period[2])) if period else None)
