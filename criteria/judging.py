"""Reading verdicts: which threshold judges an area's indicator in a year, and whether the result meets it.

Every path that stores or shows a status — the workspace save, the bulk import, the recompute after a
threshold changes, the scale generator and the pages — judges through `Judge`, so they cannot drift apart.
`criteria.evaluation` holds the pure rules (precedence of thresholds, comparison, combining a criterion);
this module feeds them the rows from the database, in a few queries whatever the size.
"""

from dataclasses import dataclass, field, fields
from decimal import Decimal

from django.db.models import OuterRef, Q, Subquery
from django.utils.translation import gettext as _

from areas.models import CommuneGrouping
from criteria import evaluation
from criteria.models import CriteriaSet, CriterionResult, Indicator, IndicatorKind, IndicatorResult, Threshold
from ntm_portal.prepared import Prepared

# ---------------------------------------------------------------- what an officer enters


@dataclass(frozen=True)
class Measurement:
    """One indicator's measurement as entered: a value, a numerator over a denominator, yes/no, or "not
    applicable". `errors` says what is wrong with it for an indicator, by field."""

    value: Decimal | None = None
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    boolean: bool | None = None
    not_applicable: bool = False

    @classmethod
    def names(cls):
        return tuple(f.name for f in fields(cls))

    @classmethod
    def from_row(cls, row):
        """From a mapping (an imported row); fields it lacks are empty."""
        return cls(
            value=row.get("value"),
            numerator=row.get("numerator"),
            denominator=row.get("denominator"),
            boolean=row.get("boolean"),
            not_applicable=bool(row.get("not_applicable")),
        )

    @classmethod
    def of(cls, result):
        """From an IndicatorResult (or anything with the same attributes)."""
        return cls(
            value=result.value,
            numerator=result.numerator,
            denominator=result.denominator,
            boolean=result.boolean,
            not_applicable=bool(result.not_applicable),
        )

    def errors(self, indicator) -> dict:
        """The problems of this measurement for `indicator`, as {field: message}; empty when it can be saved."""
        errors = {}
        if self.not_applicable:
            return errors
        if indicator.kind == IndicatorKind.BOOLEAN:
            if self.value is not None or self.numerator is not None or self.denominator is not None:
                errors["boolean"] = _("Chỉ tiêu này chỉ chọn %(yes)s hoặc %(no)s.") % {
                    "yes": indicator.yes_label,
                    "no": indicator.no_label,
                }
            return errors
        if self.boolean is not None:
            errors["boolean"] = _("Chỉ tiêu này cần nhập số, không chọn Đạt/Không đạt.")
        self._check_fraction(indicator, errors)
        self._check_range(indicator, errors)
        return errors

    def _check_fraction(self, indicator, errors):
        numerator, denominator = self.numerator, self.denominator
        if (numerator is None) != (denominator is None):
            errors["denominator" if denominator is None else "numerator"] = _("Cần nhập cả tử số và mẫu số.")
        if denominator is None:
            return
        if denominator <= 0:
            errors["denominator"] = _("Mẫu số phải lớn hơn 0.")
        elif numerator is not None and numerator > denominator:
            errors["numerator"] = _("Tử số không được lớn hơn mẫu số.")
        if indicator.kind != IndicatorKind.PERCENTAGE:
            errors["numerator"] = _("Chỉ tiêu này không tính theo tỷ lệ.")
        if self.value is not None:
            errors["value"] = _("Nhập giá trị hoặc tử số/mẫu số, không nhập cả hai.")

    def _check_range(self, indicator, errors):
        for name, number in (("value", self.value), ("numerator", self.numerator)):
            if number is not None and number < 0:
                errors[name] = _("Giá trị không được âm.")
        if self.value is not None and indicator.kind == IndicatorKind.PERCENTAGE and self.value > 100:
            errors["value"] = _("Tỷ lệ phần trăm không vượt quá 100.")

    def write_to(self, result):
        """Put the measurement on a result; a numerator over a denominator stands instead of a value."""
        result.value = None if self.numerator is not None and self.denominator else self.value
        result.numerator = self.numerator
        result.denominator = self.denominator
        result.boolean = self.boolean
        result.not_applicable = self.not_applicable


# ---------------------------------------------------------------- the judge


@dataclass
class Judgement:
    """An indicator as seen for one area and year: its result, the threshold used and the verdict."""

    indicator: Indicator
    result: IndicatorResult | None
    choice: evaluation.ThresholdChoice
    evaluation: evaluation.Evaluation


def _province_id(area):
    return area.pk if area.level == "province" else area.province_id


def _first_variant(national_id, province_id):
    """The province's own variant of a national set that applies (the first in the model's ordering), as a
    subquery of its id."""
    variants = CriteriaSet.objects.filter(parent_id=national_id, province_id=province_id)
    return Subquery(variants.order_by(*CriteriaSet._meta.ordering).values("pk")[:1])


def _area_thresholds(indicators, *, national, province=None):
    """The thresholds of `indicators` (a Q) that can judge an area of the province (the national rows and those of
    the province's first variant)."""
    return (
        Threshold.objects.filter(indicators)
        .filter(Q(variant__isnull=True) | Q(variant_id=_first_variant(national, province)))
        .select_related("region", "variant")
    )


# The criterion page, the inline save and the criterion's restatement judge one criterion's indicators: their
# thresholds and results are asked by the criterion's id in statements compiled once (ntm_portal/prepared.py).
def _criterion_thresholds(_shape, *, criterion, national, province=None):
    return _area_thresholds(Q(indicator__criterion_id=criterion), national=national, province=province)


CRITERION_THRESHOLDS = Prepared(Threshold, _criterion_thresholds)


def _criterion_results(for_update, *, area, year, criterion):
    results = IndicatorResult.objects.filter(area_id=area, year=year, indicator__criterion_id=criterion)
    results = results.select_related("updated_by")
    return results.select_for_update(of=("self",)) if for_update else results


CRITERION_RESULTS = Prepared(IndicatorResult, _criterion_results)


class Judge:
    """The thresholds and province variants of some indicators, loaded once. Each threshold choice is made
    once per indicator, region, commune flags, year and variant, however many areas and years are judged."""

    def __init__(self, thresholds, variants, national_sets=None):
        self._thresholds = {}
        for t in thresholds:
            self._thresholds.setdefault(t.indicator_id, []).append(t)
        self._variants = variants  # (national set id, province id) -> the variant that applies
        self._national = dict(national_sets or {})  # criteria set id -> its national set's id
        self._special = {}  # national set id -> the decision of its special-commune rule ("" where none)
        self._choices = {}
        # Indicators with rows for a commune group (2026–2030): only they need the communes' groups, which are
        # loaded once, on first need (one query; only the judged area's for a judge of one area).
        self._grouped = {t.indicator_id for rows in self._thresholds.values() for t in rows if t.commune_group}
        self._groups = None
        self._group_area = None

    @classmethod
    def for_indicators(cls, indicators):
        """Every threshold of these indicators and every province's variant of their sets: two queries.
        The indicators should come with `criterion__criteria_set`."""
        indicators = list(indicators)
        judge = cls(Threshold.objects.filter(indicator__in=indicators).select_related("region", "variant"), {})
        national_ids = {judge._national_id(i) for i in indicators}
        for v in CriteriaSet.objects.filter(parent_id__in=national_ids).order_by(*CriteriaSet._meta.ordering):
            judge._variants.setdefault((v.parent_id, v.province_id), v)
        return judge

    @classmethod
    def for_area(cls, indicators, *, area, criteria_set, criterion=None):
        """The thresholds of a set's indicators that can judge one area (the national rows and those of its
        province's variant): one query, the variant coming with its rows. `criterion` (an id) when the indicators
        are all of one criterion's: the thresholds are then asked by it."""
        national = criteria_set.national_set
        province = _province_id(area)
        found = {"national": national.pk, **({} if province is None else {"province": province})}
        if criterion is not None:
            thresholds = CRITERION_THRESHOLDS(None, criterion=criterion, **found)
        else:
            thresholds = list(_area_thresholds(Q(indicator__in=indicators), **found))
        # A variant with no row for these indicators changes no verdict, so none is looked up.
        variants = {(national.pk, _province_id(area)): t.variant for t in thresholds if t.variant_id}
        judge = cls(thresholds, variants, {national.pk: national.pk, criteria_set.pk: national.pk})
        judge._special[national.pk] = national.special_rule_basis
        judge._group_area = area
        return judge

    def group(self, area, year) -> str:
        """The commune's group (N1/N2/N3) for the period holding `year`, "" when it has none."""
        if self._groups is None:
            rows = CommuneGrouping.objects.all()
            if self._group_area is not None:
                rows = rows.filter(area=self._group_area)
            self._groups = {}
            for area_id, start, end, group in rows.values_list("area_id", "period_start", "period_end", "group"):
                self._groups.setdefault(area_id, []).append((start, end, group))
        return next((g for start, end, g in self._groups.get(area.pk, ()) if start <= year <= end), "")

    def _national_id(self, indicator):
        set_id = indicator.criterion.criteria_set_id
        found = self._national.get(set_id)
        if found is None:
            found = self._national[set_id] = indicator.criterion.criteria_set.parent_id or set_id
        return found

    def _special_rule(self, indicator):
        """The decision under which xã ĐBKK / ATK take the TDMNPB thresholds in the indicator's set, or ""."""
        national_id = self._national_id(indicator)
        found = self._special.get(national_id)
        if found is None:
            # Indicators belong to national sets; _national_id has just read this set.
            found = self._special[national_id] = indicator.criterion.criteria_set.special_rule_basis
        return found

    def choice(self, indicator, area, year) -> evaluation.ThresholdChoice:
        """The threshold that judges `indicator` for `area` in `year`, and why."""
        variant = self._variants.get((self._national_id(indicator), _province_id(area)))
        group = self.group(area, year) if indicator.pk in self._grouped else ""
        key = (
            indicator.pk,
            area.region_id,
            area.special_difficulty,
            area.safe_zone,
            group,
            year,
            variant.pk if variant else None,
        )
        found = self._choices.get(key)
        if found is None:
            found = self._choices[key] = evaluation.choose_threshold(
                self._thresholds.get(indicator.pk, []),
                area=area,
                year=year,
                variant=variant,
                group=group,
                special_rule_basis=self._special_rule(indicator),
            )
        return found

    def judge(self, indicator, area, year, result) -> Judgement:
        """The verdict on `result` (None when nothing is entered) for the indicator, area and year."""
        choice = self.choice(indicator, area, year)
        return Judgement(indicator, result, choice, evaluation.evaluate(result, choice))


# ---------------------------------------------------------------- stored statuses


def restate(result, ev) -> bool:
    """Put an indicator's verdict on its result; True when the stored status changes."""
    new = (ev.status, ev.computed_status, ev.tentative)
    if (result.status, result.computed_status, result.is_tentative) == new:
        return False
    result.status, result.computed_status, result.is_tentative = new
    return True


def criterion_row(row, judged, **key):
    """A criterion's status row restated from its indicators' judgements: (row, changed).

    `row` is the stored CriterionResult or None, `key` its area, criterion and year. No row is made for a
    criterion nothing was entered or assessed for: (None, False).
    """
    combined = evaluation.combine([j.evaluation for j in judged], row.assessed_status if row else "")
    if row is None:
        if combined.status == evaluation.NOT_ASSESSED and not any(j.result is not None for j in judged):
            return None, False
        row = CriterionResult(**key)
    new = (combined.status, combined.computed_status, combined.tentative, combined.disagreement)
    if row.pk is not None and (row.status, row.computed_status, row.is_tentative, row.disagreement) == new:
        return row, False
    row.status, row.computed_status, row.is_tentative, row.disagreement = new
    return row, True


@dataclass
class Restated:
    """What restating many criteria changed: results whose status moved, criterion rows to create or save."""

    results: list = field(default_factory=list)
    new_rows: list = field(default_factory=list)
    changed_rows: list = field(default_factory=list)


def restate_criteria(keys, *, judge, areas, indicators, results, rows) -> Restated:
    """Judge each (area id, criterion id, year) of `keys` on the results in hand and restate what moved.

    `indicators` maps a criterion id to its indicators, `results` an (area id, indicator id, year) to its
    IndicatorResult, `rows` an (area id, criterion id, year) to its stored CriterionResult.
    """
    restated = Restated()
    for area_id, criterion_id, year in keys:
        area = areas[area_id]
        judged = [
            judge.judge(indicator, area, year, results.get((area_id, indicator.pk, year)))
            for indicator in indicators[criterion_id]
        ]
        restated.results += [j.result for j in judged if j.result is not None and restate(j.result, j.evaluation)]
        stored = rows.get((area_id, criterion_id, year))
        row, changed = criterion_row(stored, judged, area_id=area_id, criterion_id=criterion_id, year=year)
        if changed:
            (restated.changed_rows if stored is not None else restated.new_rows).append(row)
    return restated


# ---------------------------------------------------------------- reads


def judge_indicators(*, area, criteria_set, year, criterion=None, for_update=False, indicators=None):
    """Evaluate every indicator of a set (or one criterion) for an area: three queries whatever the size.

    `for_update` locks the results read (a save inside a transaction reads and locks them in the same query).
    `indicators` are the set's (or criterion's) indicators in page order when the caller has them already
    (the inline save reads its indicator with its siblings), sparing their query."""
    if indicators is None:
        indicators = list(
            Indicator.objects.in_set(criteria_set.national_set)
            .filter(**({"criterion": criterion} if criterion else {}))
            .select_related("criterion")
            .order_by("criterion__number", "sort_key")
        )
    if criterion is not None:
        # One criterion's indicators, all of them (the callers' lists are): asked by the criterion's id.
        judge = Judge.for_area(indicators, area=area, criteria_set=criteria_set, criterion=criterion.pk)
        results = CRITERION_RESULTS(for_update, area=area.pk, year=year, criterion=criterion.pk)
    else:
        judge = Judge.for_area(indicators, area=area, criteria_set=criteria_set)
        results = IndicatorResult.objects.filter(area=area, year=year, indicator__in=indicators)
        results = results.select_related("updated_by")
        if for_update:
            results = results.select_for_update(of=("self",))
    results = {r.indicator_id: r for r in results}
    return [judge.judge(indicator, area, year, results.get(indicator.pk)) for indicator in indicators]


def judge_result(*, area, indicator, year, result) -> Judgement:
    """One indicator's verdict for a result already in hand (just saved): one query for its thresholds."""
    judge = Judge.for_area([indicator], area=area, criteria_set=indicator.criterion.criteria_set)
    return judge.judge(indicator, area, year, result)


def met_summary(*, area, criteria_set, year):
    """("17/19", list of unmet criterion numbers) for an area, from the stored status rows: one query."""
    status = CriterionResult.objects.filter(area=area, year=year, criterion=OuterRef("pk")).values("status")[:1]
    criteria = list(
        criteria_set.national_set.criteria.order_by("number")
        .annotate(status=Subquery(status))
        .values_list("number", "status")
    )
    met = [n for n, s in criteria if s == evaluation.MET]
    unmet = [n for n, s in criteria if s == evaluation.NOT_MET]
    return {"met": len(met), "total": len(criteria), "unmet": unmet}
