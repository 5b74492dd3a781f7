from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from areas import timeline
from areas.models import Level
from reports import bieu
from reports.bieu.queries import ExportError, criteria_set_for

# The whole country has no Area row: Biểu 01 then lists every commune, grouped by province.
NATIONAL = "toan-quoc"


class Command(BaseCommand):
    help = "Xuất một Biểu (01, 02, 03, 05, 07) của một địa bàn ra tệp Excel."

    def add_arguments(self, parser):
        parser.add_argument(
            "--area", required=True, help=f"Mã đơn vị (Area.code), hoặc “{NATIONAL}” cho Biểu 01 toàn quốc"
        )
        parser.add_argument(
            "--year", required=True, type=int, help="Năm; mã đơn vị được hiểu theo bản đồ ngày 31/12 của năm này"
        )
        parser.add_argument(
            "--level", choices=[lv.value for lv in Level], default=None, help="Cấp, khi một mã ứng với nhiều đơn vị"
        )
        parser.add_argument("--form", required=True, choices=[f.code for f in bieu.forms()])
        parser.add_argument("--set", dest="set_code", default="", help="Mã bộ tiêu chí (mặc định: bộ quốc gia)")
        parser.add_argument("-o", "--output", required=True, help="Tệp .xlsx cần ghi")

    def handle(self, *, area, year, form, set_code, output, level=None, **options):
        target = None if area == NATIONAL else self._area(area, year, level)
        try:
            criteria_set = criteria_set_for(None, year, set_code) if set_code else None
            self.stdout.write(f"Biểu {form} — {target.full_name if target else 'toàn quốc'} — {year}")
            with open(output, "wb") as out:
                rows = bieu.export(
                    out,
                    form=form,
                    area=target,
                    year=year,
                    criteria_set=criteria_set,
                    progress=lambda n: self.stdout.write(f"  … {n} dòng"),
                )
        except ExportError as exc:
            # A refused form leaves no empty file behind to be mistaken for the annex.
            Path(output).unlink(missing_ok=True)
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"Đã ghi {rows} dòng vào {output}"))

    def _area(self, code, year, level):
        """The unit with this code in force on the year's reporting date (a code is reused across mergers: 24 is
        Bắc Giang until 30/6/2025 and the new Bắc Ninh after); several on that day is an error naming them."""
        day = timeline.reporting_date(year)
        try:
            area = timeline.unit_by_code(code, day, level=level)
        except (timeline.AmbiguousCode, timeline.UnknownCode) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(timeline.map_label(day))
        return area
