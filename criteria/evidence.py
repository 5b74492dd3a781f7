"""Evidence files (hồ sơ minh chứng): what kind of file an upload really is, storing, deleting (kept, undoable)
and restoring one."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from areas.models import Area
from criteria.models import Indicator
from criteria.services import ensure_unlocked

# What each accepted kind of file is, which names it may carry, and how it is served back.
_EVIDENCE_TYPES = {
    "pdf": ("application/pdf", {".pdf"}),
    "png": ("image/png", {".png"}),
    "jpeg": ("image/jpeg", {".jpg", ".jpeg"}),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", {".docx"}),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", {".xlsx"}),
    "pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", {".pptx"}),
    "odt": ("application/vnd.oasis.opendocument.text", {".odt"}),
    "ods": ("application/vnd.oasis.opendocument.spreadsheet", {".ods"}),
    "doc": ("application/msword", {".doc"}),
    "xls": ("application/vnd.ms-excel", {".xls"}),
}
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# The content type of an Office file's main part says what it is; the macro-enabled variants (.docm, .xlsm,
# .pptm) and templates have their own, so a .docm renamed .docx is told apart.
_OFFICE_MAIN_TYPES = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": "xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": "pptx",
}
MACRO_FILE = "macro"
_CONTENT_TYPES_MAX_BYTES = 1024 * 1024


def office_kind(archive, names):
    """docx/xlsx/pptx from the parsed [Content_Types].xml; MACRO_FILE when the package can carry macros."""
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import ParseError, fromstring

    if any(name.lower().rsplit("/", 1)[-1] == "vbaproject.bin" for name in names):
        return MACRO_FILE
    with archive.open("[Content_Types].xml") as entry:
        text = entry.read(_CONTENT_TYPES_MAX_BYTES + 1)
    if len(text) > _CONTENT_TYPES_MAX_BYTES:
        return None
    try:
        root = fromstring(text)
    except (ParseError, DefusedXmlException, ValueError):
        return None
    # Tags are compared without their namespace: the content-types namespace adds nothing to check.
    types = [
        (element.get("ContentType") or "").strip().lower()
        for element in root.iter()
        if element.tag.rsplit("}", 1)[-1] in ("Default", "Override")
    ]
    if any("macroenabled" in t or "vbaproject" in t for t in types):
        return MACRO_FILE
    main = {t for t in types if t.endswith(".main+xml")}
    kinds = {_OFFICE_MAIN_TYPES.get(t) for t in main}
    if len(kinds) != 1 or None in kinds:
        return None  # a template, several documents in one, or no document at all
    return kinds.pop()


def _zip_office_kind(upload):
    """docx/xlsx/pptx by their [Content_Types].xml, odt/ods by their `mimetype` entry; None for any other zip."""
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
                return office_kind(archive, names)
    except (zipfile.BadZipFile, KeyError, OSError, RuntimeError, EOFError, zipfile.LargeZipFile):
        return None
    return None


def evidence_file_kind(upload, name):
    """The kind of an uploaded file judged by its content, or None; MACRO_FILE for an Office file that can
    carry macros, whatever its name. The name must agree with the content, so that an executable or a web
    page renamed to .pdf is refused."""
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
    if kind == MACRO_FILE:
        return kind
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
        raise ValidationError(
            {"file": _("Tệp rỗng (0 byte): tệp không có nội dung. Hãy mở lại tệp gốc, lưu rồi tải lên lần nữa.")}
        )
    kind = evidence_file_kind(upload, name)
    if kind == MACRO_FILE:
        raise ValidationError(
            {
                "file": _(
                    "Tệp Office có chứa macro (như .docm, .xlsm, .pptm) không được nhận, kể cả khi đã đổi đuôi. "
                    "Hãy lưu lại dưới dạng tệp thường (DOCX, XLSX, PPTX) hoặc PDF rồi tải lên."
                )
            }
        )
    if kind is None:
        raise ValidationError(
            {
                "file": _(
                    "Loại tệp không được chấp nhận hoặc nội dung không khớp với đuôi tệp. "
                    "Chỉ nhận PDF, ảnh PNG/JPEG, Word/Excel/PowerPoint (DOCX, XLSX, PPTX, DOC, XLS) và ODT/ODS."
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


# How long whoever may edit the area can undo a deletion from the page; an administrator restores later ones.
UNDO_MINUTES = 30


@transaction.atomic
def delete_evidence(*, evidence, user=None) -> None:
    """Delete an evidence file from the pages, downloads and counts; the row and the stored file are kept, so the
    deletion can be undone (undo_window) or restored by an administrator. The history records who and when."""
    from django.utils import timezone

    ensure_unlocked(area=evidence.area, year=evidence.year, criterion=evidence.indicator.criterion, user=user)
    if evidence.deleted_at is not None:
        return
    evidence.deleted_at = timezone.now()
    evidence.deleted_by = user
    evidence._history_user = user
    evidence.save(update_fields=["deleted_at", "deleted_by"])


def may_undo(evidence, now=None) -> bool:
    """Whether the deletion is recent enough for an editor of the area to undo it from the page."""
    import datetime

    from django.utils import timezone

    now = now or timezone.now()
    return evidence.deleted_at is not None and now - evidence.deleted_at <= datetime.timedelta(minutes=UNDO_MINUTES)


@transaction.atomic
def restore_evidence(*, evidence, user=None) -> None:
    """Bring a deleted evidence file back (an undo, or an administrator's restore); the history records it."""
    ensure_unlocked(area=evidence.area, year=evidence.year, criterion=evidence.indicator.criterion, user=user)
    if evidence.deleted_at is None:
        return
    evidence.deleted_at = None
    evidence.deleted_by = None
    evidence._history_user = user
    evidence.save(update_fields=["deleted_at", "deleted_by"])
