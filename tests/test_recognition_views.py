"""Recognition pages: scoping of each page and step, the forms, the district list, the demo file."""

import datetime
from pathlib import Path

import yaml
from django.conf import settings
from django.db import connection
from django.template import Context, Template
from django.test import TestCase, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from criteria.models import CriteriaSet, Indicator, IndicatorResult
from recognition import services
from recognition.models import Action, RecognitionFile, RecognitionStep, Stage
from tests.personas import build_world, make_area
from tests.test_recognition import YEAR, meet_every_criterion
from tools.demo.areas import load_demo_areas
from tools.demo.recognition import load_demo_recognition

QUERY = f"?nam={YEAR}&bo=xa_ntm_2016_2020"


@override_settings(NTM_RESULT_LOCK="recognition.services.check_unlocked")
class ViewCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.w = build_world()
        cls.set_2016 = CriteriaSet.objects.get(code="xa_ntm_2016_2020")
        cls.criteria = {c.number: c for c in cls.set_2016.criteria.all()}
        meet_every_criterion(cls.w.an_duong, cls.set_2016)

    def file_url(self, area=None):
        return reverse("recognition_file", args=[(area or self.w.an_duong).pk]) + QUERY

    def step_url(self, area=None):
        return reverse("recognition_step", args=[(area or self.w.an_duong).pk]) + QUERY

    def list_url(self, area=None):
        return reverse("recognition_list", args=[(area or self.w.tan_yen).pk]) + QUERY

    def as_user(self, user):
        self.client.force_login(user)
        return self.client

    def ready_file(self, stage=Stage.PREPARING):
        file = services.open_file(area=self.w.an_duong, criteria_set=self.set_2016, year=YEAR)
        services.update_details(file=file, user=self.w.officer_an_duong, satisfaction_rate=92)
        w = self.w
        if stage != Stage.PREPARING:
            services.submit(file=file, user=w.officer_an_duong)
        if stage in (Stage.VERIFIED, Stage.APPRAISED):
            services.verify(file=file, user=w.reviewer_tan_yen)
        if stage == Stage.APPRAISED:
            services.appraise(file=file, user=w.reviewer_bac_giang)
        return file

    def post_step(self, user, action, area=None, **data):
        return self.as_user(user).post(self.step_url(area), {"action": action, **data}, follow=True)


class FilePageTests(ViewCase):
    def test_officer_sees_the_stage_what_is_missing_and_the_submit_form(self):
        response = self.as_user(self.w.officer_an_duong).get(self.file_url())
        self.assertContains(response, 'data-testid="stage">Đang chuẩn bị<')
        self.assertContains(response, "Chưa ghi kết quả lấy ý kiến sự hài lòng của người dân")
        self.assertContains(response, 'data-action="submit"')
        self.assertContains(response, "Tôi đã xem danh sách còn thiếu ở trên và vẫn nộp hồ sơ")
        self.assertFalse(RecognitionFile.objects.exists())  # looking creates nothing

    def test_officer_submits_a_complete_file(self):
        self.ready_file()
        response = self.post_step(self.w.officer_an_duong, Action.SUBMIT, **{"submit-comment": "Xin thẩm tra"})
        self.assertContains(response, "Hồ sơ chuyển sang bước “Xã đã nộp hồ sơ”")
        self.assertContains(response, "Chờ huyện thẩm tra")
        self.assertContains(response, "Xin thẩm tra")
        self.assertEqual(RecognitionFile.objects.get().stage, Stage.SUBMITTED)

    def test_incomplete_submission_is_refused_unless_confirmed(self):
        response = self.post_step(self.w.officer_an_duong, Action.SUBMIT)
        self.assertContains(response, "Hồ sơ chưa đủ điều kiện để nộp: còn 1 mục chưa hoàn thành.")
        self.assertEqual(RecognitionFile.objects.get().stage, Stage.PREPARING)
        self.post_step(self.w.officer_an_duong, Action.SUBMIT, **{"submit-force": "on"})
        file = RecognitionFile.objects.get()
        self.assertEqual(file.stage, Stage.SUBMITTED)
        self.assertIn("lấy ý kiến sự hài lòng", file.steps.get().outstanding)

    def test_details_are_read_the_vietnamese_way(self):
        self.as_user(self.w.officer_an_duong).post(
            reverse("recognition_details", args=[self.w.an_duong.pk]) + QUERY,
            {
                "planned_verify_month": "tháng 10/2019",
                "planned_appraise_month": "11/2019",
                "satisfaction_rate": "92,5",
                "survey_date": "2019-09-20",
                "survey_note": "MTTQ xã lấy ý kiến",
            },
        )
        file = RecognitionFile.objects.get()
        self.assertEqual(file.planned_verify_month, datetime.date(2019, 10, 1))
        self.assertEqual(str(file.satisfaction_rate), "92.50")
        response = self.client.get(self.file_url())
        self.assertContains(response, "92,5 %")
        self.assertContains(response, "tháng 11/2019")

    def test_bad_month_is_shown_next_to_the_field(self):
        response = self.as_user(self.w.officer_an_duong).post(
            reverse("recognition_details", args=[self.w.an_duong.pk]) + QUERY, {"planned_verify_month": "13/2019"}
        )
        self.assertContains(response, "Tháng “13/2019” không có thật.", status_code=422)

    def test_district_reviewer_returns_naming_criteria_and_the_timeline_shows_them(self):
        self.ready_file(Stage.SUBMITTED)
        field = f"returned_by_district-reason_{self.criteria[17].pk}"
        response = self.post_step(
            self.w.reviewer_tan_yen, Action.RETURN_BY_DISTRICT, **{field: "Thiếu điểm thu gom rác"}
        )
        self.assertContains(response, "Tiêu chí 17: Thiếu điểm thu gom rác")
        file = RecognitionFile.objects.get()
        self.assertEqual([c.number for c in file.reopened.all()], [17])
        response = self.as_user(self.w.officer_an_duong).get(self.file_url())
        self.assertContains(response, "xã sửa tiêu chí 17 rồi nộp lại")

    def test_return_without_reason_keeps_the_form_with_its_error(self):
        self.ready_file(Stage.SUBMITTED)
        response = self.post_step(self.w.reviewer_tan_yen, Action.RETURN_BY_DISTRICT)
        self.assertContains(response, "Hãy nêu ít nhất một tiêu chí bị trả lại và lý do.", status_code=422)
        self.assertEqual(RecognitionFile.objects.get().stage, Stage.SUBMITTED)

    def test_stale_page_gets_a_clear_message_and_one_transition(self):
        file = self.ready_file(Stage.SUBMITTED)
        version = file.version
        self.post_step(self.w.reviewer_tan_yen, Action.VERIFY, **{"verify-version": version})
        response = self.post_step(self.w.reviewer_tan_yen, Action.VERIFY, **{"verify-version": version})
        self.assertContains(response, "Hồ sơ vừa được chuyển sang bước “Huyện đã thẩm tra”")
        self.assertEqual(RecognitionStep.objects.filter(action=Action.VERIFY).count(), 1)

    def test_admin_records_the_decision(self):
        self.ready_file(Stage.APPRAISED)
        response = self.post_step(
            self.w.admin,
            Action.RECORD_DECISION,
            **{
                "record_decision-number": "2345/QĐ-UBND",
                "record_decision-date": "2019-12-20",
                "record_decision-signer": "Chủ tịch UBND tỉnh Bắc Giang",
            },
        )
        self.assertContains(response, "Quyết định công nhận số 2345/QĐ-UBND ngày 20/12/2019")
        self.assertEqual(RecognitionFile.objects.get().stage, Stage.RECOGNISED)

    def test_page_query_count_does_not_grow_with_steps(self):
        file = self.ready_file(Stage.SUBMITTED)
        client = self.as_user(self.w.reviewer_tan_yen)

        def return_and_resubmit(number):
            services.return_file(file=file, user=self.w.reviewer_tan_yen, criteria_reasons={self.criteria[number]: "x"})
            services.submit(file=file, user=self.w.officer_an_duong, force=True)

        return_and_resubmit(6)
        with CaptureQueriesContext(connection) as few:
            client.get(self.file_url())
        return_and_resubmit(17)
        return_and_resubmit(2)
        with self.assertNumQueries(len(few.captured_queries)):
            client.get(self.file_url())


class ScopingTests(ViewCase):
    def test_file_page_for_own_sibling_and_parent_areas(self):
        cases = [
            (self.w.officer_an_duong, self.w.an_duong, 200),
            (self.w.officer_song_van, self.w.an_duong, 404),
            (self.w.officer_hung_my, self.w.an_duong, 404),
            (self.w.reviewer_tan_yen, self.w.an_duong, 200),
            (self.w.reviewer_tan_yen, self.w.tang_tien, 404),
            (self.w.reviewer_bac_giang, self.w.an_duong, 200),
            (self.w.viewer_tan_yen, self.w.an_duong, 200),
            (self.w.nobody, self.w.an_duong, 404),
            (self.w.reviewer_tan_yen, self.w.an_duong_village, 404),  # villages have no file
            (self.w.officer_an_duong, self.w.tan_yen, 404),
        ]
        for user, area, status in cases:
            with self.subTest(user=user.username, area=area.name):
                self.assertEqual(self.as_user(user).get(self.file_url(area)).status_code, status)

    def test_refused_steps_leave_the_database_unchanged(self):
        file = self.ready_file(Stage.SUBMITTED)
        for user, action, status in [
            (self.w.officer_song_van, Action.VERIFY, 404),  # cannot see An Dương at all
            (self.w.officer_an_duong, Action.VERIFY, 200),
            (self.w.viewer_tan_yen, Action.VERIFY, 200),
            (self.w.reviewer_bac_giang, Action.VERIFY, 200),
        ]:
            with self.subTest(user=user.username):
                response = self.as_user(user).post(self.step_url(), {"action": action})
                self.assertEqual(response.status_code, 404 if status == 404 else 302)
        self.assertEqual(RecognitionFile.objects.get(pk=file.pk).stage, Stage.SUBMITTED)
        self.assertEqual(RecognitionStep.objects.count(), 1)
        response = self.post_step(self.w.reviewer_bac_giang, Action.VERIFY)
        self.assertContains(response, "việc này do cán bộ thẩm tra của huyện thực hiện")

    def test_forms_are_shown_only_to_who_may_act(self):
        self.ready_file(Stage.VERIFIED)
        shown = {
            self.w.officer_an_duong: [],
            self.w.viewer_tan_yen: [],
            self.w.reviewer_tan_yen: [],
            self.w.reviewer_bac_giang: ["appraise", "returned_by_province"],
        }
        for user, actions in shown.items():
            with self.subTest(user=user.username):
                html = self.as_user(user).get(self.file_url()).content.decode()
                self.assertEqual([a for a in Action.values if f'data-action="{a}"' in html], actions)

    def test_tan_yen_reviewer_cannot_appraise_through_the_page(self):
        self.ready_file(Stage.VERIFIED)
        response = self.post_step(self.w.reviewer_tan_yen, Action.APPRAISE)
        self.assertContains(response, "việc này do cán bộ thẩm định của tỉnh thực hiện")
        self.assertEqual(RecognitionFile.objects.get().stage, Stage.VERIFIED)

    def test_list_page_for_own_sibling_and_parent_areas(self):
        cases = [
            (self.w.reviewer_tan_yen, self.w.tan_yen, 200),
            (self.w.reviewer_tan_yen, self.w.viet_yen, 404),
            (self.w.reviewer_bac_giang, self.w.tan_yen, 200),
            (self.w.reviewer_bac_giang, self.w.bac_giang, 200),
            (self.w.viewer_tan_yen, self.w.tan_yen, 200),
            (self.w.officer_an_duong, self.w.tan_yen, 404),
            (self.w.reviewer_tan_yen, self.w.an_duong, 404),  # a commune has no list
        ]
        for user, area, status in cases:
            with self.subTest(user=user.username, area=area.name):
                self.assertEqual(self.as_user(user).get(self.list_url(area)).status_code, status)


class ListPageTests(ViewCase):
    def test_who_is_waiting_on_whom(self):
        self.ready_file(Stage.VERIFIED)
        song_van = services.open_file(area=self.w.song_van, criteria_set=self.set_2016, year=YEAR)
        RecognitionFile.objects.filter(pk=song_van.pk).update(planned_appraise_month=datetime.date(2019, 12, 1))
        response = self.as_user(self.w.reviewer_tan_yen).get(self.list_url())
        self.assertContains(response, "Chờ tỉnh thẩm định")
        self.assertContains(response, "Chờ xã hoàn thiện hồ sơ")
        self.assertContains(response, "tháng 12/2019")
        self.assertContains(response, '<li data-stage="verified"><strong>1</strong>Huyện đã thẩm tra</li>', html=True)
        self.assertContains(response, "19/19")
        self.assertNotContains(response, "Tăng Tiến")

    def test_list_query_count_does_not_grow_with_communes(self):
        client = self.as_user(self.w.reviewer_tan_yen)
        self.ready_file(Stage.SUBMITTED)
        with CaptureQueriesContext(connection) as few:
            client.get(self.list_url())
        for i in range(3):
            commune = make_area(f"T-0799{i}", f"Xã thử {i}", "commune", self.w.tan_yen, "xã")
            file = services.open_file(area=commune, criteria_set=self.set_2016, year=YEAR)
            RecognitionFile.objects.filter(pk=file.pk).update(
                stage=Stage.PREPARING, last_action=Action.RETURN_BY_DISTRICT
            )
            file.reopened.set([self.criteria[6], self.criteria[17]])
        with self.assertNumQueries(len(few.captured_queries)):
            response = client.get(self.list_url())
        self.assertContains(response, "Chờ xã sửa các tiêu chí bị trả lại", count=3)


class WorkspaceLockTests(ViewCase):
    def test_locked_edit_shows_the_message_next_to_the_form(self):
        self.ready_file(Stage.SUBMITTED)
        indicator = Indicator.objects.in_set(self.set_2016).get(code="7")
        response = self.as_user(self.w.officer_an_duong).post(
            reverse("edit_indicator", args=[self.w.an_duong.pk, indicator.pk]) + f"?nam={YEAR}",
            {"boolean": "yes"},
        )
        self.assertContains(
            response, "Hồ sơ công nhận đã nộp: kết quả năm 2019 bị khóa cho đến khi được trả lại.", status_code=422
        )
        self.assertFalse(IndicatorResult.objects.exists())

    def test_lock_banner(self):
        template = Template("{% load recognition %}{% recognition_lock area criteria_set year %}")
        context = {"area": self.w.an_duong, "criteria_set": self.set_2016, "year": YEAR}
        self.assertEqual(template.render(Context(context)).strip(), "")
        self.ready_file(Stage.SUBMITTED)
        html = template.render(Context(context))
        self.assertIn("Hồ sơ công nhận đã nộp (Xã đã nộp hồ sơ): kết quả năm 2019 bị khóa", html)
        self.assertIn(self.file_url().replace("&", "&amp;"), html)

    def test_the_workspace_shows_the_banner_of_a_submitted_file_and_looks_for_none_where_there_is_none(self):
        url = reverse("workspace", args=[self.w.an_duong.pk]) + QUERY
        client = self.as_user(self.w.officer_an_duong)
        with CaptureQueriesContext(connection) as without_file:
            page = client.get(url)
        self.assertNotContains(page, "bị khóa")
        self.ready_file(Stage.SUBMITTED)
        with CaptureQueriesContext(connection) as with_file:
            page = client.get(url)
        self.assertContains(page, "Hồ sơ công nhận đã nộp (Xã đã nộp hồ sơ): kết quả năm 2019 bị khóa")
        # The tiles' query says whether a file exists; the banner reads the file only when there is one.
        reads = lambda ctx: [q for q in ctx if q["sql"].startswith('SELECT "recognition_recognitionfile"')]  # noqa: E731
        self.assertEqual(len(reads(without_file)), 0)
        self.assertEqual(len(reads(with_file)), 1)


class DemoTests(TestCase):
    def test_demo_files_load_once_with_their_stages_and_planned_months(self):
        demo = Path(settings.BASE_DIR) / "fixtures" / "demo"
        areas = load_demo_areas(yaml.safe_load((demo / "areas.yaml").read_text(encoding="utf-8"))["areas"])
        entries = yaml.safe_load((demo / "recognition.yaml").read_text(encoding="utf-8"))["recognition"]
        created = load_demo_recognition(entries, areas_by_code=areas)
        # Communes of the official map the demo does not list (`from_map`) wait for the map to be loaded.
        self.assertEqual(created, len([e for e in entries if e.get("year") and not e.get("from_map")]))
        an_duong = RecognitionFile.objects.with_expected_month().get(area=areas["07321"])
        self.assertEqual(an_duong.stage, Stage.PREPARING)
        self.assertEqual(an_duong.planned_verify_month, datetime.date(2019, 10, 1))
        self.assertEqual(an_duong.expected_month_label, "tháng 10/2019")
        self.assertEqual(RecognitionFile.objects.get(area=areas["07306"]).stage, Stage.RECOGNISED)
        # Việt Lập, one of seed 001's 14 recognised: recorded with the plan's year, no decision number invented.
        viet_lap = RecognitionFile.objects.get(area=areas["07354"])
        self.assertEqual((viet_lap.stage, viet_lap.year, viet_lap.decision_number), (Stage.RECOGNISED, 2019, ""))
        self.assertEqual(RecognitionFile.objects.get(area=areas["216"]).criteria_set.code, "huyen_ntm_2016_2020")
        history = RecognitionFile.history.count()
        self.assertEqual(load_demo_recognition(entries, areas_by_code=areas), 0)
        self.assertEqual(RecognitionFile.history.count(), history)
        self.assertEqual(RecognitionStep.objects.filter(action=Action.IMPORT).count(), 6)
