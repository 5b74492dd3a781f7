"""A district reviewer reads the Tân Yên dashboard and opens a lagging commune from it."""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.personas import PASSWORD

YEAR = 2024
SHOTS = Path(os.environ.get("E2E_SCREENSHOTS", "/tmp/ntm-e2e"))

# live_server needs committed data; serialized_rollback restores the catalogue that the flush removes.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/dang-nhap/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_load_state()


def test_district_reviewer_reads_the_dashboard_and_opens_a_commune(page, live_server, world):
    SHOTS.mkdir(parents=True, exist_ok=True)
    log_in(page, live_server, "thamtra.tanyen")
    page.goto(f"{live_server.url}/bang-dieu-khien/{world.tan_yen.pk}/")

    expect(page.get_by_role("heading", level=1)).to_have_text("Bảng điều khiển — huyện Tân Yên")
    expect(page.locator("#full-count")).to_contain_text("0xã đạt 19/19 tiêu chí")
    matrix = page.locator("table.matrix")
    expect(matrix.get_by_role("row", name=re.compile("An Dương"))).to_contain_text("17/19")
    expect(matrix.get_by_role("row", name=re.compile("Song Vân"))).to_contain_text("16/19")
    ranking = page.locator("#xep-hang ol.hbars li")
    expect(ranking.nth(0)).to_contain_text("6. Cơ sở vật chất văn hóa")
    expect(ranking.nth(1)).to_contain_text("17. Môi trường và an toàn thực phẩm")
    expect(ranking.nth(2)).to_contain_text("2. Giao thông")
    # No decision recognises either commune: the official share is 0/2, whatever the self-assessment says.
    expect(page.locator("#full-share")).to_contain_text("Tỷ lệ xã đạt chuẩn NTM (đã được công nhận): 0/2 = 0,0 %")
    expect(page.locator("#recognised-count")).to_contain_text("(0/2)")

    page.screenshot(path=SHOTS / "dashboard-desktop.png", full_page=True)
    size = page.viewport_size
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=SHOTS / "dashboard-390.png", full_page=True)
    page.set_viewport_size(size)

    # The band column opens the matrix filtered to the communes 1–4 criteria short.
    page.locator("svg.chart-bands a").nth(1).click()
    expect(page).to_have_url(re.compile(r"nhom=15-18"))
    expect(matrix.locator("tbody tr")).to_have_count(2)

    matrix.get_by_role("link", name="xã An Dương").click()
    expect(page).to_have_url(re.compile(rf"/khong-gian/{world.an_duong.pk}/\?nam={YEAR}&bo=xa_ntm_2021_2025"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("An Dương")
    page.screenshot(path=SHOTS / "dashboard-commune-desktop.png", full_page=True)
