"""Read-side figures for the dashboards: every count is aggregated in the database.

Each function issues a fixed number of queries whatever the number of communes, so that a province with
hundreds of communes costs the same round trips as a district with five.
"""

import datetime
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Max, Q
from django.utils import timezone

from areas.models import Area, Level
from criteria.models import CriteriaSet, Criterion, CriterionResult, Indicator, IndicatorResult, SetLevel, Status, Tier
from plans.models import FundingLine, PlanItem

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


def commune_figures(area, criteria_set, year):
    """Communes, their criteria met, bands, the matrix and the failure ranking: five queries."""
    criteria = list(criteria_set.criteria.order_by("number"))
    total = len(criteria)
    communes = list(
        communes_of(area)
        .in_year(year)
        .only("pk", "name", "kind", "code", "province_id", "district_id")
        .order_by("name", "code")
    )
    in_scope = communes_of(area).in_year(year)
    results = CriterionResult.objects.filter(area__in=in_scope)
    met = results.met_counts(criteria_set, year)
    cells = {}
    for area_id, criterion_id, status in results.for_set(criteria_set, year).values_list(
        "area_id", "criterion_id", "status"
    ):
        cells.setdefault(area_id, {})[criterion_id] = status
    failing = list(
        results.for_set(criteria_set, year)
        .filter(status=Status.NOT_MET)
        .values("criterion_id", "criterion__number", "criterion__name")
        .annotate(communes=Count("area", distinct=True))
        .order_by("-communes", "criterion__number")
    )

    bands = bands_for(total)
    rows = []
    for commune in communes:
        statuses = cells.get(commune.pk, {})
        count = met.get(commune.pk, 0)
        band = next(b for b in bands if b.holds(count))
        band.count += 1
        rows.append(
            {
                "area": commune,
                "met": count,
                "assessed": bool(statuses),
                "band": band.key,
                "cells": [statuses.get(c.pk, Status.NOT_ASSESSED) for c in criteria],
            }
        )
    widest = max((f["communes"] for f in failing), default=0)
    for f in failing:
        f["pct"] = svg_number(percent(f["communes"], widest))
    full = sum(1 for r in rows if r["met"] == total and total)
    tallest = max((b.count for b in bands), default=0)
    return {
        "criteria": criteria,
        "total": total,
        "rows": rows,
        "commune_count": len(rows),
        "unassessed": sum(1 for r in rows if not r["assessed"]),
        "full": full,
        "full_share": percent(full, len(rows)),
        "bands": [band_bar(i, b, tallest) for i, b in enumerate(bands)],
        "failing": failing,
    }


def band_bar(index, band, tallest):
    """Geometry of one column of the band chart, in the chart's 320 × 180 viewBox."""
    height = round(120 * band.count / tallest) if tallest else 0
    return {"band": band, "x": 15 + 80 * index, "y": 140 - height, "height": height, "mid": 40 + 80 * index}


def name_key(name):
    """Sort Vietnamese names by their letters first: "Ánh Dương" before "Bình Minh", "Đại Hóa" among the d's."""
    plain = unicodedata.normalize("NFD", name.casefold().replace("đ", "d"))
    return ("".join(ch for ch in plain if not unicodedata.combining(ch)), name)


def sort_rows(rows, order):
    if order == "ten":
        return sorted(rows, key=lambda r: name_key(r["area"].name))
    return sorted(rows, key=lambda r: (-r["met"], name_key(r["area"].name)))


def child_rows(area, commune_rows, total, year):
    """Districts (or provinces, for the nation) as rows: communes meeting all criteria / communes, share."""
    field = ROW_FIELD[area.level if area else None]
    if area is None:
        children = Area.objects.provinces().in_year(year)
    else:
        children = Area.objects.filter(parent=area).exclude(level=Level.COMMUNE).exclude(level=Level.VILLAGE)
        children = children.in_year(year)
    tally = {}
    for row in commune_rows:
        key = getattr(row["area"], field)
        full, count = tally.get(key, (0, 0))
        tally[key] = (full + (row["met"] == total), count + 1)
    rows = []
    for child in sorted(children, key=lambda a: name_key(a.name)):
        full, count = tally.pop(child.pk, (0, 0))
        rows.append({"area": child, "full": full, "communes": count, "share": percent(full, count)})
    # Since 1/7/2025 communes may sit straight under the province, with no district above them.
    for full, count in tally.values():
        rows.append({"area": None, "full": full, "communes": count, "share": percent(full, count)})
    return rows


def district_criteria(area, year):
    """The district set covering the year with the district's own status on each criterion: two queries."""
    criteria_set = (
        CriteriaSet.objects.national().for_level(SetLevel.DISTRICT).filter(tier=Tier.STANDARD).covering(year).first()
    )
    if criteria_set is None:
        return None
    statuses = dict(
        CriterionResult.objects.for_set(criteria_set, year).filter(area=area).values_list("criterion_id", "status")
    )
    # Sub-indicators (5.1 Bệnh viện huyện, 5.2 Trung tâm VH-TT, 5.3 THPT) with the district's own status.
    indicator_status = dict(
        IndicatorResult.objects.filter(
            area=area, year=year, indicator__criterion__criteria_set=criteria_set
        ).values_list("indicator_id", "status")
    )
    indicators = {}
    for ind in Indicator.objects.in_set(criteria_set).order_by("sort_key"):
        indicators.setdefault(ind.criterion_id, []).append(
            {"indicator": ind, "status": indicator_status.get(ind.pk, Status.NOT_ASSESSED)}
        )
    criteria = [
        {"criterion": c, "status": statuses.get(c.pk, Status.NOT_ASSESSED), "indicators": indicators.get(c.pk, [])}
        for c in Criterion.objects.filter(criteria_set=criteria_set).order_by("number")
    ]
    return {
        "set": criteria_set,
        "criteria": criteria,
        "met": sum(1 for c in criteria if c["status"] == Status.MET),
    }


def year_over_year(area, criteria_set, year):
    """Criteria met last year and not this year ("rớt"), and the reverse, per commune: one query.

    Only within one criteria set: criterion 6 of 2016–2020 is not criterion 6 of 2021–2025.
    """
    if year - 1 < criteria_set.period_start:
        return None
    scope = Area.objects.filter(pk=area.pk) if area.level == Level.COMMUNE else communes_of(area)
    rows = (
        CriterionResult.objects.filter(area__in=scope, year__in=[year - 1, year], criterion__criteria_set=criteria_set)
        .filter(status__in=[Status.MET, Status.NOT_MET])
        .values_list("area_id", "area__name", "area__kind", "criterion__number", "criterion__name", "year", "status")
        .order_by("area__name", "area_id", "criterion__number")
    )
    seen = {}
    for area_id, name, kind, number, crit_name, row_year, status in rows:
        key = (area_id, number)
        entry = seen.setdefault(
            key, {"area_id": area_id, "area": f"{kind} {name}".strip(), "number": number, "name": crit_name}
        )
        entry[row_year] = status
    dropped = [e for e in seen.values() if e.get(year - 1) == Status.MET and e.get(year) == Status.NOT_MET]
    gained = [e for e in seen.values() if e.get(year - 1) == Status.NOT_MET and e.get(year) == Status.MET]
    _attach_dropped_indicators(scope, criteria_set, year, dropped)
    return {
        "previous": year - 1,
        "dropped": dropped,
        "gained": gained,
        "dropped_by_area": _by_area(dropped),
        "gained_by_area": _by_area(gained),
    }


def _attach_dropped_indicators(scope, criteria_set, year, dropped):
    """Name the indicators behind each drop ("rớt 17: 17.6, 17.8"): one query for all communes."""
    # The query runs even when nothing dropped, so that a page's query count never depends on its data.
    for entry in dropped:
        entry["indicators"] = []
    wanted = {(e["area_id"], e["number"]): e for e in dropped}
    rows = (
        IndicatorResult.objects.filter(
            area__in=scope,
            year__in=[year - 1, year],
            indicator__criterion__criteria_set=criteria_set,
            indicator__criterion__number__in={number for _area, number in wanted} or {0},
            status__in=[Status.MET, Status.NOT_MET],
        )
        .values_list(
            "area_id", "indicator__criterion__number", "indicator__code", "indicator__sort_key", "year", "status"
        )
        .order_by("indicator__sort_key")
    )
    by_indicator = {}
    for area_id, number, code, _key, row_year, status in rows:
        if (area_id, number) in wanted:
            by_indicator.setdefault((area_id, number, code), {})[row_year] = status
    for (area_id, number, code), years in by_indicator.items():
        if years.get(year - 1) == Status.MET and years.get(year) == Status.NOT_MET:
            wanted[(area_id, number)]["indicators"].append(code)


def _by_area(entries):
    """Changes grouped per commune, for reading: "xã Cao Xá: 6, 17"."""
    grouped = {}
    for e in entries:
        grouped.setdefault(e["area_id"], {"area_id": e["area_id"], "area": e["area"], "criteria": []})
        grouped[e["area_id"]]["criteria"].append(e)
    return list(grouped.values())


def plan_figures(area, today):
    """Open plan items overdue and due this month under the area: a count and the first few of each."""
    items = PlanItem.objects.under(area) if area is not None else PlanItem.objects.all()
    overdue = items.overdue(today)
    due = items.due_in_month(today)
    return {
        "overdue_count": overdue.count(),
        "overdue": list(overdue.for_lists()[:LIST_LIMIT]),
        "due_count": due.count(),
        "due": list(due.for_lists()[:LIST_LIMIT]),
    }


def funding_figures(area):
    """Money planned and disbursed per source (million VND), cancelled items left out: one query."""
    lines = FundingLine.objects.counted()
    if area is not None:
        lines = lines.under(area)
    rows = [dict(r) for r in lines.totals_by_source()]
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


def commune_history(area):
    """Criteria met per year and set for one commune: one grouped query."""
    return list(
        CriterionResult.objects.filter(area=area)
        .values("year", "criterion__criteria_set__code", "criterion__criteria_set__name")
        .annotate(met=Count("pk", filter=Q(status=Status.MET)), not_met=Count("pk", filter=Q(status=Status.NOT_MET)))
        .order_by("-year", "criterion__criteria_set__code")
    )


def year_choices(criteria_set, year):
    last = min(criteria_set.period_end, datetime.date.today().year) if criteria_set else year
    first = criteria_set.period_start if criteria_set else year
    return sorted(set(range(first, last + 1)) | {year}, reverse=True)
