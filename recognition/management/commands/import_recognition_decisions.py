"""Record recognition decisions taken before the portal from an Excel list: a dry run by default, written with
--commit (every row or none)."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from ntm_portal.spreadsheets import IMPORT_MAX_BYTES, ImportRefused
from recognition import decisions_import


class Command(BaseCommand):
    help = (
        "Ghi nhận các quyết định công nhận đã có từ danh sách Excel (Mã xã | Tên xã | Bộ tiêu chí | Năm | "
        "Số quyết định | Ngày quyết định); chạy thử nếu không có --commit."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Tệp danh sách (.xlsx, .xls, .ods hoặc .csv)")
        parser.add_argument(
            "--user", help="tài khoản ghi tên trong các bước “Ghi nhận theo văn bản”; tìm xã trong phạm vi của họ"
        )
        parser.add_argument("--commit", action="store_true", help="Ghi các quyết định (mặc định chỉ chạy thử)")

    def handle(self, *args, file, user, commit, **options):
        author = None
        if user:
            author = get_user_model().objects.filter(username=user).first()
            if author is None:
                raise CommandError(f"Không có tài khoản “{user}”.")
        try:
            with open(file, "rb") as fh:
                data = fh.read(IMPORT_MAX_BYTES + 1)
            table = decisions_import.read_file(data, file_name=Path(file).name)
            plan = decisions_import.dry_run(table, user=author)
        except OSError as exc:
            raise CommandError(f"Không mở được tệp: {exc}")
        except ImportRefused as exc:
            raise CommandError(str(exc))
        for row in plan.rows:
            self.stdout.write(
                f"Dòng {row.row}: {row.area_label} — {row.criteria_set.code} — năm {row.year} — {row.decision} — "
                f"{row.change_label}"
            )
        for bad in plan.bad_cells:
            self.stderr.write(str(bad))
        if plan.bad_cells:
            raise CommandError(f"{len(plan.bad_cells)} ô sai; không ghi gì.")
        if not commit:
            self.stdout.write(f"Chạy thử: {len(plan.rows)} quyết định, chưa ghi gì. Thêm --commit để ghi.")
            return
        try:
            report = decisions_import.import_decisions(table, user=author)
        except ValidationError as exc:
            raise CommandError("\n".join(exc.messages))
        self.stdout.write(self.style.SUCCESS(report.message()))
