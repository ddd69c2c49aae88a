"""/work/new/<source>/: a staff member's own report, the 12345 hotline, 上级交办."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from linge.cases import workflow
from linge.cases.models import Case, Source
from linge.notify.models import Outbox
from tests.conftest import City
from tests.resident.conftest import jpeg_bytes, stored_files
from tests.workbench.conftest import login


def form(city: City, **extra) -> dict:
    return {"grid": city.grid.pk, "category": city.plain.pk, "description": "路边堆放建筑垃圾",
            "address": "上墩村口", **extra}


def test_patrol_report_by_a_grid_worker(client: Client, city: City) -> None:
    login(client, city["part_time"])
    response = client.post("/work/new/patrol/", form(city))
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/work/case/{case.number}/"
    assert case.source == Source.PATROL and case.grid == city.grid and case.reporter is None
    # Only the own grid can be chosen.
    response = client.post("/work/new/patrol/", form(city, grid=city.other_town_grid.pk))
    assert response.status_code == 400 and Case.objects.count() == 1


def test_a_patrol_report_carries_photos_and_position(client: Client, city: City,
                                                    media) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    login(client, city["full_time"])
    page = client.get("/work/new/patrol/").content.decode()
    assert 'type="file" name="photos"' in page and 'id="locate"' in page
    shot = SimpleUploadedFile("a.jpg", jpeg_bytes(), "image/jpeg")
    client.post("/work/new/patrol/", form(city, lon="121.305", lat="28.305", photos=[shot]))
    case = Case.objects.get()
    assert case.attachments.filter(kind="before").count() == 1 and case.lon == 121.305
    assert len(stored_files(media)) == 2  # the photo and its thumbnail
    # Not a photo: refused with a message, nothing written.
    fake = SimpleUploadedFile("b.jpg", b"not an image", "image/jpeg")
    response = client.post("/work/new/patrol/", form(city, photos=[fake]), follow=True)
    assert Case.objects.count() == 1 and len(stored_files(media)) == 2
    assert response.status_code == 400 and "照片" in response.content.decode()


def test_hotline_operator_reads_back_the_number(client: Client, city: City) -> None:
    login(client, city["dispatcher"])
    response = client.post("/work/new/hotline/", form(city, caller_phone="13700000009",
                                                      hotline_ticket="ZJ12345-001"))
    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/work/new/hotline/?done={case.number}"
    body = client.get(response["Location"]).content.decode()
    assert 'id="readback"' in body and case.number in body
    assert case.source == Source.HOTLINE and case.reporter_phone == "13700000009"
    assert "ZJ12345-001" in case.description
    assert Outbox.objects.filter(subject=case.number, phone="13700000009", channel="sms").exists()
    bad = client.post("/work/new/hotline/", form(city, caller_phone="12"))
    assert bad.status_code == 400 and Case.objects.count() == 1
    # The same 12345 ticket entered again (new form, new key) is the same case.
    again = client.post("/work/new/hotline/", form(city, caller_phone="13700000009",
                                                   hotline_ticket="zj12345-001 "), follow=True)
    assert Case.objects.count() == 1
    assert f"12345工单 ZJ12345-001 已登记过，编号 {case.number}" in again.content.decode()


def test_higher_level_hands_a_case_down(client: Client, city: City) -> None:
    login(client, city["town_leader"])
    assert client.post("/work/new/higher/", form(city, required_by="2000-01-01",
                                                 from_level="市社会治理中心")).status_code == 400
    assert not Case.objects.exists()
    tomorrow = timezone.localdate() + timedelta(days=1)
    client.post("/work/new/higher/", form(city, required_by=tomorrow.isoformat(),
                                          from_level="市社会治理中心"))
    case = Case.objects.get()
    assert case.source == Source.HIGHER and case.accept_due is not None
    assert f"市社会治理中心交办，要求 {tomorrow.isoformat()} 前办结" in case.description
    limit = timezone.localtime(case.required_by)
    assert (limit.date(), limit.hour, limit.minute) == (tomorrow, 23, 59)
    assert case.accept_due <= case.required_by
    # Accepted, the resolve deadline (3 工作日 for this category) is capped by the date.
    workflow.accept(case, city["full_time"])
    case.refresh_from_db()
    assert case.resolve_due == case.required_by and case.resolve_budget > 0


def test_who_may_use_which_way_in(client: Client, city: City) -> None:
    expected = {
        "part_time": {"patrol"}, "village_staff": {"patrol"},
        "dispatcher": {"hotline", "higher"}, "town_leader": {"higher"},
        "department_handler": set(), "leader": {"hotline", "higher"},
    }
    for name, ways in expected.items():
        client.force_login(city[name])
        for source in ("patrol", "hotline", "higher"):
            status = client.get(f"/work/new/{source}/").status_code
            assert status == (200 if source in ways else 403), (name, source)
    assert client.get("/work/new/open311/").status_code == 404


def test_a_retried_submit_makes_one_case(client: Client, city: City) -> None:
    login(client, city["part_time"])
    page = client.get("/work/new/patrol/").content.decode()
    assert 'name="submit_key"' in page
    data = form(city, submit_key="k" * 32)
    first = client.post("/work/new/patrol/", data)
    second = client.post("/work/new/patrol/", data)
    assert first["Location"] == second["Location"] and Case.objects.count() == 1


def test_only_a_handed_down_case_carries_a_date(city: City) -> None:
    import pytest

    later = timezone.now() + timedelta(days=2)
    with pytest.raises(workflow.WorkflowError, match="只有上级交办"):
        workflow.submit(city["dispatcher"], category=city.plain, description="x",
                        grid=city.grid, source=Source.HOTLINE, required_by=later)
    for wrong in (timezone.now() - timedelta(hours=1), timezone.now() + timedelta(days=400)):
        with pytest.raises(workflow.WorkflowError, match="今后一年之内"):
            workflow.submit(city["dispatcher"], category=city.plain, description="x",
                            grid=city.grid, source=Source.HIGHER, required_by=wrong)
    case = workflow.submit(city["dispatcher"], category=city.plain, description="x",
                           grid=city.grid, source=Source.HIGHER, required_by=later).case
    assert case.events.get().data["required_by"] == later.isoformat()


def _key(page: str) -> str:
    import re

    found = re.search(r'name="submit_key" value="([0-9a-f]+)"', page)
    assert found, "the form carries a submit key"
    return found.group(1)


def test_two_hotline_calls_in_a_row_make_two_cases(client: Client, city: City) -> None:
    """The operator takes call after call on the same page: each call its own case."""
    login(client, city["dispatcher"])
    page = client.get("/work/new/hotline/").content.decode()
    first_key = _key(page)
    response = client.post("/work/new/hotline/", form(
        city, caller_phone="13700000001", description="第一位来电：路灯不亮",
        submit_key=first_key), follow=True)
    first = Case.objects.get()
    page = response.content.decode()
    assert 'id="readback"' in page and first.number in page
    second_key = _key(page)
    assert second_key != first_key
    assert "第一位来电" not in page  # a fresh form, not the first call's
    response = client.post("/work/new/hotline/", form(
        city, caller_phone="13700000002", description="第二位来电：井盖缺失",
        submit_key=second_key), follow=True)
    second = Case.objects.exclude(pk=first.pk).get()
    assert second.number != first.number and second.reporter_phone == "13700000002"
    assert "第二位来电" in second.description
    body = response.content.decode()
    assert second.number in body and first.number not in body
    # Another number in ?done= than one this operator may see is not read back.
    other = client.get("/work/new/hotline/?done=20990101-000001").content.decode()
    assert 'id="readback"' not in other


def test_category_is_named_alike_on_every_form(client: Client, city: City) -> None:
    """One label for a category (大类 / 小类) on the entry forms, the visit form, the
    case page and the export."""
    login(client, city["full_time"])
    label = "市容环境 / 乱堆物堆料"
    patrol = client.get("/work/new/patrol/").content.decode()
    assert f'<option value="{city.plain.pk}">{label}</option>' in patrol
    from linge.visits import households
    from linge.visits.models import Household
    from tests.visits.test_import import GOOD

    households.import_csv(city.grid, GOOD.encode())
    house = Household.objects.first()
    page = client.get(f"/work/visits/household/{house.pk}/").content.decode()
    assert f">{label}</option>" in page
    case = workflow.submit(city["resident"], category=city.plain, grid=city.grid,
                           description="楼道堆物").case
    assert f"<dd>{label}</dd>" in client.get(f"/work/case/{case.number}/").content.decode()
    export = client.get("/work/export.csv")
    assert label in b"".join(export.streaming_content).decode("utf-8-sig")
