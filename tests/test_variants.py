"""A province's own thresholds (e.g. Tuyên Quang QĐ 479/QĐ-UBND) loaded from an Excel table."""

import datetime
import io
import tempfile
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import TestCase
from django.urls import reverse

from criteria import judging, services, variants
from criteria.models import CriteriaSet, Indicator, IndicatorResult, Threshold
from tests.personas import build_world
from tests.variant_tables import variant_table


class VariantImportTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.w = build_world()
        cls.national = CriteriaSet.objects.get(code="xa_ntm_2021_2025")
        cls.indicator = Indicator.objects.in_set(cls.national).get(code="17.2")

    def _import(self, book, code="tq-479-2022"):
        return variants.import_variant(
            workbook_file=book,
            parent_set=self.national,
            province=self.w.tuyen_quang,
            code=code,
            name="Bộ tiêu chí xã NTM tỉnh Tuyên Quang 2022–2025",
            legal_basis="479/QĐ-UBND",
            issued_on=datetime.date(2022, 8, 4),
            user=self.w.admin,
        )

    def _judge(self, area):
        judged = judging.judge_indicators(
            area=area, criteria_set=self.national, year=2024, criterion=self.indicator.criterion
        )
        return next(j for j in judged if j.indicator.pk == self.indicator.pk)

    def test_variant_overrides_the_national_threshold_in_its_province_only(self):
        for area in (self.w.hung_my, self.w.an_duong):
            services.record_indicator_result(area=area, indicator=self.indicator, year=2024, value=90)
        report = self._import(variant_table(["17.2", "≥85%", None, None, "Theo QĐ 479"]))
        self.assertEqual(report.created, 1)
        # Only the province's results are judged again, and the page says so: Hùng Mỹ's, not An Dương's.
        self.assertEqual(report.recomputed, 1)

        hung_my = self._judge(self.w.hung_my)
        self.assertEqual(hung_my.evaluation.status, "met")
        self.assertIn("479/QĐ-UBND", hung_my.choice.reason)
        an_duong = self._judge(self.w.an_duong)
        self.assertEqual(an_duong.evaluation.status, "not_met")
        self.assertNotIn("479", an_duong.choice.reason)
        # The stored statuses follow the new threshold without anyone re-entering the value.
        self.assertEqual(IndicatorResult.objects.get(area=self.w.hung_my, indicator=self.indicator).status, "met")

    def test_reloading_the_table_updates_and_drops_rows(self):
        other = Indicator.objects.in_set(self.national).get(code="17.7")
        self._import(variant_table(["17.2", "≥85%"], ["17.7", "≥95%"]))
        report = self._import(variant_table(["17.2", "≥80%"]))
        self.assertEqual((report.created, report.updated, report.removed), (0, 1, 1))
        self.assertEqual(Threshold.objects.get(variant=report.criteria_set, indicator=self.indicator).value, 80)
        self.assertFalse(Threshold.objects.filter(variant=report.criteria_set, indicator=other).exists())

    def test_a_bad_row_rejects_the_whole_file_and_names_row_and_column(self):
        book = variant_table(
            ["17.2", "≥85%"], ["17.7", "≥95%"], ["17.5", "Đạt"], ["17.6", "Đạt"], ["17.9", "≥50%"], ["17.13", "≥90%"]
        )
        with self.assertRaises(ValidationError) as ctx:
            self._import(book)
        self.assertIn("Dòng 7, cột Mã chỉ tiêu: không có chỉ tiêu '17.13' trong bộ tiêu chí", ctx.exception.messages)
        self.assertFalse(CriteriaSet.objects.filter(code="tq-479-2022").exists())
        self.assertFalse(Threshold.objects.filter(variant__isnull=False).exists())

    def test_an_unknown_region_is_named_with_its_row(self):
        with self.assertRaises(ValidationError) as ctx:
            self._import(variant_table(["17.2", "≥85%", "MIENTAY"]))
        self.assertTrue(ctx.exception.messages[0].startswith("Dòng 2, cột Vùng:"))

    def test_a_file_that_is_not_excel_is_refused_clearly(self):
        with self.assertRaises(ValidationError) as ctx:
            self._import(io.BytesIO("Mã chỉ tiêu,Ngưỡng\n17.2,≥85%\n".encode()))
        self.assertIn("không phải là bảng tính Excel", ctx.exception.messages[0])
        self.assertFalse(CriteriaSet.objects.filter(code="tq-479-2022").exists())

    def _send_on_admin_page(self, table, **kwargs):
        """The admin's page that loads a province's table into the national set, sent by the administrator."""
        self.client.force_login(self.w.admin)
        url = reverse("admin:criteria_criteriaset_import_variant", args=[self.national.pk])
        return self.client.post(
            url,
            {
                "province": self.w.tuyen_quang.pk,
                "code": "tq-479-2022",
                "name": "Bộ Tuyên Quang",
                "legal_basis": "479/QĐ-UBND",
                "issued_on": "2022-08-04",
                "workbook": SimpleUploadedFile("479.xlsx", table.getvalue()),
            },
            **kwargs,
        )

    def test_the_admin_page_shows_the_errors_and_loads_nothing(self):
        response = self._send_on_admin_page(variant_table(["17.13", "≥90%"]))
        self.assertContains(response, "Dòng 2, cột Mã chỉ tiêu: không có chỉ tiêu &#x27;17.13&#x27; trong bộ tiêu chí")
        self.assertFalse(CriteriaSet.objects.filter(code="tq-479-2022").exists())

    def test_the_admin_page_loads_a_good_table(self):
        response = self._send_on_admin_page(variant_table(["17.2", "≥85%"]), follow=True)
        self.assertContains(response, "thêm 1")
        variant = CriteriaSet.objects.get(code="tq-479-2022")
        self.assertEqual(
            (variant.parent, variant.province, variant.period), (self.national, self.w.tuyen_quang, "2021–2025")
        )

    def test_command_loads_the_table(self):
        path = self._tmp_file(variant_table(["17.2", "≥85%", "TDMNPB", 2024]))
        call_command(
            "import_threshold_variant",
            path,
            parent="xa_ntm_2021_2025",
            province="08",
            code="tq-479-2022",
            name="Bộ Tuyên Quang",
            basis="479/QĐ-UBND",
            issued=datetime.date(2022, 8, 4),
            stdout=io.StringIO(),
        )
        threshold = Threshold.objects.get(variant__code="tq-479-2022")
        self.assertEqual((threshold.region.code, threshold.year, threshold.value), ("TDMNPB", 2024, 85))
        self.assertEqual(threshold.variant.province, self.w.tuyen_quang)

    def test_command_reports_errors_without_a_traceback(self):
        path = self._tmp_file(variant_table(["17.13", "≥85%"]))
        with self.assertRaisesMessage(CommandError, "Dòng 2, cột Mã chỉ tiêu"):
            call_command(
                "import_threshold_variant", path, parent="xa_ntm_2021_2025", province="08", code="tq", name="x"
            )

    def _tmp_file(self, buffer):
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        path = Path(folder.name) / "479.xlsx"
        path.write_bytes(buffer.getvalue())
        return str(path)


class AmbiguousNumberTests(TestCase):
    def test_a_dot_decimal_threshold_is_refused_with_the_row_not_a_server_error(self):
        from io import BytesIO

        from django.core.exceptions import ValidationError
        from openpyxl import Workbook

        from areas.models import Area
        from criteria.models import CriteriaSet
        from criteria.variants import import_variant

        wb = Workbook()
        ws = wb.active
        ws.append(["Mã chỉ tiêu", "Ngưỡng"])
        ws.append(["15.1", "≥90.3%"])
        buf = BytesIO()
        wb.save(buf)
        buf.seek(0)
        with self.assertRaises(ValidationError) as ctx:
            import_variant(
                workbook_file=buf,
                parent_set=CriteriaSet.objects.get(code="xa_ntm_2021_2025"),
                province=Area.objects.provinces().get(code="08", valid_from__isnull=True),
                code="tq-test",
                name="Thử",
                legal_basis="479/QĐ-UBND",
                issued_on=None,
                user=None,
            )
        self.assertIn("Dòng 2, cột Ngưỡng", " ".join(ctx.exception.messages))
