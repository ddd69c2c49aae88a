"""The workbench speaks Chinese unless its user picks English with the switch."""

from __future__ import annotations

from django.test import Client

from tests.conftest import City
from tests.workbench.conftest import login


def test_an_english_browser_still_gets_chinese(client: Client, city: City) -> None:
    page = client.get("/work/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'lang="zh-hans"' in page and "登录" in page
    # The residents' pages, wholly translated, follow the browser.
    assert 'lang="en"' in client.get("/report", HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_the_switch_picks_english(client: Client, city: City) -> None:
    login(client, city["full_time"])
    page = client.get("/work/").content.decode()
    assert 'name="language" value="en"' in page
    client.post("/i18n/setlang/", {"language": "en", "next": "/work/"})
    page = client.get("/work/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'lang="en"' in page
