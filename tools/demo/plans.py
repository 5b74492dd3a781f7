"""Load the seed plans, people and assignments of fixtures/demo/plans.yaml into the database.

Every row is matched on its natural key and updated in place, so loading twice leaves the same database.
Amounts and quantities are Vietnamese-written strings ("1.250,5") read with parse_vn_number.
"""

import datetime
from decimal import Decimal

from django.db import transaction

from areas.models import Area
from assignments.models import Agency, CommitteeMembership, Member, Responsibility, SteeringCommittee
from criteria.models import CriteriaSet, Criterion, Indicator
from ntm_portal.vietnamese import parse_vn_number
from plans.models import FundingLine, FundingSource, ItemStatus, Plan, PlanItem, deadline_from_code


class DemoDataError(ValueError):
    pass


def _upsert(model, lookup, values):
    """update_or_create, but validated, and saving only what changed: a second load writes no history."""
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        obj = model(**{**lookup, **values})
    else:
        changed = False
        for name, value in values.items():
            field = model._meta.get_field(name)
            current = getattr(obj, field.attname)
            wanted = value.pk if field.is_relation and value is not None else value
            if current != wanted:
                setattr(obj, name, value)
                changed = True
        if not changed:
            return obj
    obj.full_clean()
    obj.save()
    return obj


def _date(value):
    if value in (None, ""):
        return None
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(str(value))


def _number(value):
    return None if value in (None, "") else parse_vn_number(str(value))


class _Catalogue:
    """Lookups by the codes and names the demo file uses, each table read once."""

    def __init__(self, areas_by_code):
        self.areas_by_code = areas_by_code
        self.sets = {s.code: s for s in CriteriaSet.objects.all()}
        self._criteria = {}
        self.sources = {}
        self.agencies = {}
        self.members = {}

    def area(self, code):
        try:
            return self.areas_by_code[str(code)]
        except KeyError:
            raise DemoDataError(f"Không có địa bàn mã {code!r} trong dữ liệu mẫu.")

    def criteria_set(self, code):
        if not code:
            return None
        try:
            return self.sets[code]
        except KeyError:
            raise DemoDataError(f"Không có bộ tiêu chí {code!r}.")

    def target(self, criteria_set, criterion=None, indicator=None):
        """(criterion, indicator) of a set from a criterion number and/or an indicator code."""
        if criterion is None and indicator is None:
            return None, None
        if criteria_set is None:
            raise DemoDataError(f"Tiêu chí {criterion or indicator} cần một bộ tiêu chí.")
        if criteria_set.pk not in self._criteria:
            national = criteria_set.national_set
            self._criteria[criteria_set.pk] = (
                {c.number: c for c in Criterion.objects.filter(criteria_set=national)},
                {i.code: i for i in Indicator.objects.in_set(national).select_related("criterion")},
            )
        criteria, indicators = self._criteria[criteria_set.pk]
        found_indicator = None
        if indicator is not None:
            found_indicator = indicators.get(str(indicator))
            if found_indicator is None:
                raise DemoDataError(f"Bộ {criteria_set.code} không có chỉ tiêu {indicator}.")
        if criterion is not None:
            found = criteria.get(int(criterion))
            if found is None:
                raise DemoDataError(f"Bộ {criteria_set.code} không có tiêu chí {criterion}.")
            return found, found_indicator
        return found_indicator.criterion, found_indicator

    def _nearest(self, table, kind, name, areas):
        candidates = table.get(name, [])
        for area in areas:
            for candidate in candidates:
                if candidate.area_id == area.pk:
                    return candidate
        if len(candidates) == 1:
            return candidates[0]
        raise DemoDataError(f"Không xác định được {kind} {name!r}.")

    def party(self, ref, areas):
        """A member or agency named in a {member: …} / {agency: …} reference, nearest to `areas` first."""
        if "member" in ref:
            return self._nearest(self.members, "thành viên", ref["member"], areas), None
        return None, self._nearest(self.agencies, "cơ quan", ref["agency"], areas)

    def parties(self, refs, areas):
        members, agencies = [], []
        for ref in refs or []:
            member, agency = self.party(ref, areas)
            if member:
                members.append(member)
            else:
                agencies.append(agency)
        return members, agencies


def _chain(*areas):
    """Areas to look for people in: the given ones, then each one's ancestors, nearest first."""
    chain = []
    for area in areas:
        if area is None:
            continue
        for candidate in [area, *reversed(area.ancestors())]:
            if candidate not in chain:
                chain.append(candidate)
    return chain


@transaction.atomic
def load_demo_plans(data: dict, *, areas_by_code: dict[str, Area]) -> dict[str, int]:
    """Create or update everything in the demo file; returns how many rows of each kind it holds."""
    cat = _Catalogue(areas_by_code)
    counts = dict.fromkeys(["agencies", "members", "committees", "responsibilities", "plans", "items"], 0)

    for position, row in enumerate(data.get("funding_sources") or [], start=1):
        # Names set by the catalogue migration (or by admins) are kept; the file only adds missing sources.
        source, _created = FundingSource.objects.get_or_create(
            code=row["code"], defaults={"name": row["name"], "position": 100 + position}
        )
    cat.sources = {s.code: s for s in FundingSource.objects.all()}

    for row in data.get("agencies") or []:
        agency = _upsert(
            Agency,
            {"area": cat.area(row["area"]), "name": row["name"]},
            {"kind": row.get("kind") or "", "notes": row.get("notes") or ""},
        )
        cat.agencies.setdefault(agency.name, []).append(agency)
        counts["agencies"] += 1

    for row in data.get("members") or []:
        member = _upsert(
            Member,
            {"area": cat.area(row["area"]), "name": row["name"]},
            {"position": row.get("position") or "", "notes": row.get("notes") or ""},
        )
        cat.members.setdefault(member.name, []).append(member)
        counts["members"] += 1

    for row in data.get("steering_committees") or []:
        area = cat.area(row["area"])
        committee = _upsert(
            SteeringCommittee,
            {"area": area, "name": row["name"]},
            {
                "valid_from_year": row.get("valid_from_year"),
                "valid_until_year": row.get("valid_until_year"),
                "notes": row.get("notes") or "",
            },
        )
        kept = []
        for entry in row.get("members") or []:
            member, _agency = cat.party({"member": entry["member"]}, _chain(area))
            _upsert(
                CommitteeMembership, {"committee": committee, "member": member}, {"role": entry.get("role", "member")}
            )
            kept.append(member.pk)
        committee.memberships.exclude(member_id__in=kept).delete()
        counts["committees"] += 1

    for row in data.get("responsibilities") or []:
        area = cat.area(row["area"])
        criteria_set = cat.criteria_set(row["criteria_set"])
        criterion, indicator = cat.target(criteria_set, row.get("criterion"), row.get("indicator"))
        lead_member, lead_agency = cat.party(row["lead"], _chain(area))
        responsibility = _upsert(
            Responsibility,
            {
                "area": area,
                "year": row["year"],
                "criteria_set": criteria_set,
                "criterion": criterion,
                "indicator": indicator,
            },
            {"lead_member": lead_member, "lead_agency": lead_agency, "notes": row.get("notes") or ""},
        )
        members, agencies = cat.parties(row.get("coordinators"), _chain(area))
        responsibility.coordinator_members.set(members)
        responsibility.coordinator_agencies.set(agencies)
        counts["responsibilities"] += 1

    for row in data.get("plans") or []:
        _load_plan(cat, row)
        counts["plans"] += 1
        counts["items"] += len(row.get("items") or []) + len(row.get("steps") or [])
    return counts


def _load_plan(cat, row):
    area = cat.area(row["area"])
    plan_set = cat.criteria_set(row.get("criteria_set"))
    lookup = {"area": area, "year": row["year"]}
    lookup.update({"number": row["number"]} if row.get("number") else {"title": row["title"]})
    plan = _upsert(
        Plan,
        lookup,
        {
            "number": row.get("number") or "",
            "title": row["title"],
            "issued_on": _date(row.get("issued_on")),
            "issued_by": row.get("issued_by") or "",
            "signer": row.get("signer") or "",
            "legal_basis": "\n".join(row.get("legal_basis") or []),
            "criteria_set": plan_set,
            "status": row.get("status") or "draft",
            "source": row.get("source") or "",
            "notes": row.get("notes") or "",
        },
    )
    position = 0
    for entry in row.get("items") or []:
        position += 1
        _load_item(cat, plan, plan_set, position, entry)
    for step in row.get("steps") or []:
        # A phase of the plan: an item with a start, ending on its last day (only some phases are dated).
        position += 1
        end = _date(step.get("end"))
        _load_item(
            cat,
            plan,
            plan_set,
            position,
            {
                "title": step["title"],
                "description": step.get("description") or "",
                "start": step.get("start"),
                "deadline": {"precision": "day", "value": end.isoformat()} if end else None,
            },
        )
    plan.items.filter(position__gt=position).delete()


def _load_item(cat, plan, plan_set, position, entry):
    work_area = cat.area(entry["area"]) if entry.get("area") else None
    village = cat.area(entry["village"]) if entry.get("village") else None
    criteria_set = cat.criteria_set(entry["criteria_set"]) if entry.get("criteria_set") else plan_set
    criterion, indicator = cat.target(criteria_set, entry.get("criterion"), entry.get("indicator"))
    people_areas = _chain(village, work_area, plan.area)
    lead_member, lead_agency = cat.party(entry["lead"], people_areas) if entry.get("lead") else (None, None)
    deadline = entry.get("deadline")
    deadline = deadline_from_code(deadline["precision"], deadline["value"]) if deadline else None
    place = village or work_area
    item = _upsert(
        PlanItem,
        {"plan": plan, "position": position},
        {
            "title": entry["title"],
            "description": entry.get("description") or "",
            "criterion": criterion,
            "indicator": indicator,
            "area": place if place is not None and place.pk != plan.area_id else None,
            "quantity": _number(entry.get("quantity")),
            "unit": entry.get("unit") or "",
            "target": entry.get("target") or "",
            "lead_member": lead_member,
            "lead_agency": lead_agency,
            "start_date": _date(entry.get("start")),
            "deadline_precision": deadline.precision if deadline else "",
            "deadline_date": deadline.date if deadline else None,
            "deadline_label": deadline.label if deadline else "",
            "status": entry.get("status") or ItemStatus.NOT_STARTED,
            "progress": entry.get("progress") or (100 if entry.get("status") == ItemStatus.DONE else 0),
            "notes": entry.get("notes") or "",
        },
    )
    members, agencies = cat.parties(entry.get("coordinators"), people_areas)
    item.coordinator_members.set(members)
    item.coordinator_agencies.set(agencies)
    kept = []
    for line in entry.get("funding") or []:
        source = cat.sources.get(line["source"])
        if source is None:
            raise DemoDataError(f"Không có nguồn vốn {line['source']!r}.")
        _upsert(
            FundingLine,
            {"item": item, "source": source},
            {
                "planned": _number(line.get("planned")) or Decimal(0),
                "disbursed": _number(line.get("disbursed")) or Decimal(0),
            },
        )
        kept.append(source.pk)
    item.funding_lines.exclude(source_id__in=kept).delete()
