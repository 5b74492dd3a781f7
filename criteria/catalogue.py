"""Loading the official criteria sets (fixtures/catalogue/*.yaml) into the database.

Run by a data migration with the historical models, and by `manage.py load_catalogue` with the current ones.
Each YAML shape is read explicitly; an unknown one fails loudly. Existing thresholds are never overwritten,
so an administrator's corrections survive a reload.
"""

import datetime
from pathlib import Path

import yaml
from django.conf import settings

from areas.models import SPECIAL_RULE_REGION
from criteria.evaluation import MANUAL, MISSING, NO, YES, ParsedThreshold, natural_key, parse_threshold

CATALOGUE_DIR = Path(settings.BASE_DIR) / "fixtures" / "catalogue"
SET_FILES = [
    "commune_2016_2020.yaml",
    "commune_2021_2025.yaml",
    "commune_advanced_2021_2025.yaml",
    "commune_2026_2030.yaml",
    "district_2016_2020.yaml",
    "district_2021_2025.yaml",
]
KNOWN_INDICATOR_KEYS = {
    "code", "name", "unit", "threshold", "thresholds_by_region", "thresholds_by_region_year",
    "thresholds_by_group", "verified", "note", "sources", "source", "comparison", "components", "threshold_year",
}  # fmt: skip
# A number whose decision writes only "Đạt" (2016–2020 roads 2.1–2.4: the regional % were not found) is assessed
# by a person; the YAML says so with `comparison: manual`, and the note below goes with its thresholds.
MANUAL_NOTE = "Chỉ tiêu đo bằng số nhưng ngưỡng chỉ ghi “Đạt” (chưa có mức % theo vùng): người đánh giá theo hướng dẫn."


class CatalogueError(Exception):
    pass


def read_yaml(name):
    with open(CATALOGUE_DIR / name, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def province_code(value):
    # YAML reads an unquoted 08 as a string but 02 as an int: normalise to two digits.
    return str(value).zfill(2)


def indicator_kind(unit, threshold_raw):
    unit = (unit or "").strip()
    if unit.startswith("Đạt/") or unit.startswith("Có/"):
        return "boolean"
    if unit.startswith("%"):
        return "percentage"
    parsed = parse_threshold(threshold_raw)
    if parsed.comparison in {"yes", "no"}:
        return "boolean"
    return "number"


def _date(value):
    if not value:
        return None
    if isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value))


def _period(text):
    start, end = str(text).replace("–", "-").split("-")
    return int(start), int(end)


def load_regions(apps):
    """The 7 regions and both provincial maps: 63 provinces until 30/6/2025, 34 from 1/7/2025."""
    Region = apps.get_model("areas", "Region")
    Area = apps.get_model("areas", "Area")
    data = read_yaml("regions.yaml")
    old_end = datetime.date(2025, 6, 30)
    new_start = datetime.date(2025, 7, 1)
    old_provinces = {}
    for position, item in enumerate(data["regions"], start=1):
        region, _ = Region.objects.update_or_create(
            code=item["code"], defaults={"name": item["name"], "position": position}
        )
        for prov in item["provinces_pre_2025"]:
            old_provinces[province_code(prov["code"])] = (prov["name"], region)

    new = data["reorganization_2025"]["provinces_2025"]
    kept = set()
    for item in new:
        formed = [province_code(f.split()[0]) for f in item["formed_from"]]
        if formed == [province_code(item["code"])]:
            kept.add(formed[0])

    by_old_code = {}
    for code, (name, region) in old_provinces.items():
        kind = "thành phố" if name in {"Hà Nội", "Hải Phòng", "Đà Nẵng", "Cần Thơ", "Thành phố Hồ Chí Minh"} else "tỉnh"
        name = name.removeprefix("Thành phố ")
        area, _ = Area.objects.update_or_create(
            code=code,
            level="province",
            valid_from=None,
            defaults={
                "name": name,
                "kind": kind,
                "region": region,
                "valid_until": None if code in kept else old_end,
            },
        )
        by_old_code[code] = area

    regions = {r.code: r for r in Region.objects.all()}
    for item in new:
        code = province_code(item["code"])
        if code in kept:
            continue
        former_regions = item.get("ntm_regions_of_former_units") or []
        kind = "thành phố" if str(item.get("type", "")).startswith("thành phố") else "tỉnh"
        area, _ = Area.objects.update_or_create(
            code=code,
            level="province",
            valid_from=new_start,
            defaults={
                "name": item["name"].removeprefix("Thành phố "),
                "kind": kind,
                "region": regions[former_regions[0]] if len(former_regions) == 1 else None,
                "valid_until": None,
            },
        )
        area.predecessors.set([by_old_code[province_code(f.split()[0])] for f in item["formed_from"]])


def load_sets(apps, names=SET_FILES):
    for name in names:
        load_set(apps, read_yaml(name), source=name)


def load_set(apps, data, source):
    CriteriaSet = apps.get_model("criteria", "CriteriaSet")
    Criterion = apps.get_model("criteria", "Criterion")
    Region = apps.get_model("areas", "Region")
    regions = {r.code: r for r in Region.objects.all()}

    meta = data["meta"]
    basis = meta.get("legal_basis") or {}
    start, end = _period(meta["period"])
    tier = {"standard": "standard", "advanced": "advanced", "model": "model", "modern": "modern"}[meta["tier"]]
    scheme = "group" if meta.get("threshold_group_keys") else "region"
    notes = "\n".join(str(meta[k]) for k in ("completeness", "confidence_note", "completeness_pass2") if meta.get(k))
    cset, _ = CriteriaSet.objects.update_or_create(
        code=meta["set_id"],
        defaults={
            "name": meta["title"],
            "level": meta["level"],
            "tier": tier,
            "period_start": start,
            "period_end": end,
            "legal_basis": str(basis.get("number", "")),
            "issued_on": _date(basis.get("issued")),
            "effective_on": _date(basis.get("effective")),
            "issuer": str(basis.get("issuer", ""))[:200],
            "threshold_scheme": scheme,
            "confidence": str(meta.get("confidence", "")),
            "notes": notes,
        },
    )
    if any(f.name == "special_rule_basis" for f in CriteriaSet._meta.fields):  # not before migration 0005
        cset.special_rule_basis = special_rule_basis(data, source)
        cset.save(update_fields=["special_rule_basis"])
    groups = {}
    for group in data.get("groups") or []:
        for number in group["criteria"]:
            groups[number] = (group["code"], group["name"])

    for crit in data["criteria"]:
        group_code, group_name = groups.get(crit["number"], (crit.get("group") or "", ""))
        criterion, _ = Criterion.objects.update_or_create(
            criteria_set=cset,
            number=crit["number"],
            defaults={
                "name": crit["name"],
                "group_code": group_code or "",
                "group_name": group_name,
                "verified": bool(crit.get("verified")),
                "note": str(crit.get("note") or ""),
            },
        )
        for ind in crit.get("indicators") or []:
            _load_indicator(apps, criterion, ind, regions=regions, source=source, basis=basis)
    return cset


def special_rule_basis(data, source):
    """The decision that makes xã đặc biệt khó khăn / an toàn khu use the TDMNPB thresholds, where the set's
    decision states that rule (a `special_rules` entry with `applies_region` and `basis`); "" where it does not."""
    for rule in data.get("special_rules") or []:
        if not isinstance(rule, dict) or "applies_region" not in rule:
            continue
        if rule["applies_region"] != SPECIAL_RULE_REGION or not rule.get("basis"):
            raise CatalogueError(f"{source}: quy tắc xã đặc biệt khó khăn cần applies_region TDMNPB và basis")
        return str(rule["basis"])
    return ""


def _load_indicator(apps, criterion, ind, *, regions, source, basis):
    """An indicator of the YAML and its thresholds; thresholds already there are left as they are."""
    Indicator = apps.get_model("criteria", "Indicator")
    Threshold = apps.get_model("criteria", "Threshold")
    unknown = set(ind) - KNOWN_INDICATOR_KEYS
    if unknown:
        raise CatalogueError(f"{source}: chỉ tiêu {ind.get('code')} có khóa lạ {sorted(unknown)}")
    code = str(ind["code"])
    indicator, _ = Indicator.objects.update_or_create(
        criterion=criterion,
        code=code,
        defaults={
            "sort_key": natural_key(code),
            "name": ind["name"],
            "unit": str(ind.get("unit") or ""),
            "kind": indicator_kind(ind.get("unit"), ind.get("threshold")),
            "verified": bool(ind.get("verified")),
            "note": str(ind.get("note") or ""),
        },
    )
    verified = bool(ind.get("verified"))
    forced = _forced_comparison(ind, indicator.kind, source)
    for region, group, year, raw in _threshold_rows(ind, regions):
        parsed = parse_threshold(raw)
        note = parsed.note
        if forced and parsed.comparison in {YES, NO}:
            parsed, note = ParsedThreshold(forced, None, parsed.note, parsed.unverified), MANUAL_NOTE
        Threshold.objects.get_or_create(
            indicator=indicator,
            variant=None,
            region=region,
            commune_group=group,
            year=year,
            defaults={
                "raw": "" if raw is None else str(raw)[:400],
                "comparison": parsed.comparison,
                "value": parsed.value,
                "verified": verified and not parsed.unverified and parsed.comparison != MISSING,
                "source": str(basis.get("number", "")),
                "note": note,
            },
        )
    return indicator


def _forced_comparison(ind, kind, source):
    """MANUAL where the YAML marks a yes/no threshold as assessed by a person; a number judged by a bare "Đạt"
    without that mark fails loudly (it would otherwise stay unjudged without saying why)."""
    forced = ind.get("comparison")
    if forced not in (None, MANUAL):
        raise CatalogueError(f"{source}: chỉ tiêu {ind.get('code')}: comparison chỉ nhận 'manual'")
    if forced is None and kind != "boolean":
        rows = [ind.get("threshold"), *(ind.get("thresholds_by_region") or {}).values()]
        if any(parse_threshold(raw).comparison in {YES, NO} for raw in rows):
            raise CatalogueError(
                f"{source}: chỉ tiêu {ind.get('code')} đo bằng số nhưng ngưỡng là Đạt/Không: ghi comparison: manual"
            )
    return forced


def _threshold_rows(ind, regions):
    """(region, commune group, year, raw threshold) of every threshold an indicator of the YAML gives.

    `threshold_year` says which year's level the rows without a year are (income 2016–2020: the 2020 level)."""
    level_year = int(ind["threshold_year"]) if ind.get("threshold_year") else None
    return [(r, g, level_year if year is None else year, raw) for r, g, year, raw in _rows_as_written(ind, regions)]


def _rows_as_written(ind, regions):
    rows = [(None, "", None, ind.get("threshold"))]
    for key, raw in (ind.get("thresholds_by_region") or {}).items():
        rows.append((regions[key], "", None, raw))
    for year, per_region in (ind.get("thresholds_by_region_year") or {}).items():
        for key, raw in per_region.items():
            rows.append((regions[key], "", int(year), raw))
    for key, raw in (ind.get("thresholds_by_group") or {}).items():
        rows.append((None, key, None, raw))
    if len(rows) > 1 and rows[0][3] is None:
        return rows[1:]  # no general level: only the regional ones exist
    return rows


# ---------------------------------------------------------------- corrections to a catalogue already loaded


def correct_loaded_sets(apps, *, reason, names=SET_FILES):
    """Bring a database loaded from an earlier catalogue to readings the loader never overwrites: each set's
    special-rule decision, thresholds marked "assessed by a person" (`comparison: manual`) and the year a level
    is for (`threshold_year`). Only the national rows the catalogue made are touched; each change is kept in the
    threshold's history with `reason`. Returns the codes of the sets whose thresholds changed."""
    CriteriaSet = apps.get_model("criteria", "CriteriaSet")
    Threshold = apps.get_model("criteria", "Threshold")
    changed_sets = set()
    for name in names:
        data = read_yaml(name)
        code = data["meta"]["set_id"]
        CriteriaSet.objects.filter(code=code).update(special_rule_basis=special_rule_basis(data, name))
        for crit in data["criteria"]:
            for ind in crit.get("indicators") or []:
                rows = Threshold.objects.filter(
                    indicator__criterion__criteria_set__code=code,
                    indicator__criterion__number=crit["number"],
                    indicator__code=str(ind["code"]),
                    variant=None,
                )
                if ind.get("comparison") == MANUAL:
                    for threshold in rows.filter(comparison__in=(YES, NO)):
                        threshold.comparison, threshold.note, threshold.verified = MANUAL, MANUAL_NOTE, False
                        _save_with_history(apps, threshold, reason)
                        changed_sets.add(code)
                if ind.get("threshold_year"):
                    year = int(ind["threshold_year"])
                    for threshold in rows.filter(year__isnull=True):
                        taken = rows.filter(region=threshold.region, commune_group=threshold.commune_group, year=year)
                        if not taken.exists():
                            threshold.year = year
                            _save_with_history(apps, threshold, reason)
                            changed_sets.add(code)
    return changed_sets


def _save_with_history(apps, threshold, reason):
    HistoricalThreshold = apps.get_model("criteria", "HistoricalThreshold")
    threshold.save()
    HistoricalThreshold.objects.create(
        **_field_values(threshold), history_date=_now(), history_type="~", history_change_reason=reason
    )


def _field_values(row):
    return {f.attname: getattr(row, f.attname) for f in row._meta.concrete_fields}


def _now():
    from django.utils import timezone

    return timezone.now()


def restate_statuses(apps, *, set_codes, reason):
    """Judge again, with the historical models of a migration, every stored result of these national sets, and
    store the statuses that move: indicator results in bulk (their entered values did not change), criterion
    rows saved with a history row giving `reason` — what `criteria.services.recompute` does with live models."""
    CriteriaSet = apps.get_model("criteria", "CriteriaSet")
    Indicator = apps.get_model("criteria", "Indicator")
    Threshold = apps.get_model("criteria", "Threshold")
    IndicatorResult = apps.get_model("criteria", "IndicatorResult")
    for cset in CriteriaSet.objects.filter(code__in=set_codes, parent__isnull=True):
        indicators = list(
            Indicator.objects.filter(criterion__criteria_set=cset).order_by("criterion__number", "sort_key")
        )
        by_criterion = {}
        for indicator in indicators:
            by_criterion.setdefault(indicator.criterion_id, []).append(indicator)
        thresholds = {}
        for t in Threshold.objects.filter(indicator__in=indicators).select_related("region", "variant"):
            thresholds.setdefault(t.indicator_id, []).append(t)
        variants = {}
        for v in CriteriaSet.objects.filter(parent=cset).order_by("level", "-period_start", "tier", "code"):
            variants.setdefault(v.province_id, v)
        judged = _SetJudge(cset, by_criterion, thresholds, variants)
        area_ids = sorted(
            set(IndicatorResult.objects.filter(indicator__in=indicators).values_list("area_id", flat=True))
        )
        for start in range(0, len(area_ids), 500):
            _restate_areas(apps, area_ids[start : start + 500], judged=judged, reason=reason)


class _SetJudge:
    """A national set's indicators by criterion, their thresholds and the provinces' variants (historical rows)."""

    def __init__(self, cset, by_criterion, thresholds, variants):
        self.cset, self.by_criterion, self.thresholds, self.variants = cset, by_criterion, thresholds, variants
        self.criterion_of = {i.pk: c for c, indicators in by_criterion.items() for i in indicators}

    def evaluate(self, indicator, area, year, result):
        from criteria import evaluation

        province_id = area.pk if area.level == "province" else area.province_id
        choice = evaluation.choose_threshold(
            self.thresholds.get(indicator.pk, []),
            area=area,
            year=year,
            variant=self.variants.get(province_id),
            special_rule_basis=self.cset.special_rule_basis,
        )
        return evaluation.evaluate(result, choice)


def _restate_areas(apps, area_ids, *, judged, reason):
    from criteria import evaluation, standings

    IndicatorResult = apps.get_model("criteria", "IndicatorResult")
    CriterionResult = apps.get_model("criteria", "CriterionResult")
    HistoricalCriterionResult = apps.get_model("criteria", "HistoricalCriterionResult")
    areas = apps.get_model("areas", "Area").objects.select_related("region").in_bulk(area_ids)
    results = {
        (r.area_id, r.indicator_id, r.year): r
        for r in IndicatorResult.objects.filter(area_id__in=area_ids, indicator_id__in=judged.criterion_of)
    }
    rows = {
        (c.area_id, c.criterion_id, c.year): c
        for c in CriterionResult.objects.filter(area_id__in=area_ids, criterion_id__in=judged.by_criterion)
    }
    moved = []
    for area_id, criterion_id, year in sorted({(a, judged.criterion_of[i], y) for a, i, y in results}):
        evaluations = []
        for indicator in judged.by_criterion[criterion_id]:
            result = results.get((area_id, indicator.pk, year))
            ev = judged.evaluate(indicator, areas[area_id], year, result)
            evaluations.append(ev)
            new = (ev.status, ev.computed_status, ev.tentative)
            if result is not None and (result.status, result.computed_status, result.is_tentative) != new:
                result.status, result.computed_status, result.is_tentative = new
                moved.append(result)
        row = rows.get((area_id, criterion_id, year))
        combined = evaluation.combine(evaluations, row.assessed_status if row else "")
        new = (combined.status, combined.computed_status, combined.tentative, combined.disagreement)
        if row is None and combined.status == evaluation.NOT_ASSESSED:
            continue
        kind = "+" if row is None else "~"
        row = row or CriterionResult(area_id=area_id, criterion_id=criterion_id, year=year)
        if kind == "~" and (row.status, row.computed_status, row.is_tentative, row.disagreement) == new:
            continue
        row.status, row.computed_status, row.is_tentative, row.disagreement = new
        row.save()
        HistoricalCriterionResult.objects.create(
            **_field_values(row), history_date=_now(), history_type=kind, history_change_reason=reason
        )
    IndicatorResult.objects.bulk_update(moved, ["status", "computed_status", "is_tentative"], batch_size=2000)
    # The stored standings follow the statuses (once the migration that makes their table has run).
    standings.restate_in(apps, area_ids=area_ids, set_id=judged.cset.pk, from_year=judged.cset.period_start)
