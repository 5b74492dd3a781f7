"""Stored standings (criteria.models.CommuneStanding): the one writer of the per-area summaries the dashboards read.

Where a commune stands in a year is the latest known status of each criterion of the set's period up to that year
(recognition/standing.py: "Chưa đánh giá" is no news, the national set's period, a variant's parent). Recomputing
that over every result of the period on each request cost the national dashboard about a second; the summary is
stored instead and kept current by the services that write results, each of which calls `restate_standings` (or
`restate_for`) in its own transaction. Stored rows, not cached fragments: the deployment runs several gunicorn
processes with no shared cache, so a fragment could not be invalidated everywhere on write, while a row written in
the writer's transaction is right for every process the moment it commits.

A set-based rewrite: a few queries for any number of areas — the areas' stored rows locked, their results of the
set's period read once, the rows computed in Python and written in bulk.
"""

from collections.abc import Iterable

from django.apps import apps as global_apps
from django.db import transaction

from criteria.models import CommuneStanding, CriteriaSet, Criterion, CriterionResult, Status

# The letter a criterion's latest status takes in `CommuneStanding.statuses`, at position number - 1.
LETTERS = {Status.MET: "M", Status.NOT_MET: "N", Status.NOT_APPLICABLE: "K"}
NO_STATUS = "."
STATUS_OF_LETTER = {letter: status for status, letter in LETTERS.items()}

_BATCH = 2000
# Areas restated at a time, so that a national set's results never sit in memory at once.
_CHUNK_AREAS = 2000


def statuses_by_number(statuses: str) -> dict:
    """{criterion number: status} of a stored `statuses` string (criteria without a status left out)."""
    return {n: STATUS_OF_LETTER[letter] for n, letter in enumerate(statuses or "", 1) if letter in STATUS_OF_LETTER}


def stored_year(criteria_set, year: int) -> int:
    """The year whose row holds the standing in `year`: rows stop at the end of the set's period, and results are
    only written for years a set covers, so a later year stands where the period ended."""
    return min(year, criteria_set.national_set.period_end)


def _compute(results, *, model, set_id, period_end, from_year):
    """The rows of `results` — (area id, criterion number, year, status) of the known statuses of one set's period,
    ordered by area and year — for the years from `from_year` (and the area's first status) to `period_end`."""
    rows = []
    by_area = {}
    for area_id, number, year, status in results:
        by_area.setdefault(area_id, []).append((number, year, status))
    for area_id, entries in by_area.items():
        latest = {}
        index = 0
        for year in range(entries[0][1], period_end + 1):
            while index < len(entries) and entries[index][1] == year:
                number, _year, status = entries[index]
                latest[number] = (status, year)
                index += 1
            if year < from_year:
                continue
            years = [y for _s, y in latest.values()]
            rows.append(
                model(
                    area_id=area_id,
                    criteria_set_id=set_id,
                    year=year,
                    statuses="".join(
                        LETTERS.get(latest.get(n, (None, 0))[0], NO_STATUS) for n in range(1, max(latest) + 1)
                    ),
                    failing=sum(1 << (n - 1) for n, (s, _y) in latest.items() if s == Status.NOT_MET),
                    met=sum(1 for s, _y in latest.values() if s == Status.MET),
                    known=len(latest),
                    data_from=min(years),
                    data_to=max(years),
                )
            )
    return rows


def _known_results(result_model, *, area_ids, set_id, period_start, period_end):
    return (
        result_model.objects.filter(
            area_id__in=area_ids, criterion__criteria_set_id=set_id, year__gte=period_start, year__lte=period_end
        )
        .exclude(status=Status.NOT_ASSESSED)
        .values_list("area_id", "criterion__number", "year", "status")
        .order_by("area_id", "year")
    )


def _national(set_model, criteria_set):
    """The national set of `criteria_set` (a historical model in a migration has no `national_set`)."""
    return set_model.objects.get(pk=criteria_set.parent_id) if criteria_set.parent_id else criteria_set


def _restate(models, *, area_ids, national, from_year):
    result_model, standing_model = models
    start = max(from_year, national.period_start)
    if not area_ids or start > national.period_end:
        return 0
    # The rows being replaced are locked first, so that two writers of one area queue here and the second reads
    # the results the first committed (a fresh statement, a fresh snapshot) instead of overwriting them with its own.
    existing = {
        (area_id, year): pk
        for pk, area_id, year in standing_model.objects.select_for_update()
        .filter(area_id__in=area_ids, criteria_set_id=national.pk, year__gte=start)
        .order_by("pk")
        .values_list("pk", "area_id", "year")
    }
    results = _known_results(
        result_model,
        area_ids=area_ids,
        set_id=national.pk,
        period_start=national.period_start,
        period_end=national.period_end,
    )
    rows = _compute(results, model=standing_model, set_id=national.pk, period_end=national.period_end, from_year=start)
    standing_model.objects.bulk_create(
        rows,
        batch_size=_BATCH,
        update_conflicts=True,
        unique_fields=["area", "criteria_set", "year"],
        update_fields=["statuses", "failing", "met", "known", "data_from", "data_to"],
    )
    # An area whose earliest statuses were withdrawn starts later now (or has no data left).
    stale = set(existing) - {(row.area_id, row.year) for row in rows}
    if stale:
        standing_model.objects.filter(pk__in=[existing[key] for key in stale]).delete()
    return len(rows)


def _area_ids(areas) -> list:
    if hasattr(areas, "values_list"):
        return list(areas.values_list("pk", flat=True))
    return sorted({getattr(area, "pk", area) for area in areas})


# No savepoint of its own: inside a writer's transaction it would cost two more queries per save.
@transaction.atomic(savepoint=False)
def restate_standings(*, areas: Iterable, criteria_set: CriteriaSet, from_year: int) -> int:
    """Rewrite the stored standings of `areas` (Areas, their ids, or an Area queryset) on the national set of
    `criteria_set` for `from_year` and every later year of its period, from their results: the number of rows
    written. Call it in the transaction that wrote the results, with the earliest year written."""
    area_ids = _area_ids(areas)
    return sum(
        _restate(
            (CriterionResult, CommuneStanding),
            area_ids=area_ids[start : start + _CHUNK_AREAS],
            national=criteria_set.national_set,
            from_year=from_year,
        )
        for start in range(0, len(area_ids), _CHUNK_AREAS)
    )


@transaction.atomic(savepoint=False)
def restate_for(keys: Iterable) -> int:
    """restate_standings for written criterion results: `keys` are CriterionResult rows or (area id, criterion id,
    year) tuples, of any sets: one call per set they touch, from the earliest year written."""
    earliest = {}
    for key in keys:
        area_id, criterion_id, year = (
            (key.area_id, key.criterion_id, key.year) if isinstance(key, CriterionResult) else key
        )
        areas, first = earliest.get(criterion_id, (set(), year))
        areas.add(area_id)
        earliest[criterion_id] = (areas, min(first, year))
    if not earliest:
        return 0
    by_set = {}
    for criterion in Criterion.objects.filter(pk__in=earliest).select_related("criteria_set__parent"):
        national = criterion.criteria_set.national_set
        areas, first = earliest[criterion.pk]
        set_areas, set_first, _set = by_set.get(national.pk, (set(), first, national))
        by_set[national.pk] = (set_areas | areas, min(set_first, first), national)
    return sum(
        restate_standings(areas=areas, criteria_set=national, from_year=first)
        for areas, first, national in by_set.values()
    )


def restate_in(apps, *, area_ids, set_id: int, from_year: int) -> int:
    """restate_standings with the models of `apps` (a data migration's historical models): nothing when the
    migration runs before the standings table exists — the migration that makes it fills it from all results."""
    try:
        standing_model = apps.get_model("criteria", "CommuneStanding")
    except LookupError:
        return 0
    set_model = apps.get_model("criteria", "CriteriaSet")
    national = _national(set_model, set_model.objects.get(pk=set_id))
    models = (apps.get_model("criteria", "CriterionResult"), standing_model)
    return _restate(models, area_ids=sorted(set(area_ids)), national=national, from_year=from_year)


@transaction.atomic
def rebuild(apps=global_apps) -> int:
    """Every stored standing rebuilt from the results (the `restate_standings` command, the migration that makes the
    table, generate_scale): the number of rows written."""
    result_model = apps.get_model("criteria", "CriterionResult")
    standing_model = apps.get_model("criteria", "CommuneStanding")
    set_model = apps.get_model("criteria", "CriteriaSet")
    standing_model.objects.all().delete()
    written = 0
    for national in set_model.objects.filter(parent__isnull=True).order_by("pk"):
        area_ids = sorted(
            result_model.objects.filter(criterion__criteria_set_id=national.pk)
            .values_list("area_id", flat=True)
            .distinct()
            .order_by()
        )
        for start in range(0, len(area_ids), _CHUNK_AREAS):
            written += _restate(
                (result_model, standing_model),
                area_ids=area_ids[start : start + _CHUNK_AREAS],
                national=national,
                from_year=national.period_start,
            )
    return written
