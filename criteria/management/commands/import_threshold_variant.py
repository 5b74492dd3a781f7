"""Load a province's variant of a national criteria set from its decision's Excel table."""

import datetime

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from criteria import variants
from criteria.models import CriteriaSet


class Command(BaseCommand):
    help = "Nạp bộ tiêu chí cụ thể hóa của tỉnh (ngưỡng ghi đè bộ quốc gia) từ bảng Excel."

    def add_arguments(self, parser):
        parser.add_argument("file", help="Tệp .xlsx: Mã chỉ tiêu | Ngưỡng | Vùng | Năm | Ghi chú")
        parser.add_argument("--parent", required=True, help="Mã bộ tiêu chí quốc gia, ví dụ xa_ntm_2021_2025")
        parser.add_argument("--province", required=True, help="Mã tỉnh, ví dụ 08")
        parser.add_argument("--code", required=True, help="Mã của bộ cụ thể hóa, ví dụ tq-479-2022")
        parser.add_argument("--name", required=True)
        parser.add_argument("--basis", default="", help="Số hiệu văn bản, ví dụ 479/QĐ-UBND")
        parser.add_argument("--issued", type=datetime.date.fromisoformat, help="Ngày ban hành, YYYY-MM-DD")

    def handle(self, *args, **options):
        code = options["parent"]
        # Accept either spelling of the separators people type.
        parent = CriteriaSet.objects.filter(code__in={code, code.replace("_", "-"), code.replace("-", "_")}).first()
        if parent is None:
            raise CommandError(f"Không có bộ tiêu chí mã '{code}'.")
        try:
            province = variants.province_for(options["province"], parent_set=parent)
            with open(options["file"], "rb") as fh:
                report = variants.import_variant(
                    workbook_file=fh,
                    parent_set=parent,
                    province=province,
                    code=options["code"],
                    name=options["name"],
                    legal_basis=options["basis"],
                    issued_on=options["issued"],
                    user=None,
                )
        except OSError as exc:
            raise CommandError(f"Không mở được tệp: {exc}")
        except ValidationError as exc:
            raise CommandError("\n".join(exc.messages))
        self.stdout.write(
            self.style.SUCCESS(
                f"{report.criteria_set.code}: thêm {report.created}, cập nhật {report.updated}, "
                f"bỏ {report.removed} ngưỡng; tính lại {report.recomputed} kết quả."
            )
        )
