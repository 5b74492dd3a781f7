"""The official administrative map (`manage.py load_admin_map`): three snapshots, the 2025 merges, nothing guessed."""

import datetime
import json
import tempfile
from io import StringIO
from pathlib import Path

from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import TestCase
from django.urls import reverse

from areas import mapdata, timeline
from areas.models import Area, AreaSuccession, Level, MapSnapshot
from criteria.models import CriterionResult
from recognition.models import RecognitionFile

OLD_MAP = datetime.date(2023, 4, 15)
LAST_WITH_DISTRICTS = datetime.date(2025, 6, 30)
NEW_MAP = datetime.date(2025, 7, 1)


def counts(day):
    areas = Area.objects.filter(code__regex=r"^[0-9]+$").valid_on(day)
    return (areas.provinces().count(), areas.districts().count(), areas.communes().count())


def commune(code, *, new_map):
    units = Area.objects.communes().filter(code=code)
    return units.get(valid_from=NEW_MAP) if new_map else units.get(valid_from__isnull=True)


def formed_from(area):
    return sorted((s.old.full_name, s.share) for s in AreaSuccession.objects.filter(new=area).select_related("old"))


class FullMapTests(TestCase):
    """The shipped map, loaded once; then the demo seeded on it."""

    @classmethod
    def setUpTestData(cls):
        cls.output = StringIO()
        call_command("load_admin_map", stdout=cls.output)
        call_command("seed_demo", stdout=StringIO())

    def test_each_snapshot_has_its_official_counts(self):
        # 15/4/2023: 10,603 rows = 10,598 communes + 5 island districts that have no commune (Bạch Long Vĩ…).
        self.assertEqual(counts(OLD_MAP), (63, 705, 10598))
        self.assertEqual(
            Area.objects.districts().valid_on(OLD_MAP).filter(code__in=["318", "471", "498", "536", "755"]).count(), 5
        )
        self.assertEqual(counts(LAST_WITH_DISTRICTS), (63, 696, 10035))
        self.assertEqual(counts(NEW_MAP), (34, 0, 3321))

    def test_the_catalogue_provinces_are_reused_not_duplicated(self):
        self.assertEqual(Area.objects.provinces().count(), 63 + 23)
        bac_ninh = Area.objects.provinces().get(code="24", valid_from=NEW_MAP)
        self.assertEqual(commune("07306", new_map=True).parent, bac_ninh)

    def test_tan_yen_communes_form_nha_nam_and_ngoc_thien_of_the_new_bac_ninh(self):
        nha_nam = commune("07306", new_map=True)
        self.assertEqual((nha_nam.full_name, nha_nam.province.name), ("xã Nhã Nam", "Bắc Ninh"))
        self.assertEqual(
            formed_from(nha_nam),
            [("thị trấn Nhã Nam", "full"), ("xã An Dương", "full"), ("xã Liên Sơn", "full"), ("xã Tân Trung", "full")],
        )
        ngoc_thien = commune("07351", new_map=True)
        self.assertEqual(ngoc_thien.full_name, "xã Ngọc Thiện")
        self.assertEqual(
            [name for name, share in formed_from(ngoc_thien)],
            ["xã Ngọc Châu", "xã Ngọc Thiện", "xã Ngọc Vân", "xã Song Vân", "xã Việt Ngọc"],
        )
        old_ngoc_thien = commune("07360", new_map=False)
        self.assertEqual(old_ngoc_thien.valid_until, LAST_WITH_DISTRICTS)
        self.assertEqual(list(old_ngoc_thien.successors.all()), [ngoc_thien])

    def test_hung_my_and_tan_my_form_tan_my_of_the_new_tuyen_quang(self):
        tan_my = commune("02308", new_map=True)
        self.assertEqual((tan_my.full_name, tan_my.province.name), ("xã Tân Mỹ", "Tuyên Quang"))
        self.assertEqual(tan_my.province.valid_from, NEW_MAP)
        self.assertEqual(formed_from(tan_my), [("xã Hùng Mỹ", "full"), ("xã Tân Mỹ", "full")])

    def test_a_commune_split_between_new_wards_is_a_partial_merge(self):
        ngoc_ha = Area.objects.communes().get(code="00016", valid_from__isnull=True)
        self.assertEqual(ngoc_ha.full_name, "phường Ngọc Hà")
        shares = dict(AreaSuccession.objects.filter(old=ngoc_ha).values_list("new__name", "share"))
        self.assertEqual(shares["Ba Đình"], "partial")
        self.assertEqual(shares["Ngọc Hà"], "partial")

    def test_a_reused_code_is_a_different_unit(self):
        lam_son = commune("07333", new_map=False)
        quang_trung = commune("07333", new_map=True)
        self.assertNotEqual(lam_son.pk, quang_trung.pk)
        self.assertEqual((lam_son.full_name, lam_son.valid_until), ("xã Lam Sơn", LAST_WITH_DISTRICTS))
        self.assertEqual(quang_trung.full_name, "xã Quang Trung")
        self.assertEqual(formed_from(quang_trung), [("xã Lam Sơn", "full"), ("xã Quang Trung", "full")])

    def test_a_unit_gone_without_known_successor_is_flagged_not_guessed(self):
        lan_gioi = commune("07303", new_map=False)
        self.assertTrue(lan_gioi.ended_without_successor)
        self.assertEqual(lan_gioi.valid_until, datetime.date(2025, 6, 29))
        self.assertFalse(lan_gioi.successors.exists())

    def test_every_district_and_commune_has_a_region(self):
        self.assertFalse(Area.objects.filter(level__in=[Level.DISTRICT, Level.COMMUNE], region__isnull=True).exists())
        # The new Bắc Ninh spans two regions: each commune keeps the region of the old province it came from.
        self.assertEqual(commune("07306", new_map=True).region.code, "TDMNPB")
        bac_ninh_city = Area.objects.communes().filter(valid_from=NEW_MAP, province__code="24", name="Kinh Bắc")
        self.assertEqual(bac_ninh_city.get().region.code, "DBSH")

    def test_merge_rows_that_match_nothing_are_reported(self):
        text = self.output.getvalue()
        self.assertIn("25186 (Xã Phù Mỹ) → 25159", text)
        self.assertIn("mã mới 06970 không có trong bản đồ này", text)

    def test_running_again_changes_nothing(self):
        before = (Area.objects.count(), AreaSuccession.objects.count(), MapSnapshot.objects.count())
        out = StringIO()
        call_command("load_admin_map", stdout=out)
        self.assertEqual((Area.objects.count(), AreaSuccession.objects.count(), MapSnapshot.objects.count()), before)
        self.assertIn("đã nạp trước đó", out.getvalue())

    def test_seed_communes_are_the_official_units_with_their_results(self):
        self.assertFalse(Area.objects.filter(code__startswith="X-tan-yen").exists())
        ngoc_thien = commune("07360", new_map=False)
        self.assertEqual(ngoc_thien.full_name, "xã Ngọc Thiện")
        self.assertTrue(CriterionResult.objects.filter(area=ngoc_thien, year=2019).exists())
        self.assertTrue(RecognitionFile.objects.filter(area=commune("07342", new_map=False)).exists())
        self.assertEqual(Area.objects.communes().filter(code="07306", valid_from__isnull=True).count(), 1)

    def test_a_code_is_read_on_the_years_date_and_the_old_commune_leads_to_the_new_one(self):
        an_duong = timeline.unit_by_code("07321", timeline.reporting_date(2019))
        self.assertEqual(
            (an_duong.full_name, an_duong.district.full_name, an_duong.province.full_name),
            ("xã An Dương", "huyện Tân Yên", "tỉnh Bắc Giang"),
        )
        nha_nam = timeline.unit_by_code("07306", timeline.reporting_date(2026))
        self.assertEqual((nha_nam.full_name, nha_nam.province.full_name), ("xã Nhã Nam", "tỉnh Bắc Ninh"))
        self.assertEqual([r.area for r in timeline.became(an_duong)], [nha_nam])
        self.assertEqual(timeline.unit_by_code("07306", timeline.reporting_date(2019)).full_name, "thị trấn Nhã Nam")
        hung_my = timeline.unit_by_code("02314", timeline.reporting_date(2024))
        self.assertEqual(hung_my.full_name, "xã Hùng Mỹ")
        tan_my = timeline.unit_by_code("02308", timeline.reporting_date(2026))
        self.assertEqual([r.area for r in timeline.became(hung_my)], [tan_my])
        self.assertEqual((tan_my.full_name, tan_my.province.full_name), ("xã Tân Mỹ", "tỉnh Tuyên Quang"))

    def test_a_commune_on_both_maps_whose_province_changed_is_two_units(self):
        old, new = commune("23938", new_map=False), commune("23938", new_map=True)
        self.assertEqual((old.province.code, old.valid_until), ("64", LAST_WITH_DISTRICTS))
        self.assertEqual((new.province.code, new.province.name, new.valid_from), ("52", "Gia Lai", NEW_MAP))
        self.assertEqual(formed_from(new), [("xã Ia Mơ", "full")])
        old_gia_lai = timeline.communes_at(old.province, timeline.reporting_date(2024)).queryset()
        self.assertTrue(old_gia_lai.filter(pk=old.pk).exists())

    def test_the_national_page_lists_63_provinces_for_2024_and_34_for_2026(self):
        self.client.force_login(User.objects.create_superuser("quantri", password="x"))
        for year, provinces in ((2024, 63), (2026, 34)):
            response = self.client.get(reverse("dashboard_national") + f"?nam={year}")
            rows = {r["area"] for r in response.context["children"] if r["area"] is not None}
            self.assertEqual(len(rows), provinces)
            self.assertContains(response, f"Bản đồ hành chính ngày 31/12/{year}")


class ProvinceChangeTests(TestCase):
    """A commune on both maps under the same code: a new province makes it a new unit; an unchanged one does not."""

    @classmethod
    def setUpTestData(cls):
        old = [
            mapdata.Unit("24", "Bắc Giang", "tỉnh", Level.PROVINCE, None),
            mapdata.Unit("216", "Tân Yên", "huyện", Level.DISTRICT, "24"),
            mapdata.Unit("07318", "Phúc Sơn", "xã", Level.COMMUNE, "216"),
            mapdata.Unit("01", "Hà Nội", "thành phố", Level.PROVINCE, None),
            mapdata.Unit("001", "Ba Đình", "quận", Level.DISTRICT, "01"),
            mapdata.Unit("00001", "Phúc Xá", "phường", Level.COMMUNE, "001"),
        ]
        mapdata.load_snapshot(day=LAST_WITH_DISTRICTS, units=old, source="test")
        cls.new = [
            mapdata.Unit("24", "Bắc Ninh", "tỉnh", Level.PROVINCE, None),
            mapdata.Unit("07318", "Phúc Sơn", "xã", Level.COMMUNE, "24"),
            mapdata.Unit("01", "Hà Nội", "thành phố", Level.PROVINCE, None),
            mapdata.Unit("00001", "Phúc Xá", "phường", Level.COMMUNE, "01"),
        ]
        cls.report = mapdata.load_snapshot(day=NEW_MAP, units=cls.new, source="test")

    def test_a_commune_whose_province_changed_keeps_its_old_unit_and_gets_a_new_one(self):
        old, new = commune("07318", new_map=False), commune("07318", new_map=True)
        self.assertEqual(
            (old.province.name, old.district.name, old.valid_until), ("Bắc Giang", "Tân Yên", LAST_WITH_DISTRICTS)
        )
        self.assertEqual((new.province.name, new.district, new.valid_from), ("Bắc Ninh", None, NEW_MAP))
        self.assertEqual(formed_from(new), [("xã Phúc Sơn", "full")])
        self.assertEqual(new.region, old.region)
        self.assertIn("thêm mới: 1 xã", "\n".join(self.report.lines()))
        # The old province's pre-reform page still counts it; the new province counts it once, as what it became.
        for province in (old.province, new.province):
            self.assertEqual(list(timeline.communes_at(province, timeline.reporting_date(2024)).queryset()), [old])
        # Hà Nội kept its code and its row: its ward stays one unit, now directly under it.
        phuc_xa = Area.objects.communes().get(code="00001")
        self.assertEqual((phuc_xa.parent.name, phuc_xa.district, phuc_xa.valid_until), ("Hà Nội", None, None))
        # Loading the new map again changes nothing.
        before = (Area.objects.count(), AreaSuccession.objects.count())
        mapdata.load_snapshot(day=NEW_MAP, units=self.new, source="test")
        self.assertEqual((Area.objects.count(), AreaSuccession.objects.count()), before)


class LaterSnapshotTests(TestCase):
    """A superuser adds a later snapshot and its merge file: the command says what changed."""

    @classmethod
    def setUpTestData(cls):
        units = [
            mapdata.Unit("24", "Bắc Giang", "tỉnh", Level.PROVINCE, None),
            mapdata.Unit("216", "Tân Yên", "huyện", Level.DISTRICT, "24"),
            mapdata.Unit("07303", "Lan Giới", "xã", Level.COMMUNE, "216"),
            mapdata.Unit("07315", "Quang Trung", "xã", Level.COMMUNE, "216"),
            mapdata.Unit("07333", "Lam Sơn", "xã", Level.COMMUNE, "216"),
            mapdata.Unit("07345", "Song Vân", "xã", Level.COMMUNE, "216"),
        ]
        mapdata.load_snapshot(day=LAST_WITH_DISTRICTS, units=units, source="test")

    def setUp(self):
        folder = Path(tempfile.mkdtemp())
        self.units = folder / "units.json"
        self.merges = folder / "merges.json"
        wards = [{"Code": "07333", "FullName": "Xã Quang Trung"}, {"Code": "07351", "FullName": "Xã Ngọc Thiện"}]
        self.units.write_text(json.dumps([{"Code": "24", "FullName": "Tỉnh Bắc Ninh", "Wards": wards}]))
        level2s = [
            {
                "level2_id": "07333",
                "merges": [
                    {"old_id": "07315", "name": "Xã Quang Trung", "type": "full"},
                    {"old_id": "07333", "name": "Xã Lam Sơn", "type": "partial"},
                ],
            },
            {
                "level2_id": "07351",
                "merges": [
                    {"old_id": "07345", "name": "Xã Song Vân", "type": "full"},
                    {"old_id": "07333", "name": "Xã Lam Sơn", "type": "partial"},
                    {"old_id": "99999", "name": "Xã Không Có", "type": "full"},
                ],
            },
        ]
        self.merges.write_text(json.dumps({"data": [{"level1_id": "24", "merges": [], "level2s": level2s}]}))

    def load(self, day="2025-07-01"):
        out = StringIO()
        call_command(
            "load_admin_map", "--snapshot", str(self.units), "--date", day, "--merges", str(self.merges), stdout=out
        )
        return out.getvalue()

    def test_the_report_says_what_was_added_ended_merged_and_unmatched(self):
        text = self.load()
        self.assertIn("thêm mới: 2 xã", text)
        self.assertIn("hết hiệu lực (có đơn vị kế thừa hoặc bỏ cả cấp): 1 huyện, 3 xã", text)
        self.assertIn("hết hiệu lực, không rõ đơn vị kế thừa: 1", text)
        self.assertIn("07303 xã Lan Giới", text)
        self.assertIn("liên kết sáp nhập: 2 toàn bộ, 2 một phần", text)
        self.assertIn("99999 (Xã Không Có) → 07351", text)
        lam_son = Area.objects.get(code="07333", valid_from__isnull=True)
        self.assertEqual(sorted(lam_son.successors.values_list("name", flat=True)), ["Ngọc Thiện", "Quang Trung"])
        self.assertEqual(Area.objects.get(code="216").valid_until, LAST_WITH_DISTRICTS)

    def test_loading_the_same_snapshot_again_adds_nothing(self):
        self.load()
        before = (Area.objects.count(), AreaSuccession.objects.count())
        text = self.load()
        self.assertEqual((Area.objects.count(), AreaSuccession.objects.count()), before)
        self.assertIn("thêm mới: 0", text)
        self.assertIn("liên kết sáp nhập: 0 toàn bộ, 0 một phần", text)

    def test_an_older_snapshot_than_the_loaded_one_is_refused(self):
        with self.assertRaises(CommandError):
            self.load(day="2024-01-01")
        self.assertFalse(Area.objects.filter(valid_from=datetime.date(2024, 1, 1)).exists())
