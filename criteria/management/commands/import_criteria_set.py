"""Load a whole criteria set (criteria, indicators, thresholds) from an Excel table as a new set: a dry run by
default, written with --commit."""

import datetime

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from criteria import catalogue_excel
from criteria.models import SetLevel, Tier


def _period(text):
    try:
        start, end = (int(part) for part in text.replace("–", "-").split("-"))
    except ValueError as exc:
        raise ValueError(text) from exc
    if start > end:
        raise ValueError(text)
    return start, end


class Command(BaseCommand):
    help = (
        "Nạp bộ tiêu chí (tiêu chí, chỉ tiêu, ngưỡng) từ bảng Excel thành một bộ mới; chạy thử nếu không có --commit."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Tệp .xlsx: Tiêu chí số | Tên tiêu chí | Mã chỉ tiêu | Tên chỉ tiêu | …")
        parser.add_argument("--code", required=True, help="Mã bộ tiêu chí; mã đã dùng thì thành …_v2, …_v3")
        parser.add_argument("--name", required=True)
        parser.add_argument("--level", choices=SetLevel.values, default=SetLevel.COMMUNE)
        parser.add_argument("--tier", choices=Tier.values, default=Tier.STANDARD)
        parser.add_argument("--period", type=_period, required=True, help="Giai đoạn, ví dụ 2026-2030")
        parser.add_argument("--basis", default="", help="Văn bản căn cứ, ví dụ 'Hướng dẫn 12/HD-SNN'")
        parser.add_argument("--issued", type=datetime.date.fromisoformat, help="Ngày ban hành, YYYY-MM-DD")
        parser.add_argument("--issuer", default="", help="Cơ quan ban hành")
        parser.add_argument("--commit", action="store_true", help="Ghi bộ tiêu chí (mặc định chỉ chạy thử)")

    def handle(self, *args, **options):
        start, end = options["period"]
        meta = catalogue_excel.SetMeta(
            code=options["code"],
            name=options["name"],
            level=options["level"],
            tier=options["tier"],
            period_start=start,
            period_end=end,
            legal_basis=options["basis"],
            issued_on=options["issued"],
            issuer=options["issuer"],
        )
        try:
            with open(options["file"], "rb") as fh:
                rows = catalogue_excel.read_workbook(fh)
            plan = catalogue_excel.dry_run(rows, meta=meta)
        except OSError as exc:
            raise CommandError(f"Không mở được tệp: {exc}")
        except ValidationError as exc:
            raise CommandError("\n".join(exc.messages))
        self._print(plan)
        if plan.bad_cells:
            raise CommandError(f"{len(plan.bad_cells)} ô sai; không ghi gì.")
        if not options["commit"]:
            self.stdout.write("Chạy thử: chưa ghi gì. Thêm --commit để ghi.")
            return
        try:
            criteria_set = catalogue_excel.import_set(
                rows=rows, meta=meta, user=None, file_name=options["file"].rsplit("/", 1)[-1], expected_code=plan.code
            )
        except ValidationError as exc:
            raise CommandError("\n".join(exc.messages))
        self.stdout.write(self.style.SUCCESS(f"Đã tạo bộ tiêu chí {criteria_set.code}."))

    def _print(self, plan):
        out = self.stdout
        out.write(f"Bộ tiêu chí mới: {plan.code} — {plan.meta.name} ({plan.meta.period})")
        if plan.replaces is not None:
            out.write(f"Mã đã dùng: phiên bản mới, thay thế {plan.replaces.code}; bộ cũ được giữ nguyên.")
        for criterion in plan.criteria:
            out.write(f"Tiêu chí {criterion.number}. {criterion.name}")
            for indicator in criterion.indicators:
                levels = "; ".join(
                    f"{t.scope or 'chung'}{f' ({t.year})' if t.year else ''}: {t.display}" for t in indicator.thresholds
                )
                unit = ", ".join(part for part in (indicator.unit, indicator.kind_label) if part)
                out.write(f"  {indicator.code}. {indicator.name} [{unit}] — {levels or 'chưa có ngưỡng'}")
        out.write(
            f"Sẽ tạo {len(plan.criteria)} tiêu chí, {plan.indicator_count} chỉ tiêu, {plan.threshold_count} ngưỡng."
        )
        for bad in plan.bad_cells:
            self.stderr.write(str(bad))
