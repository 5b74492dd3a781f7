"""Loading a province's own decision on thresholds (e.g. Tuyên Quang QĐ 479/QĐ-UBND) from an Excel table.

The table has a header row "Mã chỉ tiêu | Ngưỡng | Vùng | Năm | Ghi chú" ("Vùng", "Năm" and "Ghi chú" may be
left out). The file is taken whole or not at all: one bad row rejects it, naming the row and the column.
"""

import datetime
import re
import zipfile
from dataclasses import dataclass

import openpyxl
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from openpyxl.utils.exceptions import InvalidFileException

from areas.models import Area, CommuneGroup, Level, Region
from criteria import evaluation, services
from criteria.models import VALUE_COMPARISONS, CriteriaSet, Indicator, Threshold
from ntm_portal.vietnamese import parse_vn_number

CODE, THRESHOLD, REGION, YEAR, NOTE = "Mã chỉ tiêu", "Ngưỡng", "Vùng", "Năm", "Ghi chú"
REQUIRED_COLUMNS = (CODE, THRESHOLD)
KNOWN_COLUMNS = (CODE, THRESHOLD, REGION, YEAR, NOTE)
# "≥ 2 trường đạt chuẩn" is a rule a person assesses; "≥" or "≤ %" has lost its number.
_OPERATOR_WITHOUT_NUMBER = re.compile(r"^\s*(≥|>=|≤|<=|=|>|<)(?!\s*\d)")

# A decision's table is a few hundred rows. openpyxl unpacks whole parts (shared strings, styles) into memory,
# so a file far larger than that, packed or unpacked, is refused before openpyxl sees it.
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_UNPACKED_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class VariantReport:
    criteria_set: CriteriaSet
    created: int
    updated: int
    removed: int
    recomputed: int


@dataclass(frozen=True)
class _Row:
    number: int
    indicator: Indicator
    region: Region | None
    commune_group: str
    year: int | None
    raw: str
    note: str


def _text(value):
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _threshold_text(cell):
    """The threshold as written; an Excel percentage cell (0,8 shown as 80%) is read as 80%."""
    value = cell.value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "%" in (cell.number_format or ""):
            return f"{parse_vn_number(value) * 100:f}".rstrip("0").rstrip(".") + "%"
        return f"{parse_vn_number(value):f}".replace(".", ",")
    return _text(value)


def lacks_value(raw, parsed):
    """'≥', '≤ %' or '= (theo hướng dẫn)': a comparison written without the number it compares with."""
    if parsed.comparison in VALUE_COMPARISONS:
        return parsed.value is None
    return bool(_OPERATOR_WITHOUT_NUMBER.match(raw))


def readable_threshold(raw):
    """The threshold as parse_threshold reads it; ValueError with the reason when it cannot be compared."""
    try:
        parsed = evaluation.parse_threshold(raw)
    except ValueError:
        raise ValueError(_("viết số kiểu Việt Nam, dấu phẩy cho phần thập phân (90,3)")) from None
    if lacks_value(raw, parsed):  # "≥", "≤ %": an operator with nothing to compare with
        raise ValueError(_("so sánh ≥, ≤ hoặc = cần có giá trị (ví dụ ≥80%)"))
    return parsed


def _file_size(workbook_file):
    size = getattr(workbook_file, "size", None)
    if size is None:
        position = workbook_file.tell()
        size = workbook_file.seek(0, 2)
        workbook_file.seek(position)
    return size


def check_workbook_file(workbook_file):
    """Refuse a file too large, packed or once unpacked, before anything reads its content. Python's zipfile
    never inflates an entry past the size its header declares, so the declared sizes are a safe bound."""
    if _file_size(workbook_file) > MAX_FILE_BYTES:
        raise ValidationError(_("Tệp quá lớn: bảng ngưỡng tối đa %(mb)s MB.") % {"mb": MAX_FILE_BYTES // (1024 * 1024)})
    workbook_file.seek(0)
    try:
        with zipfile.ZipFile(workbook_file) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        unpacked = 0  # not a zip at all: openpyxl refuses it below with the usual message
    finally:
        workbook_file.seek(0)
    if unpacked > MAX_UNPACKED_BYTES:
        raise ValidationError(_("Tệp Excel quá lớn sau khi giải nén; đây không phải là một bảng ngưỡng."))


def _open_sheet(workbook_file):
    check_workbook_file(workbook_file)
    try:
        return openpyxl.load_workbook(workbook_file, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError):
        raise ValidationError(
            _("Tệp tải lên không phải là bảng tính Excel (.xlsx). Hãy lưu bảng dưới dạng .xlsx rồi thử lại.")
        )


def _column_positions(header):
    """Where each known column is, from the header row; a missing required column rejects the file."""
    names = [_text(c.value) for c in header] if header else []
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise ValidationError(
            _("Dòng 1: thiếu cột %(columns)s. Dòng tiêu đề cần có: %(expected)s.")
            % {"columns": ", ".join(f"“{c}”" for c in missing), "expected": " | ".join(KNOWN_COLUMNS)}
        )
    return {name: names.index(name) for name in KNOWN_COLUMNS if name in names}


class _RowReader:
    """Reads the rows of one table against a national set, collecting every problem as it goes."""

    def __init__(self, parent_set, position):
        self.parent_set = parent_set
        self.position = position
        self.indicators = {i.code: i for i in Indicator.objects.in_set(parent_set.national_set)}
        self.regions = {r.code: r for r in Region.objects.all()}
        self.errors, self.seen = [], {}

    def fail(self, number, column, message):
        self.errors.append(
            _("Dòng %(row)s, cột %(column)s: %(message)s") % {"row": number, "column": column, "message": message}
        )

    def read(self, number, cells):
        """The row as a _Row, or None when it is blank or has a problem (then recorded in `errors`)."""

        def cell(column):
            index = self.position.get(column)
            return cells[index] if index is not None and index < len(cells) else None

        if all(c.value is None or _text(c.value) == "" for c in cells):
            return None
        code = _text(cell(CODE).value if cell(CODE) else None)
        indicator = self._indicator(number, code)
        raw = _threshold_text(cell(THRESHOLD)) if cell(THRESHOLD) else ""
        if not raw:
            self.fail(number, THRESHOLD, _("chưa ghi ngưỡng"))
        scope = _text(cell(REGION).value) if cell(REGION) else ""
        region, group = self._scope(number, scope)
        year = self._year(number, _text(cell(YEAR).value) if cell(YEAR) else "")
        key = (code, scope, year)
        if indicator is not None and key in self.seen:
            self.fail(
                number,
                CODE,
                _("chỉ tiêu '%(code)s' đã có ở dòng %(row)s với cùng vùng và năm")
                % {"code": code, "row": self.seen[key]},
            )
        self.seen.setdefault(key, number)
        note = _text(cell(NOTE).value) if cell(NOTE) else ""
        raw = self._checked_threshold(number, raw)
        if indicator is not None and raw:
            return _Row(number, indicator, region, group, year, raw, note)
        return None

    def _indicator(self, number, code):
        indicator = self.indicators.get(code)
        if not code:
            self.fail(number, CODE, _("chưa ghi mã chỉ tiêu"))
        elif indicator is None:
            self.fail(number, CODE, _("không có chỉ tiêu '%(code)s' trong bộ tiêu chí") % {"code": code})
        return indicator

    def _scope(self, number, scope):
        """(region, commune group) of the "Vùng" column: a region's code or a commune group."""
        if scope in CommuneGroup.values:
            return None, scope
        region = None
        if scope:
            region = self.regions.get(scope)
            if region is None:
                self.fail(
                    number,
                    REGION,
                    _("không có vùng mã '%(code)s' (dùng một trong: %(codes)s)")
                    % {"code": scope, "codes": ", ".join(self.regions)},
                )
        return region, ""

    def _year(self, number, year_text):
        if not year_text:
            return None
        if not year_text.isdigit():
            self.fail(number, YEAR, _("'%(value)s' không phải là năm") % {"value": year_text})
            return None
        year = int(year_text)
        if not self.parent_set.covers(year):
            self.fail(
                number,
                YEAR,
                _("năm %(year)s nằm ngoài giai đoạn %(period)s") % {"year": year, "period": self.parent_set.period},
            )
        return year

    def _checked_threshold(self, number, raw):
        """The threshold as written when it can be read, else "" (the problem recorded)."""
        try:
            readable_threshold(raw)
        except ValueError as exc:
            self.fail(number, THRESHOLD, f"'{raw}': {exc}")
            return ""
        return raw


def read_rows(workbook_file, *, parent_set):
    """Read and check every row; raise ValidationError listing every problem ("Dòng 7, cột …: …")."""
    workbook = _open_sheet(workbook_file)
    rows = workbook.worksheets[0].iter_rows()
    reader = _RowReader(parent_set, _column_positions(next(rows, None)))
    parsed = [row for number, cells in enumerate(rows, start=2) if (row := reader.read(number, cells)) is not None]
    workbook.close()
    if reader.errors:
        raise ValidationError(reader.errors)
    if not parsed:
        raise ValidationError(_("Bảng không có dòng ngưỡng nào dưới dòng tiêu đề."))
    return parsed


def province_for(code, *, parent_set):
    """The province with this code as it stood when the set began (codes repeat on the 2025 map)."""
    provinces = list(Area.objects.provinces().filter(code=code).in_year(parent_set.period_start))
    if len(provinces) != 1:
        raise ValidationError(
            _("Không có tỉnh mã '%(code)s' trong giai đoạn %(period)s.") % {"code": code, "period": parent_set.period}
        )
    return provinces[0]


@transaction.atomic
def import_variant(
    *,
    workbook_file,
    parent_set: CriteriaSet,
    province: Area,
    code: str,
    name: str,
    legal_basis: str,
    issued_on: datetime.date | None,
    user=None,
) -> VariantReport:
    """Create or update a province's variant of a national set from its decision's table, then re-evaluate.

    Rows of an earlier load of the same variant that the new table no longer has are removed: the table is the
    decision.
    """
    if parent_set.parent_id:
        raise ValidationError(_("Chỉ cụ thể hóa được bộ tiêu chí quốc gia, không phải bộ của tỉnh."))
    if province.level != Level.PROVINCE:
        raise ValidationError(_("Bộ tiêu chí cụ thể hóa phải do một tỉnh ban hành."))
    rows = read_rows(workbook_file, parent_set=parent_set)

    variant = CriteriaSet.objects.filter(code=code).first()
    if variant is not None and (variant.parent_id != parent_set.pk or variant.province_id != province.pk):
        raise ValidationError(
            _("Mã '%(code)s' đã dùng cho bộ tiêu chí khác (%(name)s).") % {"code": code, "name": variant.name}
        )
    other = CriteriaSet.objects.filter(parent=parent_set, province=province).exclude(code=code).first()
    if other is not None:
        raise ValidationError(
            _("%(province)s đã có bộ cụ thể hóa '%(code)s' của bộ này; hãy cập nhật bộ đó.")
            % {"province": province.name, "code": other.code}
        )
    if variant is None:
        variant = CriteriaSet(code=code, parent=parent_set, province=province)
    variant.name = name
    variant.level = parent_set.level
    variant.tier = parent_set.tier
    variant.period_start = parent_set.period_start
    variant.period_end = parent_set.period_end
    variant.threshold_scheme = parent_set.threshold_scheme
    variant.legal_basis = legal_basis
    variant.issued_on = issued_on
    variant.issuer = _("UBND %(province)s") % {"province": province.full_name}
    variant.full_clean()
    variant.save()

    existing = {
        (t.indicator_id, t.region_id, t.commune_group, t.year): t for t in Threshold.objects.filter(variant=variant)
    }
    created = updated = 0
    source = f"{legal_basis} ({issued_on:%d/%m/%Y})" if issued_on else legal_basis
    for row in rows:
        key = (row.indicator.pk, row.region.pk if row.region else None, row.commune_group, row.year)
        threshold = existing.pop(key, None)
        if threshold is None:
            threshold = Threshold(
                indicator=row.indicator,
                variant=variant,
                region=row.region,
                commune_group=row.commune_group,
                year=row.year,
            )
            created += 1
        else:
            updated += 1
        parsed = evaluation.parse_threshold(row.raw)
        threshold.raw = row.raw
        threshold.comparison = parsed.comparison
        threshold.value = parsed.value
        # The province's own decision is the source: confirmed unless the table itself doubts the figure.
        threshold.verified = not parsed.unverified
        threshold.source = source
        threshold.note = row.note or parsed.note
        threshold._history_user = user
        threshold.save()
    for threshold in existing.values():
        threshold._history_user = user
        threshold.delete()
    # A province's thresholds judge only its own units: the rest of the country is not read again (the whole
    # national set took minutes at 8,000 communes, in the administrator's request).
    recomputed = services.recompute(criteria_set=parent_set, areas=Area.objects.within(province), user=user)
    return VariantReport(variant, created, updated, len(existing), recomputed)
