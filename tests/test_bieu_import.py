"""Importing Biểu 01 (results) and Biểu 03 (plan items and money) back, with a dry run, all or nothing."""

import datetime
import io
import shutil
import tempfile
import zipfile
from decimal import Decimal
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import TestCase, override_settings
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from areas.models import Level
from criteria.models import CriteriaSet, Indicator, IndicatorResult, Status
from criteria.services import record_indicator_result
from ntm_portal import spreadsheets
from plans import services as plan_services
from plans.models import FundingLine, FundingSource, PlanItem, PlanStatus
from reports import bieu_import
from reports.bieu.sheet import INFO_SHEET
from tests.bieu_files import edited, exported, row_of
from tests.personas import build_world, make_area

MEDIA = tempfile.mkdtemp(prefix="ntm-import-tests-")


def tearDownModule():
    shutil.rmtree(MEDIA, ignore_errors=True)


def as_file(data, tmp):
    path = Path(tmp) / "upload.xlsx"
    path.write_bytes(data.getvalue() if hasattr(data, "getvalue") else data)
    return path


@override_settings(MEDIA_ROOT=MEDIA)
class ImportTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.w = build_world()
        cls.cset = CriteriaSet.objects.get(code="xa_ntm_2021_2025")
        cls.ind = {i.code: i for i in Indicator.objects.in_set(cls.cset)}
        cls.officer = cls.w.officer_hung_my
        cls.commune = cls.w.hung_my
        cls.village = make_area("T-02287-01", "Bường", Level.VILLAGE, cls.commune, "bản")

    def setUp(self):
        Path(MEDIA).mkdir(exist_ok=True)
        self.tmp = tempfile.mkdtemp(dir=MEDIA)

    def record(self, code, **values):
        return record_indicator_result(
            area=self.commune, indicator=self.ind[code], year=2024, user=self.officer, **values
        )

    def preview(self, data, area=None):
        return bieu_import.preview(as_file(data, self.tmp), area=area or self.commune, user=self.officer)

    def apply(self, data, area=None):
        return bieu_import.apply(as_file(data, self.tmp), area=area or self.commune, user=self.officer)


class Bieu01ImportTests(ImportTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        record = cls.record.__get__(cls)
        record("1.1", boolean=True)
        record("2.1", numerator=Decimal(1276), denominator=Decimal(1413))
        record("17.8", numerator=Decimal(1276), denominator=Decimal(1413))
        record("15.1", value=Decimal("90.5"))
        record("17.3", not_applicable=True)

    def free_codes(self, count):
        """Sub-indicators without a result yet, whose rows carry their code."""
        taken = set(IndicatorResult.objects.filter(area=self.commune).values_list("indicator__code", flat=True))
        codes = [i.code for i in Indicator.objects.in_set(self.cset).order_by("criterion__number", "sort_key")]
        return [c for c in codes if "." in c and c not in taken][:count]

    def bieu01(self):
        return exported(form="01", area=self.commune, year=2024, criteria_set=self.cset)

    def set_result(self, data, code, text):
        def edit(ws, info):
            ws.cell(row=row_of(ws, 1, code), column=5).value = text

        return edited(data, edit)

    def test_unchanged_export_reimports_with_no_change(self):
        found = self.preview(self.bieu01())
        self.assertTrue(found.ok, found.bad_cells)
        self.assertEqual(found.changes, [])
        self.assertEqual(found.unchanged, 5)

    def test_one_changed_value_is_the_only_change_and_lands_in_the_history(self):
        data = self.set_result(self.bieu01(), "2.1", "1.300/1.413")
        found = self.preview(data)
        self.assertEqual(
            [(c.label[:4], c.fields) for c in found.changes], [("2.1.", [("Kết quả", "1.276/1.413", "1.300/1.413")])]
        )
        self.assertEqual(IndicatorResult.objects.get(area=self.commune, indicator=self.ind["2.1"]).numerator, 1276)

        self.apply(data)
        result = IndicatorResult.objects.get(area=self.commune, indicator=self.ind["2.1"], year=2024)
        self.assertEqual((result.numerator, result.denominator), (1300, 1413))
        latest = result.history.order_by("-history_id").first()
        self.assertEqual((latest.numerator, latest.history_user), (1300, self.officer))
        self.assertEqual(self.preview(self.bieu01()).changes, [])

    def test_numbers_ratios_verdicts_and_not_applicable_are_read(self):
        data = self.bieu01()
        for code, text in (("15.1", "92,3"), ("1.1", "Không đạt"), ("2.1", "Không áp dụng"), ("1.2", "Đạt")):
            data = self.set_result(data, code, text)
        self.apply(data)
        results = {r.indicator.code: r for r in IndicatorResult.objects.filter(area=self.commune, year=2024)}
        self.assertEqual(results["15.1"].value, Decimal("92.3"))
        self.assertEqual((results["1.1"].boolean, results["1.1"].status), (False, Status.NOT_MET))
        self.assertTrue(results["2.1"].not_applicable)
        self.assertTrue(results["1.2"].boolean)

    def test_a_bad_number_is_listed_with_row_column_and_reason_and_nothing_is_written(self):
        data = self.set_result(self.set_result(self.bieu01(), "15.1", "12,3,4"), "2.1", "1.300/1.413")
        found = self.preview(data)
        self.assertFalse(found.ok)
        [bad] = found.bad_cells
        ws = load_workbook(data).worksheets[0]
        self.assertEqual(
            (bad.row, bad.column, bad.header, bad.value), (row_of(ws, 1, "15.1"), "E", "Kết quả", "12,3,4")
        )
        self.assertIn("không phải là số", bad.reason)
        with self.assertRaises(bieu_import.ImportRefused):
            self.apply(data)
        self.assertEqual(IndicatorResult.objects.get(area=self.commune, indicator=self.ind["2.1"]).numerator, 1276)

    def test_nine_good_rows_and_one_bad_write_nothing(self):
        codes = self.free_codes(9)
        data = self.bieu01()
        for code in codes:
            indicator = self.ind[code]
            data = self.set_result(data, code, "Đạt" if indicator.kind == "boolean" else "95")
        data = self.set_result(data, "15.1", "nhiều")
        found = self.preview(data)
        self.assertEqual((len(found.changes), len(found.bad_cells)), (9, 1))
        before = (IndicatorResult.objects.count(), IndicatorResult.history.count())
        with self.assertRaises(bieu_import.ImportRefused):
            self.apply(data)
        self.assertEqual((IndicatorResult.objects.count(), IndicatorResult.history.count()), before)

    def test_a_value_the_service_refuses_shows_in_the_dry_run(self):
        found = self.preview(self.set_result(self.bieu01(), "2.1", "1.500/1.413"))
        [bad] = found.bad_cells
        self.assertEqual(bad.column, "E")
        self.assertIn("Tử số không được lớn hơn mẫu số", bad.reason)
        self.assertEqual(IndicatorResult.objects.get(area=self.commune, indicator=self.ind["2.1"]).numerator, 1276)

    def test_confirming_writes_every_result_in_a_fixed_number_of_queries_with_history(self):
        def filled(codes):
            data = self.bieu01()
            for code in codes:
                data = self.set_result(data, code, "Đạt" if self.ind[code].kind == "boolean" else "95")
            return data

        codes = self.free_codes(12)
        with CaptureQueriesContext(connection) as few:
            self.apply(filled(codes[:2]))
        with CaptureQueriesContext(connection) as many:
            self.apply(filled(codes[2:]))
        self.assertEqual(len(few), len(many))
        history = IndicatorResult.history.filter(area=self.commune, indicator__code__in=codes, history_type="+")
        self.assertEqual(history.filter(history_user=self.officer).count(), 12)
        # The statuses are those a save gives: the officer's own save of one of them agrees.
        stored = IndicatorResult.objects.get(area=self.commune, indicator=self.ind[codes[0]], year=2024)
        again = self.record(codes[0], **{"boolean": True} if stored.boolean is not None else {"value": Decimal(95)})
        self.assertEqual((again.status, again.is_tentative), (stored.status, stored.is_tentative))

    def test_bad_values_at_the_write_are_bad_cells_of_their_rows(self):
        data = self.set_result(self.bieu01(), "2.1", "1.500/1.413")
        data = self.set_result(data, "17.8", "1.600/1.413")
        found = self.preview(data)
        ws = load_workbook(data).worksheets[0]
        self.assertEqual(
            [(b.row, b.column, b.header) for b in found.bad_cells],
            [(row_of(ws, 1, "2.1"), "E", "Kết quả"), (row_of(ws, 1, "17.8"), "E", "Kết quả")],
        )
        self.assertFalse(any(b.reason.startswith("Dòng") for b in found.bad_cells))

    def test_verdict_on_a_numeric_indicator_is_a_bad_cell(self):
        [bad] = self.preview(self.set_result(self.bieu01(), "15.1", "Đạt")).bad_cells
        self.assertIn("cần số đo", bad.reason)

    def test_unknown_indicator_code_is_a_bad_cell(self):
        def edit(ws, info):
            ws.cell(row=row_of(ws, 1, "2.1"), column=1).value = "2.9"

        [bad] = self.preview(edited(self.bieu01(), edit)).bad_cells
        self.assertEqual((bad.column, bad.header, bad.value), ("A", "STT", "2.9"))
        self.assertIn("Không có chỉ tiêu mã “2.9”", bad.reason)

    def test_wrong_template_is_refused_whole(self):
        def edit(ws, info):
            ws["A6"].value = "DANH SÁCH HỘ NGHÈO"

        with self.assertRaisesMessage(bieu_import.ImportRefused, "Sai mẫu biểu"):
            self.preview(edited(self.bieu01(), edit))

    def test_missing_result_column_is_refused_whole(self):
        def edit(ws, info):
            ws["E10"].value = "Số liệu"

        with self.assertRaisesMessage(bieu_import.ImportRefused, "Thiếu cột “Kết quả”"):
            self.preview(edited(self.bieu01(), edit))

    def test_workbook_of_another_commune_is_refused(self):
        other = exported(form="01", area=self.w.an_duong, year=2024, criteria_set=self.cset)
        with self.assertRaisesMessage(bieu_import.ImportRefused, "là biểu của xã An Dương, không phải của xã Hùng Mỹ"):
            self.preview(other)

    def test_unknown_area_code_is_refused(self):
        def edit(ws, info):
            info["B3"].value = "ZZ-999"

        with self.assertRaisesMessage(bieu_import.ImportRefused, "Mã đơn vị “ZZ-999”"):
            self.preview(edited(self.bieu01(), edit))

    def test_files_that_are_not_excel_are_refused(self):
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as z:
            z.writestr("word/document.xml", "<w/>")
        broken = io.BytesIO(b"PK\x03\x04" + b"\x00" * 200)
        for name, content in (
            ("bieu.xlsx", b"%PDF-1.4 not a workbook"),
            ("bieu.xlsx", archive.getvalue()),
            ("bieu.xlsx", broken.getvalue()),
            ("bieu.xlsx", b""),
        ):
            with self.assertRaises(bieu_import.ImportRefused):
                spreadsheets.check_upload(SimpleUploadedFile(name, content))

    def test_a_workbook_without_the_information_sheet_is_refused(self):
        wb = load_workbook(self.bieu01())
        del wb[INFO_SHEET]
        out = io.BytesIO()
        wb.save(out)
        with self.assertRaisesMessage(bieu_import.ImportRefused, "trang thông tin"):
            self.preview(out)

    def test_reading_does_not_query_more_with_more_results(self):
        data = self.bieu01()
        with CaptureQueriesContext(connection) as few:
            bieu_import.read(as_file(data, self.tmp), area=self.commune)
        for code in self.free_codes(7):
            self.record(code, value=Decimal(95)) if self.ind[code].kind != "boolean" else self.record(
                code, boolean=True
            )
        data = self.bieu01()
        with CaptureQueriesContext(connection) as many:
            bieu_import.read(as_file(data, self.tmp), area=self.commune)
        self.assertEqual(len(few), len(many))


class Bieu03ImportTests(ImportTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.sources = {s.code: s for s in FundingSource.objects.all()}
        cls.plan = plan_services.create_plan(
            user=cls.officer,
            area=cls.commune,
            data=plan_services.PlanData(
                title="Kế hoạch xây dựng NTM năm 2024",
                year=2024,
                number="05/KH-BCĐ",
                issued_on=datetime.date(2024, 2, 22),
                criteria_set=cls.cset,
                status=PlanStatus.ISSUED,
            ),
        )
        criteria = {c.number: c for c in cls.cset.criteria.all()}
        cls.road = plan_services.add_item(
            user=cls.officer,
            plan=cls.plan,
            data=plan_services.ItemData(title="Bê tông hóa đường trục thôn", criterion=criteria[2], area=cls.village),
            funding=[
                plan_services.FundingInput(cls.sources["NS_HUYEN"], "1.650,4", "200"),
                plan_services.FundingInput(cls.sources["NHAN_DAN"], "245,4"),
            ],
        )
        cls.hall = plan_services.add_item(
            user=cls.officer,
            plan=cls.plan,
            data=plan_services.ItemData(title="=Nâng cấp nhà văn hóa", criterion=criteria[6], target="100% thôn"),
            funding=[plan_services.FundingInput(cls.sources["NS_TINH"], "135")],
        )

    def with_new_lines(self, count):
        """The commune's Biểu 03 with `count` new lines of work, each with money from the province budget."""

        def edit(ws, info):
            heading = next(r for r in range(1, 20) if ws.cell(row=r, column=1).value == "STT")
            total = next(r for r in range(heading, ws.max_row + 1) if ws.cell(row=r, column=2).value == "TỔNG CỘNG")
            # openpyxl does not move merged ranges with inserted rows: the body's merges are dropped first.
            for merged in list(ws.merged_cells.ranges):
                if merged.min_row > heading + 1:
                    ws.unmerge_cells(str(merged))
            ws.insert_rows(total, count)
            column = self.column_of(ws, "NS_TINH")
            for n in range(count):
                ws.cell(row=total + n, column=2).value = f"Việc thêm số {n + 1}."
                ws.cell(row=total + n, column=column).value = 10 + n

        return edited(self.bieu03(), edit)

    def test_a_long_review_shows_its_changes_a_hundred_at_a_time(self):
        self.client.force_login(self.officer)
        for count, pages in ((1, None), (250, "1–100 trong 250")):
            upload = SimpleUploadedFile("bieu03.xlsx", self.with_new_lines(count).getvalue())
            review = self.client.post(f"/nhap-bieu/{self.commune.pk}/", {"file": upload})["Location"]
            page = self.client.get(review)
            body = page.content.decode()
            self.assertContains(page, f"{count} dòng sẽ được ghi" if count == 1 else "250 dòng sẽ được ghi")
            shown = body.count("Việc thêm số ")
            self.assertEqual(shown, min(count, 100))
            if pages is None:
                self.assertNotIn('class="pager"', body)
                continue
            self.assertContains(page, pages)
            last = self.client.get(review, {"trang": 3}).content.decode()
            self.assertEqual(last.count("Việc thêm số "), 50)
            self.assertIn("Việc thêm số 250.", last)

    def bieu03(self):
        return exported(form="03", area=self.commune, year=2024)

    def column_of(self, ws, source_code):
        name = self.sources[source_code].name
        return next(cell.column for cell in ws[10] if cell.value == name)

    def test_unchanged_export_reimports_with_no_change(self):
        found = self.preview(self.bieu03())
        self.assertTrue(found.ok, found.bad_cells)
        self.assertEqual((found.changes, found.unchanged), ([], 2))

    def test_one_changed_amount_is_the_only_change_and_keeps_what_was_paid(self):
        def edit(ws, info):
            ws.cell(
                row=row_of(ws, 2, "Bê tông hóa đường trục thôn"), column=self.column_of(ws, "NS_HUYEN")
            ).value = "1.700,5"

        data = edited(self.bieu03(), edit)
        [change] = self.preview(data).changes
        self.assertEqual((change.label, change.fields), (self.road.title, [("Ngân sách huyện", "1.650,4", "1.700,5")]))
        self.apply(data)
        line = FundingLine.objects.get(item=self.road, source=self.sources["NS_HUYEN"])
        self.assertEqual((line.planned, line.disbursed), (Decimal("1700.5"), Decimal(200)))
        latest = line.history.order_by("-history_id").first()
        self.assertEqual((latest.planned, latest.history_user), (Decimal("1700.5"), self.officer))
        self.assertEqual(
            FundingLine.objects.get(item=self.road, source=self.sources["NHAN_DAN"]).planned, Decimal("245.4")
        )
        self.assertEqual(self.preview(self.bieu03()).changes, [])

    def test_a_new_row_becomes_a_new_item_of_the_plan_in_its_village(self):
        def edit(ws, info):
            for merged in list(ws.merged_cells.ranges):
                if merged.min_row > 11:  # Excel moves merged cells along with inserted rows; openpyxl does not
                    ws.unmerge_cells(str(merged))
            total = row_of(ws, 2, "TỔNG CỘNG")
            ws.insert_rows(total)
            ws.cell(row=total, column=1).value = "2"
            ws.cell(row=total, column=2).value = "Lắp 01 loa thu phát thanh"
            ws.cell(row=total, column=3).value = "bản Bường"
            ws.cell(row=total, column=self.column_of(ws, "NS_XA")).value = 12.5

        data = edited(self.bieu03(), edit)
        [change] = self.preview(data).changes
        self.assertTrue(change.created)
        self.apply(data)
        item = PlanItem.objects.get(title="Lắp 01 loa thu phát thanh")
        self.assertEqual((item.plan, item.area, item.criterion.number), (self.plan, self.village, 6))
        self.assertEqual(item.planned_total, Decimal("12.5"))
        self.assertEqual(item.history.first().history_user, self.officer)

    def test_a_title_with_quotes_commas_a_line_break_and_a_backslash_is_stored_as_typed(self):
        # PostgreSQL takes the new rows as CSV (ntm_portal.bulk.insert_rows): what CSV quotes must come back unchanged.
        title = 'Sửa cống "Đồng Mạ", thôn 1\nđoạn 2 \\ 0,51 km; ""cũ""'

        def edit(ws, info):
            for merged in list(ws.merged_cells.ranges):
                if merged.min_row > 11:
                    ws.unmerge_cells(str(merged))
            total = row_of(ws, 2, "TỔNG CỘNG")
            ws.insert_rows(total)
            ws.cell(row=total, column=2).value = title
            ws.cell(row=total, column=self.column_of(ws, "NS_XA")).value = 7

        self.apply(edited(self.bieu03(), edit))
        item = PlanItem.objects.get(plan=self.plan, title__startswith="Sửa cống")
        self.assertEqual(item.title, title)
        self.assertEqual((item.notes, item.unit, item.deadline_label), ("", "", ""))
        self.assertIsNone(item.deadline_date)
        self.assertEqual(item.history.get().title, title)

    def test_unknown_place_and_bad_amount_are_bad_cells_and_nothing_is_written(self):
        def edit(ws, info):
            row = row_of(ws, 2, "Bê tông hóa đường trục thôn")
            ws.cell(row=row, column=3).value = "thôn Không Có"
            hall = row_of(ws, 2, "=Nâng cấp nhà văn hóa (mục tiêu: 100% thôn)")
            ws.cell(row=hall, column=self.column_of(ws, "NS_TINH")).value = "12,3,4"

        data = edited(self.bieu03(), edit)
        found = self.preview(data)
        self.assertEqual(
            [(b.column, b.header, b.value) for b in found.bad_cells],
            [("C", "Địa điểm", "thôn Không Có"), (found.bad_cells[1].column, "Ngân sách tỉnh", "12,3,4")],
        )
        before = (FundingLine.history.count(), PlanItem.history.count())
        with self.assertRaises(bieu_import.ImportRefused):
            self.apply(data)
        self.assertEqual((FundingLine.history.count(), PlanItem.history.count()), before)

    def test_missing_source_column_is_refused_whole(self):
        def edit(ws, info):
            ws.cell(row=10, column=self.column_of(ws, "NS_TINH")).value = "Vốn khác"

        with self.assertRaisesMessage(bieu_import.ImportRefused, "Thiếu cột “Ngân sách tỉnh”"):
            self.preview(edited(self.bieu03(), edit))

    def test_reading_does_not_query_more_with_more_items(self):
        data = self.bieu03()
        with CaptureQueriesContext(connection) as few:
            bieu_import.read(as_file(data, self.tmp), area=self.commune)
        for n in range(6):
            plan_services.add_item(
                user=self.officer,
                plan=self.plan,
                data=plan_services.ItemData(title=f"Việc {n}", area=self.village),
                funding=[plan_services.FundingInput(self.sources["NS_XA"], "10")],
            )
        data = self.bieu03()
        with CaptureQueriesContext(connection) as many:
            found = bieu_import.read(as_file(data, self.tmp), area=self.commune)
        self.assertEqual(found.unchanged, 8)
        self.assertEqual(len(few), len(many))

    def with_new_rows(self, count, prefix="Việc mới"):
        def edit(ws, info):
            for merged in list(ws.merged_cells.ranges):
                if merged.min_row > 11:
                    ws.unmerge_cells(str(merged))
            total = row_of(ws, 2, "TỔNG CỘNG")
            ws.insert_rows(total, count)
            for n in range(count):
                ws.cell(row=total + n, column=2).value = f"{prefix} {n}"
                ws.cell(row=total + n, column=3).value = "bản Bường"
                ws.cell(row=total + n, column=self.column_of(ws, "NS_XA")).value = 5
            # A changed amount on an existing item too: the confirmation updates and creates in one go.
            road = row_of(ws, 2, "Bê tông hóa đường trục thôn")
            ws.cell(row=road, column=self.column_of(ws, "NS_HUYEN")).value = 1700 + count

        return edited(self.bieu03(), edit)

    def test_confirming_writes_every_row_in_a_fixed_number_of_queries_with_history(self):
        def confirm_queries(data):
            with CaptureQueriesContext(connection) as ctx:
                self.apply(data)
            return len(ctx.captured_queries)

        few = confirm_queries(self.with_new_rows(2, "Việc trước"))
        many = confirm_queries(self.with_new_rows(30))
        self.assertEqual(few, many)
        new = PlanItem.objects.filter(plan=self.plan, title__startswith="Việc mới")
        self.assertEqual(new.count(), 30)
        self.assertEqual(
            sorted(new.values_list("position", flat=True)), list(range(5, 35)), "positions follow the plan's last"
        )
        self.assertEqual(PlanItem.history.filter(title__startswith="Việc mới", history_user=self.officer).count(), 30)
        self.assertEqual(FundingLine.history.filter(item_id__in=new, history_type="+").count(), 30)
        line = FundingLine.objects.get(item=self.road, source=self.sources["NS_HUYEN"])
        self.assertEqual((line.planned, line.disbursed), (Decimal(1730), Decimal(200)))
        latest = line.history.order_by("-history_id").first()
        self.assertEqual((latest.planned, latest.history_type, latest.history_user), (1730, "~", self.officer))
        self.road.refresh_from_db()
        self.assertEqual((self.road.version, self.road.updated_by), (3, self.officer))

    def test_bad_rows_at_the_write_are_all_named_and_nothing_is_written(self):
        too_long = plan_services.ItemWrite(plan_services.ItemData(title="x" * 501), [], plan=self.plan, line=14)
        negative = plan_services.ItemWrite(
            plan_services.ItemData(title="Việc"),
            [plan_services.FundingInput(self.sources["NS_XA"], "-5")],
            plan=self.plan,
            line=15,
        )
        good = plan_services.ItemWrite(plan_services.ItemData(title="Việc tốt"), [], plan=self.plan, line=16)
        before = (PlanItem.objects.count(), PlanItem.history.count(), FundingLine.history.count())
        with self.assertRaises(ValidationError) as raised:
            plan_services.store_items(user=self.officer, writes=[too_long, negative, good])
        messages = raised.exception.messages
        self.assertTrue(any(m.startswith("Dòng 14, nội dung công việc:") for m in messages), messages)
        self.assertTrue(any(m.startswith("Dòng 15, Dòng vốn 1") for m in messages), messages)
        self.assertFalse(any(m.startswith("Dòng 16") for m in messages), messages)
        self.assertEqual((PlanItem.objects.count(), PlanItem.history.count(), FundingLine.history.count()), before)

    def test_an_item_saved_by_someone_else_after_the_reading_is_refused_naming_the_row(self):
        data = plan_services.ItemData(title=self.road.title, target="Mới")
        stale = plan_services.ItemWrite(data, [], item=self.road, expected_version=self.road.version, line=12)
        plan_services.update_item(
            user=self.officer,
            item=self.road,
            data=plan_services.ItemData(title=self.road.title, target="Khác", criterion=self.road.criterion),
        )
        with self.assertRaises(ValidationError) as raised:
            plan_services.store_items(user=self.officer, writes=[stale])
        self.assertTrue(raised.exception.messages[0].startswith("Dòng 12:"), raised.exception.messages)
        self.road.refresh_from_db()
        self.assertEqual(self.road.target, "Khác")


class ImportViewTests(ImportTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        record_indicator_result(
            area=cls.commune,
            indicator=cls.ind["15.1"],
            year=2024,
            value=Decimal("90.5"),
            user=cls.officer,
        )

    def changed_file(self, area=None, text="93,1"):
        data = exported(form="01", area=area or self.commune, year=2024, criteria_set=self.cset)

        def edit(ws, info):
            ws.cell(row=row_of(ws, 1, "15.1"), column=5).value = text

        return SimpleUploadedFile("bieu01.xlsx", edited(data, edit).getvalue())

    def upload(self, user, area, upload=None):
        self.client.force_login(user)
        return self.client.post(f"/nhap-bieu/{area.pk}/", {"file": upload or self.changed_file(area)})

    def value(self):
        return IndicatorResult.objects.get(area=self.commune, indicator=self.ind["15.1"], year=2024).value

    def test_upload_dry_run_then_confirm_writes_and_opens_the_workspace(self):
        response = self.upload(self.officer, self.commune)
        self.assertEqual(response.status_code, 302)
        review = response["Location"]
        page = self.client.get(review)
        self.assertContains(page, "1 dòng sẽ được ghi")
        self.assertContains(page, "90,5")
        self.assertContains(page, "93,1")
        self.assertEqual(self.value(), Decimal("90.5"))
        done = self.client.post(review, {"fingerprint": page.context["preview"].fingerprint, "confirm": ""})
        self.assertEqual(done.status_code, 302)
        self.assertTrue(done["Location"].startswith(f"/khong-gian/{self.commune.pk}/?nam=2024"))
        self.assertEqual(self.value(), Decimal("93.1"))
        self.assertEqual(self.client.get(review).status_code, 404)  # the kept file is gone

    def test_bad_cells_are_listed_in_vietnamese_and_confirm_is_refused(self):
        review = self.upload(self.officer, self.commune, self.changed_file(text="12,3,4"))["Location"]
        page = self.client.get(review)
        self.assertContains(page, "Tệp bị từ chối: 1 ô sai. Không ghi gì.")
        self.assertContains(page, "E · Kết quả")
        self.assertNotContains(page, "Xác nhận và ghi")
        response = self.client.post(review, {"fingerprint": page.context["preview"].fingerprint, "confirm": ""})
        self.assertEqual(response.status_code, 409)
        self.assertEqual(self.value(), Decimal("90.5"))

    def test_confirm_after_the_data_changed_shows_the_dry_run_again(self):
        review = self.upload(self.officer, self.commune)["Location"]
        fingerprint = self.client.get(review).context["preview"].fingerprint
        record_indicator_result(area=self.commune, indicator=self.ind["15.1"], year=2024, value=Decimal(91))
        response = self.client.post(review, {"fingerprint": fingerprint, "confirm": ""})
        self.assertContains(response, "đã thay đổi kể từ lúc kiểm tra", status_code=409)
        self.assertEqual(self.value(), Decimal(91))

    def test_not_excel_is_refused_on_upload_with_a_message(self):
        response = self.upload(self.officer, self.commune, SimpleUploadedFile("bieu01.xlsx", b"hello"))
        self.assertContains(response, "không phải là tệp Excel", status_code=400)

    def test_cancel_discards_the_file(self):
        review = self.upload(self.officer, self.commune)["Location"]
        self.client.post(review, {"cancel": "1"})
        self.assertEqual(self.client.get(review).status_code, 404)
        self.assertEqual(self.value(), Decimal("90.5"))

    def test_scope_officers_edit_only_their_commune_reviewers_and_viewers_never(self):
        w = self.w
        cases = [
            (w.officer_an_duong, w.an_duong, 302),
            (w.officer_an_duong, w.song_van, 404),  # sibling
            (w.officer_an_duong, w.tan_yen, 404),  # parent
            (w.reviewer_tan_yen, w.an_duong, 404),
            (w.reviewer_tan_yen, w.tan_yen, 404),
            (w.viewer_tan_yen, w.an_duong, 404),
            (w.officer_song_van, w.an_duong, 404),
            (w.officer_hung_my, w.an_duong, 404),
        ]
        for user, area, expected in cases:
            with self.subTest(user=user.username, area=area.name):
                self.client.force_login(user)
                self.assertEqual(self.client.get(f"/nhap-bieu/{area.pk}/").status_code, 200 if expected == 302 else 404)
                upload = SimpleUploadedFile("b.xlsx", exported(form="01", area=w.an_duong, year=2024).getvalue())
                self.assertEqual(self.client.post(f"/nhap-bieu/{area.pk}/", {"file": upload}).status_code, expected)

    def test_another_user_cannot_use_the_token(self):
        review = self.upload(self.officer, self.commune)["Location"]
        self.client.force_login(self.w.admin)
        self.assertEqual(self.client.get(review).status_code, 404)
        self.assertEqual(self.client.post(review, {"confirm": ""}).status_code, 404)
        self.assertEqual(self.value(), Decimal("90.5"))

    def test_export_page_links_the_import_for_editors_only(self):
        self.client.force_login(self.officer)
        self.assertContains(self.client.get(f"/xuat-bieu/{self.commune.pk}/"), f"/nhap-bieu/{self.commune.pk}/")
        self.client.force_login(self.w.reviewer_tan_yen)
        self.assertNotContains(self.client.get(f"/xuat-bieu/{self.w.an_duong.pk}/"), "/nhap-bieu/")
