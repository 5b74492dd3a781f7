"""Production settings: `check --deploy` is clean and responses carry the security headers.

The production settings are read at import time, so they are exercised in a fresh Python process with the
environment a province server would have (ENVIRONMENT=production, SECURE_SSL=True, PostgreSQL).
"""

import json
import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

from django.db import connection
from django.test import SimpleTestCase, TestCase, override_settings
from django.urls import reverse

ROOT = Path(__file__).resolve().parent.parent
HOST = "ntm.bacgiang.gov.vn"


def production_env(**extra):
    # The browser tests set DJANGO_ALLOW_ASYNC_UNSAFE in this process; a production server never has it.
    dropped = {"DATABASE_URL", "DEBUG", "DATABASE_REPLICA_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(
        ENVIRONMENT="production",
        SECRET_KEY="k7#Qm2$vX9pL!r4Tz8@wB1nY6^cF3hJ0sD5gE-uA_iO+eR=tW" * 2,
        ALLOWED_HOSTS=HOST,
        SECURE_SSL="True",
        DATABASE_URL="postgres://ntm:mat-khau@127.0.0.1:5432/ntm",
        DJANGO_SETTINGS_MODULE="ntm_portal.settings",
        # No collectstatic in a test: the manifest storage would refuse to name files it has not collected.
        STATICFILES_BACKEND="django.contrib.staticfiles.storage.StaticFilesStorage",
    )
    env.update(extra)
    return env


# Fetches the login page as a browser behind the TLS proxy would, without touching the database.
RESPONSE_PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client
client = Client(HTTP_HOST=%(host)r)
plain = client.get("/dang-nhap/", HTTP_X_FORWARDED_PROTO="http")
page = client.get("/dang-nhap/", HTTP_X_FORWARDED_PROTO="https")
csrf = page.cookies[settings.CSRF_COOKIE_NAME]
print(json.dumps({
    "plain_status": plain.status_code, "plain_location": plain.get("Location", ""),
    "status": page.status_code, "headers": dict(page.headers),
    "csrf_cookie_secure": bool(csrf["secure"]), "session_cookie_secure": settings.SESSION_COOKIE_SECURE,
    "session_cookie_httponly": settings.SESSION_COOKIE_HTTPONLY, "debug": settings.DEBUG,
    "csrf_trusted_origins": settings.CSRF_TRUSTED_ORIGINS,
}))
"""


class ProductionSettingsTests(SimpleTestCase):
    def test_check_deploy_reports_nothing(self):
        run = subprocess.run(
            [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
            cwd=ROOT,
            env=production_env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        output = run.stdout + run.stderr
        self.assertEqual(run.returncode, 0, output)
        self.assertIn("System check identified no issues (0 silenced).", output)

    def test_documented_production_settings_keep_connections_and_check_them_before_reuse(self):
        # docs/DEPLOY.md sets CONN_MAX_AGE=60: each gunicorn worker keeps its PostgreSQL connection between
        # requests, and a connection PostgreSQL dropped (a restart) is replaced instead of failing a request.
        probe = (
            "import django; django.setup(); from django.conf import settings; d = settings.DATABASES['default'];"
            "print(d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'])"
        )
        run = subprocess.run(
            [sys.executable, "-c", probe],
            cwd=ROOT,
            env=production_env(CONN_MAX_AGE="60"),
            capture_output=True,
            text=True,
            timeout=120,
        )
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertEqual(run.stdout.split()[-2:], ["60", "True"])

    def test_postgres_sessions_start_no_parallel_workers_unless_told_to(self):
        # A parallel plan's workers cost milliseconds to start on every dashboard query (docs/PERFORMANCE.md);
        # options already in DATABASE_URL are kept.
        probe = (
            "import django; django.setup(); from django.conf import settings;"
            "print(repr(settings.DATABASES['default']['OPTIONS']['options']))"
        )
        seen = {}
        for workers in ("", "2"):
            run = subprocess.run(
                [sys.executable, "-c", probe],
                cwd=ROOT,
                env=production_env(
                    DATABASE_URL="postgres://ntm:mat-khau@127.0.0.1:5432/ntm?options=-c%20statement_timeout%3D30000",
                    **({"PG_PARALLEL_WORKERS": workers} if workers else {}),
                ),
                capture_output=True,
                text=True,
                timeout=120,
            )
            self.assertEqual(run.returncode, 0, run.stderr)
            seen[workers] = run.stdout.strip().splitlines()[-1]
        self.assertEqual(seen[""], repr("-c statement_timeout=30000 -c max_parallel_workers_per_gather=0"))
        self.assertEqual(seen["2"], repr("-c statement_timeout=30000 -c max_parallel_workers_per_gather=2"))

    def test_production_refuses_to_start_without_secret_key(self):
        env = production_env()
        del env["SECRET_KEY"]
        run = subprocess.run(
            [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        self.assertNotEqual(run.returncode, 0)
        self.assertIn("SECRET_KEY", run.stderr)

    def test_login_page_is_served_with_the_security_headers(self):
        run = subprocess.run(
            [sys.executable, "-c", RESPONSE_PROBE % {"host": HOST}],
            cwd=ROOT,
            env=production_env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        self.assertEqual(run.returncode, 0, run.stderr)
        seen = json.loads(run.stdout.strip().splitlines()[-1])
        self.assertEqual((seen["plain_status"], seen["plain_location"]), (301, f"https://{HOST}/dang-nhap/"))
        self.assertEqual(seen["status"], 200)
        headers = seen["headers"]
        self.assertEqual(headers["Strict-Transport-Security"], "max-age=31536000; includeSubDomains; preload")
        self.assertEqual(headers["X-Content-Type-Options"], "nosniff")
        self.assertEqual(headers["X-Frame-Options"], "DENY")
        self.assertEqual(headers["Referrer-Policy"], "same-origin")
        csp = headers["Content-Security-Policy"]
        self.assertIn("script-src 'self';", csp)
        self.assertIn("frame-ancestors 'none'", csp)
        self.assertIn("object-src 'none'", csp)
        self.assertTrue(seen["csrf_cookie_secure"])
        self.assertTrue(seen["session_cookie_secure"])
        self.assertTrue(seen["session_cookie_httponly"])
        self.assertFalse(seen["debug"])
        self.assertEqual(seen["csrf_trusted_origins"], [f"https://{HOST}"])


if connection.vendor == "postgresql":

    class PostgresSessionTests(TestCase):
        def test_the_portal_s_connection_runs_without_parallel_workers(self):
            with connection.cursor() as cursor:
                cursor.execute("SHOW max_parallel_workers_per_gather")
                self.assertEqual(cursor.fetchone()[0], "0")


class ContentSecurityPolicyTests(TestCase):
    def test_every_page_carries_the_policy(self):
        response = self.client.get(reverse("login"))
        self.assertEqual(
            response.headers["Content-Security-Policy"],
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
            "frame-ancestors 'none'",
        )

    def test_templates_hold_no_inline_script(self):
        # script-src 'self' blocks inline scripts, on…= handlers and hx-on (htmx evaluates those): a template
        # adding one would break silently in the browser.
        offenders = []
        for template in (ROOT / "templates").rglob("*.html"):
            text = template.read_text(encoding="utf-8")
            for number, line in enumerate(text.splitlines(), start=1):
                lowered = line.lower()
                if ("<script" in lowered and "src=" not in lowered) or _has_event_handler(lowered):
                    offenders.append(f"{template.relative_to(ROOT)}:{number}")
                if "javascript:" in lowered or "hx-on" in lowered:
                    offenders.append(f"{template.relative_to(ROOT)}:{number}")
        self.assertEqual(offenders, [])

    @override_settings(CONTENT_SECURITY_POLICY={})
    def test_an_empty_policy_sends_no_header(self):
        response = self.client.get(reverse("login"))
        self.assertNotIn("Content-Security-Policy", response.headers)


def _has_event_handler(line):
    return re.search(r"\son[a-z]+\s*=", line) is not None


class ReplicaRoutingTests(SimpleTestCase):
    """With DATABASE_REPLICA_URL, only reporting GETs read the portal's own tables from the replica."""

    def routed(self, method, path):
        from django.contrib.auth.models import User
        from django.test import RequestFactory

        from criteria.models import IndicatorResult
        from ntm_portal.replica import ReplicaReadsMiddleware, ReplicaRouter

        router, seen = ReplicaRouter(), {}

        def view(request):
            seen["result"] = router.db_for_read(IndicatorResult)
            seen["user"] = router.db_for_read(User)
            return None

        ReplicaReadsMiddleware(view)(RequestFactory().generic(method, path))
        seen["after"] = router.db_for_read(IndicatorResult)
        return seen

    def test_dashboards_and_exports_read_results_from_the_replica_but_users_from_the_primary(self):
        for path in ("/bang-dieu-khien/5/", "/bang-dieu-khien/", "/xuat-bieu/5/"):
            with self.subTest(path=path):
                self.assertEqual(self.routed("GET", path), {"result": "replica", "user": "default", "after": None})

    def test_other_pages_and_every_post_use_the_primary(self):
        for method, path in [("GET", "/khong-gian/5/"), ("POST", "/bang-dieu-khien/5/"), ("GET", "/khong-co/")]:
            with self.subTest(method=method, path=path):
                self.assertEqual(self.routed(method, path), {"result": None, "user": "default", "after": None})

    def test_writes_and_migrations_stay_on_the_primary(self):
        from criteria.models import IndicatorResult
        from ntm_portal.replica import ReplicaRouter

        router = ReplicaRouter()
        self.assertEqual(router.db_for_write(IndicatorResult), "default")
        self.assertFalse(router.allow_migrate("replica", "criteria"))
        self.assertTrue(router.allow_migrate("default", "criteria"))


class ServerTimingTests(TestCase):
    """What a page cost the server, for whoever measures it under load (loadtest/run.sh turns SERVER_TIMING on)."""

    def test_off_by_default_a_response_does_not_tell_its_timing(self):
        self.assertNotIn("Server-Timing", self.client.get(reverse("login")).headers)

    def test_on_each_response_carries_its_cpu_time_which_the_load_tests_summary_reads_from_the_access_log(self):
        from django.conf import settings

        from loadtest.summary import cpu_by_page

        with override_settings(MIDDLEWARE=["ntm_portal.timing.ServerTimingMiddleware", *settings.MIDDLEWARE]):
            header = self.client.get(reverse("login")).headers["Server-Timing"]
        self.assertRegex(header, r"^cpu;dur=\d+\.\d, app;dur=\d+\.\d$")
        # One line as gunicorn writes it with deploy/gunicorn.conf.py's format.
        log_format = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))["access_log_format"]
        line = log_format % {
            "h": "127.0.0.1", "l": "-", "u": "-", "t": "[30/Nov/2026:14:00:00 +0000]",
            "r": "GET /khong-gian/98/?nam=2024&bo=xa_ntm_2021_2025 HTTP/1.1", "s": "200", "b": "51234",
            "f": "-", "a": "python-requests/2.32", "M": "41", "{server-timing}o": "cpu;dur=23.4, app;dur=40.2",
        }  # fmt: skip
        self.assertEqual(cpu_by_page([line]), {"/khong-gian/[xã]/": [23.4]})
