"""Reading the Biểu annexes back: an officer fills the exported workbook and uploads it.

Biểu 01 of a commune brings back indicator results (the "Kết quả" column); Biểu 03 brings back plan items
with their money per funding source. The workbook is read once, at upload, streaming and within the limits
NTM_IMPORT_MAX_ROWS and NTM_IMPORT_MAX_CELLS; its cells are kept with the upload (ImportUpload), so the dry run,
its refreshes and the confirmation never open the file again.

Reading never writes: `read()` lists what would be created or changed and every cell it cannot accept.
`preview()` then checks every change as the services would: the few results of a Biểu 01 are written through
the services inside a transaction that is rolled back; the items of a Biểu 03 (thousands in a district's plan)
are validated in memory by the models' own checks, without a write. `apply()` writes everything in one
transaction or nothing, and `confirm()` does it at most once per upload.

A file of the wrong kind, of another area or year, or with a column missing is refused whole (ImportRefused)
before any row is read.
"""

import datetime
import hashlib
import math
import re
import secrets
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Min
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from areas import timeline
from areas.models import Area, Level
from criteria import evaluation
from criteria.judging import Judge
from criteria.models import CriteriaSet, Criterion, Indicator, IndicatorKind, IndicatorResult, SetLevel
from criteria.results_import import import_indicator_results
from criteria.services import StaleResultError
from ntm_portal.spreadsheets import (
    ImportRefused,
    check_parts,
    check_upload,
    sheet_rows,
    unreadable_refused,
)
from ntm_portal.vietnamese import parse_vn_number, vn_number
from plans import services as plan_services
from plans.models import FundingLine, FundingSource, PlanItem
from reports.bieu.queries import ExportError, criteria_set_for, own_set_level, plan_items_for, plans_for
from reports.bieu.sheet import INFO_AREA_CODE, INFO_AREA_ID, INFO_FORM, INFO_SET, INFO_SHEET, INFO_YEAR
from reports.models import ImportUpload

UPLOAD_LIFETIME = datetime.timedelta(hours=24)
IMPORTABLE = ("01", "03")
_TARGET = re.compile(r"^(?P<title>.*) \(mục tiêu: (?P<target>.*)\)$", re.DOTALL)
_RATIO = re.compile(r"^(?P<num>[^/]+)/(?P<den>[^/(]+?)\s*(\([^)]*\))?$")
_ROMAN = re.compile(r"^[IVXLC]+$")


class AlreadyImported(ImportRefused):
    """The upload was confirmed before (a double click, a second tab): nothing more is written."""

    def __init__(self, upload):
        self.upload = upload
        super().__init__(_("Biểu này đã được ghi; lần xác nhận sau không ghi thêm gì."))


@dataclass(frozen=True)
class BadCell:
    row: int
    column: str  # "E"
    header: str  # "Kết quả"
    value: str
    reason: str


@dataclass
class Change:
    """One row that would be created or changed, with its fields before → after and how to write it."""

    row: int
    label: str
    created: bool
    fields: list  # [(field label, before, after)]
    column: str
    header: str
    # callable(user) raising ValidationError as the write would, without writing (Biểu 03 items)
    check: object = None
    # How the confirmation writes the row, all rows of a file in one go: a Biểu 03 item as
    # plan_services.store_items takes it, or a Biểu 01 result as results_import.import_indicator_results
    # takes it (with the version it was read at, None when there was none).
    item_write: object = None
    result_row: dict | None = None
    read_version: int | None = None

    def signature(self):
        return (self.row, self.label, self.created, tuple(tuple(str(p) for p in f) for f in self.fields))


@dataclass
class Preview:
    form: str
    area: Area
    year: int
    criteria_set: CriteriaSet | None
    changes: list = field(default_factory=list)
    bad_cells: list = field(default_factory=list)
    unchanged: int = 0
    notes: list = field(default_factory=list)

    @property
    def ok(self):
        return not self.bad_cells

    @property
    def fingerprint(self):
        """A digest of the listed changes: confirming checks that the dry run the user saw still holds."""
        text = repr([c.signature() for c in self.changes])
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    @property
    def created_count(self):
        return sum(1 for c in self.changes if c.created)

    @property
    def changed_count(self):
        return sum(1 for c in self.changes if not c.created)


# ---------------------------------------------------------------- the upload, read once, between dry run and confirm


def store_upload(upload, *, user, area):
    """Check an uploaded workbook, read its cells once and keep them for the dry run; returns its random token."""
    check_upload(upload)
    content = parse(upload)
    discard_stale_uploads()
    token = secrets.token_urlsafe(32)
    ImportUpload.objects.create(
        token=token, user=user, area=area, file_name=str(getattr(upload, "name", "") or "")[-255:], content=content
    )
    return token


def _gone():
    return ImportRefused(_("Tệp đã tải lên không còn (đã nhập hoặc đã quá hạn); hãy tải tệp lên lại."))


def stored_upload(token, *, user, area):
    """The upload waiting for confirmation behind `token`: only the user who sent it, for that area, finds it."""
    upload = (
        ImportUpload.objects.of_user(user, area)
        .filter(token=token or "", imported_at__isnull=True, created_at__gte=timezone.now() - UPLOAD_LIFETIME)
        .first()
    )
    if upload is None:
        raise _gone()
    return upload


def discard_upload(token, *, user, area):
    ImportUpload.objects.of_user(user, area).filter(token=token or "", imported_at__isnull=True).delete()


def discard_stale_uploads():
    ImportUpload.objects.stale(timezone.now() - UPLOAD_LIFETIME).delete()


# ---------------------------------------------------------------- reading the workbook once, streaming


def _text(value):
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _plain(value):
    """A cell value as JSON keeps it: text, number, yes/no or nothing; dates and the rest as their text."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return str(value)


# Parts of an Excel number format that are shown as written, not read as format codes: "…", \x and […].
_FORMAT_LITERALS = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]')


def _cell_value(cell):
    """A cell's value as the person who filled it sees it: a number formatted as a percentage (typed "90,5%",
    kept by Excel as 0.905) is that percentage, written "90,5%", so that it is read as 90,5."""
    value = _plain(cell.value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    if "%" not in _FORMAT_LITERALS.sub("", getattr(cell, "number_format", None) or ""):
        return value
    return f"{vn_number((Decimal(str(value)) * 100).quantize(Decimal('0.0001')))}%"


def _info(workbook):
    if INFO_SHEET not in workbook.sheetnames:
        raise ImportRefused(
            _(
                "Tệp không có trang thông tin “%(sheet)s” của Biểu xuất từ cổng. Hãy xuất Biểu từ cổng, điền vào "
                "tệp đó rồi tải lên."
            )
            % {"sheet": INFO_SHEET}
        )
    info = {}
    # The portal writes a handful of lines; anything far below them is not its information.
    for row in workbook[INFO_SHEET].iter_rows(min_row=2, max_row=100, max_col=2, values_only=True):
        if row and row[0]:
            info[_text(row[0])] = _text(row[1] if len(row) > 1 else None)
    return info


def parse(source):
    """The cells of a workbook (a path or an uploaded file), read once and streaming: {"info": …, "rows": …}."""
    check_parts(source)
    with unreadable_refused():  # a damaged sheet shows only as it streams
        workbook = load_workbook(source, read_only=True, data_only=False)
        try:
            info = _info(workbook)
            sheet = next((ws for ws in workbook.worksheets if ws.sheet_state == "visible"), None)
            if sheet is None:
                raise ImportRefused(_("Tệp không có trang biểu nào đang hiện."))
            return {"info": info, "rows": sheet_rows(sheet, _cell_value)}
        finally:
            workbook.close()


class _Row:
    __slots__ = ("number", "values", "formulas")

    def __init__(self, number, values, formulas=()):
        self.number, self.values, self.formulas = number, values, formulas

    def value(self, column):
        return self.values[column - 1] if 0 < column <= len(self.values) else None

    def is_formula(self, column):
        return column in self.formulas


class _Sheet:
    """The kept cells of the Biểu sheet, read like the worksheet they came from."""

    def __init__(self, rows):
        self.rows = [_Row(*row) for row in rows]
        self._by_number = {row.number: row for row in self.rows}

    def row(self, number):
        return self._by_number.get(number) or _Row(number, [])

    def value(self, number, column):
        return self.row(number).value(column)

    def rows_from(self, number):
        return (row for row in self.rows if row.number >= number)


def _content(source):
    if isinstance(source, ImportUpload):
        return source.content
    if isinstance(source, dict):
        return source
    return parse(source)


# ---------------------------------------------------------------- identifying the workbook


def _described(area):
    """A unit told apart from another of the same name: its code and the units above it, nearest first."""
    above = ", ".join(a.full_name for a in reversed(area.ancestors()))
    return (
        _("%(name)s (mã %(code)s, %(above)s)") % {"name": area.full_name, "code": area.code, "above": above}
        if above
        else _("%(name)s (mã %(code)s)") % {"name": area.full_name, "code": area.code}
    )


def _check_year(year, criteria_set):
    if criteria_set is not None:
        if not criteria_set.period_start <= year <= criteria_set.period_end:
            raise ImportRefused(
                _(
                    "Năm %(year)s ghi trong tệp nằm ngoài thời kỳ %(start)s–%(end)s của %(set)s; cổng không nhận "
                    "biểu này. Hãy xuất lại Biểu của đúng năm từ cổng."
                )
                % {
                    "year": year,
                    "start": criteria_set.period_start,
                    "end": criteria_set.period_end,
                    "set": criteria_set.name,
                }
            )
        return
    national = CriteriaSet.objects.national()
    if not national.covering(year).exists():
        span = national.aggregate(first=Min("period_start"), last=Max("period_end"))
        raise ImportRefused(
            _(
                "Năm %(year)s ghi trong tệp không thuộc thời kỳ của bộ tiêu chí nào trên cổng (các năm %(first)s–"
                "%(last)s); cổng không nhận biểu này."
            )
            % {"year": year, "first": span["first"], "last": span["last"]}
        )


def _identify(info, area):
    """Form, year and criteria set named by the workbook, after checking it belongs to `area`."""
    form = info.get(INFO_FORM, "")
    if form not in IMPORTABLE:
        raise ImportRefused(
            _("Tệp là Biểu %(form)s; cổng chỉ nhập lại Biểu 01 (kết quả của xã) và Biểu 03 (nội dung, kinh phí).")
            % {"form": form or "?"}
        )
    code = info.get(INFO_AREA_CODE, "")
    file_id = info.get(INFO_AREA_ID, "")
    named = list(Area.objects.filter(code=code).select_related("province", "district", "commune")) if code else []
    if not named:
        raise ImportRefused(_("Mã đơn vị “%(code)s” ghi trong tệp không có trên cổng.") % {"code": code})
    if area.code != code or file_id != str(area.pk):
        other = next((a for a in named if str(a.pk) == file_id), named[0])
        other_name, area_name = other.full_name, area.full_name
        if other_name == area_name:
            # Two units may share a name: say which one the file is for.
            other_name, area_name = _described(other), _described(area)
        raise ImportRefused(
            _("Tệp này là biểu của %(other)s, không phải của %(area)s. Hãy tải lên đúng trang của đơn vị trong tệp.")
            % {"other": other_name, "area": area_name}
        )
    try:
        year = int(info.get(INFO_YEAR, ""))
    except ValueError:
        raise ImportRefused(_("Trang thông tin của tệp không ghi năm của biểu."))
    set_code = info.get(INFO_SET, "")
    criteria_set = CriteriaSet.objects.filter(code=set_code).first() if set_code else None
    if set_code and criteria_set is None:
        raise ImportRefused(_("Bộ tiêu chí “%(code)s” ghi trong tệp không có trên cổng.") % {"code": set_code})
    _check_year(year, criteria_set)
    return form, year, criteria_set


def _check_title(sheet, *, form_label, title):
    found_form, found_title = _text(sheet.value(5, 1)), _text(sheet.value(6, 1))
    if found_form != form_label or found_title != title.upper():
        raise ImportRefused(
            _("Sai mẫu biểu: ô A5–A6 phải là “%(form)s” và “%(title)s”, trong tệp là “%(found)s”.")
            % {"form": form_label, "title": title.upper(), "found": f"{found_form} / {found_title}".strip(" /")}
        )


def _columns(sheet, required):
    """{heading: column number} from the two heading rows (9 and 10); a required heading missing refuses all."""
    headings = {}
    for number in (9, 10):
        for column, value in enumerate(sheet.row(number).values, start=1):
            text = _text(value)
            if text:
                headings.setdefault(text, column)
    missing = [name for name in required if name not in headings]
    if missing:
        raise ImportRefused(
            _("Thiếu cột %(columns)s ở dòng tiêu đề (dòng 9–10) của biểu.")
            % {"columns": ", ".join(f"“{name}”" for name in missing)}
        )
    return headings


def read(source, *, area):
    """What importing the workbook (an upload, its kept cells or a path) into `area` would do.

    ImportRefused if the file is refused whole."""
    content = _content(source)
    form, year, criteria_set = _identify(content.get("info", {}), area)
    sheet = _Sheet(content.get("rows", []))
    if form == "01":
        return _read_bieu01(sheet, area=area, year=year, criteria_set=criteria_set)
    return _read_bieu03(sheet, area=area, year=year, criteria_set=criteria_set)


def _bad(change, exc):
    reasons = _messages(exc) if isinstance(exc, ValidationError) else [str(exc)]
    return BadCell(change.row, change.column, change.header, change.label, " ".join(reasons))


def preview(source, *, area, user):
    """The dry run: read the kept cells, then check every change as the real write would."""
    found = read(source, area=area)
    if not (found.changes and found.ok):
        return found
    for change in found.changes:
        if change.check is not None:
            try:
                change.check(user)
            except ValidationError as exc:
                found.bad_cells.append(_bad(change, exc))
    rows = [change.result_row for change in found.changes if change.result_row is not None]
    if rows:
        # What only a write can tell (a locked criterion, a numerator above its denominator): written, then undone.
        with transaction.atomic():
            try:
                import_indicator_results(rows=rows, user=user, columns=_RESULT_COLUMNS)
            except ValidationError as exc:
                found.bad_cells += _bad_lines(found.changes, exc)
            transaction.set_rollback(True)
    found.bad_cells.sort(key=lambda bad: bad.row)
    return found


_LINE = re.compile(r"^Dòng (?P<row>\d+)(, cột [^:]+)?: ")


def _bad_lines(changes, exc):
    """The write's refusals ("Dòng 14, cột Kết quả: …") as bad cells of the rows they name."""
    by_row = {change.row: change for change in changes}
    bad = []
    for message in _messages(exc):
        named = _LINE.match(message)
        change = by_row.get(int(named["row"])) if named else None
        change = change or changes[0]
        reason = message[named.end() :] if named else message
        bad.append(BadCell(change.row, change.column, change.header, change.label, reason))
    return bad


@transaction.atomic
def apply(source, *, area, user, fingerprint=None):
    """Write every change of the file in one transaction; refuses whole when any cell is bad."""
    found = read(source, area=area)
    if not found.ok:
        raise ImportRefused(_("Tệp còn ô sai; không ghi gì. Hãy sửa các ô được liệt kê rồi tải lên lại."))
    if fingerprint is not None and fingerprint != found.fingerprint:
        raise ImportRefused(
            _("Dữ liệu trên cổng đã thay đổi kể từ lúc kiểm tra tệp. Hãy xem lại danh sách thay đổi rồi xác nhận.")
        )
    try:
        write_changes(found.changes, user=user)
    except ValidationError as exc:
        raise ImportRefused(" ".join([*_messages(exc), str(_("Không ghi gì."))])) from exc
    except StaleResultError as exc:
        # Someone saved the same result between this confirmation's reading and its writing.
        raise ImportRefused(
            _(
                "Dòng %(row)s: dữ liệu trên cổng vừa thay đổi trong lúc ghi (%(reason)s) Không ghi gì; hãy xem "
                "lại danh sách thay đổi rồi xác nhận."
            )
            % {"row": exc.line, "reason": str(exc)}
        ) from exc
    return found


def write_changes(changes, *, user):
    """Every change in one set-based write each for the results and for the items, with their history: the
    results as read (a result saved since raises StaleResultError), the items at the version read."""
    rows = [change.result_row for change in changes if change.result_row is not None]
    if rows:
        versions = {
            (c.result_row["area"].pk, c.result_row["indicator"].pk, c.result_row["year"]): c.read_version
            for c in changes
            if c.result_row is not None
        }
        import_indicator_results(rows=rows, user=user, columns=_RESULT_COLUMNS, versions=versions)
    items = [change.item_write for change in changes if change.item_write is not None]
    if items:
        plan_services.store_items(user=user, writes=items)


@transaction.atomic
def confirm(token, *, area, user, fingerprint=None):
    """Write an upload's changes, once. Its row stays locked while writing: a second confirmation (a double
    click) waits for the first, then finds the upload written and raises AlreadyImported without writing."""
    upload = (
        ImportUpload.objects.select_for_update()
        .of_user(user, area)
        .filter(token=token or "", created_at__gte=timezone.now() - UPLOAD_LIFETIME)
        .first()
    )
    if upload is None:
        raise _gone()
    if upload.imported_at is not None:
        raise AlreadyImported(upload)
    found = apply(upload, area=area, user=user, fingerprint=fingerprint)
    upload.imported_at = timezone.now()
    upload.content = {}  # written: the cells are not needed any more
    upload.form, upload.year, upload.criteria_set = found.form, found.year, found.criteria_set
    upload.save(update_fields=["imported_at", "content", "form", "year", "criteria_set"])
    return found


def _messages(exc):
    if hasattr(exc, "message_dict"):
        return [m for messages in exc.message_dict.values() for m in messages]
    return exc.messages


# ---------------------------------------------------------------- Biểu 01: indicator results of a commune

HEAD_STT, HEAD_NAME, HEAD_RESULT = "STT", "Tiêu chí / chỉ tiêu", "Kết quả"
_RESULT_COLUMNS = dict.fromkeys(("value", "numerator", "denominator", "boolean", "not_applicable"), HEAD_RESULT)


@dataclass(frozen=True)
class Measurement:
    value: Decimal | None = None
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    boolean: bool | None = None
    not_applicable: bool = False

    @classmethod
    def of(cls, result):
        if result is None:
            return None
        if result.not_applicable:
            return cls(not_applicable=True)
        if result.numerator is not None and result.denominator:
            return cls(numerator=result.numerator, denominator=result.denominator)
        if result.value is None and result.boolean is None:
            return None
        return cls(value=result.value, boolean=result.boolean)

    def describe(self, indicator, comparison=None):
        if self.not_applicable:
            return _("Không áp dụng")
        if self.boolean is not None:
            # A fact shows the verdict it gives: 9.1 "Đạt" reads "Không — đạt" (no nhà tạm left).
            return evaluation.yes_no_text(indicator, self.boolean, comparison)
        if self.numerator is not None:
            return f"{vn_number(self.numerator)}/{vn_number(self.denominator)}"
        return vn_number(self.value)


def describe(measurement, indicator, comparison=None):
    return measurement.describe(indicator, comparison) if measurement is not None else _("(trống)")


def _number(raw):
    """A number from a cell: Excel numbers as they are, text the Vietnamese way ("90,3", "1.276")."""
    if isinstance(raw, bool):
        raise ValueError(raw)
    return parse_vn_number(raw)


def _bad_number(value):
    return _(
        "“%(value)s” không phải là số. Viết số kiểu Việt Nam: 90,3 hoặc 1.276 (dấu phẩy thập phân, dấu chấm nghìn)."
    ) % {"value": value}


_MET, _NOT_MET = {"đạt"}, {"không đạt", "chưa đạt"}
_YES = {"đạt", "có"}
_NO = {"không đạt", "chưa đạt", "không"}


def parse_result(raw, indicator, comparison=None):
    """A Measurement from a "Kết quả" cell, or None for an empty cell; ValueError with the reason otherwise.

    `comparison` is the yes/no threshold that judges the indicator: under "Không" (9.1 nhà tạm), "Đạt" is stored
    as the fact "Không"."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, str) and raw.strip().startswith("="):
        raise ValueError(_("Ô này cần giá trị, không nhập công thức."))
    text = _text(raw)
    lowered = " ".join(text.lower().split())
    if lowered == str(_("Không áp dụng")).lower():
        return Measurement(not_applicable=True)
    if indicator.kind == IndicatorKind.BOOLEAN:
        return _parse_yes_no(lowered, indicator, comparison)
    if lowered in _YES or lowered in _NO:
        raise ValueError(_("Chỉ tiêu này cần số đo, không ghi Đạt/Không đạt."))
    ratio = _RATIO.match(text) if isinstance(raw, str) else None
    if ratio:
        return _parse_ratio(ratio, text, indicator)
    try:
        return Measurement(value=_number(text.removesuffix("%").strip() if isinstance(raw, str) else raw))
    except ValueError:
        raise ValueError(_bad_number(text))


def _parse_yes_no(lowered, indicator, comparison):
    if lowered in _MET or lowered in _NOT_MET:
        return Measurement(boolean=evaluation.boolean_for_verdict(lowered in _MET, comparison))
    if lowered in _YES or lowered in _NO:
        return Measurement(boolean=lowered in _YES)
    raise ValueError(
        _("Chỉ tiêu này ghi “%(yes)s” hoặc “%(no)s” (hoặc “Không áp dụng”).")
        % {"yes": indicator.yes_label, "no": indicator.no_label}
    )


def _parse_ratio(ratio, text, indicator):
    """ "1.276/1.413" (the export adds " (90,3%)") as numerator and denominator of a percentage."""
    if indicator.kind != IndicatorKind.PERCENTAGE:
        raise ValueError(_("Chỉ tiêu này không tính theo tỷ lệ tử số/mẫu số."))
    try:
        return Measurement(numerator=_number(ratio["num"]), denominator=_number(ratio["den"]))
    except ValueError:
        raise ValueError(_("“%(value)s” không đọc được thành tử số/mẫu số; viết như 1.276/1.413.") % {"value": text})


def _commune_set(criteria_set, year):
    try:
        return criteria_set or criteria_set_for(SetLevel.COMMUNE, year)
    except ExportError as exc:
        raise ImportRefused(str(exc))


def _read_bieu01(sheet, *, area, year, criteria_set):
    if area.level != Level.COMMUNE:
        raise ImportRefused(_("Biểu 01 chỉ nhập lại cho một xã (kết quả từng chỉ tiêu)."))
    criteria_set = _commune_set(criteria_set, year)
    _check_title(
        sheet,
        form_label=_("Biểu số 01"),
        title=_("Kết quả thực hiện các tiêu chí nông thôn mới năm %(year)s") % {"year": year},
    )
    columns = _columns(sheet, [HEAD_STT, HEAD_NAME, HEAD_RESULT])
    stt_col, name_col, result_col = columns[HEAD_STT], columns[HEAD_NAME], columns[HEAD_RESULT]
    result_letter = get_column_letter(result_col)
    national = criteria_set.national_set
    criteria = {str(c.number): c for c in national.criteria.all()}
    indicators = {(i.criterion_id, i.code): i for i in Indicator.objects.in_set(national).select_related("criterion")}
    results = {r.indicator_id: r for r in IndicatorResult.objects.filter(area=area, year=year)}
    judge = Judge.for_area(list(indicators.values()), area=area, criteria_set=criteria_set)
    found = Preview("01", area, year, criteria_set)
    criterion = None
    filled = {}  # indicator → the row that gives its result
    for row in sheet.rows_from(12):
        number = row.number
        stt = _text(row.value(stt_col))
        name = _text(row.value(name_col))
        raw = row.value(result_col)
        if name.startswith(_("Tổng số tiêu chí đạt")):
            break
        if not stt and not name and raw in (None, ""):
            continue
        if stt in criteria and name.startswith(_("Tiêu chí số")):
            criterion = criteria[stt]
            continue
        indicator = _row_indicator(
            found, row=number, stt=stt, criterion=criterion, indicators=indicators, national=national, column=stt_col
        )
        if indicator is None:
            continue
        comparison = getattr(judge.choice(indicator, area, year).threshold, "comparison", None)
        try:
            measurement = parse_result(raw, indicator, comparison)
        except ValueError as exc:
            found.bad_cells.append(BadCell(number, result_letter, HEAD_RESULT, _text(raw), str(exc)))
            continue
        if measurement is None:
            # An emptied cell keeps the stored result: an import never deletes one.
            continue
        _add_result(
            found,
            filled,
            row=number,
            raw=raw,
            indicator=indicator,
            measurement=measurement,
            current=results.get(indicator.pk),
            column=result_letter,
            area=area,
            year=year,
            comparison=comparison,
        )
    return found


def _row_indicator(found, *, row, stt, criterion, indicators, national, column):
    """The indicator a Biểu 01 row gives the result of, or None with the reason added to `found`."""
    if criterion is None:
        found.bad_cells.append(
            BadCell(row, get_column_letter(column), HEAD_STT, stt, _("Dòng chỉ tiêu không nằm dưới tiêu chí nào."))
        )
        return None
    # A criterion with one indicator prints no number on the indicator's row; its code is the criterion's.
    code = stt or str(criterion.number)
    indicator = indicators.get((criterion.pk, code))
    if indicator is None:
        found.bad_cells.append(
            BadCell(
                row,
                get_column_letter(column),
                HEAD_STT,
                code,
                _("Không có chỉ tiêu mã “%(code)s” thuộc tiêu chí %(n)s trong %(set)s.")
                % {"code": code, "n": criterion.number, "set": national.name},
            )
        )
    return indicator


def _add_result(found, filled, *, row, raw, indicator, measurement, current, column, area, year, comparison=None):
    """Add the result a row gives to `found`: a change, an unchanged result, or a second row for one indicator."""
    if indicator.pk in filled:
        found.bad_cells.append(
            BadCell(
                row,
                column,
                HEAD_RESULT,
                _text(raw),
                _("Chỉ tiêu %(code)s đã có kết quả ở dòng %(row)s; mỗi chỉ tiêu chỉ ghi một dòng.")
                % {"code": indicator.code, "row": filled[indicator.pk]},
            )
        )
        return
    filled[indicator.pk] = row
    before = Measurement.of(current)
    if measurement == before:
        found.unchanged += 1
        return
    found.changes.append(
        Change(
            row=row,
            label=f"{indicator.code}. {indicator.name}",
            created=current is None,
            fields=[
                (_("Kết quả"), describe(before, indicator, comparison), describe(measurement, indicator, comparison))
            ],
            column=column,
            header=HEAD_RESULT,
            result_row={
                "line": row,
                "area": area,
                "indicator": indicator,
                "year": year,
                "value": measurement.value,
                "numerator": measurement.numerator,
                "denominator": measurement.denominator,
                "boolean": measurement.boolean,
                "not_applicable": measurement.not_applicable,
                # What the file does not carry stays as it was.
                "assessed_status": current.assessed_status if current else "",
                "note": current.note if current else "",
            },
            read_version=current.version if current else None,
        )
    )


# ---------------------------------------------------------------- Biểu 03: plan items and their money

HEAD_TITLE, HEAD_PLACE, HEAD_SOURCES = "Nội dung công việc", "Địa điểm", "Chia theo nguồn vốn"


def _money_text(amount):
    return vn_number(amount) if amount else "–"


def _read_bieu03(sheet, *, area, year, criteria_set):
    _check_title(
        sheet,
        form_label=_("Biểu số 03"),
        title=_("Nhu cầu kinh phí thực hiện kế hoạch xây dựng nông thôn mới năm %(year)s") % {"year": year},
    )
    sources = list(FundingSource.objects.active().order_by("position", "code"))
    columns = _columns(sheet, [HEAD_STT, HEAD_TITLE, HEAD_PLACE, HEAD_SOURCES] + [s.name for s in sources])
    plans = plans_for(area, year)
    items = _items_of_plans(area, year, plans)
    by_title = {}
    for item in items:
        by_title.setdefault(item.title, []).append(item)
    reader = _Bieu03Reader(
        area=area,
        year=year,
        plans=plans,
        by_title=by_title,
        criteria=_plan_criteria(area, year, plans, criteria_set),
        places=_places_by_name(area, year),
        stt_col=columns[HEAD_STT],
        title_col=columns[HEAD_TITLE],
        place_col=columns[HEAD_PLACE],
        source_cols=[(source, columns[source.name]) for source in sources],
        found=Preview("03", area, year, criteria_set),
    )
    for row in sheet.rows_from(12):
        if not reader.read(row):
            break
    found = reader.found
    missing = [item for item in items if item.pk not in reader.matched]
    if missing:
        found.notes.append(
            _("%(count)s nội dung có trong kế hoạch nhưng không có trong tệp; cổng giữ nguyên, không xóa.")
            % {"count": len(missing)}
        )
    return found


def _items_of_plans(area, year, plans):
    """The plan items Biểu 03 lists, each with its plan already attached."""
    items = list(
        plan_items_for(area, year).prefetch_related(
            "funding_lines__source", "coordinator_members", "coordinator_agencies"
        )
    )
    plan_of = {plan.pk: plan for plan in plans}
    for item in items:
        item.plan = plan_of[item.plan_id]
    return items


def _plan_criteria(area, year, plans, criteria_set):
    """The criteria of the plans' set (else of the set the export would choose) by number; {} without a set."""
    plan_set = next((p.criteria_set for p in plans if p.criteria_set_id), None)
    if plan_set is None:
        level = own_set_level(area) if area.level != Level.PROVINCE else SetLevel.COMMUNE
        try:
            plan_set = criteria_set or criteria_set_for(level, year)
        except ExportError:
            plan_set = None
    if plan_set is None:
        return {}
    return {c.number: c for c in Criterion.objects.filter(criteria_set=plan_set.national_set)}


def _places_by_name(area, year):
    """The units within `area` by their lowered full name ("thôn đồng", "xã an dương") and plain name."""
    places = {}
    # The map of the year's reporting date: in 2025 an old and a new unit may share a name.
    for place in Area.objects.within(area).valid_on(timeline.reporting_date(year)):
        places.setdefault(place.full_name.lower(), place)
        places.setdefault(place.name.lower(), place)
    return places


def _refused(row, col, header, value, reason):
    return BadCell(row, get_column_letter(col), header, _text(value), reason)


@dataclass
class _Bieu03Reader:
    """Reads the rows of a Biểu 03 one by one into `found`, matching them with the items of the plans."""

    area: Area
    year: int
    plans: list
    by_title: dict
    criteria: dict
    places: dict
    stt_col: int
    title_col: int
    place_col: int
    source_cols: list
    found: Preview
    matched: set = field(default_factory=set)
    group: Criterion | None = None  # the criterion of the rows below a heading; None under "Các nội dung khác"

    def read(self, row):
        """Read one row; False at the total row, where the table ends."""
        number = row.number
        stt = _text(row.value(self.stt_col))
        title_cell = row.value(self.title_col)
        title = _text(title_cell)
        if title == _("TỔNG CỘNG"):
            return False
        if _ROMAN.match(stt):
            self.group = self._heading(number, title)
            return True
        bad = []
        amounts = self._amounts(row, bad)
        if not title:
            if stt or any(a for a in amounts.values()):
                bad.append(_refused(number, self.title_col, HEAD_TITLE, "", _("Thiếu nội dung công việc.")))
            self.found.bad_cells.extend(bad)
            return True
        if isinstance(title_cell, str) and row.is_formula(self.title_col):
            bad.append(_refused(number, self.title_col, HEAD_TITLE, title, _("Ô này cần chữ, không nhập công thức.")))
        place = self._place(row, bad)
        if bad:
            self.found.bad_cells.extend(bad)
        else:
            self._match(number, title, place, amounts)
        return True

    def _heading(self, number, title):
        """The criterion a group heading names ("Tiêu chí số 2: …"); None for "Các nội dung khác"."""
        heading = re.match(r"^Tiêu chí số (\d+):", title)
        group = self.criteria.get(int(heading[1])) if heading else None
        if heading and group is None:
            self.found.bad_cells.append(
                _refused(
                    number,
                    self.title_col,
                    HEAD_TITLE,
                    title,
                    _("Không có tiêu chí số %(n)s trong bộ tiêu chí của kế hoạch.") % {"n": heading[1]},
                )
            )
        return group

    def _amounts(self, row, bad):
        """The money of each source on the row (None where blank); refused cells are added to `bad`."""
        amounts = {}
        for source, col in self.source_cols:
            raw = row.value(col)
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                amounts[source.pk] = None
                continue
            if isinstance(raw, str) and raw.strip().startswith("="):
                bad.append(_refused(row.number, col, source.name, raw, _("Ô này cần số tiền, không nhập công thức.")))
                continue
            try:
                amount = _number(raw)
            except ValueError:
                bad.append(_refused(row.number, col, source.name, raw, _bad_number(_text(raw))))
                continue
            if amount < 0:
                bad.append(_refused(row.number, col, source.name, raw, _("Số tiền không được âm.")))
                continue
            amounts[source.pk] = amount
        return amounts

    def _place(self, row, bad):
        """The unit named in the "Địa điểm" cell, None when blank; an unknown name is added to `bad`."""
        place_text = _text(row.value(self.place_col))
        if not place_text:
            return None
        place = self.places.get(place_text.lower())
        if place is None:
            bad.append(
                _refused(
                    row.number,
                    self.place_col,
                    HEAD_PLACE,
                    place_text,
                    _("Không có địa bàn “%(place)s” thuộc %(area)s.")
                    % {"place": place_text, "area": self.area.full_name},
                )
            )
        return place

    def _match(self, number, title, place, amounts):
        """A change to the first item not yet matched with this title, else a new item in the first plan."""
        split = _TARGET.match(title)
        plain_title, target = (split["title"], split["target"]) if split else (title, "")
        candidates = self.by_title.get(plain_title, [])
        item = next((c for c in candidates if c.pk not in self.matched), None)
        if item is not None:
            self.matched.add(item.pk)
            change = _item_change(item, number, self.group, place or None, target, amounts, self.source_cols, self.area)
            if change is None:
                self.found.unchanged += 1
            else:
                self.found.changes.append(change)
            return
        if not self.plans:
            self.found.bad_cells.append(
                _refused(
                    number,
                    self.title_col,
                    HEAD_TITLE,
                    title,
                    _("Chưa có kế hoạch năm %(year)s của %(area)s để thêm nội dung mới; hãy tạo kế hoạch trước.")
                    % {"year": self.year, "area": self.area.full_name},
                )
            )
            return
        self.found.changes.append(
            _new_item(self.plans[0], number, self.group, place, plain_title, target, amounts, self.source_cols)
        )


def _place_label(place, area):
    return place.full_name if place is not None and place.pk != area.pk else _("(toàn địa bàn)")


def _group_label(criterion):
    return str(_("Tiêu chí số %(n)s") % {"n": criterion.number}) if criterion else str(_("Các nội dung khác"))


def _item_change(item, row, group, place, target, amounts, source_cols, area):
    lines = {line.source_id: line for line in item.funding_lines.all()}
    fields = []
    if (item.target or "") != target:
        fields.append((_("Chỉ tiêu cần đạt"), item.target or "–", target or "–"))
    # The export leaves the place blank for the plan's own area: blank and the area itself are the same.
    current_place = item.area if item.area_id and item.area_id != area.pk else None
    new_place = place if place is not None and place.pk != area.pk else None
    if current_place != new_place:
        fields.append((_("Địa điểm"), _place_label(current_place, area), _place_label(new_place, area)))
    if item.criterion_id != (group.pk if group else None):
        fields.append((_("Nhóm"), _group_label(item.criterion), _group_label(group)))
    funding = []
    for source, _col in source_cols:
        line = lines.pop(source.pk, None)
        old = line.planned if line is not None else None
        new = amounts.get(source.pk)
        if (old or Decimal(0)) != (new or Decimal(0)):
            fields.append((source.name, _money_text(old), _money_text(new)))
        # A line keeps its disbursed money; a line with nothing planned and nothing paid is dropped.
        disbursed = line.disbursed if line is not None else Decimal(0)
        if new or disbursed or (line is not None and new is not None):
            funding.append(plan_services.FundingInput(source, new or Decimal(0), disbursed))
    # Lines of sources no longer shown as columns stay as they are.
    funding += [plan_services.FundingInput(line.source, line.planned, line.disbursed) for line in lines.values()]
    if not fields:
        return None
    indicator = item.indicator if item.indicator_id and group and item.indicator.criterion_id == group.pk else None
    data = _item_data(item, target=target, area=new_place, criterion=group, indicator=indicator)

    # The version read with the file: an edit that lands between that reading and the write is not silently
    # overwritten.
    item_write = plan_services.ItemWrite(data, funding, item=item, expected_version=item.version, line=row)

    def check(user):
        _check_item(item.plan, data, funding, pk=item.pk, position=item.position)

    return Change(row, item.title, False, fields, get_column_letter(2), HEAD_TITLE, check, item_write)


# Relations are set by the reader from rows it looked up itself; checking that they exist would cost a query each.
_ITEM_RELATIONS = [f.name for f in PlanItem._meta.concrete_fields if f.is_relation]


def _check_item(plan, data, funding, *, pk=None, position=None):
    """The refusals plan_services would give storing `data` and `funding`, found in memory without a write.

    The item's own checks (lengths, place within the plan's area, indicator of the criterion) and each funding
    line's (amounts within their digits); the confirmation still writes through the services, all or nothing.
    """
    candidate = PlanItem(pk=pk, plan=plan, position=position or 1)
    values = vars(data).copy()
    for name in ("coordinator_members", "coordinator_agencies", "position"):
        values.pop(name)
    candidate.deadline = values.pop("deadline")
    for name, value in values.items():
        setattr(candidate, name, value)
    errors = {}
    try:
        candidate.full_clean(exclude=_ITEM_RELATIONS, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    for entry in funding:
        line = FundingLine(planned=entry.planned or Decimal(0), disbursed=entry.disbursed or Decimal(0))
        try:
            line.full_clean(exclude=["item", "source"], validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            errors.setdefault("funding", []).extend(f"{entry.source.name}: {m}" for m in _messages(exc))
    if errors:
        raise ValidationError(errors)


def _item_data(item, **changes):
    data = plan_services.ItemData(
        title=item.title,
        description=item.description,
        criterion=item.criterion,
        indicator=item.indicator,
        area=item.area,
        quantity=item.quantity,
        unit=item.unit,
        target=item.target,
        lead_member=item.lead_member,
        lead_agency=item.lead_agency,
        coordinator_members=list(item.coordinator_members.all()),
        coordinator_agencies=list(item.coordinator_agencies.all()),
        start_date=item.start_date,
        deadline=item.deadline,
        status=item.status,
        progress=item.progress,
        position=item.position,
        notes=item.notes,
    )
    for name, value in changes.items():
        setattr(data, name, value)
    return data


def _new_item(plan, row, group, place, title, target, amounts, source_cols):
    funding = [
        plan_services.FundingInput(source, amounts[source.pk]) for source, _col in source_cols if amounts.get(source.pk)
    ]
    fields = [(_("Nhóm"), "", _group_label(group))]
    if place is not None and place.pk != plan.area_id:
        fields.append((_("Địa điểm"), "", place.full_name))
    if target:
        fields.append((_("Chỉ tiêu cần đạt"), "", target))
    fields += [(line.source.name, "", _money_text(line.planned)) for line in funding]

    data = plan_services.ItemData(
        title=title,
        target=target,
        criterion=group,
        area=place if place is not None and place.pk != plan.area_id else None,
    )

    item_write = plan_services.ItemWrite(data, funding, plan=plan, line=row)

    def check(user):
        _check_item(plan, data, funding)

    return Change(row, title, True, fields, get_column_letter(2), HEAD_TITLE, check, item_write)


# ---------------------------------------------------------------- reused by the import wizard (imports/)

# The same limits and refusals for any workbook the wizard reads: a zip whose sheets or shared strings are too
# large for NTM_IMPORT_MAX_CELLS, more rows or cells than the settings allow.
