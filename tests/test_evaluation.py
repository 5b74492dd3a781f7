"""Judging results: which threshold applies, why, and what a criterion's status becomes."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.test import SimpleTestCase, TestCase

from criteria import evaluation
from criteria.judging import judge_indicators, met_summary
from criteria.models import CriteriaSet, CriterionResult, Indicator, Status
from criteria.services import assess_criterion, record_indicator_result
from ntm_portal.vietnamese import parse_vn_number
from tests.personas import build_world


class NumberParsingTests(SimpleTestCase):
    def test_vietnamese_numbers(self):
        cases = {"1.276": "1276", "90,3": "90.3", "8.321,7": "8321.7", "24,62": "24.62", "0,51": "0.51", "45": "45"}
        for text, expected in cases.items():
            self.assertEqual(parse_vn_number(text), Decimal(expected), text)

    def test_ambiguous_or_malformed_numbers_are_refused(self):
        for text in ("12,3,4", "90.3", "1.27", "abc", "", "1.2.3"):
            with self.assertRaises(ValueError, msg=text):
                parse_vn_number(text)

    def test_natural_order_of_codes(self):
        codes = ["17.10", "17.2", "17.1", "5.a", "5", "17.12"]
        self.assertEqual(sorted(codes, key=evaluation.natural_key), ["5", "5.a", "17.1", "17.2", "17.10", "17.12"])


class ThresholdParsingTests(SimpleTestCase):
    def test_readings(self):
        p = evaluation.parse_threshold
        self.assertEqual((p("≥80%").comparison, p("≥80%").value), ("gte", Decimal(80)))
        self.assertEqual((p("≤16,5%").comparison, p("≤16,5%").value), ("lte", Decimal("16.5")))
        self.assertEqual((p("100%").comparison, p("100%").value), ("gte", Decimal(100)))
        self.assertEqual(p("Đạt").comparison, "yes")
        self.assertEqual(p("Không").comparison, "no")
        self.assertEqual(p(None).comparison, "missing")
        self.assertEqual(p("Do UBND tỉnh quy định").comparison, "manual")

    def test_note_in_parentheses_marks_unverified(self):
        parsed = evaluation.parse_threshold("≥39 (chưa xác minh — suy ra)")
        self.assertEqual((parsed.value, parsed.unverified), (Decimal(39), True))
        self.assertTrue(evaluation.parse_threshold("≥95%? (≥60% nước sạch)").unverified)


class EvaluationTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.w = build_world()
        cls.set_2016 = CriteriaSet.objects.get(code="xa_ntm_2016_2020")
        cls.set_2021 = CriteriaSet.objects.get(code="xa_ntm_2021_2025")

    def indicator(self, code, cset=None):
        return Indicator.objects.get(criterion__criteria_set=cset or self.set_2016, code=code)

    def judged(self, area, code, year=2019, cset=None):
        cset = cset or self.set_2016
        ind = self.indicator(code, cset)
        return next(
            j
            for j in judge_indicators(area=area, criteria_set=cset, year=year, criterion=ind.criterion)
            if j.indicator == ind
        )

    def test_regional_income_threshold_judges_the_commune(self):
        record_indicator_result(area=self.w.an_duong, indicator=self.indicator("10"), year=2020, value=Decimal("37"))
        j = self.judged(self.w.an_duong, "10", 2020)
        self.assertEqual(j.evaluation.status, Status.MET)
        self.assertEqual(j.choice.threshold.value, 36)
        self.assertIn("Trung du miền núi phía Bắc", j.choice.reason)

    def test_stunting_is_met_at_or_below_threshold(self):
        ind = self.indicator("15.3")
        record_indicator_result(area=self.w.an_duong, indicator=ind, year=2019, value=Decimal("26.7"))
        self.assertEqual(self.judged(self.w.an_duong, "15.3").evaluation.status, Status.MET)
        record_indicator_result(area=self.w.an_duong, indicator=ind, year=2019, value=Decimal("26.8"))
        self.assertEqual(self.judged(self.w.an_duong, "15.3").evaluation.status, Status.NOT_MET)

    def test_special_commune_uses_northern_midlands_thresholds_and_says_why(self):
        # Hùng Mỹ's own province is in TDMNPB too; move it to a delta province to see the rule bite.
        delta = self.w.tuyen_quang.__class__.objects.provinces().get(code="30", valid_from__isnull=True)
        self.w.hung_my.region = delta.region
        self.w.hung_my.save()
        # The rule is QĐ 318's: it judges the 2021–2025 set.
        j = self.judged(self.w.hung_my, "10", 2024, self.set_2021)
        self.assertEqual(j.choice.threshold.region.code, "TDMNPB")
        self.assertIn("đặc biệt khó khăn", j.choice.reason)

    def test_household_ratio_is_computed_from_numerator_and_denominator(self):
        result = record_indicator_result(
            area=self.w.hung_my, indicator=self.indicator("17.8", self.set_2021), year=2024,
            numerator=Decimal(1276), denominator=Decimal(1413),
        )  # fmt: skip
        self.assertEqual(evaluation.measured_value(result).quantize(Decimal("0.1")), Decimal("90.3"))

    def test_null_threshold_leaves_the_indicator_not_assessed(self):
        result = record_indicator_result(
            area=self.w.hung_my, indicator=self.indicator("17.8", self.set_2021), year=2024,
            numerator=Decimal(1276), denominator=Decimal(1413),
        )  # fmt: skip
        self.assertEqual(result.status, Status.NOT_ASSESSED)

    def test_unverified_threshold_makes_the_verdict_tentative(self):
        result = record_indicator_result(
            area=self.w.an_duong, indicator=self.indicator("4.2"), year=2019, value=Decimal(99)
        )
        self.assertEqual((result.status, result.is_tentative), (Status.MET, True))

    def test_verdict_without_values_is_stored_apart_and_counted(self):
        for criterion in self.set_2016.criteria.all():
            status = "not_met" if criterion.number in (6, 17) else "met"
            assess_criterion(area=self.w.an_duong, criterion=criterion, year=2019, status=status)
        summary = met_summary(area=self.w.an_duong, criteria_set=self.set_2016, year=2019)
        self.assertEqual((summary["met"], summary["total"], summary["unmet"]), (17, 19, [6, 17]))
        row = CriterionResult.objects.get(
            area=self.w.an_duong, criterion__number=6, year=2019, criterion__criteria_set=self.set_2016
        )
        self.assertEqual((row.assessed_status, row.computed_status), ("not_met", Status.NOT_ASSESSED))

    def test_disagreement_between_verdict_and_values_is_flagged(self):
        criterion = self.set_2016.criteria.get(number=15)
        assess_criterion(area=self.w.song_van, criterion=criterion, year=2019, status="met")
        record_indicator_result(area=self.w.song_van, indicator=self.indicator("15.1"), year=2019, value=Decimal("80"))
        row = CriterionResult.objects.get(area=self.w.song_van, criterion=criterion, year=2019)
        self.assertEqual(row.status, Status.NOT_MET)
        self.assertTrue(row.disagreement)

    def test_criterion_met_only_when_every_applicable_indicator_is_met(self):
        criterion = self.set_2016.criteria.get(number=6)
        for code in ("6.1", "6.2"):
            record_indicator_result(area=self.w.song_van, indicator=self.indicator(code), year=2019, boolean=True)
        row = CriterionResult.objects.get(area=self.w.song_van, criterion=criterion, year=2019)
        self.assertEqual(row.status, Status.NOT_ASSESSED)
        record_indicator_result(area=self.w.song_van, indicator=self.indicator("6.3"), year=2019, not_applicable=True)
        row.refresh_from_db()
        self.assertEqual(row.status, Status.MET)

    def test_numerator_larger_than_denominator_is_refused(self):
        with self.assertRaises(ValidationError) as ctx:
            record_indicator_result(
                area=self.w.song_van,
                indicator=self.indicator("17.6"),
                year=2019,
                numerator=Decimal(5),
                denominator=Decimal(4),
            )
        self.assertIn("numerator", ctx.exception.message_dict)

    def test_every_change_is_in_the_history_with_before_and_after(self):
        ind = self.indicator("15.1")
        record_indicator_result(
            area=self.w.song_van, indicator=ind, year=2019, value=Decimal("84"), user=self.w.officer_song_van
        )
        result = record_indicator_result(
            area=self.w.song_van, indicator=ind, year=2019, value=Decimal("90.5"), user=self.w.officer_song_van
        )
        history = list(result.history.order_by("history_date"))
        self.assertEqual([h.value for h in history], [Decimal("84"), Decimal("90.5")])
        self.assertEqual(history[-1].history_user, self.w.officer_song_van)
