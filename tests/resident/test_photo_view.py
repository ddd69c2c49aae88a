"""GET /p/<id>/<size>: photos served only to who may see the case."""

from __future__ import annotations

import pytest

from tests.resident.conftest import resolved_case

pytestmark = pytest.mark.django_db
XSS = "<script>alert(1)</script>"


def test_photos_are_served_only_to_who_may_see_the_case(client, city) -> None:
    case = resolved_case(city).case
    attachment = case.attachments.first()
    assert client.get(f"/p/{attachment.pk}/t").status_code == 404
    client.force_login(city["other_resident"])
    assert client.get(f"/p/{attachment.pk}/t").status_code == 404
    client.force_login(city["resident"])
    response = client.get(f"/p/{attachment.pk}/t")
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
