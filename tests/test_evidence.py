"""Evidence files (hồ sơ minh chứng): type judged by content, size limit, scoped download and delete."""

import datetime
import io
import zipfile

from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from criteria.models import Evidence
from tests.evidence_uploads import YEAR, EvidenceUploadTestCase

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504


def zipped(entries):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


DOCX = zipped(
    {
        "[Content_Types].xml": '<Types><Override PartName="/word/document.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        "word/document.xml": "<w:document/>",
    }
)
XLSX = zipped(
    {
        "[Content_Types].xml": '<Types><Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>',
    }
)
ODS = zipped({"mimetype": "application/vnd.oasis.opendocument.spreadsheet", "content.xml": "<x/>"})
ODT = zipped({"mimetype": "application/vnd.oasis.opendocument.text", "content.xml": "<x/>"})


class EvidenceTests(EvidenceUploadTestCase):
    def test_accepted_kinds_are_stored_with_the_type_read_from_their_content(self):
        files = {
            "bien-ban.pdf": (PDF, "application/pdf"),
            "anh-cho.PNG": (PNG, "image/png"),
            "anh.jpg": (JPEG, "image/jpeg"),
            "to-trinh.docx": (DOCX, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
            "bang-so-lieu.xlsx": (XLSX, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            "bang.ods": (ODS, "application/vnd.oasis.opendocument.spreadsheet"),
            "van-ban.odt": (ODT, "application/vnd.oasis.opendocument.text"),
            "cu.doc": (OLE2, "application/msword"),
            "cu.xls": (OLE2, "application/vnd.ms-excel"),
        }
        for name, (content, _type) in files.items():
            self.upload(name, content)
        stored = dict(Evidence.objects.values_list("original_name", "content_type"))
        self.assertEqual(stored, {name: content_type for name, (_c, content_type) in files.items()})

    def test_disguised_files_are_refused(self):
        disguised = {
            "bien-ban.pdf": b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64,
            "trang.pdf": b"<!DOCTYPE html><html><script>alert(1)</script></html>",
            "anh.pdf": PNG,
            "to-trinh.docx": zipped({"readme.txt": "not office"}),
            "bang.docx": XLSX,
            "bien-ban.exe": PDF,
            "cu.ppt": OLE2,
        }
        for name, content in disguised.items():
            with self.subTest(name=name):
                response = self.upload(name, content)
                self.assertContains(response, "Loại tệp không được chấp nhận")
        self.assertFalse(Evidence.objects.exists())

    @override_settings(EVIDENCE_MAX_BYTES=1024 * 1024)
    def test_oversize_file_is_refused_naming_the_limit(self):
        response = self.upload("lon.pdf", PDF + b"0" * (1024 * 1024))
        self.assertContains(response, "Tệp quá lớn: tối đa 1 MB.")
        self.assertFalse(Evidence.objects.exists())

    def test_uploaded_file_is_listed_on_the_indicator(self):
        response = self.upload("bien-ban-nghiem-thu.pdf", PDF)
        self.assertContains(response, "Đã tải lên bien-ban-nghiem-thu.pdf")
        evidence = Evidence.objects.get()
        self.assertContains(response, reverse("download_evidence", args=[self.w.an_duong.pk, evidence.pk]))
        self.assertEqual((evidence.uploaded_by, evidence.size), (self.w.officer_an_duong, len(PDF)))

    def test_download_is_an_attachment_with_the_original_name(self):
        self.upload("Biên bản chợ.pdf", PDF)
        evidence = Evidence.objects.get()
        self.client.force_login(self.w.viewer_tan_yen)
        response = self.client.get(reverse("download_evidence", args=[self.w.an_duong.pk, evidence.pk]))
        self.assertEqual(b"".join(response.streaming_content), PDF)
        self.assertEqual(response["Content-Type"], "application/pdf")
        self.assertTrue(response["Content-Disposition"].startswith("attachment;"))
        self.assertIn("Bi%C3%AAn%20b%E1%BA%A3n%20ch%E1%BB%A3.pdf", response["Content-Disposition"])

    def test_stored_file_is_not_served_from_a_public_media_url(self):
        self.upload("bien-ban.pdf", PDF)
        evidence = Evidence.objects.get()
        self.assertNotIn(".pdf", evidence.file.name)
        self.assertEqual(self.client.get("/media/" + evidence.file.name).status_code, 404)

    def delete_url(self, evidence):
        return reverse("delete_evidence", args=[self.w.an_duong.pk, evidence.pk])

    def test_delete_asks_first_and_asking_removes_nothing(self):
        self.upload("bien-ban.pdf", PDF)
        evidence = Evidence.objects.get()
        page = self.client.get(self.delete_url(evidence))
        self.assertContains(page, "Xóa minh chứng “bien-ban.pdf”?")
        self.assertContains(page, "Không xóa, quay lại")
        self.assertTrue(Evidence.objects.exists())

    def test_a_deleted_file_leaves_the_page_and_downloads_but_is_kept(self):
        self.upload("bien-ban.pdf", PDF)
        evidence = Evidence.objects.get()
        storage, name = evidence.file.storage, evidence.file.name
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(self.delete_url(evidence), follow=True)
        self.assertContains(response, "Có thể hoàn tác trong 30 phút")
        self.assertContains(response, "Hoàn tác")
        self.assertFalse(Evidence.objects.exists())
        self.assertTrue(storage.exists(name))
        download = reverse("download_evidence", args=[self.w.an_duong.pk, evidence.pk])
        self.assertEqual(self.client.get(download).status_code, 404)
        kept = Evidence.all_objects.get()
        self.assertEqual(kept.deleted_by, self.w.officer_an_duong)

    def test_undo_brings_the_file_back_and_the_history_keeps_both(self):
        self.upload("bien-ban.pdf", PDF)
        evidence = Evidence.objects.get()
        self.client.post(self.delete_url(evidence))
        response = self.client.post(
            reverse("undo_delete_evidence", args=[self.w.an_duong.pk, evidence.pk]), follow=True
        )
        self.assertContains(response, "Đã khôi phục bien-ban.pdf.")
        download = reverse("download_evidence", args=[self.w.an_duong.pk, evidence.pk])
        self.assertEqual(self.client.get(download).status_code, 200)
        url = reverse("indicator_history", args=[self.w.an_duong.pk, self.indicator.pk]) + f"?nam={YEAR}"
        history = self.client.get(url)
        self.assertContains(history, "Xóa minh chứng: bien-ban.pdf")
        self.assertContains(history, "Khôi phục minh chứng: bien-ban.pdf")

    def test_after_the_undo_window_only_an_administrator_restores(self):
        self.upload("bien-ban.pdf", PDF)
        evidence = Evidence.objects.get()
        self.client.post(self.delete_url(evidence))
        Evidence.all_objects.filter(pk=evidence.pk).update(deleted_at=timezone.now() - datetime.timedelta(minutes=31))
        response = self.client.post(
            reverse("undo_delete_evidence", args=[self.w.an_duong.pk, evidence.pk]), follow=True
        )
        self.assertContains(response, "hãy nhờ quản trị viên khôi phục bien-ban.pdf")
        self.assertFalse(Evidence.objects.exists())
        self.client.force_login(self.w.admin)
        changelist = reverse("admin:criteria_evidence_changelist")
        self.assertContains(self.client.get(changelist + "?da_xoa=1"), "bien-ban.pdf")
        self.client.post(changelist, {"action": "restore", "_selected_action": [evidence.pk]})
        self.assertTrue(Evidence.objects.filter(pk=evidence.pk).exists())

    def test_history_page_lists_uploads(self):
        self.upload("bien-ban.pdf", PDF)
        url = reverse("indicator_history", args=[self.w.an_duong.pk, self.indicator.pk]) + f"?nam={YEAR}"
        response = self.client.get(url)
        self.assertContains(response, "Tải lên minh chứng: bien-ban.pdf")
