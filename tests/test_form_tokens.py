"""A creation form sent twice — double click, back and send again, twelve requests at once — adds its rows once.

Each blank form carries a one-time token; the second sending of it adds nothing and takes the person where the
first one went, saying so.
"""

import datetime
import re
import threading

from django.db import close_old_connections, connection
from django.test import Client, TestCase, TransactionTestCase
from django.urls import reverse
from django.utils import timezone

from ntm_portal.models import SubmittedForm
from plans import services
from plans.models import FundingLine, FundingSource, PlanItem, ProgressUpdate
from tests.personas import build_world
from tests.test_plans_views import item_post

ALREADY_SENT = "Đã ghi — biểu mẫu này đã được gửi trước đó."
TITLE = "Làm mới 0,51 km đường trục thôn Đồng Lạng"


def token_in(response):
    """The token of the form on the page, as the browser would send it back."""
    match = re.search(r'name="form_token" value="([0-9a-f-]{36})"', response.content.decode())
    assert match, "the form carries no token"
    return match.group(1)


def item_form_data(sources, token, title=TITLE):
    lines = [(sources["NS_HUYEN"], "1.250,5", "200"), (sources["NHAN_DAN"], "45,2", "")]
    return item_post(title, lines, deadline="Quý II/2024", form_token=token)


def progress_data(token):
    return {"date": "2024-05-01", "progress": "60", "done": "Đã đổ bê tông 300 m", "form_token": token}


class PlanFixture:
    @staticmethod
    def make_plan(w):
        plan = services.create_plan(
            user=w.admin, area=w.an_duong, data=services.PlanData(title="Kế hoạch NTM An Dương", year=2024)
        )
        item = services.add_item(user=w.admin, plan=plan, data=services.ItemData(title="Cải tạo nhà văn hóa"))
        return plan, item


class FormTokenTests(PlanFixture, TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.w = build_world()
        cls.sources = {s.code: s for s in FundingSource.objects.all()}
        cls.plan, cls.item = cls.make_plan(cls.w)
        cls.create_url = reverse("item_create", args=[cls.plan.pk])
        cls.item_url = reverse("item_detail", args=[cls.item.pk])
        cls.plan_url = reverse("plan_detail", args=[cls.plan.pk])

    def setUp(self):
        self.client.force_login(self.w.officer_an_duong)

    def test_an_item_form_sent_twice_adds_one_item_with_one_set_of_funding_lines(self):
        token = token_in(self.client.get(self.create_url))
        first = self.client.post(self.create_url, item_form_data(self.sources, token))
        self.assertRedirects(first, self.plan_url)
        again = self.client.post(self.create_url, item_form_data(self.sources, token), follow=True)
        self.assertRedirects(again, self.plan_url)
        self.assertContains(again, ALREADY_SENT)
        item = PlanItem.objects.get(title=TITLE)
        self.assertEqual(FundingLine.objects.filter(item__plan=self.plan).count(), 2)
        self.assertEqual(item.funding_lines.count(), 2)

    def test_a_progress_report_sent_twice_is_recorded_once(self):
        token = token_in(self.client.get(self.item_url))
        self.assertRedirects(self.client.post(self.item_url, progress_data(token)), self.item_url)
        again = self.client.post(self.item_url, progress_data(token), follow=True)
        self.assertRedirects(again, self.item_url)
        self.assertContains(again, ALREADY_SENT)
        self.assertEqual(ProgressUpdate.objects.filter(item=self.item).count(), 1)

    def test_two_similar_items_from_two_opened_forms_are_both_added(self):
        first_token = token_in(self.client.get(self.create_url))
        second_token = token_in(self.client.get(self.create_url))
        self.assertNotEqual(first_token, second_token)
        for token in (first_token, second_token):
            response = self.client.post(self.create_url, item_form_data(self.sources, token), follow=True)
            self.assertNotContains(response, ALREADY_SENT)
        self.assertEqual(PlanItem.objects.filter(title=TITLE).count(), 2)

    def test_the_same_token_from_another_person_does_not_collide(self):
        token = token_in(self.client.get(self.create_url))
        self.client.post(self.create_url, item_form_data(self.sources, token))
        self.client.force_login(self.w.admin)
        response = self.client.post(self.create_url, item_form_data(self.sources, token), follow=True)
        self.assertNotContains(response, ALREADY_SENT)
        self.assertEqual(PlanItem.objects.filter(title=TITLE).count(), 2)

    def test_a_form_without_its_token_is_refused_and_can_be_sent_again_from_the_page(self):
        data = item_form_data(self.sources, token="")
        response = self.client.post(self.create_url, data)
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Biểu mẫu thiếu mã gửi")
        self.assertFalse(PlanItem.objects.filter(title=TITLE).exists())
        # The form shown again keeps what was typed and carries a fresh token: sending it now works, once.
        self.assertContains(response, f'value="{TITLE}"')
        resent = self.client.post(self.create_url, item_form_data(self.sources, token_in(response)))
        self.assertRedirects(resent, self.plan_url)
        self.assertEqual(PlanItem.objects.filter(title=TITLE).count(), 1)

    def test_a_form_refused_for_a_bad_amount_can_be_corrected_and_sent_with_the_same_token(self):
        token = token_in(self.client.get(self.create_url))
        bad = item_post(TITLE, [(self.sources["NS_HUYEN"], "90.3", "")], form_token=token)
        response = self.client.post(self.create_url, bad)
        self.assertContains(response, "không phải là số")
        self.assertEqual(token_in(response), token)
        self.assertRedirects(self.client.post(self.create_url, item_form_data(self.sources, token)), self.plan_url)
        self.assertEqual(PlanItem.objects.filter(title=TITLE).count(), 1)

    def test_tokens_older_than_two_days_are_removed_when_the_person_sends_a_new_form(self):
        old = SubmittedForm.objects.create(
            user=self.w.officer_an_duong,
            token="6f1c1e7e-3a4b-4c5d-8e9f-0a1b2c3d4e5f",
            created_at=timezone.now() - datetime.timedelta(days=3),
        )
        self.client.post(self.item_url, progress_data(token_in(self.client.get(self.item_url))))
        self.assertFalse(SubmittedForm.objects.filter(pk=old.pk).exists())
        self.assertEqual(SubmittedForm.objects.filter(user=self.w.officer_an_duong).count(), 1)


def post_at_once(url, logged_in_client, data, count):
    """`count` requests with the same session and data, released together; returns their responses."""
    barrier = threading.Barrier(count)
    responses = [None] * count

    def work(number):
        client = Client()
        client.cookies = logged_in_client.cookies
        try:
            barrier.wait(timeout=30)
            responses[number] = client.post(url, data)
        except Exception as exc:  # reported below, with the request that failed
            responses[number] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    close_old_connections()
    return responses


if connection.vendor == "postgresql":
    # Only PostgreSQL has concurrent writers (SQLite locks the whole database for each write): this is the
    # PostgreSQL run's own test, as in tests/test_concurrency.py.

    class ConcurrentDoubleSubmitTests(PlanFixture, TransactionTestCase):
        serialized_rollback = True  # the flush after each test would otherwise remove the catalogue

        def setUp(self):
            self.w = build_world()
            self.sources = {s.code: s for s in FundingSource.objects.all()}
            self.plan, self.item = self.make_plan(self.w)
            self.client.force_login(self.w.officer_an_duong)

        def assert_all_redirected(self, responses, url):
            for response in responses:
                self.assertNotIsInstance(response, Exception)
                self.assertEqual((response.status_code, response.url), (302, url))

        def test_twelve_identical_item_posts_at_once_add_one_item(self):
            url = reverse("item_create", args=[self.plan.pk])
            data = item_form_data(self.sources, token_in(self.client.get(url)))
            responses = post_at_once(url, self.client, data, 12)
            self.assert_all_redirected(responses, reverse("plan_detail", args=[self.plan.pk]))
            item = PlanItem.objects.get(title=TITLE)
            self.assertEqual(item.funding_lines.count(), 2)
            self.assertEqual(SubmittedForm.objects.count(), 1)

        def test_twelve_identical_progress_posts_at_once_record_one_update(self):
            url = reverse("item_detail", args=[self.item.pk])
            data = progress_data(token_in(self.client.get(url)))
            responses = post_at_once(url, self.client, data, 12)
            self.assert_all_redirected(responses, url)
            self.assertEqual(ProgressUpdate.objects.filter(item=self.item).count(), 1)
