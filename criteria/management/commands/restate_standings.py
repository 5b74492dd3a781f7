"""python manage.py restate_standings — every stored standing rebuilt from the results (criteria.standings)."""

from django.core.management.base import BaseCommand

from criteria import standings


class Command(BaseCommand):
    help = (
        "Tính lại toàn bộ kết quả tổng hợp của các xã (số tiêu chí đạt theo năm, giữ kết quả năm trước khi năm sau "
        "chưa có số liệu) từ kết quả tiêu chí đã lưu."
    )

    def handle(self, *args, **options):
        written = standings.rebuild()
        self.stdout.write(f"{written} dòng")
