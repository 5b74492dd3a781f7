"""Bad input: property-based tests of the parsers, a corpus of bad files against every upload, and text
fields that carry HTML shown escaped on every page."""

import io
import os
import shutil
import tempfile
import tracemalloc
import zipfile
from decimal import Decimal

import openpyxl
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import SimpleTestCase, TestCase, override_settings
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from criteria import evidence as criteria_evidence
from criteria import services as criteria_services
from criteria import variants
from criteria.evaluation import parse_threshold, parse_vn_number
from criteria.models import CriteriaSet, Evidence, Indicator, Threshold
from plans import services as plan_services
from plans.models import Deadline as PlanDeadline
from plans.models import FundingSource, Precision, parse_deadline
from reports import bieu, bieu_import
from tests.evidence_uploads import EvidenceUploadTestCase
from tests.personas import build_world, make_area

YEAR = 2024
MEDIA = tempfile.mkdtemp(prefix="ntm-test-bad-input-")
XSS = "<script>alert(1)</script>"
XSS_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def vn_format(value: Decimal) -> str:
    """A Decimal written as officers write it: dots group thousands, a comma before the decimals."""
    sign = "-" if value < 0 else ""
    whole, _dot, fraction = f"{abs(value):f}".partition(".")
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    return sign + ".".join(groups) + ("," + fraction if fraction else "")


def zip_bomb(entry, unpacked_mb=300):
    """A small .xlsx-looking zip whose `entry` unpacks to `unpacked_mb` megabytes of zeros."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", '<Types><Override ContentType="spreadsheetml.sheet.main+xml"/></Types>')
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open(entry, "w", force_zip64=True) as out:
            block = b"\0" * (1024 * 1024)
            for _ in range(unpacked_mb):
                out.write(block)
    return buffer.getvalue()


def big_temp_file(megabytes, head=b"PK\x03\x04"):
    """A file of `megabytes` MB on disk (sparse where the filesystem allows), never held in memory."""
    handle = tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False)  # noqa: SIM115 - closed by the caller
    handle.write(head)
    handle.truncate(megabytes * 1024 * 1024)
    handle.seek(0)
    return handle


def workbook_bytes(rows, *, merge=None, formats=None):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    if merge:
        sheet.merge_cells(merge)
    for ref, number_format in (formats or {}).items():
        sheet[ref].number_format = number_format
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# ---------------------------------------------------------------- parsers, property-based

decimals = st.decimals(min_value=Decimal("-999999999.9999"), max_value=Decimal("999999999.9999"), places=4)


class NumberParserProperties(SimpleTestCase):
    @given(decimals)
    def test_a_number_written_the_vietnamese_way_reads_back_as_itself(self, value):
        self.assertEqual(parse_vn_number(vn_format(value)), value)

    @given(st.integers(min_value=0, max_value=10**12))
    def test_whole_numbers_read_with_or_without_grouping(self, value):
        self.assertEqual(parse_vn_number(str(value)), value)
        self.assertEqual(parse_vn_number(vn_format(Decimal(value))), value)

    @given(st.integers(min_value=0, max_value=999), st.integers(min_value=0, max_value=99))
    def test_a_dot_that_does_not_group_three_digits_is_refused(self, whole, fraction):
        # "90.3" may be an English decimal or a mistyped thousands group: never guessed.
        with self.assertRaises(ValueError):
            parse_vn_number(f"{whole}.{fraction}")

    @given(st.integers(min_value=1, max_value=999), st.integers(min_value=0, max_value=999))
    def test_two_decimal_commas_are_refused(self, a, b):
        with self.assertRaises(ValueError):
            parse_vn_number(f"{a},{b},5")

    @given(st.text(max_size=40))
    def test_any_text_is_a_number_or_a_value_error(self, text):
        try:
            result = parse_vn_number(text)
        except ValueError:
            return
        self.assertIsInstance(result, Decimal)
        self.assertTrue(result.is_finite())

    @given(st.text(max_size=60))
    def test_any_threshold_text_is_read_or_refused_with_a_value_error(self, text):
        try:
            parsed = parse_threshold(text)
        except ValueError:
            return
        self.assertIn(parsed.comparison, {"gte", "lte", "eq", "yes", "no", "manual", "missing"})
        if parsed.comparison in {"gte", "lte", "eq"}:
            self.assertIsInstance(parsed.value, Decimal)

    @given(st.sampled_from(["≥", "≤", "=", ">=", "<="]), st.decimals(min_value=0, max_value=100000, places=2))
    def test_a_written_threshold_keeps_its_comparison_and_value(self, op, value):
        parsed = parse_threshold(f"{op}{vn_format(value)}%")
        expected = {"≥": "gte", ">=": "gte", "≤": "lte", "<=": "lte", "=": "eq"}[op]
        self.assertEqual((parsed.comparison, parsed.value), (expected, value))


class DeadlineParserProperties(SimpleTestCase):
    @given(st.text(max_size=40))
    def test_any_text_is_a_deadline_or_a_vietnamese_validation_error(self, text):
        try:
            deadline = parse_deadline(text)
        except ValidationError as exc:
            self.assertIn("thời hạn", exc.messages[0].lower())
            return
        self.assertIsInstance(deadline, PlanDeadline)

    @given(
        st.sampled_from([Precision.DAY, Precision.MONTH, Precision.QUARTER, Precision.YEAR]),
        st.integers(min_value=1990, max_value=2100),
        st.integers(min_value=1, max_value=12),
        st.integers(min_value=1, max_value=28),
    )
    def test_every_label_the_portal_shows_reads_back_as_the_same_deadline(self, precision, year, month, day):
        number = {Precision.QUARTER: (month - 1) // 3 + 1}.get(precision, month)
        deadline = PlanDeadline.of(precision, year, number, day)
        self.assertEqual(parse_deadline(deadline.label), deadline)

    @given(st.integers(min_value=1990, max_value=2100), st.integers(min_value=13, max_value=99))
    def test_a_month_that_does_not_exist_is_refused(self, year, month):
        with self.assertRaises(ValidationError):
            parse_deadline(f"tháng {month}/{year}")


# ---------------------------------------------------------------- bad files


class EvidenceUploadCorpusTests(EvidenceUploadTestCase):
    """The evidence upload refuses, by content, whatever is not what it claims, and stores nothing."""

    def test_lying_extensions_are_refused(self):
        corpus = {
            "bien-ban.pdf": b"<html><script>alert(1)</script></html>",
            "anh.png": PDF,
            "to-trinh.docx": b"MZ\x90\x00 an executable",
            "bang.xlsx": b"not a zip at all",
            "anh.jpg": b"\x89PNG\r\n\x1a\n" + b"\0" * 32,
            "bien-ban.pdf.exe": PDF,
            "ghi-chu.txt": b"plain text",
            "bang.docx": zip_bomb("xl/worksheets/sheet1.xml", unpacked_mb=1),
        }
        for name, content in corpus.items():
            with self.subTest(name=name):
                response = self.upload(name, content)
                self.assertContains(response, "nội dung không khớp với đuôi tệp")
        self.assertFalse(Evidence.objects.exists())

    def test_a_fifty_megabyte_file_is_refused_by_its_size_before_it_is_read(self):
        handle = big_temp_file(50, head=b"%PDF-1.4\n")
        self.addCleanup(os.unlink, handle.name)
        upload = File(handle, name="bien-ban.pdf")
        tracemalloc.start()
        with self.assertRaisesMessage(ValidationError, "Tệp quá lớn: tối đa 20 MB."):
            criteria_evidence.add_evidence(
                area=self.w.an_duong, indicator=self.indicator, year=YEAR, upload=upload, user=self.w.admin
            )
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        handle.close()
        self.assertLess(peak, 5 * 1024 * 1024)
        self.assertFalse(Evidence.objects.exists())


class VariantImportCorpusTests(TestCase):
    """A province's threshold table (criteria/variants.py) is taken whole or refused whole, with the reason."""

    @classmethod
    def setUpTestData(cls):
        cls.parent = CriteriaSet.objects.get(code="xa_ntm_2021_2025")
        cls.code = Indicator.objects.in_set(cls.parent).order_by("sort_key").first().code

    def refused(self, content):
        with self.assertRaises(ValidationError) as caught:
            variants.import_variant(
                workbook_file=io.BytesIO(content),
                parent_set=self.parent,
                province=variants.province_for("08", parent_set=self.parent),
                code="tq-thu",
                name="Thử",
                legal_basis="479/QĐ-UBND",
                issued_on=None,
            )
        self.assertFalse(CriteriaSet.objects.filter(code="tq-thu").exists())
        self.assertFalse(Threshold.objects.filter(variant__code="tq-thu").exists())
        return " ".join(caught.exception.messages)

    def test_not_a_zip(self):
        self.assertIn("không phải là bảng tính Excel", self.refused("Mã chỉ tiêu;Ngưỡng\n1.1;80%\n".encode()))

    def test_a_zip_bomb_is_refused_without_being_unpacked(self):
        bomb = zip_bomb("xl/sharedStrings.xml", unpacked_mb=300)
        self.assertLess(len(bomb), 1024 * 1024)
        tracemalloc.start()
        message = self.refused(bomb)
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        self.assertIn("quá lớn sau khi giải nén", message)
        self.assertLess(peak, 20 * 1024 * 1024)

    def test_a_fifty_megabyte_file_is_refused_by_its_size(self):
        handle = big_temp_file(50)
        self.addCleanup(os.unlink, handle.name)
        with handle, self.assertRaisesMessage(ValidationError, "Tệp quá lớn"):
            variants.read_rows(handle, parent_set=self.parent)

    def test_the_wrong_template(self):
        message = self.refused(workbook_bytes([["STT", "Tên chỉ tiêu", "Kết quả"], [1, "Thu nhập", "45"]]))
        self.assertIn("thiếu cột “Mã chỉ tiêu”, “Ngưỡng”", message)

    def test_a_formula_instead_of_a_threshold(self):
        message = self.refused(workbook_bytes([["Mã chỉ tiêu", "Ngưỡng"], [self.code, "=40+40"]]))
        self.assertIn("Dòng 2, cột Ngưỡng: chưa ghi ngưỡng", message)

    def test_merged_cells_in_the_data(self):
        rows = [["Mã chỉ tiêu", "Ngưỡng"], [self.code, "≥80%"], [None, "≥90%"]]
        message = self.refused(workbook_bytes(rows, merge="A2:A3"))
        self.assertIn("Dòng 3, cột Mã chỉ tiêu: chưa ghi mã chỉ tiêu", message)

    def test_a_year_written_as_text(self):
        rows = [["Mã chỉ tiêu", "Ngưỡng", "Năm"], [self.code, "≥80%", "năm hai nghìn hai mươi hai"]]
        self.assertIn("không phải là năm", self.refused(workbook_bytes(rows)))

    def test_a_date_where_the_year_goes(self):
        import datetime

        rows = [["Mã chỉ tiêu", "Ngưỡng", "Năm"], [self.code, "≥80%", datetime.datetime(2022, 8, 4)]]
        self.assertIn("không phải là năm", self.refused(workbook_bytes(rows)))

    def test_duplicate_rows(self):
        rows = [["Mã chỉ tiêu", "Ngưỡng"], [self.code, "≥80%"], [self.code, "≥85%"]]
        self.assertIn("đã có ở dòng 2", self.refused(workbook_bytes(rows)))


@override_settings(MEDIA_ROOT=MEDIA)
class BieuImportCorpusTests(TestCase):
    """A Biểu upload (reports/bieu_import.py) is refused whole, before any row is read, when the file is bad."""

    @classmethod
    def setUpTestData(cls):
        cls.w = build_world()

    def refused(self, upload):
        with self.assertRaises(bieu_import.ImportRefused) as caught:
            token = bieu_import.store_upload(upload, user=self.w.officer_an_duong, area=self.w.an_duong)
            upload = bieu_import.stored_upload(token, user=self.w.officer_an_duong, area=self.w.an_duong)
            bieu_import.preview(upload, area=self.w.an_duong, user=self.w.officer_an_duong)
        return str(caught.exception)

    def test_not_a_zip(self):
        message = self.refused(SimpleUploadedFile("bieu01.xlsx", "STT;Chỉ tiêu;Kết quả\n".encode()))
        self.assertIn("không phải là tệp Excel", message)

    def test_a_zip_bomb(self):
        self.assertIn("quá lớn sau khi giải nén", self.refused(SimpleUploadedFile("b.xlsx", zip_bomb("xl/a.xml"))))

    def test_a_fifty_megabyte_file(self):
        handle = big_temp_file(50)
        self.addCleanup(os.unlink, handle.name)
        with handle:
            self.assertIn("Tệp quá lớn", self.refused(File(handle, name="bieu01.xlsx")))

    def test_a_workbook_that_is_not_a_bieu_of_the_portal(self):
        other = workbook_bytes([["Mã chỉ tiêu", "Ngưỡng"], ["1.1", "≥80%"]])
        self.assertIn("không có trang thông tin", self.refused(SimpleUploadedFile("bieu01.xlsx", other)))

    def test_the_bieu_of_another_commune(self):
        out = io.BytesIO()
        bieu.export(out, form="01", area=self.w.song_van, year=YEAR)
        message = self.refused(SimpleUploadedFile("bieu01.xlsx", out.getvalue()))
        self.assertIn("không phải của", message)


# ---------------------------------------------------------------- HTML in text fields


@override_settings(MEDIA_ROOT=MEDIA)
class EscapedTextTests(TestCase):
    """Text typed by users (or imported) is shown as text: the script tag appears escaped, never raw."""

    @classmethod
    def setUpTestData(cls):
        cls.w = w = build_world()
        cls.village = make_area("T-07234-09", f"Thôn {XSS}", "village", w.an_duong, "thôn")
        w.officer_an_duong.first_name = XSS
        w.officer_an_duong.save()
        criteria_set = CriteriaSet.objects.national().for_level("commune").covering(YEAR).get(tier="standard")
        cls.indicator = Indicator.objects.in_set(criteria_set).get(code="17.8")
        criteria_services.record_indicator_result(
            area=w.an_duong, indicator=cls.indicator, year=YEAR, user=w.officer_an_duong, value=90, note=XSS
        )
        with override_settings(MEDIA_ROOT=MEDIA):
            criteria_evidence.add_evidence(
                area=w.an_duong,
                indicator=cls.indicator,
                year=YEAR,
                upload=SimpleUploadedFile(f"{XSS}.pdf", PDF),
                user=w.officer_an_duong,
            )
        cls.plan = plan_services.create_plan(
            user=w.admin,
            area=w.an_duong,
            data=plan_services.PlanData(title=f"Kế hoạch {XSS}", year=YEAR, number=XSS, notes=XSS),
        )
        cls.item = plan_services.add_item(
            user=w.officer_an_duong,
            plan=cls.plan,
            data=plan_services.ItemData(
                title=f"Nội dung {XSS}",
                target=XSS,
                notes=XSS,
                description=XSS,
                deadline=PlanDeadline.of(Precision.MONTH, YEAR, 2),
            ),
            funding=[plan_services.FundingInput(FundingSource.objects.active().first(), "10")],
        )
        plan_services.record_progress(
            user=w.officer_an_duong, item=cls.item, date=cls.item_date(), progress=20, done=XSS, difficulties=XSS
        )

    @staticmethod
    def item_date():
        import datetime

        return datetime.date(YEAR, 3, 1)

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(MEDIA, ignore_errors=True)

    def test_every_page_shows_the_text_escaped(self):
        w = self.w
        q = f"?nam={YEAR}"
        pages = [
            reverse("area_detail", args=[w.an_duong.pk]),
            reverse("area_detail", args=[self.village.pk]),
            reverse("workspace_criterion", args=[w.an_duong.pk, self.indicator.criterion.pk]) + q,
            reverse("indicator_history", args=[w.an_duong.pk, self.indicator.pk]) + q,
            reverse("plan_list", args=[w.an_duong.pk]),
            reverse("plan_detail", args=[self.plan.pk]),
            reverse("item_detail", args=[self.item.pk]),
            reverse("item_edit", args=[self.item.pk]),
            reverse("overdue_items", args=[w.an_duong.pk]),
            reverse("export_bieu", args=[self.village.pk]),
            reverse("home"),
        ]
        # The officer's own name carries the tag too, so every page's header shows it.
        self.client.force_login(w.officer_an_duong)
        for url in pages:
            with self.subTest(url=url):
                response = self.client.get(url)
                self.assertEqual(response.status_code, 200)
                self.assertNotContains(response, XSS)
                self.assertContains(response, XSS_ESCAPED)

    def test_the_audit_page_shows_the_text_escaped(self):
        self.client.force_login(self.w.admin)
        response = self.client.get(reverse("audit"))
        self.assertNotContains(response, XSS)
        self.assertContains(response, XSS_ESCAPED)
