"""A comparison that needs a number (≥, ≤, =) is never stored without one: the admin, the province's Excel
table and the database itself refuse it, so re-evaluating results cannot break on a missing value."""

import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import TestCase
from django.urls import reverse

from criteria import variants
from criteria.models import Comparison, CriteriaSet, Indicator, IndicatorResult, Threshold
from tests.personas import build_world
from tests.variant_tables import variant_table


class ThresholdWithoutValueTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.w = build_world()
        cls.national = CriteriaSet.objects.get(code="xa_ntm_2021_2025")
        cls.indicator = Indicator.objects.in_set(cls.national).get(code="17.2")
        cls.threshold = Threshold.objects.get(indicator=cls.indicator, variant=None, region=None, year=None)

    def test_admin_refuses_a_greater_or_equal_without_a_value_and_says_why_on_the_field(self):
        IndicatorResult.objects.create(area=self.w.an_duong, indicator=self.indicator, year=2024, value=90)
        self.client.force_login(self.w.admin)
        t = self.threshold
        response = self.client.post(
            reverse("admin:criteria_threshold_change", args=[t.pk]),
            {
                "indicator": t.indicator_id,
                "variant": "",
                "region": "",
                "commune_group": "",
                "year": "",
                "raw": "xem hướng dẫn",
                "comparison": Comparison.GTE,
                "value": "",
                "source": t.source,
                "note": t.note,
            },
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("cần có giá trị ngưỡng", " ".join(response.context["adminform"].form.errors["value"]))
        before = (t.raw, t.comparison, t.value)
        t.refresh_from_db()
        self.assertEqual((t.raw, t.comparison, t.value), before)

    def test_province_table_with_a_comparison_but_no_number_is_refused_whole(self):
        # "≥ 2 thôn đạt chuẩn" is a rule a person assesses, not a comparison that lost its number.
        book = variant_table(["17.2", "≥ 2 thôn đạt chuẩn"], ["17.7", "≥"], ["17.8", "≤ %"])
        with self.assertRaises(ValidationError) as refused:
            variants.import_variant(
                workbook_file=book,
                parent_set=self.national,
                province=self.w.tuyen_quang,
                code="tq-479-2022",
                name="Bộ tiêu chí xã NTM tỉnh Tuyên Quang 2022–2025",
                legal_basis="479/QĐ-UBND",
                issued_on=datetime.date(2022, 8, 4),
                user=self.w.admin,
            )
        messages = refused.exception.messages
        self.assertTrue(any(m.startswith("Dòng 3, cột Ngưỡng: '≥'") for m in messages), messages)
        self.assertTrue(any(m.startswith("Dòng 4, cột Ngưỡng: '≤ %'") for m in messages), messages)
        self.assertEqual(len(messages), 2, messages)
        self.assertFalse(CriteriaSet.objects.filter(code="tq-479-2022").exists())
        self.assertFalse(Threshold.objects.filter(variant__isnull=False).exists())

    def test_the_database_refuses_a_comparison_without_a_value(self):
        for comparison in (Comparison.GTE, Comparison.LTE, Comparison.EQ):
            with self.subTest(comparison=comparison), self.assertRaises(IntegrityError), transaction.atomic():
                Threshold.objects.filter(pk=self.threshold.pk).update(comparison=comparison, value=None)
        for comparison in (Comparison.YES, Comparison.NO, Comparison.MANUAL, Comparison.MISSING):
            with self.subTest(comparison=comparison):
                Threshold.objects.filter(pk=self.threshold.pk).update(comparison=comparison, value=None)
