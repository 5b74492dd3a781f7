"""A whole criteria set typed in Excel by an administrator (e.g. a province's 2026–2030 guidance) loads as a new set,
judges communes by group, is refused whole when a cell or the file is bad, and exports in the same layout."""

import io
import tempfile
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import TestCase, override_settings
from django.urls import reverse

from areas.models import CommuneGrouping
from criteria import catalogue_excel, judging, services
from criteria.models import CriteriaSet, Criterion, Indicator, IndicatorResult, Threshold
from tests.personas import build_world, make_user
from tests.variant_tables import sheet_table

HEADER = [
    "Tiêu chí số", "Tên tiêu chí", "Mã chỉ tiêu", "Tên chỉ tiêu", "Đơn vị", "Loại", "So sánh", "Ngưỡng chung",
    "N1", "N2", "N3", "Năm áp dụng", "Căn cứ",
]  # fmt: skip
BASIS = "Hướng dẫn 12/HD-SNN ngày 15/01/2026"
# A few criteria of a province's 2026–2030 guidance, typed as an officer would: merged criterion cells left blank,
# one indicator with its own 2028 level for group 3, one criterion whose indicators are not known yet.
GUIDANCE = [
    [1, "Quy hoạch", "1.1", "Có quy hoạch chung xây dựng xã được phê duyệt", "Đạt/Không đạt", "có-không", "đạt"],
    [None, None, "1.2", "Ban hành quy định quản lý theo quy hoạch", "Đạt/Không đạt", "có-không", None, "Đạt"],
    [17, "Môi trường", "17.1", "Tỷ lệ hộ sử dụng nước sạch theo quy chuẩn", "%", "tỷ lệ", "≥", None, 95, 90, 80],
    [None, None, "17.1", "Tỷ lệ hộ sử dụng nước sạch theo quy chuẩn", "%", "tỷ lệ", "≥", None, None, None, 85, 2028],
    [None, None, "17.2", "Tỷ lệ chất thải rắn sinh hoạt được thu gom", "%", "tỷ lệ", None, "≥70%"],
    [18, "Y tế", "18.1", "Tỷ lệ trẻ em dưới 5 tuổi suy dinh dưỡng thể thấp còi", "%", "tỷ lệ", "≤", None, "14,5", 18,
     "chưa có ngưỡng", None, "Hướng dẫn 3/HD-SYT"],
    [19, "Quốc phòng và an ninh"],
]  # fmt: skip


def workbook(*rows, header=HEADER, title=None):
    return sheet_table(*rows, header=header, title=title)


def rezip(buffer, extra=(), content_types=None):
    """The workbook with parts added (a VBA project, an external link) or its content types replaced."""
    out = io.BytesIO()
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "[Content_Types].xml" and content_types:
                data = content_types(data)
            target.writestr(item, data)
        for name, data in extra:
            target.writestr(name, data)
    out.seek(0)
    return out


META = catalogue_excel.SetMeta(
    code="bg_xa_ntm_2026_2030",
    name="Bộ tiêu chí xã NTM tỉnh Bắc Giang 2026–2030",
    period_start=2026,
    period_end=2030,
    legal_basis=BASIS,
    issuer="UBND tỉnh Bắc Giang",
)


def load(book, meta=META, user=None):
    return catalogue_excel.import_set(rows=catalogue_excel.read_workbook(book), meta=meta, user=user)


def contents(criteria_set):
    """What a set holds, comparable across sets: criteria, indicators and every threshold."""
    criteria = [(c.number, c.name, c.group_code) for c in criteria_set.criteria.order_by("number")]
    indicators = [
        (i.criterion.number, i.code, i.name, i.unit, i.kind, i.verified)
        for i in Indicator.objects.in_set(criteria_set).select_related("criterion")
    ]
    thresholds = sorted(
        (
            t.indicator.code,
            t.region.code if t.region_id else "",
            t.commune_group,
            t.year or 0,
            t.raw,
            t.comparison,
            t.value,
            t.verified,
            t.source,
        )
        for t in Threshold.objects.filter(indicator__criterion__criteria_set=criteria_set, variant__isnull=True)
    )
    return criteria, indicators, thresholds


def written(threshold_row):
    """A threshold row of `contents` without the comparison sign a bare number gains on the way."""
    code, region, group, year, raw, comparison, value = threshold_row[:7]
    if comparison in ("gte", "lte", "eq"):
        raw = raw.lstrip("≥≤=")
    return code, region, group, year, raw, comparison, value


class CatalogueImportTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.w = build_world()
        # The province's decision grouping its communes for 2026–2030.
        CommuneGrouping.objects.create(area=cls.w.an_duong, group="N1", period_start=2026, period_end=2030)
        CommuneGrouping.objects.create(area=cls.w.song_van, group="N3", period_start=2026, period_end=2030)

    def _verdict(self, area, indicator, year):
        judged = judging.judge_indicators(
            area=area, criteria_set=indicator.criterion.criteria_set, year=year, criterion=indicator.criterion
        )
        return next(j for j in judged if j.indicator.pk == indicator.pk)

    def test_a_province_guidance_loads_as_a_new_set_and_judges_communes_by_group(self):
        cset = load(workbook(*GUIDANCE), user=self.w.admin)

        self.assertEqual((cset.code, cset.period, cset.threshold_scheme), ("bg_xa_ntm_2026_2030", "2026–2030", "group"))
        self.assertEqual(list(cset.criteria.values_list("number", flat=True)), [1, 17, 18, 19])
        water = Indicator.objects.in_set(cset).get(code="17.1")
        self.assertEqual(water.kind, "percentage")
        for area in (self.w.an_duong, self.w.song_van):
            services.record_indicator_result(area=area, indicator=water, year=2027, value=Decimal("92"))
            services.record_indicator_result(area=area, indicator=water, year=2028, value=Decimal("82"))

        n1 = self._verdict(self.w.an_duong, water, 2027)  # group 1 needs ≥95%
        self.assertEqual((n1.evaluation.status, n1.choice.threshold.raw), ("not_met", "≥95%"))
        self.assertIn("nhóm xã N1", n1.choice.reason)
        self.assertEqual(self._verdict(self.w.song_van, water, 2027).evaluation.status, "met")  # group 3: ≥80%
        in_2028 = self._verdict(self.w.song_van, water, 2028)  # from 2028 group 3 needs ≥85%
        self.assertEqual((in_2028.evaluation.status, in_2028.choice.threshold.raw), ("not_met", "≥85%"))
        # The stored statuses the dashboards count agree.
        stored = IndicatorResult.objects.get(area=self.w.an_duong, indicator=water, year=2027)
        self.assertEqual(stored.status, "not_met")

        stunting = Threshold.objects.get(
            indicator__criterion__criteria_set=cset, indicator__code="18.1", commune_group="N1"
        )
        self.assertEqual((stunting.comparison, stunting.value, stunting.raw), ("lte", Decimal("14.5"), "≤14,5%"))
        self.assertEqual((stunting.source, stunting.verified), ("Hướng dẫn 3/HD-SYT", True))
        missing = Threshold.objects.get(
            indicator__criterion__criteria_set=cset, indicator__code="18.1", commune_group="N3"
        )
        self.assertEqual((missing.comparison, missing.verified), ("missing", False))
        plan_ok = Threshold.objects.get(indicator__criterion__criteria_set=cset, indicator__code="1.1")
        self.assertEqual((plan_ok.comparison, plan_ok.source, plan_ok.verified), ("yes", BASIS, True))
        # Every threshold written is in its history, with who loaded it.
        self.assertEqual(plan_ok.history.get().history_user, self.w.admin)

    def test_a_bad_comparison_or_threshold_cell_is_refused_with_its_row_and_column_and_nothing_is_written(self):
        before = CriteriaSet.objects.count()
        book = workbook(
            [17, "Môi trường", "17.1", "Tỷ lệ hộ sử dụng nước sạch", "%", "tỷ lệ", "≈", None, 95, 90, 80],
            [None, None, "17.2", "Tỷ lệ chất thải rắn được thu gom", "%", "tỷ lệ", "≥", None, "≥", 60, "60.5"],
            [None, None, "17.3", "Tỷ lệ hộ có nhà tiêu hợp vệ sinh", "%", "tỷ lệ", None, 80],
        )
        with self.assertRaises(ValidationError) as ctx:
            load(book)

        messages = ctx.exception.messages
        self.assertIn(
            "Dòng 2, cột G (So sánh): ≈ — không rõ phép so sánh; dùng ≥, ≤, =, đạt, không, đánh giá, chưa có", messages
        )
        self.assertIn("Dòng 3, cột I (N1): ≥ — so sánh ≥, ≤ hoặc = cần có giá trị (ví dụ ≥80%)", messages)
        self.assertIn("Dòng 3, cột K (N3): 60.5 — viết số kiểu Việt Nam, dấu phẩy cho phần thập phân (90,3)", messages)
        self.assertTrue(any(m.startswith("Dòng 4, cột H (Ngưỡng chung): 80 — ghi phép so sánh") for m in messages))
        self.assertEqual(CriteriaSet.objects.count(), before)
        self.assertFalse(Indicator.objects.filter(code="17.3", criterion__criteria_set__code=META.code).exists())

    def test_a_level_typed_in_a_percentage_cell_reads_as_that_percentage(self):
        book = openpyxl.Workbook()
        sheet = book.active
        sheet.append(["Tiêu chí số", "Tên tiêu chí", "Mã chỉ tiêu", "Tên chỉ tiêu", "Đơn vị", "So sánh", "N1"])
        sheet.append([17, "Môi trường", 17.2, "Tỷ lệ hộ sử dụng nước sạch", "%", "≥", 0.955])
        sheet["G2"].number_format = "0.0%"  # Excel shows 95,5%
        buffer = io.BytesIO()
        book.save(buffer)
        buffer.seek(0)

        cset = load(buffer)

        threshold = Threshold.objects.get(indicator__criterion__criteria_set=cset)
        self.assertEqual(
            (threshold.indicator.code, threshold.raw, threshold.value), ("17.2", "≥95,5%", Decimal("95.5"))
        )

    def test_reloading_a_used_code_makes_a_new_version_and_keeps_the_old_set_and_its_results(self):
        first = load(workbook(*GUIDANCE))
        water = Indicator.objects.in_set(first).get(code="17.1")
        services.record_indicator_result(area=self.w.an_duong, indicator=water, year=2027, value=Decimal("96"))
        corrected = [list(row) for row in GUIDANCE]
        corrected[2][8] = 97  # the province raised group 1's level

        second = load(workbook(*corrected), user=self.w.admin)
        third = load(workbook(*corrected))

        self.assertEqual((second.code, third.code), ("bg_xa_ntm_2026_2030_v2", "bg_xa_ntm_2026_2030_v3"))
        self.assertIn("“bg_xa_ntm_2026_2030”", second.notes)
        self.assertIn("“bg_xa_ntm_2026_2030_v2”", third.notes)
        self.assertIn("quantri", second.notes)
        old = Threshold.objects.get(indicator=water, commune_group="N1")
        self.assertEqual(old.value, 95)
        self.assertEqual(IndicatorResult.objects.get(indicator=water, area=self.w.an_duong).status, "met")
        new = Threshold.objects.get(
            indicator__criterion__criteria_set=second, indicator__code="17.1", commune_group="N1"
        )
        self.assertEqual(new.value, 97)

    def test_an_exported_set_reloads_as_a_new_version_with_the_same_criteria_indicators_and_thresholds(self):
        cset = load(workbook(*GUIDANCE, title="Bộ tiêu chí xã NTM tỉnh Bắc Giang giai đoạn 2026–2030"))
        formula_like = '=HYPERLINK("http://x") theo hướng dẫn'
        Criterion.objects.filter(criteria_set=cset, number=19).update(name=formula_like)

        exported = catalogue_excel.export_set(cset)
        sheet = openpyxl.load_workbook(io.BytesIO(exported)).active
        cell = next(c for row in sheet.iter_rows() for c in row if c.value == formula_like)
        self.assertEqual(cell.data_type, "s")  # text, never run as a formula
        again = load(io.BytesIO(exported))

        self.assertEqual(again.code, "bg_xa_ntm_2026_2030_v2")
        self.assertEqual(contents(again), contents(cset))

    def test_the_official_2021_2025_set_survives_the_round_trip(self):
        official = CriteriaSet.objects.get(code="xa_ntm_2021_2025")
        meta = catalogue_excel.SetMeta(
            code="xa_ntm_2021_2025", name=official.name, period_start=2021, period_end=2025, legal_basis="318/QĐ-TTg"
        )
        again = load(io.BytesIO(catalogue_excel.export_set(official)), meta=meta)

        self.assertEqual(again.code, "xa_ntm_2021_2025_v2")
        # Regions, years, rules assessed by a person and levels the sources lack all come back; an indicator
        # whose thresholds were not all checked comes back unchecked (never the other way round).
        got, expected = contents(again), contents(official)
        self.assertEqual(got[0], expected[0])
        self.assertEqual([i[:5] for i in got[1]], [i[:5] for i in expected[1]])
        # A number is written with its comparison ("100%" comes back "≥100%"): the same level, said plainly.
        self.assertEqual([written(t) for t in got[2]], [written(t) for t in expected[2]])
        self.assertLessEqual(sum(t[7] for t in got[2]), sum(t[7] for t in expected[2]))


class BadFileTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.w = build_world()

    def assertRefused(self, book, text):
        before = CriteriaSet.objects.count()
        with self.assertRaises(ValidationError) as ctx:
            load(book)
        self.assertIn(text, " ".join(ctx.exception.messages))
        self.assertEqual(CriteriaSet.objects.count(), before)

    def test_files_that_are_not_a_plain_workbook_are_refused_with_a_clear_message(self):
        good = workbook(*GUIDANCE)
        macro_types = lambda data: data.replace(  # noqa: E731
            b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
            b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
        )
        bomb = io.BytesIO()
        with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
            archive.writestr("[Content_Types].xml", "<Types/>")
            archive.writestr("xl/workbook.xml", "<workbook/>")
            with archive.open("xl/worksheets/sheet1.xml", "w") as entry:
                for _ in range(210):
                    entry.write(b"\0" * (1 << 20))
        bomb.seek(0)
        encrypted = io.BytesIO(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504 + "EncryptionInfo".encode("utf-16-le"))
        cases = {
            "CSV": (io.BytesIO("Tiêu chí số,Tên tiêu chí\n1,Quy hoạch\n".encode()), "không phải là bảng tính Excel"),
            "password": (encrypted, "đang đặt mật khẩu"),
            "macro": (rezip(good, [("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0")], macro_types), "có chứa macro"),
            "external link": (rezip(good, [("xl/externalLinks/externalLink1.xml", b"<externalLink/>")]), "liên kết"),
            "zip bomb": (bomb, "quá lớn sau khi giải nén"),
            "no headings": (workbook(["Bảng tổng hợp"], [1, 2, 3], header=["Kế hoạch năm 2026"]), "dòng tiêu đề"),
        }
        for name, (book, text) in cases.items():
            with self.subTest(name):
                self.assertRefused(book, text)

    @override_settings(NTM_IMPORT_MAX_ROWS=5)
    def test_a_table_longer_than_the_setting_allows_is_refused(self):
        self.assertRefused(workbook(*GUIDANCE), "tối đa 5 dòng")


class CatalogueAdminTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.w = build_world()
        cls.staff = make_user("nhanvien", is_staff=True)
        cls.url = reverse("admin:criteria_criteriaset_import_catalogue")

    def _post(self, book, **extra):
        data = {
            "code": META.code,
            "name": META.name,
            "level": "commune",
            "tier": "standard",
            "period_start": 2026,
            "period_end": 2030,
            "legal_basis": BASIS,
            "workbook": SimpleUploadedFile("huong-dan-12.xlsx", book.getvalue()),
            **extra,
        }
        return self.client.post(self.url, data)

    def test_upload_shows_a_dry_run_then_confirming_writes_the_set_once(self):
        self.client.force_login(self.w.admin)
        self.assertContains(self.client.get(reverse("admin:criteria_criteriaset_changelist")), self.url)

        response = self._post(workbook(*GUIDANCE))
        self.assertContains(response, "Sẽ tạo 4 tiêu chí, 5 chỉ tiêu, 10 ngưỡng.")
        self.assertContains(response, "N1: ≥95%")
        self.assertFalse(CriteriaSet.objects.filter(code=META.code).exists())  # a dry run writes nothing

        confirm = reverse("admin:criteria_criteriaset_confirm_catalogue")
        form = {"token": response.context["token"], "code": META.code}
        done = self.client.post(confirm, form, follow=True)
        self.assertContains(done, "Đã tạo bộ tiêu chí bg_xa_ntm_2026_2030: 4 tiêu chí, 5 chỉ tiêu, 10 ngưỡng.")
        again = self.client.post(confirm, form, follow=True)  # a double click
        self.assertContains(again, "Bảng đã tải lên không còn")
        self.assertEqual(CriteriaSet.objects.filter(code__startswith=META.code).count(), 1)

        cset = CriteriaSet.objects.get(code=META.code)
        download = self.client.get(reverse("admin:criteria_criteriaset_export_excel", args=[cset.pk]))
        self.assertEqual(download["Content-Disposition"], 'attachment; filename="bg_xa_ntm_2026_2030.xlsx"')
        heading = [c.value for c in openpyxl.load_workbook(io.BytesIO(download.content)).active[1]]
        self.assertEqual(heading[:4], ["Tiêu chí số", "Tên tiêu chí", "Nhóm", "Tên nhóm"])

    def test_the_dry_run_lists_bad_cells_and_offers_no_confirmation(self):
        self.client.force_login(self.w.admin)
        response = self._post(workbook([17, "Môi trường", "17.1", "Nước sạch", "%", "tỷ lệ", "≈", None, 95]))
        self.assertContains(response, "Dòng 2, cột G (So sánh): ≈ — không rõ phép so sánh")
        self.assertNotContains(response, "Xác nhận và ghi")

    def test_a_refused_file_is_named_on_the_upload_page(self):
        self.client.force_login(self.w.admin)
        response = self._post(io.BytesIO(b"not a workbook"))
        self.assertContains(response, "không phải là bảng tính Excel")

    def test_people_who_are_not_administrators_cannot_load_or_export_a_set(self):
        cset = CriteriaSet.objects.get(code="xa_ntm_2021_2025")
        export = reverse("admin:criteria_criteriaset_export_excel", args=[cset.pk])
        for user in (None, self.w.officer_an_duong, self.w.reviewer_bac_giang):
            with self.subTest(user=getattr(user, "username", "khách")):
                self.client.logout()
                if user:
                    self.client.force_login(user)
                for url in (self.url, export):
                    response = self.client.get(url)
                    self.assertEqual(response.status_code, 302)
                    self.assertIn(reverse("admin:login"), response["Location"])
        self.client.force_login(self.staff)  # staff, but no permission on criteria sets
        self.assertEqual(self.client.get(self.url).status_code, 403)
        self.assertEqual(self._post(workbook(*GUIDANCE)).status_code, 403)
        self.assertEqual(self.client.get(export).status_code, 404)
        self.assertFalse(CriteriaSet.objects.filter(code=META.code).exists())


class ImportCommandTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.w = build_world()

    def _run(self, book, *extra):
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "huong-dan.xlsx"
            path.write_bytes(book.getvalue())
            out, err = io.StringIO(), io.StringIO()
            args = ["--code", META.code, "--name", META.name, "--period", "2026-2030", "--basis", BASIS, *extra]
            call_command("import_criteria_set", str(path), *args, stdout=out, stderr=err)
            return out.getvalue()

    def test_the_command_prints_a_dry_run_and_writes_only_with_commit(self):
        printed = self._run(workbook(*GUIDANCE))
        self.assertIn("17.1. Tỷ lệ hộ sử dụng nước sạch theo quy chuẩn [%, tỷ lệ] — N1: ≥95%; N2: ≥90%", printed)
        self.assertIn("Chạy thử: chưa ghi gì", printed)
        self.assertFalse(CriteriaSet.objects.filter(code=META.code).exists())

        self.assertIn("Đã tạo bộ tiêu chí bg_xa_ntm_2026_2030", self._run(workbook(*GUIDANCE), "--commit"))
        self.assertEqual(Indicator.objects.in_set(CriteriaSet.objects.get(code=META.code)).count(), 5)

    def test_the_command_fails_on_bad_cells_and_writes_nothing(self):
        book = workbook([17, "Môi trường", "17.1", "Nước sạch", "%", "tỷ lệ", "≈", None, 95])
        with self.assertRaises(CommandError) as ctx:
            self._run(book, "--commit")
        self.assertIn("ô sai; không ghi gì", str(ctx.exception))
        self.assertFalse(CriteriaSet.objects.filter(code=META.code).exists())
