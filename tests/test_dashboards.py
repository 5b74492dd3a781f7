import calendar
import datetime
import re
from decimal import Decimal

from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from areas.models import Area, Level
from criteria import standings
from criteria.models import CriteriaSet, CriterionResult, Status
from plans.models import FundingLine, FundingSource, ItemStatus, Plan, PlanItem
from recognition import services as recognition
from tests.personas import build_world, make_area

YEAR = 2024
SET_CODE = "xa_ntm_2021_2025"


def results_for(area, criteria, unmet=(), year=YEAR):
    """One row per criterion: met, except the numbers in `unmet`."""
    return [
        CriterionResult(area=area, criterion=c, year=year, status=Status.NOT_MET if c.number in unmet else Status.MET)
        for c in criteria
    ]


def add_plan(area, today, *, planned, disbursed, source):
    """An overdue item and an item due this month under `area`, with money on the overdue one."""
    plan = Plan.objects.create(area=area, year=today.year, title=f"Kế hoạch {area.name}")
    overdue = PlanItem.objects.create(
        plan=plan,
        title=f"Cứng hóa đường trục xã {area.name}",
        deadline_precision="day",
        deadline_date=today - datetime.timedelta(days=40),
        deadline_label="quá hạn",
    )
    last = today.replace(day=calendar.monthrange(today.year, today.month)[1])
    PlanItem.objects.create(
        plan=plan, title=f"Nâng cấp trạm y tế {area.name}", deadline_precision="day", deadline_date=last
    )
    PlanItem.objects.create(
        plan=plan,
        title="Việc đã xong",
        deadline_precision="day",
        deadline_date=today - datetime.timedelta(days=40),
        status=ItemStatus.DONE,
    )
    FundingLine.objects.create(item=overdue, source=source, planned=planned, disbursed=disbursed)


class DashboardTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.w = w = build_world()
        cls.set = CriteriaSet.objects.get(code=SET_CODE)
        cls.criteria = list(cls.set.criteria.order_by("number"))
        # Five communes: two at 19/19, one lacking 6 and 17, one at 12/19, one never assessed.
        cls.small = make_area("T-901", "Năm Xã", Level.DISTRICT, w.bac_giang, "huyện")
        cls.full_a = make_area("T-90101", "Đại Hóa", Level.COMMUNE, cls.small, "xã")
        cls.full_b = make_area("T-90102", "Bình Minh", Level.COMMUNE, cls.small, "xã")
        cls.lagging = make_area("T-90103", "Cao Xá", Level.COMMUNE, cls.small, "xã")
        cls.weak = make_area("T-90104", "Yên Lư", Level.COMMUNE, cls.small, "xã")
        cls.blank = make_area("T-90105", "Ánh Dương", Level.COMMUNE, cls.small, "xã")
        rows = [
            *results_for(cls.full_a, cls.criteria),
            *results_for(cls.full_b, cls.criteria),
            *results_for(cls.lagging, cls.criteria, unmet={6, 17}),
            *results_for(cls.weak, cls.criteria, unmet={2, 3, 4, 5, 6, 7, 17}),
            # Last year Cao Xá still met criterion 6 and Yên Lư had not yet met criterion 1.
            *results_for(cls.lagging, cls.criteria, unmet={17}, year=YEAR - 1),
            *results_for(cls.weak, cls.criteria, unmet={1, 2, 3, 4, 5, 6, 7, 17}, year=YEAR - 1),
        ]
        cls.large = make_area("T-950", "Năm Mươi Xã", Level.DISTRICT, w.bac_giang, "huyện")
        for i in range(50):
            commune = make_area(f"T-950{i:02d}", f"Xã số {i}", Level.COMMUNE, cls.large, "xã")
            rows += results_for(commune, cls.criteria, unmet=set(range(1, 1 + i % 12)))
            rows += results_for(commune, cls.criteria, unmet=set(range(1, 1 + i % 7)), year=YEAR - 1)
        standings.restate_for(CriterionResult.objects.bulk_create(rows))
        cls.today = timezone.localdate()
        source = FundingSource.objects.get(code="CTMTQG_NTM")
        cls.province_source = FundingSource.objects.get(code="NS_TINH")
        add_plan(cls.small, cls.today, planned=Decimal("1200.5"), disbursed=Decimal("600.25"), source=source)
        add_plan(cls.full_a, cls.today, planned=Decimal("300"), disbursed=Decimal("0"), source=cls.province_source)
        add_plan(cls.large, cls.today, planned=Decimal("10"), disbursed=Decimal("5"), source=source)

    def url(self, area, **params):
        query = "&".join(f"{k}={v}" for k, v in params.items())
        return reverse("dashboard", args=[area.pk]) + (f"?{query}" if query else "")

    def get(self, user, url):
        self.client.force_login(user)
        return self.client.get(url)

    def names_in_matrix(self, response):
        matrix = response.content.decode().split('id="ma-tran"')[1]
        return re.findall(r'<th scope="row" class="name"><a href="[^"]*">xã ([^<]+)</a>', matrix)

    # ---------------------------------------------------------------- figures

    def test_district_counts_communes_meeting_all_criteria_and_the_share(self):
        response = self.get(self.w.admin, self.url(self.small))
        figures = response.context["figures"]
        self.assertEqual(figures["commune_count"], 5)
        self.assertEqual(figures["full"], 2)
        self.assertContains(response, "xã đạt 19/19 tiêu chí theo đánh giá")
        # Meeting every criterion by assessment is not "đạt chuẩn": no commune has a recognition decision.
        self.assertContains(response, "Tỷ lệ xã đạt chuẩn NTM (đã được công nhận): 0/5")
        self.assertContains(response, "trên 4 xã có số liệu")

    def test_communes_fall_into_bands_with_the_unassessed_one_in_its_own_band(self):
        response = self.get(self.w.admin, self.url(self.small))
        bands = {b["band"].key: b["band"].count for b in response.context["figures"]["bands"]}
        self.assertEqual(bands, {"19": 2, "15-18": 1, "10-14": 1, "duoi-10": 0, "chua-co-so-lieu": 1})
        self.assertContains(response, "1 xã chưa có số liệu: cột riêng, không tính là chưa đạt.")

    def test_failure_ranking_puts_the_most_failed_criteria_first(self):
        response = self.get(self.w.admin, self.url(self.small))
        ranking = [(f["criterion__number"], f["communes"]) for f in response.context["figures"]["failing"]]
        self.assertEqual(ranking, [(6, 2), (17, 2), (2, 1), (3, 1), (4, 1), (5, 1), (7, 1)])

    def test_default_year_is_the_latest_with_results_and_default_set_the_national_one(self):
        response = self.get(self.w.admin, self.url(self.small))
        self.assertEqual(response.context["year"], YEAR)
        self.assertEqual(response.context["criteria_set"].code, SET_CODE)

    def test_matrix_sorts_by_criteria_met_or_by_name(self):
        by_met = self.names_in_matrix(self.get(self.w.admin, self.url(self.small, sap_xep="dat")))
        self.assertEqual(by_met[:2], ["Bình Minh", "Đại Hóa"])
        self.assertEqual(by_met[2:], ["Cao Xá", "Yên Lư", "Ánh Dương"])
        by_name = self.names_in_matrix(self.get(self.w.admin, self.url(self.small, sap_xep="ten")))
        self.assertEqual(by_name, ["Ánh Dương", "Bình Minh", "Cao Xá", "Đại Hóa", "Yên Lư"])

    def test_band_link_filters_the_matrix(self):
        response = self.get(self.w.admin, self.url(self.small))
        self.assertContains(response, f"?nam={YEAR}&amp;bo={SET_CODE}&amp;nhom=15-18#ma-tran")
        filtered = self.get(self.w.admin, self.url(self.small, nam=YEAR, bo=SET_CODE, nhom="15-18"))
        self.assertEqual(self.names_in_matrix(filtered), ["Cao Xá"])

    def test_matrix_cells_are_coloured_and_communes_link_to_their_workspace(self):
        response = self.get(self.w.admin, self.url(self.small))
        workspace = reverse("workspace", args=[self.lagging.pk]) + f"?nam={YEAR}&amp;bo={SET_CODE}"
        self.assertContains(response, f'href="{workspace}"')
        row = response.content.decode().split(workspace)[1].split("</tr>")[0]
        self.assertEqual(row.count("st-met"), 17)
        self.assertEqual(row.count("st-not_met"), 2)
        self.assertIn("17/19", row)

    def test_each_matrix_row_is_headed_by_its_commune_for_screen_readers(self):
        response = self.get(self.w.admin, self.url(self.small))
        rows = response.content.decode().split('id="ma-tran"')[1].split("<tbody>")[1].split("</tbody>")[0]
        rows = [r.strip() for r in rows.split("<tr")[1:]]
        self.assertEqual(len(rows), 5)
        for row in rows:
            first_cell = row.split(">", 1)[1].strip()
            self.assertTrue(first_cell.startswith('<th scope="row" class="name">'), first_cell[:80])

    def test_year_over_year_shows_dropped_and_gained_criteria(self):
        response = self.get(self.w.admin, self.url(self.small))
        yoy = response.context["yoy"]
        self.assertEqual([(e["area_id"], e["number"]) for e in yoy["dropped"]], [(self.lagging.pk, 6)])
        self.assertEqual([(e["area_id"], e["number"]) for e in yoy["gained"]], [(self.weak.pk, 1)])
        self.assertContains(response, 'rớt tiêu chí <span title="Cơ sở vật chất văn hóa">6</span>')

    def test_district_criteria_are_listed_with_the_derived_share(self):
        response = self.get(self.w.admin, self.url(self.small))
        district = response.context["district"]
        self.assertEqual(district["set"].code, "huyen_ntm_2021_2025")
        self.assertEqual(len(district["criteria"]), 9)
        self.assertContains(response, '<td id="derived-share">0/5 = 0,0 %</td>', html=False)

    def test_plan_items_overdue_and_due_this_month_are_counted_under_the_district(self):
        response = self.get(self.w.admin, self.url(self.small))
        plans = response.context["plans"]
        # The district's own plan and Đại Hóa's plan; the finished item is not overdue.
        self.assertEqual(plans["overdue_count"], 2)
        self.assertEqual(plans["due_count"], 2)
        self.assertContains(response, "Cứng hóa đường trục xã Đại Hóa")
        self.assertNotContains(response, "Việc đã xong")

    def test_funding_is_summed_by_source_in_vietnamese_numbers(self):
        response = self.get(self.w.admin, self.url(self.small))
        rows = {r["source__code"]: (r["planned"], r["disbursed"]) for r in response.context["funding"]["rows"]}
        self.assertEqual(
            rows, {"CTMTQG_NTM": (Decimal("1200.5"), Decimal("600.25")), "NS_TINH": (Decimal("300"), Decimal("0"))}
        )
        self.assertContains(response, "1.500,5")

    def test_province_lists_districts_with_their_share(self):
        response = self.get(self.w.reviewer_bac_giang, reverse("dashboard", args=[self.w.bac_giang.pk]))
        self.assertEqual(response.status_code, 200)
        rows = {
            r["area"].pk: (r["recognised"], r["full"], r["with_data"], r["communes"])
            for r in response.context["children"]
            if r["area"]
        }
        self.assertEqual(rows[self.small.pk], (0, 2, 4, 5))
        # Xã số 0, 12, 24, 36, 48 lack nothing.
        self.assertEqual(rows[self.large.pk], (0, 5, 50, 50))
        self.assertEqual(rows[self.w.tan_yen.pk], (0, 0, 0, 2))
        self.assertContains(response, "2/4")

    def test_commune_dashboard_shows_criteria_met_over_the_years(self):
        response = self.get(self.w.admin, self.url(self.lagging))
        history = [(r["year"], r["met"]) for r in response.context["history"]]
        self.assertEqual(history, [(YEAR, 17), (YEAR - 1, 18)])
        self.assertContains(response, 'rớt tiêu chí <span title="Cơ sở vật chất văn hóa">6</span>')

    # ---------------------------------------------------------------- query counts

    def test_district_query_count_does_not_grow_with_communes(self):
        self.client.force_login(self.w.admin)
        with CaptureQueriesContext(connection) as small:
            self.assertEqual(self.client.get(self.url(self.small)).status_code, 200)
        with self.assertNumQueries(len(small.captured_queries)):
            response = self.client.get(self.url(self.large))
        self.assertEqual(response.context["figures"]["commune_count"], 50)

    def test_province_query_count_does_not_grow_with_communes(self):
        self.client.force_login(self.w.reviewer_bac_giang)
        self.w.reviewer_bac_giang.ntm_roles.create(area=self.w.tuyen_quang, kind="reviewer")
        with CaptureQueriesContext(connection) as small:
            self.assertEqual(self.client.get(self.url(self.w.tuyen_quang, nam=YEAR)).status_code, 200)
        with self.assertNumQueries(len(small.captured_queries)):
            response = self.client.get(self.url(self.w.bac_giang, nam=YEAR))
        self.assertEqual(response.context["figures"]["commune_count"], 58)

    def test_dashboards_cost_at_most_fifteen_queries(self):
        pages = [
            (self.w.admin, self.url(self.large)),
            (self.w.reviewer_bac_giang, self.url(self.w.bac_giang, nam=YEAR)),
            (self.w.admin, reverse("dashboard_national") + f"?nam={YEAR}"),
        ]
        for user, url in pages:
            self.client.force_login(user)
            with CaptureQueriesContext(connection) as ctx:
                self.assertEqual(self.client.get(url).status_code, 200)
            self.assertLessEqual(len(ctx.captured_queries), 15, "\n".join(q["sql"][:150] for q in ctx.captured_queries))

    def test_national_figures_are_tallied_in_the_database(self):
        response = self.get(self.w.admin, reverse("dashboard_national") + f"?nam={YEAR}")
        figures = response.context["figures"]
        communes = Area.objects.communes().in_year(YEAR)
        self.assertEqual(figures["commune_count"], communes.count())
        # Đại Hóa, Bình Minh and the five of the 50 lacking nothing.
        self.assertEqual(figures["full"], 7)
        self.assertEqual(sum(b["band"].count for b in figures["bands"]), communes.count())
        self.assertEqual(figures["bands"][0]["band"].count, 7)
        failing = {f["criterion__number"]: f["communes"] for f in figures["failing"]}
        # Criterion 1 is unmet by Xã số i whenever i % 12 >= 1: 45 of the 50.
        self.assertEqual(failing[1], 45)

    def recognise(self, commune):
        recognition.record_past_decision(
            area=commune, criteria_set=self.set, year=YEAR - 1, number=f"{commune.pk}/QĐ-UBND",
            date=datetime.date(YEAR - 1, 12, 1), user=self.w.admin,
        )  # fmt: skip

    def test_national_table_finds_a_province_typed_without_diacritics_with_its_recognised_communes(self):
        self.recognise(self.full_a)
        response = self.get(self.w.admin, reverse("dashboard_national") + f"?nam={YEAR}&tim=bac+giang")
        rows = [(r["area"], r["recognised"], r["communes"]) for r in response.context["child_rows"]]
        self.assertEqual(rows, [(self.w.bac_giang, 1, 58)])
        self.assertContains(response, '<td class="num">1/58</td>', html=False)
        self.assertContains(response, 'name="tim" value="bac giang"')

    def test_national_table_shows_twenty_provinces_a_page(self):
        url = reverse("dashboard_national") + f"?nam={YEAR}&bo={SET_CODE}"
        first = self.get(self.w.admin, url)
        self.assertEqual(len(first.context["child_rows"]), 20)
        self.assertContains(first, "Trang 1/4")
        self.assertContains(first, f'href="?nam={YEAR}&amp;bo={SET_CODE}&amp;trang=2"')
        second = self.client.get(url + "&trang=2")
        self.assertContains(second, "Trang 2/4")
        shown = {r["area"].pk for r in first.context["child_rows"]}
        self.assertEqual(len({r["area"].pk for r in second.context["child_rows"]} - shown), 20)

    def test_national_table_sorts_by_share_recognised_at_the_same_cost_for_2_or_10_provinces(self):
        others = Area.objects.provinces().in_year(YEAR).exclude(pk__in=[self.w.bac_giang.pk, self.w.tuyen_quang.pk])
        provinces = list(others.order_by("code")[:10])

        def recognise_one_commune_in(chosen):
            for province in chosen:
                self.recognise(make_area(f"T-R{province.code}", "Được Công Nhận", Level.COMMUNE, province, "xã"))

        url = reverse("dashboard_national") + f"?nam={YEAR}&bo={SET_CODE}&xep=ty_le"
        recognise_one_commune_in(provinces[:2])
        self.client.force_login(self.w.admin)
        with CaptureQueriesContext(connection) as two:
            response = self.client.get(url)
        # 1/1 recognised comes first, ahead of the provinces with communes and none recognised.
        self.assertEqual({r["area"] for r in response.context["child_rows"][:2]}, set(provinces[:2]))
        recognise_one_commune_in(provinces[2:])
        with self.assertNumQueries(len(two.captured_queries)):
            response = self.client.get(url)
        self.assertEqual({r["area"] for r in response.context["child_rows"][:10]}, set(provinces))
        self.assertContains(response, '<span class="current">theo tỷ lệ xã được công nhận</span>')

    def test_a_long_matrix_is_paged(self):
        # Paged, never all at once (issue 19; tests/test_paging.py has the query counts).
        self.client.force_login(self.w.admin)
        with self.settings():
            from dashboards import views

            limit = views.MATRIX_LIMIT
            views.MATRIX_LIMIT = 20
            try:
                response = self.client.get(self.url(self.large))
                last = self.client.get(self.url(self.large, trang_xa=3))
            finally:
                views.MATRIX_LIMIT = limit
        self.assertEqual(len(response.context["matrix"]), 20)
        self.assertContains(response, "Còn 30 xã ở các trang sau.")
        self.assertContains(response, "trang_xa=2#ma-tran")
        self.assertEqual(response.context["figures"]["commune_count"], 50)
        self.assertEqual(len(last.context["matrix"]), 10)
        self.assertNotContains(last, "matrix-more")

    # ---------------------------------------------------------------- scope

    def test_district_reviewer_sees_own_district(self):
        response = self.get(self.w.reviewer_tan_yen, self.url(self.w.tan_yen))
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Bảng điều khiển — huyện Tân Yên")

    def test_district_reviewer_gets_404_on_a_sibling_district(self):
        self.assertEqual(self.get(self.w.reviewer_tan_yen, self.url(self.w.viet_yen)).status_code, 404)

    def test_district_reviewer_gets_404_on_the_province(self):
        self.assertEqual(self.get(self.w.reviewer_tan_yen, self.url(self.w.bac_giang)).status_code, 404)

    def test_commune_officer_gets_404_on_the_district(self):
        self.assertEqual(self.get(self.w.officer_an_duong, self.url(self.w.tan_yen)).status_code, 404)

    def test_province_reviewer_sees_the_province_and_its_districts(self):
        self.assertEqual(self.get(self.w.reviewer_bac_giang, self.url(self.w.bac_giang)).status_code, 200)
        self.assertEqual(self.get(self.w.reviewer_bac_giang, self.url(self.w.tan_yen)).status_code, 200)

    def test_province_reviewer_gets_404_on_another_province(self):
        self.assertEqual(self.get(self.w.reviewer_bac_giang, self.url(self.w.chiem_hoa)).status_code, 404)

    def test_national_dashboard_is_for_superusers_only(self):
        self.assertEqual(self.get(self.w.reviewer_bac_giang, reverse("dashboard_national")).status_code, 404)
        response = self.get(self.w.admin, reverse("dashboard_national") + f"?nam={YEAR}")
        self.assertEqual(response.status_code, 200)
        bac_giang = next(r for r in response.context["children"] if r["area"] == self.w.bac_giang)
        self.assertEqual((bac_giang["full"], bac_giang["communes"]), (7, 58))

    def test_anonymous_user_is_sent_to_login(self):
        response = self.client.get(self.url(self.w.tan_yen))
        self.assertEqual(response.status_code, 302)
        self.assertIn(reverse("login"), response["Location"])


class DashboardDetailTests(TestCase):
    """The district's own sub-indicators, and which indicator made a commune drop a criterion."""

    @classmethod
    def setUpTestData(cls):
        from criteria.models import Indicator
        from criteria.services import record_indicator_result

        cls.w = build_world()
        old = CriteriaSet.objects.get(code="xa_ntm_2016_2020")
        # An Dương met 15 (BHYT 90 %) in 2019 and dropped it in 2020 (BHYT 80 %): the drop names 15.1.
        bhyt = Indicator.objects.get(criterion__criteria_set=old, code="15.1")
        for code in ("15.2",):
            for year in (2019, 2020):
                record_indicator_result(
                    area=cls.w.an_duong, indicator=Indicator.objects.get(criterion__criteria_set=old, code=code),
                    year=year, boolean=True,
                )  # fmt: skip
        for year in (2019, 2020):
            record_indicator_result(
                area=cls.w.an_duong, indicator=Indicator.objects.get(criterion__criteria_set=old, code="15.3"),
                year=year, value=Decimal("10"),
            )  # fmt: skip
        record_indicator_result(area=cls.w.an_duong, indicator=bhyt, year=2019, value=Decimal("90"))
        record_indicator_result(area=cls.w.an_duong, indicator=bhyt, year=2020, value=Decimal("80"))
        # Tân Yên's district criterion 5: hospital met, culture centre not met.
        district = CriteriaSet.objects.get(code="huyen_ntm_2016_2020")
        for code, ok in (("5.1", True), ("5.2", False)):
            record_indicator_result(
                area=cls.w.tan_yen, indicator=Indicator.objects.get(criterion__criteria_set=district, code=code),
                year=2020, boolean=ok,
            )  # fmt: skip

    def page(self, area, query):
        self.client.force_login(self.w.reviewer_tan_yen)
        return self.client.get(reverse("dashboard", args=[area.pk]) + query).content.decode()

    def test_drop_names_the_indicator_that_dropped(self):
        html = self.page(self.w.tan_yen, "?nam=2020&bo=xa_ntm_2016_2020")
        self.assertRegex(html, r"rớt tiêu chí\s*<span[^>]*>15</span> \(chỉ tiêu 15\.1\)")

    def test_district_criteria_show_their_sub_indicators(self):
        html = self.page(self.w.tan_yen, "?nam=2020&bo=xa_ntm_2016_2020")
        section = html[html.index('id="tieu-chi-huyen"') :]
        cell = r"</td>\s*<td><span class=\"badge st-{}\">{}</span>"
        self.assertRegex(section, r"5\.1</td><td[^>]*>Bệnh viện huyện[^<]*" + cell.format("met", "Đạt"))
        self.assertRegex(section, r"5\.2</td><td[^>]*>Trung tâm Văn hóa[^<]*" + cell.format("not_met", "Chưa đạt"))


class RecognitionStageTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        from recognition.models import RecognitionFile, Stage

        cls.w = build_world()
        cset = CriteriaSet.objects.get(code="xa_ntm_2016_2020")
        RecognitionFile.objects.create(area=cls.w.an_duong, criteria_set=cset, year=2019, stage=Stage.SUBMITTED)
        RecognitionFile.objects.create(area=cls.w.song_van, criteria_set=cset, year=2019, stage=Stage.PREPARING)
        RecognitionFile.objects.create(area=cls.w.tang_tien, criteria_set=cset, year=2019, stage=Stage.VERIFIED)

    def test_district_dashboard_counts_its_communes_by_recognition_stage(self):
        self.client.force_login(self.w.reviewer_tan_yen)
        html = self.client.get(reverse("dashboard", args=[self.w.tan_yen.pk]) + "?nam=2019&bo=xa_ntm_2016_2020")
        section = html.content.decode().split('id="cong-nhan"')[1].split("</div>")[0]
        self.assertIn("<strong>1</strong> Xã đã nộp hồ sơ", section)
        self.assertIn("<strong>1</strong> Đang chuẩn bị", section)
        # Tăng Tiến is in Việt Yên, not Tân Yên.
        self.assertIn("<strong>0</strong> Huyện đã thẩm tra", section)
