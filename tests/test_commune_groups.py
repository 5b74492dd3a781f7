"""Commune groups of 2026–2030 (nhóm 1 / 2 / 3): per commune and period, set by a province's decision, edited in
the admin or loaded from Excel (all rows or none), and choosing the thresholds that judge the commune."""

import datetime
import io
from decimal import Decimal

import openpyxl
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.urls import reverse

from areas.models import Area, CommuneGrouping, Level, RoleKind
from criteria import groupings
from criteria import services as criteria_services
from criteria.judging import Judge
from criteria.models import CriteriaSet, Indicator, IndicatorResult, Threshold
from tests.personas import build_world, make_area, make_user

REFORM = datetime.date(2025, 7, 1)


def workbook(rows, header=("Mã xã", "Tên xã", "Nhóm", "Số quyết định", "Ngày quyết định")):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return SimpleUploadedFile("xep-nhom.xlsx", out.getvalue())


class GroupWorld(TestCase):
    """Two communes of the new Tuyên Quang and an indicator of 2026–2030 whose level differs by group."""

    @classmethod
    def setUpTestData(cls):
        cls.w = build_world()
        cls.tuyen_quang = Area.objects.provinces().get(code="08", valid_from=REFORM)
        cls.tan_my = make_area("T-02308", "Tân Mỹ", Level.COMMUNE, cls.tuyen_quang, "xã", valid_from=REFORM)
        cls.minh_xuan = make_area("T-02200", "Minh Xuân", Level.COMMUNE, cls.tuyen_quang, "phường", valid_from=REFORM)
        cls.officer = make_user("canbo.tanmy", cls.tan_my, RoleKind.OFFICER)
        cls.set_2026 = CriteriaSet.objects.get(code="xa_ntm_2026_2030")
        criterion = cls.set_2026.criteria.get(number=8)
        cls.indicator = Indicator.objects.create(
            criterion=criterion,
            code="8.1",
            sort_key="0008.0001",
            name="Tỷ lệ hộ có nhà tiêu hợp vệ sinh",
            kind="percentage",
        )
        for group, level in (("N1", 95), ("N2", 85), ("N3", 70)):
            Threshold.objects.create(
                indicator=cls.indicator, commune_group=group, raw=f"≥{level}%", comparison="gte", value=level
            )

    def record(self, area, value, year=2026):
        return criteria_services.record_indicator_result(
            area=area, indicator=self.indicator, year=year, user=self.w.admin, value=Decimal(value)
        )

    def status(self, area, year=2026):
        return IndicatorResult.objects.get(area=area, indicator=self.indicator, year=year).status


class ThresholdByGroupTests(GroupWorld):
    def test_the_groups_threshold_judges_the_commune(self):
        groupings.set_grouping(area=self.tan_my, group="N3", decision_number="QĐ 12/QĐ-UBND")
        groupings.set_grouping(area=self.minh_xuan, group="N1")
        self.record(self.tan_my, "80")
        self.record(self.minh_xuan, "80")
        self.assertEqual(self.status(self.tan_my), "met")
        self.assertEqual(self.status(self.minh_xuan), "not_met")

    def test_a_commune_not_grouped_is_not_judged_on_a_groups_threshold(self):
        self.record(self.tan_my, "80")
        self.assertEqual(self.status(self.tan_my), "not_assessed")

    def test_a_grouping_of_another_period_does_not_apply(self):
        groupings.set_grouping(area=self.tan_my, group="N3", period_start=2031, period_end=2035)
        self.record(self.tan_my, "80")
        self.assertEqual(self.status(self.tan_my), "not_assessed")

    def test_changing_the_group_judges_the_stored_result_again(self):
        groupings.set_grouping(area=self.tan_my, group="N3")
        self.record(self.tan_my, "80")
        groupings.set_grouping(area=self.tan_my, group="N1", decision_number="QĐ 40/QĐ-UBND")
        self.assertEqual(self.status(self.tan_my), "not_met")
        # The change is in the grouping's history.
        self.assertEqual(
            list(CommuneGrouping.history.filter(area=self.tan_my).values_list("group", flat=True)), ["N1", "N3"]
        )

    def test_bulk_judging_reads_the_groups_in_one_query(self):
        groupings.set_grouping(area=self.tan_my, group="N3")
        groupings.set_grouping(area=self.minh_xuan, group="N1")
        indicator = Indicator.objects.select_related("criterion__criteria_set").get(pk=self.indicator.pk)
        judge = Judge.for_indicators([indicator])
        areas = list(Area.objects.select_related("region").filter(pk__in=[self.tan_my.pk, self.minh_xuan.pk]))
        areas.sort(key=lambda a: a.pk != self.tan_my.pk)
        with self.assertNumQueries(1):
            reasons = [judge.choice(indicator, area, 2026).reason for area in areas]
        self.assertEqual(reasons, ["nhóm xã N3", "nhóm xã N1"])

    def test_the_workspace_names_the_group_and_its_decision(self):
        groupings.set_grouping(
            area=self.tan_my, group="N3", decision_number="QĐ 12/QĐ-UBND", decision_date=datetime.date(2026, 1, 5)
        )
        self.client.force_login(self.officer)
        response = self.client.get(reverse("workspace", args=[self.tan_my.pk]) + "?nam=2026&bo=xa_ntm_2026_2030")
        self.assertContains(response, "QĐ 12/QĐ-UBND ngày 05/01/2026")


class GroupingImportTests(GroupWorld):
    def test_a_province_decision_is_loaded_from_excel(self):
        report = groupings.import_groupings(
            workbook(
                [
                    ("T-02308", "Tân Mỹ", "Nhóm 3", "QĐ 12/QĐ-UBND", datetime.datetime(2026, 1, 5)),
                    ("T-02200", "phường Minh Xuân", 1, "QĐ 12/QĐ-UBND", "05/01/2026"),
                ]
            ),
            period_start=2026,
            period_end=2030,
            user=self.w.admin,
        )
        self.assertEqual((report.created, report.updated, report.unchanged), (2, 0, 0))
        tan_my = CommuneGrouping.objects.get(area=self.tan_my)
        self.assertEqual(
            (tan_my.group, tan_my.decision_number, tan_my.decision_date, tan_my.period),
            ("N3", "QĐ 12/QĐ-UBND", datetime.date(2026, 1, 5), "2026–2030"),
        )
        self.assertEqual(CommuneGrouping.objects.get(area=self.minh_xuan).group, "N1")

    def test_one_bad_row_rejects_the_whole_file_naming_row_and_column(self):
        with self.assertRaises(groupings.GroupingImportError) as refused:
            groupings.import_groupings(
                workbook(
                    [
                        ("T-02308", "Tân Mỹ", "3", "", ""),
                        ("T-02200", "Minh Xuân", "4", "", ""),
                        ("T-99999", "Không có", "1", "", ""),
                        ("T-02308", "Hùng Mỹ", "2", "", "32/13/2026"),
                    ]
                ),
                period_start=2026,
                period_end=2030,
            )
        self.assertEqual(
            refused.exception.errors,
            [
                "Dòng 3, cột Nhóm: '4' không phải là nhóm 1, 2 hoặc 3",
                "Dòng 4, cột Mã xã: không có xã mã 'T-99999' trên bản đồ ngày 01/01/2026",
                "Dòng 5, cột Mã xã: xã mã 'T-02308' đã có ở dòng 2",
                "Dòng 5, cột Ngày quyết định: '32/13/2026' không phải là ngày (viết 15/01/2026)",
            ],
        )
        self.assertFalse(CommuneGrouping.objects.exists())

    def test_a_name_that_does_not_match_the_code_is_refused(self):
        with self.assertRaises(groupings.GroupingImportError) as refused:
            groupings.import_groupings(
                workbook([("T-02308", "Minh Xuân", "1", "", "")]), period_start=2026, period_end=2030
            )
        self.assertEqual(
            refused.exception.errors, ["Dòng 2, cột Tên xã: mã 'T-02308' là xã Tân Mỹ, không phải 'Minh Xuân'"]
        )

    def test_a_file_that_is_not_a_workbook_is_refused(self):
        with self.assertRaises(groupings.GroupingImportError) as refused:
            groupings.import_groupings(
                SimpleUploadedFile("xep-nhom.xlsx", b"not a workbook"), period_start=2026, period_end=2030
            )
        self.assertIn("không phải là tệp Excel", refused.exception.errors[0])


class GroupingAdminTests(GroupWorld):
    def test_the_administrator_loads_the_table_in_the_admin_and_lists_it_by_group(self):
        self.client.force_login(self.w.admin)
        response = self.client.post(
            reverse("admin:areas_communegrouping_import"),
            {"file": workbook([("T-02308", "Tân Mỹ", "3", "QĐ 12/QĐ-UBND", "05/01/2026")]), "period_start": 2026,
             "period_end": 2030},
            follow=True,
        )  # fmt: skip
        self.assertContains(response, "Đã nhập xếp nhóm xã: 1 xã mới xếp nhóm")
        listing = self.client.get(reverse("admin:areas_communegrouping_changelist") + "?group__exact=N3")
        self.assertContains(listing, "QĐ 12/QĐ-UBND")

    def test_the_admin_shows_every_error_of_a_refused_file(self):
        self.client.force_login(self.w.admin)
        response = self.client.post(
            reverse("admin:areas_communegrouping_import"),
            {"file": workbook([("T-02308", "Tân Mỹ", "7", "", "")]), "period_start": 2026, "period_end": 2030},
        )
        self.assertContains(response, "Dòng 2, cột Nhóm: &#x27;7&#x27; không phải là nhóm 1, 2 hoặc 3")
        self.assertFalse(CommuneGrouping.objects.exists())

    def test_the_group_is_edited_on_the_communes_page(self):
        self.client.force_login(self.w.admin)
        response = self.client.get(reverse("admin:areas_area_change", args=[self.tan_my.pk]))
        self.assertContains(response, "nhóm xã (nhóm 1 / 2 / 3 theo quyết định của tỉnh)")


class GroupDashboardTests(GroupWorld):
    def test_the_2026_dashboard_breaks_the_communes_down_by_group(self):
        groupings.set_grouping(area=self.tan_my, group="N3")
        for criterion in self.set_2026.criteria.all():
            criteria_services.assess_criterion(
                area=self.tan_my, criterion=criterion, year=2026, status="met", user=self.w.admin
            )
        reviewer = make_user("thamdinh.tuyenquang", self.tuyen_quang, RoleKind.REVIEWER)
        self.client.force_login(reviewer)
        response = self.client.get(reverse("dashboard", args=[self.tuyen_quang.pk]) + "?nam=2026&bo=xa_ntm_2026_2030")
        groups = response.context["groups"]
        self.assertEqual(
            [(g["group"], g["communes"], g["full"]) for g in groups],
            [("N1", 0, 0), ("N2", 0, 0), ("N3", 1, 1), ("", 1, 0)],
        )
        self.assertContains(response, "Theo nhóm xã")
        self.assertContains(response, "Chưa xếp nhóm")

    def test_dashboards_of_earlier_sets_have_no_group_table(self):
        self.client.force_login(self.w.admin)
        response = self.client.get(reverse("dashboard", args=[self.w.chiem_hoa.pk]) + "?nam=2024&bo=xa_ntm_2021_2025")
        self.assertEqual(response.status_code, 200)
        self.assertIsNone(response.context["groups"])
        self.assertNotContains(response, "Theo nhóm xã")
