"""Writes to criteria results. Every change is evaluated at once and lands in the history."""

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from areas.models import Area
from criteria import evaluation
from criteria.models import (
    CriteriaSet,
    Criterion,
    CriterionResult,
    Indicator,
    IndicatorKind,
    IndicatorResult,
    Threshold,
)


class StaleResultError(Exception):
    """Someone else saved the same result after the form was opened."""

    def __init__(self, result):
        self.result = result
        who = result.updated_by.get_full_name() or result.updated_by.username if result.updated_by else _("người khác")
        when = result.updated_at
        super().__init__(
            _("Kết quả này vừa được %(who)s cập nhật lúc %(when)s. Hãy tải lại trang để xem giá trị mới trước khi sửa.")
            % {"who": who, "when": when.astimezone().strftime("%H:%M %d/%m/%Y") if when else ""}
        )


def variant_for(criteria_set, area):
    """The province's own variant of a national set, if its province has published one."""
    province = area if area.level == "province" else area.province
    if province is None:
        return None
    return CriteriaSet.objects.filter(parent=criteria_set.national_set, province=province).first()


@dataclass
class Judgement:
    """An indicator as seen for one area and year: its result, the threshold used and the verdict."""

    indicator: Indicator
    result: IndicatorResult | None
    choice: evaluation.ThresholdChoice
    evaluation: evaluation.Evaluation


def judge_indicators(*, area, criteria_set, year, criterion=None):
    """Evaluate every indicator of a set (or one criterion) for an area: three queries whatever the size."""
    indicators = list(
        Indicator.objects.in_set(criteria_set.national_set)
        .filter(**({"criterion": criterion} if criterion else {}))
        .select_related("criterion")
        .order_by("criterion__number", "sort_key")
    )
    variant = variant_for(criteria_set, area)
    thresholds = {}
    for t in Threshold.objects.filter(indicator__in=indicators).select_related("region"):
        thresholds.setdefault(t.indicator_id, []).append(t)
    results = {
        r.indicator_id: r
        for r in IndicatorResult.objects.filter(area=area, year=year, indicator__in=indicators).select_related(
            "updated_by"
        )
    }
    judged = []
    for indicator in indicators:
        choice = evaluation.choose_threshold(thresholds.get(indicator.pk, []), area=area, year=year, variant=variant)
        result = results.get(indicator.pk)
        judged.append(Judgement(indicator, result, choice, evaluation.evaluate(result, choice)))
    return judged


def _apply(result, ev):
    result.status = ev.status
    result.computed_status = ev.computed_status
    result.is_tentative = ev.tentative


def refresh_criterion(*, area, criterion, year, user=None, judged=None):
    """Re-evaluate a criterion's indicators and store the criterion's status row."""
    if judged is None:
        judged = judge_indicators(area=area, criteria_set=criterion.criteria_set, year=year, criterion=criterion)
    for j in judged:
        if j.result is not None and (
            j.result.status != j.evaluation.status
            or j.result.computed_status != j.evaluation.computed_status
            or j.result.is_tentative != j.evaluation.tentative
        ):
            _apply(j.result, j.evaluation)
            IndicatorResult.objects.filter(pk=j.result.pk).update(
                status=j.result.status, computed_status=j.result.computed_status, is_tentative=j.result.is_tentative
            )
    row = CriterionResult.objects.filter(area=area, criterion=criterion, year=year).first()
    combined = evaluation.combine([j.evaluation for j in judged], row.assessed_status if row else "")
    if row is None:
        if combined.status == evaluation.NOT_ASSESSED and not any(j.result for j in judged):
            return None
        row = CriterionResult(area=area, criterion=criterion, year=year)
    changed = (row.status, row.computed_status, row.is_tentative, row.disagreement) != (
        combined.status,
        combined.computed_status,
        combined.tentative,
        combined.disagreement,
    )
    if changed or row.pk is None:
        row.status = combined.status
        row.computed_status = combined.computed_status
        row.is_tentative = combined.tentative
        row.disagreement = combined.disagreement
        if user is not None:
            row.updated_by = user
            row._history_user = user
        row.save()
    return row


def _check_measurement(indicator, *, value, numerator, denominator, boolean, not_applicable):
    errors = {}
    if not_applicable:
        return errors
    if indicator.kind == IndicatorKind.BOOLEAN:
        if value is not None or numerator is not None or denominator is not None:
            errors["boolean"] = _("Chỉ tiêu này chỉ chọn %(yes)s hoặc %(no)s.") % {
                "yes": indicator.yes_label,
                "no": indicator.no_label,
            }
        return errors
    if boolean is not None and indicator.kind != IndicatorKind.BOOLEAN:
        errors["boolean"] = _("Chỉ tiêu này cần nhập số, không chọn Đạt/Không đạt.")
    if (numerator is None) != (denominator is None):
        errors["denominator" if denominator is None else "numerator"] = _("Cần nhập cả tử số và mẫu số.")
    if denominator is not None:
        if denominator <= 0:
            errors["denominator"] = _("Mẫu số phải lớn hơn 0.")
        elif numerator is not None and numerator > denominator:
            errors["numerator"] = _("Tử số không được lớn hơn mẫu số.")
        if indicator.kind != IndicatorKind.PERCENTAGE:
            errors["numerator"] = _("Chỉ tiêu này không tính theo tỷ lệ.")
        if value is not None:
            errors["value"] = _("Nhập giá trị hoặc tử số/mẫu số, không nhập cả hai.")
    for name, number in (("value", value), ("numerator", numerator)):
        if number is not None and number < 0:
            errors[name] = _("Giá trị không được âm.")
    if value is not None and indicator.kind == IndicatorKind.PERCENTAGE and value > 100:
        errors["value"] = _("Tỷ lệ phần trăm không vượt quá 100.")
    return errors


@transaction.atomic
def record_indicator_result(
    *,
    area: Area,
    indicator: Indicator,
    year: int,
    user=None,
    value: Decimal | None = None,
    numerator: Decimal | None = None,
    denominator: Decimal | None = None,
    boolean: bool | None = None,
    not_applicable: bool = False,
    assessed_status: str = "",
    note: str = "",
    expected_version: int | None = None,
) -> IndicatorResult:
    """Save an area's result for an indicator, evaluate it and refresh its criterion.

    `expected_version` is the version the user's form was opened on: a newer one raises StaleResultError
    instead of silently overwriting the other person's change.
    """
    errors = _check_measurement(
        indicator,
        value=value,
        numerator=numerator,
        denominator=denominator,
        boolean=boolean,
        not_applicable=not_applicable,
    )
    if errors:
        raise ValidationError(errors)
    result = (
        IndicatorResult.objects.select_for_update(of=("self",))
        .select_related("updated_by")
        .filter(area=area, indicator=indicator, year=year)
        .first()
    )
    if result is not None and expected_version is not None and result.version != expected_version:
        raise StaleResultError(result)
    if result is None:
        result = IndicatorResult(area=area, indicator=indicator, year=year, version=0)
    if numerator is not None and denominator:
        value = None
    result.value = value
    result.numerator = numerator
    result.denominator = denominator
    result.boolean = boolean
    result.not_applicable = not_applicable
    result.assessed_status = assessed_status or ""
    result.note = note or ""
    result.updated_by = user
    result.version += 1
    judged = judge_indicators(
        area=area, criteria_set=indicator.criterion.criteria_set, year=year, criterion=indicator.criterion
    )
    for j in judged:
        if j.indicator.pk == indicator.pk:
            ev = evaluation.evaluate(result, j.choice)
            _apply(result, ev)
            j.result, j.evaluation = result, ev
    result._history_user = user
    result.save()
    refresh_criterion(area=area, criterion=indicator.criterion, year=year, user=user, judged=judged)
    return result


@transaction.atomic
def assess_criterion(
    *, area: Area, criterion: Criterion, year: int, status: str, user=None, note: str = "", source: str = ""
) -> CriterionResult:
    """Record a verdict on a whole criterion where only the verdict is known; the computed one stays apart."""
    row, _created = CriterionResult.objects.select_for_update().get_or_create(area=area, criterion=criterion, year=year)
    row.assessed_status = status or ""
    if note:
        row.note = note
    if source:
        row.source = source
    if not _created:
        row.version += 1
    row.updated_by = user
    row._history_user = user
    row.save()
    return refresh_criterion(area=area, criterion=criterion, year=year, user=user) or row


def met_summary(*, area, criteria_set, year):
    """("17/19", list of unmet criterion numbers) for an area, from the stored status rows."""
    criteria = list(criteria_set.national_set.criteria.order_by("number").values_list("pk", "number"))
    statuses = dict(
        CriterionResult.objects.filter(
            area=area, year=year, criterion__criteria_set=criteria_set.national_set
        ).values_list("criterion_id", "status")
    )
    met = [n for pk, n in criteria if statuses.get(pk) == evaluation.MET]
    unmet = [n for pk, n in criteria if statuses.get(pk) == evaluation.NOT_MET]
    return {"met": len(met), "total": len(criteria), "unmet": unmet}


@transaction.atomic
def recompute(*, indicator: Indicator | None = None, criteria_set: CriteriaSet | None = None) -> int:
    """Re-evaluate stored results after thresholds change (an administrator completed or overrode one)."""
    results = IndicatorResult.objects.all()
    if indicator is not None:
        results = results.filter(indicator=indicator)
    if criteria_set is not None:
        results = results.filter(indicator__criterion__criteria_set=criteria_set.national_set)
    keys = set(results.values_list("area_id", "indicator__criterion_id", "year"))
    areas = Area.objects.select_related("region", "province").in_bulk({k[0] for k in keys})
    criteria = Criterion.objects.select_related("criteria_set").in_bulk({k[1] for k in keys})
    for area_id, criterion_id, year in keys:
        refresh_criterion(area=areas[area_id], criterion=criteria[criterion_id], year=year)
    return len(keys)


# ---------------------------------------------------------------- evidence files (hồ sơ minh chứng)

# What each accepted kind of file is, which names it may carry, and how it is served back.
_EVIDENCE_TYPES = {
    "pdf": ("application/pdf", {".pdf"}),
    "png": ("image/png", {".png"}),
    "jpeg": ("image/jpeg", {".jpg", ".jpeg"}),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", {".docx"}),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", {".xlsx"}),
    "odt": ("application/vnd.oasis.opendocument.text", {".odt"}),
    "ods": ("application/vnd.oasis.opendocument.spreadsheet", {".ods"}),
    "doc": ("application/msword", {".doc"}),
    "xls": ("application/vnd.ms-excel", {".xls"}),
}
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _zip_office_kind(upload):
    """docx/xlsx by their [Content_Types].xml, odt/ods by their `mimetype` entry; None for any other zip."""
    import zipfile

    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                mimetype = archive.read("mimetype")[:100].decode("ascii", "replace").strip()
                return {_EVIDENCE_TYPES["odt"][0]: "odt", _EVIDENCE_TYPES["ods"][0]: "ods"}.get(mimetype)
            if "[Content_Types].xml" in names:
                types = archive.read("[Content_Types].xml")[:200_000]
                if b"wordprocessingml.document.main+xml" in types:
                    return "docx"
                if b"spreadsheetml.sheet.main+xml" in types:
                    return "xlsx"
    except (zipfile.BadZipFile, KeyError, OSError, RuntimeError):
        return None
    return None


def evidence_file_kind(upload, name):
    """The kind of an uploaded file judged by its content, or None. The name must agree with the content,
    so that an executable or a web page renamed to .pdf is refused."""
    import os

    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    extension = os.path.splitext(name or "")[1].lower()
    if head.startswith(b"%PDF-"):
        kind = "pdf"
    elif head.startswith(b"\x89PNG\r\n\x1a\n"):
        kind = "png"
    elif head.startswith(b"\xff\xd8\xff"):
        kind = "jpeg"
    elif head.startswith(b"PK\x03\x04"):
        kind = _zip_office_kind(upload)
        upload.seek(0)
    elif head.startswith(_OLE2_MAGIC):
        # Legacy Word and Excel share the OLE2 container; the extension tells which one it claims to be.
        kind = {".doc": "doc", ".xls": "xls"}.get(extension)
    else:
        kind = None
    if kind is None or extension not in _EVIDENCE_TYPES[kind][1]:
        return None
    return kind


@transaction.atomic
def add_evidence(*, area: Area, indicator: Indicator, year: int, upload, user=None):
    """Store an evidence file after checking its size and its real type."""
    from django.conf import settings

    from criteria.models import Evidence

    name = (getattr(upload, "name", "") or "").replace("\\", "/").rsplit("/", 1)[-1][:255]
    if upload.size > settings.EVIDENCE_MAX_BYTES:
        raise ValidationError(
            {
                "file": _("Tệp quá lớn: tối đa %(mb)s MB.")
                % {"mb": f"{settings.EVIDENCE_MAX_BYTES / (1024 * 1024):g}".replace(".", ",")}
            }
        )
    if upload.size == 0:
        raise ValidationError({"file": _("Tệp rỗng.")})
    kind = evidence_file_kind(upload, name)
    if kind is None:
        raise ValidationError(
            {
                "file": _(
                    "Loại tệp không được chấp nhận hoặc nội dung không khớp với đuôi tệp. "
                    "Chỉ nhận PDF, ảnh PNG/JPEG, Word/Excel (DOCX, XLSX, DOC, XLS) và ODT/ODS."
                )
            }
        )
    evidence = Evidence(
        area=area,
        indicator=indicator,
        year=year,
        original_name=name,
        content_type=_EVIDENCE_TYPES[kind][0],
        size=upload.size,
        uploaded_by=user,
    )
    evidence.file.save(name, upload, save=False)
    # Should the row fail to save, the stored file must not stay behind.
    stored = evidence.file.name
    storage = evidence.file.storage
    try:
        evidence._history_user = user
        evidence.save()
    except Exception:
        storage.delete(stored)
        raise
    return evidence


@transaction.atomic
def delete_evidence(*, evidence, user=None) -> None:
    """Delete an evidence file; the history keeps who removed what."""
    stored = evidence.file.name
    storage = evidence.file.storage
    evidence._history_user = user
    evidence.delete()
    # The file goes only once the row is gone for good.
    transaction.on_commit(lambda: storage.delete(stored))


# ---------------------------------------------------------------- thresholds changed by an administrator


@transaction.atomic
def save_threshold(*, threshold: Threshold, user=None) -> int:
    """Save a corrected threshold and re-evaluate every stored result it judges."""
    threshold._history_user = user
    threshold.save()
    return recompute(indicator=threshold.indicator)


@transaction.atomic
def delete_thresholds(*, thresholds, user=None) -> int:
    indicator_ids = set()
    for threshold in thresholds:
        indicator_ids.add(threshold.indicator_id)
        threshold._history_user = user
        threshold.delete()
    return sum(recompute(indicator=i) for i in Indicator.objects.filter(pk__in=indicator_ids))


@transaction.atomic
def confirm_thresholds(*, thresholds, source: str, user=None) -> int:
    """Mark thresholds as checked against the named document; results judged on them stop being tentative."""
    source = (source or "").strip()
    if not source:
        raise ValidationError(_("Hãy ghi tên văn bản đã dùng để đối chiếu ngưỡng."))
    indicator_ids = set()
    for threshold in thresholds:
        threshold.verified = True
        threshold.source = source
        threshold._history_user = user
        threshold.save()
        indicator_ids.add(threshold.indicator_id)
    for indicator in Indicator.objects.filter(pk__in=indicator_ids):
        recompute(indicator=indicator)
    return len(indicator_ids)
