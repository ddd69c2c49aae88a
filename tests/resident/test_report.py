"""POST /report: a case through workflow.submit, exactly once, with its photos; refusals
store nothing."""

from __future__ import annotations

import io
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from linge.cases.models import Attachment, Case, Source, State
from linge.resident.qr import grid_qr_path
from tests.resident.conftest import jpeg_bytes, last_code, stored_files

pytestmark = pytest.mark.django_db


def photo(name: str = "a.jpg", data: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data if data is not None else jpeg_bytes(), "image/jpeg")


def form(city, **extra) -> dict:
    data = {
        "submit_key": uuid.uuid4().hex, "category": city.category.pk,
        "description": "村口垃圾桶满了，好几天没人清运", "grid": city.grid.code,
    }
    data.update(extra)
    return data


def counts(media) -> tuple[int, int, int]:
    return Case.objects.count(), Attachment.objects.count(), len(stored_files(media))


def test_resident_reports_with_photo_and_location(client, city, media) -> None:
    client.force_login(city["resident"])
    client.get(grid_qr_path(city.neighbour_grid.code))  # the QR scanned was the neighbour's
    response = client.post(reverse("resident:report"), form(
        city, lon="121.305", lat="28.305", photos=[photo()]
    ))
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/c/{case.number}"
    # The position wins over the QR code's grid.
    assert case.grid == city.grid and case.state == State.SUBMITTED
    assert case.reporter == city["resident"] and case.source == Source.QR
    assert case.tracking_code_hash == ""
    attachment = case.attachments.get()
    assert attachment.file.name.startswith("cases/") and attachment.thumbnail.name
    assert len(stored_files(media)) == 2


def test_the_qr_grid_is_used_without_a_position(client, city) -> None:
    client.get(grid_qr_path(city.neighbour_grid.code))
    data = form(city)
    del data["grid"]
    client.post(reverse("resident:report"), data)
    assert Case.objects.get().grid == city.neighbour_grid


def test_a_position_outside_every_grid_is_not_kept(client, city) -> None:
    client.get(grid_qr_path(city.neighbour_grid.code))
    data = form(city, lon="120.0", lat="30.0")  # some 200 km away
    del data["grid"]
    client.post(reverse("resident:report"), data)
    case = Case.objects.get()
    assert case.grid == city.neighbour_grid and case.lon is None and case.lat is None


def test_photo_gps_is_used_only_when_allowed(client, city) -> None:
    gps_photo = jpeg_bytes(gps=(121.315, 28.305))  # inside the neighbour grid
    client.post(reverse("resident:report"), form(city, photos=[photo(data=gps_photo)]))
    assert Case.objects.get().grid == city.grid  # not allowed: the grid picked
    client.post(reverse("resident:report"), form(city, photos=[photo(data=gps_photo)],
                                                 photo_gps="1"))
    assert Case.objects.order_by("-pk")[0].grid == city.neighbour_grid


def test_anonymous_report_gets_a_tracking_code_shown_once(client, city) -> None:
    response = client.post(reverse("resident:report"), form(city), HTTP_ACCEPT="application/json")
    body = response.json()
    assert body["ok"]
    case = Case.objects.get()
    assert case.reporter is None and case.tracking_code_hash
    first = client.get(body["url"]).content.decode()
    assert 'id="tcode"' in first
    assert 'id="tcode"' not in client.get(body["url"]).content.decode()


def test_a_double_submit_makes_one_case(client, city, media) -> None:
    client.force_login(city["resident"])
    data = form(city)
    first = client.post(reverse("resident:report"), {**data, "photos": [photo()]})
    second = client.post(reverse("resident:report"), {**data, "photos": [photo()]})
    assert first["Location"] == second["Location"]
    assert counts(media) == (1, 1, 2)


@pytest.mark.parametrize("bad", ["oversized", "not_image", "bomb"])
def test_refused_photos_store_nothing(client, city, media, settings, bad) -> None:
    settings.LINGE_PHOTO_MAX_BYTES = 200_000
    if bad == "oversized":
        upload = photo(data=jpeg_bytes(3000, 3000, color="white") + b"\0" * 300_000)
        message = "照片太大"
    elif bad == "not_image":
        upload = SimpleUploadedFile("x.jpg", b"%PDF-1.4 not a photo at all", "image/jpeg")
        message = "不是可识别的图片"
    else:
        out = io.BytesIO()
        Image.new("1", (20_000, 20_000)).save(out, "PNG")  # 400 MP, a few dozen KB
        upload = SimpleUploadedFile("bomb.png", out.getvalue(), "image/png")
        message = "像素过多"
    before = counts(media)
    response = client.post(reverse("resident:report"), form(city, photos=[photo(), upload]),
                           HTTP_ACCEPT="application/json")
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert counts(media) == before == (0, 0, 0)


def test_a_refused_submit_deletes_the_stored_photos(client, city, media) -> None:
    response = client.post(reverse("resident:report"), form(city, description="  ",
                                                            photos=[photo()]))
    assert response.status_code == 400
    assert "请填写问题描述" in response.content.decode()
    assert counts(media) == (0, 0, 0)


def test_ten_photos_are_refused(client, city, media) -> None:
    response = client.post(reverse("resident:report"), form(city, photos=[photo()] * 10))
    assert response.status_code == 400 and counts(media) == (0, 0, 0)


def test_a_missing_key_is_refused(client, city) -> None:
    response = client.post(reverse("resident:report"), form(city, submit_key=""))
    assert response.status_code == 400 and Case.objects.count() == 0


def test_without_grid_or_position_the_page_asks(client, city) -> None:
    data = form(city)
    del data["grid"]
    response = client.post(reverse("resident:report"), data)
    assert response.status_code == 400 and "无法确定问题所在网格" in response.content.decode()


def test_report_page_renders_picker_and_outline(client, city) -> None:
    page = client.get(reverse("resident:report") + grid_qr_path(city.grid.code).split("/g/")[0])
    assert page.status_code == 200
    qr = client.get(grid_qr_path(city.grid.code))
    assert qr.status_code == 200
    page = client.get(reverse("resident:report")).content.decode()
    assert 'id="cats"' in page and "暴露垃圾" not in page.split('id="cats"')[0]
    assert page.count("<path ") == 2  # the two grids of 上墩村
    assert f'data-code="{city.grid.code}" data-name="上墩村第1网格" class="on"' in page


def test_phone_and_code_in_the_form_log_in_and_report(client, city, media) -> None:
    phone = "13912345678"
    sent = client.post("/login", {"phone": phone, "action": "send"},
                       HTTP_ACCEPT="application/json").json()
    assert sent["ok"] and "139****5678" in sent["message"]
    wrong = client.post(reverse("resident:report"), form(city, phone=phone, code="abcdef",
                                                         photos=[photo()]),
                        HTTP_ACCEPT="application/json")
    assert wrong.status_code == 400 and "验证码错误" in wrong.json()["error"]
    assert counts(media) == (0, 0, 0)
    response = client.post(reverse("resident:report"), form(city, phone=phone,
                                                            code=last_code(phone)))
    case = Case.objects.get()
    assert response.status_code == 302
    assert case.reporter.phone == phone and case.reporter.is_resident
    assert case.tracking_code_hash == ""
    assert int(client.session["_auth_user_id"]) == case.reporter.pk


def test_the_form_is_told_which_grid_a_position_falls_in(client, city) -> None:
    inside = client.get("/report/where", {"lon": "121.305", "lat": "28.305"}).json()
    assert inside == {"grid": {"code": city.grid.code, "name": city.grid.full_name}}
    for far in ({"lon": "120.0", "lat": "30.0"}, {"lon": "x"}, {}):
        assert client.get("/report/where", far).json() == {"grid": None}


def test_a_replayed_submit_key_grants_no_access(client, city, media) -> None:
    """The same key from another browser (a replay, not a retry) finds the case made
    already but opens nothing: no tracking, no rating, no reading."""
    from django.test import Client

    data = form(city)
    first = client.post(reverse("resident:report"), data)  # anonymous, with this session
    case = Case.objects.get()
    assert first.status_code == 302 and client.get(f"/c/{case.number}").status_code == 200
    # The sender's own retry answers with the case.
    assert client.post(reverse("resident:report"), data)["Location"] == f"/c/{case.number}"
    stranger = Client()
    replay = stranger.post(reverse("resident:report"), data)
    assert replay.status_code == 400 and "已提交" in replay.content.decode()
    assert stranger.get(f"/c/{case.number}").status_code == 404
    assert Case.objects.count() == 1


def test_a_submit_key_with_a_trailing_newline_is_refused(client, city, media) -> None:
    response = client.post(reverse("resident:report"), form(city, submit_key="a" * 16 + "\n"))
    assert response.status_code == 400 and Case.objects.count() == 0


def _land_first(monkeypatch, sender, data) -> None:
    """Make the next report's key look-up miss, and `sender`'s post of `data` land right
    after it: the interleaving of two requests racing with one submit key, in one
    thread (the second meets the case at the unique index, not at the look-up)."""
    from linge.resident import views

    real_find = views.intake.find
    racing = []

    def find(source, key):
        found = real_find(source, key)
        if not racing:  # the first look-up only; the sender's own one is real
            racing.append(True)
            assert sender.post(reverse("resident:report"), data).status_code == 302
        return found

    monkeypatch.setattr(views.intake, "find", find)


def test_a_double_submit_that_loses_the_race_keeps_the_code_to_show(
        client, city, media, monkeypatch) -> None:
    """The second post of a double click read its session before the first one stored
    the case and its tracking code there: it answers with that case and leaves the code
    for the case page to show once."""
    from django.test import Client

    client.get(reverse("resident:report"))  # the form gave the browser a session
    first = Client()
    first.cookies = client.cookies  # the same browser
    data = form(city)
    _land_first(monkeypatch, first, data)
    second = client.post(reverse("resident:report"), data)
    case = Case.objects.get()
    assert second.status_code == 302 and second["Location"] == f"/c/{case.number}"
    page = client.get(f"/c/{case.number}").content.decode()
    assert 'id="tcode"' in page
    assert 'id="tcode"' not in client.get(f"/c/{case.number}").content.decode()


def test_a_replayed_key_that_loses_the_race_grants_no_access(
        client, city, media, monkeypatch) -> None:
    from django.test import Client

    data = form(city)
    stranger = Client()
    _land_first(monkeypatch, client, data)
    replay = stranger.post(reverse("resident:report"), data)
    case = Case.objects.get()
    assert replay.status_code == 400 and "已提交" in replay.content.decode()
    assert stranger.get(f"/c/{case.number}").status_code == 404
    assert client.get(f"/c/{case.number}").status_code == 200


def test_a_report_whose_answer_was_lost_is_shown_when_sent_again(client, city, media) -> None:
    """The phone's network drops after the case is stored: the browser never gets the
    answer (nor any cookie it set) and sends the same form again. The case it made is
    shown, with its tracking code, not refused as someone else's."""
    client.get(reverse("resident:report"))
    before_answer = dict(client.cookies.items())
    data = form(city)
    assert client.post(reverse("resident:report"), data).status_code == 302
    client.cookies.clear()
    for name, morsel in before_answer.items():
        client.cookies[name] = morsel.value  # as if that answer had never arrived
    again = client.post(reverse("resident:report"), data)
    case = Case.objects.get()
    assert again.status_code == 302 and again["Location"] == f"/c/{case.number}"
    assert 'id="tcode"' in client.get(f"/c/{case.number}").content.decode()


def test_opening_the_form_twice_keeps_one_session(client, city) -> None:
    from django.contrib.sessions.models import Session

    client.get(reverse("resident:report"))
    key = client.cookies["sessionid"].value
    client.get(reverse("resident:report"))
    assert client.cookies["sessionid"].value == key
    assert Session.objects.count() == 1
