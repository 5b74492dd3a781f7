"""The recognition workflow: its state machine, who may take each step, locking of results, e-mails."""

import datetime

from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase, override_settings

from areas.models import Role, RoleKind
from criteria import evidence as criteria_evidence
from criteria import services as criteria_services
from criteria.models import CriteriaSet, CriterionResult, Indicator, IndicatorResult
from recognition import services
from recognition.models import Action, RecognitionFile, RecognitionStep, Stage, stage_counts
from tests.personas import build_world, make_user

YEAR = 2019
PDF = b"%PDF-1.4\n% minh chung\n"


def meet_every_criterion(area, criteria_set, year=YEAR):
    for criterion in criteria_set.criteria.all():
        criteria_services.assess_criterion(area=area, criterion=criterion, year=year, status="met")


class RecognitionCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.w = build_world()
        w = cls.w
        for user, email in (
            (w.officer_an_duong, "anduong@example.vn"),
            (w.reviewer_tan_yen, "tanyen@example.vn"),
            (w.reviewer_bac_giang, "bacgiang@example.vn"),
            (w.admin, "quantri@example.vn"),
        ):
            user.email = email
            user.save()
        cls.set_2016 = CriteriaSet.objects.get(code="xa_ntm_2016_2020")
        cls.criteria = {c.number: c for c in cls.set_2016.criteria.all()}
        meet_every_criterion(w.an_duong, cls.set_2016)

    def open(self, area=None, criteria_set=None, **values):
        file = services.open_file(area=area or self.w.an_duong, criteria_set=criteria_set or self.set_2016, year=YEAR)
        if values:
            RecognitionFile.objects.filter(pk=file.pk).update(**values)
            file.refresh_from_db()
        return file

    def ready_file(self):
        return self.open(satisfaction_rate=92)

    def walk(self, file, until):
        """Take the file through the legal steps up to the stage `until`."""
        w = self.w
        steps = [
            (Stage.SUBMITTED, lambda: services.submit(file=file, user=w.officer_an_duong)),
            (Stage.VERIFIED, lambda: services.verify(file=file, user=w.reviewer_tan_yen)),
            (Stage.APPRAISED, lambda: services.appraise(file=file, user=w.reviewer_bac_giang)),
            (
                Stage.RECOGNISED,
                lambda: services.record_decision(
                    file=file,
                    user=w.admin,
                    number="123/QĐ-UBND",
                    date=datetime.date.today(),
                    signer="Chủ tịch UBND tỉnh",
                ),
            ),
        ]
        order = [stage for stage, _take in steps]
        for stage, take in steps[order.index(file.stage) + 1 if file.stage in order else 0 :]:
            take()
            if stage == until:
                break
        return file

    def refused(self, call, contains=""):
        with self.assertRaises(ValidationError) as caught:
            call()
        if contains:
            self.assertIn(contains, str(caught.exception))
        return caught.exception


class StateMachineTests(RecognitionCase):
    def test_every_legal_step_to_recognition_is_recorded_with_who_and_comment(self):
        file = self.ready_file()
        services.submit(file=file, user=self.w.officer_an_duong, comment="Đã đủ 19/19")
        services.verify(file=file, user=self.w.reviewer_tan_yen, comment="Đoàn thẩm tra huyện: đạt")
        services.appraise(file=file, user=self.w.reviewer_bac_giang)
        services.record_decision(
            file=file, user=self.w.admin, number="1234/QĐ-UBND", date=datetime.date(2019, 12, 20), signer="Chủ tịch"
        )
        file.refresh_from_db()
        self.assertEqual(file.stage, Stage.RECOGNISED)
        self.assertEqual((file.decision_number, file.decision_signer), ("1234/QĐ-UBND", "Chủ tịch"))
        steps = list(file.steps.order_by("at", "pk"))
        self.assertEqual(
            [(s.from_stage, s.action, s.to_stage, s.actor) for s in steps],
            [
                (Stage.PREPARING, Action.SUBMIT, Stage.SUBMITTED, self.w.officer_an_duong),
                (Stage.SUBMITTED, Action.VERIFY, Stage.VERIFIED, self.w.reviewer_tan_yen),
                (Stage.VERIFIED, Action.APPRAISE, Stage.APPRAISED, self.w.reviewer_bac_giang),
                (Stage.APPRAISED, Action.RECORD_DECISION, Stage.RECOGNISED, self.w.admin),
            ],
        )
        self.assertEqual(steps[1].comment, "Đoàn thẩm tra huyện: đạt")
        self.assertEqual(file.history.count(), 5)  # opened + 4 steps

    def test_district_and_province_returns_go_back_to_preparing(self):
        file = self.ready_file()
        services.submit(file=file, user=self.w.officer_an_duong)
        services.return_file(file=file, user=self.w.reviewer_tan_yen, criteria_reasons={self.criteria[17]: "Thiếu"})
        self.assertEqual((file.stage, file.last_action), (Stage.PREPARING, Action.RETURN_BY_DISTRICT))
        services.submit(file=file, user=self.w.officer_an_duong)
        services.verify(file=file, user=self.w.reviewer_tan_yen)
        services.return_file(
            file=file, user=self.w.reviewer_bac_giang, criteria_reasons={self.criteria[6]: "Nhà văn hóa"}
        )
        self.assertEqual((file.stage, file.last_action), (Stage.PREPARING, Action.RETURN_BY_PROVINCE))
        self.assertEqual(
            list(RecognitionStep.objects.filter(file=file).values_list("action", flat=True)),
            ["submit", "returned_by_district", "submit", "verify", "returned_by_province"],
        )

    def test_recheck_flags_dropped_criteria_and_revocation_ends_the_file(self):
        file = self.walk(self.ready_file(), Stage.RECOGNISED)
        criteria_services.assess_criterion(
            area=self.w.an_duong, criterion=self.criteria[17], year=2020, status="not_met"
        )
        step = services.recheck(file=file, user=self.w.reviewer_tan_yen, year=2020)
        self.assertEqual((step.check_year, step.dropped), (2020, "17"))
        self.assertTrue(RecognitionFile.objects.get(pk=file.pk).flagged)
        services.revoke(file=file, user=self.w.admin, comment="QĐ thu hồi số 9/QĐ-UBND: rớt tiêu chí 17")
        self.assertEqual(RecognitionFile.objects.get(pk=file.pk).stage, Stage.REVOKED)

    def test_recheck_with_every_criterion_kept_clears_the_flag(self):
        file = self.walk(self.ready_file(), Stage.RECOGNISED)
        RecognitionFile.objects.filter(pk=file.pk).update(flagged=True)
        file.refresh_from_db()
        step = services.recheck(file=file, user=self.w.reviewer_bac_giang, year=2020)
        self.assertEqual(step.dropped, "")
        self.assertFalse(RecognitionFile.objects.get(pk=file.pk).flagged)

    def test_illegal_steps_are_refused_with_the_current_stage(self):
        w = self.w
        file = self.ready_file()
        self.refused(lambda: services.verify(file=file, user=w.reviewer_tan_yen), "đang ở bước “Đang chuẩn bị”")
        self.refused(lambda: services.appraise(file=file, user=w.reviewer_bac_giang), "Đang chuẩn bị")
        self.refused(
            lambda: services.record_decision(
                file=file, user=w.admin, number="1", date=datetime.date.today(), signer="A"
            )
        )
        self.refused(lambda: services.recheck(file=file, user=w.reviewer_tan_yen, year=2020))
        self.refused(lambda: services.revoke(file=file, user=w.admin, comment="x"))
        self.refused(
            lambda: services.return_file(file=file, user=w.reviewer_tan_yen, criteria_reasons={self.criteria[1]: "x"}),
            "Không thể “trả lại”",
        )
        services.submit(file=file, user=w.officer_an_duong)
        self.refused(lambda: services.submit(file=file, user=w.officer_an_duong), "Xã đã nộp hồ sơ")
        self.refused(lambda: services.appraise(file=file, user=w.reviewer_bac_giang), "Xã đã nộp hồ sơ")
        self.walk(file, Stage.RECOGNISED)
        self.refused(lambda: services.verify(file=file, user=w.reviewer_tan_yen), "Đã công nhận")
        services.revoke(file=file, user=w.admin, comment="Thu hồi")
        self.refused(lambda: services.recheck(file=file, user=w.reviewer_tan_yen, year=2021), "Đã thu hồi")
        self.assertEqual(RecognitionFile.objects.get(pk=file.pk).stage, Stage.REVOKED)

    def test_every_step_outside_the_table_is_refused_even_for_a_superuser(self):
        admin = self.w.admin
        today = datetime.date.today()
        calls = {
            Action.SUBMIT: lambda f: services.submit(file=f, user=admin, force=True),
            Action.VERIFY: lambda f: services.verify(file=f, user=admin),
            "return": lambda f: services.return_file(file=f, user=admin, criteria_reasons={self.criteria[6]: "x"}),
            Action.APPRAISE: lambda f: services.appraise(file=f, user=admin),
            Action.RECORD_DECISION: lambda f: services.record_decision(
                file=f, user=admin, number="1/QĐ", date=today, signer="Chủ tịch"
            ),
            Action.RECHECK: lambda f: services.recheck(file=f, user=admin, year=2020),
            Action.REVOKE: lambda f: services.revoke(file=f, user=admin, comment="Thu hồi"),
        }
        file = self.ready_file()
        refused = 0
        for stage in Stage.values:
            for action, call in calls.items():
                actions = services.RETURN_FOR_STAGE.values() if action == "return" else [action]
                if any((stage, a) in services.TRANSITIONS for a in actions):
                    continue
                RecognitionFile.objects.filter(pk=file.pk).update(stage=stage)
                file.refresh_from_db()
                with self.subTest(stage=stage, action=action):
                    self.refused(lambda call=call: call(file), "Không thể")
                    self.assertEqual(RecognitionFile.objects.get(pk=file.pk).stage, stage)
                refused += 1
        self.assertEqual(refused, len(Stage.values) * len(calls) - len(services.TRANSITIONS))
        self.assertFalse(RecognitionStep.objects.exists())

    def test_return_needs_a_criterion_with_a_reason(self):
        file = self.ready_file()
        services.submit(file=file, user=self.w.officer_an_duong)
        self.refused(
            lambda: services.return_file(
                file=file, user=self.w.reviewer_tan_yen, criteria_reasons={self.criteria[6]: " "}
            ),
            "ít nhất một tiêu chí",
        )
        self.assertEqual(RecognitionFile.objects.get(pk=file.pk).stage, Stage.SUBMITTED)

    def test_decision_needs_number_date_and_signer(self):
        file = self.walk(self.ready_file(), Stage.APPRAISED)
        self.refused(
            lambda: services.record_decision(file=file, user=self.w.admin, number="", date=None, signer="X"),
            "số quyết định",
        )
        self.assertEqual(RecognitionFile.objects.get(pk=file.pk).stage, Stage.APPRAISED)


class SubmitConditionsTests(RecognitionCase):
    def test_incomplete_file_is_refused_with_the_list_of_what_is_missing(self):
        file = self.open(area=self.w.song_van)
        indicator = Indicator.objects.in_set(self.set_2016).get(code="7")
        criteria_services.record_indicator_result(area=self.w.song_van, indicator=indicator, year=YEAR, boolean=True)
        error = self.refused(lambda: services.submit(file=file, user=self.w.officer_song_van), "chưa đủ điều kiện")
        texts = [m.text for m in error.missing]
        self.assertIn("Tiêu chí 2. Giao thông: chưa đánh giá", texts)
        self.assertIn("Chỉ tiêu 7: đã có kết quả nhưng chưa có hồ sơ minh chứng", texts)
        self.assertIn("Chưa ghi kết quả lấy ý kiến sự hài lòng của người dân", texts)
        self.assertNotIn("Tiêu chí 7. Cơ sở hạ tầng thương mại nông thôn: chưa đánh giá", texts)
        self.assertEqual(RecognitionFile.objects.get(pk=file.pk).stage, Stage.PREPARING)

    def test_evidence_clears_the_missing_item(self):
        file = self.ready_file()
        indicator = Indicator.objects.in_set(self.set_2016).get(code="7")
        criteria_services.record_indicator_result(area=self.w.an_duong, indicator=indicator, year=YEAR, boolean=True)
        self.assertEqual(len(services.missing_items(file)), 1)
        with self.settings(MEDIA_ROOT="/tmp/ntm-test-media-recognition"):
            criteria_evidence.add_evidence(
                area=self.w.an_duong, indicator=indicator, year=YEAR, upload=SimpleUploadedFile("bb.pdf", PDF)
            )
        self.assertEqual(services.missing_items(file), [])

    def test_forced_submission_keeps_the_missing_list_with_the_step(self):
        file = self.open()
        step = services.submit(file=file, user=self.w.officer_an_duong, force=True)
        self.assertEqual(file.stage, Stage.SUBMITTED)
        self.assertEqual(step.outstanding, "Chưa ghi kết quả lấy ý kiến sự hài lòng của người dân")

    def test_district_file_needs_ninety_percent_satisfaction(self):
        district_set = CriteriaSet.objects.get(code="huyen_ntm_2016_2020")
        meet_every_criterion(self.w.tan_yen, district_set)
        file = self.open(area=self.w.tan_yen, criteria_set=district_set, satisfaction_rate=85)
        self.assertEqual(
            [m.text for m in services.missing_items(file)],
            ["Tỷ lệ người dân hài lòng 85 % thấp hơn mức 90 % quy định cho huyện"],
        )


class WhoActsTests(RecognitionCase):
    def test_officer_of_another_commune_cannot_submit(self):
        file = self.ready_file()
        self.refused(lambda: services.submit(file=file, user=self.w.officer_song_van), "cán bộ của xã")
        for user in (self.w.reviewer_tan_yen, self.w.viewer_tan_yen, self.w.nobody):
            self.refused(lambda user=user: services.submit(file=file, user=user))
        self.assertFalse(RecognitionStep.objects.exists())

    def test_only_the_district_reviewer_verifies(self):
        file = self.ready_file()
        services.submit(file=file, user=self.w.officer_an_duong)
        for user in (self.w.reviewer_bac_giang, self.w.officer_an_duong, self.w.viewer_tan_yen):
            self.refused(lambda user=user: services.verify(file=file, user=user), "cán bộ thẩm tra của huyện")
        other_district = make_user("thamtra.vietyen", self.w.viet_yen, RoleKind.REVIEWER)
        self.refused(lambda: services.verify(file=file, user=other_district))
        services.verify(file=file, user=self.w.reviewer_tan_yen)
        self.assertEqual(RecognitionFile.objects.get(pk=file.pk).stage, Stage.VERIFIED)

    def test_tan_yen_reviewer_cannot_appraise_and_the_province_reviewer_can(self):
        file = self.walk(self.ready_file(), Stage.VERIFIED)
        self.refused(lambda: services.appraise(file=file, user=self.w.reviewer_tan_yen), "cán bộ thẩm định của tỉnh")
        self.refused(
            lambda: services.return_file(
                file=file, user=self.w.reviewer_tan_yen, criteria_reasons={self.criteria[6]: "x"}
            )
        )
        other_province = make_user("thamdinh.tuyenquang", self.w.tuyen_quang, RoleKind.REVIEWER)
        self.refused(lambda: services.appraise(file=file, user=other_province))
        services.appraise(file=file, user=self.w.reviewer_bac_giang)
        self.assertEqual(RecognitionFile.objects.get(pk=file.pk).stage, Stage.APPRAISED)

    def test_decision_is_recorded_by_an_administrator_only(self):
        file = self.walk(self.ready_file(), Stage.APPRAISED)

        def decide(user):
            return lambda: services.record_decision(
                file=file, user=user, number="1/QĐ", date=datetime.date.today(), signer="Chủ tịch"
            )

        self.refused(decide(self.w.reviewer_bac_giang), "quản trị viên")
        self.refused(decide(self.w.officer_an_duong))
        province_admin = make_user("quantri.bacgiang", self.w.bac_giang, RoleKind.ADMIN)
        decide(province_admin)()
        self.assertEqual(RecognitionFile.objects.get(pk=file.pk).stage, Stage.RECOGNISED)

    def test_district_file_is_submitted_by_the_district_and_verified_and_appraised_by_the_province(self):
        district_set = CriteriaSet.objects.get(code="huyen_ntm_2016_2020")
        meet_every_criterion(self.w.tan_yen, district_set)
        officer = make_user("canbo.tanyen", self.w.tan_yen, RoleKind.OFFICER)
        file = self.open(area=self.w.tan_yen, criteria_set=district_set, satisfaction_rate=95)
        self.refused(lambda: services.submit(file=file, user=self.w.officer_an_duong))
        services.submit(file=file, user=officer)
        self.assertEqual(file.stage_label, "Huyện đã nộp hồ sơ")
        self.refused(lambda: services.verify(file=file, user=self.w.reviewer_tan_yen), "cán bộ thẩm tra của tỉnh")
        services.verify(file=file, user=self.w.reviewer_bac_giang)
        self.assertEqual(file.stage_label, "Tỉnh đã thẩm tra")
        services.appraise(file=file, user=self.w.reviewer_bac_giang)
        self.assertEqual(file.stage, Stage.APPRAISED)

    def test_advanced_set_follows_the_same_flow(self):
        advanced = CriteriaSet.objects.get(code="xa_ntm_nang_cao_2021_2025")
        meet_every_criterion(self.w.an_duong, advanced, year=2023)
        file = services.open_file(area=self.w.an_duong, criteria_set=advanced, year=2023)
        services.update_details(file=file, user=self.w.officer_an_duong, satisfaction_rate=95)
        services.submit(file=file, user=self.w.officer_an_duong)
        services.verify(file=file, user=self.w.reviewer_tan_yen)
        self.assertEqual(RecognitionFile.objects.get(pk=file.pk).stage, Stage.VERIFIED)


class ConcurrencyTests(RecognitionCase):
    def test_same_step_from_two_stale_pages_makes_one_transition(self):
        file = self.walk(self.ready_file(), Stage.SUBMITTED)
        version = RecognitionFile.objects.get(pk=file.pk).version
        first = RecognitionFile.objects.get(pk=file.pk)
        second = RecognitionFile.objects.get(pk=file.pk)
        services.verify(file=first, user=self.w.reviewer_tan_yen, expected_version=version)
        self.refused(
            lambda: services.verify(file=second, user=self.w.reviewer_tan_yen, expected_version=version),
            "vừa được chuyển sang bước “Huyện đã thẩm tra”",
        )
        self.assertEqual(RecognitionStep.objects.filter(file=file, action=Action.VERIFY).count(), 1)

    def test_second_verify_without_a_version_is_an_illegal_step(self):
        file = self.walk(self.ready_file(), Stage.SUBMITTED)
        stale = RecognitionFile.objects.get(pk=file.pk)
        services.verify(file=file, user=self.w.reviewer_tan_yen)
        self.refused(lambda: services.verify(file=stale, user=self.w.reviewer_tan_yen), "Huyện đã thẩm tra")
        self.assertEqual(RecognitionStep.objects.filter(file=file, action=Action.VERIFY).count(), 1)


@override_settings(NTM_RESULT_LOCK="recognition.services.check_unlocked", MEDIA_ROOT="/tmp/ntm-test-media-recognition")
class LockingTests(RecognitionCase):
    def setUp(self):
        self.indicator_6 = Indicator.objects.in_set(self.set_2016).filter(criterion__number=6).first()
        self.indicator_17 = Indicator.objects.in_set(self.set_2016).filter(criterion__number=17).first()

    def edit(self, indicator, user=None):
        return criteria_services.record_indicator_result(
            area=self.w.an_duong, indicator=indicator, year=YEAR, user=user or self.w.officer_an_duong, boolean=True
        ) if indicator.kind == "boolean" else criteria_services.record_indicator_result(
            area=self.w.an_duong, indicator=indicator, year=YEAR, user=user or self.w.officer_an_duong, value=95
        )  # fmt: skip

    def test_submitted_year_is_locked_for_the_commune(self):
        file = self.ready_file()
        services.submit(file=file, user=self.w.officer_an_duong)
        message = "Hồ sơ công nhận đã nộp: kết quả năm 2019 bị khóa cho đến khi được trả lại."
        self.refused(lambda: self.edit(self.indicator_6), message)
        self.refused(
            lambda: criteria_services.assess_criterion(
                area=self.w.an_duong,
                criterion=self.criteria[6],
                year=YEAR,
                status="not_met",
                user=self.w.officer_an_duong,
            ),
            message,
        )
        self.refused(
            lambda: criteria_evidence.add_evidence(
                area=self.w.an_duong,
                indicator=self.indicator_6,
                year=YEAR,
                upload=SimpleUploadedFile("a.pdf", PDF),
                user=self.w.officer_an_duong,
            ),
            message,
        )
        self.assertFalse(IndicatorResult.objects.filter(area=self.w.an_duong).exists())
        self.assertEqual(CriterionResult.objects.get(area=self.w.an_duong, criterion=self.criteria[6]).status, "met")

    def test_evidence_cannot_be_deleted_once_submitted(self):
        evidence = criteria_evidence.add_evidence(
            area=self.w.an_duong,
            indicator=self.indicator_6,
            year=YEAR,
            upload=SimpleUploadedFile("a.pdf", PDF),
            user=self.w.officer_an_duong,
        )
        services.submit(file=self.ready_file(), user=self.w.officer_an_duong, force=True)
        self.refused(
            lambda: criteria_evidence.delete_evidence(evidence=evidence, user=self.w.officer_an_duong), "bị khóa"
        )
        self.assertTrue(type(evidence).objects.filter(pk=evidence.pk).exists())

    def test_other_years_and_areas_stay_open(self):
        services.submit(file=self.ready_file(), user=self.w.officer_an_duong)
        criteria_services.record_indicator_result(
            area=self.w.an_duong, indicator=self.indicator_6, year=2020, user=self.w.officer_an_duong, boolean=True
        )
        criteria_services.record_indicator_result(
            area=self.w.song_van, indicator=self.indicator_6, year=YEAR, user=self.w.officer_song_van, boolean=True
        )
        self.assertEqual(IndicatorResult.objects.count(), 2)

    def test_return_reopens_exactly_the_named_criteria(self):
        file = self.ready_file()
        services.submit(file=file, user=self.w.officer_an_duong)
        services.return_file(
            file=file, user=self.w.reviewer_tan_yen, criteria_reasons={self.criteria[17]: "Khu xử lý rác chưa xong"}
        )
        self.edit(self.indicator_17)
        self.refused(lambda: self.edit(self.indicator_6), "trả lại để sửa tiêu chí 17")
        services.submit(file=file, user=self.w.officer_an_duong, force=True)
        self.refused(lambda: self.edit(self.indicator_17), "bị khóa")

    def test_recognised_year_stays_locked_and_superusers_may_correct(self):
        self.walk(self.ready_file(), Stage.RECOGNISED)
        self.refused(lambda: self.edit(self.indicator_6), "đã có quyết định")
        self.edit(self.indicator_6, user=self.w.admin)
        self.assertTrue(IndicatorResult.objects.filter(area=self.w.an_duong, indicator=self.indicator_6).exists())

    def test_without_the_setting_nothing_is_locked(self):
        services.submit(file=self.ready_file(), user=self.w.officer_an_duong)
        with self.settings(NTM_RESULT_LOCK=""):
            self.edit(self.indicator_6)
        self.assertEqual(IndicatorResult.objects.count(), 1)


class EmailTests(RecognitionCase):
    def take(self, call):
        with self.captureOnCommitCallbacks(execute=True):
            call()
        sent = list(mail.outbox)
        mail.outbox.clear()
        return sent

    def test_each_step_mails_the_people_who_act_next(self):
        w = self.w
        file = self.ready_file()
        sent = self.take(lambda: services.submit(file=file, user=w.officer_an_duong, link="http://x/cong-nhan/1/"))
        self.assertEqual([m.to for m in sent], [["tanyen@example.vn"]])
        self.assertIn("xã An Dương — hồ sơ công nhận năm 2019", sent[0].subject)
        self.assertIn("Nộp hồ sơ đề nghị thẩm tra", sent[0].subject)
        self.assertIn("Chờ huyện thẩm tra", sent[0].body)
        self.assertIn("http://x/cong-nhan/1/", sent[0].body)
        self.assertEqual(
            [m.to for m in self.take(lambda: services.verify(file=file, user=w.reviewer_tan_yen))],
            [["bacgiang@example.vn"]],
        )
        self.assertEqual(
            [m.to for m in self.take(lambda: services.appraise(file=file, user=w.reviewer_bac_giang))],
            [["quantri@example.vn"]],
        )
        decided = self.take(
            lambda: services.record_decision(
                file=file, user=w.admin, number="99/QĐ-UBND", date=datetime.date.today(), signer="Chủ tịch UBND tỉnh"
            )
        )
        self.assertEqual(sorted(m.to[0] for m in decided), ["anduong@example.vn", "tanyen@example.vn"])
        self.assertIn("99/QĐ-UBND", decided[0].body)

    def test_return_mails_the_officer_with_the_reasons(self):
        file = self.ready_file()
        services.submit(file=file, user=self.w.officer_an_duong)
        sent = self.take(
            lambda: services.return_file(
                file=file,
                user=self.w.reviewer_tan_yen,
                criteria_reasons={self.criteria[17]: "Chưa có điểm thu gom rác"},
            )
        )
        self.assertEqual([m.to for m in sent], [["anduong@example.vn"]])
        self.assertIn("Tiêu chí 17. Môi trường và an toàn thực phẩm: Chưa có điểm thu gom rác", sent[0].body)

    def test_refused_step_sends_nothing(self):
        file = self.ready_file()
        self.assertEqual(
            self.take(lambda: self.refused(lambda: services.verify(file=file, user=self.w.reviewer_tan_yen))), []
        )


class StageCountTests(RecognitionCase):
    def test_stage_counts_and_expected_month_for_the_dashboard(self):
        self.walk(self.ready_file(), Stage.VERIFIED)
        self.open(area=self.w.song_van, planned_appraise_month=datetime.date(2019, 12, 1))
        self.open(area=self.w.tang_tien)  # Việt Yên: not under Tân Yên
        counts = stage_counts(self.w.tan_yen, self.set_2016, YEAR)
        self.assertEqual(counts[Stage.VERIFIED], 1)
        self.assertEqual(counts[Stage.PREPARING], 1)
        self.assertEqual(sum(counts.values()), 2)
        self.assertEqual(stage_counts(self.w.bac_giang, self.set_2016, YEAR)[Stage.PREPARING], 2)
        song_van = RecognitionFile.objects.with_expected_month().get(area=self.w.song_van)
        self.assertEqual(song_van.expected_month, datetime.date(2019, 12, 1))
        self.assertEqual(song_van.expected_month_label, "tháng 12/2019")

    def test_role_changes_are_respected_at_once(self):
        file = self.walk(self.ready_file(), Stage.SUBMITTED)
        Role.objects.filter(user=self.w.reviewer_tan_yen).update(is_active=False)
        reviewer = type(self.w.reviewer_tan_yen).objects.get(pk=self.w.reviewer_tan_yen.pk)
        self.refused(lambda: services.verify(file=file, user=reviewer))
