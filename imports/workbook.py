"""Reading any workbook an office sends — .xlsx, .xls, .ods or .csv — once, into plain cells.

The file is checked by its content, not its name, with the limits and refusals of the Biểu import
(reports.bieu_import): an encrypted, macro-enabled or externally linked workbook, a zip bomb, or more rows or cells
than NTM_IMPORT_MAX_ROWS / NTM_IMPORT_MAX_CELLS is refused whole with a Vietnamese message. python-calamine reads
every spreadsheet format (cached values of formulas); for .xlsx the sheet's XML also says which cells hold a
formula and which are formatted as a percentage, so that 0,903 shown as "90,3%" is read as 90,3.

What comes out is JSON, kept with the upload (reports.ImportUpload) so no later step opens the file again:
{"format": "xlsx", "sheets": [{"name", "hidden", "rows": [[row number, [values], {"f": [cols], "p": [cols]}]],
"merged": [[r0, c0, r1, c1]]}]} — rows and columns numbered from 1, empty rows left out.
"""

import csv
import datetime
import io
import math
import posixpath
import unicodedata
import zipfile

from django.conf import settings
from django.utils.translation import gettext as _
from python_calamine import CalamineWorkbook

from ntm_portal.spreadsheets import IMPORT_MAX_BYTES, IMPORT_MAX_UNPACKED, ImportRefused, check_parts, limit_refusal

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
FORMATS = ("xlsx", "xls", "ods", "csv")


def _utf16(name):
    return name.encode("utf-16-le")


def sniff(data):
    """The format of the bytes: "xlsx", "xls", "ods" or "csv"; ImportRefused for anything else or unsafe."""
    if not data:
        raise ImportRefused(_("Tệp rỗng."))
    if data.startswith(OLE2_MAGIC):
        # An encrypted .xlsx is an OLE container holding the encrypted package; an .xls is one holding "Workbook".
        if _utf16("EncryptedPackage") in data or _utf16("EncryptionInfo") in data:
            raise ImportRefused(
                _("Tệp Excel được đặt mật khẩu; hãy bỏ mật khẩu (Tệp → Thông tin → Bảo vệ) rồi tải lên lại.")
            )
        if _utf16("_VBA_PROJECT") in data or _utf16("VBA") in data and _utf16("dir") in data:
            raise _macro()
        return "xls"
    if data.startswith(b"PK\x03\x04"):
        return _zip_format(data)
    if b"\x00" in data[:4096]:
        raise ImportRefused(_("Tệp không phải là bảng tính (.xlsx, .xls, .ods hoặc .csv)."))
    return "csv"


def _macro():
    return ImportRefused(
        _("Tệp có chứa macro (như .xlsm); cổng không nhận tệp có macro. Hãy lưu lại dưới dạng .xlsx rồi tải lên.")
    )


def _zip_format(data):
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            names = {info.filename for info in infos}
            unpacked = sum(info.file_size for info in infos)
            mimetype = archive.open("mimetype").read(100) if "mimetype" in names else b""
    except (zipfile.BadZipFile, OSError, KeyError):
        raise ImportRefused(_("Tệp bảng tính bị hỏng, không mở được."))
    if unpacked > IMPORT_MAX_UNPACKED:
        raise ImportRefused(_("Tệp Excel quá lớn sau khi giải nén."))
    lowered = {name.lower() for name in names}
    if any(name.rsplit("/", 1)[-1] == "vbaproject.bin" for name in lowered) or any(
        name.startswith("basic/") and name.endswith(".xml") and "script" not in name for name in lowered
    ):
        raise _macro()
    if any(name.startswith("xl/externallinks/") for name in lowered):
        raise ImportRefused(
            _(
                "Tệp có liên kết tới tệp Excel khác (liên kết ngoài); số liệu có thể chưa cập nhật. Hãy dán giá trị "
                "(Dán đặc biệt → Giá trị), ngắt liên kết (Dữ liệu → Sửa liên kết) rồi tải lên lại."
            )
        )
    if mimetype.strip() == ODS_MIMETYPE:
        return "ods"
    if "xl/workbook.xml" in names:
        check_parts(io.BytesIO(data))
        return "xlsx"
    raise ImportRefused(_("Tệp không phải là bảng tính (.xlsx, .xls, .ods hoặc .csv)."))


def _plain(value):
    """A cell value as JSON keeps it; dates as dd/mm/yyyy text, empty text as None."""
    if value is None or value == "":
        return None
    if isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return int(value) if value.is_integer() and abs(value) < 1e15 else value
    if isinstance(value, datetime.datetime | datetime.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, str):
        return value.strip() or None
    return str(value)


class _Counter:
    """Rows and cells read so far, refused above the settings' limits."""

    def __init__(self):
        self.rows = self.cells = 0
        # Read once per file, not once per row (each read goes through the settings' lazy object).
        self.max_rows, self.max_cells = settings.NTM_IMPORT_MAX_ROWS, settings.NTM_IMPORT_MAX_CELLS

    def add(self, width):
        self.rows += 1
        self.cells += width
        if self.rows > self.max_rows:
            raise limit_refusal("rows", self.max_rows)
        if self.cells > self.max_cells:
            raise limit_refusal("cells", self.max_cells)


def _native(value):
    """A cell value as the sheet holds it (numbers, dates, text as typed), for django-import-export's widgets: a
    whole number as an int, as openpyxl reads it; empty text as None."""
    if value == "":
        return None
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    return value


def _rows(values_by_row, counter, marks=None, value=_plain):
    rows = []
    for number, values in enumerate(values_by_row, start=1):
        counter.add(len(values))
        values = [value(v) for v in values]
        while values and values[-1] is None:
            values.pop()
        if not values:
            continue
        row = [number, values]
        if marks and number in marks:
            row.append(marks[number])
        rows.append(row)
    return rows


def read(data, *, file_name=""):
    """Every sheet of the workbook in `data` (bytes) as kept cells; ImportRefused when the file is refused."""
    return _read(data, file_name=file_name, value=_plain, marked=True)


# What each of the admin's import formats (ntm_portal.spreadsheets) takes, by the file's content.
SPREADSHEETS = ("xlsx", "xls", "ods")


def dataset(data, *, kinds=SPREADSHEETS):
    """The first visible sheet of `data` as a tablib Dataset, for django-import-export (the admin's imports): the
    file checked and refused as `read` does (size, zip bomb, macros, links, the row and cell limits), read by
    python-calamine — tablib's own reader, openpyxl, took 1.5 s of a 10,000-row workbook and checked nothing. The
    cells as the sheet holds them: a date stays a date (as text, "05/03/2025", import-export's DateWidget would try
    month first). Its first row is the headings (`heading_row`: their row in the file); empty rows below it are
    kept, so that every row keeps its place and the admin names it by its row number in the file."""
    import tablib

    book = _read(data, file_name="", value=_native, marked=False)
    if book["format"] not in kinds:
        if "csv" in kinds:
            raise ImportRefused(_("Tệp không phải là tệp CSV; hãy chọn đúng định dạng của tệp."))
        raise ImportRefused(_("Tệp không phải là bảng tính (.xlsx, .xls hoặc .ods); hãy chọn đúng định dạng của tệp."))
    sheet = next((s for s in book["sheets"] if not s["hidden"]), book["sheets"][0])
    if not sheet["rows"]:
        return tablib.Dataset()
    (first, headings, *_marks), *rows = sheet["rows"]
    width = max(len(values) for _number, values, *_marks in sheet["rows"])
    headers = [("" if h is None else str(h).strip()) for h in headings] + [""] * (width - len(headings))
    table = []
    for number, values, *_marks in rows:
        table += [[None] * width] * (number - first - len(table) - 1)
        table.append(values + [None] * (width - len(values)))
    dataset = tablib.Dataset(*table, headers=headers)
    # ImportRowsMixin adds it to import-export's count of rows under the headings.
    dataset.heading_row = first
    return dataset


def _read(data, *, file_name, value, marked):
    if len(data) > IMPORT_MAX_BYTES:
        raise ImportRefused(_("Tệp quá lớn: tối đa %(mb)s MB.") % {"mb": IMPORT_MAX_BYTES // (1024 * 1024)})
    kind = sniff(data)
    counter = _Counter()
    if kind == "csv":
        return {"format": kind, "file_name": file_name, "sheets": [_csv_sheet(data, file_name, counter)]}
    workbook = _open(data)
    marks = _xlsx_marks(data) if marked and kind == "xlsx" else {}
    try:
        sheets = [
            _sheet(workbook, index, meta, counter, marks.get(index), value)
            for index, meta in enumerate(workbook.sheets_metadata)
            if "WorkSheet" in str(meta.typ)
        ]
    except ImportRefused:
        raise
    except Exception as exc:
        raise ImportRefused(_("Không đọc được tệp bảng tính: tệp bị hỏng hoặc không đúng định dạng.")) from exc
    finally:
        workbook.close()
    if not sheets:
        raise ImportRefused(_("Tệp không có trang tính nào."))
    return {"format": kind, "file_name": file_name, "sheets": sheets}


def _open(data):
    try:
        return CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # calamine raises its own kinds, and PasswordError for an encrypted .xls
        if "password" in str(exc).lower() or type(exc).__name__ == "PasswordError":
            raise ImportRefused(_("Tệp Excel được đặt mật khẩu; hãy bỏ mật khẩu rồi tải lên lại.")) from exc
        raise ImportRefused(_("Không đọc được tệp bảng tính: tệp bị hỏng hoặc không đúng định dạng.")) from exc


def _sheet(workbook, index, meta, counter, marks, value):
    """One worksheet's kept cells, merged ranges and visibility; refused above the row or cell limit."""
    sheet = workbook.get_sheet_by_index(index)
    if sheet.total_height > settings.NTM_IMPORT_MAX_ROWS:
        raise limit_refusal("rows", settings.NTM_IMPORT_MAX_ROWS)
    if sheet.total_height * sheet.total_width > settings.NTM_IMPORT_MAX_CELLS:
        raise limit_refusal("cells", settings.NTM_IMPORT_MAX_CELLS)
    rows = _rows(sheet.to_python(skip_empty_area=False), counter, marks, value)
    merged = [[r0 + 1, c0 + 1, r1 + 1, c1 + 1] for (r0, c0), (r1, c1) in (sheet.merged_cell_ranges or [])]
    hidden = "Visible" not in str(meta.visible)
    return {"name": meta.name, "hidden": hidden, "rows": rows, "merged": merged}


def _csv_sheet(data, file_name, counter):
    for encoding in ("utf-8-sig", "cp1258", "latin-1"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    # Windows-1258 writes most Vietnamese letters as a base letter and a tone mark ("a" + "◌̃" for "ã"): composed
    # again, as typed text is, so that a name read from the file is the name stored and searched for.
    text = unicodedata.normalize("NFC", text)
    # Only the separator is guessed (Excel writes ";" where the list separator is a comma); quoting is Excel's. The
    # sniffer's other guesses were wrong on ordinary files: no doubled quotes ("vững mạnh, rộng khắp" quoted inside
    # a name put every later cell of the row one column to the right), or ' as the quote character.
    try:
        delimiter = csv.Sniffer().sniff(text[:4096], delimiters=",;\t").delimiter
    except csv.Error:
        delimiter = ","
    rows = _rows(csv.reader(io.StringIO(text), csv.excel, delimiter=delimiter), counter)
    # Text read from a .csv stays text: "90,3" is read as a Vietnamese number later, like a typed cell.
    name = posixpath.basename(file_name).rsplit(".", 1)[0] or "CSV"
    return {"name": name, "hidden": False, "rows": rows, "merged": []}


# ---------------------------------------------------------------- formulas and percentages in an .xlsx


def _xml(archive, name):
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    with archive.open(name) as part:
        return etree.parse(part, parser).getroot()


def _local(tag):
    return tag.rsplit("}", 1)[-1]


def _percent_styles(archive, names):
    """Indexes of the cell styles whose number format shows a percentage (built-in 9 and 10, or a custom %)."""
    if "xl/styles.xml" not in names:
        return set()
    root = _xml(archive, "xl/styles.xml")
    percent_formats = {9, 10}
    for element in root.iter():
        if _local(element.tag) == "numFmt" and "%" in (element.get("formatCode") or ""):
            percent_formats.add(int(element.get("numFmtId", "-1")))
    styles = set()
    for element in root.iter():
        if _local(element.tag) == "cellXfs":
            for index, xf in enumerate(x for x in element if _local(x.tag) == "xf"):
                if int(xf.get("numFmtId", "0")) in percent_formats:
                    styles.add(str(index))
    return styles


def _sheet_parts(archive, names):
    """The worksheet part of each sheet, in workbook order."""
    workbook = _xml(archive, "xl/workbook.xml")
    rels = _xml(archive, "xl/_rels/workbook.xml.rels") if "xl/_rels/workbook.xml.rels" in names else None
    targets = {}
    if rels is not None:
        for rel in rels:
            target = rel.get("Target") or ""
            path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
            targets[rel.get("Id")] = path
    parts = []
    for element in workbook.iter():
        if _local(element.tag) == "sheet":
            rid = next((v for k, v in element.attrib.items() if _local(k) == "id"), None)
            parts.append(targets.get(rid))
    return parts


def _column_number(reference):
    number = 0
    for char in reference:
        if not char.isalpha():
            break
        number = number * 26 + ord(char.upper()) - 64
    return number


def _xlsx_marks(data):
    """{sheet index: {row: {"f": [formula columns], "p": [percent columns]}}} of an .xlsx; {} if unreadable."""
    from lxml import etree

    found = {}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            percent = _percent_styles(archive, names)
            for index, part in enumerate(_sheet_parts(archive, names)):
                if part not in names:
                    continue
                marks = found[index] = {}
                with archive.open(part) as stream:
                    for _event, cell in etree.iterparse(stream, tag="{*}c", resolve_entities=False):
                        formula = any(_local(child.tag) == "f" for child in cell)
                        is_percent = cell.get("s") in percent
                        if formula or is_percent:
                            reference = cell.get("r") or ""
                            row = int("".join(ch for ch in reference if ch.isdigit()) or 0)
                            entry = marks.setdefault(row, {})
                            column = _column_number(reference)
                            if formula:
                                entry.setdefault("f", []).append(column)
                            if is_percent:
                                entry.setdefault("p", []).append(column)
                        cell.clear()
    except Exception:  # the marks are a help; calamine has read the values already
        return {}
    return found
