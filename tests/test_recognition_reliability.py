"""Recognition files: each detail written only by its owner at its stage, and mails that cannot break a step."""

import datetime
import smtplib
from io import StringIO

from django.core import mail
from django.core.exceptions import ValidationError
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command
from django.test import TestCase, override_settings
from django.urls import reverse

from areas.models import RoleKind
from criteria.models import CriteriaSet
from recognition import services
from recognition.models import Action, Outbox, RecognitionFile, Stage
from tests.personas import build_world, make_user
from tests.test_recognition import YEAR, meet_every_criterion

QUERY = f"?nam={YEAR}&bo=xa_ntm_2016_2020"
SURVEY = {"satisfaction_rate": 70, "survey_date": datetime.date(2019, 9, 1), "survey_note": "Viết lại"}
SURVEY_LABELS = {
    "satisfaction_rate": "Tỷ lệ người dân hài lòng (%)",
    "survey_date": "Ngày lấy ý kiến",
    "survey_note": "Ghi chú lấy ý kiến",
}


class RefusingBackend(BaseEmailBackend):
    """A mail server that does not answer."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("Máy chủ thư không trả lời")


@override_settings(NTM_RESULT_LOCK="recognition.services.check_unlocked")
class RecognitionCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.w = build_world()
        w = cls.w
        for user, email in ((w.officer_an_duong, "anduong@example.vn"), (w.reviewer_tan_yen, "tanyen@example.vn")):
            user.email = email
            user.save()
        cls.province_admin = make_user("quantri.bacgiang", w.bac_giang, RoleKind.ADMIN)
        cls.set_2016 = CriteriaSet.objects.get(code="xa_ntm_2016_2020")
        cls.criteria = {c.number: c for c in cls.set_2016.criteria.all()}
        meet_every_criterion(w.an_duong, cls.set_2016)

    def file_at(self, stage):
        """An Dương's file, surveyed by its officer (92 %), taken to `stage`."""
        w = self.w
        file = services.open_file(area=w.an_duong, criteria_set=self.set_2016, year=YEAR)
        services.update_details(
            file=file, user=w.officer_an_duong, satisfaction_rate=92, survey_note="MTTQ xã lấy ý kiến"
        )
        steps = [
            (Stage.SUBMITTED, lambda: services.submit(file=file, user=w.officer_an_duong)),
            (Stage.VERIFIED, lambda: services.verify(file=file, user=w.reviewer_tan_yen)),
            (Stage.APPRAISED, lambda: services.appraise(file=file, user=w.reviewer_bac_giang)),
        ]
        for reached, take in steps:
            if stage == Stage.PREPARING:
                break
            take()
            if reached == stage:
                break
        return file

    def details_url(self, area=None):
        return reverse("recognition_details", args=[(area or self.w.an_duong).pk]) + QUERY

    def file_url(self, area=None):
        return reverse("recognition_file", args=[(area or self.w.an_duong).pk]) + QUERY


class DetailOwnershipTests(RecognitionCase):
    def test_reviewers_and_administrators_cannot_rewrite_the_survey(self):
        for stage, user in (
            (Stage.SUBMITTED, self.w.reviewer_tan_yen),
            (Stage.VERIFIED, self.w.reviewer_bac_giang),
            (Stage.APPRAISED, self.province_admin),
        ):
            file = self.file_at(stage)
            for name, value in SURVEY.items():
                with self.subTest(stage=stage, user=user.username, field=name):
                    with self.assertRaises(ValidationError) as refused:
                        services.update_details(file=file, user=user, **{name: value})
                    self.assertIn(f"Bạn không thể sửa “{SURVEY_LABELS[name]}”", str(refused.exception))
                    self.assertIn("do cán bộ của xã ghi khi chuẩn bị hồ sơ", str(refused.exception))
            stored = RecognitionFile.objects.get(pk=file.pk)
            self.assertEqual((stored.satisfaction_rate, stored.survey_note), (92, "MTTQ xã lấy ý kiến"))
            RecognitionFile.objects.all().delete()

    def test_officer_cannot_change_the_survey_or_the_months_once_submitted(self):
        file = self.file_at(Stage.SUBMITTED)
        for name, value in {**SURVEY, "planned_verify_month": datetime.date(2019, 12, 1)}.items():
            with self.subTest(field=name):
                with self.assertRaises(ValidationError) as refused:
                    services.update_details(file=file, user=self.w.officer_an_duong, **{name: value})
                self.assertIn("khi hồ sơ ở bước “Xã đã nộp hồ sơ”", str(refused.exception))
        self.assertEqual(RecognitionFile.objects.get(pk=file.pk).planned_verify_month, None)

    def test_officer_corrects_the_survey_after_a_return(self):
        file = self.file_at(Stage.SUBMITTED)
        services.return_file(
            file=file, user=self.w.reviewer_tan_yen, criteria_reasons={self.criteria[17]: "Phiếu chưa đủ"}
        )
        services.update_details(file=file, user=self.w.officer_an_duong, satisfaction_rate=95)
        self.assertEqual(RecognitionFile.objects.get(pk=file.pk).satisfaction_rate, 95)

    def test_reviewers_still_move_the_planned_months_until_the_decision(self):
        file = self.file_at(Stage.SUBMITTED)
        services.update_details(
            file=file, user=self.w.reviewer_tan_yen, planned_verify_month=datetime.date(2019, 11, 1)
        )
        self.assertEqual(RecognitionFile.objects.get(pk=file.pk).planned_verify_month, datetime.date(2019, 11, 1))

    def test_reviewer_page_offers_only_the_planned_months_and_a_forged_survey_is_refused(self):
        self.file_at(Stage.SUBMITTED)
        self.client.force_login(self.w.reviewer_tan_yen)
        page = self.client.get(self.file_url())
        self.assertContains(page, 'name="planned_verify_month"')
        self.assertNotContains(page, 'name="satisfaction_rate"')
        self.assertContains(page, "Sửa tháng dự kiến</summary>")
        response = self.client.post(self.details_url(), {"satisfaction_rate": "50"}, follow=True)
        self.assertContains(response, "Bạn không thể sửa “Tỷ lệ người dân hài lòng (%)”")
        self.assertEqual(RecognitionFile.objects.get().satisfaction_rate, 92)

    def test_reviewer_looking_at_a_commune_without_a_file_creates_none(self):
        self.client.force_login(self.w.reviewer_tan_yen)
        self.assertEqual(self.client.get(self.file_url(self.w.song_van)).status_code, 200)
        response = self.client.post(
            self.details_url(self.w.song_van), {"planned_verify_month": "tháng 11/2019"}, follow=True
        )
        self.assertContains(response, "Hồ sơ chưa được lập: xã cần hoàn thiện và nộp hồ sơ trước.")
        self.assertFalse(RecognitionFile.objects.filter(area=self.w.song_van).exists())


@override_settings(EMAIL_BACKEND="tests.test_recognition_reliability.RefusingBackend")
class OutboxTests(RecognitionCase):
    def submit_while_the_mail_server_is_down(self):
        self.file_at(Stage.PREPARING)
        self.client.force_login(self.w.officer_an_duong)
        with self.captureOnCommitCallbacks(execute=True):
            return self.client.post(
                reverse("recognition_step", args=[self.w.an_duong.pk]) + QUERY, {"action": Action.SUBMIT}, follow=True
            )

    def test_step_is_recorded_and_the_officer_sees_success_when_the_mail_server_is_down(self):
        response = self.submit_while_the_mail_server_is_down()
        self.assertContains(response, "Hồ sơ chuyển sang bước “Xã đã nộp hồ sơ”")
        self.assertEqual(RecognitionFile.objects.get().stage, Stage.SUBMITTED)
        waiting = Outbox.objects.get()
        self.assertEqual(waiting.to, "tanyen@example.vn")
        self.assertIn("Nộp hồ sơ đề nghị thẩm tra", waiting.subject)
        self.assertIsNone(waiting.sent_at)
        self.assertEqual(waiting.attempts, 1)
        self.assertIn("Máy chủ thư không trả lời", waiting.last_error)

    def test_send_outbox_sends_the_waiting_mail_once_the_server_is_back(self):
        self.submit_while_the_mail_server_is_down()
        with self.settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            out = StringIO()
            call_command("send_outbox", stdout=out)
            self.assertIn("Đã gửi 1 thư, 0 thư chưa gửi được.", out.getvalue())
            self.assertEqual([m.to for m in mail.outbox], [["tanyen@example.vn"]])
            self.assertIn("Chờ huyện thẩm tra", mail.outbox[0].body)
            call_command("send_outbox", stdout=StringIO())
            self.assertEqual(len(mail.outbox), 1)  # sent once
        sent = Outbox.objects.get()
        self.assertIsNotNone(sent.sent_at)
        self.assertEqual((sent.attempts, sent.last_error), (2, ""))

    def test_administrator_sees_the_unsent_mail_with_its_error(self):
        self.submit_while_the_mail_server_is_down()
        self.client.force_login(self.w.admin)
        response = self.client.get(reverse("admin:recognition_outbox_changelist"), {"da_gui": "khong"})
        self.assertContains(response, "tanyen@example.vn")
        self.assertContains(response, "SMTPServerDisconnected: Máy chủ thư không trả lời")
        sent_only = self.client.get(reverse("admin:recognition_outbox_changelist"), {"da_gui": "co"})
        self.assertNotContains(sent_only, "tanyen@example.vn")
