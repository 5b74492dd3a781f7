"""Verdict corrections found in review (#16, item 5): a "Không" target typed as "Đạt", percentage cells, numbers
judged by a bare "Đạt", the year of an income level, and the special-commune rule of the set that states it."""

import shutil
import tempfile
from decimal import Decimal
from pathlib import Path

from django.apps import apps
from django.test import TestCase
from django.urls import reverse

from areas.models import Area
from criteria import catalogue
from criteria.judging import judge_indicators
from criteria.models import CriteriaSet, CriterionResult, Indicator, IndicatorResult, Status, Threshold
from criteria.services import record_indicator_result
from reports import bieu_import
from tests.personas import build_world
from tests.test_bieu_import import edited, exported, row_of


class VerdictTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.w = build_world()
        cls.set_2016 = CriteriaSet.objects.get(code="xa_ntm_2016_2020")
        cls.set_2021 = CriteriaSet.objects.get(code="xa_ntm_2021_2025")

    def indicator(self, code, cset):
        return Indicator.objects.select_related("criterion").get(criterion__criteria_set=cset, code=code)

    def judged(self, area, code, year, cset):
        ind = self.indicator(code, cset)
        judged = judge_indicators(area=area, criteria_set=cset, year=year, criterion=ind.criterion)
        return next(j for j in judged if j.indicator == ind)

    def move_to_the_delta(self, area):
        """A special-difficulty commune outside TDMNPB, so that the rule changes its thresholds."""
        area.region = Area.objects.provinces().get(code="30", valid_from__isnull=True).region
        area.save()


class BieuImportVerdictTests(VerdictTestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def filled(self, code, value, number_format=None):
        def edit(ws, info):
            cell = ws.cell(row=row_of(ws, 1, code), column=5)
            cell.value = value
            if number_format:
                cell.number_format = number_format

        data = edited(exported(form="01", area=self.w.hung_my, year=2024, criteria_set=self.set_2021), edit)
        path = Path(self.tmp) / "bieu01.xlsx"
        path.write_bytes(data.getvalue())
        return path

    def stored(self, code):
        return IndicatorResult.objects.get(area=self.w.hung_my, indicator=self.indicator(code, self.set_2021))

    def test_dat_typed_for_temporary_housing_is_stored_as_none_left_and_met(self):
        path = self.filled("9.1", "Đạt")
        found = bieu_import.preview(path, area=self.w.hung_my, user=self.w.officer_hung_my)
        [change] = found.changes
        self.assertEqual(change.fields, [("Kết quả", "(trống)", "Không — đạt")])

        bieu_import.apply(path, area=self.w.hung_my, user=self.w.officer_hung_my)
        result = self.stored("9.1")
        self.assertEqual((result.boolean, result.status), (False, Status.MET))

    def test_khong_dat_typed_for_temporary_housing_means_some_are_left(self):
        bieu_import.apply(self.filled("9.1", "Chưa đạt"), area=self.w.hung_my, user=self.w.officer_hung_my)
        result = self.stored("9.1")
        self.assertEqual((result.boolean, result.status), (True, Status.NOT_MET))

    def test_a_cell_formatted_as_a_percentage_is_read_as_its_percentage(self):
        path = self.filled("15.1", 0.905, number_format="0.0%")
        found = bieu_import.preview(path, area=self.w.hung_my, user=self.w.officer_hung_my)
        self.assertEqual([c.fields[0][2] for c in found.changes], ["90,5"])
        bieu_import.apply(path, area=self.w.hung_my, user=self.w.officer_hung_my)
        self.assertEqual(self.stored("15.1").value, Decimal("90.5"))


class WorkspaceYesNoTests(VerdictTestCase):
    def setUp(self):
        self.client.force_login(self.w.officer_an_duong)
        self.ind = self.indicator("9.1", self.set_2021)

    def criterion_url(self):
        url = reverse("workspace_criterion", args=[self.w.an_duong.pk, self.ind.criterion.pk])
        return f"{url}?nam=2024&bo={self.set_2021.code}"

    def test_the_choices_for_temporary_housing_say_which_one_meets_the_criterion(self):
        response = self.client.get(self.criterion_url())
        self.assertContains(response, "<legend>Nhà tạm, dột nát</legend>", html=True)
        page = response.content.decode()
        self.assertRegex(page, r'value="yes"[^>]*> Có — chưa đạt</label>')
        self.assertRegex(page, r'value="no"[^>]*> Không — đạt</label>')

    def test_saving_none_left_shows_it_meets_the_criterion(self):
        url = reverse("edit_indicator", args=[self.w.an_duong.pk, self.ind.pk]) + "?nam=2024"
        prefix = f"i{self.ind.pk}-"
        response = self.client.post(url, {prefix + "version": 0, prefix + "boolean": "no"}, HTTP_HX_REQUEST="true")
        self.assertContains(response, "Không — đạt")
        self.assertEqual(IndicatorResult.objects.get(area=self.w.an_duong, indicator=self.ind).boolean, False)


class NumberJudgedByDatTests(VerdictTestCase):
    def test_road_share_of_2016_2020_is_assessed_by_a_person_and_says_so(self):
        record_indicator_result(
            area=self.w.an_duong, indicator=self.indicator("2.4", self.set_2016), year=2020, value=Decimal("24.62")
        )
        j = self.judged(self.w.an_duong, "2.4", 2020, self.set_2016)
        self.assertEqual(j.choice.threshold.comparison, "manual")
        self.assertEqual(j.evaluation.status, Status.NOT_ASSESSED)
        self.assertIn("người đánh giá", j.evaluation.reason)
        self.assertIn("chưa có ai đánh giá: ghi ở “Tự đánh giá”", j.evaluation.reason)

    def test_a_number_under_a_yes_threshold_an_administrator_set_says_a_person_assesses_it(self):
        ind = self.indicator("2.1", self.set_2021)
        Threshold.objects.filter(indicator=ind).update(comparison="yes", value=None, raw="Đạt")
        record_indicator_result(area=self.w.an_duong, indicator=ind, year=2024, value=Decimal(100))
        j = self.judged(self.w.an_duong, "2.1", 2024, self.set_2021)
        self.assertEqual(j.evaluation.status, Status.NOT_ASSESSED)
        self.assertIn("“Đạt” không có mức số", j.evaluation.reason)


class IncomeYearTests(VerdictTestCase):
    def test_income_before_2020_is_judged_on_the_2020_level_and_says_so(self):
        record_indicator_result(
            area=self.w.an_duong, indicator=self.indicator("10", self.set_2016), year=2018, value=Decimal("35")
        )
        j = self.judged(self.w.an_duong, "10", 2018, self.set_2016)
        self.assertEqual((j.evaluation.status, j.choice.threshold.value), (Status.NOT_MET, 36))
        self.assertIn("theo mức năm 2020", j.choice.reason)

    def test_income_of_the_level_s_own_year_names_no_other_year(self):
        j = self.judged(self.w.an_duong, "10", 2020, self.set_2016)
        self.assertIn("mức năm 2020", j.choice.reason)
        self.assertNotIn("theo mức năm", j.choice.reason)

    def test_income_between_milestones_names_the_milestone_applied(self):
        j = self.judged(self.w.hung_my, "10", 2023, self.set_2021)
        self.assertEqual(j.choice.threshold.year, 2022)
        self.assertIn("theo mức năm 2022", j.choice.reason)

    def test_income_before_the_first_milestone_uses_it_and_says_so(self):
        j = self.judged(self.w.hung_my, "10", 2021, self.set_2021)
        self.assertEqual((j.choice.threshold.year, j.choice.threshold.value), (2022, 39))
        self.assertIn("theo mức năm 2022", j.choice.reason)


class SpecialRuleTests(VerdictTestCase):
    def test_only_the_2021_2025_commune_set_states_the_rule(self):
        bases = dict(CriteriaSet.objects.national().values_list("code", "special_rule_basis"))
        self.assertEqual(bases.pop("xa_ntm_2021_2025"), "QĐ 318/QĐ-TTg")
        self.assertEqual(set(bases.values()), {""})

    def test_2021_2025_reason_names_the_decision_of_the_rule(self):
        self.move_to_the_delta(self.w.hung_my)
        j = self.judged(self.w.hung_my, "10", 2024, self.set_2021)
        self.assertEqual(j.choice.threshold.region.code, "TDMNPB")
        self.assertIn("vì là xã đặc biệt khó khăn (theo QĐ 318/QĐ-TTg)", j.choice.reason)

    def test_2016_2020_judges_a_special_commune_on_its_own_region(self):
        self.move_to_the_delta(self.w.hung_my)
        record_indicator_result(
            area=self.w.hung_my, indicator=self.indicator("10", self.set_2016), year=2020, value=Decimal("40")
        )
        j = self.judged(self.w.hung_my, "10", 2020, self.set_2016)
        self.assertEqual((j.choice.threshold.region.code, j.evaluation.status), ("DBSH", Status.NOT_MET))
        self.assertIn("không có trong bộ tiêu chí này", j.choice.reason)

    def test_workspace_header_follows_the_set(self):
        self.client.force_login(self.w.officer_hung_my)
        self.move_to_the_delta(self.w.hung_my)
        url = reverse("workspace", args=[self.w.hung_my.pk])
        response = self.client.get(f"{url}?nam=2019&bo={self.set_2016.code}")
        self.assertContains(response, "Ngưỡng theo vùng Đồng bằng sông Hồng")
        self.assertNotContains(response, "vì là xã đặc biệt khó khăn")


class CatalogueCorrectionTests(VerdictTestCase):
    """What migration 0005 does to a database loaded from the earlier catalogue."""

    def test_old_database_gets_the_corrections_and_its_stored_verdicts_follow_with_history(self):
        self.move_to_the_delta(self.w.hung_my)
        income = self.indicator("10", self.set_2016)
        road = Threshold.objects.get(indicator=self.indicator("2.4", self.set_2016), region=None)
        # The earlier catalogue: the rule applied to every set, 2.4 was a bare "Đạt", levels had no year.
        CriteriaSet.objects.filter(pk=self.set_2016.pk).update(special_rule_basis="QĐ 1980/QĐ-TTg")
        Threshold.objects.filter(pk=road.pk).update(comparison="yes")
        Threshold.objects.filter(indicator=income).update(year=None)
        record_indicator_result(area=self.w.hung_my, indicator=income, year=2020, value=Decimal("40"))
        self.assertEqual(IndicatorResult.objects.get(area=self.w.hung_my, indicator=income).status, Status.MET)

        reason = "Sửa cách chấm"
        changed = catalogue.correct_loaded_sets(apps, reason=reason)
        catalogue.restate_statuses(apps, set_codes=changed | {"xa_ntm_2021_2025"}, reason=reason)

        self.assertEqual(CriteriaSet.objects.get(pk=self.set_2016.pk).special_rule_basis, "")
        road.refresh_from_db()
        self.assertEqual(road.comparison, "manual")
        self.assertEqual(road.history.latest().history_change_reason, reason)
        self.assertEqual(set(Threshold.objects.filter(indicator=income).values_list("year", flat=True)), {2020})
        self.assertEqual(IndicatorResult.objects.get(area=self.w.hung_my, indicator=income).status, Status.NOT_MET)
        row = CriterionResult.objects.get(area=self.w.hung_my, criterion=income.criterion, year=2020)
        self.assertEqual(row.status, Status.NOT_MET)
        self.assertEqual(row.history.latest().history_change_reason, reason)
