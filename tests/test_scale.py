import re
from io import StringIO

from django.core.management import call_command
from django.test import TestCase

from areas.models import Area, Level
from criteria import evaluation
from criteria.judging import Measurement, judge_indicators
from criteria.models import CriteriaSet, CriterionResult, IndicatorResult, Threshold
from criteria.services import record_indicator_result
from plans.models import FundingLine, Plan, PlanItem
from tools import scale

TINY = [
    "--provinces",
    "2",
    "--districts-per-province",
    "2",
    "--communes-per-district",
    "3",
    "--villages-per-commune",
    "2",
    "--years",
    "1",
]
YEAR = 2024


def generate(*args):
    out = StringIO()
    call_command("generate_scale", *TINY, *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def generated(level):
    return Area.objects.filter(code__startswith="G-", level=level)


def statuses():
    rows = IndicatorResult.objects.filter(area__code__startswith="G-").values_list(
        "area__code", "indicator_id", "year", "status"
    )
    return {(code, indicator, year): status for code, indicator, year, status in rows}


class GenerateScaleTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.output = generate("--seed", "1")
        cls.set = CriteriaSet.objects.get(code="xa_ntm_2021_2025")

    def test_tiny_scale_builds_the_map_results_and_plans_it_was_asked_for(self):
        self.assertEqual(generated(Level.DISTRICT).count(), 4)
        self.assertEqual(generated(Level.COMMUNE).count(), 12)
        self.assertEqual(generated(Level.VILLAGE).count(), 24)
        self.assertEqual(generated(Level.COMMUNE).values("province").distinct().count(), 2)
        communes = generated(Level.COMMUNE)
        # Most indicators of the set have a result, every commune has its criteria judged and a plan.
        indicators = self.set.criteria.values("indicators").count()
        results = IndicatorResult.objects.filter(area__in=communes, year=YEAR).count()
        self.assertGreater(results, 0.9 * indicators * 12)
        self.assertEqual(
            CriterionResult.objects.filter(area__in=communes, year=YEAR).values("area").distinct().count(), 12
        )
        self.assertEqual(Plan.objects.filter(area__in=communes).count(), 12)
        self.assertGreater(PlanItem.objects.filter(plan__area__in=communes).count(), 12)
        self.assertGreater(FundingLine.objects.filter(item__plan__area__in=communes).count(), 12)
        self.assertIn("communes 12", self.output)
        self.assertRegex(self.output, r"seconds \d+\.\d")

    def test_results_pass_and_fail(self):
        found = set(IndicatorResult.objects.filter(area__code__startswith="G-").values_list("status", flat=True))
        self.assertTrue({evaluation.MET, evaluation.NOT_MET} <= found)

    def test_the_same_seed_gives_the_same_statuses_and_another_seed_does_not(self):
        first = statuses()
        generate("--seed", "1", "--clear")
        self.assertEqual(statuses(), first)
        generate("--seed", "2", "--clear")
        self.assertNotEqual(statuses(), first)

    def test_stored_statuses_agree_with_the_services_judgement(self):
        for commune in generated(Level.COMMUNE).select_related("region", "province").order_by("code")[:3]:
            judged = judge_indicators(area=commune, criteria_set=self.set, year=YEAR)
            stored = {
                r.criterion_id: r
                for r in CriterionResult.objects.filter(area=commune, year=YEAR, criterion__criteria_set=self.set)
            }
            by_criterion = {}
            for j in judged:
                by_criterion.setdefault(j.indicator.criterion_id, []).append(j)
                if j.result is not None:
                    self.assertEqual(j.result.status, j.evaluation.status, (commune.code, j.indicator.code))
                    self.assertEqual(j.result.computed_status, j.evaluation.computed_status)
                    self.assertEqual(j.result.is_tentative, j.evaluation.tentative)
            for criterion_id, judgements in by_criterion.items():
                combined = evaluation.combine([j.evaluation for j in judgements])
                self.assertEqual(stored[criterion_id].status, combined.status, (commune.code, criterion_id))

    def test_a_second_run_without_clear_adds_nothing(self):
        out, err = StringIO(), StringIO()
        call_command("generate_scale", *TINY, stdout=out, stderr=err)
        self.assertIn("--clear", err.getvalue())
        self.assertEqual(generated(Level.COMMUNE).count(), 12)


class GeneratorJudgesLikeASaveTests(TestCase):
    """The generator stores what a save of the same measurement would store, province variants included."""

    def test_a_commune_of_a_province_with_two_variants_is_judged_on_the_one_a_save_uses(self):
        national = CriteriaSet.objects.get(code="xa_ntm_2021_2025")
        province = sorted(scale.base_provinces(scale.MAP_2016), key=lambda p: p.code)[0]
        # Two decisions of the same province: a save applies the first in the sets' order, and so must the
        # generator. The first asks 5 points more on every "≥" indicator; the second only repeats the nation.
        for code, extra in (("a-bien-the", 5), ("b-bien-the", 0)):
            variant = CriteriaSet.objects.create(
                code=code,
                name=code,
                level=national.level,
                period_start=national.period_start,
                period_end=national.period_end,
                parent=national,
                province=province,
                legal_basis=code,
            )
            for t in Threshold.objects.filter(
                indicator__criterion__criteria_set=national, variant=None, comparison=evaluation.GTE
            ):
                Threshold.objects.create(
                    indicator=t.indicator,
                    variant=variant,
                    region=t.region,
                    commune_group=t.commune_group,
                    year=t.year,
                    comparison=evaluation.GTE,
                    value=t.value + extra,
                    verified=True,
                )
        generate("--provinces", "1", "--districts-per-province", "1", "--communes-per-district", "2")
        commune = generated(Level.COMMUNE).order_by("code").first()
        results = list(IndicatorResult.objects.filter(area=commune, year=YEAR).select_related("indicator__criterion"))
        generated_statuses = {r.indicator_id: (r.status, r.computed_status, r.is_tentative) for r in results}
        generated_criteria = dict(
            CriterionResult.objects.filter(area=commune, year=YEAR).values_list("criterion_id", "status")
        )

        for r in results:
            record_indicator_result(
                area=commune,
                indicator=r.indicator,
                year=YEAR,
                **{name: getattr(r, name) for name in (*Measurement.names(), "assessed_status", "note")},
            )

        saved = IndicatorResult.objects.filter(area=commune, year=YEAR)
        self.assertEqual(
            {r.indicator_id: (r.status, r.computed_status, r.is_tentative) for r in saved}, generated_statuses
        )
        self.assertEqual(
            dict(CriterionResult.objects.filter(area=commune, year=YEAR).values_list("criterion_id", "status")),
            generated_criteria,
        )


class GenerateScale2025Tests(TestCase):
    def test_the_2025_map_puts_communes_straight_under_the_34_provinces(self):
        generate("--map", "2025", "--communes-per-province", "3", "--clear")
        communes = generated(Level.COMMUNE).select_related("parent")
        self.assertEqual(communes.count(), 6)
        self.assertEqual(generated(Level.DISTRICT).count(), 0)
        for commune in communes:
            self.assertEqual(commune.parent.level, Level.PROVINCE)
            self.assertEqual(commune.province_id, commune.parent_id)
            self.assertIsNone(commune.district_id)
            self.assertIsNone(commune.parent.valid_until)
        self.assertEqual(generated(Level.VILLAGE).filter(district__isnull=False).count(), 0)
        self.assertGreater(IndicatorResult.objects.filter(area__in=communes, year=2025).count(), 0)


class BenchTests(TestCase):
    def test_bench_quick_prints_one_figure_per_line(self):
        generate("--seed", "3")
        out = StringIO()
        call_command("bench", "--quick", "--import-rows", "10", stdout=out)
        lines = out.getvalue().strip().splitlines()
        for line in lines:
            self.assertRegex(line, r"^[a-z0-9_.]+ \S+ \S+$")
        names = {line.split()[0] for line in lines}
        for name in (
            "dashboard.national.queries",
            "dashboard.province.ratio_vs_sql",
            "dashboard.district.time",
            "bieu01.province.peak_memory",
            "bieu01.province.ratio_vs_openpyxl",
            "import.rows_per_s",
            "import.ratio_vs_bulk_create",
            "workspace.page.queries",
            "workspace.save.time",
            # Issue 19: hand-written bare SQL, per-page CPU against the login form, every Biểu form's writer.
            "dashboard.district.ratio_vs_bare_sql",
            "dashboard.province.cpu",
            "login_form.cpu",
            "workspace.criterion_page.cpu",
            "workspace.save.cpu",
            "workspace.save.queries",
            "bieu03.district.writer_ratio_vs_openpyxl",
            "bieu02.commune.ratio_vs_openpyxl",
            "machine.load_at_start",
            # Imports compared with bulk_create in interleaved rounds (median ratio), the Biểu 01 median of runs.
            "import.wizard_ratio_vs_bulk_create",
            "import.bieu01.cells_per_s",
            "import.rewrite_rows_per_s",
            "import.admin_items.rows_per_s",
            "import.admin_units.rows_per_s",
            "import.bieu03.confirm_ratio_vs_bulk_create",
            "import.bieu03.all.dry_run_peak_memory",
        ):
            self.assertIn(name, names)
        self.assertTrue(re.search(r"^import\.rows 10 rows$", out.getvalue(), re.MULTILINE))
        self.assertTrue(re.search(r"^import\.rounds 1 rounds$", out.getvalue(), re.MULTILINE))
