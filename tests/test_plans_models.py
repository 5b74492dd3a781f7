import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.test import SimpleTestCase, TestCase

from assignments.models import Agency, Member, Responsibility, criterion_owners
from criteria.models import CriteriaSet
from plans import services
from plans.models import FundingLine, FundingSource, ItemStatus, Plan, PlanItem, parse_deadline
from tests.personas import build_world

D = datetime.date


class DeadlineParsingTests(SimpleTestCase):
    def test_forms_written_in_plans(self):
        cases = {
            "tháng 2/2020": ("month", D(2020, 2, 29), "tháng 2/2020"),
            "Tháng 02/2021": ("month", D(2021, 2, 28), "tháng 2/2021"),
            "Quý II/2020": ("quarter", D(2020, 6, 30), "Quý II/2020"),
            "quý 2/2020": ("quarter", D(2020, 6, 30), "Quý II/2020"),
            "quý IV năm 2019": ("quarter", D(2019, 12, 31), "Quý IV/2019"),
            "15/3/2020": ("day", D(2020, 3, 15), "15/03/2020"),
            "năm 2020": ("year", D(2020, 12, 31), "năm 2020"),
        }
        for text, (precision, last_day, label) in cases.items():
            with self.subTest(text=text):
                deadline = parse_deadline(text)
                self.assertEqual((deadline.precision, deadline.date, deadline.label), (precision, last_day, label))

    def test_unreadable_text_is_refused_in_vietnamese(self):
        for text in ["sớm nhất có thể", "Quý V/2020", "tháng 2", ""]:
            with self.subTest(text=text), self.assertRaises(ValidationError) as ctx:
                parse_deadline(text)
            self.assertIn("Không đọc được thời hạn", ctx.exception.messages[0])

    def test_a_day_or_month_that_does_not_exist_is_refused(self):
        for text in ["30/2/2020", "tháng 13/2020"]:
            with self.subTest(text=text), self.assertRaises(ValidationError) as ctx:
                parse_deadline(text)
            self.assertIn("không có thật", ctx.exception.messages[0])


class PlanFixture:
    @classmethod
    def setUpTestData(cls):
        cls.w = build_world()
        cls.w.set_2021 = CriteriaSet.objects.get(code="xa_ntm_2021_2025")
        cls.plan = services.create_plan(
            user=cls.w.officer_hung_my,
            area=cls.w.hung_my,
            data=services.PlanData(title="Kế hoạch xây dựng NTM năm 2024", year=2024, number="05/KH-BCĐ"),
        )
        cls.sources = {s.code: s for s in FundingSource.objects.all()}

    def add(self, title="Nâng cấp đường trục thôn", deadline=None, funding=(), plan=None, **fields):
        return services.add_item(
            user=self.w.officer_hung_my,
            plan=plan or self.plan,
            data=services.ItemData(title=title, deadline=parse_deadline(deadline) if deadline else None, **fields),
            funding=funding,
        )


class OverdueTests(PlanFixture, TestCase):
    def test_a_month_deadline_is_due_until_the_last_day_of_the_month(self):
        item = self.add(deadline="tháng 2/2020")
        self.assertFalse(item.is_overdue(D(2020, 2, 29)))
        self.assertTrue(item.is_overdue(D(2020, 3, 1)))
        self.assertQuerySetEqual(PlanItem.objects.overdue(D(2020, 2, 29)), [])
        self.assertQuerySetEqual(PlanItem.objects.overdue(D(2020, 3, 1)), [item])

    def test_a_quarter_deadline_is_overdue_from_the_first_day_of_the_next_quarter(self):
        item = self.add(deadline="Quý II/2020")
        self.assertQuerySetEqual(PlanItem.objects.overdue(D(2020, 6, 30)), [])
        self.assertQuerySetEqual(PlanItem.objects.overdue(D(2020, 7, 1)), [item])

    def test_done_and_cancelled_items_are_never_overdue(self):
        self.add(deadline="15/3/2020", status=ItemStatus.DONE, progress=100)
        self.add(deadline="15/3/2020", status=ItemStatus.CANCELLED)
        open_item = self.add(deadline="15/3/2020", status=ItemStatus.IN_PROGRESS)
        self.assertQuerySetEqual(PlanItem.objects.overdue(D(2020, 3, 16)), [open_item])

    def test_due_this_month_is_the_period_ending_within_the_current_month(self):
        month = self.add(deadline="tháng 6/2020")
        quarter = self.add(deadline="Quý II/2020")
        self.add(deadline="tháng 7/2020")
        self.add(deadline="năm 2020")
        self.assertCountEqual(PlanItem.objects.due_in_month(D(2020, 6, 3)), [month, quarter])

    def test_items_under_a_district_include_its_communes_plans_only(self):
        hung_my_item = self.add()
        other = services.create_plan(
            user=self.w.admin, area=self.w.an_duong, data=services.PlanData(title="KH An Dương", year=2024)
        )
        an_duong_item = self.add(plan=other)
        with self.assertNumQueries(1):
            self.assertEqual(list(PlanItem.objects.under(self.w.chiem_hoa)), [hung_my_item])
        self.assertEqual(list(PlanItem.objects.under(self.w.bac_giang)), [an_duong_item])


class FundingTests(PlanFixture, TestCase):
    def line(self, code, planned, disbursed=None):
        return services.FundingInput(source=self.sources[code], planned=planned, disbursed=disbursed)

    def test_plan_totals_by_source_are_summed_in_the_database(self):
        self.add(funding=[self.line("NS_HUYEN", "1.250,5", "200"), self.line("NHAN_DAN", "45,0")])
        self.add(funding=[self.line("NS_HUYEN", "399,9")])
        self.add(funding=[self.line("NS_HUYEN", "1.000")], status=ItemStatus.CANCELLED)
        with self.assertNumQueries(1):
            rows = list(self.plan.funding_totals())
        self.assertEqual(
            [(r["source__code"], r["planned"], r["disbursed"]) for r in rows],
            [("NS_HUYEN", Decimal("1650.4"), Decimal("200")), ("NHAN_DAN", Decimal("45"), Decimal("0"))],
        )

    def test_a_bad_second_line_saves_nothing_and_names_line_and_field(self):
        with self.assertRaises(ValidationError) as ctx:
            self.add(funding=[self.line("NS_TINH", "135"), self.line("NS_XA", "-5")])
        message = " ".join(ctx.exception.message_dict["funding"])
        self.assertIn("Dòng vốn 2", message)
        self.assertIn("vốn kế hoạch", message)
        self.assertIn("không được âm", message)
        self.assertEqual((PlanItem.objects.count(), FundingLine.objects.count()), (0, 0))

    def test_an_amount_written_wrongly_is_named(self):
        with self.assertRaises(ValidationError) as ctx:
            self.add(funding=[self.line("NS_TINH", "135"), self.line("NS_XA", "10", "12,3,4")])
        self.assertIn("Dòng vốn 2, đã giải ngân", ctx.exception.message_dict["funding"][0])
        self.assertEqual(PlanItem.objects.count(), 0)

    def test_the_same_source_twice_is_refused(self):
        with self.assertRaises(ValidationError) as ctx:
            self.add(funding=[self.line("NS_TINH", "1"), self.line("NS_TINH", "2")])
        self.assertIn("Dòng vốn 2, nguồn vốn", ctx.exception.message_dict["funding"][0])

    def test_updating_replaces_the_lines_and_keeps_history(self):
        item = self.add(funding=[self.line("NS_TINH", "100"), self.line("NS_XA", "20")])
        services.update_item(
            user=self.w.officer_hung_my,
            item=item,
            data=services.ItemData(title=item.title),
            funding=[self.line("NS_TINH", "150")],
        )
        self.assertEqual(list(item.funding_lines.values_list("source__code", "planned")), [("NS_TINH", Decimal("150"))])
        changes = FundingLine.history.filter(source__code="NS_TINH").order_by("history_id")
        self.assertEqual([h.planned for h in changes], [Decimal("100"), Decimal("150")])
        self.assertEqual(changes.last().history_user, self.w.officer_hung_my)
        self.assertTrue(FundingLine.history.filter(source__code="NS_XA", history_type="-").exists())


class ItemValidationTests(PlanFixture, TestCase):
    def test_the_place_of_work_must_be_inside_the_plans_area(self):
        with self.assertRaises(ValidationError) as ctx:
            self.add(area=self.w.an_duong_village)
        self.assertIn("Địa điểm thực hiện phải là", ctx.exception.message_dict["area"][0])

    def test_a_village_of_a_commune_plan_is_accepted(self):
        plan = services.create_plan(
            user=self.w.admin, area=self.w.an_duong, data=services.PlanData(title="KH", year=2020)
        )
        item = self.add(plan=plan, area=self.w.an_duong_village)
        self.assertEqual(item.area, self.w.an_duong_village)

    def test_the_indicator_fills_its_criterion(self):
        indicator = self.w.set_2021.criteria.get(number=17).indicators.get(code="17.1")
        item = self.add(indicator=indicator)
        self.assertEqual(item.criterion.number, 17)


class ProgressTests(PlanFixture, TestCase):
    def test_the_item_follows_its_latest_update(self):
        item = self.add()
        services.record_progress(user=self.w.officer_hung_my, item=item, date=D(2024, 5, 1), progress=40)
        item.refresh_from_db()
        self.assertEqual((item.progress, item.status), (40, ItemStatus.IN_PROGRESS))
        services.record_progress(user=self.w.officer_hung_my, item=item, date=D(2024, 6, 1), progress=100)
        item.refresh_from_db()
        self.assertEqual((item.progress, item.status), (100, ItemStatus.DONE))
        self.assertEqual(item.history.first().history_user, self.w.officer_hung_my)

    def test_a_back_dated_update_does_not_override_a_newer_one(self):
        item = self.add()
        services.record_progress(user=self.w.officer_hung_my, item=item, date=D(2024, 6, 1), progress=70)
        services.record_progress(user=self.w.officer_hung_my, item=item, date=D(2024, 4, 1), progress=20)
        item.refresh_from_db()
        self.assertEqual(item.progress, 70)
        self.assertEqual(item.updates.count(), 2)

    def test_progress_above_100_is_refused(self):
        item = self.add()
        with self.assertRaises(ValidationError):
            services.record_progress(user=self.w.officer_hung_my, item=item, date=D(2024, 6, 1), progress=120)
        self.assertEqual(item.updates.count(), 0)


class CriterionOwnerTests(PlanFixture, TestCase):
    def test_owners_per_criterion_in_one_query(self):
        set_2016 = CriteriaSet.objects.get(code="huyen_ntm_2016_2020")
        health = Agency.objects.create(name="Phòng Y tế", area=self.w.tan_yen)
        culture = Agency.objects.create(name="Phòng Văn hoá- Thông tin", area=self.w.tan_yen)
        infra = Agency.objects.create(name="Phòng Kinh tế và Hạ tầng", area=self.w.tan_yen)
        c1 = set_2016.criteria.get(number=1)
        c5 = set_2016.criteria.get(number=5)
        Responsibility.objects.create(
            area=self.w.tan_yen, year=2020, criteria_set=set_2016, criterion=c1, lead_agency=infra
        )
        for code, agency in [("5.2", culture), ("5.1", health)]:
            indicator = c5.indicators.get(code=code)
            Responsibility.objects.create(
                area=self.w.tan_yen,
                year=2020,
                criteria_set=set_2016,
                criterion=c5,
                indicator=indicator,
                lead_agency=agency,
            )
        with self.assertNumQueries(1):
            owners = criterion_owners(self.w.tan_yen, 2020)
        self.assertEqual(
            owners, {c1.pk: "Phòng Kinh tế và Hạ tầng", c5.pk: "Phòng Y tế (5.1); Phòng Văn hoá- Thông tin (5.2)"}
        )
        self.assertEqual(criterion_owners(self.w.tan_yen, 2021), {})

    def test_a_responsibility_needs_exactly_one_lead(self):
        set_2016 = CriteriaSet.objects.get(code="huyen_ntm_2016_2020")
        member = Member.objects.create(name="Đương Ngô Mạnh", area=self.w.tan_yen)
        agency = Agency.objects.create(name="UBND huyện", area=self.w.tan_yen)
        for lead in [{}, {"lead_member": member, "lead_agency": agency}]:
            with self.subTest(lead=lead), self.assertRaises(ValidationError) as ctx:
                Responsibility(area=self.w.tan_yen, year=2020, criteria_set=set_2016, **lead).full_clean()
            self.assertIn("đúng một người chủ trì", " ".join(ctx.exception.messages))


class PlanHistoryTests(PlanFixture, TestCase):
    def test_plan_changes_are_recorded_with_their_author(self):
        services.update_plan(
            user=self.w.admin,
            plan=self.plan,
            data=services.PlanData(title=self.plan.title, year=2024, number="05/KH-BCĐ", status="issued"),
        )
        self.assertEqual(Plan.history.filter(id=self.plan.pk).count(), 2)
        self.assertEqual(Plan.history.filter(id=self.plan.pk).first().history_user, self.w.admin)
