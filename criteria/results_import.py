"""Many indicator results at once (the admin's import, the Biểu imports, the bench): every row checked as a
save checks it, judged by the same Judge, and written in bulk with its history — all rows or none."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from areas.models import Area
from criteria.judging import Judge, Measurement, restate_criteria
from criteria.models import CriterionResult, Indicator, IndicatorResult
from criteria.services import ensure_unlocked

IMPORTED_FIELDS = (*Measurement.names(), "assessed_status", "note")
_IMPORT_BATCH = 2000
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
        for (area_id, criterion_id, year), line in self.touched.items():
            criterion = self.by_criterion[criterion_id][0].criterion
            try:
                ensure_unlocked(area=self.areas[area_id], year=year, criterion=criterion, user=user)
            except ValidationError as exc:
                raise ValidationError(
                    [_("Dòng %(line)s: %(message)s") % {"line": line, "message": m} for m in exc.messages]
                ) from exc


def _put_rows(rows, scope, existing, *, user, now):
    """The imported values on new or existing results (not judged yet): (created, updated)."""
    created, updated = [], []
    for row in rows:
        area, indicator, year = scope.areas[row["area"].pk], scope.indicators[row["indicator"].pk], row["year"]
        result = existing.get((area.pk, indicator.pk, year))
        if result is None:
            result = IndicatorResult(area=area, indicator=indicator, year=year, version=0)
            existing[(area.pk, indicator.pk, year)] = result
            created.append(result)
        else:
            updated.append(result)
        Measurement.from_row(row).write_to(result)
        result.assessed_status = row.get("assessed_status") or ""
        result.note = row.get("note") or ""
        result.updated_by = user
        result.updated_at = now
        result.version += 1
    return created, updated


@transaction.atomic
def import_indicator_results(*, rows, user=None, columns=None) -> ImportReport:
    """Save many results at once with the rules of record_indicator_result: all rows or none.

    `rows` are mappings with `area`, `indicator`, `year`, the fields of IMPORTED_FIELDS and optionally `line`
    (the row number the user sees); `columns` names the file's column for a field in error messages. The
    results, their criteria rows and the history of both are written in bulk, with `user` as the author.
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
    )
    criteria = len(restated.new_rows) + len(restated.changed_rows)
    return ImportReport(created=len(created), updated=len(updated), criteria=criteria)


def _write(created, updated, others, restated, *, user):
    bulk_create_with_history(created, IndicatorResult, batch_size=_IMPORT_BATCH, default_user=user)
    bulk_update_with_history(updated, IndicatorResult, _RESULT_FIELDS, batch_size=_IMPORT_BATCH, default_user=user)
    # Results of the same criteria whose verdict moved with the others: refresh_criterion restates them
    # without a history row, and so does this.
    IndicatorResult.objects.bulk_update(others, _STATUS_FIELDS, batch_size=_IMPORT_BATCH)
    bulk_create_with_history(restated.new_rows, CriterionResult, batch_size=_IMPORT_BATCH, default_user=user)
    bulk_update_with_history(
        restated.changed_rows, CriterionResult, _CRITERION_FIELDS, batch_size=_IMPORT_BATCH, default_user=user
    )
