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
