"""Recognition decisions taken before the portal (issue 16, item 1): typed one by one in the admin or loaded from an
Excel list, they make the communes recognised on the dashboards, and a bad list is refused whole with its row and
column."""

import datetime
import io
import tempfile
from pathlib import Path
from unittest import mock

from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from areas.models import Level, RoleKind
from criteria.models import CriteriaSet
from recognition import decisions_import, services
from recognition.models import Action, RecognitionFile, RecognitionStep, Stage
from tests.personas import build_world, make_area, make_user
from tests.variant_tables import sheet_table

HEADER = ["Mã xã", "Tên xã", "Bộ tiêu chí", "Năm", "Số quyết định", "Ngày quyết định"]
# Three decisions as a province office lists them: a date cell, a date typed as text, a set named by its code or
# by tier and period; the district's own decision takes the district set.
DECISIONS = [
    ["T-07234", "xã An Dương", "NTM 2016-2020", 2019, "1520/QĐ-UBND", datetime.date(2019, 12, 20)],
    ["T-07210", "Song Vân", "xa_ntm_2016_2020", 2020, "1633/QĐ-UBND", "15/12/2020"],
    ["T-219", "Tân Yên", "NTM 2016-2020", 2020, "45/QĐ-TTg", "10/01/2021"],
]
SET = "xa_ntm_2016_2020"
REFORM_EVE, ONE_DAY = datetime.date(2025, 6, 30), datetime.timedelta(days=1)


def decision_list(*rows):
    return sheet_table(*rows, header=HEADER, title="DANH SÁCH XÃ, HUYỆN ĐƯỢC CÔNG NHẬN ĐẠT CHUẨN NÔNG THÔN MỚI")


def table(book):
    return decisions_import.read_file(book.getvalue(), file_name="quyet-dinh.xlsx")


class DecisionListTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.w = build_world()

    def recognised_in_tan_yen(self, year):
        self.client.force_login(self.w.admin)
        response = self.client.get(reverse("dashboard", args=[self.w.tan_yen.pk]), {"nam": year, "bo": SET})
        return response.context["figures"]["recognised"]

    def test_the_service_itself_refuses_a_year_outside_the_set_and_a_set_of_another_level(self):
        commune_set = CriteriaSet.objects.get(code=SET)
        district_set = CriteriaSet.objects.get(code="huyen_ntm_2016_2020")
        for area, criteria_set, year in [(self.w.an_duong, commune_set, 2024), (self.w.an_duong, district_set, 2019)]:
            with self.subTest(set=criteria_set.code, year=year), self.assertRaises(services.RecognitionError):
                services.record_past_decision(
                    area=area, criteria_set=criteria_set, year=year, number="1/QĐ", date=None, user=self.w.admin
                )
        self.assertFalse(RecognitionFile.objects.filter(area=self.w.an_duong).exists())

    def test_a_list_of_three_decisions_loads_and_the_district_dashboard_counts_them(self):
        self.assertEqual(self.recognised_in_tan_yen(2020), 0)
        report = decisions_import.import_decisions(table(decision_list(*DECISIONS)), user=self.w.admin)
        self.assertEqual((report.created, report.changed, report.unchanged), (3, 0, 0))
        # An Dương (2019, kept in 2020) and Song Vân (2020); the district's own decision is not a commune.
        self.assertEqual(self.recognised_in_tan_yen(2020), 2)
        self.assertEqual(self.recognised_in_tan_yen(2019), 1)
        district = RecognitionFile.objects.get(area=self.w.tan_yen)
        self.assertEqual(district.criteria_set.code, "huyen_ntm_2016_2020")
        self.assertEqual((district.decision_number, district.decision_date), ("45/QĐ-TTg", datetime.date(2021, 1, 10)))
        step = district.steps.get()
        self.assertEqual(
            (step.action, step.actor, step.comment), (Action.IMPORT, self.w.admin, "Nhập từ quyet-dinh.xlsx, dòng 5")
        )

    def test_loading_the_same_list_again_changes_nothing(self):
        decisions_import.import_decisions(table(decision_list(*DECISIONS)), user=self.w.admin)
        history = RecognitionFile.history.count()
        report = decisions_import.import_decisions(table(decision_list(*DECISIONS)), user=self.w.admin)
        self.assertEqual((report.created, report.changed, report.unchanged), (0, 0, 3))
        self.assertEqual(RecognitionStep.objects.count(), 3)
        self.assertEqual(RecognitionFile.history.count(), history)

    def test_a_bad_code_date_or_set_is_named_by_row_and_column_and_nothing_is_written(self):
        book = decision_list(
            DECISIONS[0],
            ["T-99999", "Ngọc Thiện", "NTM 2016-2020", 2019, "12/QĐ-UBND", "20/12/2019"],
            ["T-07210", "Song Vân", "NTM 2016-2020", 2020, "13/QĐ-UBND", "31/02/2020"],
            ["T-07300", "Tăng Tiến", "NTM 2030-2035", 2020, "14/QĐ-UBND", "20/12/2020"],
            ["T-07300", "Tăng Tiến", "NTM 2016-2020", 2022, "15/QĐ-UBND", "20/12/2022"],
        )
        plan = decisions_import.dry_run(table(book), user=self.w.admin)
        self.assertEqual(
            [str(bad) for bad in plan.bad_cells],
            [
                "Dòng 4, cột A (Mã xã): T-99999 — Không có đơn vị mã “T-99999”.",
                "Dòng 5, cột F (Ngày quyết định): 31/02/2020 — không phải là ngày (viết 20/12/2019)",
                "Dòng 6, cột C (Bộ tiêu chí): NTM 2030-2035 — không có bộ tiêu chí Nông thôn mới cấp xã giai đoạn "
                "2030–2035",
                "Dòng 7, cột D (Năm): 2022 — năm 2022 ngoài giai đoạn 2016–2020 của bộ tiêu chí xa_ntm_2016_2020",
            ],
        )
        with self.assertRaises(ValidationError):
            decisions_import.import_decisions(table(book), user=self.w.admin)
        self.assertFalse(RecognitionFile.objects.exists())  # the good first row is not written either

    def test_a_revoked_decision_is_not_overwritten_by_the_list(self):
        file = services.record_past_decision(
            area=self.w.an_duong, criteria_set=CriteriaSet.objects.get(code=SET), year=2019, number="1520/QĐ-UBND",
            date=datetime.date(2019, 12, 20), user=self.w.admin,
        )  # fmt: skip
        file.refresh_from_db()
        services.revoke(file=file, user=self.w.admin, comment="Không còn đạt tiêu chí 17")
        plan = decisions_import.dry_run(table(decision_list(DECISIONS[0])), user=self.w.admin)
        self.assertEqual(
            [str(bad) for bad in plan.bad_cells],
            [
                "Dòng 3, cột E (Số quyết định): 1520/QĐ-UBND — quyết định công nhận xã An Dương năm 2019 đã bị thu "
                "hồi; danh sách không ghi đè việc thu hồi"
            ],
        )

    def test_a_code_reused_across_the_2025_reform_is_the_commune_in_force_on_the_decisions_date(self):
        lam_son = make_area("T-07333", "Lam Sơn", Level.COMMUNE, self.w.tan_yen, "xã", valid_until=REFORM_EVE)
        quang_trung = make_area(
            "T-07333", "Quang Trung", Level.COMMUNE, self.w.bac_giang, "xã", valid_from=REFORM_EVE + ONE_DAY
        )
        make_area("T-07999", "Tân Trung", Level.COMMUNE, self.w.bac_giang, "xã", valid_from=REFORM_EVE + ONE_DAY)
        rows = [
            ["T-07333", None, "NTM 2021-2025", 2025, "310/QĐ-UBND", "10/05/2025"],
            ["T-07333", "Quang Trung", "NTM 2021-2025", 2025, "1200/QĐ-UBND", "20/12/2025"],
            ["T-07999", "Tân Trung", "NTM 2016-2020", 2020, "11/QĐ-UBND", "20/12/2020"],
        ]
        with mock.patch("django.utils.timezone.localdate", return_value=datetime.date(2026, 2, 1)):
            plan = decisions_import.dry_run(table(decision_list(*rows)), user=self.w.admin)
        self.assertEqual([row.area for row in plan.rows], [lam_son, quang_trung])
        self.assertEqual(
            [str(bad) for bad in plan.bad_cells],
            [
                "Dòng 5, cột A (Mã xã): T-07999 — Không có đơn vị mã “T-07999” ngày 20/12/2020; mã này thuộc: "
                "xã Tân Trung (từ 01/07/2025)."
            ],
        )

    def test_a_commune_without_code_is_found_by_name_only_within_the_importers_reach(self):
        district_admin = make_user("quantri.tanyen", self.w.tan_yen, RoleKind.ADMIN, is_staff=True)
        rows = [
            [None, "Song Vân", SET, 2020, "1633/QĐ-UBND", "15/12/2020"],
            [None, "Tăng Tiến", SET, 2020, "14/QĐ-UBND", "20/12/2020"],  # in Việt Yên
        ]
        plan = decisions_import.dry_run(table(decision_list(*rows)), user=district_admin)
        self.assertEqual([row.area for row in plan.rows], [self.w.song_van])
        self.assertEqual(
            [str(bad) for bad in plan.bad_cells],
            ["Dòng 4, cột B (Tên xã): Tăng Tiến — không tìm thấy xã hay huyện tên này trong phạm vi bạn quản trị"],
        )


class DecisionAdminTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.w = build_world()
        cls.cset = CriteriaSet.objects.get(code=SET)
        cls.record_url = reverse("admin:recognition_recognitionfile_record_past")
        cls.import_url = reverse("admin:recognition_recognitionfile_import_decisions")
        cls.confirm_url = reverse("admin:recognition_recognitionfile_confirm_decisions")
        cls.search_url = reverse("admin:recognition_recognitionfile_unit_search")
        cls.staff = make_user("nhanvien", is_staff=True)

    def record(self, **values):
        data = {
            "area": self.w.an_duong.pk, "criteria_set": self.cset.pk, "year": 2019, "number": "1520/QĐ-UBND",
            "date": "20/12/2019", "note": "Theo danh sách của Văn phòng điều phối tỉnh", **values,
        }  # fmt: skip
        return self.client.post(self.record_url, data)

    def test_the_admin_form_records_one_decision_taken_before_the_portal(self):
        self.client.force_login(self.w.admin)
        changelist = self.client.get(reverse("admin:recognition_recognitionfile_changelist"))
        self.assertContains(changelist, "Ghi nhận quyết định công nhận đã có")
        self.assertContains(changelist, self.import_url)
        response = self.record()
        file = RecognitionFile.objects.get(area=self.w.an_duong, criteria_set=self.cset, year=2019)
        self.assertRedirects(response, reverse("admin:recognition_recognitionfile_change", args=[file.pk]))
        self.assertEqual((file.stage, file.decision_number), (Stage.RECOGNISED, "1520/QĐ-UBND"))
        step = file.steps.get()
        self.assertEqual((step.action, step.actor), (Action.IMPORT, self.w.admin))
        self.assertEqual(file.history.latest().history_user, self.w.admin)

    def test_the_admin_form_refuses_a_year_outside_the_set_a_future_date_and_a_revoked_file(self):
        self.client.force_login(self.w.admin)
        self.assertContains(self.record(year=2021), "Năm 2021 ngoài giai đoạn 2016–2020 của bộ tiêu chí này.")
        tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).strftime("%d/%m/%Y")
        self.assertContains(self.record(date=tomorrow), "Ngày quyết định không thể sau hôm nay.")
        self.assertFalse(RecognitionFile.objects.exists())
        self.record()
        services.revoke(file=RecognitionFile.objects.get(), user=self.w.admin, comment="Không còn đạt tiêu chí 17")
        self.assertContains(self.record(number="99/QĐ-UBND"), "Quyết định công nhận của hồ sơ này đã bị thu hồi.")
        self.assertEqual(RecognitionFile.objects.get().stage, Stage.REVOKED)

    def test_the_commune_box_offers_only_communes_and_districts(self):
        self.client.force_login(self.w.admin)
        found = self.client.get(self.search_url, {"term": "Tân Yên"}).json()["results"]
        self.assertEqual([r["id"] for r in found], [str(self.w.tan_yen.pk)])
        found = self.client.get(self.search_url, {"term": "Bắc Giang"}).json()["results"]
        self.assertEqual(found, [])  # the province itself is not offered
        self.assertContains(self.client.get(self.record_url), f'data-ajax--url="{self.search_url}"')

    def test_a_list_uploaded_in_the_admin_shows_a_dry_run_then_writes_once(self):
        self.client.force_login(self.w.admin)
        upload = SimpleUploadedFile("quyet-dinh.xlsx", decision_list(*DECISIONS).getvalue())
        response = self.client.post(self.import_url, {"workbook": upload})
        self.assertContains(response, "xã An Dương (T-07234), huyện Tân Yên")
        self.assertContains(response, "QĐ 1633/QĐ-UBND ngày 15/12/2020")
        self.assertFalse(RecognitionFile.objects.exists())  # a dry run writes nothing
        token = {"token": response.context["token"]}
        done = self.client.post(self.confirm_url, token, follow=True)
        self.assertContains(done, "Đã ghi nhận quyết định công nhận: 3 ghi mới, 0 thay đổi, 0 đã có, không đổi.")
        again = self.client.post(self.confirm_url, token, follow=True)  # a double click
        self.assertContains(again, "Danh sách đã tải lên không còn")
        self.assertEqual(RecognitionStep.objects.count(), 3)

    def test_a_list_with_a_bad_cell_offers_no_confirmation(self):
        self.client.force_login(self.w.admin)
        book = decision_list(["T-07234", "An Dương", "NTM 2016-2020", 2019, "1520/QĐ-UBND", "20/13/2019"])
        response = self.client.post(self.import_url, {"workbook": SimpleUploadedFile("qd.xlsx", book.getvalue())})
        self.assertContains(response, "Dòng 3, cột F (Ngày quyết định): 20/13/2019 — không phải là ngày")
        self.assertNotContains(response, "Xác nhận và ghi")

    def test_people_without_the_change_permission_cannot_reach_the_pages(self):
        urls = (self.record_url, self.import_url, self.search_url)
        for user in (None, self.w.officer_an_duong, self.w.reviewer_bac_giang):
            with self.subTest(user=getattr(user, "username", "khách")):
                self.client.logout()
                if user:
                    self.client.force_login(user)
                for url in urls:
                    response = self.client.get(url)
                    self.assertEqual(response.status_code, 302)
                    self.assertIn(reverse("admin:login"), response["Location"])
        self.client.force_login(self.staff)  # staff, but no permission on recognition files
        for url in urls:
            self.assertEqual(self.client.get(url).status_code, 403)
        self.assertEqual(self.record().status_code, 403)
        self.assertEqual(self.client.post(self.confirm_url, {"token": "x"}).status_code, 403)
        self.assertFalse(RecognitionFile.objects.exists())

    def test_staff_with_the_permission_record_only_within_their_admin_role(self):
        clerk = make_user("vanphong.tanyen", self.w.tan_yen, RoleKind.ADMIN, is_staff=True)
        clerk.user_permissions.add(Permission.objects.get(codename="change_recognitionfile"))
        self.client.force_login(clerk)
        outside = self.record(area=self.w.tang_tien.pk)  # Việt Yên
        self.assertEqual(outside.status_code, 200)
        self.assertTrue(outside.context["form"].has_error("area"))
        self.assertFalse(RecognitionFile.objects.filter(area=self.w.tang_tien).exists())
        self.assertEqual(self.record().status_code, 302)
        self.assertTrue(RecognitionFile.objects.filter(area=self.w.an_duong, stage=Stage.RECOGNISED).exists())


class DecisionCommandTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.w = build_world()

    def run_command(self, book, *args):
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "quyet-dinh.xlsx"
            path.write_bytes(book.getvalue())
            out, err = io.StringIO(), io.StringIO()
            try:
                call_command("import_recognition_decisions", str(path), *args, stdout=out, stderr=err)
            finally:
                self.printed, self.errors = out.getvalue(), err.getvalue()

    def test_the_command_prints_a_dry_run_and_writes_only_with_commit(self):
        self.run_command(decision_list(*DECISIONS))
        self.assertIn(
            "Dòng 3: xã An Dương (T-07234), huyện Tân Yên — xa_ntm_2016_2020 — năm 2019 — "
            "QĐ 1520/QĐ-UBND ngày 20/12/2019 — Ghi mới",
            self.printed,
        )
        self.assertIn("Chạy thử: 3 quyết định, chưa ghi gì", self.printed)
        self.assertFalse(RecognitionFile.objects.exists())
        self.run_command(decision_list(*DECISIONS), "--commit")
        self.assertIn("3 ghi mới", self.printed)
        self.assertEqual(RecognitionFile.objects.filter(stage=Stage.RECOGNISED).count(), 3)

    def test_the_command_fails_on_bad_cells_and_writes_nothing(self):
        book = decision_list(DECISIONS[0], ["T-99999", "Ngọc Thiện", "NTM 2016-2020", 2019, "12/QĐ-UBND", "20/12/2019"])
        with self.assertRaises(CommandError) as ctx:
            self.run_command(book, "--commit")
        self.assertIn("1 ô sai; không ghi gì", str(ctx.exception))
        self.assertIn("Dòng 4, cột A (Mã xã): T-99999", self.errors)
        self.assertFalse(RecognitionFile.objects.exists())
