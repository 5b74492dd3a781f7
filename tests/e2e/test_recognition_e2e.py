"""One commune walks from submission to recognition, each step taken by a different person in the browser."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from criteria.models import CriteriaSet
from recognition.models import RecognitionFile, Stage
from tests.personas import PASSWORD, build_world
from tests.test_recognition import meet_every_criterion

YEAR = 2019
SHOTS = Path(os.environ.get("E2E_SCREENSHOTS", "/tmp/ntm-e2e"))

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def world():
    w = build_world()
    w.set_2016 = CriteriaSet.objects.get(code="xa_ntm_2016_2020")
    meet_every_criterion(w.an_duong, w.set_2016)
    return w


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/dang-nhap/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_load_state()


def log_out(page):
    page.get_by_role("button", name="Đăng xuất").click()
    page.wait_for_load_state()


def shoot(page, name):
    page.screenshot(path=SHOTS / f"{name}-desktop.png", full_page=True)
    size = page.viewport_size
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=SHOTS / f"{name}-390.png", full_page=True)
    page.set_viewport_size(size)


def take(page, action, button):
    form = page.locator(f'form[data-action="{action}"]')
    form.get_by_role("button", name=button).click()
    page.wait_for_load_state()


def test_commune_goes_from_submitted_to_recognised(page, live_server, world):
    SHOTS.mkdir(parents=True, exist_ok=True)
    url = f"{live_server.url}/cong-nhan/{world.an_duong.pk}/?nam={YEAR}&bo=xa_ntm_2016_2020"
    stage = page.get_by_test_id("stage")

    # The commune officer records the survey, sees nothing missing and submits.
    log_in(page, live_server, "canbo.anduong")
    page.goto(url)
    expect(page.get_by_test_id("missing")).to_contain_text("Chưa ghi kết quả lấy ý kiến sự hài lòng")
    page.get_by_text("Sửa tháng dự kiến và kết quả lấy ý kiến").click()
    page.get_by_label("Tháng dự kiến thẩm tra").fill("tháng 10/2019")
    page.get_by_label("Tháng dự kiến thẩm định").fill("tháng 11/2019")
    page.get_by_label("Tỷ lệ người dân hài lòng (%)").fill("92,5")
    page.get_by_role("button", name="Lưu thông tin hồ sơ").click()
    page.wait_for_load_state()
    expect(page.get_by_test_id("satisfaction")).to_have_text("92,5 %")
    expect(page.get_by_test_id("ready")).to_be_visible()
    shoot(page, "recognition-preparing")
    page.locator('form[data-action="submit"]').get_by_label("Ý kiến").fill("Xã đã hoàn thành 19/19 tiêu chí")
    take(page, "submit", "Nộp hồ sơ đề nghị thẩm tra")
    expect(stage).to_have_text("Xã đã nộp hồ sơ")
    expect(page.get_by_test_id("waiting")).to_have_text("Chờ huyện thẩm tra")
    log_out(page)

    # The Tân Yên reviewer sees the commune waiting on the district list, and verifies.
    log_in(page, live_server, "thamtra.tanyen")
    page.goto(f"{live_server.url}/cong-nhan/{world.tan_yen.pk}/danh-sach/?nam={YEAR}&bo=xa_ntm_2016_2020")
    row = page.locator(f'tr[data-area="{world.an_duong.pk}"]')
    expect(row).to_contain_text("Chờ huyện thẩm tra")
    expect(row).to_contain_text("tháng 11/2019")
    shoot(page, "recognition-list")
    row.get_by_role("link").click()
    page.wait_for_load_state()
    expect(page.locator('form[data-action="appraise"]')).to_have_count(0)
    take(page, "verify", "Thẩm tra: đạt")
    expect(stage).to_have_text("Huyện đã thẩm tra")
    log_out(page)

    # The Bắc Giang reviewer appraises.
    log_in(page, live_server, "thamdinh.bacgiang")
    page.goto(url)
    take(page, "appraise", "Thẩm định: đạt")
    expect(stage).to_have_text("Tỉnh đã thẩm định")
    log_out(page)

    # The administrator records the decision.
    log_in(page, live_server, "quantri")
    page.goto(url)
    form = page.locator('form[data-action="record_decision"]')
    form.get_by_label("Số quyết định").fill("2345/QĐ-UBND")
    form.get_by_label("Ngày quyết định").fill("2019-12-20")
    form.get_by_label("Người ký").fill("Chủ tịch UBND tỉnh Bắc Giang")
    take(page, "record_decision", "Ghi quyết định công nhận")
    expect(stage).to_have_text("Đã công nhận")
    expect(page.get_by_test_id("decision")).to_contain_text("2345/QĐ-UBND ngày 20/12/2019")
    timeline = page.get_by_test_id("timeline").locator("> li")
    expect(timeline).to_have_count(4)
    expect(timeline.first).to_contain_text("Ghi quyết định công nhận")
    expect(timeline.last).to_contain_text("Nguyễn Thị Lan")
    expect(timeline.last).to_contain_text("Xã đã hoàn thành 19/19 tiêu chí")
    shoot(page, "recognition-recognised")

    file = RecognitionFile.objects.get(area=world.an_duong)
    assert file.stage == Stage.RECOGNISED
    assert [s.actor.username for s in file.steps.order_by("at", "pk")] == [
        "canbo.anduong",
        "thamtra.tanyen",
        "thamdinh.bacgiang",
        "quantri",
    ]
