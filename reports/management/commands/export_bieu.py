from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from areas.models import Area
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
        parser.add_argument("--year", required=True, type=int)
        parser.add_argument("--form", required=True, choices=[f.code for f in bieu.forms()])
        parser.add_argument("--set", dest="set_code", default="", help="Mã bộ tiêu chí (mặc định: bộ quốc gia)")
        parser.add_argument("-o", "--output", required=True, help="Tệp .xlsx cần ghi")

    def handle(self, *, area, year, form, set_code, output, **options):
        target = None if area == NATIONAL else self._area(area, year)
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

    def _area(self, code, year):
        """The area with this code; when a code was reused across a merger, the one that existed in `year`."""
        matches = list(Area.objects.filter(code=code))
        if len(matches) > 1:
            matches = list(Area.objects.filter(code=code).in_year(year)) or matches
        if not matches:
            raise CommandError(f"Không có đơn vị mã “{code}”.")
        if len(matches) > 1:
            names = "; ".join(f"{a.pk}: {a.full_name} ({a.get_level_display()})" for a in matches)
            raise CommandError(f"Mã “{code}” ứng với nhiều đơn vị trong năm {year}: {names}")
        return matches[0]
