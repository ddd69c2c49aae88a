"""The error pages: Chinese, with a way on."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.test import Client

from tests.conftest import City


def test_not_found_in_chinese(client: Client, city: City) -> None:
    response = client.get("/c/20990101-000001")
    body = response.content.decode()
    assert response.status_code == 404 and "页面不存在" in body and "Not Found" not in body
    assert 'href="/work/"' in body


def test_a_resident_on_the_workbench_is_shown_the_way_out(client: Client, city: City) -> None:
    client.force_login(city["resident"])
    response = client.get("/work/")
    body = response.content.decode()
    assert response.status_code == 403 and "您没有权限访问此页面" in body
    assert 'action="/work/logout/"' in body and "csrfmiddlewaretoken" in body
    assert client.post("/work/logout/")["Location"] == "/work/login/"
    assert client.get("/work/").status_code == 302  # logged out: on to the staff login


def test_server_error_page_renders_without_a_request() -> None:
    # Django renders 500.html with no context at all.
    body = render_to_string("500.html")
    assert "系统出错了" in body and "草稿仍保存在本机" in body
