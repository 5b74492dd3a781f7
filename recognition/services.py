"""The recognition workflow: a small state machine over RecognitionFile.

Each step is one row of TRANSITIONS: from which stage, by which action, to which stage, and who may take it.
Who is decided per level of the file:

- a commune's file: the commune's officer submits, a reviewer of its district verifies (thẩm tra) or returns
  (a commune with no district since 1/7/2025 is verified by its province), a reviewer of its province
  appraises (thẩm định) or returns, an administrator records the decision;
- a district's file: the district's officer submits, a reviewer of the province verifies and appraises,
  an administrator records the decision.

Every step takes the file's row lock and checks its version, so the same step taken twice at once makes one
transition; it records who, when and a comment, and mails the people who act next once the step is committed.
"""

import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, Subquery
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from areas import access
from areas.models import Role, RoleKind
from criteria.models import CriteriaSet, Criterion, CriterionResult, Evidence, IndicatorResult, Status
from ntm_portal.vietnamese import stale_edit_message
from recognition.models import (
    LOCKED_STAGES,
    Action,
    Outbox,
    RecognitionFile,
    RecognitionStep,
    ReturnedCriterion,
    Stage,
)

logger = logging.getLogger(__name__)

OFFICER = "officer"
VERIFIER = "verifier"
APPRAISER = "appraiser"
ADMIN = "admin"
REVIEWER = "reviewer"  # the verifier or the appraiser

# (stage, action) → (new stage, who may take it)
TRANSITIONS = {
    (Stage.PREPARING, Action.SUBMIT): (Stage.SUBMITTED, OFFICER),
    (Stage.SUBMITTED, Action.VERIFY): (Stage.VERIFIED, VERIFIER),
    (Stage.SUBMITTED, Action.RETURN_BY_DISTRICT): (Stage.PREPARING, VERIFIER),
    (Stage.VERIFIED, Action.APPRAISE): (Stage.APPRAISED, APPRAISER),
    (Stage.VERIFIED, Action.RETURN_BY_PROVINCE): (Stage.PREPARING, APPRAISER),
    (Stage.APPRAISED, Action.RECORD_DECISION): (Stage.RECOGNISED, ADMIN),
    (Stage.RECOGNISED, Action.RECHECK): (Stage.RECOGNISED, REVIEWER),
    (Stage.RECOGNISED, Action.REVOKE): (Stage.REVOKED, ADMIN),
}

RETURN_FOR_STAGE = {Stage.SUBMITTED: Action.RETURN_BY_DISTRICT, Stage.VERIFIED: Action.RETURN_BY_PROVINCE}

# The minimum satisfaction QĐ 320 sets for a district; the commune's minimum is not in the sources we have.
DISTRICT_MIN_SATISFACTION = 90


class RecognitionError(ValidationError):
    """A step refused, with the reason to show the user."""

    def __init__(self, message):
        super().__init__({NON_FIELD_ERRORS: [message]})
        self.text = message

    def __str__(self):
        return self.text


class IncompleteFile(RecognitionError):
    def __init__(self, missing):
        self.missing = missing
        super().__init__(_("Hồ sơ chưa đủ điều kiện để nộp: còn %(n)s mục chưa hoàn thành.") % {"n": len(missing)})


class StaleFile(RecognitionError):
    def __init__(self, file):
        super().__init__(
            stale_edit_message(
                what=_("Hồ sơ"),
                change=_("chuyển sang bước “%(stage)s”") % {"stage": file.stage_label},
                when=file.stage_changed_at,
            )
        )


# ---------------------------------------------------------------- who acts


def verifying_area(file):
    area = file.area
    if file.is_district_file:
        return area.province
    return area.district or area.province


def appraising_area(file):
    return file.area.province


def may_act(user, file, actor) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    if actor == OFFICER:
        return access.can_edit(user, file.area)
    if actor == ADMIN:
        return access.can_administer(user, file.area)
    if not access.can_review(user, file.area):
        return False
    verifier = actor in (VERIFIER, REVIEWER) and access.holds_role_at(user, verifying_area(file), access.REVIEW_ROLES)
    appraiser = actor in (APPRAISER, REVIEWER) and access.holds_role_at(
        user, appraising_area(file), access.REVIEW_ROLES
    )
    return verifier or appraiser


def allowed_actions(file, user) -> list:
    """The actions `user` may take on the file at its current stage."""
    return [
        action
        for (stage, action), (_to, actor) in TRANSITIONS.items()
        if stage == file.stage and may_act(user, file, actor)
    ]


def _actor_words(file, actor):
    district = file.is_district_file
    return {
        OFFICER: _("cán bộ của huyện") if district else _("cán bộ của xã"),
        VERIFIER: _("cán bộ thẩm tra của tỉnh")
        if district or file.verified_by_province
        else _("cán bộ thẩm tra của huyện"),
        APPRAISER: _("cán bộ thẩm định của tỉnh"),
        ADMIN: _("quản trị viên"),
        REVIEWER: _("cán bộ thẩm tra, thẩm định"),
    }[actor]


# ---------------------------------------------------------------- opening a file and its details


@transaction.atomic
def open_file(*, area, criteria_set: CriteriaSet, year: int, user=None) -> RecognitionFile:
    """The area's file for a set and a year, created in preparation the first time it is needed."""
    national = criteria_set.national_set
    if not national.covers(year):
        raise RecognitionError(
            _("Bộ tiêu chí này áp dụng cho giai đoạn %(period)s, không gồm năm %(year)s.")
            % {"period": national.period, "year": year}
        )
    file = RecognitionFile.objects.filter(area=area, criteria_set=national, year=year).first()
    if file is None:
        file = RecognitionFile(area=area, criteria_set=national, year=year, stage_changed_at=timezone.now())
        file._history_user = user
        file.save()
    return file


# Who writes which detail of a file, and when:
# - the satisfaction survey is the commune's (the district's for its own file): its officer records it while
#   preparing the file, also after a return; from the submission on it is what the reviewers examine;
# - the planned months are proposed by the officer while preparing, and the reviewers and administrators who
#   schedule the verification, appraisal and decision may move them until the decision;
# - the decision (number, date, signer) is written only by the administrator's step (record_decision).
# After the decision only a superuser corrects a detail; every change is kept in the file's history.
PLANNED_FIELDS = ["planned_verify_month", "planned_appraise_month", "planned_recognise_month"]
SURVEY_FIELDS = ["satisfaction_rate", "survey_date", "survey_note"]
DETAIL_FIELDS = PLANNED_FIELDS + SURVEY_FIELDS


def editable_details(user, file) -> list:
    """The detail fields `user` may change on the file at its current stage (see the rules above)."""
    if not user.is_authenticated:
        return []
    if user.is_superuser:
        return list(DETAIL_FIELDS)
    if file.stage in (Stage.RECOGNISED, Stage.REVOKED):
        return []
    if file.stage == Stage.PREPARING and may_act(user, file, OFFICER):
        return list(DETAIL_FIELDS)
    if may_act(user, file, REVIEWER) or may_act(user, file, ADMIN):
        return list(PLANNED_FIELDS)
    return []


def may_edit_details(user, file) -> bool:
    return bool(editable_details(user, file))


def _refuse_detail(file, name):
    label = RecognitionFile._meta.get_field(name).verbose_name
    officer = _actor_words(file, OFFICER)
    if file.stage in (Stage.RECOGNISED, Stage.REVOKED):
        rule = _("sau khi có quyết định công nhận, thông tin của hồ sơ không sửa được nữa.")
    elif name in SURVEY_FIELDS:
        rule = _("kết quả lấy ý kiến do %(officer)s ghi khi chuẩn bị hồ sơ hoặc khi hồ sơ được trả lại.") % {
            "officer": officer
        }
    else:
        rule = _(
            "tháng dự kiến do %(officer)s ghi khi chuẩn bị hồ sơ; cán bộ thẩm tra, thẩm định và quản trị viên "
            "điều chỉnh được cho đến khi có quyết định công nhận."
        ) % {"officer": officer}
    return RecognitionError(
        _("Bạn không thể sửa “%(field)s” khi hồ sơ ở bước “%(stage)s”: %(rule)s")
        % {"field": capfirst(label), "stage": file.stage_label, "rule": rule}
    )


@transaction.atomic
def update_details(*, file, user, expected_version=None, **values) -> RecognitionFile:
    """Planned months and the satisfaction survey, each by its owner at its stage (see editable_details).

    A field given with the value it already has is not a change and is not refused, so a form showing the
    whole file may be sent back as it is."""
    unknown = set(values) - set(DETAIL_FIELDS)
    if unknown:
        raise TypeError(f"update_details: unknown fields {sorted(unknown)}")
    locked = RecognitionFile.objects.select_for_update().select_related("area", "criteria_set").get(pk=file.pk)
    if expected_version is not None and locked.version != expected_version:
        raise StaleFile(locked)
    allowed = editable_details(user, locked)
    changed = [name for name in DETAIL_FIELDS if name in values and values[name] != getattr(locked, name)]
    for name in changed:
        if name not in allowed:
            raise _refuse_detail(locked, name)
    if not allowed:
        raise RecognitionError(_("Bạn không thể sửa thông tin của hồ sơ ở bước này."))
    rate = values.get("satisfaction_rate")
    if rate is not None and not (0 <= rate <= 100):
        raise RecognitionError(_("Tỷ lệ hài lòng phải từ 0 đến 100 %."))
    for name in changed:
        setattr(locked, name, values[name])
    locked.version += 1
    locked._history_user = user
    locked.save()
    _copy(locked, file)
    return file


def _copy(source, target):
    if target is not source:
        for f in RecognitionFile._meta.concrete_fields:
            setattr(target, f.attname, getattr(source, f.attname))


# ---------------------------------------------------------------- what is missing before submitting


@dataclass(frozen=True)
class Missing:
    text: str
    criterion: Criterion | None = None
    indicator_id: int | None = None


def missing_items(file) -> list:
    """Everything that keeps the file from being complete: unmet criteria, results without evidence,
    the satisfaction survey. Three queries whatever the size of the set."""
    national = file.criteria_set.national_set
    criteria = list(national.criteria.order_by("number"))
    statuses = dict(
        CriterionResult.objects.filter(area=file.area, year=file.year, criterion__criteria_set=national).values_list(
            "criterion_id", "status"
        )
    )
    items = []
    for criterion in criteria:
        status = statuses.get(criterion.pk, Status.NOT_ASSESSED)
        if status not in (Status.MET, Status.NOT_APPLICABLE):
            items.append(
                Missing(
                    _("Tiêu chí %(n)s. %(name)s: %(status)s")
                    % {"n": criterion.number, "name": criterion.name, "status": Status(status).label.lower()},
                    criterion=criterion,
                )
            )
    without_evidence = (
        IndicatorResult.objects.filter(
            area=file.area, year=file.year, indicator__criterion__criteria_set=national, not_applicable=False
        )
        .exclude(
            Exists(
                Evidence.objects.filter(area=OuterRef("area"), year=OuterRef("year"), indicator=OuterRef("indicator"))
            )
        )
        .select_related("indicator__criterion")
        .order_by("indicator__criterion__number", "indicator__sort_key")
    )
    for result in without_evidence:
        items.append(
            Missing(
                _("Chỉ tiêu %(code)s: đã có kết quả nhưng chưa có hồ sơ minh chứng") % {"code": result.indicator.code},
                criterion=result.indicator.criterion,
                indicator_id=result.indicator_id,
            )
        )
    if file.satisfaction_rate is None:
        items.append(Missing(_("Chưa ghi kết quả lấy ý kiến sự hài lòng của người dân")))
    elif file.is_district_file and file.satisfaction_rate < DISTRICT_MIN_SATISFACTION:
        items.append(
            Missing(
                _("Tỷ lệ người dân hài lòng %(rate)s %% thấp hơn mức %(min)s %% quy định cho huyện")
                % {
                    "rate": f"{file.satisfaction_rate.normalize():f}".replace(".", ","),
                    "min": DISTRICT_MIN_SATISFACTION,
                }
            )
        )
    return items


# ---------------------------------------------------------------- the steps


def _refuse_illegal(file, action):
    words = Action(action).label.lower() if action else _("trả lại")
    return RecognitionError(
        _("Không thể “%(action)s”: hồ sơ đang ở bước “%(stage)s”.") % {"action": words, "stage": file.stage_label}
    )


@transaction.atomic
def _take(*, file, user, action, comment="", expected_version=None, link="", before=None, after=None):
    locked = (
        RecognitionFile.objects.select_for_update(of=("self",))
        .select_related("area__province", "area__district", "criteria_set")
        .get(pk=file.pk)
    )
    if expected_version is not None and locked.version != expected_version:
        raise StaleFile(locked)
    if action is None or (locked.stage, action) not in TRANSITIONS:
        raise _refuse_illegal(locked, action)
    to_stage, actor = TRANSITIONS[(locked.stage, action)]
    if not may_act(user, locked, actor):
        raise RecognitionError(
            _("Bạn không có quyền “%(action)s” với hồ sơ này: việc này do %(who)s thực hiện.")
            % {"action": Action(action).label.lower(), "who": _actor_words(locked, actor)}
        )
    step = RecognitionStep(file=locked, from_stage=locked.stage, to_stage=to_stage, action=action, actor=user)
    step.comment = (comment or "").strip()
    if before is not None:
        before(locked, step)
    now = timezone.now()
    step.at = now
    if locked.stage != to_stage:
        locked.stage_changed_at = now
    locked.stage = to_stage
    locked.last_action = action
    locked.version += 1
    locked._history_user = user
    locked.save()
    step.save()
    if after is not None:
        after(locked, step)
    _copy(locked, file)
    # The mails are written with the step and sent once it is committed: a mail server that fails cannot undo
    # the step or turn the page into an error, and what was not sent waits for `manage.py send_outbox`.
    queued = queue_notifications(step=step, link=link)
    if queued:
        transaction.on_commit(lambda: send_outbox(ids=queued), robust=True)
    return step


@transaction.atomic
def submit(*, file, user, comment: str = "", force: bool = False, expected_version=None, link="") -> RecognitionStep:
    """The area submits its file. Refused with the list of what is missing unless `force`: the officer has
    seen that list and submits anyway; the list is kept with the step."""

    def before(f, step):
        missing = missing_items(f)
        if missing and not force:
            raise IncompleteFile(missing)
        step.outstanding = "\n".join(m.text for m in missing)
        f.submitted_on = timezone.localdate()

    return _take(
        file=file,
        user=user,
        action=Action.SUBMIT,
        comment=comment,
        expected_version=expected_version,
        link=link,
        before=before,
        after=lambda f, step: f.reopened.clear(),
    )


@transaction.atomic
def verify(*, file, user, comment: str = "", expected_version=None, link="") -> RecognitionStep:
    def before(f, step):
        f.verified_on = timezone.localdate()

    return _take(
        file=file, user=user, action=Action.VERIFY, comment=comment, expected_version=expected_version, link=link,
        before=before,
    )  # fmt: skip


@transaction.atomic
def appraise(*, file, user, comment: str = "", expected_version=None, link="") -> RecognitionStep:
    def before(f, step):
        f.appraised_on = timezone.localdate()

    return _take(
        file=file, user=user, action=Action.APPRAISE, comment=comment, expected_version=expected_version, link=link,
        before=before,
    )  # fmt: skip


@transaction.atomic
def return_file(
    *, file, user, criteria_reasons: dict, comment: str = "", expected_version=None, link=""
) -> RecognitionStep:
    """Send the file back to the area naming criteria with a reason each; exactly those reopen for editing."""
    reasons = {c: (r or "").strip() for c, r in (criteria_reasons or {}).items() if (r or "").strip()}

    def before(f, step):
        if not reasons:
            raise RecognitionError(_("Hãy nêu ít nhất một tiêu chí bị trả lại và lý do."))
        national = f.criteria_set.national_set
        if any(c.criteria_set_id != national.pk for c in reasons):
            raise RecognitionError(_("Tiêu chí bị trả lại không thuộc bộ tiêu chí của hồ sơ."))

    def after(f, step):
        ReturnedCriterion.objects.bulk_create(
            ReturnedCriterion(step=step, criterion=c, reason=r)
            for c, r in sorted(reasons.items(), key=lambda i: i[0].number)
        )
        f.reopened.set(reasons)

    return _take(
        file=file,
        user=user,
        action=RETURN_FOR_STAGE.get(file.stage),
        comment=comment,
        expected_version=expected_version,
        link=link,
        before=before,
        after=after,
    )


@transaction.atomic
def record_decision(
    *, file, user, number: str, date: datetime.date, signer: str, comment: str = "", expected_version=None, link=""
) -> RecognitionStep:
    """The decision recognising the area (quyết định công nhận): number, date and signer."""
    number, signer = (number or "").strip(), (signer or "").strip()

    def before(f, step):
        if not number or date is None or not signer:
            raise RecognitionError(_("Hãy ghi đủ số quyết định, ngày quyết định và người ký."))
        if date > timezone.localdate():
            raise RecognitionError(_("Ngày quyết định không thể sau hôm nay."))
        f.decision_number, f.decision_date, f.decision_signer = number, date, signer

    return _take(
        file=file, user=user, action=Action.RECORD_DECISION, comment=comment, expected_version=expected_version,
        link=link, before=before,
    )  # fmt: skip


@transaction.atomic
def record_past_decision(
    *, area, criteria_set: CriteriaSet, year: int, number: str, date: datetime.date | None, user=None, note: str = ""
) -> RecognitionFile:
    """Record a recognition decision taken before the portal ("Ghi nhận theo văn bản"): the file of the area, set
    and year goes to "Đã công nhận" with the decision's number and date, and one step says so. The same decision
    recorded again changes nothing; a revoked file is refused (its revocation stands)."""
    number = (number or "").strip()
    if date is not None and date > timezone.localdate():
        raise RecognitionError(_("Ngày quyết định không thể sau hôm nay."))
    # The admin form and the list import say these per field; every caller is held to them here.
    if criteria_set.level != area.level:
        raise RecognitionError(
            _("Bộ tiêu chí %(set)s không dành cho %(unit)s.") % {"set": criteria_set.code, "unit": area.full_name}
        )
    if not criteria_set.covers(year):
        raise RecognitionError(
            _("Năm %(year)s ngoài giai đoạn %(period)s của bộ tiêu chí.")
            % {"year": year, "period": criteria_set.period}
        )
    file, _created = RecognitionFile.objects.select_for_update().get_or_create(
        area=area, criteria_set=criteria_set.national_set, year=year
    )
    if file.stage == Stage.REVOKED:
        raise RecognitionError(_("Quyết định công nhận của hồ sơ này đã bị thu hồi."))
    if file.stage == Stage.RECOGNISED and (file.decision_number, file.decision_date) == (number, date):
        return file
    previous = file.stage
    file.stage, file.last_action = Stage.RECOGNISED, Action.IMPORT
    file.decision_number, file.decision_date = number, date
    file.stage_changed_at = timezone.now()
    file.version += 1
    if user is not None:
        file._history_user = user
    file.save()
    RecognitionStep.objects.create(
        file=file, from_stage=previous, to_stage=Stage.RECOGNISED, action=Action.IMPORT, actor=user,
        comment=(note or "").strip(),
    )  # fmt: skip
    return file


def _set_for_year(file, year):
    """The national set of the same level and tier in force in `year` (a later period has its own set)."""
    national = file.criteria_set.national_set
    if national.covers(year):
        return national
    return (
        CriteriaSet.objects.national().for_level(national.level).covering(year).filter(tier=national.tier).first()
        or national
    )


@transaction.atomic
def recheck(*, file, user, year: int, comment: str = "", expected_version=None, link="") -> RecognitionStep:
    """The yearly re-check (giữ vững) of a recognised area: flags the file when criteria are no longer met."""

    def before(f, step):
        if year <= f.year:
            raise RecognitionError(_("Năm rà soát phải sau năm được công nhận (%(year)s).") % {"year": str(f.year)})
        checked = _set_for_year(f, year)
        dropped = list(
            CriterionResult.objects.filter(
                area=f.area, year=year, criterion__criteria_set=checked, status=Status.NOT_MET
            )
            .order_by("criterion__number")
            .values_list("criterion__number", flat=True)
        )
        step.check_year = year
        step.dropped = ", ".join(str(n) for n in dropped)
        f.flagged = bool(dropped)

    return _take(
        file=file, user=user, action=Action.RECHECK, comment=comment, expected_version=expected_version, link=link,
        before=before,
    )  # fmt: skip


@transaction.atomic
def revoke(*, file, user, comment: str, expected_version=None, link="") -> RecognitionStep:
    """Revocation of the recognition (thu hồi): the reason and the revoking decision go in the comment."""

    def before(f, step):
        if not step.comment:
            raise RecognitionError(_("Hãy ghi lý do và số quyết định thu hồi."))

    return _take(
        file=file, user=user, action=Action.REVOKE, comment=comment, expected_version=expected_version, link=link,
        before=before,
    )  # fmt: skip


# ---------------------------------------------------------------- locking the results of a submitted year


def check_unlocked(*, area, year, criteria_set=None, criterion=None, user=None, **_ignored) -> None:
    """Refuse a write to an area's results or evidence while its file for that year is with the reviewers.

    Called by criteria/services.py through settings.NTM_RESULT_LOCK. A returned file reopens only the criteria
    the return named. Superusers and writes without a user (demo loads, recomputation) pass.
    """
    if user is None or getattr(user, "is_superuser", False):
        return
    if criteria_set is None and criterion is not None:
        criteria_set = criterion.criteria_set
    if criteria_set is None:
        return
    # The row lock makes an edit wait for a submission in progress, then see it.
    file = (
        RecognitionFile.objects.select_for_update()
        .filter(area=area, year=year, criteria_set=criteria_set.national_set)
        .first()
    )
    if file is None:
        return
    shown_year = str(year)
    if file.stage in (Stage.RECOGNISED, Stage.REVOKED):
        raise RecognitionError(
            _("Hồ sơ công nhận năm %(year)s đã có quyết định: kết quả năm %(year)s không sửa được nữa.")
            % {"year": shown_year}
        )
    if file.stage in LOCKED_STAGES:
        raise RecognitionError(
            _("Hồ sơ công nhận đã nộp: kết quả năm %(year)s bị khóa cho đến khi được trả lại.") % {"year": shown_year}
        )
    if file.was_returned:
        reopened = sorted(file.reopened.values_list("number", flat=True))
        if criterion is None or criterion.number not in reopened:
            raise RecognitionError(
                _(
                    "Hồ sơ công nhận được trả lại để sửa tiêu chí %(numbers)s: "
                    "các tiêu chí khác của năm %(year)s vẫn bị khóa."
                )
                % {"numbers": ", ".join(str(n) for n in reopened), "year": shown_year}
            )


def filed_probe(*, area, year, criteria_set):
    """The id of the area's file for `year` and `criteria_set` (None without one), as a subquery: `area` is an
    area or the outer area query's `OuterRef("pk")`. The inline save asks it inside its row-lock statement and calls
    check_unlocked only where a file exists; the workspace asks it with its tiles and looks for the lock banner's
    file only then — instead of a query of their own on every save and page.

    Called by criteria/services.py through settings.NTM_RESULT_LOCK_PROBE."""
    files = RecognitionFile.objects.filter(area=area, year=year, criteria_set=criteria_set.national_set)
    return Subquery(files.order_by().values("pk")[:1])


def writes_to_check(*, writes, user=None) -> list:
    """Of many (area, year, criterion) writes (an import's), those a file may lock — the others would pass
    check_unlocked without a file to look at. One query for all, locking the files found as check_unlocked does.

    Called by criteria/services.py through settings.NTM_RESULT_LOCK_MANY; check_unlocked then judges each one kept.
    """
    writes = list(writes)
    if not writes or user is None or getattr(user, "is_superuser", False):
        return []
    national = {}  # criteria set id -> its national set's id (the files are filed under it)
    for _area, _year, criterion in writes:
        if criterion.criteria_set_id not in national:
            national[criterion.criteria_set_id] = criterion.criteria_set.national_set.pk
    filed = set(
        RecognitionFile.objects.select_for_update()
        .filter(
            area_id__in={area.pk for area, _year, _criterion in writes},
            year__in={year for _area, year, _criterion in writes},
            criteria_set_id__in=set(national.values()),
        )
        .values_list("area_id", "year", "criteria_set_id")
    )
    return [w for w in writes if (w[0].pk, w[1], national[w[2].criteria_set_id]) in filed]


def lock_notice(*, area, criteria_set, year):
    """The file that locks (all or part of) the year's results, or None: for the workspace banner."""
    if criteria_set is None:
        return None
    file = (
        RecognitionFile.objects.filter(area=area, year=year, criteria_set=criteria_set.national_set)
        .select_related("criteria_set")
        .prefetch_related("reopened")
        .first()
    )
    if file is None or not (file.stage in LOCKED_STAGES or file.was_returned):
        return None
    return file


# ---------------------------------------------------------------- notifications


def _users_with_roles(q):
    User = get_user_model()
    return list(
        User.objects.filter(is_active=True)
        .exclude(email="")
        .filter(pk__in=Role.objects.in_force().filter(q).values("user"))
        .distinct()
    )


def recipients(file, action) -> list:
    """The people who act next (and, at the end, the ones whose work it was)."""
    area = file.area
    review = Q(kind__in=access.REVIEW_ROLES)
    officers = Q(kind=RoleKind.OFFICER, area=area)
    verifiers = review & Q(area=verifying_area(file))
    appraisers = review & Q(area=appraising_area(file))
    covering = [pk for pk in (area.pk, area.province_id, area.district_id) if pk]
    admins = Q(kind=RoleKind.ADMIN, area_id__in=covering)
    who = {
        Action.SUBMIT: verifiers,
        Action.VERIFY: appraisers,
        Action.APPRAISE: admins,
        Action.RETURN_BY_DISTRICT: officers,
        Action.RETURN_BY_PROVINCE: officers,
        Action.RECORD_DECISION: officers | verifiers,
        Action.RECHECK: officers | admins if file.flagged else officers,
        Action.REVOKE: officers | verifiers,
    }.get(action)
    if who is None:
        return []
    users = _users_with_roles(who)
    if action == Action.APPRAISE:
        seen = {u.pk for u in users}
        User = get_user_model()
        users += [
            u for u in User.objects.filter(is_superuser=True, is_active=True).exclude(email="") if u.pk not in seen
        ]
    return users


def queue_notifications(*, step, link="") -> list:
    """Write the mails telling the people who act next about a step to the outbox; returns their ids.

    Called inside the step's transaction, so the mails exist exactly when the step does."""
    file = step.file
    people = [u for u in recipients(file, step.action) if u.pk != step.actor_id]
    if not people:
        return []
    context = {"file": file, "step": step, "link": link, "returned": list(step.returned.select_related("criterion"))}
    subject = " ".join(render_to_string("recognition/email_subject.txt", context).split())
    body = render_to_string("recognition/email_body.txt", context)
    return [Outbox.objects.create(to=u.email, subject=subject[:300], body=body).pk for u in people]


def send_outbox(*, ids=None) -> tuple:
    """Send the mails still waiting (those of `ids`, or all); returns (sent, failed).

    Each mail is sent under its row lock (skipped if another sender holds it) and marked sent; a failure is
    kept in `last_error` with the number of attempts, for the next run and for the administrators to see."""
    pending = Outbox.objects.unsent()
    if ids is not None:
        pending = pending.filter(pk__in=ids)
    sent = failed = 0
    for pk in list(pending.order_by("created_at", "pk").values_list("pk", flat=True)):
        with transaction.atomic():
            mail = Outbox.objects.unsent().select_for_update(skip_locked=True).filter(pk=pk).first()
            if mail is None:
                continue  # sent meanwhile by another sender
            mail.attempts += 1
            try:
                EmailMessage(mail.subject, mail.body, settings.DEFAULT_FROM_EMAIL, [mail.to]).send()
            except Exception as exc:  # any failure of the mail server or backend: kept for the next try
                mail.last_error = f"{type(exc).__name__}: {exc}"
                failed += 1
                logger.warning("Recognition mail %s to %s not sent: %s", mail.pk, mail.to, mail.last_error)
            else:
                mail.sent_at = timezone.now()
                mail.last_error = ""
                sent += 1
            mail.save(update_fields=["attempts", "last_error", "sent_at"])
    return sent, failed
