import datetime
import re

from django import forms
from django.utils.translation import gettext_lazy as _

from criteria.forms import VietnameseNumberField
from ntm_portal.vietnamese import vn_number
from ntm_portal.widgets import VietnameseDateInput
from recognition.models import month_label

_MONTH = re.compile(r"^(?:tháng\s*)?(\d{1,2})\s*[/-]\s*(\d{4})$", re.IGNORECASE)
_ISO_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


class MonthField(forms.Field):
    """A month as plans write it: 'tháng 11/2019' or '11/2019' (also '2019-11' from a month picker)."""

    widget = forms.TextInput(attrs={"placeholder": "tháng 11/2019", "autocomplete": "off", "maxlength": 20})

    def prepare_value(self, value):
        return month_label(value) if isinstance(value, datetime.date) else value

    def to_python(self, value):
        text = " ".join(str(value or "").split())
        if not text:
            return None
        match = _MONTH.match(text)
        if match:
            month, year = int(match.group(1)), int(match.group(2))
        elif _ISO_MONTH.match(text):
            year, month = (int(g) for g in _ISO_MONTH.match(text).groups())
        else:
            raise forms.ValidationError(_("Viết tháng theo dạng “tháng 11/2019” hoặc “11/2019”."), code="invalid")
        if not 1 <= month <= 12 or not 1990 <= year <= 2100:
            raise forms.ValidationError(_("Tháng “%(text)s” không có thật."), params={"text": text}, code="invalid")
        return datetime.date(year, month, 1)


def _date_widget():
    return VietnameseDateInput()


class DetailsForm(forms.Form):
    planned_verify_month = MonthField(label=_("Tháng dự kiến thẩm tra"), required=False)
    planned_appraise_month = MonthField(label=_("Tháng dự kiến thẩm định"), required=False)
    planned_recognise_month = MonthField(label=_("Tháng dự kiến công nhận"), required=False)
    satisfaction_rate = VietnameseNumberField(label=_("Tỷ lệ người dân hài lòng (%)"), required=False)
    survey_date = forms.DateField(label=_("Ngày lấy ý kiến"), required=False, widget=_date_widget())
    survey_note = forms.CharField(
        label=_("Cách lấy ý kiến, số phiếu"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Ví dụ: MTTQ xã tổ chức lấy ý kiến, 1.120/1.215 phiếu hài lòng."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, file=None, fields=None, **kwargs):
        """`fields`: the detail fields to show and read (the ones the user may change), all by default."""
        if file is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "planned_verify_month": file.planned_verify_month,
                "planned_appraise_month": file.planned_appraise_month,
                "planned_recognise_month": file.planned_recognise_month,
                "satisfaction_rate": vn_number(file.satisfaction_rate),
                "survey_date": file.survey_date,
                "survey_note": file.survey_note,
                "version": file.version,
            }
        super().__init__(*args, **kwargs)
        if fields is not None:
            for name in [n for n in self.fields if n != "version" and n not in fields]:
                del self.fields[name]

    def clean_satisfaction_rate(self):
        rate = self.cleaned_data.get("satisfaction_rate")
        if rate is not None and not 0 <= rate <= 100:
            raise forms.ValidationError(_("Tỷ lệ hài lòng phải từ 0 đến 100 %."))
        return rate


class StepForm(forms.Form):
    comment = forms.CharField(label=_("Ý kiến"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class SubmitForm(StepForm):
    force = forms.BooleanField(label=_("Tôi đã xem danh sách còn thiếu ở trên và vẫn nộp hồ sơ"), required=False)


class ReturnForm(StepForm):
    """One reason box per criterion: the criteria given a reason are the ones returned."""

    def __init__(self, *args, criteria=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.criteria = list(criteria)
        for criterion in self.criteria:
            self.fields[f"reason_{criterion.pk}"] = forms.CharField(
                label=_("Tiêu chí %(n)s. %(name)s") % {"n": criterion.number, "name": criterion.name},
                required=False,
                widget=forms.TextInput(attrs={"placeholder": _("Lý do trả lại (để trống nếu đạt)")}),
            )

    def reason_fields(self):
        return [self[f"reason_{c.pk}"] for c in self.criteria]

    def criteria_reasons(self):
        return {c: self.cleaned_data.get(f"reason_{c.pk}", "") for c in self.criteria}

    def clean(self):
        data = super().clean()
        if not any((data.get(f"reason_{c.pk}") or "").strip() for c in self.criteria):
            raise forms.ValidationError(_("Hãy nêu ít nhất một tiêu chí bị trả lại và lý do."))
        return data


class DecisionForm(StepForm):
    number = forms.CharField(label=_("Số quyết định"), max_length=60, help_text=_("Ví dụ: 1234/QĐ-UBND"))
    date = forms.DateField(label=_("Ngày quyết định"), widget=_date_widget())
    signer = forms.CharField(label=_("Người ký"), max_length=150, help_text=_("Ví dụ: Chủ tịch UBND tỉnh"))


class RecheckForm(StepForm):
    year = forms.IntegerField(label=_("Năm rà soát"), min_value=1990, max_value=2100)


class RevokeForm(StepForm):
    comment = forms.CharField(label=_("Lý do và số quyết định thu hồi"), widget=forms.Textarea(attrs={"rows": 2}))
