"""What a commune officer trips over in daily use (#18): the district's work for the commune, numbers as typed,
many funding lines on a phone, and a deletion that asks first and can be undone."""

import datetime
import os
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from playwright.sync_api import expect

from criteria import evidence as evidence_files
from criteria.models import CriteriaSet, Evidence, Indicator, IndicatorKind, IndicatorResult
from plans import services
from plans.models import PlanItem, parse_deadline
from tests.personas import PASSWORD, build_world

YEAR = 2024
SHOTS = Path(os.environ.get("E2E_SCREENSHOTS", "/tmp/ntm-e2e"))
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n%%EOF\n"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

# live_server needs committed data; serialized_rollback restores the catalogue that the flush removes.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def world():
    return build_world()


def commune_set():
    return CriteriaSet.objects.national().for_level("commune").covering(YEAR).get(tier="standard")


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/dang-nhap/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_load_state()


def open_criterion(page, live_server, area, number):
    page.goto(f"{live_server.url}/khong-gian/{area.pk}/?nam={YEAR}&bo={commune_set().code}")
    page.locator(f"#tile-{number}").click()
    page.wait_for_load_state()


def test_officer_sees_the_district_items_for_the_commune(page, live_server, world):
    district_plan = services.create_plan(
        user=world.admin, area=world.tan_yen, data=services.PlanData(title="Kế hoạch NTM huyện Tân Yên", year=YEAR)
    )
    last_month = timezone.localdate().replace(day=1) - datetime.timedelta(days=1)
    services.add_item(
        user=world.admin,
        plan=district_plan,
        data=services.ItemData(
            title="Cứng hóa đường trục thôn Đồng Lạng",
            area=world.an_duong_village,
            deadline=parse_deadline(f"tháng {last_month.month}/{last_month.year}"),
        ),
    )
    log_in(page, live_server, "canbo.anduong")
    page.goto(f"{live_server.url}/ke-hoach/{world.an_duong.pk}/")
    expect(page.get_by_text("Chưa có kế hoạch nào")).to_have_count(0)
    expect(page.locator("#items-from-above")).to_contain_text("Cứng hóa đường trục thôn Đồng Lạng")
    overdue = page.get_by_role("link", name="Quá hạn")
    expect(overdue).to_contain_text("1")
    overdue.click()
    page.wait_for_load_state()
    page.get_by_role("link", name="Cứng hóa đường trục thôn Đồng Lạng").click()
    page.wait_for_load_state()
    expect(page.get_by_role("heading", name="Cứng hóa đường trục thôn Đồng Lạng")).to_be_visible()
    expect(page.get_by_text("huyện Tân Yên").first).to_be_visible()


def test_officer_types_a_ratio_and_a_percentage_as_written(page, live_server, world):
    criteria_set = commune_set()
    percentages = list(
        Indicator.objects.in_set(criteria_set)
        .filter(criterion__number=2, kind=IndicatorKind.PERCENTAGE)
        .order_by("sort_key")[:2]
    )
    log_in(page, live_server, "canbo.anduong")
    open_criterion(page, live_server, world.an_duong, 2)
    for indicator, typed, shown in [
        (percentages[0], "1.276/1.413", "1.276/1.413 = 90,3 %"),
        (percentages[1], "90,3 %", "90,3 %"),
    ]:
        card = page.locator(f"#ind-{indicator.pk}")
        card.get_by_text("Sửa kết quả").click()
        card.locator(f"#id_i{indicator.pk}-value").fill(typed)
        card.get_by_role("button", name="Lưu").click()
        expect(page.locator(f"#ind-{indicator.pk}")).to_contain_text(shown)
    first = IndicatorResult.objects.get(area=world.an_duong, indicator=percentages[0], year=YEAR)
    assert (first.numerator, first.denominator) == (1276, 1413)
    second = IndicatorResult.objects.get(area=world.an_duong, indicator=percentages[1], year=YEAR)
    assert str(second.value.normalize()) == "90.3"


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_officer_adds_an_item_with_many_funding_lines(page, live_server, world, viewport):
    SHOTS.mkdir(parents=True, exist_ok=True)
    plan = services.create_plan(
        user=world.admin,
        area=world.an_duong,
        data=services.PlanData(title="Kế hoạch NTM xã An Dương", year=YEAR, criteria_set=commune_set()),
    )
    page.set_viewport_size(viewport)
    log_in(page, live_server, "canbo.anduong")
    page.goto(f"{live_server.url}/ke-hoach/van-ban/{plan.pk}/them-noi-dung/")
    page.get_by_label("Nội dung công việc").fill("Nâng cấp nhà văn hóa thôn Đồng Lạng")

    # The indicator list follows the chosen criterion.
    page.select_option("#id_criterion", label="Tiêu chí 6. Cơ sở vật chất văn hóa")
    offered = page.locator("#id_indicator option").all_inner_texts()
    assert offered[1:] and all(text.startswith("6.") for text in offered[1:]), offered

    sources = ["Ngân sách tỉnh", "Ngân sách huyện", "Ngân sách xã", "Nhân dân đóng góp"]
    for number, source in enumerate(sources[:3]):
        line = page.locator("fieldset.funding-line").nth(number)
        line.get_by_label("Nguồn vốn").select_option(label=source)
        line.get_by_label("Vốn kế hoạch").fill(f"{number + 1}00,5")
    page.get_by_role("button", name="Thêm dòng vốn").click()
    fourth = page.locator("fieldset.funding-line").nth(3)
    expect(fourth.locator("legend")).to_have_text("Dòng vốn 4")
    fourth.get_by_label("Nguồn vốn").select_option(label=sources[3])
    fourth.get_by_label("Vốn kế hoạch").fill("45,2")
    fourth.get_by_label("Đã giải ngân").fill("10")
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    page.screenshot(path=SHOTS / f"plan-item-funding-{viewport['width']}.png", full_page=True)
    page.get_by_role("button", name="Lưu").click()
    page.wait_for_load_state()

    expect(page.get_by_text("Đã thêm nội dung")).to_be_visible()
    expect(page.locator("#grand-planned")).to_have_text("646,7")
    item = PlanItem.objects.get(title="Nâng cấp nhà văn hóa thôn Đồng Lạng")
    assert item.funding_lines.count() == 4


def test_officer_deletes_evidence_confirms_and_undoes(page, live_server, world):
    indicator = Indicator.objects.in_set(commune_set()).get(code="7")
    evidence = evidence_files.add_evidence(
        area=world.an_duong,
        indicator=indicator,
        year=YEAR,
        upload=SimpleUploadedFile("bien-ban-nghiem-thu.pdf", PDF),
        user=world.officer_an_duong,
    )
    log_in(page, live_server, "canbo.anduong")
    open_criterion(page, live_server, world.an_duong, 7)
    card = page.locator(f"#ind-{indicator.pk}")
    card.get_by_role("link", name="Xóa bien-ban-nghiem-thu.pdf").click()
    page.wait_for_load_state()
    expect(page.get_by_role("heading", name="Xóa minh chứng “bien-ban-nghiem-thu.pdf”?")).to_be_visible()
    page.get_by_role("button", name="Xóa tệp này").click()
    page.wait_for_load_state()

    card = page.locator(f"#ind-{indicator.pk}")
    expect(card.get_by_role("link", name="bien-ban-nghiem-thu.pdf", exact=True)).to_have_count(0)
    assert not Evidence.objects.filter(pk=evidence.pk).exists()
    card.get_by_role("button", name="Hoàn tác xóa bien-ban-nghiem-thu.pdf").click()
    page.wait_for_load_state()
    expect(page.get_by_text("Đã khôi phục bien-ban-nghiem-thu.pdf.")).to_be_visible()
    expect(
        page.locator(f"#ind-{indicator.pk}").get_by_role("link", name="bien-ban-nghiem-thu.pdf", exact=True)
    ).to_be_visible()
    assert Evidence.objects.filter(pk=evidence.pk).exists()
