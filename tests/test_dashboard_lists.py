"""The lists a dashboard shows beside the standings — plan items overdue or due, criteria dropped and gained — read
the same rows at a cost that does not grow with their number (issue 19)."""

import datetime

from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from areas import timeline
from areas.models import Area, Level
from criteria import standings
from criteria.models import CriteriaSet, CriterionResult, Status
from dashboards import figures
from plans.models import Plan, PlanItem
from tests.personas import build_world, make_area
from tests.test_map_over_time import OLD_END, build_reform

YEAR = 2024
SET_CODE = "xa_ntm_2021_2025"


class PlanItemListTests(TestCase):
    """Which items concern an area (its plans and its units', and the items of plans above placed in it), and the
    dashboard's short lists of them: two queries for one item or for many."""

    @classmethod
    def setUpTestData(cls):
        cls.w = w = build_world()
        cls.today = timezone.localdate()
        plans = {
            area: Plan.objects.create(area=area, year=cls.today.year, title=f"Kế hoạch {area.name}")
            for area in (w.bac_giang, w.tan_yen, w.an_duong, w.an_duong_village, w.hung_my)
        }
        cls.plans = plans
        cls.district_own = cls.item(plans[w.tan_yen], "Việc chung của huyện")
        cls.district_in_village = cls.item(plans[w.tan_yen], "Đường thôn Đồng Lạng", area=w.an_duong_village)
        cls.province_in_song_van = cls.item(plans[w.bac_giang], "Trường học Song Vân", area=w.song_van)
        cls.province_own = cls.item(plans[w.bac_giang], "Việc chung của tỉnh")
        cls.commune_own = cls.item(plans[w.an_duong], "Nhà văn hóa An Dương")
        cls.village_own = cls.item(plans[w.an_duong_village], "Điện chiếu sáng thôn")
        cls.elsewhere = cls.item(plans[w.hung_my], "Việc ở tỉnh khác")

    @classmethod
    def item(cls, plan, title, days_late=10, **fields):
        return PlanItem.objects.create(
            plan=plan,
            title=title,
            deadline_precision="day",
            deadline_date=cls.today - datetime.timedelta(days=days_late),
            deadline_label=f"trễ {days_late} ngày",
            **fields,
        )

    def titles(self, area):
        return set(PlanItem.objects.concerning(area).values_list("title", flat=True))

    def test_items_concerning_each_area(self):
        w = self.w
        self.assertEqual(
            self.titles(w.an_duong), {"Đường thôn Đồng Lạng", "Nhà văn hóa An Dương", "Điện chiếu sáng thôn"}
        )
        self.assertEqual(self.titles(w.song_van), {"Trường học Song Vân"})
        self.assertEqual(self.titles(w.song_van_village), set())
        self.assertEqual(
            self.titles(w.tan_yen),
            {
                "Việc chung của huyện",
                "Đường thôn Đồng Lạng",
                "Trường học Song Vân",
                "Nhà văn hóa An Dương",
                "Điện chiếu sáng thôn",
            },
        )
        self.assertEqual(
            PlanItem.objects.concerning(w.bac_giang).count(), PlanItem.objects.exclude(pk=self.elsewhere.pk).count()
        )
        # Everything a reader may see: a queryset of areas.
        readable = Area.objects.filter(pk__in=[w.song_van.pk, w.hung_my.pk])
        self.assertEqual(
            set(PlanItem.objects.concerning(readable).values_list("title", flat=True)),
            {"Trường học Song Vân", "Việc ở tỉnh khác"},
        )

    def test_each_item_is_counted_once_though_it_concerns_the_area_twice(self):
        # A district item placed in its own district's commune is both "of its plans" and "placed in it".
        self.assertEqual(PlanItem.objects.concerning(self.w.tan_yen).filter(pk=self.district_in_village.pk).count(), 1)
        self.assertEqual(figures.plan_figures(self.w.tan_yen, self.today)["overdue_count"], 5)

    def test_the_short_lists_cost_two_queries_for_one_item_or_for_many(self):
        w = self.w
        with self.assertNumQueries(2):
            one = figures.plan_figures(w.song_van, self.today)
            shown = [(item.title, item.deadline_label, str(item.area)) for item in one["overdue"]]
        self.assertEqual(shown, [("Trường học Song Vân", "trễ 10 ngày", "xã Song Vân")])
        self.assertEqual(one["overdue_count"], 1)

        for i in range(30):
            self.item(self.plans[w.bac_giang], f"Việc tỉnh giao số {i}", days_late=20 + i, area=w.song_van_village)
        own = Plan.objects.create(area=w.song_van, year=self.today.year, title="Kế hoạch Song Vân")
        for i in range(5):
            self.item(own, f"Việc của xã số {i}", days_late=100 + i)
        with self.assertNumQueries(2):
            many = figures.plan_figures(w.song_van, self.today)
            shown = [(item.title, str(item.area) if item.area else "") for item in many["overdue"]]
        self.assertEqual(many["overdue_count"], 36)
        # The longest overdue first, at most LIST_LIMIT of them.
        self.assertEqual(len(shown), figures.LIST_LIMIT)
        self.assertEqual(shown[:2], [("Việc của xã số 4", ""), ("Việc của xã số 3", "")])
        self.assertEqual(shown[5], ("Việc tỉnh giao số 29", "thôn Chính Lan"))

    def test_the_district_dashboard_lists_the_items_placed_in_its_communes(self):
        self.client.force_login(self.w.reviewer_tan_yen)
        response = self.client.get(reverse("dashboard", args=[self.w.tan_yen.pk]))
        self.assertContains(response, "Trường học Song Vân")
        self.assertContains(response, "trễ 10 ngày · thôn Đồng Lạng")
        self.assertNotContains(response, "Việc ở tỉnh khác")


class YearOverYearTests(TestCase):
    """Criteria dropped and gained between two years: the same few queries for one commune or twenty, and each
    commune's line built once (links, names escaped)."""

    @classmethod
    def setUpTestData(cls):
        cls.w = w = build_world()
        cls.set = CriteriaSet.objects.get(code=SET_CODE)
        criteria = list(cls.set.criteria.order_by("number"))
        cls.one = make_area("T-960", "Một Xã", Level.DISTRICT, w.bac_giang, "huyện")
        cls.many = make_area("T-961", "Hai Mươi Xã", Level.DISTRICT, w.bac_giang, "huyện")
        cls.odd = make_area("T-96001", "Tân & <Mới>", Level.COMMUNE, cls.one, "xã")
        communes = [make_area(f"T-9610{i:02d}", f"Xã số {i}", Level.COMMUNE, cls.many, "xã") for i in range(20)]

        def rows(area, unmet, year):
            return [
                CriterionResult(
                    area=area, criterion=c, year=year, status=Status.NOT_MET if c.number in unmet else Status.MET
                )
                for c in criteria
            ]

        # Each commune drops criterion 6 and gains criterion 1.
        results = []
        for commune in [cls.odd, *communes]:
            results += rows(commune, {1}, YEAR - 1) + rows(commune, {6}, YEAR)
        standings.restate_for(CriterionResult.objects.bulk_create(results))

    def test_the_cost_does_not_grow_with_the_communes(self):
        query = f"?nam={YEAR}&bo={SET_CODE}"
        with self.assertNumQueries(3):
            one = figures.year_over_year(self.one, self.set, YEAR, query=query)
        with self.assertNumQueries(3):
            many = figures.year_over_year(self.many, self.set, YEAR, query=query)
        self.assertEqual((len(one["dropped"]), len(one["gained"]), one["compared"]), (1, 1, 1))
        self.assertEqual((len(many["dropped"]), len(many["gained"]), many["compared"]), (20, 20, 20))
        # The years each commune has data for, when the standings gave them: one query fewer.
        with self.assertNumQueries(2):
            figures.year_over_year(self.many, self.set, YEAR, data_years={1: {YEAR - 1, YEAR}}, query=query)

    def test_each_commune_is_one_line_linking_to_its_dashboard_with_its_name_escaped(self):
        yoy = figures.year_over_year(self.one, self.set, YEAR, query=f"?nam={YEAR}&bo={SET_CODE}")
        link = reverse("dashboard", args=[self.odd.pk]) + f"?nam={YEAR}&amp;bo={SET_CODE}"
        self.assertEqual(
            yoy["dropped_html"],
            f'<li><a href="{link}">xã Tân &amp; &lt;Mới&gt;</a>: rớt tiêu chí '
            '<span title="Cơ sở vật chất văn hóa">6</span></li>',
        )
        self.assertEqual(
            yoy["gained_html"],
            f'<li><a href="{link}">xã Tân &amp; &lt;Mới&gt;</a>: đạt thêm tiêu chí '
            '<span title="Quy hoạch">1</span></li>',
        )


class WalkBackTests(TestCase):
    """A new province over two old years: the communes it was formed from are found by one walk back through the
    merges, reused for the year before when no unit it read began or ended between the two days."""

    @classmethod
    def setUpTestData(cls):
        cls.w = build_reform(build_world())

    def fresh(self, day):
        return timeline.communes_at(self.w.new_bac_ninh, day)

    def test_the_year_before_reuses_the_walk(self):
        this_year = self.fresh(datetime.date(2020, 12, 31))
        self.assertTrue(this_year.mapped)
        day = datetime.date(2019, 12, 31)
        with self.assertNumQueries(0):
            before = timeline.communes_at(self.w.new_bac_ninh, day, known=this_year)
        again = self.fresh(day)
        self.assertEqual((before.day, before.ids, before.became), (day, again.ids, again.became))

    def test_a_unit_ending_between_the_two_days_is_walked_again(self):
        known = self.fresh(datetime.date(2024, 12, 31))
        # The old communes ended on 30/6/2025: that day is walked again, and finds the same old communes.
        with CaptureQueriesContext(connection) as walk:
            last_day = timeline.communes_at(self.w.new_bac_ninh, OLD_END, known=known)
        self.assertGreater(len(walk.captured_queries), 0)
        self.assertEqual(sorted(last_day.ids), sorted(known.ids))
