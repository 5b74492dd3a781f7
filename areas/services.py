"""Writes to the administrative map that touch more than one row."""

from django.db import transaction

from areas.models import Area, Level
from ntm_portal.bulk import update_rows

# A unit's relations to other units and to its region: set from rows already read (the parent, and the ancestors
# Area.clean copies from it), so validating a unit does not ask the database for each of them again — one query
# each, twice per row of an admin import of units. The database's own foreign keys still hold them at the save.
RELATED_UNITS = ["parent", "region", "province", "district", "commune"]

# What a unit's own row may correct without moving it on the map (services.correct_units).
CORRECTABLE_FIELDS = ["name", "kind", "special_difficulty", "safe_zone", "valid_until"]

# Parents before children, so that each unit copies its ancestors from an already refreshed parent.
_LEVEL_ORDER = {Level.PROVINCE: 0, Level.DISTRICT: 1, Level.COMMUNE: 2, Level.VILLAGE: 3}


@transaction.atomic
def move_area(*, area: Area, parent: Area | None) -> Area:
    """Put `area` under `parent` and refresh the stored ancestors of everything below it.

    A region copied from the old parent follows the move; a region set on purpose stays.
    """
    # Read the stored state: an admin form has already put the new parent on the instance.
    stored = Area.objects.select_related("parent").filter(pk=area.pk).first() if area.pk else None
    old_parent = stored.parent if stored else None
    old_region_id = stored.region_id if stored else area.region_id
    moved = old_parent is not None and old_parent.pk != getattr(parent, "pk", None)
    if moved and area.region_id == old_parent.region_id:
        area.region = None
    area.parent = parent
    area.full_clean(exclude=RELATED_UNITS)
    area.save()
    # Below a unit that kept its parent, level and region (renamed, its dates corrected) nothing moves.
    kept = stored is not None and (stored.parent_id, stored.level, stored.region_id) == (
        area.parent_id,
        area.level,
        area.region_id,
    )
    if area.level == Level.VILLAGE or stored is None or kept:
        return area

    refreshed = {area.pk: area}
    descendants = sorted(Area.objects.under(area).exclude(pk=area.pk), key=lambda a: _LEVEL_ORDER[a.level])
    for child in descendants:
        child.parent = refreshed[child.parent_id]
        if child.region_id == old_region_id:
            child.region_id = None
        child.fill_ancestors()
        refreshed[child.pk] = child
    update_rows(descendants, Area, ["province", "district", "commune", "region"])
    return area


@transaction.atomic
def correct_units(*, units: list[Area]) -> None:
    """Save units that keep their place on the map — parent, level and region unchanged: renamed, their kind, flags
    or end date corrected — in bulk (`CORRECTABLE_FIELDS`). Nothing below them moves, so none of move_area's reading
    and refreshing is needed; the caller has validated each unit."""
    update_rows(units, Area, CORRECTABLE_FIELDS)
