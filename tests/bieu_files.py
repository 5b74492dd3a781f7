"""Biểu workbooks as tests handle them: exported into memory, edited as a person would in Excel, searched by row."""

import io

from openpyxl import load_workbook

from reports import bieu
from reports.bieu.sheet import INFO_SHEET


def exported(**kwargs):
    """The workbook `bieu.export` writes for these arguments, in memory, read from its start."""
    out = io.BytesIO()
    bieu.export(out, **kwargs)
    out.seek(0)
    return out


def edited(data, edit):
    """The workbook after `edit(sheet, info sheet)` changed it, as a person would in Excel, read from its start."""
    wb = load_workbook(data)
    edit(wb.worksheets[0], wb[INFO_SHEET])
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    return out


def row_of(ws, column, value):
    """The number of the first row whose cell in `column` holds `value`."""
    for row in ws.iter_rows():
        if row[column - 1].value == value:
            return row[0].row
    raise AssertionError(f"{value!r} not in column {column}")
