from django import forms
from django.utils.translation import gettext_lazy as _

from criteria import evaluation
from criteria.models import AssessedStatus, IndicatorKind
from ntm_portal.vietnamese import parse_vn_number, parse_vn_percent, parse_vn_ratio, vn_number

BAD_NUMBER = _("Số không hợp lệ. Dùng dấu phẩy cho phần thập phân và dấu chấm ngăn hàng nghìn, ví dụ 90,3 hoặc 1.276.")


NOT_A_RATIO = _(
    "Chỉ tiêu này ghi một số (ví dụ 1.276), không ghi tỷ lệ tử số/mẫu số. Dùng dấu phẩy cho phần thập phân."
)
BAD_RATIO = _("“%(value)s” không đọc được thành tử số/mẫu số. Viết như 1.276/1.413, hoặc ghi vào ô Tử số và ô Mẫu số.")


class VietnameseNumberField(forms.Field):
    """A number typed the Vietnamese way; a text input, since browsers' number inputs reject "1.276".

    With ``percent`` a trailing "%" is read ("90,3 %"); with ``ratio`` "1.276/1.413" is read as a
    (numerator, denominator) pair, which the form moves to the Tử số / Mẫu số fields."""

    widget = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "maxlength": 30})

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
    boolean = forms.ChoiceField(label=_("Kết quả"), required=False, widget=forms.RadioSelect)
    not_applicable = forms.BooleanField(label=_("Không áp dụng"), required=False)
    assessed_status = forms.ChoiceField(
        label=_("Tự đánh giá"),
        required=False,
        choices=[("", _("— theo ngưỡng —")), *AssessedStatus.choices],
    )
    note = forms.CharField(label=_("Ghi chú"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

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
    )
    note = forms.CharField(label=_("Ghi chú / căn cứ"), required=False, max_length=2000)


class EvidenceForm(forms.Form):
    # An empty file reaches add_evidence, which says "Tệp rỗng (0 byte)" rather than "choose a file".
    file = forms.FileField(label=_("Tệp minh chứng"), allow_empty_file=True)
