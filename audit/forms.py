from django import forms
from django.utils.translation import gettext_lazy as _

from audit.changes import TRACKED
from ntm_portal.widgets import VietnameseDateInput


class ChangeFilterForm(forms.Form):
    """The filters of the audit page; GET parameters in Vietnamese like the rest of the portal's URLs."""

    dia_ban = forms.TypedChoiceField(label=_("Địa bàn"), required=False, coerce=int, empty_value=None)
    nguoi = forms.CharField(label=_("Tên đăng nhập"), required=False, max_length=150)
    tu = forms.DateField(
        label=_("Từ ngày"),
        required=False,
        input_formats=["%d/%m/%Y", "%Y-%m-%d"],
        widget=VietnameseDateInput(),
    )
    den = forms.DateField(
        label=_("Đến ngày"),
        required=False,
        input_formats=["%d/%m/%Y", "%Y-%m-%d"],
        widget=VietnameseDateInput(),
    )
    loai = forms.ChoiceField(label=_("Loại dữ liệu"), required=False)

    def __init__(self, *args, areas, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dia_ban"].choices = [("", _("— tất cả —")), *((a.pk, str(a)) for a in areas)]
        self.fields["loai"].choices = [("", _("— tất cả —")), *((t.key, t.verbose_name) for t in TRACKED)]

    def clean(self):
        data = super().clean()
        if data.get("tu") and data.get("den") and data["den"] < data["tu"]:
            self.add_error("den", _("Ngày kết thúc phải sau ngày bắt đầu."))
        return data
