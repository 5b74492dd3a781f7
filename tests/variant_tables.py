"""Tables typed in Excel as tests write them: an optional title row, the header row, then one row per line — a
province's own threshold table, a criteria set's catalogue."""

import io

import openpyxl

HEADER = ["Mã chỉ tiêu", "Ngưỡng", "Vùng", "Năm", "Ghi chú"]


def sheet_table(*rows, header, title=None):
    """The table as an .xlsx in memory, read from its start."""
    book = openpyxl.Workbook()
    sheet = book.active
    if title:
        sheet.append([title])
    sheet.append(header)
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    return buffer


def variant_table(*rows, header=HEADER):
    return sheet_table(*rows, header=header)
