import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

# The region whose thresholds apply to communes under the special rule of QĐ 318/QĐ-TTg.
SPECIAL_RULE_REGION = "TDMNPB"


class Region(models.Model):
    """One of the 7 socio-economic regions whose thresholds the 2016–2025 criteria sets use."""

    code = models.CharField(_("mã vùng"), max_length=10, unique=True)
    name = models.CharField(_("tên vùng"), max_length=100)
    position = models.PositiveSmallIntegerField(_("thứ tự"), default=0)

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("vùng kinh tế - xã hội")
        verbose_name_plural = _("vùng kinh tế - xã hội")

    def __str__(self):
        return self.name


class Level(models.TextChoices):
    PROVINCE = "province", _("Tỉnh/Thành phố")
    DISTRICT = "district", _("Huyện")
    COMMUNE = "commune", _("Xã")
    VILLAGE = "village", _("Thôn")


# The levels a parent may have. A commune may sit directly under a province since 1 July 2025.
ALLOWED_PARENTS = {
    Level.PROVINCE: set(),
    Level.DISTRICT: {Level.PROVINCE},
    Level.COMMUNE: {Level.DISTRICT, Level.PROVINCE},
    Level.VILLAGE: {Level.COMMUNE},
}

# Which stored-ancestor column holds an area of each level, for one-filter descendant queries.
ANCESTOR_FIELD = {
    Level.PROVINCE: "province",
    Level.DISTRICT: "district",
    Level.COMMUNE: "commune",
}


def within_q(path, area):
    """Q for rows whose area (reached through `path`, e.g. "plan__area") is `area` or below it.

    Written as `<path>_id IN (SELECT id FROM area WHERE id = X OR <ancestor>_id = X)`: the subquery reads the area
    table alone through its primary key and stored-ancestor indexes, and the rows are then found through their
    area foreign key's index. Joining the area and OR-ing `plan.area_id = X OR area.district_id = X` across two
    tables made PostgreSQL scan every area and plan (54.6 ms → 3.3 ms for a district's funding lines).
    """
    return Q(**{f"{path}__in": Area.objects.within(area).values("pk")})


class CommuneGroup(models.TextChoices):
    """Commune groups of the 2026–2030 set (QĐ 51/2025/QĐ-TTg), which replace the 7 regions."""

    N1 = "N1", _("Nhóm 1 (ven đô / định hướng đô thị)")
    N2 = "N2", _("Nhóm 2")
    N3 = "N3", _("Nhóm 3 (xã khu vực II, III vùng DTTS&MN)")


class AreaQuerySet(models.QuerySet):
    def provinces(self):
        return self.filter(level=Level.PROVINCE)

    def districts(self):
        return self.filter(level=Level.DISTRICT)

    def communes(self):
        return self.filter(level=Level.COMMUNE)

    def villages(self):
        return self.filter(level=Level.VILLAGE)

    def under(self, area):
        """Every area below `area` (not itself): one indexed filter on a stored ancestor."""
        return self.filter(**{ANCESTOR_FIELD[area.level]: area})

    def within(self, area):
        """`area` and every area below it."""
        if area.level == Level.VILLAGE:
            return self.filter(pk=area.pk)
        return self.filter(Q(pk=area.pk) | Q(**{ANCESTOR_FIELD[area.level]: area}))

    def valid_on(self, day):
        return self.filter(Q(valid_from__isnull=True) | Q(valid_from__lte=day)).filter(
            Q(valid_until__isnull=True) | Q(valid_until__gte=day)
        )

    def current(self):
        return self.valid_on(timezone.localdate())

    def in_year(self, year):
        """Areas that existed at some point of `year` (past years are served on the old map)."""
        return self.filter(Q(valid_from__isnull=True) | Q(valid_from__lte=datetime.date(year, 12, 31))).filter(
            Q(valid_until__isnull=True) | Q(valid_until__gte=datetime.date(year, 1, 1))
        )


class Area(models.Model):
    """A unit of the administrative map: province, district, commune or village (thôn)."""

    code = models.CharField(_("mã đơn vị"), max_length=20, db_index=True)
    name = models.CharField(_("tên"), max_length=150)
    kind = models.CharField(
        _("loại đơn vị"), max_length=30, blank=True, help_text=_("tỉnh, thành phố, huyện, xã, phường, thôn, bản…")
    )
    level = models.CharField(_("cấp"), max_length=10, choices=Level.choices, db_index=True)
    parent = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("đơn vị cấp trên")
    )
    # Stored ancestors: "everything under X" is one indexed filter, never a recursive walk.
    province = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="+", editable=False, verbose_name=_("tỉnh")
    )
    district = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="+", editable=False, verbose_name=_("huyện")
    )
    commune = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="+", editable=False, verbose_name=_("xã")
    )
    region = models.ForeignKey(
        Region,
        models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("vùng"),
        help_text=_("Để trống để lấy theo tỉnh."),
    )
    special_difficulty = models.BooleanField(_("xã đặc biệt khó khăn"), default=False)
    safe_zone = models.BooleanField(_("xã an toàn khu"), default=False)
    # The commune's group for the 2026–2030 set is a CommuneGrouping: one per period, with the province's decision.
    valid_from = models.DateField(_("hiệu lực từ"), null=True, blank=True)
    valid_until = models.DateField(_("hiệu lực đến"), null=True, blank=True)
    predecessors = models.ManyToManyField(
        "self",
        through="AreaSuccession",
        through_fields=("new", "old"),
        symmetrical=False,
        blank=True,
        related_name="successors",
        verbose_name=_("hình thành từ"),
        help_text=_("Các đơn vị cũ được sáp nhập, chia tách thành đơn vị này."),
    )
    # Set by the map loader: the unit left the official map and no data names its successor. Never guessed.
    ended_without_successor = models.BooleanField(
        _("hết hiệu lực, không rõ đơn vị kế thừa"),
        default=False,
        help_text=_("Đơn vị không còn trong bản đồ sau và dữ liệu không cho biết đơn vị nào kế thừa."),
    )

    objects = AreaQuerySet.as_manager()

    class Meta:
        ordering = ["code", "name"]
        verbose_name = _("đơn vị hành chính")
        verbose_name_plural = _("đơn vị hành chính")
        constraints = [
            # COALESCE, not nulls_distinct: SQLite cannot honour the latter and would drop the constraint.
            models.UniqueConstraint(
                "code",
                "level",
                Coalesce("valid_from", Value(datetime.date(1, 1, 1))),
                name="area_code_unique_per_period",
            ),
        ]
        indexes = [models.Index(fields=["level", "province"]), models.Index(fields=["level", "district"])]

    def __str__(self):
        return self.full_name

    @property
    def full_name(self):
        return f"{self.kind} {self.name}".strip() if self.kind else self.name

    @property
    def official_code(self):
        """The code of the official list (digits: "24", "219", "07234"), else "": demo units ("X-…") and villages
        ("02314-01", commune code + number) have codes of the portal's own that pages do not show."""
        return self.code if self.code.isdigit() and self.level != Level.VILLAGE else ""

    def fill_ancestors(self):
        """Copy the stored ancestors and the inherited region from the parent."""
        parent = self.parent
        self.province = self.district = self.commune = None
        if parent is not None:
            self.province = parent if parent.level == Level.PROVINCE else parent.province
            self.district = parent if parent.level == Level.DISTRICT else parent.district
            self.commune = parent if parent.level == Level.COMMUNE else parent.commune
            if self.region_id is None:
                self.region_id = parent.region_id

    def clean(self):
        allowed = ALLOWED_PARENTS.get(self.level, set())
        if self.parent is None and allowed:
            raise ValidationError({"parent": _("Đơn vị cấp này phải có đơn vị cấp trên.")})
        if self.parent is not None and self.parent.level not in allowed:
            raise ValidationError(
                {
                    "parent": _("%(level)s không thể trực thuộc %(parent)s.")
                    % {"level": self.get_level_display(), "parent": self.parent.get_level_display()}
                }
            )
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise ValidationError({"valid_until": _("Ngày hết hiệu lực phải sau ngày bắt đầu hiệu lực.")})
        self.fill_ancestors()

    def is_valid_on(self, day):
        """In force on `day`: Area.objects.valid_on for a unit already read."""
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or self.valid_until >= day
        )

    def is_valid_in(self, year):
        return (self.valid_from is None or self.valid_from.year <= year) and (
            self.valid_until is None or self.valid_until.year >= year
        )

    def ancestors(self):
        """Province → district → commune above this area, top first."""
        return [a for a in (self.province, self.district, self.commune) if a is not None and a.pk != self.pk]


class CommuneGroupingQuerySet(models.QuerySet):
    def for_year(self, year):
        return self.filter(period_start__lte=year, period_end__gte=year)

    def group_of(self, area, year):
        """The group of `area` for the period holding `year` ("" when not grouped): one query."""
        return self.for_year(year).filter(area=area).values_list("group", flat=True).first() or ""


class CommuneGrouping(models.Model):
    """A commune's group (nhóm 1 / 2 / 3) for a period of the criteria, set by a decision of its province.

    The 2026–2030 thresholds are chosen by group (QĐ 51/2025/QĐ-TTg); a commune not grouped yet is not judged on
    a group's threshold."""

    area = models.ForeignKey(
        Area,
        models.CASCADE,
        related_name="groupings",
        limit_choices_to={"level": Level.COMMUNE},
        verbose_name=_("xã"),
    )
    period_start = models.PositiveSmallIntegerField(_("từ năm"), default=2026)
    period_end = models.PositiveSmallIntegerField(_("đến năm"), default=2030)
    group = models.CharField(_("nhóm xã"), max_length=2, choices=CommuneGroup.choices)
    decision_number = models.CharField(_("số quyết định"), max_length=100, blank=True)
    decision_date = models.DateField(_("ngày quyết định"), null=True, blank=True)
    note = models.CharField(_("ghi chú"), max_length=300, blank=True)

    objects = CommuneGroupingQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-period_start", "area__code"]
        verbose_name = _("xếp nhóm xã")
        verbose_name_plural = _("xếp nhóm xã")
        constraints = [models.UniqueConstraint(fields=["area", "period_start"], name="commune_grouping_unique")]

    def __str__(self):
        return f"{self.area} — {self.period} — {self.get_group_display()}"

    @property
    def period(self):
        return f"{self.period_start}–{self.period_end}"

    @property
    def decision_label(self):
        """'QĐ 12/QĐ-UBND ngày 05/01/2026', or "chưa có quyết định"."""
        if not self.decision_number and not self.decision_date:
            return str(_("chưa có quyết định"))
        day = self.decision_date.strftime("%d/%m/%Y") if self.decision_date else ""
        return " ".join(p for p in (self.decision_number, _("ngày %(day)s") % {"day": day} if day else "") if p)

    def clean(self):
        if self.area_id and self.area.level != Level.COMMUNE:
            raise ValidationError({"area": _("Chỉ xếp nhóm cho đơn vị cấp xã.")})
        if self.period_end < self.period_start:
            raise ValidationError({"period_end": _("Năm kết thúc phải sau năm bắt đầu.")})


class Share(models.TextChoices):
    FULL = "full", _("toàn bộ")
    PARTIAL = "partial", _("một phần")


class AreaSuccession(models.Model):
    """An old unit became (all or part of) a new one: one row of a merge or split."""

    old = models.ForeignKey(Area, models.CASCADE, related_name="succession_to", verbose_name=_("đơn vị cũ"))
    new = models.ForeignKey(Area, models.CASCADE, related_name="succession_from", verbose_name=_("đơn vị mới"))
    share = models.CharField(_("phần chuyển sang"), max_length=10, choices=Share.choices, default=Share.FULL)
    basis = models.CharField(_("căn cứ"), max_length=200, blank=True)
    on = models.DateField(_("từ ngày"), null=True, blank=True)

    class Meta:
        ordering = ["new", "old"]
        verbose_name = _("sáp nhập, chia tách")
        verbose_name_plural = _("sáp nhập, chia tách")
        constraints = [models.UniqueConstraint(fields=["old", "new"], name="area_succession_unique")]

    def __str__(self):
        return f"{self.old} → {self.new} ({self.get_share_display()})"


class MapSnapshot(models.Model):
    """An official snapshot of the administrative map that `load_admin_map` has loaded."""

    day = models.DateField(_("ngày của bản đồ"), unique=True)
    source = models.CharField(_("tệp đơn vị"), max_length=200)
    merges_source = models.CharField(_("tệp sáp nhập"), max_length=200, blank=True)
    summary = models.TextField(_("kết quả nạp"), blank=True)
    loaded_at = models.DateTimeField(_("nạp lúc"), auto_now_add=True)

    class Meta:
        ordering = ["day"]
        verbose_name = _("bản đồ hành chính đã nạp")
        verbose_name_plural = _("bản đồ hành chính đã nạp")

    def __str__(self):
        return self.day.strftime("%d/%m/%Y")


class RoleKind(models.TextChoices):
    OFFICER = "officer", _("Cán bộ nhập liệu")
    REVIEWER = "reviewer", _("Cán bộ thẩm tra")
    VIEWER = "viewer", _("Người xem")
    ADMIN = "admin", _("Quản trị")


class RoleQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)

    def in_force(self, day=None):
        """Active roles still in force on `day` (today). A role held on a unit when it was abolished ends on the
        unit's last valid day; the row stays, as the history of who held it. A role given on a unit that had
        already ended was given on purpose (to finish its files, to read its archive) and stands."""
        day = day or timezone.localdate()
        return self.active().filter(
            Q(area__valid_until__isnull=True)
            | Q(area__valid_until__gte=day)
            | Q(created_at__date__gt=F("area__valid_until"))
        )


class Role(models.Model):
    """A user's role at an area; it reaches every area below it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="ntm_roles", verbose_name=_("người dùng")
    )
    area = models.ForeignKey(Area, models.PROTECT, related_name="roles", verbose_name=_("địa bàn"))
    kind = models.CharField(_("vai trò"), max_length=10, choices=RoleKind.choices)
    is_active = models.BooleanField(_("đang hiệu lực"), default=True)
    created_at = models.DateTimeField(_("tạo lúc"), auto_now_add=True)

    objects = RoleQuerySet.as_manager()

    class Meta:
        verbose_name = _("vai trò")
        verbose_name_plural = _("vai trò")
        constraints = [models.UniqueConstraint(fields=["user", "area", "kind"], name="role_unique")]

    def __str__(self):
        return f"{self.user} — {self.get_kind_display()} — {self.area}"

    @property
    def ended_on(self):
        """The last day of a role held on a unit when it was abolished (see RoleQuerySet.in_force), else None."""
        until = self.area.valid_until
        if until is None or self.created_at is None or timezone.localtime(self.created_at).date() > until:
            return None
        return until
