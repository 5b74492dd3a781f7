"""Stored standings (criteria.standings): every writer of criterion results leaves the same standing the carry-over
rule computed from the results gives — the old correlated computation, kept here only as the oracle."""

from io import StringIO

from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, Max, Min, OuterRef, Q, Subquery
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from areas.models import Area, Level
from criteria import catalogue, results_import, services, standings
from criteria.models import (
    CommuneStanding,
    Comparison,
    CriteriaSet,
    CriterionResult,
    Indicator,
    IndicatorKind,
    Status,
    Threshold,
)
from recognition import standing
from tests.personas import build_world, make_area
from tests.test_scale import TINY

SET_CODE = "xa_ntm_2021_2025"


def latest_results(criteria_set, year):
    """The old rule, recomputed from the results by correlated subqueries: for each commune and criterion the latest
    status of the set's period up to `year` that says something ("Chưa đánh giá" is no news)."""
    national = criteria_set.national_set
    known = CriterionResult.objects.exclude(status=Status.NOT_ASSESSED).filter(
        year__gte=national.period_start, year__lte=year
    )
    newest = known.filter(area=OuterRef("area"), criterion=OuterRef("criterion")).order_by("-year").values("year")[:1]
    return known.filter(criterion__criteria_set=national, year=Subquery(newest))


def oracle(communes, criteria_set, year):
    """{area pk: (met, known, data_from, data_to, {criterion number: status})} by the correlated computation over
    every result of the period (what annotate_standing did before the standings were stored)."""
    latest = latest_results(criteria_set, year)
    cells = latest.filter(area=OuterRef("pk")).order_by().values("area")
    rows = communes.annotate(
        met=Subquery(cells.annotate(n=Count("pk", filter=Q(status=Status.MET))).values("n")),
        known=Subquery(cells.annotate(n=Count("pk")).values("n")),
        data_from=Subquery(cells.annotate(y=Min("year")).values("y")),
        data_to=Subquery(cells.annotate(y=Max("year")).values("y")),
    ).values_list("pk", "met", "known", "data_from", "data_to")
    found = {pk: [met or 0, known or 0, first, last, {}] for pk, met, known, first, last in rows}
    for area_id, number, status in latest.filter(area__in=communes).values_list(
        "area_id", "criterion__number", "status"
    ):
        found[area_id][4][number] = status
    return {pk: tuple(values) for pk, values in found.items()}


def stored(communes, criteria_set, year):
    """The same figures read from the stored standings (annotate_standing)."""
    rows = standing.annotate_standing(communes, criteria_set, year).values_list(
        "pk", "met", "known", "data_from", "data_to", "statuses"
    )
    return {
        pk: (met or 0, known or 0, first, last, standings.statuses_by_number(statuses))
        for pk, met, known, first, last, statuses in rows
    }


class StandingCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.w = build_world()
        cls.cset = CriteriaSet.objects.get(code=SET_CODE)
        cls.criteria = {c.number: c for c in cls.cset.criteria.all()}
        cls.communes = Area.objects.filter(pk__in=[cls.w.an_duong.pk, cls.w.song_van.pk, cls.w.tang_tien.pk])
        # A criterion judged on one yes/no indicator, so that a saved value moves its status.
        cls.indicator = (
            Indicator.objects.filter(criterion__criteria_set=cls.cset, kind=IndicatorKind.BOOLEAN)
            .annotate(siblings=Count("criterion__indicators"))
            .filter(siblings=1, thresholds__comparison=Comparison.YES)
            .select_related("criterion__criteria_set")
            .first()
        )

    def assert_matches_oracle(self, communes=None, criteria_set=None):
        communes = communes if communes is not None else self.communes
        criteria_set = criteria_set or self.cset
        for year in range(criteria_set.period_start, criteria_set.period_end + 1):
            with self.subTest(year=year):
                self.assertEqual(stored(communes, criteria_set, year), oracle(communes, criteria_set, year))

    def assess(self, area, number, year, status):
        services.assess_criterion(area=area, criterion=self.criteria[number], year=year, status=status)


class WriterTests(StandingCase):
    def test_a_verdict_stands_in_the_later_years_of_the_period(self):
        for number in (1, 2, 3):
            self.assess(self.w.an_duong, number, 2022, "met")
        self.assess(self.w.an_duong, 2, 2023, "not_met")
        self.assert_matches_oracle()
        kept = standing.standings(Area.objects.filter(pk=self.w.an_duong.pk), self.cset, 2025)[self.w.an_duong.pk]
        self.assertEqual((kept.met, kept.known, kept.data_label), (2, 3, "theo số liệu năm 2022–2023"))
        before = standing.standings(Area.objects.filter(pk=self.w.an_duong.pk), self.cset, 2021)[self.w.an_duong.pk]
        self.assertEqual(before.met_label, "Chưa có số liệu")

    def test_a_saved_value_restates_the_standing(self):
        services.record_indicator_result(area=self.w.song_van, indicator=self.indicator, year=2023, boolean=True)
        services.record_indicator_result(area=self.w.song_van, indicator=self.indicator, year=2024, boolean=False)
        self.assert_matches_oracle()
        self.assertTrue(CommuneStanding.objects.filter(area=self.w.song_van, year=2025).exists())

    def test_thresholds_changed_afterwards_restate_the_standing(self):
        services.record_indicator_result(area=self.w.song_van, indicator=self.indicator, year=2023, boolean=True)
        before = stored(self.communes, self.cset, 2024)[self.w.song_van.pk]
        Threshold.objects.filter(indicator=self.indicator).update(comparison=Comparison.NO)
        services.recompute(indicator=self.indicator)
        self.assertNotEqual(stored(self.communes, self.cset, 2024)[self.w.song_van.pk], before)
        self.assert_matches_oracle()

    def test_imports_restate_the_standings(self):
        results_import.import_criterion_statuses(
            rows=[
                {"area": commune, "criterion": self.criteria[number], "year": year, "status": status}
                for commune in (self.w.an_duong, self.w.tang_tien)
                for number, year, status in ((1, 2021, "met"), (5, 2022, "not_met"), (5, 2024, "met"))
            ]
        )
        results_import.import_indicator_results(
            rows=[{"area": self.w.tang_tien, "indicator": self.indicator, "year": 2022, "boolean": True}]
        )
        self.assert_matches_oracle()

    def test_a_status_withdrawn_removes_the_years_it_opened(self):
        self.assess(self.w.an_duong, 4, 2022, "met")
        row = CriterionResult.objects.get(area=self.w.an_duong, year=2022)
        CriterionResult.objects.filter(pk=row.pk).update(status=Status.NOT_ASSESSED)
        standings.restate_for([row])
        self.assertFalse(CommuneStanding.objects.filter(area=self.w.an_duong).exists())
        self.assert_matches_oracle()

    def test_the_migration_helper_and_the_rebuild_command_give_the_same_rows(self):
        services.record_indicator_result(area=self.w.an_duong, indicator=self.indicator, year=2022, boolean=True)
        self.assess(self.w.song_van, 7, 2021, "not_met")
        CommuneStanding.objects.all().delete()
        catalogue.restate_statuses(apps, set_codes={SET_CODE}, reason="kiểm thử")
        self.assertTrue(CommuneStanding.objects.filter(area=self.w.an_duong).exists())
        CommuneStanding.objects.all().delete()
        out = StringIO()
        call_command("restate_standings", stdout=out)
        self.assertIn("dòng", out.getvalue())
        self.assert_matches_oracle()

    def test_generated_data_has_its_standings(self):
        call_command("generate_scale", *TINY, "--seed", "1", stdout=StringIO(), stderr=StringIO())
        generated = Area.objects.filter(code__startswith="G-", level=Level.COMMUNE)
        self.assertTrue(CommuneStanding.objects.filter(area__in=generated).exists())
        self.assert_matches_oracle(generated)


class CostTests(StandingCase):
    def test_restating_many_areas_costs_the_queries_of_one(self):
        district = make_area("T-S30", "Ba Mươi", Level.DISTRICT, self.w.bac_giang, "huyện")
        many = [make_area(f"T-S30-{n}", f"Xã {n}", Level.COMMUNE, district, "xã") for n in range(30)]
        rows = CriterionResult.objects.bulk_create(
            CriterionResult(area=area, criterion=c, year=2023, status=Status.MET)
            for area in [self.w.an_duong, *many]
            for c in self.criteria.values()
        )
        with CaptureQueriesContext(connection) as one:
            standings.restate_standings(areas=[self.w.an_duong], criteria_set=self.cset, from_year=2023)
        with self.assertNumQueries(len(one.captured_queries)):
            standings.restate_standings(areas={r.area_id for r in rows}, criteria_set=self.cset, from_year=2023)
        self.assert_matches_oracle(Area.objects.filter(pk__in=[a.pk for a in many]))

    def test_the_national_dashboard_costs_the_same_queries_for_few_or_many_communes(self):
        self.client.force_login(self.w.admin)
        url = reverse("dashboard_national") + f"?nam=2024&bo={SET_CODE}"
        self.assess(self.w.an_duong, 1, 2024, "met")
        with CaptureQueriesContext(connection) as few:
            self.client.get(url)
        district = make_area("T-S40", "Bốn Mươi", Level.DISTRICT, self.w.bac_giang, "huyện")
        for n in range(40):
            commune = make_area(f"T-S40-{n}", f"Xã {n}", Level.COMMUNE, district, "xã")
            self.assess(commune, 1 + n % 19, 2023, "not_met" if n % 3 else "met")
        with self.assertNumQueries(len(few.captured_queries)):
            response = self.client.get(url)
        failing = {f["criterion__number"]: f["communes"] for f in response.context["figures"]["failing"]}
        self.assertEqual(failing[2], sum(1 for n in range(40) if 1 + n % 19 == 2 and n % 3))
