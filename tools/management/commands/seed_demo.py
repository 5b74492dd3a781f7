"""python manage.py seed_demo — the demo world from the five seed plans, and one demo user per role."""

from pathlib import Path

import yaml
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from areas.models import Role, RoleKind
from tools.demo.areas import load_demo_areas
from tools.demo.criteria import load_demo_results
from tools.demo.plans import load_demo_plans
from tools.demo.present import load_present, present_units
from tools.demo.recognition import load_demo_recognition

DEMO_DIR = Path(settings.BASE_DIR) / "fixtures" / "demo"
DEMO_PASSWORD = "ntm-demo-2024"

# username, full name, role, area code (from fixtures/demo/areas.yaml), what they do
DEMO_USERS = [
    ("canbo.anduong", "Nguyễn Thị Lan", RoleKind.OFFICER, "07321", "cán bộ xã An Dương (Tân Yên)"),
    ("canbo.songvan", "Trần Văn Hùng", RoleKind.OFFICER, "07345", "cán bộ xã Song Vân (Tân Yên)"),
    ("canbo.hungmy", "Ma Văn Thành", RoleKind.OFFICER, "02314", "cán bộ xã Hùng Mỹ (Chiêm Hóa)"),
    ("canbo.thienke", "Hoàng Thị Mai", RoleKind.OFFICER, "02605", "cán bộ xã Thiện Kế (Sơn Dương)"),
    ("thamtra.tanyen", "Lê Văn Minh", RoleKind.REVIEWER, "216", "BCĐ huyện Tân Yên, thẩm tra"),
    ("thamdinh.bacgiang", "Phạm Quốc Tuấn", RoleKind.REVIEWER, "24", "BCĐ tỉnh Bắc Giang, thẩm định"),
    ("xem.tanyen", "Đỗ Thu Hà", RoleKind.VIEWER, "216", "người xem, huyện Tân Yên"),
]
# The present (from 1/7/2025), only on the official map: code of the new unit (fixtures/demo/present.yaml).
PRESENT_USERS = [
    ("canbo.nhanam", "Vũ Thị Hoa", RoleKind.OFFICER, "07306", "cán bộ xã Nhã Nam (tỉnh Bắc Ninh, từ 1/7/2025)"),
    ("canbo.tanmy", "Nông Văn Sơn", RoleKind.OFFICER, "02308", "cán bộ xã Tân Mỹ (tỉnh Tuyên Quang, từ 1/7/2025)"),
    ("thamdinh.bacninh", "Ngô Minh Đức", RoleKind.REVIEWER, "24", "tỉnh Bắc Ninh (từ 1/7/2025), thẩm tra và thẩm định"),
]


def read(name):
    with open(DEMO_DIR / name, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


class Command(BaseCommand):
    help = "Nạp dữ liệu mẫu từ năm kế hoạch thật (fixtures/demo) và tạo tài khoản mẫu. Chạy lại không nhân đôi dữ liệu."

    @transaction.atomic
    def handle(self, *args, **options):
        User = get_user_model()
        admin, created = User.objects.get_or_create(
            username="admin", defaults={"is_staff": True, "is_superuser": True, "first_name": "Quản trị"}
        )
        if created:
            admin.set_password(DEMO_PASSWORD)
            admin.save()
        areas = load_demo_areas(read("areas.yaml")["areas"])
        results = load_demo_results(read("results.yaml")["results"], areas_by_code=areas, user=admin)
        plans = load_demo_plans(read("plans.yaml"), areas_by_code=areas)
        recognition = load_demo_recognition(read("recognition.yaml")["recognition"], areas_by_code=areas)

        logins = [("admin", "quản trị toàn hệ thống (/admin/)")]
        for username, full_name, kind, code, what in DEMO_USERS:
            self.demo_user(username, full_name, kind, areas[code])
            logins.append((username, what))
        units = present_units()
        if units is None:
            present = "Chưa nạp bản đồ hành chính (load_admin_map): bỏ qua phần hiện nay (xã Nhã Nam, xã Tân Mỹ mới)."
        else:
            written = load_present(read("present.yaml"), units=units, user=admin)
            present = f"Hiện nay (từ 1/7/2025): xã Nhã Nam, xã Tân Mỹ, nhóm xã và năm 2026 — {written} dòng mới ghi."
            for username, full_name, kind, code, what in PRESENT_USERS:
                self.demo_user(username, full_name, kind, units[code])
                logins.append((username, what))

        labels = {"agencies": "cơ quan", "members": "cán bộ", "committees": "ban chỉ đạo",
                  "responsibilities": "phân công", "plans": "kế hoạch", "items": "nội dung kế hoạch"}  # fmt: skip
        counts = ", ".join(f"{n} {labels.get(k, k)}" for k, n in plans.items())
        self.stdout.write(
            self.style.SUCCESS(
                f"Đã nạp dữ liệu mẫu: {len(areas)} địa bàn, {results} kết quả mới ghi; {counts}; "
                f"{recognition} hồ sơ công nhận mới ghi."
            )
        )
        self.stdout.write(present)
        self.stdout.write(f"Tài khoản mẫu (mật khẩu chung: {DEMO_PASSWORD}):")
        for username, what in logins:
            self.stdout.write(f"  {username:<20} {what}")

    def demo_user(self, username, full_name, kind, area):
        User = get_user_model()
        last, _, first = full_name.rpartition(" ")
        user, created = User.objects.get_or_create(username=username, defaults={"first_name": first, "last_name": last})
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        Role.objects.get_or_create(user=user, area=area, kind=kind)
