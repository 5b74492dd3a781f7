from django import forms
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from criteria import evaluation
from criteria.models import AssessedStatus, IndicatorKind
from ntm_portal.vietnamese import parse_vn_number, parse_vn_percent, parse_vn_ratio, vn_number

BAD_NUMBER = _("Số không hợp lệ. Dùng dấu phẩy cho phần thập phân và dấu chấm ngăn hàng nghìn, ví dụ 90,3 hoặc 1.276.")


NOT_A_RATIO = _(
    "Chỉ tiêu này ghi một số (ví dụ 1.276), không ghi tỷ lệ tử số/mẫu số. Dùng dấu phẩy cho phần thập phân."
)
BAD_RATIO = _("“%(value)s” không đọc được thành tử số/mẫu số. Viết như 1.276/1.413, hoặc ghi vào ô Tử số và ô Mẫu số.")


# ---------------------------------------------------------------- widgets written without templates


def _attrs(attrs):
    """django/forms/widgets/attrs.html."""
    return "".join(
        f" {conditional_escape(name)}"
        if value is True
        else f' {conditional_escape(name)}="{conditional_escape(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


def _input(widget):
    """django/forms/widgets/input.html (text, hidden, checkbox, and a radio button)."""
    value = "" if widget["value"] is None else f' value="{conditional_escape(widget["value"])}"'
    kind, name = conditional_escape(widget["type"]), conditional_escape(widget["name"])
    return f'<input type="{kind}" name="{name}"{value}{_attrs(widget["attrs"])}>'


def _textarea(widget):
    value = conditional_escape(widget["value"]) if widget["value"] else ""
    return f'<textarea name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>\n{value}</textarea>'


def _select(widget):
    """django/forms/widgets/select.html with select_option.html, the options without groups."""
    options = "".join(
        f'\n  <option value="{conditional_escape(option["value"])}"{_attrs(option["attrs"])}>'
        f"{conditional_escape(option['label'])}</option>\n"
        for _group, choices, _index in widget["optgroups"]
        for option in choices
    )
    return f'<select name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>{options}\n</select>'


_WRITERS = {
    "django/forms/widgets/text.html": _input,
    "django/forms/widgets/hidden.html": _input,
    "django/forms/widgets/checkbox.html": _input,
    "django/forms/widgets/radio_option.html": _input,
    "django/forms/widgets/textarea.html": _textarea,
    "django/forms/widgets/select.html": _select,
}


class PlainWidget:
    """A widget written out in Python with the same HTML as Django's templates. The criterion page renders about
    twenty widgets per indicator and each went through the form renderer's templates (~40 % of the page's CPU);
    anything these writers do not cover (option groups, wrapped labels) still goes through the templates."""

    def _render(self, template_name, context, renderer=None):
        widget = context["widget"]
        write = _WRITERS.get(template_name)
        if write is None or widget.get("wrap_label") or any(group for group, _c, _i in widget.get("optgroups", ())):
            return super()._render(template_name, context, renderer)
        return mark_safe(write(widget))


class PlainTextInput(PlainWidget, forms.TextInput):
    pass


class PlainHiddenInput(PlainWidget, forms.HiddenInput):
    pass


class PlainCheckboxInput(PlainWidget, forms.CheckboxInput):
    pass


class PlainRadioSelect(PlainWidget, forms.RadioSelect):
    pass


class PlainTextarea(PlainWidget, forms.Textarea):
    pass


class PlainSelect(PlainWidget, forms.Select):
    pass


# ---------------------------------------------------------------- fields and forms


class VietnameseNumberField(forms.Field):
    """A number typed the Vietnamese way; a text input, since browsers' number inputs reject "1.276".

    With ``percent`` a trailing "%" is read ("90,3 %"); with ``ratio`` "1.276/1.413" is read as a
    (numerator, denominator) pair, which the form moves to the Tử số / Mẫu số fields."""

    widget = PlainTextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "maxlength": 30})

    def __init__(self, *, percent=False, ratio=False, **kwargs):
        self.percent, self.ratio = percent, ratio
        super().__init__(**kwargs)

    def to_python(self, value):
        value = (value or "").strip()
        if not value:
            return None
        if "/" in value:
            if not self.ratio:
                raise forms.ValidationError(NOT_A_RATIO, code="not_a_ratio")
            try:
                return parse_vn_ratio(value)
            except ValueError:
                raise forms.ValidationError(BAD_RATIO, code="invalid", params={"value": value})
        try:
            return parse_vn_percent(value) if self.percent else parse_vn_number(value)
        except ValueError:
            raise forms.ValidationError(BAD_NUMBER, code="invalid")


class IndicatorResultForm(forms.Form):
    """One indicator's result; the fields shown depend on the kind of indicator."""

    value = VietnameseNumberField(label=_("Giá trị"), required=False)
    numerator = VietnameseNumberField(label=_("Tử số"), required=False)
    denominator = VietnameseNumberField(label=_("Mẫu số"), required=False)
    boolean = forms.ChoiceField(label=_("Kết quả"), required=False, widget=PlainRadioSelect)
    not_applicable = forms.BooleanField(label=_("Không áp dụng"), required=False, widget=PlainCheckboxInput)
    assessed_status = forms.ChoiceField(
        label=_("Tự đánh giá"),
        required=False,
        choices=[("", _("— theo ngưỡng —")), *AssessedStatus.choices],
        widget=PlainSelect,
    )
    note = forms.CharField(label=_("Ghi chú"), required=False, widget=PlainTextarea(attrs={"rows": 2}))
    version = forms.IntegerField(widget=PlainHiddenInput, required=False)

    def __init__(self, *args, indicator, result=None, **kwargs):
        self.indicator = indicator
        if result is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "value": "" if result.numerator is not None else vn_number(result.value),
                "numerator": vn_number(result.numerator),
                "denominator": vn_number(result.denominator),
                "boolean": {True: "yes", False: "no"}.get(result.boolean, ""),
                "not_applicable": result.not_applicable,
                "assessed_status": result.assessed_status,
                "note": result.note,
                "version": result.version,
            }
        kwargs.setdefault("initial", {"version": 0})
        kwargs.setdefault("prefix", f"i{indicator.pk}")
        super().__init__(*args, **kwargs)
        self.fields["boolean"].choices = [("yes", indicator.yes_label), ("no", indicator.no_label)]
        # "Có"/"Không" of a fact (9.1 nhà tạm, dột nát) answer its name, not "is it met": the legend asks the
        # question and the page says which answer meets the threshold ("Không — đạt").
        self.fact = evaluation.is_fact(indicator)
        if self.fact:
            self.fields["boolean"].label = indicator.name
        if indicator.kind == IndicatorKind.BOOLEAN:
            for name in ("value", "numerator", "denominator"):
                del self.fields[name]
        else:
            del self.fields["boolean"]
            if indicator.kind != IndicatorKind.PERCENTAGE:
                del self.fields["numerator"]
                del self.fields["denominator"]
        if "value" in self.fields and indicator.unit:
            self.fields["value"].label = _("Giá trị (%(unit)s)") % {"unit": indicator.unit}
        percent = indicator.kind == IndicatorKind.PERCENTAGE or "%" in (indicator.unit or "")
        for name in ("value", "numerator", "denominator"):
            if name in self.fields:
                self.fields[name].percent = percent and name == "value"
        if "numerator" in self.fields:
            self.fields["value"].ratio = True

    def clean(self):
        data = super().clean()
        ratio = data.get("value")
        if isinstance(ratio, tuple):
            # "1.276/1.413" typed in the value box: the numerator and the denominator, as their own boxes hold.
            if data.get("numerator") is not None or data.get("denominator") is not None:
                self.add_error(
                    "value", _("Đã có tử số/mẫu số ở ô Tử số và ô Mẫu số: để trống ô Giá trị, hoặc xóa hai ô đó.")
                )
            else:
                data["numerator"], data["denominator"] = ratio
            data["value"] = None
        return data

    def measurement(self):
        """Keyword arguments for services.record_indicator_result."""
        data = self.cleaned_data
        return {
            "value": data.get("value"),
            "numerator": data.get("numerator"),
            "denominator": data.get("denominator"),
            "boolean": {"yes": True, "no": False}.get(data.get("boolean") or ""),
            "not_applicable": data["not_applicable"],
            "assessed_status": data["assessed_status"],
            "note": data["note"].strip(),
            "expected_version": data["version"] or 0,
        }


class CriterionAssessmentForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Kết quả tự đánh giá cả tiêu chí"),
        required=False,
        choices=[("", _("— chưa tự đánh giá —")), *AssessedStatus.choices],
        widget=PlainSelect,
    )
    note = forms.CharField(label=_("Ghi chú / căn cứ"), required=False, max_length=2000, widget=PlainTextInput)


class EvidenceForm(forms.Form):
    # An empty file reaches add_evidence, which says "Tệp rỗng (0 byte)" rather than "choose a file".
    file = forms.FileField(label=_("Tệp minh chứng"), allow_empty_file=True)
