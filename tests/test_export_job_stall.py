"""An export killed mid-way (server restarted, request timed out) does not stay "running" for ever: asking
again or opening its page queues it again, and after jobs.MAX_ATTEMPTS tries it fails with a message and a
way to ask again. Without a worker, an export too large for one request is not started inside the request."""

import datetime
import shutil
import tempfile

from django.test import TestCase, override_settings
from django.utils import timezone

from reports import jobs
from reports.models import ExportJob, JobStatus
from tests.personas import build_world

MEDIA = tempfile.mkdtemp(prefix="ntm-job-stall-tests-")


def tearDownModule():
    shutil.rmtree(MEDIA, ignore_errors=True)


@override_settings(MEDIA_ROOT=MEDIA, NTM_INLINE_EXPORT_MAX_COMMUNES=2)
class StalledExportTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.w = build_world()  # Bắc Giang has three communes: above the limit of two set here

    def setUp(self):
        self.client.force_login(self.w.reviewer_bac_giang)

    def ask(self):
        return self.client.get(f"/xuat-bieu/{self.w.bac_giang.pk}/", {"bieu": "01", "nam": 2024})

    def killed_mid_way(self, *, attempts_before=0):
        """The job as a killed request or worker leaves it: running, 1 of 3 rows written, silent since."""
        self.ask()
        job = ExportJob.objects.get()
        ExportJob.objects.filter(pk=job.pk).update(attempts=attempts_before)
        self.assertTrue(jobs.claim(job))
        silent_since = timezone.now() - jobs.stall_limit() - datetime.timedelta(minutes=1)
        ExportJob.objects.filter(pk=job.pk).update(progress=1, updated_at=silent_since)
        return job

    def test_asking_again_requeues_a_job_nothing_is_writing_and_the_page_writes_it(self):
        job = self.killed_mid_way()
        response = self.ask()
        self.assertRedirects(response, f"/xuat-bieu/tac-vu/{job.pk}/")
        job.refresh_from_db()
        self.assertEqual((job.status, job.progress), (JobStatus.QUEUED, 0))
        page = self.client.get(f"/xuat-bieu/tac-vu/{job.pk}/")
        self.assertContains(page, f'hx-post="/xuat-bieu/tac-vu/{job.pk}/chay/"')
        self.client.post(f"/xuat-bieu/tac-vu/{job.pk}/chay/")
        job.refresh_from_db()
        self.assertEqual((job.status, job.progress, job.attempts), (JobStatus.DONE, 3, 2))

    def test_the_progress_page_of_a_stalled_job_does_not_wait_for_ever(self):
        job = self.killed_mid_way()
        status = self.client.get(f"/xuat-bieu/tac-vu/{job.pk}/", headers={"HX-Request": "true"})
        self.assertContains(status, f'hx-post="/xuat-bieu/tac-vu/{job.pk}/chay/"')
        self.assertEqual(ExportJob.objects.get(pk=job.pk).status, JobStatus.QUEUED)

    def test_after_the_last_attempt_the_job_fails_with_a_message_and_asking_again_starts_afresh(self):
        job = self.killed_mid_way(attempts_before=jobs.MAX_ATTEMPTS - 1)
        page = self.client.get(f"/xuat-bieu/tac-vu/{job.pk}/")
        self.assertContains(page, "Không lập được biểu.")
        self.assertContains(page, f"Việc lập biểu bị gián đoạn {jobs.MAX_ATTEMPTS} lần")
        self.assertContains(page, "Yêu cầu lập lại")
        self.assertContains(page, f"/xuat-bieu/{self.w.bac_giang.pk}/?bieu=01&amp;nam=2024")
        self.assertNotContains(page, "hx-trigger")

        response = self.ask()
        fresh = ExportJob.objects.exclude(pk=job.pk).get()
        self.assertRedirects(response, f"/xuat-bieu/tac-vu/{fresh.pk}/")
        self.assertEqual(fresh.status, JobStatus.QUEUED)
        self.assertEqual(ExportJob.objects.get(pk=job.pk).status, JobStatus.FAILED)

    @override_settings(NTM_INLINE_JOB_MAX_COMMUNES=2)
    def test_without_a_worker_an_export_too_large_for_one_request_is_not_run_in_it(self):
        self.ask()
        job = ExportJob.objects.get()
        page = self.client.get(f"/xuat-bieu/tac-vu/{job.pk}/")
        self.assertNotContains(page, "hx-post")
        self.assertContains(page, "quá lớn để lập ngay trong trang")
        self.assertContains(page, "run_export_worker")
        self.assertEqual(self.client.post(f"/xuat-bieu/tac-vu/{job.pk}/chay/").status_code, 404)
        self.assertEqual(ExportJob.objects.get(pk=job.pk).status, JobStatus.QUEUED)
