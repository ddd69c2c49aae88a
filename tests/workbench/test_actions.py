"""POST /work/case/<number>/do/<action>/: each move through the workflow."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from linge.cases.models import Attachment, Case, CaseEvent, State
from tests.conftest import City
from tests.workbench.conftest import login, report


def do(client: Client, case: Case, action: str, **data):
    return client.post(f"/work/case/{case.number}/do/{action}/", data)


def state(case: Case) -> str:
    case.refresh_from_db()
    return case.state


def jpeg() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 80, 40)).save(buffer, "JPEG")
    return SimpleUploadedFile("after.jpg", buffer.getvalue(), content_type="image/jpeg")


def test_grid_handles_and_resolves_with_after_photo(client: Client, city: City, settings,
                                                    tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path
    case = report(city, category=city.category)
    login(client, city["full_time"])
    assert do(client, case, "accept").status_code == 302 and state(case) == State.ACCEPTED
    do(client, case, "assign", assignee=city["part_time"].pk)
    case.refresh_from_db()
    assert case.assignee == city["part_time"]
    # The category needs an after-photo: without one the move is refused, nothing changes.
    events = CaseEvent.objects.count()
    response = do(client, case, "resolve", note="已清理", reply="垃圾已清运")
    assert response.status_code == 400 and state(case) == State.ACCEPTED
    assert CaseEvent.objects.count() == events
    page = response.content.decode()
    # The refusal says why, and keeps what was typed in the same form.
    assert "该类问题办结时须上传处置后照片" in page
    resolve_form = page.split('data-action="resolve"')[1].split("</form>")[0]
    assert "已清理</textarea>" in resolve_form and "垃圾已清运</textarea>" in resolve_form
    assert 'name="photos"' in resolve_form and "required" in resolve_form.split(
        'name="photos"')[1].split(">")[0]
    response = client.post(f"/work/case/{case.number}/do/resolve/",
                           {"note": "已清理", "photos": [jpeg()]})
    assert response.status_code == 302 and state(case) == State.RESOLVED
    assert Attachment.objects.filter(case=case, kind="after").count() == 1


def test_reason_is_required(client: Client, city: City) -> None:
    case = report(city)
    login(client, city["full_time"])
    response = do(client, case, "reject", reason="")
    assert response.status_code == 400 and state(case) == State.SUBMITTED
    assert "请填写不予受理的理由" in response.content.decode()
    do(client, case, "reject", reason="不属于受理范围")
    assert state(case) == State.REJECTED


def test_refused_action_is_403_and_changes_nothing(client: Client, city: City) -> None:
    case = report(city)
    login(client, city["part_time"])  # 兼职 may not reject
    assert do(client, case, "reject", reason="x").status_code == 403
    assert state(case) == State.SUBMITTED
    assert do(client, case, "fly").status_code == 404


def test_transfer_leaves_the_grid_and_lands_in_the_inbox(client: Client, city: City) -> None:
    case = report(city)
    login(client, city["full_time"])
    response = do(client, case, "transfer", grid=city.neighbour_grid.pk, reason="在邻格")
    assert response.status_code == 302 and response["Location"] == "/work/"
    case.refresh_from_db()
    assert case.grid == city.neighbour_grid


def test_transfer_to_another_town_by_grid_code(client: Client, city: City) -> None:
    case = report(city)
    login(client, city["full_time"])
    assert 'name="grid_code"' in client.get(f"/work/case/{case.number}/").content.decode()
    wrong = do(client, case, "transfer", grid_code="331081999999999", reason="在太平街道")
    assert state(case) == State.SUBMITTED and wrong.status_code == 400
    page = wrong.content.decode()
    assert "网格编码 331081999999999 不存在" in page and "在太平街道</textarea>" in page
    do(client, case, "transfer", grid_code=city.other_town_grid.code, reason="在太平街道")
    case.refresh_from_db()
    assert case.grid == city.other_town_grid and case.town == city.other_town


def test_merge_into_a_visible_case(client: Client, city: City) -> None:
    first = report(city, text="第一次反映")
    second = report(city, who="other_resident", text="重复反映")
    login(client, city["full_time"])
    refused = do(client, second, "merge", into_number="20000101-000001")
    assert refused.status_code == 400 and "目标案件不存在或无权查看" in refused.content.decode()
    assert state(second) == State.SUBMITTED
    nothing = do(client, second, "merge")
    assert nothing.status_code == 400 and "请选择要合并到的案件" in nothing.content.decode()
    do(client, second, "merge", into=first.number)
    assert state(second) == State.MERGED


def test_extension_round_trip(client: Client, city: City) -> None:
    case = report(city)
    login(client, city["full_time"])
    do(client, case, "accept")
    do(client, case, "escalate", reason="需执法力量")
    login(client, city["dispatcher"])
    do(client, case, "dispatch", unit=city.department.pk, lane=city.lanes["zhifa"].pk)
    assert state(case) == State.DISPATCHED
    login(client, city["department_handler"])
    do(client, case, "request_extension", amount="2", reason="需采购设备")
    case.refresh_from_db()
    assert case.extension_requested and case.extension_amount == 2
    login(client, city["dispatcher"])
    due = case.resolve_due
    do(client, case, "grant_extension")
    case.refresh_from_db()
    assert not case.extension_requested and case.resolve_due > due
    do(client, case, "suspend", reason="等待汛期结束")
    assert state(case) == State.SUSPENDED
    do(client, case, "resume")
    assert state(case) == State.DISPATCHED


def test_a_refused_resolve_leaves_no_files(client: Client, city: City, settings,
                                           tmp_path) -> None:
    """After-photos are stored before the move; a refused move deletes them again."""
    settings.MEDIA_ROOT = tmp_path
    case = report(city, category=city.category)
    login(client, city["full_time"])
    do(client, case, "accept")
    # The note is required: the workflow refuses the move after the photos were stored.
    response = client.post(f"/work/case/{case.number}/do/resolve/",
                           {"note": "", "photos": [jpeg(), jpeg()]})
    assert response.status_code == 400 and state(case) == State.ACCEPTED
    assert not Attachment.objects.filter(case=case).exists()
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
