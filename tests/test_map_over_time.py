"""The map as it is on a year's reporting date (31/12): pages, dashboards and commands over the 2025 reform.

A small hand-made reform on the personas' world: Tân Yên's communes (old tỉnh Bắc Giang) and a commune of the old
tỉnh Bắc Ninh become communes of the new tỉnh Bắc Ninh on 1/7/2025; xã Hùng Mỹ (Chiêm Hóa, old Tuyên Quang)
becomes part of xã Tân Mỹ of the new tỉnh Tuyên Quang; xã Lam Sơn is split between two new communes.
"""

import datetime
import re
from io import StringIO
from unittest import mock

from django.core.management import CommandError, call_command
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from areas import timeline
from areas.models import Area, AreaSuccession, Level, Share
from criteria import standings
from criteria.models import CriteriaSet, CriterionResult, Status
from dashboards import figures as dashboard_figures
from plans.models import Plan
from recognition import services as recognition
from tests.personas import build_world, make_area, make_user
from tests.test_prepared import assert_cells_read_as_their_queryset, assert_changes_read_as_their_queryset

OLD_END = datetime.date(2025, 6, 30)
NEW_START = datetime.date(2025, 7, 1)
OLD_SET = "xa_ntm_2016_2020"
SET = "xa_ntm_2021_2025"


def province(code, *, new):
    return Area.objects.provinces().get(code=code, **({"valid_from": NEW_START} if new else {"valid_from": None}))


def new_commune(code, name, parent, *froms):
    commune = make_area(code, name, Level.COMMUNE, parent, "xã", valid_from=NEW_START)
    for old, share in froms:
        AreaSuccession.objects.create(old=old, new=commune, share=share, on=NEW_START)
    return commune


def results(area, criteria_set, year, unmet=()):
    return [
        CriterionResult(area=area, criterion=c, year=year, status=Status.NOT_MET if c.number in unmet else Status.MET)
        for c in criteria_set.criteria.all()
    ]


def build_reform(w):
    """Ends the personas' old units on 30/6/2025 and forms the new ones of 1/7/2025, with their merge links."""
    w.old_bac_ninh = province("27", new=False)
    w.new_bac_ninh = province("24", new=True)
    w.new_tuyen_quang = province("08", new=True)
    w.tu_son = make_area("T-261", "Từ Sơn", Level.DISTRICT, w.old_bac_ninh, "thành phố")
    w.dong_ngan = make_area("T-09367", "Đồng Ngàn", Level.COMMUNE, w.tu_son, "phường")
    w.lam_son = make_area("T-07333", "Lam Sơn", Level.COMMUNE, w.tan_yen, "xã")
    w.old_tan_my = make_area("T-02308", "Tân Mỹ", Level.COMMUNE, w.chiem_hoa, "xã")
    old = [w.tan_yen, w.viet_yen, w.chiem_hoa, w.tu_son, w.an_duong, w.song_van, w.tang_tien, w.hung_my]
    old += [w.dong_ngan, w.lam_son, w.old_tan_my, w.an_duong_village, w.song_van_village]
    Area.objects.filter(pk__in=[a.pk for a in old]).update(valid_until=OLD_END)
    w.nha_nam = new_commune("T-07306", "Nhã Nam", w.new_bac_ninh, (w.an_duong, Share.FULL), (w.lam_son, Share.PARTIAL))
    w.ngoc_thien = new_commune(
        "T-07351", "Ngọc Thiện", w.new_bac_ninh, (w.song_van, Share.FULL), (w.lam_son, Share.PARTIAL)
    )
    w.van_ha = new_commune("T-07264", "Vân Hà", w.new_bac_ninh, (w.tang_tien, Share.FULL))
    w.tu_son_ward = new_commune("T-09370", "Từ Sơn", w.new_bac_ninh, (w.dong_ngan, Share.FULL))
    w.tan_my = new_commune("T-02308N", "Tân Mỹ", w.new_tuyen_quang, (w.hung_my, Share.FULL), (w.old_tan_my, Share.FULL))
    for area in old:
        area.refresh_from_db()
    return w


class MapOverTimeTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.w = w = build_reform(build_world())
        cls.old_set = CriteriaSet.objects.get(code=OLD_SET)
        cls.set = CriteriaSet.objects.get(code=SET)
        rows = [
            *results(w.an_duong, cls.old_set, 2019, unmet={6, 17}),
            *results(w.song_van, cls.old_set, 2019),
            *results(w.lam_son, cls.old_set, 2019),
            *results(w.tang_tien, cls.old_set, 2019, unmet={2}),
            *results(w.dong_ngan, cls.old_set, 2019),
            *results(w.hung_my, cls.old_set, 2019, unmet={17}),
            # 2024 on the old communes, 2025 on the new ones: the year's reporting date decides.
            *results(w.an_duong, cls.set, 2024),
            *results(w.hung_my, cls.set, 2024, unmet={6}),
            *results(w.nha_nam, cls.set, 2025, unmet={6}),
            *results(w.tan_my, cls.set, 2025),
        ]
        standings.restate_for(CriterionResult.objects.bulk_create(rows))
        cls.reviewer_new_bac_ninh = make_user("thamdinh.bacninh", w.new_bac_ninh, "reviewer")
        cls.officer_tan_my = make_user("canbo.tanmy", w.tan_my, "officer")

    def get(self, user, name, area=None, query=""):
        self.client.force_login(user)
        url = reverse(name, args=[area.pk]) if area is not None else reverse(name)
        response = self.client.get(url + query)
        self.assertEqual(response.status_code, 200)
        return response

    def crumbs(self, response):
        nav = response.content.decode().split('class="breadcrumbs"')[1].split(">", 1)[1].split("</nav>")[0]
        return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", nav)).strip()

    # ---------------------------------------------------------------- the resolver

    def test_a_new_province_over_an_old_year_counts_each_old_commune_once_under_what_it_became(self):
        scope = timeline.communes_at(self.w.new_bac_ninh, timeline.reporting_date(2019))
        became = {Area.objects.get(pk=pk).name: (area.name, partial) for pk, (area, partial) in scope.became.items()}
        self.assertEqual(
            became,
            {
                "An Dương": ("Nhã Nam", False),
                "Song Vân": ("Ngọc Thiện", False),
                # Split between Nhã Nam and Ngọc Thiện: counted once, under the smaller code, marked partial.
                "Lam Sơn": ("Nhã Nam", True),
                "Tăng Tiến": ("Vân Hà", False),
                "Đồng Ngàn": ("Từ Sơn", False),
            },
        )

    def test_codes_resolve_by_date_and_an_ambiguous_code_names_its_choices(self):
        self.assertEqual(timeline.unit_by_code("24", datetime.date(2024, 12, 31)), self.w.bac_giang)
        self.assertEqual(timeline.unit_by_code("24", datetime.date(2025, 12, 31)), self.w.new_bac_ninh)
        make_area("T-X", "Trùng Mã", Level.DISTRICT, self.w.new_tuyen_quang, "huyện")
        make_area("T-X", "Trùng Mã", Level.COMMUNE, self.w.new_tuyen_quang, "xã")
        with self.assertRaisesMessage(timeline.AmbiguousCode, "Mã “T-X” ứng với 2 đơn vị ngày 31/12/2025"):
            timeline.unit_by_code("T-X", datetime.date(2025, 12, 31))

    # ---------------------------------------------------------------- pages on a date

    def test_breadcrumbs_follow_each_units_own_map(self):
        response = self.get(self.w.admin, "area_detail", self.w.tan_my, "?nam=2026")
        self.assertEqual(self.crumbs(response), "tỉnh Tuyên Quang › xã Tân Mỹ")
        response = self.get(self.w.admin, "area_detail", self.w.hung_my, "?nam=2024")
        self.assertEqual(self.crumbs(response), "tỉnh Tuyên Quang › huyện Chiêm Hóa › xã Hùng Mỹ")
        self.assertContains(response, "Bản đồ hành chính ngày 31/12/2024")

    def test_a_unit_links_to_what_it_was_formed_from_and_what_it_became(self):
        response = self.get(self.w.admin, "area_detail", self.w.hung_my)
        successors = response.content.decode().split('id="sap-nhap-vao"')[1].split("</p>")[0]
        self.assertIn(f'href="{reverse("area_detail", args=[self.w.tan_my.pk])}"', successors)
        self.assertIn("xã Tân Mỹ", successors)
        response = self.get(self.w.admin, "area_detail", self.w.lam_son)
        self.assertEqual(response.content.decode().count('class="badge partial"'), 2)
        response = self.get(self.w.admin, "area_detail", self.w.tan_my)
        origins = response.content.decode().split('id="hinh-thanh-tu"')[1].split("</p>")[0]
        self.assertIn("xã Hùng Mỹ", origins)
        self.assertIn("huyện Chiêm Hóa", origins)

    def test_a_district_lists_the_communes_of_the_year_each_once(self):
        # A code reused in the district: the old commune until 29/6/2025, a new one from 30/6/2025.
        Area.objects.filter(pk=self.w.song_van.pk).update(valid_until=datetime.date(2025, 6, 29))
        again = make_area(
            "T-07210", "Song Vân", Level.COMMUNE, self.w.tan_yen, "xã", valid_from=OLD_END, valid_until=OLD_END
        )
        # 2024, and today (the district ended on 30/6/2025: its last day).
        for query, song_van in (("?nam=2024", self.w.song_van), ("", again)):
            children = self.get(self.w.admin, "area_detail", self.w.tan_yen, query).context["children"]
            self.assertEqual({c.pk for c in children}, {self.w.an_duong.pk, self.w.lam_son.pk, song_van.pk})

    def test_the_national_page_lists_63_provinces_before_the_reform_and_34_after(self):
        for year, provinces in ((2024, 63), (2025, 34)):
            response = self.get(self.w.admin, "dashboard_national", query=f"?nam={year}&bo={SET}")
            rows = [r["area"] for r in response.context["children"] if r["area"] is not None]
            self.assertEqual(len(rows), provinces)
            self.assertEqual(len(set(rows)), provinces)
            self.assertContains(response, f"Bản đồ hành chính ngày 31/12/{year}")

    def test_the_national_page_never_counts_a_commune_twice_in_the_reform_year(self):
        response = self.get(self.w.admin, "dashboard_national", query=f"?nam=2025&bo={SET}")
        figures = response.context["figures"]
        in_force = Area.objects.communes().valid_on(datetime.date(2025, 12, 31))
        self.assertEqual(figures["commune_count"], in_force.count())
        self.assertEqual(figures["commune_count"], 5)  # the new communes, not their predecessors as well
        self.assertEqual(figures["full"], 1)  # Tân Mỹ; An Dương's 2024 figures do not leak into 2025

    # ---------------------------------------------------------------- history follows the commune

    def test_the_new_provinces_dashboard_for_2019_groups_old_communes_under_what_they_became(self):
        response = self.get(self.reviewer_new_bac_ninh, "dashboard", self.w.new_bac_ninh, f"?nam=2019&bo={OLD_SET}")
        figures = response.context["figures"]
        self.assertEqual(figures["commune_count"], 5)
        self.assertEqual(figures["full"], 3)  # Song Vân, Lam Sơn, Đồng Ngàn
        groups = {r["area"].name: (r["full"], r["communes"]) for r in response.context["children"]}
        self.assertEqual(groups, {"Nhã Nam": (1, 2), "Ngọc Thiện": (1, 1), "Vân Hà": (0, 1), "Từ Sơn": (1, 1)})
        html = response.content.decode()
        self.assertIn("chưa thành lập ngày 31/12/2019", html)
        # Each old commune under its own name, with what it became; the new province's reviewer opens its page.
        lam_son = html.split("xã Lam Sơn</a></th>")[1].split("</td>")[0]
        self.assertIn("xã Nhã Nam", lam_son)
        self.assertIn("một phần", lam_son)
        self.assertIn(reverse("workspace", args=[self.w.lam_son.pk]), html)

    def test_a_dashboards_reads_are_the_same_prepared_across_the_reform(self):
        kinds = set()
        for area in (self.w.nha_nam, self.w.tan_my, self.w.new_bac_ninh, self.w.new_tuyen_quang, self.w.an_duong):
            for year in (2024, 2025, 2026):
                with self.subTest(area=area.name, year=year):
                    halves = assert_changes_read_as_their_queryset(self, area, self.set, year)
                    kinds.update(kind for kind, _size in halves or ())
                    kinds.add(assert_cells_read_as_their_queryset(self, area, self.set, year)[0])
        # Both kinds of scope were read: a year on the area's own map and one through the merge links.
        self.assertEqual(kinds, {"own", "ids"})

    def test_a_unit_formed_from_more_communes_than_a_prepared_statement_takes_reads_the_same(self):
        def figures_of_2024():
            found = dashboard_figures.commune_figures(self.w.new_bac_ninh, self.set, 2024)
            return [(row["area"].name, row["met"], row["cells"]) for row in found["rows"]], found["full"]

        prepared = figures_of_2024()
        old_communes = timeline.communes_at(self.w.new_bac_ninh, datetime.date(2024, 12, 31))
        with mock.patch.object(dashboard_figures, "PREPARED_IDS_MAX", 1):
            self.assertEqual(dashboard_figures._scope_shape(old_communes, 0), (None, None))
            self.assertEqual(figures_of_2024(), prepared)
        self.assertIn(("An Dương", 19), [(name, met) for name, met, _cells in prepared[0]])

    def test_a_new_communes_dashboard_shows_its_predecessors_results_under_their_own_names(self):
        response = self.get(self.officer_tan_my, "dashboard", self.w.tan_my, f"?nam=2025&bo={SET}")
        history = [(r["year"], r["unit"], r["met"]) for r in response.context["history"]]
        self.assertEqual(history, [(2025, "xã Tân Mỹ", 19), (2024, "xã Hùng Mỹ", 18), (2019, "xã Hùng Mỹ", 18)])
        self.assertContains(response, "chỉ để xem")

    def test_year_over_year_across_the_reform_compares_each_commune_with_itself_and_says_so(self):
        response = self.get(self.w.admin, "dashboard", self.w.tan_my, f"?nam=2025&bo={SET}")
        yoy = response.context["yoy"]
        # Hùng Mỹ lacked 6 in 2024 and Tân Mỹ meets it in 2025: different communes, no "gained" claimed.
        self.assertEqual((yoy["dropped"], yoy["gained"]), ([], []))
        self.assertTrue(yoy["map_changed"])
        self.assertContains(response, "So sánh từng xã với chính nó")

    # ---------------------------------------------------------------- query counts

    def test_a_new_provinces_dashboard_over_an_old_year_costs_the_same_queries_for_1_or_many_communes(self):
        self.client.force_login(self.w.admin)
        query = f"?nam=2019&bo={OLD_SET}"
        with CaptureQueriesContext(connection) as one:
            response = self.client.get(reverse("dashboard", args=[self.w.new_tuyen_quang.pk]) + query)
        self.assertEqual(response.context["figures"]["commune_count"], 2)
        with self.assertNumQueries(len(one.captured_queries)):
            response = self.client.get(reverse("dashboard", args=[self.w.new_bac_ninh.pk]) + query)
        self.assertEqual(response.context["figures"]["commune_count"], 5)


class PredecessorsRecordsTests(TestCase):
    """A new unit's plan and recognition pages list its predecessors' plans and files under their own names."""

    @classmethod
    def setUpTestData(cls):
        cls.w = w = build_reform(build_world())
        cls.old_set = CriteriaSet.objects.get(code=OLD_SET)
        cls.officer_tan_my = make_user("canbo.tanmy", w.tan_my, "officer")
        cls.reviewer_new_bac_ninh = make_user("thamdinh.bacninh", w.new_bac_ninh, "reviewer")
        cls.hung_my_plan = Plan.objects.create(area=w.hung_my, year=2024, number="12/KH-UBND", title="Kế hoạch 2024")
        cls.hung_my_file = recognition.open_file(area=w.hung_my, criteria_set=cls.old_set, year=2019)
        recognition.open_file(area=w.an_duong, criteria_set=cls.old_set, year=2019)
        recognition.open_file(area=w.dong_ngan, criteria_set=cls.old_set, year=2019)

    def get(self, user, name, arg, query=""):
        self.client.force_login(user)
        response = self.client.get(reverse(name, args=[arg]) + query)
        self.assertEqual(response.status_code, 200)
        return response.content.decode()

    def test_a_new_communes_plan_list_shows_its_predecessors_plans_to_read(self):
        html = self.get(self.officer_tan_my, "plan_list", self.w.tan_my.pk)
        past = html.split('id="ke-hoach-truoc-sap-nhap"')[1].split("</section>")[0]
        self.assertIn("Kế hoạch 2024", past)
        self.assertIn("xã Hùng Mỹ", past)
        self.assertIn(reverse("plan_detail", args=[self.hung_my_plan.pk]), past)
        # The predecessor's plan opens without "Thêm nội dung", and adding an item to it is refused.
        html = self.get(self.officer_tan_my, "plan_detail", self.hung_my_plan.pk)
        self.assertNotIn(reverse("item_create", args=[self.hung_my_plan.pk]), html)
        self.assertEqual(self.client.get(reverse("item_create", args=[self.hung_my_plan.pk])).status_code, 404)

    def test_a_new_communes_recognition_page_lists_its_predecessors_files_to_read(self):
        html = self.get(self.officer_tan_my, "recognition_file", self.w.tan_my.pk, "?nam=2026")
        past = html.split('id="ho-so-truoc-sap-nhap"')[1].split("</section>")[0]
        self.assertIn("xã Hùng Mỹ", past)
        self.assertIn(f"{reverse('recognition_file', args=[self.w.hung_my.pk])}?nam=2019&amp;bo={OLD_SET}", past)
        # Hùng Mỹ's own file page: the new commune's officer reads it, with no step to take and nothing to edit.
        html = self.get(self.officer_tan_my, "recognition_file", self.w.hung_my.pk, f"?nam=2019&bo={OLD_SET}")
        self.assertIn("Bạn không có bước nào cần làm với hồ sơ này", html)
        self.assertNotIn(reverse("recognition_step", args=[self.w.hung_my.pk]), html)
        self.assertNotIn(reverse("recognition_details", args=[self.w.hung_my.pk]), html)

    def test_a_predecessor_merged_only_in_part_is_marked_so_on_the_plan_and_recognition_pages(self):
        # Nhã Nam took all of An Dương and part of Lam Sơn (the rest went to Ngọc Thiện).
        officer_nha_nam = make_user("canbo.nhanam", self.w.nha_nam, "officer")
        Plan.objects.create(area=self.w.lam_son, year=2024, title="Kế hoạch Lam Sơn 2024")
        Plan.objects.create(area=self.w.an_duong, year=2024, title="Kế hoạch An Dương 2024")
        recognition.open_file(area=self.w.lam_son, criteria_set=self.old_set, year=2019)

        def rows(html, section):
            body = html.split(f'id="{section}"')[1].split("</section>")[0].split("<tbody>")[1]
            return {("Lam Sơn" if "Lam Sơn" in r else "An Dương"): r for r in body.split("<tr>")[1:]}

        plans = rows(self.get(officer_nha_nam, "plan_list", self.w.nha_nam.pk), "ke-hoach-truoc-sap-nhap")
        self.assertIn('xã Lam Sơn <span class="muted">(một phần)</span>', plans["Lam Sơn"])
        self.assertNotIn("một phần", plans["An Dương"])
        files = rows(
            self.get(officer_nha_nam, "recognition_file", self.w.nha_nam.pk, "?nam=2026"), "ho-so-truoc-sap-nhap"
        )
        self.assertIn("(một phần)", files["Lam Sơn"])
        self.assertNotIn("một phần", files["An Dương"])

    def test_a_new_provinces_recognition_list_for_an_old_year_lists_the_communes_it_was_formed_from(self):
        self.client.force_login(self.reviewer_new_bac_ninh)
        url = reverse("recognition_list", args=[self.w.new_bac_ninh.pk]) + f"?nam=2019&bo={OLD_SET}"
        response = self.client.get(url)
        names = {row.commune.name for row in response.context["rows"]}
        self.assertEqual(names, {"An Dương", "Đồng Ngàn", "Lam Sơn", "Song Vân", "Tăng Tiến"})
        self.assertEqual(sum(1 for row in response.context["rows"] if row.file), 2)
        self.assertContains(response, "chưa thành lập vào năm 2019")

    def test_the_workspace_and_recognition_pages_say_which_map_they_use(self):
        html = self.get(self.w.admin, "workspace", self.w.hung_my.pk, f"?nam=2024&bo={SET}")
        self.assertIn("Bản đồ hành chính ngày 31/12/2024", html)
        html = self.get(self.officer_tan_my, "recognition_file", self.w.tan_my.pk, "?nam=2026")
        self.assertIn("Bản đồ hành chính ngày 31/12/2026", html)
        html = self.get(self.reviewer_new_bac_ninh, "recognition_list", self.w.new_bac_ninh.pk, "?nam=2026")
        self.assertIn("Bản đồ hành chính ngày 31/12/2026", html)


class ExportByDateTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.w = build_reform(build_world())

    def export(self, *args):
        out = StringIO()
        call_command("export_bieu", *args, "--form", "01", "-o", "/dev/null", stdout=out)
        return out.getvalue()

    def test_a_province_code_is_read_on_the_years_reporting_date(self):
        self.assertIn("Bắc Ninh", self.export("--area", "24", "--year", "2025"))
        self.assertIn("Bắc Giang", self.export("--area", "24", "--year", "2024"))

    def test_an_ambiguous_code_is_refused_with_the_choices(self):
        make_area("T-X", "Trùng Mã", Level.DISTRICT, self.w.bac_giang, "huyện")
        make_area("T-X", "Trùng Mã", Level.COMMUNE, self.w.bac_giang, "xã")
        with self.assertRaises(CommandError) as caught:
            self.export("--area", "T-X", "--year", "2024")
        self.assertIn("huyện Trùng Mã (huyện", str(caught.exception))
        self.assertIn("xã Trùng Mã (xã", str(caught.exception))
        self.assertIn("huyện Trùng Mã", self.export("--area", "T-X", "--year", "2024", "--level", "district"))


class BothMapsScaleTests(TestCase):
    """generate_scale --map both: the old map, the new one from 1/7/2025 and the merge links between them."""

    @classmethod
    def setUpTestData(cls):
        args = ["--provinces", "3", "--districts-per-province", "1", "--communes-per-district", "4"]
        args += ["--villages-per-commune", "0", "--years", "1", "--map", "both"]
        call_command("generate_scale", *args, stdout=StringIO(), stderr=StringIO())

    def test_every_old_commune_is_linked_to_the_new_map_and_counted_once_under_a_new_province(self):
        old = Area.objects.communes().filter(code__startswith="G-", valid_until=OLD_END)
        new = Area.objects.communes().filter(code__startswith="G-", valid_from=NEW_START)
        self.assertEqual(old.count(), 12)
        self.assertTrue(new.exists())
        self.assertFalse(old.filter(succession_to__isnull=True).exists())
        day = timeline.reporting_date(2024)
        counted = []
        for province in Area.objects.provinces().filter(pk__in=new.values("province")):
            counted += timeline.communes_at(province, day).queryset().values_list("pk", flat=True)
        self.assertEqual(sorted(counted), sorted(old.values_list("pk", flat=True)))
        self.assertTrue(CriterionResult.objects.filter(area__in=new, year=2025).exists())
