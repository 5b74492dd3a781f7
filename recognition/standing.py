"""Where a commune stands in a year: the one rule the dashboards, the Biểu and the recognition list read.

Three figures, never mixed:

- **recognised** (đã được công nhận đạt chuẩn): the official status, given by a decision (Quyết định công nhận of
  UBND tỉnh) — a file at "Đã công nhận", reached through the portal's workflow or recorded from a decision taken
  before it ("Ghi nhận theo văn bản"). It holds from the file's year on, under any set of the same level and tier,
  until it is revoked; in a later year it is shown "giữ vững".
- **criteria met by assessment** (đạt n/19): the criteria statuses entered for the commune. In a year without new
  data a criterion keeps its latest known status of the same set's period (the carry-over rule): the standing is
  labelled with the years it comes from ("theo số liệu năm 2023").
- **no data** (chưa có số liệu): no status at all in the set's period up to the year. Never counted as failing or as
  0/19.

The criteria met are stored (criteria.models.CommuneStanding, kept current by criteria.standings, which every writer
of results calls): a commune's standing is one row read by a join, one query for any number of communes. Only the
recognition decisions, few, are looked up per commune.
"""

import datetime
from dataclasses import dataclass

from django.db.models import Exists, F, FilteredRelation, OuterRef, Q, Subquery
from django.utils.translation import gettext as _

from criteria.standings import stored_year
from recognition.models import Action, RecognitionFile, RecognitionStep, Stage


def stored(criteria_set, year):
    """The join of an Area queryset to its stored standing in `year` on the national set of `criteria_set` (a LEFT
    JOIN: one row per area, its columns None when the area has no data)."""
    national = criteria_set.national_set
    return stored_row(national.pk, stored_year(national, year))


def stored_row(national_id, row_year):
    """stored() by the national set's id and the year of the row (criteria.standings.stored_year): the form a
    prepared statement takes (ntm_portal/prepared.py)."""
    return FilteredRelation("standings", condition=Q(standings__criteria_set=national_id, standings__year=row_year))


def standing_recognitions(criteria_set, year):
    """The files whose decision stands in `year`: recognised in `year` or before under a national set of the same
    level and tier (the status is the commune's, whichever period's set it was recognised under), not revoked by
    the end of `year`."""
    national = criteria_set.national_set
    return recognitions_standing(national.level, national.tier, year=year, year_end=datetime.date(year, 12, 31))


def recognitions_standing(level, tier, *, year, year_end):
    """standing_recognitions() by the set's level and tier, the year and its last day (the form a prepared statement
    takes: the year's end is a parameter of its own)."""
    revoked = RecognitionStep.objects.filter(file=OuterRef("pk"), action=Action.REVOKE, at__date__lte=year_end)
    return RecognitionFile.objects.filter(
        criteria_set__parent__isnull=True,
        criteria_set__level=level,
        criteria_set__tier=tier,
        year__lte=year,
        stage__in=[Stage.RECOGNISED, Stage.REVOKED],
    ).exclude(Exists(revoked))


def annotate_standing(communes, criteria_set, year):
    """`communes` (an Area queryset) with their standing in `year` as columns: `met` (criteria met, carried over),
    `known` (criteria with a status), `data_from` / `data_to` (the oldest and newest year of those statuses),
    `statuses` (criteria.standings.statuses_by_number reads it), `recognised_in` (year of the decision, None when
    not recognised), `decision_number`, `decision_date`."""
    national = criteria_set.national_set
    at = {"set_id": national.pk, "row_year": stored_year(national, year), "year": year}
    return annotate_standing_at(communes, national.level, national.tier, **at, year_end=datetime.date(year, 12, 31))


def annotate_standing_at(communes, level, tier, *, set_id, row_year, year, year_end):
    """annotate_standing() by the national set's level, tier and id, the year of its stored row
    (criteria.standings.stored_year), the year and its last day: the form a prepared statement takes."""
    files = recognitions_standing(level, tier, year=year, year_end=year_end)
    files = files.filter(area=OuterRef("pk")).order_by("year", "pk")
    return communes.annotate(
        stored_standing=stored_row(set_id, row_year),
        met=F("stored_standing__met"),
        known=F("stored_standing__known"),
        data_from=F("stored_standing__data_from"),
        data_to=F("stored_standing__data_to"),
        statuses=F("stored_standing__statuses"),
        recognised_in=Subquery(files.values("year")[:1]),
        decision_number=Subquery(files.values("decision_number")[:1]),
        decision_date=Subquery(files.values("decision_date")[:1]),
    )


@dataclass
class Standing:
    """A commune's standing in `year` (see the module docstring)."""

    year: int
    total: int
    met: int | None = None
    known: int = 0
    data_from: int | None = None
    data_to: int | None = None
    recognised_in: int | None = None
    decision_number: str = ""
    decision_date: object = None

    @classmethod
    def of(cls, row, *, year, total):
        """From a row of `annotate_standing` (a model instance or a dict)."""
        get = row.get if isinstance(row, dict) else lambda name: getattr(row, name, None)
        return cls(
            year=year,
            total=total,
            met=get("met") or 0,
            known=get("known") or 0,
            data_from=get("data_from"),
            data_to=get("data_to"),
            recognised_in=get("recognised_in"),
            decision_number=get("decision_number") or "",
            decision_date=get("decision_date"),
        )

    @property
    def has_data(self):
        return bool(self.known)

    @property
    def recognised(self):
        return self.recognised_in is not None

    @property
    def kept(self):
        """Recognised in an earlier year and still standing: "giữ vững"."""
        return self.recognised and self.recognised_in < self.year

    @property
    def full(self):
        """Every criterion met by assessment (carried over where a year has no new data)."""
        return self.has_data and bool(self.total) and self.met == self.total

    @property
    def carried(self):
        """Some statuses come from an earlier year than the one shown."""
        return self.has_data and self.data_from != self.year

    @property
    def data_label(self):
        """ "theo số liệu năm 2023" ("năm 2023–2024" when the statuses span years); "" when all are of the year."""
        if not self.carried:
            return ""
        if self.data_from == self.data_to:
            return _("theo số liệu năm %(year)s") % {"year": self.data_from}
        return _("theo số liệu năm %(first)s–%(last)s") % {"first": self.data_from, "last": self.data_to}

    @property
    def met_label(self):
        """ "17/19", or "Chưa có số liệu" — never "0/19" for a commune without data."""
        if not self.has_data:
            return _("Chưa có số liệu")
        return f"{self.met}/{self.total}"

    @property
    def recognition_label(self):
        """ "Đã công nhận năm 2019 (QĐ 123/QĐ-UBND ngày 05/08/2019)", with "giữ vững" in a later year; "" when not
        recognised."""
        if not self.recognised:
            return ""
        text = _("Đã công nhận năm %(year)s") % {"year": self.recognised_in}
        if self.decision_number:
            text += " " + _("(QĐ %(number)s%(date)s)") % {
                "number": self.decision_number,
                "date": _(" ngày %(d)s") % {"d": self.decision_date.strftime("%d/%m/%Y")} if self.decision_date else "",
            }
        if self.kept:
            text += " — " + _("giữ vững")
        return text


def standings(communes, criteria_set, year, total=None):
    """{commune pk: Standing} for the communes of `communes` (an Area queryset): one query (two without `total`, the
    number of criteria of the set)."""
    if total is None:
        total = criteria_set.national_set.criteria.count()
    rows = annotate_standing(communes.order_by(), criteria_set, year).values(
        "pk", "met", "known", "data_from", "data_to", "recognised_in", "decision_number", "decision_date"
    )
    return {row["pk"]: Standing.of(row, year=year, total=total) for row in rows}
