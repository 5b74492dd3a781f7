"""Writes to criteria results. Every change is evaluated at once and lands in the history."""

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
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


def _variants_of(criteria_set, area):
    """The province's own variants of a national set, first the one that applies."""
    province_id = area.pk if area.level == "province" else area.province_id
    if province_id is None:
        return CriteriaSet.objects.none()
    return CriteriaSet.objects.filter(parent=criteria_set.national_set, province_id=province_id)


def variant_for(criteria_set, area):
    """The province's own variant of a national set, if its province has published one."""
    return _variants_of(criteria_set, area).first()


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
    # The variant comes with its own threshold rows rather than in a query of its own: the workspace save
    # path runs this twice per request. A variant with no row for these indicators changes no verdict.
    variant_id = _variants_of(criteria_set, area).order_by(*CriteriaSet._meta.ordering).values("pk")[:1]
    variant = None
    thresholds = {}
    for t in (
        Threshold.objects.filter(indicator__in=indicators)
        .filter(Q(variant__isnull=True) | Q(variant_id=Subquery(variant_id)))
        .select_related("region", "variant")
    ):
        variant = t.variant or variant
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
    ensure_unlocked(area=area, year=year, criterion=indicator.criterion, user=user)
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
    # Writers of one area queue here: a first result has no row to lock yet, and a criterion's status must
    # be computed from every indicator, including the one another officer saved a moment ago.
    list(Area.objects.select_for_update().filter(pk=area.pk).values_list("pk", flat=True))
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
    ensure_unlocked(area=area, year=year, criterion=criterion, user=user)
    # Writers of one area queue here: a first result has no row to lock yet, and a criterion's status must
    # be computed from every indicator, including the one another officer saved a moment ago.
    list(Area.objects.select_for_update().filter(pk=area.pk).values_list("pk", flat=True))
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
    """("17/19", list of unmet criterion numbers) for an area, from the stored status rows: one query."""
    status = CriterionResult.objects.filter(area=area, year=year, criterion=OuterRef("pk")).values("status")[:1]
    criteria = list(
        criteria_set.national_set.criteria.order_by("number")
        .annotate(status=Subquery(status))
        .values_list("number", "status")
    )
    met = [n for n, s in criteria if s == evaluation.MET]
    unmet = [n for n, s in criteria if s == evaluation.NOT_MET]
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
                # Read only the head of an entry: archive.read() would inflate a zip bomb whole into memory.
                with archive.open("mimetype") as entry:
                    mimetype = entry.read(100).decode("ascii", "replace").strip()
                return {_EVIDENCE_TYPES["odt"][0]: "odt", _EVIDENCE_TYPES["ods"][0]: "ods"}.get(mimetype)
            if "[Content_Types].xml" in names:
                with archive.open("[Content_Types].xml") as entry:
                    types = entry.read(200_000)
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
    ensure_unlocked(area=area, year=year, criterion=indicator.criterion, user=user)
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
    ensure_unlocked(area=evidence.area, year=evidence.year, criterion=evidence.indicator.criterion, user=user)
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


# ---------------------------------------------------------------- results locked by another app


def ensure_unlocked(**kw) -> None:
    """Refuse a write to results the recognition workflow has locked (a submitted file). The check is named in
    settings.NTM_RESULT_LOCK so that criteria does not import recognition; it raises ValidationError."""
    from django.conf import settings
    from django.utils.module_loading import import_string

    path = getattr(settings, "NTM_RESULT_LOCK", "")
    if path:
        import_string(path)(**kw)


# ---------------------------------------------------------------- many results at once (imports)

IMPORTED_FIELDS = ("value", "numerator", "denominator", "boolean", "not_applicable", "assessed_status", "note")
_MEASUREMENT = ("value", "numerator", "denominator", "boolean", "not_applicable")
_IMPORT_BATCH = 2000


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    criteria: int = 0


class _ImportJudge:
    """Thresholds and province variants of the imported criteria, loaded once; each threshold choice is made
    once per indicator, region, commune flags, year and variant, not once per row (see reports/scale.py)."""

    def __init__(self, criteria):
        self.thresholds = {}
        for t in Threshold.objects.filter(indicator__criterion__in=criteria).select_related("region", "variant"):
            self.thresholds.setdefault(t.indicator_id, []).append(t)
        national_ids = {c.criteria_set.national_set.pk for c in criteria}
        self.variants = {}
        # The first in the model's ordering applies, as in variant_for.
        for v in CriteriaSet.objects.filter(parent_id__in=national_ids).order_by(*CriteriaSet._meta.ordering):
            self.variants.setdefault((v.parent_id, v.province_id), v)
        self._choices = {}

    def choice(self, indicator, area, year):
        province_id = area.pk if area.level == "province" else area.province_id
        variant = self.variants.get((indicator.criterion.criteria_set.national_set.pk, province_id))
        candidates = self.thresholds.get(indicator.pk, [])
        # judge_indicators only lets a variant judge when it has threshold rows for these indicators.
        if variant is not None and not any(t.variant_id == variant.pk for t in candidates):
            variant = None
        key = (
            indicator.pk,
            area.region_id,
            area.special_difficulty,
            area.safe_zone,
            getattr(area, "commune_group", ""),
            year,
            variant.pk if variant else None,
        )
        found = self._choices.get(key)
        if found is None:
            found = self._choices[key] = evaluation.choose_threshold(candidates, area=area, year=year, variant=variant)
        return found


def _import_errors(rows, columns):
    """Every problem of every row, as "Dòng 7, cột Mẫu số: …", before anything is written."""
    from django.utils.text import capfirst

    def column(name):
        return columns.get(name) or capfirst(IndicatorResult._meta.get_field(name).verbose_name)

    errors, seen = [], {}
    for number, row in enumerate(rows, 1):
        line = row.get("line", number)
        problems = _check_measurement(row["indicator"], **{name: row.get(name) for name in _MEASUREMENT})
        key = (row["area"].pk, row["indicator"].pk, row["year"])
        if key in seen:
            problems["indicator"] = _("trùng địa bàn, chỉ tiêu và năm với dòng %(line)s.") % {"line": seen[key]}
        seen.setdefault(key, line)
        for name, message in problems.items():
            errors.append(
                _("Dòng %(line)s, cột %(column)s: %(message)s")
                % {"line": line, "column": column(name), "message": message}
            )
    return errors


@transaction.atomic
def import_indicator_results(*, rows, user=None, columns=None) -> ImportReport:
    """Save many results at once with the rules of record_indicator_result: all rows or none.

    `rows` are mappings with `area`, `indicator`, `year`, the fields of IMPORTED_FIELDS and optionally `line`
    (the row number the user sees); `columns` names the file's column for a field in error messages. The
    results, their criteria rows and the history of both are written in bulk, with `user` as the author.
    """
    from django.utils import timezone

    rows = list(rows)
    errors = _import_errors(rows, columns or {})
    if errors:
        raise ValidationError(errors)
    if not rows:
        return ImportReport()
    areas = Area.objects.select_related("region").in_bulk({r["area"].pk for r in rows})
    criterion_ids = {r["indicator"].criterion_id for r in rows}
    indicators = list(
        Indicator.objects.filter(criterion_id__in=criterion_ids)
        .select_related("criterion__criteria_set__parent")
        .order_by("criterion__number", "sort_key")
    )
    criteria = {i.criterion_id: i.criterion for i in indicators}
    by_criterion = {}
    for indicator in indicators:
        by_criterion.setdefault(indicator.criterion_id, []).append(indicator)
    indicator_by_pk = {i.pk: i for i in indicators}

    touched = {}  # (area, criterion, year) -> first line, for the lock check and the criterion refresh
    for number, row in enumerate(rows, 1):
        touched.setdefault((row["area"].pk, row["indicator"].criterion_id, row["year"]), row.get("line", number))
    for (area_id, criterion_id, year), line in touched.items():
        try:
            ensure_unlocked(area=areas[area_id], year=year, criterion=criteria[criterion_id], user=user)
        except ValidationError as exc:
            raise ValidationError(
                [_("Dòng %(line)s: %(message)s") % {"line": line, "message": m} for m in exc.messages]
            ) from exc

    years = {r["year"] for r in rows}
    existing = {
        (r.area_id, r.indicator_id, r.year): r
        for r in IndicatorResult.objects.select_for_update(of=("self",)).filter(
            area_id__in=areas, year__in=years, indicator__criterion_id__in=criterion_ids
        )
    }
    judge = _ImportJudge(list(criteria.values()))
    now = timezone.now()
    created, updated = [], []
    for row in rows:
        area, indicator, year = areas[row["area"].pk], indicator_by_pk[row["indicator"].pk], row["year"]
        result = existing.get((area.pk, indicator.pk, year))
        if result is None:
            result = IndicatorResult(area=area, indicator=indicator, year=year, version=0)
            existing[(area.pk, indicator.pk, year)] = result
            created.append(result)
        else:
            updated.append(result)
        values = {name: row.get(name) for name in IMPORTED_FIELDS}
        if values["numerator"] is not None and values["denominator"]:
            values["value"] = None
        values["not_applicable"] = bool(values["not_applicable"])
        values["assessed_status"] = values["assessed_status"] or ""
        values["note"] = values["note"] or ""
        for name, value in values.items():
            setattr(result, name, value)
        result.updated_by = user
        result.updated_at = now
        result.version += 1
        _apply(result, evaluation.evaluate(result, judge.choice(indicator, area, year)))

    # The criteria rows, judged on all their indicators' results as refresh_criterion does.
    restated = []
    imported = {id(r) for r in created} | {id(r) for r in updated}
    combined_by_key = {}
    for area_id, criterion_id, year in touched:
        area = areas[area_id]
        evaluations, any_result = [], False
        for indicator in by_criterion[criterion_id]:
            result = existing.get((area_id, indicator.pk, year))
            ev = evaluation.evaluate(result, judge.choice(indicator, area, year))
            evaluations.append(ev)
            if result is not None:
                any_result = True
                if id(result) not in imported and (
                    (result.status, result.computed_status, result.is_tentative)
                    != (ev.status, ev.computed_status, ev.tentative)
                ):
                    _apply(result, ev)
                    restated.append(result)
        combined_by_key[(area_id, criterion_id, year)] = (evaluations, any_result)
    rows_by_key = {
        (c.area_id, c.criterion_id, c.year): c
        for c in CriterionResult.objects.select_for_update(of=("self",)).filter(
            area_id__in=areas, criterion_id__in=criterion_ids, year__in=years
        )
    }
    new_criteria, changed_criteria = [], []
    for key, (evaluations, any_result) in combined_by_key.items():
        row = rows_by_key.get(key)
        combined = evaluation.combine(evaluations, row.assessed_status if row else "")
        if row is None:
            if combined.status == evaluation.NOT_ASSESSED and not any_result:
                continue
            row = CriterionResult(area_id=key[0], criterion_id=key[1], year=key[2])
            new_criteria.append(row)
        elif (row.status, row.computed_status, row.is_tentative, row.disagreement) == (
            combined.status,
            combined.computed_status,
            combined.tentative,
            combined.disagreement,
        ):
            continue
        else:
            changed_criteria.append(row)
        row.status = combined.status
        row.computed_status = combined.computed_status
        row.is_tentative = combined.tentative
        row.disagreement = combined.disagreement
        row.updated_by = user
        row.updated_at = now

    from simple_history.utils import bulk_create_with_history, bulk_update_with_history

    bulk_create_with_history(created, IndicatorResult, batch_size=_IMPORT_BATCH, default_user=user)
    bulk_update_with_history(
        updated,
        IndicatorResult,
        [*IMPORTED_FIELDS, "status", "computed_status", "is_tentative", "updated_by", "updated_at", "version"],
        batch_size=_IMPORT_BATCH,
        default_user=user,
    )
    # Results of the same criteria whose verdict moved with the others: refresh_criterion restates them
    # without a history row, and so does this.
    IndicatorResult.objects.bulk_update(
        restated, ["status", "computed_status", "is_tentative"], batch_size=_IMPORT_BATCH
    )
    criterion_fields = ["status", "computed_status", "is_tentative", "disagreement", "updated_by", "updated_at"]
    bulk_create_with_history(new_criteria, CriterionResult, batch_size=_IMPORT_BATCH, default_user=user)
    bulk_update_with_history(
        changed_criteria, CriterionResult, criterion_fields, batch_size=_IMPORT_BATCH, default_user=user
    )
    return ImportReport(created=len(created), updated=len(updated), criteria=len(new_criteria) + len(changed_criteria))


def measurement_errors(indicator, **measurement) -> dict:
    """The problems of one imported row, by field, so that an importer can name them row by row."""
    return _check_measurement(indicator, **{name: measurement.get(name) for name in _MEASUREMENT})


def judge_result(*, area, indicator, year, result) -> Judgement:
    """One indicator's verdict for a result already in hand (just saved): one query for its thresholds."""
    variant_id = _variants_of(indicator.criterion.criteria_set, area).order_by(*CriteriaSet._meta.ordering)
    thresholds = list(
        Threshold.objects.filter(indicator=indicator)
        .filter(Q(variant__isnull=True) | Q(variant_id=Subquery(variant_id.values("pk")[:1])))
        .select_related("region", "variant")
    )
    variant = next((t.variant for t in thresholds if t.variant_id), None)
    choice = evaluation.choose_threshold(thresholds, area=area, year=year, variant=variant)
    return Judgement(indicator, result, choice, evaluation.evaluate(result, choice))
