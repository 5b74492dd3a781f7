"""Recognition after 1/7/2025: a commune with no district is verified (thẩm tra) by its province, and no page
speaks of a district that no longer exists."""

import datetime

from django.test import TestCase
from django.urls import reverse

from areas.models import Area, Level, RoleKind
from criteria.models import CriteriaSet
from recognition import services
from recognition.models import Action, RecognitionFile, Stage
from tests.personas import make_area, make_user

REFORM = datetime.date(2025, 7, 1)
YEAR = 2026
QUERY = f"?nam={YEAR}&bo=xa_ntm_2026_2030"


class CommuneWithoutDistrictTests(TestCase):
    """xã Tân Mỹ of the new Tuyên Quang (from 1/7/2025): its officer submits, the province's reviewer verifies."""

    @classmethod
    def setUpTestData(cls):
        cls.tuyen_quang = Area.objects.provinces().get(code="08", valid_from=REFORM)
        cls.tan_my = make_area("T-02308", "Tân Mỹ", Level.COMMUNE, cls.tuyen_quang, "xã", valid_from=REFORM)
        cls.officer = make_user("canbo.tanmy", cls.tan_my, RoleKind.OFFICER)
        cls.reviewer = make_user("thamdinh.tuyenquang", cls.tuyen_quang, RoleKind.REVIEWER)
        cls.criteria_set = CriteriaSet.objects.get(code="xa_ntm_2026_2030")

    def submitted(self):
        file = services.open_file(area=self.tan_my, criteria_set=self.criteria_set, year=YEAR)
        services.update_details(file=file, user=self.officer, satisfaction_rate=92)
        services.submit(file=file, user=self.officer, force=True)
        return file

    def page(self, user, name="recognition_file", area=None):
        self.client.force_login(user)
        return self.client.get(reverse(name, args=[(area or self.tan_my).pk]) + QUERY)

    def test_a_submitted_file_waits_for_the_province_not_a_district(self):
        self.submitted()
        response = self.page(self.officer)
        self.assertContains(response, 'data-testid="waiting">Chờ tỉnh thẩm tra<')
        self.assertNotContains(response, "huyện thẩm tra")

    def test_the_province_reviewer_verifies_and_the_stage_names_the_province(self):
        file = self.submitted()
        self.client.force_login(self.reviewer)
        url = reverse("recognition_step", args=[self.tan_my.pk]) + QUERY
        response = self.client.post(url, {"action": Action.VERIFY, "verify-version": file.version}, follow=True)
        self.assertContains(response, 'data-testid="stage">Tỉnh đã thẩm tra<')
        self.assertContains(response, "Chờ tỉnh thẩm định")
        self.assertNotContains(response, "Huyện đã thẩm tra")
        self.assertEqual(RecognitionFile.objects.get().stage, Stage.VERIFIED)

    def test_the_officer_is_told_the_province_verifies(self):
        file = self.submitted()
        with self.assertRaisesMessage(services.RecognitionError, "cán bộ thẩm tra của tỉnh"):
            services.verify(file=file, user=self.officer)

    def test_the_province_list_counts_files_verified_by_the_province(self):
        file = self.submitted()
        services.verify(file=file, user=self.reviewer)
        response = self.page(self.reviewer, "recognition_list", self.tuyen_quang)
        self.assertContains(response, '<li data-stage="verified"><strong>1</strong>Tỉnh đã thẩm tra</li>', html=True)
        self.assertNotContains(response, "Huyện đã thẩm tra")

    def test_the_file_links_to_the_provinces_list(self):
        response = self.page(self.reviewer)
        self.assertContains(response, "Danh sách hồ sơ của tỉnh")
        self.assertContains(response, reverse("recognition_list", args=[self.tuyen_quang.pk]))


class PresentDemoTests(TestCase):
    """`seed_demo` on a map with the new xã Nhã Nam and xã Tân Mỹ shows the present beside the seeds' past."""

    @classmethod
    def setUpTestData(cls):
        from io import StringIO

        from django.core.management import call_command

        from areas.models import AreaSuccession

        bac_ninh = Area.objects.provinces().get(code="24", valid_from=REFORM)
        tuyen_quang = Area.objects.provinces().get(code="08", valid_from=REFORM)
        cls.nha_nam = make_area("07306", "Nhã Nam", Level.COMMUNE, bac_ninh, "xã", valid_from=REFORM)
        cls.tan_my = make_area("02308", "Tân Mỹ", Level.COMMUNE, tuyen_quang, "xã", valid_from=REFORM)
        cls.output = StringIO()
        call_command("seed_demo", stdout=cls.output)
        cls.hung_my = Area.objects.communes().get(code="02314", valid_from__isnull=True)
        AreaSuccession.objects.create(old=cls.hung_my, new=cls.tan_my, on=REFORM)

    def test_the_new_communes_have_their_group_labelled_as_demo_without_a_decision(self):
        from areas.models import CommuneGrouping

        groups = {g.area.name: g for g in CommuneGrouping.objects.select_related("area")}
        self.assertEqual({name: g.group for name, g in groups.items()}, {"Nhã Nam": "N2", "Tân Mỹ": "N3"})
        self.assertEqual(groups["Tân Mỹ"].decision_label, "chưa có quyết định")
        self.assertIn("minh họa", groups["Tân Mỹ"].note)

    def test_tan_my_has_a_2026_plan_and_workspace(self):
        from plans.models import Plan

        plan = Plan.objects.get(area=self.tan_my, year=YEAR)
        self.assertEqual(plan.items.count(), 4)
        self.assertIn("minh họa", plan.title)
        self.assertTrue(self.tan_my.criterion_results.filter(year=YEAR).exists())

    def test_the_officer_of_tan_my_reads_hung_mys_2024_workspace(self):
        from django.contrib.auth import get_user_model

        self.client.force_login(get_user_model().objects.get(username="canbo.tanmy"))
        url = reverse("workspace", args=[self.hung_my.pk]) + "?nam=2024&bo=xa_ntm_2021_2025"
        self.assertEqual(self.client.get(url).status_code, 200)

    def test_the_present_logins_are_printed_with_the_others(self):
        text = self.output.getvalue()
        for username in ("canbo.anduong", "canbo.nhanam", "canbo.tanmy", "thamdinh.bacninh"):
            self.assertIn(username, text)

    def test_running_twice_writes_nothing_more(self):
        from io import StringIO

        from django.core.management import call_command

        out = StringIO()
        call_command("seed_demo", stdout=out)
        self.assertIn("0 dòng mới ghi", out.getvalue())
