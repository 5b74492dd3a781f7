"""Figures a province can sign (issue 16): recognition is the official status, missing data is not failure, a
year without new data keeps the latest known standing, and pages open on the year that holds data."""

import datetime
import io
import re
from pathlib import Path
from unittest import mock

import yaml
from django.conf import settings
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from areas.models import Area, Level
from criteria import standings
from criteria.models import CriteriaSet, CriterionResult, Status
from criteria.services import assess_criterion
from recognition import services, standing
from recognition.models import RecognitionFile, Stage
from reports import bieu
from tests.personas import build_world, make_area
from tools.demo.areas import load_demo_areas
from tools.demo.recognition import load_demo_recognition

SET = "xa_ntm_2021_2025"


def all_met(area, criteria_set, year, unmet=(), not_assessed=(), only=None):
    for criterion in criteria_set.criteria.order_by("number"):
        if only is not None and criterion.number not in only:
            continue
        # Not assessed: a row with no verdict of its own (an empty assessed status; its indicators are not all in).
        status = "" if criterion.number in not_assessed else "not_met" if criterion.number in unmet else "met"
        assess_criterion(area=area, criterion=criterion, year=year, status=status)


class OfficialCountsTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.w = build_world()
        cls.cset = CriteriaSet.objects.get(code=SET)
        # An Dương: recognised in 2023 by a decision taken before the portal, no results entered at all.
        services.record_past_decision(
            area=cls.w.an_duong,
            criteria_set=cls.cset,
            year=2023,
            number="1234/QĐ-UBND",
            date=datetime.date(2023, 12, 20),
            user=cls.w.admin,
            note="Ghi nhận theo văn bản",
        )
        # Song Vân: 19/19 by assessment in 2023, never recognised.
        all_met(cls.w.song_van, cls.cset, 2023)
        # Hùng Mỹ: 19/19 in 2023; in 2024 only criterion 11 met and 17 partly entered (not assessed).
        all_met(cls.w.hung_my, cls.cset, 2023)
        all_met(cls.w.hung_my, cls.cset, 2024, not_assessed=(17,), only=(11, 17))

    def dashboard(self, area, year, user=None, **params):
        self.client.force_login(user or self.w.admin)
        return self.client.get(reverse("dashboard", args=[area.pk]), {"nam": year, "bo": SET, **params})

    # ---------------------------------------------------------------- 1. recognition is the official status

    def test_district_counts_recognised_communes_from_decisions_apart_from_assessment(self):
        response = self.dashboard(self.w.tan_yen, 2023)
        figures = response.context["figures"]
        self.assertEqual((figures["recognised"], figures["full"], figures["no_data"]), (1, 1, 1))
        self.assertContains(response, "Tỷ lệ xã đạt chuẩn NTM (đã được công nhận): 1/2")
        self.assertContains(response, '<td id="derived-share">1/2 = 50,0 %</td>', html=False)

    def test_recognised_commune_without_results_is_recognised_with_no_data_never_zero(self):
        response = self.dashboard(self.w.tan_yen, 2023)
        row = next(r for r in response.context["figures"]["rows"] if r["area"].pk == self.w.an_duong.pk)
        self.assertTrue(row["standing"].recognised)
        self.assertEqual(row["band"], "chua-co-so-lieu")
        self.assertNotContains(response, "0/19")
        self.assertContains(response, "Chưa có số liệu")

    def test_recognition_holds_in_later_years_as_kept_until_revoked(self):
        kept = standing.standings(Area.objects.filter(pk=self.w.an_duong.pk), self.cset, 2025)[self.w.an_duong.pk]
        self.assertTrue(kept.kept)
        self.assertEqual(kept.recognition_label, "Đã công nhận năm 2023 (QĐ 1234/QĐ-UBND ngày 20/12/2023) — giữ vững")
        before = standing.standings(Area.objects.filter(pk=self.w.an_duong.pk), self.cset, 2022)[self.w.an_duong.pk]
        self.assertFalse(before.recognised)

    def test_revoked_decision_is_no_longer_counted(self):
        file = RecognitionFile.objects.get(area=self.w.an_duong)
        with mock.patch("recognition.services.queue_notifications", return_value=[]):
            services.revoke(file=file, user=self.w.admin, comment="Không còn đạt tiêu chí 17")
        an_duong = Area.objects.filter(pk=self.w.an_duong.pk)
        revoked_in = timezone.localdate().year
        self.assertFalse(standing.standings(an_duong, self.cset, revoked_in)[self.w.an_duong.pk].recognised)
        # The years before the revocation keep their decision.
        self.assertEqual(self.dashboard(self.w.tan_yen, 2023).context["figures"]["recognised"], 1)

    def test_recording_the_same_past_decision_twice_changes_nothing(self):
        file = services.record_past_decision(
            area=self.w.an_duong, criteria_set=self.cset, year=2023, number="1234/QĐ-UBND",
            date=datetime.date(2023, 12, 20),
        )  # fmt: skip
        self.assertEqual(file.steps.count(), 1)
        self.assertEqual(file.stage, Stage.RECOGNISED)

    def test_recognition_list_shows_the_three_figures_side_by_side(self):
        self.client.force_login(self.w.reviewer_tan_yen)
        response = self.client.get(reverse("recognition_list", args=[self.w.tan_yen.pk]), {"nam": 2023, "bo": SET})
        self.assertContains(
            response,
            "1/2 xã đã được công nhận đạt chuẩn (theo quyết định) · 1 xã đạt đủ tiêu chí theo đánh giá · "
            "1 xã chưa có số liệu",
        )

    def test_bieu01_counts_recognised_communes_and_shows_a_dash_without_data(self):
        out = io.BytesIO()
        bieu.export(out, form="01", area=self.w.tan_yen, year=2023, criteria_set=self.cset)
        ws = load_workbook(io.BytesIO(out.getvalue())).active
        rows = {r[1].value: [c.value for c in r] for r in ws.iter_rows() if r[1].value}
        self.assertEqual(rows["Xã An Dương"][2], "—")
        self.assertEqual(rows["Xã An Dương"][5], "Đã công nhận năm 2023 (QĐ 1234/QĐ-UBND ngày 20/12/2023)")
        self.assertEqual(rows["Xã Song Vân"][2], "19/19")
        self.assertEqual(rows["Số xã đã được công nhận đạt chuẩn NTM (theo quyết định)"][2], 1)
        self.assertEqual(rows["Số xã chưa có số liệu"][2], 1)

    # ---------------------------------------------------------------- 2. no data is its own state

    def test_year_over_year_says_when_the_previous_year_has_no_data(self):
        all_met(self.w.song_van, self.cset, 2022, unmet=(6,))
        response = self.dashboard(self.w.tan_yen, 2022)
        self.assertContains(response, "Năm 2021 chưa có số liệu: không có gì để so sánh.")
        self.assertNotContains(response, "Không có tiêu chí nào thay đổi")

    def test_year_over_year_compares_only_communes_with_data_in_both_years(self):
        all_met(self.w.song_van, self.cset, 2022, unmet=(6,))
        response = self.dashboard(self.w.tan_yen, 2023)
        self.assertContains(response, "So sánh 1 xã có số liệu cả hai năm.")
        self.assertEqual([g["criteria"][0]["number"] for g in response.context["yoy"]["gained_by_area"]], [6])

    # ---------------------------------------------------------------- 3. carry-over

    def test_hung_my_keeps_nineteen_of_nineteen_in_2024_with_the_years_of_its_data(self):
        response = self.dashboard(self.w.hung_my, 2024)
        self.assertEqual(response.context["standing"].met_label, "19/19")
        self.assertContains(response, "theo số liệu năm 2023–2024")
        self.assertContains(response, "giữ vững")

    def test_hung_my_history_reads_nineteen_of_nineteen_in_2024_beside_the_one_criterion_entered(self):
        response = self.dashboard(self.w.hung_my, 2024)
        table = response.content.decode().split('<table class="history">')[1].split("</table>")[0]
        rows = [
            re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", r)).strip() for r in table.split("<tbody>")[1].split("</tr>")
        ]
        self.assertEqual(
            rows[:2],
            [
                f"2024 {self.cset.name} 19/19 theo số liệu năm 2023–2024 · đã nhập năm 2024: 1 tiêu chí",
                f"2023 {self.cset.name} 19/19",
            ],
        )

    def test_a_year_without_new_data_carries_the_latest_standing_on_the_district_page(self):
        response = self.dashboard(self.w.tan_yen, 2025)
        figures = response.context["figures"]
        self.assertEqual(figures["full"], 1)  # Song Vân, from 2023
        self.assertEqual(figures["carried_from"], [2023])
        self.assertContains(response, "theo số liệu năm 2023")

    # ---------------------------------------------------------------- 4. pages open on the year that holds data

    def test_pages_open_on_the_latest_year_with_data_and_mark_it(self):
        self.client.force_login(self.w.officer_hung_my)
        with mock.patch("criteria.scope.timezone.localdate", return_value=datetime.date(2026, 3, 1)):
            workspace = self.client.get(reverse("workspace", args=[self.w.hung_my.pk]))
            export = self.client.get(reverse("export_bieu", args=[self.w.hung_my.pk]))
            dashboard = self.client.get(reverse("dashboard", args=[self.w.hung_my.pk]))
            recognition = self.client.get(reverse("recognition_file", args=[self.w.hung_my.pk]))
        self.assertEqual(workspace.context["scope"].year, 2024)
        self.assertEqual(export.context["year"], 2024)
        self.assertEqual(dashboard.context["year"], 2024)
        self.assertEqual(recognition.context["scope"].year, 2024)
        self.assertContains(workspace, "2024 · có số liệu")
        self.assertNotContains(workspace, "2025 · có số liệu")

    def test_district_pages_open_on_their_communes_latest_year(self):
        self.client.force_login(self.w.reviewer_tan_yen)
        with mock.patch("criteria.scope.timezone.localdate", return_value=datetime.date(2026, 3, 1)):
            listing = self.client.get(reverse("recognition_list", args=[self.w.tan_yen.pk]))
            dashboard = self.client.get(reverse("dashboard", args=[self.w.tan_yen.pk]))
        self.assertEqual(listing.context["scope"].year, 2023)
        self.assertEqual(dashboard.context["year"], 2023)

    # ---------------------------------------------------------------- generated data: bulk, flat queries

    def test_standings_cost_one_query_whatever_the_number_of_communes(self):
        counts = []
        for n, code in ((3, "G3"), (40, "G40")):
            district = make_area(code, f"Huyện {code}", Level.DISTRICT, self.w.bac_giang, "huyện")
            communes = [make_area(f"{code}-{i}", f"Xã {i}", Level.COMMUNE, district, "xã") for i in range(n)]
            criteria = list(self.cset.criteria.all())
            standings.restate_for(
                CriterionResult.objects.bulk_create(
                    CriterionResult(area=c, criterion=k, year=2023, status=Status.MET)
                    for c in communes[::2]
                    for k in criteria
                )
            )
            with CaptureQueriesContext(connection) as queries:
                result = standing.standings(Area.objects.filter(district=district), self.cset, 2024, total=19)
            counts.append(len(queries))
            self.assertEqual(sum(s.full for s in result.values()), len(communes[::2]))
            self.assertEqual(sum(not s.has_data for s in result.values()), n - len(communes[::2]))
            self.assertTrue(all(s.data_label == "theo số liệu năm 2023" for s in result.values() if s.has_data))
        self.assertEqual(counts, [1, 1])


class DemoRecognitionTests(TestCase):
    def test_seed_001_state_recognised_communes_and_viet_ngoc_waiting_for_its_decision(self):
        demo = Path(settings.BASE_DIR) / "fixtures" / "demo"
        areas = load_demo_areas(yaml.safe_load((demo / "areas.yaml").read_text(encoding="utf-8"))["areas"])
        entries = yaml.safe_load((demo / "recognition.yaml").read_text(encoding="utf-8"))["recognition"]
        load_demo_recognition(entries, areas_by_code=areas)
        cset = CriteriaSet.objects.get(code="xa_ntm_2016_2020")
        result = standing.standings(Area.objects.filter(code__in=["07306", "07351", "07342", "07321"]), cset, 2019)
        by_code = {Area.objects.get(pk=pk).code: s for pk, s in result.items()}
        self.assertTrue(by_code["07306"].recognised)  # Nhã Nam
        self.assertTrue(by_code["07351"].recognised)  # Ngọc Vân
        self.assertFalse(by_code["07342"].recognised)  # Việt Ngọc: appraised, no decision yet
        self.assertEqual(RecognitionFile.objects.get(area__code="07342").stage, Stage.APPRAISED)
        self.assertFalse(by_code["07321"].recognised)  # An Dương: one of the 8 not yet recognised
        # Every "recognised" entry of the demo is one of the seed's 14; none of its 8 named others.
        recognised = {str(e["area"]) for e in entries if e["stage"] == "recognised"}
        not_yet = {"07360", "07321", "07303", "07330", "07309", "07336", "07345", "07357"}
        self.assertEqual(len(recognised), 13)
        self.assertFalse(recognised & not_yet)
