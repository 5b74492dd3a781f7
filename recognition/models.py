"""Recognition files (hồ sơ công nhận): a commune or district's way from self-assessment to a decision.

The stages and who moves a file between them live in recognition/services.py; this module keeps the rows and
the read side (stage counts, expected month) that dashboards use.
"""

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Count
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from areas.models import Area
from criteria.models import CriteriaSet, Criterion, SetLevel
from ntm_portal.vietnamese import vn_deadline, vn_percent


class Stage(models.TextChoices):
    PREPARING = "preparing", _("Đang chuẩn bị")
    SUBMITTED = "submitted", _("Xã đã nộp hồ sơ")
    VERIFIED = "verified", _("Huyện đã thẩm tra")
    APPRAISED = "appraised", _("Tỉnh đã thẩm định")
    RECOGNISED = "recognised", _("Đã công nhận")
    REVOKED = "revoked", _("Đã thu hồi")


# A district's file goes one level up: the district submits, the province verifies and appraises.
DISTRICT_STAGE_LABELS = {
    Stage.SUBMITTED: _("Huyện đã nộp hồ sơ"),
    Stage.VERIFIED: _("Tỉnh đã thẩm tra"),
    Stage.APPRAISED: _("Đã thẩm định"),
}

# A commune with no district (from 1/7/2025) is verified by its province: no stage speaks of the district.
PROVINCE_VERIFIED_STAGE_LABELS = {Stage.VERIFIED: _("Tỉnh đã thẩm tra")}


class Action(models.TextChoices):
    SUBMIT = "submit", _("Nộp hồ sơ đề nghị thẩm tra")
    VERIFY = "verify", _("Thẩm tra: đạt")
    RETURN_BY_DISTRICT = "returned_by_district", _("Trả lại sau thẩm tra")
    APPRAISE = "appraise", _("Thẩm định: đạt")
    RETURN_BY_PROVINCE = "returned_by_province", _("Trả lại sau thẩm định")
    RECORD_DECISION = "record_decision", _("Ghi quyết định công nhận")
    RECHECK = "rechecked", _("Rà soát giữ vững")
    REVOKE = "revoke", _("Thu hồi quyết định công nhận")
    IMPORT = "imported", _("Ghi nhận theo văn bản")


RETURN_ACTIONS = {Action.RETURN_BY_DISTRICT, Action.RETURN_BY_PROVINCE}

# Results of the year stay as they were examined from the submission on.
LOCKED_STAGES = {Stage.SUBMITTED, Stage.VERIFIED, Stage.APPRAISED, Stage.RECOGNISED, Stage.REVOKED}


def month_label(day):
    """'tháng 11/2019', as plans write months."""
    return vn_deadline("month", day) if day is not None else ""


class RecognitionFileQuerySet(models.QuerySet):
    def for_scope(self, criteria_set, year):
        return self.filter(criteria_set=criteria_set.national_set, year=year)

    def communes_under(self, area):
        return self.filter(area__in=Area.objects.communes().under(area))

    def with_expected_month(self):
        """`expected_month`: the decision's date once recognised, else the planned month of the decision, else
        the planned month of the appraisal (seed 001 plans "thẩm định, quyết định công nhận" in one month)."""
        return self.annotate(
            expected_month=Coalesce("decision_date", "planned_recognise_month", "planned_appraise_month")
        )

    def stage_counts(self):
        counts = dict.fromkeys(Stage.values, 0)
        counts.update(self.order_by().values_list("stage").annotate(n=Count("pk")))
        return counts


def stage_counts(area, criteria_set, year) -> dict:
    """How many communes under `area` have their file at each stage (every stage present, zero included).
    Communes without a file are not counted: they have not started the recognition process."""
    return RecognitionFile.objects.for_scope(criteria_set, year).communes_under(area).stage_counts()


class RecognitionFile(models.Model):
    """An area's recognition file for a criteria set and a year (the year it is to be recognised)."""

    area = models.ForeignKey(Area, models.PROTECT, related_name="recognition_files", verbose_name=_("địa bàn"))
    criteria_set = models.ForeignKey(
        CriteriaSet, models.PROTECT, related_name="recognition_files", verbose_name=_("bộ tiêu chí")
    )
    year = models.PositiveSmallIntegerField(_("năm xét công nhận"))
    stage = models.CharField(_("bước"), max_length=12, choices=Stage.choices, default=Stage.PREPARING)
    last_action = models.CharField(_("thao tác gần nhất"), max_length=24, choices=Action.choices, blank=True)
    stage_changed_at = models.DateTimeField(_("chuyển bước lúc"), null=True, blank=True)
    # Criteria a return named: the only ones the area may change until it submits again.
    reopened = models.ManyToManyField(
        Criterion, blank=True, related_name="+", verbose_name=_("tiêu chí được mở lại để sửa")
    )

    planned_verify_month = models.DateField(_("tháng dự kiến thẩm tra"), null=True, blank=True)
    planned_appraise_month = models.DateField(_("tháng dự kiến thẩm định"), null=True, blank=True)
    planned_recognise_month = models.DateField(_("tháng dự kiến công nhận"), null=True, blank=True)
    submitted_on = models.DateField(_("ngày nộp hồ sơ"), null=True, blank=True)
    verified_on = models.DateField(_("ngày thẩm tra"), null=True, blank=True)
    appraised_on = models.DateField(_("ngày thẩm định"), null=True, blank=True)

    satisfaction_rate = models.DecimalField(
        _("tỷ lệ người dân hài lòng (%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    survey_date = models.DateField(_("ngày lấy ý kiến"), null=True, blank=True)
    survey_note = models.TextField(_("ghi chú lấy ý kiến"), blank=True)

    decision_number = models.CharField(_("số quyết định"), max_length=60, blank=True)
    decision_date = models.DateField(_("ngày quyết định"), null=True, blank=True)
    decision_signer = models.CharField(_("người ký"), max_length=150, blank=True)

    flagged = models.BooleanField(_("có tiêu chí không còn đạt"), default=False)
    note = models.TextField(_("ghi chú"), blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(_("lập lúc"), auto_now_add=True)

    objects = RecognitionFileQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["area__code", "-year"]
        verbose_name = _("hồ sơ công nhận")
        verbose_name_plural = _("hồ sơ công nhận")
        constraints = [models.UniqueConstraint(fields=["area", "criteria_set", "year"], name="recognition_file_unique")]
        indexes = [models.Index(fields=["criteria_set", "year", "stage"])]

    def __str__(self):
        return f"{self.area} — {self.criteria_set.get_tier_display()} — {self.year}"

    @property
    def is_district_file(self):
        return self.criteria_set.level == SetLevel.DISTRICT

    @property
    def verified_by_province(self):
        """A commune with no district (from 1/7/2025): its province does the verification (thẩm tra)."""
        return not self.is_district_file and self.area.district_id is None

    def _stage_labels(self):
        if self.is_district_file:
            return DISTRICT_STAGE_LABELS
        return PROVINCE_VERIFIED_STAGE_LABELS if self.verified_by_province else {}

    def label_of(self, stage):
        """A stage's name for this file (the timeline's steps): who verifies depends on the file."""
        return self._stage_labels().get(stage, Stage(stage).label)

    @property
    def stage_label(self):
        return self.label_of(self.stage)

    @property
    def was_returned(self):
        return self.stage == Stage.PREPARING and self.last_action in RETURN_ACTIONS

    @property
    def waiting_on(self):
        """Who the file is waiting for, in words."""
        district = self.is_district_file
        if self.stage == Stage.PREPARING:
            if self.was_returned:
                return (
                    _("Chờ huyện sửa các tiêu chí bị trả lại") if district else _("Chờ xã sửa các tiêu chí bị trả lại")
                )
            return _("Chờ huyện hoàn thiện hồ sơ") if district else _("Chờ xã hoàn thiện hồ sơ")
        if self.stage == Stage.SUBMITTED:
            return _("Chờ tỉnh thẩm tra") if district or self.verified_by_province else _("Chờ huyện thẩm tra")
        if self.stage == Stage.VERIFIED:
            return _("Chờ thẩm định") if district else _("Chờ tỉnh thẩm định")
        if self.stage == Stage.APPRAISED:
            return _("Chờ quyết định công nhận")
        return ""

    @property
    def satisfaction_label(self):
        """'92,5 %' without trailing zeros."""
        return vn_percent(self.satisfaction_rate)

    @property
    def expected_month_label(self):
        day = getattr(self, "expected_month", None)
        if day is None:
            day = self.decision_date or self.planned_recognise_month or self.planned_appraise_month
        return month_label(day)

    def progress(self):
        """The main stages in order, each marked done, current or still ahead, for the stage bar."""
        order = [Stage.PREPARING, Stage.SUBMITTED, Stage.VERIFIED, Stage.APPRAISED, Stage.RECOGNISED]
        labels = self._stage_labels()
        reached = order.index(self.stage) if self.stage in order else len(order) - 1
        steps = []
        for i, stage in enumerate(order):
            state = "done" if i < reached else "current" if i == reached else ""
            steps.append({"label": labels.get(stage, Stage(stage).label), "state": state})
        if self.stage == Stage.REVOKED:
            steps.append({"label": Stage.REVOKED.label, "state": "revoked"})
        return steps

    def milestones(self, today=None):
        """Planned month against the actual date for verification, appraisal and the decision."""
        today = today or timezone.localdate()
        rows = []
        for label, planned, actual in (
            (_("Thẩm tra"), self.planned_verify_month, self.verified_on),
            (_("Thẩm định"), self.planned_appraise_month, self.appraised_on),
            (_("Quyết định công nhận"), self.planned_recognise_month, self.decision_date),
        ):
            late = ""
            if planned is not None:
                done_month = (actual or today).replace(day=1)
                months = (done_month.year - planned.year) * 12 + done_month.month - planned.month
                if months > 0:
                    late = (
                        _("chậm %(n)s tháng") % {"n": months}
                        if actual
                        else _("quá tháng dự kiến %(n)s tháng") % {"n": months}
                    )
            rows.append({"label": label, "planned": month_label(planned), "actual": actual, "late": late})
        return rows


def first_of_month(text):
    """'2019-11' → 1/11/2019."""
    year, month = str(text).split("-")[:2]
    return datetime.date(int(year), int(month), 1)


class RecognitionStep(models.Model):
    """One step of a file: who did what, when, with a comment. Steps are never edited."""

    file = models.ForeignKey(RecognitionFile, models.CASCADE, related_name="steps", verbose_name=_("hồ sơ"))
    from_stage = models.CharField(_("từ bước"), max_length=12, choices=Stage.choices)
    to_stage = models.CharField(_("sang bước"), max_length=12, choices=Stage.choices)
    action = models.CharField(_("thao tác"), max_length=24, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("người thực hiện"),
    )
    at = models.DateTimeField(_("lúc"), default=timezone.now)
    comment = models.TextField(_("ý kiến"), blank=True)
    # What was still missing when the officer submitted anyway, as shown to them.
    outstanding = models.TextField(_("còn thiếu khi nộp"), blank=True)
    check_year = models.PositiveSmallIntegerField(_("năm rà soát"), null=True, blank=True)
    dropped = models.CharField(_("tiêu chí không còn đạt"), max_length=200, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("bước xử lý hồ sơ")
        verbose_name_plural = _("bước xử lý hồ sơ")

    def __str__(self):
        return f"{self.file} — {self.get_action_display()}"


class ReturnedCriterion(models.Model):
    """A criterion a return names, with the reason: the area may change exactly these."""

    step = models.ForeignKey(RecognitionStep, models.CASCADE, related_name="returned", verbose_name=_("bước"))
    criterion = models.ForeignKey(Criterion, models.PROTECT, related_name="+", verbose_name=_("tiêu chí"))
    reason = models.TextField(_("lý do"))

    class Meta:
        ordering = ["criterion__number"]
        verbose_name = _("tiêu chí bị trả lại")
        verbose_name_plural = _("tiêu chí bị trả lại")
        constraints = [models.UniqueConstraint(fields=["step", "criterion"], name="returned_criterion_unique")]

    def __str__(self):
        return f"{self.criterion.number}: {self.reason}"


class OutboxQuerySet(models.QuerySet):
    def unsent(self):
        return self.filter(sent_at__isnull=True)


class Outbox(models.Model):
    """A mail about a recognition step, written with the step and sent after it is committed.

    A mail server that refuses or is down leaves the row unsent with its error; `manage.py send_outbox`
    (cron) tries again, and administrators see what is still waiting in the admin."""

    to = models.EmailField(_("gửi đến"))
    subject = models.CharField(_("tiêu đề"), max_length=300)
    body = models.TextField(_("nội dung"))
    created_at = models.DateTimeField(_("lập lúc"), auto_now_add=True)
    sent_at = models.DateTimeField(_("gửi lúc"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("số lần thử gửi"), default=0)
    last_error = models.TextField(_("lỗi lần gửi gần nhất"), blank=True)

    objects = OutboxQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("thư chờ gửi")
        verbose_name_plural = _("thư chờ gửi")
        indexes = [models.Index(fields=["sent_at"], name="outbox_sent_at")]

    def __str__(self):
        return f"{self.to} — {self.subject}"
