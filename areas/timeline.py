"""The administrative map over time: the one place that says which map a year is read on, which unit was in force
on a day, what a unit came from and became, and which communes a page counts for a year.

Rules (README, "Bản đồ theo thời gian"):
- A year is read on the map in force on its reporting date, 31/12 of the year: 2024 on the 63 provinces, 2025 on
  the 34 provinces of 1/7/2025. Pages say so ("Bản đồ hành chính ngày 31/12/2024").
- A unit is found by its code *and* a day, never by its name; a code that names several units on that day is an
  error naming them (AmbiguousCode).
- Succession (AreaSuccession) is followed transitively, across as many snapshots as were loaded.
- A unit that did not yet exist on a year's reporting date (the new tỉnh Bắc Ninh over 2019) counts the communes in
  force on that day that became its communes. Each old commune is counted once, under its *primary* successor:
  the unit it went to in full if there is one, else the successor with the smallest official code (the sources
  give no sizes to choose "the largest"); it is then marked partial. A commune whose primary successor lies
  elsewhere is counted there, not here.
- A unit over a year after it ended is read on its last day (its own communes), with a link to what it became.
"""

import datetime
from dataclasses import dataclass, field, replace

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from areas.models import Area, AreaSuccession, Level, Share

# More steps than snapshots ever loaded: a walk stops long before (one query per snapshot crossed).
MAX_STEPS = 20


def today():
    return timezone.localdate()


def reporting_date(year):
    """The day whose map a year's figures are read on: 31 December of the year."""
    return datetime.date(year, 12, 31)


def own_day(area, day):
    """The day of the area's own map nearest to `day`: `day` itself while the area is in force."""
    if area.valid_from is not None and day < area.valid_from:
        return area.valid_from
    if area.valid_until is not None and day > area.valid_until:
        return area.valid_until
    return day


class AmbiguousCode(Exception):
    """A code that names several units on a day; `choices` are those units."""

    def __init__(self, code, day, choices):
        self.code, self.day, self.choices = code, day, choices
        names = "; ".join(f"{a.full_name} ({a.get_level_display().lower()}, {validity(a)})" for a in choices)
        super().__init__(
            _("Mã “%(code)s” ứng với %(n)s đơn vị ngày %(day)s: %(names)s. Hãy ghi rõ cấp (--level).")
            % {"code": code, "n": len(choices), "day": day.strftime("%d/%m/%Y"), "names": names}
        )


class UnknownCode(Exception):
    pass


def validity(area):
    """ "từ 01/07/2025", "đến 30/06/2025", "từ 01/07/2025 đến …" or "mọi thời điểm"."""
    parts = []
    if area.valid_from:
        parts.append(_("từ %(d)s") % {"d": area.valid_from.strftime("%d/%m/%Y")})
    if area.valid_until:
        parts.append(_("đến %(d)s") % {"d": area.valid_until.strftime("%d/%m/%Y")})
    return " ".join(parts) or _("chưa có ngày hiệu lực")


def unit_by_code(code, day, *, level=None):
    """The one unit with `code` in force on `day` (of `level` if given). UnknownCode when none was in force that
    day (the message names the units of that code on other days); AmbiguousCode when several were."""
    units = Area.objects.filter(code=code)
    if level:
        units = units.filter(level=level)
    found = list(units.valid_on(day).select_related("province", "district"))
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise AmbiguousCode(code, day, found)
    others = list(units.order_by("valid_from"))
    if others:
        names = "; ".join(f"{a.full_name} ({validity(a)})" for a in others)
        raise UnknownCode(
            _("Không có đơn vị mã “%(code)s” ngày %(day)s; mã này thuộc: %(names)s.")
            % {"code": code, "day": day.strftime("%d/%m/%Y"), "names": names}
        )
    raise UnknownCode(_("Không có đơn vị mã “%(code)s”.") % {"code": code})


# ---------------------------------------------------------------- succession


@dataclass
class Relative:
    """A unit an area came from or became, how many steps away, and whether only part of it is concerned."""

    area: Area
    partial: bool
    on: datetime.date | None


def _walk(area, *, back):
    """Predecessors (back=True) or successors, transitively: one query per snapshot crossed, none for a unit in
    force since always (back) or never ended (forward)."""
    near, far = ("new", "old") if back else ("old", "new")
    found, seen = [], {area.pk}
    frontier = {area.pk: False} if (area.valid_from if back else area.valid_until) is not None else {}
    for _step in range(MAX_STEPS):
        if not frontier:
            break
        links = AreaSuccession.objects.filter(**{f"{near}_id__in": list(frontier)}).select_related(
            f"{far}__province", f"{far}__district"
        )
        nxt = {}
        for link in links.order_by(f"{far}__code"):
            unit = getattr(link, far)
            partial = frontier[getattr(link, f"{near}_id")] or link.share == Share.PARTIAL
            if unit.pk in seen:
                continue
            seen.add(unit.pk)
            # A unit in force since "always" came from nothing, one never ended became nothing: no query for them.
            if (unit.valid_from if back else unit.valid_until) is not None:
                nxt[unit.pk] = partial
            found.append(Relative(unit, partial, link.on or (area.valid_from if back else unit.valid_from)))
        frontier = nxt
    return found


def came_from(area):
    """Every unit `area` was formed from, nearest first, each once."""
    return _walk(area, back=True)


def became(area):
    """Every unit `area` went into, nearest first, each once."""
    return _walk(area, back=False)


def primary(links):
    """The successor an old unit is counted under: the one it went to in full, else the smallest code."""
    return min(links, key=lambda link: (link[1] != Share.FULL, link[2]))


# ---------------------------------------------------------------- the communes a page counts


@dataclass
class Communes:
    """The communes counted for `area` (None: the nation) on `day`.

    `mapped` is True when the area was not in force on `day`: the communes are then those in force that day that
    became the area's communes, and `became[pk]` says which of its communes each one became (an Area) and whether
    only part of it did.
    """

    area: Area | None
    day: datetime.date
    mapped: bool = False
    ids: list = field(default_factory=list)
    became: dict = field(default_factory=dict)  # old commune pk -> (Area it became, partial)
    targets: dict = field(default_factory=dict)  # pk -> Area, the area's own communes the old ones became
    # The days the walk back compared `day` with (the units' starts and ends): the same walk serves another day
    # when none of them lies between the two.
    dates: frozenset = frozenset()

    def queryset(self):
        if self.mapped:
            return Area.objects.filter(pk__in=self.ids)
        if self.area is None:
            return Area.objects.communes().valid_on(self.day)
        if self.area.level == Level.COMMUNE:
            return Area.objects.filter(pk=self.area.pk)
        return Area.objects.communes().under(self.area).valid_on(self.day)

    @property
    def ended(self):
        """The area had ended before `day`: its own communes on its last day are shown."""
        return self.area is not None and self.area.valid_until is not None and self.day > self.area.valid_until


def communes_at(area, day, known=None):
    """The communes a page about `area` (None: the nation) counts on `day`, each once (module docstring).

    `known`: the communes already counted for `area` on another day (the year before, beside this year). A walk
    back through the merges costs a query per snapshot crossed; it is not walked again when no unit it read
    started or ended between the two days, as it would then find the same communes."""
    if area is None:
        return Communes(None, day)
    if area.valid_from is None or day >= area.valid_from:
        return Communes(area, own_day(area, day))
    if known is not None and known.mapped and known.area == area:
        low, high = sorted((day, known.day))
        if not any(low <= d <= high for d in known.dates):
            return replace(known, day=day)
    own = Communes(area, area.valid_from).queryset()
    return _map_back(area, day, own)


def _map_back(area, day, own):
    """Walk the successions back from the area's own communes to those in force on `day`."""
    scope = Communes(area, day, mapped=True)
    target_of = {}  # unit pk -> (own commune pk, partial so far)
    dates = {area.valid_from}
    for pk, valid_from, valid_until in own.values_list("pk", "valid_from", "valid_until"):
        dates.update((valid_from, valid_until))
        target_of[pk] = (pk, False)
        if (valid_from is None or valid_from <= day) and (valid_until is None or day <= valid_until):
            scope.became[pk] = (pk, False)  # one of its own communes was already in force that day
    frontier = own.filter(valid_from__gt=day).values("pk")
    for _step in range(MAX_STEPS):
        rows = list(
            AreaSuccession.objects.filter(old__in=AreaSuccession.objects.filter(new__in=frontier).values("old"))
            .filter(old__level=Level.COMMUNE)
            .values_list("old_id", "share", "new__code", "new_id", "old__valid_from", "old__valid_until")
        )
        links, olds = {}, {}
        for old_id, share, new_code, new_id, valid_from, valid_until in rows:
            links.setdefault(old_id, []).append((new_id, share, new_code))
            olds[old_id] = (valid_from, valid_until)
            dates.update((valid_from, valid_until))
        further = []
        for old_id, old_links in links.items():
            new_id, share, _code = primary(old_links)
            if new_id not in target_of or old_id in target_of:
                continue  # counted under a successor of another unit, or already reached
            target, partial = target_of[new_id]
            target_of[old_id] = (target, partial or share == Share.PARTIAL)
            valid_from, valid_until = olds[old_id]
            if valid_from is not None and valid_from > day:
                further.append(old_id)
            elif valid_until is None or day <= valid_until:
                scope.became[old_id] = target_of[old_id]
        if not further:
            break
        frontier = further
    targets = {a.pk: a for a in Area.objects.filter(pk__in={t for t, _p in scope.became.values()})}
    scope.targets = targets
    scope.became = {pk: (targets[t], partial) for pk, (t, partial) in scope.became.items()}
    scope.ids = list(scope.became)
    scope.dates = frozenset(dates - {None})
    return scope


def map_label(day):
    return _("Bản đồ hành chính ngày %(day)s") % {"day": day.strftime("%d/%m/%Y")}


def children_at(area, day):
    """The units directly under `area` in force on `day` (on the area's own map), each once."""
    return area.children.valid_on(own_day(area, day)).order_by("code", "name")


# ---------------------------------------------------------------- the year a URL names

# The years a URL may name: the programme began in 2010 (QĐ 800/QĐ-TTg); no set is drafted beyond 2030, and
# recognition files and plans look a few years ahead.
FIRST_YEAR = 2010
LAST_YEAR = 2050


def parse_year(raw):
    """The year of ``?nam=``: None when not given; raises ValidationError with the message a page shows when the
    text is not a year or the year lies outside FIRST_YEAR–LAST_YEAR (a year is never silently replaced)."""
    raw = (raw or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 4:
        raise ValidationError(_("“%(text)s” không phải là một năm."), code="invalid", params={"text": raw[:20]})
    year = int(raw)
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValidationError(
            _("Năm %(year)s nằm ngoài khoảng năm của cổng (%(first)s–%(last)s); hãy chọn một năm trong danh sách."),
            code="out_of_range",
            params={"year": year, "first": FIRST_YEAR, "last": LAST_YEAR},
        )
    return year


def year_in_url(request):
    """``?nam=`` as (year or None, message): the message says why a year given was refused."""
    try:
        return parse_year(request.GET.get("nam")), ""
    except ValidationError as exc:
        return None, exc.messages[0]
