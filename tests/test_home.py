import pytest
from django.db import connection
from django.test import Client

from linge.cases import workflow
from tests.conftest import City, at


def test_home_counts(city: City) -> None:
    workflow.submit(city["resident"], category=city.plain, description="x", grid=city.grid,
                    now=at("2026-11-02 09:00"))
    body = Client().get("/").content.decode()
    assert "2 个镇街，4 个网格" in body and "累计 1 件问题" in body


def test_healthz(db) -> None:
    assert Client().get("/healthz").content == b"ok"


@pytest.mark.django_db(transaction=True)
def test_healthz_says_when_the_database_is_unreachable(tmp_path) -> None:
    settings = connection.settings_dict
    kept = dict(settings)
    connection.close()
    # A database that cannot be opened: a file in a missing folder, or a closed port.
    settings.update(NAME=str(tmp_path / "missing" / "x.sqlite3")
                    if connection.vendor == "sqlite" else settings["NAME"], PORT="1")
    try:
        response = Client().get("/healthz")
    finally:
        connection.close()
        settings.update(kept)
    assert (response.status_code, response.content) == (503, b"database unreachable")
    assert Client().get("/healthz").status_code == 200
