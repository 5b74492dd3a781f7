"""Large exports go through the database-backed queue: a job, a worker, a progress page, a scoped download."""

import datetime
import io
import os
import shutil
import tempfile

from django.core.management import call_command
from django.test import TestCase, override_settings
from django.utils import timezone
from openpyxl import load_workbook

from criteria.models import CriteriaSet
from reports import jobs
from reports.models import ExportJob, JobStatus
from tests.personas import build_world

MEDIA = tempfile.mkdtemp(prefix="ntm-job-tests-")


def tearDownModule():
    shutil.rmtree(MEDIA, ignore_errors=True)


@override_settings(MEDIA_ROOT=MEDIA, NTM_INLINE_EXPORT_MAX_COMMUNES=2)
class ExportJobTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.w = build_world()  # Bắc Giang has three communes: above the limit of two set here
        cls.cset = CriteriaSet.objects.get(code="xa_ntm_2021_2025")

    def request_export(self, user, area):
        self.client.force_login(user)
        return self.client.get(f"/xuat-bieu/{area.pk}/", {"bieu": "01", "nam": 2024})

    def queued_job(self):
        response = self.request_export(self.w.reviewer_bac_giang, self.w.bac_giang)
        job = ExportJob.objects.get()
        self.assertRedirects(response, f"/xuat-bieu/tac-vu/{job.pk}/")
        return job

    def test_small_area_still_downloads_at_once(self):
        response = self.request_export(self.w.reviewer_tan_yen, self.w.tan_yen)
        self.assertEqual(response["Content-Type"], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        self.assertFalse(ExportJob.objects.exists())

    @override_settings(NTM_EXPORT_WORKER=True)
    def test_worker_writes_the_job_and_the_owner_downloads_it(self):
        job = self.queued_job()
        self.assertEqual((job.status, job.total, job.user), (JobStatus.QUEUED, 3, self.w.reviewer_bac_giang))
        page = self.client.get(f"/xuat-bieu/tac-vu/{job.pk}/")
        self.assertContains(page, 'hx-trigger="every 2s"')
        self.assertContains(page, "Đang chờ đến lượt lập biểu")

        out = io.StringIO()
        call_command("run_export_worker", once=True, stdout=out)
        job.refresh_from_db()
        self.assertEqual((job.status, job.progress), (JobStatus.DONE, 3))
        self.assertIn("Đã lập 1 biểu", out.getvalue())

        status = self.client.get(f"/xuat-bieu/tac-vu/{job.pk}/", headers={"HX-Request": "true"})
        self.assertContains(status, "Đã lập xong")
        self.assertNotContains(status, "hx-trigger")
        download = self.client.get(f"/xuat-bieu/tac-vu/{job.pk}/tai-ve/")
        self.assertIn('filename="Bieu01_bac-giang_2024.xlsx"', download["Content-Disposition"])
        ws = load_workbook(io.BytesIO(b"".join(download.streaming_content))).active
        self.assertEqual(ws["A1"].value, "UBND TỈNH BẮC GIANG")
        self.assertEqual(next(r for r in ws.iter_rows() if r[1].value == "Tổng số xã")[2].value, 3)

    @override_settings(NTM_EXPORT_WORKER=True)
    def test_job_pages_and_download_are_for_the_owner_only(self):
        job = self.queued_job()
        call_command("run_export_worker", once=True, stdout=io.StringIO())
        for user in (self.w.reviewer_tan_yen, self.w.officer_an_duong, self.w.admin):
            self.client.force_login(user)
            for suffix in ("", "tai-ve/"):
                self.assertEqual(self.client.get(f"/xuat-bieu/tac-vu/{job.pk}/{suffix}").status_code, 404)

    @override_settings(NTM_EXPORT_WORKER=True)
    def test_owner_who_lost_the_role_cannot_download(self):
        job = self.queued_job()
        call_command("run_export_worker", once=True, stdout=io.StringIO())
        self.w.reviewer_bac_giang.ntm_roles.update(is_active=False)
        self.assertEqual(self.client.get(f"/xuat-bieu/tac-vu/{job.pk}/tai-ve/").status_code, 404)

    def test_without_a_worker_the_page_runs_the_export_inline(self):
        job = self.queued_job()
        page = self.client.get(f"/xuat-bieu/tac-vu/{job.pk}/")
        self.assertContains(page, f'hx-post="/xuat-bieu/tac-vu/{job.pk}/chay/"')
        self.assertContains(page, "Đang lập biểu, xin chờ")
        done = self.client.post(f"/xuat-bieu/tac-vu/{job.pk}/chay/")
        self.assertContains(done, f"/xuat-bieu/tac-vu/{job.pk}/tai-ve/")
        job.refresh_from_db()
        self.assertEqual(job.status, JobStatus.DONE)
        self.assertEqual(self.client.get(f"/xuat-bieu/tac-vu/{job.pk}/tai-ve/").status_code, 200)

    @override_settings(NTM_EXPORT_WORKER=True)
    def test_with_a_worker_the_page_cannot_run_the_export_itself(self):
        job = self.queued_job()
        self.assertEqual(self.client.post(f"/xuat-bieu/tac-vu/{job.pk}/chay/").status_code, 404)
        self.assertEqual(ExportJob.objects.get().status, JobStatus.QUEUED)

    def test_asking_twice_gives_the_same_waiting_job(self):
        first = self.queued_job()
        self.request_export(self.w.reviewer_bac_giang, self.w.bac_giang)
        self.assertEqual(list(ExportJob.objects.all()), [first])

    def test_claims_take_the_oldest_job_once(self):
        older = jobs.create_export_job(user=self.w.admin, area=self.w.bac_giang, form="01", year=2023)
        newer = jobs.create_export_job(user=self.w.admin, area=self.w.bac_giang, form="01", year=2024)
        self.assertEqual(jobs.claim_next(), older)
        self.assertEqual(jobs.claim_next(), newer)
        self.assertIsNone(jobs.claim_next())
        self.assertFalse(jobs.claim(older))
        self.assertEqual(ExportJob.objects.get(pk=older.pk).status, JobStatus.RUNNING)

    def test_a_job_left_running_by_a_dead_worker_is_queued_again(self):
        job = jobs.create_export_job(user=self.w.admin, area=self.w.bac_giang, form="01", year=2024)
        jobs.claim(job)
        self.assertEqual(jobs.requeue_stalled(), 0)
        later = timezone.now() + datetime.timedelta(minutes=jobs.STALL_MINUTES + 1)
        self.assertEqual(jobs.requeue_stalled(now=later), 1)
        self.assertEqual(ExportJob.objects.get(pk=job.pk).status, JobStatus.QUEUED)

    def test_jobs_finished_long_ago_are_forgotten_with_their_files(self):
        job = jobs.create_export_job(user=self.w.admin, area=self.w.bac_giang, form="01", year=2024)
        jobs.claim(job)
        job = jobs.run(ExportJob.objects.get(pk=job.pk))
        stored = job.file.path
        self.assertEqual(jobs.purge_finished(), 0)
        later = timezone.now() + datetime.timedelta(days=jobs.KEEP_DAYS + 1)
        self.assertEqual(jobs.purge_finished(now=later), 1)
        self.assertFalse(ExportJob.objects.exists())
        self.assertFalse(os.path.exists(stored))

    def test_a_refused_export_ends_the_job_as_failed_with_the_reason(self):
        job = jobs.create_export_job(user=self.w.admin, area=self.w.hung_my, form="05", year=2024)
        call_command("run_export_worker", once=True, stdout=io.StringIO())
        job.refresh_from_db()
        self.assertEqual(job.status, JobStatus.FAILED)
        self.assertIn("Chưa có kết quả chỉ tiêu vệ sinh", job.error)
        self.assertFalse(job.file)

    def test_progress_page_queries_do_not_grow_with_the_rows(self):
        job = self.queued_job()
        # Session, user, the job, the roles (the job's area is the user's own: it comes with them).
        with self.assertNumQueries(4):
            self.client.get(f"/xuat-bieu/tac-vu/{job.pk}/")
        ExportJob.objects.filter(pk=job.pk).update(progress=2000, total=9000)
        with self.assertNumQueries(4):
            self.client.get(f"/xuat-bieu/tac-vu/{job.pk}/")
