"""The export queue: a table of jobs (ExportJob) and the worker that writes them.

A large Biểu (a whole province's communes) is queued by the web page and written by
`python manage.py run_export_worker`, never by a thread in the web process. Without a worker
(NTM_EXPORT_WORKER off) the progress page writes it in its own request, but only up to
NTM_INLINE_JOB_MAX_COMMUNES communes, so that it ends well within the web server's timeout.

Jobs live in the database, so a restart of either process loses nothing: a running job reports each
PROGRESS_EVERY rows, and one that has not reported for `stall_limit()` (its worker or request was killed) is
queued again by whoever looks next — the worker's loop, a new request for the same form, the progress page —
and failed with a message after MAX_ATTEMPTS tries.
"""

import datetime
import logging
import tempfile

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from areas import timeline
from areas.models import Area, Level
from reports import bieu
from reports.bieu.queries import ExportError
from reports.models import ExportJob, JobStatus

logger = logging.getLogger(__name__)
STALL_MINUTES = 5  # default of NTM_EXPORT_STALL_MINUTES; a live export reports every few seconds at most
MAX_ATTEMPTS = 3
KEEP_DAYS = 7


def inline_limit():
    return getattr(settings, "NTM_INLINE_EXPORT_MAX_COMMUNES", 500)


def worker_enabled():
    return getattr(settings, "NTM_EXPORT_WORKER", False)


def inline_job_limit():
    """Communes a job may list and still be written inside a web request when there is no worker."""
    return getattr(settings, "NTM_INLINE_JOB_MAX_COMMUNES", 10_000)


def runs_inline(job):
    """Whether the progress page writes this job itself: no worker, and small enough for one request."""
    return not worker_enabled() and job.total <= inline_job_limit()


def stall_limit():
    return datetime.timedelta(minutes=getattr(settings, "NTM_EXPORT_STALL_MINUTES", STALL_MINUTES))


def rows_expected(area, form, year):
    """Communes a district or province form lists (one row each); 0 for a commune's own forms."""
    if area.level not in (Level.DISTRICT, Level.PROVINCE) or form != "01":
        return 0
    return timeline.communes_at(area, timeline.reporting_date(year)).queryset().count()


def needs_job(area, form, year):
    return rows_expected(area, form, year) > inline_limit()


@transaction.atomic
def create_export_job(*, user, area: Area, form: str, year: int, criteria_set=None) -> ExportJob:
    """Queue an export, or hand back the same user's identical job still waiting or running.

    A job that stalled is first queued again (or failed, after MAX_ATTEMPTS), so asking again never hands
    back a job nothing is writing.
    """
    requeue_stalled()
    waiting = (
        ExportJob.objects.of_user(user)
        .pending()
        .filter(area=area, form=form, year=year, criteria_set=criteria_set)
        .first()
    )
    if waiting is not None:
        return waiting
    return ExportJob.objects.create(
        user=user,
        area=area,
        form=form,
        year=year,
        criteria_set=criteria_set,
        total=rows_expected(area, form, year),
        file_name=bieu.file_name(form, area, year),
    )


def stall_message():
    return _(
        "Việc lập biểu bị gián đoạn %(n)s lần (máy chủ khởi động lại hoặc chạy quá lâu) nên đã dừng. "
        "Hãy yêu cầu lập lại; nếu vẫn không được, hãy báo quản trị viên."
    ) % {"n": MAX_ATTEMPTS}


def requeue_stalled(now=None, *, jobs=None):
    """Queue again the running jobs that stopped reporting, or fail those already tried MAX_ATTEMPTS times.

    Returns how many jobs changed. `jobs` narrows the sweep (the progress page looks at its own job only).
    """
    stalled = (jobs if jobs is not None else ExportJob.objects.all()).stalled((now or timezone.now()) - stall_limit())
    stamp = timezone.now()
    failed = stalled.filter(attempts__gte=MAX_ATTEMPTS).update(
        status=JobStatus.FAILED, error=stall_message(), finished_at=stamp, updated_at=stamp
    )
    requeued = stalled.filter(attempts__lt=MAX_ATTEMPTS).update(status=JobStatus.QUEUED, progress=0, updated_at=stamp)
    if failed or requeued:
        logger.warning("export jobs stalled: %s queued again, %s failed", requeued, failed)
    return failed + requeued


def refresh_if_stalled(job, now=None):
    """The progress page's check of its own job: no query unless the job is running and silent too long."""
    if job.status != JobStatus.RUNNING or job.updated_at >= (now or timezone.now()) - stall_limit():
        return job
    if requeue_stalled(now, jobs=ExportJob.objects.filter(pk=job.pk)):
        job.refresh_from_db(fields=["status", "progress", "error", "finished_at", "updated_at"])
    return job


def purge_finished(now=None):
    """Forget jobs finished more than KEEP_DAYS ago, with their files: the annexes are made again on demand."""
    before = (now or timezone.now()) - datetime.timedelta(days=KEEP_DAYS)
    old = list(ExportJob.objects.filter(finished_at__lt=before))
    for job in old:
        if job.file:
            job.file.delete(save=False)
        job.delete()
    return len(old)


def claim_next():
    """The oldest queued job, marked running; None when the queue is empty.

    SKIP LOCKED lets several workers poll at once without taking the same job (PostgreSQL); SQLite has no
    row locks but serialises writers, and the status check in the UPDATE keeps the claim single there too.
    """
    with transaction.atomic():
        job = ExportJob.objects.queued().select_for_update(skip_locked=True).order_by("created_at", "pk").first()
        if job is None or not claim(job):
            return None
    job.refresh_from_db()
    return job


def claim(job):
    """Mark one queued job as running; False if another worker or request took it first."""
    now = timezone.now()
    return bool(
        ExportJob.objects.filter(pk=job.pk, status=JobStatus.QUEUED).update(
            status=JobStatus.RUNNING, started_at=now, updated_at=now, progress=0, attempts=F("attempts") + 1
        )
    )


def run(job):
    """Write the job's workbook to a temporary file and attach it; the job ends done or failed."""

    def progress(rows):
        # Each report also proves the worker is alive, so that a stalled job can be told apart.
        ExportJob.objects.filter(pk=job.pk).update(progress=rows, updated_at=timezone.now())

    try:
        with tempfile.TemporaryFile() as out:
            rows = bieu.export(
                out, form=job.form, area=job.area, year=job.year, criteria_set=job.criteria_set, progress=progress
            )
            out.seek(0)
            job.file.save(job.file_name or bieu.file_name(job.form, job.area, job.year), File(out), save=False)
    except ExportError as exc:
        return _finish(job, JobStatus.FAILED, error=str(exc))
    except Exception:
        logger.exception("export job %s failed", job.pk)
        return _finish(job, JobStatus.FAILED, error=_("Lỗi khi lập biểu; hãy thử lại hoặc báo quản trị viên."))
    return _finish(job, JobStatus.DONE, progress=rows)


def _finish(job, status, *, error="", progress=None):
    job.status = status
    job.error = error
    job.finished_at = timezone.now()
    if progress is not None:
        job.progress = progress
    job.save(update_fields=["status", "error", "finished_at", "progress", "file", "updated_at"])
    return job
