from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, Q, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from areas.models import Area, Region


class SetLevel(models.TextChoices):
    COMMUNE = "commune", _("Xã")
    DISTRICT = "district", _("Huyện")
    VILLAGE = "village", _("Thôn")


class Tier(models.TextChoices):
    STANDARD = "standard", _("Nông thôn mới")
    ADVANCED = "advanced", _("Nông thôn mới nâng cao")
    MODEL = "model", _("Nông thôn mới kiểu mẫu")
    MODERN = "modern", _("Nông thôn mới hiện đại")


class ThresholdScheme(models.TextChoices):
    REGION = "region", _("Theo 7 vùng kinh tế - xã hội")
    GROUP = "group", _("Theo 3 nhóm xã")


class CriteriaSetQuerySet(models.QuerySet):
    def national(self):
        return self.filter(province__isnull=True)

    def variants(self):
        return self.filter(province__isnull=False)

    def for_level(self, level):
        return self.filter(level=level)

    def covering(self, year):
        return self.filter(period_start__lte=year, period_end__gte=year)


class CriteriaSet(models.Model):
    """An official criteria set (bộ tiêu chí) for a level, tier and period, or a province's variant of one."""

    code = models.SlugField(_("mã bộ tiêu chí"), max_length=60, unique=True)
    name = models.CharField(_("tên"), max_length=300)
    level = models.CharField(_("cấp áp dụng"), max_length=10, choices=SetLevel.choices)
    tier = models.CharField(_("mức"), max_length=10, choices=Tier.choices, default=Tier.STANDARD)
    period_start = models.PositiveSmallIntegerField(_("từ năm"))
    period_end = models.PositiveSmallIntegerField(_("đến năm"))
    legal_basis = models.CharField(_("căn cứ pháp lý"), max_length=200, blank=True)
    issued_on = models.DateField(_("ngày ban hành"), null=True, blank=True)
    effective_on = models.DateField(_("ngày hiệu lực"), null=True, blank=True)
    issuer = models.CharField(_("cơ quan ban hành"), max_length=200, blank=True)
    threshold_scheme = models.CharField(
        _("cách phân ngưỡng"), max_length=10, choices=ThresholdScheme.choices, default=ThresholdScheme.REGION
    )
    parent = models.ForeignKey(
        "self",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="variants",
        verbose_name=_("bộ tiêu chí gốc"),
        help_text=_("Với bộ tiêu chí cụ thể hóa của tỉnh: bộ quốc gia mà nó ghi đè ngưỡng."),
    )
    province = models.ForeignKey(
        Area,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="criteria_variants",
        limit_choices_to={"level": "province"},
        verbose_name=_("tỉnh ban hành"),
    )
    confidence = models.CharField(_("độ tin cậy của dữ liệu"), max_length=40, blank=True)
    special_rule_basis = models.CharField(
        _("căn cứ quy tắc xã đặc biệt khó khăn, an toàn khu"),
        max_length=200,
        blank=True,
        help_text=_(
            "Văn bản của bộ tiêu chí quy định xã đặc biệt khó khăn, xã an toàn khu áp dụng ngưỡng vùng Trung du "
            "miền núi phía Bắc (ví dụ QĐ 318/QĐ-TTg). Để trống khi quyết định của bộ không nêu quy tắc này: khi đó "
            "các xã ấy được chấm theo vùng của tỉnh."
        ),
    )
    notes = models.TextField(_("ghi chú"), blank=True)

    objects = CriteriaSetQuerySet.as_manager()

    class Meta:
        ordering = ["level", "-period_start", "tier", "code"]
        verbose_name = _("bộ tiêu chí")
        verbose_name_plural = _("bộ tiêu chí")

    def __str__(self):
        return self.name

    @property
    def period(self):
        return f"{self.period_start}–{self.period_end}"

    @property
    def national_set(self):
        return self.parent if self.parent_id else self

    def covers(self, year):
        return self.period_start <= year <= self.period_end


class Criterion(models.Model):
    criteria_set = models.ForeignKey(
        CriteriaSet, models.CASCADE, related_name="criteria", verbose_name=_("bộ tiêu chí")
    )
    number = models.PositiveSmallIntegerField(_("số tiêu chí"))
    name = models.CharField(_("tên tiêu chí"), max_length=200)
    group_code = models.CharField(_("nhóm"), max_length=10, blank=True)
    group_name = models.CharField(_("tên nhóm"), max_length=100, blank=True)
    verified = models.BooleanField(_("đã xác minh"), default=False)
    note = models.TextField(_("ghi chú"), blank=True)

    class Meta:
        ordering = ["criteria_set", "number"]
        verbose_name = _("tiêu chí")
        verbose_name_plural = _("tiêu chí")
        constraints = [models.UniqueConstraint(fields=["criteria_set", "number"], name="criterion_unique_number")]

    def __str__(self):
        return _("Tiêu chí %(number)s. %(name)s") % {"number": self.number, "name": self.name}


class IndicatorKind(models.TextChoices):
    BOOLEAN = "boolean", _("Đạt / Không đạt")
    PERCENTAGE = "percentage", _("Tỷ lệ %")
    NUMBER = "number", _("Số đo")


class IndicatorQuerySet(models.QuerySet):
    def in_set(self, criteria_set):
        return self.filter(criterion__criteria_set=criteria_set)


class Indicator(models.Model):
    """A sub-indicator (chỉ tiêu). Codes are strings ordered naturally: 17.2 < 17.10."""

    criterion = models.ForeignKey(Criterion, models.CASCADE, related_name="indicators", verbose_name=_("tiêu chí"))
    code = models.CharField(_("mã chỉ tiêu"), max_length=20)
    sort_key = models.CharField(max_length=60, editable=False)
    name = models.TextField(_("tên chỉ tiêu"))
    unit = models.CharField(_("đơn vị"), max_length=60, blank=True)
    kind = models.CharField(_("loại"), max_length=12, choices=IndicatorKind.choices)
    verified = models.BooleanField(_("đã xác minh"), default=False)
    note = models.TextField(_("ghi chú"), blank=True)

    objects = IndicatorQuerySet.as_manager()

    class Meta:
        ordering = ["criterion__criteria_set", "criterion__number", "sort_key"]
        verbose_name = _("chỉ tiêu")
        verbose_name_plural = _("chỉ tiêu")
        constraints = [models.UniqueConstraint(fields=["criterion", "code"], name="indicator_unique_code")]

    def __str__(self):
        return f"{self.code}. {self.name}"

    @property
    def yes_label(self):
        return _("Có") if self.unit.startswith("Có/") else _("Đạt")

    @property
    def no_label(self):
        return _("Không") if self.unit.startswith("Có/") else _("Không đạt")


class Comparison(models.TextChoices):
    GTE = "gte", "≥"
    LTE = "lte", "≤"
    EQ = "eq", "="
    YES = "yes", _("Đạt / Có")
    NO = "no", _("Không")
    MANUAL = "manual", _("Đánh giá theo hướng dẫn")
    MISSING = "missing", _("Chưa có ngưỡng")


# A number is compared against these; only the others (yes/no, manual, missing) may have no value.
VALUE_COMPARISONS = (Comparison.GTE, Comparison.LTE, Comparison.EQ)
VALUELESS_COMPARISONS = (Comparison.YES, Comparison.NO, Comparison.MANUAL, Comparison.MISSING)


class Threshold(models.Model):
    """The level an indicator must reach, for a region / commune group / year where it differs.

    A row with no region, group or year is the general threshold. A row whose `variant` is set belongs to a
    province's own decision and wins over the national one for communes of that province.
    """

    indicator = models.ForeignKey(Indicator, models.CASCADE, related_name="thresholds", verbose_name=_("chỉ tiêu"))
    variant = models.ForeignKey(
        CriteriaSet,
        models.CASCADE,
        null=True,
        blank=True,
        related_name="threshold_overrides",
        verbose_name=_("bộ tiêu chí của tỉnh"),
    )
    region = models.ForeignKey(Region, models.PROTECT, null=True, blank=True, verbose_name=_("vùng"))
    commune_group = models.CharField(_("nhóm xã"), max_length=2, blank=True)
    year = models.PositiveSmallIntegerField(_("năm"), null=True, blank=True)
    raw = models.CharField(_("ngưỡng (nguyên văn)"), max_length=400, blank=True)
    comparison = models.CharField(_("so sánh"), max_length=10, choices=Comparison.choices)
    value = models.DecimalField(_("giá trị"), max_digits=14, decimal_places=4, null=True, blank=True)
    verified = models.BooleanField(_("đã xác minh"), default=False)
    source = models.CharField(_("văn bản nguồn"), max_length=300, blank=True)
    note = models.TextField(_("ghi chú"), blank=True)

    history = HistoricalRecords()

    # What a person writes of a threshold: the admin's form and the columns of a threshold file.
    WRITTEN_FIELDS = (
        "indicator",
        "variant",
        "region",
        "commune_group",
        "year",
        "raw",
        "comparison",
        "value",
        "verified",
        "source",
        "note",
    )

    class Meta:
        verbose_name = _("ngưỡng")
        verbose_name_plural = _("ngưỡng")
        constraints = [
            models.UniqueConstraint(
                "indicator",
                Coalesce("variant", Value(0)),
                Coalesce("region", Value(0)),
                "commune_group",
                Coalesce("year", Value(0)),
                name="threshold_unique_scope",
            ),
            # A "≥ nothing" would save and then break every re-evaluation of the indicator.
            models.CheckConstraint(
                condition=Q(value__isnull=False) | Q(comparison__in=VALUELESS_COMPARISONS),
                name="threshold_value_for_comparison",
                violation_error_message=_("So sánh ≥, ≤ hoặc = cần có giá trị ngưỡng."),
            ),
        ]

    def __str__(self):
        return self.display

    def clean(self):
        if self.comparison in VALUE_COMPARISONS and self.value is None:
            raise ValidationError(
                {
                    "value": _("So sánh “%(comparison)s” cần có giá trị ngưỡng; hãy ghi giá trị (ví dụ 80).")
                    % {"comparison": self.get_comparison_display()}
                }
            )

    @property
    def display(self):
        if self.comparison == Comparison.MISSING:
            return str(_("Chưa có số liệu ngưỡng"))
        return self.raw or self.get_comparison_display()

    @property
    def is_evaluable(self):
        return self.comparison in {Comparison.GTE, Comparison.LTE, Comparison.EQ, Comparison.YES, Comparison.NO}


class Status(models.TextChoices):
    MET = "met", _("Đạt")
    NOT_MET = "not_met", _("Chưa đạt")
    NOT_ASSESSED = "not_assessed", _("Chưa đánh giá")
    NOT_APPLICABLE = "na", _("Không áp dụng")


# Status(value).label builds an enum member on each call, some forty times a page.
STATUS_LABELS = dict(Status.choices)


class AssessedStatus(models.TextChoices):
    MET = "met", _("Đạt")
    NOT_MET = "not_met", _("Chưa đạt")


class EditedResult(models.Model):
    """What a result keeps about its last edit: the version a service checks so that nobody overwrites an edit they
    have not seen, and who made it when. (Abstract: each result keeps these columns in its own table.)"""

    version = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("người cập nhật"),
    )
    updated_at = models.DateTimeField(_("cập nhật lúc"), auto_now=True)

    class Meta:
        abstract = True


class IndicatorResultQuerySet(models.QuerySet):
    def for_area_year(self, area, year):
        return self.filter(area=area, year=year)


class IndicatorResult(EditedResult):
    """An area's measured value of an indicator in a year, with its evaluated status kept alongside."""

    area = models.ForeignKey(Area, models.PROTECT, related_name="indicator_results", verbose_name=_("địa bàn"))
    indicator = models.ForeignKey(Indicator, models.PROTECT, related_name="results", verbose_name=_("chỉ tiêu"))
    year = models.PositiveSmallIntegerField(_("năm"))
    value = models.DecimalField(_("giá trị"), max_digits=16, decimal_places=4, null=True, blank=True)
    numerator = models.DecimalField(_("tử số"), max_digits=16, decimal_places=4, null=True, blank=True)
    denominator = models.DecimalField(_("mẫu số"), max_digits=16, decimal_places=4, null=True, blank=True)
    boolean = models.BooleanField(_("đạt / có"), null=True, blank=True)
    not_applicable = models.BooleanField(_("không áp dụng"), default=False)
    assessed_status = models.CharField(
        _("kết quả tự đánh giá"), max_length=10, choices=AssessedStatus.choices, blank=True
    )
    note = models.TextField(_("ghi chú"), blank=True)
    # Evaluated when the result or its thresholds change, so that counts aggregate in the database.
    computed_status = models.CharField(
        _("kết quả tính theo ngưỡng"), max_length=12, choices=Status.choices, default=Status.NOT_ASSESSED
    )
    status = models.CharField(_("kết quả"), max_length=12, choices=Status.choices, default=Status.NOT_ASSESSED)
    is_tentative = models.BooleanField(_("theo ngưỡng chưa xác minh"), default=False)

    objects = IndicatorResultQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("kết quả chỉ tiêu")
        verbose_name_plural = _("kết quả chỉ tiêu")
        constraints = [models.UniqueConstraint(fields=["area", "indicator", "year"], name="indicator_result_unique")]
        indexes = [
            models.Index(fields=["year", "status"]),
            # The admin's list, newest year first: one page read from the index, not a sort of every result.
            models.Index(fields=["-year", "area", "indicator"], name="indicator_result_newest"),
        ]

    def __str__(self):
        return f"{self.area} — {self.indicator.code} — {self.year}"

    @property
    def has_measurement(self):
        return self.value is not None or self.boolean is not None


class CriterionResultQuerySet(models.QuerySet):
    def for_set(self, criteria_set, year):
        return self.filter(criterion__criteria_set=criteria_set, year=year)

    def met(self):
        return self.filter(status=Status.MET)

    def met_counts(self, criteria_set, year):
        """Criteria met per area, aggregated in the database: {area_id: count}."""
        rows = self.for_set(criteria_set, year).values("area_id").annotate(met=Count("pk", filter=Q(status=Status.MET)))
        return {row["area_id"]: row["met"] for row in rows}


class CriterionResult(EditedResult):
    """An area's status on one criterion in a year: computed from its indicators, or assessed directly
    where only the verdict is known (seed 001: "17/19, chưa đạt tiêu chí 6, 17")."""

    area = models.ForeignKey(Area, models.PROTECT, related_name="criterion_results", verbose_name=_("địa bàn"))
    criterion = models.ForeignKey(Criterion, models.PROTECT, related_name="results", verbose_name=_("tiêu chí"))
    year = models.PositiveSmallIntegerField(_("năm"))
    assessed_status = models.CharField(
        _("kết quả tự đánh giá"), max_length=10, choices=AssessedStatus.choices, blank=True
    )
    computed_status = models.CharField(
        _("kết quả tính từ chỉ tiêu"), max_length=12, choices=Status.choices, default=Status.NOT_ASSESSED
    )
    status = models.CharField(_("kết quả"), max_length=12, choices=Status.choices, default=Status.NOT_ASSESSED)
    is_tentative = models.BooleanField(_("theo ngưỡng chưa xác minh"), default=False)
    disagreement = models.BooleanField(_("tự đánh giá khác kết quả tính"), default=False)
    note = models.TextField(_("ghi chú"), blank=True)
    source = models.CharField(_("nguồn"), max_length=200, blank=True)

    objects = CriterionResultQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("kết quả tiêu chí")
        verbose_name_plural = _("kết quả tiêu chí")
        constraints = [models.UniqueConstraint(fields=["area", "criterion", "year"], name="criterion_result_unique")]
        indexes = [
            models.Index(fields=["year", "status"]),
            models.Index(fields=["-year", "area", "criterion"], name="criterion_result_newest"),
        ]

    def __str__(self):
        return f"{self.area} — {self.criterion.number} — {self.year}"


def evidence_upload_to(instance, filename):
    # A random stored name: the original one is kept in the row, never trusted as a path.
    import uuid

    return f"minh-chung/{instance.area_id}/{instance.year}/{uuid.uuid4().hex}"


class EvidenceQuerySet(models.QuerySet):
    def for_area_year(self, area, year):
        return self.filter(area=area, year=year)

    def deleted(self):
        return self.filter(deleted_at__isnull=False)


class LiveEvidenceManager(models.Manager.from_queryset(EvidenceQuerySet)):
    """Evidence that has not been deleted: what pages, downloads, counts and recognition files read. A deleted
    file stays (Evidence.all_objects) so that it can be undone or restored by an administrator."""

    def get_queryset(self):
        return super().get_queryset().filter(deleted_at__isnull=True)


class Evidence(models.Model):
    """A supporting file (hồ sơ minh chứng) for an area's indicator in a year; served only through a scoped view."""

    area = models.ForeignKey(Area, models.PROTECT, related_name="evidence", verbose_name=_("địa bàn"))
    indicator = models.ForeignKey(Indicator, models.PROTECT, related_name="evidence", verbose_name=_("chỉ tiêu"))
    year = models.PositiveSmallIntegerField(_("năm"))
    file = models.FileField(_("tệp"), upload_to=evidence_upload_to, max_length=255)
    original_name = models.CharField(_("tên tệp gốc"), max_length=255)
    content_type = models.CharField(_("loại tệp"), max_length=120)
    size = models.PositiveBigIntegerField(_("dung lượng (byte)"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("người tải lên"),
    )
    uploaded_at = models.DateTimeField(_("tải lên lúc"), auto_now_add=True)
    deleted_at = models.DateTimeField(_("xóa lúc"), null=True, blank=True, db_index=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("người xóa"),
    )

    objects = LiveEvidenceManager()
    all_objects = EvidenceQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["uploaded_at", "pk"]
        verbose_name = _("hồ sơ minh chứng")
        verbose_name_plural = _("hồ sơ minh chứng")
        indexes = [models.Index(fields=["area", "year", "indicator"])]

    def __str__(self):
        return self.original_name


class CommuneStanding(models.Model):
    """Where an area stands on a national set in a year, stored: the latest known status of each criterion of the
    set's period up to the year (the carry-over rule of recognition/standing.py), kept current by
    criteria.standings.restate_standings, which every writer of results calls. Dashboards read these rows instead
    of recomputing the rule over every result of the period per request. One row per year from the area's first
    known status to the end of the set's period; no row means no data."""

    area = models.ForeignKey(Area, models.CASCADE, related_name="standings", verbose_name=_("địa bàn"))
    criteria_set = models.ForeignKey(CriteriaSet, models.CASCADE, related_name="+", verbose_name=_("bộ tiêu chí"))
    year = models.PositiveSmallIntegerField(_("năm"))
    # One letter per criterion number (position n - 1 for criterion n): see criteria.standings.LETTERS.
    statuses = models.CharField(_("kết quả từng tiêu chí"), max_length=60)
    # Bit n - 1 set when criterion n is not met, so that the failure ranking is one aggregate of shifts on both
    # databases (five times cheaper on PostgreSQL than SUBSTR of `statuses` on 8,000 rows).
    failing = models.BigIntegerField(_("tiêu chí chưa đạt (bit)"), default=0)
    met = models.PositiveSmallIntegerField(_("số tiêu chí đạt"))
    known = models.PositiveSmallIntegerField(_("số tiêu chí có kết quả"))
    data_from = models.PositiveSmallIntegerField(_("số liệu từ năm"))
    data_to = models.PositiveSmallIntegerField(_("số liệu đến năm"))

    class Meta:
        verbose_name = _("kết quả tổng hợp của xã")
        verbose_name_plural = _("kết quả tổng hợp của xã")
        constraints = [models.UniqueConstraint(fields=["area", "criteria_set", "year"], name="commune_standing_unique")]
        indexes = [models.Index(fields=["criteria_set", "year"], name="commune_standing_set_year")]

    def __str__(self):
        return f"{self.area} — {self.criteria_set} — {self.year}: {self.met}/{self.known}"
