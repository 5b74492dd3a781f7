"""Writes to criteria results: a saved result, a verdict on a whole criterion, and the re-evaluation after
thresholds change. Every change is judged at once (criteria.judging) and lands in the history.

Evidence files are in criteria.evidence, threshold administration in criteria.thresholds, many results at
once in criteria.results_import.
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from areas.models import Area
from criteria import evaluation, hooks, standings
from criteria.judging import Judge, Measurement, criterion_row, judge_indicators, restate, restate_criteria
from criteria.models import CriteriaSet, Criterion, CriterionResult, Indicator, IndicatorResult
from ntm_portal.bulk import create_with_history, update_rows, update_with_history
from ntm_portal.vietnamese import stale_edit_message


class StaleResultError(Exception):
    """Someone else saved the same result after the form was opened."""

    def __init__(self, result):
        self.result = result
        super().__init__(stale_edit_message(what=_("Kết quả này"), who=result.updated_by, when=result.updated_at))


def _store_statuses(results):
    """Restated results keep no history row of their own: only their status moved, not what was entered."""
    update_rows(results, IndicatorResult, ["status", "computed_status", "is_tentative"])


def refresh_criterion(*, area, criterion, year, user=None, judged=None):
    """Re-evaluate a criterion's indicators and store the criterion's status row."""
    if judged is None:
        judged = judge_indicators(area=area, criteria_set=criterion.criteria_set, year=year, criterion=criterion)
    restated = [j.result for j in judged if j.result is not None and restate(j.result, j.evaluation)]
    _store_statuses(restated)
    stored = CriterionResult.objects.filter(area=area, criterion=criterion, year=year).first()
    row, changed = criterion_row(stored, judged, area=area, criterion=criterion, year=year)
    if row is not None:
        # Whether the criterion's tile moved (its status or its count of indicators met): a save re-renders the
        # tiles only then.
        row.moved = changed or bool(restated)
    if changed:
        if user is not None:
            row.updated_by = user
            row._history_user = user
        row.save()
        standings.restate_standings(areas=[area], criteria_set=criterion.criteria_set, from_year=year)
    return row


@transaction.atomic
def record_indicator_result(
    *,
    area: Area,
    indicator: Indicator,
    year: int,
    user=None,
    value: Decimal | None = None,
    numerator: Decimal | None = None,
    denominator: Decimal | None = None,
    boolean: bool | None = None,
    not_applicable: bool = False,
    assessed_status: str = "",
    note: str = "",
    expected_version: int | None = None,
    indicators: list[Indicator] | None = None,
) -> IndicatorResult:
    """Save an area's result for an indicator, evaluate it and refresh its criterion.

    `expected_version` is the version the user's form was opened on: a newer one raises StaleResultError
    instead of silently overwriting the other person's change. `indicators` are the criterion's indicators in
    page order (with `criterion`), when the caller read them with this one.

    The saved result carries the verdict it was saved with (`judgement`) and whether the criterion's tile moved
    (`tile_moved`: its status, or its count of indicators met), so that the page need not read them again.
    """
    lock_area(area=area, year=year, criterion=indicator.criterion, user=user)
    measurement = Measurement(
        value=value, numerator=numerator, denominator=denominator, boolean=boolean, not_applicable=not_applicable
    )
    errors = measurement.errors(indicator)
    if errors:
        raise ValidationError(errors)
    # The criterion's results are read (and locked) once: this one to check its version, all of them to judge
    # the criterion.
    judged = judge_indicators(
        area=area,
        criteria_set=indicator.criterion.criteria_set,
        year=year,
        criterion=indicator.criterion,
        for_update=True,
        indicators=indicators,
    )
    mine = next((j for j in judged if j.indicator.pk == indicator.pk), None)
    if mine is not None:
        result = mine.result
    else:
        result = (
            IndicatorResult.objects.select_for_update(of=("self",))
            .select_related("updated_by")
            .filter(area=area, indicator=indicator, year=year)
            .first()
        )
    if result is not None and expected_version is not None and result.version != expected_version:
        raise StaleResultError(result)
    # A first result always moves its tile (one more indicator entered); a changed one when its status moves.
    moved = result is None or mine is None
    if result is None:
        result = IndicatorResult(area=area, indicator=indicator, year=year, version=0)
    measurement.write_to(result)
    result.assessed_status = assessed_status or ""
    result.note = note or ""
    result.updated_by = user
    result.version += 1
    if mine is not None:
        mine.result, mine.evaluation = result, evaluation.evaluate(result, mine.choice)
        moved = restate(result, mine.evaluation) or moved
    result._history_user = user
    result.save()
    row = refresh_criterion(area=area, criterion=indicator.criterion, year=year, user=user, judged=judged)
    result.judgement = mine
    result.tile_moved = moved or row is None or row.moved
    return result


@transaction.atomic
def assess_criterion(
    *, area: Area, criterion: Criterion, year: int, status: str, user=None, note: str = "", source: str = ""
) -> CriterionResult:
    """Record a verdict on a whole criterion where only the verdict is known; the computed one stays apart."""
    lock_area(area=area, year=year, criterion=criterion, user=user)
    row, _created = CriterionResult.objects.select_for_update().get_or_create(area=area, criterion=criterion, year=year)
    row.assessed_status = status or ""
    if note:
        row.note = note
    if source:
        row.source = source
    if not _created:
        row.version += 1
    row.updated_by = user
    row._history_user = user
    row.save()
    return refresh_criterion(area=area, criterion=criterion, year=year, user=user) or row


# What re-judging a criterion row changes on it (its author stays the person who last entered something).
_RESTATED_FIELDS = ["status", "computed_status", "is_tentative", "disagreement", "updated_at"]

# Results are re-evaluated this many areas at a time, so that a whole national set never sits in memory.
_RECOMPUTE_AREAS = 500


@transaction.atomic
def recompute(
    *, indicator: Indicator | None = None, criteria_set: CriteriaSet | None = None, areas=None, user=None
) -> int:
    """Re-evaluate stored results after thresholds change (an administrator completed or overrode one), or, with
    `areas`, after those communes changed group. The criterion rows that move are in the history under `user`."""
    results = IndicatorResult.objects.all()
    if areas is not None:
        results = results.filter(area__in=areas)
    if indicator is not None:
        results = results.filter(indicator=indicator)
    if criteria_set is not None:
        results = results.filter(indicator__criterion__criteria_set=criteria_set.national_set)
    keys = set(results.values_list("area_id", "indicator__criterion_id", "year"))
    if not keys:
        return 0
    by_criterion = {}
    for i in (
        Indicator.objects.filter(criterion_id__in={k[1] for k in keys})
        .select_related("criterion__criteria_set")
        .order_by("criterion__number", "sort_key")
    ):
        by_criterion.setdefault(i.criterion_id, []).append(i)
    judge = Judge.for_indicators(i for indicators in by_criterion.values() for i in indicators)
    area_ids = sorted({k[0] for k in keys})
    for start in range(0, len(area_ids), _RECOMPUTE_AREAS):
        chunk = set(area_ids[start : start + _RECOMPUTE_AREAS])
        _recompute_areas(sorted(k for k in keys if k[0] in chunk), judge=judge, by_criterion=by_criterion, user=user)
    return len(keys)


def _recompute_areas(keys, *, judge, by_criterion, user):
    """Restate the (area id, criterion id, year) `keys` of a few hundred areas: four queries and the writes."""
    area_ids = {area_id for area_id, _criterion, _year in keys}
    criterion_ids = {criterion_id for _area, criterion_id, _year in keys}
    years = {year for _area, _criterion, year in keys}
    areas = Area.objects.select_related("region", "province").in_bulk(area_ids)
    results = {
        (r.area_id, r.indicator_id, r.year): r
        for r in IndicatorResult.objects.filter(
            area_id__in=area_ids, indicator__criterion_id__in=criterion_ids, year__in=years
        )
    }
    rows = {
        (c.area_id, c.criterion_id, c.year): c
        for c in CriterionResult.objects.filter(area_id__in=area_ids, criterion_id__in=criterion_ids, year__in=years)
    }
    restated = restate_criteria(keys, judge=judge, areas=areas, indicators=by_criterion, results=results, rows=rows)
    _store_statuses(restated.results)
    # In bulk with their history: saved one by one, a threshold changed for the whole country (12,000 criterion
    # rows) kept the administrator's page waiting 20 s.
    now = timezone.now()
    for row in restated.new_rows + restated.changed_rows:
        row.updated_at = now
    create_with_history(restated.new_rows, CriterionResult, user=user, now=now)
    update_with_history(restated.changed_rows, CriterionResult, _RESTATED_FIELDS, user=user, now=now)
    standings.restate_for(restated.new_rows + restated.changed_rows)


# ---------------------------------------------------------------- results locked by another app


def ensure_unlocked(**kw) -> None:
    """Refuse a write to results the recognition workflow has locked (a submitted file). The check is named in
    settings.NTM_RESULT_LOCK so that criteria does not import recognition; it raises ValidationError."""
    check = hooks.named("NTM_RESULT_LOCK")
    if check:
        check(**kw)


def lock_area(*, area, year, criterion, user) -> None:
    """Lock the area's row for a write to its results of `year`, refusing the write where the recognition workflow
    has locked them (ensure_unlocked).

    Writers of one area queue on this lock: a first result has no row to lock yet, and a criterion's status must be
    computed from every indicator, including the one another officer saved a moment ago. Whether a recognition file
    exists (settings.NTM_RESULT_LOCK_PROBE) is asked in the same statement; the check, which locks the file, runs
    only then: one query less on every save where there is none."""
    probe = hooks.named("NTM_RESULT_LOCK_PROBE")
    locked = Area.objects.select_for_update(of=("self",)).filter(pk=area.pk)
    if not probe:
        ensure_unlocked(area=area, year=year, criterion=criterion, user=user)
        list(locked.values_list("pk", flat=True))
        return
    filed = probe(area=OuterRef("pk"), year=year, criteria_set=criterion.criteria_set)
    if any(found is not None for found in locked.annotate(filed=filed).values_list("filed", flat=True)):
        ensure_unlocked(area=area, year=year, criterion=criterion, user=user)


def ensure_all_unlocked(writes, *, user) -> None:
    """ensure_unlocked for many writes at once, `writes` mapping (area, year, criterion) to the line that makes
    it: the writes a file may lock are found in one query (settings.NTM_RESULT_LOCK_MANY), then each is checked
    as one save is; a refusal names its line ("Dòng 7: …")."""
    if not hooks.named("NTM_RESULT_LOCK"):
        return
    lockable = hooks.named("NTM_RESULT_LOCK_MANY")
    to_check = lockable(writes=writes, user=user) if lockable else list(writes)
    for area, year, criterion in to_check:
        try:
            ensure_unlocked(area=area, year=year, criterion=criterion, user=user)
        except ValidationError as exc:
            line = writes[(area, year, criterion)]
            raise ValidationError(
                [_("Dòng %(line)s: %(message)s") % {"line": line, "message": m} for m in exc.messages]
            ) from exc
