"""Nhập biểu, round two: one confirmation writes once, big files are refused early and read once, odd years and
same-named communes are refused with a clear reason, and a confirmation racing another save is a message."""

import datetime
import io
import re
import zipfile
from collections import Counter
from decimal import Decimal
from unittest import mock

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DataError, connection, transaction
from django.test import TestCase, TransactionTestCase, override_settings
from openpyxl import load_workbook

from areas.models import Area, Level, RoleKind
from criteria.models import CriteriaSet, Indicator, IndicatorResult
from criteria.services import record_indicator_result
from ntm_portal.bulk import update_rows
from plans import services as plan_services
from plans.models import FundingLine, FundingSource, PlanItem, PlanStatus
from reports.bieu.sheet import INFO_YEAR
from reports.models import ImportUpload
from tests.bieu_files import edited, exported, row_of
from tests.personas import build_world, make_area, make_user
from tests.test_concurrency import run_at_once

YEAR = 2024
CONFIRMED = "Đã nhập Biểu 03"
ALREADY = "Biểu này đã được ghi"


def info_row(info, label):
    return next(row[0].row for row in info.iter_rows() if row[0].value == label)


def set_info(label, value):
    def edit(ws, info):
        info.cell(row=info_row(info, label), column=2).value = value

    return edit


def set_result(code, text):
    def edit(ws, info):
        ws.cell(row=row_of(ws, 1, code), column=5).value = text

    return edit


def with_new_row(source, title, amount):
    """Biểu 03 with one more line of work before the total, as the officer types it."""

    def edit(ws, info):
        for merged in list(ws.merged_cells.ranges):
            if merged.min_row > 11:  # Excel moves merged cells with inserted rows; openpyxl does not
                ws.unmerge_cells(str(merged))
        total = row_of(ws, 2, "TỔNG CỘNG")
        ws.insert_rows(total)
        ws.cell(row=total, column=1).value = "9"
        ws.cell(row=total, column=2).value = title
        column = next(cell.column for cell in ws[10] if cell.value == source.name)
        ws.cell(row=total, column=column).value = amount

    return edit


def make_plan(world, cset):
    """Hùng Mỹ's 2024 plan: one road with 1.650,4 million from the district budget."""
    plan = plan_services.create_plan(
        user=world.officer_hung_my,
        area=world.hung_my,
        data=plan_services.PlanData(
            title="Kế hoạch xây dựng NTM năm 2024",
            year=YEAR,
            number="05/KH-BCĐ",
            issued_on=datetime.date(2024, 2, 22),
            criteria_set=cset,
            status=PlanStatus.ISSUED,
        ),
    )
    plan_services.add_item(
        user=world.officer_hung_my,
        plan=plan,
        data=plan_services.ItemData(title="Bê tông hóa đường trục thôn"),
        funding=[plan_services.FundingInput(FundingSource.objects.get(code="NS_HUYEN"), "1.650,4")],
    )
    return plan


def planned_money(plan):
    return sum(FundingLine.objects.filter(item__plan=plan).values_list("planned", flat=True), Decimal(0))


class ImportReliabilityTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.w = build_world()
        cls.cset = CriteriaSet.objects.get(code="xa_ntm_2021_2025")
        cls.ind = {i.code: i for i in Indicator.objects.in_set(cls.cset)}
        cls.officer, cls.commune = cls.w.officer_hung_my, cls.w.hung_my
        record_indicator_result(
            area=cls.commune, indicator=cls.ind["15.1"], year=YEAR, value=Decimal("90.5"), user=cls.officer
        )
        cls.plan = make_plan(cls.w, cls.cset)
        cls.ns_xa = FundingSource.objects.get(code="NS_XA")

    def setUp(self):
        self.client.force_login(self.officer)

    def bieu01(self, *edits):
        data = exported(form="01", area=self.commune, year=YEAR, criteria_set=self.cset)
        for edit in edits:
            data = edited(data, edit)
        return data.getvalue()

    def bieu03(self, *edits):
        data = exported(form="03", area=self.commune, year=YEAR)
        for edit in edits:
            data = edited(data, edit)
        return data.getvalue()

    def upload(self, content, area=None):
        area = area or self.commune
        return self.client.post(f"/nhap-bieu/{area.pk}/", {"file": SimpleUploadedFile("bieu.xlsx", content)})

    def review(self, content, area=None):
        """Upload, then open the dry run; returns (review URL, page)."""
        response = self.upload(content, area)
        self.assertEqual(response.status_code, 302, response.content.decode()[:2000])
        return response["Location"], self.client.get(response["Location"])

    def value(self):
        return IndicatorResult.objects.get(area=self.commune, indicator=self.ind["15.1"], year=YEAR).value

    # ---------------------------------------------------------------- one confirmation, one write

    def test_confirming_twice_writes_the_bieu_once_and_the_second_click_says_it_is_written(self):
        url, page = self.review(self.bieu03(with_new_row(self.ns_xa, "Lắp 01 loa thu phát thanh", 12.5)))
        fingerprint = page.context["preview"].fingerprint
        items, money = self.plan.items.count(), planned_money(self.plan)

        first = self.client.post(url, {"fingerprint": fingerprint, "confirm": ""}, follow=True)
        second = self.client.post(url, {"fingerprint": fingerprint, "confirm": ""}, follow=True)

        self.assertContains(first, CONFIRMED)
        self.assertEqual(second.status_code, 200)
        self.assertContains(second, ALREADY)
        self.assertNotContains(second, CONFIRMED)
        self.assertEqual(self.plan.items.count(), items + 1)
        self.assertEqual(planned_money(self.plan), money + Decimal("12.5"))
        self.assertEqual(PlanItem.history.filter(title="Lắp 01 loa thu phát thanh").count(), 1)

    def test_the_confirm_button_is_a_plain_post_form_marked_to_send_once(self):
        url, page = self.review(self.bieu01(set_result("15.1", "93,1")))
        form = re.search(r"<form[^>]*>.*?</form>", page.content.decode().split('id="changes"')[1], re.DOTALL)[0]
        self.assertIn('method="post"', form)
        self.assertIn("data-once", form)
        self.assertIn("Xác nhận và ghi", form)

    # ---------------------------------------------------------------- read once, within limits

    def test_refreshing_and_confirming_the_dry_run_does_not_open_the_file_again(self):
        with mock.patch("reports.bieu_import.load_workbook", wraps=load_workbook) as opened:
            url, page = self.review(self.bieu01(set_result("15.1", "93,1")))
            self.client.get(url)
            self.client.get(url)
            done = self.client.post(url, {"fingerprint": page.context["preview"].fingerprint, "confirm": ""})
        self.assertEqual(done.status_code, 302)
        self.assertEqual(self.value(), Decimal("93.1"))
        self.assertEqual(opened.call_count, 1)

    @override_settings(NTM_IMPORT_MAX_ROWS=40)
    def test_a_workbook_with_more_rows_than_the_limit_is_refused_naming_it_and_nothing_changes(self):
        response = self.upload(self.bieu01(set_result("15.1", "93,1")))
        self.assertContains(response, "tối đa 40 dòng", status_code=400)
        self.assertEqual(ImportUpload.objects.count(), 0)
        self.assertEqual(self.value(), Decimal("90.5"))

    @override_settings(NTM_IMPORT_MAX_CELLS=300)
    def test_a_workbook_with_more_cells_than_the_limit_is_refused_naming_it(self):
        response = self.upload(self.bieu01(set_result("15.1", "93,1")))
        self.assertContains(response, "300 ô mỗi lần", status_code=400)
        self.assertEqual(ImportUpload.objects.count(), 0)
        self.assertEqual(self.value(), Decimal("90.5"))

    @override_settings(NTM_IMPORT_MAX_ROWS=40)
    def test_a_sheet_that_understates_its_size_is_still_held_to_the_limit(self):
        content = io.BytesIO()
        with (
            zipfile.ZipFile(io.BytesIO(self.bieu01())) as source,
            zipfile.ZipFile(content, "w", zipfile.ZIP_DEFLATED) as out,
        ):
            for part in source.infolist():
                data = source.read(part.filename)
                if part.filename == "xl/worksheets/sheet1.xml":
                    data = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1"/>', data)
                out.writestr(part, data)
        self.assertContains(self.upload(content.getvalue()), "tối đa 40 dòng", status_code=400)
        self.assertEqual(ImportUpload.objects.count(), 0)

    # ---------------------------------------------------------------- years the criteria cover

    def test_a_year_outside_the_period_of_the_named_criteria_set_is_refused(self):
        for year in (2030, 1800, 0, 40000, -5):
            with self.subTest(year=year):
                url, page = self.review(self.bieu01(set_info(INFO_YEAR, year), set_result("15.1", "93,1")))
                self.assertContains(page, f"Năm {year} ghi trong tệp nằm ngoài thời kỳ 2021–2025", status_code=400)
        self.assertEqual(self.value(), Decimal("90.5"))

    def test_a_year_no_criteria_set_covers_is_refused(self):
        for year in (1800, 0, 40000, -5):
            with self.subTest(year=year):
                url, page = self.review(self.bieu03(set_info(INFO_YEAR, year)))
                self.assertContains(
                    page, f"Năm {year} ghi trong tệp không thuộc thời kỳ của bộ tiêu chí nào", status_code=400
                )

    # ---------------------------------------------------------------- data changed under the import

    def test_two_rows_for_one_indicator_are_a_bad_cell_not_an_error_page(self):
        def second_row_for_15_1(ws, info):
            row = row_of(ws, 1, "15.2")
            ws.cell(row=row, column=1).value = "15.1"
            ws.cell(row=row, column=5).value = "94"

        url, page = self.review(self.bieu01(set_result("15.1", "93,1"), second_row_for_15_1))
        self.assertContains(page, "Tệp bị từ chối: 1 ô sai. Không ghi gì.")
        self.assertContains(page, "Chỉ tiêu 15.1 đã có kết quả ở dòng")
        self.assertEqual(self.value(), Decimal("90.5"))

    def test_a_result_saved_by_someone_else_while_confirming_is_a_message_not_an_error_page(self):
        url, page = self.review(self.bieu01(set_result("15.1", "93,1")))
        from criteria.results_import import import_indicator_results as real

        def saved_by_another_officer_first(**kwargs):
            record_indicator_result(
                area=self.commune, indicator=self.ind["15.1"], year=YEAR, value=Decimal(91), user=self.w.admin
            )
            return real(**kwargs)

        with mock.patch("reports.bieu_import.import_indicator_results", side_effect=saved_by_another_officer_first):
            response = self.client.post(url, {"fingerprint": page.context["preview"].fingerprint, "confirm": ""})
        self.assertContains(response, "dữ liệu trên cổng vừa thay đổi trong lúc ghi", status_code=409)
        self.assertNotEqual(self.value(), Decimal("93.1"))

    # ---------------------------------------------------------------- two communes of one name

    def test_the_bieu_of_a_same_named_commune_is_refused_naming_code_and_district(self):
        son_duong = make_area("T-070", "Sơn Dương", Level.DISTRICT, self.w.tuyen_quang, "huyện")
        ours = make_area("T-02314", "Thiện Kế", Level.COMMUNE, son_duong, "xã")
        vinh_phuc = Area.objects.provinces().get(code="26", valid_from__isnull=True)
        binh_xuyen = make_area("T-138", "Bình Xuyên", Level.DISTRICT, vinh_phuc, "huyện")
        theirs = make_area("T-08974", "Thiện Kế", Level.COMMUNE, binh_xuyen, "xã")
        self.client.force_login(make_user("canbo.thienke", ours, RoleKind.OFFICER))

        content = exported(form="01", area=theirs, year=YEAR, criteria_set=self.cset).getvalue()
        url, page = self.review(content, area=ours)

        self.assertContains(
            page,
            "là biểu của xã Thiện Kế (mã T-08974, huyện Bình Xuyên, tỉnh Vĩnh Phúc), "
            "không phải của xã Thiện Kế (mã T-02314, huyện Sơn Dương, tỉnh Tuyên Quang)",
            status_code=400,
        )


if connection.vendor == "postgresql":

    class ConcurrentConfirmationTests(TransactionTestCase):
        """Two confirmations of one upload at the same moment (a double click): PostgreSQL only, as in
        tests/test_concurrency.py — SQLite runs one writer at a time and has no such race."""

        serialized_rollback = True

        def test_two_confirmations_at_once_write_the_bieu_once(self):
            w = build_world()
            plan = make_plan(w, CriteriaSet.objects.get(code="xa_ntm_2021_2025"))
            source = FundingSource.objects.get(code="NS_XA")
            content = edited(
                exported(form="03", area=w.hung_my, year=YEAR), with_new_row(source, "Lắp 01 loa thu phát thanh", 12.5)
            ).getvalue()
            self.client.force_login(w.officer_hung_my)
            upload = self.client.post(
                f"/nhap-bieu/{w.hung_my.pk}/", {"file": SimpleUploadedFile("bieu03.xlsx", content)}
            )
            url = upload["Location"]
            fingerprint = self.client.get(url).context["preview"].fingerprint
            items, money = plan.items.count(), planned_money(plan)
            clients = [self.client_class() for _ in range(2)]
            for client in clients:
                client.force_login(w.officer_hung_my)

            def confirm(client):
                page = client.post(url, {"fingerprint": fingerprint, "confirm": ""}, follow=True)
                text = page.content.decode()
                return (page.status_code, CONFIRMED in text, ALREADY in text)

            outcomes = run_at_once([lambda c=c: confirm(c) for c in clients])

            self.assertEqual(
                Counter(value for kind, value in outcomes if kind == "ok"),
                {(200, True, False): 1, (200, False, True): 1},
                outcomes,
            )
            self.assertEqual(plan.items.count(), items + 1)
            self.assertEqual(planned_money(plan), money + Decimal("12.5"))


class BulkWriteTests(TestCase):
    """The bulk writers behind every import (ntm_portal/bulk.py) never change what they were given."""

    @classmethod
    def setUpTestData(cls):
        w = build_world()
        plan = plan_services.create_plan(
            user=w.admin, area=w.an_duong, data=plan_services.PlanData(title="Kế hoạch NTM An Dương", year=2024)
        )
        cls.item = plan_services.add_item(user=w.admin, plan=plan, data=plan_services.ItemData(title="Làm đường"))

    def test_a_text_too_long_for_its_column_is_refused_or_kept_whole_never_cut(self):
        self.item.deadline_label = "Quý II/2024 " * 5  # 60 characters where the column holds 40
        try:
            with transaction.atomic():
                update_rows([self.item], PlanItem, ["deadline_label"])
        except DataError:
            stored = PlanItem.objects.get(pk=self.item.pk).deadline_label
            self.assertEqual(stored, "")  # refused (PostgreSQL): nothing written
        else:
            stored = PlanItem.objects.get(pk=self.item.pk).deadline_label
            self.assertEqual(stored, "Quý II/2024 " * 5)  # kept whole (SQLite holds any length)

    def test_an_sqlite_older_than_3_33_still_gets_every_update(self):
        # UPDATE … FROM came with SQLite 3.33; before it the rows go through Django's bulk_update.
        self.item.progress = 35
        with mock.patch("ntm_portal.bulk.sqlite3.sqlite_version_info", (3, 31, 1)):
            update_rows([self.item], PlanItem, ["progress"])
        self.assertEqual(PlanItem.objects.get(pk=self.item.pk).progress, 35)
