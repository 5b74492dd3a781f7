"""Text people typed stays text in every spreadsheet the portal writes.

Excel and LibreOffice run a cell that starts with = + - @ as a formula ("=HYPERLINK(…)", "=cmd|' /C calc'!A0"),
also when it comes from a CSV file. The Biểu writer (reports/bieu/sheet.py) and the admin's CSV/XLSX exports
(django-import-export, the formats below, named in settings.EXPORT_FORMATS) both follow this module.
import-export's own IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT is not used: it turns every XLSX value into text
(numbers too, and empty cells into "None"), and it only drops one leading "=".
"""

from decimal import Decimal, InvalidOperation

from import_export.formats import base_formats

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


class SafeCSV(base_formats.CSV):
    """CSV whose formula-like text is prefixed with an apostrophe, the form spreadsheets show as text."""

    def export_data(self, dataset, **kwargs):
        for index, row in enumerate(list(dataset)):
            if any(is_formula_like(cell) for cell in row):
                dataset[index] = [f"'{cell}" if is_formula_like(cell) else cell for cell in row]
        return super().export_data(dataset, **kwargs)


class SafeXLSX(base_formats.XLSX):
    """XLSX whose text cells are text: the exact words typed, never a formula; numbers and dates keep their type."""

    def export_data(self, dataset, **kwargs):
        from io import BytesIO

        from openpyxl import Workbook

        workbook = Workbook()
        sheet = workbook.active
        sheet.title = (dataset.title or "Export")[:31]
        if dataset.headers:
            sheet.append([str(h) for h in dataset.headers])
            sheet.freeze_panes = "A2"
        for row in dataset:
            sheet.append([None if cell is None else cell for cell in row])
            for cell in sheet[sheet.max_row]:
                if is_formula_like(cell.value):
                    cell.data_type = "s"
                    cell.quotePrefix = True
        stream = BytesIO()
        workbook.save(stream)
        return stream.getvalue()


# import-export hands native values (numbers, dates) only to the formats in this list, compared by exact type; it
# has no other way to declare a binary format, so ours joins the list.
base_formats.BINARY_FORMATS.append(SafeXLSX)
