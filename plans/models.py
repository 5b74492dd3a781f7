"""Plans (Kế hoạch): their items with owners and deadlines, the money behind each item, and progress."""

import calendar
import datetime
import re
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import EmptyResultSet, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q, Sum
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from areas.models import Area, within_q
from assignments.models import Agency, Member
from criteria.models import CriteriaSet, Criterion, Indicator
from ntm_portal.vietnamese import vn_deadline

# ---------------------------------------------------------------- deadlines


class Precision(models.TextChoices):
    DAY = "day", _("Ngày")
    MONTH = "month", _("Tháng")
    QUARTER = "quarter", _("Quý")
    YEAR = "year", _("Năm")


_ROMAN_VALUES = {"I": 1, "II": 2, "III": 3, "IV": 4}


@dataclass(frozen=True)
class Deadline:
    """A deadline as plans write it: the period's precision, its last day, and the wording to show."""

    precision: str
    date: datetime.date
    label: str

    @classmethod
    def of(cls, precision, year, number=None, day=None):
        """The deadline for a day, a month, a quarter (number 1–4) or a year, ending on its last day."""
        if precision == Precision.YEAR:
            end = datetime.date(year, 12, 31)
        elif precision == Precision.QUARTER:
            end = datetime.date(year, number * 3, calendar.monthrange(year, number * 3)[1])
        elif precision == Precision.MONTH:
            end = datetime.date(year, number, calendar.monthrange(year, number)[1])
        else:
            precision, end = Precision.DAY, datetime.date(year, number, day)
        return cls(precision, end, vn_deadline(precision, end))


_YEAR = r"(?:/|-|\s+năm\s+|\s+)(\d{4})"
_PATTERNS = [
    (Precision.YEAR, re.compile(r"^(?:năm\s+)?(\d{4})$")),
    (Precision.QUARTER, re.compile(r"^(?:quý|q)\s*(IV|I{1,3}|[1-4])" + _YEAR + "$", re.IGNORECASE)),
    (Precision.MONTH, re.compile(r"^(?:tháng\s*)?(\d{1,2})" + _YEAR + "$", re.IGNORECASE)),
    (Precision.DAY, re.compile(r"^(?:ngày\s*)?(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$", re.IGNORECASE)),
]


def parse_deadline(text) -> Deadline:
    """Read a deadline as written in plans: "15/3/2020", "tháng 2/2020", "Quý II/2020", "quý 2/2020", "năm 2020".

    Raises ValidationError with a Vietnamese message when the text is not one of these forms or names a day,
    month or quarter that does not exist.
    """
    cleaned = " ".join(str(text or "").split()).strip()
    for precision, pattern in _PATTERNS:
        match = pattern.match(cleaned)
        if not match:
            continue
        groups = match.groups()
        try:
            if precision == Precision.YEAR:
                return Deadline.of(precision, int(groups[0]))
            if precision == Precision.QUARTER:
                quarter = _ROMAN_VALUES.get(groups[0].upper()) or int(groups[0])
                return Deadline.of(precision, int(groups[1]), quarter)
            if precision == Precision.MONTH:
                return Deadline.of(precision, int(groups[1]), int(groups[0]))
            return Deadline.of(precision, int(groups[2]), int(groups[1]), int(groups[0]))
        except ValueError:
            raise ValidationError(
                _("Thời hạn “%(text)s” không có thật (ngày hoặc tháng sai)."), code="invalid", params={"text": cleaned}
            )
    raise ValidationError(
        _(
            "Không đọc được thời hạn “%(text)s”. "
            "Viết theo một trong các dạng: 15/3/2020, tháng 2/2020, Quý II/2020, năm 2020."
        ),
        code="invalid",
        params={"text": cleaned},
    )


def deadline_from_code(precision, value) -> Deadline:
    """The deadline of a demo-file period: '2020-02-15', '2020-02', '2020-Q2' or '2020'."""
    value = str(value)
    if precision == Precision.DAY:
        day = datetime.date.fromisoformat(value)
        return Deadline.of(precision, day.year, day.month, day.day)
    if precision == Precision.MONTH:
        year, month = value.split("-")
        return Deadline.of(precision, int(year), int(month))
    if precision == Precision.QUARTER:
        year, quarter = value.upper().split("-Q")
        return Deadline.of(precision, int(year), int(quarter))
    return Deadline.of(Precision.YEAR, int(value))


def month_bounds(day):
    return day.replace(day=1), day.replace(day=calendar.monthrange(day.year, day.month)[1])


# ---------------------------------------------------------------- funding sources


class FundingSourceQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)


class FundingSource(models.Model):
    """A source of money (CTMTQG NTM, ngân sách tỉnh, nhân dân đóng góp…); admins add new ones."""

    code = models.SlugField(_("mã nguồn vốn"), max_length=30, unique=True)
    name = models.CharField(_("tên nguồn vốn"), max_length=200)
    position = models.PositiveSmallIntegerField(_("thứ tự"), default=0)
    is_active = models.BooleanField(_("đang dùng"), default=True)

    objects = FundingSourceQuerySet.as_manager()

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("nguồn vốn")
        verbose_name_plural = _("nguồn vốn")

    def __str__(self):
        return self.name


# ---------------------------------------------------------------- plans


class PlanStatus(models.TextChoices):
    DRAFT = "draft", _("Dự thảo")
    ISSUED = "issued", _("Đã ban hành")
    CLOSED = "closed", _("Đã kết thúc")


class PlanQuerySet(models.QuerySet):
    def within(self, area):
        """Plans of `area` and of every area below it."""
        return self.filter(within_q("area", area))

    def within_any(self, areas):
        """Plans of any of `areas` and of every area below them (none for no area)."""
        q = Q(pk__in=[])
        for area in areas:
            q |= within_q("area", area)
        return self.filter(q)

    def with_totals(self):
        """Each plan with its item count and planned money, counted in the database."""
        planned = (
            FundingLine.objects.counted()
            .filter(item__plan=models.OuterRef("pk"))
            .values("item__plan")
            .annotate(total=Sum("planned"))
            .values("total")
        )
        return self.annotate(
            item_count=models.Count("items", distinct=True),
            planned_total=models.Subquery(planned, output_field=models.DecimalField()),
        )


class Plan(models.Model):
    """A plan document (Kế hoạch) an area issues for a year."""

    area = models.ForeignKey(Area, models.PROTECT, related_name="plans", verbose_name=_("địa bàn"))
    year = models.PositiveSmallIntegerField(_("năm"))
    number = models.CharField(_("số hiệu"), max_length=60, blank=True, help_text=_("ví dụ 05/KH-BCĐ"))
    title = models.CharField(_("trích yếu"), max_length=500)
    issued_on = models.DateField(_("ngày ban hành"), null=True, blank=True)
    issued_by = models.CharField(_("cơ quan ban hành"), max_length=250, blank=True)
    signer = models.CharField(_("người ký"), max_length=250, blank=True)
    # How the Biểu sign for the body ("TM. BAN CHỈ ĐẠO XÃ" / "KT. TRƯỞNG BAN" above "PHÓ BAN"); left blank, the
    # signer's place in the area's steering committee decides it (reports.bieu.queries.signature_for).
    signer_title = models.TextField(
        _("ký thay mặt"),
        blank=True,
        help_text=_("Mỗi dòng một dòng của khối chữ ký, ví dụ “TM. BAN CHỈ ĐẠO XÃ” rồi “KT. TRƯỞNG BAN”."),
    )
    signer_position = models.CharField(
        _("chức vụ người ký"), max_length=100, blank=True, help_text=_("ví dụ TRƯỞNG BAN, PHÓ BAN, CHỦ TỊCH")
    )
    legal_basis = models.TextField(_("căn cứ"), blank=True, help_text=_("Mỗi dòng một căn cứ (“Căn cứ …”)."))
    criteria_set = models.ForeignKey(
        CriteriaSet, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("bộ tiêu chí")
    )
    status = models.CharField(_("trạng thái"), max_length=10, choices=PlanStatus.choices, default=PlanStatus.DRAFT)
    source = models.CharField(_("nguồn tài liệu"), max_length=200, blank=True)
    notes = models.TextField(_("ghi chú"), blank=True)

    objects = PlanQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-year", "area", "number"]
        verbose_name = _("kế hoạch")
        verbose_name_plural = _("kế hoạch")
        indexes = [models.Index(fields=["area", "year"])]

    def __str__(self):
        return f"{self.number} — {self.title}" if self.number else self.title

    @property
    def legal_basis_lines(self):
        return [line.strip() for line in self.legal_basis.splitlines() if line.strip()]

    def funding_totals(self):
        """Planned and disbursed money per source, summed in the database (cancelled items left out)."""
        return FundingLine.objects.counted().filter(item__plan=self).totals_by_source()


# ---------------------------------------------------------------- items


class ItemStatus(models.TextChoices):
    NOT_STARTED = "not_started", _("Chưa thực hiện")
    IN_PROGRESS = "in_progress", _("Đang thực hiện")
    DONE = "done", _("Hoàn thành")
    CANCELLED = "cancelled", _("Hủy bỏ")


CLOSED_STATUSES = (ItemStatus.DONE, ItemStatus.CANCELLED)


class IdAmong(models.Func):
    """The row's id is among the ids a subquery returns: `id = ANY(ARRAY(subquery))` on PostgreSQL, `id IN
    (subquery)` elsewhere. PostgreSQL turns an `IN` into a join, and past eight joins (the item lists' related
    rows: join_collapse_limit) it keeps the joins in the order written, so it joined every open item of the country
    before keeping the area's few; an array is read once and its ids are looked up through the primary key.

    The subquery is written out as SQL here, once: a dashboard puts the same ids in four places (two lists, each
    with its count), and Django built and compiled the nested querysets again for each (4 ms of a statement's 4.2).
    An empty subquery raises EmptyResultSet here (the caller returns none())."""

    output_field = models.BooleanField()
    template = "%(expressions)s"
    arg_joiner = " IN "

    def __init__(self, ids):
        sql, params = ids.query.get_compiler(using=ids.db).as_sql()
        super().__init__(models.F("pk"), RawSQL(sql, params))

    def as_postgresql(self, compiler, connection):
        return self.as_sql(compiler, connection, arg_joiner=" = ANY(ARRAY", template="%(expressions)s)")


class PlanItemQuerySet(models.QuerySet):
    def open(self):
        return self.exclude(status__in=CLOSED_STATUSES)

    def overdue(self, today):
        """Open items whose period ended before `today`: "tháng 2/2020" is overdue from 1/3/2020."""
        return self.open().filter(deadline_date__lt=today)

    def due_in_month(self, today):
        """Open items whose period ends within the month of `today`."""
        return self.due_between(*month_bounds(today))

    def due_between(self, first, last):
        """Open items whose period ends between two days, both included."""
        return self.open().filter(deadline_date__gte=first, deadline_date__lte=last)

    def under(self, area):
        """Items of the plans of `area` and of every area below it (a join on stored ancestors)."""
        return self.filter(within_q("plan__area", area))

    def concerning(self, area):
        """Items that concern `area`: those of its plans and its units' plans, and those of any plan (a district's,
        a province's) whose place of work is `area` or a unit below it — a district's item for a commune or one of
        its villages. `area` may also be a queryset of areas (everything a reader may see).

        Written as `id IN (items of those plans UNION ALL items placed there)`: each half is read through its own
        index (the item's plan, the item's place), and the few ids are then looked up by primary key. OR-ing the
        two conditions made PostgreSQL scan every item against every plan (19 s for a national district)."""
        if isinstance(area, models.QuerySet) and area.query.is_empty():
            # Someone who may see no area (no role): IdAmong cannot be written over a subquery known to be empty.
            return self.none()
        areas = area.values("pk") if isinstance(area, models.QuerySet) else Area.objects.within(area).values("pk")
        plans = Plan.objects.filter(area__in=areas).order_by().values("pk")
        by_plan = PlanItem.objects.filter(plan__in=plans).order_by().values("pk")
        by_place = PlanItem.objects.filter(area__in=areas).order_by().values("pk")
        try:
            return self.filter(IdAmong(by_plan.union(by_place, all=True)))
        except EmptyResultSet:
            return self.none()

    def from_above(self, area):
        """Of these, the items of plans above `area` (not its own plans nor its units')."""
        return self.exclude(within_q("plan__area", area))

    def led_by_user(self, user):
        return self.filter(lead_member__user=user)

    def for_summaries(self):
        """What a dashboard's short lists show (title, deadline, place of work), in the lists' order: one join.
        for_lists()'s eight tables are more than PostgreSQL reorders (join_collapse_limit): it joined every open
        item of the country before keeping the few of the area."""
        return (
            self.select_related("area")
            .only("title", "deadline_label", "deadline_date", "plan_id", "position", "area__name", "area__kind")
            .order_by("deadline_date", "plan_id", "position", "pk")
        )

    def for_lists(self):
        return self.select_related(
            "plan", "plan__area", "criterion", "indicator", "area", "lead_member", "lead_agency"
        ).order_by("deadline_date", "plan_id", "position", "pk")


class PlanItem(models.Model):
    plan = models.ForeignKey(Plan, models.CASCADE, related_name="items", verbose_name=_("kế hoạch"))
    position = models.PositiveIntegerField(_("thứ tự"), default=0)
    title = models.CharField(_("nội dung công việc"), max_length=500)
    description = models.TextField(_("mô tả"), blank=True)
    criterion = models.ForeignKey(
        Criterion, models.PROTECT, null=True, blank=True, related_name="plan_items", verbose_name=_("tiêu chí")
    )
    indicator = models.ForeignKey(
        Indicator, models.PROTECT, null=True, blank=True, related_name="plan_items", verbose_name=_("chỉ tiêu")
    )
    area = models.ForeignKey(
        Area,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="plan_items",
        verbose_name=_("địa điểm thực hiện"),
        help_text=_("Thôn, xã nơi thực hiện; để trống nếu là cả địa bàn của kế hoạch."),
    )
    quantity = models.DecimalField(_("khối lượng"), max_digits=14, decimal_places=3, null=True, blank=True)
    unit = models.CharField(_("đơn vị tính"), max_length=60, blank=True)
    target = models.CharField(_("chỉ tiêu cần đạt"), max_length=300, blank=True)
    lead_member = models.ForeignKey(
        Member, models.PROTECT, null=True, blank=True, related_name="plan_items", verbose_name=_("người chủ trì")
    )
    lead_agency = models.ForeignKey(
        Agency, models.PROTECT, null=True, blank=True, related_name="plan_items", verbose_name=_("cơ quan chủ trì")
    )
    coordinator_members = models.ManyToManyField(
        Member, blank=True, related_name="coordinated_items", verbose_name=_("người phối hợp")
    )
    coordinator_agencies = models.ManyToManyField(
        Agency, blank=True, related_name="coordinated_items", verbose_name=_("cơ quan phối hợp")
    )
    start_date = models.DateField(_("bắt đầu"), null=True, blank=True)
    deadline_precision = models.CharField(_("kiểu thời hạn"), max_length=10, choices=Precision.choices, blank=True)
    # The last day of the deadline's period, so that "overdue" is one indexed comparison.
    deadline_date = models.DateField(_("hạn cuối"), null=True, blank=True, db_index=True)
    deadline_label = models.CharField(_("thời hạn"), max_length=40, blank=True)
    status = models.CharField(
        _("tình trạng"), max_length=12, choices=ItemStatus.choices, default=ItemStatus.NOT_STARTED, db_index=True
    )
    progress = models.PositiveSmallIntegerField(
        _("tiến độ (%)"),
        default=0,
        # A validator's message is formatted with its values (%(limit_value)s…): "%%" is its percent sign; a lone
        # "%" made every refusal of a progress above 100 a server error ("incomplete format").
        validators=[
            MinValueValidator(0, _("Tiến độ phải từ 0 đến 100%%.")),
            MaxValueValidator(100, _("Tiến độ phải từ 0 đến 100%%.")),
        ],
    )
    notes = models.TextField(_("ghi chú"), blank=True)
    # Bumped on every change, so that an edit form opened before someone else's save is refused, not applied.
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    updated_at = models.DateTimeField(_("cập nhật lúc"), auto_now=True)

    objects = PlanItemQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["plan", "position", "pk"]
        verbose_name = _("nội dung kế hoạch")
        verbose_name_plural = _("nội dung kế hoạch")
        indexes = [
            # Most items have no place of their own (the whole area of the plan): the area_id index's statistics
            # then said nothing, and PostgreSQL scanned every item to find the few placed in an area (`concerning`).
            # This index holds only the placed ones, so looking them up is a probe of a small index.
            models.Index(fields=["area"], condition=Q(area__isnull=False), name="plan_item_placed"),
            # The open items by deadline: the national counts of overdue and due items read this index alone
            # (5 ms) instead of every item (40 ms at 58,000 items).
            models.Index(
                fields=["deadline_date"], condition=~Q(status__in=CLOSED_STATUSES), name="plan_item_open_deadline"
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="plan_item_progress_max_100"),
            models.CheckConstraint(
                condition=Q(lead_member__isnull=True) | Q(lead_agency__isnull=True), name="plan_item_one_lead"
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def deadline(self):
        if not self.deadline_date:
            return None
        return Deadline(self.deadline_precision, self.deadline_date, self.deadline_label)

    @deadline.setter
    def deadline(self, value):
        self.deadline_precision = value.precision if value else ""
        self.deadline_date = value.date if value else None
        self.deadline_label = value.label if value else ""

    @property
    def lead(self):
        return self.lead_member or self.lead_agency

    @property
    def quantity_display(self):
        """The quantity without trailing zeros (0,51 not 0,510); templates localize it."""
        if self.quantity is None:
            return None
        value = self.quantity.normalize()
        return value.quantize(Decimal(1)) if value == value.to_integral_value() else value

    @property
    def planned_total(self):
        """Planned money of this item, summed from its (usually prefetched) lines."""
        return sum((line.planned for line in self.funding_lines.all()), start=Decimal(0))

    def is_open(self):
        return self.status not in CLOSED_STATUSES

    def is_overdue(self, today):
        return self.is_open() and self.deadline_date is not None and today > self.deadline_date

    def is_due_in_month(self, today):
        first, last = month_bounds(today)
        return self.is_open() and self.deadline_date is not None and first <= self.deadline_date <= last

    def clean(self):
        errors = {}
        if self.lead_member_id and self.lead_agency_id:
            errors["lead_agency"] = _("Chỉ chọn một người chủ trì hoặc một cơ quan chủ trì, không chọn cả hai.")
        if self.indicator_id:
            if self.criterion_id and self.indicator.criterion_id != self.criterion_id:
                errors["indicator"] = _("Chỉ tiêu này không thuộc tiêu chí đã chọn.")
            elif not self.criterion_id:
                self.criterion_id = self.indicator.criterion_id
        if self.area_id and self.plan_id:
            plan_area_id = self.plan.area_id
            area = self.area
            if plan_area_id not in {area.pk, area.province_id, area.district_id, area.commune_id}:
                errors["area"] = _("Địa điểm thực hiện phải là %(area)s hoặc đơn vị trực thuộc.") % {
                    "area": self.plan.area
                }
        if self.start_date and self.deadline_date and self.start_date > self.deadline_date:
            errors["start_date"] = _("Ngày bắt đầu phải trước thời hạn.")
        if bool(self.deadline_date) != bool(self.deadline_precision):
            errors["deadline_label"] = _("Thời hạn thiếu kiểu (ngày, tháng, quý, năm) hoặc thiếu ngày cuối.")
        if errors:
            raise ValidationError(errors)


# ---------------------------------------------------------------- money


class FundingLineQuerySet(models.QuerySet):
    def counted(self):
        """Lines that count towards totals: a cancelled item's money is no longer planned."""
        return self.exclude(item__status=ItemStatus.CANCELLED)

    def under(self, area):
        return self.filter(within_q("item__plan__area", area))

    def totals_by_source(self):
        """Rows {source_id, source__code, source__name, planned, disbursed} per source, in catalogue order."""
        return (
            self.values("source_id", "source__code", "source__name", "source__position")
            .annotate(planned=Sum("planned"), disbursed=Sum("disbursed"))
            .order_by("source__position", "source__code")
        )


MONEY = {"max_digits": 16, "decimal_places": 3}
_NOT_NEGATIVE = _("Số tiền không được âm.")


class FundingLine(models.Model):
    """Money for one item from one source, in million VND (triệu đồng)."""

    item = models.ForeignKey(PlanItem, models.CASCADE, related_name="funding_lines", verbose_name=_("nội dung"))
    source = models.ForeignKey(FundingSource, models.PROTECT, related_name="lines", verbose_name=_("nguồn vốn"))
    planned = models.DecimalField(
        _("vốn kế hoạch (triệu đồng)"), **MONEY, default=Decimal(0), validators=[MinValueValidator(0, _NOT_NEGATIVE)]
    )
    disbursed = models.DecimalField(
        _("đã giải ngân (triệu đồng)"), **MONEY, default=Decimal(0), validators=[MinValueValidator(0, _NOT_NEGATIVE)]
    )

    objects = FundingLineQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["item", "source__position"]
        verbose_name = _("dòng vốn")
        verbose_name_plural = _("dòng vốn")
        constraints = [
            models.UniqueConstraint(fields=["item", "source"], name="funding_line_one_per_source"),
            models.CheckConstraint(condition=Q(planned__gte=0) & Q(disbursed__gte=0), name="funding_line_not_negative"),
        ]

    def __str__(self):
        return f"{self.source}: {self.planned}"


# ---------------------------------------------------------------- progress


class ProgressUpdate(models.Model):
    """A dated report on an item; the latest one sets the item's progress and status."""

    item = models.ForeignKey(PlanItem, models.CASCADE, related_name="updates", verbose_name=_("nội dung"))
    date = models.DateField(_("ngày"))
    progress = models.PositiveSmallIntegerField(
        _("tiến độ (%)"),
        validators=[
            MinValueValidator(0, _("Tiến độ phải từ 0 đến 100%%.")),
            MaxValueValidator(100, _("Tiến độ phải từ 0 đến 100%%.")),
        ],
    )
    status = models.CharField(
        _("tình trạng"),
        max_length=12,
        choices=ItemStatus.choices,
        blank=True,
        help_text=_("Để trống để suy ra từ tiến độ."),
    )
    done = models.TextField(_("kết quả đã làm"), blank=True)
    difficulties = models.TextField(_("khó khăn, vướng mắc"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("người báo cáo"),
    )
    created_at = models.DateTimeField(_("báo cáo lúc"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-date", "-pk"]
        verbose_name = _("cập nhật tiến độ")
        verbose_name_plural = _("cập nhật tiến độ")
        constraints = [models.CheckConstraint(condition=Q(progress__lte=100), name="progress_update_max_100")]

    def __str__(self):
        return f"{self.item} — {self.date:%d/%m/%Y}: {self.progress}%"

    @property
    def resulting_status(self):
        if self.status:
            return self.status
        if self.progress >= 100:
            return ItemStatus.DONE
        return ItemStatus.IN_PROGRESS if self.progress > 0 else ItemStatus.NOT_STARTED

    @property
    def resulting_status_label(self):
        return ItemStatus(self.resulting_status).label


def plan_years(*, area=None, criteria_set=None, level=None):
    """The years of the plans of `area` or any unit within it (of `criteria_set`'s period and its national set or the
    province variants of it, or of sets of `level`), as a values_list("year") queryset that criteria.scope.data_years
    unites with the results' years in one query (settings.NTM_PLAN_YEARS)."""
    plans = Plan.objects.all()
    if area is not None:
        plans = plans.within(area)
    if criteria_set is not None:
        national = criteria_set.national_set
        plans = plans.filter(
            Q(criteria_set=national) | Q(criteria_set__parent=national),
            year__range=(national.period_start, national.period_end),
        )
        level = level or national.level
    if level is not None:
        plans = plans.filter(criteria_set__level=level)
    return plans.order_by().values_list("year")
