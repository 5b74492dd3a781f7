"""How the Biểu word a cell: a status, a measured result, a threshold, an item's title, a form's subtitle."""

import re

from django.utils.translation import gettext as _

from criteria.models import Status
from ntm_portal.vietnamese import vn_date, vn_number, vn_percent


def status_label(status):
    return str(Status(status).label) if status in Status.values else str(Status.NOT_ASSESSED.label)


def result_text(judgement):
    """The measured result as a reviewer reads it: "1.276/1.413 (90,3%)", "85,5", "Đạt"."""
    result, indicator = judgement.result, judgement.indicator
    if result is None:
        return ""
    if result.not_applicable:
        return str(Status.NOT_APPLICABLE.label)
    if result.boolean is not None:
        return str(indicator.yes_label if result.boolean else indicator.no_label)
    if result.numerator is not None and result.denominator:
        percent = judgement.evaluation.measured
        return f"{vn_number(result.numerator)}/{vn_number(result.denominator)} ({vn_percent(percent, 1)})"
    if result.value is not None:
        return vn_number(result.value)
    return ""


def indicator_number(indicator):
    """ "2.1" for a sub-indicator; blank where a criterion's only indicator carries the criterion's own number."""
    return "" if indicator.code == str(indicator.criterion.number) else indicator.code


# An unverified threshold is marked in its cell and named once in the footnote under the table.
UNVERIFIED_MARK = "(*)"


def unverified(judgement):
    threshold = judgement.choice.threshold
    return threshold is not None and not threshold.verified


def threshold_text(judgement):
    """The threshold as the decision words it: "≥80%"; an unverified one is marked "≥80% (*)" and explained
    once by `unverified_footnote`, its own "(chưa xác minh …)" note and question marks left out of the cell."""
    threshold = judgement.choice.threshold
    if threshold is None:
        return _("Chưa có ngưỡng")
    text = threshold.display
    if not threshold.verified:
        text = re.sub(r"\([^()]*chưa xác minh[^()]*\)", "", text, flags=re.IGNORECASE).replace("?", "")
        text = f"{' '.join(text.split())} {UNVERIFIED_MARK}".strip()
    return text


def unverified_footnote(judgements):
    """ "(*) Ngưỡng chưa xác minh với văn bản gốc: 2.4, 17.8" for the unverified thresholds among those printed."""
    codes = list(dict.fromkeys(j.indicator.code for j in judgements if unverified(j)))
    if not codes:
        return ""
    return _("%(mark)s Ngưỡng chưa xác minh với văn bản gốc: %(codes)s.") % {
        "mark": UNVERIFIED_MARK,
        "codes": ", ".join(codes),
    }


def item_title(item):
    if item.target:
        return _("%(title)s (mục tiêu: %(target)s)") % {"title": item.title, "target": item.target}
    return item.title


def subtitle(area, plan, criteria_set=None):
    if plan is not None and plan.number:
        text = _("(Kèm theo Kế hoạch số %(number)s") % {"number": plan.number}
        if plan.issued_on:
            text += _(" ngày %(day)s") % {"day": vn_date(plan.issued_on)}
        return text + _(" của %(area)s)") % {"area": area.full_name}
    if criteria_set is not None:
        return _("%(area)s — %(set)s") % {"area": area.full_name, "set": criteria_set.name}
    return area.full_name
