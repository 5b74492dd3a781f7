"""python manage.py generate_scale — a national-scale synthetic data set for the benchmarks (codes "G-…")."""

from django.core.management.base import BaseCommand

from areas.models import Area
from tools import scale


class Command(BaseCommand):
    help = (
        "Sinh dữ liệu giả lập quy mô toàn quốc (mã đơn vị bắt đầu bằng “G-”): xã, thôn, kết quả chỉ tiêu và "
        "tiêu chí, kế hoạch, nội dung và dòng vốn. Cùng --seed cho cùng dữ liệu."
    )

    def add_arguments(self, parser):
        parser.add_argument("--provinces", type=int, default=63)
        parser.add_argument("--districts-per-province", type=int, default=11)
        parser.add_argument("--communes-per-district", type=int, default=12)
        parser.add_argument(
            "--communes-per-province",
            type=int,
            default=98,
            help="Chỉ với --map 2025: số xã trực thuộc mỗi tỉnh (mặc định 98, khoảng 3.300 xã).",
        )
        parser.add_argument("--villages-per-commune", type=int, default=8)
        parser.add_argument("--years", type=int, default=2)
        parser.add_argument(
            "--last-year", type=int, default=None, help="Năm cuối có kết quả (mặc định 2024; 2025 với --map 2025)."
        )
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--map",
            choices=[scale.MAP_2016, scale.MAP_2025, scale.MAP_BOTH],
            default=scale.MAP_2016,
            help=(
                "2016: 63 tỉnh có huyện; 2025: 34 tỉnh; both: cả hai, nối bằng liên kết sáp nhập "
                "(năm sau trên bản đồ mới)."
            ),
        )
        parser.add_argument("--clear", action="store_true", help="Xóa dữ liệu “G-” đã sinh trước đó.")

    def handle(self, *args, **options):
        if options["clear"]:
            removed = scale.clear()
            self.stdout.write(f"Đã xóa {removed} đơn vị “G-” và dữ liệu kèm theo.")
        spec = scale.Spec(
            provinces=options["provinces"],
            districts_per_province=options["districts_per_province"],
            communes_per_district=options["communes_per_district"],
            communes_per_province=options["communes_per_province"],
            villages_per_commune=options["villages_per_commune"],
            years=options["years"],
            seed=options["seed"],
            map=options["map"],
            last_year=options["last_year"],
        )
        if Area.objects.filter(code__startswith=scale.PREFIX).exists():
            self.stderr.write("Đã có dữ liệu “G-”: chạy lại với --clear để sinh lại.")
            return
        self.stdout.write(f"Bản đồ {spec.map}, năm {', '.join(map(str, spec.year_list))}, seed {spec.seed}")
        counts = scale.generate(spec, progress=self.stdout.write)
        for line in counts.lines():
            self.stdout.write(line)
