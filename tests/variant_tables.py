"""A province's own threshold table (Excel) as tests write it: the header row, then one row per threshold."""

import io

import openpyxl

HEADER = ["Mã chỉ tiêu", "Ngưỡng", "Vùng", "Năm", "Ghi chú"]


def variant_table(*rows, header=HEADER):
    """The table as an .xlsx in memory, read from its start."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    return buffer
