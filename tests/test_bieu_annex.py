"""The Biểu as a province receives them: signed by the right person, every heading readable, blanks where there is
no data, unverified thresholds explained once, and the signature never alone on the last printed page."""

import datetime
import io
import math
from decimal import Decimal

from django.test import TestCase
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from areas.models import Level
from assignments.models import CommitteeMembership, CommitteeRole, Member, SteeringCommittee
from criteria import standings
from criteria.models import CriteriaSet, CriterionResult, Indicator, Status
from criteria.services import record_indicator_result
from plans import services as plan_services
from reports import bieu
from reports.bieu.form05 import hygiene_indicators
from tests.personas import build_world, make_area
from tests.test_bieu import find_row

PRINTABLE_HEIGHT = 595 - 2 * 0.7 * 72  # A4 landscape less the top and bottom margins, in points
LINE = 15  # points a line of 12-point Times needs


def export(**kwargs):
    out = io.BytesIO()
    bieu.export(out, **kwargs)
    out.seek(0)
    return load_workbook(out).worksheets[0]


def cells(ws):
    return [cell.value for row in ws.iter_rows() for cell in row if isinstance(cell.value, str)]


def signature(ws):
    """(the signer's lines, the name under them) as printed at the foot of the sheet."""
    title = find_row(ws, 1, "NGƯỜI LẬP BIỂU")
    column = next(c.column for c in title[1:] if c.value)
    return title[column - 1].value, ws.cell(row=title[0].row + 5, column=column).value


def add_committee(area, *members):
    committee = SteeringCommittee.objects.create(area=area, name=f"Ban Chỉ đạo {area.name}", valid_from_year=2021)
    for name, role in members:
        member = Member.objects.create(name=name, area=area)
        CommitteeMembership.objects.create(committee=committee, member=member, role=role)


class AnnexTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.w = build_world()
        cls.cset = CriteriaSet.objects.get(code="xa_ntm_2021_2025")
        cls.ind = {i.code: i for i in Indicator.objects.in_set(cls.cset)}

    def plan(self, area, **data):
        data = {"title": "Kế hoạch xây dựng NTM năm 2024", "year": 2024, **data}
        return plan_services.create_plan(user=None, area=area, data=plan_services.PlanData(**data))

    def test_unverified_thresholds_are_marked_and_named_once_under_the_table(self):
        ws = export(form="01", area=self.w.hung_my, year=2024, criteria_set=self.cset)
        [footnote] = [t for t in cells(ws) if "chưa xác minh" in t.lower()]
        self.assertTrue(footnote.startswith("(*) Ngưỡng chưa xác minh với văn bản gốc: "), footnote)
        below_the_table = find_row(ws, 2, "Tổng số tiêu chí đạt: 0/19")[0].row + 1
        self.assertEqual(ws.cell(row=below_the_table, column=1).value, footnote)
        unverified = Indicator.objects.in_set(self.cset).filter(thresholds__verified=False).first()
        self.assertTrue(find_row(ws, 1, unverified.code)[3].value.endswith(" (*)"))
        self.assertIn(f" {unverified.code},", footnote.replace(":", ","))
        self.assertNotIn("?", find_row(ws, 1, unverified.code)[3].value)

    def test_bieu01_with_the_plan_cites_its_number_and_date(self):
        self.plan(self.w.hung_my, number="05/KH-BCĐ", issued_on=datetime.date(2024, 2, 22))
        ws = export(form="01", area=self.w.hung_my, year=2024)
        self.assertEqual(ws["A7"].value, "(Kèm theo Kế hoạch số 05/KH-BCĐ ngày 22/02/2024 của xã Hùng Mỹ)")
        self.assertEqual(ws["A3"].value, "Số: 05/KH-BCĐ")

    def test_a_deputy_named_by_the_plan_signs_on_behalf_of_the_head(self):
        add_committee(self.w.hung_my, ("Ma Đình Sắc", CommitteeRole.DEPUTY), ("Nguyễn Văn Trưởng", CommitteeRole.HEAD))
        self.plan(self.w.hung_my, signer="Ma Đình Sắc")
        ws = export(form="07", area=self.w.hung_my, year=2024)
        self.assertEqual(signature(ws), ("TM. BAN CHỈ ĐẠO\nKT. TRƯỞNG BAN\nPHÓ BAN", "Ma Đình Sắc"))

    def test_without_a_plan_the_head_of_the_steering_committee_signs(self):
        add_committee(self.w.tan_yen, ("Đương Ngô Mạnh", CommitteeRole.HEAD), ("Phó Văn Ban", CommitteeRole.DEPUTY))
        ws = export(form="01", area=self.w.tan_yen, year=2024)
        self.assertEqual(signature(ws), ("TM. BAN CHỈ ĐẠO\nTRƯỞNG BAN", "Đương Ngô Mạnh"))

    def test_the_signer_typed_on_the_plan_in_the_admin_is_printed_as_typed(self):
        plan = self.plan(self.w.hung_my, number="12/KH-UBND", signer="Hồ Văn Chính")
        self.client.force_login(self.w.admin)
        url = f"/admin/plans/plan/{plan.pk}/change/"
        form = self.client.get(url).context["adminform"].form
        data = {name: form.initial.get(name) or "" for name in form.fields}
        data.update(
            area=plan.area_id,
            status=plan.status,
            signer_title="TM. Ủy ban nhân dân",
            signer_position="Chủ tịch",
            **{"items-TOTAL_FORMS": 0, "items-INITIAL_FORMS": 0},
        )
        response = self.client.post(url, {k: v for k, v in data.items() if v is not None})
        self.assertEqual(response.status_code, 302)
        ws = export(form="03", area=self.w.hung_my, year=2024)
        self.assertEqual(signature(ws), ("TM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH", "Hồ Văn Chính"))

    def test_an_indicator_no_village_counted_has_blank_totals_and_every_heading_fits(self):
        village = make_area("T-02287-01", "Bường", Level.VILLAGE, self.w.hung_my, "bản")
        record_indicator_result(
            area=village, indicator=self.ind["17.8"], year=2024, numerator=Decimal(120), denominator=Decimal(150)
        )
        ws = export(form="05", area=self.w.hung_my, year=2024, criteria_set=self.cset)
        codes = [i.code for i in hygiene_indicators(self.cset)]
        total = find_row(ws, 2, "Toàn xã (các thôn có số liệu)")
        for code in codes:
            column = 3 + 3 * codes.index(code)
            values = [total[column - 1 + n].value for n in range(3)]
            if code == "17.8":
                self.assertTrue(values[0].startswith("=SUM("), values)
            else:
                self.assertEqual(values, [None, None, None], code)
        # The group headings ("17.8. Tỷ lệ hộ có nhà tiêu, nhà tắm, …") wrap over their three columns.
        for code in codes:
            column = 3 + 3 * codes.index(code)
            width = sum(ws.column_dimensions[get_column_letter(column + n)].width for n in range(3))
            heading = ws.cell(row=9, column=column).value
            lines = math.ceil(len(heading) * 1.1 / (width - 1))
            self.assertGreaterEqual(ws.row_dimensions[9].height, lines * LINE, heading)

    def test_a_commune_without_results_has_no_count(self):
        ws = export(form="01", area=self.w.tan_yen, year=2024)
        row = [c.value for c in find_row(ws, 2, "Xã An Dương")]
        self.assertEqual((row[2], row[4]), ("—", "Chưa có số liệu"))
        self.assertNotIn("0/19", cells(ws))


class SignatureOnTheLastPageTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.w = build_world()
        cls.cset = CriteriaSet.objects.get(code="xa_ntm_2021_2025")
        cls.criteria = list(cls.cset.criteria.all())

    def test_signature_block_always_shares_its_page_with_the_last_rows(self):
        district = make_area("T-999", "Thử", Level.DISTRICT, self.w.bac_giang, "huyện")
        carried = 0
        for n in range(1, 40):
            commune = make_area(f"T-999-{n:02d}", f"Xã {n:02d}", Level.COMMUNE, district, "xã")
            standings.restate_for(
                CriterionResult.objects.bulk_create(
                    CriterionResult(area=commune, criterion=c, year=2024, status=Status.MET) for c in self.criteria
                )
            )
            if n < 15:
                continue
            ws = export(form="01", area=district, year=2024, criteria_set=self.cset)
            table_end = find_row(ws, 2, "Số xã đạt 19/19 tiêu chí")[0].row
            signed = find_row(ws, 1, "NGƯỜI LẬP BIỂU")[0].row
            breaks = [b.id for b in ws.row_breaks.brk]
            with self.subTest(communes=n):
                self.assertTrue(breaks, "a table over a page long is broken into pages")
                self.assertLess(breaks[-1], table_end, "at least one row of the table goes with the signature")
                heights = [ws.row_dimensions[r].height or 16 for r in range(1, ws.max_row + 1)]
                last_page = sum(heights[8:11]) + sum(heights[breaks[-1] :])
                self.assertLessEqual(last_page, PRINTABLE_HEIGHT * 100 / ws.page_setup.scale, "and it fits a page")
                self.assertLess(table_end, signed)
            carried += breaks[-1] == table_end - 2
        self.assertTrue(carried, "some length leaves no room for the block under the last rows")
