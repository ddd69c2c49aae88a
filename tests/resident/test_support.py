"""POST /c/<number>/support: 我也遇到 through workflow.add_support."""

from __future__ import annotations

import pytest

from linge.cases import workflow
from linge.resident.qr import grid_qr_path

pytestmark = pytest.mark.django_db
XSS = "<script>alert(1)</script>"


def test_support_endpoint(client, city) -> None:
    case = workflow.submit(city["other_resident"], category=city.category, grid=city.grid,
                           description="垃圾").case
    response = client.post(f"/c/{case.number}/support", HTTP_ACCEPT="application/json")
    assert response.status_code == 403 and response.json()["login"]
    client.force_login(city["resident"])
    # Only a case the page showed as a nearby duplicate can be supported.
    assert client.post(f"/c/{case.number}/support").status_code == 404
    client.get(grid_qr_path(city.grid.code))  # the resident scanned the grid's QR code
    client.get("/report/nearby", {"category": city.category.pk, "grid": city.grid.code})
    response = client.post(f"/c/{case.number}/support", HTTP_ACCEPT="application/json")
    assert response.json() == {"ok": True, "url": f"/c/{case.number}", "number": case.number}
    case.refresh_from_db()
    assert case.support_count == 1
    again = client.post(f"/c/{case.number}/support", HTTP_ACCEPT="application/json")
    assert again.status_code == 400 and "附议过" in again.json()["error"]
    assert "又有一位群众反映了同一问题" in client.get(f"/c/{case.number}").content.decode()


def test_a_supporter_follows_but_does_not_read_the_report(client, city, media) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from linge.cases.models import Attachment
    from linge.cases.photos import store_photo
    from tests.resident.conftest import jpeg_bytes

    photo = store_photo(SimpleUploadedFile("a.jpg", jpeg_bytes(), "image/jpeg"))
    case = workflow.submit(city["other_resident"], category=city.category, grid=city.grid,
                           description="垃圾，联系我 138 1234 5678", photos=[photo]).case
    workflow.add_support(case, city["resident"])
    client.force_login(city["resident"])
    page = client.get(f"/c/{case.number}").content.decode()
    assert case.number in page and "1234" not in page and "原反映人的描述和照片" in page
    before = Attachment.objects.get(case=case)
    assert client.get(f"/p/{before.pk}/f").status_code == 404
    # The reporter still sees everything.
    client.force_login(city["other_resident"])
    assert "138 1234 5678" in client.get(f"/c/{case.number}").content.decode()
    assert client.get(f"/p/{before.pk}/f").status_code == 200


def test_phone_and_code_from_the_report_form_log_in_for_me_too(client, city) -> None:
    from linge.resident import otp
    from tests.resident.conftest import last_code

    case = workflow.submit(city["other_resident"], category=city.category, grid=city.grid,
                           description="垃圾").case
    client.get(grid_qr_path(city.grid.code))
    client.get("/report/nearby", {"category": city.category.pk, "grid": city.grid.code})
    otp.request_code(city["resident"].phone, "127.0.0.1")
    wrong = client.post(f"/c/{case.number}/support", {"phone": city["resident"].phone,
                                                       "code": "000000"},
                        HTTP_ACCEPT="application/json")
    assert wrong.status_code == 400 and "验证码" in wrong.json()["error"]
    response = client.post(f"/c/{case.number}/support", {
        "phone": city["resident"].phone, "code": last_code(city["resident"].phone)},
        HTTP_ACCEPT="application/json")
    assert response.json()["ok"] is True
    assert case.supporters.get().user == city["resident"]
    assert int(client.session["_auth_user_id"]) == city["resident"].pk  # logged in on the way


def test_me_too_on_a_case_one_phoned_in_just_opens_it(client, city) -> None:
    from linge.cases.models import Source
    from linge.people.roles import SYSTEM

    call = workflow.submit(SYSTEM, category=city.category, grid=city.grid, description="来电",
                           source=Source.HOTLINE, reporter_phone=city["resident"].phone).case
    client.force_login(city["resident"])
    client.get(grid_qr_path(city.grid.code))
    client.get("/report/nearby", {"category": city.category.pk, "grid": city.grid.code})
    response = client.post(f"/c/{call.number}/support", HTTP_ACCEPT="application/json")
    assert response.json()["ok"] is True and not call.supporters.exists()
