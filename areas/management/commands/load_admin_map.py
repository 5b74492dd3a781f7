"""python manage.py load_admin_map — the official administrative map (fixtures/admin_map/), or a later snapshot."""

import datetime
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from areas import mapdata


class Command(BaseCommand):
    help = (
        "Nạp bản đồ hành chính chính thức (tỉnh, huyện, xã với mã, loại, thời gian hiệu lực và liên kết sáp nhập). "
        "Không tham số: nạp các bản đồ kèm theo dự án (15/4/2023, 30/6/2025, 1/7/2025); chạy lại không thay đổi gì. "
        "Với --snapshot và --date: nạp thêm một bản đồ mới hơn (kèm --merges nếu có tệp sáp nhập). Không xóa gì."
    )

    def add_arguments(self, parser):
        parser.add_argument("--snapshot", type=Path, help="tệp đơn vị (CSV hoặc JSON, có thể nén .gz)")
        parser.add_argument("--date", help="ngày của bản đồ, dạng YYYY-MM-DD")
        parser.add_argument("--merges", type=Path, help="tệp sáp nhập (JSON theo mẫu dvhcvn)")
        parser.add_argument("--basis", default="", help="căn cứ pháp lý của việc sáp nhập, ví dụ NQ 1658/NQ-UBTVQH15")

    def handle(self, *args, snapshot=None, date=None, merges=None, basis="", **options):
        started = time.monotonic()
        try:
            if snapshot is None:
                if date or merges:
                    raise CommandError("--date và --merges chỉ dùng cùng --snapshot.")
                reports = mapdata.load_shipped()
            else:
                if not date:
                    raise CommandError("Cần --date YYYY-MM-DD cho bản đồ nạp thêm.")
                try:
                    day = datetime.date.fromisoformat(date)
                except ValueError:
                    raise CommandError(f"Ngày không hợp lệ: {date} (cần dạng YYYY-MM-DD).")
                for path in (snapshot, merges):
                    if path is not None and not path.exists():
                        raise CommandError(f"Không có tệp {path}.")
                reports = [mapdata.load_files(day=day, units_path=snapshot, merges_path=merges, basis=basis)]
        except mapdata.MapError as exc:
            raise CommandError(str(exc))
        for report in reports:
            for line in report.lines():
                self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS(f"Xong sau {time.monotonic() - started:.1f} giây."))
