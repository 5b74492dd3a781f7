"""Office evidence files are read, not sniffed: real Word/Excel files pass, macro-enabled ones are refused
whatever their name, and an empty file is told apart from "no file chosen"."""

import io
import zipfile

import openpyxl

from criteria.models import Evidence
from tests.evidence_uploads import EvidenceUploadTestCase

NS = "http://schemas.openxmlformats.org/package/2006/content-types"
WORD_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
WORD_MACRO_MAIN = "application/vnd.ms-word.document.macroEnabled.main+xml"


def word_file(main_type=WORD_MAIN, *, vba=False):
    """A minimal Word package as Word writes it: content types, relationships and the document part."""
    overrides = f'<Override PartName="/word/document.xml" ContentType="{main_type}"/>'
    if vba:
        overrides += '<Override PartName="/word/vbaProject.bin" ContentType="application/vnd.ms-office.vbaProject"/>'
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="{NS}">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            f'<Default Extension="xml" ContentType="application/xml"/>{overrides}</Types>',
        )
        archive.writestr(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
        )
        archive.writestr(
            "word/document.xml",
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p>'
            "<w:r><w:t>Biên bản nghiệm thu</w:t></w:r></w:p></w:body></w:document>",
        )
        if vba:
            archive.writestr("word/vbaProject.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)
    return buffer.getvalue()


def excel_file():
    book = openpyxl.Workbook()
    book.active.append(["Thôn", "Số hộ"])
    book.active.append(["Thôn Nà Ngày", 142])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def excel_with_macros():
    """An .xlsm as Excel saves it: the workbook part is macro-enabled and a VBA project sits beside it."""
    source = zipfile.ZipFile(io.BytesIO(excel_file()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "[Content_Types].xml":
                data = data.replace(
                    b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                    b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
                )
            archive.writestr(info, data)
        archive.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)
    return buffer.getvalue()


class EvidenceContentTests(EvidenceUploadTestCase):
    def test_real_word_and_excel_files_are_accepted(self):
        self.assertContains(self.upload("bien-ban.docx", word_file()), "Đã tải lên bien-ban.docx")
        self.assertContains(self.upload("so-ho.xlsx", excel_file()), "Đã tải lên so-ho.xlsx")
        self.assertEqual(
            dict(Evidence.objects.values_list("original_name", "content_type")),
            {
                "bien-ban.docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "so-ho.xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            },
        )

    def test_macro_enabled_office_files_are_refused_even_when_renamed(self):
        files = {
            "to-trinh.docx": word_file(WORD_MACRO_MAIN, vba=True),
            "to-trinh.docm": word_file(WORD_MACRO_MAIN, vba=True),
            "bang.xlsx": excel_with_macros(),
            "bang.xlsm": excel_with_macros(),
            # Only the VBA part added, the main part still claiming to be a plain document.
            "lan.docx": word_file(vba=True),
        }
        for name, content in files.items():
            with self.subTest(name=name):
                response = self.upload(name, content)
                self.assertContains(response, "Tệp Office có chứa macro")
                self.assertContains(response, "kể cả khi đã đổi đuôi")
        self.assertFalse(Evidence.objects.exists())

    def test_a_zip_that_only_mentions_the_word_content_type_is_refused(self):
        broken = io.BytesIO()
        with zipfile.ZipFile(broken, "w") as archive:
            archive.writestr("[Content_Types].xml", f"<!-- {WORD_MAIN} --><Types")
        self.assertContains(self.upload("hong.docx", broken.getvalue()), "Loại tệp không được chấp nhận")
        self.assertFalse(Evidence.objects.exists())

    def test_an_empty_file_gets_its_own_message(self):
        response = self.upload("bien-ban.pdf", b"")
        self.assertContains(response, "Tệp rỗng (0 byte)")
        self.assertNotContains(response, "Hãy chọn một tệp")
        self.assertFalse(Evidence.objects.exists())
