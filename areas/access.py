"""Who may see and edit which areas: the one place every view and export asks.

A role at an area reaches that area and everything below it. Officers and administrators edit; reviewers
and viewers read; administrators also read the audit log of what they administer. Superusers see everything.
Anything outside a user's reach is a 404, never a 403, so that guessing ids reveals nothing.

Across the 2025 reform: a role on an abolished unit ends with it (after its last valid day it grants nothing; the
Role row stays as history); a role on a unit formed by a merge also reads — never edits — the units it was formed
from (transitively, through AreaSuccession) and everything that was below them: their past data.
"""

from django.db.models import Exists, OuterRef, Q
from django.http import Http404
from django.utils import timezone

from areas.models import ANCESTOR_FIELD, Area, AreaSuccession, Level, Role, RoleKind
from ntm_portal.prepared import Prepared

VIEW_ROLES = set(RoleKind)
EDIT_ROLES = {RoleKind.OFFICER, RoleKind.ADMIN}
REVIEW_ROLES = {RoleKind.REVIEWER, RoleKind.ADMIN}
ADMIN_ROLES = {RoleKind.ADMIN}
# What a page reads of its area beside the area itself. Its parent is one of these ancestors (_with_parent), not a
# join of its own: every join of the area table more costs PostgreSQL planning time on every request.
AREA_RELATED = ("region", "province", "district", "commune")
# A role's area: roles on villages are rare enough that their commune is read when needed.
ROLE_AREA_RELATED = ("region", "province", "district")


def _with_parent(area):
    """`area` with its parent taken from the ancestors loaded with it (a commune's district, or its province on the
    new map; a district's province; a village's commune), so that reading it costs no query."""
    parent = Area._meta.get_field("parent")
    for name in ("commune", "district", "province"):
        field = Area._meta.get_field(name)
        if getattr(area, field.attname) == area.parent_id and field.is_cached(area):
            parent.set_cached_value(area, getattr(area, name))
            break
    return area


def _roles_query(_shape, *, user, day):
    # Whether each role's area was formed from others comes with the roles: no query when none was.
    formed = Exists(AreaSuccession.objects.filter(new=OuterRef("area")))
    # The role's area comes with what get_area reads of it, so that a page about one's own area costs no query
    # for the area (the officer's workspace and saves, the reviewer's dashboard).
    roles = Role.objects.in_force(day).filter(user_id=user).select_related(*(f"area__{f}" for f in ROLE_AREA_RELATED))
    return roles.annotate(formed=formed)


# Read on every request: compiled once (ntm_portal/prepared.py).
ROLES_QUERY = Prepared(Role, _roles_query)


def _roles(user):
    if not user.is_authenticated:
        return []
    cache = getattr(user, "_ntm_roles", None)
    if cache is None:
        cache = ROLES_QUERY(None, user=user.pk, day=timezone.localdate())
        for role in cache:
            _with_parent(role.area)
        user._ntm_roles = cache
    return cache


def _predecessors(user):
    """The units the user's role areas were formed from, transitively (read-only reach); loaded once per request,
    one query per generation of merges (one when there is none)."""
    cache = getattr(user, "_ntm_predecessors", None)
    if cache is None:
        cache = []
        seen = {r.area_id for r in _roles(user)}
        frontier = {r.area_id for r in _roles(user) if r.formed}
        while frontier:
            older = [a for a in Area.objects.filter(succession_to__new_id__in=frontier).distinct() if a.pk not in seen]
            cache += older
            frontier = {a.pk for a in older}
            seen |= frontier
        user._ntm_predecessors = cache
    return cache


def _reach(area):
    if area.level == Level.VILLAGE:
        return Q(pk=area.pk)
    return Q(pk=area.pk) | Q(**{ANCESTOR_FIELD[area.level]: area})


def _covers(role_area, area):
    return role_area.pk == area.pk or role_area.pk in {area.province_id, area.district_id, area.commune_id}


def _areas_reached(user, kinds):
    """Every area reached by the user's roles of these kinds: a role's own reach only, never another role's."""
    if user.is_authenticated and user.is_superuser:
        return Area.objects.all()
    reached = [r.area for r in _roles(user) if r.kind in kinds]
    if kinds == VIEW_ROLES and reached:
        reached += _predecessors(user)
    if not reached:
        return Area.objects.none()
    q = Q()
    for area in reached:
        q |= _reach(area)
    return Area.objects.filter(q)


def _has(user, area, kinds):
    return bool(
        user.is_authenticated
        and (user.is_superuser or any(r.kind in kinds and _covers(r.area, area) for r in _roles(user)))
    )


def _reads_past(user, area):
    """Whether a unit the user's roles were formed from covers `area` (asked only when no role covers it)."""
    return bool(user.is_authenticated and _roles(user) and any(_covers(old, area) for old in _predecessors(user)))


def visible_areas(user):
    """Every area the user may read (the units their role areas were formed from included)."""
    return _areas_reached(user, VIEW_ROLES)


def editable_areas(user):
    """Every area whose data the user may enter or change."""
    return _areas_reached(user, EDIT_ROLES)


def administered_areas(user):
    """Every area whose audit log the user may read: their admin roles' reach; a viewer role elsewhere adds none."""
    return _areas_reached(user, ADMIN_ROLES)


def can_view(user, area):
    return _has(user, area, VIEW_ROLES) or _reads_past(user, area)


def can_edit(user, area):
    return _has(user, area, EDIT_ROLES)


def can_administer(user, area):
    return _has(user, area, ADMIN_ROLES)


def may_audit(user):
    """Superusers and anyone with an admin role somewhere open the audit log (scoped by administered_areas)."""
    return bool(user.is_authenticated and (user.is_superuser or any(r.kind in ADMIN_ROLES for r in _roles(user))))


def holds_role_at(user, area, kinds):
    """A role of these kinds at exactly this area (the district that verifies, the province that appraises)."""
    return area is not None and any(r.kind in kinds and r.area_id == area.pk for r in _roles(user))


def can_review(user, area):
    """Reviewers verify areas strictly below their own (a district reviewer verifies its communes)."""
    return bool(
        user.is_authenticated
        and (
            user.is_superuser
            or any(r.kind in REVIEW_ROLES and r.area.pk != area.pk and _covers(r.area, area) for r in _roles(user))
        )
    )


def get_area(user, area_id, *, edit=False, administer=False):
    """The area if the user may see it (edit it with edit=True, administer it with administer=True); else 404."""
    area = next((r.area for r in _roles(user) if str(r.area_id) == str(area_id)), None)
    if area is None:
        try:
            area = _with_parent(Area.objects.select_related(*AREA_RELATED).get(pk=area_id))
        except (Area.DoesNotExist, ValueError, TypeError):
            raise Http404
    allowed = can_administer if administer else can_edit if edit else can_view
    if not allowed(user, area):
        raise Http404
    return area


def home_areas(user):
    """The areas a user's roles are attached to, to start navigation from; every province for superusers."""
    if user.is_authenticated and user.is_superuser and not _roles(user):
        return list(Area.objects.provinces().order_by("-valid_from", "code").select_related("region"))
    return [r.area for r in _roles(user)]


def roles_of(user):
    """The user's active roles with their areas, loaded once per request and shared with the checks above."""
    return _roles(user)
