"""Shared helpers for the workbench tests."""

from __future__ import annotations

import pytest
from django.test import Client

from linge.cases import workflow
from linge.cases.models import Case
from tests.conftest import PASSWORD, City


def login(client: Client, user) -> Client:
    assert client.login(username=user.username, password=PASSWORD)
    return client


def report(city: City, grid=None, category=None, text: str = "楼道里堆满杂物，影响通行",
           who: str = "resident", **extra) -> Case:
    return workflow.submit(city[who], category=category or city.plain, description=text,
                           grid=grid or city.grid, lon=121.305, lat=28.305,
                           address="上墩村12号", **extra).case


@pytest.fixture
def as_user(client: Client, city: City):
    def _as(name: str) -> Client:
        client.logout()
        return login(client, city[name])
    return _as
