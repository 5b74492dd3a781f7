"""A commune officer fills the exported Biểu 01, uploads it, checks the dry run, confirms, and sees the value."""

import io
import os
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from criteria.models import CriteriaSet, Indicator, IndicatorResult
from criteria.services import record_indicator_result
from reports import bieu
from tests.personas import PASSWORD, build_world

YEAR = 2024
SHOTS = Path(os.environ.get("E2E_SCREENSHOTS", "/tmp/ntm-e2e"))

# live_server needs committed data; serialized_rollback restores the catalogue that the flush removes.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def world(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    w = build_world()
    w.cset = CriteriaSet.objects.get(code="xa_ntm_2021_2025")
    w.ind = {i.code: i for i in Indicator.objects.in_set(w.cset)}
    record_indicator_result(area=w.hung_my, indicator=w.ind["15.1"], year=YEAR, value=Decimal("90.5"))
    return w


def filled_bieu01(w, path, text="93,1"):
    """The exported Biểu 01 with one value changed, as the officer would save it from Excel."""
    out = io.BytesIO()
    bieu.export(out, form="01", area=w.hung_my, year=YEAR, criteria_set=w.cset)
    out.seek(0)
    wb = load_workbook(out)
    ws = wb.worksheets[0]
    row = next(r[0].row for r in ws.iter_rows() if r[0].value == "15.1")
    ws.cell(row=row, column=5).value = text
    wb.save(path)
    return path


def test_officer_imports_a_changed_value_after_a_dry_run(page, live_server, world, tmp_path):
    SHOTS.mkdir(parents=True, exist_ok=True)
    upload = filled_bieu01(world, tmp_path / "Bieu01_hung-my_2024.xlsx")
    page.goto(f"{live_server.url}/dang-nhap/")
    page.fill("#id_username", "canbo.hungmy")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_load_state()

    page.goto(f"{live_server.url}/xuat-bieu/{world.hung_my.pk}/?nam={YEAR}")
    page.get_by_role("link", name="Nhập biểu từ Excel (Biểu 01, Biểu 03)").click()
    page.set_input_files("#id_file", str(upload))
    page.get_by_role("button", name="Tải lên và kiểm tra").click()
    page.wait_for_load_state()

    expect(page.locator("h1")).to_contain_text("Kiểm tra Biểu 01 năm 2024")
    expect(page.locator("#import-summary")).to_contain_text("1 dòng sẽ được ghi")
    change = page.locator("#changes tbody tr")
    expect(change).to_have_count(1)
    expect(change.locator("td.before")).to_have_text("90,5")
    expect(change.locator("td.after")).to_have_text("93,1")
    page.screenshot(path=SHOTS / "import-dry-run-desktop.png", full_page=True)
    size = page.viewport_size
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=SHOTS / "import-dry-run-390.png", full_page=True)
    page.set_viewport_size(size)
    assert IndicatorResult.objects.get(area=world.hung_my, indicator=world.ind["15.1"]).value == Decimal("90.5")

    page.get_by_role("button", name="Xác nhận và ghi").click()
    page.wait_for_load_state()
    assert "/khong-gian/" in page.url
    expect(page.locator(".messages")).to_contain_text("Đã nhập Biểu 01: 0 dòng thêm mới, 1 dòng thay đổi.")
    page.locator("#tile-15").click()
    page.wait_for_load_state()
    expect(page.locator(f"#ind-{world.ind['15.1'].pk} .value")).to_have_text("93,1 %")
    page.screenshot(path=SHOTS / "import-after-confirm-desktop.png", full_page=True)
    assert IndicatorResult.objects.get(area=world.hung_my, indicator=world.ind["15.1"]).value == Decimal("93.1")


def test_a_bad_number_is_shown_with_its_cell_and_nothing_can_be_confirmed(page, live_server, world, tmp_path):
    upload = filled_bieu01(world, tmp_path / "Bieu01_hung-my_2024.xlsx", text="12,3,4")
    page.goto(f"{live_server.url}/dang-nhap/")
    page.fill("#id_username", "canbo.hungmy")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_load_state()
    page.goto(f"{live_server.url}/nhap-bieu/{world.hung_my.pk}/")
    page.screenshot(path=SHOTS / "import-upload-desktop.png", full_page=True)
    page.set_input_files("#id_file", str(upload))
    page.get_by_role("button", name="Tải lên và kiểm tra").click()
    page.wait_for_load_state()

    expect(page.locator("#import-summary")).to_contain_text("Tệp bị từ chối: 1 ô sai. Không ghi gì.")
    bad = page.locator("#bad-cells tbody tr")
    expect(bad).to_have_count(1)
    expect(bad).to_contain_text("E · Kết quả")
    expect(bad).to_contain_text("“12,3,4” không phải là số")
    expect(page.get_by_role("button", name="Xác nhận và ghi")).to_have_count(0)
    page.screenshot(path=SHOTS / "import-bad-cells-desktop.png", full_page=True)
    assert IndicatorResult.objects.get(area=world.hung_my, indicator=world.ind["15.1"]).value == Decimal("90.5")
