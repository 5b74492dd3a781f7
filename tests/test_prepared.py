"""Hot reads compiled once (ntm_portal/prepared.py): the workspace's tiles, leads and year list read the same as
their querysets, for every kind of area and each year; what is saved between two pages shows on the second; and a
build that the prepared statement could run wrong is refused."""

import datetime
from decimal import Decimal

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q
from django.test import TestCase
from django.utils import timezone

from areas import timeline
from areas.access import ROLES_QUERY, _roles_query
from areas.models import Level
from assignments.models import OWNERS_QUERY, Agency, Member, Responsibility, _owners_query, criterion_owners
from criteria import hooks, judging, scope, standings
from criteria.models import (
    CriteriaSet,
    CriterionResult,
    Indicator,
    IndicatorKind,
    IndicatorResult,
    SetLevel,
    Status,
)
from criteria.services import record_indicator_result
from criteria.views import INDICATORS_QUERY, TILES_QUERY, _tiles_query
from dashboards import figures as figures_module
from ntm_portal.prepared import Prepared
from plans.models import FundingLine, FundingSource, Plan, PlanItem, month_bounds
from recognition.models import Action, RecognitionFile, RecognitionStep, Stage
from tests.personas import build_world

TILE_FIGURES = ("pk", "number", "name", "n_indicators", "n_met", "row_id", "row_status", "row_version", "filed")


def figures(tiles):
    return [tuple(getattr(t, name) for name in TILE_FIGURES) for t in tiles]


class PreparedReadsTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.w = build_world()
        cls.set = CriteriaSet.objects.get(code="xa_ntm_2021_2025")
        indicators = Indicator.objects.in_set(cls.set).order_by("criterion__number", "sort_key")
        cls.measured = indicators.filter(kind=IndicatorKind.PERCENTAGE).first()
        cls.yes_no = indicators.filter(kind=IndicatorKind.BOOLEAN).first()
        # An Dương: 2023 and 2024; its village: 2022; Song Vân: a plan of 2025 only.
        for year, value in ((2023, "40"), (2024, "95")):
            record_indicator_result(area=cls.w.an_duong, indicator=cls.measured, year=year, value=Decimal(value))
        record_indicator_result(area=cls.w.an_duong, indicator=cls.yes_no, year=2024, boolean=True)
        record_indicator_result(area=cls.w.an_duong_village, indicator=cls.measured, year=2022, value=Decimal("70"))
        Plan.objects.create(
            area=cls.w.song_van, year=2025, title="Kế hoạch xây dựng NTM năm 2025", criteria_set=cls.set
        )
        member = Member.objects.create(name="Nguyễn Văn Bình", position="Phó Chủ tịch UBND xã", area=cls.w.an_duong)
        agency = Agency.objects.create(name="Trạm Y tế xã", area=cls.w.an_duong)
        criterion = cls.measured.criterion
        Responsibility.objects.create(
            area=cls.w.an_duong, year=2024, criteria_set=cls.set, criterion=criterion, lead_member=member
        )
        Responsibility.objects.create(
            area=cls.w.an_duong, year=2024, criteria_set=cls.set, criterion=cls.yes_no.criterion,
            indicator=cls.yes_no, lead_agency=agency,
        )  # fmt: skip
        cls.areas = [cls.w.an_duong, cls.w.song_van, cls.w.an_duong_village, cls.w.tan_yen, cls.w.bac_giang]

    def test_year_lists_read_as_their_querysets(self):
        for area in self.areas:
            for criteria_set in (self.set, None):
                for level in (None, SetLevel.COMMUNE, SetLevel.DISTRICT):
                    with self.subTest(area=area.name, criteria_set=criteria_set, level=level):
                        sources, _candidates = scope._year_sources(
                            area, criteria_set, level, hooks.named("NTM_PLAN_YEARS")
                        )
                        expected = sorted({y for (y,) in sources[0].union(*sources[1:])}, reverse=True)
                        self.assertEqual(scope.data_years(area, criteria_set, level), expected)
        for criteria_set in (self.set, None):
            for level in (None, SetLevel.COMMUNE, SetLevel.DISTRICT):
                with self.subTest(nation=True, criteria_set=criteria_set, level=level):
                    sources, candidates = scope._year_sources(None, criteria_set, level, hooks.named("NTM_PLAN_YEARS"))
                    found = {y for (y,) in sources[0].union(*sources[1:])}
                    expected = sorted(found & set(candidates), reverse=True)
                    self.assertEqual(scope.data_years(None, criteria_set, level), expected)
        self.assertEqual(scope.data_years(None, self.set, SetLevel.COMMUNE), [2025, 2024, 2023, 2022])
        self.assertEqual(scope.data_years(self.w.an_duong, self.set), [2024, 2023, 2022])
        self.assertEqual(scope.data_years(self.w.song_van, self.set), [2025])
        self.assertEqual(scope.data_years(self.w.tan_yen, self.set, SetLevel.COMMUNE), [2025, 2024, 2023, 2022])

    def test_tiles_read_as_their_queryset(self):
        for area in self.areas:
            for year in (2022, 2023, 2024, 2025):
                with self.subTest(area=area.name, year=year):
                    params = {"area": area.pk, "year": year, "national": self.set.pk}
                    prepared = TILES_QUERY(hooks.named("NTM_RESULT_LOCK_PROBE"), **params)
                    self.assertEqual(
                        figures(prepared), figures(_tiles_query(hooks.named("NTM_RESULT_LOCK_PROBE"), **params))
                    )
        tiles = {
            t.number: t
            for t in TILES_QUERY(
                hooks.named("NTM_RESULT_LOCK_PROBE"), area=self.w.an_duong.pk, year=2024, national=self.set.pk
            )
        }
        self.assertEqual(len(tiles), self.set.criteria.count())
        self.assertEqual(tiles[self.yes_no.criterion.number].n_met, 1)

    def test_leads_read_as_their_queryset(self):
        def leads(rows):
            return [(r.pk, r.lead_display, r.indicator and r.indicator.code) for r in rows]

        for year in (2023, 2024):
            with self.subTest(year=year):
                expected = leads(_owners_query(None, area=self.w.an_duong.pk, year=year))
                self.assertEqual(leads(OWNERS_QUERY(None, area=self.w.an_duong.pk, year=year)), expected)
        self.assertEqual(
            criterion_owners(self.w.an_duong, 2024),
            {
                self.measured.criterion.pk: "Nguyễn Văn Bình",
                self.yes_no.criterion.pk: f"Trạm Y tế xã ({self.yes_no.code})",
            },
        )

    def test_a_criterions_thresholds_results_and_indicators_read_as_their_querysets(self):
        for area in (self.w.an_duong, self.w.hung_my):
            for criterion in self.set.criteria.all():
                with self.subTest(area=area.name, criterion=criterion.number):
                    indicators = list(criterion.indicators.order_by("sort_key"))
                    found = {"national": self.set.pk, "province": judging._province_id(area)}
                    self.assertEqual(
                        [t.pk for t in judging.CRITERION_THRESHOLDS(False, criterion=criterion.pk, **found)],
                        [t.pk for t in judging._area_thresholds(Q(indicator__in=indicators), **found)],
                    )
                    self.assertEqual(
                        [(r.pk, r.version, r.updated_by) for r in judging.CRITERION_RESULTS(
                            False, area=area.pk, year=2024, criterion=criterion.pk
                        )],
                        [(r.pk, r.version, r.updated_by) for r in IndicatorResult.objects.filter(
                            area=area, year=2024, indicator__in=indicators
                        )],
                    )  # fmt: skip
                    self.assertEqual(INDICATORS_QUERY("criterion", criterion=criterion.pk), indicators)

    def test_a_districts_own_statuses_and_the_national_sets_read_as_their_querysets(self):
        district_set = CriteriaSet.objects.get(code="huyen_ntm_2021_2025")
        record_indicator_result(
            area=self.w.tan_yen, indicator=Indicator.objects.in_set(district_set).first(), year=2024, boolean=True
        )
        for year in (2023, 2024):
            with self.subTest(year=year):
                found = {"area": self.w.tan_yen.pk, "year": year, "criteria_set": district_set.pk}
                for prepared, build in (
                    (figures_module.DISTRICT_INDICATORS, figures_module._district_indicators),
                    (figures_module.DISTRICT_CRITERIA, figures_module._district_criteria),
                ):
                    self.assertEqual(
                        [(x.pk, x.status) for x in prepared(None, **found)],
                        [(x.pk, x.status) for x in build(None, **found)],
                    )
        self.assertIn(Status.MET, [x.status for x in figures_module.DISTRICT_INDICATORS(None, **found)])
        self.assertEqual(figures_module.national_sets(), list(figures_module._commune_and_district_sets(None)))

    def test_roles_read_as_their_queryset_on_any_day(self):
        users = [self.w.officer_an_duong, self.w.reviewer_tan_yen, self.w.viewer_tan_yen, self.w.admin]
        for user in users:
            for day in (timezone.localdate(), datetime.date(2020, 1, 1), datetime.date(2025, 7, 1)):
                with self.subTest(user=user.username, day=day):
                    prepared = ROLES_QUERY(None, user=user.pk, day=day)
                    queryset = _roles_query(None, user=user.pk, day=day)
                    self.assertEqual(
                        [(r.pk, r.kind, r.area.name, r.area.province_id, r.formed) for r in prepared],
                        [(r.pk, r.kind, r.area.name, r.area.province_id, r.formed) for r in queryset],
                    )
        self.assertEqual(len(ROLES_QUERY(None, user=self.w.officer_an_duong.pk, day=timezone.localdate())), 1)

    def test_a_save_between_two_pages_shows_on_the_second(self):
        def met(year):
            tiles = TILES_QUERY(
                hooks.named("NTM_RESULT_LOCK_PROBE"), area=self.w.song_van.pk, year=year, national=self.set.pk
            )
            return sum(t.n_met for t in tiles), scope.data_years(self.w.song_van, self.set)

        self.assertEqual(met(2024), (0, [2025]))
        record_indicator_result(area=self.w.song_van, indicator=self.yes_no, year=2024, boolean=True)
        self.assertEqual(met(2024), (1, [2025, 2024]))


def assert_changes_read_as_their_queryset(test, area, criteria_set, year):
    """The dashboards' criteria dropped and gained read the same prepared as through their queryset."""
    communes = timeline.communes_at(area, timeline.reporting_date(year))
    before = timeline.communes_at(area, timeline.reporting_date(year - 1), known=communes)
    halves, asked = figures_module._scope_halves(communes, before)
    asked.update(set_id=criteria_set.pk, year=year, previous=year - 1)
    test.assertEqual(
        figures_module.CHANGED_PAIRS(halves, **asked), list(figures_module._area_changed_pairs(halves, **asked))
    )
    return halves


def assert_cells_read_as_their_queryset(test, area, criteria_set, year):
    """A dashboard's communes with their standings read the same prepared as through their queryset."""
    communes = timeline.communes_at(area, timeline.reporting_date(year))
    scope_shape, scope = figures_module._scope_shape(communes, 0)
    asked = {"set_id": criteria_set.pk, "now": year, "before": year - 1, "year": year}
    shape = (scope_shape, criteria_set.level, criteria_set.tier)
    asked.update(scope, year_end=datetime.date(year, 12, 31))
    test.assertEqual(figures_module.AREA_CELLS(shape, **asked), list(figures_module._area_cells(shape, **asked)))
    return scope_shape


class PreparedDashboardListsTests(TestCase):
    """A dashboard's item lists and money totals read as their querysets, for the nation and every kind of area."""

    @classmethod
    def setUpTestData(cls):
        cls.w = w = build_world()
        cls.today = timezone.localdate()
        source, other = FundingSource.objects.active().order_by("position")[:2]
        plans = {area: Plan.objects.create(area=area, year=cls.today.year, title=f"Kế hoạch {area.name}")
                 for area in (w.bac_giang, w.tan_yen, w.an_duong, w.an_duong_village)}  # fmt: skip
        for n, (plan, days_late, place) in enumerate(
            [
                (plans[w.an_duong], 40, None),
                (plans[w.an_duong], -3, None),
                (plans[w.tan_yen], 5, w.an_duong_village),
                (plans[w.bac_giang], 0, w.song_van),
                (plans[w.an_duong_village], 400, None),
                (plans[w.tan_yen], -400, None),
            ]
        ):
            item = PlanItem.objects.create(
                plan=plan,
                title=f"Việc {n}",
                area=place,
                deadline_precision="day",
                deadline_date=cls.today - datetime.timedelta(days=days_late),
                deadline_label=f"{days_late} ngày",
            )
            FundingLine.objects.create(item=item, source=source if n % 2 else other, planned=Decimal(10 + n))
        cls.areas = [None, w.bac_giang, w.tan_yen, w.an_duong, w.song_van, w.an_duong_village]

    def test_the_item_lists_read_as_their_querysets(self):
        for area in self.areas:
            for today in (self.today, self.today - datetime.timedelta(days=45), datetime.date(2030, 1, 15)):
                first, last = month_bounds(today)
                for name, days in (("overdue", {"today": today}), ("due", {"first": first, "last": last})):
                    with self.subTest(area=area and area.name, today=today, name=name):
                        shape, where = (name, area and area.level), ({"area": area.pk} if area else {})
                        read = [
                            (i.pk, i.title, i.area and i.area.name, i.total)
                            for i in figures_module.ITEM_LIST(shape, **where, **days)
                        ]
                        expected = [(i.pk, i.title, i.area and i.area.name, i.total)
                                    for i in figures_module._item_list(shape, **where, **days)]  # fmt: skip
                        self.assertEqual(read, expected)
        overdue = figures_module.plan_figures(self.w.an_duong, self.today)
        self.assertEqual([i.title for i in overdue["overdue"]], ["Việc 4", "Việc 0", "Việc 2"])
        self.assertEqual(overdue["overdue_count"], 3)

    def test_the_changes_between_two_years_read_as_their_queryset(self):
        criteria_set = CriteriaSet.objects.get(code="xa_ntm_2021_2025")
        first, second = criteria_set.criteria.order_by("number")[:2]
        for area, criterion, before, now in (
            (self.w.an_duong, first, Status.MET, Status.NOT_MET),
            (self.w.an_duong, second, Status.NOT_MET, Status.MET),
            (self.w.song_van, first, Status.NOT_MET, Status.NOT_MET),
            (self.w.song_van, second, Status.MET, Status.NOT_MET),
        ):
            CriterionResult.objects.create(area=area, criterion=criterion, year=2023, status=before)
            CriterionResult.objects.create(area=area, criterion=criterion, year=2024, status=now)
        # Dashboards are of communes and the units above them.
        for area in (self.w.bac_giang, self.w.tan_yen, self.w.an_duong, self.w.song_van):
            for year in (2023, 2024, 2025):
                with self.subTest(area=area.name, year=year):
                    assert_changes_read_as_their_queryset(self, area, criteria_set, year)
        yoy = figures_module.year_over_year(self.w.tan_yen, criteria_set, 2024)
        self.assertEqual([(e["area"], e["number"]) for e in yoy["dropped"]], [("xã An Dương", 1), ("xã Song Vân", 2)])
        self.assertEqual([(e["area"], e["number"]) for e in yoy["gained"]], [("xã An Dương", 2)])

    def test_the_communes_standings_and_recognitions_read_as_their_queryset(self):
        criteria_set = CriteriaSet.objects.get(code="xa_ntm_2021_2025")
        first, second = criteria_set.criteria.order_by("number")[:2]
        for year, status in ((2022, Status.MET), (2024, Status.NOT_MET)):
            CriterionResult.objects.create(area=self.w.an_duong, criterion=first, year=year, status=status)
        CriterionResult.objects.create(area=self.w.song_van, criterion=second, year=2023, status=Status.MET)
        standings.restate_standings(areas=[self.w.an_duong, self.w.song_van], criteria_set=criteria_set, from_year=2021)
        recognised = {"criteria_set": criteria_set, "stage": Stage.RECOGNISED, "decision_number": "123/QĐ-UBND"}
        RecognitionFile.objects.create(area=self.w.an_duong, year=2022, **recognised)
        revoked = RecognitionFile.objects.create(area=self.w.song_van, year=2022, **recognised)
        RecognitionStep.objects.create(
            file=revoked, from_stage=Stage.RECOGNISED, to_stage=Stage.REVOKED, action=Action.REVOKE,
            at=timezone.make_aware(datetime.datetime(2024, 1, 1, 3, 0)),
        )  # fmt: skip
        for area in (self.w.bac_giang, self.w.tan_yen, self.w.an_duong, self.w.song_van):
            for year in (2022, 2023, 2024, 2025):
                with self.subTest(area=area.name, year=year):
                    asked = {
                        "area": area.pk, "set_id": criteria_set.pk, "now": year, "before": year - 1, "year": year,
                        "year_end": datetime.date(year, 12, 31),
                        **({} if area.level == Level.COMMUNE else {"day0": datetime.date(year, 12, 31)}),
                    }  # fmt: skip
                    shape = (("own", area.level), SetLevel.COMMUNE, criteria_set.tier)
                    self.assertEqual(
                        figures_module.AREA_CELLS(shape, **asked), list(figures_module._area_cells(shape, **asked))
                    )
        criteria = tuple(criteria_set.criteria.order_by("number").values_list("pk", "number"))
        for year in (2022, 2023, 2024, 2025):
            with self.subTest(nation=year):
                asked = {"set_id": criteria_set.pk, "now": year, "year": year, "day": datetime.date(year, 12, 31),
                         "year_end": datetime.date(year, 12, 31)}  # fmt: skip
                shape = (criteria, SetLevel.COMMUNE, criteria_set.tier)
                tallies = figures_module.NATIONAL_TALLIES(shape, **asked)
                self.assertEqual(tallies, list(figures_module._tallies(shape, **asked)))
                self.assertEqual(sum(row["recognised"] * row["n"] for row in tallies), 2 if year < 2024 else 1)
        asked = {"area": self.w.tan_yen.pk, "set_id": criteria_set.pk, "now": 2023, "before": 2022, "year": 2023,
                 "year_end": datetime.date(2023, 12, 31), "day0": datetime.date(2023, 12, 31)}  # fmt: skip
        shape = (("own", Level.DISTRICT), SetLevel.COMMUNE, criteria_set.tier)
        rows = {row[1]: row for row in figures_module.AREA_CELLS(shape, **asked)}
        # Both recognised in 2022; one revoked at 3 a.m. on New Year's Day 2024, local time (still 2023 in UTC).
        self.assertEqual((rows["An Dương"][13], rows["Song Vân"][13]), (2022, 2022))
        asked.update(
            now=2024, before=2023, year=2024, year_end=datetime.date(2024, 12, 31), day0=datetime.date(2024, 12, 31)
        )
        rows = {row[1]: row for row in figures_module.AREA_CELLS(shape, **asked)}
        self.assertEqual((rows["An Dương"][13], rows["Song Vân"][13]), (2022, None))

    def test_a_communes_history_reads_as_its_queryset(self):
        criteria_set = CriteriaSet.objects.get(code="xa_ntm_2021_2025")
        first = criteria_set.criteria.order_by("number").first()
        for area, year in ((self.w.an_duong, 2022), (self.w.an_duong, 2024), (self.w.song_van, 2023)):
            CriterionResult.objects.create(area=area, criterion=first, year=year, status=Status.MET)
        standings.restate_standings(areas=[self.w.an_duong, self.w.song_van], criteria_set=criteria_set, from_year=2021)
        RecognitionFile.objects.create(
            area=self.w.song_van, criteria_set=criteria_set, year=2023, stage=Stage.RECOGNISED, decision_number="7/QĐ"
        )
        for units in ([self.w.an_duong.pk], [self.w.an_duong.pk, self.w.song_van.pk]):
            for years in ((2023,), (2022, 2024, 2025)):
                with self.subTest(units=units, years=years):
                    asked = {f"u{i}": pk for i, pk in enumerate(units)}
                    for k, year in enumerate(years):
                        asked.update({f"s{k}": criteria_set.pk, f"i{k}": criteria_set.pk, f"n{k}": year})
                        asked.update({f"y{k}": year, f"e{k}": datetime.date(year, 12, 31)})
                    shape = (len(units), ((SetLevel.COMMUNE, criteria_set.tier),) * len(years))
                    self.assertEqual(
                        sorted(figures_module.UNIT_STANDINGS(shape, **asked), key=repr),
                        sorted(figures_module._unit_standings(shape, **asked), key=repr),
                    )
        history = figures_module.commune_history(self.w.an_duong, [self.w.song_van])
        self.assertEqual(
            [(row["year"], row["unit"], row["met"], row["standing"].recognised_in) for row in history],
            [(2024, "xã An Dương", 1, None), (2023, "xã Song Vân", 1, 2023), (2022, "xã An Dương", 1, None)],
        )

    def test_the_money_totals_read_as_their_queryset(self):
        for area in self.areas:
            with self.subTest(area=area and area.name):
                level, where = (area.level, {"area": area.pk}) if area else (None, {})
                self.assertEqual(
                    figures_module.FUNDING_TOTALS(level, **where), list(figures_module._funding_totals(level, **where))
                )
        by_source = {r["source__code"]: r["planned"] for r in figures_module.funding_figures(self.w.tan_yen)["rows"]}
        self.assertEqual(sorted(by_source.values()), [Decimal(26), Decimal(36)])


class PreparedRefusalTests(TestCase):
    """A build the prepared statement would run wrong is refused when first compiled."""

    def prepared(self, build):
        return Prepared(CriterionResult, build)

    def test_a_value_computed_from_a_parameter(self):
        previous_year = self.prepared(lambda _shape, *, year: CriterionResult.objects.filter(year=year - 1))
        with self.assertRaisesMessage(ImproperlyConfigured, "did not reach the statement unchanged"):
            previous_year(None, year=2024)

    def test_a_constant_equal_to_a_stand_in(self):
        # 32749 is the first stand-in: read as the parameter, it would be replaced by the real year.
        clash = self.prepared(lambda _shape, *, year: CriterionResult.objects.filter(year=year, version=32749))
        with self.assertRaisesMessage(ImproperlyConfigured, "did not reach the statement unchanged"):
            clash(None, year=2024)

    def test_the_clock(self):
        recent = self.prepared(
            lambda _shape, *, year: CriterionResult.objects.filter(year=year, updated_at__date=timezone.localdate())
        )
        with self.assertRaisesMessage(ImproperlyConfigured, "a date or time"):
            recent(None, year=2024)

    def test_a_missing_value(self):
        # The queryset would write "IS NULL"; the prepared statement would compare with NULL and find nothing.
        by_year = self.prepared(lambda _shape, *, year: CriterionResult.objects.filter(year=year))
        with self.assertRaisesMessage(TypeError, "parameters are ints or days"):
            by_year(None, year=None)

    def test_more_values_than_stand_ins_within_a_columns_range(self):
        # The 2,001st stand-in would leave a positive small integer's range: such a caller reads its queryset.
        among = self.prepared(lambda shape, **ids: CriterionResult.objects.filter(area_id__in=list(ids.values())))
        with self.assertRaisesMessage(TypeError, "at most 2000 parameters"):
            among(2001, **{f"a{i}": i + 1 for i in range(2001)})
        self.assertEqual(among(3, a0=1, a1=2, a2=3), [])
