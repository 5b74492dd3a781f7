"""Form widgets that speak Vietnamese whatever the browser's language."""

import re

from django import forms
from django.utils.translation import gettext_lazy as _


class VietnameseDateInput(forms.DateInput):
    """A date typed as dd/mm/yyyy: `<input type=date>` is drawn in the browser's locale ("mm/dd/yyyy" on an English
    one). "22/02/2024" (also "22-2-2024", "22.02.2024") reaches the field as 2024-02-22, which DateField reads in
    any language; anything else reaches it as typed, for the field to refuse."""

    DAY_FIRST = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\s*$")
    ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")

    def __init__(self, attrs=None):
        defaults = {
            "placeholder": _("dd/mm/yyyy"),
            "inputmode": "numeric",
            "pattern": r"\d{1,2}[/.\-]\d{1,2}[/.\-]\d{4}|\d{4}-\d{2}-\d{2}",
            "autocomplete": "off",
            "size": "10",
        }
        super().__init__(attrs={**defaults, **(attrs or {})}, format="%d/%m/%Y")

    def value_from_datadict(self, data, files, name):
        value = super().value_from_datadict(data, files, name)
        match = self.DAY_FIRST.match(value or "")
        if match:
            day, month, year = match.groups()
            return f"{year}-{int(month):02d}-{int(day):02d}"
        return value

    def format_value(self, value):
        # A form sent back (an error, a filter) shows the date as it was typed, not as it was passed on.
        match = self.ISO.match(value) if isinstance(value, str) else None
        if match:
            year, month, day = match.groups()
            return f"{day}/{month}/{year}"
        return super().format_value(value)
