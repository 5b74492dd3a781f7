"""Backups lose nothing: the dumpdata/loaddata round trip, and pg_dump/pg_restore on PostgreSQL.

The dumpdata round trip runs on whatever database the suite runs on (CI runs SQLite, then PostgreSQL). The
pg_dump/pg_restore test exists only when the suite runs on PostgreSQL: those are PostgreSQL's own tools and
there is nothing to dump on SQLite. Each CI run thus exercises the backup of its own backend; this is not a
skipped feature.
"""

import io
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection
from django.test import SimpleTestCase, TestCase

from criteria.models import IndicatorResult
from plans.models import PlanItem

ROOT = Path(__file__).resolve().parent.parent
# Rebuilt by `migrate`/`flush` themselves and referred to by natural keys in the dump; sessions are
# deliberately not backed up (users log in again after a restore).
EXCLUDED = ["contenttypes", "auth.permission", "sessions"]


def _columns(model):
    """The model's columns, without ids that carry no meaning: content types and permissions are recreated
    by flush/migrate with new ids, so they and every reference to them are compared by natural key; the rows
    of many-to-many tables are dumped as lists on their owner and get new ids when loaded."""
    names = []
    for field in model._meta.concrete_fields:
        target = field.related_model if field.is_relation else None
        if field.primary_key and _ids_are_rebuilt(model):
            continue
        if target is ContentType:
            names += [f"{field.name}__app_label", f"{field.name}__model"]
        elif target is Permission:
            names += [f"{field.name}__codename", f"{field.name}__content_type__app_label"]
        else:
            names.append(field.name)
    return names


def _ids_are_rebuilt(model):
    return model in (ContentType, Permission) or model._meta.auto_created


def snapshot():
    """Every row of every table (many-to-many tables included), in a comparable form."""
    rows = {}
    for model in apps.get_models(include_auto_created=True):
        if model._meta.proxy or not model._meta.managed:
            continue
        columns = _columns(model)
        ordering = columns if _ids_are_rebuilt(model) else ["pk"]
        rows[model._meta.label] = list(model._default_manager.order_by(*ordering).values_list(*columns))
    return rows


@pytest.mark.slow
class DumpdataRoundTripTests(TestCase):
    def test_dumpdata_then_loaddata_into_an_emptied_database_restores_every_row(self):
        call_command("seed_demo", stdout=io.StringIO())
        before = snapshot()
        with tempfile.TemporaryDirectory() as folder:
            # XML, not JSON: Django's JSON encoder cuts timestamps to milliseconds, which would change every
            # history entry's time and could reorder entries saved within the same millisecond.
            dump = Path(folder) / "ntm.xml"
            call_command(
                "dumpdata",
                format="xml",
                natural_foreign=True,
                exclude=EXCLUDED,
                indent=None,
                output=str(dump),
                verbosity=0,
            )
            if connection.vendor == "postgresql":
                # The test's transaction still holds deferred foreign-key checks, which TRUNCATE refuses.
                with connection.cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            call_command("flush", interactive=False, verbosity=0)
            self.assertEqual(IndicatorResult.objects.count(), 0)
            call_command("loaddata", str(dump), verbosity=0)
        after = snapshot()

        self.assertEqual({label: len(r) for label, r in after.items()}, {label: len(r) for label, r in before.items()})
        for label, rows in before.items():
            self.assertEqual(after[label], rows, label)
        # What matters most is really there: the demo's results, plans and their history.
        self.assertGreater(len(before["criteria.IndicatorResult"]), 0)
        self.assertGreater(len(before["criteria.HistoricalIndicatorResult"]), 0)
        self.assertGreater(len(before["plans.PlanItem"]), 0)
        self.assertGreater(len(before["plans.HistoricalPlanItem"]), 0)
        self.assertGreater(PlanItem.objects.count(), 0)


def _postgres_url(name):
    db = settings.DATABASES["default"]
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{credentials}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{name}"


def _admin_sql(statement, database="postgres"):
    import psycopg2

    admin = psycopg2.connect(_postgres_url(database))
    try:
        admin.autocommit = True
        admin.cursor().execute(statement)
    finally:
        admin.close()


def _table_fingerprints(url):
    """Row count and a digest of the whole content of every table."""
    import psycopg2

    with psycopg2.connect(url) as conn, conn.cursor() as cursor:
        cursor.execute("select tablename from pg_tables where schemaname = 'public' order by tablename")
        tables = [name for (name,) in cursor.fetchall()]
        prints = {}
        for table in tables:
            cursor.execute(
                f"select count(*), md5(coalesce(string_agg(t::text, chr(10) order by t::text), '')) from \"{table}\" t"
            )
            prints[table] = cursor.fetchone()
        return prints


if connection.vendor == "postgresql":

    @pytest.mark.postgres
    @pytest.mark.slow
    class PgDumpRestoreTests(SimpleTestCase):
        """scripts/backup.sh and scripts/restore.sh on a scratch copy of the demo world."""

        def setUp(self):
            suffix = uuid.uuid4().hex[:8]
            self.source, self.target = f"ntm_backup_src_{suffix}", f"ntm_backup_dst_{suffix}"
            for name in (self.source, self.target):
                _admin_sql(f'create database "{name}"')
                self.addCleanup(_admin_sql, f'drop database if exists "{name}" with (force)')

        def run_command(self, args, database, **env):
            environment = {k: v for k, v in os.environ.items() if k != "DATABASE_REPLICA_URL"}
            environment.update(DATABASE_URL=_postgres_url(database), ENVIRONMENT="development", **env)
            run = subprocess.run(args, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=600)
            self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
            return run.stdout

        def test_pg_dump_and_pg_restore_reproduce_every_table(self):
            self.run_command([sys.executable, "manage.py", "migrate", "-v0"], self.source)
            self.run_command([sys.executable, "manage.py", "seed_demo"], self.source)
            with tempfile.TemporaryDirectory() as folder:
                printed = self.run_command(["bash", "scripts/backup.sh", folder], self.source)
                dump = printed.strip().splitlines()[-1]
                self.assertTrue(dump.endswith(".dump"), printed)
                self.run_command(["bash", "scripts/restore.sh", dump], self.target)

            before = _table_fingerprints(_postgres_url(self.source))
            after = _table_fingerprints(_postgres_url(self.target))
            self.assertEqual(after, before)
            self.assertGreater(before["criteria_historicalindicatorresult"][0], 0)
            self.assertGreater(before["plans_planitem"][0], 0)

        def test_restore_refuses_a_database_that_holds_data(self):
            _admin_sql("create table live_data (id int)", self.source)
            with tempfile.TemporaryDirectory() as folder:
                dump = self.run_command(["bash", "scripts/backup.sh", folder], self.source).strip().splitlines()[-1]
                environment = {**os.environ, "DATABASE_URL": _postgres_url(self.source)}
                run = subprocess.run(
                    ["bash", "scripts/restore.sh", dump], cwd=ROOT, env=environment, capture_output=True, text=True
                )
            self.assertEqual(run.returncode, 1)
            self.assertIn("restore into an empty database", run.stderr)
