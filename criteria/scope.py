"""What a page about an area's criteria speaks of: the area, the year and the criteria set (a Scope), read from
``?nam=`` and ``?bo=``, with the choices the "Năm / Bộ tiêu chí" selector (templates/_year_set_selector.html)
offers to switch.

The workspace and the recognition pages build their Scope here; the year in a URL is read by ``parse_year``
alone, with one range.
"""

import operator
from dataclasses import dataclass, field
from functools import reduce

from django.db.models import BooleanField, Exists, ExpressionWrapper, Max, Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from areas import timeline
from areas.models import Area, Level, within_q
from criteria import hooks
from criteria.models import CriteriaSet, CriterionResult, IndicatorResult, SetLevel, Tier
from ntm_portal.prepared import Prepared

SET_LEVEL = {Level.COMMUNE: SetLevel.COMMUNE, Level.DISTRICT: SetLevel.DISTRICT, Level.VILLAGE: SetLevel.VILLAGE}


@dataclass
class Scope:
    """The area, criteria set and year a page speaks of, with the choices offered to switch."""

    area: object
    criteria_set: CriteriaSet | None
    year: int
    sets: list
    problem: str = ""
    # Recognition plans ahead (a file for next year); results are entered only up to this year.
    future_years: bool = False
    # The years holding data (data_years), marked in the selector.
    data_years: list = field(default_factory=list)

    @property
    def map_day(self):
        """The day whose administrative map the year is read on (areas.timeline: 31/12 of the year)."""
        return timeline.reporting_date(self.year)

    @property
    def map_label(self):
        """ "Bản đồ hành chính ngày 31/12/2024", for the page to say which map it shows."""
        return timeline.map_label(self.map_day)

    @property
    def query(self):
        code = f"&bo={self.criteria_set.code}" if self.criteria_set else ""
        return f"?nam={self.year}{code}"

    @property
    def years(self):
        if not self.sets:
            return [self.year]
        first = min(s.period_start for s in self.sets)
        period_end = max(s.period_end for s in self.sets)
        this_year = timezone.localdate().year
        last = max(period_end, this_year) if self.future_years else min(period_end, this_year)
        return sorted(set(range(first, last + 1)) | {self.year}, reverse=True)


def set_problem(criteria_set, year):
    """Why the page cannot show this set for this year, or ""."""
    if criteria_set is None:
        return _("Không có bộ tiêu chí nào áp dụng cho năm %(year)s.") % {"year": year}
    if not criteria_set.covers(year):
        return _("Bộ tiêu chí này áp dụng cho giai đoạn %(period)s, không gồm năm %(year)s.") % {
            "period": criteria_set.period,
            "year": year,
        }
    return ""


def chosen_set(request, sets):
    """The set ``?bo=`` names among `sets`, None when not given; an unknown code is a 404."""
    code = request.GET.get("bo")
    if not code:
        return None
    chosen = next((s for s in sets if s.code == code), None)
    if chosen is None:
        raise Http404
    return chosen


def data_years(area, criteria_set=None, level=None):
    """The years that hold data for `area` (None: the nation): criteria or indicator results, or plans, of the area or
    any unit within it — of `criteria_set` (its national set and the province variants of it) when given, else of the
    sets of `level` (SetLevel) when given; a plan that names no set counts only when neither is given. Newest first;
    one query. Plans are named in settings (NTM_PLAN_YEARS), so that criteria does not import plans. For the nation
    each possible year (the set's period, else every year a URL may name) is asked for (`_nation_years`)."""
    plan_years = hooks.named("NTM_PLAN_YEARS")
    if area is not None:
        # Every workspace, criterion page and dashboard asks this: compiled once (ntm_portal/prepared.py).
        if criteria_set is None:
            found = AREA_YEARS((area.level, None, level, plan_years), area=area.pk)
        else:
            national = criteria_set.national_set
            period = {"start": national.period_start, "end": national.period_end}
            shape = (area.level, national.level, level, plan_years)
            found = AREA_YEARS(shape, area=area.pk, national=national.pk, **period)
        return sorted({y for (y,) in found}, reverse=True)
    if criteria_set is None:
        shape = (None, None, None, None, level, plan_years)
    else:
        national = criteria_set.national_set
        shape = (national.pk, national.level, national.period_start, national.period_end, level, plan_years)
    row = next(iter(NATION_YEARS(shape)), {})
    return sorted((int(name[1:]) for name, present in row.items() if present), reverse=True)


def _year_sources(area, criteria_set, level, plan_years):
    """The values_list("year") querysets data_years unites, and the years a URL may name."""
    results = CriterionResult.objects.all()
    indicators = IndicatorResult.objects.all()
    if area is not None:
        results = results.filter(within_q("area", area))
        indicators = indicators.filter(within_q("area", area))
    implied_level = None
    candidates = range(timeline.FIRST_YEAR, timeline.LAST_YEAR + 1)
    if criteria_set is not None:
        national = criteria_set.national_set
        candidates = range(national.period_start, national.period_end + 1)
        period = (national.period_start, national.period_end)
        results = results.filter(criterion__criteria_set=national, year__range=period)
        indicators = indicators.filter(indicator__criterion__criteria_set=national, year__range=period)
        implied_level = national.level
        if level is None:
            level = national.level
    # The set's own level is implied by the set: two joins fewer to build and plan (the workspace's case).
    if level is not None and level != implied_level:
        results = results.filter(criterion__criteria_set__level=level)
        indicators = indicators.filter(indicator__criterion__criteria_set__level=level)
    sources = [results.order_by().values_list("year"), indicators.order_by().values_list("year")]
    if plan_years:
        sources.append(plan_years(area=area, criteria_set=criteria_set, level=level))
    return sources, candidates


def _area_years(shape, *, area, national=None, start=None, end=None):
    """data_years' statement for one area (and one national set, from its id and period, when `national`)."""
    area_level, set_level, level, plan_years = shape
    criteria_set = None
    if national is not None:
        criteria_set = CriteriaSet(pk=national, level=set_level, period_start=start, period_end=end)
    sources, _candidates = _year_sources(Area(pk=area, level=area_level), criteria_set, level, plan_years)
    return sources[0].union(*sources[1:])


AREA_YEARS = Prepared(CriterionResult, _area_years)


def _national_sets(level):
    return CriteriaSet.objects.national().for_level(level)


# The sets the selector offers, on every workspace and criterion page (ntm_portal/prepared.py).
NATIONAL_SETS = Prepared(CriteriaSet, _national_sets)


def _nation_years(shape):
    """Which candidate years any source of data_years has rows for, as one row of `y<year>` columns: one EXISTS per
    year and source, each stopping at its first row through the year index. For the nation a DISTINCT over the rows
    read every result of the country (2 s on PostgreSQL at 8,000 communes) to find a handful of years; under one area
    the area index narrows the rows first and the DISTINCT is the cheaper form (a probe for a year the area lacks
    would scan that year's rows of the whole country). `shape`: the national set's id, level and period (None when
    no set is asked), the level asked and the plan-years hook. No parameter: a set's statement never changes."""
    national, set_level, start, end, level, plan_years = shape
    criteria_set = None
    if national is not None:
        criteria_set = CriteriaSet(pk=national, level=set_level, period_start=start, period_end=end)
    sources, candidates = _year_sources(None, criteria_set, level, plan_years)
    probes = {
        f"y{year}": ExpressionWrapper(
            reduce(operator.or_, (Q(Exists(source.filter(year=year))) for source in sources)),
            output_field=BooleanField(),
        )
        for year in candidates
    }
    # Any one row carries the probes: with no area there is no data either.
    return Area.objects.order_by().annotate(**probes).values(*probes)[:1]


# The nation's year list: 15 to 120 EXISTS built and compiled on every national page (ntm_portal/prepared.py).
NATION_YEARS = Prepared(Area, _nation_years)


def reporting_year():
    """The current reporting year: the year of today."""
    return timezone.localdate().year


def default_year(years, criteria_set=None):
    """THE year a page opens on when the URL names none (workspace, dashboards, exports, recognition, plans): the
    latest of `years` (data_years: results or plans of the area and set) within the set's period; with none, the
    current reporting year (within the set's period). A year asked for in ?nam= is always the one shown."""
    if criteria_set is not None:
        years = [y for y in years if criteria_set.covers(y)]
    if years:
        return max(years)
    this_year = reporting_year()
    if criteria_set is not None and not criteria_set.covers(this_year):
        return criteria_set.period_end if this_year > criteria_set.period_end else criteria_set.period_start
    return this_year


def latest_result_year(area, criteria_set=None):
    filters = {"area": area}
    if criteria_set is not None:
        filters["year__range"] = (criteria_set.period_start, criteria_set.period_end)
    years = [
        IndicatorResult.objects.filter(**filters).aggregate(y=Max("year"))["y"],
        CriterionResult.objects.filter(**filters).aggregate(y=Max("year"))["y"],
    ]
    return max((y for y in years if y), default=None)


def workspace_scope(request, area, criteria_set=None):
    """The workspace's scope: ?nam= and ?bo=, by default the national standard set covering this year, else the
    latest year with results. `criteria_set` is fixed when the URL names a criterion or indicator of that set."""
    level = SET_LEVEL.get(area.level)
    sets = NATIONAL_SETS(level) if level else []
    chosen = chosen_set(request, sets)
    if chosen is not None:
        if criteria_set is not None and chosen != criteria_set.national_set:
            raise Http404
        criteria_set = chosen
    year, refused = timeline.year_in_url(request)
    years = data_years(area, criteria_set, level)
    if year is None:
        year = default_year(years, criteria_set)
    if criteria_set is None and level:
        national = CriteriaSet.objects.national().for_level(level).covering(year)
        criteria_set = national.filter(tier=Tier.STANDARD).first() or national.first()
    if refused:
        problem = refused
    elif not sets:
        problem = _("Chưa có bộ tiêu chí nào cho cấp %(level)s.") % {"level": area.get_level_display().lower()}
    else:
        problem = set_problem(criteria_set, year)
    return Scope(area, criteria_set, year, sets, problem, data_years=years)


def required_year(request, criteria_set):
    """The year of a URL that writes or reads one set's results: a year the set covers, else 404."""
    year, _refused = timeline.year_in_url(request)
    if year is None or not criteria_set.covers(year):
        raise Http404
    return year
