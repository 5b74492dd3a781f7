"""A whole criteria set (bộ tiêu chí) typed by an administrator in Excel, loaded as a new set, and written back.

One sheet, a heading row, one row per indicator (and year, where a year has its own thresholds):

    Tiêu chí số | Tên tiêu chí | Nhóm | Tên nhóm | Mã chỉ tiêu | Tên chỉ tiêu | Đơn vị | Loại | So sánh |
    Ngưỡng chung | <one column per region code or commune group: TDMNPB … / N1 N2 N3> | Năm áp dụng | Căn cứ |
    Đã xác minh | Ghi chú

Only "Tiêu chí số", "Tên tiêu chí", "Mã chỉ tiêu" and "Tên chỉ tiêu" are required. A blank "Tiêu chí số" continues
the criterion above (merged cells); a row with no indicator code is a criterion without indicators. A threshold
cell holds the threshold as decisions write it ("≥80%", "≤16,5%", "Đạt") or a bare number compared as "So sánh"
says; "chưa có ngưỡng" keeps a level the document does not give (never read as zero); "đánh giá" leaves it to a
person. Thresholds are read by `criteria.evaluation.parse_threshold`, the same reader as the official catalogue.

The file is checked whole before a row is read (not an .xlsx, password-protected, macros, links to other files, a
zip bomb, more rows or cells than NTM_IMPORT_MAX_ROWS / NTM_IMPORT_MAX_CELLS — the Biểu import's limits). The dry
run lists what would be created and every bad cell; the import writes all of it as a NEW set or nothing. A code
already used is never overwritten: the set becomes `<code>_v2` (`_v3` …) and its notes name the set it replaces.
"""

import datetime
import io
import math
import re
import unicodedata
import zipfile
from dataclasses import asdict, dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from areas.models import CommuneGroup, Region
from criteria import catalogue, evaluation
from criteria.evidence import MACRO_FILE, office_kind
from criteria.models import (
    VALUE_COMPARISONS,
    Comparison,
    CriteriaSet,
    Criterion,
    Indicator,
    IndicatorKind,
    SetLevel,
    Threshold,
    ThresholdScheme,
    Tier,
)
from criteria.variants import readable_threshold
from ntm_portal.spreadsheets import (
    IMPORT_MAX_BYTES,
    ImportRefused,
    check_parts,
    check_upload,
    is_formula_like,
    sheet_rows,
    unreadable_refused,
)
from ntm_portal.vietnamese import person_name, vn_date

NUMBER, CRITERION, GROUP, GROUP_NAME = "Tiêu chí số", "Tên tiêu chí", "Nhóm", "Tên nhóm"
CODE, NAME, UNIT, KIND, COMPARISON = "Mã chỉ tiêu", "Tên chỉ tiêu", "Đơn vị", "Loại", "So sánh"
GENERAL, YEAR, SOURCE, VERIFIED, NOTE = "Ngưỡng chung", "Năm áp dụng", "Căn cứ", "Đã xác minh", "Ghi chú"
REQUIRED = (NUMBER, CRITERION, CODE, NAME)
LEADING = (NUMBER, CRITERION, GROUP, GROUP_NAME, CODE, NAME, UNIT, KIND, COMPARISON, GENERAL)
TRAILING = (YEAR, SOURCE, VERIFIED, NOTE)
SHEET_TITLE = "Bộ tiêu chí"
HEADING_SEARCH_ROWS = 10  # the heading row may sit below a title or two

_COMPARISON_WORDS = {
    "≥": Comparison.GTE, ">=": Comparison.GTE, "≤": Comparison.LTE, "<=": Comparison.LTE, "=": Comparison.EQ,
    "bằng": Comparison.EQ, "đạt": Comparison.YES, "có": Comparison.YES, "không": Comparison.NO,
    "đánh giá": Comparison.MANUAL, "chưa có": Comparison.MISSING, "chưa có ngưỡng": Comparison.MISSING,
}  # fmt: skip
COMPARISON_LABELS = {
    Comparison.GTE: "≥", Comparison.LTE: "≤", Comparison.EQ: "=", Comparison.YES: "đạt", Comparison.NO: "không",
    Comparison.MANUAL: "đánh giá", Comparison.MISSING: "chưa có",
}  # fmt: skip
# A threshold cell holding only one of these words: a level left to a person, or one the document lacks.
_CELL_WORDS = {"đánh giá": Comparison.MANUAL, "chưa có": Comparison.MISSING, "chưa có ngưỡng": Comparison.MISSING}
_KIND_WORDS = {
    "số": IndicatorKind.NUMBER, "sốđo": IndicatorKind.NUMBER, "tỷlệ": IndicatorKind.PERCENTAGE,
    "tỉlệ": IndicatorKind.PERCENTAGE, "tỷlệ%": IndicatorKind.PERCENTAGE, "%": IndicatorKind.PERCENTAGE,
    "có-không": IndicatorKind.BOOLEAN, "đạt-không": IndicatorKind.BOOLEAN, "đạt-khôngđạt": IndicatorKind.BOOLEAN,
    "đánhgiá": IndicatorKind.BOOLEAN,
}  # fmt: skip
KIND_LABELS = {IndicatorKind.NUMBER: "số", IndicatorKind.PERCENTAGE: "tỷ lệ", IndicatorKind.BOOLEAN: "có-không"}
_YES_WORDS = {"có", "x", "đã xác minh", "1"}
_NO_WORDS = {"không", "chưa", "chưa xác minh", "0"}
_OPERATOR = re.compile(r"^\s*(≥|>=|≤|<=|=|>|<)")
_BARE_NUMBER = re.compile(r"[\d.,]+")
_VERSION = re.compile(r"^(?P<base>.+?)_v(?P<n>\d+)$")
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


# ---------------------------------------------------------------- what the administrator says about the set


@dataclass(frozen=True)
class SetMeta:
    """What the form or the command says about the set; the workbook holds only its rows."""

    code: str
    name: str
    level: str = SetLevel.COMMUNE
    tier: str = Tier.STANDARD
    period_start: int = 2026
    period_end: int = 2030
    legal_basis: str = ""
    issued_on: datetime.date | None = None
    issuer: str = ""

    def as_dict(self):
        data = asdict(self)
        data["issued_on"] = self.issued_on.isoformat() if self.issued_on else None
        return data

    @classmethod
    def from_dict(cls, data):
        issued = data.get("issued_on")
        return cls(**{**data, "issued_on": datetime.date.fromisoformat(issued) if issued else None})

    @property
    def period(self):
        return f"{self.period_start}–{self.period_end}"


# ---------------------------------------------------------------- the file, checked whole, read once


def read_workbook(upload):
    """The rows of the criteria sheet, [[row number, [values]] …], or ValidationError refusing the whole file.

    Percentages formatted by Excel (0,8 shown as 80%) come back as the text "80%"; a formula stays a formula
    ("=…") and is refused later with its cell.
    """
    if not hasattr(upload, "size"):
        # An open file or a buffer (the command, tests): read at most one byte past the upload limit.
        upload = ContentFile(upload.read(IMPORT_MAX_BYTES + 1), name="bang.xlsx")
    try:
        _check_file(upload)
        return _read_sheet(upload)
    except ImportRefused as exc:
        raise ValidationError(str(exc)) from exc


def _check_file(upload):
    upload.seek(0)
    head = upload.read(len(_OLE2_MAGIC))
    if head == _OLE2_MAGIC:
        # Excel keeps a password-protected .xlsx inside an OLE2 container; an old .xls is one too.
        upload.seek(0)
        # The container's directory names its streams in UTF-16.
        encrypted = "EncryptionInfo".encode("utf-16-le") in upload.read(8 * 1024 * 1024)
        upload.seek(0)
        if encrypted:
            raise ImportRefused(_("Tệp Excel đang đặt mật khẩu: hãy bỏ mật khẩu, lưu lại dưới dạng .xlsx rồi tải lên."))
        raise ImportRefused(_("Tệp là định dạng Excel cũ (.xls): hãy mở bằng Excel và lưu dưới dạng .xlsx."))
    if head[:4] != b"PK\x03\x04":
        upload.seek(0)
        raise ImportRefused(
            _("Tệp tải lên không phải là bảng tính Excel (.xlsx). Hãy lưu bảng dưới dạng .xlsx rồi thử lại.")
        )
    upload.seek(0)
    check_upload(upload)  # size, a real workbook, and not a zip bomb
    try:
        with zipfile.ZipFile(upload) as archive:
            names = archive.namelist()
            macro = office_kind(archive, set(names)) == MACRO_FILE
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise ImportRefused(_("Tệp Excel bị hỏng, không mở được.")) from exc
    finally:
        upload.seek(0)
    if macro:
        raise ImportRefused(
            _("Tệp có chứa macro (như .xlsm) nên không được nhận, kể cả khi đã đổi đuôi. Hãy lưu lại dưới dạng .xlsx.")
        )
    if any(name.lower().startswith("xl/externallinks/") for name in names):
        raise ImportRefused(
            _(
                "Tệp có liên kết tới tệp Excel khác (liên kết ngoài): giá trị của nó có thể đổi theo tệp kia. Hãy "
                "chép rồi dán dạng giá trị (Paste Values), xóa liên kết (Data → Edit Links → Break Link) rồi tải lên."
            )
        )
    check_parts(upload)


def _norm(text):
    return " ".join(unicodedata.normalize("NFC", str(text)).split()).casefold()


def _scope_heading(text, regions):
    """The region code or commune group a heading names ("TDMNPB", "N1", "Nhóm 1"), or None."""
    key = _norm(text).replace(" ", "").upper()
    key = {f"NHÓM{n}": f"N{n}" for n in (1, 2, 3)}.get(key, key)
    if key in CommuneGroup.values or key in regions:
        return key
    return None


_KNOWN = {_norm(h): h for h in LEADING + TRAILING}


def _heading_row(rows):
    """The number of the first row that reads as the heading (the indicator code and another known heading)."""
    for number, values, *_rest in rows[:HEADING_SEARCH_ROWS]:
        known = {_KNOWN.get(_norm(v)) for v in values if v is not None} - {None}
        if CODE in known and len(known) >= 2:
            return number
    return None


def _no_heading():
    return ImportRefused(
        _(
            "Không tìm thấy dòng tiêu đề của bảng bộ tiêu chí trong %(n)s dòng đầu của trang nào. Dòng tiêu đề cần có "
            "các cột: %(columns)s (và tùy ý: %(optional)s)."
        )
        % {
            "n": HEADING_SEARCH_ROWS,
            "columns": " | ".join(REQUIRED),
            "optional": " | ".join(h for h in LEADING + TRAILING if h not in REQUIRED) + " | N1, N2, N3 hoặc mã vùng",
        }
    )


def _plain(cell):
    """A cell's value as JSON keeps it; a number Excel shows as a percentage (0,8 as 80%) is the text "80%"."""
    value = cell.value
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            return str(value)
        if "%" in (cell.number_format or ""):
            return _number_text(Decimal(str(value)) * 100) + "%"
        return int(value) if isinstance(value, float) and value.is_integer() else value
    return str(value)


def _number_text(number):
    """A Decimal as Vietnamese write it: 90,3; 80."""
    text = f"{Decimal(number).normalize():f}"
    return text.replace(".", ",")


def _read_sheet(upload):
    with unreadable_refused():  # a damaged sheet shows only as it streams
        workbook = load_workbook(upload, read_only=True, data_only=False)
        try:
            for ws in workbook.worksheets:
                if ws.sheet_state != "visible":
                    continue
                rows = ws.iter_rows(max_row=HEADING_SEARCH_ROWS)
                head = [[n, [c.value for c in row]] for n, row in enumerate(rows, 1)]
                if _heading_row(head) is not None:
                    return sheet_rows(ws, _plain)
        finally:
            workbook.close()
    raise _no_heading()


# ---------------------------------------------------------------- the dry run


@dataclass(frozen=True)
class BadCell:
    row: int
    column: str  # "I"
    header: str  # "So sánh"
    value: str
    reason: str

    def __str__(self):
        return _("Dòng %(row)s, cột %(column)s (%(header)s): %(value)s — %(reason)s") % {
            "row": self.row,
            "column": self.column,
            "header": self.header,
            "value": self.value if self.value != "" else _("(trống)"),
            "reason": self.reason,
        }


@dataclass
class PlannedThreshold:
    scope: str  # "" general, a region code, or N1/N2/N3
    year: int | None
    raw: str
    comparison: str
    value: Decimal | None
    verified: bool
    source: str
    note: str

    @property
    def display(self):
        if self.comparison == Comparison.MISSING:
            return _("chưa có ngưỡng")
        return self.raw or COMPARISON_LABELS[self.comparison]


@dataclass
class PlannedIndicator:
    row: int
    code: str
    name: str
    unit: str
    kind: str
    verified: bool
    note: str
    thresholds: list = field(default_factory=list)

    @property
    def kind_label(self):
        return KIND_LABELS[self.kind]


@dataclass
class PlannedCriterion:
    row: int
    number: int
    name: str
    group_code: str = ""
    group_name: str = ""
    verified: bool | None = None
    note: str = ""
    indicators: list = field(default_factory=list)


@dataclass
class Plan:
    """What importing the rows would create, and every cell it cannot accept."""

    meta: SetMeta
    code: str
    replaces: CriteriaSet | None
    criteria: list = field(default_factory=list)
    bad_cells: list = field(default_factory=list)

    @property
    def ok(self):
        return not self.bad_cells and bool(self.criteria)

    @property
    def indicator_count(self):
        return sum(len(c.indicators) for c in self.criteria)

    @property
    def threshold_count(self):
        return sum(len(i.thresholds) for c in self.criteria for i in c.indicators)

    @property
    def scheme(self):
        groups = {t.scope for c in self.criteria for i in c.indicators for t in i.thresholds}
        return ThresholdScheme.GROUP if groups & set(CommuneGroup.values) else ThresholdScheme.REGION


def version_code(code):
    """(the code to create, the set it replaces): a used code becomes the next free `<code>_vN`."""
    latest = CriteriaSet.objects.filter(code=code).first()
    if latest is None:
        return code, None
    match = _VERSION.match(code)
    base = match.group("base") if match else code
    versions = {}
    for used in CriteriaSet.objects.filter(code__startswith=base).values_list("code", flat=True):
        found = _VERSION.match(used)
        if found and found.group("base") == base:
            versions[used] = int(found.group("n"))
    number = max(versions.values(), default=1) + 1
    if versions:
        latest = CriteriaSet.objects.get(code=max(versions, key=versions.get))
    suffix = f"_v{number}"
    return base[: CriteriaSet._meta.get_field("code").max_length - len(suffix)] + suffix, latest


def _text(value):
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else _number_text(Decimal(str(value)))
    return str(value).strip()


class _Reader:
    """Reads the rows below the heading, collecting every bad cell as it goes."""

    def __init__(self, rows, meta):
        self.meta = meta
        self.regions = set(Region.objects.values_list("code", flat=True))
        self.bad = []
        self.criteria = {}  # number -> PlannedCriterion
        self.indicators = {}  # code -> (PlannedIndicator, criterion number)
        self.seen_years = {}  # (code, year) -> row
        heading = _heading_row(rows)
        if heading is None:
            raise ValidationError(str(_no_heading()))
        self.columns, self.scopes = self._columns(next(r for r in rows if r[0] == heading))
        self.body = [r for r in rows if r[0] > heading]

    def fail(self, row, index, value, reason):
        self.bad.append(BadCell(row, get_column_letter(index + 1), self.headers.get(index, ""), _text(value), reason))

    def _columns(self, heading_row):
        number, values = heading_row[0], heading_row[1]
        self.headers = {i: _text(v) for i, v in enumerate(values) if _text(v)}
        columns, scopes = {}, {}
        for index, text in self.headers.items():
            known = _KNOWN.get(_norm(text))
            scope = None if known else _scope_heading(text, self.regions)
            if known is None and scope is None:
                self.fail(
                    number,
                    index,
                    text,
                    _("không rõ là cột gì; dùng các tiêu đề %(known)s, hoặc N1, N2, N3 hay mã vùng (%(regions)s)")
                    % {"known": ", ".join(LEADING + TRAILING), "regions": ", ".join(sorted(self.regions))},
                )
            elif known in columns or (scope and scope in scopes.values()):
                self.fail(number, index, text, _("cột này đã có ở bên trái"))
            elif known:
                columns[known] = index
            else:
                scopes[index] = scope
        missing = [c for c in REQUIRED if c not in columns]
        if missing:
            raise ValidationError(
                _("Dòng %(row)s: thiếu cột %(columns)s. Dòng tiêu đề cần có: %(expected)s.")
                % {
                    "row": number,
                    "columns": ", ".join(f"“{c}”" for c in missing),
                    "expected": " | ".join(REQUIRED),
                }
            )
        return columns, scopes

    def read(self):
        current = None
        for number, values, *rest in self.body:
            formulas = rest[0] if rest else []
            cells = _Cells(self, number, values)
            for column in formulas:
                self.fail(number, column - 1, values[column - 1], _("ô chứa công thức; hãy ghi giá trị"))
            if formulas:
                continue
            for index, value in enumerate(values):
                if _text(value) and index not in self.headers:
                    self.fail(number, index, value, _("ô có dữ liệu nhưng cột không có tiêu đề"))
            current = self._criterion(cells, current)
            if current is None:
                continue
            if cells.text(CODE):
                self._indicator(cells, current)
            else:
                self._criterion_only(cells, current)
        return sorted(self.criteria.values(), key=lambda c: c.number)

    def _criterion(self, cells, current):
        raw = cells.text(NUMBER)
        if not raw:
            if current is None:
                cells.fail(NUMBER, _("chưa ghi số tiêu chí"))
            return current
        if not raw.isdigit() or int(raw) < 1:
            cells.fail(NUMBER, _("số tiêu chí là số nguyên dương (1, 2, … 19)"))
            return PlannedCriterion(cells.number, 0, "")  # its rows are still checked, never planned
        criterion = self.criteria.get(int(raw))
        if criterion is None:
            name = cells.limited(CRITERION, Criterion, "name")
            if not name:
                cells.fail(CRITERION, _("chưa ghi tên tiêu chí %(number)s") % {"number": raw})
            criterion = self.criteria[int(raw)] = PlannedCriterion(cells.number, int(raw), name)
        else:
            cells.same(CRITERION, criterion.name, criterion.row)
        for column, attr in ((GROUP, "group_code"), (GROUP_NAME, "group_name")):
            value = cells.limited(column, Criterion, attr)
            if value and not getattr(criterion, attr):
                setattr(criterion, attr, value)
            elif value:
                cells.same(column, getattr(criterion, attr), criterion.row)
        return criterion

    def _criterion_only(self, cells, criterion):
        """A row without an indicator code: the criterion alone (one with no indicators yet)."""
        filled = [c for c in (NAME, UNIT, KIND, COMPARISON, GENERAL, YEAR) if cells.text(c)]
        filled += [self.headers[i] for i in self.scopes if cells.value_at(i) not in (None, "")]
        if filled:
            cells.fail(CODE, _("chưa ghi mã chỉ tiêu (dòng có %(columns)s)") % {"columns": ", ".join(filled)})
            return
        criterion.note = criterion.note or cells.text(NOTE)
        verified = cells.verified(default=None)
        if verified is not None:
            criterion.verified = verified

    def _indicator(self, cells, criterion):
        code = cells.limited(CODE, Indicator, "code")
        found = self.indicators.get(code)
        if found is not None and found[1] != criterion.number:
            cells.fail(CODE, _("mã đã dùng cho chỉ tiêu của tiêu chí %(number)s") % {"number": found[1]})
            return
        year = cells.year()
        if (code, year) in self.seen_years:
            cells.fail(
                CODE,
                _("chỉ tiêu %(code)s đã có ở dòng %(row)s với cùng năm áp dụng")
                % {"code": code, "row": self.seen_years[(code, year)]},
            )
            return
        self.seen_years[(code, year)] = cells.number
        source = cells.limited(SOURCE, Threshold, "source") or self.meta.legal_basis
        verified = cells.verified(default=bool(source))
        if found is None:
            name = cells.text(NAME)
            if not name:
                cells.fail(NAME, _("chưa ghi tên chỉ tiêu"))
            indicator = PlannedIndicator(
                cells.number, code, name, cells.limited(UNIT, Indicator, "unit"), "", verified, cells.text(NOTE)
            )
            self.indicators[code] = (indicator, criterion.number)
            criterion.indicators.append(indicator)
        else:
            indicator = found[0]
            for column, attr in ((NAME, "name"), (UNIT, "unit")):
                cells.same(column, getattr(indicator, attr), indicator.row)
        comparison = cells.comparison()
        kind = cells.kind()
        percent = IndicatorKind.PERCENTAGE if indicator.unit.startswith("%") else None
        thresholds = self._thresholds(cells, comparison, kind or indicator.kind or percent, year, source, verified)
        indicator.thresholds += thresholds
        if not indicator.kind:
            first = thresholds[0].raw if thresholds else None
            indicator.kind = kind or catalogue.indicator_kind(indicator.unit, first)
            if not kind and comparison in (Comparison.YES, Comparison.NO):
                indicator.kind = IndicatorKind.BOOLEAN
        elif kind and kind != indicator.kind:
            cells.fail(KIND, _("khác loại đã ghi ở dòng %(row)s") % {"row": indicator.row})
        self._check_kind(cells, indicator, thresholds)

    def _check_kind(self, cells, indicator, thresholds):
        """A yes/no indicator judged on a number, or a measured one on Đạt/Không, would never be judged."""
        for t in thresholds:
            boolean = indicator.kind == IndicatorKind.BOOLEAN
            if boolean and t.comparison in VALUE_COMPARISONS:
                cells.fail(
                    KIND, _("chỉ tiêu có-không chỉ so với Đạt / Không (ngưỡng ở dòng này: %(raw)s)") % {"raw": t.raw}
                )
                return
            if not boolean and t.comparison in (Comparison.YES, Comparison.NO):
                cells.fail(KIND, _("chỉ tiêu đo bằng số không so với Đạt / Không; ghi Loại là có-không"))
                return

    def _thresholds(self, cells, comparison, kind, year, source, verified):
        found = []
        columns = [(self.columns[GENERAL], "")] if GENERAL in self.columns else []
        columns += list(self.scopes.items())
        written = False
        for index, scope in columns:
            raw = cells.text_at(index)
            if not raw:
                continue
            written = True
            parsed = self._threshold(cells, index, raw, comparison, kind)
            if parsed is not None:
                comparison_, value, raw_, note, unverified = parsed
                found.append(
                    PlannedThreshold(
                        scope,
                        year,
                        raw_,
                        comparison_,
                        value,
                        verified and not unverified and comparison_ != Comparison.MISSING,
                        source,
                        note,
                    )
                )
        if not written and comparison in (Comparison.YES, Comparison.NO, Comparison.MANUAL, Comparison.MISSING):
            # "So sánh: đạt" alone is the general threshold of a yes/no indicator.
            raw = {Comparison.YES: "Đạt", Comparison.NO: "Không"}.get(comparison, "")
            ok = verified and comparison != Comparison.MISSING
            found.append(PlannedThreshold("", year, raw, comparison, None, ok, source, ""))
        elif not written and comparison in VALUE_COMPARISONS:
            column = self.columns.get(GENERAL, self.columns[COMPARISON])
            cells.fail_at(
                column,
                _("so sánh %(op)s cần giá trị ngưỡng ở ít nhất một cột ngưỡng") % {"op": COMPARISON_LABELS[comparison]},
            )
        return found

    def _threshold(self, cells, index, raw, comparison, kind):
        """(comparison, value, raw, note, unverified) of one threshold cell, or None (the problem recorded)."""
        try:
            return read_threshold(raw, comparison=comparison, kind=kind)
        except _Refused as exc:
            cells.fail_at(index, str(exc))
            return None


class _Refused(Exception):
    """A cell that cannot be read; the message is the reason shown after its value."""


def read_threshold(raw, *, comparison, kind):
    """One threshold cell as (comparison, value, raw as stored, note, unverified), read by parse_threshold.

    `comparison` is the row's "So sánh" (None when blank): it says how a bare number compares, and must agree
    with a cell that writes its own comparison."""
    word = _CELL_WORDS.get(_norm(raw))
    if word is not None:
        return word, None, "", "", False
    try:
        parsed = readable_threshold(raw)
    except ValueError as exc:
        raise _Refused(str(exc)) from None
    if parsed.comparison in VALUE_COMPARISONS and not _OPERATOR.match(raw):
        raw = _compared(raw, comparison=comparison, kind=kind)
        parsed = evaluation.parse_threshold(raw)
    elif comparison is not None and comparison != parsed.comparison:
        raise _mismatch(parsed.comparison, comparison)
    limit = Threshold._meta.get_field("raw").max_length
    if len(raw) > limit:
        raise _Refused(_("dài quá %(n)s ký tự") % {"n": limit})
    return parsed.comparison, parsed.value, raw, parsed.note, parsed.unverified


def _compared(raw, *, comparison, kind):
    """A bare number ("80", or 80% from a percentage cell) with the comparison "So sánh" gives it."""
    if comparison not in VALUE_COMPARISONS:
        raise _Refused(_("ghi phép so sánh ở cột So sánh (≥, ≤, =) hoặc ngay trong ô (ví dụ ≥80%)"))
    if kind == IndicatorKind.PERCENTAGE and _BARE_NUMBER.fullmatch(raw):
        raw += "%"
    return COMPARISON_LABELS[comparison] + raw  # stored as decisions write it: ≥95%


def _mismatch(cell, column):
    if column in VALUE_COMPARISONS and cell == Comparison.MANUAL:
        return _Refused(
            _(
                "không đọc được con số để so sánh %(op)s; ghi như ≥80%% (phần giải thích để trong ngoặc), hoặc "
                "để trống cột So sánh nếu người đánh giá theo hướng dẫn"
            )
            % {"op": COMPARISON_LABELS[column]}
        )
    return _Refused(
        _("ô ghi %(cell)s nhưng cột So sánh ghi %(column)s")
        % {"cell": COMPARISON_LABELS[cell], "column": COMPARISON_LABELS[column]}
    )


class _Cells:
    """One row's cells, read by heading, each problem recorded with its row and column."""

    def __init__(self, reader, number, values):
        self.reader, self.number, self.values = reader, number, values

    def value_at(self, index):
        return self.values[index] if index < len(self.values) else None

    def text_at(self, index):
        return _text(self.value_at(index))

    def text(self, column):
        index = self.reader.columns.get(column)
        if index is None:
            return ""
        if column == CODE and isinstance(self.value_at(index), float):
            return str(self.value_at(index))  # a code typed as a number, 17.2, keeps its dot
        return self.text_at(index)

    def fail_at(self, index, reason):
        self.reader.fail(self.number, index, self.value_at(index), reason)

    def fail(self, column, reason):
        self.fail_at(self.reader.columns[column], reason)

    def limited(self, column, model, attr):
        text = self.text(column)
        limit = model._meta.get_field(attr).max_length
        if limit and len(text) > limit:
            self.fail(column, _("dài quá %(n)s ký tự") % {"n": limit})
            return text[:limit]
        return text

    def same(self, column, expected, row):
        text = self.text(column)
        if text and text != expected:
            self.fail(column, _("khác với dòng %(row)s (“%(expected)s”)") % {"row": row, "expected": expected})

    def year(self):
        text = self.text(YEAR)
        if not text:
            return None
        meta = self.reader.meta
        if not text.isdigit():
            self.fail(YEAR, _("không phải là năm"))
        elif not meta.period_start <= int(text) <= meta.period_end:
            self.fail(YEAR, _("nằm ngoài giai đoạn %(period)s") % {"period": meta.period})
        else:
            return int(text)
        return None

    def comparison(self):
        text = self.text(COMPARISON)
        if not text:
            return None
        found = _COMPARISON_WORDS.get(_norm(text))
        if found is None:
            self.fail(
                COMPARISON,
                _("không rõ phép so sánh; dùng %(words)s") % {"words": ", ".join(COMPARISON_LABELS.values())},
            )
        return found

    def kind(self):
        text = self.text(KIND)
        if not text:
            return None
        found = _KIND_WORDS.get(_norm(text).replace(" ", "").replace("/", "-"))
        if found is None:
            self.fail(KIND, _("không rõ loại; dùng số, tỷ lệ hoặc có-không"))
        return found

    def verified(self, *, default):
        text = _norm(self.text(VERIFIED))
        if not text:
            return default
        if text in _YES_WORDS:
            return True
        if text in _NO_WORDS:
            return False
        self.fail(VERIFIED, _("ghi “có” hoặc “không”"))
        return default


def dry_run(rows, *, meta: SetMeta) -> Plan:
    """What importing the workbook's rows as a new set would create, and every bad cell. Writes nothing."""
    code, replaces = version_code(meta.code)
    reader = _Reader(rows, meta)
    criteria = reader.read()
    plan = Plan(meta, code, replaces, criteria, reader.bad)
    if not criteria and not reader.bad:
        raise ValidationError(_("Bảng không có dòng tiêu chí nào dưới dòng tiêu đề."))
    return plan


# ---------------------------------------------------------------- the import


def _notes(plan, *, user, file_name):
    lines = [
        _("Nạp từ Excel%(file)s ngày %(day)s bởi %(who)s.")
        % {
            "file": f" “{file_name}”" if file_name else "",
            "day": vn_date(timezone.now()),
            "who": person_name(user, _("lệnh quản trị")),
        }
    ]
    if plan.replaces is not None:
        lines.append(
            _("Phiên bản mới, thay thế bộ tiêu chí “%(code)s” (%(name)s); bộ cũ và các kết quả của nó được giữ nguyên.")
            % {"code": plan.replaces.code, "name": plan.replaces.name}
        )
    return "\n".join(lines)


@transaction.atomic
def import_set(*, rows, meta: SetMeta, user=None, file_name="", expected_code=None) -> CriteriaSet:
    """Create the set, its criteria, indicators and thresholds from the rows, all or nothing.

    `expected_code` is the code the dry run showed: if another import took it since, nothing is written.
    """
    plan = dry_run(rows, meta=meta)
    if plan.bad_cells:
        raise ValidationError([str(b) for b in plan.bad_cells])
    if expected_code and plan.code != expected_code:
        raise ValidationError(
            _("Mã “%(code)s” vừa được dùng (có thể bảng này đã được ghi). Hãy xem lại danh sách bộ tiêu chí.")
            % {"code": expected_code}
        )
    criteria_set = CriteriaSet(
        code=plan.code,
        name=meta.name,
        level=meta.level,
        tier=meta.tier,
        period_start=meta.period_start,
        period_end=meta.period_end,
        legal_basis=meta.legal_basis,
        issued_on=meta.issued_on,
        issuer=meta.issuer,
        threshold_scheme=plan.scheme,
        notes=_notes(plan, user=user, file_name=file_name),
    )
    criteria_set.full_clean()
    try:
        with transaction.atomic():
            criteria_set.save()
    except IntegrityError as exc:  # the same code saved a moment ago (a double click)
        raise ValidationError(_("Mã “%(code)s” vừa được dùng; không ghi thêm.") % {"code": plan.code}) from exc
    regions = {r.code: r for r in Region.objects.all()}
    for planned in plan.criteria:
        criterion = Criterion.objects.create(
            criteria_set=criteria_set,
            number=planned.number,
            name=planned.name,
            group_code=planned.group_code,
            group_name=planned.group_name,
            verified=planned.verified
            if planned.verified is not None
            else bool(planned.indicators) and all(i.verified for i in planned.indicators),
            note=planned.note,
        )
        for item in planned.indicators:
            indicator = Indicator.objects.create(
                criterion=criterion,
                code=item.code,
                sort_key=evaluation.natural_key(item.code),
                name=item.name,
                unit=item.unit,
                kind=item.kind,
                verified=item.verified,
                note=item.note,
            )
            for t in item.thresholds:
                threshold = Threshold(
                    indicator=indicator,
                    region=regions.get(t.scope),
                    commune_group=t.scope if t.scope in CommuneGroup.values else "",
                    year=t.year,
                    raw=t.raw,
                    comparison=t.comparison,
                    value=t.value,
                    verified=t.verified,
                    source=t.source,
                    note=t.note,
                )
                threshold._history_user = user
                threshold.save()
    return criteria_set


# ---------------------------------------------------------------- the export, in the same layout


def _threshold_cell(threshold):
    """The threshold as the import reads it back to the same comparison and value; a number always carries its
    comparison ("100%" is written "≥100%"), so the cell reads the same whatever the row's "So sánh"."""
    comparison = threshold.comparison
    if comparison == Comparison.MISSING:
        return "chưa có ngưỡng"
    if comparison == Comparison.MANUAL:
        return threshold.raw or "đánh giá"
    if comparison in (Comparison.YES, Comparison.NO):
        return threshold.raw or {Comparison.YES: "Đạt", Comparison.NO: "Không"}[comparison]
    try:
        parsed = evaluation.parse_threshold(threshold.raw)
    except ValueError:
        parsed = None
    if parsed is not None and (parsed.comparison, parsed.value) == (comparison, threshold.value):
        return threshold.raw if _OPERATOR.match(threshold.raw) else COMPARISON_LABELS[comparison] + threshold.raw
    return COMPARISON_LABELS[comparison] + _number_text(threshold.value)


def _effective_thresholds(criteria_set):
    """{indicator id: [thresholds]} of a set; a province's variant lays its own rows over its national set's."""
    national = criteria_set.national_set
    rows = {}
    queryset = Threshold.objects.filter(indicator__criterion__criteria_set=national).select_related("region")
    for t in queryset.filter(variant__isnull=True):
        rows[(t.indicator_id, t.region_id, t.commune_group, t.year)] = t
    if criteria_set.parent_id:
        for t in queryset.filter(variant=criteria_set):
            rows[(t.indicator_id, t.region_id, t.commune_group, t.year)] = t
    by_indicator = {}
    for t in rows.values():
        by_indicator.setdefault(t.indicator_id, []).append(t)
    return by_indicator


def export_set(criteria_set) -> bytes:
    """The set as a workbook in the import's layout: export → import as a new version gives the same set."""
    national = criteria_set.national_set
    thresholds = _effective_thresholds(criteria_set)
    used = {(t.region.code if t.region_id else t.commune_group) for ts in thresholds.values() for t in ts} - {""}
    region_order = list(Region.objects.filter(code__in=used).order_by("position").values_list("code", flat=True))
    scopes = region_order + [g for g in CommuneGroup.values if g in used]
    headings = [*LEADING, *scopes, *TRAILING]

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET_TITLE
    sheet.append(headings)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"
    criteria = national.criteria.order_by("number").prefetch_related("indicators")
    for criterion in criteria:
        base = {
            NUMBER: criterion.number,
            CRITERION: criterion.name,
            GROUP: criterion.group_code,
            GROUP_NAME: criterion.group_name,
        }
        indicators = sorted(criterion.indicators.all(), key=lambda i: i.sort_key)
        if not indicators:
            _append(sheet, headings, {**base, VERIFIED: "có" if criterion.verified else "không", NOTE: criterion.note})
        for indicator in indicators:
            _append_indicator(sheet, headings, base, indicator, thresholds.get(indicator.pk, []), criteria_set)
    for index, heading in enumerate(headings, start=1):
        width = {CRITERION: 36, NAME: 60, NOTE: 40, SOURCE: 28}.get(heading, 14)
        sheet.column_dimensions[get_column_letter(index)].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _append_indicator(sheet, headings, base, indicator, thresholds, criteria_set):
    years = sorted({t.year for t in thresholds}, key=lambda y: (y is not None, y or 0)) or [None]
    verified = indicator.verified and all(t.verified for t in thresholds if t.comparison != Comparison.MISSING)
    for year in years:
        of_year = [t for t in thresholds if t.year == year]
        comparisons = {t.comparison for t in of_year}
        sources = {t.source for t in of_year}
        row = {
            **base,
            CODE: indicator.code,
            NAME: indicator.name,
            UNIT: indicator.unit,
            KIND: KIND_LABELS[indicator.kind],
            COMPARISON: COMPARISON_LABELS[comparisons.pop()] if len(comparisons) == 1 else "",
            YEAR: year,
            SOURCE: sources.pop() if len(sources) == 1 else criteria_set.legal_basis,
            VERIFIED: "có" if verified else "không",
            NOTE: indicator.note,
        }
        for t in of_year:
            row[t.region.code if t.region_id else (t.commune_group or GENERAL)] = _threshold_cell(t)
        _append(sheet, headings, row)


def _append(sheet, headings, row):
    sheet.append([row.get(h) if row.get(h) not in ("", None) else None for h in headings])
    for cell in sheet[sheet.max_row]:
        if is_formula_like(cell.value):
            cell.data_type = "s"
            cell.quotePrefix = True
