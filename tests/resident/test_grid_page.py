"""GET /g/<code>?s=<signature>: the grid page the QR code opens."""

from __future__ import annotations

import pytest

from linge.cases import workflow
from linge.cases.models import Attachment, Case
from linge.resident.qr import grid_qr_path, grid_qr_url, grid_signature
from tests.resident.conftest import stored_files

pytestmark = pytest.mark.django_db


def test_grid_page_shows_team_and_cases(client, city) -> None:
    workflow.submit(city["resident"], category=city.category, grid=city.grid,
                    description="13900000001 家门口垃圾没人清")
    response = client.get(grid_qr_path(city.grid.code))
    page = response.content.decode()
    assert response.status_code == 200
    assert "上墩村第1网格" in page and "上墩村" in page
    assert "李专职" in page and "专职网格员" in page and "13800000001" in page
    assert "暴露垃圾" in page and "待受理" in page
    # No personal data of residents: neither the description nor the reporter.
    assert "家门口" not in page and "13900000001" not in page
    assert 'id="report"' in page and f"g={city.grid.code}" in page


def test_qr_url_uses_the_public_address(settings, city) -> None:
    settings.LINGE_PUBLIC_URL = "https://linge.example.cn/"
    url = grid_qr_url(city.grid.code)
    assert url == f"https://linge.example.cn/g/{city.grid.code}?s={grid_signature(city.grid.code)}"


@pytest.mark.parametrize("how", ["forged", "missing", "other_grid", "mistyped", "not_a_grid"])
def test_bad_qr_codes_get_a_clear_404(client, city, media, how) -> None:
    code, signature = city.grid.code, grid_signature(city.grid.code)
    if how == "forged":
        signature = signature[:-2] + ("AA" if not signature.endswith("AA") else "BB")
    elif how == "missing":
        signature = ""
    elif how == "other_grid":
        code = city.neighbour_grid.code
    elif how == "mistyped":
        code = code[:-1] + "9"
    else:
        code, signature = city.village.code, grid_signature(city.village.code)
    before = (Case.objects.count(), Attachment.objects.count(), stored_files(media))
    response = client.get(f"/g/{code}?s={signature}")
    page = response.content.decode()
    assert response.status_code == 404
    assert "二维码无效" in page and "没有通过校验" in page
    assert "上墩村第1网格" not in page and "上墩村第2网格" not in page
    # The report page opened next knows no grid from it, and nothing was stored.
    report = client.get(f"/report?g={code}&s={signature}").content.decode()
    assert "<path " not in report and 'name="grid" id="grid" value=""' in report
    assert (Case.objects.count(), Attachment.objects.count(), stored_files(media)) == before


def test_garbage_in_the_path_is_escaped(client, city) -> None:
    response = client.get("/g/<script>alert(1)</script>?s=x")
    assert response.status_code == 404
    assert "<script>alert" not in response.content.decode()


def test_grid_page_shows_the_villages_deliberations(client, city) -> None:
    from datetime import date

    from django.utils import timezone

    from linge.insights.models import Deliberation

    now = timezone.now()
    Deliberation.objects.create(
        village=city.village, title="村口垃圾清运点<script>", category=city.category,
        meeting_on=date(2026, 11, 20), outcome="增设两个垃圾桶，每日清运两次",
        created_by=city["village_staff"], created_at=now, updated_at=now,
    )
    Deliberation.objects.create(
        village=city.other_village, title="别村的议题", meeting_on=date(2026, 11, 21),
        created_by=city["village_staff"], created_at=now, updated_at=now,
    )
    page = client.get(grid_qr_path(city.grid.code)).content.decode()
    assert "民主恳谈" in page and "增设两个垃圾桶" in page and "2026-11-20" in page
    assert "村口垃圾清运点&lt;script&gt;" in page and "别村的议题" not in page


def test_sensitive_categories_stay_off_the_public_page(client, city) -> None:
    from linge.cases.models import Category, TimeUnit

    dispute = Category.objects.create(
        code="0801", name="邻里纠纷", parent=city.category.parent, accept_within=2,
        accept_unit=TimeUnit.WORK_HOURS, resolve_within=5, resolve_unit=TimeUnit.WORK_DAYS,
        public=False)
    workflow.submit(city["resident"], category=dispute, grid=city.grid,
                    description="隔壁王某某天天半夜吵架", lon=121.305, lat=28.305)
    workflow.submit(city["resident"], category=city.category, grid=city.grid,
                    description="垃圾桶满了", lon=121.305, lat=28.305)
    page = client.get(grid_qr_path(city.grid.code)).content.decode()
    assert "暴露垃圾" in page and "邻里纠纷" not in page
    # Nor is it offered as "the same problem nearby" on the report form.
    found = client.get("/report/nearby", {"category": dispute.pk, "lon": 121.305,
                                          "lat": 28.305}).json()
    assert found == {"cases": []}
    found = client.get("/report/nearby", {"category": city.category.pk, "lon": 121.305,
                                          "lat": 28.305}).json()
    assert [c["category"] for c in found["cases"]] == ["暴露垃圾"]


def test_the_scanned_grid_is_remembered_from_the_latest_scan(client, city) -> None:
    """Each scan sets the signed cookie again, so it lasts from the latest scan; looking
    at the page writes no session."""
    from django.conf import settings

    for _ in range(2):
        response = client.get(grid_qr_path(city.grid.code))
        cookie = response.cookies["linge_qr"]
        assert cookie.value.startswith(f"{city.grid.code}:")
        assert cookie["max-age"] == settings.SESSION_COOKIE_AGE and cookie["httponly"]
        assert "sessionid" not in response.cookies
