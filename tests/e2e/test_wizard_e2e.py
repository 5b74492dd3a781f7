"""A district officer imports a wide workbook for all the district's communes through the wizard, corrects one
proposed column, sees the dry run, commits, and finds the results in the dashboard."""

import os
import re
from pathlib import Path

import pytest
from openpyxl import Workbook
from playwright.sync_api import expect

from areas.models import RoleKind
from criteria.models import CriterionResult
from tests.personas import PASSWORD, build_world, make_user

YEAR = 2024
SHOTS = Path(os.environ.get("E2E_SCREENSHOTS", "/tmp/ntm-e2e"))

# live_server needs committed data; serialized_rollback restores the catalogue that the flush removes.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def world():
    w = build_world()
    w.district_officer = make_user("canbo.tanyen", w.tan_yen, RoleKind.OFFICER)
    return w


def district_summary(path):
    """Tân Yên's summary as the district keeps it: one row per commune, TC1 … TC19 with marks — except that the
    office headed criterion 17's column "Môi trường", which the portal cannot tell is a criterion."""
    headings = [f"TC{n}" for n in range(1, 20)]
    headings[16] = "Môi trường"
    book = Workbook()
    sheet = book.active
    sheet.title = "Tổng hợp"
    sheet.append([f"TỔNG HỢP KẾT QUẢ THỰC HIỆN BỘ TIÊU CHÍ XÃ NÔNG THÔN MỚI NĂM {YEAR} HUYỆN TÂN YÊN"])
    sheet.append([])
    sheet.append(["TT", "Tên xã", "Số tiêu chí đạt", *headings, "Ghi chú"])
    sheet.append([1, "Xã An Dương", 19, *["x"] * 19, ""])
    sheet.append([2, "Song Vân", 18, "x", "Chưa đạt", *["x"] * 17, "Giao thông chưa đạt"])
    sheet.append(["", "Cộng", 37])
    book.save(path)
    return path


def test_district_officer_imports_the_summary_through_the_wizard(page, live_server, world, tmp_path):
    SHOTS.mkdir(parents=True, exist_ok=True)
    upload = district_summary(tmp_path / f"tong-hop-tan-yen-{YEAR}.xlsx")
    page.goto(f"{live_server.url}/dang-nhap/")
    page.fill("#id_username", "canbo.tanyen")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_load_state()

    page.goto(f"{live_server.url}/bang-dieu-khien/{world.tan_yen.pk}/")
    page.get_by_role("link", name="Nhập số liệu", exact=True).click()
    page.wait_for_load_state()
    page.set_input_files("#id_file", str(upload))
    page.get_by_role("button", name="Tải lên").click()
    page.wait_for_load_state()

    # One sheet: straight to the mapping, read as one row per commune, year and set taken from the title.
    expect(page.locator("h1")).to_have_text("Ghép cột với số liệu của cổng")
    expect(page.locator("#id_layout")).to_have_value("wide")
    expect(page.locator("#id_year")).to_have_value(str(YEAR))
    expect(page.locator("#skipped-rows")).to_contain_text("Dòng 6: dòng tổng cộng")
    expect(page.get_by_label("TC16", exact=True)).to_have_value("criterion:16")
    environment = page.get_by_label("Môi trường", exact=True)
    expect(environment).to_have_value("")
    environment.select_option(label="Tiêu chí 17. Môi trường và an toàn thực phẩm")
    page.screenshot(path=SHOTS / "wizard-mapping-desktop.png", full_page=True)
    page.get_by_role("button", name="Xem thử").click()
    page.wait_for_load_state()

    # The dry run: 19 verdicts for each commune, criterion 17 among them, nothing written yet.
    expect(page.locator("#import-summary")).to_contain_text("38 mục sẽ được ghi")
    changes = page.locator("#changes tbody tr")
    expect(changes).to_have_count(38)
    expect(changes.filter(has_text="Tiêu chí 17.")).to_have_count(2)
    song_van_2 = changes.filter(has_text="Song Vân").filter(has_text="Tiêu chí 2.")
    expect(song_van_2.locator("td.after")).to_have_text("Chưa đạt")
    page.screenshot(path=SHOTS / "wizard-dry-run-desktop.png", full_page=True)
    assert not CriterionResult.objects.filter(area__in=[world.an_duong, world.song_van], year=YEAR).exists()

    page.locator("#commit").click()
    page.wait_for_load_state()

    # Back on the district's dashboard for the year, with both communes' verdicts.
    expect(page).to_have_url(re.compile(rf"/bang-dieu-khien/{world.tan_yen.pk}/\?nam={YEAR}"))
    expect(page.locator(".messages")).to_contain_text("Đã ghi: 38 mục thêm mới, 0 mục thay đổi, cho 2 xã.")
    matrix = page.locator("table.matrix")
    expect(matrix.get_by_role("row", name=re.compile("An Dương"))).to_contain_text("19/19")
    expect(matrix.get_by_role("row", name=re.compile("Song Vân"))).to_contain_text("18/19")
    expect(page.locator("#full-count")).to_contain_text("1xã đạt 19/19 tiêu chí")
    page.screenshot(path=SHOTS / "wizard-dashboard-desktop.png", full_page=True)
    row = CriterionResult.objects.get(area=world.an_duong, year=YEAR, criterion__number=17)
    assert (row.assessed_status, row.status) == ("met", "met")
