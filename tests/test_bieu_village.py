"""Biểu 05/06 (household hygiene per village) and Biểu 07 (the villages' work), built from real records."""

import datetime
import io
import tempfile
from decimal import Decimal
from pathlib import Path

from django.core.management import CommandError, call_command
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from areas.models import Area, Level
from assignments.models import Agency
from criteria.models import CriteriaSet, Indicator
from criteria.services import record_indicator_result
from plans import services as plan_services
from plans.models import Deadline, FundingSource, ItemStatus
from reports import bieu
from reports.bieu.form05 import hygiene_indicators
from reports.bieu.queries import ExportError
from tests.personas import build_world, make_area
from tests.test_bieu import WriterMatchesOpenpyxlMixin, evaluate, find_row


def export(**kwargs):
    out = io.BytesIO()
    rows = bieu.export(out, **kwargs)
    out.seek(0)
    return rows, load_workbook(out).worksheets[0]


class VillageWorkTests(WriterMatchesOpenpyxlMixin, TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.w = build_world()
        user = cls.w.officer_hung_my
        cls.buong = make_area("T-02287-01", "Bường", Level.VILLAGE, cls.w.hung_my, "bản")
        cls.nam_kep = make_area("T-02287-02", "Nặm Kép", Level.VILLAGE, cls.w.hung_my, "thôn")
        make_area("T-02287-03", "Đình", Level.VILLAGE, cls.w.hung_my, "thôn")  # nothing planned there
        sources = {s.code: s for s in FundingSource.objects.all()}
        cls.plan = plan_services.create_plan(
            user=user, area=cls.w.hung_my, data=plan_services.PlanData(title="Kế hoạch 2024", year=2024)
        )
        agency = Agency.objects.create(name="UBND xã Hùng Mỹ", area=cls.w.hung_my)

        def add(title, village, money, **data):
            return plan_services.add_item(
                user=user,
                plan=cls.plan,
                data=plan_services.ItemData(title=title, area=village, **data),
                funding=[plan_services.FundingInput(sources[code], amount) for code, amount in money],
            )

        add(
            "Bê tông hóa đường Nà Khện đi bản Bường",
            cls.buong,
            [("NS_HUYEN", "1.020"), ("NHAN_DAN", "80,5")],
            quantity=Decimal("0.51"),
            unit="km",
            lead_agency=agency,
            deadline=Deadline.of("quarter", 2024, 2),
        )
        add("Xây 01 trạm biến áp", cls.nam_kep, [("DOANH_NGHIEP", "1.714")])
        add("Lắp 01 loa thu phát thanh", cls.nam_kep, [("NS_XA", "12")])
        add("Việc chung của xã", None, [("NS_XA", "500")])
        cancelled = add("Việc đã hủy", cls.nam_kep, [("NS_XA", "99")])
        plan_services.update_item(
            user=user, item=cancelled, data=plan_services.ItemData(title="Việc đã hủy", status=ItemStatus.CANCELLED)
        )

    def test_items_grouped_by_village_with_money_totals_matching_the_plan(self):
        rows, ws = export(form="07", area=self.w.hung_my, year=2024)
        self.assertEqual(rows, 3)
        self.assertEqual(ws["A5"].value, "Biểu số 07")
        self.assertIn("CỦA CÁC THÔN NĂM 2024", ws["A6"].value)
        self.assertEqual(
            [c.value for c in ws[9]],
            ["STT", "Nội dung công việc", "Khối lượng", "Đơn vị tính", "Chủ trì", "Thời hạn", "Kinh phí"],
        )
        self.assertEqual(find_row(ws, 2, "Bản Bường")[0].value, "I")
        self.assertEqual(find_row(ws, 2, "Thôn Nặm Kép")[0].value, "II")
        road = [c.value for c in find_row(ws, 2, "Bê tông hóa đường Nà Khện đi bản Bường")]
        self.assertEqual(
            road[:6], ["1", "Bê tông hóa đường Nà Khện đi bản Bường", 0.51, "km", "UBND xã Hùng Mỹ", "Quý II/2024"]
        )
        self.assertEqual(Decimal(str(road[6])), Decimal("1100.5"))
        self.assertEqual(evaluate(ws, find_row(ws, 2, "Thôn Nặm Kép")[6].value), Decimal(1726))
        self.assertEqual(evaluate(ws, find_row(ws, 2, "TỔNG CỘNG")[6].value), Decimal("2826.5"))
        texts = {c.value for row in ws.iter_rows() for c in row}
        self.assertFalse({"Việc chung của xã", "Việc đã hủy", "Thôn Đình"} & texts)

    def test_queries_do_not_grow_with_items(self):
        with CaptureQueriesContext(connection) as few:
            export(form="07", area=self.w.hung_my, year=2024)
        for n in range(8):
            plan_services.add_item(
                user=None, plan=self.plan, data=plan_services.ItemData(title=f"Việc {n}", area=self.buong), funding=[]
            )
        with CaptureQueriesContext(connection) as many:
            rows, _ws = export(form="07", area=self.w.hung_my, year=2024)
        self.assertEqual(rows, 11)
        self.assertEqual(len(few), len(many))

    def test_only_communes_have_the_village_forms(self):
        self.assertEqual([f.code for f in bieu.forms_for(self.w.hung_my)], ["01", "02", "03", "05", "07"])
        self.assertNotIn("07", [f.code for f in bieu.forms_for(self.w.chiem_hoa)])

    def test_written_as_through_openpyxl_cells(self):
        self.assert_written_as_openpyxl_would(form="07", area=self.w.hung_my, year=2024)


class HouseholdHygieneTests(WriterMatchesOpenpyxlMixin, TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.w = build_world()
        cls.cset = CriteriaSet.objects.get(code="xa_ntm_2021_2025")
        cls.ind = {i.code: i for i in Indicator.objects.in_set(cls.cset)}
        cls.buong = make_area("T-02287-01", "Bường", Level.VILLAGE, cls.w.hung_my, "bản")
        cls.nam_kep = make_area("T-02287-02", "Nặm Kép", Level.VILLAGE, cls.w.hung_my, "thôn")

    def record(self, village, code, **values):
        record_indicator_result(area=village, indicator=self.ind[code], year=2024, **values)

    def test_without_village_results_the_form_says_why(self):
        with self.assertRaisesMessage(ExportError, "Chưa có kết quả chỉ tiêu vệ sinh hộ gia đình của thôn nào"):
            export(form="05", area=self.w.hung_my, year=2024, criteria_set=self.cset)
        self.client.force_login(self.w.officer_hung_my)
        response = self.client.get(f"/xuat-bieu/{self.w.hung_my.pk}/", {"bieu": "05", "nam": 2024})
        self.assertContains(response, "Biểu 05/06 lập từ kết quả nhập cho từng thôn", status_code=400)

    def test_households_per_village_with_commune_totals(self):
        self.record(self.buong, "17.8", numerator=Decimal(120), denominator=Decimal(150))
        self.record(self.nam_kep, "17.8", numerator=Decimal(90), denominator=Decimal(100))
        self.record(self.nam_kep, "17.1", value=Decimal("95.5"))
        rows, ws = export(form="05", area=self.w.hung_my, year=2024, criteria_set=self.cset)
        self.assertEqual(rows, 2)
        headings = [c.value for c in ws[9]]
        household = hygiene_indicators(self.cset)
        self.assertIn("17.8", [i.code for i in household])
        column = 3 + 3 * [i.code for i in household].index("17.8")
        self.assertTrue(headings[column - 1].startswith("17.8. Tỷ lệ hộ có nhà tiêu"))
        self.assertEqual([c.value for c in ws[10]][column - 1 : column + 2], ["Số hộ đạt", "Tổng số hộ", "Tỷ lệ (%)"])
        buong = find_row(ws, 2, "Bản Bường")
        self.assertEqual([buong[column - 1].value, buong[column].value, buong[column + 1].value], [120, 150, 80])
        total = find_row(ws, 2, "Toàn xã (các thôn có số liệu)")
        self.assertEqual(evaluate(ws, total[column - 1].value), 210)
        self.assertEqual(evaluate(ws, total[column].value), 250)
        water = 3 + 3 * [i.code for i in household].index("17.1")
        self.assertEqual(find_row(ws, 2, "Thôn Nặm Kép")[water + 1].value, Decimal("95.5"))

    def test_written_as_through_openpyxl_cells(self):
        self.record(self.buong, "17.8", numerator=Decimal(120), denominator=Decimal(150))
        self.record(self.nam_kep, "17.1", value=Decimal("95.5"))
        self.assert_written_as_openpyxl_would(form="05", area=self.w.hung_my, year=2024, criteria_set=self.cset)

    def test_in_the_reform_year_a_village_is_listed_once_as_it_stands_on_31_december(self):
        # On 1/7/2025 Bường and Nặm Kép merge into a new bản Bường; both halves of the year have results.
        Area.objects.filter(pk__in=[self.buong.pk, self.nam_kep.pk]).update(valid_until=datetime.date(2025, 6, 30))
        merged = make_area(
            "T-02287-01", "Bường", Level.VILLAGE, self.w.hung_my, "bản", valid_from=datetime.date(2025, 7, 1)
        )
        for village, met, households in ((self.buong, 100, 140), (self.nam_kep, 80, 100), (merged, 200, 240)):
            record_indicator_result(
                area=village,
                indicator=self.ind["17.8"],
                year=2025,
                numerator=Decimal(met),
                denominator=Decimal(households),
            )
        rows, ws = export(form="05", area=self.w.hung_my, year=2025, criteria_set=self.cset)
        self.assertEqual(rows, 1)
        villages = [r[1].value for r in ws.iter_rows() if r[1].value and ("Bường" in r[1].value or "Nặm" in r[1].value)]
        self.assertEqual(villages, ["Bản Bường"])
        column = 3 + 3 * [i.code for i in hygiene_indicators(self.cset)].index("17.8")
        self.assertEqual([c.value for c in find_row(ws, 2, "Bản Bường")][column - 1 : column + 1], [200, 240])


class CommandTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.w = build_world()

    def test_a_refused_form_leaves_no_file(self):
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "bieu05.xlsx"
            with self.assertRaisesMessage(CommandError, "Chưa có kết quả chỉ tiêu vệ sinh"):
                call_command(
                    "export_bieu", area="T-02287", year=2024, form="05", output=str(path), stdout=io.StringIO()
                )
            self.assertFalse(path.exists())
