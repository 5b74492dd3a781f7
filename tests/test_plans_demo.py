import datetime
from decimal import Decimal
from pathlib import Path

import yaml
from django.apps import apps
from django.conf import settings
from django.test import TestCase

from assignments.models import CommitteeMembership, Responsibility, criterion_owners
from criteria.models import CriteriaSet
from plans.models import FundingSource, Plan, PlanItem
from tests.personas import build_world
from tools.demo.areas import load_demo_areas
from tools.demo.plans import load_demo_plans

DEMO_DIR = Path(settings.BASE_DIR) / "fixtures" / "demo"


def snapshot():
    """Row counts of the plans and assignments tables, history included."""
    return {
        m._meta.label: m.objects.count() for m in apps.get_models() if m._meta.app_label in {"plans", "assignments"}
    }


SMALL = {
    "agencies": [{"name": "UBND xã Hùng Mỹ", "area": "HM"}, {"name": "Phòng NN&PTNT", "area": "CH"}],
    "members": [{"name": "Ma Đình Sắc", "position": "Chủ tịch UBND xã", "area": "HM"}],
    "steering_committees": [
        {"area": "HM", "name": "Ban Chỉ đạo xã Hùng Mỹ", "members": [{"member": "Ma Đình Sắc", "role": "deputy"}]}
    ],
    "responsibilities": [
        {
            "area": "HM",
            "criteria_set": "xa_ntm_2021_2025",
            "year": 2024,
            "indicator": "17.1",
            "lead": {"member": "Ma Đình Sắc"},
            "coordinators": [{"agency": "Phòng NN&PTNT"}],
        }
    ],
    "funding_sources": [{"code": "NS_TINH", "name": "Ngân sách tỉnh (viết lại)"}, {"code": "QUY_X", "name": "Quỹ X"}],
    "plans": [
        {
            "area": "HM",
            "year": 2024,
            "number": "05/KH-BCĐ",
            "title": "Kế hoạch xây dựng NTM",
            "issued_on": "2024-03-01",
            "legal_basis": ["Căn cứ A;", "Căn cứ B."],
            "criteria_set": "xa_ntm_2021_2025",
            "status": "issued",
            "items": [
                {
                    "title": "Làm mới đường trục thôn",
                    "criterion": 2,
                    "quantity": "0,51",
                    "unit": "km",
                    "lead": {"agency": "UBND xã Hùng Mỹ"},
                    "coordinators": [{"member": "Ma Đình Sắc"}],
                    "deadline": {"precision": "quarter", "value": "2024-Q2"},
                    "funding": [{"source": "NS_HUYEN", "planned": "1.250,5", "disbursed": "100"}],
                }
            ],
            "steps": [{"title": "Bước 1", "start": "2024-02-25", "end": "2024-03-31", "description": "Quán triệt."}],
        }
    ],
}


class SmallDemoTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.w = build_world()
        cls.areas = {"HM": cls.w.hung_my, "CH": cls.w.chiem_hoa}
        load_demo_plans(SMALL, areas_by_code=cls.areas)

    def test_plan_items_steps_and_money_are_loaded(self):
        plan = Plan.objects.get(number="05/KH-BCĐ")
        self.assertEqual(plan.legal_basis_lines, ["Căn cứ A;", "Căn cứ B."])
        road, step = plan.items.order_by("position")
        self.assertEqual(
            (road.quantity, road.deadline_label, road.lead.name), (Decimal("0.51"), "Quý II/2024", "UBND xã Hùng Mỹ")
        )
        self.assertEqual(list(road.coordinator_members.values_list("name", flat=True)), ["Ma Đình Sắc"])
        self.assertEqual(
            (step.start_date, step.deadline_date, step.deadline_precision),
            (datetime.date(2024, 2, 25), datetime.date(2024, 3, 31), "day"),
        )
        self.assertEqual(
            [(r["source__code"], r["planned"]) for r in plan.funding_totals()], [("NS_HUYEN", Decimal("1250.5"))]
        )

    def test_people_committee_and_responsibility(self):
        self.assertEqual(CommitteeMembership.objects.get().get_role_display(), "Phó ban")
        responsibility = Responsibility.objects.get()
        self.assertEqual((responsibility.criterion.number, responsibility.indicator.code), (17, "17.1"))
        self.assertEqual(list(responsibility.coordinator_agencies.values_list("name", flat=True)), ["Phòng NN&PTNT"])

    def test_catalogue_names_are_kept_and_new_sources_added(self):
        self.assertEqual(FundingSource.objects.get(code="NS_TINH").name, "Ngân sách tỉnh")
        self.assertEqual(FundingSource.objects.get(code="QUY_X").name, "Quỹ X")

    def test_loading_twice_changes_nothing(self):
        before = snapshot()
        load_demo_plans(SMALL, areas_by_code=self.areas)
        self.assertEqual(snapshot(), before)


def read(name):
    with open(DEMO_DIR / name, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


class SeedPlansTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.areas = load_demo_areas(read("areas.yaml")["areas"])
        cls.data = read("plans.yaml")
        load_demo_plans(cls.data, areas_by_code=cls.areas)

    def test_hung_my_2024_totals_8321_7_million_across_9_sources(self):
        plan = Plan.objects.get(area=self.areas["02314"], year=2024)
        rows = list(plan.funding_totals())
        self.assertEqual(len(rows), 9)
        self.assertEqual(sum(r["planned"] for r in rows), Decimal("8321.7"))
        self.assertEqual({r["source__code"]: r["planned"] for r in rows}["CTMTQG_DTTS"], Decimal("3494.3"))

    def test_thien_ke_owners_per_criterion(self):
        set_2016 = CriteriaSet.objects.get(code="xa_ntm_2016_2020")
        owners = criterion_owners(self.areas["02605"], 2020)
        by_number = {c.number: owners.get(c.pk) for c in set_2016.criteria.all()}
        self.assertEqual(by_number[3], "Trương Minh Đăng")
        self.assertEqual(by_number[17], "Diệp Thanh Trường")
        self.assertEqual(sum(1 for owner in by_number.values() if owner), 19)

    def test_tan_yen_district_plan_reaches_its_communes(self):
        tan_yen = self.areas["216"]
        plan = Plan.objects.get(area=tan_yen, number="116/KH-BCĐ")
        self.assertEqual(plan.items.count(), len(self.data["plans"][0]["items"]))
        an_duong_work = PlanItem.objects.under(tan_yen).filter(area=self.areas["07321"])
        self.assertGreaterEqual(an_duong_work.count(), 3)

    def test_seed_004_has_its_six_steps_in_order_the_first_dated(self):
        plan = Plan.objects.get(area=self.areas["X-xa-mau-seed-004"])
        steps = list(plan.items.filter(title__startswith="Bước").order_by("position"))
        self.assertEqual([s.title for s in steps], [f"Bước {n}" for n in range(1, 7)])
        first = steps[0]
        self.assertEqual(
            (first.start_date, first.deadline_label, first.deadline_precision),
            (datetime.date(2020, 2, 25), "31/03/2020", "day"),
        )

    def test_loading_twice_changes_nothing(self):
        before = snapshot()
        load_demo_plans(self.data, areas_by_code=self.areas)
        self.assertEqual(snapshot(), before)
