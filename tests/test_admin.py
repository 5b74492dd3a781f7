"""The Django admin: Vietnamese pages, query counts that do not grow with rows, and writes through services."""

import datetime
import io
import re
import unicodedata
import zipfile
from decimal import Decimal

import openpyxl
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from tablib import Dataset

from areas.models import Area, Level
from areas.resources import AreaResource
from assignments.models import Agency
from criteria import results_import, services
from criteria.models import (
    Comparison,
    CriteriaSet,
    Criterion,
    CriterionResult,
    Indicator,
    IndicatorKind,
    IndicatorResult,
    Threshold,
)
from criteria.resources import IndicatorResultResource
from ntm_portal.spreadsheets import SafeCSV
from plans import services as plan_services
from plans.admin import PlanItemResource
from plans.models import PlanItem
from tests.personas import build_world, make_area


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return len(ctx.captured_queries), response


class AdminPagesTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.w = build_world()
        cls.test_set = CriteriaSet.objects.create(
            code="bo-thu", name="Bộ thử", level="commune", period_start=2021, period_end=2025
        )

    def setUp(self):
        self.client.force_login(self.w.admin)

    def _criterion(self, number):
        return Criterion.objects.create(criteria_set=self.test_set, number=number, name=f"Tiêu chí thử {number}")

    def _indicators(self, start, stop):
        criterion = Criterion.objects.get_or_create(criteria_set=self.test_set, number=1, defaults={"name": "Thử"})[0]
        return [
            Indicator.objects.create(criterion=criterion, code=f"1.{n}", sort_key=f"{n:04d}", name=f"Chỉ tiêu {n}")
            for n in range(start, stop)
        ]

    def assert_flat(self, url, add_rows, last_text):
        add_rows(0, 5)
        few, _response = _queries(self.client, url)
        add_rows(5, 30)
        many, response = _queries(self.client, url)
        self.assertContains(response, last_text)
        self.assertEqual(few, many)

    def test_area_changelist_queries_do_not_grow_with_rows(self):
        def add(start, stop):
            for n in range(start, stop):
                make_area(f"QC-{n:03d}", f"Xã thử {n}", Level.COMMUNE, self.w.tan_yen, "xã")

        self.assert_flat(reverse("admin:areas_area_changelist") + "?q=QC-", add, "QC-029")

    def test_threshold_changelist_queries_do_not_grow_with_rows(self):
        def add(start, stop):
            for indicator in self._indicators(start, stop):
                Threshold.objects.create(indicator=indicator, raw="≥80%", comparison=Comparison.GTE, value=80)

        url = (
            reverse("admin:criteria_threshold_changelist")
            + f"?indicator__criterion__criteria_set__id__exact={self.test_set.pk}"
        )
        self.assert_flat(url, add, "1.29")

    def test_indicator_result_changelist_queries_do_not_grow_with_rows(self):
        def add(start, stop):
            for indicator in self._indicators(start, stop):
                IndicatorResult.objects.create(area=self.w.an_duong, indicator=indicator, year=2024, value=50)

        url = (
            reverse("admin:criteria_indicatorresult_changelist")
            + f"?indicator__criterion__criteria_set__id__exact={self.test_set.pk}"
        )
        self.assert_flat(url, add, "1.29")

    def test_criterion_result_changelist_queries_do_not_grow_with_rows(self):
        def add(start, stop):
            for n in range(start, stop):
                CriterionResult.objects.create(area=self.w.an_duong, criterion=self._criterion(n + 100), year=2024)

        url = (
            reverse("admin:criteria_criterionresult_changelist")
            + f"?criterion__criteria_set__id__exact={self.test_set.pk}"
        )
        self.assert_flat(url, add, "129")

    def test_results_list_newest_year_first_and_filters_by_the_years_with_data(self):
        (indicator,) = self._indicators(1, 2)
        for year in (2022, 2024):
            IndicatorResult.objects.create(area=self.w.an_duong, indicator=indicator, year=year, value=50)
        url = reverse("admin:criteria_indicatorresult_changelist")
        response = self.client.get(url, {"indicator__criterion__criteria_set__id__exact": self.test_set.pk})
        self.assertEqual([r.year for r in response.context["cl"].result_list], [2024, 2022])
        offered = [
            choice["display"] for choice in response.context["cl"].filter_specs[0].choices(response.context["cl"])
        ]
        self.assertEqual(offered[1:], ["2024", "2022"])  # newest first, after "Tất cả"
        filtered = self.client.get(
            url, {"year": "2022", "indicator__criterion__criteria_set__id__exact": self.test_set.pk}
        )
        self.assertEqual([r.year for r in filtered.context["cl"].result_list], [2022])
        # A year that is not a number is Django's "wrong filter" page, not an error.
        self.assertRedirects(self.client.get(url, {"year": "hai"}), url + "?e=1", fetch_redirect_response=False)

    def test_index_and_every_changelist_render_in_vietnamese(self):
        response = self.client.get(reverse("admin:index"))
        self.assertContains(response, "Đơn vị hành chính")
        self.assertContains(response, "Ngưỡng")
        for name in [
            "areas_region",
            "areas_area",
            "areas_role",
            "auth_user",
            "criteria_criteriaset",
            "criteria_criterion",
            "criteria_indicator",
            "criteria_threshold",
            "criteria_indicatorresult",
            "criteria_criterionresult",
        ]:
            with self.subTest(name=name):
                response = self.client.get(reverse(f"admin:{name}_changelist"))
                self.assertContains(response, "Trang chủ")
        response = self.client.get(reverse("admin:areas_area_changelist"))
        self.assertContains(response, "đang hiệu lực")
        self.assertContains(response, "Tuyên Quang (từ 01/07/2025)")

    def test_user_page_shows_roles_inline(self):
        response = self.client.get(reverse("admin:auth_user_change", args=[self.w.officer_an_duong.pk]))
        self.assertContains(response, "Cán bộ nhập liệu")
        self.assertContains(response, "ntm_roles-TOTAL_FORMS")

    def test_officer_without_staff_flag_is_kept_out(self):
        self.client.force_login(self.w.officer_an_duong)
        response = self.client.get(reverse("admin:areas_area_changelist"))
        self.assertEqual(response.status_code, 302)


class AreaAdminTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.w = build_world()

    def setUp(self):
        self.client.force_login(self.w.admin)

    def _post(self, area, **changes):
        data = {
            "code": area.code,
            "name": area.name,
            "kind": area.kind,
            "level": area.level,
            "parent": area.parent_id,
            "region": area.region_id or "",
            "valid_from": "",
            "valid_until": "",
            # the "hình thành từ" inline (merges and splits) and the commune groups inline, left empty
            "succession_from-TOTAL_FORMS": "0",
            "succession_from-INITIAL_FORMS": "0",
            "groupings-TOTAL_FORMS": "0",
            "groupings-INITIAL_FORMS": "0",
            **changes,
        }
        return self.client.post(reverse("admin:areas_area_change", args=[area.pk]), data)

    def test_moving_a_commune_moves_its_villages_ancestors(self):
        response = self._post(self.w.an_duong, parent=self.w.viet_yen.pk)
        self.assertEqual(response.status_code, 302)
        village = Area.objects.get(pk=self.w.an_duong_village.pk)
        self.assertEqual(village.district, self.w.viet_yen)
        self.assertIn(village, Area.objects.under(self.w.viet_yen))

    def test_moving_a_district_to_another_province_takes_region_and_ancestors_along(self):
        self._post(self.w.tan_yen, parent=self.w.tuyen_quang.pk, region="")
        village = Area.objects.get(pk=self.w.an_duong_village.pk)
        self.assertEqual(village.province, self.w.tuyen_quang)
        self.assertNotIn(village, Area.objects.under(self.w.bac_giang))

    def test_a_village_under_a_district_is_refused_and_nothing_changes(self):
        response = self._post(self.w.an_duong_village, parent=self.w.tan_yen.pk)
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "không thể trực thuộc")
        self.assertEqual(Area.objects.get(pk=self.w.an_duong_village.pk).parent, self.w.an_duong)

    def test_importing_a_bad_parent_reports_its_row_number(self):
        data = Dataset(headers=["Mã", "Tên", "Loại", "Cấp", "Mã cấp trên", "Cấp của cấp trên", "Hiệu lực từ"])
        data.append(["QX-1", "Xã Một", "xã", "Xã", "T-219", "Huyện", ""])
        data.append(["QX-2", "Xã Hai", "xã", "Xã", "KHONG-CO", "Huyện", ""])
        result = AreaResource().import_data(data, dry_run=True)
        self.assertTrue(result.has_validation_errors())
        (invalid,) = result.invalid_rows
        self.assertEqual(invalid.number, 2)
        self.assertIn("KHONG-CO", str(invalid.error_dict))

    def test_reimporting_the_unit_list_looks_nothing_up_row_by_row(self):
        # The administrator's usual round: export the list, correct a name or two, import it back.
        headers = ["Mã", "Tên", "Loại", "Cấp", "Mã cấp trên", "Cấp của cấp trên", "Vùng", "Hiệu lực từ"]

        def units(count):
            data = Dataset(headers=headers)
            for n in range(count):
                data.append([f"QX-{n}", f"Xã {n}", "xã", "Xã", "T-219", "Huyện", "TDMNPB", ""])
            return data

        AreaResource().import_data(units(30), dry_run=False)

        def preview_queries(count):
            with CaptureQueriesContext(connection) as ctx:
                result = AreaResource().import_data(units(count), dry_run=True)
            self.assertEqual(result.totals["skip"], count)
            return len(ctx.captured_queries)

        few, many = preview_queries(1), preview_queries(30)
        # The units, their parents and regions are read once for the file: per row, only the savepoint
        # import-export takes around it (two statements).
        self.assertLessEqual(many - few, 29 * 2)

    def _renamed_units(self, count, suffix):
        headers = ["Mã", "Tên", "Loại", "Cấp", "Mã cấp trên", "Cấp của cấp trên", "Vùng", "Hiệu lực từ"]
        data = Dataset(headers=headers)
        for n in range(count):
            data.append([f"QR-{n}", f"Xã {n}{suffix}", "xã", "Xã", "T-219", "Huyện", "TDMNPB", ""])
        return data

    def test_renaming_units_by_file_saves_the_new_names_and_keeps_them_in_place(self):
        AreaResource().import_data(self._renamed_units(3, ""), dry_run=False)
        village = make_area("QR-0-01", "Thôn Một", Level.VILLAGE, Area.objects.get(code="QR-0"))
        result = AreaResource().import_data(self._renamed_units(3, " mới"), dry_run=False, user=self.w.admin)
        self.assertFalse(result.has_errors() or result.has_validation_errors())
        self.assertEqual(result.totals["update"], 3)
        renamed = Area.objects.get(code="QR-0")
        self.assertEqual(renamed.name, "Xã 0 mới")
        self.assertEqual(
            (renamed.parent, renamed.district, renamed.region.code), (self.w.tan_yen, self.w.tan_yen, "TDMNPB")
        )
        village.refresh_from_db()
        self.assertEqual(
            (village.parent, village.district, village.province), (renamed, self.w.tan_yen, self.w.bac_giang)
        )

    def test_previewing_renamed_units_changes_nothing(self):
        AreaResource().import_data(self._renamed_units(2, ""), dry_run=False)
        result = AreaResource().import_data(self._renamed_units(2, " mới"), dry_run=True)
        self.assertEqual(result.totals["update"], 2)
        self.assertEqual(Area.objects.get(code="QR-1").name, "Xã 1")

    def test_renaming_many_units_by_file_is_not_written_row_by_row(self):
        AreaResource().import_data(self._renamed_units(30, ""), dry_run=False)

        def import_queries(count, suffix):
            with CaptureQueriesContext(connection) as ctx:
                result = AreaResource().import_data(self._renamed_units(count, suffix), dry_run=False)
            self.assertEqual(result.totals["update"], count)
            return len(ctx.captured_queries)

        few, many = import_queries(1, " một"), import_queries(30, " hai")
        # Per row only the savepoint import-export takes around it: the new names are written together.
        self.assertLessEqual(many - few, 29 * 2)
        self.assertEqual(Area.objects.filter(code__startswith="QR-", name__endswith=" hai").count(), 30)

    def test_a_file_renaming_one_unit_and_moving_another_does_both(self):
        AreaResource().import_data(self._renamed_units(2, ""), dry_run=False)
        data = self._renamed_units(2, "")
        data[0] = ["QR-0", "Xã 0 mới", "xã", "Xã", "T-219", "Huyện", "TDMNPB", ""]
        data[1] = ["QR-1", "Xã 1", "xã", "Xã", self.w.viet_yen.code, "Huyện", "TDMNPB", ""]
        result = AreaResource().import_data(data, dry_run=False)
        self.assertFalse(result.has_errors() or result.has_validation_errors())
        self.assertEqual(Area.objects.get(code="QR-0").name, "Xã 0 mới")
        self.assertEqual(Area.objects.get(code="QR-1").district, self.w.viet_yen)

    def test_the_preview_shows_a_moved_units_parent_before_and_after(self):
        AreaResource().import_data(self._renamed_units(1, ""), dry_run=False)
        data = self._renamed_units(1, "")
        data[0] = ["QR-0", "Xã 0", "xã", "Xã", self.w.viet_yen.code, "Huyện", "TDMNPB", ""]
        result = AreaResource().import_data(data, dry_run=True)
        (row,) = result.rows
        self.assertEqual(row.import_type, "update")
        parent = dict(zip(result.diff_headers, row.diff, strict=True))["Mã cấp trên"]

        # The diff marks, letter by letter, what goes (struck out) and what comes (added).
        def side(dropped):
            return re.sub(r"<[^>]+>", "", re.sub(rf"<{dropped}[^>]*>.*?</{dropped}>", "", parent))

        self.assertEqual((side("ins"), side("del")), (self.w.tan_yen.code, self.w.viet_yen.code))

    def test_exported_units_name_their_parent_by_code_and_level(self):
        rows = AreaResource().export([self.w.an_duong, self.w.bac_giang]).dict
        self.assertEqual((rows[0]["Mã cấp trên"], rows[0]["Cấp của cấp trên"]), (self.w.tan_yen.code, "Huyện"))
        self.assertEqual((rows[1]["Mã cấp trên"], rows[1]["Cấp của cấp trên"]), ("", ""))

    def test_importing_the_unit_list_fills_ancestors(self):
        data = Dataset(headers=["Mã", "Tên", "Loại", "Cấp", "Mã cấp trên", "Cấp của cấp trên", "Vùng", "Hiệu lực từ"])
        data.append(["QX-1", "Xã Một", "xã", "Xã", "T-219", "Huyện", "", ""])
        data.append(["QX-1-01", "Thôn Một", "thôn", "Thôn", "QX-1", "Xã", "", ""])
        result = AreaResource().import_data(data, dry_run=False)
        self.assertFalse(result.has_errors() or result.has_validation_errors())
        village = Area.objects.get(code="QX-1-01")
        self.assertEqual((village.province, village.district), (self.w.bac_giang, self.w.tan_yen))
        self.assertEqual(village.region.code, "TDMNPB")


class ThresholdAdminTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.w = build_world()
        cls.indicator = Indicator.objects.get(code="17.2", criterion__criteria_set__code="xa_ntm_2021_2025")
        cls.threshold = Threshold.objects.get(indicator=cls.indicator, variant=None, region=None, year=None)

    def setUp(self):
        self.client.force_login(self.w.admin)
        self.result = IndicatorResult.objects.create(
            area=self.w.an_duong, indicator=self.indicator, year=2024, value=90, status="not_met"
        )

    def _post(self, **changes):
        t = self.threshold
        data = {
            "indicator": t.indicator_id,
            "variant": "",
            "region": "",
            "commune_group": "",
            "year": "",
            "raw": t.raw,
            "comparison": t.comparison,
            "value": t.value,
            "source": t.source,
            "note": t.note,
            **changes,
        }
        return self.client.post(reverse("admin:criteria_threshold_change", args=[t.pk]), data)

    def test_editing_the_wording_rereads_the_threshold_and_rejudges_results(self):
        response = self._post(raw="≥85%")
        self.assertEqual(response.status_code, 302)
        self.threshold.refresh_from_db()
        self.assertEqual((self.threshold.comparison, self.threshold.value), (Comparison.GTE, 85))
        self.result.refresh_from_db()
        self.assertEqual(self.result.status, "met")
        self.assertEqual(self.threshold.history.first().history_user, self.w.admin)

    def test_a_criterion_the_edit_moves_is_in_the_history_under_the_administrator(self):
        row = CriterionResult.objects.create(
            area=self.w.an_duong, criterion=self.indicator.criterion, year=2024, status="not_met"
        )
        self._post(raw="≥85%")
        row.refresh_from_db()
        self.assertNotEqual(row.status, "not_met")
        latest = row.history.order_by("-history_id").first()
        self.assertEqual((latest.status, latest.history_type, latest.history_user), (row.status, "~", self.w.admin))

    def test_a_comparison_set_by_hand_wins_over_the_wording(self):
        self._post(raw="xem hướng dẫn", comparison=Comparison.GTE, value="85")
        self.threshold.refresh_from_db()
        self.assertEqual((self.threshold.comparison, self.threshold.value), (Comparison.GTE, 85))

    def _confirm(self, source):
        return self.client.post(
            reverse("admin:criteria_threshold_changelist"),
            {"action": "confirm", "_selected_action": [self.threshold.pk], "source": source},
            follow=True,
        )

    def test_confirming_needs_the_document_name(self):
        response = self._confirm("  ")
        self.assertContains(response, "Hãy ghi tên văn bản")
        self.threshold.refresh_from_db()
        self.assertFalse(self.threshold.verified)

    def test_confirming_records_the_document_and_results_stop_being_tentative(self):
        self._post(raw="≥85%")
        self.result.refresh_from_db()
        self.assertTrue(self.result.is_tentative)
        response = self._confirm("QĐ 318/QĐ-TTg")
        self.assertContains(response, "Đã xác nhận 1 ngưỡng")
        self.threshold.refresh_from_db()
        self.assertEqual((self.threshold.verified, self.threshold.source), (True, "QĐ 318/QĐ-TTg"))
        self.result.refresh_from_db()
        self.assertFalse(self.result.is_tentative)


class ResultImportTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.w = build_world()

    def _dataset(self, value):
        data = Dataset(headers=["Mã địa bàn", "Bộ tiêu chí", "Mã chỉ tiêu", "Năm", "Giá trị"])
        data.append(["T-07234", "xa_ntm_2021_2025", "17.2", 2024, value])
        return data

    def test_imported_results_are_evaluated_and_in_the_history(self):
        result = IndicatorResultResource().import_data(self._dataset("100"), dry_run=False, user=self.w.admin)
        self.assertFalse(result.has_errors() or result.has_validation_errors())
        stored = IndicatorResult.objects.get(area=self.w.an_duong, indicator__code="17.2", year=2024)
        self.assertEqual(stored.status, "met")
        self.assertEqual(stored.history.first().history_user, self.w.admin)
        self.assertTrue(
            CriterionResult.objects.filter(area=self.w.an_duong, criterion=stored.indicator.criterion).exists()
        )

    def test_an_impossible_value_is_a_row_error_and_nothing_is_stored(self):
        result = IndicatorResultResource().import_data(self._dataset("120"), dry_run=False, user=self.w.admin)
        self.assertTrue(result.has_validation_errors())
        self.assertIn("100", str(result.invalid_rows[0].error_dict))
        self.assertFalse(IndicatorResult.objects.filter(area=self.w.an_duong).exists())

    def test_vietnamese_decimal_is_read(self):
        IndicatorResultResource().import_data(self._dataset("90,5"), dry_run=False, user=self.w.admin)
        self.assertEqual(IndicatorResult.objects.get(area=self.w.an_duong).value, 90.5)

    def test_export_writes_xlsx_with_vietnamese_headers(self):
        IndicatorResultResource().import_data(self._dataset("90,5"), dry_run=False, user=self.w.admin)
        content = IndicatorResultResource().export().xlsx
        sheet = openpyxl.load_workbook(io.BytesIO(content)).active
        headers = [c.value for c in sheet[1]]
        self.assertIn("Mã chỉ tiêu", headers)
        self.assertEqual(sheet.cell(2, headers.index("Giá trị") + 1).value, "90,5")


def _xlsx(rows):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


_TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"  # huyền, sắc, ngã, hỏi, nặng


def _windows_1258(text):
    """`text` as Windows-1258 writes it: a letter it lacks is written as its base letter and a tone mark."""
    out = b""
    for char in text:
        try:
            out += char.encode("cp1258")
        except UnicodeEncodeError:
            decomposed = unicodedata.normalize("NFD", char)
            tone = "".join(c for c in decomposed if c in _TONE_MARKS)
            base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONE_MARKS))
            out += (base + tone).encode("cp1258")
    return out


UNIT_HEADINGS = "Mã,Tên,Loại,Cấp,Mã cấp trên,Cấp của cấp trên,Hiệu lực từ"


class AdminFiles:
    XLSX, CSV = "1", "0"  # the formats offered, in settings.IMPORT_FORMATS' order

    @classmethod
    def setUpTestData(cls):
        cls.w = build_world()

    def setUp(self):
        self.client.force_login(self.w.admin)

    def _upload(self, model, content, name, file_format):
        url = reverse(f"admin:{model}_import")
        return self.client.post(
            url, {"resource": "0", "format": file_format, "import_file": SimpleUploadedFile(name, content)}
        )

    def _confirm(self, model, preview):
        form = preview.context["confirm_form"]
        return self.client.post(reverse(f"admin:{model}_process_import"), form.initial, follow=True)


class AdminImportFileTests(AdminFiles, TestCase):
    """The admin's imports read an uploaded file as the portal's other imports do: checked first, then read by
    python-calamine, as the cells hold them."""

    def test_only_csv_and_excel_files_are_offered(self):
        response = self.client.get(reverse("admin:criteria_indicatorresult_import"))
        choices = [label for _value, label in response.context["form"].fields["format"].choices if _value != ""]
        self.assertEqual(choices, ["csv", "xlsx"])

    def test_results_from_a_workbook_are_previewed_then_stored(self):
        content = _xlsx(
            [
                ["Mã địa bàn", "Bộ tiêu chí", "Mã chỉ tiêu", "Năm", "Giá trị"],
                ["T-07234", "xa_ntm_2021_2025", "17.2", 2024, 95.5],
            ]
        )
        preview = self._upload("criteria_indicatorresult", content, "ket-qua.xlsx", self.XLSX)
        self.assertContains(preview, "95,5")
        self.assertContains(preview, ">2024</ins>")  # a year, not the number 2.024
        self.assertNotContains(preview, "2.024")
        self.assertFalse(IndicatorResult.objects.filter(area=self.w.an_duong, year=2024).exists())
        self._confirm("criteria_indicatorresult", preview)
        stored = IndicatorResult.objects.get(area=self.w.an_duong, indicator__code="17.2", year=2024)
        self.assertEqual(stored.value, Decimal("95.5"))
        self.assertEqual(stored.history.first().history_user, self.w.admin)

    def test_yes_no_columns_read_the_marks_people_type_and_write_co_khong(self):
        content = _xlsx(
            [
                ["Mã địa bàn", "Bộ tiêu chí", "Mã chỉ tiêu", "Năm", "Không áp dụng"],
                ["T-07234", "xa_ntm_2021_2025", "17.2", 2024, "Có"],
            ]
        )
        self._confirm(
            "criteria_indicatorresult", self._upload("criteria_indicatorresult", content, "kq.xlsx", self.XLSX)
        )
        stored = IndicatorResult.objects.get(area=self.w.an_duong, indicator__code="17.2", year=2024)
        self.assertTrue(stored.not_applicable)
        exported = IndicatorResultResource().export([stored]).dict[0]
        self.assertEqual((exported["Không áp dụng"], exported["Đạt / Có"]), ("Có", ""))

    def test_a_word_that_is_not_a_yes_or_a_no_is_an_error_on_its_column(self):
        content = _xlsx(
            [
                ["Mã địa bàn", "Bộ tiêu chí", "Mã chỉ tiêu", "Năm", "Giá trị", "Không áp dụng"],
                ["T-07234", "xa_ntm_2021_2025", "17.2", 2024, 95, "chắc vậy"],
            ]
        )
        preview = self._upload("criteria_indicatorresult", content, "kq.xlsx", self.XLSX)
        (invalid,) = preview.context["result"].invalid_rows
        self.assertIn("chắc vậy", str(invalid.field_specific_errors["Không áp dụng"]))
        self.assertFalse(IndicatorResult.objects.filter(area=self.w.an_duong).exists())

    def test_an_empty_cell_that_names_the_result_is_named_by_its_column(self):
        headings = ["Mã địa bàn", "Bộ tiêu chí", "Mã chỉ tiêu", "Năm", "Giá trị"]
        full = ["T-07234", "xa_ntm_2021_2025", "17.2", 2024, 95]
        for column in ("Mã địa bàn", "Mã chỉ tiêu", "Năm"):
            with self.subTest(column):
                row = [None if heading == column else value for heading, value in zip(headings, full, strict=True)]
                preview = self._upload("criteria_indicatorresult", _xlsx([headings, row]), "kq.xlsx", self.XLSX)
                self.assertFalse(preview.context["result"].has_errors())  # not a database error
                (invalid,) = preview.context["result"].invalid_rows
                self.assertEqual(invalid.field_specific_errors, {column: ["Ô này không được để trống."]})

    def test_a_file_without_a_column_that_names_the_result_says_which(self):
        rows = [["Mã địa bàn", "Bộ tiêu chí", "Mã chỉ tiêu", "Giá trị"], ["T-07234", "xa_ntm_2021_2025", "17.2", 95]]
        preview = self._upload("criteria_indicatorresult", _xlsx(rows), "kq.xlsx", self.XLSX)
        self.assertContains(preview, "Tệp thiếu cột “Năm”. Hãy tải mẫu bằng “Xuất ra tệp” rồi điền vào mẫu đó.")
        self.assertNotContains(preview, "are not present in the file headers")
        # The refusal alone: no traceback beside it, and nothing else failing after it.
        self.assertEqual(len(preview.context["result"].base_errors), 1)
        self.assertNotContains(preview, "Traceback")

    def test_a_year_in_words_is_refused_in_vietnamese(self):
        rows = [
            ["Mã địa bàn", "Bộ tiêu chí", "Mã chỉ tiêu", "Năm"],
            ["T-07234", "xa_ntm_2021_2025", "17.2", "hai nghìn"],
        ]
        preview = self._upload("criteria_indicatorresult", _xlsx(rows), "kq.xlsx", self.XLSX)
        self.assertContains(preview, "“hai nghìn” không phải là năm (viết như 2024).")
        self.assertNotContains(preview, "ConversionSyntax")

    def test_a_row_giving_a_result_its_own_values_again_is_left_alone(self):
        rows = [["Mã địa bàn", "Bộ tiêu chí", "Mã chỉ tiêu", "Năm", "Giá trị"]]
        rows.append(["T-07234", "xa_ntm_2021_2025", "17.2", 2024, 95.5])
        self._confirm("criteria_indicatorresult", self._upload("criteria_indicatorresult", _xlsx(rows), "a.xlsx", "1"))
        stored = IndicatorResult.objects.get(area=self.w.an_duong, indicator__code="17.2", year=2024)
        again = self._upload("criteria_indicatorresult", _xlsx(rows), "a.xlsx", self.XLSX)
        self.assertEqual(again.context["result"].totals["skip"], 1)
        self._confirm("criteria_indicatorresult", again)
        # No new version (an officer's form open on it stays valid) and no history row of no change.
        self.assertEqual(IndicatorResult.objects.get(pk=stored.pk).version, stored.version)
        self.assertEqual(stored.history.count(), 1)

    def test_a_date_cell_is_read_as_its_date_not_month_first(self):
        content = _xlsx(
            [
                ["Mã", "Tên", "Loại", "Cấp", "Mã cấp trên", "Cấp của cấp trên", "Hiệu lực từ"],
                ["QX-9", "Xã Chín", "xã", "Xã", "T-219", "Huyện", datetime.datetime(2025, 3, 5)],
            ]
        )
        preview = self._upload("areas_area", content, "don-vi.xlsx", self.XLSX)
        self.assertNotContains(preview, "errorlist")
        self._confirm("areas_area", preview)
        self.assertEqual(Area.objects.get(code="QX-9").valid_from, datetime.date(2025, 3, 5))

    def test_a_blank_row_is_left_out_and_a_later_error_names_its_row_in_the_file(self):
        content = _xlsx(
            [
                ["Mã địa bàn", "Bộ tiêu chí", "Mã chỉ tiêu", "Năm", "Giá trị"],
                ["T-07234", "xa_ntm_2021_2025", "17.2", 2024, 95],
                [],
                ["T-07234", "xa_ntm_2021_2025", "17.2", 2025, 120],
            ]
        )
        preview = self._upload("criteria_indicatorresult", content, "ket-qua.xlsx", self.XLSX)
        self.assertFalse(preview.context["result"].has_errors())  # the blank row is left out, not an error
        (invalid,) = preview.context["result"].invalid_rows
        self.assertEqual(invalid.number, 4)  # row 4 in Excel: the headings, a result, a blank row, then this
        self.assertContains(preview, "<td>2025</td>", html=True)  # its year as typed, not the number 2.025
        # The error names the column as the file heads it.
        self.assertEqual(list(invalid.field_specific_errors), ["Giá trị"])
        self.assertContains(preview, '<span class="validation-error-field-label">Giá trị</span>', html=True)
        self.assertFalse(IndicatorResult.objects.filter(area=self.w.an_duong).exists())

    def test_a_date_typed_in_a_csv_is_read_day_first(self):
        text = f"{UNIT_HEADINGS}\r\nQX-7,Xã Bảy,xã,Xã,T-219,Huyện,05/03/2025\r\n"
        self._confirm("areas_area", self._upload("areas_area", text.encode(), "don-vi.csv", self.CSV))
        area = Area.objects.get(code="QX-7")
        self.assertEqual(area.valid_from, datetime.date(2025, 3, 5))
        self.assertEqual(AreaResource().export([area]).dict[0]["Hiệu lực từ"], "05/03/2025")

    def test_a_date_that_is_not_a_date_is_refused_with_the_reason(self):
        text = f"{UNIT_HEADINGS}\r\nQX-6,Xã Sáu,xã,Xã,T-219,Huyện,31/02/2025\r\n"
        preview = self._upload("areas_area", text.encode(), "don-vi.csv", self.CSV)
        # The date is part of what names the unit, so the row cannot be matched at all: a row error, nothing kept.
        self.assertTrue(preview.context["result"].has_errors())
        self.assertContains(preview, "“31/02/2025” không phải là ngày: ghi ngày/tháng/năm, như 01/07/2025.")
        self.assertFalse(Area.objects.filter(code="QX-6").exists())

    def test_a_csv_saved_by_a_vietnamese_excel_is_read_in_its_encoding(self):
        text = "Mã,Tên,Loại,Cấp,Mã cấp trên,Cấp của cấp trên,Hiệu lực từ\r\nQX-8,Xã Tám,xã,Xã,T-219,Huyện,\r\n"
        preview = self._upload("areas_area", _windows_1258(text), "don-vi.csv", self.CSV)
        self._confirm("areas_area", preview)
        self.assertEqual(Area.objects.get(code="QX-8").name, "Xã Tám")

    def test_a_workbook_with_macros_is_refused_with_the_reason(self):
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            archive.writestr("xl/workbook.xml", "<workbook/>")
            archive.writestr("xl/vbaProject.bin", b"\0" * 16)
        response = self._upload("criteria_indicatorresult", out.getvalue(), "ket-qua.xlsx", self.XLSX)
        self.assertContains(response, "Tệp có chứa macro")
        self.assertNotIn("result", response.context)

    def test_a_workbook_over_the_row_limit_is_refused_whole(self):
        rows = [["Mã địa bàn", "Bộ tiêu chí", "Mã chỉ tiêu", "Năm", "Giá trị"]]
        rows += [["T-07234", "xa_ntm_2021_2025", "17.2", 2024, 95]] * 5
        with self.settings(NTM_IMPORT_MAX_ROWS=4):
            response = self._upload("criteria_indicatorresult", _xlsx(rows), "ket-qua.xlsx", self.XLSX)
        self.assertContains(response, "Tệp có quá nhiều dòng")
        self.assertFalse(IndicatorResult.objects.filter(area=self.w.an_duong).exists())


class AdminExportLimitTests(AdminFiles, TestCase):
    """An admin export is bounded: above NTM_ADMIN_EXPORT_MAX_ROWS the administrator is asked to filter first."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        indicator = Indicator.objects.get(code="17.2", criterion__criteria_set__code="xa_ntm_2021_2025")
        cls.results = [
            IndicatorResult.objects.create(area=area, indicator=indicator, year=2024, value=90)
            for area in (cls.w.an_duong, cls.w.song_van)
        ]

    def _export(self, **extra):
        url = reverse("admin:criteria_indicatorresult_export")
        form = self.client.get(url).context["form"]
        data = {"resource": "0", "format": "1", **extra}
        data.update({name: "on" for name, field in form.fields.items() if field.__class__.__name__ == "BooleanField"})
        return self.client.post(url, data)

    def test_an_export_over_the_limit_asks_to_filter_first(self):
        with self.settings(NTM_ADMIN_EXPORT_MAX_ROWS=1):
            response = self._export()
        self.assertEqual(response["Content-Type"].split(";")[0], "text/html")
        self.assertContains(response, "Danh sách đang chọn có 2 dòng, quá 1 dòng một lần xuất.")

    def test_an_export_within_the_limit_is_a_workbook_of_its_rows(self):
        with self.settings(NTM_ADMIN_EXPORT_MAX_ROWS=2):
            response = self._export()
        sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
        self.assertEqual(sheet.max_row, 3)  # the headings and the two results

    def test_the_ticked_rows_are_exported_alone(self):
        ticked = self.results[0]
        response = self._export(export_items=[str(ticked.pk)])
        rows = list(openpyxl.load_workbook(io.BytesIO(response.content)).active.values)
        self.assertEqual([row[0] for row in rows[1:]], [ticked.area.code])


class PlanItemAdminFileTests(AdminFiles, TestCase):
    """Plan items to and from a file through the admin: Vietnamese headings and words, as the portal's pages."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.plan = plan_services.create_plan(
            user=cls.w.admin, area=cls.w.an_duong, data=plan_services.PlanData(title="Kế hoạch NTM An Dương", year=2024)
        )
        cls.item = plan_services.add_item(
            user=cls.w.admin, plan=cls.plan, data=plan_services.ItemData(title="Bê tông hóa đường thôn Đồng Lạng")
        )

    def _exported(self):
        # What the admin's CSV export writes for the item (its resource, through the portal's CSV format).
        return SafeCSV().export_data(PlanItemResource().export([self.item]))

    def test_the_export_is_headed_and_worded_in_vietnamese(self):
        heading, row = self._exported().splitlines()[:2]
        self.assertTrue(heading.startswith("Mã việc,Mã kế hoạch,Số kế hoạch,Địa bàn,Thứ tự,Nội dung công việc"))
        self.assertIn("Tình trạng", heading)
        self.assertIn("Chưa thực hiện", row)
        self.assertNotIn("not_started", row)

    def test_an_edited_export_comes_back_with_its_status_and_progress(self):
        text = self._exported().replace("Chưa thực hiện,0", "Đang thực hiện,40")
        preview = self._upload("plans_planitem", text.encode(), "viec.csv", self.CSV)
        self._confirm("plans_planitem", preview)
        self.item.refresh_from_db()
        self.assertEqual((self.item.status, self.item.progress), ("in_progress", 40))
        # Who changed it, and an edit form opened before the import is now stale.
        self.assertEqual((self.item.updated_by, self.item.version), (self.w.admin, 2))
        self.assertEqual(self.item.history.first().history_user, self.w.admin)

    def test_the_admins_export_of_items_does_not_grow_in_queries_with_the_items(self):
        url = reverse("admin:plans_planitem_export")
        form = self.client.get(url).context["form"]
        data = {"resource": "0", "format": "1"}
        data.update({name: "on" for name, field in form.fields.items() if field.__class__.__name__ == "BooleanField"})

        def export_queries():
            with CaptureQueriesContext(connection) as ctx:
                response = self.client.post(url, data)
            rows = list(openpyxl.load_workbook(io.BytesIO(response.content)).active.values)
            return len(ctx.captured_queries), rows

        few, rows = export_queries()
        agency = Agency.objects.create(name="Phòng Kinh tế và Hạ tầng", area=self.w.tan_yen)
        for n in range(5):
            plan_services.add_item(
                user=self.w.admin,
                plan=self.plan,
                data=plan_services.ItemData(title=f"Việc {n}", lead_agency=agency),
            )
        many, more_rows = export_queries()
        self.assertEqual((len(rows), len(more_rows)), (2, 7))  # the headings and each item
        self.assertEqual(many, few)

    def test_the_lead_is_named_in_the_export_and_in_the_preview(self):
        agency = Agency.objects.create(name="Phòng Kinh tế và Hạ tầng", area=self.w.tan_yen)
        self.item.lead_agency = agency
        self.item.save()
        heading, row = (line.split(",") for line in self._exported().splitlines()[:2])
        self.assertEqual(dict(zip(heading, row, strict=True))["Chủ trì"], "Phòng Kinh tế và Hạ tầng")
        text = self._exported().replace("Chưa thực hiện,0", "Đang thực hiện,40")
        result = self._upload("plans_planitem", text.encode(), "viec.csv", self.CSV).context["result"]
        (changed,) = result.rows
        self.assertIn("Phòng Kinh tế và Hạ tầng", dict(zip(result.diff_headers, changed.diff, strict=True))["Chủ trì"])

    def test_a_row_without_its_plan_is_an_error_on_that_column(self):
        text = "Mã việc,Mã kế hoạch,Nội dung công việc\r\n,,Làm đường thôn Đồng Lạng\r\n"
        preview = self._upload("plans_planitem", text.encode(), "viec.csv", self.CSV)
        (invalid,) = preview.context["result"].invalid_rows
        self.assertEqual(list(invalid.field_specific_errors), ["Mã kế hoạch"])

    def test_the_items_list_shows_the_newest_plan_first_each_in_its_order(self):
        newer = plan_services.create_plan(
            user=self.w.admin, area=self.w.an_duong, data=plan_services.PlanData(title="Kế hoạch 2025", year=2025)
        )
        for title in ("Việc một", "Việc hai"):
            plan_services.add_item(user=self.w.admin, plan=newer, data=plan_services.ItemData(title=title))
        response = self.client.get(reverse("admin:plans_planitem_changelist"))
        titles = [item.title for item in response.context["cl"].result_list]
        self.assertEqual(titles, ["Việc một", "Việc hai", "Bê tông hóa đường thôn Đồng Lạng"])

    def test_an_exported_csv_with_quotes_in_a_title_reads_back_unchanged(self):
        self.item.title = 'Xây dựng lực lượng dân quân "vững mạnh, rộng khắp"'
        self.item.save()
        preview = self._upload("plans_planitem", self._exported().encode(), "viec.csv", self.CSV)
        result = preview.context["result"]
        self.assertFalse(result.has_errors() or result.has_validation_errors())
        self.assertEqual(result.totals["skip"], 1)  # read back cell for cell: nothing to change

    def test_an_unknown_plan_is_named_in_vietnamese_on_its_column(self):
        text = f"Mã việc,Mã kế hoạch,Nội dung công việc\r\n,{self.plan.pk + 999},Làm đường thôn Đồng Lạng\r\n"
        preview = self._upload("plans_planitem", text.encode(), "viec.csv", self.CSV)
        (invalid,) = preview.context["result"].invalid_rows
        self.assertIn(f"Không có kế hoạch mã '{self.plan.pk + 999}'", str(invalid.field_specific_errors))
        self.assertNotContains(preview, "<td>None</td>", html=True)  # its empty "Mã việc" shown empty

    def test_a_progress_above_100_is_an_error_on_its_column_and_nothing_is_written(self):
        text = self._exported().replace("Chưa thực hiện,0", "Đang thực hiện,120")
        preview = self._upload("plans_planitem", text.encode(), "viec.csv", self.CSV)
        (invalid,) = preview.context["result"].invalid_rows
        self.assertIn("Tiến độ phải từ 0 đến 100%", str(invalid.field_specific_errors["Tiến độ (%)"]))
        self.item.refresh_from_db()
        self.assertEqual((self.item.progress, self.item.version), (0, 1))

    def test_a_new_row_becomes_an_item_of_its_plan_in_the_history_under_the_importer(self):
        heading = "Mã việc,Mã kế hoạch,Nội dung công việc,Thời hạn\r\n"
        text = heading + f",{self.plan.pk},Lắp đèn đường thôn Thượng,Quý II/2024\r\n"
        self._confirm("plans_planitem", self._upload("plans_planitem", text.encode(), "viec.csv", self.CSV))
        item = PlanItem.objects.get(plan=self.plan, title="Lắp đèn đường thôn Thượng")
        self.assertEqual((item.deadline_label, item.deadline_date), ("Quý II/2024", datetime.date(2024, 6, 30)))
        self.assertEqual((item.updated_by, item.history.get().history_type), (self.w.admin, "+"))
        self.assertEqual(item.history.get().history_user, self.w.admin)

    def test_importing_many_rows_asks_the_database_as_often_as_importing_one(self):
        def preview_queries(count):
            rows = "".join(f",{self.plan.pk},Việc số {n},Đang thực hiện,{n}\r\n" for n in range(count))
            text = "Mã việc,Mã kế hoạch,Nội dung công việc,Tình trạng,Tiến độ (%)\r\n" + rows
            with CaptureQueriesContext(connection) as ctx:
                preview = self._upload("plans_planitem", text.encode(), "viec.csv", self.CSV)
            self.assertEqual(preview.context["result"].totals["new"], count)
            return len(ctx.captured_queries)

        self.assertEqual(preview_queries(1), preview_queries(30))

    def test_the_admin_item_form_refuses_a_progress_above_100_with_its_reason(self):
        url = reverse("admin:plans_planitem_change", args=[self.item.pk])
        form = self.client.get(url).context["adminform"].form
        data = {name: value for name, value in form.initial.items() if value is not None}
        data.update({"progress": "120", "funding_lines-TOTAL_FORMS": "0", "funding_lines-INITIAL_FORMS": "0"})
        response = self.client.post(url, data)
        self.assertContains(response, "Tiến độ phải từ 0 đến 100%.")

    def test_an_unknown_status_is_an_error_on_its_column(self):
        text = self._exported().replace("Chưa thực hiện", "Sắp xong")
        preview = self._upload("plans_planitem", text.encode(), "viec.csv", self.CSV)
        (invalid,) = preview.context["result"].invalid_rows
        self.assertIn("Sắp xong", str(invalid.field_specific_errors["Tình trạng"]))


class YearColumnTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        from criteria.services import assess_criterion

        cls.w = build_world()
        criterion = CriteriaSet.objects.get(code="xa_ntm_2016_2020").criteria.get(number=6)
        assess_criterion(area=cls.w.an_duong, criterion=criterion, year=2019, status="not_met")

    def test_years_read_as_years_not_thousands(self):
        self.client.force_login(self.w.admin)
        page = self.client.get("/admin/criteria/criterionresult/", HTTP_ACCEPT_LANGUAGE="vi").content.decode()
        self.assertIn(">2019<", page)
        self.assertNotIn("2.019", page)


class BulkResultImportTests(TestCase):
    """Many results at once: import_indicator_results, behind the admin's results import."""

    @classmethod
    def setUpTestData(cls):
        cls.w = build_world()
        national = CriteriaSet.objects.get(code="xa_ntm_2021_2025")
        cls.indicators = list(
            Indicator.objects.in_set(national)
            .exclude(kind=IndicatorKind.BOOLEAN)
            .select_related("criterion__criteria_set")
            .order_by("criterion__number", "sort_key")[:10]
        )

    def _rows(self, bad_line=None, shift=0):
        rows = []
        for line, indicator in enumerate(self.indicators, 1):
            value = Decimal("120") if line == bad_line else Decimal(40 + 6 * line + shift)
            if indicator.kind != IndicatorKind.PERCENTAGE and line == bad_line:
                value = Decimal("-1")
            rows.append({"line": line, "area": self.w.an_duong, "indicator": indicator, "year": 2024, "value": value})
        return rows

    def _dataset(self, bad_line=None, shift=0):
        data = Dataset(headers=["Mã địa bàn", "Bộ tiêu chí", "Mã chỉ tiêu", "Năm", "Giá trị"])
        for row in self._rows(bad_line, shift):
            data.append(["T-07234", "xa_ntm_2021_2025", row["indicator"].code, 2024, str(row["value"])])
        return data

    def test_a_file_with_one_bad_row_writes_nothing_and_names_the_row(self):
        result = IndicatorResultResource().import_data(self._dataset(bad_line=10), dry_run=False, user=self.w.admin)
        self.assertEqual([r.number for r in result.invalid_rows], [10])
        self.assertFalse(IndicatorResult.objects.filter(area=self.w.an_duong).exists())
        self.assertFalse(CriterionResult.objects.filter(area=self.w.an_duong).exists())

    def test_the_service_names_row_and_column_and_writes_nothing(self):
        with self.assertRaises(ValidationError) as raised:
            results_import.import_indicator_results(rows=self._rows(bad_line=10), user=self.w.admin)
        self.assertTrue(any(m.startswith("Dòng 10, cột Giá trị:") for m in raised.exception.messages))
        self.assertFalse(IndicatorResult.objects.filter(area=self.w.an_duong).exists())

    def test_imported_rows_are_in_the_history_with_the_user(self):
        report = results_import.import_indicator_results(rows=self._rows(), user=self.w.admin)
        self.assertEqual((report.created, report.updated), (10, 0))
        history = IndicatorResult.history.filter(area=self.w.an_duong, year=2024)
        self.assertEqual(history.count(), 10)
        self.assertEqual({h.history_user for h in history}, {self.w.admin})
        self.assertTrue(CriterionResult.history.filter(area=self.w.an_duong, history_user=self.w.admin).exists())
        # A second import of the same rows updates them, and that is in the history as well.
        report = results_import.import_indicator_results(rows=self._rows(), user=self.w.officer_an_duong)
        self.assertEqual((report.created, report.updated), (0, 10))
        self.assertEqual(history.filter(history_type="~", history_user=self.w.officer_an_duong).count(), 10)

    def test_statuses_are_those_record_indicator_result_stores(self):
        def stored():
            return (
                sorted(
                    IndicatorResult.objects.filter(area=self.w.an_duong).values_list(
                        "indicator__code", "status", "computed_status", "is_tentative", "value"
                    )
                ),
                sorted(
                    CriterionResult.objects.filter(area=self.w.an_duong).values_list(
                        "criterion__number", "status", "computed_status", "is_tentative"
                    )
                ),
            )

        with transaction.atomic():
            for row in self._rows():
                services.record_indicator_result(
                    area=row["area"], indicator=row["indicator"], year=2024, value=row["value"], user=self.w.admin
                )
            one_by_one = stored()
            transaction.set_rollback(True)
        results_import.import_indicator_results(rows=self._rows(), user=self.w.admin)
        self.assertEqual(stored(), one_by_one)
        self.assertTrue(any(status != "not_assessed" for _code, status, *_rest in one_by_one[0]))

    def test_the_preview_checks_every_row_and_writes_nothing(self):
        good = IndicatorResultResource().import_data(self._dataset(), dry_run=True, user=self.w.admin)
        self.assertFalse(good.has_errors() or good.has_validation_errors())
        self.assertEqual(good.totals["new"], 10)
        bad = IndicatorResultResource().import_data(self._dataset(bad_line=3), dry_run=True, user=self.w.admin)
        self.assertEqual([r.number for r in bad.invalid_rows], [3])
        self.assertFalse(IndicatorResult.objects.filter(area=self.w.an_duong).exists())

    def test_the_admin_import_reads_areas_indicators_and_stored_results_once_per_file(self):
        def queries(dataset):
            with transaction.atomic(), CaptureQueriesContext(connection) as ctx:
                result = IndicatorResultResource().import_data(dataset, dry_run=False, user=self.w.admin)
                self.assertFalse(result.has_errors() or result.has_validation_errors())
                transaction.set_rollback(True)
            return len(ctx.captured_queries)

        small = self._dataset()
        del small[2:]
        self.assertEqual(queries(small), queries(self._dataset()))

    def test_the_preview_shows_each_row_as_import_exports_own_diff_would(self):
        from import_export.resources import Diff

        class PlainDiff(IndicatorResultResource):
            def get_diff_class(self):
                return Diff

        def previews(resource_class, data):
            result = resource_class().import_data(data, dry_run=True, user=self.w.admin)
            return [(row.import_type, row.diff) for row in result.valid_rows()]

        self.assertEqual(previews(IndicatorResultResource, self._dataset()), previews(PlainDiff, self._dataset()))
        IndicatorResultResource().import_data(self._dataset(), dry_run=False, user=self.w.admin)
        changed = self._dataset()
        changed[0] = (*changed[0][:4], "55")
        self.assertEqual(previews(IndicatorResultResource, changed), previews(PlainDiff, changed))
        self.assertIn("<del", str(previews(IndicatorResultResource, changed)[0][1]))

    def test_the_real_import_skips_the_row_diff_the_preview_shows_and_still_counts_and_writes_every_row(self):
        preview = IndicatorResultResource().import_data(self._dataset(), dry_run=True, user=self.w.admin)
        self.assertTrue(all(row.diff for row in preview.valid_rows()))
        result = IndicatorResultResource().import_data(self._dataset(), dry_run=False, user=self.w.admin)
        self.assertEqual(result.totals["new"], 10)
        self.assertTrue(all(row.diff is None for row in result.valid_rows()))
        self.assertFalse(IndicatorResultResource._meta.skip_diff)  # the class's options are left as they were
        self.assertEqual(IndicatorResult.history.filter(area=self.w.an_duong, history_user=self.w.admin).count(), 10)
        again = IndicatorResultResource().import_data(self._dataset(shift=1), dry_run=True, user=self.w.admin)
        self.assertEqual(again.totals["update"], 10)
        self.assertTrue(all(row.diff for row in again.valid_rows()))

    def test_choice_labels_are_written_in_the_active_language(self):
        from django.utils import translation

        widget = IndicatorResultResource().fields["status"].widget
        with translation.override("vi"):
            self.assertEqual(widget.render("met"), "Đạt")
        with translation.override("en"):
            english = widget.render("met")
        with translation.override("vi"):
            self.assertEqual(widget.render("met"), "Đạt")
            self.assertEqual(widget.render(""), "")
            self.assertEqual(widget.render("unknown"), "unknown")
        self.assertTrue(english)

    def test_a_second_import_updates_the_stored_results_and_unknown_codes_are_row_errors(self):
        IndicatorResultResource().import_data(self._dataset(), dry_run=False, user=self.w.admin)
        same = IndicatorResultResource().import_data(self._dataset(), dry_run=True, user=self.w.admin)
        self.assertEqual((same.totals["new"], same.totals["update"], same.totals["skip"]), (0, 0, 10))
        again = IndicatorResultResource().import_data(self._dataset(shift=1), dry_run=True, user=self.w.admin)
        self.assertEqual((again.totals["new"], again.totals["update"]), (0, 10))
        data = self._dataset()
        data.append(["T-99999", "xa_ntm_2021_2025", "17.2", 2024, "50"])
        data.append(["T-07234", "xa_ntm_2021_2025", "99.9", 2024, "50"])
        result = IndicatorResultResource().import_data(data, dry_run=True, user=self.w.admin)
        errors = {row.number: str(row.error_dict) for row in result.invalid_rows}
        errors.update({number: " ".join(str(e.error) for e in found) for number, found in result.row_errors()})
        self.assertIn("T-99999", errors.get(11, ""))
        self.assertIn("99.9", errors.get(12, ""))
