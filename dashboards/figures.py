"""Read-side figures for the dashboards: every count is aggregated in the database.

Each function issues a fixed number of queries whatever the number of communes, so that a province with
hundreds of communes costs the same round trips as a district with five.
"""

import datetime
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Exists, F, IntegerField, Max, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from areas import timeline
from areas.models import Area, CommuneGroup, CommuneGrouping, Level
from criteria import standings
from criteria.models import (
    STATUS_LABELS,
    CriteriaSet,
    Criterion,
    CriterionResult,
    Indicator,
    IndicatorResult,
    SetLevel,
    Status,
    ThresholdScheme,
    Tier,
)
from ntm_portal.markup import text, url_maker
from ntm_portal.prepared import Prepared
from plans.models import FundingLine, PlanItem, month_bounds
from recognition import standing
from recognition.models import RecognitionFile, Stage

# The rows of a dashboard are the areas one level below; communes are always what is counted.
ROW_LEVEL = {Level.PROVINCE: Level.DISTRICT, Level.DISTRICT: Level.COMMUNE}
# Which stored ancestor of a commune names its row on a dashboard for an area of a given level.
ROW_FIELD = {None: "province_id", Level.PROVINCE: "district_id", Level.DISTRICT: "pk"}

LIST_LIMIT = 10


@dataclass
class Band:
    key: str
    label: str
    low: int
    high: int
    count: int = 0

    def holds(self, met):
        return self.low <= met <= self.high


def bands_for(total):
    """All met, 1–4 short, 5–9 short, 10 or more short: for 19 criteria that is 19 / 15–18 / 10–14 / under 10."""
    spans = [(total, total), (max(total - 4, 0), total - 1), (max(total - 9, 0), total - 5), (0, total - 10)]
    bands = []
    for low, high in spans:
        if high < low or high < 0:
            continue
        if low == high:
            key = label = str(low)
        elif low == 0:
            key, label = f"duoi-{high + 1}", f"< {high + 1}"
        else:
            key = label = f"{low}-{high}"
            label = f"{low}–{high}"
        bands.append(Band(key, label, low, high))
    return bands


def commune_sets():
    return list(CriteriaSet.objects.national().for_level(SetLevel.COMMUNE).order_by("-period_start", "tier"))


def _commune_and_district_sets(_shape):
    return CriteriaSet.objects.national().filter(level__in=[SetLevel.COMMUNE, SetLevel.DISTRICT])


# Read on every dashboard: compiled once (ntm_portal/prepared.py).
COMMUNE_AND_DISTRICT_SETS = Prepared(CriteriaSet, _commune_and_district_sets)


def national_sets():
    """The national commune and district sets in one query, in the model's order (level, newest first)."""
    return COMMUNE_AND_DISTRICT_SETS(None)


def communes_of(area):
    """The communes a dashboard counts: under the area, or every commune for the nation (area None)."""
    communes = Area.objects.communes()
    return communes if area is None else communes.under(area)


def latest_year(area):
    """The latest year with criteria results for the communes of the area, else the current year."""
    scope = Area.objects.filter(pk=area.pk) if area is not None and area.level == Level.COMMUNE else communes_of(area)
    year = CriterionResult.objects.filter(area__in=scope).aggregate(y=Max("year"))["y"]
    return year or timezone.localdate().year


def percent(part, whole):
    return Decimal(part * 100) / Decimal(whole) if whole else None


def svg_number(value):
    """A length for an SVG attribute: a plain dot-decimal string, never localised ("64,3" breaks SVG)."""
    return f"{float(value or 0):.1f}"


def choose_set(sets, code, year):
    """The set named by `code`, else the national standard commune set covering `year`."""
    if code:
        return next((s for s in sets if s.code == code), None)
    covering = [s for s in sets if s.tier == Tier.STANDARD and s.covers(year)]
    return max(covering, key=lambda s: s.period_start, default=None)


def commune_figures(area, criteria_set, year, communes=None):
    """Communes, where they stand, bands, the matrix and the failure ranking: a few queries whatever their number.

    Three figures stand side by side (recognition/standing.py): communes recognised by decision (`recognised`),
    communes meeting every criterion by assessment (`full`, statuses carried over from the latest year of the set's
    period that has them) and communes with no data (`no_data`, their own band — never counted as failing).
    For a province or district every figure is read off the communes' standings and their latest statuses. The
    nation shows no matrix: its communes are tallied in the database, grouped by province, so that 8,000 communes
    come back as at most a few hundred rows.
    `communes` (timeline.communes_at) says which communes the year counts, on the map of its reporting date; for
    a unit formed after that day they are the old communes it was formed from, each grouped under the commune it
    became (`became`, `partial` on each row).
    """
    if communes is None:
        communes = timeline.communes_at(area, timeline.reporting_date(year))
    criteria = list(criteria_set.criteria.order_by("number"))
    total = len(criteria)
    bands = bands_for(total)
    no_data_band = Band(NO_DATA, _("Chưa có số liệu"), -1, -1)
    # row key (province or district) -> [meeting every criterion, communes, recognised, no data]
    tally = {}

    def count(key, met, has_data, recognised, n=1):
        band = next(b for b in bands if b.holds(met)) if has_data else no_data_band
        band.count += n
        entry = tally.setdefault(key, [0, 0, 0, 0])
        entry[0] += n if has_data and met == total and total else 0
        entry[1] += n
        entry[2] += n if recognised else 0
        entry[3] += 0 if has_data else n
        return band

    rows = []
    newest_start = None
    carried_from = set()
    if area is None:
        grouped, failing = _national_tallies(criteria_set, criteria, year, communes.day)
        for row in grouped:
            met = row["now__met"]
            count(row["province_id"], met or 0, met is not None, row["recognised"], row["n"])
    else:
        field = ROW_FIELD[area.level]
        found, cells, failing_by_criterion, newest_start = _read_cells(communes, criteria_set, criteria, year)
        for commune in found.values():
            standing = commune.standing
            if standing.carried:
                carried_from.update(y for y in (standing.data_from, standing.data_to) if y != year)
            # A unit formed later groups the old communes under the commune it became.
            became, partial = communes.became.get(commune.pk, (None, False))
            key = became.pk if communes.mapped else getattr(commune, field)
            band = count(key, standing.met, standing.has_data, standing.recognised)
            rows.append(
                {
                    "area": commune,
                    "became": became if became is not None and became.pk != commune.pk else None,
                    "partial": partial,
                    "met": standing.met if standing.has_data else -1,
                    "assessed": standing.has_data,
                    "standing": standing,
                    "band": band.key,
                    "cells": cells[commune.pk],
                }
            )
        failing = [
            {"criterion_id": c.pk, "criterion__number": c.number, "criterion__name": c.name, "communes": n}
            for c in criteria
            if (n := failing_by_criterion.get(c.pk, 0))
        ]
        failing.sort(key=lambda f: (-f["communes"], f["criterion__number"]))

    widest = max((f["communes"] for f in failing), default=0)
    for f in failing:
        f["pct"] = svg_number(percent(f["communes"], widest))
    full, commune_count, recognised, no_data = (sum(entry[i] for entry in tally.values()) for i in range(4))
    all_bands = [*bands, no_data_band]
    tallest = max((b.count for b in all_bands), default=0)
    return {
        "criteria": criteria,
        "total": total,
        "rows": rows,
        "tally": tally,
        "commune_count": commune_count,
        # Communes with no data in the set's period up to the year: their own band, never failing.
        "no_data": no_data,
        "unassessed": no_data,
        "with_data": commune_count - no_data,
        "full": full,
        "full_share": percent(full, commune_count - no_data),
        "recognised": recognised,
        "recognised_share": percent(recognised, commune_count),
        "carried_from": sorted(carried_from),
        "bands": [band_bar(i, b, tallest) for i, b in enumerate(all_bands)],
        "failing": failing,
        "newest_start": newest_start,
        # Communes with a recognition file of the set and year, per stage (every stage, zero included).
        "stage_counts": _stage_counts(rows),
        # The years each commune has data for (province and district pages): year_over_year reads them.
        "data_years": {row["area"].pk: row["area"].data_years for row in rows} if area is not None else None,
    }


# The key of the band of communes with no data (its own colour, after the four bands of criteria met).
NO_DATA = "chua-co-so-lieu"


def _read_cells(communes, criteria_set, criteria, year):
    """The communes counted with their standing (recognition/standing.py), their latest statuses on the criteria,
    the failures per criterion and the latest start of a commune counted (the map changed then): one query.

    The communes come with their stored standing of the year (criteria.models.CommuneStanding: the latest status
    of each criterion, carried over) by a LEFT JOIN — one row per commune — and their recognition as columns; each
    commune remembers which of the year and the one before it has data for (`data_years`, for year_over_year: a
    year has data when a status of that year is among the latest ones, i.e. its standing's newest data is of it)."""
    newest_start = None
    total = len(criteria)
    national = criteria_set.national_set
    asked = {
        "set_id": national.pk,
        "now": standings.stored_year(national, year),
        "before": standings.stored_year(national, year - 1),
        "year": year,
        "year_end": datetime.date(year, 12, 31),
    }
    scope_shape, scope = _scope_shape(communes, 0)
    if scope_shape is None:
        cell_rows = _cells(communes.queryset(), (national.level, national.tier), **asked)
    else:
        # Compiled once per kind of scope (ntm_portal/prepared.py).
        cell_rows = AREA_CELLS((scope_shape, national.level, national.tier), **scope, **asked)
    found, cells, failing_by_criterion = {}, {}, {}
    # Communes share few distinct `statuses` strings: each is read once into its row of cells (shared, read-only).
    row_of, communes_with = {}, {}
    for (
        pk,
        name,
        kind,
        code,
        province_id,
        district_id,
        valid_from,
        statuses,
        met,
        known,
        data_from,
        data_to,
        before_to,
        recognised_in,
        decision_number,
        decision_date,
        file_stage,
    ) in cell_rows:
        if valid_from is not None and (newest_start is None or valid_from > newest_start):
            newest_start = valid_from
        commune = Area(pk=pk, name=name, kind=kind, code=code, province_id=province_id, district_id=district_id)
        commune.standing = standing.Standing(
            year=year,
            total=total,
            met=met or 0,
            known=known or 0,
            data_from=data_from,
            data_to=data_to,
            recognised_in=recognised_in,
            decision_number=decision_number or "",
            decision_date=decision_date,
        )
        commune.data_years = {y for y, newest in ((year - 1, before_to), (year, data_to)) if newest == y}
        commune.file_stage = file_stage
        found[pk] = commune
        if statuses not in row_of:
            by_number = standings.statuses_by_number(statuses)
            row_of[statuses] = [by_number.get(c.number, Status.NOT_ASSESSED) for c in criteria]
        cells[pk] = row_of[statuses]
        communes_with[statuses] = communes_with.get(statuses, 0) + 1
    for statuses, n in communes_with.items():
        for criterion, status in zip(criteria, row_of[statuses], strict=True):
            if status == Status.NOT_MET:
                failing_by_criterion[criterion.pk] = failing_by_criterion.get(criterion.pk, 0) + n
    return found, cells, failing_by_criterion, newest_start


def _cells(communes, shape, *, set_id, now, before, year, year_end):
    """_read_cells' statement: `communes` (an Area queryset) with their stored standings of the year and the year
    before (`now`, `before`: the rows' years), their recognition and the stage of their file of the year."""
    level, tier = shape
    recognition = standing.recognitions_standing(level, tier, year=year, year_end=year_end)
    recognition = recognition.filter(area=OuterRef("pk")).order_by("year", "pk")
    return (
        communes.annotate(
            now=standing.stored_row(set_id, now),
            before=standing.stored_row(set_id, before),
            recognised_in=Subquery(recognition.values("year")[:1]),
            decision_number=Subquery(recognition.values("decision_number")[:1]),
            decision_date=Subquery(recognition.values("decision_date")[:1]),
            # The stage of the commune's file of this set and year, for the stage counts (no query of their own).
            file_stage=Subquery(
                RecognitionFile.objects.filter(criteria_set=set_id, year=year, area=OuterRef("pk")).values("stage")[:1]
            ),
        )
        .values_list(
            "pk",
            "name",
            "kind",
            "code",
            "province_id",
            "district_id",
            "valid_from",
            "now__statuses",
            "now__met",
            "now__known",
            "now__data_from",
            "now__data_to",
            "before__data_to",
            "recognised_in",
            "decision_number",
            "decision_date",
            "file_stage",
        )
        .order_by("name", "code")
    )


def _area_cells(shape, *, set_id, now, before, year, year_end, **scope):
    """_cells of the communes of a scope, as _scope_shape gives it."""
    scope_shape, level, tier = shape
    asked = {"set_id": set_id, "now": now, "before": before, "year": year, "year_end": year_end}
    return _cells(_scope_queryset(scope_shape, 0, scope), (level, tier), **asked)


# Both years' old communes stay within a prepared statement's parameters (ntm_portal/prepared.py); a new province
# formed from more (the largest, about 600) is read through its queryset.
PREPARED_IDS_MAX = 900


def _scope_shape(communes, half):
    """A year's communes (timeline.Communes) as a prepared statement takes them: (shape, parameters). Either the
    area's own communes on the year's day (("own", the area's level); a commune is its own scope on any day) or the
    old communes it was formed from (("ids", how many), the ids numbered): one statement per kind of area or count
    of old communes. (None, None) for the nation or a year that counts no commune."""
    if communes.mapped:
        if not communes.ids or len(communes.ids) > PREPARED_IDS_MAX:
            return None, None
        return ("ids", len(communes.ids)), {f"c{half}_{i}": pk for i, pk in enumerate(communes.ids)}
    if communes.area is None:
        return None, None
    scope = {"area": communes.area.pk}
    if communes.area.level != Level.COMMUNE:
        scope[f"day{half}"] = communes.day
    return ("own", communes.area.level), scope


def _scope_queryset(shape, half, scope):
    """The Area queryset of a scope from _scope_shape's shape and parameters."""
    kind, size = shape
    if kind == "ids":
        return Area.objects.filter(pk__in=[scope[f"c{half}_{i}"] for i in range(size)])
    return timeline.Communes(Area(pk=scope["area"], level=size), scope.get(f"day{half}")).queryset()


AREA_CELLS = Prepared(Area, _area_cells)


def _stage_counts(rows):
    counts = dict.fromkeys(Stage.values, 0)
    for row in rows:
        stage = getattr(row["area"], "file_stage", None)
        if stage:
            counts[stage] += 1
    return counts


def _national_tallies(criteria_set, criteria, year, day):
    """Communes in force on `day` per (province, criteria met, has data, recognised), with the failures on each
    criterion summed per group for the ranking: one query over the communes and their stored standings
    (criteria.models.CommuneStanding) — a GROUP BY of at most a few hundred groups."""
    national = criteria_set.national_set
    shape = (tuple((c.pk, c.number) for c in criteria), national.level, national.tier)
    asked = {"set_id": national.pk, "now": standings.stored_year(national, year), "year": year}
    grouped = NATIONAL_TALLIES(shape, day=day, year_end=datetime.date(year, 12, 31), **asked)
    failing = [
        {
            "criterion_id": c.pk,
            "criterion__number": c.number,
            "criterion__name": c.name,
            "communes": sum(row[f"failing_{c.pk}"] or 0 for row in grouped),
        }
        for c in criteria
    ]
    failing = [f for f in failing if f["communes"]]
    failing.sort(key=lambda f: (-f["communes"], f["criterion__number"]))
    return grouped, failing


def _tallies(shape, *, day, set_id, now, year, year_end):
    """_national_tallies' statement; `shape` is the criteria's (id, number) pairs and the set's level and tier."""
    criteria, level, tier = shape
    # A criterion fails where its bit in the stored `failing` is set. Each bit is summed as an integer: PostgreSQL sums
    # a bigint as numeric, and 15,000 numerics decoded into Decimals and back took half of the nation's page CPU.
    failures = {
        f"failing_{pk}": Sum(Cast(F("now__failing").bitrightshift(number - 1).bitand(1), IntegerField()))
        for pk, number in criteria
    }
    recognitions = standing.recognitions_standing(level, tier, year=year, year_end=year_end)
    return (
        Area.objects.communes()
        .valid_on(day)
        .annotate(now=standing.stored_row(set_id, now), recognised=Exists(recognitions.filter(area=OuterRef("pk"))))
        .values("province_id", "now__met", "recognised")
        .annotate(n=Count("pk"), **failures)
        .order_by()
    )


# The nation's dashboard: 19 sums and a recognition test took 20 ms to build and compile (ntm_portal/prepared.py).
NATIONAL_TALLIES = Prepared(Area, _tallies)


# The matrix's cells as markup built once per status: 2,500 cells through the template's tag machinery
# cost most of a province page's time.
_CELL = {
    Status.MET: '<td class="cell st-met">✓</td>',
    Status.NOT_MET: '<td class="cell st-not_met">✗</td>',
    Status.NOT_APPLICABLE: '<td class="cell st-na">–</td>',
}


def cells_html(statuses):
    return mark_safe("".join(_CELL.get(s) or f'<td class="cell st-{escape(s)}">·</td>' for s in statuses))


def matrix_html(rows, total, query, mapped):
    """The rows of the commune × criterion matrix (a page of them), built here once: a hundred rows through the
    template's tag machinery cost most of a province page's CPU. Escaped as the template would."""
    labels = {
        "url": url_maker("workspace"),
        "query": text(query),
        "kept": text(_("Đạt chuẩn · giữ vững")),
        "recognised": text(_("Đạt chuẩn")),
        "no_data": text(_("Chưa có số liệu")),
        "itself": text(_("(chính đơn vị này)")),
        "partial": text(_("một phần")),
        "total": total,
        "mapped": mapped,
        # Rows of communes with the same statuses share their list of cells (_read_cells): marked up once.
        "cells": {},
    }
    return mark_safe("".join(_matrix_row(row, labels) for row in rows))


def _cached_cells(statuses, cache):
    key = id(statuses)
    if key not in cache:
        cache[key] = (statuses, cells_html(statuses))  # the list kept alive so that its id stays its own
    return cache[key][1]


def _matrix_row(row, labels):
    area = text(row["area"])
    link = f'<a href="{labels["url"](row["area"].pk)}{labels["query"]}">{area}</a>'
    if labels["mapped"]:
        became = text(row["became"]) if row["became"] else labels["itself"]
        partial = f' <span class="badge partial">{labels["partial"]}</span>' if row["partial"] else ""
        name = (
            f'<th scope="row" class="name">{link if row.get("openable") else area}</th>\n'
            f'  <td class="became">{became}{partial}</td>\n  '
        )
    else:
        name = f'<th scope="row" class="name">{link}</th>'
    standing = row["standing"]
    recognition = ""
    if standing.recognised:
        badge = labels["kept"] if standing.kept else labels["recognised"]
        recognition = f'<span class="badge st-recognised" title="{text(standing.recognition_label)}">{badge}</span>'
    if row["assessed"]:
        label = standing.data_label
        met = f"{row['met']}/{labels['total']}" + (f'<br><small class="muted">{text(label)}</small>' if label else "")
    else:
        met = f'<span class="badge st-no-data">{labels["no_data"]}</span>'
    return (
        f'<tr class="{"full" if row["met"] == labels["total"] else ""}">\n  {name}\n'
        f'  <td class="recognition">{recognition}</td>\n  <td class="num">{met}</td>\n'
        f"  {_cached_cells(row['cells'], labels['cells'])}\n</tr>"
    )


def band_bar(index, band, tallest):
    """Geometry of one column of the band chart (four bands of criteria met, then "no data"), in the chart's
    400 × 180 viewBox."""
    height = round(120 * band.count / tallest) if tallest else 0
    return {"band": band, "x": 15 + 78 * index, "y": 140 - height, "height": height, "mid": 40 + 78 * index}


def name_key(name):
    """Sort Vietnamese names by their letters first: "Ánh Dương" before "Bình Minh", "Đại Hóa" among the d's."""
    plain = unicodedata.normalize("NFD", name.casefold().replace("đ", "d"))
    return ("".join(ch for ch in plain if not unicodedata.combining(ch)), name)


def sort_rows(rows, order):
    if order == "ten":
        return sorted(rows, key=lambda r: name_key(r["area"].name))
    return sorted(rows, key=lambda r: (-r["met"], name_key(r["area"].name)))


def child_rows(area, tally, year, communes=None):
    """Districts (or provinces, for the nation) in force on the year's reporting date as rows: communes meeting
    all criteria / communes, share. For a unit formed later, the rows are its communes, each counting the old
    communes that became it."""
    day = communes.day if communes is not None else timeline.reporting_date(year)
    if communes is not None and communes.mapped:
        children = communes.targets.values()
    elif area is None:
        children = Area.objects.provinces().valid_on(day)
    else:
        children = timeline.children_at(area, day).exclude(level=Level.COMMUNE).exclude(level=Level.VILLAGE)
    tally = dict(tally)
    rows = []

    def row(child, full, count, recognised, no_data):
        return {
            "area": child,
            "full": full,
            "communes": count,
            "recognised": recognised,
            "no_data": no_data,
            "with_data": count - no_data,
            # Shares: recognised over every commune; meeting every criterion over the communes with data.
            "share": percent(recognised, count),
            "full_share": percent(full, count - no_data),
        }

    for child in sorted(children, key=lambda a: name_key(a.name)):
        rows.append(row(child, *tally.pop(child.pk, (0, 0, 0, 0))))
    # Since 1/7/2025 communes may sit straight under the province, with no district above them.
    for entry in tally.values():
        rows.append(row(None, *entry))
    return rows


# Statuses come as a column of the criteria and indicator queries, not as queries of their own; both statements
# are compiled once (ntm_portal/prepared.py).
def _district_indicators(_shape, *, area, year, criteria_set):
    status = IndicatorResult.objects.filter(area_id=area, year=year, indicator=OuterRef("pk")).values("status")
    return Indicator.objects.in_set(criteria_set).annotate(status=Subquery(status[:1])).order_by("sort_key")


def _district_criteria(_shape, *, area, year, criteria_set):
    status = CriterionResult.objects.filter(area_id=area, year=year, criterion=OuterRef("pk")).values("status")
    return (
        Criterion.objects.filter(criteria_set_id=criteria_set).annotate(status=Subquery(status[:1])).order_by("number")
    )


DISTRICT_INDICATORS = Prepared(Indicator, _district_indicators)
DISTRICT_CRITERIA = Prepared(Criterion, _district_criteria)


def district_criteria(area, year, sets):
    """The district set covering the year (among `national_sets()`) with the district's own status on each
    criterion: two queries."""
    criteria_set = next(
        (s for s in sets if s.level == SetLevel.DISTRICT and s.tier == Tier.STANDARD and s.covers(year)), None
    )
    if criteria_set is None:
        return None
    found = {"area": area.pk, "year": year, "criteria_set": criteria_set.pk}
    indicators = {}
    for ind in DISTRICT_INDICATORS(None, **found):
        indicators.setdefault(ind.criterion_id, []).append(
            {"indicator": ind, "status": (status := ind.status or Status.NOT_ASSESSED), "label": STATUS_LABELS[status]}
        )
    criteria = [
        {
            "criterion": c,
            "status": (status := c.status or Status.NOT_ASSESSED),
            "label": STATUS_LABELS[status],
            "indicators": indicators.get(c.pk, []),
        }
        for c in DISTRICT_CRITERIA(None, **found)
    ]
    return {
        "set": criteria_set,
        "criteria": criteria,
        "met": sum(1 for c in criteria if c["status"] == Status.MET),
    }


def year_over_year(area, criteria_set, year, communes=None, newest_start=None, data_years=None, query=""):
    """Criteria met last year and not this year ("rớt"), and the reverse, per commune: two queries, three when the
    years each commune has data for are not given (`data_years`, from commune_figures).

    Only within one criteria set: criterion 6 of 2016–2020 is not criterion 6 of 2021–2025. Like with like: each
    commune is compared with itself, over the communes of both years' maps; a commune formed between the two
    reporting dates has no previous year and is compared with nothing (`map_changed` says so: a scope read through
    the merges, or a commune counted this year — `newest_start`, from commune_figures — that started since).
    `query` ("?nam=…&bo=…") ends the links to each commune's dashboard.
    """
    if year - 1 < criteria_set.period_start:
        return None
    if communes is None:
        communes = timeline.communes_at(area, timeline.reporting_date(year))
    before = timeline.communes_at(area, timeline.reporting_date(year - 1), known=communes)

    def results():  # built only where a page needs it (the prepared read below does not)
        return _both_years(communes.queryset(), before.queryset(), criteria_set.pk, year, year - 1)

    halves, asked = _scope_halves(communes, before)
    if halves is None:
        changed = _changed_pairs(results(), year, year - 1)
    else:
        # Compiled once per kind of scope (ntm_portal/prepared.py).
        changed = CHANGED_PAIRS(halves, set_id=criteria_set.pk, year=year, previous=year - 1, **asked)
    dropped, gained = _split_changes(changed, year)
    _attach_dropped_indicators(criteria_set, year, dropped)
    # Like with like: only communes with data in both years are compared; a year without any data says so. The
    # years each commune has data for come from commune_figures when it ran (no query of their own).
    if data_years is not None and before.mapped == communes.mapped and before.ids == communes.ids:
        with_data = [(year - 1 in years, year in years) for years in data_years.values()]
    else:
        with_data = (
            results()
            .exclude(status=Status.NOT_ASSESSED)
            .values("area_id")
            .annotate(before=Count("pk", filter=Q(year=year - 1)), now=Count("pk", filter=Q(year=year)))
            .values_list("before", "now")
            .order_by()
        )
    had_before = had_now = compared = 0
    for before_n, now_n in with_data:
        had_before += 1 if before_n else 0
        had_now += 1 if now_n else 0
        compared += 1 if before_n and now_n else 0
    return {
        "previous": year - 1,
        "compared": compared,
        "previous_has_data": bool(had_before),
        "current_has_data": bool(had_now),
        "previous_only": had_before - compared,
        "current_only": had_now - compared,
        "map_changed": before.mapped
        or communes.mapped
        or any(d is not None and d > before.day for d in (newest_start, area.valid_from)),
        "previous_day": before.day,
        "day": communes.day,
        "dropped": dropped,
        "gained": gained,
        "dropped_by_area": (dropped_by_area := _by_area(dropped)),
        "gained_by_area": (gained_by_area := _by_area(gained)),
        "dropped_html": changes_html(dropped_by_area, query, _("rớt tiêu chí")),
        "gained_html": changes_html(gained_by_area, query, _("đạt thêm tiêu chí")),
    }


def _both_years(now, before, set_id, year, previous):
    """The criterion results in the two years of the communes of both (Area querysets of each year's communes).

    The communes of both maps as one set of ids, each half read through the stored-ancestor index, so that the
    results are then read per commune through their (area, criterion, year) index. OR-ing two IN subqueries made
    PostgreSQL scan the areas and both years' results of the whole country (0.35 s on a province)."""
    scope = now.order_by().values("pk").union(before.order_by().values("pk"), all=True)
    return CriterionResult.objects.filter(area__in=scope, year__in=[previous, year], criterion__criteria_set=set_id)


def _changed_pairs(results, year, previous):
    """The (commune, criterion) pairs whose status went from met to not met (dropped) or back (gained) between the
    year before and `year`, in the order shown: only these leave the database (a province has thousands of
    unchanged ones). The year before is a parameter of its own, so that the statement can be prepared."""
    return (
        results.values("area_id", "area__name", "area__kind", "criterion__number", "criterion__name")
        .annotate(
            dropped=Count("pk", filter=Q(year=previous, status=Status.MET))
            + Count("pk", filter=Q(year=year, status=Status.NOT_MET)),
            gained=Count("pk", filter=Q(year=previous, status=Status.NOT_MET))
            + Count("pk", filter=Q(year=year, status=Status.MET)),
        )
        .filter(Q(dropped=2) | Q(gained=2))
        .order_by("area__name", "area_id", "criterion__number")
    )


def _scope_halves(communes, before):
    """The shape and parameters of the two years' communes as CHANGED_PAIRS takes them (_scope_shape); (None, None)
    when either cannot be prepared."""
    shapes, asked = [], {}
    for half, scope in enumerate((communes, before)):
        shape, params = _scope_shape(scope, half)
        if shape is None:
            return None, None
        shapes.append(shape)
        asked.update(params)
    return tuple(shapes), asked


def _area_changed_pairs(halves, *, set_id, year, previous, **scope):
    """_changed_pairs of the communes of the two years, each year's as _scope_shape gives them."""
    now, before = (_scope_queryset(shape, half, scope) for half, shape in enumerate(halves))
    return _changed_pairs(_both_years(now, before, set_id, year, previous), year, previous)


CHANGED_PAIRS = Prepared(CriterionResult, _area_changed_pairs)


def _split_changes(rows, year):
    dropped, gained = [], []
    for row in rows:
        was_met = row["dropped"] == 2
        entry = {
            "area_id": row["area_id"],
            "area": f"{row['area__kind']} {row['area__name']}".strip(),
            "number": row["criterion__number"],
            "name": row["criterion__name"],
            year - 1: Status.MET if was_met else Status.NOT_MET,
            year: Status.NOT_MET if was_met else Status.MET,
        }
        (dropped if was_met else gained).append(entry)
    return dropped, gained


def _attach_dropped_indicators(criteria_set, year, dropped):
    """Name the indicators behind each drop ("rớt 17: 17.6, 17.8"): one query for all communes."""
    # The query runs even when nothing dropped, so that a page's query count never depends on its data.
    for entry in dropped:
        entry["indicators"] = []
    wanted = {(e["area_id"], e["number"]): e for e in dropped}
    # Only the indicators that fell (met the year before, not met now) leave the database: the communes and criteria
    # asked for cross into every indicator of every commune that dropped anything (11,000 rows a province here).
    rows = (
        IndicatorResult.objects.filter(
            # Only the communes that dropped a criterion, read through the results' (area, indicator, year) index.
            area_id__in={area_id for area_id, _number in wanted} or {0},
            year__in=[year - 1, year],
            indicator__criterion__criteria_set=criteria_set,
            indicator__criterion__number__in={number for _area, number in wanted} or {0},
            status__in=[Status.MET, Status.NOT_MET],
        )
        .values("area_id", "indicator__criterion__number", "indicator__code", "indicator__sort_key")
        .annotate(
            fell=Count("pk", filter=Q(year=year - 1, status=Status.MET))
            + Count("pk", filter=Q(year=year, status=Status.NOT_MET))
        )
        .filter(fell=2)
        .values_list("area_id", "indicator__criterion__number", "indicator__code")
        .order_by("indicator__sort_key", "indicator__code")
    )
    for area_id, number, code in rows:
        if (area_id, number) in wanted:
            wanted[(area_id, number)]["indicators"].append(code)


def _by_area(entries):
    """Changes grouped per commune, for reading: "xã Cao Xá: 6, 17"."""
    grouped = {}
    for e in entries:
        grouped.setdefault(e["area_id"], {"area_id": e["area_id"], "area": e["area"], "criteria": []})
        grouped[e["area_id"]]["criteria"].append(e)
    return list(grouped.values())


def changes_html(groups, query, label):
    """One list item per commune ("xã Cao Xá: rớt tiêu chí 6 (chỉ tiêu 6.1), 17"), built here once: a province
    lists hundreds of changes, and the template then does no work per commune."""
    dashboard_url = url_maker("dashboard")
    query, label, indicator = text(query), text(label), text(_("chỉ tiêu"))
    return mark_safe(
        "".join(
            f'<li><a href="{dashboard_url(g["area_id"])}{query}">{text(g["area"])}</a>: {label} '
            f"{_criteria_html(g['criteria'], indicator)}</li>"
            for g in groups
        )
    )


def _criteria_html(entries, indicator):
    return ", ".join(
        f'<span title="{text(e["name"])}">{text(e["number"])}</span>'
        + (f" ({indicator} {text(', '.join(e['indicators']))})" if e.get("indicators") else "")
        for e in entries
    )


class CountOf(Subquery):
    """COUNT(*) of a queryset as a column. Uncorrelated, so the database computes it once per query (a
    window count would make PostgreSQL join and sort every overdue item of a province before the LIMIT)."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) counted)"
    output_field = IntegerField()


def _item_list(shape, *, area=None, today=None, first=None, last=None):
    """One of plan_figures' lists: the first few items, each row carrying the count of all of them."""
    name, level = shape
    items = PlanItem.objects.concerning(Area(pk=area, level=level)) if level else PlanItem.objects.all()
    chosen = items.overdue(today) if name == "overdue" else items.due_between(first, last)
    return chosen.for_summaries().annotate(total=CountOf(chosen.order_by().values("pk")))[:LIST_LIMIT]


# Every dashboard shows both lists (ntm_portal/prepared.py).
ITEM_LIST = Prepared(PlanItem, _item_list)


def plan_figures(area, today):
    """Open plan items overdue and due this month under the area: the first few of each, each row carrying
    the count of all of them, so that a count costs no query of its own."""
    where = {"area": area.pk} if area is not None else {}
    first, last = month_bounds(today)
    figures = {}
    for name, days in (("overdue", {"today": today}), ("due", {"first": first, "last": last})):
        rows = ITEM_LIST((name, area and area.level), **where, **days)
        figures[name] = rows
        figures[f"{name}_count"] = rows[0].total if rows else 0
    return figures


def _funding_totals(level, *, area=None):
    lines = FundingLine.objects.counted()
    if level is not None:
        lines = lines.under(Area(pk=area, level=level))
    return lines.totals_by_source()


# Every dashboard shows them (ntm_portal/prepared.py).
FUNDING_TOTALS = Prepared(FundingLine, _funding_totals)


def funding_figures(area):
    """Money planned and disbursed per source (million VND), cancelled items left out: one query."""
    rows = FUNDING_TOTALS(area.level, area=area.pk) if area is not None else FUNDING_TOTALS(None)
    largest = max((max(r["planned"] or 0, r["disbursed"] or 0) for r in rows), default=0)
    for r in rows:
        r["planned"] = r["planned"] or Decimal(0)
        r["disbursed"] = r["disbursed"] or Decimal(0)
        r["planned_pct"] = svg_number(percent(r["planned"], largest))
        r["disbursed_pct"] = svg_number(percent(r["disbursed"], largest))
        r["rate"] = percent(r["disbursed"], r["planned"])
    planned = sum((r["planned"] for r in rows), Decimal(0))
    disbursed = sum((r["disbursed"] for r in rows), Decimal(0))
    return {"rows": rows, "planned": planned, "disbursed": disbursed, "rate": percent(disbursed, planned)}


# The columns of recognition/standing.py's annotate_standing that make a Standing.
STANDING_COLUMNS = ("met", "known", "data_from", "data_to", "recognised_in", "decision_number", "decision_date")


def commune_history(area, origins=()):
    """Criteria met per year and set for one commune and the units it was formed from (`origins`, each under its
    own name), by the one carry-over rule (recognition/standing.py): each year with entries shows the unit's
    standing (`standing`: a criterion without news that year keeps its latest status of the set's period, labelled
    "theo số liệu năm 2023") beside what was entered that year (`entered`: criteria with a status). Three queries
    whatever the number of years: the entries, the sets, and every year's standing in one UNION."""
    rows = list(
        CriterionResult.objects.filter(area__in=[area, *origins])
        .values(
            "year",
            "area_id",
            "area__kind",
            "area__name",
            "criterion__criteria_set_id",
            "criterion__criteria_set__code",
            "criterion__criteria_set__name",
        )
        .annotate(entered=Count("pk", filter=~Q(status=Status.NOT_ASSESSED)))
        .order_by("-year", "criterion__criteria_set__code", "area__name", "area_id")
    )
    pairs = sorted({(row["criterion__criteria_set_id"], row["year"]) for row in rows})
    sets = CriteriaSet.objects.filter(pk__in={set_id for set_id, _year in pairs}).annotate(total=Count("criteria"))
    sets = {s.pk: s for s in sets.select_related("parent")}
    found = _standings_of([area.pk, *(o.pk for o in origins)], [(sets[set_id], year) for set_id, year in pairs])
    for row in rows:
        set_id = row["criterion__criteria_set_id"]
        row["own"] = row["area_id"] == area.pk
        row["unit"] = f"{row['area__kind']} {row['area__name']}".strip()
        row["standing"] = standing.Standing.of(
            found.get((row["area_id"], set_id, row["year"]), {}), year=row["year"], total=sets[set_id].total
        )
        row["met"] = row["standing"].met
    return rows


def commune_standing(area, criteria_set, year):
    """A commune's standing (recognition/standing.py) in `year`: two queries, the first compiled once."""
    row = _standings_of([area.pk], [(criteria_set, year)]).get((area.pk, criteria_set.pk, year), {})
    return standing.Standing.of(row, year=year, total=criteria_set.national_set.criteria.count())


def _standings_of(unit_ids, pairs):
    """{(unit id, set id, year): row of annotate_standing's columns} for each unit at each (set, year) of `pairs`:
    one query, prepared (UNIT_STANDINGS)."""
    if not pairs:
        return {}
    units = {f"u{i}": pk for i, pk in enumerate(dict.fromkeys(unit_ids))}
    asked, pair_shapes = {}, []
    for k, (criteria_set, year) in enumerate(pairs):
        national = criteria_set.national_set
        pair_shapes.append((national.level, national.tier))
        asked.update({f"s{k}": national.pk, f"n{k}": standings.stored_year(national, year), f"y{k}": year})
        asked.update({f"i{k}": criteria_set.pk, f"e{k}": datetime.date(year, 12, 31)})
    rows = UNIT_STANDINGS((len(units), tuple(pair_shapes)), **units, **asked)
    return {(r["pk"], r["set_id"], r["at_year"]): r for r in rows}


def _unit_standings(shape, **asked):
    """commune_history's standings: the units `u0`, `u1`, … at each pair of a set (`i<k>`, shown; its national set
    `s<k>`, of `shape`'s level and tier) and a year (`y<k>`; its stored row's year `n<k>`, its last day `e<k>`), as
    one UNION. Ids and pairs are numbered parameters, so that a commune and its origins share one statement per
    count of units and pairs."""
    unit_count, pair_shapes = shape
    units = Area.objects.filter(pk__in=[asked[f"u{i}"] for i in range(unit_count)]).order_by()
    parts = [
        standing.annotate_standing_at(
            units, level, tier, set_id=asked[f"s{k}"], row_year=asked[f"n{k}"], year=asked[f"y{k}"],
            year_end=asked[f"e{k}"],
        )
        .annotate(
            at_year=Value(asked[f"y{k}"], output_field=IntegerField()),
            set_id=Value(asked[f"i{k}"], output_field=IntegerField()),
        )
        .values("pk", "at_year", "set_id", *STANDING_COLUMNS)
        for k, (level, tier) in enumerate(pair_shapes)
    ]  # fmt: skip
    return parts[0].union(*parts[1:], all=True)


# A commune's history: one part per set and year, 20 ms to build and compile for a merged commune's four units.
UNIT_STANDINGS = Prepared(Area, _unit_standings)


def year_choices(criteria_set, year):
    last = min(criteria_set.period_end, datetime.date.today().year) if criteria_set else year
    first = criteria_set.period_start if criteria_set else year
    return sorted(set(range(first, last + 1)) | {year}, reverse=True)


def group_breakdown(scope, criteria_set, year):
    """Communes by their group for the year's period (nhóm 1 / 2 / 3, then those not grouped yet): how many and how
    many meet every criterion. Only for a set whose thresholds go by group (2026–2030), else None; two queries."""
    if criteria_set.threshold_scheme != ThresholdScheme.GROUP:
        return None
    national = criteria_set.national_set
    total = national.criteria.count()
    group = CommuneGrouping.objects.for_year(year).filter(area=OuterRef("pk")).values("group")[:1]
    rows = standing.annotate_standing(scope.queryset().order_by(), national, year).annotate(group=Subquery(group))
    tally = {key: [0, 0] for key in [*CommuneGroup.values, ""]}
    for key, n, known in rows.values_list("group", "met", "known"):
        tally[key or ""][0] += 1
        tally[key or ""][1] += 1 if total and known and n == total else 0
    labels = dict(CommuneGroup.choices) | {"": _("Chưa xếp nhóm")}
    return [
        {"group": key, "label": labels[key], "communes": n, "full": full, "share": percent(full, n)}
        for key, (n, full) in tally.items()
        if key or n
    ]
