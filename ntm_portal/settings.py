"""Settings for NTM Portal, read from the environment (see .env.example)."""

import datetime
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env(
    DEBUG=(bool, False),
    ALLOWED_HOSTS=(list, ["127.0.0.1", "localhost"]),
    CSRF_TRUSTED_ORIGINS=(list, []),
    EVIDENCE_MAX_MB=(int, 20),
    NTM_EXPORT_WORKER=(bool, False),
    NTM_INLINE_EXPORT_MAX_COMMUNES=(int, 500),
    NTM_INLINE_JOB_MAX_COMMUNES=(int, 10_000),
    NTM_EXPORT_STALL_MINUTES=(int, 5),
    SERVER_TIMING=(bool, False),
)
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env("DEBUG")
# "production" makes SECRET_KEY mandatory and serves collected, compressed static files.
ENVIRONMENT = env("ENVIRONMENT", default="development")
PRODUCTION = ENVIRONMENT == "production"
SECRET_KEY = env("SECRET_KEY") if PRODUCTION else env("SECRET_KEY", default="django-insecure-development-only")
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured(
        "DEBUG=True is refused with ENVIRONMENT=production: it shows settings and stack traces to anyone. "
        "Remove DEBUG from the environment (or .env) or set DEBUG=False."
    )
ALLOWED_HOSTS = env("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "simple_history",
    "import_export",
    "django_htmx",
    "areas",
    "criteria",
    "assignments",
    "plans",
    "dashboards",
    "reports",
    "imports",
    "recognition",
    "audit",
    # Developer and demo tooling (seed_demo, generate_scale, bench), outside the product code.
    "tools",
    "axes",
    # The project package as an app: Vietnamese format tags and the one-time form tokens (ntm_portal/apps.py).
    "ntm_portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "ntm_portal.csp.ContentSecurityPolicyMiddleware",
    # django-axes wants to be last: it turns a lockout into the page audit.views.locked_out renders.
    "axes.middleware.AxesMiddleware",
]

# Outermost, so that it counts the other middleware too (ntm_portal/timing.py).
if env("SERVER_TIMING"):
    MIDDLEWARE.insert(0, "ntm_portal.timing.ServerTimingMiddleware")

ROOT_URLCONF = "ntm_portal.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "areas.context_processors.roles",
            ],
        },
    },
]

WSGI_APPLICATION = "ntm_portal.wsgi.application"

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
# A persistent connection is checked before a request reuses it, so a restarted PostgreSQL costs no failed request.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = DATABASES["default"]["CONN_MAX_AGE"] != 0
# PostgreSQL runs no parallel workers for this portal's statements unless told to: its queries read a few thousand
# rows through indexes, and a parallel plan's workers cost 2–5 ms each to start (the province dashboard spent 28 of
# its 103 ms starting them at national scale) and take the cores the web workers need (docs/PERFORMANCE.md).
PG_PARALLEL_WORKERS = env.int("PG_PARALLEL_WORKERS", default=0)


def _postgres_session(database):
    if "postgresql" in database["ENGINE"]:
        options = database.setdefault("OPTIONS", {})
        setting = f"-c max_parallel_workers_per_gather={PG_PARALLEL_WORKERS}"
        options["options"] = f"{options['options']} {setting}" if options.get("options") else setting


_postgres_session(DATABASES["default"])
# Optional PostgreSQL read replica: dashboards and Biểu exports read from it (see ntm_portal/replica.py).
if env("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = env.db("DATABASE_REPLICA_URL")
    _postgres_session(DATABASES["replica"])
    DATABASES["replica"]["CONN_MAX_AGE"] = DATABASES["default"]["CONN_MAX_AGE"]
    DATABASES["replica"]["CONN_HEALTH_CHECKS"] = DATABASES["default"]["CONN_HEALTH_CHECKS"]
    # Tests have no replication: the replica alias reads the test database itself.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["ntm_portal.replica.ReplicaRouter"]
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware"),
        "ntm_portal.replica.ReplicaReadsMiddleware",
    )
REPLICA_URL_NAMES = {"dashboard", "dashboard_national", "export_bieu"}
REPLICA_APPS = {"areas", "criteria", "assignments", "plans", "reports"}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Argon2id first (ntm_portal/accounts.py says why); the others only to read passwords stored before it.
PASSWORD_HASHERS = [
    "ntm_portal.accounts.Argon2idPasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", "Tiếng Việt")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True
USE_THOUSAND_SEPARATOR = True
# Django's own Vietnamese formats leave out digit grouping; ours add it (1.276; 8.321,7).
FORMAT_MODULE_PATH = ["ntm_portal.formats"]

STATIC_URL = "static/"
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env(
            "STATICFILES_BACKEND",
            default="whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage",
        )
    },
}
# Outside production whitenoise serves straight from the app folders, no collectstatic needed.
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "media")))
MEDIA_URL = "media/"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="ntm-portal@localhost")

# The workspace shows who leads each criterion; named here so that criteria does not import assignments.
NTM_CRITERION_OWNERS = "assignments.models.criterion_owners"

# Biểu exports listing more communes than this become background jobs (ExportJob). With NTM_EXPORT_WORKER a
# `manage.py run_export_worker` process writes them; without it the progress page writes them in its request.
NTM_EXPORT_WORKER = env("NTM_EXPORT_WORKER")
NTM_INLINE_EXPORT_MAX_COMMUNES = env("NTM_INLINE_EXPORT_MAX_COMMUNES")
# Without a worker, a job listing more communes than this is not written inside a web request (gunicorn's
# timeout would kill it): its page asks for the worker. A running job silent this long is queued again.
NTM_INLINE_JOB_MAX_COMMUNES = env("NTM_INLINE_JOB_MAX_COMMUNES")
NTM_EXPORT_STALL_MINUTES = env("NTM_EXPORT_STALL_MINUTES")

# A Biểu upload (Nhập biểu) is refused, before it is read further, above this many rows or cells of its sheet.
# A commune's Biểu 01 has about a hundred rows; a district's Biểu 03 a few thousand.
NTM_IMPORT_MAX_ROWS = env.int("NTM_IMPORT_MAX_ROWS", default=10000)
NTM_IMPORT_MAX_CELLS = env.int("NTM_IMPORT_MAX_CELLS", default=300000)

# The years that hold data (criteria.scope.data_years) include the plans' years; named here so that criteria does
# not import plans.
NTM_PLAN_YEARS = "plans.models.plan_years"
# A commune's group changed in the admin of areas: its results are judged again by criteria.
NTM_RESTATE_GROUPS = "criteria.groupings.restate_groups"

# Results of a submitted recognition file are locked; named here so that criteria does not import recognition.
NTM_RESULT_LOCK = "recognition.services.check_unlocked"
# Whether a file exists that could lock a write, as a subquery: the inline save asks it inside its row lock, the
# workspace with its tiles (the lock banner's query runs only where there is a file).
NTM_RESULT_LOCK_PROBE = "recognition.services.filed_probe"
# Of an import's many writes, the few a file may lock (one query), each then checked as above.
NTM_RESULT_LOCK_MANY = "recognition.services.writes_to_check"
# The workspace's banner saying so (HTML), named for the same reason.
NTM_RESULT_LOCK_BANNER = "recognition.views.lock_banner"

# Admin CSV/XLSX exports: officers' text starting with = + - @ stays text, never a live formula (see the module).
from ntm_portal.spreadsheets import SafeCSV, SafeXLSX  # noqa: E402  (import-export wants the classes)

EXPORT_FORMATS = [SafeCSV, SafeXLSX]
# Admin imports: the same two, each reading a file as the portal's other imports do (checked, then python-calamine).
IMPORT_FORMATS = [SafeCSV, SafeXLSX]
# The most rows one admin export writes (about 15 s of the request); above it the administrator filters first.
NTM_ADMIN_EXPORT_MAX_ROWS = env.int("NTM_ADMIN_EXPORT_MAX_ROWS", default=100_000)

# Login attempts: five wrong passwords for one username from one address lock it for 15 minutes.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = datetime.timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "audit.views.locked_out"
# Behind nginx or a load balancer: AXES_PROXY_COUNT is the number of proxies in front of gunicorn (1 for the
# nginx of deploy/). Each appends the address it was reached from to X-Forwarded-For, and the last one is
# REMOTE_ADDR, so django-ipware (which counts only the proxies listed in the header) is given one less. A header
# of any other length (a client sending its own X-Forwarded-For) falls back to REMOTE_ADDR, never to the
# address the client wrote.
_proxies = env.int("AXES_PROXY_COUNT", default=0)
AXES_IPWARE_PROXY_COUNT = _proxies - 1 if _proxies > 0 else None
AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if _proxies else ["REMOTE_ADDR"]

# Evidence uploads (hồ sơ minh chứng): the limit users see in the error message.
EVIDENCE_MAX_BYTES = env("EVIDENCE_MAX_MB") * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# Production is served over HTTPS unless SECURE_SSL=False says it is a plain-HTTP intranet.
SECURE_SSL = env.bool("SECURE_SSL", default=PRODUCTION)
SESSION_COOKIE_SECURE = SECURE_SSL
CSRF_COOKIE_SECURE = SECURE_SSL
SECURE_SSL_REDIRECT = SECURE_SSL
SECURE_HSTS_SECONDS = 31536000 if SECURE_SSL else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_SSL
SECURE_HSTS_PRELOAD = SECURE_SSL
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if SECURE_SSL else None
SECURE_CONTENT_TYPE_NOSNIFF = True
# A refused form (missing or stale CSRF token) gets the portal's Vietnamese page, not Django's English one.
CSRF_FAILURE_VIEW = "ntm_portal.errors.csrf_failure"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Behind HTTPS every allowed host is a trusted origin for forms, unless CSRF_TRUSTED_ORIGINS names them.
if SECURE_SSL and not CSRF_TRUSTED_ORIGINS:
    CSRF_TRUSTED_ORIGINS = [f"https://*{h}" if h.startswith(".") else f"https://{h}" for h in ALLOWED_HOSTS if h != "*"]

# Templates load scripts only from our static files (htmx, workspace.js). Styles stay 'unsafe-inline': the
# templates use <style> blocks and style attributes, and htmx adds its indicator <style>.
CONTENT_SECURITY_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="WARNING")},
}
