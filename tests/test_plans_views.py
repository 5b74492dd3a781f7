import datetime
import uuid

from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from assignments.models import Member
from criteria.models import Criterion
from plans import services
from plans.models import FundingLine, FundingSource, PlanItem, ProgressUpdate, parse_deadline
from tests.personas import build_world

SET_CODE = "xa_ntm_2016_2020"


def item_post(title, lines=(), deadline="", **extra):
    data = {
        "form_token": str(uuid.uuid4()),  # as the rendered form carries: a new one per blank form
        "title": title,
        "deadline": deadline,
        "status": "not_started",
        "progress": "0",
        "funding-TOTAL_FORMS": str(max(len(lines), 2)),
        "funding-INITIAL_FORMS": "0",
        "funding-MIN_NUM_FORMS": "0",
        "funding-MAX_NUM_FORMS": "1000",
        **extra,
    }
    for number, (source, planned, disbursed) in enumerate(lines):
        data.update(
            {
                f"funding-{number}-source": str(source.pk),
                f"funding-{number}-planned": planned,
                f"funding-{number}-disbursed": disbursed,
            }
        )
    return data


class PlanViewFixture:
    @classmethod
    def setUpTestData(cls):
        w = cls.w = build_world()
        cls.sources = {s.code: s for s in FundingSource.objects.all()}
        cls.plans = {}
        for key, area in [("an_duong", w.an_duong), ("song_van", w.song_van), ("hung_my", w.hung_my)]:
            cls.plans[key] = services.create_plan(
                user=w.admin, area=area, data=services.PlanData(title=f"Kế hoạch NTM {area.name}", year=2024)
            )
        cls.lan = Member.objects.create(name="Nguyễn Thị Lan", area=w.an_duong, user=w.officer_an_duong)
        last_month = timezone.localdate().replace(day=1) - datetime.timedelta(days=1)
        cls.overdue_item = cls.add_item(
            "an_duong", "Bê tông hóa đường thôn Đồng Lạng", deadline=f"tháng {last_month.month}/{last_month.year}"
        )
        cls.song_van_item = cls.add_item("song_van", "Cải tạo nhà văn hóa", deadline="năm 2019")

    @classmethod
    def add_item(cls, plan_key, title, deadline=None, funding=(), **fields):
        return services.add_item(
            user=cls.w.admin,
            plan=cls.plans[plan_key],
            data=services.ItemData(title=title, deadline=parse_deadline(deadline) if deadline else None, **fields),
            funding=funding,
        )

    def as_user(self, user):
        self.client.force_login(user)


class ScopingTests(PlanViewFixture, TestCase):
    """Own area 200, sibling 404, parent 404 for officers; reviewers and viewers read below their district."""

    def check(self, url, expected):
        for name, status in expected.items():
            with self.subTest(user=name, url=url):
                self.as_user(getattr(self.w, name))
                self.assertEqual(self.client.get(url).status_code, status)

    def test_plan_list_and_detail(self):
        expected = {
            "officer_an_duong": 200,
            "officer_song_van": 404,
            "reviewer_tan_yen": 200,
            "viewer_tan_yen": 200,
            "officer_hung_my": 404,
            "nobody": 404,
            "admin": 200,
        }
        self.check(reverse("plan_list", args=[self.w.an_duong.pk]), expected)
        self.check(reverse("plan_detail", args=[self.plans["an_duong"].pk]), expected)
        self.check(reverse("item_detail", args=[self.overdue_item.pk]), expected)

    def test_district_pages_are_refused_to_commune_officers(self):
        expected = {"officer_an_duong": 404, "reviewer_tan_yen": 200, "viewer_tan_yen": 200, "officer_hung_my": 404}
        for name in ["plan_list", "overdue_items", "due_items"]:
            self.check(reverse(name, args=[self.w.tan_yen.pk]), expected)

    def test_editing_is_for_officers_of_the_area(self):
        expected = {
            "officer_an_duong": 200,
            "officer_song_van": 404,
            "reviewer_tan_yen": 404,
            "viewer_tan_yen": 404,
            "admin": 200,
        }
        self.check(reverse("item_create", args=[self.plans["an_duong"].pk]), expected)
        self.check(reverse("item_edit", args=[self.overdue_item.pk]), expected)

    def test_refused_writes_change_nothing(self):
        create = reverse("item_create", args=[self.plans["an_duong"].pk])
        edit = reverse("item_edit", args=[self.overdue_item.pk])
        progress = reverse("item_detail", args=[self.overdue_item.pk])
        line = [(self.sources["NS_XA"], "10", "")]
        for user in [self.w.officer_song_van, self.w.reviewer_tan_yen, self.w.viewer_tan_yen]:
            with self.subTest(user=user.username):
                self.as_user(user)
                self.assertEqual(self.client.post(create, item_post("Việc lạ", line)).status_code, 404)
                self.assertEqual(self.client.post(edit, item_post("Đổi tên", line)).status_code, 404)
                response = self.client.post(progress, {"date": "2024-05-01", "progress": "50"})
                self.assertEqual(response.status_code, 404)
        self.assertEqual(PlanItem.objects.count(), 2)
        self.overdue_item.refresh_from_db()
        self.assertEqual((self.overdue_item.title, self.overdue_item.progress), ("Bê tông hóa đường thôn Đồng Lạng", 0))
        self.assertFalse(FundingLine.objects.exists())
        self.assertFalse(ProgressUpdate.objects.exists())

    def test_overdue_for_a_district_lists_items_of_its_communes(self):
        self.as_user(self.w.reviewer_tan_yen)
        response = self.client.get(reverse("overdue_items", args=[self.w.tan_yen.pk]))
        self.assertContains(response, "Bê tông hóa đường thôn Đồng Lạng")
        self.assertContains(response, "Cải tạo nhà văn hóa")
        self.as_user(self.w.officer_an_duong)
        response = self.client.get(reverse("overdue_items", args=[self.w.an_duong.pk]))
        self.assertContains(response, "Bê tông hóa đường thôn Đồng Lạng")
        self.assertNotContains(response, "Cải tạo nhà văn hóa")

    def test_due_this_month(self):
        today = timezone.localdate()
        self.add_item("an_duong", "Hoàn thiện hồ sơ tiêu chí 17", deadline=f"tháng {today.month}/{today.year}")
        self.as_user(self.w.officer_an_duong)
        response = self.client.get(reverse("due_items", args=[self.w.an_duong.pk]))
        self.assertContains(response, "Hoàn thiện hồ sơ tiêu chí 17")
        self.assertNotContains(response, "Bê tông hóa đường thôn Đồng Lạng")

    def test_my_items_are_those_i_lead(self):
        self.add_item("an_duong", "Việc của chị Lan", lead_member=self.lan)
        self.as_user(self.w.officer_an_duong)
        response = self.client.get(reverse("my_items"))
        self.assertContains(response, "Việc của chị Lan")
        self.assertNotContains(response, "Bê tông hóa")
        self.as_user(self.w.officer_song_van)
        self.assertNotContains(self.client.get(reverse("my_items")), "Việc của chị Lan")


class DistrictItemsForACommuneTests(PlanViewFixture, TestCase):
    """A district's plan items placed in a commune or its villages reach everyone who may see the commune."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        w = cls.w
        cls.plans["tan_yen"] = services.create_plan(
            user=w.admin, area=w.tan_yen, data=services.PlanData(title="Kế hoạch NTM huyện Tân Yên", year=2024)
        )
        last_month = timezone.localdate().replace(day=1) - datetime.timedelta(days=1)
        cls.village_road = cls.add_item(
            "tan_yen",
            "Cứng hóa đường trục thôn Đồng Lạng",
            deadline=f"tháng {last_month.month}/{last_month.year}",
            area=w.an_duong_village,
            lead_member=cls.lan,
        )
        cls.song_van_school = cls.add_item(
            "tan_yen", "Xây trường mầm non Song Vân", deadline="năm 2019", area=w.song_van
        )

    def test_the_commune_plan_page_lists_the_district_items_for_it(self):
        self.as_user(self.w.officer_an_duong)
        response = self.client.get(reverse("plan_list", args=[self.w.an_duong.pk]))
        self.assertContains(response, "Cứng hóa đường trục thôn Đồng Lạng")
        self.assertNotContains(response, "Xây trường mầm non Song Vân")
        self.assertEqual(response.context["overdue_count"], 2)  # the commune's own and the district's

    def test_the_officer_home_counts_the_district_items_for_the_commune_as_overdue(self):
        self.as_user(self.w.officer_an_duong)
        (standing,) = self.client.get(reverse("home")).context["standings"]
        self.assertEqual(standing["overdue"], 2)  # the commune's own and the district's, as on the plan page

    def test_the_commune_overdue_list_has_the_district_items_for_it(self):
        for user in [self.w.officer_an_duong, self.w.reviewer_tan_yen]:
            with self.subTest(user=user.username):
                self.as_user(user)
                response = self.client.get(reverse("overdue_items", args=[self.w.an_duong.pk]))
                self.assertContains(response, "Cứng hóa đường trục thôn Đồng Lạng")
                self.assertNotContains(response, "Xây trường mầm non Song Vân")

    def test_my_items_include_the_district_items_i_lead_in_my_commune(self):
        self.as_user(self.w.officer_an_duong)
        self.assertContains(self.client.get(reverse("my_items")), "Cứng hóa đường trục thôn Đồng Lạng")

    def test_the_officer_reads_the_district_item_but_neither_its_plan_nor_other_communes_items(self):
        self.as_user(self.w.officer_an_duong)
        page = self.client.get(reverse("item_detail", args=[self.village_road.pk]))
        self.assertContains(page, "Cứng hóa đường trục thôn Đồng Lạng")
        self.assertNotContains(page, reverse("plan_detail", args=[self.plans["tan_yen"].pk]))
        self.assertNotContains(page, reverse("item_edit", args=[self.village_road.pk]))
        for url in [
            reverse("item_detail", args=[self.song_van_school.pk]),
            reverse("plan_detail", args=[self.plans["tan_yen"].pk]),
            reverse("item_edit", args=[self.village_road.pk]),
        ]:
            with self.subTest(url=url):
                self.assertEqual(self.client.get(url).status_code, 404)
        progress = {"date": "2024-05-01", "progress": "50", "form_token": uuid.uuid4()}
        self.assertEqual(
            self.client.post(reverse("item_detail", args=[self.village_road.pk]), progress).status_code, 404
        )

    def test_the_commune_pages_do_not_grow_with_the_district_items(self):
        self.as_user(self.w.officer_an_duong)
        urls = [
            reverse("plan_list", args=[self.w.an_duong.pk]),
            reverse("overdue_items", args=[self.w.an_duong.pk]),
            reverse("my_items"),
            reverse("item_detail", args=[self.village_road.pk]),
        ]
        few = {}
        for url in urls:
            with CaptureQueriesContext(connection) as ctx:
                self.client.get(url)
            few[url] = len(ctx.captured_queries)
        for number in range(20):
            self.add_item("tan_yen", f"Việc huyện số {number}", deadline="tháng 1/2020", area=self.w.an_duong_village)
        for url in urls:
            with self.subTest(url=url), self.assertNumQueries(few[url]):
                self.assertContains(self.client.get(url), "Cứng hóa đường trục thôn Đồng Lạng")


class EditingTests(PlanViewFixture, TestCase):
    def test_an_officer_adds_an_item_with_two_funding_lines(self):
        self.as_user(self.w.officer_an_duong)
        plan = self.plans["an_duong"]
        lines = [(self.sources["NS_HUYEN"], "1.250,5", "200"), (self.sources["NHAN_DAN"], "45,2", "")]
        response = self.client.post(
            reverse("item_create", args=[plan.pk]),
            item_post("Làm mới 0,51 km đường", lines, deadline="Quý II/2024", quantity="0,51", unit="km"),
        )
        self.assertRedirects(response, reverse("plan_detail", args=[plan.pk]))
        item = plan.items.get(title="Làm mới 0,51 km đường")
        self.assertEqual((str(item.quantity), item.deadline_label), ("0.510", "Quý II/2024"))
        page = self.client.get(reverse("plan_detail", args=[plan.pk]))
        self.assertContains(page, "1.295,7")  # grand total, Vietnamese style
        self.assertContains(page, "1.250,5")

    def test_the_form_offers_labelled_funding_lines_and_a_way_to_add_more(self):
        self.as_user(self.w.officer_an_duong)
        page = self.client.get(reverse("item_create", args=[self.plans["an_duong"].pk])).content.decode()
        self.assertEqual(page.count('<fieldset class="card funding-line">'), 4)  # three lines and the template
        for number in range(3):
            self.assertIn(f'<label for="id_funding-{number}-source">Nguồn vốn:</label>', page)
            self.assertIn(f'<label for="id_funding-{number}-planned">Vốn kế hoạch (triệu đồng):</label>', page)
            self.assertIn(f'<label for="id_funding-{number}-disbursed">Đã giải ngân (triệu đồng):</label>', page)
        self.assertIn('id="funding-line-template"', page)
        self.assertIn("Thêm dòng vốn", page)
        self.assertIn("js/plan-item-form.js", page)

    def test_an_item_drawing_on_nine_sources_keeps_every_line(self):
        sources = list(FundingSource.objects.all()[:9])
        self.assertEqual(len(sources), 9)
        self.as_user(self.w.officer_an_duong)
        plan = self.plans["an_duong"]
        lines = [(source, str(number + 1), "") for number, source in enumerate(sources)]
        response = self.client.post(reverse("item_create", args=[plan.pk]), item_post("Nhà văn hóa xã", lines))
        self.assertRedirects(response, reverse("plan_detail", args=[plan.pk]))
        self.assertEqual(plan.items.get(title="Nhà văn hóa xã").funding_lines.count(), 9)

    def test_indicators_are_offered_with_their_criterion_and_a_mismatch_is_refused(self):
        criterion_2, criterion_3 = Criterion.objects.filter(number__in=[2, 3], criteria_set__code=SET_CODE).order_by(
            "number"
        )
        indicator_3 = criterion_3.indicators.first()
        self.as_user(self.w.officer_an_duong)
        plan = self.plans["an_duong"]
        page = self.client.get(reverse("item_create", args=[plan.pk]))
        self.assertContains(page, f'value="{indicator_3.pk}" data-criterion="{criterion_3.pk}"')
        post = item_post("Nâng cấp đường", criterion=str(criterion_2.pk), indicator=str(indicator_3.pk))
        response = self.client.post(reverse("item_create", args=[plan.pk]), post)
        self.assertContains(response, f"Chỉ tiêu {indicator_3.code} không thuộc tiêu chí 2 đã chọn.")
        self.assertFalse(plan.items.filter(title="Nâng cấp đường").exists())

    def test_a_bad_line_shows_the_form_again_and_saves_nothing(self):
        self.as_user(self.w.officer_an_duong)
        plan = self.plans["an_duong"]
        lines = [(self.sources["NS_HUYEN"], "100", ""), (self.sources["NHAN_DAN"], "90.3", "")]
        response = self.client.post(reverse("item_create", args=[plan.pk]), item_post("Việc mới", lines))
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "không phải là số")
        self.assertFalse(plan.items.filter(title="Việc mới").exists())

    def test_a_deadline_that_cannot_be_read_is_explained(self):
        self.as_user(self.w.officer_an_duong)
        plan = self.plans["an_duong"]
        response = self.client.post(reverse("item_create", args=[plan.pk]), item_post("Việc", deadline="sớm"))
        self.assertContains(response, "Không đọc được thời hạn")

    def test_editing_shows_amounts_the_vietnamese_way_and_saves_changes(self):
        item = self.add_item(
            "an_duong", "Đường nội đồng", funding=[services.FundingInput(self.sources["NS_TINH"], "1.234,5")]
        )
        self.as_user(self.w.officer_an_duong)
        url = reverse("item_edit", args=[item.pk])
        self.assertContains(self.client.get(url), 'value="1.234,5"')
        data = item_post("Đường nội đồng", [(self.sources["NS_TINH"], "2.000", "")])
        data["funding-INITIAL_FORMS"] = "0"
        self.assertEqual(self.client.post(url, data).status_code, 302)
        self.assertEqual(str(item.funding_lines.get().planned), "2000.000")

    def test_a_stale_edit_form_is_refused_and_the_other_change_kept(self):
        item = self.add_item("an_duong", "Nạo vét kênh mương")
        url = reverse("item_edit", args=[item.pk])
        self.as_user(self.w.officer_an_duong)
        opened_on = item.version
        first = item_post("Nạo vét kênh mương nội đồng", version=str(opened_on))
        self.assertEqual(self.client.post(url, first).status_code, 302)
        second = item_post("Nạo vét 2 km kênh mương", version=str(opened_on))
        response = self.client.post(url, second)
        self.assertContains(response, "vừa được Nguyễn Thị Lan cập nhật lúc")
        item.refresh_from_db()
        self.assertEqual(item.title, "Nạo vét kênh mương nội đồng")

    def test_a_progress_update_joins_the_timeline_and_moves_the_item(self):
        self.as_user(self.w.officer_an_duong)
        url = reverse("item_detail", args=[self.overdue_item.pk])
        data = {"date": "2024-05-01", "progress": "60", "done": "Đã đổ bê tông 300 m", "form_token": uuid.uuid4()}
        response = self.client.post(url, data)
        self.assertRedirects(response, url)
        page = self.client.get(url)
        self.assertContains(page, "Đã đổ bê tông 300 m")
        self.assertContains(page, "01/05/2024")
        self.overdue_item.refresh_from_db()
        self.assertEqual((self.overdue_item.progress, self.overdue_item.status), (60, "in_progress"))


class QueryCountTests(PlanViewFixture, TestCase):
    def fill(self, count):
        for number in range(count):
            self.add_item(
                "an_duong",
                f"Việc số {number}",
                deadline="tháng 1/2020",
                lead_member=self.lan,
                funding=[
                    services.FundingInput(self.sources["NS_XA"], "1"),
                    services.FundingInput(self.sources["NHAN_DAN"], "2"),
                ],
            )

    def count_queries(self, url):
        with CaptureQueriesContext(connection) as ctx:
            self.assertEqual(self.client.get(url).status_code, 200)
        return len(ctx.captured_queries)

    def test_pages_do_not_grow_with_the_number_of_items(self):
        self.as_user(self.w.officer_an_duong)
        urls = [
            reverse("plan_list", args=[self.w.an_duong.pk]),
            reverse("plan_detail", args=[self.plans["an_duong"].pk]),
            reverse("overdue_items", args=[self.w.an_duong.pk]),
            reverse("due_items", args=[self.w.an_duong.pk]),
            reverse("my_items"),
        ]
        self.fill(5)
        few = {url: self.count_queries(url) for url in urls}
        self.fill(45)
        for url in urls:
            with self.subTest(url=url), self.assertNumQueries(few[url]):
                self.client.get(url)
