"""Writes to plans: every change is validated whole, saved all-or-nothing, and lands in the history."""

import datetime
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from areas.models import Area
from assignments.models import Agency, Member
from criteria.models import CriteriaSet, Criterion, Indicator
from ntm_portal import form_tokens
from ntm_portal.bulk import create_with_history, update_with_history
from ntm_portal.vietnamese import parse_vn_number, stale_edit_message
from plans.models import (
    Deadline,
    FundingLine,
    FundingSource,
    ItemStatus,
    Plan,
    PlanItem,
    PlanStatus,
    ProgressUpdate,
)

# ---------------------------------------------------------------- plans


@dataclass
class PlanData:
    title: str
    year: int
    number: str = ""
    issued_on: datetime.date | None = None
    issued_by: str = ""
    signer: str = ""
    legal_basis: str = ""
    criteria_set: CriteriaSet | None = None
    status: str = PlanStatus.DRAFT
    source: str = ""
    notes: str = ""


def _apply(obj, data):
    for name, value in vars(data).items():
        setattr(obj, name, value)


@transaction.atomic
def create_plan(*, user, area: Area, data: PlanData) -> Plan:
    plan = Plan(area=area)
    _apply(plan, data)
    plan.full_clean()
    plan._history_user = user
    plan.save()
    return plan


@transaction.atomic
def update_plan(*, user, plan: Plan, data: PlanData) -> Plan:
    _apply(plan, data)
    plan.full_clean()
    plan._history_user = user
    plan.save()
    return plan


# ---------------------------------------------------------------- items and their money


@dataclass
class ItemData:
    title: str
    description: str = ""
    criterion: Criterion | None = None
    indicator: Indicator | None = None
    area: Area | None = None
    quantity: Decimal | None = None
    unit: str = ""
    target: str = ""
    lead_member: Member | None = None
    lead_agency: Agency | None = None
    coordinator_members: Sequence[Member] = field(default_factory=list)
    coordinator_agencies: Sequence[Agency] = field(default_factory=list)
    start_date: datetime.date | None = None
    deadline: Deadline | None = None
    status: str = ItemStatus.NOT_STARTED
    progress: int = 0
    position: int | None = None
    notes: str = ""


@dataclass(frozen=True)
class FundingInput:
    """One funding line as entered: amounts may be Decimals or Vietnamese-written text ("1.250,5")."""

    source: FundingSource | None
    planned: Decimal | str | None = None
    disbursed: Decimal | str | None = None


def _amount(raw):
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return Decimal(0)
    return parse_vn_number(raw)


def _build_lines(item, funding):
    """FundingLine objects for the inputs, or the list of errors, each naming its line and field."""
    lines, errors, seen = [], [], set()
    for number, entry in enumerate(funding, start=1):
        line = FundingLine(item=item, source=entry.source)
        line_errors = []
        for name in ("planned", "disbursed"):
            raw = getattr(entry, name)
            try:
                setattr(line, name, _amount(raw))
            except ValueError:
                line_errors.append((name, _("“%(value)s” không phải là số; viết như 1.250,5.") % {"value": raw}))
                setattr(line, name, Decimal(0))
        if entry.source is None:
            line_errors.append(("source", _("Chọn nguồn vốn.")))
        elif entry.source.pk in seen:
            line_errors.append(("source", _("Nguồn vốn này đã có ở dòng trên.")))
        else:
            seen.add(entry.source.pk)
        try:
            line.full_clean(exclude=["item", "source"], validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            line_errors.extend((name, message) for name, messages in exc.message_dict.items() for message in messages)
        for name, message in line_errors:
            label = FundingLine._meta.get_field(name).verbose_name
            errors.append(
                _("Dòng vốn %(number)s, %(field)s: %(message)s")
                % {"number": number, "field": label, "message": message}
            )
        lines.append(line)
    return lines, errors


def _put_data(item: PlanItem, data: ItemData, next_position) -> tuple:
    """The item's fields set from `data` (a new item without a position goes last: `next_position()`); returns the
    coordinators, which are set after the item is saved."""
    values = vars(data).copy()
    coordinators = (values.pop("coordinator_members"), values.pop("coordinator_agencies"))
    item.deadline = values.pop("deadline")
    position = values.pop("position")
    for name, value in values.items():
        setattr(item, name, value)
    if position is not None:
        item.position = position
    elif item.pk is None:
        item.position = next_position()
    return coordinators


def _store_item(*, user, item: PlanItem, data: ItemData, funding: Sequence[FundingInput] | None) -> PlanItem:
    coordinator_members, coordinator_agencies = _put_data(
        item, data, lambda: (item.plan.items.aggregate(last=Max("position"))["last"] or 0) + 1
    )
    errors = {}
    try:
        item.full_clean()
    except ValidationError as exc:
        errors.update(exc.message_dict)
    lines = []
    if funding is not None:
        lines, funding_errors = _build_lines(item, funding)
        if funding_errors:
            errors["funding"] = funding_errors
    if errors:
        raise ValidationError(errors)

    item._history_user = user
    item.updated_by = user
    item.save()
    item.coordinator_members.set(coordinator_members)
    item.coordinator_agencies.set(coordinator_agencies)
    if funding is not None:
        _replace_lines(user=user, item=item, lines=lines)
    return item


def _replace_lines(*, user, item, lines):
    existing = {line.source_id: line for line in item.funding_lines.all()}
    for line in lines:
        current = existing.pop(line.source_id, None)
        if current is None:
            line.item = item
            line._history_user = user
            line.save()
        elif (current.planned, current.disbursed) != (line.planned, line.disbursed):
            current.planned, current.disbursed = line.planned, line.disbursed
            current._history_user = user
            current.save()
    for stale in existing.values():
        stale._history_user = user
        stale.delete()


@transaction.atomic
def add_item(
    *,
    user,
    plan: Plan,
    data: ItemData,
    funding: Sequence[FundingInput] = (),
    form_token: uuid.UUID | None = None,
    target_url: str = "",
) -> PlanItem:
    """Add an item with its funding lines; a bad line saves nothing and its error names the line and field.

    A `form_token` already spent raises `form_tokens.AlreadySubmitted` and adds nothing.
    """
    form_tokens.spend(user=user, token=form_token, target_url=target_url)
    return _store_item(user=user, item=PlanItem(plan=plan), data=data, funding=funding)


@transaction.atomic
def update_item(
    *,
    user,
    item: PlanItem,
    data: ItemData,
    funding: Sequence[FundingInput] | None = None,
    expected_version: int | None = None,
) -> PlanItem:
    """Change an item; with `funding`, its lines become exactly those given (None leaves the money alone).

    `expected_version` is the version the edit form was opened on: a newer one means someone else saved in
    between, and their change is kept instead of being silently overwritten.
    """
    item = PlanItem.objects.select_for_update(of=("self",)).select_related("plan", "updated_by").get(pk=item.pk)
    if expected_version is not None and item.version != expected_version:
        message = stale_edit_message(what=_("Nội dung này"), who=item.updated_by, when=item.updated_at)
        raise ValidationError({NON_FIELD_ERRORS: message})
    item.version += 1
    return _store_item(user=user, item=item, data=data, funding=funding)


# ---------------------------------------------------------------- many items at once (a Biểu 03 read back)


@dataclass
class ItemWrite:
    """One item of store_items: a new item of `plan` (`item` None), or a change to `item` as it was read at
    `expected_version`; `line` is the row of the file it came from, named in refusals."""

    data: ItemData
    funding: Sequence[FundingInput]
    plan: Plan | None = None
    item: PlanItem | None = None
    expected_version: int | None = None
    line: int | None = None


# The relations of ItemData are objects the caller read itself: checking that each exists would cost a query
# per item; the item's own rules (clean) still check them against each other and the plan.
_ITEM_RELATIONS = [f.name for f in PlanItem._meta.concrete_fields if f.is_relation]
_ITEM_FIELDS = [
    f.name for f in PlanItem._meta.concrete_fields if not f.primary_key and f.name not in {"plan"} and f.editable
] + ["version", "updated_by", "updated_at"]


def _line_errors(line, exc):
    messages = exc.message_dict.items() if hasattr(exc, "error_dict") else [(None, exc.messages)]
    out = []
    for name, found in messages:
        if name in (None, NON_FIELD_ERRORS):
            out += [_("Dòng %(line)s: %(message)s") % {"line": line, "message": m} for m in found]
        elif name == "funding":
            out += [_("Dòng %(line)s, %(message)s") % {"line": line, "message": m} for m in found]
        else:
            label = PlanItem._meta.get_field(name).verbose_name
            out += [
                _("Dòng %(line)s, %(field)s: %(message)s") % {"line": line, "field": label, "message": m} for m in found
            ]
    return out


def _checked_item(write, item, next_position):
    """`item` with the write's data on it, checked as _store_item checks it (ValidationError otherwise), and
    its funding lines built."""

    def following():
        next_position[item.plan_id] += 1
        return next_position[item.plan_id] - 1

    _put_data(item, write.data, following)
    errors = {}
    try:
        item.full_clean(exclude=_ITEM_RELATIONS, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    lines, funding_errors = _build_lines(item, write.funding)
    if funding_errors:
        errors["funding"] = funding_errors
    if errors:
        raise ValidationError(errors)
    return lines


def _line_changes(items_lines, stored_lines):
    """(to create, to update, to delete) so that each item's lines become exactly the given ones."""
    create, update, delete = [], [], []
    for item, lines in items_lines:
        existing = stored_lines.get(item.pk, {}).copy()
        for line in lines:
            current = existing.pop(line.source_id, None)
            if current is None:
                line.item = item
                create.append(line)
            elif (current.planned, current.disbursed) != (line.planned, line.disbursed):
                current.planned, current.disbursed = line.planned, line.disbursed
                update.append(current)
        delete += existing.values()
    return create, update, delete


@transaction.atomic
def store_items(*, user, writes: Sequence[ItemWrite]) -> list[PlanItem]:
    """Add and change many items with their money in one go (a district's Biểu 03 has thousands), with the
    checks of add_item / update_item, the version check of update_item, and a history row per item and line
    with `user` — written in bulk, all or nothing. Refusals list every bad row: "Dòng 14, …".

    Each change's funding lines become exactly the given ones (as update_item with `funding`); the
    coordinators are set only where they differ from the stored ones.
    """
    writes = list(writes)
    stored = PlanItem.objects.select_for_update(of=("self",)).select_related("plan", "updated_by")
    stored = stored.prefetch_related("coordinator_members", "coordinator_agencies")
    stored = stored.in_bulk([w.item.pk for w in writes if w.item is not None])
    new_plans = {w.plan.pk for w in writes if w.item is None}
    last = PlanItem.objects.filter(plan_id__in=new_plans).values("plan_id").annotate(last=Max("position"))
    next_position = dict.fromkeys(new_plans, 1) | {r["plan_id"]: r["last"] + 1 for r in last}
    errors, created, changed, items_lines = [], [], [], []
    for write in writes:
        item = stored[write.item.pk] if write.item is not None else PlanItem(plan=write.plan)
        if write.item is not None and write.expected_version not in (None, item.version):
            message = stale_edit_message(what=_("Nội dung này"), who=item.updated_by, when=item.updated_at)
            errors.append(_("Dòng %(line)s: %(message)s") % {"line": write.line, "message": message})
            continue
        try:
            lines = _checked_item(write, item, next_position)
        except ValidationError as exc:
            errors += _line_errors(write.line, exc)
            continue
        (changed if item.pk else created).append(item)
        items_lines.append((item, lines))
    if errors:
        raise ValidationError(errors)
    _write_items(user=user, created=created, changed=changed)
    _write_lines(user=user, items_lines=items_lines, stored=stored)
    for write, (item, _lines) in zip(writes, items_lines, strict=True):
        _set_coordinators(item, write.data, stored=item.pk in stored)
    return [item for item, _lines in items_lines]


def _write_items(*, user, created, changed):
    now = timezone.now()
    for item in created + changed:
        item.updated_by = user
        item.updated_at = now
    for item in changed:
        item.version += 1
    create_with_history(created, PlanItem, user=user, now=now)
    update_with_history(changed, PlanItem, _ITEM_FIELDS, user=user, now=now)


def _write_lines(*, user, items_lines, stored):
    stored_lines = {}
    for line in FundingLine.objects.filter(item_id__in=stored):
        stored_lines.setdefault(line.item_id, {})[line.source_id] = line
    create, update, delete = _line_changes(items_lines, stored_lines)
    now = timezone.now()
    create_with_history(create, FundingLine, user=user, now=now)
    update_with_history(update, FundingLine, ["planned", "disbursed"], user=user, now=now)
    for stale in delete:  # rare: a line with nothing planned and nothing paid; its history row names the user
        stale._history_user = user
        stale.delete()


def _set_coordinators(item, data, *, stored):
    for name in ("coordinator_members", "coordinator_agencies"):
        wanted = {obj.pk for obj in getattr(data, name)}
        current = {obj.pk for obj in getattr(item, name).all()} if stored else set()
        if wanted != current:
            getattr(item, name).set(wanted)


# ---------------------------------------------------------------- progress


@transaction.atomic
def record_progress(
    *,
    user,
    item: PlanItem,
    date: datetime.date,
    progress: int,
    done: str = "",
    difficulties: str = "",
    status: str = "",
    form_token: uuid.UUID | None = None,
    target_url: str = "",
) -> ProgressUpdate:
    """Add a dated update; the item then takes the progress and status of its latest update.

    A back-dated entry joins the timeline without overriding a newer one. A `form_token` already spent
    raises `form_tokens.AlreadySubmitted` and records nothing.
    """
    form_tokens.spend(user=user, token=form_token, target_url=target_url)
    item = PlanItem.objects.select_for_update().get(pk=item.pk)
    update = ProgressUpdate(
        item=item, date=date, progress=progress, done=done, difficulties=difficulties, status=status, created_by=user
    )
    update.full_clean()
    update._history_user = user
    update.save()
    latest = item.updates.order_by("-date", "-pk").first()
    new_status = latest.resulting_status
    if (item.progress, item.status) != (latest.progress, new_status):
        item.progress, item.status = latest.progress, new_status
        item.version += 1
        item.updated_by = user
        item._history_user = user
        item.save(update_fields=["progress", "status", "version", "updated_by", "updated_at"])
    return update
