"""Every list paged (issue 19, target 5): each list page shows at most one page of rows, with Vietnamese paging
links and counts, and runs the same number of queries for one row as for a few hundred.

Lists tested elsewhere are not repeated here (docs/PERFORMANCE.md, "Every list paged", says where): the audit
page (tests/test_audit.py), the national table (tests/test_dashboards.py), the home pages
(tests/test_daily_use.py, tests/test_dashboards.py), the admin changelists of areas, thresholds and results
(tests/test_admin.py).
"""

import copy
import datetime
import uuid

from django.contrib.auth import get_user_model
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from areas.models import Area, AreaSuccession, Level, Role, RoleKind
from areas.views import CHILDREN_PAGE_SIZE
from assignments.models import Agency, Member
from criteria import services as criteria_services
from criteria.models import CriteriaSet, Evidence, Indicator, IndicatorKind, IndicatorResult
from criteria.views import HISTORY_PAGE_SIZE
from dashboards.home import HOME_PAGE_SIZE
from dashboards.views import MATRIX_LIMIT
from plans.admin import FirstItemsFormSet
from plans.forms import PLACE_SUGGESTIONS
from plans.models import FundingLine, FundingSource, Plan, PlanItem, ProgressUpdate
from plans.views import ITEMS_PAGE_SIZE, PLAN_ITEMS_PAGE_SIZE, PLANS_PAGE_SIZE, UPDATES_PAGE_SIZE
from recognition.models import Outbox, RecognitionFile
from recognition.views import LIST_PAGE_SIZE
from tests.personas import build_world

YEAR = 2024
SET_CODE = "xa_ntm_2021_2025"
MANY = 300
User = get_user_model()


def communes_under(district, count, prefix="P"):
    """`count` communes under `district`, written at once (stored ancestors filled as save() would)."""
    communes = []
    for n in range(count):
        area = Area(
            code=f"{prefix}-{district.code}-{n:04d}", name=f"Xã phân trang {n:04d}", level=Level.COMMUNE, kind="xã"
        )
        area.parent = district
        area.fill_ancestors()
        communes.append(area)
    return Area.objects.bulk_create(communes)


class PagingCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.w = build_world()

    def get_counted(self, url):
        self.client.get(url)  # Warm the per-process caches (content types, the catalogue) before counting.
        with CaptureQueriesContext(connection) as ctx:
            response = self.client.get(url)
        self.assertEqual(response.status_code, 200)
        return response, len(ctx.captured_queries)

    def assert_one_and_many(self, url, add_rows, rows_of, size, *, param="trang"):
        """One row, then `MANY` more: the same number of queries, and at most `size` rows shown, with a link to the
        next page and the last one."""
        add_rows(1)
        response, one = self.get_counted(url)
        self.assertEqual(len(rows_of(response)), 1)
        self.assertNotContains(response, 'rel="next"')
        add_rows(MANY)
        with self.assertNumQueries(one):
            response = self.client.get(url)
        self.assertEqual(len(rows_of(response)), size)
        self.assertContains(response, "Trang sau")
        self.assertContains(response, f"{param}=2")
        return response


class AreaChildrenTests(PagingCase):
    def test_an_areas_units_are_paged(self):
        district = self.w.viet_yen
        Area.objects.filter(parent=district).delete()
        made = []

        def add(count):
            made.extend(communes_under(district, count, prefix=f"P{len(made)}"))

        self.client.force_login(self.w.admin)
        url = reverse("area_detail", args=[district.pk])
        response = self.assert_one_and_many(url, add, lambda r: r.context["children"].object_list, CHILDREN_PAGE_SIZE)
        self.assertContains(response, f"{MANY + 1} đơn vị trực thuộc")
        self.assertContains(response, f"1–{CHILDREN_PAGE_SIZE} trong {MANY + 1}")
        last = self.client.get(url + "?trang=7")
        self.assertEqual(len(last.context["children"].object_list), (MANY + 1) % CHILDREN_PAGE_SIZE)


class PlanPagesTests(PagingCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        w = cls.w
        cls.plan = Plan.objects.create(area=w.an_duong, year=YEAR, title="Kế hoạch xã An Dương")
        cls.district_plan = Plan.objects.create(area=w.tan_yen, year=YEAR, title="Kế hoạch huyện Tân Yên")
        cls.lan = Member.objects.create(name="Nguyễn Thị Lan", area=w.an_duong, user=w.officer_an_duong)
        cls.last_year = timezone.localdate() - datetime.timedelta(days=400)

    def setUp(self):
        self.client.force_login(self.w.officer_an_duong)

    def items(self, plan, count, **fields):
        start = PlanItem.objects.count()
        PlanItem.objects.bulk_create(
            PlanItem(plan=plan, title=f"Nội dung {start + n:04d}", position=start + n, **fields) for n in range(count)
        )

    def test_the_plans_of_an_area_are_paged(self):
        def add(count):
            start = Plan.objects.count()
            Plan.objects.bulk_create(
                Plan(area=self.w.an_duong_village, year=2020, number=f"{start + n}/KH", title=f"Kế hoạch thôn {n}")
                for n in range(count)
            )

        Plan.objects.filter(pk=self.plan.pk).delete()
        url = reverse("plan_list", args=[self.w.an_duong.pk])
        response = self.assert_one_and_many(url, add, lambda r: r.context["plans"].object_list, PLANS_PAGE_SIZE)
        self.assertContains(response, f"{MANY + 1} kế hoạch")

    def test_the_plans_of_the_units_an_area_was_formed_from_are_paged(self):
        reform = datetime.date(2025, 7, 1)
        Area.objects.filter(pk=self.w.song_van.pk).update(valid_until=reform - datetime.timedelta(days=1))
        formed = Area(code="P-NEW", name="Xã hợp nhất", level=Level.COMMUNE, kind="xã", valid_from=reform)
        formed.parent = self.w.bac_giang
        formed.fill_ancestors()
        formed.save()
        AreaSuccession.objects.create(old=self.w.song_van, new=formed, on=reform)

        def add(count):
            start = Plan.objects.count()
            Plan.objects.bulk_create(
                Plan(area=self.w.song_van, year=2020, number=f"{start + n}/KH", title="Kế hoạch xã cũ")
                for n in range(count)
            )

        self.client.force_login(self.w.admin)
        url = reverse("plan_list", args=[formed.pk])
        response = self.assert_one_and_many(
            url, add, lambda r: r.context["past_plans"].object_list, PLANS_PAGE_SIZE, param="trang_truoc"
        )
        self.assertContains(response, "trang_truoc=2#ke-hoach-truoc-sap-nhap")

    def test_the_items_of_higher_plans_for_a_commune_are_paged(self):
        url = reverse("plan_list", args=[self.w.an_duong.pk])
        response = self.assert_one_and_many(
            url,
            lambda count: self.items(self.district_plan, count, area=self.w.an_duong),
            lambda r: r.context["items_from_above"],
            ITEMS_PAGE_SIZE,
            param="trang_cap_tren",
        )
        self.assertContains(response, "trang_cap_tren=2#items-from-above")
        second = self.client.get(url + "?trang_cap_tren=2")
        self.assertEqual(len(second.context["items_from_above"]), ITEMS_PAGE_SIZE)

    def test_a_plans_items_are_paged_with_an_index_across_pages(self):
        criterion = CriteriaSet.objects.get(code=SET_CODE).criteria.get(number=17)
        url = reverse("plan_detail", args=[self.plan.pk])
        response = self.assert_one_and_many(
            url,
            lambda count: self.items(self.plan, count),
            lambda r: [i for _criterion, items in r.context["groups"] for i in items],
            PLAN_ITEMS_PAGE_SIZE,
        )
        # Groups come by criterion number, the general tasks last: criterion 17's three items follow criterion 2's
        # sixty, so they start on page 2, and the index on page 1 links there.
        criteria = CriteriaSet.objects.get(code=SET_CODE).criteria
        self.items(self.plan, 60, criterion=criteria.get(number=2))
        self.items(self.plan, 3, criterion=criterion)
        response = self.client.get(url)
        self.assertContains(response, 'href="#tc-2"')
        self.assertContains(response, 'href="?trang=2#tc-17"')
        self.assertContains(response, f"{MANY + 64} nội dung")
        second = self.client.get(url + "?trang=2")
        self.assertEqual([c.number if c else None for c, _items in second.context["groups"]], [2, 17, None])

    def test_an_items_progress_reports_are_paged(self):
        self.items(self.plan, 1)
        item = PlanItem.objects.get(plan=self.plan)

        def add(count):
            ProgressUpdate.objects.bulk_create(
                ProgressUpdate(item=item, date=self.last_year, progress=10, created_by=self.w.officer_an_duong)
                for _ in range(count)
            )

        url = reverse("item_detail", args=[item.pk])
        self.assert_one_and_many(url, add, lambda r: r.context["updates"].object_list, UPDATES_PAGE_SIZE)

    def test_overdue_due_and_my_items_are_paged(self):
        # Query counts with few and many items: tests/test_plans_views.py (QueryCountTests); here the page size.
        today = timezone.localdate()
        for url, fields in [
            (reverse("overdue_items", args=[self.w.an_duong.pk]), {"deadline_date": self.last_year}),
            (reverse("due_items", args=[self.w.an_duong.pk]), {"deadline_date": today}),
            (reverse("my_items"), {"lead_member": self.lan}),
        ]:
            with self.subTest(url=url):
                PlanItem.objects.all().delete()
                self.assert_one_and_many(
                    url,
                    lambda count, f=fields: self.items(self.plan, count, **f),
                    lambda r: r.context["items"],
                    ITEMS_PAGE_SIZE,
                )

    def test_counts_are_written_the_vietnamese_way(self):
        self.items(self.plan, 1_234, deadline_date=self.last_year)
        response = self.client.get(reverse("overdue_items", args=[self.w.an_duong.pk]) + "?trang=50")
        self.assertContains(response, "1.234 nội dung")
        self.assertContains(response, "Trang 50/50")
        self.assertContains(response, "1.226–1.234 trong 1.234")
        # Page numbers in links stay plain digits (never "trang=1.000").
        self.assertContains(response, 'href="?trang=49"')


class RecognitionListTests(PagingCase):
    def test_the_communes_files_of_a_district_are_paged(self):
        district = self.w.viet_yen
        criteria_set = CriteriaSet.objects.get(code=SET_CODE)
        made = []

        def add(count):
            communes = communes_under(district, count, prefix=f"R{len(made)}")
            made.extend(communes)
            RecognitionFile.objects.bulk_create(
                RecognitionFile(area=c, criteria_set=criteria_set, year=YEAR) for c in communes[::2]
            )

        Area.objects.filter(parent=district).delete()
        self.client.force_login(self.w.admin)
        url = reverse("recognition_list", args=[district.pk]) + f"?nam={YEAR}&bo={SET_CODE}"
        response = self.assert_one_and_many(url, add, lambda r: r.context["rows"], LIST_PAGE_SIZE)
        # The counts above the list are over every commune, not the page.
        self.assertEqual(response.context["commune_count"], MANY + 1)
        self.assertEqual(response.context["without_file"], MANY // 2)
        self.assertContains(response, f"0/{MANY + 1} xã đã được công nhận")


class DashboardMatrixTests(PagingCase):
    def test_the_matrix_of_a_district_is_paged(self):
        district = self.w.viet_yen
        Area.objects.filter(parent=district).delete()
        made = []

        def add(count):
            made.extend(communes_under(district, count, prefix=f"M{len(made)}"))

        self.client.force_login(self.w.admin)
        url = reverse("dashboard", args=[district.pk]) + f"?nam={YEAR}&bo={SET_CODE}"
        response = self.assert_one_and_many(url, add, lambda r: r.context["matrix"], MATRIX_LIMIT, param="trang_xa")
        self.assertContains(response, f"Còn {MANY + 1 - MATRIX_LIMIT} xã ở các trang sau.")
        self.assertEqual(response.context["figures"]["commune_count"], MANY + 1)


class AdminListTests(PagingCase):
    """Changelists not covered by tests/test_admin.py, and the plan page's inline of items."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.plan = Plan.objects.create(area=cls.w.an_duong, year=YEAR, title="Kế hoạch xã An Dương")

    def setUp(self):
        self.client.force_login(self.w.admin)

    def add_items(self, count):
        start = PlanItem.objects.count()
        PlanItem.objects.bulk_create(
            PlanItem(plan=self.plan, title=f"Nội dung {start + n:04d}", position=start + n) for n in range(count)
        )

    def test_a_plans_inline_shows_its_first_items_and_links_to_the_rest(self):
        url = reverse("admin:plans_plan_change", args=[self.plan.pk])
        self.add_items(1)
        _response, one = self.get_counted(url)
        self.add_items(MANY)
        with self.assertNumQueries(one):
            response = self.client.get(url)
        self.assertEqual(
            response.context["inline_admin_formsets"][0].formset.total_form_count(), FirstItemsFormSet.shown
        )
        self.assertContains(response, f"Còn {MANY + 1 - FirstItemsFormSet.shown} nội dung không hiện ở đây.")
        self.assertContains(response, f"?plan__id__exact={self.plan.pk}")
        listed = self.client.get(reverse("admin:plans_planitem_changelist") + f"?plan__id__exact={self.plan.pk}")
        self.assertContains(listed, f"{MANY + 1} nội dung kế hoạch")

    def test_changelists_show_one_page_at_the_same_cost(self):
        criteria_set = CriteriaSet.objects.get(code=SET_CODE)
        district = self.w.viet_yen
        made = []

        def communes(count):
            made.extend(communes_under(district, count, prefix=f"A{len(made)}"))
            return made[-count:]

        def plans(count):
            Plan.objects.bulk_create(Plan(area=self.w.an_duong, year=2020, title="Kế hoạch") for _ in range(count))

        def updates(count):
            item = PlanItem.objects.first()
            ProgressUpdate.objects.bulk_create(
                ProgressUpdate(item=item, date=datetime.date(2024, 1, 1), progress=5, created_by=self.w.admin)
                for _ in range(count)
            )

        def files(count):
            RecognitionFile.objects.bulk_create(
                RecognitionFile(area=c, criteria_set=criteria_set, year=YEAR) for c in communes(count)
            )

        def members(count):
            start = Member.objects.count()
            Member.objects.bulk_create(
                Member(name=f"Thành viên {start + n}", area=self.w.an_duong) for n in range(count)
            )

        def agencies(count):
            start = Agency.objects.count()
            Agency.objects.bulk_create(Agency(name=f"Phòng {start + n}", area=self.w.an_duong) for n in range(count))

        def funding(count):
            source = FundingSource.objects.first()
            items = list(PlanItem.objects.filter(funding_lines__isnull=True)[:count])
            FundingLine.objects.bulk_create(FundingLine(item=item, source=source, planned=1) for item in items)

        def roles(count):
            start = User.objects.count()
            users = User.objects.bulk_create(User(username=f"nguoi{start + n}") for n in range(count))
            Role.objects.bulk_create(
                Role(user=u, area=c, kind=RoleKind.OFFICER) for u, c in zip(users, communes(count), strict=True)
            )

        def mails(count):
            Outbox.objects.bulk_create(Outbox(to="bcd@example.vn", subject="Hồ sơ", body="…") for _ in range(count))

        self.add_items(1)
        for name, add in [
            ("plans_plan", plans),
            ("plans_planitem", self.add_items),
            ("plans_progressupdate", updates),
            ("plans_fundingline", funding),
            ("recognition_recognitionfile", files),
            ("recognition_outbox", mails),
            ("assignments_member", members),
            ("assignments_agency", agencies),
            ("areas_role", roles),
        ]:
            with self.subTest(name=name):
                url = reverse(f"admin:{name}_changelist")
                if name == "plans_fundingline":
                    self.add_items(MANY)  # a line per item
                add(1)
                _response, one = self.get_counted(url)
                add(MANY)
                with self.assertNumQueries(one):
                    response = self.client.get(url)
                cl = response.context["cl"]
                self.assertEqual(len(cl.result_list), cl.list_per_page)
                self.assertContains(response, '<a href="?p=2">2</a>')


class HomeTests(PagingCase):
    def test_a_reviewers_communes_at_a_glance_are_paged(self):
        # The glance also counts overdue items and reads the files of the communes shown: per page, not per commune.
        district = self.w.tan_yen
        Area.objects.filter(parent=district).update(valid_until=datetime.date(2000, 1, 1))
        made = []

        def add(count):
            made.extend(communes_under(district, count, prefix=f"H{len(made)}"))

        self.client.force_login(self.w.reviewer_tan_yen)
        response = self.assert_one_and_many(
            reverse("home"), add, lambda r: r.context["glances"][0]["page"].object_list, HOME_PAGE_SIZE
        )
        self.assertEqual(response.context["glances"][0]["page"].paginator.count, MANY + 1)


class IndicatorHistoryTests(PagingCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.indicator = (
            Indicator.objects.in_set(CriteriaSet.objects.get(code=SET_CODE))
            .filter(kind=IndicatorKind.NUMBER)
            .order_by("code")
            .first()
        )

    def setUp(self):
        self.client.force_login(self.w.officer_an_duong)
        self.url = reverse("indicator_history", args=[self.w.an_duong.pk, self.indicator.pk]) + f"?nam={YEAR}"

    def saves(self, count):
        """`count` more saves of the indicator, a minute apart, the value going 1, 2, 3…: the first through the
        service, the rest as the history rows it writes."""
        records = IndicatorResult.history.filter(area=self.w.an_duong, indicator=self.indicator, year=YEAR)
        newest = records.order_by("-history_date", "-history_id").first()
        if newest is None:
            criteria_services.record_indicator_result(
                area=self.w.an_duong, indicator=self.indicator, year=YEAR, user=self.w.officer_an_duong, value=1
            )
            newest, count = records.get(), count - 1
        made = []
        for n in range(1, count + 1):
            record = copy.copy(newest)
            record.history_id = None
            record.value = newest.value + n
            record.history_date = newest.history_date + datetime.timedelta(minutes=n)
            record.history_type = "~"
            made.append(record)
        IndicatorResult.history.model.objects.bulk_create(made)

    def test_the_history_of_an_indicator_is_paged_newest_first(self):
        response = self.assert_one_and_many(self.url, self.saves, lambda r: r.context["entries"], HISTORY_PAGE_SIZE)
        values = [{str(label): after for label, _before, after in e["changes"]} for e in response.context["entries"]]
        self.assertEqual([v["Giá trị"] for v in values[:2]], [str(MANY + 1), str(MANY)])
        # The page's oldest entry is diffed against the save just after the page, which is not shown.
        oldest = response.context["entries"][-1]["changes"]
        self.assertIn(("Giá trị", str(MANY + 1 - HISTORY_PAGE_SIZE), str(MANY + 2 - HISTORY_PAGE_SIZE)), oldest)
        self.assertContains(response, f"1–{HISTORY_PAGE_SIZE} trong {MANY + 1}")
        last = self.client.get(self.url + f"&trang={(MANY + 1 + HISTORY_PAGE_SIZE - 1) // HISTORY_PAGE_SIZE}")
        first_save = last.context["entries"][-1]["changes"]
        self.assertIn(("Giá trị", "—", "1"), first_save)
        self.assertContains(last, "nam=2024&amp;trang=1")

    def test_evidence_entries_take_their_place_among_the_saves(self):
        self.saves(60)  # minutes 0 to 59
        newest = IndicatorResult.history.order_by("-history_date").first().history_date
        evidence = Evidence.all_objects.create(
            area=self.w.an_duong,
            indicator=self.indicator,
            year=YEAR,
            file="minh-chung/bien-ban.pdf",
            original_name="bien-ban.pdf",
            content_type="application/pdf",
            size=10,
        )
        for deleted_at in [None, timezone.now(), None]:  # saved unchanged (no entry), deleted, restored
            evidence.deleted_at = deleted_at
            evidence.save()
        history = Evidence.history.filter(id=evidence.pk)
        # The upload between the saves of minutes 3 and 4, the rest after the newest save.
        stamps = history.order_by("history_id").values_list("pk", flat=True)
        for minutes, history_id in zip([-55.5, 1, 2, 3], stamps, strict=True):
            history.filter(pk=history_id).update(history_date=newest + datetime.timedelta(minutes=minutes))
        first = self.client.get(self.url).context["entries"]
        self.assertEqual(len(first), HISTORY_PAGE_SIZE)
        self.assertEqual([e["evidence"][0] for e in first[:2]], ["Khôi phục minh chứng", "Xóa minh chứng"])
        self.assertEqual([e["kind"] for e in first[2:]], ["result"] * (HISTORY_PAGE_SIZE - 2))
        second = self.client.get(self.url + "&trang=2").context["entries"]
        self.assertEqual(len(second), 60 + 3 - HISTORY_PAGE_SIZE)
        self.assertEqual([e["kind"] for e in second].index("evidence"), 8)
        self.assertEqual(second[8]["evidence"][0], "Tải lên minh chứng")


class PlaceFieldTests(PagingCase):
    """The plan-item form's "Địa điểm thực hiện": a typed place with suggestions, not a select of every unit."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.plan = Plan.objects.create(area=cls.w.tan_yen, year=YEAR, title="Kế hoạch huyện Tân Yên")

    def setUp(self):
        self.client.force_login(self.w.admin)
        self.suggest = reverse("place_suggestions", args=[self.plan.pk])

    def post_item(self, place):
        data = {
            "form_token": str(uuid.uuid4()),
            "title": "Làm đường thôn",
            "area": place,
            "status": "not_started",
            "progress": "0",
            "funding-TOTAL_FORMS": "0",
            "funding-INITIAL_FORMS": "0",
        }
        return self.client.post(reverse("item_create", args=[self.plan.pk]), data)

    def test_the_form_does_not_grow_with_the_units_under_the_plan(self):
        url = reverse("item_create", args=[self.plan.pk])
        made = []

        def add(count):
            made.extend(communes_under(self.w.tan_yen, count, prefix=f"F{len(made)}"))

        add(1)
        response, one = self.get_counted(url)
        size = len(response.content)
        add(MANY)
        with self.assertNumQueries(one):
            response = self.client.get(url)
        self.assertNotContains(response, "Xã phân trang")
        self.assertLess(abs(len(response.content) - size), 200)  # the form token differs, nothing else
        self.assertContains(response, f'hx-get="{self.suggest}"')
        self.assertContains(response, '<datalist id="place-suggestions">')

    def test_suggestions_are_few_and_under_the_plans_area(self):
        made = []

        def add(count):
            made.extend(communes_under(self.w.tan_yen, count, prefix=f"S{len(made)}"))

        communes_under(self.w.viet_yen, 3, prefix="OUT")  # same names, another district
        url = self.suggest + "?area=ph%C3%A2n+trang"
        add(1)
        response, one = self.get_counted(url)
        self.assertEqual(response.content.decode().count("<option"), 1)
        add(MANY)
        with self.assertNumQueries(one):
            response = self.client.get(url)
        self.assertEqual(response.content.decode().count("<option"), PLACE_SUGGESTIONS)
        self.assertContains(response, '<option value="xã Xã phân trang 0000, huyện Tân Yên">')
        self.assertContains(self.client.get(self.suggest + "?area=thôn+đồng"), "thôn Đồng Lạng, xã An Dương")
        self.assertNotContains(self.client.get(self.suggest + "?area=Tăng"), "<option")  # in huyện Việt Yên
        self.client.force_login(self.w.officer_an_duong)  # may not edit the district's plan
        self.assertEqual(self.client.get(url).status_code, 404)

    def test_a_typed_place_is_found_by_name_or_code(self):
        village, commune = self.w.an_duong_village, self.w.an_duong
        for typed, place in [
            ("thôn Đồng Lạng, xã An Dương", village),
            ("Đồng Lạng", village),
            ("đồng lạng", village),
            ("xã an dương", commune),
            ("T-07234", commune),
            ("", None),
        ]:
            with self.subTest(typed=typed):
                self.assertEqual(self.post_item(typed).status_code, 302)
                self.assertEqual(PlanItem.objects.latest("pk").area, place)
        item = PlanItem.objects.filter(area=village).first()
        response = self.client.get(reverse("item_edit", args=[item.pk]))
        self.assertContains(response, 'value="thôn Đồng Lạng, xã An Dương"')

    def test_an_unknown_or_ambiguous_place_is_refused_with_the_units_that_fit(self):
        other = Area(code="T-07210-91", name="Đồng Lạng", level=Level.VILLAGE, kind="thôn")
        other.parent = self.w.song_van
        other.fill_ancestors()
        other.save()
        response = self.post_item("Đồng Lạng")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Có nhiều địa bàn ứng với “Đồng Lạng”")
        self.assertContains(response, "thôn Đồng Lạng, xã An Dương; thôn Đồng Lạng, xã Song Vân")
        self.assertContains(response, 'value="Đồng Lạng"')  # what was typed stays in the box
        for typed in ["Tăng Tiến", "xã Không Có"]:  # the first is in huyện Việt Yên
            with self.subTest(typed=typed):
                response = self.post_item(typed)
                self.assertContains(response, f"Không có địa bàn “{typed}” thuộc huyện Tân Yên")
        self.assertFalse(PlanItem.objects.exists())
        self.assertEqual(self.post_item("thôn Đồng Lạng, xã Song Vân").status_code, 302)
        self.assertEqual(PlanItem.objects.get().area, other)
