"""A commune officer keeps the criteria current in the browser."""

import datetime
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from criteria.models import CriteriaSet, Indicator, IndicatorResult
from tests.personas import PASSWORD, build_world

YEAR = 2024
SHOTS = Path(os.environ.get("E2E_SCREENSHOTS", "/tmp/ntm-e2e"))


# live_server needs committed data; serialized_rollback restores the catalogue that the flush removes.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def world():
    return build_world()


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/dang-nhap/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_load_state()


def open_criterion(page, live_server, area, number, screenshots=False):
    criteria_set = CriteriaSet.objects.national().for_level("commune").covering(YEAR).get(tier="standard")
    page.goto(f"{live_server.url}/khong-gian/{area.pk}/?nam={YEAR}&bo={criteria_set.code}")
    if screenshots:
        page.screenshot(path=SHOTS / "workspace-desktop.png", full_page=True)
        size = page.viewport_size
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=SHOTS / "workspace-390.png", full_page=True)
        page.set_viewport_size(size)
    page.locator(f"#tile-{number}").click()
    page.wait_for_load_state()
    return {i.code: i for i in Indicator.objects.in_set(criteria_set)}


def test_officer_meets_a_criterion_and_sees_count_and_history(page, live_server, world):
    SHOTS.mkdir(parents=True, exist_ok=True)
    log_in(page, live_server, "canbo.anduong")
    indicators = open_criterion(page, live_server, world.an_duong, 7, screenshots=True)
    count = page.get_by_test_id("met-count")
    expect(count).to_have_text("0/19 tiêu chí đạt")
    page.screenshot(path=SHOTS / "workspace-criterion-desktop.png", full_page=True)

    card = page.locator(f"#ind-{indicators['7'].pk}")
    card.get_by_text("Sửa kết quả").click()
    card.get_by_label("Đạt", exact=True).check()
    card.get_by_label("Ghi chú").fill("Chợ xã đã nghiệm thu")
    url_before = page.url
    card.get_by_role("button", name="Lưu").click()

    expect(count).to_have_text("1/19 tiêu chí đạt")
    expect(page.locator("#tile-7")).to_have_attribute("data-status", "met")
    expect(page.locator(f"#ind-{indicators['7'].pk} .badge").first).to_have_text("Đạt")
    assert page.url == url_before  # updated in place, no reload
    page.screenshot(path=SHOTS / "workspace-after-save-desktop.png", full_page=True)
    assert IndicatorResult.objects.get(area=world.an_duong, indicator=indicators["7"]).boolean is True

    page.locator(f"#ind-{indicators['7'].pk}").get_by_role("link", name="Lịch sử thay đổi").click()
    page.wait_for_load_state()
    entry = page.locator("ol.history li").first
    page.screenshot(path=SHOTS / "history-desktop.png", full_page=True)
    expect(entry).to_contain_text("Nguyễn Thị Lan")
    expect(entry).to_contain_text("Chợ xã đã nghiệm thu")
    expect(entry.locator("td.after").first).to_have_text("Đạt")
    today = datetime.date.today().strftime("%d/%m/%Y")
    expect(entry).to_contain_text(re.compile(r"\d\d:\d\d " + re.escape(today[:2])))


def test_wrong_number_is_refused_next_to_the_field(page, live_server, world):
    SHOTS.mkdir(parents=True, exist_ok=True)
    log_in(page, live_server, "canbo.anduong")
    indicators = open_criterion(page, live_server, world.an_duong, 2)
    card = page.locator(f"#ind-{indicators['2.2'].pk}")
    card.get_by_text("Sửa kết quả").click()
    card.get_by_label("Tử số").fill("12,3,4")
    card.get_by_label("Mẫu số").fill("1.413")
    card.get_by_role("button", name="Lưu").click()

    card = page.locator(f"#ind-{indicators['2.2'].pk}")
    error = card.locator(f"#id_i{indicators['2.2'].pk}-numerator_error")
    expect(error).to_contain_text("Số không hợp lệ")
    expect(card.get_by_label("Tử số")).to_have_value("12,3,4")
    expect(page.get_by_test_id("met-count")).to_have_text("0/19 tiêu chí đạt")
    assert not IndicatorResult.objects.exists()
    card.scroll_into_view_if_needed()
    page.set_viewport_size({"width": 390, "height": 844})
    card.scroll_into_view_if_needed()
    page.screenshot(path=SHOTS / "workspace-error-390.png")


def test_officer_corrects_a_value_right_after_saving_it(page, live_server, world):
    log_in(page, live_server, "canbo.anduong")
    indicators = open_criterion(page, live_server, world.an_duong, 7)
    count = page.get_by_test_id("met-count")
    card = page.locator(f"#ind-{indicators['7'].pk}")
    card.get_by_text("Sửa kết quả").click()
    card.get_by_label("Đạt", exact=True).check()
    card.get_by_role("button", name="Lưu").click()
    expect(count).to_have_text("1/19 tiêu chí đạt")

    # The row the save sent back carries its form again, on the version just saved: a second save lands.
    card = page.locator(f"#ind-{indicators['7'].pk}")
    card.get_by_text("Sửa kết quả").click()
    card.get_by_label("Không đạt", exact=True).check()
    card.get_by_role("button", name="Lưu").click()
    expect(count).to_have_text("0/19 tiêu chí đạt")
    expect(page.locator("#tile-7")).to_have_attribute("data-status", "not_met")
    result = IndicatorResult.objects.get(area=world.an_duong, indicator=indicators["7"])
    assert (result.boolean, result.version) == (False, 2)
