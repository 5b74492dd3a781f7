"""The Biểu annexes: what a reviewer sees when opening the exported workbooks."""

import contextlib
import datetime
import io
import re
import tempfile
import zipfile
from decimal import Decimal
from unittest import mock

from django.core.management import call_command
from django.db import connection
from django.test import SimpleTestCase, TestCase
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import IllegalCharacterError
from openpyxl.worksheet.cell_range import CellRange
from openpyxl.writer.excel import ExcelWriter

from areas.models import Area, Level
from assignments.models import Agency
from criteria import standings
from criteria.models import CriteriaSet, Criterion, CriterionResult, Indicator, Status
from criteria.services import assess_criterion, record_indicator_result
from ntm_portal.spreadsheets import FORMULA_STARTS
from plans import services as plan_services
from plans.models import Deadline, FundingSource, ItemStatus, PlanStatus
from reports import bieu
from reports.bieu import sheet
from reports.bieu.sheet import roman
from tests.personas import build_world, make_area

SEED_003 = {  # Biểu 03 of seed 003: million VND per source, 8.321,7 in total.
    "CTMTQG_NTM": "80",
    "CTMTQG_DTTS": "3.494,3",
    "CTMTQG_GN": "717,6",
    "NS_TINH": "135",
    "NS_HUYEN": "1.650,4",
    "TIN_DUNG": "240",
    "DOANH_NGHIEP": "1.714,0",
    "NHAN_DAN": "245,4",
    "XHH_KHAC": "45,0",
}
HOSTILE_TITLES = ['=HYPERLINK("http://evil.example","bấm vào đây")', "-5 hộ", "@x", "+1"]


def export(**kwargs):
    out = io.BytesIO()
    rows = bieu.export(out, **kwargs)
    out.seek(0)
    return rows, load_workbook(out), out


def texts(ws):
    return [[cell.value for cell in row] for row in ws.iter_rows()]


def find_row(ws, column, value):
    for row in ws.iter_rows():
        if row[column - 1].value == value:
            return row
    raise AssertionError(f"{value!r} not in column {column}")


def evaluate(ws, formula):
    """The value of the SUM formulas the exporter writes: =SUM(E12:M12) or =SUM(D10,D14)."""
    match = re.fullmatch(r"=SUM\((.+)\)", formula)
    assert match, formula
    total = Decimal(0)
    for part in match.group(1).split(","):
        cells = ws[part] if ":" in part else ((ws[part],),)
        for row in cells if isinstance(cells, tuple) else (cells,):
            for cell in row if isinstance(row, tuple) else (row,):
                value = cell.value
                if isinstance(value, str) and value.startswith("="):
                    total += evaluate(ws, value)
                elif value is not None:
                    total += Decimal(str(value))
    return total


class CommuneResultsTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.w = build_world()
        cls.cset = CriteriaSet.objects.get(code="xa_ntm_2021_2025")
        ind = {i.code: i for i in Indicator.objects.in_set(cls.cset)}
        cls.ind = ind
        user = cls.w.officer_hung_my
        record_indicator_result(area=cls.w.hung_my, indicator=ind["1.1"], year=2024, boolean=True, user=user)
        record_indicator_result(area=cls.w.hung_my, indicator=ind["1.2"], year=2024, boolean=True, user=user)
        record_indicator_result(
            area=cls.w.hung_my,
            indicator=ind["2.1"],
            year=2024,
            numerator=Decimal(1276),
            denominator=Decimal(1413),
            user=user,
        )
        criteria = {c.number: c for c in cls.cset.criteria.all()}
        assess_criterion(area=cls.w.hung_my, criterion=criteria[6], year=2024, status="not_met", user=user)

    def test_header_block_title_and_merged_column_headings(self):
        _rows, wb, _out = export(form="01", area=self.w.hung_my, year=2024, day=datetime.date(2024, 2, 22))
        ws = wb["Biểu 01"]
        self.assertEqual(ws["A1"].value, "UBND XÃ HÙNG MỸ")
        self.assertEqual(ws["D1"].value, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
        self.assertEqual(ws["D2"].value, "Độc lập - Tự do - Hạnh phúc")
        self.assertEqual(ws["D3"].value, "Hùng Mỹ, ngày 22 tháng 02 năm 2024")
        self.assertEqual(ws["A5"].value, "Biểu số 01")
        self.assertIn("KẾT QUẢ THỰC HIỆN CÁC TIÊU CHÍ", ws["A6"].value)
        merged = {str(r) for r in ws.merged_cells.ranges}
        self.assertTrue({"A1:C1", "D1:F1", "A6:F6", "A9:A10", "B9:B10", "E9:F9"} <= merged, merged)
        self.assertEqual(
            [c.value for c in ws[9]][:5], ["STT", "Tiêu chí / chỉ tiêu", "Đơn vị", "Ngưỡng áp dụng", "Kết quả năm 2024"]
        )
        self.assertEqual([c.value for c in ws[10]][4:], ["Kết quả", "Đánh giá"])
        self.assertEqual(ws.freeze_panes, "A12")
        self.assertEqual(ws.print_title_rows, "$9:$11")
        self.assertEqual(ws.page_setup.orientation, "landscape")
        self.assertEqual(int(ws.page_setup.paperSize), 9)  # A4
        # A fixed scale at which the columns fill the page's width (Excel drops manual page breaks under "fit to").
        widths = sum(ws.column_dimensions[get_column_letter(i)].width for i in range(1, 7))
        self.assertLessEqual(widths * 6 * ws.page_setup.scale / 100, 842 - 2 * 0.4 * 72)

    def test_criteria_and_indicators_with_values_and_verdicts(self):
        rows, wb, _out = export(form="01", area=self.w.hung_my, year=2024)
        ws = wb.active
        criterion_rows = [r for r in texts(ws) if r[0] and re.fullmatch(r"\d+", str(r[0]))]
        self.assertEqual([int(r[0]) for r in criterion_rows], list(range(1, 20)))
        self.assertEqual(rows, 19 + Indicator.objects.in_set(self.cset).count())
        road = find_row(ws, 1, "2.1")
        self.assertEqual(road[4].value, "1.276/1.413 (90,3 %)")
        self.assertEqual(road[2].value, self.ind["2.1"].unit)
        planning = find_row(ws, 1, "1.1")
        self.assertEqual((planning[4].value, planning[5].value), ("Đạt", "Đạt"))
        self.assertEqual(find_row(ws, 1, "1")[5].value, "Đạt")
        self.assertEqual(find_row(ws, 1, "6")[5].value, "Chưa đạt")
        self.assertEqual(find_row(ws, 1, "7")[5].value, "Chưa đánh giá")
        self.assertEqual(find_row(ws, 1, "3.1")[4].value, None)
        met = CriterionResult.objects.filter(area=self.w.hung_my, year=2024, status=Status.MET).count()
        self.assertEqual(find_row(ws, 2, f"Tổng số tiêu chí đạt: {met}/19")[0].value, None)

    def test_unverified_threshold_is_marked(self):
        unverified = Indicator.objects.in_set(self.cset).filter(thresholds__verified=False).first()
        _rows, wb, _out = export(form="01", area=self.w.hung_my, year=2024)
        row = find_row(wb.active, 1, unverified.code)
        self.assertTrue(row[3].value.endswith("(*)"), row[3].value)


class DistrictResultsTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.w = build_world()
        cls.cset = CriteriaSet.objects.get(code="xa_ntm_2021_2025")
        criteria = list(cls.cset.criteria.order_by("number"))
        for criterion in criteria:
            status = "not_met" if criterion.number in (6, 17) else "met"
            assess_criterion(area=cls.w.an_duong, criterion=criterion, year=2024, status=status)
            assess_criterion(area=cls.w.song_van, criterion=criterion, year=2024, status="met")

    def test_one_row_per_commune_with_unmet_list_and_totals(self):
        rows, wb, _out = export(form="01", area=self.w.tan_yen, year=2024)
        ws = wb.active
        self.assertEqual(rows, 2)
        self.assertEqual(ws["A1"].value, "UBND HUYỆN TÂN YÊN")
        self.assertEqual([c.value for c in ws[10]][2:4], ["Số tiêu chí đạt", "Tiêu chí chưa đạt"])
        an_duong = find_row(ws, 2, "Xã An Dương")
        self.assertEqual([c.value for c in an_duong][:4], ["1", "Xã An Dương", "17/19", "6, 17"])
        song_van = find_row(ws, 2, "Xã Song Vân")
        self.assertEqual([c.value for c in song_van][2:4], ["19/19", None])
        self.assertEqual(find_row(ws, 2, "Tổng số xã")[2].value, 2)
        self.assertEqual(find_row(ws, 2, "Số xã đạt 19/19 tiêu chí")[2].value, 1)

    def test_province_groups_communes_by_district(self):
        _rows, wb, _out = export(form="01", area=self.w.bac_giang, year=2024)
        ws = wb.active
        self.assertEqual(find_row(ws, 2, "Huyện Tân Yên")[0].value, "I")
        self.assertEqual(find_row(ws, 2, "Huyện Việt Yên")[0].value, "II")
        tang_tien = find_row(ws, 2, "Xã Tăng Tiến")  # no results entered: no count ("—", never 0/19), a note
        self.assertEqual((tang_tien[2].value, tang_tien[4].value), ("—", "Chưa có số liệu"))

    def test_whole_country_groups_communes_by_province_and_names_their_district(self):
        with CaptureQueriesContext(connection) as queries:
            rows, wb, _out = export(form="01", area=None, year=2024)
        ws = wb.active
        self.assertEqual(ws["A1"].value, "BAN CHỈ ĐẠO TRUNG ƯƠNG")
        self.assertIn("Toàn quốc", ws["A7"].value)
        self.assertRegex(find_row(ws, 2, "Tỉnh Bắc Giang")[0].value, r"^[IVXL]+$")
        an_duong = find_row(ws, 2, "Xã An Dương, huyện Tân Yên")
        self.assertEqual([c.value for c in an_duong][2:4], ["17/19", "6, 17"])
        self.assertEqual(rows, Area.objects.communes().in_year(2024).count())
        self.assertEqual(find_row(ws, 2, "Tổng số xã")[2].value, rows)
        self.assertLessEqual(len(queries), 6)
        self.assertEqual(bieu.file_name("01", None, 2024), "Bieu01_toan-quoc_2024.xlsx")

    def test_roman_numbers_go_past_thirty_nine_for_the_provinces(self):
        self.assertEqual(
            [roman(n) for n in (4, 9, 14, 40, 49, 63, 99)], ["IV", "IX", "XIV", "XL", "XLIX", "LXIII", "XCIX"]
        )

    def test_queries_do_not_grow_with_communes(self):
        criteria = list(self.cset.criteria.order_by("number"))

        def district_with(count, code):
            district = make_area(code, f"Huyện {code}", Level.DISTRICT, self.w.bac_giang, "huyện")
            for n in range(count):
                commune = make_area(f"{code}-{n}", f"Xã {n}", Level.COMMUNE, district, "xã")
                standings.restate_for(
                    CriterionResult.objects.bulk_create(
                        CriterionResult(
                            area=commune, criterion=c, year=2024, status=Status.NOT_MET if c.number == 6 else Status.MET
                        )
                        for c in criteria
                    )
                )
            return district

        counts = []
        for count, code in ((5, "Q5"), (30, "Q30")):
            district = district_with(count, code)
            with CaptureQueriesContext(connection) as queries:
                rows, wb, _out = export(form="01", area=district, year=2024, criteria_set=self.cset)
            self.assertEqual(rows, count)
            self.assertEqual(find_row(wb.active, 2, "Tổng số xã")[2].value, count)
            counts.append(len(queries))
        self.assertEqual(counts[0], counts[1])
        self.assertLessEqual(counts[1], 7)  # with the header's plan and its signer in the steering committee

    def test_command_writes_the_file_and_reports_rows(self):
        out = io.StringIO()
        with tempfile.TemporaryDirectory() as folder:
            path_ = f"{folder}/bieu01.xlsx"
            call_command("export_bieu", area="T-219", year=2024, form="01", output=path_, stdout=out)
            ws = load_workbook(path_).active
        self.assertIn("Đã ghi 2 dòng", out.getvalue())
        self.assertEqual(find_row(ws, 2, "Xã An Dương")[3].value, "6, 17")

    def test_command_writes_the_national_bieu01(self):
        out = io.StringIO()
        with tempfile.TemporaryDirectory() as folder:
            path_ = f"{folder}/toanquoc.xlsx"
            call_command("export_bieu", area="toan-quoc", year=2024, form="01", output=path_, stdout=out)
            ws = load_workbook(path_).active
        self.assertIn("toàn quốc", out.getvalue())
        self.assertEqual(find_row(ws, 2, "Xã An Dương, huyện Tân Yên")[3].value, "6, 17")


class PlanFormsTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.w = build_world()
        cls.cset = CriteriaSet.objects.get(code="xa_ntm_2021_2025")
        criteria = {c.number: c for c in Criterion.objects.filter(criteria_set=cls.cset)}
        road = Indicator.objects.in_set(cls.cset).get(code="2.1")
        user = cls.w.officer_hung_my
        record_indicator_result(
            area=cls.w.hung_my, indicator=road, year=2023, numerator=Decimal(1276), denominator=Decimal(1413)
        )
        agency = Agency.objects.create(name="UBND xã Hùng Mỹ", area=cls.w.hung_my)
        cls.plan = plan_services.create_plan(
            user=user,
            area=cls.w.hung_my,
            data=plan_services.PlanData(
                title="Kế hoạch xây dựng NTM năm 2024",
                year=2024,
                number="05/KH-BCĐ",
                issued_on=datetime.date(2024, 2, 22),
                issued_by="Ban Chỉ đạo xã Hùng Mỹ",
                signer="Ma Đình Sắc",
                criteria_set=cls.cset,
                status=PlanStatus.ISSUED,
            ),
        )
        sources = {s.code: s for s in FundingSource.objects.all()}

        def add(title, codes, **data):
            funding = [plan_services.FundingInput(source=sources[c], planned=SEED_003.get(c, "10")) for c in codes]
            return plan_services.add_item(
                user=user, plan=cls.plan, data=plan_services.ItemData(title=title, **data), funding=funding
            )

        cls.road_item = add(
            "Làm biển báo giao thông",
            ["CTMTQG_NTM", "CTMTQG_DTTS"],
            criterion=criteria[2],
            indicator=road,
            lead_agency=agency,
            deadline=Deadline.of("quarter", 2024, 2),
        )
        add("Nâng cấp nhà văn hóa", ["CTMTQG_GN", "NS_TINH", "NS_HUYEN"], criterion=criteria[6])
        add("Vận động xã hội hóa", ["TIN_DUNG", "DOANH_NGHIEP", "NHAN_DAN", "XHH_KHAC"])
        for title in HOSTILE_TITLES:
            add(title, [])
        cancelled = add("Việc đã hủy", ["NS_XA"])
        plan_services.update_item(
            user=user, item=cancelled, data=plan_services.ItemData(title="Việc đã hủy", status=ItemStatus.CANCELLED)
        )

    def test_bieu03_totals_are_sum_formulas_matching_the_plan(self):
        _rows, wb, _out = export(form="03", area=self.w.hung_my, year=2024)
        ws = wb.active
        self.assertEqual(ws["A5"].value, "Biểu số 03")
        self.assertEqual(ws["A7"].value, "(Kèm theo Kế hoạch số 05/KH-BCĐ ngày 22/02/2024 của xã Hùng Mỹ)")
        self.assertIn("Hùng Mỹ, ngày 22 tháng 02 năm 2024", [c.value for c in ws[3]])
        active = list(FundingSource.objects.active().order_by("position"))
        self.assertEqual([c.value for c in ws[10]][4:], [s.name for s in active])
        self.assertIn(f"E9:{get_column_letter(4 + len(active))}9", {str(r) for r in ws.merged_cells.ranges})
        total_row = find_row(ws, 2, "TỔNG CỘNG")
        self.assertTrue(total_row[3].value.startswith("=SUM("))
        self.assertEqual(evaluate(ws, total_row[3].value), Decimal("8321.7"))
        db_total = sum(row["planned"] for row in self.plan.funding_totals())
        self.assertEqual(evaluate(ws, total_row[3].value), db_total)
        for column, source in enumerate(active, start=5):
            expected = next((r["planned"] for r in self.plan.funding_totals() if r["source_id"] == source.pk), 0)
            self.assertEqual(evaluate(ws, total_row[column - 1].value), expected, source.code)
        self.assertTrue(total_row[4].number_format.startswith("#,##0.0;"))
        self.assertIsNone(next((r for r in texts(ws) if r[1] == "Việc đã hủy"), None))

    def test_text_starting_like_a_formula_stays_text(self):
        _rows, wb, out = export(form="03", area=self.w.hung_my, year=2024)
        ws = wb.active
        for title in HOSTILE_TITLES:
            cell = find_row(ws, 2, title)[1]
            self.assertEqual((cell.value, cell.data_type), (title, "s"))
        sheet_xml = zipfile.ZipFile(out).read("xl/worksheets/sheet1.xml").decode()
        self.assertNotIn("HYPERLINK", "".join(re.findall(r"<f>(.*?)</f>", sheet_xml)))
        self.assertTrue(all(f.startswith("SUM(") for f in re.findall(r"<f>(.*?)</f>", sheet_xml)))

    def test_bieu02_lists_current_value_target_and_work(self):
        _rows, wb, _out = export(form="02", area=self.w.hung_my, year=2024)
        ws = wb.active
        self.assertEqual(ws["A2"].value, "BAN CHỈ ĐẠO XÃ HÙNG MỸ")
        self.assertEqual([c.value for c in ws[9]][3], "Hiện trạng đến hết năm 2023")
        road = [c.value for c in find_row(ws, 1, "2.1")]
        self.assertEqual(road[3], "1.276/1.413 (90,3 %)")
        self.assertTrue(road[5])
        self.assertEqual(road[6:9], ["Làm biển báo giao thông", "UBND xã Hùng Mỹ", "Quý II/2024"])
        self.assertEqual(find_row(ws, 1, "6")[6].value, "Nâng cấp nhà văn hóa")
        self.assertEqual(find_row(ws, 7, "Vận động xã hội hóa")[0].value, "1")
        self.assertEqual(find_row(ws, 1, "II")[1].value, "CÁC NỘI DUNG KHÁC")
        self.assertEqual(find_row(ws, 1, "I")[1].value, "CÁC TIÊU CHÍ NÔNG THÔN MỚI")
        self.assertTrue(any("Ma Đình Sắc" in row for row in texts(ws)))


class ExportViewTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.w = build_world()

    def get(self, user, area, **params):
        self.client.force_login(user)
        return self.client.get(f"/xuat-bieu/{area.pk}/", params)

    def test_officer_of_song_van_cannot_export_an_duong(self):
        self.assertEqual(self.get(self.w.officer_song_van, self.w.an_duong, bieu="01", nam=2024).status_code, 404)
        self.assertEqual(self.get(self.w.officer_song_van, self.w.an_duong).status_code, 404)
        self.assertEqual(self.get(self.w.officer_song_van, self.w.tan_yen, bieu="01", nam=2024).status_code, 404)

    def test_officer_exports_own_commune(self):
        response = self.get(self.w.officer_song_van, self.w.song_van, bieu="01", nam=2024)
        self.assertEqual(response.status_code, 200)
        self.assertIn('attachment; filename="Bieu01_song-van_2024.xlsx"', response["Content-Disposition"])

    def test_tan_yen_reviewer_exports_the_district_and_its_communes(self):
        response = self.get(self.w.reviewer_tan_yen, self.w.tan_yen, bieu="01", nam=2024)
        self.assertEqual(response.status_code, 200)
        ws = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
        self.assertEqual(ws["A1"].value, "UBND HUYỆN TÂN YÊN")
        self.assertEqual(self.get(self.w.reviewer_tan_yen, self.w.an_duong, bieu="02", nam=2024).status_code, 200)
        self.assertEqual(self.get(self.w.reviewer_tan_yen, self.w.hung_my, bieu="01", nam=2024).status_code, 404)

    def test_list_page_links_the_forms_of_the_area(self):
        self.client.force_login(self.w.reviewer_tan_yen)
        # Session, user, roles (the reviewer's own district comes with them) and the years holding data.
        with self.assertNumQueries(4):
            response = self.client.get(f"/xuat-bieu/{self.w.tan_yen.pk}/", {"nam": 2024})
        self.assertContains(response, "Biểu 01 — Kết quả thực hiện các tiêu chí")
        self.assertContains(response, "?bieu=03&amp;nam=2024")

    def test_a_download_without_a_year_is_of_this_year_when_no_year_holds_data(self):
        response = self.get(self.w.officer_song_van, self.w.song_van, bieu="01")
        this_year = timezone.localdate().year
        self.assertIn(f'filename="Bieu01_song-van_{this_year}.xlsx"', response["Content-Disposition"])

    def test_a_download_naming_its_year_does_not_ask_which_years_hold_data(self):
        # For a province that question reads every result of the province: asked only when the year is not given.
        def queries(**params):
            with CaptureQueriesContext(connection) as seen:
                self.assertEqual(
                    self.get(self.w.reviewer_tan_yen, self.w.tan_yen, bieu="01", **params).status_code, 200
                )
            return len(seen)

        this_year = timezone.localdate().year
        queries(nam=this_year)  # warm-up: the first download reads what later ones find already loaded
        self.assertEqual(queries(), queries(nam=this_year) + 1)

    def test_unknown_form_is_not_found_and_anonymous_is_sent_to_login(self):
        self.assertEqual(self.get(self.w.reviewer_tan_yen, self.w.tan_yen, bieu="99").status_code, 404)
        self.client.logout()
        self.assertEqual(self.client.get(f"/xuat-bieu/{self.w.tan_yen.pk}/").status_code, 302)


# ---------------------------------------------------------------- the writer against openpyxl's own cells


class CellSheet(sheet.Sheet):
    """The reference the writer is held to: the same rows written through openpyxl's own cells, styles and merged
    ranges (as the writer did before it wrote the rows' XML itself), saved by openpyxl."""

    def append(self, cells, height=None, spans=()):
        height = height or self._fitting_height(cells, spans)
        self.row += 1
        if height:
            self.ws.row_dimensions[self.row].height = height
        self.ws.append([None if item is None else self.openpyxl_cell(*item) for item in cells])
        self.heights.append(height or sheet.ROW_HEIGHT_PT)
        for first, last in spans:
            self.merge(first, last)
        return self.row

    def openpyxl_cell(self, value, style):
        cell = WriteOnlyCell(self.ws, value=value)
        if style is not None:
            cell.font = Font(
                name=sheet.FONT_NAME,
                size=style.size,
                bold=style.bold,
                italic=style.italic,
                underline="single" if style.underline else None,
            )
            cell.alignment = Alignment(horizontal=style.horizontal, vertical=style.vertical, wrap_text=True)
            if style.border:
                cell.border = sheet.BORDER
            if style.number_format:
                cell.number_format = style.number_format
        if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not isinstance(value, sheet.Formula):
            cell.data_type = "s"
            cell.quotePrefix = True
        return cell

    def merge(self, first_col, last_col, first_row=None, last_row=None):
        first_row = first_row or self.row
        last_row = last_row or first_row
        if (first_col, first_row) != (last_col, last_row):
            self.ws.merged_cells.add(
                CellRange(min_col=first_col, min_row=first_row, max_col=last_col, max_row=last_row)
            )


def through_openpyxl_cells():
    """Write with `CellSheet` and save with openpyxl's own workbook writer."""
    stack = contextlib.ExitStack()
    stack.enter_context(mock.patch.object(sheet, "Sheet", CellSheet))
    stack.enter_context(mock.patch.object(sheet, "_ExcelWriter", ExcelWriter))
    return stack


def described(content):
    """Everything a reader sees of a workbook, read back with openpyxl, sheet by sheet."""
    workbook = load_workbook(io.BytesIO(content))
    sheets = []
    for ws in workbook.worksheets:
        cells = [
            (
                c.coordinate,
                c.value,
                c.data_type,
                (c.font.name, c.font.sz, c.font.b, c.font.i, c.font.u),
                (c.alignment.horizontal, c.alignment.vertical, c.alignment.wrap_text),
                (c.border.left.style, c.border.right.style, c.border.top.style, c.border.bottom.style),
                c.number_format,
                c.quotePrefix,
            )
            for row in ws.iter_rows()
            for c in row
        ]
        sheets.append(
            {
                "title": ws.title,
                "state": ws.sheet_state,
                "cells": cells,
                "merged": sorted(str(r) for r in ws.merged_cells.ranges),
                "widths": {key: d.width for key, d in ws.column_dimensions.items()},
                "heights": {key: d.height for key, d in ws.row_dimensions.items() if d.height},
                "freeze_panes": ws.freeze_panes,
                "print_titles": ws.print_title_rows,
                "page": (ws.page_setup.orientation, ws.page_setup.paperSize, ws.page_setup.scale),
                "margins": (ws.page_margins.left, ws.page_margins.top, ws.page_margins.header),
                "centered": ws.print_options.horizontalCentered,
                "footer": ws.oddFooter.center.text,
                "breaks": [b.id for b in ws.row_breaks.brk],
            }
        )
    return {"sheets": sheets, "full_calc": workbook.calculation.fullCalcOnLoad}


class WriterMatchesOpenpyxlMixin:
    def assert_written_as_openpyxl_would(self, **kwargs):
        """The export reads back exactly as the same rows written through openpyxl's own cells do."""
        kwargs.setdefault("day", datetime.date(2024, 2, 22))
        written = io.BytesIO()
        bieu.export(written, **kwargs)
        reference = io.BytesIO()
        with through_openpyxl_cells():
            bieu.export(reference, **kwargs)
        # The reference is openpyxl's: its sheets come out of its own XML writer (no style attribute text).
        with zipfile.ZipFile(reference) as archive:
            self.assertIn(b"<c ", archive.read("xl/worksheets/sheet1.xml"))
        ours, theirs = described(written.getvalue()), described(reference.getvalue())
        self.assertGreater(len(ours["sheets"][0]["cells"]), 50)
        self.assertEqual(ours, theirs)


class SheetWriterTests(WriterMatchesOpenpyxlMixin, SimpleTestCase):
    """Every kind of value and style the forms write, through the writer and through openpyxl's cells."""

    HEADER = sheet.Header(
        body_upper="UBND XÃ HÙNG MỸ",
        body="BAN CHỈ ĐẠO XÂY DỰNG NÔNG THÔN MỚI",
        number="Số: 05/KH-BCĐ",
        place_date="Hùng Mỹ, ngày 22 tháng 02 năm 2024",
        form="Biểu số 99",
        title="MỘT BIỂU THỬ",
        subtitle="(Kèm theo Kế hoạch số 05/KH-BCĐ)",
        unit_note="Đơn vị tính: triệu đồng",
        signer_title="TM. BAN CHỈ ĐẠO\nTRƯỞNG BAN",
        signer_name="Ma Đình Sắc",
    )
    COLUMNS = [
        sheet.Column("STT", 6),
        sheet.Column("Nội dung", 30),
        sheet.Column("Ghi chú", 14),
        sheet.Column("Số", 12, "Số liệu"),
        sheet.Column("Tiền", 12, "Số liệu"),
    ]
    TEXTS = [
        "Đường trục xã & liên xã <dài> 12 km",
        "  lề trắng hai bên  ",
        "dòng một\ndòng hai\r\ndòng ba",
        "tab\tở giữa",
        "#N/A",
        "",
        *HOSTILE_TITLES,
        "=",
        "\tthụt vào",
        "Rất dài " * 40,
        "Chữ Hán 越南 và biểu tượng 🌾",
    ]
    NUMBERS = [0, 7, -3, 1276.5, Decimal("755.100"), Decimal("0.51"), None, True, 10**15, 1 / 3]

    def write(self, out):
        workbook, ws = sheet.start_workbook("Biểu 99", self.COLUMNS, self.HEADER)
        sheet.section(ws, "I", "CÁC NỘI DUNG")
        first = ws.row + 1
        for number, text in enumerate(self.TEXTS, start=1):
            ws.append([(str(number), sheet.TEXT_CENTER), (text, sheet.TEXT), (text, sheet.TEXT_BOLD), None, None])
        for number, value in enumerate(self.NUMBERS, start=1):
            ws.append(
                [
                    (roman(number), sheet.TEXT_CENTER_BOLD),
                    (repr(value), sheet.TEXT),
                    ("", sheet.TEXT),
                    (value, sheet.COUNT),
                    (value, sheet.MONEY_BOLD),
                ],
                spans=[(2, 3)],
            )
        ws.append(
            [("", sheet.TEXT_BOLD), ("TỔNG CỘNG", sheet.TEXT_BOLD), ("", sheet.TEXT_BOLD)]
            + [ws.formula(f"=SUM({c}{first}:{c}{ws.row})", sheet.MONEY_BOLD) for c in "DE"],
            height=30,
        )
        ws.spanning('=IF(A1="","",1)', sheet.Style(italic=True, size=11))
        sheet.finish_sheet(ws, self.HEADER, footnote="(*) Ghi chú cuối bảng")
        sheet.save(workbook, out, form="99", area=None, year=2024)

    def test_every_value_and_style_reads_back_as_through_openpyxl_cells(self):
        written = io.BytesIO()
        self.write(written)
        reference = io.BytesIO()
        with through_openpyxl_cells():
            self.write(reference)
        self.assertEqual(described(written.getvalue()), described(reference.getvalue()))

    def test_text_that_looks_like_a_formula_or_an_error_stays_as_typed(self):
        written = io.BytesIO()
        self.write(written)
        ws = load_workbook(io.BytesIO(written.getvalue())).active
        typed = {c.value: c for row in ws.iter_rows() for c in row if isinstance(c.value, str)}
        for text in (*HOSTILE_TITLES, "=", "\tthụt vào", '=IF(A1="","",1)'):
            self.assertEqual((typed[text].data_type, typed[text].quotePrefix), ("s", True), text)
        self.assertEqual((typed["#N/A"].data_type, typed["#N/A"].quotePrefix), ("e", False))
        self.assertEqual(typed["dòng một\ndòng hai\r\ndòng ba"].value, "dòng một\ndòng hai\r\ndòng ba")
        self.assertEqual(typed["  lề trắng hai bên  "].value, "  lề trắng hai bên  ")
        with zipfile.ZipFile(written) as archive:
            formulas = re.findall(r"<f>(.*?)</f>", archive.read("xl/worksheets/sheet1.xml").decode())
        first, last = 13, 12 + len(self.TEXTS) + len(self.NUMBERS)
        self.assertEqual(formulas, [f"SUM(D{first}:D{last})", f"SUM(E{first}:E{last})"])

    def test_a_control_character_is_refused_as_openpyxl_refuses_it(self):
        workbook, ws = sheet.start_workbook("Biểu 99", self.COLUMNS, self.HEADER)
        with self.assertRaises(IllegalCharacterError):
            ws.append([("bell\x07", sheet.TEXT)])


class FormsWrittenAsOpenpyxlWouldTests(WriterMatchesOpenpyxlMixin, TestCase):
    """Each form at each level, through the writer and through openpyxl's cells (the data of the classes above)."""

    @classmethod
    def setUpTestData(cls):
        cls.w = build_world()
        cset = CriteriaSet.objects.get(code="xa_ntm_2021_2025")
        ind = {i.code: i for i in Indicator.objects.in_set(cset)}
        user = cls.w.officer_hung_my
        for year in (2023, 2024):
            record_indicator_result(
                area=cls.w.hung_my, indicator=ind["2.1"], year=year, numerator=Decimal(1276), denominator=Decimal(1413)
            )
        record_indicator_result(area=cls.w.hung_my, indicator=ind["1.1"], year=2024, boolean=True, user=user)
        for criterion in cset.criteria.order_by("number"):
            status = "not_met" if criterion.number in (6, 17) else "met"
            assess_criterion(area=cls.w.an_duong, criterion=criterion, year=2024, status=status)
        plan = plan_services.create_plan(
            user=user,
            area=cls.w.hung_my,
            data=plan_services.PlanData(title="Kế hoạch 2024", year=2024, number="05/KH-BCĐ", criteria_set=cset),
        )
        sources = {s.code: s for s in FundingSource.objects.all()}
        road = ind["2.1"]
        for title in ["Làm biển báo <giao thông> & đèn", *HOSTILE_TITLES]:
            plan_services.add_item(
                user=user,
                plan=plan,
                data=plan_services.ItemData(title=title, criterion=road.criterion, indicator=road),
                funding=[plan_services.FundingInput(source=sources["NS_HUYEN"], planned="1.650,4")],
            )
        plan_services.add_item(
            user=user,
            plan=plan,
            data=plan_services.ItemData(title="Vận động xã hội hóa", deadline=Deadline.of("quarter", 2024, 2)),
            funding=[plan_services.FundingInput(source=sources["NHAN_DAN"], planned="245,4")],
        )

    def test_bieu01_at_every_level(self):
        for area in (self.w.hung_my, self.w.tan_yen, self.w.bac_giang, None):
            with self.subTest(area=area):
                self.assert_written_as_openpyxl_would(form="01", area=area, year=2024)

    def test_bieu02_and_03(self):
        for form, area in (
            ("02", self.w.hung_my),
            ("02", self.w.hung_my.district),
            ("03", self.w.hung_my),
            ("03", self.w.hung_my.district),
            ("03", self.w.hung_my.province),
        ):
            with self.subTest(form=form, area=area):
                self.assert_written_as_openpyxl_would(form=form, area=area, year=2024)
