"""Recognition decisions taken before the portal, loaded from an Excel list (danh sách quyết định công nhận).

One row per decision, under a heading row "Mã xã | Tên xã | Bộ tiêu chí | Năm | Số quyết định | Ngày quyết định":

- the commune (or district) is found by its official code among the units in force on the decision's date, else on
  31/12 of the year, else at any time of the year (areas/timeline.py `unit_by_code`; codes repeat across the 2025
  reform). "Tên xã" must then name that unit. Without a code it is found by its name among the communes and
  districts the importer administers; two of the same name are a bad cell naming both;
- "Bộ tiêu chí" is a set's code (xa_ntm_2016_2020) or its tier and period as people write them ("NTM 2016-2020",
  "NTM nâng cao 2021-2025"), read at the level of the unit: a district's row takes the district set;
- the year lies within the set's period; the date is a date cell or "dd/mm/yyyy", not after today.

The file is read once (imports/workbook.py: its checks, limits and refusals) into plain cells, kept with the upload
until confirmed. The dry run lists each row and every bad cell as "Dòng N, cột X (heading): value — reason"; the
commit writes every row or none, in one transaction, through `services.record_past_decision` (the same decision
recorded again changes nothing; a revoked file is never overwritten).
"""

import datetime
import re
import unicodedata
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl.utils import get_column_letter

from areas import access, timeline
from areas.models import Area, Level
from criteria.catalogue_excel import BadCell
from criteria.models import CriteriaSet, SetLevel, Tier
from imports import workbook
from ntm_portal.spreadsheets import ImportRefused
from ntm_portal.vietnamese import vn_date
from recognition import services
from recognition.models import RecognitionFile, Stage

CODE, NAME, SET, YEAR, NUMBER, DATE = "Mã xã", "Tên xã", "Bộ tiêu chí", "Năm", "Số quyết định", "Ngày quyết định"
COLUMNS = (CODE, NAME, SET, YEAR, NUMBER, DATE)
REQUIRED = (SET, YEAR, NUMBER, DATE)
HEADING_SEARCH_ROWS = 10
UNIT_LEVELS = (Level.COMMUNE, Level.DISTRICT)
SET_LEVEL = {Level.COMMUNE: SetLevel.COMMUNE, Level.DISTRICT: SetLevel.DISTRICT}
NUMBER_MAX = RecognitionFile._meta.get_field("decision_number").max_length

# Words that name a unit's kind before its name ("xã An Dương"), longest first.
KIND_WORDS = ("thị trấn", "thị xã", "thành phố", "phường", "huyện", "quận", "xã")
# Tier words as people write them, without diacritics; the first that appears wins (longest first).
TIER_WORDS = (
    ("nang cao", Tier.ADVANCED),
    ("kieu mau", Tier.MODEL),
    ("hien dai", Tier.MODERN),
    ("nong thon moi", Tier.STANDARD),
    ("ntm", Tier.STANDARD),
)
PERIOD = re.compile(r"(\d{4})\s*[-–—/]\s*(\d{4})")


# ---------------------------------------------------------------- reading the file


def read_file(data: bytes, *, file_name: str = "") -> dict:
    """The list's sheet as kept cells {"file_name", "rows": [[row number, [values]] …]}, or ImportRefused.

    The first visible sheet whose first rows hold the heading is taken; dates come as "dd/mm/yyyy" text."""
    book = workbook.read(data, file_name=file_name)
    for sheet in book["sheets"]:
        if sheet["hidden"]:
            continue
        rows = [[number, values] for number, values, *_marks in sheet["rows"]]
        if _heading(rows) is not None:
            return {"file_name": file_name[-200:], "rows": rows}
    raise ImportRefused(
        _(
            "Không tìm thấy dòng tiêu đề của danh sách quyết định công nhận trong %(n)s dòng đầu. Dòng tiêu đề cần "
            "có: %(columns)s (có “Mã xã”, “Tên xã” hoặc cả hai)."
        )
        % {"n": HEADING_SEARCH_ROWS, "columns": " | ".join(COLUMNS)}
    )


def _norm(text) -> str:
    return " ".join(unicodedata.normalize("NFC", str(text)).split()).casefold()


def _ascii(text) -> str:
    """Lower case without diacritics ("NTM nâng cao" → "ntm nang cao")."""
    decomposed = unicodedata.normalize("NFD", _norm(text).replace("đ", "d"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


_KNOWN = {_norm(h): h for h in COLUMNS}


def _heading(rows):
    """(row number, {heading: column index}) of the first row holding every required heading and a commune column."""
    for number, values in rows[:HEADING_SEARCH_ROWS]:
        found = {}
        for index, value in enumerate(values):
            heading = _KNOWN.get(_norm(value)) if value is not None else None
            if heading and heading not in found:
                found[heading] = index
        if all(h in found for h in REQUIRED) and (CODE in found or NAME in found):
            return number, found
    return None


# ---------------------------------------------------------------- the dry run


@dataclass
class PlannedDecision:
    row: int
    area: Area
    criteria_set: CriteriaSet
    year: int
    number: str
    date: datetime.date
    change: str  # "new", "same", "changed", "workflow"
    before: str = ""

    @property
    def decision(self):
        return _("QĐ %(number)s ngày %(date)s") % {"number": self.number, "date": vn_date(self.date)}

    @property
    def change_label(self):
        return {
            "new": _("Ghi mới"),
            "same": _("Đã có, không đổi"),
            "changed": _("Đổi quyết định (trước: %(before)s)") % {"before": self.before},
            "workflow": _("Hồ sơ đang ở bước “%(stage)s”: chuyển sang “Đã công nhận”") % {"stage": self.before},
        }[self.change]

    @property
    def area_label(self):
        parent = self.area.district or self.area.province
        parent = f", {parent.full_name}" if parent is not None and parent.pk != self.area.pk else ""
        return f"{self.area.full_name} ({self.area.code}){parent}"


@dataclass
class Plan:
    rows: list = field(default_factory=list)
    bad_cells: list = field(default_factory=list)
    file_name: str = ""

    @property
    def ok(self):
        return bool(self.rows) and not self.bad_cells

    def count(self, change):
        return sum(1 for row in self.rows if row.change == change)


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split())


def _without_kind(name: str) -> str:
    lowered = _norm(name)
    for word in KIND_WORDS:
        if lowered.startswith(word + " "):
            return name.strip()[len(word) + 1 :].strip()
    return name.strip()


def _same_name(unit, written):
    return _norm(_without_kind(written)) == _norm(unit.name)


def _date(value):
    text = _text(value)
    for pattern in ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d"):
        try:
            return datetime.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def _year(value):
    text = _text(value)
    return int(text) if re.fullmatch(r"\d{4}", text) else None


class _Reader:
    """Reads the rows of one list, collecting every bad cell as it goes."""

    def __init__(self, heading_row, position, *, user):
        self.heading_row, self.position, self.user = heading_row, position, user
        self.everything = user is None or user.is_superuser
        self.reach = None if self.everything else access.administered_areas(user)
        self.bad, self.seen = [], {}
        self.today = timezone.localdate()

    def fail(self, row, heading, value, reason):
        index = self.position[heading]
        self.bad.append(BadCell(row, get_column_letter(index + 1), heading, _text(value), reason))

    def cell(self, values, heading):
        index = self.position.get(heading)
        return values[index] if index is not None and index < len(values) else None

    def read(self, number, values):
        """The row as a PlannedDecision, or None when a cell of it is bad (then recorded)."""
        year, day = self._year(number, values), self._date(number, values)
        decision = _text(self.cell(values, NUMBER))
        if not decision:
            self.fail(number, NUMBER, "", _("chưa ghi số quyết định"))
        elif len(decision) > NUMBER_MAX:
            self.fail(number, NUMBER, decision, _("dài quá %(n)s ký tự") % {"n": NUMBER_MAX})
            decision = ""
        area = self._area(number, values, year, day)
        criteria_set = self._set(number, values, area, year) if area is not None else None
        if None in (area, criteria_set, year, day) or not decision:
            return None
        national = criteria_set.national_set
        key = (area.pk, national.pk, year)
        if key in self.seen:
            self.fail(
                number,
                CODE if CODE in self.position else NAME,
                self.cell(values, CODE if CODE in self.position else NAME),
                _("%(area)s, %(set)s, năm %(year)s đã có ở dòng %(row)s")
                % {"area": area.full_name, "set": national.code, "year": year, "row": self.seen[key]},
            )
            return None
        self.seen[key] = number
        planned = PlannedDecision(number, area, national, year, decision, day, "new")
        file = RecognitionFile.objects.filter(area=area, criteria_set=national, year=year).first()
        if file is None:
            return planned
        if file.stage == Stage.REVOKED:
            self.fail(
                number,
                NUMBER,
                decision,
                _("quyết định công nhận %(area)s năm %(year)s đã bị thu hồi; danh sách không ghi đè việc thu hồi")
                % {"area": area.full_name, "year": year},
            )
            return None
        if file.stage == Stage.RECOGNISED:
            if (file.decision_number, file.decision_date) == (decision, day):
                planned.change = "same"
            else:
                planned.change = "changed"
                planned.before = _("QĐ %(number)s ngày %(date)s") % {
                    "number": file.decision_number or "—",
                    "date": vn_date(file.decision_date) if file.decision_date else "—",
                }
        else:
            planned.change, planned.before = "workflow", file.stage_label
        return planned

    def _year(self, number, values):
        raw = self.cell(values, YEAR)
        year = _year(raw)
        if year is None:
            self.fail(number, YEAR, raw, _("không phải là năm (viết 2019)") if _text(raw) else _("chưa ghi năm"))
        elif year > self.today.year:
            self.fail(number, YEAR, raw, _("năm sau năm nay"))
            year = None
        return year

    def _date(self, number, values):
        raw = self.cell(values, DATE)
        day = _date(raw)
        if day is None:
            reason = _("không phải là ngày (viết 20/12/2019)") if _text(raw) else _("chưa ghi ngày quyết định")
            self.fail(number, DATE, raw, reason)
        elif day > self.today:
            self.fail(number, DATE, raw, _("ngày quyết định không thể sau hôm nay"))
            day = None
        return day

    # ---- the commune

    def _days(self, year, day):
        """The days a unit is looked for on: the decision's date, then the year's reporting date."""
        days = [d for d in (day, timeline.reporting_date(year) if year else None) if d is not None]
        return list(dict.fromkeys(days)) or [self.today]

    def _in_reach(self, unit):
        return self.everything or self.reach.filter(pk=unit.pk).exists()

    def _area(self, number, values, year, day):
        raw_code, raw_name = self.cell(values, CODE), self.cell(values, NAME)
        code, name = _text(raw_code), _text(raw_name)
        if not code and not name:
            heading = CODE if CODE in self.position else NAME
            self.fail(number, heading, "", _("chưa ghi mã xã hay tên xã"))
            return None
        unit = self._by_code(number, raw_code, year, day) if code else self._by_name(number, raw_name, year, day)
        if unit is None:
            return None
        if unit.level not in UNIT_LEVELS:
            heading, value = (CODE, raw_code) if code else (NAME, raw_name)
            self.fail(
                number,
                heading,
                value,
                _("%(unit)s là %(level)s, không phải xã hay huyện")
                % {"unit": unit.full_name, "level": unit.get_level_display().lower()},
            )
            return None
        if code and name and not _same_name(unit, name):
            self.fail(
                number,
                NAME,
                raw_name,
                _("mã “%(code)s” là %(unit)s, không phải “%(name)s”")
                % {"code": unit.code, "unit": unit.full_name, "name": name},
            )
            return None
        if not self._in_reach(unit):
            heading, value = (CODE, raw_code) if code else (NAME, raw_name)
            self.fail(number, heading, value, _("%(unit)s ngoài phạm vi bạn quản trị") % {"unit": unit.full_name})
            return None
        return unit

    def _by_code(self, number, raw, year, day):
        text = _text(raw)
        # A code typed as a number loses its leading zeros: 7234 is xã 07234, 219 may be huyện 219.
        codes = [text]
        if isinstance(raw, int | float) and text.isdigit():
            codes = list(dict.fromkeys([text.zfill(5), text.zfill(3), text]))
        error = None
        for code in codes:
            for when in self._days(year, day):
                try:
                    return timeline.unit_by_code(code, when)
                except timeline.AmbiguousCode as exc:
                    choices = [a for a in exc.choices if a.level in UNIT_LEVELS]
                    if len(choices) == 1:
                        return choices[0]
                    names = "; ".join(
                        f"{a.full_name} ({a.get_level_display().lower()}, {timeline.validity(a)})" for a in exc.choices
                    )
                    self.fail(
                        number,
                        CODE,
                        raw,
                        _("mã này ứng với %(n)s đơn vị ngày %(day)s: %(names)s")
                        % {"n": len(exc.choices), "day": vn_date(when), "names": names},
                    )
                    return None
                except timeline.UnknownCode as exc:
                    error = error or str(exc)
        if year is not None:
            # In force some other day of the year (ended or started during it).
            units = list(Area.objects.filter(code__in=codes, level__in=UNIT_LEVELS).in_year(year))
            if len(units) == 1:
                return units[0]
        self.fail(number, CODE, raw, error or _("không có đơn vị mã này"))
        return None

    def _by_name(self, number, raw, year, day):
        name = _without_kind(_text(raw))
        units = Area.objects.filter(level__in=UNIT_LEVELS, name__iexact=name)
        if not self.everything:
            units = units.filter(pk__in=self.reach.values("pk"))
        found = []
        for when in self._days(year, day):
            found = list(units.valid_on(when).select_related("district", "province").order_by("code"))
            if found:
                break
        if len(found) == 1:
            return found[0]
        if not found:
            self.fail(number, NAME, raw, _("không tìm thấy xã hay huyện tên này trong phạm vi bạn quản trị"))
            return None
        names = "; ".join(
            f"{a.full_name} ({a.code}, {(a.district or a.province).full_name if (a.district or a.province) else ''})"
            for a in found
        )
        self.fail(
            number,
            NAME,
            raw,
            _("có %(n)s đơn vị cùng tên: %(names)s — hãy ghi mã xã") % {"n": len(found), "names": names},
        )
        return None

    # ---- the set

    def _set(self, number, values, area, year):
        raw = self.cell(values, SET)
        text = _text(raw)
        level = SET_LEVEL[area.level]
        if not text:
            self.fail(number, SET, "", _("chưa ghi bộ tiêu chí"))
            return None
        criteria_set = CriteriaSet.objects.filter(code=text).select_related("parent").first()
        if criteria_set is None:
            criteria_set = self._set_by_words(number, raw, text, level, year)
            if criteria_set is None:
                return None
        national = criteria_set.national_set
        if national.level != level:
            self.fail(
                number,
                SET,
                raw,
                _("bộ tiêu chí cấp %(set_level)s, còn %(unit)s là %(level)s")
                % {
                    "set_level": national.get_level_display().lower(),
                    "unit": area.full_name,
                    "level": area.get_level_display().lower(),
                },
            )
            return None
        if year is not None and not national.covers(year):
            self.fail(
                number,
                YEAR,
                year,
                _("năm %(year)s ngoài giai đoạn %(period)s của bộ tiêu chí %(set)s")
                % {"year": year, "period": national.period, "set": national.code},
            )
            return None
        return criteria_set

    def _set_by_words(self, number, raw, text, level, year):
        words = _ascii(text)
        tier = next((t for word, t in TIER_WORDS if word in words), None)
        period = PERIOD.search(text)
        if tier is None:
            self.fail(
                number,
                SET,
                raw,
                _(
                    "không có bộ tiêu chí mã này; hãy ghi mã bộ hoặc mức và giai đoạn "
                    "(NTM 2016-2020, NTM nâng cao 2021-2025)"
                ),
            )
            return None
        sets = CriteriaSet.objects.national().filter(level=level, tier=tier)
        if period:
            sets = sets.filter(period_start=int(period.group(1)), period_end=int(period.group(2)))
        elif year is not None:
            sets = sets.covering(year)
        else:
            return None  # the year's own bad cell says why
        found = list(sets.order_by("code"))
        if len(found) == 1:
            return found[0]
        what = _("%(tier)s cấp %(level)s") % {"tier": Tier(tier).label, "level": SetLevel(level).label.lower()}
        if period:
            what += " " + _("giai đoạn %(start)s–%(end)s") % {"start": period.group(1), "end": period.group(2)}
        else:
            what += " " + _("năm %(year)s") % {"year": year}
        if not found:
            self.fail(number, SET, raw, _("không có bộ tiêu chí %(what)s") % {"what": what})
        else:
            codes = ", ".join(s.code for s in found)
            self.fail(
                number, SET, raw, _("có nhiều bộ %(what)s: %(codes)s — hãy ghi mã bộ") % {"what": what, "codes": codes}
            )
        return None


def dry_run(table: dict, *, user=None) -> Plan:
    """What the list would record: each row (commune, set, year, decision, what changes) and every bad cell."""
    rows = table["rows"]
    plan = Plan(file_name=table.get("file_name", ""))
    found = _heading(rows)
    if found is None:
        raise ImportRefused(_("Danh sách không có dòng tiêu đề."))
    heading_row, position = found
    reader = _Reader(heading_row, position, user=user)
    for number, values in rows:
        if number <= heading_row or not any(_text(v) for v in values):
            continue
        planned = reader.read(number, values)
        if planned is not None:
            plan.rows.append(planned)
    plan.bad_cells = sorted(reader.bad, key=lambda b: (b.row, b.column))
    if not plan.rows and not plan.bad_cells:
        plan.bad_cells.append(
            BadCell(heading_row, "A", _("tiêu đề"), "", _("danh sách không có dòng nào dưới dòng tiêu đề"))
        )
    return plan


@dataclass(frozen=True)
class Report:
    created: int
    changed: int
    unchanged: int

    def message(self):
        return _(
            "Đã ghi nhận quyết định công nhận: %(created)s ghi mới, %(changed)s thay đổi, %(same)s đã có, không đổi."
        ) % {"created": self.created, "changed": self.changed, "same": self.unchanged}


@transaction.atomic
def import_decisions(table: dict, *, user=None) -> Report:
    """Record every decision of the list, or none: the dry run is made again inside the transaction, and any bad
    cell (or a refusal by the service) writes nothing."""
    plan = dry_run(table, user=user)
    if not plan.ok:
        raise ValidationError([str(bad) for bad in plan.bad_cells] or [_("Danh sách không có quyết định nào.")])
    source = plan.file_name or _("danh sách quyết định công nhận")
    for row in plan.rows:
        if row.change == "same":
            continue
        note = _("Nhập từ %(file)s, dòng %(row)s") % {"file": source, "row": row.row}
        try:
            services.record_past_decision(
                area=row.area, criteria_set=row.criteria_set, year=row.year, number=row.number, date=row.date,
                user=user, note=note,
            )  # fmt: skip
        except services.RecognitionError as exc:
            raise ValidationError(_("Dòng %(row)s: %(reason)s") % {"row": row.row, "reason": exc.text}) from exc
    return Report(
        created=plan.count("new"), changed=plan.count("changed") + plan.count("workflow"), unchanged=plan.count("same")
    )
