from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from areas.models import Area
from assignments.models import Agency, Member
from criteria.models import Criterion, Indicator
from ntm_portal.form_tokens import FormTokenField
from ntm_portal.vietnamese import parse_vn_number, vn_number
from ntm_portal.widgets import VietnameseDateInput
from plans.models import FundingSource, ItemStatus, parse_deadline
from plans.services import FundingInput, ItemData


class VnDecimalField(forms.CharField):
    """A number typed the Vietnamese way: "1.250,5", "0,51", "80"."""

    def __init__(self, *, min_value=None, **kwargs):
        self.min_value = min_value
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}))
        super().__init__(**kwargs)

    def prepare_value(self, value):
        return vn_number(value) if isinstance(value, Decimal | int) else value

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        try:
            number = parse_vn_number(value)
        except ValueError:
            raise ValidationError(
                _("“%(value)s” không phải là số; viết như 1.250,5 (dấu chấm ngăn hàng nghìn, dấu phẩy thập phân)."),
                params={"value": value},
            )
        if self.min_value is not None and number < self.min_value:
            raise ValidationError(_("Số không được âm."))
        return number


class DeadlineField(forms.CharField):
    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        return parse_deadline(value)


def _people_near(plan):
    """Members and agencies of the plan's area and the areas above it: who may lead or help."""
    area = plan.area
    ids = [a for a in (area.pk, area.province_id, area.district_id, area.commune_id) if a]
    return Member.objects.filter(area_id__in=ids), Agency.objects.filter(area_id__in=ids)


class IndicatorSelect(forms.Select):
    """Each indicator option says its criterion (data-criterion), so that the page's script offers only the
    indicators of the chosen criterion; the form checks the pair again."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        instance = getattr(value, "instance", None)
        if instance is not None:
            option["attrs"]["data-criterion"] = instance.criterion_id
        return option


# A province's plan reaches thousands of communes and villages: the place of an item is typed (with suggestions
# from plans.views.place_suggestions as one types) and resolved here, never offered as one select of every unit.
PLACE_SUGGESTIONS = 10
PLACE_CHOICES_SHOWN = 5  # the units an ambiguous name lists in its error


def place_label(place):
    """How a place reads in the "Địa điểm thực hiện" box and is typed back: "thôn Đồng, xã An Dương"."""
    parent = place.parent
    return f"{place.full_name}, {parent.full_name}" if parent is not None else place.full_name


def _named(text, lookup, prefix=""):
    """Q for the areas `text` names — by name ("Đồng") or by kind and name ("thôn Đồng") — in any letter case.
    SQLite folds only ASCII letters, so the name is also tried with each word capitalised ("đồng" → "Đồng")."""
    words = text.split()
    q = Q()
    for split in range(min(len(words), 4)):  # kinds run to three words: "tổ dân phố"
        kind, name = " ".join(words[:split]), " ".join(words[split:])
        names = Q(**{f"{prefix}name__{lookup}": name}) | Q(**{f"{prefix}name__{lookup}": name.title()})
        q |= names & Q(**{f"{prefix}kind__iexact": kind}) if kind else names
    return q


def places_named(area, text, *, limit, partial=False):
    """At most `limit` units under `area` that `text` names: "Đồng", "thôn Đồng", "thôn Đồng, xã An Dương" (with the
    unit above) or a code; `partial` (suggestions as one types) finds names holding the text. One query."""
    name, _comma, parent = (part.strip() for part in text.partition(","))
    if not name:
        return []
    lookup = "icontains" if partial else "iexact"
    code = Q(code__startswith=name) if partial else Q(code=name)
    places = Area.objects.under(area).filter(_named(name, lookup) | code)
    if parent:
        places = places.filter(_named(parent, lookup, prefix="parent__"))
    return list(places.select_related("parent").order_by("level", "name", "pk")[:limit])


class PlaceField(forms.CharField):
    """The typed place; PlanItemForm.clean_area turns it into the unit it names."""

    widget = forms.TextInput(
        attrs={
            "list": "place-suggestions",
            "autocomplete": "off",
            "placeholder": _("Toàn địa bàn kế hoạch"),
            "hx-trigger": "input changed delay:300ms",
            "hx-target": "#place-suggestions",
            "hx-sync": "this:replace",
        }
    )

    def prepare_value(self, value):
        return place_label(value) if isinstance(value, Area) else value


class PlanItemForm(forms.Form):
    title = forms.CharField(label=_("Nội dung công việc"), max_length=500)
    criterion = forms.ModelChoiceField(
        label=_("Tiêu chí"), queryset=Criterion.objects.none(), required=False, empty_label=_("— Không gắn tiêu chí —")
    )
    indicator = forms.ModelChoiceField(
        label=_("Chỉ tiêu"),
        queryset=Indicator.objects.none(),
        required=False,
        widget=IndicatorSelect,
        empty_label=_("— Không gắn chỉ tiêu —"),
        help_text=_("Chỉ các chỉ tiêu của tiêu chí đã chọn."),
    )
    area = PlaceField(
        label=_("Địa điểm thực hiện"),
        required=False,
        help_text=_(
            "Để trống nếu làm trên toàn địa bàn kế hoạch; gõ tên thôn, xã (như “thôn Đồng, xã An Dương”) "
            "hoặc mã đơn vị."
        ),
    )
    quantity = VnDecimalField(label=_("Khối lượng"), required=False, min_value=0)
    unit = forms.CharField(label=_("Đơn vị tính"), max_length=60, required=False)
    target = forms.CharField(label=_("Chỉ tiêu cần đạt"), max_length=300, required=False)
    lead_member = forms.ModelChoiceField(
        label=_("Người chủ trì"), queryset=Member.objects.none(), required=False, empty_label=_("— Chưa chọn —")
    )
    lead_agency = forms.ModelChoiceField(
        label=_("Cơ quan chủ trì"), queryset=Agency.objects.none(), required=False, empty_label=_("— Chưa chọn —")
    )
    coordinator_members = forms.ModelMultipleChoiceField(
        label=_("Người phối hợp"), queryset=Member.objects.none(), required=False
    )
    coordinator_agencies = forms.ModelMultipleChoiceField(
        label=_("Cơ quan phối hợp"), queryset=Agency.objects.none(), required=False
    )
    start_date = forms.DateField(label=_("Bắt đầu"), required=False, widget=VietnameseDateInput)
    deadline = DeadlineField(
        label=_("Thời hạn"),
        required=False,
        help_text=_("Ví dụ: 15/3/2020, tháng 2/2020, Quý II/2020, năm 2020."),
    )
    status = forms.ChoiceField(label=_("Tình trạng"), choices=ItemStatus.choices)
    progress = forms.IntegerField(label=_("Tiến độ (%)"), min_value=0, max_value=100, initial=0)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    form_token = FormTokenField()
    description = forms.CharField(label=_("Mô tả"), widget=forms.Textarea(attrs={"rows": 2}), required=False)
    notes = forms.CharField(label=_("Ghi chú"), widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args, plan, item=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.plan = plan
        if item is not None:
            del self.fields["form_token"]  # an edit is guarded by its version instead
        criteria = Criterion.objects.all()
        indicators = Indicator.objects.select_related("criterion")
        if plan.criteria_set_id:
            national = plan.criteria_set.national_set
            criteria = criteria.filter(criteria_set=national)
            indicators = indicators.filter(criterion__criteria_set=national)
        self.fields["criterion"].queryset = criteria.order_by("number")
        self.fields["indicator"].queryset = indicators
        self.fields["area"].widget.attrs["hx-get"] = reverse("place_suggestions", args=[plan.pk])
        members, agencies = _people_near(plan)
        self.fields["lead_member"].queryset = members
        self.fields["coordinator_members"].queryset = members
        self.fields["lead_agency"].queryset = agencies
        self.fields["coordinator_agencies"].queryset = agencies

    @classmethod
    def initial_for(cls, item):
        return {
            "title": item.title,
            "criterion": item.criterion_id,
            "indicator": item.indicator_id,
            "area": item.area,
            "quantity": item.quantity,
            "unit": item.unit,
            "target": item.target,
            "lead_member": item.lead_member_id,
            "lead_agency": item.lead_agency_id,
            "coordinator_members": [m.pk for m in item.coordinator_members.all()],
            "coordinator_agencies": [a.pk for a in item.coordinator_agencies.all()],
            "start_date": item.start_date,
            "deadline": item.deadline_label,
            "status": item.status,
            "progress": item.progress,
            "description": item.description,
            "notes": item.notes,
            "version": item.version,
        }

    def clean_area(self):
        """The unit the typed text names under the plan's area, None when blank; an error says which units fit
        when several do, or that none does."""
        text = self.cleaned_data["area"]
        if not text:
            return None
        found = places_named(self.plan.area, text, limit=PLACE_CHOICES_SHOWN + 1)
        if len(found) == 1:
            return found[0]
        if not found:
            raise ValidationError(
                _(
                    "Không có địa bàn “%(place)s” thuộc %(area)s. Ghi tên như “thôn Đồng, xã An Dương” hoặc mã "
                    "đơn vị; để trống nếu làm trên toàn địa bàn."
                ),
                params={"place": text, "area": self.plan.area.full_name},
            )
        labels = [place_label(place) for place in found[:PLACE_CHOICES_SHOWN]]
        if len(set(labels)) < len(labels):
            labels = [f"{label} ({place.code})" for label, place in zip(labels, found, strict=False)]
        raise ValidationError(
            _(
                "Có nhiều địa bàn ứng với “%(place)s”: %(found)s. Ghi thêm đơn vị cấp trên, như “%(example)s”, "
                "hoặc mã đơn vị."
            ),
            params={
                "place": text,
                "found": "; ".join(labels) + ("…" if len(found) > PLACE_CHOICES_SHOWN else ""),
                "example": place_label(found[0]),
            },
        )

    def clean(self):
        data = super().clean()
        if data.get("lead_member") and data.get("lead_agency"):
            self.add_error("lead_agency", _("Chỉ chọn một người chủ trì hoặc một cơ quan chủ trì, không chọn cả hai."))
        criterion, indicator = data.get("criterion"), data.get("indicator")
        if criterion and indicator and indicator.criterion_id != criterion.pk:
            self.add_error(
                "indicator",
                _("Chỉ tiêu %(code)s không thuộc tiêu chí %(number)s đã chọn.")
                % {"code": indicator.code, "number": criterion.number},
            )
        return data

    def item_data(self, *, position=None):
        data = {name: value for name, value in self.cleaned_data.items() if name in ItemData.__dataclass_fields__}
        return ItemData(**data, position=position)


class FundingLineForm(forms.Form):
    # A plain choice list built once per page: a ModelChoiceField would query the sources once per row.
    source = forms.TypedChoiceField(label=_("Nguồn vốn"), coerce=int, required=False, empty_value=None)
    planned = VnDecimalField(label=_("Vốn kế hoạch (triệu đồng)"), required=False, min_value=0)
    disbursed = VnDecimalField(label=_("Đã giải ngân (triệu đồng)"), required=False, min_value=0)

    def __init__(self, *args, sources, **kwargs):
        super().__init__(*args, **kwargs)
        self.sources = sources
        self.fields["source"].choices = [("", "—"), *((s.pk, s.name) for s in sources.values())]

    def clean(self):
        data = super().clean()
        if (data.get("planned") is not None or data.get("disbursed") is not None) and not data.get("source"):
            self.add_error("source", _("Chọn nguồn vốn cho dòng này."))
        return data


class BaseFundingFormSet(forms.BaseFormSet):
    def clean(self):
        if any(self.errors):
            return
        seen = {}
        for number, form in enumerate(self.forms, start=1):
            source = form.cleaned_data.get("source")
            if not source or form.cleaned_data.get("DELETE"):
                continue
            if source in seen:
                raise ValidationError(
                    _("Dòng vốn %(number)s trùng nguồn vốn với dòng %(first)s."),
                    params={"number": number, "first": seen[source]},
                )
            seen[source] = number

    def funding(self):
        return [
            FundingInput(
                source=form.sources[form.cleaned_data["source"]],
                planned=form.cleaned_data.get("planned"),
                disbursed=form.cleaned_data.get("disbursed"),
            )
            for form in self.forms
            if form.cleaned_data.get("source") and not form.cleaned_data.get("DELETE")
        ]


# Three empty lines without JavaScript (a plan item may draw on many sources: Hùng Mỹ's uses nine); the page's
# script adds more, one per click on "Thêm dòng vốn".
FundingFormSet = forms.formset_factory(FundingLineForm, formset=BaseFundingFormSet, extra=3, can_delete=True)


def funding_sources(item=None):
    """Active sources, plus any inactive one the item already uses, keyed by id."""
    query = Q(is_active=True)
    if item is not None and item.pk:
        query |= Q(lines__item=item)
    return {s.pk: s for s in FundingSource.objects.filter(query).distinct()}


class ProgressForm(forms.Form):
    date = forms.DateField(label=_("Ngày"), widget=VietnameseDateInput)
    progress = forms.IntegerField(label=_("Tiến độ (%)"), min_value=0, max_value=100)
    status = forms.ChoiceField(
        label=_("Tình trạng"),
        required=False,
        choices=[("", _("Theo tiến độ")), *ItemStatus.choices],
    )
    done = forms.CharField(label=_("Kết quả đã làm"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    difficulties = forms.CharField(
        label=_("Khó khăn, vướng mắc"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    form_token = FormTokenField()
