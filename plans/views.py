from decimal import Decimal
from itertools import groupby

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, F
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from areas import access, timeline
from areas.views import breadcrumbs_for, paged
from ntm_portal import form_tokens
from ntm_portal.vietnamese import vn_number
from plans import services
from plans.forms import (
    PLACE_SUGGESTIONS,
    FundingFormSet,
    PlanItemForm,
    ProgressForm,
    funding_sources,
    place_label,
    places_named,
)
from plans.models import Plan, PlanItem, PlanItemQuerySet

# Every list of these pages is paged (issue 19). A province's plan page lists the plans of every unit under it:
# each of its three lists is paged on its own GET parameter (trang, trang_cap_tren, trang_truoc).
PLANS_PAGE_SIZE = 20
ITEMS_PAGE_SIZE = 25
# A plan's items, grouped by criterion: a district's plan has hundreds.
PLAN_ITEMS_PAGE_SIZE = 50
UPDATES_PAGE_SIZE = 20


def _crumbs(user, area, *extra):
    crumbs = breadcrumbs_for(user, area)
    crumbs.append({"label": _("Kế hoạch"), "url": reverse("plan_list", args=[area.pk])})
    return crumbs + list(extra)


def _plan_for(user, plan_id, *, edit=False):
    """The plan if the user may see (or edit) its area; 404 otherwise."""
    plan = get_object_or_404(Plan.objects.select_related("criteria_set"), pk=plan_id)
    plan.area = access.get_area(user, plan.area_id, edit=edit)
    return plan


def _item_for(user, item_id, *, edit=False):
    """The item if the user may see its plan's area, or (to read) its place of work: a district's item for a
    commune is read by the commune's officer. Editing stays with the editors of the plan's area; else 404."""
    item = get_object_or_404(
        PlanItem.objects.select_related(
            "plan",
            "plan__area",
            "plan__criteria_set",
            "criterion",
            "indicator",
            "area__parent",
            "lead_member",
            "lead_agency",
        ),
        pk=item_id,
    )
    if edit or item.area is None or not access.can_view(user, item.area):
        item.plan.area = access.get_area(user, item.plan.area_id, edit=edit)
    return item


def _past_plans(request, area):
    """A page (?trang_truoc=) of the plans of the units `area` was formed from (transitively, README “Bản đồ theo
    thời gian”) that the user reads, each under its own unit's name: their pages are read only, edits stay with the
    unit's own plans. (None, "") when there are none to read."""
    relatives = [r for r in timeline.came_from(area) if access.can_view(request.user, r.area)]
    if not relatives:
        return None, ""
    partial = {r.area.pk: r.partial for r in relatives}
    plans = Plan.objects.within_any([r.area for r in relatives]).with_totals()
    plans = plans.select_related("area__province", "area__district").order_by("-year", "area__name", "number", "pk")
    page, query = paged(request, plans, PLANS_PAGE_SIZE, "trang_truoc")
    for plan in page.object_list:
        # A plan of a village or a commune below a predecessor: that predecessor says whether only part merged.
        above = (plan.area_id, plan.area.commune_id, plan.area.district_id, plan.area.province_id)
        plan.partial_merge = next((partial[pk] for pk in above if pk in partial), False)
    return page, query


def _mark_readable_plans(user, items):
    """Each item learns whether its plan may be opened: a commune officer reads a district's item for the
    commune, not the district's whole plan. Roles are loaded once per request: no query per item."""
    items = list(items)
    for item in items:
        item.plan_readable = access.can_view(user, item.plan.area)
    return items


@login_required
def plan_list(request, area_id):
    area = access.get_area(request.user, area_id)
    plans = Plan.objects.within(area).with_totals().select_related("area")
    plans, plans_query = paged(request, plans.order_by("-year", "area__name", "number", "pk"), PLANS_PAGE_SIZE)
    today = timezone.localdate()
    items = PlanItem.objects.concerning(area)
    # A district's (or province's) items for this area or its units, whose plans are listed elsewhere.
    from_above, from_above_query = paged(request, items.from_above(area).for_lists(), ITEMS_PAGE_SIZE, "trang_cap_tren")
    past_plans, past_query = _past_plans(request, area)
    return render(
        request,
        "plans/plan_list.html",
        {
            "area": area,
            "plans": plans,
            "plans_query": plans_query,
            "from_above_page": from_above,
            "items_from_above": _mark_readable_plans(request.user, from_above.object_list),
            "from_above_query": from_above_query,
            "past_plans": past_plans,
            "past_query": past_query,
            "today": today,
            "overdue_count": items.overdue(today).count(),
            "due_count": items.due_in_month(today).count(),
            "can_edit": access.can_edit(request.user, area),
            "breadcrumbs": _crumbs(request.user, area),
        },
    )


@login_required
def plan_detail(request, plan_id):
    plan = _plan_for(request.user, plan_id)
    by_criterion = F("criterion__number").asc(nulls_last=True)
    items = (
        plan.items.select_related("criterion", "indicator", "area", "lead_member", "lead_agency")
        .prefetch_related("funding_lines__source", "coordinator_members", "coordinator_agencies")
        .order_by(by_criterion, "position", "pk")
    )
    page, query = paged(request, items, PLAN_ITEMS_PAGE_SIZE)
    groups = [(criterion, list(rows)) for criterion, rows in groupby(page.object_list, key=lambda i: i.criterion)]
    totals = list(plan.funding_totals())
    grand = {
        "planned": sum((row["planned"] for row in totals), start=Decimal(0)),
        "disbursed": sum((row["disbursed"] for row in totals), start=Decimal(0)),
    }
    return render(
        request,
        "plans/plan_detail.html",
        {
            "plan": plan,
            "groups": groups,
            "page": page,
            "query": query,
            "index": _criterion_index(plan, by_criterion),
            "totals": totals,
            "grand": grand,
            "today": timezone.localdate(),
            "can_edit": access.can_edit(request.user, plan.area),
            "breadcrumbs": _crumbs(request.user, plan.area, {"label": plan.number or plan.title[:40]}),
        },
    )


def _criterion_index(plan, by_criterion):
    """Each criterion of the plan's items (None: the general tasks) with its item count and the page its group
    starts on, counted in one query: the index links across pages."""
    counts = plan.items.values("criterion__number", "criterion__name").annotate(n=Count("pk")).order_by(by_criterion)
    index, seen = [], 0
    for row in counts:
        number, name, count = row["criterion__number"], row["criterion__name"], row["n"]
        index.append({"number": number, "name": name, "count": count, "page": seen // PLAN_ITEMS_PAGE_SIZE + 1})
        seen += count
    return index


def _item_form(request, plan, item=None):
    sources = funding_sources(item)
    done_url = reverse("plan_detail", args=[plan.pk])
    if request.method == "POST":
        form = PlanItemForm(request.POST, plan=plan, item=item)
        formset = FundingFormSet(request.POST, prefix="funding", form_kwargs={"sources": sources})
        if form.is_valid() and formset.is_valid():
            try:
                if item is None:
                    item = services.add_item(
                        user=request.user,
                        plan=plan,
                        data=form.item_data(),
                        funding=formset.funding(),
                        form_token=form.cleaned_data["form_token"],
                        target_url=done_url,
                    )
                    messages.success(request, _("Đã thêm nội dung “%(title)s”.") % {"title": item.title})
                else:
                    services.update_item(
                        user=request.user,
                        item=item,
                        data=form.item_data(position=item.position),
                        funding=formset.funding(),
                        expected_version=form.cleaned_data.get("version"),
                    )
                    messages.success(request, _("Đã lưu nội dung “%(title)s”.") % {"title": item.title})
                return redirect(done_url)
            except form_tokens.AlreadySubmitted as exc:
                return form_tokens.redirect_already_submitted(request, exc, done_url)
            except ValidationError as exc:
                for name, errors in exc.message_dict.items():
                    for error in errors:
                        form.add_error(name if name in form.fields else None, error)
    elif item is None:
        form = PlanItemForm(plan=plan)
        formset = FundingFormSet(prefix="funding", form_kwargs={"sources": sources})
    else:
        form = PlanItemForm(initial=PlanItemForm.initial_for(item), plan=plan, item=item)
        lines = [
            {"source": line.source_id, "planned": vn_number(line.planned), "disbursed": vn_number(line.disbursed)}
            for line in item.funding_lines.all()
        ]
        formset = FundingFormSet(prefix="funding", initial=lines, form_kwargs={"sources": sources})
    title = _("Sửa nội dung") if item else _("Thêm nội dung vào kế hoạch")
    return render(
        request,
        "plans/item_form.html",
        {
            "plan": plan,
            "item": item,
            "form": form,
            "formset": formset,
            "title": title,
            "breadcrumbs": _crumbs(
                request.user,
                plan.area,
                {"label": plan.number or plan.title[:40], "url": reverse("plan_detail", args=[plan.pk])},
                {"label": title},
            ),
        },
    )


@login_required
def place_suggestions(request, plan_id):
    """The suggestions of the plan-item form's "Địa điểm thực hiện" box as one types (htmx fills its datalist): at
    most PLACE_SUGGESTIONS units under the plan's area whose name holds the text, for those who edit the plan."""
    plan = _plan_for(request.user, plan_id, edit=True)
    text = request.GET.get("area", "").strip()
    places = places_named(plan.area, text, limit=PLACE_SUGGESTIONS, partial=True) if text else []
    return render(request, "plans/_place_options.html", {"labels": [place_label(place) for place in places]})


@login_required
def item_create(request, plan_id):
    plan = _plan_for(request.user, plan_id, edit=True)
    return _item_form(request, plan)


@login_required
def item_edit(request, item_id):
    item = _item_for(request.user, item_id, edit=True)
    return _item_form(request, item.plan, item)


@login_required
def item_detail(request, item_id):
    item = _item_for(request.user, item_id)
    plan = item.plan
    can_edit = access.can_edit(request.user, plan.area)
    plan_readable = access.can_view(request.user, plan.area)
    form = None
    if can_edit:
        if request.method == "POST":
            form = ProgressForm(request.POST)
            done_url = reverse("item_detail", args=[item.pk])
            if form.is_valid():
                try:
                    services.record_progress(user=request.user, item=item, target_url=done_url, **form.cleaned_data)
                except form_tokens.AlreadySubmitted as exc:
                    return form_tokens.redirect_already_submitted(request, exc, done_url)
                except ValidationError as exc:
                    for error in exc.messages:
                        form.add_error(None, error)
                else:
                    messages.success(request, _("Đã ghi nhận tiến độ."))
                    return redirect(done_url)
        else:
            form = ProgressForm(initial={"date": timezone.localdate(), "progress": item.progress})
    elif request.method == "POST":
        # Readers may see the item, but for writing it does not exist.
        raise Http404
    updates, updates_query = paged(
        request, item.updates.select_related("created_by").order_by("-date", "-pk"), UPDATES_PAGE_SIZE
    )
    return render(
        request,
        "plans/item_detail.html",
        {
            "item": item,
            "plan": plan,
            "lines": item.funding_lines.select_related("source").order_by("source__position"),
            "coordinators": [*item.coordinator_members.all(), *item.coordinator_agencies.all()],
            "updates": updates,
            "updates_query": updates_query,
            "form": form,
            "can_edit": can_edit,
            "plan_readable": plan_readable,
            "today": timezone.localdate(),
            "breadcrumbs": _crumbs(
                request.user,
                plan.area if plan_readable else item.area,
                {"label": plan.number or plan.title[:40], "url": reverse("plan_detail", args=[plan.pk])}
                if plan_readable
                else {"label": plan.number or plan.title[:40]},
                {"label": item.title[:50]},
            ),
        },
    )


def _item_list(request, *, items, title, area=None, empty):
    """A list of plan items, searchable by title (?tim=) and paged (?trang=): a district has hundreds."""
    search = request.GET.get("tim", "").strip()
    if search:
        items = items.filter(title__icontains=search)
    page, query = paged(request, items.for_lists(), ITEMS_PAGE_SIZE)
    return render(
        request,
        "plans/item_list.html",
        {
            "items": _mark_readable_plans(request.user, page.object_list),
            "page": page,
            "query": query,
            "search": search,
            "title": title,
            "area": area,
            "empty": empty,
            "today": timezone.localdate(),
            "breadcrumbs": _crumbs(request.user, area, {"label": title}) if area else None,
        },
    )


@login_required
def my_items(request):
    items = PlanItem.objects.led_by_user(request.user).concerning(access.visible_areas(request.user))
    return _item_list(
        request,
        items=items.exclude(status="cancelled"),
        title=_("Việc của tôi"),
        empty=_("Chưa có nội dung nào giao cho bạn chủ trì."),
    )


def _deadline_list(request, area_id, pick, *, title, empty):
    """The plan items in and under an area that `pick` (a PlanItemQuerySet method taking today) keeps."""
    area = access.get_area(request.user, area_id)
    items = pick(PlanItem.objects.concerning(area), timezone.localdate())
    return _item_list(request, items=items, title=title, area=area, empty=empty)


@login_required
def overdue_items(request, area_id):
    return _deadline_list(
        request, area_id, PlanItemQuerySet.overdue, title=_("Quá hạn"), empty=_("Không có nội dung nào quá hạn.")
    )


@login_required
def due_items(request, area_id):
    return _deadline_list(
        request,
        area_id,
        PlanItemQuerySet.due_in_month,
        title=_("Đến hạn tháng này"),
        empty=_("Không có nội dung nào đến hạn trong tháng này."),
    )
