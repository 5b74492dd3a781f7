"""Many indicator results at once (the admin's import, the Biểu imports, the bench): every row checked as a
save checks it, judged by the same Judge, and written in bulk with its history — all rows or none."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from areas.models import Area
from criteria import standings
from criteria.judging import Judge, Measurement, restate_criteria
from criteria.models import CriterionResult, Indicator, IndicatorResult
from criteria.services import StaleResultError, ensure_all_unlocked
from ntm_portal.bulk import create_with_history, update_rows, update_with_history

IMPORTED_FIELDS = (*Measurement.names(), "assessed_status", "note")
_RESULT_FIELDS = [*IMPORTED_FIELDS, "status", "computed_status", "is_tentative", "updated_by", "updated_at", "version"]
_STATUS_FIELDS = ["status", "computed_status", "is_tentative"]
_CRITERION_FIELDS = ["status", "computed_status", "is_tentative", "disagreement", "updated_by", "updated_at"]


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    criteria: int = 0


def _import_errors(rows, columns):
    """Every problem of every row, as "Dòng 7, cột Mẫu số: …", before anything is written."""

    def column(name):
        return columns.get(name) or capfirst(IndicatorResult._meta.get_field(name).verbose_name)

    errors, seen = [], {}
    for number, row in enumerate(rows, 1):
        line = row.get("line", number)
        problems = Measurement.from_row(row).errors(row["indicator"])
        key = (row["area"].pk, row["indicator"].pk, row["year"])
        if key in seen:
            problems["indicator"] = _("trùng địa bàn, chỉ tiêu và năm với dòng %(line)s.") % {"line": seen[key]}
        seen.setdefault(key, line)
        for name, message in problems.items():
            errors.append(
                _("Dòng %(line)s, cột %(column)s: %(message)s")
                % {"line": line, "column": column(name), "message": message}
            )
    return errors


@dataclass
class _Scope:
    """What the rows touch, loaded once: their areas, every indicator of their criteria, and the (area,
    criterion, year) triples with the first line naming each."""

    areas: dict
    indicators: dict  # pk -> Indicator
    by_criterion: dict  # criterion id -> its indicators in order
    touched: dict  # (area id, criterion id, year) -> first line

    @classmethod
    def of(cls, rows):
        areas = Area.objects.select_related("region").in_bulk({r["area"].pk for r in rows})
        indicators = list(
            Indicator.objects.filter(criterion_id__in={r["indicator"].criterion_id for r in rows})
            .select_related("criterion__criteria_set__parent")
            .order_by("criterion__number", "sort_key")
        )
        by_criterion = {}
        for indicator in indicators:
            by_criterion.setdefault(indicator.criterion_id, []).append(indicator)
        touched = {}
        for number, row in enumerate(rows, 1):
            touched.setdefault((row["area"].pk, row["indicator"].criterion_id, row["year"]), row.get("line", number))
        return cls(areas, {i.pk: i for i in indicators}, by_criterion, touched)

    @property
    def criterion_ids(self):
        return set(self.by_criterion)

    @property
    def years(self):
        return {year for _area, _criterion, year in self.touched}

    def check_unlocked(self, user):
        """Refuse the whole file when one of its criteria is locked, naming the first line that writes to it."""
        ensure_all_unlocked(
            {
                (self.areas[area_id], year, self.by_criterion[criterion_id][0].criterion): line
                for (area_id, criterion_id, year), line in self.touched.items()
            },
            user=user,
        )


def _check_versions(rows, existing, versions):
    for number, row in enumerate(rows, 1):
        key = (row["area"].pk, row["indicator"].pk, row["year"])
        found = existing.get(key)
        if found is not None and found.version != versions.get(key):
            stale = StaleResultError(found)
            stale.line = row.get("line", number)
            raise stale


def _new_result_maker():
    """A constructor of new IndicatorResults from (area id, indicator id, year), every other field at its default.

    Django builds a model from positional values, one per concrete field, without looking up each missing field's
    default, in less than half the time of keyword arguments: a 10,000-row import builds 10,000 of them."""
    fields = IndicatorResult._meta.concrete_fields
    defaults = [field.get_default() for field in fields]
    at = {field.attname: n for n, field in enumerate(fields)}
    area_at, indicator_at, year_at, version_at = at["area_id"], at["indicator_id"], at["year"], at["version"]
    defaults[version_at] = 0  # raised to 1 with the values below, as an existing result's is raised by one

    def new_result(area_id, indicator_id, year):
        values = defaults.copy()
        values[area_at], values[indicator_at], values[year_at] = area_id, indicator_id, year
        return IndicatorResult(*values)

    return new_result


def _put_rows(rows, scope, existing, *, user, now):
    """The imported values on new or existing results (not judged yet): (created, updated)."""
    created, updated = [], []
    user_id = user.pk if user is not None else None
    new_result = _new_result_maker()
    for row in rows:
        area, indicator, year = scope.areas[row["area"].pk], scope.indicators[row["indicator"].pk], row["year"]
        result = existing.get((area.pk, indicator.pk, year))
        if result is None:
            # By ids: the relations are not read from these objects, and setting them costs as much again.
            result = new_result(area.pk, indicator.pk, year)
            existing[(area.pk, indicator.pk, year)] = result
            created.append(result)
        else:
            updated.append(result)
        Measurement.from_row(row).write_to(result)
        result.assessed_status = row.get("assessed_status") or ""
        result.note = row.get("note") or ""
        result.updated_by_id = user_id
        result.updated_at = now
        result.version += 1
    return created, updated


@transaction.atomic
def import_indicator_results(*, rows, user=None, columns=None, versions=None) -> ImportReport:
    """Save many results at once with the rules of record_indicator_result: all rows or none.

    `rows` are mappings with `area`, `indicator`, `year`, the fields of IMPORTED_FIELDS and optionally `line`
    (the row number the user sees); `columns` names the file's column for a field in error messages. The
    results, their criteria rows and the history of both are written in bulk, with `user` as the author.
    `versions`, when given, maps (area id, indicator id, year) to the version each result was read at: one
    saved since raises StaleResultError (its `line` set), as record_indicator_result's `expected_version` does.
    """
    rows = list(rows)
    errors = _import_errors(rows, columns or {})
    if errors:
        raise ValidationError(errors)
    if not rows:
        return ImportReport()
    scope = _Scope.of(rows)
    scope.check_unlocked(user)
    existing = {
        (r.area_id, r.indicator_id, r.year): r
        for r in IndicatorResult.objects.select_for_update(of=("self",)).filter(
            area_id__in=scope.areas, year__in=scope.years, indicator__criterion_id__in=scope.criterion_ids
        )
    }
    if versions is not None:
        _check_versions(rows, existing, versions)
    now = timezone.now()
    created, updated = _put_rows(rows, scope, existing, user=user, now=now)
    criterion_rows = {
        (c.area_id, c.criterion_id, c.year): c
        for c in CriterionResult.objects.select_for_update(of=("self",)).filter(
            area_id__in=scope.areas, criterion_id__in=scope.criterion_ids, year__in=scope.years
        )
    }
    # The imported results and the criteria rows, judged on all their indicators' results as a save does.
    restated = restate_criteria(
        scope.touched,
        judge=Judge.for_indicators(scope.indicators.values()),
        areas=scope.areas,
        indicators=scope.by_criterion,
        results=existing,
        rows=criterion_rows,
    )
    for row in restated.new_rows + restated.changed_rows:
        row.updated_by = user
        row.updated_at = now
    imported = {id(r) for r in created} | {id(r) for r in updated}
    _write(
        created,
        updated,
        [r for r in restated.results if id(r) not in imported],
        restated,
        user=user,
        now=now,
    )
    standings.restate_for(restated.new_rows + restated.changed_rows)
    criteria = len(restated.new_rows) + len(restated.changed_rows)
    return ImportReport(created=len(created), updated=len(updated), criteria=criteria)


def _write(created, updated, others, restated, *, user, now):
    create_with_history(created, IndicatorResult, user=user, now=now)
    update_with_history(updated, IndicatorResult, _RESULT_FIELDS, user=user, now=now)
    # Results of the same criteria whose verdict moved with the others: refresh_criterion restates them
    # without a history row, and so does this.
    update_rows(others, IndicatorResult, _STATUS_FIELDS)
    create_with_history(restated.new_rows, CriterionResult, user=user, now=now)
    update_with_history(restated.changed_rows, CriterionResult, _CRITERION_FIELDS, user=user, now=now)


@transaction.atomic
def import_criterion_statuses(*, rows, user=None) -> ImportReport:
    """Record many verdicts on whole criteria at once (a district's summary: "x" under TC 5 for a commune), as
    assess_criterion does one: the assessed status beside the computed one, the criterion restated on its
    indicators, all rows or none, with their history.

    `rows` are mappings with `area`, `criterion`, `year`, `status` ("met" / "not_met") and optionally `line`.
    """
    rows = list(rows)
    if not rows:
        return ImportReport()
    touched = {}
    for number, row in enumerate(rows, 1):
        touched.setdefault((row["area"].pk, row["criterion"].pk, row["year"]), row.get("line", number))
    areas = Area.objects.select_related("region").in_bulk({r["area"].pk for r in rows})
    criteria = {r["criterion"].pk: r["criterion"] for r in rows}
    ensure_all_unlocked(
        {
            (areas[area_id], year, criteria[criterion_id]): line
            for (area_id, criterion_id, year), line in touched.items()
        },
        user=user,
    )
    years = {year for _a, _c, year in touched}
    stored = {
        (c.area_id, c.criterion_id, c.year): c
        for c in CriterionResult.objects.select_for_update(of=("self",)).filter(
            area_id__in=areas, criterion_id__in=criteria, year__in=years
        )
    }
    now = timezone.now()
    created, updated = [], []
    for row in rows:
        key = (row["area"].pk, row["criterion"].pk, row["year"])
        found = stored.get(key)
        if found is None:
            found = stored[key] = CriterionResult(area_id=key[0], criterion_id=key[1], year=key[2])
            created.append(found)
        else:
            found.version += 1
            updated.append(found)
        found.assessed_status = row["status"]
        found.updated_by = user
        found.updated_at = now
    indicators = list(
        Indicator.objects.filter(criterion_id__in=criteria)
        .select_related("criterion__criteria_set__parent")
        .order_by("criterion__number", "sort_key")
    )
    by_criterion = {}
    for indicator in indicators:
        by_criterion.setdefault(indicator.criterion_id, []).append(indicator)
    for criterion_id in criteria:
        by_criterion.setdefault(criterion_id, [])
    results = {
        (r.area_id, r.indicator_id, r.year): r
        for r in IndicatorResult.objects.filter(area_id__in=areas, year__in=years, indicator__in=indicators)
    }
    # A criterion with no indicator entered keeps the assessed status as its status (combine does it).
    restated = restate_criteria(
        touched,
        judge=Judge.for_indicators(indicators),
        areas=areas,
        indicators=by_criterion,
        results=results,
        rows=stored,
    )
    update_rows(restated.results, IndicatorResult, _STATUS_FIELDS)
    create_with_history(created, CriterionResult, user=user, now=now)
    update_with_history(
        updated, CriterionResult, [*_CRITERION_FIELDS, "assessed_status", "version"], user=user, now=now
    )
    standings.restate_for(touched)
    return ImportReport(created=len(created), updated=len(updated), criteria=len(touched))
