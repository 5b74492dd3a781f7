"""`manage.py seed_demo` loads the five seed plans as users know them, and a second run changes nothing."""

import datetime
from decimal import Decimal
from io import StringIO

from django.apps import apps
from django.core.management import call_command
from django.test import TestCase

from areas.models import Area
from criteria.evaluation import measured_value
from criteria.judging import met_summary
from criteria.models import CriteriaSet, IndicatorResult


def snapshot():
    """Row counts of every model, history tables included."""
    return {m._meta.label: m.objects.count() for m in apps.get_models()}


class SeedDemoTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.output = StringIO()
        call_command("seed_demo", stdout=cls.output)
        cls.set_2016 = CriteriaSet.objects.get(code="xa_ntm_2016_2020")
        cls.set_2021 = CriteriaSet.objects.get(code="xa_ntm_2021_2025")

    def commune(self, name):
        return Area.objects.communes().get(name=name)

    def test_an_duong_meets_17_of_19_lacking_6_and_17(self):
        summary = met_summary(area=self.commune("An Dương"), criteria_set=self.set_2016, year=2019)
        self.assertEqual((summary["met"], summary["unmet"]), (17, [6, 17]))

    def test_song_van_meets_16_lacking_2_6_17(self):
        summary = met_summary(area=self.commune("Song Vân"), criteria_set=self.set_2016, year=2019)
        self.assertEqual((summary["met"], summary["unmet"]), (16, [2, 6, 17]))

    def test_the_illustrative_units_of_seeds_000_and_004_are_not_on_the_map_of_today(self):
        synthetic = Area.objects.filter(code__startswith="X-")
        self.assertEqual(synthetic.count(), 3)
        self.assertFalse(synthetic.valid_on(datetime.date(2026, 1, 1)).exists())
        self.assertEqual(synthetic.valid_on(datetime.date(2020, 6, 1)).count(), 3)

    def test_tan_yen_communes_are_under_the_district(self):
        tan_yen = Area.objects.districts().get(name="Tân Yên")
        self.assertGreaterEqual(Area.objects.communes().under(tan_yen).count(), 14)

    def test_hung_my_household_sanitation_from_counts(self):
        result = IndicatorResult.objects.get(
            area=self.commune("Hùng Mỹ"),
            indicator__code="17.8",
            indicator__criterion__criteria_set=self.set_2021,
            year=2024,
        )
        self.assertEqual((result.numerator, result.denominator), (Decimal(1276), Decimal(1413)))
        self.assertEqual(measured_value(result).quantize(Decimal("0.1")), Decimal("90.3"))

    def test_hung_my_villages_are_loaded(self):
        self.assertGreaterEqual(Area.objects.villages().under(self.commune("Hùng Mỹ")).count(), 10)

    def test_thien_ke_measured_values(self):
        values = dict(
            IndicatorResult.objects.filter(area=self.commune("Thiện Kế"), year=2020).values_list(
                "indicator__code", "value"
            )
        )
        self.assertEqual(values["2.4"], Decimal("24.62"))
        self.assertEqual(values["15.1"], Decimal("90.5"))

    def test_logins_are_printed(self):
        text = self.output.getvalue()
        for login in ("admin", "canbo.anduong", "thamtra.tanyen", "ntm-demo-2024"):
            self.assertIn(login, text)

    def test_running_twice_leaves_the_database_as_it_was(self):
        before = snapshot()
        call_command("seed_demo", stdout=StringIO())
        self.assertEqual(snapshot(), before)
