"""The official administrative map: reading its snapshots (fixtures/admin_map/) and loading them.

A unit is identified by its code at its level within a validity period, never by its name. A snapshot of day D:
- matches each of its units to the official unit of the same code and level valid on D (same unit: its name,
  kind and parent follow the snapshot); any other unit is added, valid from D (from "always" for the first
  snapshot ever loaded). A district or commune the snapshot puts under another province is not the same unit
  (the new xã Ia Mơ 23938 of the new tỉnh Gia Lai is not the old one of the old tỉnh Gia Lai): the old one ends the
  day before D, kept under its old province, and is succeeded in full by a new unit of the same code;
- ends, on the day before D, every official unit valid on D that it no longer lists. When a merge file comes with
  it, the units it names as old end there with their successors linked (full or partial); the others are flagged
  "ended without successor", never guessed. A level the snapshot no longer has (districts from 1/7/2025) ends whole.
Provinces belong to the criteria catalogue (fixtures/catalogue/regions.yaml): they are matched, never renamed or
ended here. Nothing is ever deleted. Only official codes (digits only) take part, so demo, test and generated
units are left alone.
"""

import csv
import datetime
import gzip
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from areas.models import Area, AreaSuccession, Level, MapSnapshot, Share

MAP_DIR = Path(settings.BASE_DIR) / "fixtures" / "admin_map"
LEVELS = [Level.PROVINCE, Level.DISTRICT, Level.COMMUNE]
CODE_LEVEL = {2: Level.PROVINCE, 3: Level.DISTRICT, 5: Level.COMMUNE}
# Longest first: "Thành phố" before anything shorter, "Thị trấn" / "Thị xã" before nothing.
KINDS = ["Thành phố", "Thị trấn", "Thị xã", "Đặc khu", "Phường", "Huyện", "Quận", "Tỉnh", "Xã"]
BATCH = 500


class MapError(Exception):
    pass


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    kind: str
    level: str
    parent_code: str | None


@dataclass(frozen=True)
class Link:
    new_code: str
    new_level: str
    old_code: str
    share: str


@dataclass(frozen=True)
class Shipped:
    day: datetime.date
    units: str
    merges: str = ""
    basis: str = ""


# The snapshots shipped with the project, oldest first (see fixtures/admin_map/README.md).
SHIPPED = [
    Shipped(datetime.date(2023, 4, 15), "units_2023-04-15.csv.gz"),
    Shipped(datetime.date(2025, 6, 30), "units_2025-06-30.json.gz"),
    Shipped(
        datetime.date(2025, 7, 1),
        "units_2025-07-01.json.gz",
        "merges_2025-07-01.json.gz",
        "NQ 1654–1687/NQ-UBTVQH15 (16/6/2025)",
    ),
]


@dataclass
class MapReport:
    day: datetime.date
    skipped: bool = False
    added: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    ended: Counter = field(default_factory=Counter)
    vanished: list = field(default_factory=list)
    merged: Counter = field(default_factory=Counter)
    unmatched: list = field(default_factory=list)

    def lines(self):
        day = self.day.strftime("%d/%m/%Y")
        if self.skipped:
            return [_("Bản đồ ngày %(day)s: đã nạp trước đó, bỏ qua.") % {"day": day}]
        labels = {Level.PROVINCE: _("tỉnh"), Level.DISTRICT: _("huyện"), Level.COMMUNE: _("xã")}

        def counts(counter):
            return ", ".join(f"{counter[lv]} {labels[lv]}" for lv in LEVELS if counter[lv]) or "0"

        lines = [
            _("Bản đồ ngày %(day)s:") % {"day": day},
            _("  thêm mới: %(n)s") % {"n": counts(self.added)},
            _("  cập nhật tên, loại hoặc cấp trên: %(n)s") % {"n": counts(self.updated)},
            _("  hết hiệu lực (có đơn vị kế thừa hoặc bỏ cả cấp): %(n)s") % {"n": counts(self.ended)},
            _("  hết hiệu lực, không rõ đơn vị kế thừa: %(n)s") % {"n": len(self.vanished)},
            _("  liên kết sáp nhập: %(full)s toàn bộ, %(partial)s một phần")
            % {"full": self.merged[Share.FULL], "partial": self.merged[Share.PARTIAL]},
            _("  dòng sáp nhập không khớp đơn vị nào: %(n)s") % {"n": len(self.unmatched)},
        ]
        lines += [f"    - {area.code} {area.full_name}" for area in self.vanished[:30]]
        if len(self.vanished) > 30:
            lines.append(
                _("    … và %(n)s đơn vị khác (xem trong trang quản trị, lọc “hết hiệu lực, không rõ đơn vị kế thừa”).")
                % {"n": len(self.vanished) - 30}
            )
        for old, name, new, missing in self.unmatched:
            if missing == "new":
                text = _("    - %(old)s (%(name)s) → %(new)s: mã mới %(new)s không có trong bản đồ này")
            else:
                text = _("    - %(old)s (%(name)s) → %(new)s: mã cũ %(old)s không có trong bản đồ ngay trước đó")
            lines.append(text % {"old": old, "name": name, "new": new})
        return lines


# ---------------------------------------------------------------- reading


def split_name(full_name):
    """ "Huyện Tân Yên" → ("huyện", "Tân Yên"); the kind is the official prefix, lower-cased."""
    full_name = " ".join(str(full_name).split())
    for kind in KINDS:
        if full_name.startswith(kind + " "):
            return kind.lower(), full_name[len(kind) + 1 :]
    return "", full_name


def _open(path):
    path = Path(path)
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8-sig")
    return open(path, encoding="utf-8-sig")


def _unit(code, full_name, level, parent_code):
    kind, name = split_name(full_name)
    return Unit(str(code).strip(), name, kind, level, str(parent_code).strip() if parent_code else None)


def read_units(path):
    """Units of a snapshot: the CSV of 2023 (Mã TP / Mã QH / Mã PX) or the nested JSON of 2025."""
    units = {}
    with _open(path) as fh:
        if ".csv" in Path(path).name:
            for row in csv.DictReader(fh):
                units.setdefault(
                    (Level.PROVINCE, row["Mã TP"]), _unit(row["Mã TP"], row["Tỉnh Thành Phố"], Level.PROVINCE, None)
                )
                units.setdefault(
                    (Level.DISTRICT, row["Mã QH"]), _unit(row["Mã QH"], row["Quận Huyện"], Level.DISTRICT, row["Mã TP"])
                )
                if row.get("Mã PX"):
                    units[(Level.COMMUNE, row["Mã PX"])] = _unit(
                        row["Mã PX"], row["Phường Xã"], Level.COMMUNE, row["Mã QH"]
                    )
            return list(units.values())
        data = json.load(fh)
    for province in data:
        units[(Level.PROVINCE, province["Code"])] = _unit(province["Code"], province["FullName"], Level.PROVINCE, None)
        for district in province.get("District") or []:
            units[(Level.DISTRICT, district["Code"])] = _unit(
                district["Code"], district["FullName"], Level.DISTRICT, province["Code"]
            )
            for ward in district.get("Ward") or []:
                units[(Level.COMMUNE, ward["Code"])] = _unit(
                    ward["Code"], ward["FullName"], Level.COMMUNE, district["Code"]
                )
        for ward in province.get("Wards") or []:
            units[(Level.COMMUNE, ward["Code"])] = _unit(
                ward["Code"], ward["FullName"], Level.COMMUNE, province["Code"]
            )
    return list(units.values())


def read_merges(path):
    """Links of a merge file (dvhcvn format): each new province / commune and the old units it was formed from."""
    with _open(path) as fh:
        data = json.load(fh)
    links = []
    names = {}
    for province in data["data"]:
        for old in province.get("merges") or []:
            links.append(Link(province["level1_id"], Level.PROVINCE, old["old_id"], old["type"]))
            names[old["old_id"]] = old["name"]
        for commune in province.get("level2s") or []:
            for old in commune.get("merges") or []:
                links.append(Link(commune["level2_id"], Level.COMMUNE, old["old_id"], old["type"]))
                names[old["old_id"]] = old["name"]
    return links, names


# ---------------------------------------------------------------- loading


def _official(level):
    # Official codes are digits only; demo (X-…), test and generated (G-…) units are not the loader's.
    return Area.objects.filter(level=level, code__regex=r"^[0-9]+$")


def _set_parent(area, parent):
    area.parent = parent
    area.province_id = parent.pk if parent.level == Level.PROVINCE else parent.province_id
    area.district_id = parent.pk if parent.level == Level.DISTRICT else parent.district_id
    area.commune_id = None


@dataclass
class _Load:
    """What loading one snapshot carries from level to level."""

    day: datetime.date
    start: datetime.date | None  # valid_from of the units it adds: None ("always") for the first snapshot ever
    links_to: dict  # (level, code) of a new unit → the merge links to it
    old_by_code: dict  # (level, code) → the official old unit a merge link names
    report: MapReport
    placed: dict = field(default_factory=dict)  # (level, code) → the unit of this snapshot
    carried: list = field(default_factory=list)  # links from a unit that changed province to its new unit

    @property
    def eve(self):
        return self.day - datetime.timedelta(days=1)


@transaction.atomic
def load_snapshot(
    *,
    day: datetime.date,
    units: list[Unit],
    links: list[Link] | None = None,
    old_names: dict | None = None,
    basis: str = "",
    source: str = "",
    merges_source: str = "",
) -> MapReport:
    """Load one snapshot of day `day` (and its merge links); returns what was added, ended, merged, unmatched."""
    _refuse_older(day)
    old_names = old_names or {}
    report = MapReport(day)
    links = _listed_links(links or [], units, old_names, report)
    links_to = {}
    for link in links:
        links_to.setdefault((link.new_level, link.new_code), []).append(link)
    first = not MapSnapshot.objects.exclude(day=day).exists()
    load = _Load(
        day=day,
        start=None if first else day,
        links_to=links_to,
        old_by_code=_merged_old_units(links, day),
        report=report,
    )
    # The old units the merge file names end the day before: they have successors. Provinces are the catalogue's.
    _end(
        [
            a
            for a in load.old_by_code.values()
            if a.level != Level.PROVINCE and (a.valid_until is None or a.valid_until > load.eve)
        ],
        load.eve,
        report,
        flag=False,
    )
    for level in LEVELS:
        _load_level(load, level, [u for u in units if u.level == level])
    _link(links + load.carried, load.placed, load.old_by_code, old_names, basis, day, report)
    MapSnapshot.objects.update_or_create(
        day=day,
        defaults={"source": source, "merges_source": merges_source, "summary": "\n".join(report.lines())},
    )
    return report


def _refuse_older(day):
    latest = MapSnapshot.objects.order_by("-day").first()
    if latest is not None and day < latest.day:
        raise MapError(
            _("Đã nạp bản đồ ngày %(latest)s; không nạp được bản đồ cũ hơn (%(day)s).")
            % {"latest": latest.day.strftime("%d/%m/%Y"), "day": day.strftime("%d/%m/%Y")}
        )


def _listed_links(links, units, old_names, report):
    """The links to units the snapshot lists. A link to a unit it does not list is reported, not followed: its old
    units then have no successor in the data."""
    listed = {(u.level, u.code) for u in units}
    for link in links:
        if (link.new_level, link.new_code) not in listed:
            report.unmatched.append((link.old_code, old_names.get(link.old_code, ""), link.new_code, "new"))
    return [link for link in links if (link.new_level, link.new_code) in listed]


def _merged_old_units(links, day):
    """Old units named by the merge file: the official unit of that code valid the day before."""
    eve = day - datetime.timedelta(days=1)
    old_units = {}
    for code in {link.old_code for link in links}:
        level = CODE_LEVEL.get(len(code))
        if level is None:
            continue
        old_units.setdefault(level, set()).add(code)
    old_by_code = {}
    for level, codes in old_units.items():
        for area in _official(level).filter(code__in=codes).valid_on(eve).exclude(valid_from=day):
            old_by_code[(level, area.code)] = area
    return old_by_code


def _load_level(load, level, rows):
    """Match the snapshot's units of one level to the official units valid on its day: add, update, end."""
    current = {a.code: a for a in _official(level).valid_on(load.day)}
    if not rows:
        # The snapshot has no unit of this level (no districts from 1/7/2025): the whole level ends.
        _end(list(current.values()), load.eve, load.report, flag=False)
        return
    new_areas, changed, moved = [], [], []
    for row in rows:
        parent = _parent_of(load, level, row)
        area = current.pop(row.code, None)
        if area is not None and _changes_province(area, level, parent):
            moved.append(area)
            _succeeded_in_full(load, level, area)
            area = None
        if area is None:
            area = _new_area(load, level, row, parent)
            new_areas.append(area)
        elif _follow(area, level, row, parent):
            changed.append(area)
        load.placed[(level, row.code)] = area
    _end(moved, load.eve, load.report, flag=False)
    Area.objects.bulk_create(new_areas, batch_size=BATCH)
    Area.objects.bulk_update(changed, ["name", "kind", "parent", "province", "district", "region"], batch_size=BATCH)
    _refresh_villages(changed)
    load.report.added[level] += len(new_areas)
    load.report.updated[level] += len(changed)
    if level != Level.PROVINCE:  # provinces end with the catalogue, not here
        _end(list(current.values()), load.eve, load.report, flag=True)


def _parent_of(load, level, row):
    parent = load.placed.get((Level.DISTRICT, row.parent_code)) or load.placed.get((Level.PROVINCE, row.parent_code))
    if level != Level.PROVINCE and parent is None:
        raise MapError(
            _("Đơn vị %(code)s không có cấp trên %(parent)s.") % {"code": row.code, "parent": row.parent_code}
        )
    return parent


def _changes_province(area, level, parent):
    """A district or commune the snapshot puts under another province is another unit (provinces are the
    catalogue's: each province of 1/7/2025 that is not one of the 11 unchanged ones is a new row)."""
    if level == Level.PROVINCE or area.province_id is None:
        return False
    return area.province_id != (parent.pk if parent.level == Level.PROVINCE else parent.province_id)


def _succeeded_in_full(load, level, old):
    """`old` ends the day before; the snapshot's unit of its code is new and succeeds it in full (its region
    then comes from `old` when its new province spans regions)."""
    link = Link(old.code, level, old.code, Share.FULL)
    load.carried.append(link)
    load.links_to.setdefault((level, old.code), []).append(link)
    load.old_by_code[(level, old.code)] = old


def _new_area(load, level, row, parent):
    area = Area(code=row.code, level=level, name=row.name, kind=row.kind, valid_from=load.start)
    if parent is not None:
        _set_parent(area, parent)
    area.region_id = _region(area, parent, load.links_to.get((level, row.code), []), load.old_by_code)
    return area


def _follow(area, level, row, parent):
    """The same unit takes the snapshot's name, kind and parent; says whether anything changed. Provinces are the
    catalogue's and stay as they are."""
    if level == Level.PROVINCE:
        return False
    if area.name == row.name and area.kind == row.kind and area.parent_id == parent.pk:
        return False
    area.name, area.kind = row.name, row.kind
    _set_parent(area, parent)
    if area.region_id is None:
        area.region_id = parent.region_id
    return True


def _end(areas, eve, report, *, flag):
    for area in areas:
        area.valid_until = eve
        area.ended_without_successor = flag
        if flag:
            report.vanished.append(area)
        else:
            report.ended[area.level] += 1
    Area.objects.bulk_update(areas, ["valid_until", "ended_without_successor"], batch_size=BATCH)


def _region(area, parent, links, old_by_code):
    """Every unit has a region: its parent's, or (under a new province spanning regions) its predecessors' most
    common one, which is the region of the old province it came from."""
    if parent is not None and parent.region_id is not None:
        return parent.region_id
    regions = Counter()
    for link in links:
        old = old_by_code.get((CODE_LEVEL.get(len(link.old_code)), link.old_code))
        if old is not None and old.region_id is not None:
            regions[old.region_id] += 2 if link.share == Share.FULL else 1
    if regions:
        return regions.most_common(1)[0][0]
    return None


def _refresh_villages(moved):
    """Villages below a commune that changed district follow it (their stored ancestors)."""
    moved = {a.pk: a for a in moved if a.level == Level.COMMUNE}
    if not moved:
        return
    villages = list(Area.objects.filter(level=Level.VILLAGE, commune_id__in=moved))
    for village in villages:
        commune = moved[village.commune_id]
        village.province_id, village.district_id = commune.province_id, commune.district_id
    Area.objects.bulk_update(villages, ["province", "district"], batch_size=BATCH)


def _link(links, placed, old_by_code, old_names, basis, day, report):
    existing = set(AreaSuccession.objects.filter(on=day).values_list("old_id", "new_id"))
    existing |= set(
        AreaSuccession.objects.filter(new__in=[a for a in placed.values() if a.level == Level.PROVINCE]).values_list(
            "old_id", "new_id"
        )
    )
    rows = []
    for link in links:
        new = placed.get((link.new_level, link.new_code))
        old = old_by_code.get((CODE_LEVEL.get(len(link.old_code)), link.old_code))
        if old is None:
            report.unmatched.append((link.old_code, old_names.get(link.old_code, ""), link.new_code, "old"))
            continue
        if old.pk == new.pk or (old.pk, new.pk) in existing:
            continue
        share = Share.PARTIAL if link.share == "partial" else Share.FULL
        rows.append(AreaSuccession(old=old, new=new, share=share, basis=basis, on=day))
        existing.add((old.pk, new.pk))
        report.merged[share] += 1
    AreaSuccession.objects.bulk_create(rows, batch_size=BATCH)


def load_shipped(*, directory: Path = MAP_DIR, snapshots: list[Shipped] = SHIPPED) -> list[MapReport]:
    """Load the shipped snapshots not loaded yet, oldest first. A second run changes nothing."""
    reports = []
    loaded = set(MapSnapshot.objects.values_list("day", flat=True))
    for shipped in snapshots:
        if shipped.day in loaded:
            reports.append(MapReport(shipped.day, skipped=True))
            continue
        reports.append(
            load_files(
                day=shipped.day,
                units_path=directory / shipped.units,
                merges_path=directory / shipped.merges if shipped.merges else None,
                basis=shipped.basis,
            )
        )
    return reports


def load_files(*, day: datetime.date, units_path: Path, merges_path: Path | None = None, basis: str = "") -> MapReport:
    """Load a snapshot from its files (a later snapshot added by an administrator goes through here)."""
    links, names = read_merges(merges_path) if merges_path else ([], {})
    return load_snapshot(
        day=day,
        units=read_units(units_path),
        links=links,
        old_names=names,
        basis=basis,
        source=Path(units_path).name,
        merges_source=Path(merges_path).name if merges_path else "",
    )
