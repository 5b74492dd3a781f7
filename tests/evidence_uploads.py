"""The evidence upload as tests drive it: the officer of xã An Dương sends a file for indicator 7 of the commune
criteria set in force in YEAR, through the page's form."""

import shutil
import tempfile

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase, override_settings
from django.urls import reverse

from criteria.models import CriteriaSet, Indicator
from tests.personas import build_world

YEAR = 2024


class EvidenceUploadTestCase(TestCase):
    """The world of the personas, the indicator the files go to, and `upload()` as the officer. Each test class
    keeps the stored files in a media folder of its own, removed after it."""

    @classmethod
    def setUpClass(cls):
        media = tempfile.mkdtemp(prefix="ntm-test-evidence-")
        cls.addClassCleanup(shutil.rmtree, media, ignore_errors=True)
        cls.enterClassContext(override_settings(MEDIA_ROOT=media))
        super().setUpClass()

    @classmethod
    def setUpTestData(cls):
        cls.w = build_world()
        criteria_set = CriteriaSet.objects.national().for_level("commune").covering(YEAR).get(tier="standard")
        cls.indicator = Indicator.objects.in_set(criteria_set).get(code="7")

    def setUp(self):
        self.client.force_login(self.w.officer_an_duong)

    def upload(self, name, content):
        url = reverse("upload_evidence", args=[self.w.an_duong.pk, self.indicator.pk]) + f"?nam={YEAR}"
        return self.client.post(url, {"file": SimpleUploadedFile(name, content)}, follow=True)
