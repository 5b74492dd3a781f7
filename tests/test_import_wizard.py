"""The import wizard takes in the workbooks offices really make: a commune's Biểu 01 typed in Excel, a
district's summary of its communes, a Biểu 03, an .ods and a .csv — and refuses bad files whole, clearly."""

import io
import zipfile
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import TestCase, override_settings
from openpyxl import Workbook

from areas.models import Level, RoleKind
from criteria.models import CriteriaSet, CriterionResult, Indicator, IndicatorResult
from imports import services, workbook
from imports.models import SavedMapping
from ntm_portal.spreadsheets import ImportRefused
from plans import services as plan_services
from plans.models import PlanItem
from tests.personas import build_world, make_area, make_user

SET = "xa_ntm_2016_2020"


def xlsx(build):
    book = Workbook()
    build(book.active)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def commune_bieu01(ws):
    """Biểu 01 as a commune types it: its own title block, two-row merged headings, a column-number row,
    a section row, criterion rows, "90,3" typed as text beside real numbers, an empty row and a subtotal."""
    ws["A1"] = "UBND XÃ AN DƯƠNG"
    ws["A3"] = "BIỂU 01: KẾT QUẢ THỰC HIỆN BỘ TIÊU CHÍ NÔNG THÔN MỚI NĂM 2019"
    headings = ["TT", "Tên tiêu chí", "Nội dung / chỉ tiêu", "Chỉ tiêu", "Đơn vị", "Ghi chú"]
    for col, text in zip("ABCDEH", headings, strict=True):
        ws[f"{col}5"] = text
        ws.merge_cells(f"{col}5:{col}6")
    ws["F5"] = "Kết quả thực hiện"
    ws.merge_cells("F5:G5")
    ws["F6"], ws["G6"] = "Kết quả", "Tự đánh giá"
    for i, col in enumerate("ABCDEFGH", 1):
        ws[f"{col}7"] = f"({i})"
    rows = [
        ["I", "HẠ TẦNG KINH TẾ - XÃ HỘI"],
        [1, "Quy hoạch"],
        ["1.1", None, "Có quy hoạch chung", "Đạt", "Đạt/Không đạt", "x", "Đạt"],
        ["1.2", None, "Ban hành quy định quản lý quy hoạch", "Đạt", "", "Chưa đạt", "Chưa đạt"],
        [2, "Giao thông"],
        ["2.4", None, "Đường trục chính nội đồng", "≥50%", "%", "90,3", "Đạt"],
        [None, None, "Tỷ lệ hộ sử dụng điện thường xuyên, an toàn từ các nguồn", "≥95%", "%", 0.985, "Đạt"],
        [],
        ["15.1", None, "Tỷ lệ người dân tham gia bảo hiểm y tế", "≥85%", "%", "90,5%", "Đạt"],
        ["17.1", None, "Nước hợp vệ sinh", "≥90%", "%", "1.276/1.413", None],
        [None, "Tổng cộng"],
    ]
    for offset, row in enumerate(rows):
        for col, value in enumerate(row, 1):
            ws.cell(row=8 + offset, column=col, value=value)
    ws["F14"].number_format = "0.0%"


def district_summary(ws, names=("Xã An Dương", "song van"), marks=("x", "Chưa đạt")):
    """The district's summary: one row per commune, criteria as columns with marks."""
    ws["A1"] = "TỔNG HỢP KẾT QUẢ THỰC HIỆN TIÊU CHÍ NÔNG THÔN MỚI NĂM 2019 HUYỆN TÂN YÊN"
    ws.append([])
    ws.append(["TT", "Tên xã", "Số tiêu chí đạt", *[f"TC{n}" for n in range(1, 20)], "Ghi chú"])
    ws.append([1, names[0], 19, *[marks[0]] * 19, ""])
    ws.append([2, names[1], 17, *["✓"] * 5, marks[1], *["Đạt"] * 10, "Chưa đạt", "x", "x", ""])
    ws.append(["", "Cộng", 36])


class WizardCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.w = build_world()
        cls.cset = CriteriaSet.objects.get(code=SET)
        cls.ind = {i.code: i for i in Indicator.objects.in_set(cls.cset)}
        cls.district_officer = make_user("canbo.tanyen", cls.w.tan_yen, RoleKind.OFFICER)

    def run_wizard(self, data, *, user, area, name="bieu.xlsx", year=2019, mapping=None, layout=None):
        kind, token = services.start(SimpleUploadedFile(name, data), user=user, area=area)
        upload = services.stored(token, user=user, area=area)
        services.update_state(upload, year=year, set=SET, **({"layout": layout} if layout else {}))
        if mapping is not None:
            services.update_state(upload, mapping=mapping)
        return token, services.preview(upload, area=area, user=user)


class CommuneBieu01Tests(WizardCase):
    def test_typed_biểu_01_is_read_with_its_skipped_rows_named(self):
        token, found = self.run_wizard(xlsx(commune_bieu01), user=self.w.officer_an_duong, area=self.w.an_duong)
        self.assertEqual(found.table.heading_rows, [5, 6])
        self.assertEqual(found.table.headings[7], "Kết quả thực hiện › Tự đánh giá")
        reasons = dict(found.table.skipped)
        self.assertEqual(reasons[7], "dòng đánh số cột")
        self.assertEqual(reasons[8], "dòng đề mục")
        self.assertEqual(reasons[15], "dòng trống")
        self.assertEqual(reasons[18], "dòng tổng cộng")
        self.assertEqual(found.bad_cells, [])
        self.assertEqual(len(found.indicator_rows), 6)
        by_code = {r["indicator"].code: r for r in found.indicator_rows}
        self.assertEqual(by_code["2.4"]["value"], Decimal("90.3"))
        self.assertEqual(by_code["4.2"]["value"], Decimal("98.5"))  # a percent cell, matched by its name
        self.assertEqual(by_code["15.1"]["value"], Decimal("90.5"))
        self.assertEqual((by_code["17.1"]["numerator"], by_code["17.1"]["denominator"]), (1276, 1413))
        self.assertIs(by_code["1.1"]["boolean"], True)
        self.assertEqual(by_code["1.2"]["assessed_status"], "not_met")
        verdicts = {c.label.split(".")[0] + "." + c.label.split(".")[1][:1]: c.verdict for c in found.changes}
        self.assertTrue(all(verdicts.values()))

    def test_each_verdict_shown_is_the_status_the_commit_stores(self):
        from types import SimpleNamespace

        from imports.wizard import _verdict_label

        token, found = self.run_wizard(xlsx(commune_bieu01), user=self.w.officer_an_duong, area=self.w.an_duong)
        shown = {
            found.indicator_rows[c.indicator_line - 1]["indicator"].pk: c.verdict
            for c in found.changes
            if c.indicator_line
        }
        services.commit(token, area=self.w.an_duong, user=self.w.officer_an_duong, fingerprint=found.fingerprint)
        stored = {
            r.indicator_id: _verdict_label(SimpleNamespace(status=r.status, tentative=r.is_tentative))
            for r in IndicatorResult.objects.filter(area=self.w.an_duong, year=2019, indicator_id__in=shown)
        }
        self.assertEqual(shown, stored)
        self.assertGreater(len(set(shown.values())), 1)

    def test_commit_writes_results_with_history_once(self):
        token, found = self.run_wizard(xlsx(commune_bieu01), user=self.w.officer_an_duong, area=self.w.an_duong)
        services.commit(token, area=self.w.an_duong, user=self.w.officer_an_duong, fingerprint=found.fingerprint)
        result = IndicatorResult.objects.get(area=self.w.an_duong, indicator=self.ind["2.4"], year=2019)
        self.assertEqual(result.value, Decimal("90.3"))
        self.assertEqual(result.assessed_status, "met")
        self.assertEqual(result.history.count(), 1)
        with self.assertRaises(ImportRefused):
            services.commit(token, area=self.w.an_duong, user=self.w.officer_an_duong)

    def test_commit_writes_the_kept_dry_run_without_reading_the_workbook_again(self):
        from unittest import mock

        token, found = self.run_wizard(xlsx(commune_bieu01), user=self.w.officer_an_duong, area=self.w.an_duong)
        with mock.patch("imports.services.dry_run", side_effect=AssertionError("read again")):
            written = services.commit(
                token, area=self.w.an_duong, user=self.w.officer_an_duong, fingerprint=found.fingerprint
            )
        self.assertEqual(written.fingerprint, found.fingerprint)
        self.assertEqual(written.changes, found.changes)
        stored = IndicatorResult.objects.filter(area=self.w.an_duong, year=2019)
        self.assertEqual(
            sorted(stored.values_list("indicator__code", "value", "numerator", "assessed_status")),
            sorted(
                (r["indicator"].code, r.get("value"), r.get("numerator"), r["assessed_status"])
                for r in found.indicator_rows
            ),
        )
        self.assertEqual(stored.get(indicator=self.ind["2.4"]).history.get().history_user, self.w.officer_an_duong)

    def test_a_dry_run_kept_by_an_earlier_version_is_read_again(self):
        from unittest import mock

        token, found = self.run_wizard(xlsx(commune_bieu01), user=self.w.officer_an_duong, area=self.w.an_duong)
        upload = services.stored(token, user=self.w.officer_an_duong, area=self.w.an_duong)
        upload.content[services.KEPT]["rows"] = [{"line": 3, "area": self.w.an_duong.pk}]  # rows as mappings
        upload.save(update_fields=["content"])
        with mock.patch("imports.services.dry_run", wraps=services.dry_run) as read:
            written = services.commit(
                token, area=self.w.an_duong, user=self.w.officer_an_duong, fingerprint=found.fingerprint
            )
        self.assertEqual(read.call_count, 1)
        self.assertEqual(written.fingerprint, found.fingerprint)
        self.assertEqual(
            IndicatorResult.objects.filter(area=self.w.an_duong, year=2019).count(), len(found.indicator_rows)
        )

    def test_commit_reads_again_when_the_options_changed_after_the_dry_run(self):
        from unittest import mock

        token, found = self.run_wizard(xlsx(commune_bieu01), user=self.w.officer_an_duong, area=self.w.an_duong)
        services.update_state(services.stored(token, user=self.w.officer_an_duong, area=self.w.an_duong), year=2020)
        with (
            mock.patch("imports.services.dry_run", side_effect=AssertionError("read again")),
            self.assertRaisesMessage(AssertionError, "read again"),
        ):
            services.commit(token, area=self.w.an_duong, user=self.w.officer_an_duong, fingerprint=found.fingerprint)

    def test_commit_is_refused_when_a_result_changed_since_the_dry_run(self):
        from criteria.services import record_indicator_result

        token, found = self.run_wizard(xlsx(commune_bieu01), user=self.w.officer_an_duong, area=self.w.an_duong)
        # A colleague saves 15.1 on the workspace while the officer is still reading the dry run.
        record_indicator_result(
            area=self.w.an_duong, indicator=self.ind["15.1"], year=2019, user=self.w.officer_an_duong, value=88
        )
        with self.assertRaisesMessage(ImportRefused, "Dữ liệu trên cổng đã thay đổi kể từ lúc xem thử"):
            services.commit(token, area=self.w.an_duong, user=self.w.officer_an_duong, fingerprint=found.fingerprint)
        self.assertEqual(IndicatorResult.objects.get(indicator=self.ind["15.1"], year=2019).value, Decimal("88"))
        self.assertFalse(IndicatorResult.objects.filter(indicator=self.ind["2.4"], year=2019).exists())

    def test_bad_cells_are_named_by_row_column_heading_value_and_reason(self):
        def bad(ws):
            commune_bieu01(ws)
            ws["F13"] = "chín mươi"
            ws["F10"] = "có lẽ"

        _token, found = self.run_wizard(xlsx(bad), user=self.w.officer_an_duong, area=self.w.an_duong)
        cells = {(b.row, b.column): b for b in found.bad_cells}
        self.assertEqual(cells[(13, "F")].header, "Kết quả thực hiện › Kết quả")
        self.assertIn("không phải là số", cells[(13, "F")].reason)
        self.assertIn("Đạt", cells[(10, "F")].reason)
        with self.assertRaises(ImportRefused):
            services.write(found, user=self.w.officer_an_duong)

    def test_unmapped_self_assessment_is_said_to_be_ignored(self):
        _token, found = self.run_wizard(
            xlsx(commune_bieu01),
            user=self.w.officer_an_duong,
            area=self.w.an_duong,
            mapping={"1": "code", "3": "indicator_name", "6": "value", "7": ""},
        )
        self.assertIn("Không có cột “Tự đánh giá” được ghép: phần tự đánh giá của xã không được nhập.", found.notes)

    def test_indicator_codes_are_exact_17_10_is_not_17_1(self):
        def codes(ws):
            ws.append(["Mã chỉ tiêu", "Kết quả"])
            ws.append(["17.10", "95"])
            ws.append(["17.1", "95"])

        _token, found = self.run_wizard(xlsx(codes), user=self.w.officer_an_duong, area=self.w.an_duong)
        self.assertEqual([b.row for b in found.bad_cells], [2])
        self.assertEqual([r["indicator"].code for r in found.indicator_rows], ["17.1"])


class DistrictSummaryTests(WizardCase):
    def test_district_officer_imports_criteria_marks_for_every_commune(self):
        token, found = self.run_wizard(xlsx(district_summary), user=self.district_officer, area=self.w.tan_yen)
        self.assertEqual(found.options.layout, "wide")
        self.assertEqual(found.bad_cells, [])
        self.assertEqual(len(found.criterion_rows), 38)
        services.commit(token, area=self.w.tan_yen, user=self.district_officer, fingerprint=found.fingerprint)
        met = CriterionResult.objects.filter(area=self.w.song_van, year=2019, assessed_status="met").count()
        self.assertEqual(met, 17)
        row = CriterionResult.objects.get(area=self.w.song_van, year=2019, criterion__number=6)
        self.assertEqual((row.assessed_status, row.status), ("not_met", "not_met"))

    def test_a_commune_outside_the_importer_is_named_not_guessed(self):
        def other(ws):
            district_summary(ws, names=("An Duong", "Tăng Tiến"))

        _token, found = self.run_wizard(xlsx(other), user=self.district_officer, area=self.w.tan_yen)
        self.assertEqual([(b.row, b.column) for b in found.bad_cells], [(5, "B")])
        self.assertIn("Tăng Tiến", found.bad_cells[0].reason + found.bad_cells[0].value)

    def test_two_communes_that_fit_are_asked_about(self):
        make_area("T-07999", "An Đường", Level.COMMUNE, self.w.tan_yen, "xã")

        def typo(ws):
            district_summary(ws, names=("An Duongg", "Song Vân"))

        _token, found = self.run_wizard(xlsx(typo), user=self.district_officer, area=self.w.tan_yen)
        self.assertEqual(len(found.ambiguities), 1)
        self.assertFalse(found.ok)

    def test_saved_mapping_is_offered_for_the_same_headings(self):
        token, found = self.run_wizard(xlsx(district_summary), user=self.district_officer, area=self.w.tan_yen)
        mapping = dict(found.options.mapping)
        mapping[23] = ""  # "Ghi chú" ignored
        services.save_mapping(
            area=self.w.tan_yen,
            user=self.district_officer,
            name="Tổng hợp của huyện Tân Yên",
            layout="wide",
            table=found.table,
            mapping=mapping,
        )
        _token, again = self.run_wizard(xlsx(district_summary), user=self.district_officer, area=self.w.tan_yen)
        self.assertEqual(again.options.mapping.get(23, ""), "")
        self.assertEqual(SavedMapping.objects.get().name, "Tổng hợp của huyện Tân Yên")


class OtherFormatsTests(WizardCase):
    def test_csv_with_english_numbers(self):
        text = 'Mã chỉ tiêu,Tên xã,Kết quả\n2.4,An Dương,90.5\n15.1,An Dương,"88,2"\n'
        _token, found = self.run_wizard(text.encode(), user=self.district_officer, area=self.w.tan_yen, name="a.csv")
        self.assertEqual(found.bad_cells, [])
        self.assertEqual([r["value"] for r in found.indicator_rows], [Decimal("90.5"), Decimal("88.2")])

    def test_csv_with_quotes_inside_a_quoted_cell_keeps_its_columns(self):
        text = 'Mã chỉ tiêu,Ghi chú,Tên xã,Kết quả\n2.4,"dân quân ""vững mạnh, rộng khắp"" năm 2024",An Dương,90.5\n'
        _token, found = self.run_wizard(text.encode(), user=self.district_officer, area=self.w.tan_yen, name="a.csv")
        self.assertEqual(found.bad_cells, [])
        self.assertEqual([r["value"] for r in found.indicator_rows], [Decimal("90.5")])

    def test_ods_is_read(self):
        ods = ods_file([["TT", "Tên xã", "TC1", "TC2"], [1, "Song Vân", "x", "Chưa đạt"]])
        _token, found = self.run_wizard(ods, user=self.district_officer, area=self.w.tan_yen, name="a.ods")
        self.assertEqual(found.bad_cells, [])
        self.assertEqual([r["status"] for r in found.criterion_rows], ["met", "not_met"])


def ods_file(rows):
    cells = "".join(
        "<table:table-row>"
        + "".join(
            f'<table:table-cell office:value-type="float" office:value="{v}"><text:p>{v}</text:p></table:table-cell>'
            if isinstance(v, int)
            else f'<table:table-cell office:value-type="string"><text:p>{v}</text:p></table:table-cell>'
            for v in row
        )
        + "</table:table-row>"
        for row in rows
    )
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f'<office:body><office:spreadsheet><table:table table:name="Biểu">{cells}</table:table>'
        "</office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED)
        archive.writestr("content.xml", content)
        archive.writestr("META-INF/manifest.xml", manifest)
    return out.getvalue()


class BadFileTests(WizardCase):
    def refused(self, data, name="bad.xlsx"):
        with self.assertRaises(ImportRefused) as caught:
            services.start(SimpleUploadedFile(name, data), user=self.district_officer, area=self.w.tan_yen)
        return str(caught.exception)

    def zipped(self, extra):
        data = io.BytesIO(xlsx(district_summary))
        out = io.BytesIO()
        with zipfile.ZipFile(data) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
            for item in src.infolist():
                dst.writestr(item, src.read(item))
            for name, body in extra.items():
                dst.writestr(name, body)
        return out.getvalue()

    def test_encrypted_workbook(self):
        ole = workbook.OLE2_MAGIC + b"\x00" * 100 + "EncryptedPackage".encode("utf-16-le") + b"\x00" * 100
        self.assertIn("mật khẩu", self.refused(ole))

    def test_macro_enabled_workbook(self):
        self.assertIn("macro", self.refused(self.zipped({"xl/vbaProject.bin": b"\x00" * 10})))

    def test_external_links(self):
        self.assertIn("liên kết ngoài", self.refused(self.zipped({"xl/externalLinks/externalLink1.xml": "<x/>"})))

    def test_zip_bomb(self):
        self.assertIn("quá lớn", self.refused(self.zipped({"xl/media/bomb.bin": b"\x00" * (210 * 1024 * 1024)})))

    @override_settings(NTM_IMPORT_MAX_ROWS=3)
    def test_more_rows_than_the_setting(self):
        self.assertIn("quá nhiều dòng", self.refused(xlsx(district_summary)))

    @override_settings(NTM_IMPORT_MAX_CELLS=20)
    def test_more_cells_than_the_setting(self):
        self.assertIn("20 ô", self.refused(xlsx(district_summary)))

    def test_sheet_without_headings(self):
        _kind, token = services.start(
            SimpleUploadedFile("a.xlsx", xlsx(lambda ws: ws.append(["abc", 1, 2]))),
            user=self.district_officer,
            area=self.w.tan_yen,
        )
        upload = services.stored(token, user=self.district_officer, area=self.w.tan_yen)
        with self.assertRaises(ImportRefused) as caught:
            services.table_of(upload)
        self.assertIn("không có dòng tiêu đề", str(caught.exception))
        self.assertEqual(IndicatorResult.objects.count(), 0)


class PlanTests(WizardCase):
    def test_biểu_03_as_typed_updates_and_adds_items_with_money(self):
        plan = plan_services.create_plan(
            user=self.w.officer_an_duong,
            area=self.w.an_duong,
            data=plan_services.PlanData(title="Kế hoạch 2019", year=2019, criteria_set=self.cset),
        )
        plan_services.add_item(user=None, plan=plan, data=plan_services.ItemData(title="Cứng hóa đường trục thôn"))

        def bieu03(ws):
            ws["A1"] = "BIỂU 03 NHU CẦU KINH PHÍ NĂM 2019"
            ws.append([])
            ws.append(["STT", "Nội dung công việc", "Địa điểm", "Ngân sách tỉnh", "Nhân dân đóng góp"])
            ws.append([1, "Cứng hóa đường trục thôn", "", "1.200,5", 300])
            ws.append([2, "Xây nhà văn hóa thôn Đồng Lạng", "Đồng Lạng", 800, ""])

        token, found = self.run_wizard(xlsx(bieu03), user=self.w.officer_an_duong, area=self.w.an_duong)
        self.assertEqual(found.options.layout, "plan")
        self.assertEqual(found.bad_cells, [])
        self.assertEqual([c.created for c in found.changes], [False, True])
        services.commit(token, area=self.w.an_duong, user=self.w.officer_an_duong, fingerprint=found.fingerprint)
        item = PlanItem.objects.get(title="Cứng hóa đường trục thôn")
        self.assertEqual(sorted(line.planned for line in item.funding_lines.all()), [300, Decimal("1200.5")])
        self.assertTrue(PlanItem.objects.filter(title="Xây nhà văn hóa thôn Đồng Lạng").exists())

    def test_a_long_dry_run_shows_its_changes_a_hundred_at_a_time(self):
        plan_services.create_plan(
            user=self.w.officer_an_duong,
            area=self.w.an_duong,
            data=plan_services.PlanData(title="Kế hoạch 2019", year=2019, criteria_set=self.cset),
        )

        def lines(count):
            def bieu03(ws):
                ws["A1"] = "BIỂU 03 NHU CẦU KINH PHÍ NĂM 2019"
                ws.append([])
                ws.append(["STT", "Nội dung công việc", "Địa điểm", "Ngân sách tỉnh"])
                for n in range(1, count + 1):
                    ws.append([n, f"Việc thêm số {n}.", "", 10 + n])

            return xlsx(bieu03)

        self.client.force_login(self.w.officer_an_duong)
        for count in (1, 250):
            with self.subTest(count=count):
                token, _found = self.run_wizard(lines(count), user=self.w.officer_an_duong, area=self.w.an_duong)
                url = f"/nhap-so-lieu/{self.w.an_duong.pk}/{token}/xem-thu/"
                body = self.client.get(url).content.decode()
                self.assertEqual(body.count("Việc thêm số "), min(count, 100))
                self.assertEqual('class="pager"' in body, count > 100)
                if count > 100:
                    self.assertIn("1–100 trong 250", body)
                    last = self.client.get(url, {"trang": 3}).content.decode()
                    self.assertEqual(last.count("Việc thêm số "), 50)
                    self.assertIn("Việc thêm số 250.", last)


class LockedYearTests(WizardCase):
    """A commune whose recognition file is with the reviewers keeps its results: the whole import is refused,
    naming the row that writes to it, and nothing is written for the other communes either."""

    def submit_file(self, commune):
        from recognition.models import RecognitionFile, Stage

        RecognitionFile.objects.create(area=commune, criteria_set=self.cset, year=2019, stage=Stage.SUBMITTED)

    def test_district_summary_refused_for_a_submitted_commune(self):
        self.submit_file(self.w.song_van)
        token, found = self.run_wizard(xlsx(district_summary), user=self.district_officer, area=self.w.tan_yen)
        with self.assertRaisesMessage(ImportRefused, "Dòng 5: Hồ sơ công nhận đã nộp: kết quả năm 2019 bị khóa"):
            services.commit(token, area=self.w.tan_yen, user=self.district_officer, fingerprint=found.fingerprint)
        self.assertFalse(CriterionResult.objects.filter(year=2019).exists())

    def test_commune_bieu_01_refused_once_submitted(self):
        self.submit_file(self.w.an_duong)
        token, found = self.run_wizard(xlsx(commune_bieu01), user=self.w.officer_an_duong, area=self.w.an_duong)
        with self.assertRaisesMessage(ImportRefused, "bị khóa cho đến khi được trả lại"):
            services.commit(token, area=self.w.an_duong, user=self.w.officer_an_duong, fingerprint=found.fingerprint)
        self.assertFalse(IndicatorResult.objects.filter(area=self.w.an_duong).exists())


class PagesTests(WizardCase):
    def test_officers_find_the_wizard_on_the_area_page_and_the_dashboards(self):
        pages = [
            (self.district_officer, f"/dia-ban/{self.w.tan_yen.pk}/", self.w.tan_yen),
            (self.district_officer, f"/bang-dieu-khien/{self.w.tan_yen.pk}/", self.w.tan_yen),
            (self.w.officer_an_duong, f"/bang-dieu-khien/{self.w.an_duong.pk}/?nam=2019&bo={SET}", self.w.an_duong),
        ]
        for user, url, area in pages:
            with self.subTest(url=url):
                self.client.force_login(user)
                self.assertContains(self.client.get(url), f'href="/nhap-so-lieu/{area.pk}/">Nhập số liệu</a>')

    def test_viewers_and_reviewers_get_no_import_link(self):
        for user in (self.w.viewer_tan_yen, self.w.reviewer_tan_yen):
            for url in (f"/dia-ban/{self.w.tan_yen.pk}/", f"/bang-dieu-khien/{self.w.tan_yen.pk}/"):
                with self.subTest(user=user.username, url=url):
                    self.client.force_login(user)
                    self.assertNotContains(self.client.get(url), "/nhap-so-lieu/")

    def test_wizard_pages_from_upload_to_commit(self):
        self.client.force_login(self.district_officer)
        area = self.w.tan_yen
        response = self.client.post(
            f"/nhap-so-lieu/{area.pk}/", {"file": SimpleUploadedFile("tong-hop.xlsx", xlsx(district_summary))}
        )
        mapping_url = response["Location"]
        self.assertTrue(mapping_url.endswith("/trang-tinh/"))
        page = self.client.get(self.client.get(mapping_url)["Location"])
        self.assertContains(page, "Tên xã")
        form = {"layout": "wide", "year": "2019", "set": SET, "next": "1"}
        for row in page.context["rows"]:
            form[f"col_{row['column']}"] = row["key"]
        form["col_5"] = ""  # TC2 left out by the user
        preview_url = self.client.post(page.request["PATH_INFO"], form)["Location"]
        preview = self.client.get(preview_url)
        self.assertContains(preview, "mục sẽ được ghi")
        self.assertNotContains(preview, "Tiêu chí 2. Giao thông")
        done = self.client.post(
            preview_url.replace("xem-thu", "ghi"), {"fingerprint": preview.context["preview"].fingerprint}
        )
        self.assertEqual(done.status_code, 302)
        self.assertEqual(CriterionResult.objects.filter(area=self.w.an_duong, year=2019).count(), 18)

    def test_bad_file_gets_a_clear_message_on_the_page(self):
        self.client.force_login(self.district_officer)
        response = self.client.post(
            f"/nhap-so-lieu/{self.w.tan_yen.pk}/", {"file": SimpleUploadedFile("x.xlsx", b"PK\x03\x04garbage")}
        )
        self.assertContains(response, "bị hỏng", status_code=400)

    def test_portal_export_goes_straight_to_its_import(self):
        from reports import bieu

        out = io.BytesIO()
        bieu.export(out, form="01", area=self.w.an_duong, year=2019, criteria_set=self.cset)
        self.client.force_login(self.w.officer_an_duong)
        response = self.client.post(
            f"/nhap-so-lieu/{self.w.an_duong.pk}/", {"file": SimpleUploadedFile("b.xlsx", out.getvalue())}
        )
        self.assertIn("/nhap-bieu/", response["Location"])


class CommandTests(WizardCase):
    def test_dry_run_prints_and_exits_non_zero_on_bad_cells_then_commits(self):
        import tempfile

        with tempfile.NamedTemporaryFile(suffix=".xlsx") as handle:
            handle.write(xlsx(district_summary))
            handle.flush()
            out = io.StringIO()
            call_command("import_workbook", handle.name, "--area", "T-219", "--year", "2019", "--set", SET, stdout=out)
            self.assertIn("Tên xã", out.getvalue())
            self.assertEqual(CriterionResult.objects.count(), 0)
            call_command(
                "import_workbook",
                handle.name,
                "--area",
                "T-219",
                "--year",
                "2019",
                "--set",
                SET,
                "--commit",
                stdout=out,
            )
            self.assertEqual(CriterionResult.objects.filter(area=self.w.song_van).count(), 19)

        def bad(ws):
            district_summary(ws, marks=("có lẽ", "Chưa đạt"))

        with tempfile.NamedTemporaryFile(suffix=".xlsx") as handle:
            handle.write(xlsx(bad))
            handle.flush()
            with self.assertRaises(SystemExit) as caught:
                call_command("import_workbook", handle.name, "--area", "T-219", "--year", "2019", stdout=io.StringIO())
            self.assertNotEqual(caught.exception.code, 0)
