"""The official criteria sets land in the database on migrate, as the decisions wrote them."""

from django.test import TestCase

from criteria.models import Comparison, CriteriaSet, Criterion, Indicator, Threshold


def threshold(set_code, indicator_code, region=None, year=None):
    return Threshold.objects.get(
        indicator__criterion__criteria_set__code=set_code,
        indicator__code=indicator_code,
        variant=None,
        region__code=region,
        year=year,
    )


class CatalogueCountsTests(TestCase):
    def test_commune_sets_have_19_criteria_and_2026_has_10(self):
        counts = {s.code: s.criteria.count() for s in CriteriaSet.objects.for_level("commune")}
        self.assertEqual(counts["xa_ntm_2016_2020"], 19)
        self.assertEqual(counts["xa_ntm_2021_2025"], 19)
        self.assertEqual(counts["xa_ntm_2026_2030"], 10)

    def test_district_sets_have_9_criteria(self):
        for code in ("huyen_ntm_2016_2020", "huyen_ntm_2021_2025"):
            self.assertEqual(CriteriaSet.objects.get(code=code).criteria.count(), 9, code)

    def test_2016_2020_has_49_indicators_and_2021_2025_has_57(self):
        self.assertEqual(Indicator.objects.in_set(CriteriaSet.objects.get(code="xa_ntm_2016_2020")).count(), 49)
        self.assertEqual(Indicator.objects.in_set(CriteriaSet.objects.get(code="xa_ntm_2021_2025")).count(), 57)

    def test_criterion_17_differs_between_periods(self):
        old = Indicator.objects.filter(criterion__criteria_set__code="xa_ntm_2016_2020", criterion__number=17)
        new = Indicator.objects.filter(criterion__criteria_set__code="xa_ntm_2021_2025", criterion__number=17)
        self.assertEqual(old.count(), 8)
        self.assertGreater(new.count(), 8)

    def test_criterion_11_changed_meaning(self):
        names = dict(
            Criterion.objects.filter(
                number=11, criteria_set__code__in=["xa_ntm_2016_2020", "xa_ntm_2021_2025"]
            ).values_list("criteria_set__code", "name")
        )
        self.assertEqual(names, {"xa_ntm_2016_2020": "Hộ nghèo", "xa_ntm_2021_2025": "Nghèo đa chiều"})

    def test_indicator_codes_sort_naturally(self):
        codes = list(
            Indicator.objects.filter(criterion__criteria_set__code="xa_ntm_2021_2025", criterion__number=17)
            .order_by("sort_key")
            .values_list("code", flat=True)
        )
        self.assertEqual(codes[:2], ["17.1", "17.2"])
        self.assertEqual(codes[-3:], ["17.10", "17.11", "17.12"])


class CatalogueThresholdTests(TestCase):
    def test_income_2020_per_region(self):
        self.assertEqual(threshold("xa_ntm_2016_2020", "10", "TDMNPB", 2020).value, 36)
        self.assertEqual(threshold("xa_ntm_2016_2020", "10", "DNB", 2020).value, 59)
        self.assertEqual(threshold("xa_ntm_2016_2020", "10", "DNB", 2020).comparison, Comparison.GTE)

    def test_stunting_passes_below_the_threshold(self):
        stunting = threshold("xa_ntm_2016_2020", "15.3", "TN")
        self.assertEqual((stunting.comparison, str(stunting.value)), (Comparison.LTE, "31.4000"))

    def test_unverified_regional_values_stay_flagged(self):
        self.assertFalse(threshold("xa_ntm_2016_2020", "4.2", "DBSH").verified)
        self.assertTrue(threshold("xa_ntm_2016_2020", "14.3", "DBSH").verified)

    def test_null_threshold_is_kept_as_missing_not_zero(self):
        housing = threshold("xa_ntm_2016_2020", "9.2", "BTB")
        self.assertEqual(housing.comparison, Comparison.MISSING)
        self.assertIsNone(housing.value)

    def test_income_2021_2025_varies_by_region_and_year(self):
        row = threshold("xa_ntm_2021_2025", "10", "DNB", 2022)
        self.assertEqual(row.value, 59)
        self.assertFalse(row.verified)
        self.assertIn("chưa xác minh", row.note)

    def test_rule_to_assess_is_not_read_as_a_number(self):
        school = threshold("xa_ntm_2021_2025", "5", "BTB")
        self.assertEqual(school.comparison, Comparison.MANUAL)

    def test_temporary_housing_passes_when_there_is_none(self):
        self.assertEqual(threshold("xa_ntm_2016_2020", "9.1").comparison, Comparison.NO)
