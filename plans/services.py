"""Writes to plans: every change is validated whole, saved all-or-nothing, and lands in the history."""

import datetime
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from areas.models import Area
from assignments.models import Agency, Member
from criteria.models import CriteriaSet, Criterion, Indicator
from ntm_portal import form_tokens
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


def _store_item(*, user, item: PlanItem, data: ItemData, funding: Sequence[FundingInput] | None) -> PlanItem:
    values = vars(data).copy()
    coordinator_members = values.pop("coordinator_members")
    coordinator_agencies = values.pop("coordinator_agencies")
    item.deadline = values.pop("deadline")
    position = values.pop("position")
    for name, value in values.items():
        setattr(item, name, value)
    if position is not None:
        item.position = position
    elif item.pk is None:
        item.position = (item.plan.items.aggregate(last=Max("position"))["last"] or 0) + 1

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
