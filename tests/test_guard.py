"""One guard for every request (linge.guard): NUL and bytes that are not UTF-8 are refused
with a 400 and a Chinese message in every path, query string and form field of every
route, for staff and anonymous visitors alike, and change nothing; a body longer than
LINGE_REQUEST_MAX_BYTES is refused by its Content-Length before a byte is read. Runs on
SQLite and PostgreSQL (PostgreSQL is where a NUL used to be a 500)."""

from __future__ import annotations

import io

import pytest
from django.test import Client, override_settings

from linge.cases.models import Case, CaseEvent
from linge.notify.models import Outbox
from linge.people.models import LoginAttempt
from tests.conftest import PASSWORD, City
from tests.routes import all_routes, fill
from tests.workbench.conftest import report

ROUTES = all_routes(include_admin=False) + ["/admin/", "/admin/login/"]
MESSAGE = "请求中含有无效字符"
# Parameters the views read, each given a NUL or a stray byte.
QUERIES = ["grid=%00", "done=1%00", "into=2026%00", "grid_code=331081107001001%00",
           "numbers=20261102-000001%00", "q=%E9%94", "tab=done%FF", "s=%C3%28"]


def counts() -> tuple[int, ...]:
    return (Case.objects.count(), CaseEvent.objects.count(), Outbox.objects.count(),
            LoginAttempt.objects.count())


@pytest.fixture
def visitors(city: City) -> dict[str, Client]:
    report(city)
    staff = Client()
    assert staff.login(username="admin", password=PASSWORD)
    resident = Client()
    resident.force_login(city["resident"])
    return {"anonymous": Client(), "admin": staff, "resident": resident}


def refused(response) -> bool:
    body = response.content.decode()
    return response.status_code == 400 and MESSAGE in body


@pytest.mark.parametrize("route", ROUTES)
def test_nul_and_stray_bytes_in_the_path_are_refused(route: str, visitors) -> None:
    if "<" not in route:  # a NUL or a stray byte appended to the path
        targets = [route + "%00", route + "%C3%28"]
    else:  # in place of each parameter
        targets = [fill(route, **{"*": "1%00"}), fill(route, **{"*": "%C3%28"})]
    before = counts()
    for client in visitors.values():
        for target in targets:
            for method in (client.get, client.post):
                response = method(target)
                assert refused(response), (target, response.status_code)
    assert counts() == before


@pytest.mark.parametrize("route", ROUTES)
def test_nul_and_stray_bytes_in_any_query_parameter_are_refused(route: str, visitors) -> None:
    target = fill(route, number="20261102-000001", code="331081107001001", pk="1", size="thumb",
                  action="accept", source="patrol", id="1", grid_id="1")
    before = counts()
    for client in visitors.values():
        for query in QUERIES:
            assert refused(client.get(f"{target}?{query}")), (target, query)
    assert counts() == before


@pytest.mark.parametrize("route", ROUTES)
def test_nul_and_stray_bytes_in_any_form_field_are_refused(route: str, visitors) -> None:
    target = fill(route, number="20261102-000001", code="331081107001001", pk="1", size="thumb",
                  action="accept", source="patrol", id="1", grid_id="1")
    before = counts()
    for name, client in visitors.items():
        # Form-encoded, as a browser's plain form sends it.
        for body in (b"description=%E5%A0%86%00&grid=1", b"note=ok%FF%FE", b"numbers=1\x00",
                     b"username=admin%00&password=x"):
            response = client.generic("POST", target, body,
                                      content_type="application/x-www-form-urlencoded")
            assert refused(response), (name, target, body)
        # Multipart, as the report page sends photos: a NUL, then bytes that are not UTF-8.
        for value in ("堆物\x00", b"\xff\xfe\xe5"):
            data = {"description": value, "photos": io.BytesIO(b"x")}
            if isinstance(value, bytes):
                data = {"description": io.BytesIO(value), "note": "ok"}
                boundary = "BoUnDaRy"
                payload = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\n"
                           ).encode() + value + f"\r\n--{boundary}--\r\n".encode()
                response = client.generic("POST", target, payload,
                                          content_type=f"multipart/form-data; boundary={boundary}")
            else:
                response = client.post(target, data)
            assert refused(response), (name, target, value)
        # JSON, as the API is called.
        for body in (b'{"description": "a\\u0000b"}', b'{"description": "\xff"}'):
            response = client.generic("POST", target, body, content_type="application/json")
            assert refused(response), (name, target, body)
    assert counts() == before


def test_the_api_gets_its_error_shape(city: City) -> None:
    response = Client().get("/api/v1/insights/figures?area=331081%00")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_characters"
    assert MESSAGE in response.json()["error"]["message"]


def test_the_report_page_gets_json(city: City) -> None:
    response = Client().post("/report", {"description": "路灯\x00不亮"})
    assert response.status_code == 400 and response.json() == {
        "ok": False, "error": "请求中含有无效字符（空字符或非 UTF-8 编码），请检查后重新提交"}


def test_clean_chinese_input_passes(city: City, visitors) -> None:
    assert visitors["admin"].get("/work/?q=%E8%B7%AF%E7%81%AF&tab=done").status_code == 200
    assert visitors["anonymous"].get("/track?code=ABCD").status_code == 200


class Unreadable(io.RawIOBase):
    def read(self, *args) -> bytes:
        raise AssertionError("the body was read")


@override_settings(LINGE_REQUEST_MAX_BYTES=10 * 1024 * 1024)
@pytest.mark.parametrize("route", ["/report", "/work/case/20261102-000001/do/resolve/",
                                   "/work/login/", "/api/v1/"])
def test_a_body_over_the_cap_is_refused_unread(route: str, city: City) -> None:
    client = Client()
    response = client.generic("POST", route, b"x", content_type="multipart/form-data; boundary=x",
                              CONTENT_LENGTH=str(200 * 1024 * 1024), **{"wsgi.input": Unreadable()})
    assert response.status_code == 413
    assert "提交的内容过大（超过 10.0 MB）" in response.content.decode()


def test_the_cap_is_nine_photos_and_a_form(settings) -> None:
    from linge.guard import max_body_bytes
    assert max_body_bytes() == settings.LINGE_PHOTO_MAX_BYTES * 9 + 1024 * 1024
