"""The "Biểu" annexes that go with every plan and report, written as official-looking Excel workbooks.

This module is the registry of forms: which forms an area has, writing one, and its file name. The shared
writer is `sheet`, each form has its own module (`form01` … `form07`), and `queries` / `texts` hold what
several forms read and write alike.
"""

from dataclasses import dataclass

from django.utils.text import slugify
from django.utils.translation import gettext as _

from areas.models import Level
from reports.bieu.form01 import write_bieu01
from reports.bieu.form02 import write_bieu02
from reports.bieu.form03 import write_bieu03
from reports.bieu.form05 import write_bieu05
from reports.bieu.form07 import write_bieu07
from reports.bieu.queries import ExportError


@dataclass(frozen=True)
class Form:
    code: str
    name: str
    levels: tuple
    writer: object


def forms():
    return [
        Form(
            "01",
            _("Biểu 01 — Kết quả thực hiện các tiêu chí"),
            (Level.COMMUNE, Level.DISTRICT, Level.PROVINCE),
            write_bieu01,
        ),
        Form("02", _("Biểu 02 — Kế hoạch thực hiện các tiêu chí"), (Level.COMMUNE, Level.DISTRICT), write_bieu02),
        Form(
            "03", _("Biểu 03 — Kinh phí theo nguồn vốn"), (Level.COMMUNE, Level.DISTRICT, Level.PROVINCE), write_bieu03
        ),
        Form("05", _("Biểu 05/06 — Hộ gia đình đạt các chỉ tiêu vệ sinh, theo thôn"), (Level.COMMUNE,), write_bieu05),
        Form("07", _("Biểu 07 — Nội dung thực hiện của các thôn"), (Level.COMMUNE,), write_bieu07),
    ]


def forms_for(area):
    return [form for form in forms() if area.level in form.levels]


def export(out, *, form, area, year, criteria_set=None, progress=None, day=None):
    """Write form `form` ("01" … "07") for `area` and `year` into `out`; returns the number of data rows.

    `area` None is the whole country, for which only Biểu 01 is made.
    """
    if area is None:
        if form != "01":
            raise ExportError(_("Chỉ có Biểu 01 cho toàn quốc."))
        return write_bieu01(out, area=None, year=year, criteria_set=criteria_set, progress=progress, day=day)
    chosen = {f.code: f for f in forms_for(area)}.get(form)
    if chosen is None:
        raise ExportError(_("Không có Biểu %(form)s cho %(area)s.") % {"form": form, "area": area.full_name})
    return chosen.writer(out, area=area, year=year, criteria_set=criteria_set, progress=progress, day=day)


def file_name(form, area, year):
    if area is None:
        return f"Bieu{form}_toan-quoc_{year}.xlsx"
    return f"Bieu{form}_{slugify(area.name) or area.pk}_{year}.xlsx"
