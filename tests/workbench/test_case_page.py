"""/work/case/<number>/: timeline, photos, map, reporter, supporters, allowed actions."""

from __future__ import annotations

import re

from django.test import Client

from linge.cases import workflow
from tests.conftest import City
from tests.workbench.conftest import login, report


def test_case_page_shows_the_whole_case(client: Client, city: City) -> None:
    case = report(city)
    workflow.add_support(case, city["other_resident"])
    workflow.accept(case, city["full_time"], note="马上处理")
    login(client, city["full_time"])
    response = client.get(f"/work/case/{case.number}/")
    assert response.status_code == 200
    body = response.content.decode()
    assert case.description in body and "上墩村12号" in body
    assert [e.action for e in response.context["events"]] == ["submit", "add_support", "accept"]
    assert "马上处理" in body
    # The grid member handles the case: the full phone numbers.
    assert "13900000001" in body and "13900000002" in body
    assert response.context["map"]["pin"] is not None and "<polygon" in body
    # The likely next move first (办结), never a person picked in advance; the turns
    # for the worse last.
    assert [a["action"] for a in response.context["actions"]] == [
        "resolve", "escalate", "assign", "suspend"]
    assign_form = body.split('data-action="assign"')[1].split("</form>")[0]
    assert re.search(r'value="\d+" selected', assign_form) is None


def test_phone_is_masked_for_who_does_not_handle(client: Client, city: City) -> None:
    case = report(city)
    login(client, city["leader"])
    body = client.get(f"/work/case/{case.number}/").content.decode()
    assert "13900000001" not in body and "139****0001" in body
    login(client, city["grid_guide"])
    body = client.get(f"/work/case/{case.number}/").content.decode()
    assert "13900000001" not in body and "139****0001" in body
    assert "您当前无需办理此案件" in body


def test_actions_are_exactly_the_allowed_ones(client: Client, city: City) -> None:
    case = report(city)
    for name in ("full_time", "part_time", "village_staff", "dispatcher", "leader", "admin"):
        client.force_login(city[name])
        response = client.get(f"/work/case/{case.number}/")
        shown = [a["action"] for a in response.context["actions"]]
        assert sorted(shown) == sorted(workflow.allowed_actions(case, city[name])), name
        for action in shown:
            assert f"/work/case/{case.number}/do/{action}/" in response.content.decode()


def test_supervised_case_carries_the_mark(client: Client, city: City) -> None:
    case = report(city)
    login(client, city["leader"])
    response = client.post(f"/work/case/{case.number}/do/supervise/", {"note": "请加快"})
    assert response.status_code == 302
    login(client, city["full_time"])
    assert 'id="supervised"' in client.get(f"/work/case/{case.number}/").content.decode()
    inbox = client.get("/work/?tab=submitted").content.decode()
    assert "badge du" in inbox


def test_case_of_another_grid_is_404(client: Client, city: City) -> None:
    case = report(city)
    login(client, city["neighbour_worker"])
    assert client.get(f"/work/case/{case.number}/").status_code == 404
    assert client.get("/work/case/20990101-000001/").status_code == 404


def test_photos_link_to_the_checked_view(client: Client, city: City, settings,
                                         tmp_path) -> None:
    """/media/ is served by no route (and must not be): photos go through resident:photo,
    which lets in only who may see the case."""
    import io
    import re

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    from linge.cases.photos import store_photo

    settings.MEDIA_ROOT = tmp_path
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 80, 40)).save(buffer, "JPEG")
    photo = store_photo(SimpleUploadedFile("before.jpg", buffer.getvalue(),
                                           content_type="image/jpeg"))
    case = report(city, photos=[photo])
    attachment = case.attachments.get()
    login(client, city["full_time"])
    body = client.get(f"/work/case/{case.number}/").content.decode()
    links = re.findall(r'(?:href|src)="([^"]+)"', body)
    photos = [link for link in links if link.startswith("/p/") or "/media/" in link]
    assert f"/p/{attachment.pk}/t" in " ".join(photos)
    assert f"/p/{attachment.pk}/f" in " ".join(photos)
    assert not [link for link in photos if "/media/" in link]
    for link in photos:
        response = client.get(link)
        assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    login(client, city["neighbour_worker"])
    for link in photos:
        assert client.get(link).status_code == 404


def test_the_case_page_reads_the_case_and_its_relations_at_once(client: Client,
                                                                 city: City) -> None:
    """A dispatched case shows its category, grid, village and town: read with the case,
    not one query each as the template reaches them (18 queries before)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    case = report(city)
    workflow.accept(case, city["full_time"])
    workflow.escalate(case, city["full_time"], reason="需执法")
    workflow.dispatch(case, city["dispatcher"], unit=city.office)
    login(client, city["dispatcher"])
    client.get(f"/work/case/{case.number}/")  # the session's first read is not counted
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/work/case/{case.number}/")
    assert response.status_code == 200 and city.office.name in response.content.decode()
    # session, user, memberships, the case with its category and the category's parent,
    # grid, village, town, owning unit and reporter; events, photos, merged cases,
    # unread messages, the dispatched unit and its lane; no supporters (none): 10.
    assert len(queries) == 10, "\n".join(q["sql"][:120] for q in queries.captured_queries)
    assert not any("cases_supporter" in q["sql"] for q in queries.captured_queries)
    assert not any(q["sql"].startswith('SELECT "people_user"') for q in queries.captured_queries[3:])


def test_the_timeline_shows_each_moves_details(client: Client, city: City) -> None:
    case = report(city)
    workflow.accept(case, city["full_time"], note="马上处理")
    workflow.escalate(case, city["full_time"], reason="需执法")
    workflow.dispatch(case, city["dispatcher"], unit=city.office)
    workflow.resolve(case, city["office_handler"], note="已清理", reply="已清理完毕")
    login(client, city["dispatcher"])
    page = client.get(f"/work/case/{case.number}/").content.decode()
    timeline = page.split('id="timeline">')[1].split("</ol>")[0]
    items = re.findall(r'<li data-action="(\w+)">(.*?)</li>', timeline, re.S)
    assert [action for action, _body in items] == [
        "submit", "accept", "escalate", "dispatch", "resolve"]
    body = dict(items)
    assert "<div>马上处理</div>" in body["accept"]
    assert "<div>理由：需执法</div>" in body["escalate"]
    assert f"：{city.office.name}" in body["dispatch"]
    assert "<div>已清理</div>" in body["resolve"] and "<div>答复群众：已清理完毕</div>" in body["resolve"]
    assert "（" not in body["submit"].split("</div>")[0]  # a resident has no duty shown
    assert "（专职网格员）" in body["accept"].split("</div>")[0]
