"""Loading the official criteria sets (fixtures/catalogue/*.yaml) into the database.

Run by a data migration with the historical models, and by `manage.py load_catalogue` with the current ones.
Each YAML shape is read explicitly; an unknown one fails loudly. Existing thresholds are never overwritten,
so an administrator's corrections survive a reload.
"""

import datetime
from pathlib import Path

import yaml
from django.conf import settings

from criteria.evaluation import MISSING, natural_key, parse_threshold

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
    "thresholds_by_group", "verified", "note", "sources", "source", "comparison", "components",
}  # fmt: skip


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
    for region, group, year, raw in _threshold_rows(ind, regions):
        parsed = parse_threshold(raw)
        note = parsed.note
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


def _threshold_rows(ind, regions):
    """(region, commune group, year, raw threshold) of every threshold an indicator of the YAML gives."""
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
