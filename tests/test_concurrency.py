"""Fifty people saving at the same moment on PostgreSQL: nothing lost, nothing overwritten unseen.

These tests exist only when the suite runs on PostgreSQL (CI runs it on SQLite, then on PostgreSQL): SQLite
locks the whole database for every write, so it has no concurrent writers to test. This is the PostgreSQL
run's own test, not a skipped feature.
"""

import threading
import time
from collections import Counter
from decimal import Decimal

import pytest
from django.db import close_old_connections, connection, transaction
from django.test import TransactionTestCase

from criteria import services as criteria_services
from criteria.models import CriteriaSet, CriterionResult, Indicator, IndicatorKind, IndicatorResult
from plans import services as plan_services
from plans.models import PlanItem
from tests.personas import build_world

YEAR = 2024
THREADS = 50


def run_at_once(jobs):
    """Run every job in its own thread, all released together; returns each job's outcome in order:
    ("ok", value), or ("stale", error) for the expected conflict, or ("error", exception)."""
    barrier = threading.Barrier(len(jobs))
    outcomes = [None] * len(jobs)

    def work(number, job):
        try:
            barrier.wait(timeout=30)
            outcomes[number] = ("ok", job())
        except criteria_services.StaleResultError as exc:
            outcomes[number] = ("stale", exc)
        except Exception as exc:  # any other failure is what the tests look for
            outcomes[number] = ("error", exc)
        finally:
            # Each thread has its own connection; leaving it open would keep the test database busy.
            connection.close()

    threads = [threading.Thread(target=work, args=(n, job)) for n, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    close_old_connections()
    return outcomes


pytestmark = pytest.mark.postgres

if connection.vendor == "postgresql":

    class ConcurrentWritesTestCase(TransactionTestCase):
        # The flush after each test would otherwise remove the catalogue the migrations loaded.
        serialized_rollback = True

        def setUp(self):
            self.w = build_world()
            self.set = CriteriaSet.objects.national().for_level("commune").covering(YEAR).get(tier="standard")
            self.percentages = list(
                Indicator.objects.in_set(self.set)
                .filter(kind=IndicatorKind.PERCENTAGE)
                .select_related("criterion__criteria_set")
                .order_by("criterion__number", "sort_key")
            )

        def record(self, indicator, value, *, area=None, user=None, expected_version=None):
            return criteria_services.record_indicator_result(
                area=area or self.w.an_duong,
                indicator=indicator,
                year=YEAR,
                user=user or self.w.officer_an_duong,
                value=Decimal(value),
                expected_version=expected_version,
            )

    class IndicatorResultConcurrencyTests(ConcurrentWritesTestCase):
        def test_fifty_saves_of_one_result_opened_on_the_same_version_keep_exactly_one(self):
            indicator = self.percentages[0]
            opened = self.record(indicator, "10")

            outcomes = run_at_once(
                [
                    lambda n=n: self.record(indicator, str(50 + n % 40), expected_version=opened.version)
                    for n in range(THREADS)
                ]
            )

            kinds = Counter(kind for kind, _ in outcomes)
            self.assertEqual(kinds, {"ok": 1, "stale": THREADS - 1}, [o for o in outcomes if o[0] == "error"])
            winner = next(value for kind, value in outcomes if kind == "ok")
            stored = IndicatorResult.objects.get(pk=opened.pk)
            self.assertEqual((stored.version, stored.value), (opened.version + 1, winner.value))
            self.assertEqual(stored.history.count(), 2)
            # Each refused writer is told who saved first.
            stale = next(error for kind, error in outcomes if kind == "stale")
            self.assertIn("Hãy tải lại trang", str(stale))

        def test_fifty_saves_in_turn_of_one_result_each_on_the_version_it_read_all_land(self):
            indicator = self.percentages[0]

            def save_latest(value):
                # A user who reloads and retries after a conflict: every write eventually lands.
                while True:
                    current = IndicatorResult.objects.filter(
                        area=self.w.an_duong, indicator=indicator, year=YEAR
                    ).first()
                    try:
                        return self.record(indicator, value, expected_version=current.version if current else None)
                    except criteria_services.StaleResultError:
                        continue

            outcomes = run_at_once([lambda n=n: save_latest(str(n)) for n in range(THREADS)])

            self.assertEqual(Counter(kind for kind, _ in outcomes), {"ok": THREADS}, outcomes)
            stored = IndicatorResult.objects.get(area=self.w.an_duong, indicator=indicator, year=YEAR)
            self.assertEqual(stored.version, THREADS)
            history = list(stored.history.order_by("history_id").values_list("version", "value"))
            self.assertEqual([version for version, _ in history], list(range(1, THREADS + 1)))
            accepted = sorted(value.value for _, value in outcomes)
            self.assertEqual(sorted(value for _, value in history), accepted)

        def test_fifty_saves_of_different_results_all_land_and_the_criteria_agree_with_them(self):
            areas = [self.w.an_duong, self.w.song_van, self.w.hung_my]
            users = {
                self.w.an_duong: self.w.officer_an_duong,
                self.w.song_van: self.w.officer_song_van,
                self.w.hung_my: self.w.officer_hung_my,
            }
            targets = [(area, indicator) for indicator in self.percentages for area in areas][:THREADS]
            self.assertEqual(len(targets), THREADS)

            outcomes = run_at_once(
                [
                    lambda area=area, indicator=indicator, n=n: self.record(
                        indicator, str(60 + n % 40), area=area, user=users[area], expected_version=None
                    )
                    for n, (area, indicator) in enumerate(targets)
                ]
            )

            self.assertEqual(Counter(kind for kind, _ in outcomes), {"ok": THREADS}, outcomes)
            for n, (area, indicator) in enumerate(targets):
                stored = IndicatorResult.objects.get(area=area, indicator=indicator, year=YEAR)
                self.assertEqual(stored.value, Decimal(60 + n % 40))
                self.assertEqual(stored.history.count(), 1)
            # A criterion's stored status was computed by whichever writer committed last; it must still
            # be what its indicators say now.
            for area, criterion in {(area, indicator.criterion) for area, indicator in targets}:
                stored = CriterionResult.objects.get(area=area, criterion=criterion, year=YEAR)
                fresh = criteria_services.refresh_criterion(area=area, criterion=criterion, year=YEAR)
                with self.subTest(area=area.name, criterion=criterion.number):
                    self.assertEqual((stored.status, stored.computed_status), (fresh.status, fresh.computed_status))

    class PlanItemConcurrencyTests(ConcurrentWritesTestCase):
        def setUp(self):
            super().setUp()
            self.plan = plan_services.create_plan(
                user=self.w.admin,
                area=self.w.an_duong,
                data=plan_services.PlanData(title="Kế hoạch NTM An Dương", year=YEAR),
            )
            self.items = [
                plan_services.add_item(
                    user=self.w.admin, plan=self.plan, data=plan_services.ItemData(title=f"Nội dung {n}")
                )
                for n in range(5)
            ]

        def update(self, item, title):
            return plan_services.update_item(
                user=self.w.officer_an_duong, item=item, data=plan_services.ItemData(title=title)
            )

        def test_fifty_edits_of_the_same_and_different_items_are_all_in_the_history(self):
            # plans has no version check: every edit is accepted and the last one to commit wins. What must
            # hold is that none is lost from the history and none fails.
            jobs = [
                lambda n=n: self.update(self.items[n % len(self.items)], f"Nội dung {n % len(self.items)} — sửa {n}")
                for n in range(THREADS)
            ]

            outcomes = run_at_once(jobs)

            self.assertEqual(Counter(kind for kind, _ in outcomes), {"ok": THREADS}, outcomes)
            for number, item in enumerate(self.items):
                expected = {f"Nội dung {number} — sửa {n}" for n in range(number, THREADS, len(self.items))}
                titles = list(item.history.order_by("history_id").values_list("title", flat=True))
                self.assertEqual(len(titles), 1 + len(expected))
                self.assertEqual(set(titles[1:]), expected)
                self.assertEqual(PlanItem.objects.get(pk=item.pk).title, titles[-1])

        def test_fifty_progress_updates_of_one_item_leave_it_on_the_latest(self):
            import datetime

            start = datetime.date(YEAR, 1, 1)
            item = self.items[0]
            outcomes = run_at_once(
                [
                    lambda n=n: plan_services.record_progress(
                        user=self.w.officer_an_duong,
                        item=item,
                        date=start + datetime.timedelta(days=n),
                        progress=n * 2,
                    )
                    for n in range(THREADS)
                ]
            )

            self.assertEqual(Counter(kind for kind, _ in outcomes), {"ok": THREADS}, outcomes)
            item.refresh_from_db()
            self.assertEqual(item.updates.count(), THREADS)
            self.assertEqual(item.progress, (THREADS - 1) * 2)

    class RecognitionStepConcurrencyTests(ConcurrentWritesTestCase):
        def test_the_same_step_taken_by_ten_reviewers_at_once_is_one_transition(self):
            from recognition import services as recognition_services
            from recognition.models import RecognitionFile, RecognitionStep, Stage

            file = RecognitionFile.objects.create(
                area=self.w.an_duong, criteria_set=self.set, year=YEAR, stage=Stage.SUBMITTED
            )
            opened_on = file.version

            def verify():
                fresh = RecognitionFile.objects.get(pk=file.pk)
                return recognition_services.verify(
                    file=fresh, user=self.w.reviewer_tan_yen, comment="Đạt", expected_version=opened_on
                )

            outcomes = run_at_once([verify] * 10)
            kinds = Counter(kind for kind, _value in outcomes)
            errors = [value for kind, value in outcomes if kind == "error"]
            # One verification lands; the nine others are told the file has moved on (a RecognitionError).
            self.assertEqual(kinds["ok"], 1, outcomes)
            self.assertTrue(all(isinstance(e, recognition_services.RecognitionError) for e in errors), errors)
            file.refresh_from_db()
            self.assertEqual(file.stage, Stage.VERIFIED)
            self.assertEqual(RecognitionStep.objects.filter(file=file, to_stage=Stage.VERIFIED).count(), 1)

        def test_a_save_during_a_submission_waits_for_it_and_is_then_refused(self):
            # The save asks whether a file exists inside its row lock and then reads the file under lock: a
            # submission in progress makes it wait, and once submitted the year is closed to it.
            from recognition.models import RecognitionFile, Stage
            from recognition.services import RecognitionError

            file = RecognitionFile.objects.create(area=self.w.an_duong, criteria_set=self.set, year=YEAR)
            submitting, saving = threading.Event(), threading.Event()
            outcome = {}

            def submit():
                try:
                    with transaction.atomic():
                        locked = RecognitionFile.objects.select_for_update().get(pk=file.pk)
                        submitting.set()
                        saving.wait(timeout=10)
                        time.sleep(0.3)  # the save is now waiting on the file's row
                        locked.stage = Stage.SUBMITTED
                        locked.save()
                finally:
                    connection.close()

            def save():
                try:
                    submitting.wait(timeout=10)
                    saving.set()
                    self.record(self.percentages[0], "95")
                    outcome["saved"] = True
                except RecognitionError as exc:
                    outcome["refused"] = str(exc)
                finally:
                    connection.close()

            threads = [threading.Thread(target=submit), threading.Thread(target=save)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
            close_old_connections()
            self.assertIn("bị khóa", outcome.get("refused", ""), outcome)
            self.assertFalse(IndicatorResult.objects.filter(area=self.w.an_duong).exists())
