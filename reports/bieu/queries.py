"""What several Biểu read alike: the criteria set, the plans and the plan items of an area and year."""

from django.utils.translation import gettext as _

from areas.models import Level
from criteria.models import CriteriaSet, SetLevel, Tier
from plans.models import ItemStatus, Plan, PlanItem


class ExportError(Exception):
    """The form cannot be made for this area and year; the message says why, in Vietnamese."""


def criteria_set_for(level, year, code=None):
    """The set named by `code`, or the national standard set for `level` that covers `year`."""
    if code:
        found = CriteriaSet.objects.filter(code=code).first()
        if found is None:
            raise ExportError(_("Không có bộ tiêu chí mã “%(code)s”.") % {"code": code})
        return found
    found = (
        CriteriaSet.objects.national()
        .for_level(level)
        .covering(year)
        .filter(tier=Tier.STANDARD)
        .order_by("-period_start")
        .first()
    )
    if found is None:
        raise ExportError(_("Chưa có bộ tiêu chí cấp %(level)s cho năm %(year)s.") % {"level": level, "year": year})
    return found


def own_set_level(area):
    levels = {Level.COMMUNE: SetLevel.COMMUNE, Level.DISTRICT: SetLevel.DISTRICT, Level.VILLAGE: SetLevel.VILLAGE}
    if area.level not in levels:
        raise ExportError(_("Biểu này chỉ lập cho xã, huyện hoặc thôn."))
    return levels[area.level]


def plans_for(area, year):
    return list(Plan.objects.filter(area=area, year=year).order_by("issued_on", "pk"))


def plan_items_for(area, year):
    return (
        PlanItem.objects.filter(plan__area=area, plan__year=year)
        .exclude(status=ItemStatus.CANCELLED)
        .select_related("criterion", "indicator", "area", "lead_member", "lead_agency")
        .order_by("plan__issued_on", "plan_id", "position", "pk")
    )
