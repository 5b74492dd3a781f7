"""Daily pages stay cheap: each persona's home and the long lists read a bounded number of queries."""

from django.contrib.auth import get_user_model
from django.test import TestCase

from tests.personas import build_world

LIMIT = 20


class HomePagesTest(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.w = build_world()

    def visit(self, username, url):
        self.client.force_login(get_user_model().objects.get(username=username))
        with self.assertNumQueriesAtMost(LIMIT):
            response = self.client.get(url)
        self.assertEqual(response.status_code, 200)
        return response

    def assertNumQueriesAtMost(self, limit):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        test = self

        class Bounded(CaptureQueriesContext):
            def __exit__(self, *exc):
                super().__exit__(*exc)
                test.assertLessEqual(len(self.captured_queries), limit, [q["sql"] for q in self.captured_queries])

        return Bounded(connection)

    def test_officer_home_shows_the_commune_standing_within_the_limit(self):
        response = self.visit("canbo.anduong", "/")
        self.assertContains(response, "Nhập kết quả tiêu chí")
        self.assertContains(response, f"/ke-hoach/{self.w.an_duong.pk}/")

    def test_reviewer_home_lists_the_communes_within_the_limit(self):
        response = self.visit("thamtra.tanyen", "/")
        self.assertContains(response, "xã An Dương")
        self.assertContains(response, "xã Song Vân")

    def test_superuser_home_pages_the_provinces_of_todays_map(self):
        response = self.visit("quantri", "/")
        self.assertEqual(len(response.context["provinces"]["page"].object_list), 34)
        response = self.visit("quantri", "/?ban_do=truoc-sap-nhap&tim=Bắc")
        provinces = response.context["provinces"]["page"].object_list
        self.assertIn("tỉnh Bắc Giang", [str(a) for a in provinces])
        self.assertTrue(all(a.valid_until is not None for a in provinces))

    def test_overdue_list_within_the_limit(self):
        self.visit("thamtra.tanyen", f"/ke-hoach/{self.w.tan_yen.pk}/qua-han/")

    def test_audit_dates_are_typed_day_first(self):
        response = self.visit("quantri", "/kiem-tra/?tu=22/02/2024")
        self.assertContains(response, 'placeholder="dd/mm/yyyy"')
        self.assertContains(response, 'value="22/02/2024"')
        self.assertNotContains(response, 'type="date"')
