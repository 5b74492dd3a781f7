"""Each persona's daily walk, on a desktop and on a phone: home pages that lead somewhere, long lists paged,
wide tables that scroll in their own box, accessible pages (axe-core) and words users say.

Screenshots of every page at both sizes go to $E2E_SCREENSHOTS (default /tmp/ntm-e2e/walk).
"""

import os
import re
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from plans import services as plan_services
from plans.models import parse_deadline
from tests.personas import PASSWORD

YEAR = 2024
SET = "xa_ntm_2021_2025"
SHOTS = Path(os.environ.get("E2E_SCREENSHOTS", "/tmp/ntm-e2e")) / "walk"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
AXE = Axe()
# Texts no page of the walk may show: synthetic codes, demo jargon, English, empty-choice dashes.
FORBIDDEN = re.compile(r"\bT-\d|\bX-\w|seed 0|Huyện mẫu|Choose File|No file chosen|mm/dd/yyyy|---------")

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def world(world):
    """The shared world (An Dương 17/19, Song Vân 16/19), and An Dương's plan of 30 items, 26 of them overdue."""
    w = world
    w.plan = plan_services.create_plan(
        user=w.admin,
        area=w.an_duong,
        data=plan_services.PlanData(
            title="Kế hoạch xây dựng xã An Dương đạt chuẩn NTM", year=YEAR, number="12/KH-UBND"
        ),
    )
    criteria = list(w.criteria_set.criteria.order_by("number"))
    for n in range(30):
        plan_services.add_item(
            user=w.admin,
            plan=w.plan,
            data=plan_services.ItemData(
                title=f"Việc số {n + 1} của tiêu chí {criteria[n % len(criteria)].number}",
                criterion=criteria[n % len(criteria)],
                deadline=parse_deadline(f"tháng {n % 12 + 1}/2024" if n < 26 else f"tháng {n % 12 + 1}/2099"),
            ),
            funding=[],
        )
    return w


def log_in(page, live_server, username):
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/dang-nhap/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_load_state()


def follow(page, link):
    """Click a link and wait for its page to load: look() would otherwise read the page in between (no document)."""
    href = link.get_attribute("href")
    link.click()
    page.wait_for_url(re.compile(re.escape(href) + "(#.*)?$"))


def look(page, name, problems):
    """Screenshot at both sizes, axe at both sizes, and no forbidden words; problems are collected."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        height = page.evaluate("document.documentElement.scrollHeight")
        clip = {"x": 0, "y": 0, "width": size["width"], "height": min(height, 2 * size["height"])}
        page.screenshot(path=SHOTS / f"{name}-{label}.png", full_page=True, clip=clip)
        results = AXE.run(page)
        for v in results.response["violations"]:
            if v["impact"] in ("serious", "critical"):
                targets = [n["target"] for n in v["nodes"][:3]]
                problems.append(f"{name} {label}: {v['id']} ({v['impact']}) {targets}")
        if label == "phone":
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            if overflow > 1:
                problems.append(f"{name} phone: page is {overflow}px wider than the screen")
    page.set_viewport_size(DESKTOP)
    found = FORBIDDEN.findall(page.locator("body").inner_text())
    if found:
        problems.append(f"{name}: shows {sorted(set(found))}")


def walk(page, live_server, names_and_paths):
    problems = []
    for name, path in names_and_paths:
        page.goto(live_server.url + path)
        look(page, name, problems)
    return problems


def first_column_stays(page, selector):
    """The table scrolls inside its own box (not the page) and its first column is sticky."""
    box = page.locator(selector).first
    assert box.evaluate("e => getComputedStyle(e).overflowX") == "auto"
    cell = box.locator("tbody tr").first.locator("th, td").first
    assert cell.evaluate("e => getComputedStyle(e).position") == "sticky"


def test_officer_walk(page, live_server, world):
    """Item 2 (home standing), 3 (overdue paging, plan index), 7 (phone tables), 8 (skip link, aria-current,
    live region after an inline save, file control), 9 (no codes, Vietnamese controls)."""
    page.set_viewport_size(DESKTOP)
    log_in(page, live_server, "canbo.anduong")
    q = f"?nam={YEAR}&bo={SET}"
    problems = walk(
        page,
        live_server,
        (
            ("officer-area", f"/dia-ban/{world.an_duong.pk}/"),
            ("officer-workspace", f"/khong-gian/{world.an_duong.pk}/{q}"),
            ("officer-dashboard", f"/bang-dieu-khien/{world.an_duong.pk}/{q}"),
            ("officer-item-form", f"/ke-hoach/van-ban/{world.plan.pk}/them-noi-dung/"),
        ),
    )

    # Home: the commune's standing with links.
    page.goto(live_server.url + "/")
    look(page, "officer-home", problems)
    card = page.locator(f"#xa-{world.an_duong.pk}")
    expect(card).to_contain_text("17/19")
    expect(card.get_by_role("link", name="6. Cơ sở vật chất văn hóa")).to_be_visible()
    expect(card).to_contain_text("cần đạt đủ các tiêu chí trước khi đề nghị huyện thẩm tra")
    expect(
        page.get_by_role("navigation", name="Điều hướng chính").get_by_role("link", name="Trang chủ")
    ).to_have_attribute("aria-current", "page")
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Bỏ qua, đến nội dung chính")

    # Overdue: 26 items on two pages, searchable.
    follow(page, card.get_by_role("link", name="26 việc quá hạn"))
    look(page, "officer-overdue", problems)
    expect(page.locator("#item-count")).to_have_text("26 nội dung")
    expect(page.locator("table tbody tr")).to_have_count(25)
    page.get_by_role("link", name="Trang sau ›").click()
    expect(page.locator("table tbody tr")).to_have_count(1)
    page.get_by_label("Nội dung có chữ").fill("Việc số 13 ")
    page.get_by_role("button", name="Tìm").click()
    expect(page.locator("table tbody tr")).to_have_count(1)

    # Plan: sections folded, an index opens the one asked for.
    page.goto(f"{live_server.url}/ke-hoach/van-ban/{world.plan.pk}/")
    look(page, "officer-plan", problems)
    expect(page.locator("#tc-6 table")).to_be_hidden()
    page.locator("#plan-index").get_by_role("link", name=re.compile(r"^TC 6\b")).click()
    expect(page.locator("#tc-6 table")).to_be_visible()
    page.set_viewport_size(PHONE)
    first_column_stays(page, "#tc-6 .table-wrap")
    page.set_viewport_size(DESKTOP)

    # Inline save: focus stays on the row, "Đã lưu" is announced; the file control speaks Vietnamese.
    page.goto(f"{live_server.url}/khong-gian/{world.an_duong.pk}/{q}")
    page.locator("#tile-7").click()
    page.wait_for_load_state()
    look(page, "officer-criterion", problems)
    row = page.locator("article.indicator").first
    expect(row.locator(".file-control")).to_contain_text("Chọn tệp…")
    row.get_by_text("Sửa kết quả").click()
    row.get_by_label("Đạt", exact=True).check()
    row.get_by_role("button", name="Lưu").click()
    expect(page.locator("#thong-bao")).to_have_text("Đã lưu")
    row_id = row.get_attribute("id")
    assert page.evaluate(f"document.getElementById('{row_id}').contains(document.activeElement)")
    assert not problems, "\n".join(problems)


def test_district_reviewer_walk(page, live_server, world):
    """Item 2 (communes at a glance), the dashboard's Xuất biểu link, matrix headers with scope, phone tables."""
    page.set_viewport_size(DESKTOP)
    log_in(page, live_server, "thamtra.tanyen")
    q = f"?nam={YEAR}&bo={SET}"
    problems = walk(page, live_server, (("district-recognition", f"/cong-nhan/{world.tan_yen.pk}/danh-sach/{q}"),))
    page.goto(live_server.url + "/")
    look(page, "district-home", problems)
    rows = page.locator("table.communes-glance tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("xã Song Vân")  # the weakest first
    expect(rows.nth(0)).to_contain_text("16/19")
    expect(rows.nth(1)).to_contain_text("17/19")
    expect(rows.nth(1).get_by_role("link", name="26")).to_have_attribute(
        "href", f"/ke-hoach/{world.an_duong.pk}/qua-han/"
    )
    page.set_viewport_size(PHONE)
    first_column_stays(page, ".standing .table-wrap")
    page.set_viewport_size(DESKTOP)

    follow(page, page.get_by_role("link", name="Bảng điều khiển").first)
    look(page, "district-dashboard", problems)
    expect(page.get_by_role("link", name="Xuất biểu", exact=True)).to_have_attribute(
        "href", f"/xuat-bieu/{world.tan_yen.pk}/{q}"
    )
    headers = page.locator("table.matrix thead th")
    assert headers.count() == 3 + 19
    assert all(h.get_attribute("scope") == "col" for h in headers.all())
    assert not problems, "\n".join(problems)


def test_province_reviewer_walk(page, live_server, world):
    """A province reviewer's home lists the communes below it; its dashboard names no synthetic code."""
    page.set_viewport_size(DESKTOP)
    log_in(page, live_server, "thamdinh.bacgiang")
    q = f"?nam={YEAR}&bo={SET}"
    problems = walk(page, live_server, (("province-dashboard", f"/bang-dieu-khien/{world.bac_giang.pk}/{q}"),))
    page.goto(live_server.url + "/")
    look(page, "province-home", problems)
    expect(page.locator("table.communes-glance tbody tr")).to_have_count(3)
    page.get_by_label("Tên xã").fill("tăng")
    page.get_by_role("button", name="Tìm").click()
    expect(page.locator("table.communes-glance tbody tr")).to_have_count(1)
    assert not problems, "\n".join(problems)


def test_superuser_walk(page, live_server, world):
    """The header leads to the national dashboard and the audit log; the provinces are searchable by map; the audit
    dates are typed dd/mm/yyyy; the admin's menus have no "---------"."""
    page.set_viewport_size(DESKTOP)
    log_in(page, live_server, "quantri")
    problems = walk(page, live_server, (("admin-provinces", "/admin/areas/area/?level=province"),))
    page.goto(live_server.url + "/")
    look(page, "admin-home", problems)
    expect(page.locator("#provinces li")).to_have_count(34)
    page.get_by_label("Bản đồ hành chính").select_option("truoc-sap-nhap")
    page.get_by_label("Tên tỉnh, thành phố").fill("Bắc")
    page.get_by_role("button", name="Lọc").click()
    expect(page.locator("#provinces")).to_contain_text("tỉnh Bắc Giang")
    expect(page.locator("#provinces")).not_to_contain_text("Đồng Nai")

    nav = page.get_by_role("navigation", name="Điều hướng chính")
    follow(page, nav.get_by_role("link", name="Bảng điều khiển toàn quốc"))
    look(page, "admin-national", problems)
    expect(nav.get_by_role("link", name="Bảng điều khiển toàn quốc")).to_have_attribute("aria-current", "page")
    follow(page, nav.get_by_role("link", name="Nhật ký thay đổi"))
    look(page, "admin-audit", problems)
    since = page.get_by_label("Từ ngày")
    expect(since).to_have_attribute("placeholder", "dd/mm/yyyy")
    since.fill("01/01/2099")
    page.get_by_role("button", name="Lọc").click()
    expect(page.get_by_label("Từ ngày")).to_have_value("01/01/2099")
    expect(page.get_by_text("Không có thay đổi nào khớp với bộ lọc.")).to_be_visible()
    assert not problems, "\n".join(problems)
