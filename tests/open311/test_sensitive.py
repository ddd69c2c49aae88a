"""A case of a category not listed in public (邻里纠纷, a fraud lead, a family's
hardship) is never in Open311's public list or read by a stranger; the client that
submitted it follows it by its id."""

from __future__ import annotations

from django.test import Client

from linge.cases import workflow
from linge.cases.models import Category, TimeUnit
from linge.clients import keys
from linge.open311.models import Submission
from tests.conftest import City


def test_a_sensitive_case_is_not_published(city: City) -> None:
    dispute = Category.objects.create(
        code="0801", name="邻里纠纷", parent=city.category.parent, accept_within=2,
        accept_unit=TimeUnit.WORK_HOURS, resolve_within=5, resolve_unit=TimeUnit.WORK_DAYS,
        public=False)
    hidden = workflow.submit(city["resident"], category=dispute, grid=city.grid,
                             description="隔壁王某某天天半夜吵架", lon=121.305, lat=28.305,
                             address="上墩村3号").case
    shown = workflow.submit(city["resident"], category=city.plain, grid=city.grid,
                            description="垃圾桶满了", lon=121.305, lat=28.305).case
    anyone = Client()
    listed = [r["service_request_id"] for r in
              anyone.get("/open311/v2/requests.json").json()]
    assert listed == [shown.number]
    assert anyone.get(f"/open311/v2/requests/{hidden.number}.json").status_code == 404
    asked = anyone.get("/open311/v2/requests.json",
                       {"service_request_id": f"{hidden.number},{shown.number}"}).json()
    assert [r["service_request_id"] for r in asked] == [shown.number]
    # The client that submitted it still follows it.
    made = keys.create("12345热线")
    Submission.objects.create(case=hidden, token="t0ken0000000", api_key=made.api_key)
    own = Client().get(f"/open311/v2/requests/{hidden.number}.json",
                       {"api_key": made.key}).json()
    assert [r["service_request_id"] for r in own] == [hidden.number]
