"""POST /c/<number>/support: 我也遇到 through workflow.add_support."""

from __future__ import annotations

import pytest

from linge.cases import workflow

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
    client.get("/report/nearby", {"category": city.category.pk, "grid": city.grid.code})
    response = client.post(f"/c/{case.number}/support", HTTP_ACCEPT="application/json")
    assert response.json() == {"ok": True, "url": f"/c/{case.number}", "number": case.number}
    case.refresh_from_db()
    assert case.support_count == 1
    again = client.post(f"/c/{case.number}/support", HTTP_ACCEPT="application/json")
    assert again.status_code == 400 and "附议过" in again.json()["error"]
    assert "又有一位群众反映了同一问题" in client.get(f"/c/{case.number}").content.decode()
