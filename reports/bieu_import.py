"""Reading the Biểu annexes back: an officer fills the exported workbook and uploads it.

Biểu 01 of a commune brings back indicator results (the "Kết quả" column); Biểu 03 brings back plan items
with their money per funding source. Reading never writes: `read()` lists what would be created or changed
and every cell it cannot accept. `preview()` then runs the writes through the services inside a transaction
that is rolled back, so the dry run refuses exactly what the real import would (a numerator above its
denominator, a deadline that does not exist). `apply()` writes everything in one transaction or nothing.

A file of the wrong kind, of another area, or with a column missing is refused whole (ImportRefused) before
any row is read.
"""

import contextlib
import hashlib
import re
import secrets
import time
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from areas.models import Area, Level
from criteria.evaluation import parse_vn_number
from criteria.models import CriteriaSet, Criterion, Indicator, IndicatorKind, IndicatorResult, SetLevel
from criteria.services import record_indicator_result
from plans import services as plan_services
from plans.models import FundingSource
from reports import bieu

IMPORT_MAX_BYTES = 10 * 1024 * 1024
# An .xlsx is a zip; a small file that unpacks to gigabytes would exhaust the web process.
IMPORT_MAX_UNPACKED = 200 * 1024 * 1024
UPLOAD_LIFETIME_SECONDS = 24 * 3600
IMPORTABLE = ("01", "03")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
_TARGET = re.compile(r"^(?P<title>.*) \(mục tiêu: (?P<target>.*)\)$", re.DOTALL)
_RATIO = re.compile(r"^(?P<num>[^/]+)/(?P<den>[^/(]+?)\s*(\([^)]*\))?$")
_ROMAN = re.compile(r"^[IVXLC]+$")


class ImportRefused(Exception):
    """The whole file is refused; the message says why, in Vietnamese."""


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
    write: object = None  # callable(user) doing the write through the services

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


# ---------------------------------------------------------------- the uploaded file between dry run and confirm


def _imports_dir():
    folder = Path(settings.MEDIA_ROOT) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _upload_path(token, *, user, area):
    if not _TOKEN.match(token or ""):
        raise ImportRefused(_("Không tìm thấy tệp đã tải lên; hãy tải tệp lên lại."))
    # The name ties the file to the user and the area: a token used by someone else finds nothing.
    return _imports_dir() / f"{user.pk}-{area.pk}-{token}.xlsx"


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


def store_upload(upload, *, user, area):
    """Keep a checked upload under MEDIA_ROOT/imports/ for the confirm step; returns its random token."""
    check_upload(upload)
    discard_stale_uploads()
    token = secrets.token_urlsafe(32)
    path = _upload_path(token, user=user, area=area)
    with open(path, "wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    return token


def upload_path(token, *, user, area):
    path = _upload_path(token, user=user, area=area)
    if not path.exists():
        raise ImportRefused(_("Tệp đã tải lên không còn (đã nhập hoặc đã quá hạn); hãy tải tệp lên lại."))
    return path


def discard_upload(token, *, user, area):
    with contextlib.suppress(ImportRefused):
        _upload_path(token, user=user, area=area).unlink(missing_ok=True)


def discard_stale_uploads():
    limit = time.time() - UPLOAD_LIFETIME_SECONDS
    for path in _imports_dir().glob("*.xlsx"):
        with contextlib.suppress(FileNotFoundError):
            if path.stat().st_mtime < limit:
                path.unlink()


# ---------------------------------------------------------------- opening and identifying the workbook


def _text(value):
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _load(path):
    try:
        return load_workbook(path, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds on a damaged or foreign file
        raise ImportRefused(_("Không đọc được tệp Excel: tệp bị hỏng hoặc không phải .xlsx.")) from exc


def _info(workbook):
    if bieu.INFO_SHEET not in workbook.sheetnames:
        raise ImportRefused(
            _(
                "Tệp không có trang thông tin “%(sheet)s” của Biểu xuất từ cổng. Hãy xuất Biểu từ cổng, điền vào "
                "tệp đó rồi tải lên."
            )
            % {"sheet": bieu.INFO_SHEET}
        )
    info = {}
    for row in workbook[bieu.INFO_SHEET].iter_rows(min_row=2, max_col=2, values_only=True):
        if row[0]:
            info[_text(row[0])] = _text(row[1])
    return info


def _identify(workbook, area):
    """Form, year and criteria set named by the workbook, after checking it belongs to `area`."""
    info = _info(workbook)
    form = info.get(bieu.INFO_FORM, "")
    if form not in IMPORTABLE:
        raise ImportRefused(
            _("Tệp là Biểu %(form)s; cổng chỉ nhập lại Biểu 01 (kết quả của xã) và Biểu 03 (nội dung, kinh phí).")
            % {"form": form or "?"}
        )
    code = info.get(bieu.INFO_AREA_CODE, "")
    named = list(Area.objects.filter(code=code)) if code else []
    if not named:
        raise ImportRefused(_("Mã đơn vị “%(code)s” ghi trong tệp không có trên cổng.") % {"code": code})
    if area.code != code or info.get(bieu.INFO_AREA_ID) != str(area.pk):
        raise ImportRefused(
            _("Tệp này là biểu của %(other)s, không phải của %(area)s. Hãy tải lên đúng trang của đơn vị trong tệp.")
            % {"other": named[0].full_name, "area": area.full_name}
        )
    try:
        year = int(info.get(bieu.INFO_YEAR, ""))
    except ValueError:
        raise ImportRefused(_("Trang thông tin của tệp không ghi năm của biểu."))
    set_code = info.get(bieu.INFO_SET, "")
    criteria_set = CriteriaSet.objects.filter(code=set_code).first() if set_code else None
    if set_code and criteria_set is None:
        raise ImportRefused(_("Bộ tiêu chí “%(code)s” ghi trong tệp không có trên cổng.") % {"code": set_code})
    return form, year, criteria_set


def _check_title(ws, *, form_label, title):
    found_form, found_title = _text(ws["A5"].value), _text(ws["A6"].value)
    if found_form != form_label or found_title != title.upper():
        raise ImportRefused(
            _("Sai mẫu biểu: ô A5–A6 phải là “%(form)s” và “%(title)s”, trong tệp là “%(found)s”.")
            % {"form": form_label, "title": title.upper(), "found": f"{found_form} / {found_title}".strip(" /")}
        )


def _columns(ws, required):
    """{heading: column number} from the two heading rows (9 and 10); a required heading missing refuses all."""
    headings = {}
    for row in (9, 10):
        for cell in ws[row]:
            text = _text(cell.value)
            if text:
                headings.setdefault(text, cell.column)
    missing = [name for name in required if name not in headings]
    if missing:
        raise ImportRefused(
            _("Thiếu cột %(columns)s ở dòng tiêu đề (dòng 9–10) của biểu.")
            % {"columns": ", ".join(f"“{name}”" for name in missing)}
        )
    return headings


def _first_sheet(workbook):
    return next(ws for ws in workbook.worksheets if ws.sheet_state == "visible")


def read(path, *, area):
    """What importing the workbook at `path` into `area` would do; ImportRefused if the file is refused whole."""
    workbook = _load(path)
    form, year, criteria_set = _identify(workbook, area)
    ws = _first_sheet(workbook)
    if form == "01":
        return _read_bieu01(ws, area=area, year=year, criteria_set=criteria_set)
    return _read_bieu03(ws, area=area, year=year, criteria_set=criteria_set)


def preview(path, *, area, user):
    """The dry run: read the file, then try every write and roll them all back."""
    found = read(path, area=area)
    if found.changes and found.ok:
        with transaction.atomic():
            for change in found.changes:
                try:
                    with transaction.atomic():
                        change.write(user)
                except ValidationError as exc:
                    found.bad_cells.append(
                        BadCell(change.row, change.column, change.header, change.label, " ".join(_messages(exc)))
                    )
            transaction.set_rollback(True)
    return found


@transaction.atomic
def apply(path, *, area, user, fingerprint=None):
    """Write every change of the file in one transaction; refuses whole when any cell is bad."""
    found = read(path, area=area)
    if not found.ok:
        raise ImportRefused(_("Tệp còn ô sai; không ghi gì. Hãy sửa các ô được liệt kê rồi tải lên lại."))
    if fingerprint is not None and fingerprint != found.fingerprint:
        raise ImportRefused(
            _("Dữ liệu trên cổng đã thay đổi kể từ lúc kiểm tra tệp. Hãy xem lại danh sách thay đổi rồi xác nhận.")
        )
    for change in found.changes:
        try:
            change.write(user)
        except ValidationError as exc:
            raise ImportRefused(
                _("Dòng %(row)s: %(reason)s Không ghi gì.") % {"row": change.row, "reason": " ".join(_messages(exc))}
            ) from exc
    return found


def _messages(exc):
    if hasattr(exc, "message_dict"):
        return [m for messages in exc.message_dict.values() for m in messages]
    return exc.messages


# ---------------------------------------------------------------- Biểu 01: indicator results of a commune

HEAD_STT, HEAD_NAME, HEAD_RESULT = "STT", "Tiêu chí / chỉ tiêu", "Kết quả"


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

    def describe(self, indicator):
        if self.not_applicable:
            return _("Không áp dụng")
        if self.boolean is not None:
            return str(indicator.yes_label if self.boolean else indicator.no_label)
        if self.numerator is not None:
            return f"{bieu.vn_number(self.numerator)}/{bieu.vn_number(self.denominator)}"
        return bieu.vn_number(self.value)


def describe(measurement, indicator):
    return measurement.describe(indicator) if measurement is not None else _("(trống)")


def _number(raw):
    """A number from a cell: Excel numbers as they are, text the Vietnamese way ("90,3", "1.276")."""
    if isinstance(raw, bool):
        raise ValueError(raw)
    if isinstance(raw, (int, float, Decimal)):
        return Decimal(str(raw))
    return parse_vn_number(raw)


def _bad_number(value):
    return _(
        "“%(value)s” không phải là số. Viết số kiểu Việt Nam: 90,3 hoặc 1.276 (dấu phẩy thập phân, dấu chấm nghìn)."
    ) % {"value": value}


def parse_result(raw, indicator):
    """A Measurement from a "Kết quả" cell, or None for an empty cell; ValueError with the reason otherwise."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, str) and raw.strip().startswith("="):
        raise ValueError(_("Ô này cần giá trị, không nhập công thức."))
    text = _text(raw)
    lowered = " ".join(text.lower().split())
    if lowered == str(_("Không áp dụng")).lower():
        return Measurement(not_applicable=True)
    yes = {"đạt", "có"}
    no = {"không đạt", "chưa đạt", "không"}
    if indicator.kind == IndicatorKind.BOOLEAN:
        if lowered in yes or lowered in no:
            return Measurement(boolean=lowered in yes)
        raise ValueError(
            _("Chỉ tiêu này ghi “%(yes)s” hoặc “%(no)s” (hoặc “Không áp dụng”).")
            % {"yes": indicator.yes_label, "no": indicator.no_label}
        )
    if lowered in yes or lowered in no:
        raise ValueError(_("Chỉ tiêu này cần số đo, không ghi Đạt/Không đạt."))
    ratio = _RATIO.match(text) if isinstance(raw, str) else None
    if ratio:
        if indicator.kind != IndicatorKind.PERCENTAGE:
            raise ValueError(_("Chỉ tiêu này không tính theo tỷ lệ tử số/mẫu số."))
        try:
            return Measurement(numerator=_number(ratio["num"]), denominator=_number(ratio["den"]))
        except ValueError:
            raise ValueError(
                _("“%(value)s” không đọc được thành tử số/mẫu số; viết như 1.276/1.413.") % {"value": text}
            )
    try:
        return Measurement(value=_number(text.removesuffix("%").strip() if isinstance(raw, str) else raw))
    except ValueError:
        raise ValueError(_bad_number(text))


def _commune_set(criteria_set, year):
    try:
        return criteria_set or bieu.criteria_set_for(SetLevel.COMMUNE, year)
    except bieu.ExportError as exc:
        raise ImportRefused(str(exc))


def _read_bieu01(ws, *, area, year, criteria_set):
    if area.level != Level.COMMUNE:
        raise ImportRefused(_("Biểu 01 chỉ nhập lại cho một xã (kết quả từng chỉ tiêu)."))
    criteria_set = _commune_set(criteria_set, year)
    _check_title(
        ws,
        form_label=_("Biểu số 01"),
        title=_("Kết quả thực hiện các tiêu chí nông thôn mới năm %(year)s") % {"year": year},
    )
    columns = _columns(ws, [HEAD_STT, HEAD_NAME, HEAD_RESULT])
    stt_col, name_col, result_col = columns[HEAD_STT], columns[HEAD_NAME], columns[HEAD_RESULT]
    result_letter = get_column_letter(result_col)
    national = criteria_set.national_set
    criteria = {str(c.number): c for c in national.criteria.all()}
    indicators = {(i.criterion_id, i.code): i for i in Indicator.objects.in_set(national).select_related("criterion")}
    results = {r.indicator_id: r for r in IndicatorResult.objects.filter(area=area, year=year)}
    found = Preview("01", area, year, criteria_set)
    criterion = None
    for row in ws.iter_rows(min_row=12):
        number = row[0].row
        stt = _text(row[stt_col - 1].value)
        name = _text(row[name_col - 1].value)
        raw = row[result_col - 1].value if len(row) >= result_col else None
        if name.startswith(_("Tổng số tiêu chí đạt")):
            break
        if not stt and not name and raw in (None, ""):
            continue
        if stt in criteria and name.startswith(_("Tiêu chí số")):
            criterion = criteria[stt]
            continue
        if criterion is None:
            found.bad_cells.append(
                BadCell(
                    number, get_column_letter(stt_col), HEAD_STT, stt, _("Dòng chỉ tiêu không nằm dưới tiêu chí nào.")
                )
            )
            continue
        # A criterion with one indicator prints no number on the indicator's row; its code is the criterion's.
        code = stt or str(criterion.number)
        indicator = indicators.get((criterion.pk, code))
        if indicator is None:
            found.bad_cells.append(
                BadCell(
                    number,
                    get_column_letter(stt_col),
                    HEAD_STT,
                    code,
                    _("Không có chỉ tiêu mã “%(code)s” thuộc tiêu chí %(n)s trong %(set)s.")
                    % {"code": code, "n": criterion.number, "set": national.name},
                )
            )
            continue
        try:
            measurement = parse_result(raw, indicator)
        except ValueError as exc:
            found.bad_cells.append(BadCell(number, result_letter, HEAD_RESULT, _text(raw), str(exc)))
            continue
        current = results.get(indicator.pk)
        before = Measurement.of(current)
        if measurement is None:
            # An emptied cell keeps the stored result: an import never deletes one.
            continue
        if measurement == before:
            found.unchanged += 1
            continue
        found.changes.append(
            Change(
                row=number,
                label=f"{indicator.code}. {indicator.name}",
                created=current is None,
                fields=[(_("Kết quả"), describe(before, indicator), describe(measurement, indicator))],
                column=result_letter,
                header=HEAD_RESULT,
                write=_result_writer(area, indicator, year, measurement, current),
            )
        )
    return found


def _result_writer(area, indicator, year, measurement, current):
    def write(user):
        record_indicator_result(
            area=area,
            indicator=indicator,
            year=year,
            user=user,
            value=measurement.value,
            numerator=measurement.numerator,
            denominator=measurement.denominator,
            boolean=measurement.boolean,
            not_applicable=measurement.not_applicable,
            # What the file does not carry stays as it was.
            assessed_status=current.assessed_status if current else "",
            note=current.note if current else "",
            expected_version=current.version if current else None,
        )

    return write


# ---------------------------------------------------------------- Biểu 03: plan items and their money

HEAD_TITLE, HEAD_PLACE, HEAD_SOURCES = "Nội dung công việc", "Địa điểm", "Chia theo nguồn vốn"


def _money_text(amount):
    return bieu.vn_number(amount) if amount else "–"


def _read_bieu03(ws, *, area, year, criteria_set):
    _check_title(
        ws,
        form_label=_("Biểu số 03"),
        title=_("Nhu cầu kinh phí thực hiện kế hoạch xây dựng nông thôn mới năm %(year)s") % {"year": year},
    )
    sources = list(FundingSource.objects.active().order_by("position", "code"))
    columns = _columns(ws, [HEAD_STT, HEAD_TITLE, HEAD_PLACE, HEAD_SOURCES] + [s.name for s in sources])
    stt_col, title_col, place_col = columns[HEAD_STT], columns[HEAD_TITLE], columns[HEAD_PLACE]
    source_cols = [(source, columns[source.name]) for source in sources]

    plans = bieu.plans_for(area, year)
    items = list(bieu.plan_items_for(area, year).prefetch_related("funding_lines"))
    by_title = {}
    for item in items:
        by_title.setdefault(item.title, []).append(item)
    plan_set = next((p.criteria_set for p in plans if p.criteria_set_id), None)
    if plan_set is None:
        level = bieu.own_set_level(area) if area.level != Level.PROVINCE else SetLevel.COMMUNE
        try:
            plan_set = criteria_set or bieu.criteria_set_for(level, year)
        except bieu.ExportError:
            plan_set = None
    criteria = {c.number: c for c in Criterion.objects.filter(criteria_set=plan_set.national_set)} if plan_set else {}
    places = {}
    for place in Area.objects.within(area).in_year(year):
        places.setdefault(place.full_name.lower(), place)
        places.setdefault(place.name.lower(), place)

    found = Preview("03", area, year, criteria_set)
    group = None  # the criterion of the rows below a group heading; None under "Các nội dung khác"
    matched = set()
    for row in ws.iter_rows(min_row=12):
        number = row[0].row
        stt = _text(row[stt_col - 1].value)
        title_cell = row[title_col - 1].value
        title = _text(title_cell)
        if title == _("TỔNG CỘNG"):
            break
        if _ROMAN.match(stt):
            heading = re.match(r"^Tiêu chí số (\d+):", title)
            group = criteria.get(int(heading[1])) if heading else None
            if heading and group is None:
                found.bad_cells.append(
                    BadCell(
                        number,
                        get_column_letter(title_col),
                        HEAD_TITLE,
                        title,
                        _("Không có tiêu chí số %(n)s trong bộ tiêu chí của kế hoạch.") % {"n": heading[1]},
                    )
                )
            continue
        bad = []

        def refuse(col, header, value, reason, number=number, bad=bad):
            bad.append(BadCell(number, get_column_letter(col), header, _text(value), reason))

        amounts = {}
        for source, col in source_cols:
            raw = row[col - 1].value if len(row) >= col else None
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                amounts[source.pk] = None
                continue
            if isinstance(raw, str) and raw.strip().startswith("="):
                refuse(col, source.name, raw, _("Ô này cần số tiền, không nhập công thức."))
                continue
            try:
                amount = _number(raw)
            except ValueError:
                refuse(col, source.name, raw, _bad_number(_text(raw)))
                continue
            if amount < 0:
                refuse(col, source.name, raw, _("Số tiền không được âm."))
                continue
            amounts[source.pk] = amount
        if not title:
            if stt or any(a for a in amounts.values()):
                refuse(title_col, HEAD_TITLE, "", _("Thiếu nội dung công việc."))
            found.bad_cells.extend(bad)
            continue
        if isinstance(title_cell, str) and getattr(row[title_col - 1], "data_type", "s") == "f":
            refuse(title_col, HEAD_TITLE, title, _("Ô này cần chữ, không nhập công thức."))
        place_text = _text(row[place_col - 1].value)
        place = None
        if place_text:
            place = places.get(place_text.lower())
            if place is None:
                refuse(
                    place_col,
                    HEAD_PLACE,
                    place_text,
                    _("Không có địa bàn “%(place)s” thuộc %(area)s.") % {"place": place_text, "area": area.full_name},
                )
        if bad:
            found.bad_cells.extend(bad)
            continue
        split = _TARGET.match(title)
        plain_title, target = (split["title"], split["target"]) if split else (title, "")
        candidates = by_title.get(plain_title, [])
        item = next((c for c in candidates if c.pk not in matched), None)
        if item is not None:
            matched.add(item.pk)
            change = _item_change(item, number, group, place or None, target, amounts, source_cols, area)
            if change is None:
                found.unchanged += 1
            else:
                found.changes.append(change)
            continue
        if not plans:
            found.bad_cells.append(
                BadCell(
                    number,
                    get_column_letter(title_col),
                    HEAD_TITLE,
                    title,
                    _("Chưa có kế hoạch năm %(year)s của %(area)s để thêm nội dung mới; hãy tạo kế hoạch trước.")
                    % {"year": year, "area": area.full_name},
                )
            )
            continue
        found.changes.append(_new_item(plans[0], number, group, place, plain_title, target, amounts, source_cols))
    missing = [item for item in items if item.pk not in matched]
    if missing:
        found.notes.append(
            _("%(count)s nội dung có trong kế hoạch nhưng không có trong tệp; cổng giữ nguyên, không xóa.")
            % {"count": len(missing)}
        )
    return found


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

    def write(user):
        plan_services.update_item(
            user=user,
            item=item,
            data=_item_data(item, target=target, area=new_place, criterion=group, indicator=indicator),
            funding=funding,
        )

    return Change(row, item.title, False, fields, get_column_letter(2), HEAD_TITLE, write)


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

    def write(user):
        plan_services.add_item(
            user=user,
            plan=plan,
            data=plan_services.ItemData(
                title=title,
                target=target,
                criterion=group,
                area=place if place is not None and place.pk != plan.area_id else None,
            ),
            funding=funding,
        )

    return Change(row, title, True, fields, get_column_letter(2), HEAD_TITLE, write)
