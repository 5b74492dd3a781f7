import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from areas.models import Area
from criteria.models import CriteriaSet


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("Đang chờ")
    RUNNING = "running", _("Đang lập biểu")
    DONE = "done", _("Đã xong")
    FAILED = "failed", _("Không lập được")


def export_upload_to(instance, filename):
    # A random stored name: job files are served only through the scoped download view.
    return f"xuat-bieu/{uuid.uuid4().hex}.xlsx"


class ExportJobQuerySet(models.QuerySet):
    def queued(self):
        return self.filter(status=JobStatus.QUEUED)

    def of_user(self, user):
        return self.filter(user=user)

    def pending(self):
        return self.filter(status__in=[JobStatus.QUEUED, JobStatus.RUNNING])

    def stalled(self, before):
        """Running jobs that have not reported since `before`: their worker or web request died mid-way."""
        return self.filter(status=JobStatus.RUNNING, updated_at__lt=before)


class ExportJob(models.Model):
    """A Biểu export too large to write while the user waits; the worker command writes it.

    The queue is this table: jobs survive a restart of the web process and of the worker, and any number of
    workers claim them with SELECT … FOR UPDATE SKIP LOCKED.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="export_jobs", verbose_name=_("người yêu cầu")
    )
    area = models.ForeignKey(Area, models.CASCADE, related_name="export_jobs", verbose_name=_("địa bàn"))
    form = models.CharField(_("biểu"), max_length=4)
    year = models.PositiveSmallIntegerField(_("năm"))
    criteria_set = models.ForeignKey(
        CriteriaSet, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("bộ tiêu chí")
    )
    status = models.CharField(
        _("trạng thái"), max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED, db_index=True
    )
    progress = models.PositiveIntegerField(_("số dòng đã ghi"), default=0)
    total = models.PositiveIntegerField(_("số dòng dự kiến"), default=0)
    # Claims so far: a job interrupted this many times is failed rather than queued again (jobs.MAX_ATTEMPTS).
    attempts = models.PositiveSmallIntegerField(_("số lần đã chạy"), default=0)
    file = models.FileField(_("tệp"), upload_to=export_upload_to, max_length=255, blank=True)
    file_name = models.CharField(_("tên tệp tải về"), max_length=200, blank=True)
    error = models.TextField(_("lỗi"), blank=True)
    created_at = models.DateTimeField(_("tạo lúc"), auto_now_add=True)
    started_at = models.DateTimeField(_("bắt đầu lúc"), null=True, blank=True)
    finished_at = models.DateTimeField(_("xong lúc"), null=True, blank=True)
    updated_at = models.DateTimeField(_("cập nhật lúc"), auto_now=True)

    objects = ExportJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("tác vụ xuất biểu")
        verbose_name_plural = _("tác vụ xuất biểu")
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self):
        return f"Biểu {self.form} — {self.area} — {self.year}"

    @property
    def is_finished(self):
        return self.status in (JobStatus.DONE, JobStatus.FAILED)

    @property
    def percent(self):
        if self.status == JobStatus.DONE:
            return 100
        if not self.total:
            return 0
        return min(99, self.progress * 100 // self.total)


class ImportUploadQuerySet(models.QuerySet):
    def of_user(self, user, area):
        return self.filter(user=user, area=area)

    def stale(self, before):
        return self.filter(created_at__lt=before)


class ImportUpload(models.Model):
    """A Biểu workbook uploaded for import, read once: its cells are kept here for the dry run and the confirm.

    The random token in the review URL names it; it belongs to the user who sent it, for the area it was sent
    to. Confirming locks the row and stamps `imported_at`, so a second confirmation (a double click) writes
    nothing.
    """

    token = models.CharField(_("mã tải lên"), max_length=64, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="import_uploads", verbose_name=_("người tải lên")
    )
    area = models.ForeignKey(Area, models.CASCADE, related_name="import_uploads", verbose_name=_("địa bàn"))
    file_name = models.CharField(_("tên tệp"), max_length=255, blank=True)
    # {"info": {label: text} of the hidden information sheet, "rows": [[row number, [cell values], ...]]}
    content = models.JSONField(_("nội dung đã đọc"), default=dict)
    created_at = models.DateTimeField(_("tải lên lúc"), auto_now_add=True, db_index=True)
    imported_at = models.DateTimeField(_("ghi lúc"), null=True, blank=True)
    # Where the import led, for a second confirmation of the same upload.
    form = models.CharField(_("biểu"), max_length=4, blank=True)
    year = models.PositiveSmallIntegerField(_("năm"), null=True, blank=True)
    criteria_set = models.ForeignKey(
        CriteriaSet, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("bộ tiêu chí")
    )

    objects = ImportUploadQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("tệp biểu tải lên để nhập")
        verbose_name_plural = _("tệp biểu tải lên để nhập")

    def __str__(self):
        return f"{self.file_name or self.token[:8]} — {self.area}"
