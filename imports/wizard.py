"""The import wizard's reading: a table found in a sheet (imports.layout), a mapping of its columns
(imports.mapping) and the options the user chose (set, year, commune) become the dry run — every row to
create or change with before → after and the verdict it would get, every bad cell with its reason, every
skipped row — and the rows the commit writes. Nothing here writes.

Values are read by meaning: Vietnamese and English numbers as text or numbers ("90,3", "90.5", 1276),
percentage cells (0,903 shown as 90,3%), "90,5%", "1.276/1.413", and the marks Đạt / Chưa đạt / Có / Không /
x / ✓ / ✗ against each indicator's kind. Judging uses the one Judge (criteria.judging), loaded once for all
rows.
"""

import functools
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from types import SimpleNamespace

from django.utils.translation import gettext as _
from openpyxl.utils import get_column_letter
from rapidfuzz import fuzz, process

from areas import access, timeline
from areas.models import Area, Level
from criteria import evaluation
from criteria.judging import Judge, Measurement
from criteria.models import (
    AssessedStatus,
    CriteriaSet,
    CriterionResult,
    Indicator,
    IndicatorKind,
    IndicatorResult,
    SetLevel,
    Status,
    Tier,
)
from imports import layout as layouts
from imports.mapping import PLAN, WIDE, Catalogue
from ntm_portal.spreadsheets import ImportRefused
from ntm_portal.vietnamese import NO_MARKS, YES_MARKS, parse_number, plain_text, vn_number
from plans.models import FundingSource
from reports.bieu_import import BadCell

NOT_APPLICABLE = {"khong ap dung", "kad", "n/a", "na"}
EMPTY_MARKS = {"-", "–", "—", "..."}
_PREFIXES = ("xa ", "phuong ", "thi tran ", "dac khu ")
FUZZY_MIN = 85
_MEASURED = Measurement.names()  # once: dataclasses.fields() per cell was a tenth of a dry run


@dataclass
class Options:
    layout: str
    year: int
    criteria_set: CriteriaSet | None
    mapping: dict  # column number -> field key
    commune: Area | None = None  # the commune of a long table without a commune column
    choices: dict = field(default_factory=dict)  # row number -> area id, where a name fitted two communes


@dataclass
class Change:
    row: int
    area: str
    label: str
    before: str
    after: str
    verdict: str = ""
    created: bool = False
    indicator_line: int = 0  # the index + 1 of its row in Preview.indicator_rows; 0 for a criterion


@dataclass
class Ambiguity:
    row: int
    text: str
    candidates: list  # Area


@dataclass
class Preview:
    table: layouts.Table
    options: Options
    changes: list = field(default_factory=list)
    bad_cells: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    ambiguities: list = field(default_factory=list)
    unchanged: int = 0
    indicator_rows: list = field(default_factory=list)  # for criteria.results_import.import_indicator_results
    criterion_rows: list = field(default_factory=list)  # for criteria.results_import.import_criterion_statuses
    plan_changes: list = field(default_factory=list)  # reports.bieu_import.Change, with write/check
    areas: set = field(default_factory=set)  # ids of the communes written to

    @property
    def ok(self):
        return not self.bad_cells and not self.ambiguities

    @property
    def fingerprint(self):
        text = repr([(c.row, c.area, c.label, c.before, c.after) for c in self.changes])
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    @property
    def cells(self):
        return sum(len(r.values) for r in self.table.rows)


def catalogue_for(criteria_set):
    criteria, indicators = {}, {}
    if criteria_set is not None:
        national = criteria_set.national_set
        criteria = {c.number: c for c in national.criteria.order_by("number")}
        indicators = {
            i.code: i
            for i in Indicator.objects.in_set(national)
            .select_related("criterion__criteria_set")
            .order_by("criterion__number", "sort_key")
        }
    sources = {s.code: s for s in FundingSource.objects.active().order_by("position", "code")}
    return Catalogue(criteria, indicators, sources)


def sets_for(area):
    """The national sets an area imports into: the commune sets (a district collects its communes')."""
    return list(CriteriaSet.objects.national().for_level(SetLevel.COMMUNE).order_by("-period_start", "tier"))


def propose_set(title, year, area):
    """The year and set a title names ("năm 2019", "giai đoạn 2016-2020", "nâng cao"), else the standard set of
    the year."""
    named_year, period = layouts.year_in(title)
    year = named_year or (min(year, period[1]) if period and not period[0] <= year <= period[1] else year)
    sets = sets_for(area)
    tier = Tier.ADVANCED if "nang cao" in plain_text(title) else Tier.STANDARD
    candidates = [s for s in sets if s.covers(year)] or sets
    if period:
        candidates = [s for s in candidates if (s.period_start, s.period_end) == period] or candidates
    chosen = next((s for s in candidates if s.tier == tier), candidates[0] if candidates else None)
    return year, chosen


def communes_in_scope(user, area, year):
    """The communes the user may write to under `area` (the area itself for a commune officer)."""
    if area.level == Level.COMMUNE:
        return [area]
    # The communes of the year's map, each once (areas/timeline.py): not the old and the new units of 2025 both.
    communes = timeline.communes_at(area, timeline.reporting_date(year)).queryset()
    if user is not None:  # None: the command line, run by whoever runs the server
        communes = communes.filter(pk__in=access.editable_areas(user).values("pk"))
    return list(communes.select_related("region", "province", "district").order_by("code"))


def _name_key(text):
    plain = plain_text(text)
    for prefix in _PREFIXES:
        if plain.startswith(prefix):
            return plain[len(prefix) :].strip()
    return plain


class CommuneMatcher:
    """Communes by official code, or by name with or without diacritics and the "xã" prefix, tolerant of small
    typos; two that fit equally are returned both, for the user to choose."""

    def __init__(self, communes):
        self.by_code = {c.code: c for c in communes}
        self.by_name = {}
        for commune in communes:
            self.by_name.setdefault(_name_key(commune.name), []).append(commune)
        self.names = list(self.by_name)

    def match(self, *, code="", name=""):
        if code and code in self.by_code:
            return [self.by_code[code]]
        if code and code.lstrip("0") and code.zfill(5) in self.by_code:
            return [self.by_code[code.zfill(5)]]
        key = _name_key(name)
        if not key:
            return []
        if key in self.by_name:
            return self.by_name[key]
        found = process.extract(key, self.names, scorer=fuzz.ratio, limit=3, score_cutoff=FUZZY_MIN)
        if not found:
            return []
        best = found[0][1]
        close = [n for n, score, _i in found if best - score <= 3]
        return [c for n in close for c in self.by_name[n]]


def _is_blank(raw):
    return raw is None or (isinstance(raw, str) and (not raw.strip() or raw.strip() in EMPTY_MARKS))


def read_mark(raw):
    """ "met" / "not_met" for a mark (x, ✓, Đạt, Có / ✗, Chưa đạt, Không), None for a blank; ValueError else."""
    if _is_blank(raw):
        return None
    if isinstance(raw, bool):
        return AssessedStatus.MET if raw else AssessedStatus.NOT_MET
    plain = plain_text(raw)
    if plain in YES_MARKS:
        return AssessedStatus.MET
    if plain in NO_MARKS:
        return AssessedStatus.NOT_MET
    raise ValueError(_("Ghi “Đạt”, “Chưa đạt”, “x” hoặc “✓” (hoặc để trống)."))


def _decimal(raw, percent):
    number = Decimal(str(raw))
    return (number * 100).normalize() if percent else number


@functools.lru_cache(maxsize=1024)
def _plain_words(text):
    return plain_text(text)


def _plain_cell(text):
    """plain_text of a cell: an ASCII one ("1276/1413", "x") has no diacritics to take off, and the words a
    column repeats ("Đạt", "Chưa đạt") are read once."""
    return " ".join(text.lower().split()) if text.isascii() else _plain_words(text)


def read_value(raw, indicator, *, percent=False):
    """(Measurement or None, assessed status or "") from a result cell, read against the indicator's kind;
    ValueError with the reason when it cannot be read."""
    if _is_blank(raw):
        return None, ""
    plain = _plain_cell(raw) if isinstance(raw, str) else ""
    if plain in NOT_APPLICABLE:
        return Measurement(not_applicable=True), ""
    is_yes, is_no = (raw is True or plain in YES_MARKS - {"1"}), (raw is False or plain in NO_MARKS - {"0"})
    if indicator.kind == IndicatorKind.BOOLEAN:
        if is_yes or is_no or raw in (0, 1):
            return Measurement(boolean=bool(is_yes or raw == 1)), ""
        raise ValueError(
            _("Chỉ tiêu này ghi “%(yes)s” hoặc “%(no)s” (x, ✓, ✗), hoặc “Không áp dụng”.")
            % {"yes": indicator.yes_label, "no": indicator.no_label}
        )
    if is_yes or is_no:
        # A verdict written where a measurement belongs: kept as the commune's own assessment.
        return None, AssessedStatus.MET if is_yes else AssessedStatus.NOT_MET
    if isinstance(raw, int | float):
        return Measurement(value=_decimal(raw, percent)), ""
    text = str(raw).strip()
    if "/" in text:
        numerator, _slash, denominator = text.partition("/")
        denominator = denominator.split("(")[0]
        try:
            return Measurement(numerator=parse_number(numerator), denominator=parse_number(denominator)), ""
        except ValueError:
            raise ValueError(
                _("“%(value)s” không đọc được thành tử số/mẫu số; viết như 1.276/1.413.") % {"value": text}
            )
    try:
        return Measurement(value=parse_number(text.removesuffix("%").strip())), ""
    except ValueError:
        raise ValueError(
            _("“%(value)s” không phải là số. Viết 90,3 hoặc 1.276 (hoặc 90.3), tỷ lệ 1.276/1.413, hoặc Đạt/Chưa đạt.")
            % {"value": text}
        )


def describe(measurement, indicator):
    if measurement is None:
        return _("(trống)")
    if measurement.not_applicable:
        return _("Không áp dụng")
    if measurement.boolean is not None:
        return str(indicator.yes_label if measurement.boolean else indicator.no_label)
    if measurement.numerator is not None and measurement.denominator:
        return f"{vn_number(measurement.numerator)}/{vn_number(measurement.denominator)}"
    if measurement.value is None:
        return _("(trống)")
    return vn_number(measurement.value)


def _status_label(status):
    return str(dict(AssessedStatus.choices).get(status, _("(trống)")))


def _verdict_label(ev):
    label = str(dict(Status.choices).get(ev.status, ev.status))
    return label + (" " + _("(tạm tính)") if ev.tentative else "")


class _Reader:
    """Reads the table's rows into a Preview under the options, loading what it compares against once."""

    def __init__(self, table, options, *, area, user, catalogue):
        self.table, self.options, self.area, self.user = table, options, area, user
        self.catalogue = catalogue
        self.found = Preview(table, options)
        # Translated once for all rows, not once per cell.
        self.label_format, self.nothing = _("%(code)s. %(name)s"), _("(trống)")
        self.marks = {}  # (indicator id, yes or no) -> its label
        self.by_key = {}
        for column, key in options.mapping.items():
            if key:
                self.by_key.setdefault(key, column)

    def bad(self, row, column, reason, value=None):
        raw = row.value(column) if value is None else value
        self.found.bad_cells.append(
            BadCell(
                row.number,
                get_column_letter(column),
                self.table.headings.get(column, ""),
                "" if raw is None else str(raw),
                reason,
            )
        )

    def formula_note(self, row, column):
        if column in row.formulas:
            self.found.notes.append(
                _("Ô %(cell)s là công thức: cổng đọc giá trị đã tính lưu trong tệp (%(value)s).")
                % {"cell": f"{get_column_letter(column)}{row.number}", "value": row.text(column)}
            )

    # ------------------------------------------------------------ communes

    def commune_of(self, row, matcher):
        if self.options.commune is not None and not ({"area_name", "area_code"} & set(self.by_key)):
            return self.options.commune
        chosen = self.options.choices.get(str(row.number))
        if chosen:
            found = next((c for cs in matcher.by_name.values() for c in cs if str(c.pk) == str(chosen)), None)
            if found is not None:
                return found
        code_col, name_col = self.by_key.get("area_code"), self.by_key.get("area_name")
        code = row.text(code_col) if code_col else ""
        name = row.text(name_col) if name_col else ""
        candidates = matcher.match(code=code, name=name)
        if len(candidates) == 1:
            return candidates[0]
        column = code_col if code and not name else name_col or code_col
        if not candidates:
            if not code and not name:
                self.bad(row, column or 1, _("Dòng không ghi xã."), "")
            else:
                self.bad(
                    row,
                    column,
                    _("Không có xã “%(name)s” thuộc %(area)s mà bạn được nhập số liệu.")
                    % {"name": name or code, "area": self.area.full_name},
                )
            return None
        self.found.ambiguities.append(Ambiguity(row.number, name or code, candidates))
        return None

    # ------------------------------------------------------------ reading

    def run(self, *, judged=True):
        layout = self.options.layout
        if layout == PLAN:
            return self.found
        matcher = CommuneMatcher(communes_in_scope(self.user, self.area, self.options.year))
        if not matcher.by_code:
            raise ImportRefused(_("Không có xã nào thuộc %(area)s mà bạn được nhập số liệu.") % {"area": self.area})
        if layout == WIDE:
            self.read_wide(matcher)
        else:
            self.read_long(matcher)
        if judged:
            self.judge()
        return self.found

    def _current(self, areas):
        year = self.options.year
        indicators = list(self.catalogue.indicators.values())
        self.results = {
            (r.area_id, r.indicator_id): r
            for r in IndicatorResult.objects.filter(area__in=areas, year=year, indicator__in=indicators)
        }
        self.criterion_results = {
            (r.area_id, r.criterion_id): r
            for r in CriterionResult.objects.filter(
                area__in=areas, year=year, criterion__in=list(self.catalogue.criteria.values())
            )
        }

    def read_long(self, matcher):
        if "value" not in self.by_key and "assessed" not in self.by_key:
            raise ImportRefused(_("Chưa chọn cột “Kết quả” (hoặc “Tự đánh giá”) trong bảng ghép cột."))
        if "assessed" not in self.by_key:
            self.found.notes.append(_("Không có cột “Tự đánh giá” được ghép: phần tự đánh giá của xã không được nhập."))
        self._current(list(matcher.by_code.values()))
        criterion = None
        names = {i.pk: plain_text(i.name) for i in self.catalogue.indicators.values()}
        seen = {}
        for row in self.table.rows:
            commune = self.commune_of(row, matcher)
            indicator, criterion, as_criterion = self._row_indicator(row, criterion, names)
            if indicator is False:
                continue
            raw_value = row.value(self.by_key["value"]) if "value" in self.by_key else None
            raw_assessed = row.value(self.by_key["assessed"]) if "assessed" in self.by_key else None
            if indicator is None:
                if not _is_blank(raw_value):
                    self._no_indicator(row, as_criterion)
                continue
            criterion = indicator.criterion
            if commune is None or self._repeated(row, commune, indicator, seen):
                continue
            self.add_indicator(row, commune, indicator, raw_value, raw_assessed, self.by_key.get("value"))

    def _row_indicator(self, row, criterion, names):
        """(the indicator a row names by code or by name — None when none, False when two fit —, the criterion
        the rows are under now, whether the row is a criterion's own row)."""
        code_col = self.by_key.get("code")
        code = row.value(code_col) if code_col else None
        code_text = "" if code is None else (str(code).strip() if not isinstance(code, float) else repr(code))
        crit_name = row.text(self.by_key["criterion_name"]) if "criterion_name" in self.by_key else ""
        ind_name = row.text(self.by_key["indicator_name"]) if "indicator_name" in self.by_key else ""
        indicator = self.catalogue.indicators.get(code_text)
        as_criterion = code_text.isdigit() and int(code_text) in self.catalogue.criteria
        if indicator is None and as_criterion:
            criterion = self.catalogue.criteria[int(code_text)]
        elif crit_name and indicator is None:
            criterion = self._criterion_by_name(crit_name) or criterion
        if indicator is None and ind_name:
            indicator = self._indicator_by_name(row, ind_name, criterion, names)
        return indicator, criterion, as_criterion

    def _no_indicator(self, row, as_criterion):
        """A value on a row that names no indicator, or on a criterion's own row."""
        if as_criterion:
            self.bad(
                row, self.by_key["value"], _("Tiêu chí này có nhiều chỉ tiêu: ghi kết quả ở dòng của từng chỉ tiêu.")
            )
            return
        self.bad(
            row,
            self.by_key.get("code") or self.by_key.get("indicator_name") or self.by_key["value"],
            _("Không tìm thấy chỉ tiêu này trong %(set)s (theo mã hoặc theo tên).")
            % {"set": self.options.criteria_set.name},
        )

    def _repeated(self, row, commune, indicator, seen):
        """True (and a bad cell) when the commune's indicator was already on an earlier row."""
        key = (commune.pk, indicator.pk)
        if key not in seen:
            seen[key] = row.number
            return False
        self.bad(
            row,
            self.by_key.get("code") or self.by_key.get("indicator_name"),
            _("Chỉ tiêu %(code)s đã có ở dòng %(row)s; mỗi chỉ tiêu chỉ ghi một dòng.")
            % {"code": indicator.code, "row": seen[key]},
        )
        return True

    def _criterion_by_name(self, text):
        plain = plain_text(text)
        for criterion in self.catalogue.criteria.values():
            if plain_text(criterion.name) == plain or plain.endswith(plain_text(criterion.name)):
                return criterion
        return None

    def _indicator_by_name(self, row, text, criterion, names):
        """The indicator named on the row, within the current criterion when there is one; False when two fit."""
        plain = plain_text(text)
        everything = list(self.catalogue.indicators.values())
        pool = [i for i in everything if criterion is None or i.criterion_id == criterion.pk]
        found = self._closest(plain, pool, names)
        if not found and criterion is not None:  # the criterion above may simply not have been written
            pool = everything
            found = self._closest(plain, pool, names)
        if not found:
            return None
        if len(found) == 2 and found[0][1] - found[1][1] < 2 and found[0][1] < 100:
            self.bad(
                row,
                self.by_key["indicator_name"],
                _("Tên này giống cả hai chỉ tiêu; hãy ghi mã chỉ tiêu ở cột TT."),
            )
            return False
        return next(i for i in pool if i.pk == found[0][2])

    @staticmethod
    def _closest(plain, pool, names):
        choices = {i.pk: names[i.pk] for i in pool}
        return process.extract(plain, choices, scorer=fuzz.token_set_ratio, limit=2, score_cutoff=FUZZY_MIN)

    def add_indicator(self, row, commune, indicator, raw_value, raw_assessed, value_col):
        current = self.results.get((commune.pk, indicator.pk))
        try:
            measurement, assessed = (
                read_value(raw_value, indicator, percent=value_col in row.percents) if value_col else (None, "")
            )
        except ValueError as exc:
            self.bad(row, value_col, str(exc))
            return
        if measurement is not None:
            errors = measurement.errors(indicator)
            if errors:
                self.bad(row, value_col, " ".join(str(m) for m in errors.values()))
                return
            self.formula_note(row, value_col)
        if raw_assessed is not None and "assessed" in self.by_key:
            try:
                assessed = read_mark(raw_assessed) or assessed
            except ValueError as exc:
                self.bad(row, self.by_key["assessed"], str(exc))
                return
        note = row.text(self.by_key["note"]) if "note" in self.by_key else None
        before = Measurement.of(current) if current is not None else None
        after = measurement if measurement is not None else before
        new_assessed = assessed or (current.assessed_status if current else "")
        new_note = note if note else (current.note if current else "")
        if after is None and not new_assessed:
            return
        if (
            current is not None
            and after == before
            and new_assessed == current.assessed_status
            and new_note == current.note
        ):
            self.found.unchanged += 1
            return
        self.found.areas.add(commune.pk)
        self.found.indicator_rows.append(
            {
                "line": row.number,
                "area": commune,
                "indicator": indicator,
                "year": self.options.year,
                **({f: getattr(after, f) for f in _MEASURED} if after else {}),
                "assessed_status": new_assessed,
                "note": new_note,
            }
        )
        label = self.label_format % {"code": indicator.code, "name": indicator.name[:80]}
        before_text, after_text = self.describe(before, indicator), self.describe(after, indicator)
        if new_assessed != (current.assessed_status if current else ""):
            before_text += f" · {_('tự đánh giá')}: {_status_label(current.assessed_status if current else '')}"
            after_text += f" · {_('tự đánh giá')}: {_status_label(new_assessed)}"
        self.found.changes.append(
            Change(
                row.number,
                commune.full_name,
                label,
                before_text,
                after_text,
                created=current is None,
                indicator_line=len(self.found.indicator_rows),
            )
        )

    def describe(self, measurement, indicator):
        """describe(), with the labels of a yes/no indicator translated once."""
        if measurement is None:
            return self.nothing
        if measurement.boolean is None or measurement.not_applicable:
            return describe(measurement, indicator)
        key = (indicator.pk, measurement.boolean)
        if key not in self.marks:
            self.marks[key] = describe(measurement, indicator)
        return self.marks[key]

    def read_wide(self, matcher):
        if not ({"area_name", "area_code"} & set(self.by_key)):
            raise ImportRefused(_("Chưa chọn cột “Tên xã” hoặc “Mã xã” trong bảng ghép cột."))
        columns = [
            (c, k) for c, k in sorted(self.options.mapping.items()) if k.startswith(("criterion:", "indicator:"))
        ]
        if not columns:
            raise ImportRefused(_("Chưa ghép cột nào với một tiêu chí hoặc chỉ tiêu."))
        self._current(list(matcher.by_code.values()))
        seen = {}
        for row in self.table.rows:
            commune = self.commune_of(row, matcher)
            if commune is None:
                continue
            if commune.pk in seen:
                self.bad(
                    row,
                    self.by_key.get("area_name") or self.by_key["area_code"],
                    _("Xã này đã có ở dòng %(row)s.") % {"row": seen[commune.pk]},
                )
                continue
            seen[commune.pk] = row.number
            met = 0
            for column, key in columns:
                kind, _colon, ref = key.partition(":")
                raw = row.value(column)
                if kind == "indicator":
                    self.add_indicator(row, commune, self.catalogue.indicators[ref], raw, None, column)
                    continue
                try:
                    status = read_mark(raw)
                except ValueError as exc:
                    self.bad(row, column, str(exc))
                    continue
                if status is None:
                    continue
                met += status == AssessedStatus.MET
                self.formula_note(row, column)
                self.add_criterion(row, commune, self.catalogue.criteria[int(ref)], status)
            self.check_count(row, met, columns)

    def check_count(self, row, met, columns):
        column = self.by_key.get("met_count")
        if not column or not any(k.startswith("criterion:") for _c, k in columns):
            return
        raw = row.value(column)
        try:
            written = int(parse_number(str(raw).split("/")[0])) if raw is not None else None
        except ValueError:
            written = None
        if written is not None and written != met:
            self.found.notes.append(
                _("Dòng %(row)s: cột “%(heading)s” ghi %(written)s nhưng các cột tiêu chí có %(met)s tiêu chí đạt.")
                % {"row": row.number, "heading": self.table.headings[column], "written": written, "met": met}
            )

    def add_criterion(self, row, commune, criterion, status):
        current = self.criterion_results.get((commune.pk, criterion.pk))
        if current is not None and current.assessed_status == status:
            self.found.unchanged += 1
            return
        self.found.areas.add(commune.pk)
        self.found.criterion_rows.append(
            {"line": row.number, "area": commune, "criterion": criterion, "year": self.options.year, "status": status}
        )
        self.found.changes.append(
            Change(
                row.number,
                commune.full_name,
                _("Tiêu chí %(n)s. %(name)s (tự đánh giá)") % {"n": criterion.number, "name": criterion.name},
                _status_label(current.assessed_status if current else ""),
                _status_label(status),
                verdict=_status_label(status),
                created=current is None,
            )
        )

    def judge(self):
        """The verdict each indicator row would get, by the one Judge loaded once for all of them."""
        rows = self.found.indicator_rows
        if not rows:
            return
        judge = Judge.for_indicators({r["indicator"].pk: r["indicator"] for r in rows}.values())
        labels = {}  # (status, tentative) -> its label, translated once
        verdicts = {}  # (threshold choice, what was entered) -> its label: judged once, not once per cell
        for change in self.found.changes:
            if not change.indicator_line:
                continue
            row = rows[change.indicator_line - 1]
            indicator, area, year = row["indicator"], row["area"], row["year"]
            # The Judge keeps one choice per indicator and kind of commune, so its identity is the threshold's.
            choice = judge.choice(indicator, area, year)
            entered = (*(row.get(name) for name in _MEASURED), row["assessed_status"])
            key = (id(choice), entered)
            if key not in verdicts:
                # The judge reads only what was entered: no model instance per cell.
                result = SimpleNamespace(**vars(Measurement.from_row(row)), assessed_status=row["assessed_status"])
                verdict = evaluation.evaluate(result, choice)  # what judge.judge gives, the choice in hand
                shown = (verdict.status, verdict.tentative)
                if shown not in labels:
                    labels[shown] = _verdict_label(verdict)
                verdicts[key] = labels[shown]
            change.verdict = verdicts[key]


def dry_run(table, options, *, area, user, catalogue=None, judged=True):
    """The dry run of a table under a mapping and options; ImportRefused when the mapping cannot be read.
    `judged=False` leaves out the verdicts shown beside each change: the commit, which writes through the bulk
    path that judges every row itself, needs only the rows and the changes its fingerprint is made of."""
    catalogue = catalogue or catalogue_for(options.criteria_set)
    if options.layout == PLAN:
        from imports import plans

        return plans.dry_run(table, options, area=area, user=user, catalogue=catalogue, preview=Preview(table, options))
    if options.criteria_set is None:
        raise ImportRefused(_("Hãy chọn bộ tiêu chí."))
    if not options.criteria_set.covers(options.year):
        raise ImportRefused(
            _("Năm %(year)s nằm ngoài thời kỳ %(start)s–%(end)s của %(set)s.")
            % {
                "year": options.year,
                "start": options.criteria_set.period_start,
                "end": options.criteria_set.period_end,
                "set": options.criteria_set.name,
            }
        )
    found = _Reader(table, options, area=area, user=user, catalogue=catalogue).run(judged=judged)
    found.bad_cells.sort(key=lambda b: b.row)
    return found
