"""The resident's journey in Chromium: QR page → report with a real photo → my cases →
resolved by staff → rated 不满意 → reopened; the same anonymously with a tracking code;
我也遇到 on a nearby case; a draft kept offline and sent when the network returns."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from linge.cases import workflow
from linge.cases.models import Attachment, Case, State
from linge.cases.photos import store_photo
from linge.resident.qr import grid_qr_path
from tests.browser import screenshot, wait_until
from tests.resident.conftest import jpeg_bytes, last_code, write_jpeg

pytestmark = pytest.mark.browser
XSS = "<script>alert(1)</script>"


@pytest.fixture
def dialogs(page) -> list[str]:
    seen: list[str] = []

    def on_dialog(dialog) -> None:
        seen.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return seen


def log_in(page, base: str, phone: str, shot: str | None = None) -> None:
    page.goto(f"{base}/login?next=/mine")
    page.fill("#phone", phone)
    page.click("button[value=send]")
    page.wait_for_selector("#code")
    page.fill("#code", last_code(phone))
    if shot:
        screenshot(page, shot)
    page.click("button[value=verify]")
    page.wait_for_url(f"{base}/mine")


def resolve(city, case: Case) -> None:
    """Staff accept and resolve through the workflow, with an after-photo."""
    workflow.accept(case, city["full_time"])
    after = store_photo(SimpleUploadedFile("after.jpg", jpeg_bytes(color="green"), "image/jpeg"))
    workflow.resolve(case, city["full_time"], note="已派车清运", reply="垃圾已清运",
                     after_photos=[after])


def open_report(page) -> None:
    page.click("#report")
    page.wait_for_selector("html[data-ready]")  # report.js has started


def fill_report(page, tmp_path, text: str) -> None:
    page.fill("#desc", text)
    wait_until(page, "document.getElementById('cat').value !== ''")  # suggested
    photo = write_jpeg(tmp_path / "before.jpg", gps=(121.305, 28.305))
    page.set_input_files("#ph", str(photo))
    page.wait_for_selector("#thumbs img")
    page.check("#pgps")


def test_report_follow_and_reopen(live_server, page, city, tmp_path, dialogs) -> None:
    base = live_server.url
    log_in(page, base, "13900000001", shot="resident-login")
    page.goto(base + grid_qr_path(city.neighbour_grid.code))
    assert page.locator("h1").inner_text() == "上墩村第2网格"
    assert "孙专职" in page.inner_text("body")
    screenshot(page, "resident-grid-page")
    open_report(page)
    fill_report(page, tmp_path, f"村口垃圾桶满了，好几天没人清运 {XSS}")
    assert page.locator("#cat option:checked").inner_text() == "暴露垃圾"
    screenshot(page, "resident-report-form")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # fits the phone
    page.click("#send")
    page.wait_for_url(f"{base}/c/*")
    case = Case.objects.get()
    # The photo's position (allowed by the resident) put it in grid 1, not the QR's grid 2.
    assert case.grid == city.grid and case.reporter == city["resident"]
    assert case.attachments.count() == 1
    assert XSS in page.locator("#desc").inner_text()
    screenshot(page, "resident-case-submitted")

    page.goto(f"{base}/mine")
    assert case.number in page.inner_text(".cases")
    assert "<script>alert(1)" in page.inner_text(".cases")  # truncated, as text
    screenshot(page, "resident-my-cases")

    resolve(city, case)
    page.goto(f"{base}/c/{case.number}")
    timeline = page.inner_text("#timeline")
    assert "专职网格员 李** 已受理" in timeline and "已办结：垃圾已清运" in timeline
    assert page.locator("img").count() == 2  # before and after
    page.check("input[value=unsatisfied]")
    page.fill("textarea[name=comment]", f"没有清干净 {XSS}")
    screenshot(page, "resident-rate")
    page.click("#rf button")
    page.wait_for_selector("#reopened")
    assert "已退回重新办理" in page.inner_text("#reopened")
    assert XSS in page.inner_text("#comment")
    screenshot(page, "resident-reopened")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    case.refresh_from_db()
    assert case.state == State.ACCEPTED and case.rework_count == 1

    page.goto(f"{base}/inbox")
    assert "已受理" in page.inner_text("#msgs")
    screenshot(page, "resident-inbox")
    page.click("#readall")
    assert page.locator(".unread").count() == 0
    assert dialogs == []


def test_anonymous_report_with_tracking_code(live_server, page, city, tmp_path, dialogs) -> None:
    base = live_server.url
    page.goto(base + grid_qr_path(city.grid.code))
    open_report(page)
    fill_report(page, tmp_path, f"垃圾桶满了 {XSS}")
    page.click("#send")
    page.wait_for_selector("#tcode")
    code = page.inner_text("#tcode b").strip()
    screenshot(page, "resident-tracking-code")
    case = Case.objects.get()
    assert case.reporter is None and len(code) == 10
    page.context.clear_cookies()  # another day, another browser session
    page.goto(f"{base}/track")
    page.fill("#tc", code)
    page.click("main form button")
    page.wait_for_url(f"{base}/c/{case.number}")
    assert page.locator("#tcode").count() == 0  # shown once only
    resolve(city, case)
    page.reload()
    page.check("input[value=unsatisfied]")
    page.click("#rf button")
    page.wait_for_selector("#reopened")
    case.refresh_from_db()
    assert case.state == State.ACCEPTED
    assert dialogs == []


def test_me_too_on_a_nearby_case(live_server, page, city, dialogs) -> None:
    base = live_server.url
    existing = workflow.submit(city["other_resident"], category=city.category, grid=city.grid,
                               description=f"垃圾堆在路边 {XSS}", lon=121.3051, lat=28.3051).case
    page.context.grant_permissions(["geolocation"])
    page.context.set_geolocation({"longitude": 121.3050, "latitude": 28.3050})
    log_in(page, base, "13900000001")
    page.goto(base + grid_qr_path(city.grid.code))
    open_report(page)
    page.fill("#desc", "这里的垃圾没人清")
    wait_until(page, "document.getElementById('cat').value !== ''")
    page.click("#loc")
    wait_until(page, "document.getElementById('lon').value !== ''")
    # The form says which grid the position puts the report in.
    wait_until(page, "document.getElementById('locs').textContent.includes('问题将报给')")
    assert city.grid.full_name in page.inner_text("#locs")
    page.click("#send")
    page.wait_for_selector("#dups:not([hidden])")
    # The other report's text (with its script) is not shown to a stranger at all.
    listed = page.inner_text("#dupl")
    assert existing.category.name in listed and "已有 1 人反映" in listed
    assert "alert" not in listed
    screenshot(page, "resident-nearby")
    page.click("#dupl .support")
    page.wait_for_url(f"{base}/c/{existing.number}")
    existing.refresh_from_db()
    assert existing.support_count == 1 and Case.objects.count() == 1
    assert "又有一位群众反映了同一问题" in page.inner_text("#timeline")
    assert dialogs == []


def test_draft_survives_offline_and_is_sent_once(live_server, page, city, tmp_path) -> None:
    base = live_server.url
    page.goto(base + grid_qr_path(city.grid.code))
    open_report(page)
    fill_report(page, tmp_path, "路灯不亮，垃圾桶满了")
    page.context.set_offline(True)
    page.click("#send")
    page.wait_for_selector("#offline:not([hidden])")
    draft = page.evaluate("JSON.parse(localStorage.getItem('linge.draft'))")
    assert draft["description"] == "路灯不亮，垃圾桶满了" and len(draft["photos"]) == 1
    assert Case.objects.count() == 0
    screenshot(page, "resident-offline")
    page.context.set_offline(False)
    page.wait_for_url(f"{base}/c/*")
    assert Case.objects.count() == 1 and Attachment.objects.count() == 1
    assert page.evaluate("localStorage.getItem('linge.draft')") is None


def test_double_click_makes_one_case(live_server, page, city, tmp_path) -> None:
    base = live_server.url
    page.goto(base + grid_qr_path(city.grid.code))
    open_report(page)
    fill_report(page, tmp_path, "垃圾桶满了")
    page.dblclick("#send")
    page.wait_for_url(f"{base}/c/*")
    # And the same key sent again (as a retry would) returns the same case.
    key = Case.objects.get().submit_key.removeprefix("r:")  # the channel's namespace
    status = page.evaluate(
        """async (key) => {
            const fd = new FormData();
            fd.append('submit_key', key); fd.append('description', 'x'); fd.append('category', '1');
            const r = await fetch('/report', {method: 'POST', body: fd,
                headers: {'Accept': 'application/json', 'X-CSRFToken': document.cookie.split('csrftoken=')[1]}});
            return r.status;
        }""",
        key,
    )
    assert status == 200
    assert Case.objects.count() == 1


def test_forged_qr_code_in_the_browser(live_server, page, city) -> None:
    response = page.goto(f"{live_server.url}/g/{city.grid.code}?s=forged")
    assert response.status == 404
    assert "二维码无效" in page.inner_text("h1")
    screenshot(page, "resident-bad-qr")


def busy_photo(path, gps: tuple[float, float]):
    """A 12 MP camera JPEG with detail (about 2 MB, where a flat one is 100 KB) and an EXIF
    position, written as a phone would (GPS in the EXIF block at the start of the file)."""
    from PIL import Image, ImageDraw

    from tests.resident.conftest import _dms

    image = Image.linear_gradient("L").resize((4000, 3000)).convert("RGB")
    draw = ImageDraw.Draw(image)
    for x in range(0, 4000, 97):
        draw.line((x, 0, 4000 - x, 3000), fill=(x % 255, 80, 200 - x % 150), width=9)
    exif = Image.Exif()
    exif[0x0110] = "LingeCam 1"
    exif[0x8825] = {1: "N", 2: _dms(gps[1]), 3: "E", 4: _dms(gps[0])}
    image.save(path, "JPEG", exif=exif.tobytes(), quality=95)
    return path


def test_a_big_photo_goes_up_at_the_size_kept_with_its_position(
        live_server, page, city, tmp_path, settings) -> None:
    """A 12 MP photo over the server's byte limit still goes through: the page sends the
    2,000 px copy the server would keep, and the position it read from the original."""
    settings.LINGE_PHOTO_MAX_BYTES = 1024 * 1024
    photo = busy_photo(tmp_path / "big.jpg", gps=(121.305, 28.305))
    assert photo.stat().st_size > 1024 * 1024  # sent as it is, it would be refused
    base = live_server.url
    page.goto(base + grid_qr_path(city.neighbour_grid.code))
    open_report(page)
    page.fill("#desc", "村口垃圾桶满了")
    wait_until(page, "document.getElementById('cat').value !== ''")  # suggested
    small = write_jpeg(tmp_path / "small.jpg", width=800, height=600, gps=None)
    page.set_input_files("#ph", [str(small), str(photo)])  # the first has no position
    wait_until(page, "document.querySelectorAll('#thumbs img').length === 2")
    page.check("#pgps")
    page.click("#send")
    page.wait_for_url(f"{base}/c/*")
    case = Case.objects.get()
    # The big photo's position, read by the page (its copy carries no EXIF): the first
    # photo that has one, as the server reads them; not the QR's grid.
    assert case.grid == city.grid
    assert abs(case.lon - 121.305) < 1e-5 and abs(case.lat - 28.305) < 1e-5
    sizes = sorted((a.width, a.height) for a in case.attachments.all())
    assert sizes == [(800, 600), (2000, 1500)]
