"""No English left in the Vietnamese portal: what Django, its admin and the libraries the portal uses (import-export,
axes, simple-history) would say in English comes from the project's catalogue locale/vi (compiled .mo committed)."""

import ast
import re
from pathlib import Path

import axes
import django
import import_export
import simple_history
from axes.models import AccessAttempt
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import SimpleTestCase, TestCase
from django.urls import reverse
from django.utils import translation

from plans import services
from plans.forms import PlanItemForm
from tests.personas import PASSWORD, build_world

DJANGO = Path(django.__file__).parent
OURS = Path(settings.BASE_DIR) / "locale" / "vi" / "LC_MESSAGES" / "django.po"
# The Django catalogues of the apps in INSTALLED_APPS that have words to show.
DJANGO_DOMAINS = [DJANGO / "conf"] + [DJANGO / "contrib" / app for app in ("admin", "auth", "contenttypes", "sessions")]
DJANGO_DOMAINS.append(DJANGO / "contrib" / "humanize")


def read_po(path):
    """{(msgctxt, msgid, msgid_plural): (first msgstr, fuzzy)} of a .po file (entries are separated by blank
    lines), the header and obsolete entries left out."""
    entries = {}
    for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")):
        entry, word = {}, None
        for line in block.splitlines():
            line = line.strip()
            if line.startswith("#,") and "fuzzy" in line:
                entry["fuzzy"] = True
            elif line.startswith('"') and word:
                entry[word] += ast.literal_eval(line)
            elif not line.startswith("#"):
                match = re.match(r"(msgctxt|msgid_plural|msgid|msgstr)(\[\d+\])?\s+(\".*\")$", line)
                word = match.group(1) + (match.group(2) or "")
                entry[word] = ast.literal_eval(match.group(3))
        if entry.get("msgid"):
            key = (entry.get("msgctxt"), entry["msgid"], entry.get("msgid_plural"))
            entries[key] = (entry.get("msgstr", entry.get("msgstr[0]", "")), entry.get("fuzzy", False))
    return entries


def in_vietnamese(ctx, msgid, plural):
    with translation.override("vi"):
        if plural is not None:
            return translation.npgettext(ctx, msgid, plural, 1) if ctx else translation.ngettext(msgid, plural, 1)
        return translation.pgettext(ctx, msgid) if ctx else translation.gettext(msgid)


class CatalogueTests(SimpleTestCase):
    def test_every_message_django_leaves_in_english_is_translated_by_ours(self):
        ours = read_po(OURS)
        left = []
        for domain in DJANGO_DOMAINS:
            # The English catalogue lists every message of the domain; the Vietnamese one lacks some, leaves others
            # empty or fuzzy (a fuzzy translation is never compiled).
            english = read_po(domain / "locale" / "en" / "LC_MESSAGES" / "django.po")
            vietnamese = read_po(domain / "locale" / "vi" / "LC_MESSAGES" / "django.po")
            for key in english:
                msgstr, fuzzy = vietnamese.get(key, ("", False))
                if msgstr and not fuzzy:
                    continue
                ours_msgstr = ours.get(key, ("", False))[0]
                if not ours_msgstr or in_vietnamese(*key) != ours_msgstr:
                    left.append(key[1])
        self.assertEqual(left, [])

    def test_every_message_the_libraries_still_use_is_in_vietnamese(self):
        # Their catalogues of other languages name their messages; a message still in their code must not be
        # shown as it is written.
        left = []
        for package in (import_export, axes, simple_history):
            root = Path(package.__file__).parent
            code = "\n".join(p.read_text(encoding="utf-8") for p in root.rglob("*") if p.suffix in (".py", ".html"))
            keys = set()
            for po in root.glob("locale/*/LC_MESSAGES/django.po"):
                keys |= set(read_po(po))
            for key in sorted(keys, key=str):
                if key[1] in code and in_vietnamese(*key) == key[1]:
                    left.append(key[1])
        self.assertEqual(left, [])

    def test_the_compiled_catalogue_is_the_one_written(self):
        stale = [key[1] for key, (msgstr, _fuzzy) in read_po(OURS).items() if in_vietnamese(*key) != msgstr]
        self.assertEqual(stale, [])


class FormMessageTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.w = build_world()
        cls.plan = services.create_plan(
            user=cls.w.admin, area=cls.w.an_duong, data=services.PlanData(title="Kế hoạch NTM An Dương", year=2024)
        )

    def test_a_title_pasted_with_a_null_character_is_refused_in_vietnamese(self):
        with translation.override("vi"):
            form = PlanItemForm(data={"title": "Bê tông hóa đường thôn\x00"}, plan=self.plan)
            self.assertFalse(form.is_valid())
            self.assertEqual(form.errors["title"], ["Không được có ký tự rỗng (null)."])

    def test_a_too_short_new_password_is_refused_in_vietnamese(self):
        self.client.force_login(self.w.officer_an_duong)
        response = self.client.post(
            reverse("password_change"),
            {"old_password": PASSWORD, "new_password1": "Lua9#", "new_password2": "Lua9#"},
        )
        self.assertContains(response, "Mật khẩu này quá ngắn. Mật khẩu phải có ít nhất 8 ký tự.")
        self.assertNotContains(response, "too short")


class AdminInVietnameseTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.w = build_world()
        cls.plan = services.create_plan(
            user=cls.w.admin, area=cls.w.an_duong, data=services.PlanData(title="Kế hoạch NTM An Dương", year=2024)
        )
        item = services.add_item(user=cls.w.admin, plan=cls.plan, data=services.ItemData(title="Làm đường thôn"))
        cls.item = services.update_item(
            user=cls.w.admin, item=item, data=services.ItemData(title="Bê tông hóa đường thôn Đồng Lạng")
        )
        AccessAttempt.objects.create(
            username="canbo.anduong", ip_address="10.0.0.7", user_agent="Firefox", failures_since_start=3
        )

    def setUp(self):
        self.client.force_login(self.w.admin)

    def test_plan_item_list_offers_import_and_export_in_vietnamese(self):
        response = self.client.get(reverse("admin:plans_planitem_changelist"))
        self.assertContains(response, "Nhập từ tệp")
        self.assertContains(response, "Xuất ra tệp")
        self.assertContains(response, "Hiện số lượng")
        self.assertNotRegex(response.content.decode(), r"\b(Import|Export|Show counts|Skip to main content)\b")

    def test_an_unreadable_import_file_is_explained_in_vietnamese(self):
        xlsx = "1"  # the formats offered: csv, xlsx, …
        response = self.client.post(
            reverse("admin:plans_planitem_import"),
            {"resource": "0", "format": xlsx, "import_file": SimpleUploadedFile("ke-hoach.xlsx", b"not a workbook")},
        )
        self.assertContains(response, "Tệp không phải là bảng tính (.xlsx, .xls hoặc .ods); hãy chọn đúng định dạng")
        self.assertNotContains(response, "encountered while trying to read file")
        self.assertNotContains(response, "ImportRefused")

    def test_the_export_form_offers_the_columns_by_their_vietnamese_headings(self):
        for url, heading, code_name in (
            ("admin:plans_planitem_export", "Số kế hoạch", "Plan Number"),
            ("admin:criteria_indicatorresult_export", "Mã địa bàn", "Area"),
        ):
            with self.subTest(url):
                form = self.client.get(reverse(url)).context["form"]
                labels = [str(field.label) for field in form.fields.values()]
                self.assertIn(heading, labels)
                self.assertFalse([label for label in labels if code_name in label], labels)

    def test_admin_index_names_the_login_records_in_vietnamese(self):
        response = self.client.get(reverse("admin:index"))
        for name in ["Lần thử đăng nhập", "Lần đăng nhập thất bại", "Nhật ký truy cập"]:
            self.assertContains(response, name)
        for english in ["Access attempts", "Access failures", "Access logs", "models in the"]:
            self.assertNotContains(response, english)

    def test_login_attempts_list_is_in_vietnamese(self):
        response = self.client.get(reverse("admin:axes_accessattempt_changelist"))
        self.assertContains(response, "Số lần đăng nhập sai")
        self.assertContains(response, "Trình duyệt (User Agent)")
        self.assertNotContains(response, "Failed Logins")

    def test_change_form_offers_the_history_as_lich_su(self):
        response = self.client.get(reverse("admin:plans_planitem_change", args=[self.item.pk]))
        self.assertContains(response, 'class="historylink">Lịch sử</a>')
        self.assertNotContains(response, "Bản ghi nhớ")

    def test_history_page_of_an_item_is_in_vietnamese(self):
        response = self.client.get(reverse("admin:plans_planitem_history", args=[self.item.pk]))
        self.assertContains(response, "Lịch sử thay đổi: Bê tông hóa đường thôn Đồng Lạng")
        for column in ["Người thay đổi", "Lý do thay đổi", "Các thay đổi", "Tạo mới"]:
            self.assertContains(response, column)
        for english in ["Change history", "Changed by", "Choose a date", "Created"]:
            self.assertNotContains(response, english)

    def test_a_refused_admin_edit_asks_in_vietnamese_to_correct_it(self):
        response = self.client.post(
            reverse("admin:plans_planitem_change", args=[self.item.pk]),
            {
                "plan": self.plan.pk,
                "title": "",
                "status": "not_started",
                "progress": "0",
                "funding_lines-TOTAL_FORMS": "0",
                "funding_lines-INITIAL_FORMS": "0",
                "funding_lines-MIN_NUM_FORMS": "0",
                "funding_lines-MAX_NUM_FORMS": "1000",
            },
        )
        self.assertContains(response, "Hãy sửa các lỗi dưới đây.")
        self.assertNotContains(response, "Please correct")
