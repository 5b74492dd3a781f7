"""Every workspace URL against each role at its own, a sibling and a parent area: 404 for what may not be
seen or changed, and nothing written by a refused request."""

import shutil
import tempfile

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase, override_settings
from django.urls import reverse

from criteria import evidence
from criteria.models import CriteriaSet, CriterionResult, Evidence, Indicator, IndicatorResult
from tests.personas import build_world

YEAR = 2024
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

MEDIA = tempfile.mkdtemp(prefix="ntm-test-media-")


@override_settings(MEDIA_ROOT=MEDIA)
class ScopeTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.w = w = build_world()
        cls.set = CriteriaSet.objects.national().for_level("commune").covering(YEAR).get(tier="standard")
        cls.indicator = Indicator.objects.in_set(cls.set).get(code="7")
        cls.criterion = cls.indicator.criterion
        with override_settings(MEDIA_ROOT=MEDIA):
            cls.evidence = {
                area.pk: evidence.add_evidence(
                    area=area,
                    indicator=cls.indicator,
                    year=YEAR,
                    upload=SimpleUploadedFile("bien-ban.pdf", PDF),
                    user=w.admin,
                )
                for area in (w.an_duong, w.song_van)
            }
        # Who may read (r) and who may write (w) each area; anything else must be a 404.
        cls.cases = [
            (w.officer_an_duong, w.an_duong, "rw"),
            (w.officer_an_duong, w.song_van, ""),
            (w.officer_an_duong, w.tan_yen, ""),
            (w.officer_song_van, w.song_van, "rw"),
            (w.officer_song_van, w.an_duong, ""),
            (w.reviewer_tan_yen, w.an_duong, "r"),
            (w.reviewer_tan_yen, w.song_van, "r"),
            (w.reviewer_tan_yen, w.bac_giang, ""),
            (w.reviewer_bac_giang, w.an_duong, "r"),
            (w.viewer_tan_yen, w.an_duong, "r"),
            (w.officer_hung_my, w.an_duong, ""),
            (w.nobody, w.an_duong, ""),
            (w.admin, w.song_van, "rw"),
        ]

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(MEDIA, ignore_errors=True)

    def state(self):
        return (
            list(IndicatorResult.objects.values_list("pk", "version")),
            list(CriterionResult.objects.values_list("pk", "version", "assessed_status")),
            list(Evidence.objects.values_list("pk", flat=True)),
        )

    def read_urls(self, area):
        q = f"?nam={YEAR}"
        urls = [
            reverse("workspace_criterion", args=[area.pk, self.criterion.pk]) + q,
            reverse("indicator_history", args=[area.pk, self.indicator.pk]) + q,
        ]
        if area.level == "commune":
            urls.append(reverse("download_evidence", args=[area.pk, self.evidence[area.pk].pk]))
        return urls

    def write_requests(self, area):
        q = f"?nam={YEAR}"
        prefix = f"i{self.indicator.pk}-"
        requests = [
            (reverse("edit_indicator", args=[area.pk, self.indicator.pk]) + q, {prefix + "boolean": "yes"}),
            (reverse("assess_criterion", args=[area.pk, self.criterion.pk]) + q, {"status": "met"}),
            (
                reverse("upload_evidence", args=[area.pk, self.indicator.pk]) + q,
                {"file": SimpleUploadedFile("them.pdf", PDF)},
            ),
        ]
        if area.level == "commune":
            requests.append((reverse("delete_evidence", args=[area.pk, self.evidence[area.pk].pk]), {}))
        return requests

    def test_workspace_page_is_scoped(self):
        for user, area, rights in self.cases:
            self.client.force_login(user)
            with self.subTest(user=user.username, area=area.name):
                response = self.client.get(reverse("workspace", args=[area.pk]) + f"?nam={YEAR}")
                self.assertEqual(response.status_code, 200 if "r" in rights else 404)

    def test_read_urls_are_scoped(self):
        for user, area, rights in self.cases:
            if area.level != "commune":
                continue
            self.client.force_login(user)
            for url in self.read_urls(area):
                with self.subTest(user=user.username, url=url):
                    self.assertEqual(self.client.get(url).status_code, 200 if "r" in rights else 404)

    def test_refused_writes_are_404_and_change_nothing(self):
        for user, area, rights in self.cases:
            if "w" in rights:
                continue
            self.client.force_login(user)
            for url, data in self.write_requests(area):
                before = self.state()
                with self.subTest(user=user.username, url=url):
                    self.assertEqual(self.client.post(url, data).status_code, 404)
                    self.assertEqual(self.state(), before)

    def test_allowed_writes_go_through(self):
        self.client.force_login(self.w.officer_an_duong)
        statuses = [self.client.post(url, data).status_code for url, data in self.write_requests(self.w.an_duong)]
        self.assertEqual(statuses, [302, 302, 302, 302])
        self.assertEqual(IndicatorResult.objects.get(area=self.w.an_duong).boolean, True)
        self.assertEqual(
            list(Evidence.objects.filter(area=self.w.an_duong).values_list("original_name", flat=True)), ["them.pdf"]
        )

    def test_evidence_of_another_commune_cannot_be_reached_through_ones_own(self):
        self.client.force_login(self.w.officer_an_duong)
        other = self.evidence[self.w.song_van.pk]
        self.assertEqual(
            self.client.get(reverse("download_evidence", args=[self.w.an_duong.pk, other.pk])).status_code, 404
        )
        response = self.client.post(reverse("delete_evidence", args=[self.w.an_duong.pk, other.pk]))
        self.assertEqual(response.status_code, 404)
        self.assertTrue(Evidence.objects.filter(pk=other.pk).exists())

    def test_anonymous_users_are_sent_to_the_login_page(self):
        response = self.client.get(reverse("workspace", args=[self.w.an_duong.pk]))
        self.assertEqual(response.status_code, 302)
        self.assertIn(reverse("login"), response["Location"])
