"""Loading the seed results (fixtures/demo/results.yaml): values where the seed gives them, verdicts where
it gives only those. Writes go through the services, so they are evaluated and in the history; unchanged
rows are left alone so that a second run leaves the database as it was."""

from decimal import Decimal

from django.db import transaction

from criteria.models import CriteriaSet, CriterionResult, Indicator, IndicatorResult
from criteria.services import assess_criterion, record_indicator_result
from ntm_portal.vietnamese import parse_vn_number


def _number(value):
    return None if value is None else parse_vn_number(value)


def _note(item):
    # The seed's own sentence already names every component (nhà tắm, 3 sạch…), so it is the note.
    return str(item.get("note") or "").strip()


@transaction.atomic
def load_demo_results(entries: list[dict], *, areas_by_code: dict, user=None) -> int:
    written = 0
    for entry in entries:
        area = areas_by_code[str(entry["area"])]
        cset = CriteriaSet.objects.get(code=entry["criteria_set"])
        year = int(entry["year"])
        criteria = {c.number: c for c in cset.criteria.all()}
        assessed = entry.get("assessed") or {}
        not_met = set(assessed.get("not_met") or [])
        met = assessed.get("met")
        if met in ("all", "all_except_not_met"):
            met = set(criteria) - not_met
        verdicts = dict.fromkeys(met or [], "met") | dict.fromkeys(not_met, "not_met")
        source = str(entry.get("source", ""))
        for number, status in sorted(verdicts.items()):
            row = CriterionResult.objects.filter(area=area, criterion=criteria[number], year=year).first()
            if row is None or row.assessed_status != status:
                assess_criterion(
                    area=area, criterion=criteria[number], year=year, status=status, user=user, source=source
                )
                written += 1

        indicators = {i.code: i for i in Indicator.objects.in_set(cset).select_related("criterion__criteria_set")}
        for item in entry.get("indicator_values") or []:
            numerator, denominator = _number(item.get("numerator")), _number(item.get("denominator"))
            fields = {
                "value": None if numerator is not None else _number(item.get("value")),
                "numerator": numerator,
                "denominator": denominator,
                "boolean": item.get("boolean"),
                "note": _note(item),
            }
            written += _record(area, indicators[str(item["indicator"])], year, fields, user)
        for item in entry.get("indicator_assessed") or []:
            fields = {"assessed_status": item["status"], "note": str(item.get("note") or "")}
            written += _record(area, indicators[str(item["indicator"])], year, fields, user)
    return written


def _record(area, indicator, year, fields, user):
    existing = IndicatorResult.objects.filter(area=area, indicator=indicator, year=year).first()
    if existing is not None and all(
        (
            Decimal(getattr(existing, k))
            if isinstance(v, Decimal) and getattr(existing, k) is not None
            else getattr(existing, k)
        )
        == v
        for k, v in fields.items()
    ):
        return 0
    record_indicator_result(area=area, indicator=indicator, year=year, user=user, **fields)
    return 1
