"""/api/v1/cases, /me/cases, /categories, /areas: session (CSRF on unsafe methods) or an
API key; keyset pages; every move through workflow.act; one error shape."""

from __future__ import annotations

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from linge.cases.models import Case, CaseEvent
from linge.clients import keys
from linge.clients.models import Channel
from tests.workbench.conftest import report

pytestmark = pytest.mark.django_db


def bearer(key: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


@pytest.fixture
def dispatcher_key(city) -> str:
    return keys.create("dispatcher app", channels=[Channel.API], rate_per_minute=1000,
                       user=city["dispatcher"]).key


def test_list_pages_by_keyset_newest_first(client, city, dispatcher_key) -> None:
    made = [report(city, text=f"问题{i}") for i in range(5)]
    seen, cursor = [], None
    while True:
        params = {"tab": "submitted", "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/cases", params, **bearer(dispatcher_key)).json()
        assert len(page["items"]) <= 2
        seen += [i["number"] for i in page["items"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == [c.number for c in sorted(made, key=lambda c: (c.created_at, c.pk),
                                             reverse=True)]
    item = client.get("/api/v1/cases", **bearer(dispatcher_key)).json()
    assert item == {"items": [], "next": None}  # the dispatcher's default tab: 待派遣


def test_bad_cursor_and_limit(client, city, dispatcher_key) -> None:
    for params in ({"cursor": "nonsense"}, {"limit": 0}, {"limit": 201}, {"since": "x"}):
        answer = client.get("/api/v1/cases", params, **bearer(dispatcher_key))
        assert answer.status_code == 400 and set(answer.json()["error"]) == {"code", "message"}


def test_detail_actions_and_a_move_by_key(client, city, dispatcher_key) -> None:
    case = report(city)
    key = keys.create("grid app", channels=[Channel.API], user=city["grid_leader"]).key
    detail = client.get(f"/api/v1/cases/{case.number}", **bearer(key)).json()
    assert detail["number"] == case.number and detail["reporter_phone"] == "13900000001"
    assert detail["actions"][0] == "accept"
    moves = client.get(f"/api/v1/cases/{case.number}/actions", **bearer(key)).json()
    reject = next(m for m in moves if m["action"] == "reject")
    assert reject["fields"] == [{"name": "reason", "label": "理由", "required": True,
                                 "type": "text", "choices": []}]
    answer = client.post(f"/api/v1/cases/{case.number}/actions/accept",
                         {"note": "马上去"}, content_type="application/json", **bearer(key))
    assert answer.status_code == 200 and answer.json()["state"] == "accepted"
    assert CaseEvent.objects.filter(case=case, action="accept").get().data["note"] == "马上去"
    # The town's dispatcher handles the town's cases, so sees the phone whole too.
    other = client.get(f"/api/v1/cases/{case.number}", **bearer(dispatcher_key)).json()
    assert other["reporter_phone"] == "13900000001"


def test_refusals(client, city) -> None:
    case = report(city)
    key = keys.create("grid app", channels=[Channel.API], user=city["grid_leader"]).key
    outsider = keys.create("far", channels=[Channel.API], user=city["other_town_worker"]).key
    before = (Case.objects.get(pk=case.pk).state, CaseEvent.objects.count())

    def post(action, data, who=key):
        return client.post(f"/api/v1/cases/{case.number}/actions/{action}", data,
                           content_type="application/json", **bearer(who))

    assert post("reject", {}).status_code == 400  # the form wants a reason
    assert post("reject", {"reason": ["a", {"x": 1}]}).status_code == 400
    assert post("dispatch", {}).status_code == 403  # not the grid's move
    assert post("fly", {}).status_code == 404
    assert post("accept", {}, outsider).status_code == 404  # out of reach: as if missing
    bad_json = client.post(f"/api/v1/cases/{case.number}/actions/accept", "[1]",
                           content_type="application/json", **bearer(key))
    assert bad_json.status_code == 400
    assert (Case.objects.get(pk=case.pk).state, CaseEvent.objects.count()) == before
    assert client.get("/api/v1/cases/nope", **bearer(key)).json()["error"]["code"] == "not_found"


def test_session_needs_csrf_for_moves(city) -> None:
    case = report(city)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(city["grid_leader"])
    assert browser.get(f"/api/v1/cases/{case.number}").status_code == 200
    refused = browser.post(f"/api/v1/cases/{case.number}/actions/accept", {})
    assert refused.status_code == 403 and Case.objects.get(pk=case.pk).state == "submitted"
    browser.get("/work/")  # the page sets the CSRF cookie
    token = browser.cookies["csrftoken"].value
    done = browser.post(f"/api/v1/cases/{case.number}/actions/accept", {},
                        HTTP_X_CSRFTOKEN=token)
    assert done.status_code == 200 and done.json()["state"] == "accepted"


def test_keys_without_api_channel_or_revoked_are_unauthorized(client, city) -> None:
    open311 = keys.create("o311", channels=[Channel.OPEN311], user=city["leader"]).key
    made = keys.create("old", channels=[Channel.API], user=city["leader"])
    keys.revoke(made.api_key)
    for key in (open311, made.key, "garbage"):
        assert client.get("/api/v1/cases", **bearer(key)).status_code == 401


def test_key_rate_limit(client, city) -> None:
    key = keys.create("slow", channels=[Channel.API], rate_per_minute=1, user=city["leader"]).key
    assert client.get("/api/v1/cases", **bearer(key)).status_code == 200
    answer = client.get("/api/v1/cases", **bearer(key))
    assert answer.status_code == 429 and int(answer["Retry-After"]) >= 1
    assert answer.json()["error"]["code"] == "rate_limited"


def test_my_cases(client, city) -> None:
    mine = report(city, text="我反映的")
    report(city, who="other_resident", text="别人的")
    client.force_login(city["resident"])
    page = client.get("/api/v1/me/cases").json()
    assert [i["number"] for i in page["items"]] == [mine.number]
    assert page["items"][0]["status_notes"] == "问题已登记上报"
    client.force_login(city["dispatcher"])
    assert client.get("/api/v1/me/cases").status_code == 403


def test_categories_areas_and_locate(client, city) -> None:
    categories = client.get("/api/v1/categories").json()["items"]
    assert {"code": "0101", "name": "暴露垃圾", "group": "01", "keywords": "垃圾 垃圾桶"} in categories
    towns = client.get("/api/v1/areas").json()["items"]
    assert [t["code"] for t in towns] == ["331081001", "331081107"]
    page = client.get("/api/v1/areas", {"parent": "331081107", "limit": 1}).json()
    assert [a["code"] for a in page["items"]] == ["331081107001"] and page["next"]
    rest = client.get("/api/v1/areas", {"parent": "331081107", "cursor": page["next"]}).json()
    assert [a["code"] for a in rest["items"]] == ["331081107002"] and rest["next"] is None
    assert client.get("/api/v1/areas", {"parent": "999"}).status_code == 404
    found = client.get("/api/v1/areas/locate", {"lon": 121.305, "lat": 28.305}).json()
    assert found["grid"]["code"] == "331081107001001" and found["how"] == "inside"
    assert client.get("/api/v1/areas/locate", {"lon": 200, "lat": 0}).status_code == 400


def test_docs_page_is_served_from_our_static_files(client) -> None:
    page = client.get("/api/v1/docs").content.decode()
    assert "/static/api/vendor/swagger-ui-bundle.js" in page and "//cdn" not in page
    assert finders.find("api/vendor/swagger-ui-bundle.js") and finders.find("api/docs.js")
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["components"]["schemas"]["Error"]["required"] == ["error"]
    assert "429" in schema["paths"]["/api/v1/cases"]["get"]["responses"]
