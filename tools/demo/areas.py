"""Loading the demo map (fixtures/demo/areas.yaml) idempotently."""

from django.db import transaction

from areas.models import Area, Level, MapSnapshot


@transaction.atomic
def load_demo_areas(entries: list[dict]) -> dict[str, Area]:
    """Create or update the seed areas under the catalogue's pre-2025 provinces; returns them by code.

    Once the official map is loaded (`load_admin_map`), its units are the seed's: they are reused as they are; the
    synthetic ones (codes "X-…", for seeds that name no place) always follow the file.
    """
    by_code: dict[str, Area] = {}
    map_loaded = MapSnapshot.objects.exists()
    for entry in entries:
        code = str(entry["code"])
        level = entry["level"]
        parent = by_code.get(str(entry["parent"])) if entry.get("parent") else None
        existing = Area.objects.filter(code=code, level=level, valid_from__isnull=True).first()
        synthetic = code.startswith("X-")
        if existing is not None and (
            level == Level.PROVINCE or (map_loaded and level != Level.VILLAGE and not synthetic)
        ):
            by_code[code] = existing  # provinces come from the catalogue, official units from the map
            continue
        area = existing or Area(code=code, level=level)
        wanted = {
            "name": entry["name"],
            "kind": entry.get("kind", ""),
            "parent": parent,
            "special_difficulty": bool(entry.get("special_difficulty", False)),
            "safe_zone": bool(entry.get("safe_zone", False)),
            # A demo unit under a pre-reform province ends with it, so the map of today never counts it.
            "valid_until": entry.get("valid_until"),
        }
        if existing is None or any(getattr(area, k) != v for k, v in wanted.items()):
            for key, value in wanted.items():
                setattr(area, key, value)
            area.full_clean(validate_unique=False)
            area.save()
        by_code[code] = area
    return by_code
