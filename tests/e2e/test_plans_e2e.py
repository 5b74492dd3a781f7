"""A commune officer adds a plan item with two funding lines and sees the plan's money change."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from plans import services
from plans.models import FundingSource
from tests.personas import PASSWORD, build_world

SHOTS = Path(os.environ.get("E2E_SCREENSHOTS", "/tmp/ntm-e2e"))

# live_server needs committed data; serialized_rollback restores the catalogues that the flush removes.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def plan():
    w = build_world()
    plan = services.create_plan(
        user=w.admin,
        area=w.hung_my,
        data=services.PlanData(title="Kế hoạch xây dựng xã đạt chuẩn NTM năm 2024", year=2024, number="05/KH-BCĐ"),
    )
    services.add_item(
        user=w.admin,
        plan=plan,
        data=services.ItemData(title="Hỗ trợ xi măng làm đường"),
        funding=[services.FundingInput(FundingSource.objects.get(code="NS_TINH"), "135")],
    )
    return plan


def test_officer_adds_an_item_with_two_funding_lines(page, live_server, plan):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{live_server.url}/dang-nhap/")
    page.fill("#id_username", "canbo.hungmy")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_load_state()

    page.goto(f"{live_server.url}/ke-hoach/van-ban/{plan.pk}/")
    expect(page.locator("#grand-planned")).to_have_text("135,0")

    page.get_by_role("link", name="Thêm nội dung").click()
    page.get_by_label("Nội dung công việc").fill("Làm mới 0,51 km đường trục thôn Nà Héc")
    page.get_by_label("Khối lượng").fill("0,51")
    page.get_by_label("Đơn vị tính").fill("km")
    page.get_by_label("Thời hạn").fill("Quý II/2024")
    page.select_option("#id_funding-0-source", label="Ngân sách huyện")
    page.fill("#id_funding-0-planned", "1.250,5")
    page.select_option("#id_funding-1-source", label="Nhân dân đóng góp")
    page.fill("#id_funding-1-planned", "45,2")
    page.screenshot(path=SHOTS / "plan-item-form.png", full_page=True)
    page.get_by_role("button", name="Lưu").click()
    page.wait_for_load_state()

    expect(page.get_by_text("Đã thêm nội dung")).to_be_visible()
    expect(page.locator("#grand-planned")).to_have_text("1.430,7")
    totals = page.locator("#funding-totals")
    expect(totals).to_contain_text("Ngân sách huyện")
    expect(totals).to_contain_text("1.250,5")
    expect(page.get_by_role("link", name="Làm mới 0,51 km đường trục thôn Nà Héc")).to_be_visible()
    expect(page.get_by_role("cell", name="0,51 km", exact=True)).to_be_visible()
    page.screenshot(path=SHOTS / "plan-detail-desktop.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=SHOTS / "plan-detail-390.png", full_page=True)


def test_officer_reports_progress_and_sees_the_timeline(page, live_server, plan):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{live_server.url}/dang-nhap/")
    page.fill("#id_username", "canbo.hungmy")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_load_state()
    page.goto(f"{live_server.url}/ke-hoach/van-ban/{plan.pk}/")
    page.get_by_role("link", name="Hỗ trợ xi măng làm đường").click()
    page.get_by_label("Tiến độ (%)").fill("60")
    page.get_by_label("Kết quả đã làm").fill("Đã cấp 120 tấn xi măng cho 3 thôn")
    page.get_by_role("button", name="Ghi nhận tiến độ").click()
    page.wait_for_load_state()
    expect(page.get_by_text("Đã ghi nhận tiến độ.")).to_be_visible()
    expect(page.locator(".timeline")).to_contain_text("Đã cấp 120 tấn xi măng cho 3 thôn")
    expect(page.locator(".timeline")).to_contain_text("Đang thực hiện")
    page.screenshot(path=SHOTS / "plan-item-detail.png", full_page=True)
    page.goto(f"{live_server.url}/ke-hoach/{plan.area_id}/")
    page.screenshot(path=SHOTS / "plan-list.png", full_page=True)
