"""GET /mine: the cases the resident reported or supported."""

from __future__ import annotations

import pytest

from linge.cases import workflow
from tests.resident.conftest import resolved_case

pytestmark = pytest.mark.django_db
XSS = "<script>alert(1)</script>"


def test_my_cases_lists_reported_and_supported(client, city) -> None:
    mine = resolved_case(city).case
    theirs = workflow.submit(city["other_resident"], category=city.plain, grid=city.grid,
                             description="乱堆").case
    workflow.add_support(theirs, city["resident"])
    hidden = workflow.submit(city["other_resident"], category=city.plain, grid=city.grid,
                             description="别人的").case
    client.force_login(city["resident"])
    page = client.get("/mine").content.decode()
    assert mine.number in page and theirs.number in page and hidden.number not in page
    assert "&lt;script&gt;" in page and XSS not in page
