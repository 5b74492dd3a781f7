"""Who changed what: one newest-first feed over the history tables, scoped to the areas a user reaches.

Each tracked model says how its history rows reach an area. Parents are followed through their own history
tables, not the live ones, so that the changes to a plan item that was later deleted still show under its
area. A page costs a fixed number of queries: the count, the page of the union, then two per model on the
page (its records, and the records just before them for the diff) and one per kind of object named.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import IntegerField, OuterRef, Q, Subquery, Value
from django.utils.translation import gettext_lazy as _

from areas.models import Area
from assignments.models import Responsibility
from criteria.models import CriteriaSet, Criterion, CriterionResult, Evidence, Indicator, IndicatorResult, Threshold
from ntm_portal import history
from ntm_portal.vietnamese import person_name, vn_date
from plans.models import FundingLine, FundingSource, Plan, PlanItem, ProgressUpdate

CHANGE_TYPES = {"+": _("Tạo mới"), "~": _("Sửa"), "-": _("Xóa")}

# Who made a change is shown on every row already; bookkeeping columns would only repeat it.
NOT_SHOWN = {"updated_by", "uploaded_by", "created_by", "version", "file"}


def _plans_in(areas):
    return Plan.history.filter(area_id__in=areas.values("pk")).values("id")


def _items_in(areas):
    return PlanItem.history.filter(plan_id__in=_plans_in(areas)).values("id")


class Refs:
    """Objects named by a page of changes, loaded with one query per model whatever the page size."""

    def __init__(self):
        self.wanted = defaultdict(set)
        self.loaded = {}

    def want(self, model, pk):
        if pk is not None:
            self.wanted[model].add(pk)

    def load(self):
        for model, ids in self.wanted.items():
            self.loaded[model] = model._default_manager.order_by().in_bulk(ids)

    def get(self, model, pk):
        return self.loaded.get(model, {}).get(pk)

    def name(self, model, pk):
        obj = self.get(model, pk)
        if obj is None:
            return "—" if pk is None else f"#{pk}"
        if model is Indicator:
            return obj.code
        if model is Criterion:
            return str(obj.number)
        if model is get_user_model():
            return person_name(obj)
        if model is Area:
            return obj.full_name
        return str(obj)


@dataclass(frozen=True)
class Tracked:
    model: type
    # Q on the historical model: the rows whose object lies within `areas` (a queryset of Area).
    within: object
    # The objects a row's label names, as (attname, model); loaded in bulk before labels are made.
    refs: tuple
    label: object

    @property
    def key(self):
        return self.model._meta.model_name

    @property
    def verbose_name(self):
        return self.model._meta.verbose_name


def _in_areas(areas):
    return Q(area_id__in=areas.values("pk"))


def _yearly_result(model, target_attname, target_model, text):
    """A result an area keeps for a year (of an indicator, of a criterion): "<area> — <target> — năm <year>"."""
    return Tracked(
        model,
        _in_areas,
        (("area_id", Area), (target_attname, target_model)),
        lambda r, refs: (
            text
            % {
                "area": refs.name(Area, r.area_id),
                "target": refs.name(target_model, getattr(r, target_attname)),
                "year": r.year,
            }
        ),
    )


TRACKED = [
    _yearly_result(IndicatorResult, "indicator_id", Indicator, _("%(area)s — chỉ tiêu %(target)s — năm %(year)s")),
    _yearly_result(CriterionResult, "criterion_id", Criterion, _("%(area)s — tiêu chí %(target)s — năm %(year)s")),
    Tracked(
        Evidence,
        _in_areas,
        (("area_id", Area), ("indicator_id", Indicator)),
        lambda r, refs: (
            _("%(area)s — chỉ tiêu %(code)s — %(name)s")
            % {
                "area": refs.name(Area, r.area_id),
                "code": refs.name(Indicator, r.indicator_id),
                "name": r.original_name,
            }
        ),
    ),
    Tracked(
        Threshold,
        # A province's own thresholds belong to it; the national ones to no area (superusers see them unfiltered).
        lambda areas: Q(variant_id__in=CriteriaSet.objects.filter(province__in=areas.values("pk")).values("pk")),
        (("indicator_id", Indicator),),
        lambda r, refs: (
            _("Ngưỡng chỉ tiêu %(code)s: %(raw)s") % {"code": refs.name(Indicator, r.indicator_id), "raw": r.raw or "—"}
        ),
    ),
    Tracked(
        Plan,
        _in_areas,
        (("area_id", Area),),
        lambda r, refs: f"{refs.name(Area, r.area_id)} — {r.number + ' ' if r.number else ''}{r.title}",
    ),
    Tracked(
        PlanItem,
        lambda areas: Q(plan_id__in=_plans_in(areas)),
        (),
        lambda r, refs: r.title,
    ),
    Tracked(
        FundingLine,
        lambda areas: Q(item_id__in=_items_in(areas)),
        (("item_id", PlanItem), ("source_id", FundingSource)),
        lambda r, refs: f"{refs.name(PlanItem, r.item_id)} — {refs.name(FundingSource, r.source_id)}",
    ),
    Tracked(
        ProgressUpdate,
        lambda areas: Q(item_id__in=_items_in(areas)),
        (("item_id", PlanItem),),
        lambda r, refs: f"{refs.name(PlanItem, r.item_id)} — {vn_date(r.date)}",
    ),
    Tracked(
        Responsibility,
        _in_areas,
        (("area_id", Area), ("criterion_id", Criterion), ("indicator_id", Indicator)),
        lambda r, refs: (
            _("%(area)s — phân công %(target)s — năm %(year)s")
            % {
                "area": refs.name(Area, r.area_id),
                "target": refs.name(Indicator, r.indicator_id)
                if r.indicator_id
                else refs.name(Criterion, r.criterion_id)
                if r.criterion_id
                else _("cả bộ tiêu chí"),
                "year": r.year,
            }
        ),
    ),
]
BY_KEY = {t.key: t for t in TRACKED}


@dataclass(frozen=True)
class Filters:
    areas: object = None  # a queryset of Area, or None for no restriction (superusers only)
    username: str = ""
    since: datetime.date | None = None
    until: datetime.date | None = None
    model: str = ""


def history_for(tracked, filters):
    """The historical rows of one model that pass the filters."""
    rows = tracked.model.history.order_by()
    if filters.areas is not None:
        rows = rows.filter(tracked.within(filters.areas))
    if filters.username:
        rows = rows.filter(history_user__username=filters.username)
    if filters.since:
        rows = rows.filter(history_date__date__gte=filters.since)
    if filters.until:
        rows = rows.filter(history_date__date__lte=filters.until)
    return rows


def feed(filters):
    """(history_id, history_date, model index) of every change that passes the filters, newest first: one
    UNION ALL, so the database sorts and pages it."""
    chosen = [(i, t) for i, t in enumerate(TRACKED) if not filters.model or t.key == filters.model]
    parts = [
        history_for(t, filters)
        .annotate(kind=Value(i, IntegerField()))
        .values_list("history_id", "history_date", "kind")
        for i, t in chosen
    ]
    first, *rest = parts
    combined = first.union(*rest, all=True) if rest else first
    return combined.order_by("-history_date", "-kind", "-history_id")


@dataclass
class Change:
    when: datetime.datetime
    who: object
    model_name: str
    label: str
    type: str
    changes: list = field(default_factory=list)

    @property
    def type_label(self):
        return CHANGE_TYPES.get(self.type, self.type)


def _fields(model):
    """The fields a change lists: those a person edits, less the bookkeeping ones (NOT_SHOWN)."""
    return [f for f in model._meta.fields if f.editable and not f.primary_key and f.name not in NOT_SHOWN]


def load_changes(page_rows):
    """The Change rows for one page of `feed()`: records, their previous versions and the objects they name,
    each loaded in bulk."""
    records, previous = _load_records(page_rows)
    refs = _load_refs(records, previous)
    result = []
    for history_id, _when, kind in page_rows:
        record = records.get((kind, history_id))
        if record is not None:
            result.append(_change(TRACKED[kind], record, previous[kind, history_id], refs))
    return result


def _load_records(page_rows):
    """The page's records keyed by (kind, history_id), and for each edit ("~") the record just before it (else
    None): two queries per model."""
    by_kind = defaultdict(list)
    for history_id, _when, kind in page_rows:
        by_kind[kind].append(history_id)
    records, previous = {}, {}
    for kind, ids in by_kind.items():
        model = TRACKED[kind].model
        before = (
            model.history.filter(id=OuterRef("id"))
            .filter(
                Q(history_date__lt=OuterRef("history_date"))
                | Q(history_date=OuterRef("history_date"), history_id__lt=OuterRef("history_id"))
            )
            .order_by("-history_date", "-history_id")
            .values("history_id")[:1]
        )
        rows = list(
            model.history.filter(history_id__in=ids)
            .annotate(previous_id=Subquery(before))
            .select_related("history_user")
            .order_by()
        )
        wanted = [r.previous_id for r in rows if r.history_type == "~" and r.previous_id]
        older = model.history.order_by().in_bulk(wanted) if wanted else {}
        for r in rows:
            records[kind, r.history_id] = r
            previous[kind, r.history_id] = older.get(r.previous_id)
    return records, previous


def _load_refs(records, previous):
    """The objects the labels and the changed fields name (old and new values), one query per model."""
    refs = Refs()
    for (kind, history_id), record in records.items():
        tracked = TRACKED[kind]
        for attname, model in tracked.refs:
            refs.want(model, getattr(record, attname))
        old = previous[kind, history_id]
        if old is None:
            continue
        for field_obj in history.changed_fields(record, old, _fields(tracked.model)):
            if field_obj.is_relation:
                refs.want(field_obj.related_model, getattr(old, field_obj.attname))
                refs.want(field_obj.related_model, getattr(record, field_obj.attname))
    refs.load()
    return refs


def _change(tracked, record, old, refs):
    changes = [] if old is None else history.field_changes(record, old, _fields(tracked.model), name=refs.name)
    return Change(
        when=record.history_date,
        who=record.history_user,
        model_name=str(tracked.verbose_name),
        label=str(tracked.label(record, refs)),
        type=record.history_type,
        changes=changes,
    )
