"""Each persona's daily walk, on a desktop and on a phone: home pages that lead somewhere, long lists paged,
wide tables that scroll in their own box, accessible pages (axe-core) and words users say.

Screenshots of every page at both sizes go to $E2E_SCREENSHOTS (default /tmp/ntm-e2e/walk).
"""

import datetime
import os
import re
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from criteria import services as criteria_services
from criteria.models import CriteriaSet
from plans import services as plan_services
from plans.models import parse_deadline
from tests.personas import PASSWORD, build_world

YEAR = 2024
SET = "xa_ntm_2021_2025"
SHOTS = Path(os.environ.get("E2E_SCREENSHOTS", "/tmp/ntm-e2e")) / "walk"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
AXE = Axe()
# Texts no page of the walk may show: synthetic codes, demo jargon, English, empty-choice dashes.
FORBIDDEN = re.compile(r"Mã T-|T-07234|seed 0|Huyện mẫu|Choose File|No file chosen|mm/dd/yyyy|---------|thẩm tra tỉnh")

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "vi-VN"}


@pytest.fixture
def world():
    """An Dương 17/19 lacking 6 and 17, Song Vân 16/19; An Dương's plan has 30 items, 26 of them overdue."""
    w = build_world()
    w.criteria_set = CriteriaSet.objects.get(code=SET)
    for commune, unmet in ((w.an_duong, {6, 17}), (w.song_van, {2, 6, 17})):
        for criterion in w.criteria_set.criteria.all():
            criteria_services.assess_criterion(
                area=commune,
                criterion=criterion,
                year=YEAR,
                status="not_met" if criterion.number in unmet else "met",
                user=w.reviewer_tan_yen,
            )
    w.plan = plan_services.create_plan(
        user=w.admin,
        area=w.an_duong,
        data=plan_services.PlanData(title="Kế hoạch xây dựng xã An Dương đạt chuẩn NTM", year=YEAR, number="12/KH-UBND"),
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


def look(page, name, problems):
    """Screenshot at both sizes, axe at both sizes, and no forbidden words; problems are collected."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.screenshot(path=SHOTS / f"{name}-{label}.png", full_page=True)
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


def test_walk(page, live_server, world):
    problems = []
    page.set_viewport_size(DESKTOP)
    url = live_server.url
    q = f"?nam={YEAR}&bo={SET}"
    log_in(page, live_server, "canbo.anduong")
    for name, path in (
        ("officer-home", "/"),
        ("officer-workspace", f"/khong-gian/{world.an_duong.pk}/{q}"),
        ("officer-plan", f"/ke-hoach/van-ban/{world.plan.pk}/"),
        ("officer-overdue", f"/ke-hoach/{world.an_duong.pk}/qua-han/"),
        ("officer-dashboard", f"/bang-dieu-khien/{world.an_duong.pk}/{q}"),
        ("officer-item-form", f"/ke-hoach/van-ban/{world.plan.pk}/them-noi-dung/"),
    ):
        page.goto(url + path)
        look(page, name, problems)
    log_in(page, live_server, "thamtra.tanyen")
    for name, path in (
        ("district-home", "/"),
        ("district-dashboard", f"/bang-dieu-khien/{world.tan_yen.pk}/{q}"),
        ("district-overdue", f"/ke-hoach/{world.tan_yen.pk}/qua-han/"),
        ("district-recognition", f"/cong-nhan/{world.tan_yen.pk}/danh-sach/{q}"),
    ):
        page.goto(url + path)
        look(page, name, problems)
    log_in(page, live_server, "thamdinh.bacgiang")
    for name, path in (
        ("province-home", "/"),
        ("province-dashboard", f"/bang-dieu-khien/{world.bac_giang.pk}/{q}"),
    ):
        page.goto(url + path)
        look(page, name, problems)
    log_in(page, live_server, "quantri")
    for name, path in (
        ("admin-home", "/"),
        ("admin-national", f"/bang-dieu-khien/{q}"),
        ("admin-audit", "/kiem-tra/"),
        ("admin-provinces", "/admin/areas/area/"),
    ):
        page.goto(url + path)
        look(page, name, problems)
    assert not problems, "\n".join(problems)
    _ = datetime
    expect(page.locator("body")).to_be_visible()
