"""A national-scale synthetic data set for benchmarks: the map, results, plans, items and funding lines.

Everything is written with bulk_create, one province per transaction, so 8,000 communes and a million rows
load in minutes rather than hours. Statuses are judged by criteria.judging's Judge, the one a save, an import
and a recompute use, so what is stored is what a save would store.
Generated areas carry codes starting with "G-" and never collide with the catalogue or the demo data.
"""

import datetime
import random
import time
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Q

from areas.models import Area, AreaSuccession, Level, Role, Share
from criteria import evaluation, standings
from criteria.judging import Judge, criterion_row, restate
from criteria.models import (
    CommuneStanding,
    CriteriaSet,
    CriterionResult,
    Evidence,
    Indicator,
    IndicatorKind,
    IndicatorResult,
    SetLevel,
    Tier,
)
from plans.models import Deadline, FundingLine, FundingSource, ItemStatus, Plan, PlanItem, PlanStatus, Precision

PREFIX = "G-"
BATCH = 2000
OLD_MAP_END = datetime.date(2025, 6, 30)
NEW_MAP_START = datetime.date(2025, 7, 1)
# One map: the 63 provinces before the 2025 reorganisation, or the 34 after it (no district level); or both, the
# old map with its years up to 2024 and the new one from 1/7/2025 with the next year, linked by merges.
MAP_2016, MAP_2025, MAP_BOTH = "2016", "2025", "both"
# Both maps: every few old communes form a new one; every tenth new commune also takes part of the next one's
# first old commune (a partial merge, as a split commune is in the official data).
MERGE_SIZE = 3
PARTIAL_EVERY = 10

SYLLABLES = [
    "An",
    "Bình",
    "Cẩm",
    "Đông",
    "Hòa",
    "Hưng",
    "Lạc",
    "Minh",
    "Phú",
    "Quang",
    "Tân",
    "Thạnh",
    "Thịnh",
    "Trung",
    "Vĩnh",
    "Xuân",
    "Yên",
    "Hợp",
    "Đức",
    "Phúc",
    "Long",
    "Thuận",
    "Lợi",
    "Nghĩa",
    "Sơn",
    "Hải",
    "Thủy",
    "Lâm",
    "Thành",
    "Mỹ",
    "Hà",
    "Kim",
    "Ngọc",
    "Phong",
    "Tiến",
    "Đồng",
    "Hiệp",
    "Khánh",
    "Lương",
    "Nam",
    "Bắc",
    "Tây",
    "Hồng",
    "Quý",
]
ITEM_WORKS = [
    "Cứng hóa đường giao thông nội đồng",
    "Nâng cấp nhà văn hóa thôn",
    "Xây dựng trạm y tế xã đạt chuẩn",
    "Kiên cố hóa kênh mương",
    "Hỗ trợ xây dựng nhà tiêu hợp vệ sinh",
    "Vận động người dân tham gia bảo hiểm y tế",
    "Thu gom, xử lý rác thải sinh hoạt",
    "Đào tạo nghề cho lao động nông thôn",
    "Chỉnh trang cảnh quan, trồng cây xanh",
    "Xây dựng phòng học đạt chuẩn",
]


@dataclass
class Spec:
    provinces: int = 63
    districts_per_province: int = 11
    communes_per_district: int = 12
    communes_per_province: int = 98  # only for the 2025 map, where communes sit straight under the province
    villages_per_commune: int = 8
    years: int = 2
    seed: int = 1
    map: str = MAP_2016
    last_year: int | None = None

    @property
    def year_list(self):
        last = self.last_year or (2025 if self.map == MAP_2025 else 2024)
        return list(range(last - self.years + 1, last + 1))

    @property
    def new_map_years(self):
        """With both maps: the years after the old map's last one, read on the new map (one by default)."""
        return [self.year_list[-1] + 1] if self.map == MAP_BOTH else []


@dataclass
class Counts:
    provinces: int = 0
    districts: int = 0
    communes: int = 0
    villages: int = 0
    indicator_results: int = 0
    criterion_results: int = 0
    plans: int = 0
    items: int = 0
    funding_lines: int = 0
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)

    def lines(self):
        names = [
            "provinces",
            "districts",
            "communes",
            "villages",
            "indicator_results",
            "criterion_results",
            "plans",
            "items",
            "funding_lines",
        ]
        extra = [f"{name} {value}" for name, value in self.extra.items()]
        return [f"{name} {getattr(self, name)}" for name in names] + extra + [f"seconds {self.seconds:.1f}"]


def base_provinces(map_name):
    """The catalogue's provinces the generated map hangs under."""
    day = datetime.date(2024, 12, 31) if map_name == MAP_2016 else NEW_MAP_START
    return list(
        Area.objects.provinces().valid_on(day).select_related("region").prefetch_related("predecessors__region")
    )


# ---------------------------------------------------------------- judging, with the choices cached


class SetJudge:
    """One criteria set's indicators in order, with the criteria Judge that chooses their thresholds."""

    def __init__(self, criteria_set):
        self.set = criteria_set
        self.indicators = list(
            Indicator.objects.in_set(criteria_set)
            .select_related("criterion__criteria_set")
            .order_by("criterion__number", "sort_key")
        )
        self.criteria = []
        by_criterion = {}
        for indicator in self.indicators:
            if indicator.criterion_id not in by_criterion:
                by_criterion[indicator.criterion_id] = []
                self.criteria.append(indicator.criterion)
            by_criterion[indicator.criterion_id].append(indicator)
        self.by_criterion = by_criterion
        self._judge = Judge.for_indicators(self.indicators)

    def choice(self, indicator, area, year):
        return self._judge.choice(indicator, area, year)

    def judge(self, indicator, area, year, result):
        return self._judge.judge(indicator, area, year, result)


def _sets_by_year(years):
    """The national standard commune and district sets covering each year."""
    found = {}
    for level in (SetLevel.COMMUNE, SetLevel.DISTRICT):
        for year in years:
            criteria_set = (
                CriteriaSet.objects.national()
                .for_level(level)
                .filter(tier=Tier.STANDARD)
                .covering(year)
                .order_by("-period_start")
                .first()
            )
            found[(level, year)] = criteria_set
    judges = {}
    result = {}
    for key, criteria_set in found.items():
        if criteria_set is None:
            result[key] = None
            continue
        if criteria_set.pk not in judges:
            judges[criteria_set.pk] = SetJudge(criteria_set)
        result[key] = judges[criteria_set.pk]
    return result


# ---------------------------------------------------------------- measured values


def _q(number):
    return Decimal(str(round(number, 1)))


def _measurement(rng, indicator, threshold, passes):
    """Fields of a result that meets (or misses) the threshold, as an officer would enter them."""
    comparison = threshold.comparison if threshold is not None else evaluation.MISSING
    boolean_kind = indicator.kind == IndicatorKind.BOOLEAN
    fields = {}
    if boolean_kind:
        fields["boolean"] = passes if comparison != evaluation.NO else not passes
        if comparison not in (evaluation.YES, evaluation.NO):
            fields["assessed_status"] = evaluation.MET if passes else evaluation.NOT_MET
        return fields
    percentage = indicator.kind == IndicatorKind.PERCENTAGE
    cap = 100.0 if percentage else None
    target = float(threshold.value) if comparison in (evaluation.GTE, evaluation.LTE, evaluation.EQ) else None
    if target is None:
        value = rng.uniform(40, 100) if percentage else rng.uniform(1, 60)
        fields["assessed_status"] = evaluation.MET if passes else evaluation.NOT_MET
    elif comparison == evaluation.GTE:
        if passes or target <= 0:
            value = target + abs(target) * rng.uniform(0, 0.15) + 0.1
        else:
            value = target * rng.uniform(0.6, 0.97)
    elif comparison == evaluation.LTE:
        value = target * rng.uniform(0.3, 0.98) if passes else target * rng.uniform(1.05, 1.6) + 0.1
    else:
        value = target if passes else target + rng.choice((-1, 1)) * max(1, abs(target) * 0.1)
    value = max(value, 0.0)
    if cap is not None:
        value = min(value, cap)
    if comparison == evaluation.EQ and passes:
        fields["value"] = threshold.value
    elif percentage and rng.random() < 0.3:
        # Some percentages are entered as households counted out of households, as the seeds do (1.276/1.413).
        denominator = rng.randint(300, 3000)
        fields["numerator"] = Decimal(min(denominator, round(denominator * value / 100)))
        fields["denominator"] = Decimal(denominator)
    else:
        fields["value"] = _q(value)
    return fields


def _skill(rng):
    """How far along a commune is: most are recognised (nearly everything met), a tail lags well behind."""
    draw = rng.random()
    if draw < 0.65:
        return 0.997
    if draw < 0.9:
        return rng.uniform(0.9, 0.985)
    return rng.uniform(0.7, 0.9)


def judge_area(rng, judge, area, year, skill):
    """Results and criterion rows of one area for one year, judged by the criteria Judge as a save would."""
    indicator_rows, criterion_rows = [], []
    for criterion in judge.criteria:
        judged = []
        for indicator in judge.by_criterion[criterion.pk]:
            choice = judge.choice(indicator, area, year)
            if rng.random() < (0.002 if skill > 0.99 else 0.03):
                # "Most indicators": a few are never entered, mostly by the communes that lag behind.
                judged.append(judge.judge(indicator, area, year, None))
                continue
            result = IndicatorResult(area=area, indicator=indicator, year=year, version=1)
            if rng.random() < 0.01:
                result.not_applicable = True
            else:
                for name, value in _measurement(rng, indicator, choice.threshold, rng.random() < skill).items():
                    setattr(result, name, value)
            judgement = judge.judge(indicator, area, year, result)
            restate(result, judgement.evaluation)
            indicator_rows.append(result)
            judged.append(judgement)
        row, _changed = criterion_row(None, judged, area=area, criterion=criterion, year=year)
        if row is not None:
            criterion_rows.append(row)
    return indicator_rows, criterion_rows


# ---------------------------------------------------------------- plans


def _plans_for(rng, communes, unmet_by_commune, judge, year, sources):
    plans = []
    for index, commune in enumerate(communes, start=1):
        plans.append(
            Plan(
                area=commune,
                year=year,
                number=f"{index:02d}/KH-BCĐ",
                title=f"Kế hoạch xây dựng nông thôn mới năm {year} {commune.full_name}",
                issued_on=datetime.date(year, rng.randint(1, 3), rng.randint(1, 28)),
                issued_by="Ban Chỉ đạo xây dựng nông thôn mới",
                criteria_set=judge.set if judge else None,
                status=PlanStatus.ISSUED,
                source="generate_scale",
            )
        )
    Plan.objects.bulk_create(plans, batch_size=BATCH)
    items = []
    criteria = judge.criteria if judge else []
    for plan in plans:
        unmet = unmet_by_commune.get(plan.area_id, [])
        extra = [rng.choice(criteria) for _i in range(rng.randint(3, 8))] if criteria else [None] * 4
        for position, criterion in enumerate([*unmet, *extra], start=1):
            precision = rng.choice([Precision.DAY, Precision.MONTH, Precision.QUARTER, Precision.YEAR])
            if precision == Precision.DAY:
                deadline = Deadline.of(precision, year, rng.randint(1, 12), rng.randint(1, 28))
            elif precision == Precision.MONTH:
                deadline = Deadline.of(precision, year, rng.randint(1, 12))
            elif precision == Precision.QUARTER:
                deadline = Deadline.of(precision, year, rng.randint(1, 4))
            else:
                deadline = Deadline.of(precision, year)
            draw = rng.random()
            status = (
                ItemStatus.DONE
                if draw < 0.4
                else ItemStatus.IN_PROGRESS
                if draw < 0.75
                else ItemStatus.NOT_STARTED
                if draw < 0.95
                else ItemStatus.CANCELLED
            )
            progress = {ItemStatus.DONE: 100, ItemStatus.NOT_STARTED: 0}.get(status, rng.randint(10, 90))
            item = PlanItem(
                plan=plan,
                position=position,
                title=f"{rng.choice(ITEM_WORKS)} ({plan.area.name})",
                criterion=criterion,
                status=status,
                progress=progress if status != ItemStatus.CANCELLED else 0,
            )
            item.deadline = deadline
            items.append(item)
    PlanItem.objects.bulk_create(items, batch_size=BATCH)
    lines = []
    for item in items:
        for source in rng.sample(sources, k=min(len(sources), rng.randint(1, 3))):
            planned = Decimal(rng.randint(5, 30000)) / 10
            share = Decimal(item.progress) / 100
            lines.append(
                FundingLine(
                    item=item, source=source, planned=planned, disbursed=(planned * share).quantize(Decimal("0.1"))
                )
            )
    FundingLine.objects.bulk_create(lines, batch_size=BATCH)
    return len(plans), len(items), len(lines)


# ---------------------------------------------------------------- the map


def _name(rng):
    return f"{rng.choice(SYLLABLES)} {rng.choice(SYLLABLES)}"


def _region_for(province, index):
    """A merged 2025 province spans several regions: each commune keeps the region of the province it came from."""
    if province.region_id is not None:
        return province.region
    regions = [p.region for p in province.predecessors.all() if p.region_id is not None]
    return regions[index % len(regions)] if regions else None


def _short(code):
    return str(code).replace(" ", "")[:3]


def _districts(rng, spec, province, valid_until):
    pcode = _short(province.code)
    districts = []
    for d in range(1, spec.districts_per_province + 1):
        districts.append(
            Area(
                code=f"{PREFIX}{pcode}-{d:02d}",
                name=_name(rng),
                kind="huyện",
                level=Level.DISTRICT,
                parent=province,
                province=province,
                region=province.region,
                valid_until=valid_until,
            )
        )
    Area.objects.bulk_create(districts, batch_size=BATCH)
    return districts


def _communes(rng, spec, province, districts, valid_from, valid_until):
    old_map = spec.map == MAP_2016
    pcode = _short(province.code)
    communes = []
    parents = districts if old_map else [None]
    per_parent = spec.communes_per_district if old_map else spec.communes_per_province
    for d_index, district in enumerate(parents, start=1):
        for c in range(1, per_parent + 1):
            draw = rng.random()
            region = province.region if old_map else _region_for(province, c)
            code = f"{PREFIX}{pcode}-{d_index:02d}-{c:03d}" if old_map else f"{PREFIX}{pcode}-{c:04d}"
            communes.append(
                Area(
                    code=code,
                    name=_name(rng),
                    kind="xã",
                    level=Level.COMMUNE,
                    parent=district or province,
                    province=province,
                    district=district,
                    region=region,
                    special_difficulty=draw < 0.08,
                    safe_zone=0.08 <= draw < 0.1,
                    valid_from=valid_from,
                    valid_until=valid_until,
                )
            )
    Area.objects.bulk_create(communes, batch_size=BATCH)
    return communes


def _villages(spec, province, communes, valid_from, valid_until):
    villages = []
    for commune in communes:
        for v in range(1, spec.villages_per_commune + 1):
            villages.append(
                Area(
                    code=f"{commune.code}-{v:02d}",
                    name=f"Thôn {v}",
                    kind="thôn",
                    level=Level.VILLAGE,
                    parent=commune,
                    province=province,
                    district=commune.district,
                    commune=commune,
                    region=commune.region,
                    valid_from=valid_from,
                    valid_until=valid_until,
                )
            )
    Area.objects.bulk_create(villages, batch_size=BATCH)
    return villages


def _results(rng, spec, communes, districts, judges):
    """Results and criterion rows of every commune and district for every year, and each commune's unmet
    criteria in the last year (its plan addresses them first)."""
    indicator_rows, criterion_rows = [], []
    unmet_last = {}
    last = spec.year_list[-1]
    for commune in communes:
        skill = _skill(rng)
        for year in spec.year_list:
            judge = judges[(SetLevel.COMMUNE, year)]
            if judge is None:
                continue
            # A commune improves year on year.
            year_skill = min(0.999, skill + 0.01 * (year - last))
            rows, crits = judge_area(rng, judge, commune, year, year_skill)
            indicator_rows += rows
            criterion_rows += crits
            if year == last:
                unmet_last[commune.pk] = [
                    next(c for c in judge.criteria if c.pk == r.criterion_id)
                    for r in crits
                    if r.status == evaluation.NOT_MET
                ]
    for district in districts:
        for year in spec.year_list:
            judge = judges[(SetLevel.DISTRICT, year)]
            if judge is not None:
                rows, crits = judge_area(rng, judge, district, year, 0.98)
                indicator_rows += rows
                criterion_rows += crits
    return indicator_rows, criterion_rows, unmet_last


def _build_province(rng, spec, province, counts, judges, sources):
    old_map = spec.map == MAP_2016
    # Old-map units end with their provinces. New-map communes carry no start date so that their results of
    # the years before 1/7/2025 (their predecessors' figures) stay on the map for those years.
    valid_from = None
    valid_until = OLD_MAP_END if old_map else None
    districts = _districts(rng, spec, province, valid_until) if old_map else []
    communes = _communes(rng, spec, province, districts, valid_from, valid_until)
    villages = _villages(spec, province, communes, valid_from, valid_until)
    counts.districts += len(districts)
    counts.communes += len(communes)
    counts.villages += len(villages)

    indicator_rows, criterion_rows, unmet_last = _results(rng, spec, communes, districts, judges)
    IndicatorResult.objects.bulk_create(indicator_rows, batch_size=BATCH)
    CriterionResult.objects.bulk_create(criterion_rows, batch_size=BATCH)
    standings.restate_for(criterion_rows)
    counts.indicator_results += len(indicator_rows)
    counts.criterion_results += len(criterion_rows)
    last = spec.year_list[-1]
    n_plans, n_items, n_lines = _plans_for(rng, communes, unmet_last, judges[(SetLevel.COMMUNE, last)], last, sources)
    counts.plans += n_plans
    counts.items += n_items
    counts.funding_lines += n_lines


def _merge_into_new_map(rng, spec, province, counts, judges, sources):
    """The new map's communes of one new (or unchanged) province, each formed from the generated old communes of
    its predecessors, linked by AreaSuccession, with results and plans for the new map's years."""
    year = spec.new_map_years[0]
    olds = list(
        Area.objects.communes()
        .filter(code__startswith=PREFIX, valid_until=OLD_MAP_END)
        .filter(province__in=[p.pk for p in province.predecessors.all()] or [province.pk])
        .order_by("code")
    )
    groups = [olds[i : i + MERGE_SIZE] for i in range(0, len(olds), MERGE_SIZE)]
    pcode = _short(province.code)
    communes = [
        Area(
            code=f"{PREFIX}{pcode}-N{index:04d}",
            name=_name(rng),
            kind="xã",
            level=Level.COMMUNE,
            parent=province,
            province=province,
            region=group[0].region,
            special_difficulty=any(o.special_difficulty for o in group),
            safe_zone=any(o.safe_zone for o in group),
            valid_from=NEW_MAP_START,
        )
        for index, group in enumerate(groups, start=1)
    ]
    Area.objects.bulk_create(communes, batch_size=BATCH)
    pairs = []
    split = set()
    for index, (commune, group) in enumerate(zip(communes, groups, strict=True)):
        pairs += [(old, commune) for old in group]
        if index % PARTIAL_EVERY == PARTIAL_EVERY - 1 and index + 1 < len(groups):
            # The next group's first commune is split: part of it comes here, the rest goes on to its own group.
            pairs.append((groups[index + 1][0], commune))
            split.add(groups[index + 1][0].pk)
    links = [
        AreaSuccession(
            old=old, new=new, share=Share.PARTIAL if old.pk in split else Share.FULL, on=NEW_MAP_START, basis=PREFIX
        )
        for old, new in pairs
    ]
    AreaSuccession.objects.bulk_create(links, batch_size=BATCH)
    counts.communes += len(communes)
    counts.extra["merge_links"] = counts.extra.get("merge_links", 0) + len(links)
    new_spec = Spec(**{**spec.__dict__, "map": MAP_2025, "years": 1, "last_year": year})
    indicator_rows, criterion_rows, unmet_last = _results(rng, new_spec, communes, [], judges)
    IndicatorResult.objects.bulk_create(indicator_rows, batch_size=BATCH)
    CriterionResult.objects.bulk_create(criterion_rows, batch_size=BATCH)
    standings.restate_for(criterion_rows)
    counts.indicator_results += len(indicator_rows)
    counts.criterion_results += len(criterion_rows)
    n_plans, n_items, n_lines = _plans_for(rng, communes, unmet_last, judges[(SetLevel.COMMUNE, year)], year, sources)
    counts.plans += n_plans
    counts.items += n_items
    counts.funding_lines += n_lines


def generate(spec: Spec, *, progress=None) -> Counts:
    """Build the synthetic map under the catalogue's provinces with results and plans; one province per
    transaction. The same seed gives the same areas, values and statuses. With both maps, the old one is built
    first, then the new one from it."""
    if spec.map == MAP_BOTH:
        counts = generate(Spec(**{**spec.__dict__, "map": MAP_2016}), progress=progress)
        started = time.monotonic() - counts.seconds
        old_provinces = {p.pk for p in sorted(base_provinces(MAP_2016), key=lambda p: p.code)[: spec.provinces]}
        judges = _sets_by_year(spec.new_map_years)
        sources = list(FundingSource.objects.active().order_by("position", "code"))
        for province in sorted(base_provinces(MAP_2025), key=lambda p: p.code):
            # Only the new provinces formed from the old ones that were generated.
            if not ({p.pk for p in province.predecessors.all()} or {province.pk}) & old_provinces:
                continue
            rng = random.Random(f"{spec.seed}-{MAP_BOTH}-{province.code}")
            with transaction.atomic():
                _merge_into_new_map(rng, spec, province, counts, judges, sources)
            if progress:
                progress(f"{province.full_name} (bản đồ từ 01/07/2025): {counts.communes} xã")
        _after_bulk_load()
        counts.seconds = time.monotonic() - started
        return counts
    started = time.monotonic()
    counts = Counts()
    provinces = sorted(base_provinces(spec.map), key=lambda p: p.code)[: spec.provinces]
    judges = _sets_by_year(spec.year_list)
    sources = list(FundingSource.objects.active().order_by("position", "code"))
    for index, province in enumerate(provinces, start=1):
        rng = random.Random(f"{spec.seed}-{spec.map}-{province.code}")
        with transaction.atomic():
            _build_province(rng, spec, province, counts, judges, sources)
        counts.provinces += 1
        if progress:
            progress(
                f"{index}/{len(provinces)} {province.full_name}: {counts.communes} xã, "
                f"{counts.indicator_results} kết quả chỉ tiêu, {time.monotonic() - started:.0f} s"
            )
    _after_bulk_load()
    counts.seconds = time.monotonic() - started
    return counts


def _after_bulk_load():
    """Fresh statistics after a bulk load: without them SQLite's planner picks the wrong indexes. On PostgreSQL,
    outside a transaction, VACUUM as well, as autovacuum would soon after such a load: until then no index-only scan
    can be used, and the bench would measure a database that a production server does not keep (a PostgreSQL with
    autovacuum off, as on some of these machines, never gets there)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            cursor.execute("VACUUM ANALYZE")
        else:
            cursor.execute("ANALYZE")


def _raw_delete(queryset):
    # Generated rows carry no history; deleting them one by one would write a history row for each.
    return queryset._raw_delete(queryset.db)


@transaction.atomic
def clear() -> int:
    """Remove every generated area and what hangs off it (results, plans, roles, evidence)."""
    areas = Area.objects.filter(code__startswith=PREFIX)
    _raw_delete(FundingLine.objects.filter(item__plan__area__in=areas))
    _raw_delete(PlanItem.coordinator_members.through.objects.filter(planitem__plan__area__in=areas))
    _raw_delete(PlanItem.coordinator_agencies.through.objects.filter(planitem__plan__area__in=areas))
    from plans.models import ProgressUpdate

    _raw_delete(ProgressUpdate.objects.filter(item__plan__area__in=areas))
    _raw_delete(PlanItem.objects.filter(plan__area__in=areas))
    _raw_delete(Plan.objects.filter(area__in=areas))
    _raw_delete(IndicatorResult.objects.filter(area__in=areas))
    _raw_delete(CriterionResult.objects.filter(area__in=areas))
    _raw_delete(CommuneStanding.objects.filter(area__in=areas))
    Evidence.all_objects.filter(area__in=areas).delete()
    Role.objects.filter(area__in=areas).delete()
    _raw_delete(AreaSuccession.objects.filter(Q(old__in=areas) | Q(new__in=areas)))
    removed = 0
    for level in (Level.VILLAGE, Level.COMMUNE, Level.DISTRICT):
        removed += _raw_delete(Area.objects.filter(code__startswith=PREFIX, level=level))
    return removed
