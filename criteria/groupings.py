"""Loading a province's decision grouping its communes (nhóm 1 / 2 / 3) for a period from an Excel table.

The table has a header row "Mã xã | Tên xã | Nhóm | Số quyết định | Ngày quyết định". A commune is found by its
official code among the units on the map on 1 January of the period's first year (codes repeat across the 2025
reform); "Tên xã" must be that unit's name, so a code typed wrong is caught. The file is taken whole or not at all:
one bad row rejects it, naming the row and the column ("Dòng 7, cột Nhóm: …"). Every change is in the history.
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from openpyxl import load_workbook

from areas.models import Area, CommuneGroup, CommuneGrouping
from criteria.models import CriteriaSet, ThresholdScheme
from criteria.services import recompute
from ntm_portal.spreadsheets import ImportRefused, check_upload

CODE, NAME, GROUP, NUMBER, DATE = "Mã xã", "Tên xã", "Nhóm", "Số quyết định", "Ngày quyết định"
COLUMNS = (CODE, NAME, GROUP, NUMBER, DATE)
REQUIRED = (CODE, NAME, GROUP)
GROUP_WORDS = {"1": CommuneGroup.N1, "2": CommuneGroup.N2, "3": CommuneGroup.N3}


class GroupingImportError(Exception):
    """The whole file is refused; `errors` lists every problem found."""

    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__("; ".join(self.errors))


@dataclass(frozen=True)
class GroupingReport:
    created: int
    updated: int
    unchanged: int

    def message(self):
        return _(
            "Đã nhập xếp nhóm xã: %(created)s xã mới xếp nhóm, %(updated)s xã đổi nhóm hoặc quyết định, "
            "%(same)s xã giữ nguyên."
        ) % {
            "created": self.created,
            "updated": self.updated,
            "same": self.unchanged,
        }


@dataclass(frozen=True)
class _Row:
    number: int
    area: Area
    group: str
    decision_number: str
    decision_date: datetime.date | None


def _text(value):
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split())


def _group(value):
    """'1', 1, 'Nhóm 1', 'nhóm 1', 'N1' → N1; anything else None."""
    text = _text(value).lower().replace("nhóm", "").strip().removeprefix("n").strip()
    return GROUP_WORDS.get(text)


def _date(value):
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = _text(value)
    for pattern in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y"):
        try:
            return datetime.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(text)


def _same_name(unit, written):
    written = written.lower()
    return written in {unit.name.lower(), unit.full_name.lower()}


def _sheet(workbook_file):
    """The first sheet's rows as lists of values (row number, values), within the import limits."""
    try:
        check_upload(workbook_file)
    except ImportRefused as exc:
        raise GroupingImportError([str(exc)])
    try:
        workbook = load_workbook(workbook_file, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a broken workbook: each means the same to the user
        raise GroupingImportError([_("Tệp Excel bị hỏng, không mở được.")])
    rows = []
    try:
        for number, row in enumerate(workbook.worksheets[0].iter_rows(values_only=True), start=1):
            if number > settings.NTM_IMPORT_MAX_ROWS:
                raise GroupingImportError(
                    [_("Bảng có quá nhiều dòng: tối đa %(n)s dòng.") % {"n": settings.NTM_IMPORT_MAX_ROWS}]
                )
            rows.append((number, list(row[: len(COLUMNS) + 10])))
    finally:
        workbook.close()
    return rows


def _positions(header):
    names = [_text(v) for v in header]
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise GroupingImportError(
            [
                _("Dòng 1: thiếu cột %(columns)s. Dòng tiêu đề cần có: %(expected)s.")
                % {"columns": ", ".join(f"“{c}”" for c in missing), "expected": " | ".join(COLUMNS)}
            ]
        )
    return {name: names.index(name) for name in COLUMNS if name in names}


class _RowReader:
    """Reads the rows of one table, collecting every problem as it goes."""

    def __init__(self, position, units, start):
        self.position, self.units, self.start = position, units, start
        self.errors, self.seen = [], {}

    def fail(self, number, column, message):
        self.errors.append(
            _("Dòng %(row)s, cột %(column)s: %(message)s") % {"row": number, "column": column, "message": message}
        )

    def read(self, number, values):
        """The row as a _Row, or None when it has a problem (then recorded in `errors`)."""

        def cell(column):
            index = self.position.get(column)
            return values[index] if index is not None and index < len(values) else None

        unit = self._unit(number, _text(cell(CODE)), _text(cell(NAME)))
        group = _group(cell(GROUP))
        if group is None:
            self.fail(number, GROUP, _("'%(value)s' không phải là nhóm 1, 2 hoặc 3") % {"value": _text(cell(GROUP))})
        day = None
        if _text(cell(DATE)):
            try:
                day = _date(cell(DATE))
            except ValueError:
                self.fail(
                    number, DATE, _("'%(value)s' không phải là ngày (viết 15/01/2026)") % {"value": _text(cell(DATE))}
                )
        if unit is None or group is None:
            return None
        return _Row(number, unit, group, _text(cell(NUMBER))[:100], day)

    def _unit(self, number, code, name):
        unit = self.units.get(code)
        if not code:
            self.fail(number, CODE, _("chưa ghi mã xã"))
        elif unit is None:
            self.fail(
                number,
                CODE,
                _("không có xã mã '%(code)s' trên bản đồ ngày %(day)s")
                % {"code": code, "day": self.start.strftime("%d/%m/%Y")},
            )
        elif code in self.seen:
            self.fail(number, CODE, _("xã mã '%(code)s' đã có ở dòng %(row)s") % {"code": code, "row": self.seen[code]})
            unit = None
        elif not _same_name(unit, name):
            self.fail(
                number,
                NAME,
                _("mã '%(code)s' là %(unit)s, không phải '%(name)s'")
                % {"code": code, "unit": unit.full_name, "name": name},
            )
            unit = None
        self.seen.setdefault(code, number)
        return unit


def read_rows(workbook_file, *, period_start: int) -> list[_Row]:
    """Every row of the table, checked; GroupingImportError lists every problem ("Dòng 7, cột Nhóm: …")."""
    rows = _sheet(workbook_file)
    if not rows:
        raise GroupingImportError([_("Bảng trống: cần dòng tiêu đề %(expected)s.") % {"expected": " | ".join(COLUMNS)}])
    position = _positions(rows[0][1])
    body = [(n, values) for n, values in rows[1:] if any(_text(v) for v in values)]
    codes = {_text(values[position[CODE]]) for _n, values in body if position[CODE] < len(values)}
    start = datetime.date(period_start, 1, 1)
    units = {a.code: a for a in Area.objects.communes().filter(code__in=codes).valid_on(start)}
    reader = _RowReader(position, units, start)
    parsed = [row for number, values in body if (row := reader.read(number, values)) is not None]
    if reader.errors:
        raise GroupingImportError(reader.errors)
    if not parsed:
        raise GroupingImportError([_("Bảng không có dòng nào dưới dòng tiêu đề.")])
    return parsed


@transaction.atomic
def set_grouping(
    *,
    area: Area,
    group: str,
    period_start: int = 2026,
    period_end: int = 2030,
    decision_number: str = "",
    decision_date: datetime.date | None = None,
    note: str = "",
    user=None,
    restate: bool = True,
) -> tuple[CommuneGrouping, bool]:
    """Set a commune's group for a period; (grouping, changed). An unchanged grouping is not saved again; a changed
    one has the commune's stored verdicts of the period judged again (unless `restate` is False: the caller does)."""
    grouping = CommuneGrouping.objects.filter(area=area, period_start=period_start).first()
    wanted = {
        "period_end": period_end,
        "group": group,
        "decision_number": decision_number,
        "decision_date": decision_date,
        "note": note,
    }
    if grouping is not None and all(getattr(grouping, k) == v for k, v in wanted.items()):
        return grouping, False
    grouping = grouping or CommuneGrouping(area=area, period_start=period_start)
    for key, value in wanted.items():
        setattr(grouping, key, value)
    grouping.full_clean(validate_unique=False)
    grouping._history_user = user
    grouping.save()
    if restate:
        restate_groups(areas=[area], period_start=period_start, period_end=period_end, user=user)
    return grouping, True


def restate_groups(*, areas, period_start: int, period_end: int, user=None) -> int:
    """Judge again the stored results of these communes under the sets chosen by group that overlap the period:
    their thresholds follow the group (the criterion rows that move are in the history under `user`). Returns how
    many results were judged."""
    sets = CriteriaSet.objects.national().filter(
        threshold_scheme=ThresholdScheme.GROUP, period_start__lte=period_end, period_end__gte=period_start
    )
    return sum(recompute(criteria_set=s, areas=areas, user=user) for s in sets)


@transaction.atomic
def import_groupings(workbook_file, *, period_start: int, period_end: int, user=None) -> GroupingReport:
    """Read the whole table, then write every row (all rows or none) and judge again the stored verdicts of the
    communes whose group changed."""
    rows = read_rows(workbook_file, period_start=period_start)
    existing = set(
        CommuneGrouping.objects.filter(area__in=[r.area for r in rows], period_start=period_start).values_list(
            "area_id", flat=True
        )
    )
    created = updated = unchanged = 0
    changed_areas = []
    for row in rows:
        kept = (
            CommuneGrouping.objects.filter(area=row.area, period_start=period_start)
            .values_list("note", flat=True)
            .first()
        )
        _grouping, changed = set_grouping(
            area=row.area,
            group=row.group,
            period_start=period_start,
            period_end=period_end,
            decision_number=row.decision_number,
            decision_date=row.decision_date,
            note=kept or "",
            user=user,
            restate=False,
        )
        if changed:
            changed_areas.append(row.area)
        if not changed:
            unchanged += 1
        elif row.area.pk in existing:
            updated += 1
        else:
            created += 1
    if changed_areas:
        restate_groups(areas=changed_areas, period_start=period_start, period_end=period_end, user=user)
    return GroupingReport(created, updated, unchanged)
