"""The audit page (/kiem-tra/): who changed what, scoped and filtered; and login attempts limited."""

import datetime
import re
from decimal import Decimal

from axes.models import AccessAttempt
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from areas.models import Role, RoleKind
from criteria import services as criteria_services
from criteria.models import CriteriaSet, Indicator, IndicatorResult
from plans import services as plan_services
from plans.models import FundingSource, Plan, PlanItem
from tests.personas import PASSWORD, build_world, make_user

YEAR = 2024


def record(w, area, user, value, indicator):
    current = IndicatorResult.objects.filter(area=area, indicator=indicator, year=YEAR).first()
    return criteria_services.record_indicator_result(
        area=area,
        indicator=indicator,
        year=YEAR,
        user=user,
        value=Decimal(value),
        expected_version=current.version if current else 0,
    )


def rows_of(response):
    """The text of each table row of the audit page, tags stripped."""
    html = response.content.decode()
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in body.split("<tr>")[1:]]


class AuditViewTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.w = w = build_world()
        cls.admin_tan_yen = make_user("quantri.tanyen", w.tan_yen, RoleKind.ADMIN, first_name="Hà", last_name="Phạm")
        criteria_set = CriteriaSet.objects.national().for_level("commune").covering(YEAR).get(tier="standard")
        cls.indicator = Indicator.objects.in_set(criteria_set).get(code="17.8")
        record(w, w.an_duong, w.officer_an_duong, "90.3", cls.indicator)
        record(w, w.an_duong, w.officer_an_duong, "95", cls.indicator)
        record(w, w.hung_my, w.officer_hung_my, "80", cls.indicator)
        cls.plan = plan_services.create_plan(
            user=w.officer_an_duong, area=w.an_duong, data=plan_services.PlanData(title="Kế hoạch xã 2024", year=YEAR)
        )
        cls.item = plan_services.add_item(
            user=w.officer_an_duong,
            plan=cls.plan,
            data=plan_services.ItemData(title="Bê tông hóa đường thôn Đồng Lạng"),
            funding=[plan_services.FundingInput(FundingSource.objects.first(), "1.250,5")],
        )

    def get(self, user, **params):
        self.client.force_login(user)
        return self.client.get(reverse("audit"), params)

    def test_superuser_sees_who_changed_what_newest_first_with_before_and_after(self):
        response = self.get(self.w.admin, loai="indicatorresult")
        self.assertEqual(response.status_code, 200)
        rows = rows_of(response)
        self.assertEqual(len(rows), 3)
        self.assertIn("Hùng Mỹ", rows[0])
        self.assertIn("Tạo mới", rows[0])
        self.assertIn("Nguyễn Thị Lan", rows[1])
        self.assertIn("An Dương — chỉ tiêu 17.8 — năm 2024", rows[1])
        self.assertIn("~ Sửa", rows[1])
        self.assertIn("Giá trị : 90,3 → 95", rows[1])
        self.assertIn("+ Tạo mới", rows[2])

    def test_area_administrator_sees_only_their_area_and_below(self):
        response = self.get(self.admin_tan_yen)
        self.assertEqual(response.status_code, 200)
        text = " ".join(rows_of(response))
        self.assertIn("An Dương", text)
        self.assertIn("Bê tông hóa đường thôn Đồng Lạng", text)
        self.assertNotIn("Hùng Mỹ", text)

    def test_area_filter_outside_the_administrators_reach_is_not_found(self):
        self.assertEqual(self.get(self.admin_tan_yen, dia_ban=self.w.hung_my.pk).status_code, 404)
        self.assertEqual(self.get(self.admin_tan_yen, dia_ban=self.w.bac_giang.pk).status_code, 404)

    def test_superuser_filters_by_area(self):
        text = " ".join(rows_of(self.get(self.w.admin, dia_ban=self.w.chiem_hoa.pk)))
        self.assertIn("Hùng Mỹ", text)
        self.assertNotIn("An Dương", text)

    def test_filters_by_user(self):
        rows = rows_of(self.get(self.w.admin, nguoi="canbo.hungmy"))
        self.assertTrue(rows)
        self.assertTrue(all("Hùng Mỹ" in row for row in rows))

    def test_filters_by_date_range(self):
        today = timezone.localdate()
        self.assertTrue(rows_of(self.get(self.w.admin, tu=today.isoformat(), den=today.isoformat())))
        tomorrow = today + datetime.timedelta(days=1)
        self.assertContains(self.get(self.w.admin, tu=tomorrow.isoformat()), "Không có thay đổi nào khớp")
        yesterday = today - datetime.timedelta(days=1)
        self.assertContains(self.get(self.w.admin, den=yesterday.strftime("%d/%m/%Y")), "Không có thay đổi nào khớp")

    def test_filters_by_kind_of_data(self):
        rows = rows_of(self.get(self.w.admin, loai="fundingline"))
        self.assertEqual(len(rows), 1)
        self.assertIn("Bê tông hóa đường thôn Đồng Lạng", rows[0])

    def test_a_deleted_item_stays_in_the_log_of_its_area(self):
        item = PlanItem.objects.get(pk=self.item.pk)
        item._history_user = self.w.officer_an_duong
        item.delete()
        rows = rows_of(self.get(self.admin_tan_yen, loai="planitem"))
        self.assertIn("- Xóa", rows[0])
        self.assertIn("Bê tông hóa đường thôn Đồng Lạng", rows[0])

    def test_officers_reviewers_and_viewers_may_not_open_it(self):
        for user in (self.w.officer_an_duong, self.w.reviewer_tan_yen, self.w.viewer_tan_yen, self.w.nobody):
            with self.subTest(user=user.username):
                self.assertEqual(self.get(user).status_code, 404)
        self.client.logout()
        response = self.client.get(reverse("audit"))
        self.assertRedirects(response, reverse("login") + "?next=" + reverse("audit"), fetch_redirect_response=False)

    def test_pages_of_fifty(self):
        for n in range(60):
            record(self.w, self.w.song_van, self.w.officer_song_van, str(n), self.indicator)
        first = self.get(self.w.admin, loai="indicatorresult")
        self.assertEqual(len(rows_of(first)), 50)
        self.assertContains(first, "Trang 1/2")
        second = self.get(self.w.admin, loai="indicatorresult", trang=2)
        self.assertEqual(len(rows_of(second)), 13)
        self.assertIn("An Dương", rows_of(second)[-1])

    def test_query_count_does_not_grow_with_the_changes_on_the_page(self):
        def count_for(n):
            Plan.history.all().delete()
            for i in range(n):
                plan = Plan.objects.get(pk=self.plan.pk)
                plan_services.update_plan(
                    user=self.w.officer_an_duong,
                    plan=plan,
                    data=plan_services.PlanData(title=f"Kế hoạch xã 2024 (bản {i})", year=YEAR),
                )
            self.client.force_login(self.w.admin)
            with CaptureQueriesContext(connection) as queries:
                response = self.client.get(reverse("audit"), {"loai": "plan"})
            self.assertEqual(len(rows_of(response)), min(n, 50))
            return len(queries)

        few = count_for(5)
        many = count_for(60)
        self.assertEqual(few, many)
        self.assertLessEqual(many, 10)


class LoginLimitTests(TestCase):
    """django-axes: five wrong passwords for one username from one address lock it for 15 minutes."""

    @classmethod
    def setUpTestData(cls):
        cls.w = build_world()

    def attempt(self, username, password, ip="10.0.0.7"):
        return self.client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip)

    def test_four_wrong_passwords_then_the_right_one_logs_in(self):
        for _ in range(4):
            self.assertContains(self.attempt("canbo.anduong", "sai"), "không đúng")
        response = self.attempt("canbo.anduong", PASSWORD)
        self.assertRedirects(response, reverse("home"), fetch_redirect_response=False)

    def test_five_wrong_passwords_lock_the_username_even_with_the_right_password(self):
        for _ in range(4):
            self.attempt("canbo.anduong", "sai")
        locked = self.attempt("canbo.anduong", "sai")
        self.assertContains(locked, "Tạm khóa đăng nhập", status_code=429)
        self.assertContains(locked, "thử lại sau 15 phút", status_code=429)
        again = self.attempt("canbo.anduong", PASSWORD)
        self.assertEqual(again.status_code, 429)
        self.assertNotIn("_auth_user_id", self.client.session)

    def test_the_lock_is_per_username_and_address(self):
        for _ in range(5):
            self.attempt("canbo.anduong", "sai")
        other_user = self.attempt("canbo.songvan", PASSWORD)
        self.assertRedirects(other_user, reverse("home"), fetch_redirect_response=False)
        self.client.logout()
        other_address = self.attempt("canbo.anduong", PASSWORD, ip="10.0.0.8")
        self.assertRedirects(other_address, reverse("home"), fetch_redirect_response=False)

    def test_the_lock_ends_after_fifteen_minutes(self):
        for _ in range(5):
            self.attempt("canbo.anduong", "sai")
        AccessAttempt.objects.update(attempt_time=timezone.now() - datetime.timedelta(minutes=16))
        response = self.attempt("canbo.anduong", PASSWORD)
        self.assertRedirects(response, reverse("home"), fetch_redirect_response=False)

    def test_the_admin_login_is_limited_too(self):
        for _ in range(5):
            self.client.post(reverse("admin:login"), {"username": "quantri", "password": "sai"}, REMOTE_ADDR="10.0.0.9")
        response = self.client.post(
            reverse("admin:login"), {"username": "quantri", "password": PASSWORD}, REMOTE_ADDR="10.0.0.9"
        )
        self.assertEqual(response.status_code, 429)
        self.assertNotIn("_auth_user_id", self.client.session)


class MixedRolesAuditTests(TestCase):
    """An administrator of An Dương who is also a viewer of Tân Yên audits An Dương only."""

    @classmethod
    def setUpTestData(cls):
        cls.w = w = build_world()
        cls.mixed = make_user("quantri.anduong", w.an_duong, RoleKind.ADMIN)
        Role.objects.create(user=cls.mixed, area=w.tan_yen, kind=RoleKind.VIEWER)
        criteria_set = CriteriaSet.objects.national().for_level("commune").covering(YEAR).get(tier="standard")
        indicator = Indicator.objects.in_set(criteria_set).get(code="17.8")
        record(w, w.an_duong, w.officer_an_duong, "90.3", indicator)
        record(w, w.song_van, w.officer_song_van, "70", indicator)

    def test_sees_the_changes_of_the_commune_they_administer_not_those_they_only_view(self):
        self.client.force_login(self.mixed)
        text = " ".join(rows_of(self.client.get(reverse("audit"))))
        self.assertIn("An Dương", text)
        self.assertNotIn("Song Vân", text)
        self.assertEqual(self.client.get(reverse("audit"), {"dia_ban": self.w.song_van.pk}).status_code, 404)
        self.assertEqual(self.client.get(reverse("audit"), {"dia_ban": self.w.tan_yen.pk}).status_code, 404)
