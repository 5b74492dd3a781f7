"""Every kind of value as a Vietnamese reader sees it, written by the one format module (ntm_portal.vietnamese)
and its template filters, and a year outside the portal's range refused with a message on the pages that read
``?nam=``."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.template import Context, Template
from django.test import SimpleTestCase, TestCase
from django.urls import reverse
from django.utils import translation

from ntm_portal.vietnamese import (
    parse_vn_number,
    person_name,
    stale_edit_message,
    vn_date,
    vn_datetime,
    vn_deadline,
    vn_money,
    vn_number,
    vn_percent,
)
from tests.personas import build_world

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


class FormatTests(SimpleTestCase):
    def test_numbers_group_thousands_with_dots_and_take_a_decimal_comma(self):
        self.assertEqual(vn_number(Decimal("1276.0000")), "1.276")
        self.assertEqual(vn_number(Decimal("90.30")), "90,3")
        self.assertEqual(vn_number(Decimal("1250500.5")), "1.250.500,5")
        self.assertEqual(vn_number(Decimal("0.51")), "0,51")
        self.assertEqual(vn_number(-1413), "-1.413")
        self.assertEqual(vn_number(None), "")

    def test_a_number_rounded_to_places_rounds_half_up_and_keeps_its_zeros(self):
        self.assertEqual(vn_number(Decimal("90.25"), 1), "90,3")
        self.assertEqual(vn_number(Decimal("40"), 1), "40,0")
        self.assertEqual(vn_number(Decimal("-0.04"), 1), "0,0")

    def test_percentages_carry_a_spaced_sign(self):
        self.assertEqual(vn_percent(Decimal("90.30")), "90,3 %")
        self.assertEqual(vn_percent(Decimal("1276") / Decimal("1413") * 100, 1), "90,3 %")
        self.assertEqual(vn_percent(None), "")

    def test_money_is_million_dong_with_one_decimal(self):
        self.assertEqual(vn_money(Decimal("8321.7")), "8.321,7")
        self.assertEqual(vn_money(135), "135,0")

    def test_what_is_written_reads_back_as_the_same_number(self):
        for value in ("1.276", "90,3", "8.321,7", "1.250.500,5", "-1.413"):
            with self.subTest(value=value):
                self.assertEqual(vn_number(parse_vn_number(value)), value)

    def test_dates_are_day_first_in_the_portals_time_zone(self):
        self.assertEqual(vn_date(datetime.date(2024, 2, 22)), "22/02/2024")
        # 23:30 in UTC is already the next morning in Hà Nội.
        late = datetime.datetime(2024, 2, 21, 23, 30, tzinfo=datetime.UTC)
        self.assertEqual(vn_date(late), "22/02/2024")
        self.assertEqual(vn_datetime(late), "06:30 22/02/2024")
        self.assertEqual(vn_datetime(datetime.datetime(2024, 2, 22, 9, 5, tzinfo=HANOI)), "09:05 22/02/2024")

    def test_deadlines_keep_the_precision_the_plan_wrote(self):
        self.assertEqual(vn_deadline("day", datetime.date(2020, 3, 15)), "15/03/2020")
        self.assertEqual(vn_deadline("month", datetime.date(2020, 2, 29)), "tháng 2/2020")
        self.assertEqual(vn_deadline("quarter", datetime.date(2020, 6, 30)), "Quý II/2020")
        self.assertEqual(vn_deadline("year", datetime.date(2020, 12, 31)), "năm 2020")

    def test_people_are_named_family_name_first(self):
        from django.contrib.auth.models import User

        self.assertEqual(person_name(User(username="lan", first_name="Lan", last_name="Nguyễn Thị")), "Nguyễn Thị Lan")
        self.assertEqual(person_name(User(username="canbo.anduong")), "canbo.anduong")
        self.assertEqual(person_name(None, "theo văn bản"), "theo văn bản")

    def test_a_stale_edit_names_who_saved_and_when(self):
        from django.contrib.auth.models import User

        lan = User(username="lan", first_name="Lan", last_name="Nguyễn Thị")
        when = datetime.datetime(2024, 2, 22, 9, 15, tzinfo=HANOI)
        self.assertEqual(
            stale_edit_message(what="Kết quả này", who=lan, when=when),
            "Kết quả này vừa được Nguyễn Thị Lan cập nhật lúc 09:15 22/02/2024. "
            "Hãy tải lại trang để xem bản mới trước khi sửa.",
        )

    def test_the_format_does_not_depend_on_the_active_language(self):
        # A background job (the export worker) may run with no language active: it must write as the pages do.
        with translation.override("en"):
            self.assertEqual(vn_number(Decimal("8321.7")), "8.321,7")
            self.assertEqual(vn_date(datetime.date(2024, 2, 22)), "22/02/2024")

    def test_pages_write_values_through_the_same_filters(self):
        template = Template(
            "{% load vietnamese %}{{ n|number }} · {{ r|percent:1 }} · {{ m|money }} · {{ d|vn_date }} · "
            "{{ t|vn_datetime }} · {{ missing|money|default:'—' }}"
        )
        html = template.render(
            Context(
                {
                    "n": Decimal("1276"),
                    "r": Decimal("90.25"),
                    "m": Decimal("8321.7"),
                    "d": datetime.date(2024, 2, 22),
                    "t": datetime.datetime(2024, 2, 22, 9, 15, tzinfo=HANOI),
                    "missing": None,
                }
            )
        )
        self.assertEqual(html, "1.276 · 90,3 % · 8.321,7 · 22/02/2024 · 09:15 22/02/2024 · —")


class YearInUrlTests(TestCase):
    """Issue 18: a year outside the data (1990) is refused with a message, never silently replaced."""

    @classmethod
    def setUpTestData(cls):
        cls.w = build_world()

    def test_a_year_outside_the_range_is_refused_with_a_message_on_each_page(self):
        self.client.force_login(self.w.admin)
        pages = [
            reverse("workspace", args=[self.w.an_duong.pk]),
            reverse("recognition_file", args=[self.w.an_duong.pk]),
            reverse("recognition_list", args=[self.w.tan_yen.pk]),
            reverse("dashboard", args=[self.w.tan_yen.pk]),
            reverse("dashboard", args=[self.w.an_duong.pk]),
            reverse("export_bieu", args=[self.w.an_duong.pk]),
        ]
        for url in pages:
            with self.subTest(url=url):
                response = self.client.get(url + "?nam=1990")
                self.assertContains(response, "Năm 1990 nằm ngoài khoảng năm của cổng (2010–2050)")

    def test_a_year_that_is_not_a_number_is_refused_with_a_message(self):
        self.client.force_login(self.w.admin)
        response = self.client.get(reverse("workspace", args=[self.w.an_duong.pk]) + "?nam=hai-nghin")
        self.assertContains(response, "“hai-nghin” không phải là một năm.")
