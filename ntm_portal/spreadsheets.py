"""Spreadsheets in and out: text people typed stays text in every spreadsheet the portal writes, and a workbook
people upload is checked (size, zip bomb, limits) before anything reads it — for every import (Biểu, the wizard,
criteria sets, commune groups, and the admin's imports: the formats below, named in settings.IMPORT_FORMATS, read
through imports.workbook; their resources' rows and columns as users see them: ImportRowsMixin, YesNoWidget,
VnDateWidget).

Text stays text:

Excel and LibreOffice run a cell that starts with = + - @ as a formula ("=HYPERLINK(…)", "=cmd|' /C calc'!A0"),
also when it comes from a CSV file. The Biểu writer (reports/bieu/sheet.py) and the admin's CSV/XLSX exports
(django-import-export, the formats below, named in settings.EXPORT_FORMATS) both follow this module.
import-export's own IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT is not used: it turns every XLSX value into text
(numbers too, and empty cells into "None"), and it only drops one leading "=".
"""

import zipfile
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from functools import cached_property

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from import_export import results, widgets
from import_export.formats import base_formats
from import_export.forms import SelectableFieldsExportForm

from ntm_portal.vietnamese import NO_MARKS, YES_MARKS, plain_text, vn_number

# Excel and LibreOffice treat a cell typed with these first characters as a formula or a sign; tab and carriage
# return are on OWASP's list for CSV because some programs strip them before looking.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def is_formula_like(value) -> bool:
    """A string a spreadsheet would run; a plain number such as "-5" or "+1,5" is not."""
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return False
    try:
        Decimal(value.replace(",", "."))
    except InvalidOperation:
        return True
    return False


class _CheckedImport:
    """The admin's imports (django-import-export) read a file as every other import of the portal does:
    imports.workbook.dataset, the file checked first (size, zip bomb, macros, external links, rows and cells) and
    read by python-calamine. `kinds` are the file contents the format takes, whatever the file is named."""

    kinds = ()

    def is_binary(self):
        # The bytes as uploaded: the reader finds the CSV's encoding itself (UTF-8, else Windows-1258).
        return True

    def get_read_mode(self):
        return "rb"

    def create_dataset(self, in_stream):
        from imports import workbook  # an app's module: imported when a file is read, not with the settings

        return workbook.dataset(in_stream, kinds=self.kinds)  # bytes: get_read_mode is "rb"


class ColumnsExportForm(SelectableFieldsExportForm):
    """The admin's export form: each column offered by the heading the file gives it ("Số kế hoạch"), not as
    import-export's title of the field's code name beside it ("Plan Number (Số kế hoạch)")."""

    def _get_field_label(self, resource, field_name):
        field = resource.fields.get(field_name)
        return field.column_name if field else field_name


class SpreadsheetAdmin:
    """For a ModelAdmin with django-import-export's import and export. A refused file says why, as the portal's other
    imports say it, instead of import-export's "ImportRefused encountered while trying to read file". An export
    holds at most NTM_ADMIN_EXPORT_MAX_ROWS rows: a whole country's results (950,000) would run for minutes inside
    the request, past the server's timeout, and fill its memory; the administrator is asked to filter first."""

    export_form_class = ColumnsExportForm

    def add_data_read_fail_error_to_form(self, form, e):
        if isinstance(e, ImportRefused):
            form.add_error("import_file", str(e))
        else:
            super().add_data_read_fail_error_to_form(form, e)

    def export_admin_action(self, request, queryset):
        refusal = _too_many_to_export(queryset)
        if refusal:
            self.message_user(request, refusal, messages.ERROR)
            return None
        return super().export_admin_action(request, queryset)

    def get_export_data(self, file_format, request, queryset, **kwargs):
        refusal = _too_many_to_export(queryset)
        if refusal:
            raise ValueError(refusal)  # import-export shows it above the export form
        return super().get_export_data(file_format, request, queryset, **kwargs)

    def get_valid_export_item_pks(self, request):
        # The rows ticked on the list; import-export's default reads every id of the table to check them against.
        return self.model._default_manager.filter(pk__in=request.POST.getlist("export_items")).values_list(
            "pk", flat=True
        )


def _too_many_to_export(queryset):
    limit = settings.NTM_ADMIN_EXPORT_MAX_ROWS
    count = queryset.count()
    if count <= limit:
        return None
    return _(
        "Danh sách đang chọn có %(count)s dòng, quá %(limit)s dòng một lần xuất. Hãy lọc theo năm, tỉnh hoặc bộ tiêu "
        "chí rồi xuất lại."
    ) % {"count": vn_number(count), "limit": vn_number(limit)}


class _FileError(results.Error):
    """A file-wide error of an admin import: a refusal in the portal's words is shown without a traceback."""

    @cached_property
    def traceback(self):
        return "" if isinstance(self.error, ImportRefused) else super().traceback


def _as_typed(value):
    if value is None:
        return ""
    return str(value) if type(value) is int else value


def _file_rows_result(result_class, offset):
    """import-export's Result, its rows numbered as in the file (`offset` rows above the first it counts)."""
    if not offset:
        return result_class

    class FileRowsResult(result_class):
        def append_invalid_row(self, number, row, validation_error):
            # The row's cells as typed: a whole number as its digits, as the sheet shows it (the page would print
            # the year 2025 of a workbook as the number 2.025), an empty cell empty (not "None").
            shown = {column: _as_typed(value) for column, value in row.items()}
            super().append_invalid_row(number + offset, shown, validation_error)

        def append_error_row(self, number, row, errors):
            super().append_error_row(number + offset, row, errors)

    return FileRowsResult


def _blank(value):
    return value is None or (isinstance(value, str) and not value.strip())


class ImportRowsMixin:
    """For a django-import-export Resource, its rows as the user sees them in the sheet: a row with nothing in any
    cell (a blank line between groups of rows) is left out, instead of failing the whole import with an error about
    a missing field; a row is named by its row number in the file (import-export counts from the first row under
    the headings) and its errors by the column heading ("Giá trị"), not by the model's field ("value")."""

    # Fields whose cell a row must fill (its own words, not a database error about a missing value).
    required_fields = ()
    # How many rows of the file lie above the first row import-export counts: a file's heading row (its number in
    # the file, imports.workbook.dataset), so that "Dòng 4" is row 4 in Excel; 0 for a Dataset built in code.
    row_offset = 0

    def import_data(self, dataset, **kwargs):
        self.row_offset = getattr(dataset, "heading_row", 0)
        return super().import_data(dataset, **kwargs)

    def get_result_class(self):
        return _file_rows_result(super().get_result_class(), self.row_offset)

    def get_error_result_class(self):
        return _FileError

    def before_import(self, dataset, **kwargs):
        # import-export's own refusal is English and cannot be translated (it formats the names into the message).
        headers = set(dataset.headers or ())
        missing = [self.fields[name].column_name for name in self.get_import_id_fields()]
        missing = [column for column in missing if column not in headers]
        if missing:
            raise ImportRefused(
                _("Tệp thiếu cột %(columns)s. Hãy tải mẫu bằng “Xuất ra tệp” rồi điền vào mẫu đó.")
                % {"columns": ", ".join(f"“{column}”" for column in missing)}
            )
        super().before_import(dataset, **kwargs)

    def import_row(self, row, instance_loader, **kwargs):
        if "row_number" in kwargs:
            kwargs["row_number"] += self.row_offset  # the number a later error of the row is told by
        if all(_blank(value) for value in row.values()):
            skipped = self.get_row_result_class()()
            skipped.import_type = skipped.IMPORT_TYPE_SKIP
            return skipped
        missing = [name for name in self.required_fields if _blank(row.get(self.fields[name].column_name))]
        if missing:
            result = self.get_row_result_class()()
            result.import_type = result.IMPORT_TYPE_INVALID
            result.validation_error = ValidationError({name: _("Ô này không được để trống.") for name in missing})
        else:
            result = super().import_row(row, instance_loader, **kwargs)
        error = result.validation_error
        if error is not None and hasattr(error, "error_dict"):
            headings = {f.attribute: f.column_name for f in self.fields.values() if f.attribute}
            result.validation_error = ValidationError(
                {headings.get(name, name): errors for name, errors in error.error_dict.items()}
            )
        return result


class KnownLookup:
    """For a ForeignKeyWidget: answer from what the resource read for the whole file in one query (`known`: key ->
    the matching objects, filled by the widget's `read_all(rows, column)`), instead of one query per row; without
    it, or for a row with no key (`known_key` None), ask the database as before."""

    known = None

    def get_instance_by_lookup_fields(self, value, row, **kwargs):
        key = self.known_key(value, row)
        if self.known is None or key is None:
            return super().get_instance_by_lookup_fields(value, row, **kwargs)
        found = self.known.get(key, ())
        if not found:
            raise self.model.DoesNotExist
        if len(found) > 1:
            raise self.model.MultipleObjectsReturned
        return found[0]


class YearWidget(widgets.IntegerWidget):
    """A year, written as a year: 2024, not the number 2.024 that IntegerWidget writes with the thousands
    separator in the previews and the CSV exports."""

    def clean(self, value, row=None, **kwargs):
        try:
            return super().clean(value, row, **kwargs)
        except (ValueError, ArithmeticError):
            raise ValueError(_("“%(value)s” không phải là năm (viết như 2024).") % {"value": value}) from None

    def render(self, value, obj=None, **kwargs):
        if kwargs.get("force_native_type"):
            return value
        return "" if value is None else str(value)


class YesNoWidget(widgets.BooleanWidget):
    """A yes/no column of the admin's imports and exports: written "Có" / "Không" (a workbook keeps True / False);
    read from the marks people type ("Có", "Không", "Đạt", "x", "✓", 1, 0, TRUE…), and a word it does not know is an
    error on its row — import-export's own widget read anything but 1 / true as a silent "no"."""

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, bool):
            return value
        if value is None or not str(value).strip():
            return None
        plain = plain_text(value)
        if plain in YES_MARKS:
            return True
        if plain in NO_MARKS:
            return False
        raise ValueError(_("“%(value)s” không phải là Có / Không: ghi Có, Không, x, 1 hoặc 0.") % {"value": value})

    def render(self, value, obj=None, **kwargs):
        if kwargs.get("force_native_type"):
            return value
        if value is None:
            return ""
        return _("Có") if value else _("Không")


class VnDateWidget(widgets.DateWidget):
    """A date column of the admin's imports and exports: read as Vietnamese write it (05/03/2025 is 5 March, never
    3 May as import-export read it by Django's default input formats), or ISO (2025-03-05); written dd/mm/yyyy (a
    workbook keeps the date itself)."""

    FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y")

    def __init__(self):
        super().__init__()
        self.formats = self.FORMATS

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, str):
            value = value.strip()
        try:
            return super().clean(value, row, **kwargs)
        except ValueError:
            raise ValueError(
                _("“%(value)s” không phải là ngày: ghi ngày/tháng/năm, như 01/07/2025.") % {"value": value}
            ) from None


class SafeCSV(_CheckedImport, base_formats.CSV):
    """CSV whose formula-like text is prefixed with an apostrophe, the form spreadsheets show as text."""

    kinds = ("csv",)

    def export_data(self, dataset, **kwargs):
        for index, row in enumerate(list(dataset)):
            if any(is_formula_like(cell) for cell in row):
                dataset[index] = [f"'{cell}" if is_formula_like(cell) else cell for cell in row]
        return super().export_data(dataset, **kwargs)


class SafeXLSX(_CheckedImport, base_formats.XLSX):
    """XLSX whose text cells are text: the exact words typed, never a formula; numbers and dates keep their type.
    An import takes any workbook (.xlsx, .xls, .ods)."""

    kinds = ("xlsx", "xls", "ods")

    def export_data(self, dataset, **kwargs):
        """Streamed (write-only): looking up each appended row by `max_row`, which counts every cell written so far,
        made a 20,000-row export take 2.5 minutes, beyond the server's 120 s."""
        from io import BytesIO

        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet((dataset.title or "Export")[:31])

        def written(value):
            if not is_formula_like(value):
                return value
            text = WriteOnlyCell(sheet, value=value)
            text.data_type = "s"
            text.quotePrefix = True
            return text

        if dataset.headers:
            sheet.freeze_panes = "A2"
            sheet.append([str(h) for h in dataset.headers])
        for row in dataset:
            sheet.append([written(value) for value in row])
        stream = BytesIO()
        workbook.save(stream)
        return stream.getvalue()


# import-export hands native values (numbers, dates) only to the formats in this list, compared by exact type; it
# has no other way to declare a binary format, so ours joins the list.
base_formats.BINARY_FORMATS.append(SafeXLSX)


# ---------------------------------------------------------------- uploaded workbooks, checked before they are read

IMPORT_MAX_BYTES = 10 * 1024 * 1024
# An .xlsx is a zip; a small file that unpacks to gigabytes would exhaust the web process.
IMPORT_MAX_UNPACKED = 200 * 1024 * 1024


class ImportRefused(Exception):
    """The whole file is refused; the message says why, in Vietnamese."""


def check_upload(upload):
    """Refuse anything that is not an .xlsx workbook of reasonable size, by its content, not its name."""
    if upload.size == 0:
        raise ImportRefused(_("Tệp rỗng."))
    if upload.size > IMPORT_MAX_BYTES:
        raise ImportRefused(_("Tệp quá lớn: tối đa %(mb)s MB.") % {"mb": IMPORT_MAX_BYTES // (1024 * 1024)})
    upload.seek(0)
    head = upload.read(4)
    upload.seek(0)
    if head != b"PK\x03\x04":
        raise ImportRefused(
            _("Tệp không phải là tệp Excel (.xlsx). Hãy dùng tệp Biểu đã xuất từ cổng và lưu dưới dạng .xlsx.")
        )
    try:
        with zipfile.ZipFile(upload) as archive:
            names = set(archive.namelist())
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError):
        raise ImportRefused(_("Tệp Excel bị hỏng, không mở được."))
    finally:
        upload.seek(0)
    if "xl/workbook.xml" not in names:
        raise ImportRefused(_("Tệp không phải là tệp Excel (.xlsx)."))
    if unpacked > IMPORT_MAX_UNPACKED:
        raise ImportRefused(_("Tệp Excel quá lớn sau khi giải nén."))


def limit_refusal(kind, limit):
    """The refusal of a workbook over NTM_IMPORT_MAX_ROWS / NTM_IMPORT_MAX_CELLS ("rows", "cells", or "size")."""
    if kind == "size":
        message = _(
            "Tệp quá lớn: cổng chỉ nhập biểu tối đa %(rows)s dòng và %(limit)s ô mỗi lần. Hãy xóa các dòng, cột "
            "thừa hoặc chia biểu thành nhiều tệp."
        )
        return ImportRefused(message % {"rows": vn_number(settings.NTM_IMPORT_MAX_ROWS), "limit": vn_number(limit)})
    if kind == "rows":
        message = _(
            "Tệp có quá nhiều dòng: cổng chỉ nhập biểu tối đa %(limit)s dòng mỗi lần. Hãy xóa các dòng thừa hoặc "
            "chia biểu thành nhiều tệp."
        )
    else:
        message = _(
            "Tệp có quá nhiều ô: cổng chỉ nhập biểu tối đa %(limit)s ô mỗi lần. Hãy xóa các dòng, cột thừa hoặc "
            "chia biểu thành nhiều tệp."
        )
    return ImportRefused(message % {"limit": vn_number(limit)})


# The most XML a sheet within NTM_IMPORT_MAX_CELLS needs (a cell is a few dozen bytes): openpyxl reads a sheet
# that does not declare its size whole just to size it, and the shared strings whole, before a row is read.
_BYTES_PER_CELL = 100


def check_parts(source):
    """Refuse, from the zip's directory alone, sheets and shared strings too large for the limits."""
    cap = settings.NTM_IMPORT_MAX_CELLS * _BYTES_PER_CELL
    try:
        with zipfile.ZipFile(source) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise ImportRefused(_("Tệp Excel bị hỏng, không mở được.")) from exc
    finally:
        if hasattr(source, "seek"):
            source.seek(0)
    for part in parts:
        name = part.filename
        sheet = name.startswith("xl/worksheets/") and name.endswith(".xml")
        if (sheet or name == "xl/sharedStrings.xml") and part.file_size > cap:
            raise limit_refusal("size", settings.NTM_IMPORT_MAX_CELLS)


@contextmanager
def unreadable_refused():
    """Whatever openpyxl raises while opening or streaming a workbook (it raises many kinds on a damaged or
    foreign file) is refused with the one message people see; an ImportRefused passes as it is."""
    try:
        yield
    except ImportRefused:
        raise
    except Exception as exc:
        raise ImportRefused(_("Không đọc được tệp Excel: tệp bị hỏng hoặc không phải .xlsx.")) from exc


def sheet_rows(ws, value):
    """[[row number, [values], formula columns?]] of an openpyxl worksheet's non-empty rows, each cell read by
    `value(cell)`; refused above NTM_IMPORT_MAX_ROWS / NTM_IMPORT_MAX_CELLS. Trailing blank cells are dropped, and
    the formula columns are there only when the row has any."""
    max_rows, max_cells = settings.NTM_IMPORT_MAX_ROWS, settings.NTM_IMPORT_MAX_CELLS
    # The size the sheet declares is refused before a row is read; a size that lies is caught while streaming.
    declared_rows, declared_columns = ws.max_row, ws.max_column
    if declared_rows and declared_rows > max_rows:
        raise limit_refusal("rows", max_rows)
    if declared_rows and declared_columns and declared_rows * declared_columns > max_cells:
        raise limit_refusal("cells", max_cells)
    ws.reset_dimensions()
    rows, cells = [], 0
    for number, row in enumerate(ws.iter_rows(), start=1):
        if number > max_rows:
            raise limit_refusal("rows", max_rows)
        cells += len(row)
        if cells > max_cells:
            raise limit_refusal("cells", max_cells)
        values = [value(cell) for cell in row]
        while values and (values[-1] is None or values[-1] == ""):
            values.pop()
        if not values:
            continue
        formulas = [column for column, cell in enumerate(row, start=1) if getattr(cell, "data_type", "") == "f"]
        rows.append([number, values, formulas] if formulas else [number, values])
    return rows
