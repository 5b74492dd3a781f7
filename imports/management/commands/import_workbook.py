"""python manage.py import_workbook FILE --area CODE [--year YYYY] [--set CODE] [--mapping NAME] [--commit]

Runs the import wizard on a workbook with the proposed (or saved) mapping, prints the mapping it used and the
dry run, exits non-zero if any cell is bad, and writes only with --commit — for offices that script their
monthly loads."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from areas.models import Area
from imports import services
from imports.models import SavedMapping
from ntm_portal.spreadsheets import ImportRefused


class Command(BaseCommand):
    help = "Nhập số liệu từ một bảng tính bất kỳ (.xlsx, .xls, .ods, .csv) như trình nhập trên cổng."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--area", required=True, help="mã đơn vị (xã, huyện, tỉnh)")
        parser.add_argument("--year", type=int)
        parser.add_argument("--set", dest="set_code", help="mã bộ tiêu chí, ví dụ xa_ntm_2016_2020")
        parser.add_argument("--mapping", help="tên cách ghép cột đã lưu")
        parser.add_argument("--sheet", help="tên trang tính (mặc định: trang đầu tiên đang hiện)")
        parser.add_argument("--user", help="tài khoản ghi tên trong lịch sử thay đổi")
        parser.add_argument("--commit", action="store_true", help="ghi vào cổng (không có: chỉ xem thử)")

    def handle(self, *args, file, area, year, set_code, mapping, sheet, user, commit, **options):
        target = Area.objects.filter(code=area).order_by("-valid_from").first()
        if target is None:
            raise CommandError(f"Không có đơn vị mã “{area}”.")
        author = get_user_model().objects.filter(username=user).first() if user else None
        if user and author is None:
            raise CommandError(f"Không có tài khoản “{user}”.")
        path = Path(file)
        try:
            content = services.workbook.read(path.read_bytes(), file_name=path.name)
        except ImportRefused as exc:
            raise CommandError(str(exc))
        except OSError as exc:
            raise CommandError(f"Không mở được tệp: {exc}")
        with transaction.atomic():
            found = self._dry_run(content, target, author, year, set_code, mapping, sheet)
            self._print(found)
            if not found.ok:
                transaction.set_rollback(True)
                self.stderr.write(f"{len(found.bad_cells) + len(found.ambiguities)} ô sai; không ghi gì.")
                raise SystemExit(1)
            if commit:
                services.write(found, user=author)
                self.stdout.write(f"Đã ghi {len(found.changes)} mục.")
            else:
                self.stdout.write("Chỉ xem thử; thêm --commit để ghi.")
            # The upload row kept for the steps is not needed by the command line.
            services.ImportUpload.objects.filter(token=self._token).delete()

    def _dry_run(self, content, area, user, year, set_code, mapping, sheet):
        sheets = [s["name"] for s in content["sheets"]]
        if sheet and sheet not in sheets:
            raise CommandError(f"Không có trang tính “{sheet}”; tệp có: {', '.join(sheets)}.")
        owner = user or get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
        if owner is None:
            raise CommandError("Cần --user (chưa có tài khoản quản trị nào).")
        self._token = services.store(content, user=owner, area=area)
        upload = services.ImportUpload.objects.get(token=self._token)
        index = (
            sheets.index(sheet) if sheet else next((i for i, s in enumerate(content["sheets"]) if not s["hidden"]), 0)
        )
        state = {"sheet": index, "year": year, "set": set_code}
        if mapping:
            saved = SavedMapping.objects.for_area(area).filter(name=mapping).first()
            if saved is None:
                raise CommandError(f"Không có cách ghép cột “{mapping}” cho {area}.")
            state.update(layout=saved.layout, mapping=dict(saved.columns))
        services.update_state(upload, **state)
        try:
            return services.preview(upload, area=area, user=user)
        except ImportRefused as exc:
            raise CommandError(str(exc))

    def _print(self, found):
        table, options = found.table, found.options
        write = self.stdout.write
        write(f"Trang tính: {table.sheet} · dòng tiêu đề {', '.join(map(str, table.heading_rows))}")
        write(f"Kiểu bảng: {options.layout} · năm {options.year} · {options.criteria_set or '–'}")
        write("Ghép cột:")
        for column in table.columns:
            write(f"  {table.letter(column)} «{table.headings[column]}» → {options.mapping.get(column) or '(bỏ qua)'}")
        for number, reason in table.skipped:
            write(f"Bỏ qua dòng {number}: {reason}")
        for note in found.notes:
            write(f"Lưu ý: {note}")
        created = sum(1 for c in found.changes if c.created)
        write(
            f"Sẽ ghi {len(found.changes)} mục ({created} thêm mới, {len(found.changes) - created} thay đổi), "
            f"{found.unchanged} không đổi:"
        )
        for c in found.changes:
            write(f"  dòng {c.row} · {c.area} · {c.label}: {c.before or '–'} → {c.after} {c.verdict}".rstrip())
        for bad in found.bad_cells:
            write(f"Ô sai dòng {bad.row}, cột {bad.column} ({bad.header}): «{bad.value}» — {bad.reason}")
        for amb in found.ambiguities:
            names = ", ".join(f"{a.full_name} ({a.code})" for a in amb.candidates)
            write(f"Dòng {amb.row}: «{amb.text}» khớp với nhiều xã: {names}; hãy ghi mã xã.")
