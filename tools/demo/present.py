"""The demo of today (fixtures/demo/present.yaml): the new xã Nhã Nam and xã Tân Mỹ with their group, a 2026
workspace and a 2026 plan. Only on the official map (load_admin_map): without it the new units do not exist and
nothing is loaded. Loading twice changes nothing."""

import datetime

from django.db import transaction

from areas.models import Area
from criteria.groupings import set_grouping
from criteria.models import CriteriaSet, CriterionResult
from criteria.services import assess_criterion
from plans import services as plan_services
from plans.models import Plan, PlanItem

REFORM = datetime.date(2025, 7, 1)
YEAR = 2026
SET_CODE = "xa_ntm_2026_2030"


def present_units():
    """{code: unit} of the new communes and province the demo shows, or None when the map is not loaded."""
    communes = {a.code: a for a in Area.objects.communes().filter(code__in=["07306", "02308"], valid_from=REFORM)}
    if len(communes) != 2:
        return None
    return {**communes, "24": Area.objects.provinces().get(code="24", valid_from=REFORM)}


@transaction.atomic
def load_present(data, *, units, user=None) -> int:
    """Groups, 2026 verdicts and the 2026 plan; returns how many rows were written."""
    note = data["note"]
    criteria_set = CriteriaSet.objects.get(code=SET_CODE)
    criteria = {c.number: c for c in criteria_set.criteria.all()}
    written = 0
    for entry in data["communes"]:
        area = units[entry["code"]]
        _grouping, changed = set_grouping(area=area, group=entry["group"], note=note, user=user)
        written += changed
        results = entry.get("results_2026") or {}
        verdicts = dict.fromkeys(results.get("met") or [], "met") | dict.fromkeys(
            results.get("not_met") or [], "not_met"
        )
        for number, status in sorted(verdicts.items()):
            row = CriterionResult.objects.filter(area=area, criterion=criteria[number], year=YEAR).first()
            if row is None or row.assessed_status != status:
                assess_criterion(area=area, criterion=criteria[number], year=YEAR, status=status, user=user, note=note)
                written += 1
    return written + _load_plan(data["plan_2026"], units=units, criteria=criteria, note=note, user=user)


def _load_plan(entry, *, units, criteria, note, user):
    area = units[entry["area"]]
    plan = Plan.objects.filter(area=area, year=YEAR, title=entry["title"]).first()
    written = 0
    if plan is None:
        plan = plan_services.create_plan(
            user=user,
            area=area,
            data=plan_services.PlanData(
                title=entry["title"], year=YEAR, criteria_set=criteria[1].criteria_set, notes=note
            ),
        )
        written += 1
    existing = set(PlanItem.objects.filter(plan=plan).values_list("title", flat=True))
    for item in entry["items"]:
        if item["title"] in existing:
            continue
        plan_services.add_item(
            user=user,
            plan=plan,
            data=plan_services.ItemData(title=item["title"], criterion=criteria[item["criterion"]], description=note),
            funding=[],
        )
        written += 1
    return written
