"""Who does the work: agencies, people, steering committees, and who leads each criterion in a year."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from areas.models import Area
from criteria.models import CriteriaSet, Criterion, Indicator
from ntm_portal.prepared import Prepared


class AgencyQuerySet(models.QuerySet):
    def for_area(self, area):
        return self.filter(area=area)


class Agency(models.Model):
    """A body that leads or coordinates work: Phòng NN&PTNT, Hội Nông dân xã, trạm y tế…"""

    name = models.CharField(_("tên cơ quan, đơn vị"), max_length=200)
    area = models.ForeignKey(Area, models.PROTECT, related_name="agencies", verbose_name=_("địa bàn"))
    kind = models.CharField(_("loại"), max_length=60, blank=True, help_text=_("phòng, ban, hội, đoàn thể…"))
    notes = models.TextField(_("ghi chú"), blank=True)

    objects = AgencyQuerySet.as_manager()

    class Meta:
        ordering = ["area", "name"]
        verbose_name = _("cơ quan, đơn vị")
        verbose_name_plural = _("cơ quan, đơn vị")
        constraints = [models.UniqueConstraint(fields=["area", "name"], name="agency_unique_name")]

    def __str__(self):
        return self.name


class MemberQuerySet(models.QuerySet):
    def for_area(self, area):
        return self.filter(area=area)


class Member(models.Model):
    """A person with a part in the programme; linked to a user account when they log in themselves."""

    name = models.CharField(_("họ và tên"), max_length=150)
    position = models.CharField(_("chức vụ"), max_length=250, blank=True)
    area = models.ForeignKey(Area, models.PROTECT, related_name="members", verbose_name=_("địa bàn"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="ntm_members",
        verbose_name=_("tài khoản"),
    )
    notes = models.TextField(_("ghi chú"), blank=True)

    objects = MemberQuerySet.as_manager()

    class Meta:
        ordering = ["area", "name"]
        verbose_name = _("thành viên")
        verbose_name_plural = _("thành viên")
        constraints = [models.UniqueConstraint(fields=["area", "name"], name="member_unique_name")]

    def __str__(self):
        return self.name


class SteeringCommittee(models.Model):
    """The Ban chỉ đạo of an area, for the years it sits."""

    area = models.ForeignKey(Area, models.PROTECT, related_name="steering_committees", verbose_name=_("địa bàn"))
    name = models.CharField(_("tên"), max_length=250)
    valid_from_year = models.PositiveSmallIntegerField(_("từ năm"), null=True, blank=True)
    valid_until_year = models.PositiveSmallIntegerField(_("đến năm"), null=True, blank=True)
    notes = models.TextField(_("ghi chú"), blank=True)
    members = models.ManyToManyField(
        Member, through="CommitteeMembership", related_name="committees", verbose_name=_("thành viên")
    )

    class Meta:
        ordering = ["area", "name"]
        verbose_name = _("ban chỉ đạo")
        verbose_name_plural = _("ban chỉ đạo")
        constraints = [models.UniqueConstraint(fields=["area", "name"], name="committee_unique_name")]

    def __str__(self):
        return self.name

    def clean(self):
        if self.valid_from_year and self.valid_until_year and self.valid_until_year < self.valid_from_year:
            raise ValidationError({"valid_until_year": _("Năm kết thúc phải sau năm bắt đầu.")})


class CommitteeRole(models.TextChoices):
    HEAD = "head", _("Trưởng ban")
    DEPUTY = "deputy", _("Phó ban")
    MEMBER = "member", _("Thành viên")


class CommitteeMembership(models.Model):
    committee = models.ForeignKey(
        SteeringCommittee, models.CASCADE, related_name="memberships", verbose_name=_("ban chỉ đạo")
    )
    member = models.ForeignKey(Member, models.CASCADE, related_name="memberships", verbose_name=_("thành viên"))
    role = models.CharField(_("vai trò"), max_length=10, choices=CommitteeRole.choices, default=CommitteeRole.MEMBER)

    class Meta:
        ordering = ["committee", "role", "member__name"]
        verbose_name = _("thành viên ban chỉ đạo")
        verbose_name_plural = _("thành viên ban chỉ đạo")
        constraints = [models.UniqueConstraint(fields=["committee", "member"], name="membership_unique")]

    def __str__(self):
        return f"{self.member} — {self.get_role_display()}"


class ResponsibilityQuerySet(models.QuerySet):
    def for_area_year(self, area, year):
        return self.filter(area=area, year=year)

    def with_people(self):
        return self.select_related("criteria_set", "criterion", "indicator", "lead_member", "lead_agency")


class Responsibility(models.Model):
    """Who leads, and who helps, with a criterion (or one indicator, or a whole set) in an area and year."""

    area = models.ForeignKey(Area, models.PROTECT, related_name="responsibilities", verbose_name=_("địa bàn"))
    year = models.PositiveSmallIntegerField(_("năm"))
    criteria_set = models.ForeignKey(CriteriaSet, models.PROTECT, related_name="+", verbose_name=_("bộ tiêu chí"))
    criterion = models.ForeignKey(
        Criterion, models.PROTECT, null=True, blank=True, related_name="responsibilities", verbose_name=_("tiêu chí")
    )
    indicator = models.ForeignKey(
        Indicator, models.PROTECT, null=True, blank=True, related_name="responsibilities", verbose_name=_("chỉ tiêu")
    )
    lead_member = models.ForeignKey(
        Member, models.PROTECT, null=True, blank=True, related_name="leads", verbose_name=_("người chủ trì")
    )
    lead_agency = models.ForeignKey(
        Agency, models.PROTECT, null=True, blank=True, related_name="leads", verbose_name=_("cơ quan chủ trì")
    )
    coordinator_members = models.ManyToManyField(
        Member, blank=True, related_name="coordinations", verbose_name=_("người phối hợp")
    )
    coordinator_agencies = models.ManyToManyField(
        Agency, blank=True, related_name="coordinations", verbose_name=_("cơ quan phối hợp")
    )
    notes = models.TextField(_("ghi chú"), blank=True)

    objects = ResponsibilityQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["area", "year", "criterion__number", "indicator__sort_key"]
        verbose_name = _("phân công phụ trách")
        verbose_name_plural = _("phân công phụ trách")
        constraints = [
            models.CheckConstraint(
                condition=Q(lead_member__isnull=False, lead_agency__isnull=True)
                | Q(lead_member__isnull=True, lead_agency__isnull=False),
                name="responsibility_exactly_one_lead",
            ),
            # COALESCE, not nulls_distinct: SQLite cannot honour the latter and would drop the constraint.
            models.UniqueConstraint(
                "area",
                "year",
                "criteria_set",
                Coalesce("criterion", Value(0)),
                Coalesce("indicator", Value(0)),
                name="responsibility_unique_target",
            ),
        ]

    def __str__(self):
        return f"{self.target_display} — {self.lead_display} ({self.year})"

    @property
    def lead(self):
        return self.lead_member or self.lead_agency

    @property
    def lead_display(self):
        lead = self.lead
        return lead.name if lead else ""

    @property
    def target_display(self):
        if self.indicator_id:
            return str(_("Chỉ tiêu %(code)s") % {"code": self.indicator.code})
        if self.criterion_id:
            return str(_("Tiêu chí %(number)s") % {"number": self.criterion.number})
        return str(self.criteria_set)

    def clean(self):
        if bool(self.lead_member_id) == bool(self.lead_agency_id):
            raise ValidationError(_("Chọn đúng một người chủ trì hoặc một cơ quan chủ trì."))
        if self.indicator_id and self.criterion_id and self.indicator.criterion_id != self.criterion_id:
            raise ValidationError({"indicator": _("Chỉ tiêu này không thuộc tiêu chí đã chọn.")})
        if self.indicator_id and not self.criterion_id:
            self.criterion_id = self.indicator.criterion_id
        if self.criterion_id and self.criteria_set_id and self.criterion.criteria_set_id != self.criteria_set_id:
            raise ValidationError({"criterion": _("Tiêu chí này không thuộc bộ tiêu chí đã chọn.")})


def _owners_query(_shape, *, area, year):
    return (
        Responsibility.objects.for_area_year(area, year)
        .filter(criterion__isnull=False)
        .select_related("indicator", "lead_member", "lead_agency")
        .order_by("indicator__sort_key")
    )


# Asked on every workspace and criterion page: compiled once (ntm_portal/prepared.py).
OWNERS_QUERY = Prepared(Responsibility, _owners_query)


def criterion_owners(area, year) -> dict[int, str]:
    """Who leads each criterion of `area` in `year`, for the workspace: {criterion_id: "Name"}. One query.

    A lead named for the whole criterion wins; a criterion led only indicator by indicator (seed 001:
    5.1 Phòng Y tế, 5.2 Phòng Văn hoá…) shows each lead with its indicator code.
    """
    whole, parts = {}, {}
    for row in OWNERS_QUERY(None, area=area.pk, year=year):
        if row.indicator_id is None:
            whole[row.criterion_id] = row.lead_display
        else:
            parts.setdefault(row.criterion_id, []).append(f"{row.lead_display} ({row.indicator.code})")
    owners = {criterion_id: "; ".join(names) for criterion_id, names in parts.items()}
    owners.update(whole)
    return owners
