"""Pages and mails that name a person who is no longer there: a deleted account, or a step taken from a document.

Records keep their user as a nullable link, so after an account is deleted (or for a step recorded from the
seed's documents) there is nobody to name: every page still answers and says so.
"""

import datetime
import tempfile
from decimal import Decimal
from pathlib import Path

import yaml
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.loader import render_to_string
from django.test import TestCase, override_settings
from django.urls import reverse

from areas.models import RoleKind
from criteria import evidence as criteria_evidence
from criteria import services as criteria_services
from criteria.models import CriteriaSet, Indicator, IndicatorResult
from plans import services as plan_services
from plans.models import parse_deadline
from recognition import services as recognition_services
from recognition.models import Action, RecognitionFile, RecognitionStep, Stage
from tests.personas import build_world, make_user
from tests.test_recognition import meet_every_criterion
from tools.demo.areas import load_demo_areas
from tools.demo.recognition import load_demo_recognition

YEAR = 2024
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n%%EOF\n"
GONE = "tài khoản đã xóa"


@override_settings(MEDIA_ROOT=tempfile.mkdtemp(prefix="ntm-test-missing-people-"))
class MissingPersonCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.w = build_world()
        # A second officer of An Dương who leaves: their account is deleted in each test.
        cls.tam = make_user("canbo.tam", cls.w.an_duong, RoleKind.OFFICER, first_name="Tâm", last_name="Phạm Văn")
        cls.set = CriteriaSet.objects.national().for_level("commune").covering(YEAR).get(tier="standard")
        cls.indicator = Indicator.objects.in_set(cls.set).select_related("criterion").get(code="17.8")

    def left_a_result_with_evidence(self):
        """Tâm records 17.8 with its evidence, then the account is deleted."""
        area, indicator = self.w.an_duong, self.indicator
        criteria_services.record_indicator_result(
            area=area, indicator=indicator, year=YEAR, user=self.tam, numerator=Decimal(1276), denominator=1413
        )
        criteria_evidence.add_evidence(
            area=area, indicator=indicator, year=YEAR, upload=SimpleUploadedFile("bien-ban.pdf", PDF), user=self.tam
        )
        self.tam.delete()

    def criterion_url(self):
        url = reverse("workspace_criterion", args=[self.w.an_duong.pk, self.indicator.criterion_id])
        return f"{url}?nam={YEAR}&bo={self.set.code}"


class WorkspaceTests(MissingPersonCase):
    def setUp(self):
        self.client.force_login(self.w.officer_an_duong)

    def test_indicator_saved_and_evidenced_by_a_deleted_account_still_opens(self):
        self.left_a_result_with_evidence()
        response = self.client.get(self.criterion_url())
        self.assertContains(response, "bien-ban.pdf")
        self.assertContains(response, f"{GONE} · ", count=2)  # the last update and the evidence file

    def test_htmx_save_of_a_result_last_saved_by_a_deleted_account_answers_with_the_row(self):
        self.left_a_result_with_evidence()
        result = IndicatorResult.objects.get(area=self.w.an_duong, indicator=self.indicator, year=YEAR)
        prefix = f"i{self.indicator.pk}-"
        response = self.client.post(
            reverse("edit_indicator", args=[self.w.an_duong.pk, self.indicator.pk]) + f"?nam={YEAR}",
            {f"{prefix}version": result.version, f"{prefix}numerator": "1.300", f"{prefix}denominator": "1.413"},
            HTTP_HX_REQUEST="true",
        )
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Nguyễn Thị Lan")  # who saved now, family name first
        # The row's evidence stays as the page showed it (hx-preserve); reloaded, it still names the deleted account.
        self.assertContains(response, f'id="ev-{self.indicator.pk}" hx-preserve="true"')
        self.assertContains(self.client.get(self.criterion_url()), f"{GONE} · ", count=1)
        result.refresh_from_db()
        self.assertEqual(result.numerator, 1300)

    def test_stale_save_names_a_deleted_account_as_someone_else(self):
        self.left_a_result_with_evidence()
        prefix = f"i{self.indicator.pk}-"
        response = self.client.post(
            reverse("edit_indicator", args=[self.w.an_duong.pk, self.indicator.pk]) + f"?nam={YEAR}",
            {f"{prefix}version": 0, f"{prefix}numerator": "1.300", f"{prefix}denominator": "1.413"},
            HTTP_HX_REQUEST="true",
        )
        self.assertContains(response, "vừa được người khác cập nhật", status_code=409)

    def test_history_and_audit_of_a_deleted_account_still_open(self):
        self.left_a_result_with_evidence()
        history = self.client.get(
            reverse("indicator_history", args=[self.w.an_duong.pk, self.indicator.pk]) + f"?nam={YEAR}"
        )
        self.assertContains(history, "Tải lên minh chứng")
        self.client.force_login(self.w.admin)
        audit = self.client.get(reverse("audit"))
        self.assertContains(audit, "không rõ")


class PlanTests(MissingPersonCase):
    def test_progress_reported_by_a_deleted_account_still_shows_on_the_item(self):
        plan = plan_services.create_plan(
            user=self.w.admin, area=self.w.an_duong, data=plan_services.PlanData(title="Kế hoạch NTM", year=YEAR)
        )
        item = plan_services.add_item(
            user=self.w.admin,
            plan=plan,
            data=plan_services.ItemData(title="Bê tông hóa đường thôn", deadline=parse_deadline("năm 2024")),
        )
        plan_services.record_progress(
            user=self.tam, item=item, date=datetime.date(2024, 5, 2), progress=40, done="Đổ xong 1 km"
        )
        self.tam.delete()
        self.client.force_login(self.w.officer_an_duong)
        response = self.client.get(reverse("item_detail", args=[item.pk]))
        self.assertContains(response, "Đổ xong 1 km")
        self.assertContains(response, f"— {GONE}")


class RecognitionTests(MissingPersonCase):
    def submitted_by_a_deleted_account(self):
        set_2016 = CriteriaSet.objects.get(code="xa_ntm_2016_2020")
        meet_every_criterion(self.w.an_duong, set_2016, year=2019)
        file = recognition_services.open_file(area=self.w.an_duong, criteria_set=set_2016, year=2019)
        recognition_services.update_details(file=file, user=self.tam, satisfaction_rate=92)
        step = recognition_services.submit(file=file, user=self.tam)
        self.tam.delete()
        return file, step

    def test_file_page_names_a_deleted_account_and_a_step_recorded_from_a_document(self):
        file, _step = self.submitted_by_a_deleted_account()
        RecognitionStep.objects.create(
            file=file, from_stage=Stage.PREPARING, to_stage=Stage.PREPARING, action=Action.IMPORT, comment="KH 116"
        )
        for user in (self.w.officer_an_duong, self.w.reviewer_tan_yen, self.w.admin):
            with self.subTest(user=user.username):
                self.client.force_login(user)
                response = self.client.get(reverse("recognition_file", args=[self.w.an_duong.pk]) + "?nam=2019")
                self.assertContains(response, f"· {GONE}</div>")
                self.assertContains(response, "· theo văn bản</div>")

    def test_mail_about_a_step_of_a_deleted_account_renders(self):
        file, step = self.submitted_by_a_deleted_account()
        step.refresh_from_db()
        body = render_to_string("recognition/email_body.txt", {"file": step.file, "step": step, "returned": []})
        self.assertIn(f"{GONE} đã thực hiện “Nộp hồ sơ đề nghị thẩm tra”", body)

    def test_seeded_file_waiting_for_its_decision_opens(self):
        demo = Path(settings.BASE_DIR) / "fixtures" / "demo"
        areas = load_demo_areas(yaml.safe_load((demo / "areas.yaml").read_text(encoding="utf-8"))["areas"])
        entries = yaml.safe_load((demo / "recognition.yaml").read_text(encoding="utf-8"))["recognition"]
        load_demo_recognition(entries, areas_by_code=areas)
        viet_ngoc = RecognitionFile.objects.get(area=areas["07342"])
        self.client.force_login(self.w.admin)
        response = self.client.get(
            reverse("recognition_file", args=[viet_ngoc.area_id]) + f"?nam={viet_ngoc.year}&bo=xa_ntm_2016_2020"
        )
        self.assertContains(response, "Chờ quyết định công nhận")
        self.assertContains(response, "· theo văn bản</div>")
