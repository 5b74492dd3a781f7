"""Judging results against thresholds: the one place that decides Đạt / Chưa đạt, and says why.

Pure functions over plain values and model instances, so that the catalogue loader (inside a migration),
the services and the tests all share them.
"""

import re
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from areas.models import SPECIAL_RULE_REGION
from ntm_portal.vietnamese import parse_vn_number

# Comparison and status values, repeated here as plain strings so that migrations can use this module.
GTE, LTE, EQ, YES, NO, MANUAL, MISSING = "gte", "lte", "eq", "yes", "no", "manual", "missing"
MET, NOT_MET, NOT_ASSESSED, NOT_APPLICABLE = "met", "not_met", "not_assessed", "na"
DECISIVE = {MET, NOT_MET}


def natural_key(code):
    """Sort key for indicator codes: '17.2' < '17.10', '5' < '5.a'."""
    parts = re.split(r"[.\s]+", str(code).strip())
    return ".".join(p.zfill(4) if p.isdigit() else p for p in parts)


# ---------------------------------------------------------------- reading thresholds as written in decisions


@dataclass(frozen=True)
class ParsedThreshold:
    comparison: str
    value: Decimal | None
    note: str
    unverified: bool


_LEADING = re.compile(r"^\s*(≥|>=|≤|<=|=|>|<)?\s*(\d{1,3}(?:\.\d{3})+(?:,\d+)?|\d+(?:[.,]\d+)?)\s*(%)?\s*(\?)?(.*)$")


def parse_threshold(raw):
    """Read a threshold string of the criteria decisions ('≥80%', '≤16,5%', '100%', 'Đạt', 'Không', None).

    A leading comparison and number can be evaluated; 'Đạt'/'Không' are yes/no judgements; anything else is
    a rule a person assesses. Trailing text is kept as the note; '?' or 'chưa xác minh' mark it unverified.
    """
    if raw is None:
        return ParsedThreshold(MISSING, None, "", False)
    text = str(raw).strip()
    if not text:
        return ParsedThreshold(MISSING, None, "", False)
    lowered = text.lower()
    if lowered in {"đạt", "có"}:
        return ParsedThreshold(YES, None, "", False)
    if lowered == "không":
        return ParsedThreshold(NO, None, "", False)
    match = _LEADING.match(text)
    if not match:
        return ParsedThreshold(MANUAL, None, text, "chưa xác minh" in lowered)
    op, number, _percent, question, rest = match.groups()
    comparison = {"≥": GTE, ">=": GTE, ">": GTE, "≤": LTE, "<=": LTE, "<": LTE, "=": EQ}.get(op, GTE)
    # "100%" without an operator means "all of them", i.e. at least 100%.
    value = parse_vn_number(number)
    note = rest.strip()
    unverified = bool(question) or "?" in note or "chưa xác minh" in note.lower()
    if note and not note.startswith("("):
        # "100% đạt CSVC tối thiểu; trong đó ≥70% …" is a rule to assess, not a number to compare.
        return ParsedThreshold(MANUAL, None, text, unverified)
    return ParsedThreshold(comparison, value, note.strip("()").strip(), unverified)


# ---------------------------------------------------------------- which threshold applies


@dataclass(frozen=True)
class ThresholdChoice:
    threshold: object  # Threshold or None
    reason: str


def threshold_region_code(area, special_rule_basis=""):
    """The region whose thresholds judge this area, and why.

    A xã đặc biệt khó khăn or an toàn khu is judged on the Trung du miền núi phía Bắc thresholds only under a set
    whose decision states that rule (`special_rule_basis`, e.g. "QĐ 318/QĐ-TTg"); the reason names that decision.
    """
    region = area.region
    flagged = area.special_difficulty or area.safe_zone
    flag = _("xã đặc biệt khó khăn") if area.special_difficulty else _("xã an toàn khu")
    if flagged and special_rule_basis:
        return SPECIAL_RULE_REGION, _(
            "áp dụng ngưỡng vùng Trung du miền núi phía Bắc vì là %(flag)s (theo %(basis)s)"
        ) % {"flag": flag, "basis": special_rule_basis}
    if region is None:
        return None, _("chưa xác định vùng")
    reason = _("vùng %(region)s") % {"region": region.name}
    if flagged:
        reason = _(
            "%(reason)s (%(flag)s vẫn theo vùng của tỉnh: quy tắc áp dụng ngưỡng vùng Trung du miền núi phía Bắc "
            "không có trong bộ tiêu chí này)"
        ) % {"reason": reason, "flag": flag}
    return region.code, reason


def choose_threshold(thresholds, *, area, year, variant=None, special_rule_basis="", group=""):
    """Pick the threshold that judges `area` in `year` among an indicator's threshold rows. `group` is the
    commune's group (N1/N2/N3) for the period holding `year` ("" when not grouped: no group's row applies).

    Precedence: the province's own variant over the national set; then the most specific row — region (or
    commune group) and year, region alone, then the general row. A regional row with no value still wins
    over the general one: the decision sets a regional level that is not known yet, so nothing is judged.
    A level set for a year judges the later years until the next level; a year before the first level given
    is judged on that first level, and the reason says which year's level it is ("theo mức năm 2020").
    """
    region_code, region_reason = threshold_region_code(area, special_rule_basis)
    candidates = [t for t in thresholds if t.variant_id is None or (variant is not None and t.variant_id == variant.pk)]

    def applies(t):
        if t.region_id is not None and (t.region.code != region_code):
            return False
        return not (t.commune_group and t.commune_group != group)

    def rank(t):
        specificity = (1 if t.region_id or t.commune_group else 0) * 2 + (1 if t.year is not None else 0)
        return (1 if t.variant_id else 0, specificity, t.year or 0)

    applicable = [t for t in candidates if applies(t)]
    in_force = [t for t in applicable if t.year is None or t.year <= year]
    if in_force:
        best = max(in_force, key=rank)
    elif applicable:
        # Only later levels are given (income 2016–2020 gives the 2020 level): the earliest one judges.
        best = max(applicable, key=lambda t: (*rank(t)[:2], -t.year))
    else:
        return ThresholdChoice(None, _("chưa có ngưỡng cho %(reason)s") % {"reason": region_reason})
    return ThresholdChoice(best, _choice_reason(best, year=year, variant=variant, region_reason=region_reason))


def _choice_reason(best, *, year, variant, region_reason):
    """Why `best` judges: whose decision, which region or group, and which year's level."""
    parts = []
    if best.variant_id:
        parts.append(_("theo %(variant)s") % {"variant": variant.legal_basis or variant.name})
    if best.region_id:
        parts.append(region_reason)
    elif best.commune_group:
        parts.append(_("nhóm xã %(group)s") % {"group": best.commune_group})
    else:
        parts.append(_("ngưỡng chung"))
    if best.year == year:
        parts.append(_("mức năm %(year)s") % {"year": best.year})
    elif best.year:
        parts.append(_("theo mức năm %(year)s") % {"year": best.year})
    return "; ".join(str(p) for p in parts)


# ---------------------------------------------------------------- judging


@dataclass(frozen=True)
class Evaluation:
    status: str
    computed_status: str
    assessed_status: str
    threshold: object
    reason: str
    tentative: bool
    measured: Decimal | None

    @property
    def disagreement(self):
        return (
            self.computed_status in DECISIVE
            and self.assessed_status in DECISIVE
            and self.computed_status != self.assessed_status
        )


def measured_value(result):
    """The number a result is judged on: the entered value, or numerator/denominator as a percentage."""
    if result is None:
        return None
    if result.numerator is not None and result.denominator:
        return (Decimal(result.numerator) * 100 / Decimal(result.denominator)).quantize(Decimal("0.0001"))
    return result.value


def evaluate(result, choice):
    """Status of one indicator result under the chosen threshold.

    The computed status stands where it is decisive; otherwise the status assessed by people does.
    """
    assessed = (result.assessed_status if result else "") or ""
    threshold = choice.threshold
    tentative = bool(threshold is not None and not threshold.verified)
    measured = measured_value(result)

    if result is not None and result.not_applicable:
        return Evaluation(NOT_APPLICABLE, NOT_APPLICABLE, assessed, threshold, choice.reason, False, None)

    computed = NOT_ASSESSED
    reason = choice.reason
    comparison = threshold.comparison if threshold is not None else MISSING
    if result is None:
        reason = _("chưa nhập kết quả")
    elif comparison in {YES, NO} and result.boolean is None and measured is not None:
        # A number against "Đạt" (no level given): never left silently unjudged — a person assesses it.
        reason = _("%(reason)s; ngưỡng “Đạt” không có mức số: người đánh giá theo hướng dẫn") % {"reason": reason}
    elif comparison in {YES, NO}:
        if result.boolean is not None:
            computed = MET if result.boolean == (comparison == YES) else NOT_MET
    elif comparison in {GTE, LTE, EQ}:
        if measured is not None:
            target = threshold.value
            ok = {GTE: measured >= target, LTE: measured <= target, EQ: measured == target}[comparison]
            computed = MET if ok else NOT_MET
    elif comparison == MANUAL:
        reason = _("%(reason)s; ngưỡng do người đánh giá theo hướng dẫn") % {"reason": reason}
        if not assessed:
            reason = _("%(reason)s — chưa có ai đánh giá: ghi ở “Tự đánh giá”") % {"reason": reason}
    else:
        reason = _("%(reason)s; ngưỡng chưa có số liệu") % {"reason": reason}

    status = computed if computed in DECISIVE else (assessed or computed)
    return Evaluation(status, computed, assessed, threshold, reason, tentative and computed in DECISIVE, measured)


@dataclass(frozen=True)
class CriterionEvaluation:
    status: str
    computed_status: str
    assessed_status: str
    tentative: bool

    @property
    def disagreement(self):
        return (
            self.computed_status in DECISIVE
            and self.assessed_status in DECISIVE
            and self.computed_status != self.assessed_status
        )


def combine(indicator_evaluations, assessed_status=""):
    """A criterion is met when every applicable indicator is met; one unmet indicator fails it."""
    statuses = [e.status for e in indicator_evaluations]
    if not statuses:
        computed = NOT_ASSESSED
    elif NOT_MET in statuses:
        computed = NOT_MET
    elif all(s == NOT_APPLICABLE for s in statuses):
        computed = NOT_APPLICABLE
    elif all(s in (MET, NOT_APPLICABLE) for s in statuses):
        computed = MET
    else:
        computed = NOT_ASSESSED
    tentative = computed in DECISIVE and any(e.tentative for e in indicator_evaluations)
    status = computed if computed in DECISIVE else (assessed_status or computed)
    return CriterionEvaluation(status, computed, assessed_status or "", tentative)


# ---------------------------------------------------------------- yes/no results that record a fact


def is_fact(indicator):
    """A yes/no indicator that records a fact ("Có/Không": 9.1 nhà tạm, dột nát) rather than a verdict (Đạt/Không
    đạt). Its stored boolean is the fact, so which answer meets it depends on the threshold: "Không" for 9.1."""
    return (indicator.unit or "").startswith("Có/")


def boolean_for_verdict(met, comparison):
    """The boolean to store when a person writes the verdict ("Đạt" / "Không đạt") on a yes/no indicator: for
    a target of "Không" (9.1: no nhà tạm left), "Đạt" is the fact "Không" — False, never "Có"."""
    return (not met) if comparison == NO else met


def yes_no_text(indicator, boolean, comparison=None):
    """How a yes/no result reads. A verdict reads as itself ("Đạt", "Không đạt"); a fact reads with the verdict it
    gives under a yes/no threshold: "Không — đạt" for 9.1 with no nhà tạm left, "Có — chưa đạt" otherwise."""
    if boolean is None:
        return ""
    label = indicator.yes_label if boolean else indicator.no_label
    if not is_fact(indicator) or comparison not in {YES, NO}:
        return str(label)
    if boolean == (comparison == YES):
        return _("%(fact)s — đạt") % {"fact": label}
    return _("%(fact)s — chưa đạt") % {"fact": label}
