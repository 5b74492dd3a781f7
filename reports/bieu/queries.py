"""What several Biểu read alike: the criteria set, the plans and the plan items of an area and year."""

from dataclasses import dataclass

from django.db.models import Q
from django.utils.translation import gettext as _

from areas.models import Level
from assignments.models import CommitteeMembership, CommitteeRole
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


def cited_plan(area, year):
    """The plan a form's header cites (its number, date, body and signer): the area's first plan of the year."""
    return Plan.objects.filter(area=area, year=year).order_by("issued_on", "pk").first()


def plan_items_for(area, year):
    return (
        PlanItem.objects.filter(plan__area=area, plan__year=year)
        .exclude(status=ItemStatus.CANCELLED)
        .select_related("criterion", "indicator", "area", "lead_member", "lead_agency")
        .order_by("plan__issued_on", "plan_id", "position", "pk")
    )


@dataclass(frozen=True)
class Signature:
    """Who signs a form for the issuing body: "TM. BAN CHỈ ĐẠO" / "KT. TRƯỞNG BAN", "PHÓ BAN", the name."""

    lines: tuple  # ("TM. BAN CHỈ ĐẠO", "KT. TRƯỞNG BAN")
    position: str  # "PHÓ BAN"
    name: str = ""  # blank when nobody is named: a name is never made up


def signature_for(area, year, plan=None):
    """The plan's signer as the plan states it; what the plan leaves blank comes from the area's steering
    committee of `year` — the member the plan names, else its head. A deputy signs "KT. TRƯỞNG BAN"."""
    name = plan.signer.strip() if plan is not None else ""
    sitting = CommitteeMembership.objects.filter(
        Q(committee__valid_from_year__isnull=True) | Q(committee__valid_from_year__lte=year),
        Q(committee__valid_until_year__isnull=True) | Q(committee__valid_until_year__gte=year),
        committee__area=area,
        role__in=(CommitteeRole.HEAD, CommitteeRole.DEPUTY),
    ).select_related("member")
    membership = (
        sitting.filter(member__name__iexact=name).first()
        if name
        else sitting.filter(role=CommitteeRole.HEAD).order_by("member__name").first()
    )
    deputy = membership is not None and membership.role == CommitteeRole.DEPUTY
    title = plan.signer_title.strip() if plan is not None else ""
    if title:
        lines = tuple(line.strip().upper() for line in title.splitlines() if line.strip())
    else:
        lines = (_("TM. BAN CHỈ ĐẠO"), _("KT. TRƯỞNG BAN")) if deputy else (_("TM. BAN CHỈ ĐẠO"),)
    position = (plan.signer_position.strip().upper() if plan is not None else "") or (
        _("PHÓ BAN") if deputy else _("TRƯỞNG BAN")
    )
    if not name and membership is not None:
        name = membership.member.name
    return Signature(lines=lines, position=position, name=name)
