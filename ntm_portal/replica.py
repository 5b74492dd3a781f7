"""Dashboards and Biểu exports may read from a PostgreSQL read replica (DATABASE_REPLICA_URL).

Only GET requests to the URL names in settings.REPLICA_URL_NAMES read from the replica, and only the project's
own data: sessions, users and permissions always come from the primary, so that a login made a moment ago is
never lost to replication lag. Every write, and every other page, uses the primary. Without the setting
nothing changes.
"""

from contextvars import ContextVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS
from django.urls import Resolver404, resolve

REPLICA = "replica"
_reporting = ContextVar("ntm_reporting_request", default=False)


# Who may see what is always read from the primary, even during a reporting request: a role revoked a moment
# ago must stop working at once, whatever the replication lag. Users, groups and permissions, sessions, login
# attempts (django-axes) and the areas' roles.
PRIMARY_APPS = {"auth", "contenttypes", "sessions", "axes", "admin"}
PRIMARY_MODELS = {"areas.role"}


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        meta = model._meta
        if meta.app_label in PRIMARY_APPS or meta.label_lower in PRIMARY_MODELS:
            return DEFAULT_DB_ALIAS
        if _reporting.get() and meta.app_label in settings.REPLICA_APPS:
            return REPLICA
        return None

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        # Both aliases hold the same data: objects read from either may be related.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # The replica follows the primary through PostgreSQL replication, never through migrations.
        return db != REPLICA


class ReplicaReadsMiddleware:
    """Marks reporting GET requests so that ReplicaRouter sends their reads to the replica."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in ("GET", "HEAD") or not _is_reporting(request.path_info):
            return self.get_response(request)
        token = _reporting.set(True)
        try:
            return self.get_response(request)
        finally:
            _reporting.reset(token)


def _is_reporting(path):
    try:
        return resolve(path).url_name in settings.REPLICA_URL_NAMES
    except Resolver404:
        return False
